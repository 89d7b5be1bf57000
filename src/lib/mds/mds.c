/* SPDX-License-Identifier: Apache-2.0 */
/* The metadata service's registry and handlers (mds.h). Bodies follow appc.md §8 exactly:
 * no trailing newline, text/plain bodies as "text/plain; charset=us-ascii", annotations
 * served as registered (null stays null, [] stays []), app annotations merged in order (the
 * image's, a pod override replaced in place, new ones appended). Pod identity: HMAC-SHA512
 * over the 16 raw UUID bytes followed by the content (rkt's construction), with a key of 64
 * random bytes per service instance. */
#include "mds/mds.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/json.h"

#define CT_JSON  "application/json"
#define CT_TEXT  "text/plain; charset=us-ascii"
#define MAX_APPS 64

int rk_mds_init(struct rk_mds *m, unsigned port)
{
        memset(m, 0, sizeof(*m));
        m->port = port;
        size_t got = 0;
        while (got < sizeof(m->key)) {
                ssize_t r = getrandom(m->key + got, sizeof(m->key) - got, 0);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        return -errno;
                got += (size_t)r;
        }
        return 0;
}

void rk_mds_pod_free(struct rk_mds_pod *p)
{
        if (!p)
                return;
        for (size_t i = 0; i < p->n_apps; i++) {
                free(p->apps[i].name);
                free(p->apps[i].image_id);
                json_decref(p->apps[i].image_manifest);
        }
        free(p->apps);
        json_decref(p->manifest);
        if (p->pidfd >= 0)
                close(p->pidfd);
        if (p->listener >= 0)
                close(p->listener);
        OPENSSL_cleanse(p->token, sizeof(p->token));
        free(p);
}

void rk_mds_remove(struct rk_mds *m, struct rk_mds_pod *p)
{
        for (size_t i = 0; i < m->n_pods; i++)
                if (m->pods[i] == p) {
                        m->pods[i] = m->pods[--m->n_pods];
                        rk_mds_pod_free(p);
                        return;
                }
}

void rk_mds_done(struct rk_mds *m)
{
        while (m->n_pods)
                rk_mds_remove(m, m->pods[0]);
        free(m->pods);
        OPENSSL_cleanse(m->key, sizeof(m->key));
}

void rk_mds_resp_clear(struct rk_mds_resp *r)
{
        free(r->body);
        memset(r, 0, sizeof(*r));
}

bool rk_mds_token_valid(const char *s)
{
        size_t n = strspn(s, "0123456789abcdef");
        return n == RK_MDS_TOKEN_HEX && s[n] == 0;
}

static int uuid_parse(const char *s, size_t len, unsigned char raw[16])
{
        if (len != 36)
                return -EINVAL;
        size_t k = 0;
        for (size_t i = 0; i < 36; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;
                if (dash) {
                        if (s[i] != '-')
                                return -EINVAL;
                        continue;
                }
                int v = isdigit((unsigned char)s[i])   ? s[i] - '0'
                        : (s[i] >= 'a' && s[i] <= 'f') ? s[i] - 'a' + 10
                                                       : -1;
                if (v < 0)
                        return -EINVAL;
                if (k % 2 == 0)
                        raw[k / 2] = (unsigned char)(v << 4);
                else
                        raw[k / 2] |= (unsigned char)v;
                k++;
        }
        return 0;
}

/* ---- responses ---- */

static int reply(struct rk_mds_resp *resp, int status, const char *ct, const char *body, size_t len)
{
        resp->status = status;
        resp->content_type = ct;
        resp->body = malloc(len + 1);
        if (!resp->body)
                return -ENOMEM;
        if (len)
                memcpy(resp->body, body, len);
        resp->body[len] = 0;
        resp->body_len = len;
        return 0;
}

static int status_only(struct rk_mds_resp *resp, int status)
{
        return reply(resp, status, CT_TEXT, "", 0);
}

static int reply_json(struct rk_mds_resp *resp, const json_t *v)
{
        if (!v)
                return reply(resp, 200, CT_JSON, "null", 4);
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!s)
                return -ENOMEM;
        resp->status = 200;
        resp->content_type = CT_JSON;
        resp->body = s;
        resp->body_len = strlen(s);
        return 0;
}

/* ---- public API ---- */

static const json_t *pod_app(const struct rk_mds_pod *p, const char *name, size_t len,
                             const struct rk_mds_app **ret)
{
        for (size_t i = 0; i < p->n_apps; i++)
                if (strlen(p->apps[i].name) == len && !memcmp(p->apps[i].name, name, len)) {
                        *ret = &p->apps[i];
                        return json_array_get(json_object_get(p->manifest, "apps"), i);
                }
        return NULL;
}

/* The image's annotations, each pod override replaced in place, new ones appended. */
static int app_annotations(const struct rk_mds_app *a, const json_t *podapp,
                           struct rk_mds_resp *resp)
{
        const json_t *img = json_object_get(a->image_manifest, "annotations");
        const json_t *over = json_object_get(podapp, "annotations");
        if (!json_array_size(over))
                return reply_json(resp, img);
        json_t *merged = json_is_array(img) ? json_deep_copy(img) : json_array();
        if (!merged)
                return -ENOMEM;
        size_t i, k;
        const json_t *o, *m;
        json_array_foreach (over, i, o) {
                const char *name = json_string_value(json_object_get(o, "name"));
                bool done = false;
                json_array_foreach (merged, k, m) {
                        const char *mn = json_string_value(json_object_get(m, "name"));
                        if (name && mn && !strcmp(name, mn)) {
                                json_array_set_new(merged, k, json_deep_copy(o));
                                done = true;
                                break;
                        }
                }
                if (!done)
                        json_array_append_new(merged, json_deep_copy(o));
        }
        int r = reply_json(resp, merged);
        json_decref(merged);
        return r;
}

static int hmac(const struct rk_mds *m, const unsigned char uuid[16], const char *content,
                size_t len, unsigned char out[64])
{
        unsigned char *msg = malloc(16 + len + 1);
        if (!msg)
                return -ENOMEM;
        memcpy(msg, uuid, 16);
        memcpy(msg + 16, content, len);
        unsigned int olen = 0;
        unsigned char *r = HMAC(EVP_sha512(), m->key, sizeof(m->key), msg, 16 + len, out, &olen);
        free(msg);
        return r && olen == 64 ? 0 : -EIO;
}

static int do_sign(const struct rk_mds *m, const struct rk_mds_pod *p,
                   const struct rk_http_req *req, struct rk_mds_resp *resp)
{
        char *content = NULL;
        size_t clen = 0;
        int r = rk_http_form_get(req->body, req->body_len, "content", &content, &clen);
        if (r == -ENOMEM)
                return r;
        if (r <= 0)
                return status_only(resp, 400);
        unsigned char mac[64];
        char b64[4 * 64 / 3 + 4];
        r = hmac(m, p->uuid_raw, content, clen, mac);
        free(content);
        if (r < 0)
                return status_only(resp, 500);
        int n = EVP_EncodeBlock((unsigned char *)b64, mac, sizeof(mac));
        return reply(resp, 200, CT_TEXT, b64, (size_t)n);
}

static int do_verify(const struct rk_mds *m, const struct rk_http_req *req,
                     struct rk_mds_resp *resp)
{
        char *content = NULL, *uuid = NULL, *sig = NULL;
        size_t clen = 0, ulen = 0, slen = 0;
        unsigned char raw[16], mac[64], given[66];
        int r = rk_http_form_get(req->body, req->body_len, "content", &content, &clen);
        int r2 = rk_http_form_get(req->body, req->body_len, "uuid", &uuid, &ulen);
        int r3 = rk_http_form_get(req->body, req->body_len, "signature", &sig, &slen);
        int out;
        if (r == -ENOMEM || r2 == -ENOMEM || r3 == -ENOMEM)
                out = -ENOMEM;
        else if (r <= 0 || r2 <= 0 || r3 <= 0 || uuid_parse(uuid, ulen, raw) < 0 || slen != 88 ||
                 strspn(sig, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") !=
                     86 ||
                 strcmp(sig + 86, "==") != 0 ||
                 EVP_DecodeBlock(given, (const unsigned char *)sig, 88) != 66)
                out = status_only(resp, 400);
        else if (hmac(m, raw, content, clen, mac) < 0)
                out = status_only(resp, 500);
        else
                out = status_only(resp, CRYPTO_memcmp(mac, given, 64) == 0 ? 200 : 403);
        free(content);
        free(uuid);
        free(sig);
        return out;
}

static bool seg_is(const char *s, size_t len, const char *lit)
{
        return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

static const struct rk_mds_pod *find_token(const struct rk_mds *m, const char *t, size_t len)
{
        const struct rk_mds_pod *found = NULL;
        if (len != RK_MDS_TOKEN_HEX)
                return NULL;
        for (size_t i = 0; i < m->n_pods; i++)
                if (CRYPTO_memcmp(m->pods[i]->token, t, RK_MDS_TOKEN_HEX) == 0)
                        found = m->pods[i];
        return found;
}

int rk_mds_public(struct rk_mds *m, const struct rk_mds_pod *via, const struct rk_http_req *req,
                  struct rk_mds_resp *resp)
{
        memset(resp, 0, sizeof(*resp));
        bool get = seg_is(req->method, req->method_len, "GET");
        bool post = seg_is(req->method, req->method_len, "POST");
        if (!req->flavor)
                return status_only(resp, 400);
        /* /<token>/acMetadata/v1/<rest> */
        const char *t = req->target + 1, *end = req->target + req->target_len;
        const char *slash = memchr(t, '/', (size_t)(end - t));
        static const char pre[] = "/acMetadata/v1/";
        if (!slash || (size_t)(end - slash) <= strlen(pre) || memcmp(slash, pre, strlen(pre)))
                return status_only(resp, 404);
        const struct rk_mds_pod *p = find_token(m, t, (size_t)(slash - t));
        /* a contained pod's token works only through its own listener, a host pod's only on
         * the loopback one */
        if (!p || (via ? p != via : !p->host_net))
                return status_only(resp, 403);
        const char *rest = slash + strlen(pre);
        size_t rlen = (size_t)(end - rest);
        bool is_post_path =
            seg_is(rest, rlen, "pod/hmac/sign") || seg_is(rest, rlen, "pod/hmac/verify");
        if ((is_post_path && !post) || (!is_post_path && !get)) {
                /* a known GET path with another method: 405; otherwise routed below */
                if (!is_post_path && !get &&
                    (seg_is(rest, rlen, "pod/uuid") || seg_is(rest, rlen, "pod/manifest") ||
                     seg_is(rest, rlen, "pod/annotations")))
                        return status_only(resp, 405);
                if (is_post_path)
                        return status_only(resp, 405);
        }
        if (post && seg_is(rest, rlen, "pod/hmac/sign"))
                return do_sign(m, p, req, resp);
        if (post && seg_is(rest, rlen, "pod/hmac/verify"))
                return do_verify(m, req, resp);
        if (!get)
                return status_only(resp, 404);
        if (seg_is(rest, rlen, "pod/uuid"))
                return reply(resp, 200, CT_TEXT, p->uuid, strlen(p->uuid));
        if (seg_is(rest, rlen, "pod/manifest"))
                return reply_json(resp, p->manifest);
        if (seg_is(rest, rlen, "pod/annotations"))
                return reply_json(resp, json_object_get(p->manifest, "annotations"));
        if (rlen > 5 && !memcmp(rest, "apps/", 5)) {
                const char *n = rest + 5, *ns = memchr(n, '/', (size_t)(end - n));
                if (!ns)
                        return status_only(resp, 404);
                const struct rk_mds_app *a = NULL;
                const json_t *podapp = pod_app(p, n, (size_t)(ns - n), &a);
                const char *what = ns + 1;
                size_t wlen = (size_t)(end - what);
                if (!podapp)
                        return status_only(resp, 404);
                if (seg_is(what, wlen, "annotations"))
                        return app_annotations(a, podapp, resp);
                if (seg_is(what, wlen, "image/manifest"))
                        return reply_json(resp, a->image_manifest);
                if (seg_is(what, wlen, "image/id"))
                        return reply(resp, 200, CT_TEXT, a->image_id, strlen(a->image_id));
        }
        return status_only(resp, 404);
}

/* ---- registration ---- */

static bool image_id_valid(const char *s)
{
        return s && strlen(s) == 7 + 128 && !strncmp(s, "sha512-", 7) &&
               strspn(s + 7, "0123456789abcdef") == 128;
}

static bool app_name_valid(const char *s)
{
        size_t n = s ? strlen(s) : 0;
        return n > 0 && n <= 128 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n &&
               s[0] != '-' && s[n - 1] != '-';
}

static int new_pod(const char *uuid, const json_t *body, struct rk_mds_pod **ret)
{
        const char *token = json_string_value(json_object_get(body, "token"));
        const char *net = json_string_value(json_object_get(body, "net"));
        const json_t *man = json_object_get(body, "manifest");
        const json_t *images = json_object_get(body, "images");
        const json_t *apps = json_object_get(man, "apps");
        if (json_object_size(body) != 4 || !token || !rk_mds_token_valid(token) || !net ||
            (strcmp(net, "host") && strcmp(net, "none")) || !json_is_object(man) ||
            !json_is_object(images) || !json_is_array(apps) || json_array_size(apps) == 0 ||
            json_array_size(apps) > MAX_APPS)
                return -EINVAL;
        struct rk_mds_pod *p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->pidfd = p->listener = -1;
        memcpy(p->uuid, uuid, 36);
        (void)uuid_parse(uuid, 36, p->uuid_raw);
        memcpy(p->token, token, RK_MDS_TOKEN_HEX);
        p->host_net = !strcmp(net, "host");
        p->manifest = json_deep_copy(man);
        p->apps = calloc(json_array_size(apps), sizeof(*p->apps));
        int r = p->manifest && p->apps ? 0 : -ENOMEM;
        size_t i;
        const json_t *a;
        json_array_foreach (apps, i, a) {
                if (r < 0)
                        break;
                const char *name = json_string_value(json_object_get(a, "name"));
                const char *id =
                    json_string_value(json_object_get(json_object_get(a, "image"), "id"));
                const json_t *im = json_object_get(images, id ? id : "");
                if (!app_name_valid(name) || !image_id_valid(id) || !json_is_object(im)) {
                        r = -EINVAL;
                        break;
                }
                for (size_t k = 0; k < p->n_apps; k++)
                        if (!strcmp(p->apps[k].name, name))
                                r = -EINVAL;
                struct rk_mds_app *x = &p->apps[p->n_apps];
                if (r >= 0) {
                        x->name = strdup(name);
                        x->image_id = strdup(id);
                        x->image_manifest = json_deep_copy(im);
                        p->n_apps++;
                        if (!x->name || !x->image_id || !x->image_manifest)
                                r = -ENOMEM;
                }
        }
        if (r < 0) {
                rk_mds_pod_free(p);
                return r;
        }
        *ret = p;
        return 0;
}

int rk_mds_register(struct rk_mds *m, const struct rk_http_req *req, struct rk_mds_resp *resp)
{
        memset(resp, 0, sizeof(*resp));
        static const char pre[] = "/pods/";
        unsigned char raw[16];
        if (req->target_len != strlen(pre) + 36 || memcmp(req->target, pre, strlen(pre)) ||
            uuid_parse(req->target + strlen(pre), 36, raw) < 0)
                return status_only(resp, 404);
        char uuid[37];
        memcpy(uuid, req->target + strlen(pre), 36);
        uuid[36] = 0;
        struct rk_mds_pod *old = NULL;
        for (size_t i = 0; i < m->n_pods; i++)
                if (!strcmp(m->pods[i]->uuid, uuid))
                        old = m->pods[i];
        if (seg_is(req->method, req->method_len, "DELETE")) {
                if (old)
                        rk_mds_remove(m, old);
                return status_only(resp, 204);
        }
        if (!seg_is(req->method, req->method_len, "PUT"))
                return status_only(resp, 405);
        if (old)
                return status_only(resp, 409);
        if (m->n_pods >= RK_MDS_MAX_PODS)
                return status_only(resp, 503);
        json_t *body = NULL;
        rk_error err = RK_ERROR_INIT;
        if (rk_json_parse("registration", req->body, req->body_len, RK_MDS_MAX_REG_BODY, &body,
                          &err) < 0)
                return status_only(resp, 400);
        struct rk_mds_pod *p = NULL;
        int r = new_pod(uuid, body, &p);
        json_decref(body);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return status_only(resp, 400);
        if (find_token(m, p->token, RK_MDS_TOKEN_HEX)) { /* tokens name one pod */
                rk_mds_pod_free(p);
                return status_only(resp, 409);
        }
        struct rk_mds_pod **v = realloc(m->pods, (m->n_pods + 1) * sizeof(*v));
        if (!v) {
                rk_mds_pod_free(p);
                return -ENOMEM;
        }
        m->pods = v;
        m->pods[m->n_pods++] = p;
        resp->registered = p;
        char url[64];
        int n = snprintf(url, sizeof(url), "http://127.0.0.1:%u", m->port);
        return reply(resp, 201, CT_TEXT, url, (size_t)n);
}
