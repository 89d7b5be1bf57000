/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* appc meta discovery, the network half (the parsing half is discovery/discovery.h), and the
 * auth.d credentials it and the downloads send.
 *
 * Discovery walks https://<name>?ac-discovery=1, then each parent path, until a page has a tag
 * whose prefix covers the name on whole path components. Plain http:// is tried only with
 * allow_http (--insecure-options=http), after https:// failed at that level; redirects follow
 * the same rule (http.c). Every attempt is logged with --debug and summed up in the error. */

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "discovery/discovery.h"
#include "trust/trust.h"

/* ---- auth.d ---- */

/* rkt's auth.d files: JSON objects {"rktKind": "auth", "rktVersion": "v1", "domains": [HOST...],
 * "type": "basic" | "oauth", "credentials": {"user", "password"} | {"token"}} in
 * <system-config>/auth.d, <local-config>/auth.d and <user-config>/auth.d (*.json, not
 * recursive). A domain configured in a later directory replaces the earlier one; the same
 * domain twice in one directory is an error. "dockerAuth" files are skipped (no docker
 * support). Strict: unknown members, kinds, versions and types are errors. Because the files
 * hold secrets and decide where they are sent, each file (and its directory) must be owned by
 * root or the effective user and writable by nobody else, and a file must not be readable by
 * others (chmod 0600 or 0640): -EPERM otherwise, naming the file. */
#define RK_AUTH_FILE_MAX  (64 * 1024)
#define RK_AUTH_FILES_MAX 256

struct rk_auth;
int rk_auth_load(const char *system_config, const char *local_config, const char *user_config,
                 struct rk_auth **ret, rk_error *err);
/* Returns NULL. */
struct rk_auth *rk_auth_free(struct rk_auth *a);
/* The Authorization header value ("Basic ...", "Bearer ...") for url's host, or NULL. http.c
 * sends it to that host only: never across a redirect to another host, port or scheme. */
const char *rk_auth_header(const struct rk_auth *a, const char *url);
/* One auth.d document (path names it in errors) added to a (from rk_auth_new) at precedence
 * level 0 (system), 1 (local) or 2 (user): the loader's parser, exposed for the fuzzer. The
 * file checks are the loader's. */
struct rk_auth *rk_auth_new(void);
int rk_auth_parse(struct rk_auth *a, const char *path, const char *buf, size_t len, int level,
                  rk_error *err);
/* Number of configured domains (for the tests and --debug). */
size_t rk_auth_count(const struct rk_auth *a);

/* ---- discovery ---- */

struct rk_discover_opts {
        bool allow_http;   /* --insecure-options=http */
        bool insecure_tls; /* --insecure-options=tls */
        const struct rk_auth *auth;
};

/* The image endpoints for app (rk_endpoints_from_meta at the first level that has any).
 * *ret_page (optional) gets the page URL they came from. -ENOENT with every URL tried and what
 * it answered when no level has any. */
int rk_discover_endpoints(const struct rk_app_string *app, const struct rk_discover_opts *o,
                          struct rk_endpoints *ret, char **ret_page, rk_error *err);

/* The key URLs of ac-discovery-pubkeys tags covering name, from the first level that has any
 * (keys may be published at another level than the templates). *ret is NULL-terminated, free
 * it with rk_strv_free(*ret, *ret_n). */
int rk_discover_pubkeys(const char *name, const struct rk_discover_opts *o, char ***ret,
                        size_t *ret_n, char **ret_page, rk_error *err);

/* A key discovered for a prefix: where it was served, its bytes (at most RK_TRUST_KEY_MAX, read
 * once: what is shown for review is what gets stored) and what it says about itself. */
struct rk_discovered_key {
        char *url;
        char *data;
        size_t len;
        struct rk_key_info info;
};
void rk_discovered_keys_free(struct rk_discovered_key *v, size_t n);

/* rk_discover_pubkeys, then each key downloaded and inspected (rk_key_inspect). A key that
 * cannot be downloaded or is not exactly one public key is skipped with a warning; -ENOENT if
 * none is left (the message says why). */
int rk_discover_keys(const char *prefix, const struct rk_discover_opts *o,
                     struct rk_discovered_key **ret, size_t *ret_n, char **ret_page, rk_error *err);
