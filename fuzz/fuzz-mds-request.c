/* SPDX-License-Identifier: Apache-2.0 */
/* The metadata service's request path (src/lib/mds): the HTTP parser, then the public handler
 * (through the loopback listener or a pod's own) or the registration handler, against a
 * registry holding one host-networked and one contained pod. The first input byte picks the
 * path. Oracles: a parsed request lies inside the input and within every cap; a refusal is
 * one of the documented statuses; every response has a documented status and content type,
 * its body has no trailing newline, JSON bodies parse; a contained pod's token is never
 * served through the loopback listener nor a pod's through another's listener; the registry
 * is left as it was found (what a request registered is removed again). */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mds/http.h"
#include "mds/mds.h"

#define FUZZ_MAX_INPUT (RK_HTTP_MAX_HEAD + RK_MDS_MAX_BODY + 1)

#define TOKEN_HOST "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
#define TOKEN_NONE "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"
#define IMG                                                                                        \
        "sha512-98a183f86c7ad7626e6fb16f1c145d7e16c75d12f3db82febc3efc88ffb53f98"                  \
        "03efbcc992504dfe2b446c63768972e4552310aa6d183c8f944423c45e9d4206"

static struct rk_mds mds;
static struct rk_mds_pod *host_pod, *none_pod;

static void check(bool ok)
{
        if (!ok)
                abort();
}

static struct rk_mds_pod *reg(const char *uuid, const char *token, const char *net)
{
        char body[2048], req[4096];
        int n =
            snprintf(body, sizeof(body),
                     "{\"token\":\"%s\",\"net\":\"%s\",\"manifest\":{\"acKind\":\"PodManifest\","
                     "\"acVersion\":\"0.8.11\",\"annotations\":[{\"name\":\"x\",\"value\":"
                     "\"1\"}],\"apps\":[{\"name\":\"app\",\"image\":{\"id\":\"" IMG "\"},"
                     "\"annotations\":[{\"name\":\"b\",\"value\":\"p\"}]}]},\"images\":{\"" IMG
                     "\":{\"name\":\"example.com/x\",\"annotations\":[{\"name\":\"a\","
                     "\"value\":\"i\"},{\"name\":\"b\",\"value\":\"i\"}]}}}",
                     token, net);
        int m = snprintf(req, sizeof(req), "PUT /pods/%s HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s",
                         uuid, n, body);
        struct rk_http_req hr;
        struct rk_mds_resp resp;
        check(rk_http_parse(req, (size_t)m, RK_MDS_MAX_REG_BODY, &hr) == 1);
        check(rk_mds_register(&mds, &hr, &resp) == 0 && resp.status == 201 && resp.registered);
        struct rk_mds_pod *p = resp.registered;
        rk_mds_resp_clear(&resp);
        return p;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void)argc;
        (void)argv;
        check(rk_mds_init(&mds, RK_MDS_PORT) == 0);
        memset(mds.key, 0x5a, sizeof(mds.key)); /* reproducible */
        host_pod = reg("6f1c2a3e-1111-4222-8333-444455556666", TOKEN_HOST, "host");
        none_pod = reg("7f1c2a3e-1111-4222-8333-444455556666", TOKEN_NONE, "none");
        return 0;
}

static void check_parsed(const char *buf, size_t len, size_t max_body, const struct rk_http_req *r)
{
        check(r->total <= len && r->method == buf && r->method_len >= 1 && r->method_len <= 7);
        for (size_t i = 0; i < r->method_len; i++)
                check(r->method[i] >= 'A' && r->method[i] <= 'Z');
        check(r->target > buf && r->target + r->target_len <= buf + len && r->target[0] == '/');
        check(r->target_len <= RK_HTTP_MAX_TARGET);
        for (size_t i = 0; i < r->target_len; i++)
                check((unsigned char)r->target[i] > 0x20 && (unsigned char)r->target[i] < 0x7f);
        check(r->body_len <= max_body && r->body + r->body_len == buf + r->total);
        check((size_t)(r->body - buf) <= RK_HTTP_MAX_HEAD);
}

static void check_resp(const struct rk_mds_resp *resp)
{
        static const int ok[] = {200, 201, 204, 400, 403, 404, 405, 409, 500, 503};
        bool known = false;
        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
                known |= resp->status == ok[i];
        check(known && resp->body && resp->content_type);
        check(!strcmp(resp->content_type, "application/json") ||
              !strcmp(resp->content_type, "text/plain; charset=us-ascii"));
        check(resp->body_len == 0 || resp->body[resp->body_len - 1] != '\n');
        if (!strcmp(resp->content_type, "application/json")) {
                json_error_t e;
                json_t *v = json_loadb(resp->body, resp->body_len, JSON_DECODE_ANY, &e);
                check(v != NULL);
                json_decref(v);
        } else
                check(strlen(resp->body) == resp->body_len);
        char *wire = NULL;
        size_t wlen = 0;
        check(rk_http_response(resp->status, resp->content_type, resp->body, resp->body_len, &wire,
                               &wlen) == 0);
        check(!strncmp(wire, "HTTP/1.1 ", 9) && wlen >= resp->body_len);
        free(wire);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1 || size > FUZZ_MAX_INPUT)
                return 0;
        unsigned mode = data[0] % 4; /* 0 loopback, 1 host pod's listener, 2 contained, 3 reg */
        size_t len = size - 1;
        char *buf = malloc(len + 1);
        if (!buf)
                return 0;
        memcpy(buf, data + 1, len);
        buf[len] = 0;
        size_t max_body = mode == 3 ? RK_MDS_MAX_REG_BODY : RK_MDS_MAX_BODY;
        struct rk_http_req req;
        int r = rk_http_parse(buf, len, max_body, &req);
        check(r == 0 || r == 1 || r == -400 || r == -413 || r == -414 || r == -431 || r == -501 ||
              r == -505);
        if (r == 0)
                check(len < RK_HTTP_MAX_HEAD + max_body);
        if (r == 1) {
                check_parsed(buf, len, max_body, &req);
                char *v = NULL;
                size_t vlen = 0;
                int f = rk_http_form_get(req.body, req.body_len, "content", &v, &vlen);
                check(f == 0 || f == 1 || f == -EINVAL);
                check(f == 1 ? v && vlen <= req.body_len : !v);
                free(v);
                size_t before = mds.n_pods;
                struct rk_mds_resp resp;
                const struct rk_mds_pod *via = mode == 1 ? host_pod : mode == 2 ? none_pod : NULL;
                int h = mode == 3 ? rk_mds_register(&mds, &req, &resp)
                                  : rk_mds_public(&mds, via, &req, &resp);
                check(h == 0);
                check_resp(&resp);
                /* identity: a 200 for a token-bearing path only through the right listener */
                if (mode != 3 && resp.status == 200 && req.target_len > 65) {
                        bool host_tok = !memcmp(req.target + 1, TOKEN_HOST, 64);
                        bool none_tok = !memcmp(req.target + 1, TOKEN_NONE, 64);
                        check(mode == 0 ? host_tok : mode == 1 ? host_tok : none_tok);
                }
                if (resp.registered) {
                        check(resp.status == 201 && mds.n_pods == before + 1);
                        rk_mds_remove(&mds, resp.registered);
                }
                rk_mds_resp_clear(&resp);
                /* the fixed pods stay; a DELETE of one is undone */
                bool h_in = false, n_in = false;
                for (size_t i = 0; i < mds.n_pods; i++) {
                        h_in |= mds.pods[i] == host_pod;
                        n_in |= mds.pods[i] == none_pod;
                }
                if (!h_in)
                        host_pod = reg("6f1c2a3e-1111-4222-8333-444455556666", TOKEN_HOST, "host");
                if (!n_in)
                        none_pod = reg("7f1c2a3e-1111-4222-8333-444455556666", TOKEN_NONE, "none");
                check(mds.n_pods == 2);
        }
        free(buf);
        return 0;
}
