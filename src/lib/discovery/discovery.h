/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* appc meta discovery, the parsing half (appc spec/discovery.md; no network here): app
 * strings, the <meta> tags of a discovery page, prefix matching and template rendering. Every
 * input is untrusted (a user's argument, a page from the network): sizes are capped, errors
 * name the object and the reason in one line. The network half lives in src/lib/fetch. */

#include <stdbool.h>
#include <stddef.h>

#include "aci/types.h"
#include "base/error.h"

/* ---- app strings: name[:version][,label=value...] ---- */

#define RK_APP_STRING_MAX 1024

struct rk_app_string {
        char *name;              /* an AC Identifier */
        struct rk_labels labels; /* "version" if given, every label=value, and "os" and "arch"
                                  * (the host's appc names: linux, amd64, ...) unless given */
};

/* Parse s per the spec: -EINVAL with a message for a bad name or label, a duplicate label,
 * ":version" together with "version=", more than one ':', an empty part. */
int rk_app_string_parse(const char *s, struct rk_app_string *ret, rk_error *err);
void rk_app_string_clear(struct rk_app_string *a);
/* The host's appc os and arch names ("linux"; "amd64", "aarch64" (not Go's arm64), "i386",
 * "armv7l", ...: appc.md 3). An arch with no appc name is returned as uname says. */
const char *rk_appc_os(void);
const char *rk_appc_arch(void);

/* ---- discovery pages ---- */

#define RK_DISCOVERY_PAGE_MAX (1u << 20) /* bytes of a page read at most */
#define RK_DISCOVERY_TAGS_MAX 64         /* tags of each kind kept from a page */

enum rk_meta_kind { RK_META_DISCOVERY, RK_META_PUBKEYS };

struct rk_meta {
        enum rk_meta_kind kind;
        char *prefix; /* the prefix-match */
        char *value;  /* the URL template (discovery) or the key URL (pubkeys) */
};

struct rk_meta_list {
        struct rk_meta *v;
        size_t n;
        size_t skipped; /* malformed or over-the-cap tags, for --debug */
};

/* Every <meta name="ac-discovery" content="PREFIX TEMPLATE"> and
 * <meta name="ac-discovery-pubkeys" content="PREFIX URL"> of an HTML page, in page order.
 * Attribute order, quoting ('"', '\'', none) and case of tag and attribute names are free;
 * entities in content values are decoded (&amp; &lt; &gt; &quot; &apos; and numeric ones; a
 * decoded control character drops the tag); the name is compared trimmed and
 * case-insensitively. Comments and <script>/<style> bodies hide tags. Content must be exactly
 * two whitespace-separated fields (else the tag is skipped).
 * No recursion; linear in len; a page over RK_DISCOVERY_PAGE_MAX is -EFBIG. Tags beyond
 * RK_DISCOVERY_TAGS_MAX per kind are counted in skipped. */
int rk_meta_parse(const char *html, size_t len, struct rk_meta_list *ret, rk_error *err);
void rk_meta_list_clear(struct rk_meta_list *l);

/* Whether prefix covers name on whole path components ("example.com/app" covers
 * "example.com/app" and "example.com/app/x", not "example.com/application"). */
bool rk_discovery_prefix_match(const char *prefix, const char *name);

/* The URLs tried for a name, in order: the name itself, then each parent path
 * ("example.com/a/b" -> "https://example.com/a/b?ac-discovery=1", ".../a?...", "https://
 * example.com?ac-discovery=1"). http: scheme http:// instead (--insecure-options=http).
 * Returns the count (at most 32: a name of more components is -EINVAL); *ret is a
 * NULL-terminated malloc'd array. */
int rk_discovery_urls(const char *name, bool http, char ***ret, rk_error *err);

/* Render one template for app and ext ("aci" or "aci.asc"): {name}, {version} ("latest" when
 * the app string has none), {os}, {arch}, {ext}, and {L} for any other label L. Returns 1 and
 * a malloc'd URL; 0 when a placeholder is left unresolved or the result is not an https://
 * (http:// with allow_http) URL (the template is dropped; err says why, for --debug, with
 * err->code -ENOENT or -EINVAL); < 0 on a malformed template (unbalanced braces, -EBADMSG) or
 * allocation failure. Values in the host part must be host name fragments; elsewhere bytes
 * that are not URL path characters are %-escaped (see template.c). */
int rk_template_render(const char *tpl, const struct rk_app_string *app, const char *ext,
                       bool allow_http, char **ret, rk_error *err);

/* An image endpoint: the ACI URL and its signature's. */
struct rk_endpoint {
        char *aci, *asc;
};
struct rk_endpoints {
        struct rk_endpoint *v;
        size_t n;
};

/* The endpoints of a page's discovery tags whose prefix covers app->name, in page order,
 * every fully rendered template kept (ones substituting more labels first, as the spec
 * prefers; stable otherwise; a defaulted {version} does not count; repeated URL pairs kept
 * once); dropped templates (unresolved, malformed, not https, or without {ext}, which would
 * make the signature URL the image URL) counted in *dropped (may be NULL). Returns the count
 * of endpoints (0: none, try the parent path) or < 0 (allocation failure). */
int rk_endpoints_from_meta(const struct rk_meta_list *tags, const struct rk_app_string *app,
                           bool allow_http, struct rk_endpoints *ret, size_t *dropped,
                           rk_error *err);
void rk_endpoints_clear(struct rk_endpoints *e);

/* The key URLs of a page's pubkeys tags whose prefix covers name, in page order (a
 * NULL-terminated malloc'd array of malloc'd strings; https:// only unless allow_http; other
 * or malformed URLs are left out). Returns the count, also in *ret_n (may be NULL). */
int rk_pubkeys_from_meta(const struct rk_meta_list *tags, const char *name, bool allow_http,
                         char ***ret, size_t *ret_n, rk_error *err);
