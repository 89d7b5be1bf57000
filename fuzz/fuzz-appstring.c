/* SPDX-License-Identifier: Apache-2.0 */
/* App strings (name[:version][,label=value...]). Oracles: a refusal has a one-line message,
 * err.code == r and leaves *ret alone; an accepted string has a valid AC identifier name,
 * valid unique labels with os and arch present, survives a canonical rendering
 * (name,label=value,...) -> parse unchanged; its discovery URLs are the name and its parents;
 * templates rendered from it are valid https URLs without '{' whose host no value changed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "discovery/discovery.h"

#define FUZZ_MAX_INPUT (RK_APP_STRING_MAX + 2)

static void check(bool ok)
{
        if (!ok)
                abort();
}

static void check_urls(const struct rk_app_string *a)
{
        char **v = NULL;
        rk_error err = RK_ERROR_INIT;
        int r = rk_discovery_urls(a->name, false, &v, &err);
        if (r < 0) {
                check(err.code == r && !strchr(err.msg, '\n') && !v);
                return;
        }
        size_t comps = 1;
        for (const char *p = a->name; *p; p++)
                comps += *p == '/';
        check((size_t)r == comps && r <= 32 && !v[r]);
        size_t len = strlen(a->name);
        for (int i = 0; i < r; i++) {
                check(strncmp(v[i], "https://", 8) == 0);
                size_t n = strlen(v[i]) - 8 - strlen("?ac-discovery=1");
                check(n <= len && strncmp(v[i] + 8, a->name, n) == 0);
                check(strcmp(v[i] + 8 + n, "?ac-discovery=1") == 0);
                check(i == 0 ? n == len : a->name[n] == '/');
                check(rk_url_validate(v[i], NULL, NULL) == 0);
                free(v[i]);
        }
        free(v);
}

static void check_templates(const struct rk_app_string *a)
{
        static const char *const tpls[] = {
            "https://s.example/{name}-{version}-{os}-{arch}.{ext}",
            "https://{version}.s.example/{name}.{ext}",
            "https://s.example:{arch}/{name}.{ext}",
            "https://s.example/{name}?v={version}&c={channel}#{ext}",
        };
        for (size_t i = 0; i < sizeof(tpls) / sizeof(*tpls); i++) {
                char *out = NULL;
                rk_error err = RK_ERROR_INIT;
                int r = rk_template_render(tpls[i], a, "aci.asc", false, &out, &err);
                check(r == 0 || r == 1);
                if (r == 0) {
                        check(!out && err.code < 0 && !strchr(err.msg, '\n'));
                        continue;
                }
                check(!strpbrk(out, "{}") && rk_url_validate(out, NULL, NULL) == 0);
                /* the host is the template's, whatever the values */
                const char *host = out + 8;
                size_t hl = strcspn(host, "/?#");
                check(!memchr(host, '@', hl));
                if (i == 0 || i == 3)
                        check(hl == 9 && strncmp(host, "s.example", 9) == 0);
                if (i == 1)
                        check(hl > 10 && strncmp(host + hl - 10, ".s.example", 10) == 0);
                free(out);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > FUZZ_MAX_INPUT)
                return 0;
        char *s = malloc(size + 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = 0;

        struct rk_app_string a = {0};
        rk_error err = RK_ERROR_INIT;
        int r = rk_app_string_parse(s, &a, &err);
        if (r < 0) {
                check(err.code == r && err.msg[0] && !strchr(err.msg, '\n') && !a.name &&
                      !a.labels.v);
                free(s);
                return 0;
        }
        check(rk_ac_identifier_validate(a.name, NULL, NULL) == 0);
        check(rk_labels_validate(&a.labels, NULL, NULL) == 0);
        check(rk_labels_get(&a.labels, "os") && rk_labels_get(&a.labels, "arch"));

        /* canonical rendering -> parse: the same app */
        char canon[4 * RK_APP_STRING_MAX];
        size_t o = (size_t)snprintf(canon, sizeof(canon), "%s", a.name);
        for (size_t i = 0; i < a.labels.n && o < sizeof(canon); i++)
                o += (size_t)snprintf(canon + o, sizeof(canon) - o, ",%s=%s", a.labels.v[i].name,
                                      a.labels.v[i].value);
        if (o <= RK_APP_STRING_MAX) {
                struct rk_app_string b = {0};
                check(rk_app_string_parse(canon, &b, &err) == 0);
                check(strcmp(a.name, b.name) == 0 && a.labels.n == b.labels.n);
                for (size_t i = 0; i < a.labels.n; i++)
                        check(strcmp(a.labels.v[i].name, b.labels.v[i].name) == 0 &&
                              strcmp(a.labels.v[i].value, b.labels.v[i].value) == 0);
                rk_app_string_clear(&b);
        }
        check_urls(&a);
        check_templates(&a);
        rk_app_string_clear(&a);
        check(!a.name && !a.labels.v && a.labels.n == 0);
        free(s);
        return 0;
}
