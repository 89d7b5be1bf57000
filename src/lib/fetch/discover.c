/* SPDX-License-Identifier: Apache-2.0 */
/* appc meta discovery over the network: the walk up the name's path, one page per level. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/fileio.h"
#include "base/log.h"
#include "fetch/discover.h"
#include "fetch/http.h"

/* What each level answered, for the one-line error (the full story is in --debug). */
struct trail {
        char s[360];
        size_t n;
};

static void note(struct trail *t, const char *url, const char *fmt, ...) _printf_(3, 4);
static void note(struct trail *t, const char *url, const char *fmt, ...)
{
        char why[300];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, sizeof(why), fmt, ap);
        va_end(ap);
        rk_log_debug("discovery: %s: %s", url, why);
        if (t->n >= sizeof(t->s) - 1)
                return;
        int w = snprintf(t->s + t->n, sizeof(t->s) - t->n, "%s%s (%s)", t->n ? ", " : "", url, why);
        if (w > 0)
                t->n += (size_t)w < sizeof(t->s) - t->n ? (size_t)w : sizeof(t->s) - t->n - 1;
}

/* What a level does with a page's tags: 1 if it found what the walk looks for, 0 if not (why
 * says why), < 0 on error. */
typedef int (*level_fn)(void *ud, const struct rk_meta_list *tags, char *why, size_t why_len,
                        rk_error *err);

static int get_page(const char *url, const struct rk_discover_opts *o, char **buf, size_t *len,
                    long *status, rk_error *err)
{
        struct rk_http_opts ho = {
            .allow_http = o->allow_http,
            .insecure_tls = o->insecure_tls,
            .auth = rk_auth_header(o->auth, url),
            .connect_timeout = 20,
            .stall_timeout = 30,
        };
        struct rk_http_result hr = {0};
        int r = rk_http_get_mem(url, &ho, RK_DISCOVERY_PAGE_MAX, buf, len, &hr, err);
        *status = hr.status;
        if (r >= 0 && hr.status != 200) {
                free(*buf);
                *buf = NULL;
                return rk_err(err, -EIO, "'%s': server answered HTTP %ld", url, hr.status);
        }
        return r;
}

/* One level: the page at url, its tags, fn. 1 found, 0 go on (noted), < 0 fatal. */
static int level(const char *url, const struct rk_discover_opts *o, level_fn fn, void *ud,
                 struct trail *t, long *status, rk_error *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        rk_error e = RK_ERROR_INIT;
        int r = get_page(url, o, &buf, &len, status, &e);
        if (r == -ENOMEM)
                return rk_err(err, r, "out of memory");
        if (r < 0) {
                /* the message names the URL already; keep only the reason */
                const char *m = e.msg;
                size_t ul = strlen(url);
                if (!strncmp(m, "'", 1) && !strncmp(m + 1, url, ul) &&
                    !strncmp(m + 1 + ul, "': ", 3))
                        m += ul + 4;
                note(t, url, "%s", m);
                return 0;
        }
        struct rk_meta_list tags = {0};
        r = rk_meta_parse(buf, len, &tags, &e);
        if (r < 0) {
                note(t, url, "%s", e.msg);
                return r == -ENOMEM ? rk_err(err, r, "out of memory") : 0;
        }
        if (tags.skipped)
                rk_log_debug("discovery: %s: %zu malformed or surplus tags skipped", url,
                             tags.skipped);
        char why[256] = "no tag covering the name";
        r = fn(ud, &tags, why, sizeof(why), err);
        rk_meta_list_clear(&tags);
        if (r == 0)
                note(t, url, "%s", why);
        else if (r > 0)
                rk_log_debug("discovery: %s: found", url);
        return r;
}

static int walk(const char *name, const struct rk_discover_opts *o, const char *what, level_fn fn,
                void *ud, char **ret_page, rk_error *err)
{
        char **https = NULL, **http = NULL;
        struct trail t = {0};
        int r = rk_discovery_urls(name, false, &https, err);
        if (r >= 0 && o->allow_http)
                r = rk_discovery_urls(name, true, &http, err);
        for (size_t i = 0; r >= 0 && https[i]; i++) {
                long status = 0;
                const char *url = https[i];
                r = level(url, o, fn, ud, &t, &status, err);
                /* Plain http only when allowed, and only where https got no answer at all
                 * (rkt's fallback after #1836); an https answer is never second-guessed. */
                if (r == 0 && status == 0 && http && http[i]) {
                        url = http[i];
                        r = level(url, o, fn, ud, &t, &status, err);
                }
                if (r > 0) {
                        r = 0;
                        if (ret_page && !(*ret_page = strdup(url)))
                                r = rk_err(err, -ENOMEM, "out of memory");
                        goto out;
                }
        }
        if (r >= 0)
                r = rk_err(err, -ENOENT, "discovery of '%s': no %s found; tried %s", name, what,
                           t.n ? t.s : "nothing");
out:
        for (size_t i = 0; https && https[i]; i++)
                free(https[i]);
        for (size_t i = 0; http && http[i]; i++)
                free(http[i]);
        free(https);
        free(http);
        return r;
}

/* ---- endpoints ---- */

struct ep_walk {
        const struct rk_app_string *app;
        bool allow_http;
        struct rk_endpoints eps;
};

/* --debug: why each tag of a page was not used. */
static void explain_tags(const struct ep_walk *w, const struct rk_meta_list *tags)
{
        if (rk_log_get_level() < RK_LOG_DEBUG)
                return;
        for (size_t i = 0; i < tags->n; i++) {
                const struct rk_meta *m = &tags->v[i];
                if (m->kind != RK_META_DISCOVERY)
                        continue;
                if (!rk_discovery_prefix_match(m->prefix, w->app->name)) {
                        rk_log_debug("discovery: tag '%s %s' skipped: prefix does not cover '%s'",
                                     m->prefix, m->value, w->app->name);
                        continue;
                }
                char *u = NULL;
                rk_error e = RK_ERROR_INIT;
                int r = rk_template_render(m->value, w->app, "aci", w->allow_http, &u, &e);
                if (r > 0)
                        rk_log_debug("discovery: template '%s' -> %s", m->value, u);
                else
                        rk_log_debug("discovery: template '%s' skipped: %s", m->value,
                                     e.msg[0] ? e.msg : "not rendered");
                free(u);
        }
}

static int ep_level(void *ud, const struct rk_meta_list *tags, char *why, size_t why_len,
                    rk_error *err)
{
        struct ep_walk *w = ud;
        size_t dropped = 0, covering = 0, total = 0;
        explain_tags(w, tags);
        for (size_t i = 0; i < tags->n; i++)
                if (tags->v[i].kind == RK_META_DISCOVERY) {
                        total++;
                        covering += rk_discovery_prefix_match(tags->v[i].prefix, w->app->name);
                }
        int r = rk_endpoints_from_meta(tags, w->app, w->allow_http, &w->eps, &dropped, err);
        if (r < 0)
                return r;
        if (w->eps.n > 0)
                return 1;
        rk_endpoints_clear(&w->eps);
        if (!total)
                snprintf(why, why_len, "no ac-discovery tag");
        else if (!covering)
                snprintf(why, why_len, "%zu ac-discovery tags, none for this name", total);
        else
                snprintf(why, why_len,
                         "%zu templates for this name, %zu dropped (a label missing, or not "
                         "https; --debug says which)",
                         covering, dropped);
        return 0;
}

int rk_discover_endpoints(const struct rk_app_string *app, const struct rk_discover_opts *o,
                          struct rk_endpoints *ret, char **ret_page, rk_error *err)
{
        struct ep_walk w = {.app = app, .allow_http = o->allow_http};
        int r = walk(app->name, o, "image endpoints", ep_level, &w, ret_page, err);
        if (r < 0) {
                rk_endpoints_clear(&w.eps);
                return r;
        }
        for (size_t i = 0; i < w.eps.n; i++)
                rk_log_debug("discovery: endpoint %zu: %s (signature %s)", i + 1, w.eps.v[i].aci,
                             w.eps.v[i].asc);
        *ret = w.eps;
        return 0;
}

/* ---- keys ---- */

struct key_walk {
        const char *name;
        bool allow_http;
        char **keys;
        size_t n;
};

static int key_level(void *ud, const struct rk_meta_list *tags, char *why, size_t why_len,
                     rk_error *err)
{
        struct key_walk *w = ud;
        size_t total = 0;
        for (size_t i = 0; i < tags->n; i++) {
                const struct rk_meta *m = &tags->v[i];
                if (m->kind != RK_META_PUBKEYS)
                        continue;
                total++;
                if (!rk_discovery_prefix_match(m->prefix, w->name))
                        rk_log_debug("discovery: pubkeys tag '%s %s' skipped: prefix does not "
                                     "cover '%s'",
                                     m->prefix, m->value, w->name);
                else if (strncmp(m->value, "https://", 8) != 0 &&
                         !(w->allow_http && !strncmp(m->value, "http://", 7)))
                        rk_log_debug("discovery: pubkeys tag '%s %s' skipped: not an https URL "
                                     "(http needs --insecure-options=http)",
                                     m->prefix, m->value);
        }
        int r = rk_pubkeys_from_meta(tags, w->name, w->allow_http, &w->keys, &w->n, err);
        if (r < 0)
                return r;
        if (w->n > 0)
                return 1;
        rk_strv_free(w->keys, 0);
        w->keys = NULL;
        if (total)
                snprintf(why, why_len, "%zu ac-discovery-pubkeys tags, none usable for this name",
                         total);
        else
                snprintf(why, why_len, "no ac-discovery-pubkeys tag");
        return 0;
}

int rk_discover_pubkeys(const char *name, const struct rk_discover_opts *o, char ***ret,
                        size_t *ret_n, char **ret_page, rk_error *err)
{
        struct key_walk w = {.name = name, .allow_http = o->allow_http};
        int r = walk(name, o, "public keys (ac-discovery-pubkeys)", key_level, &w, ret_page, err);
        if (r < 0) {
                rk_strv_free(w.keys, w.n);
                return r;
        }
        *ret = w.keys;
        *ret_n = w.n;
        return 0;
}

void rk_discovered_keys_free(struct rk_discovered_key *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++) {
                free(v[i].url);
                free(v[i].data);
                rk_key_info_clear(&v[i].info);
        }
        free(v);
}

int rk_discover_keys(const char *prefix, const struct rk_discover_opts *o,
                     struct rk_discovered_key **ret, size_t *ret_n, char **ret_page, rk_error *err)
{
        char **urls = NULL;
        size_t n = 0, got = 0;
        int r = rk_discover_pubkeys(prefix, o, &urls, &n, ret_page, err);
        if (r < 0)
                return r;
        struct rk_discovered_key *v = calloc(n, sizeof(*v));
        if (!v) {
                rk_strv_free(urls, n);
                return rk_err(err, -ENOMEM, "out of memory");
        }
        rk_error last = RK_ERROR_INIT;
        for (size_t i = 0; i < n; i++) {
                struct rk_http_opts ho = {
                    .allow_http = o->allow_http,
                    .insecure_tls = o->insecure_tls,
                    .auth = rk_auth_header(o->auth, urls[i]),
                    .connect_timeout = 20,
                    .stall_timeout = 30,
                };
                struct rk_http_result hr = {0};
                struct rk_discovered_key k = {0};
                rk_err_clear(&last);
                r = rk_http_get_mem(urls[i], &ho, RK_TRUST_KEY_MAX, &k.data, &k.len, &hr, &last);
                if (r >= 0 && hr.status != 200)
                        r = rk_err(&last, -EIO, "'%s': server answered HTTP %ld", urls[i],
                                   hr.status);
                if (r >= 0 && (r = rk_key_inspect(k.data, k.len, &k.info, &last)) < 0)
                        rk_err_prefix(&last, r, "key '%s'", urls[i]);
                if (r < 0) {
                        rk_log_warning("%s: %s", prefix, last.msg);
                        free(k.data);
                        continue;
                }
                k.url = TAKE_PTR(urls[i]);
                v[got++] = k;
        }
        rk_strv_free(urls, n);
        if (got == 0) {
                free(v);
                return rk_err(err, last.code ? last.code : -ENOENT, "keys for '%s': %s", prefix,
                              last.msg[0] ? last.msg : "none usable");
        }
        *ret = v;
        *ret_n = got;
        return 0;
}
