/* SPDX-License-Identifier: Apache-2.0 */
/* rkt metadata-service: the appc metadata service (src/lib/mds/mds.h, network.md §5). One
 * single-threaded poll loop:
 *   - the registration socket /run/rkt/metadata-svc.sock (0600, in a root-owned /run/rkt), for
 *     root peers only (SO_PEERCRED), which is how `rkt run --mds-register` registers a pod;
 *   - 127.0.0.1:PORT (never another address) for pods that share the host's network;
 *   - each registered pod's pidfd (the registering process: stage0, which execs stage1 and
 *     lives as long as the pod): when it exits, the pod is forgotten and its token stops
 *     working.
 * Every connection carries one request (size caps from http.h), has 5 seconds to send it and
 * is closed after the response. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "cli/cli.h"
#include "mds/mds.h"

#define MAX_CONNS       256
#define CONN_TIMEOUT_MS 5000

enum conn_kind { CONN_REG, CONN_PUBLIC };

struct conn {
        int fd;
        enum conn_kind kind;
        const struct rk_mds_pod *via; /* accepted on this pod's listener */
        pid_t peer;
        int passed_fd; /* a listener sent with SCM_RIGHTS (registration), or -1 */
        char *in;
        size_t in_len, in_cap;
        char *out;
        size_t out_len, out_off;
        int64_t deadline;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
        (void)sig;
        stop_requested = 1;
}

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void rk_help_metadata_service(void)
{
        printf("Usage: rkt metadata-service [--listen-port=PORT]\n"
               "\n"
               "Serve the appc metadata service to pods started with 'rkt run --mds-register'.\n"
               "Pods register through %s (root only); host-networked pods\n"
               "reach the service on 127.0.0.1:PORT (default %d) with a per-pod token of 256\n"
               "random bits, given to their apps as AC_METADATA_URL. A pod's token stops working\n"
               "when the pod exits.\n",
               RK_MDS_SOCKET, RK_MDS_PORT);
}

static int reg_socket(rk_error *err)
{
        /* /run/rkt: root's, writable by nobody else (created 0755 if missing) */
        if (mkdir("/run/rkt", 0755) < 0 && errno != EEXIST)
                return rk_err_errno(err, -errno, "cannot create /run/rkt");
        struct stat st;
        if (lstat("/run/rkt", &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
            (st.st_mode & 022))
                return rk_err(err, -EPERM,
                              "/run/rkt must be a directory owned by root and "
                              "writable by nobody else");
        if (lstat(RK_MDS_SOCKET, &st) == 0) {
                if (!S_ISSOCK(st.st_mode))
                        return rk_err(err, -EEXIST, "%s exists and is not a socket", RK_MDS_SOCKET);
                /* a live service still answers connect(): do not steal its socket */
                int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                struct sockaddr_un a = {.sun_family = AF_UNIX};
                strcpy(a.sun_path, RK_MDS_SOCKET);
                bool live = probe >= 0 && connect(probe, (struct sockaddr *)&a, sizeof(a)) == 0;
                if (probe >= 0)
                        close(probe);
                if (live)
                        return rk_err(err, -EADDRINUSE, "a metadata service already listens on %s",
                                      RK_MDS_SOCKET);
                (void)unlink(RK_MDS_SOCKET);
        }
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return rk_err_errno(err, -errno, "socket");
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        strcpy(a.sun_path, RK_MDS_SOCKET);
        mode_t old = umask(0177);
        int r = bind(fd, (struct sockaddr *)&a, sizeof(a));
        umask(old);
        if (r < 0 || chmod(RK_MDS_SOCKET, 0600) < 0 || listen(fd, 64) < 0) {
                r = rk_err_errno(err, -errno, "cannot listen on %s", RK_MDS_SOCKET);
                close(fd);
                return r;
        }
        return fd;
}

static int tcp_socket(unsigned port, rk_error *err)
{
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return rk_err_errno(err, -errno, "socket");
        int one = 1;
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 128) < 0) {
                int r = rk_err_errno(err, -errno, "cannot listen on 127.0.0.1:%u", port);
                close(fd);
                return r;
        }
        return fd;
}

static void conn_close(struct conn *c)
{
        if (c->passed_fd >= 0)
                close(c->passed_fd);
        close(c->fd);
        free(c->in);
        free(c->out);
        memset(c, 0, sizeof(*c));
        c->fd = c->passed_fd = -1;
}

static bool set_response(struct conn *c, int status, const char *ct, const char *body, size_t len)
{
        free(c->out);
        c->out = NULL;
        c->out_off = 0;
        return rk_http_response(status, ct, body, len, &c->out, &c->out_len) == 0;
}

/* PUT /pods/<uuid>/listener with a listening TCP socket bound to 127.0.0.1 (of the pod's own
 * network namespace) attached: stage1's init hands it over (isolators/mds.c). Accepted once,
 * for a registered contained pod. */
static bool attach_listener(struct rk_mds *m, struct conn *c, const struct rk_http_req *req)
{
        static const char pre[] = "/pods/", suf[] = "/listener";
        size_t n = strlen(pre) + 36 + strlen(suf);
        if (req->target_len != n || memcmp(req->target, pre, strlen(pre)) ||
            memcmp(req->target + strlen(pre) + 36, suf, strlen(suf)))
                return false;
        struct rk_mds_pod *p = NULL;
        for (size_t i = 0; i < m->n_pods; i++)
                if (!memcmp(m->pods[i]->uuid, req->target + strlen(pre), 36))
                        p = m->pods[i];
        int acc = 0, dom = 0;
        socklen_t l1 = sizeof(acc), l2 = sizeof(dom);
        struct sockaddr_in a;
        socklen_t al = sizeof(a);
        int status = 204;
        if (req->method_len != 3 || memcmp(req->method, "PUT", 3))
                status = 405;
        else if (!p)
                status = 404;
        else if (p->host_net || p->listener >= 0)
                status = 409;
        else if (c->passed_fd < 0 ||
                 getsockopt(c->passed_fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &l1) < 0 || !acc ||
                 getsockopt(c->passed_fd, SOL_SOCKET, SO_DOMAIN, &dom, &l2) < 0 || dom != AF_INET ||
                 getsockname(c->passed_fd, (struct sockaddr *)&a, &al) < 0 ||
                 a.sin_addr.s_addr != htonl(INADDR_LOOPBACK) || ntohs(a.sin_port) != m->port ||
                 fcntl(c->passed_fd, F_SETFL, O_NONBLOCK) < 0)
                status = 400;
        if (status == 204) {
                p->listener = c->passed_fd;
                c->passed_fd = -1;
                rk_log_info("pod %s: listener in its network namespace attached", p->uuid);
        }
        set_response(c, status, "text/plain; charset=us-ascii", "", 0);
        return true;
}

/* The registering peer must be root; the pod lives as long as that process. */
static void handle(struct rk_mds *m, struct conn *c, const struct rk_http_req *req)
{
        struct rk_mds_resp resp = {0};
        if (c->kind == CONN_REG && attach_listener(m, c, req))
                return;
        int r = c->kind == CONN_REG ? rk_mds_register(m, req, &resp)
                                    : rk_mds_public(m, c->via, req, &resp);
        if (r < 0) {
                set_response(c, 500, "text/plain; charset=us-ascii", "", 0);
                return;
        }
        if (resp.registered) {
                struct rk_mds_pod *p = resp.registered;
                p->pidfd = (int)syscall(SYS_pidfd_open, c->peer, 0);
                if (p->pidfd < 0) {
                        rk_log_warning("pod %s: cannot watch process %d: %s", p->uuid, (int)c->peer,
                                       strerror(errno));
                        rk_mds_remove(m, p);
                        rk_mds_resp_clear(&resp);
                        set_response(c, 500, "text/plain; charset=us-ascii", "", 0);
                        return;
                }
                rk_log_info("pod %s registered (%s network)", p->uuid,
                            p->host_net ? "host" : "contained");
        }
        set_response(c, resp.status, resp.content_type, resp.body, resp.body_len);
        rk_mds_resp_clear(&resp);
}

static void on_readable(struct rk_mds *m, struct conn *c)
{
        size_t cap = c->kind == CONN_REG ? RK_MDS_MAX_REG_BODY + RK_HTTP_MAX_HEAD
                                         : RK_MDS_MAX_BODY + RK_HTTP_MAX_HEAD;
        if (c->in_cap - c->in_len < 4096) {
                size_t ncap = c->in_cap ? c->in_cap * 2 : 8192;
                if (ncap > cap + 1)
                        ncap = cap + 1;
                char *n = ncap > c->in_cap ? realloc(c->in, ncap) : NULL;
                if (!n && ncap > c->in_cap) {
                        conn_close(c);
                        return;
                }
                if (n) {
                        c->in = n;
                        c->in_cap = ncap;
                }
        }
        ssize_t n = 0;
        if (c->in_cap > c->in_len && c->kind == CONN_REG) {
                /* registration: a listener may come along (SCM_RIGHTS); keep the first */
                union {
                        struct cmsghdr h;
                        char buf[CMSG_SPACE(4 * sizeof(int))];
                } cb;
                struct iovec iov = {.iov_base = c->in + c->in_len,
                                    .iov_len = c->in_cap - c->in_len};
                struct msghdr msg = {.msg_iov = &iov,
                                     .msg_iovlen = 1,
                                     .msg_control = cb.buf,
                                     .msg_controllen = sizeof(cb.buf)};
                n = recvmsg(c->fd, &msg, MSG_CMSG_CLOEXEC);
                for (struct cmsghdr *cm = n >= 0 ? CMSG_FIRSTHDR(&msg) : NULL; cm;
                     cm = CMSG_NXTHDR(&msg, cm)) {
                        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                                continue;
                        size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                        for (size_t i = 0; i < k; i++) {
                                int fd;
                                memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
                                if (c->passed_fd < 0)
                                        c->passed_fd = fd;
                                else
                                        close(fd);
                        }
                }
        } else if (c->in_cap > c->in_len)
                n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0) {
                conn_close(c);
                return;
        }
        c->in_len += (size_t)n;
        struct rk_http_req req;
        int r = rk_http_parse(c->in, c->in_len,
                              c->kind == CONN_REG ? RK_MDS_MAX_REG_BODY : RK_MDS_MAX_BODY, &req);
        if (r == 0 && c->in_len >= cap)
                r = -413;
        if (r < 0)
                set_response(c, -r, "text/plain; charset=us-ascii", "", 0);
        else if (r > 0)
                handle(m, c, &req);
        if (r != 0)
                shutdown(c->fd, SHUT_RD);
}

static void on_writable(struct conn *c)
{
        ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0) {
                conn_close(c);
                return;
        }
        c->out_off += (size_t)n;
        if (c->out_off == c->out_len)
                conn_close(c);
}

static void accept_one(int lfd, enum conn_kind kind, const struct rk_mds_pod *via,
                       struct conn *conns)
{
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
                return;
        struct conn *c = NULL;
        for (size_t i = 0; i < MAX_CONNS && !c; i++)
                if (conns[i].fd < 0)
                        c = &conns[i];
        if (!c) {
                close(fd);
                return;
        }
        c->fd = fd;
        c->passed_fd = -1;
        c->kind = kind;
        c->via = via;
        c->deadline = now_ms() + CONN_TIMEOUT_MS;
        if (kind == CONN_REG) {
                struct ucred cr;
                socklen_t len = sizeof(cr);
                if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || cr.uid != 0 ||
                    cr.pid <= 0) {
                        rk_log_warning("registration refused: peer uid %d is not root",
                                       len == sizeof(cr) ? (int)cr.uid : -1);
                        set_response(c, 403, "text/plain; charset=us-ascii", "", 0);
                        return;
                }
                c->peer = cr.pid;
        }
}

/* Connections that came through a pod's listener die with the pod. */
static void forget_pod(struct rk_mds *m, struct rk_mds_pod *p, struct conn *conns)
{
        for (size_t i = 0; i < MAX_CONNS; i++)
                if (conns[i].fd >= 0 && conns[i].via == p)
                        conn_close(&conns[i]);
        rk_log_info("pod %s exited: unregistered", p->uuid);
        rk_mds_remove(m, p);
}

static int serve(struct rk_mds *m, int regfd, int tcpfd)
{
        static struct conn conns[MAX_CONNS];
        for (size_t i = 0; i < MAX_CONNS; i++)
                conns[i].fd = conns[i].passed_fd = -1;
        struct pollfd *pfd = NULL;
        size_t cap = 0;
        while (!stop_requested) {
                size_t need = 2 + 2 * m->n_pods + MAX_CONNS;
                if (need > cap) {
                        struct pollfd *n = realloc(pfd, need * sizeof(*n));
                        if (!n)
                                return -ENOMEM;
                        pfd = n;
                        cap = need;
                }
                size_t k = 0;
                pfd[k++] = (struct pollfd){.fd = regfd, .events = POLLIN};
                pfd[k++] = (struct pollfd){.fd = tcpfd, .events = POLLIN};
                size_t pod_base = k;
                for (size_t i = 0; i < m->n_pods; i++) {
                        pfd[k++] = (struct pollfd){.fd = m->pods[i]->pidfd, .events = POLLIN};
                        pfd[k++] = (struct pollfd){.fd = m->pods[i]->listener, .events = POLLIN};
                }
                size_t conn_base = k;
                int64_t now = now_ms(), wait = -1;
                for (size_t i = 0; i < MAX_CONNS; i++) {
                        struct conn *c = &conns[i];
                        if (c->fd >= 0 && c->deadline <= now)
                                conn_close(c);
                        pfd[k++] = (struct pollfd){.fd = c->fd,
                                                   .events = c->fd < 0 ? 0
                                                             : c->out  ? POLLOUT
                                                                       : POLLIN};
                        if (c->fd >= 0 && (wait < 0 || c->deadline - now < wait))
                                wait = c->deadline - now;
                }
                int r = poll(pfd, k, (int)wait);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -errno;
                /* pods first: an exited pod's token must not be served by a later request */
                size_t npods = m->n_pods;
                struct rk_mds_pod **gone = calloc(npods + 1, sizeof(*gone));
                size_t n_gone = 0;
                for (size_t i = 0; gone && i < npods; i++) {
                        struct rk_mds_pod *p = m->pods[i];
                        if (pfd[pod_base + 2 * i].revents)
                                gone[n_gone++] = p;
                        else if (pfd[pod_base + 2 * i + 1].revents & POLLIN)
                                accept_one(p->listener, CONN_PUBLIC, p, conns);
                }
                for (size_t i = 0; i < n_gone; i++)
                        forget_pod(m, gone[i], conns);
                free(gone);
                for (size_t i = 0; i < MAX_CONNS; i++) {
                        struct conn *c = &conns[i];
                        short re = pfd[conn_base + i].revents;
                        if (c->fd < 0 || pfd[conn_base + i].fd != c->fd || !re)
                                continue;
                        if (c->out && (re & (POLLOUT | POLLERR | POLLHUP)))
                                on_writable(c);
                        else if (!c->out && (re & (POLLIN | POLLERR | POLLHUP)))
                                on_readable(m, c);
                }
                if (pfd[0].revents & POLLIN)
                        accept_one(regfd, CONN_REG, NULL, conns);
                if (pfd[1].revents & POLLIN)
                        accept_one(tcpfd, CONN_PUBLIC, NULL, conns);
        }
        free(pfd);
        return 0;
}

int rk_cmd_metadata_service(const struct rk_global *g, int argc, char **argv)
{
        (void)g;
        static const struct option opts[] = {{"listen-port", required_argument, NULL, 'p'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
        unsigned port = RK_MDS_PORT;
        int c;
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
                if (c == 'h') {
                        rk_help_metadata_service();
                        return RK_EXIT_OK;
                }
                if (c != 'p')
                        return rk_bad_option("metadata-service", c, argv[optind - 1]);
                char *end = NULL;
                errno = 0;
                unsigned long v = strtoul(optarg, &end, 10);
                if (errno || !*optarg || *end || optarg[0] < '0' || optarg[0] > '9' || v == 0 ||
                    v > 65535)
                        return rk_usage_error("metadata-service",
                                              "--listen-port %s: not a port number (1-65535)",
                                              optarg);
                port = (unsigned)v;
        }
        if (optind < argc)
                return rk_usage_error("metadata-service", "unexpected argument '%s'", argv[optind]);
        rk_error err = RK_ERROR_INIT;
        if (geteuid() != 0) {
                rk_err(&err, -EPERM, "metadata-service: must run as root");
                return rk_fail(&err);
        }
        struct rk_mds m;
        if (rk_mds_init(&m, port) < 0) {
                rk_err(&err, -EIO, "metadata-service: no random key");
                return rk_fail(&err);
        }
        int tcpfd = tcp_socket(port, &err);
        int regfd = tcpfd < 0 ? -1 : reg_socket(&err);
        if (tcpfd < 0 || regfd < 0) {
                if (tcpfd >= 0)
                        close(tcpfd);
                rk_mds_done(&m);
                return rk_fail(&err);
        }
        struct sigaction sa = {.sa_handler = on_signal};
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        rk_log_info("metadata service: registration on %s, pods on 127.0.0.1:%u", RK_MDS_SOCKET,
                    port);
        fprintf(stderr, "rkt: metadata service ready\n");
        int r = serve(&m, regfd, tcpfd);
        (void)unlink(RK_MDS_SOCKET);
        close(regfd);
        close(tcpfd);
        rk_mds_done(&m);
        if (r < 0) {
                rk_err_errno(&err, r, "metadata-service");
                return rk_fail(&err);
        }
        return RK_EXIT_OK;
}
