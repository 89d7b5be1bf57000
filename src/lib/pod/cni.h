/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A small, strict CNI runner (spec 1.0.0 as Debian 12's containernetworking-plugins 1.1.1
 * speak it) for named networks from <local-config>/net.d/<*.conflist>.
 *
 * Only what the pod needs: ADD in list order with prevResult chaining, DEL in reverse order
 * with the cached result, also after an ADD that failed midway. Every plugin runs with an
 * allow-listed environment (PATH, CNI_*), closed fds, stdin from a sealed memfd, stdout
 * capped, a hard timeout. The state of one attachment lives in one cache file, written
 * atomically before each plugin runs (so a crash at any point leaves enough for DEL):
 *
 *   <cache dir>/<uuid>-<ifname>.json
 *     {"kind": "rktCniCacheV1", "network", "pluginDir", "ifName", "netns", "cniArgs",
 *      "config": <the conflist as loaded>, "added": N (plugins that may have acted),
 *      "result": <the last successful result> | absent}
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define RK_CNI_MAX_CONF    (64 * 1024) /* a conflist, and a plugin's stdout */
#define RK_CNI_MAX_PLUGINS 16
#define RK_CNI_MAX_NETS    8
#define RK_CNI_MAX_ARGS    1024
#define RK_CNI_TIMEOUT_MS  30000
#define RK_CNI_PLUGIN_DIR  "/usr/lib/cni"

/* A network name: an AC name without '/' (lowercase alnum, runs of them joined by one of
 * "-._"), at most 64 bytes. */
bool rk_cni_name_valid(const char *s);
/* A plugin type: [A-Za-z0-9_.-], not starting with '.', at most 64 bytes (no '/', no ".."). */
bool rk_cni_type_valid(const char *s);
/* CNI_ARGS: "K=V[;K=V]...", K alnum/_ (not empty), V printable without ';' and space, at
 * most RK_CNI_MAX_ARGS bytes; "" is valid (no arguments). */
bool rk_cni_args_valid(const char *s);

/* Parse and validate one conflist. On success *ret holds the document (caller decrefs).
 * Refused: not an object, unknown top-level keys, cniVersion other than 1.0.0 / 0.4.0, an
 * invalid name, no or too many plugins, a plugin without a valid type, a plugin naming its
 * own cniVersion/name that differs from the list's. */
int rk_cni_conflist_parse(const char *what, const void *buf, size_t len, json_t **ret,
                          rk_error *err);

/* A parsed ADD result: the first IPv4 address on an interface inside the sandbox (or the first
 * IPv4 address at all), with its prefix and gateway (0 if none). Network byte order. */
struct rk_cni_result {
        uint32_t ip, gateway;
        unsigned prefix;
        size_t n_ips, n_interfaces, n_routes;
};
/* Strict: an object with cniVersion (string), optional interfaces[] ({name (required), mac,
 * mtu, sandbox}), ips[] ({address "A/N" (required), gateway, interface index in range}),
 * routes[] ({dst "A/N" (required), gw}), dns {}. Unknown keys inside those are refused. */
int rk_cni_result_parse(const json_t *res, struct rk_cni_result *out, rk_error *err);

/* Load every *.conflist in dir (sorted by name), each parsed strictly; two files declaring
 * the same name are refused; returns in *ret the one named name (-ENOENT naming the network
 * if none). A missing dir is -ENOENT. */
int rk_cni_load(const char *dir, const char *name, json_t **ret, rk_error *err);

struct rk_cni_attach {
        const char *plugin_dir;  /* RK_CNI_PLUGIN_DIR unless a test says otherwise */
        const char *containerid; /* the pod's UUID */
        const char *netns;       /* path to the pinned netns */
        const char *ifname;      /* eth0, eth1, ... */
        const char *args;        /* CNI_ARGS, "" or NULL for none */
        int cache_dirfd;         /* directory of the cache file */
        unsigned timeout_ms;     /* 0: RK_CNI_TIMEOUT_MS */
};

/* The cache file's name for an attachment: "<containerid>-<ifname>.json". */
int rk_cni_cache_name(const struct rk_cni_attach *a, char *buf, size_t len);

/* ADD: on success *result (may be NULL) gets the final result (caller decrefs). On failure
 * the plugins that ran are DEL'ed in reverse order (errors of those DELs are appended to the
 * message) and the cache file is removed when they all succeeded. err: one line naming the
 * network, the plugin and the reason (the plugin's msg and details). */
int rk_cni_add(const struct rk_cni_attach *a, const json_t *conflist, json_t **result,
               rk_error *err);

/* DEL from the cache file alone (config, plugin dir, netns, args and result as stored): every
 * plugin that may have acted, in reverse order, all of them even when one fails; the cache
 * file is removed only if all succeeded. No cache file: 0. netns_now (if not NULL) replaces
 * the stored netns path: the pin moves with the pod directory (run/ → exited-garbage/).
 * plugin_dir is used only for a cache that names none. */
int rk_cni_del_cached(int cache_dirfd, const char *cache_name, const char *plugin_dir,
                      const char *netns_now, rk_error *err);

/* Read a cache file's result (for status): *ret gets the result or NULL. */
int rk_cni_cache_result(int cache_dirfd, const char *cache_name, json_t **ret, rk_error *err);

/* --net=NAME[:ARGS][,NAME[:ARGS]]...: named networks only (the built-in names none, host,
 * default, default-restricted and all are refused here), at most RK_CNI_MAX_NETS, each once,
 * ARGS as rk_cni_args_valid. Interface i is eth<i>. */
struct rk_cni_req {
        char name[65];
        char args[RK_CNI_MAX_ARGS + 1];
};
int rk_cni_netlist_parse(const char *spec, struct rk_cni_req *reqs, size_t *n, rk_error *err);
