/* SPDX-License-Identifier: Apache-2.0 */
/* A discovery page: the <meta> tag scanner, then endpoints and keys for a few app strings
 * (hostile label values included) and for the names the page itself mentions. Oracles: a
 * refusal has a one-line message and err.code == r; a parsed page holds at most
 * RK_DISCOVERY_TAGS_MAX tags of each kind, each two non-empty fields without whitespace or
 * control characters; every endpoint and key is a valid URL of an allowed scheme (https, http
 * only when allowed), with a host and no user info, no '{' or '}', and comes from a tag whose
 * prefix covers the name; a template is either rendered, dropped (0, err set) or malformed
 * (-EBADMSG). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "discovery/discovery.h"

/* one byte over the cap: the size refusal is exercised too */
#define FUZZ_MAX_INPUT (RK_DISCOVERY_PAGE_MAX + 1)

static void check(bool ok)
{
        if (!ok)
                abort();
}

static void check_refusal(int r, const rk_error *err)
{
        check(r < 0 && err->code == r && err->msg[0] && !strchr(err->msg, '\n'));
}

static bool url_ok(const char *u, bool allow_http)
{
        bool https = strncasecmp(u, "https://", 8) == 0;
        bool http = strncasecmp(u, "http://", 7) == 0;
        if (!https && !(http && allow_http))
                return false;
        if (rk_url_validate(u, NULL, NULL) < 0 || strpbrk(u, "{} \t\r\n"))
                return false;
        const char *a = u + (https ? 8 : 7);
        size_t alen = strcspn(a, "/?#");
        return alen > 0 && !memchr(a, '@', alen);
}

static bool tag_covers(const struct rk_meta_list *l, enum rk_meta_kind kind, const char *name)
{
        for (size_t i = 0; i < l->n; i++)
                if (l->v[i].kind == kind && rk_discovery_prefix_match(l->v[i].prefix, name))
                        return true;
        return false;
}

static void check_app(const struct rk_meta_list *l, const struct rk_app_string *app)
{
        for (int http = 0; http < 2; http++) {
                struct rk_endpoints e = {0};
                rk_error err = RK_ERROR_INIT;
                size_t dropped = 0;
                int r = rk_endpoints_from_meta(l, app, http, &e, &dropped, &err);
                check(r >= 0 && (size_t)r == e.n);
                check(e.n + dropped <= l->n);
                check(e.n == 0 || tag_covers(l, RK_META_DISCOVERY, app->name));
                for (size_t i = 0; i < e.n; i++) {
                        check(url_ok(e.v[i].aci, http) && url_ok(e.v[i].asc, http));
                        check(strcmp(e.v[i].aci, e.v[i].asc) != 0);
                }
                rk_endpoints_clear(&e);

                char **keys = NULL;
                size_t n = 0;
                r = rk_pubkeys_from_meta(l, app->name, http, &keys, &n, &err);
                check(r >= 0 && (size_t)r == n && keys && !keys[n]);
                check(n == 0 || tag_covers(l, RK_META_PUBKEYS, app->name));
                for (size_t i = 0; i < n; i++) {
                        check(url_ok(keys[i], http));
                        free(keys[i]);
                }
                free(keys);
        }
        /* every template on its own */
        for (size_t i = 0; i < l->n && i < 16; i++) {
                if (l->v[i].kind != RK_META_DISCOVERY)
                        continue;
                char *out = NULL;
                rk_error err = RK_ERROR_INIT;
                int r = rk_template_render(l->v[i].value, app, "aci", false, &out, &err);
                if (r == 1) {
                        check(out && url_ok(out, false));
                        free(out);
                } else if (r == 0) {
                        check(!out && err.code < 0 && err.msg[0] && !strchr(err.msg, '\n'));
                } else {
                        check(!out && r == -EBADMSG);
                        check_refusal(r, &err);
                }
        }
}

static struct rk_label hostile_labels[] = {
    {(char *)"version", (char *)"x@evil.example#/?{name}%41"},
    {(char *)"os", (char *)"linux"},
    {(char *)"arch", (char *)"amd64"},
    {(char *)"channel", (char *)"a/../../b?c=d#e"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > FUZZ_MAX_INPUT)
                return 0;
        struct rk_meta_list l = {0};
        rk_error err = RK_ERROR_INIT;
        int r = rk_meta_parse((const char *)data, size, &l, &err);
        if (r < 0) {
                check_refusal(r, &err);
                check(l.n == 0 && !l.v);
                return 0;
        }
        size_t count[2] = {0, 0};
        for (size_t i = 0; i < l.n; i++) {
                const struct rk_meta *m = &l.v[i];
                check(m->kind == RK_META_DISCOVERY || m->kind == RK_META_PUBKEYS);
                count[m->kind]++;
                check(m->prefix[0] && m->value[0]);
                for (const char *s = m->prefix; *s; s++)
                        check((unsigned char)*s > 0x20 && *s != 0x7f);
                for (const char *s = m->value; *s; s++)
                        check((unsigned char)*s > 0x20 && *s != 0x7f);
        }
        check(count[0] <= RK_DISCOVERY_TAGS_MAX && count[1] <= RK_DISCOVERY_TAGS_MAX);

        static const char *const strings[] = {"example.com/myapp:1.0.0", "example.com/myapp",
                                              "example.com/app/x,channel=beta,os=linux",
                                              "a.b/c-d/~e,version=1.0+x"};
        for (size_t i = 0; i < sizeof(strings) / sizeof(*strings); i++) {
                struct rk_app_string a = {0};
                if (rk_app_string_parse(strings[i], &a, &err) < 0)
                        abort();
                check_app(&l, &a);
                rk_app_string_clear(&a);
        }
        struct rk_app_string h = {(char *)"example.com/app", {hostile_labels, 4}};
        check_app(&l, &h);
        /* the names the page mentions */
        for (size_t i = 0; i < l.n && i < 4; i++) {
                if (rk_ac_identifier_validate(l.v[i].prefix, NULL, NULL) < 0)
                        continue;
                struct rk_app_string a = {l.v[i].prefix, {hostile_labels + 1, 2}};
                check_app(&l, &a);
        }
        rk_meta_list_clear(&l);
        return 0;
}
