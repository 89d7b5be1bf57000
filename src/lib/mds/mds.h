/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The appc metadata service (appc.md §8, network.md §5): the registry of pods and the two
 * request handlers, free of sockets so that they can be fuzzed and unit-tested. The server
 * loop is src/cli/cmd-mds.c, the stage0 client client.c.
 *
 * Registration API (the root-only unix socket, one request per connection):
 *   PUT /pods/<uuid>   body {"token": T, "net": "host"|"none", "manifest": POD_MANIFEST,
 *                            "images": {"<image id>": IMAGE_MANIFEST, ...}}
 *                      -> 201, text/plain: the base URL (no token) the pod's apps use
 *   DELETE /pods/<uuid> -> 204 (also when unknown: idempotent)
 * Public API, under /<token>: appc.md §8's table. Unknown token (or a token used through
 * another pod's listener) -> 403; unknown path or app -> 404; no "Metadata-Flavor:
 * AppContainer" header -> 400. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mds/http.h"

#define RK_MDS_PORT         18112
#define RK_MDS_SOCKET       "/run/rkt/metadata-svc.sock"
#define RK_MDS_TOKEN_BYTES  32 /* 256 bits, hex in the URL */
#define RK_MDS_TOKEN_HEX    (2 * RK_MDS_TOKEN_BYTES)
#define RK_MDS_MAX_PODS     4096
#define RK_MDS_MAX_REG_BODY (4u << 20)
#define RK_MDS_MAX_BODY     (64u * 1024) /* public requests (hmac forms) */
#define RK_MDS_KEY_BYTES    64

struct rk_mds_app {
        char *name, *image_id;
        json_t *image_manifest;
};

struct rk_mds_pod {
        char uuid[37];
        unsigned char uuid_raw[16];
        char token[RK_MDS_TOKEN_HEX + 1];
        bool host_net; /* served on the loopback listener; else only through its own listener */
        json_t *manifest;
        struct rk_mds_app *apps;
        size_t n_apps;
        int pidfd;    /* the registering process (stage0, then stage1), or -1 */
        int listener; /* the pod's own listener (contained pods), or -1 */
};

struct rk_mds {
        unsigned char key[RK_MDS_KEY_BYTES];
        unsigned port;
        struct rk_mds_pod **pods;
        size_t n_pods;
};

struct rk_mds_resp {
        int status;
        const char *content_type;
        char *body;
        size_t body_len;
        struct rk_mds_pod *registered; /* PUT /pods: the new pod (the server attaches fds) */
};

/* A new registry with a random HMAC key (getrandom). */
int rk_mds_init(struct rk_mds *m, unsigned port);
void rk_mds_done(struct rk_mds *m);
void rk_mds_resp_clear(struct rk_mds_resp *r);
void rk_mds_pod_free(struct rk_mds_pod *p);
/* Remove (and free) the pod; its fds are closed. */
void rk_mds_remove(struct rk_mds *m, struct rk_mds_pod *p);

/* A public request. via: the pod whose listener accepted the connection, or NULL for the
 * loopback listener (host-networked pods only). -ENOMEM, else 0 with resp filled. */
int rk_mds_public(struct rk_mds *m, const struct rk_mds_pod *via, const struct rk_http_req *req,
                  struct rk_mds_resp *resp);
/* A registration request from a root peer. */
int rk_mds_register(struct rk_mds *m, const struct rk_http_req *req, struct rk_mds_resp *resp);

/* The hex token check (exactly RK_MDS_TOKEN_HEX lowercase hex digits). */
bool rk_mds_token_valid(const char *s);
