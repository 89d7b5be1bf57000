/* SPDX-License-Identifier: Apache-2.0 */
/* The metadata service for a pod with its own network namespace (plan key "mds", PLAN.md):
 * init, inside the new namespace and before any app may run, binds a TCP listener to the
 * pod's own 127.0.0.1:<port> and hands it to the service over the root-only registration
 * socket (SCM_RIGHTS). The service accepts on it from the host's namespace and serves only
 * this pod's token there. Nothing listens on any host address, and a token leaked to another
 * pod is useless through that pod's listener. */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "stage1/stage1.h"

#define MDS_SOCKET "/run/rkt/metadata-svc.sock" /* src/lib/mds/mds.h's RK_MDS_SOCKET */

static int listener(unsigned port, rk_error *err)
{
        _cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 64) < 0)
                return rk_err_errno(err, negative_errno(),
                                    "metadata service: cannot listen on the pod's 127.0.0.1:%u",
                                    port);
        return TAKE_FD(fd);
}

int s1_mds_attach(const struct s1_plan *plan, rk_error *err)
{
        if (!plan->mds_port)
                return 0;
        _cleanup_close_ int l = listener(plan->mds_port, err);
        if (l < 0)
                return l;
        _cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        strcpy(a.sun_path, MDS_SOCKET);
        if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
                return rk_err_errno(err, negative_errno(), "metadata service: cannot reach %s",
                                    MDS_SOCKET);
        struct timeval tv = {5, 0};
        (void)setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        char req[128];
        int n = snprintf(req, sizeof(req),
                         "PUT /pods/%s/listener HTTP/1.1\r\nContent-Length: 0\r\n\r\n", plan->uuid);
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } c = {0};
        struct iovec iov = {.iov_base = req, .iov_len = (size_t)n};
        struct msghdr msg = {.msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = c.buf,
                             .msg_controllen = sizeof(c.buf)};
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &l, sizeof(int));
        if (sendmsg(s, &msg, MSG_NOSIGNAL) != n)
                return rk_err_errno(err, negative_errno(),
                                    "metadata service: cannot hand over the listener");
        char resp[256];
        size_t got = 0;
        ssize_t k;
        while (got < sizeof(resp) - 1 && (k = read(s, resp + got, sizeof(resp) - 1 - got)) > 0)
                got += (size_t)k;
        resp[got] = 0;
        if (strncmp(resp, "HTTP/1.1 204 ", 13) != 0)
                return rk_err(err, -EPROTO,
                              "metadata service: the pod's listener was refused (%.40s)", resp);
        return 0;
}
