/* SPDX-License-Identifier: Apache-2.0 */
/* Prefix matching, discovery URLs, URL templates and the endpoints and keys of a page. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "discovery/discovery.h"

#define DISCOVERY_URLS_MAX 32

bool rk_discovery_prefix_match(const char *prefix, const char *name)
{
        if (!prefix || !name || !*prefix)
                return false;
        size_t n = strlen(prefix);
        if (strncmp(prefix, name, n) != 0)
                return false;
        /* whole components: "example.com/app" does not cover "example.com/application" */
        return name[n] == 0 || name[n] == '/' || prefix[n - 1] == '/';
}

int rk_discovery_urls(const char *name, bool http, char ***ret, rk_error *err)
{
        const char *scheme = http ? "http://" : "https://";
        int r = rk_ac_identifier_validate(name, "image name", err);
        if (r < 0)
                return r;
        size_t n = 1;
        for (const char *p = name; *p; p++)
                n += *p == '/';
        if (n > DISCOVERY_URLS_MAX)
                return rk_err(err, -EINVAL,
                              "image name %s has %zu path components, more than discovery walks "
                              "(%d)",
                              RK_QUOTE(name), n, DISCOVERY_URLS_MAX);
        char **v = calloc(n + 1, sizeof(*v));
        if (!v)
                return rk_err(err, -ENOMEM, "discovery URLs: out of memory");
        size_t len = strlen(name);
        for (size_t i = 0; i < n; i++) {
                if (asprintf(&v[i], "%s%.*s?ac-discovery=1", scheme, (int)len, name) < 0) {
                        v[i] = NULL;
                        for (size_t k = 0; k < i; k++)
                                free(v[k]);
                        free(v);
                        return rk_err(err, -ENOMEM, "discovery URLs: out of memory");
                }
                while (len > 0 && name[len - 1] != '/')
                        len--;
                if (len > 0)
                        len--; /* the '/' */
        }
        *ret = v;
        return (int)n;
}

/* ---- templates ---- */

static bool is_host_char(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.';
}

/* RFC 3986 pchar (without '%') and '/': what a substituted value may hold unescaped in a path,
 * query or fragment. */
static bool is_path_char(unsigned char c)
{
        return is_host_char(c) || (c && strchr("_~!$&'()*+,;=:@/", c));
}

struct buf {
        char s[RK_URL_MAX + 1];
        size_t n;
        bool over;
};

static void put(struct buf *b, const char *s, size_t n)
{
        if (b->over || n > RK_URL_MAX - b->n) {
                b->over = true;
                return;
        }
        memcpy(b->s + b->n, s, n);
        b->n += n;
        b->s[b->n] = 0;
}

/* Check a rendered URL: the allowed scheme, a host, no user info, only URL characters. */
static int check_url(const char *url, bool allow_http, const char *what, rk_error *err)
{
        bool https = strncasecmp(url, "https://", 8) == 0;
        bool http = strncasecmp(url, "http://", 7) == 0;
        if (!https && !(http && allow_http))
                return rk_err(err, -EINVAL, "%s %s: not an https:// URL%s", what, RK_QUOTE(url),
                              http ? " (http:// needs --insecure-options=http)" : "");
        int r = rk_url_validate(url, what, err);
        if (r < 0)
                return r;
        const char *a = url + (https ? 8 : 7);
        size_t alen = strcspn(a, "/?#");
        if (memchr(a, '@', alen))
                return rk_err(err, -EINVAL, "%s %s: user info in a URL is not allowed", what,
                              RK_QUOTE(url));
        return 0;
}

/* The value of placeholder key, or NULL. */
static const char *lookup(const char *key, const struct rk_app_string *app, const char *ext,
                          bool *is_label)
{
        *is_label = false;
        if (strcmp(key, "name") == 0)
                return app->name;
        if (strcmp(key, "ext") == 0)
                return ext;
        const char *v = rk_labels_get(&app->labels, key);
        *is_label = v != NULL;
        /* the default is not a label the user asked for: it does not rank the template up */
        if (!v && strcmp(key, "version") == 0)
                v = "latest";
        return v;
}

/* Render tpl; *ret_labels counts the label placeholders substituted. 1 rendered, 0 dropped,
 * < 0 malformed. Values are substituted as given (they are an AC Identifier, or label values
 * checked by the app-string parser) with two exceptions, both about where a value lands:
 *
 * - in the authority (after "scheme://", before the template's first '/', '?' or '#'), a value
 *   must be a plain host fragment ([A-Za-z0-9.-]): a version "x@evil.example", "evil.example/"
 *   or "evil.example#" would otherwise move the request (and the credentials auth.d attaches
 *   for the template's host) to another host. Such a template is dropped, not escaped: no
 *   escaping makes a host out of it.
 * - elsewhere, bytes that are not RFC 3986 pchars or '/' ('?', '#', '%', '[', '{', ...) are
 *   %-escaped, so a label value stays data: it cannot start a query or fragment, forge an
 *   escape, or leave a '{' behind. '/' stays ({name} holds it by design); a value "../x" only
 *   moves within the template's host.
 *
 * The scheme is the template's own (checked before rendering), never a value's. */
static int render(const char *tpl, const struct rk_app_string *app, const char *ext,
                  bool allow_http, char **ret, unsigned *ret_labels, rk_error *err)
{
        struct buf b = {.n = 0};
        unsigned labels = 0;

        if (!tpl || !app || !app->name || !ext)
                return rk_err(err, -EINVAL, "template: missing argument");
        size_t tlen = strnlen(tpl, RK_URL_MAX + 1);
        if (tlen > RK_URL_MAX)
                return rk_err(err, -EBADMSG, "template %s is longer than %d characters",
                              RK_QUOTE(tpl), RK_URL_MAX);
        bool https = strncasecmp(tpl, "https://", 8) == 0;
        if (!https && !(allow_http && strncasecmp(tpl, "http://", 7) == 0)) {
                rk_err(err, -EINVAL, "template %s: not an https:// URL%s", RK_QUOTE(tpl),
                       strncasecmp(tpl, "http://", 7) == 0
                           ? " (http:// needs --insecure-options=http)"
                           : "");
                return 0;
        }
        /* where the authority of the template ends: the first '/', '?', '#' after "://" */
        const char *sep = strstr(tpl, "://");
        const char *auth_end = sep ? sep + 3 + strcspn(sep + 3, "/?#") : tpl + tlen;

        for (const char *p = tpl; *p;) {
                if (*p == '}')
                        return rk_err(err, -EBADMSG, "template %s: '}' without '{'", RK_QUOTE(tpl));
                if (*p != '{') {
                        size_t n = strcspn(p, "{}");
                        put(&b, p, n);
                        p += n;
                        continue;
                }
                const char *close = strchr(p + 1, '}');
                if (!close || memchr(p + 1, '{', (size_t)(close - p - 1)))
                        return rk_err(err, -EBADMSG, "template %s: unbalanced '{'", RK_QUOTE(tpl));
                char key[RK_ACI_NAME_MAX + 1];
                size_t kn = (size_t)(close - p - 1);
                if (kn == 0 || kn > RK_ACI_NAME_MAX)
                        return rk_err(err, -EBADMSG, "template %s: bad placeholder", RK_QUOTE(tpl));
                memcpy(key, p + 1, kn);
                key[kn] = 0;
                bool is_label;
                const char *v = lookup(key, app, ext, &is_label);
                if (!v) {
                        rk_err(err, -ENOENT, "template %s: no value for {%s}", RK_QUOTE(tpl),
                               RK_QUOTE(key));
                        return 0;
                }
                labels += is_label;
                if (p < auth_end) {
                        size_t vn = strlen(v);
                        for (size_t i = 0; i < vn; i++)
                                if (!is_host_char((unsigned char)v[i]) || !sep || p < sep)
                                        vn = 0;
                        if (vn == 0) {
                                rk_err(err, -EINVAL,
                                       "template %s: {%s} = %s is not a host name fragment",
                                       RK_QUOTE(tpl), key, RK_QUOTE(v));
                                return 0;
                        }
                        put(&b, v, vn);
                } else {
                        for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
                                char e[4];
                                if (is_path_char(*c)) {
                                        put(&b, (const char *)c, 1);
                                        continue;
                                }
                                snprintf(e, sizeof(e), "%%%02X", *c);
                                put(&b, e, 3);
                        }
                }
                p = close + 1;
        }
        if (b.over) {
                rk_err(err, -EINVAL, "template %s: rendered URL longer than %d characters",
                       RK_QUOTE(tpl), RK_URL_MAX);
                return 0;
        }
        if (check_url(b.s, allow_http, "rendered template", err) < 0)
                return 0;
        char *s = strdup(b.s);
        if (!s)
                return rk_err(err, -ENOMEM, "template: out of memory");
        *ret = s;
        if (ret_labels)
                *ret_labels = labels;
        return 1;
}

int rk_template_render(const char *tpl, const struct rk_app_string *app, const char *ext,
                       bool allow_http, char **ret, rk_error *err)
{
        return render(tpl, app, ext, allow_http, ret, NULL, err);
}

void rk_endpoints_clear(struct rk_endpoints *e)
{
        if (!e)
                return;
        for (size_t i = 0; i < e->n; i++) {
                free(e->v[i].aci);
                free(e->v[i].asc);
        }
        free(e->v);
        e->v = NULL;
        e->n = 0;
}

int rk_endpoints_from_meta(const struct rk_meta_list *tags, const struct rk_app_string *app,
                           bool allow_http, struct rk_endpoints *ret, size_t *dropped,
                           rk_error *err)
{
        struct rk_endpoints e = {0};
        size_t drop = 0;
        unsigned *nlabels = NULL;

        if (!tags || !app || !app->name)
                return rk_err(err, -EINVAL, "endpoints: missing argument");
        if (tags->n > 0) {
                e.v = calloc(tags->n, sizeof(*e.v));
                nlabels = calloc(tags->n, sizeof(*nlabels));
                if (!e.v || !nlabels) {
                        free(e.v);
                        free(nlabels);
                        return rk_err(err, -ENOMEM, "endpoints: out of memory");
                }
        }
        for (size_t i = 0; i < tags->n; i++) {
                const struct rk_meta *m = &tags->v[i];
                if (m->kind != RK_META_DISCOVERY ||
                    !rk_discovery_prefix_match(m->prefix, app->name))
                        continue;
                char *aci = NULL, *asc = NULL;
                unsigned nl = 0;
                rk_error e1 = RK_ERROR_INIT;
                int r = render(m->value, app, "aci", allow_http, &aci, &nl, &e1);
                if (r > 0)
                        r = render(m->value, app, "aci.asc", allow_http, &asc, NULL, &e1);
                if (r > 0 && strcmp(aci, asc) == 0)
                        r = 0; /* no {ext}: the signature would be the image itself */
                if (r == -ENOMEM) {
                        free(aci);
                        free(asc);
                        free(nlabels);
                        rk_endpoints_clear(&e);
                        return rk_err(err, r, "endpoints: out of memory");
                }
                if (r <= 0) {
                        free(aci);
                        free(asc);
                        drop++;
                        continue;
                }
                bool dup = false;
                for (size_t k = 0; k < e.n && !dup; k++)
                        dup = strcmp(e.v[k].aci, aci) == 0 && strcmp(e.v[k].asc, asc) == 0;
                if (dup) { /* a mirror line repeated, or "-latest-" spelled out */
                        free(aci);
                        free(asc);
                        continue;
                }
                /* more substituted labels first (the spec's preference), stable */
                size_t k = e.n;
                while (k > 0 && nlabels[k - 1] < nl) {
                        e.v[k] = e.v[k - 1];
                        nlabels[k] = nlabels[k - 1];
                        k--;
                }
                e.v[k] = (struct rk_endpoint){.aci = aci, .asc = asc};
                nlabels[k] = nl;
                e.n++;
        }
        free(nlabels);
        if (dropped)
                *dropped = drop;
        if (e.n == 0) {
                free(e.v);
                e.v = NULL;
        }
        *ret = e;
        return (int)e.n;
}

int rk_pubkeys_from_meta(const struct rk_meta_list *tags, const char *name, bool allow_http,
                         char ***ret, size_t *ret_n, rk_error *err)
{
        if (!tags || !name)
                return rk_err(err, -EINVAL, "pubkeys: missing argument");
        char **v = calloc(tags->n + 1, sizeof(*v));
        size_t n = 0;
        if (!v)
                return rk_err(err, -ENOMEM, "pubkeys: out of memory");
        for (size_t i = 0; i < tags->n; i++) {
                const struct rk_meta *m = &tags->v[i];
                if (m->kind != RK_META_PUBKEYS || !rk_discovery_prefix_match(m->prefix, name))
                        continue;
                if (check_url(m->value, allow_http, "pubkeys URL", NULL) < 0)
                        continue;
                v[n] = strdup(m->value);
                if (!v[n]) {
                        for (size_t k = 0; k < n; k++)
                                free(v[k]);
                        free(v);
                        return rk_err(err, -ENOMEM, "pubkeys: out of memory");
                }
                n++;
        }
        *ret = v;
        if (ret_n)
                *ret_n = n;
        return (int)n;
}
