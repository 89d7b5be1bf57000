/* SPDX-License-Identifier: Apache-2.0 */
/* rkt run --mds-register (client.h). */
#include "mds/client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/json.h"
#include "base/macro.h"
#include "mds/mds.h"

#define RESP_MAX (64 * 1024)

static int new_token(char out[RK_MDS_TOKEN_HEX + 1], rk_error *err)
{
        unsigned char b[RK_MDS_TOKEN_BYTES];
        if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
                return rk_err_errno(err, -errno, "--mds-register: no random token");
        for (size_t i = 0; i < sizeof(b); i++)
                snprintf(out + 2 * i, 3, "%02x", b[i]);
        explicit_bzero(b, sizeof(b));
        return 0;
}

static int body_json(struct rk_pod *pod, struct rk_store *s, const char *net, const char *token,
                     char **ret, size_t *ret_len, rk_error *err)
{
        _cleanup_free_ char *raw = NULL;
        size_t len = 0;
        _cleanup_json_ json_t *man = NULL;
        int r = rk_read_file_at(pod->fd, "pod", RK_MANIFEST_MAX, &raw, &len, err);
        if (r >= 0)
                r = rk_json_parse("pod manifest", raw, len, RK_MANIFEST_MAX, &man, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *images = json_object();
        size_t i;
        json_t *a;
        json_array_foreach (json_object_get(man, "apps"), i, a) {
                const char *id =
                    json_string_value(json_object_get(json_object_get(a, "image"), "id"));
                _cleanup_free_ char *im = NULL;
                size_t imlen = 0;
                json_t *imj = NULL;
                if (!id)
                        return rk_err(err, -EINVAL, "pod manifest: an app without image id");
                r = rk_store_manifest(s, id, &im, &imlen, NULL, err);
                if (r >= 0)
                        r = rk_json_parse("image manifest", im, imlen, RK_MANIFEST_MAX, &imj, err);
                if (r < 0)
                        return r;
                if (json_object_set_new(images, id, imj) < 0)
                        return rk_err(err, -ENOMEM, "out of memory");
        }
        _cleanup_json_ json_t *body = json_pack("{s:s, s:s, s:O, s:O}", "token", token, "net", net,
                                                "manifest", man, "images", images);
        if (!body)
                return rk_err(err, -ENOMEM, "out of memory");
        return rk_json_dump(body, ret, ret_len, err);
}

static int connect_service(rk_error *err)
{
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        strcpy(a.sun_path, RK_MDS_SOCKET);
        for (int tries = 0;; tries++) {
                int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0)
                        return rk_err_errno(err, -errno, "--mds-register: socket");
                if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
                        return fd;
                int e = -errno;
                close(fd);
                if (tries == 2)
                        return rk_err_errno(err, e,
                                            "--mds-register: could not reach the metadata service "
                                            "at %s (is 'rkt metadata-service' running?)",
                                            RK_MDS_SOCKET);
                nanosleep(&(struct timespec){0, 300 * 1000 * 1000}, NULL);
        }
}

/* Send one request, return the status and the body (malloc'd, NUL-terminated). */
static int request(const char *head, const char *body, size_t blen, int *status, char **ret,
                   rk_error *err)
{
        _cleanup_close_ int fd = connect_service(err);
        if (fd < 0)
                return fd;
        struct timeval tv = {10, 0};
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (rk_write_all(fd, head, strlen(head)) < 0 || (blen && rk_write_all(fd, body, blen) < 0))
                return rk_err_errno(err, -errno, "--mds-register: cannot send the registration");
        _cleanup_free_ char *resp = NULL;
        size_t len = 0;
        int r = rk_read_fd_capped(fd, "metadata service response", RESP_MAX, &resp, &len, err);
        if (r < 0)
                return r;
        int st = 0;
        char *sep = strstr(resp, "\r\n\r\n");
        if (sscanf(resp, "HTTP/1.1 %3d ", &st) != 1 || !sep)
                return rk_err(err, -EPROTO, "--mds-register: malformed response from the service");
        *status = st;
        *ret = strdup(sep + 4);
        return *ret ? 0 : rk_err(err, -ENOMEM, "out of memory");
}

/* "NAME=..." replaced or appended in every app's env of plan.json; a contained pod (port
 * non-zero) also gets "mds": {"port": port}, for stage1 to make its listener. */
static int plan_add_env(struct rk_pod *pod, const char *entry, unsigned port, rk_error *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        _cleanup_json_ json_t *plan = NULL;
        int r = rk_read_file_at(pod->fd, "plan.json", RK_MANIFEST_MAX, &buf, &len, err);
        if (r >= 0)
                r = rk_json_parse("plan.json", buf, len, RK_MANIFEST_MAX, &plan, err);
        if (r < 0)
                return r;
        size_t nlen = (size_t)(strchr(entry, '=') - entry) + 1, i, k;
        json_t *a, *e;
        json_array_foreach (json_object_get(plan, "apps"), i, a) {
                json_t *env = json_object_get(a, "env");
                bool done = false;
                json_array_foreach (env, k, e) {
                        const char *s = json_string_value(e);
                        if (s && !strncmp(s, entry, nlen)) {
                                json_array_set_new(env, k, json_string(entry));
                                done = true;
                        }
                }
                if (!done && json_array_append_new(env, json_string(entry)) < 0)
                        return rk_err(err, -ENOMEM, "out of memory");
        }
        if (port && json_object_set_new(plan, "mds", json_pack("{s:i}", "port", (int)port)) < 0)
                return rk_err(err, -ENOMEM, "out of memory");
        _cleanup_free_ char *out = NULL;
        size_t olen = 0;
        r = rk_json_dump(plan, &out, &olen, err);
        return r < 0 ? r : rk_write_file_atomic_at(pod->fd, "plan.json", out, olen, 0600, err);
}

int rk_mds_register_pod(struct rk_pod *pod, struct rk_store *s, const char *net, rk_error *err)
{
        char token[RK_MDS_TOKEN_HEX + 1];
        int r = new_token(token, err);
        _cleanup_free_ char *body = NULL, *resp = NULL;
        size_t blen = 0;
        bool host = !strcmp(net, "host");
        if (r >= 0)
                r = body_json(pod, s, host ? "host" : "none", token, &body, &blen, err);
        if (r < 0)
                return r;
        char head[256];
        snprintf(head, sizeof(head),
                 "PUT /pods/%s HTTP/1.1\r\nHost: rkt\r\nContent-Type: application/json\r\n"
                 "Content-Length: %zu\r\n\r\n",
                 pod->uuid, blen);
        int status = 0;
        r = request(head, body, blen, &status, &resp, err);
        explicit_bzero(body, blen);
        if (r < 0)
                return r;
        /* the base URL: http://127.0.0.1:<port>, nothing else is accepted */
        const char *pre = "http://127.0.0.1:";
        size_t np = strlen(pre),
               digits = strspn(resp + (strlen(resp) >= np ? np : 0), "0123456789");
        if (status != 201 || strncmp(resp, pre, np) != 0 || digits == 0 || digits > 5 ||
            resp[np + digits] != 0)
                return rk_err(err, -EPROTO,
                              "--mds-register: the metadata service refused the pod "
                              "(HTTP %d)",
                              status);
        char entry[128];
        snprintf(entry, sizeof(entry), "AC_METADATA_URL=%s/%s", resp, token);
        r = plan_add_env(pod, entry, host ? 0 : (unsigned)atoi(resp + np), err);
        explicit_bzero(entry, sizeof(entry));
        explicit_bzero(token, sizeof(token));
        return r;
}
