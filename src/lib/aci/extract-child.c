/* SPDX-License-Identifier: Apache-2.0 */
/* rk_aci_extract: the confining child (security.md §4.6 step 2).
 *
 * The archive parser (libarchive, zlib, liblzma, libbz2, libzstd) and our writer run in a
 * forked child that can do little harm if one of them is subverted: it holds only the ACI
 * fds, the destination and the result pipe; it cannot gain privilege (no_new_privs), be
 * ptraced or dump core, reach the network, or touch the file system outside the destination
 * (Landlock); its memory, CPU, file size and fd count are capped. The parent trusts nothing it
 * gets back beyond its framing: sizes are capped and the ID re-validated. */
#include <fcntl.h>
#include <inttypes.h>
#include <locale.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "aci/extract-internal.h"
#include "base/fileio.h"

#if defined(__SANITIZE_ADDRESS__)
#define RK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RK_ASAN 1
#endif
#endif

/* ---- Landlock, defined here so that old headers do not matter ---- */

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule       445
#define __NR_landlock_restrict_self  446
#endif

#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH      1
#define LL_FS_WRITE_FILE          (1ULL << 1)
#define LL_FS_READ_FILE           (1ULL << 2)
#define LL_FS_READ_DIR            (1ULL << 3)
#define LL_FS_MAKE_DIR            (1ULL << 7)
#define LL_FS_MAKE_REG            (1ULL << 8)
#define LL_FS_MAKE_SYM            (1ULL << 12)
#define LL_FS_ABI1                ((1ULL << 13) - 1) /* EXECUTE .. MAKE_SYM */
#define LL_FS_REFER               (1ULL << 13)       /* ABI 2 */
#define LL_FS_TRUNCATE            (1ULL << 14)       /* ABI 3 */
#define LL_FS_IOCTL_DEV           (1ULL << 15)       /* ABI 5 */
#define LL_NET_ALL                ((1ULL << 2) - 1)  /* ABI 4: BIND_TCP, CONNECT_TCP */
#define LL_SCOPE_ALL              ((1ULL << 2) - 1)  /* ABI 6: abstract unix, signal */

struct ll_ruleset_attr {
        uint64_t handled_access_fs;
        uint64_t handled_access_net;
        uint64_t scoped;
};

struct ll_path_beneath_attr {
        uint64_t allowed_access;
        int32_t parent_fd;
} __attribute__((packed));

/* Deny every file system access we can name except the few the writer needs beneath dest
 * (none at all in check-only mode). Without Landlock (old kernel, disabled LSM) we carry on:
 * the fd discipline in extract.c is the primary defence, this is the backstop. */
static int landlock_confine(int dest_fd, rk_error *err)
{
        long abi = syscall(__NR_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
        if (abi < 1)
                return 0;
        struct ll_ruleset_attr attr = {.handled_access_fs = LL_FS_ABI1};
        size_t size = sizeof(uint64_t);
        if (abi >= 2)
                attr.handled_access_fs |= LL_FS_REFER;
        if (abi >= 3)
                attr.handled_access_fs |= LL_FS_TRUNCATE;
        if (abi >= 5)
                attr.handled_access_fs |= LL_FS_IOCTL_DEV;
        if (abi >= 4) {
                attr.handled_access_net = LL_NET_ALL;
                size = 2 * sizeof(uint64_t);
        }
        if (abi >= 6) {
                attr.scoped = LL_SCOPE_ALL;
                size = 3 * sizeof(uint64_t);
        }
        _cleanup_close_ int rs = (int)syscall(__NR_landlock_create_ruleset, &attr, size, 0);
        if (rs < 0)
                return rk_err_errno(err, negative_errno(), "landlock: cannot create ruleset");
        if (dest_fd >= 0) {
                struct ll_path_beneath_attr pb = {
                    .allowed_access =
                        (LL_FS_READ_FILE | LL_FS_WRITE_FILE | LL_FS_READ_DIR | LL_FS_MAKE_DIR |
                         LL_FS_MAKE_REG | LL_FS_MAKE_SYM | LL_FS_REFER) &
                        attr.handled_access_fs,
                    .parent_fd = dest_fd,
                };
                if (syscall(__NR_landlock_add_rule, rs, LL_RULE_PATH_BENEATH, &pb, 0) < 0)
                        return rk_err_errno(err, negative_errno(),
                                            "landlock: cannot allow the destination");
        }
        if (syscall(__NR_landlock_restrict_self, rs, 0) < 0)
                return rk_err_errno(err, negative_errno(), "landlock: cannot restrict");
        return 0;
}

/* ---- the rest of the confinement ---- */

static int cmp_int(const void *a, const void *b)
{
        int x = *(const int *)a, y = *(const int *)b;
        return x < y ? -1 : x > y;
}

/* Close every fd but the ACI fds, dest, the pipe and stderr (sanitizer and abort reports);
 * 0 and 1 become /dev/null so nothing we open later lands on them. */
static int close_other_fds(const struct rk_aci_layer *layers, size_t n, int dest_fd, int wfd)
{
        int keep[RK_ACI_MAX_LAYERS + 4];
        size_t k = 0;

        for (size_t i = 0; i < n; i++)
                keep[k++] = layers[i].fd;
        if (dest_fd >= 0)
                keep[k++] = dest_fd;
        keep[k++] = wfd;
        keep[k++] = STDERR_FILENO;
        qsort(keep, k, sizeof(int), cmp_int);
        unsigned lo = 0;
        for (size_t i = 0; i < k; i++) {
                if (keep[i] < 0 || (unsigned)keep[i] < lo)
                        continue;
                if ((unsigned)keep[i] > lo && close_range(lo, (unsigned)keep[i] - 1, 0) < 0)
                        return negative_errno();
                lo = (unsigned)keep[i] + 1;
        }
        if (close_range(lo, ~0U, 0) < 0)
                return negative_errno();
        for (int fd = 0; fd <= 1; fd++) {
                if (fcntl(fd, F_GETFD) >= 0)
                        continue;
                int nfd = open("/dev/null", O_RDWR); /* lowest free number: fd */
                if (nfd >= 0 && nfd != fd)
                        (void)close(nfd);
        }
        return 0;
}

static int set_rlimit(int res, uint64_t cur, uint64_t max, const char *name, rk_error *err)
{
        struct rlimit rl = {
            .rlim_cur = cur >= RLIM_INFINITY ? RLIM_INFINITY : (rlim_t)cur,
            .rlim_max = max >= RLIM_INFINITY ? RLIM_INFINITY : (rlim_t)max,
        };
        if (setrlimit(res, &rl) < 0)
                return rk_err_errno(err, negative_errno(), "cannot set %s", name);
        return 0;
}

static int set_rlimits(const struct rk_aci_limits *l, rk_error *err)
{
        /* a file (or the manifest) may reach its cap, never pass it; SIGXFSZ is ignored so the
         * write fails with EFBIG and the message names the entry */
        uint64_t fsize =
            l->max_file_bytes > l->max_manifest_bytes ? l->max_file_bytes : l->max_manifest_bytes;
        /* the fallback path walker holds one fd per component */
        uint64_t nofile = (l->max_depth < 256 ? l->max_depth : 256) + 64;
        int r = set_rlimit(RLIMIT_FSIZE, fsize, fsize, "RLIMIT_FSIZE", err);
        if (r >= 0)
                r = set_rlimit(RLIMIT_NOFILE, nofile, nofile, "RLIMIT_NOFILE", err);
        if (r >= 0)
                r = set_rlimit(RLIMIT_CORE, 0, 0, "RLIMIT_CORE", err);
        if (r >= 0 && l->max_cpu_seconds > 0)
                r = set_rlimit(RLIMIT_CPU, l->max_cpu_seconds, l->max_cpu_seconds + 5, "RLIMIT_CPU",
                               err);
#ifndef RK_ASAN
        /* decompressor windows, libarchive buffers and our path tree are all bounded by this;
         * ASan reserves terabytes of shadow memory, so not under ASan */
        if (r >= 0 && l->max_memory_bytes > 0)
                r = set_rlimit(RLIMIT_AS, l->max_memory_bytes, l->max_memory_bytes, "RLIMIT_AS",
                               err);
#endif
        return r;
}

static int confine(const struct rk_aci_layer *layers, size_t n, const struct rk_aci_opts *opts,
                   const struct rk_aci_limits *l, int wfd, rk_error *err)
{
        char hex[RK_SHA512_HEX_LEN + 1];

        (void)signal(SIGXFSZ, SIG_IGN);
        int r = close_other_fds(layers, n, opts->dest_fd, wfd);
        if (r < 0)
                return rk_err_errno(err, r, "cannot close inherited fds");
        /* Warm up what reads files on first use (OpenSSL's config and providers) while we
         * still may. */
        r = rk_sha512_buf_hex("", 0, hex, err);
        if (r < 0)
                return r;
        /* No network: nothing in here has a reason to talk to anyone. Unprivileged callers
         * cannot do this without a user namespace; Landlock (ABI 4+) covers TCP for them. */
        (void)unshare(CLONE_NEWNET);
        /* no setuid gain, no ptrace/core of a process holding image data */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return rk_err_errno(err, negative_errno(), "prctl");
        r = set_rlimits(l, err);
        if (r >= 0)
                r = landlock_confine(opts->dest_fd, err);
        return r;
}

/* ---- results over the pipe ---- */

#define WIRE_MAGIC 0x52414349u /* "RACI" */

struct wire_head {
        uint32_t magic;
        int32_t code;
        uint32_t n;
        char msg[sizeof(((rk_error *)0)->msg)];
};

struct wire_layer {
        char id[RK_IMAGE_ID_LEN + 1];
        struct rk_aci_stats stats;
        uint64_t manifest_len;
};

static void send_results(int wfd, int r, const rk_error *err, const struct rk_aci_result *res,
                         size_t n)
{
        struct wire_head h = {.magic = WIRE_MAGIC, .code = r < 0 ? r : 0, .n = (uint32_t)n};
        if (r < 0)
                memcpy(h.msg, err->msg, sizeof(h.msg));
        if (rk_write_all(wfd, &h, sizeof(h)) < 0 || r < 0)
                return;
        for (size_t i = 0; i < n; i++) {
                struct wire_layer w = {.stats = res[i].stats, .manifest_len = res[i].manifest_len};
                memcpy(w.id, res[i].id, sizeof(w.id));
                if (rk_write_all(wfd, &w, sizeof(w)) < 0 ||
                    rk_write_all(wfd, res[i].manifest, res[i].manifest_len) < 0)
                        return;
        }
}

static _noreturn_ void child_main(const struct rk_aci_layer *layers, size_t n,
                                  const struct rk_aci_opts *opts, const struct rk_aci_limits *l,
                                  pid_t parent, int wfd)
{
        rk_error err = RK_ERROR_INIT;
        struct rk_aci_result res[RK_ACI_MAX_LAYERS] = {0};

        /* die with the parent: nobody else would read our result */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent)
                _exit(2);
        int r = confine(layers, n, opts, l, wfd, &err);
        if (r >= 0)
                r = rk_aci_extract_in_process(layers, n, opts, l, res, &err);
        send_results(wfd, r, &err, res, n);
        _exit(r < 0 ? 1 : 0);
}

static bool id_valid(const char *id)
{
        if (strncmp(id, "sha512-", 7) != 0 || strlen(id) != RK_IMAGE_ID_LEN)
                return false;
        for (const char *p = id + 7; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
        return true;
}

/* Parse what the child sent; results filled only if everything checks out. */
static int decode(const char *buf, size_t len, size_t n, const struct rk_aci_limits *l,
                  const char *what, struct rk_aci_result *results, rk_error *err)
{
        struct wire_head h;
        struct rk_aci_result tmp[RK_ACI_MAX_LAYERS] = {0};
        size_t off = sizeof(h);
        int r = 0;

        if (len < sizeof(h))
                return rk_err(err, -EPROTO, "'%s': extractor exited without a result", what);
        memcpy(&h, buf, sizeof(h));
        if (h.magic != WIRE_MAGIC || h.n != n)
                return rk_err(err, -EPROTO, "'%s': extractor sent a malformed result", what);
        if (h.code < 0) {
                h.msg[sizeof(h.msg) - 1] = 0;
                return rk_err(err, h.code >= -4095 ? h.code : -EIO, "%s", h.msg);
        }
        for (size_t i = 0; r >= 0 && i < n; i++) {
                struct wire_layer w;
                if (len - off < sizeof(w)) {
                        r = -EPROTO;
                        break;
                }
                memcpy(&w, buf + off, sizeof(w));
                off += sizeof(w);
                w.id[RK_IMAGE_ID_LEN] = 0;
                if (!id_valid(w.id) || w.manifest_len > l->max_manifest_bytes ||
                    len - off < w.manifest_len) {
                        r = -EPROTO;
                        break;
                }
                memcpy(tmp[i].id, w.id, sizeof(w.id));
                tmp[i].stats = w.stats;
                tmp[i].manifest_len = (size_t)w.manifest_len;
                tmp[i].manifest = malloc(tmp[i].manifest_len + 1);
                if (!tmp[i].manifest) {
                        r = -ENOMEM;
                        break;
                }
                memcpy(tmp[i].manifest, buf + off, tmp[i].manifest_len);
                tmp[i].manifest[tmp[i].manifest_len] = 0;
                off += tmp[i].manifest_len;
        }
        if (r >= 0 && off != len)
                r = -EPROTO;
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        rk_aci_result_clear(&tmp[i]);
                return rk_err(err, r, "'%s': extractor sent a malformed result", what);
        }
        memcpy(results, tmp, n * sizeof(*tmp));
        return 0;
}

static int wait_child(pid_t pid, const char *what, rk_error *err)
{
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return rk_err_errno(err, negative_errno(), "'%s': waitpid", what);
        if (WIFSIGNALED(status)) {
                int sig = WTERMSIG(status);
                const char *abbrev = sigabbrev_np(sig);
                return rk_err(err, -ECHILD, "'%s': extractor killed by signal %d (SIG%s)%s", what,
                              sig, abbrev ? abbrev : "?",
                              sig == SIGKILL   ? ": out of memory, or killed"
                              : sig == SIGXCPU ? ": CPU time limit reached"
                                               : "");
        }
        return WEXITSTATUS(status);
}

static int run_child(const struct rk_aci_layer *layers, size_t n, const struct rk_aci_opts *opts,
                     const struct rk_aci_limits *l, struct rk_aci_result *results, rk_error *err)
{
        const char *what = layers[0].what ? layers[0].what : "image";
        int p[2];

        if (pipe2(p, O_CLOEXEC) < 0)
                return rk_err_errno(err, negative_errno(), "'%s': pipe", what);
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0) {
                int r = negative_errno();
                (void)close(p[0]);
                (void)close(p[1]);
                return rk_err_errno(err, r, "'%s': fork", what);
        }
        if (pid == 0) {
                (void)close(p[0]);
                child_main(layers, n, opts, l, parent, p[1]);
        }
        (void)close(p[1]);
        /* what an honest child can send; more and it is killed */
        size_t max =
            sizeof(struct wire_head) + n * (sizeof(struct wire_layer) + l->max_manifest_bytes);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        rk_error rerr = RK_ERROR_INIT;
        int rr = rk_read_fd_capped(p[0], "extractor result", max, &buf, &len, &rerr);
        (void)close(p[0]);
        if (rr < 0)
                (void)kill(pid, SIGKILL);
        int st = wait_child(pid, what, err);
        if (st < 0)
                return st;
        if (rr < 0)
                return rk_err(err, rr, "'%s': %s", what, rerr.msg);
        int r = decode(buf, len, n, l, what, results, err);
        if (r >= 0 && st != 0) {
                for (size_t i = 0; i < n; i++)
                        rk_aci_result_clear(&results[i]);
                return rk_err(err, -EPROTO, "'%s': extractor exited with status %d", what, st);
        }
        return r;
}

int rk_aci_extract(const struct rk_aci_layer *layers, size_t n, const struct rk_aci_opts *opts,
                   struct rk_aci_result *results, rk_error *err)
{
        struct rk_aci_limits def;

        if (!layers || !opts || !results || n == 0 || n > RK_ACI_MAX_LAYERS)
                return rk_err(err, -EINVAL, "extract: between 1 and %d layers needed",
                              RK_ACI_MAX_LAYERS);
        for (size_t i = 0; i < n; i++)
                if (layers[i].fd < 0)
                        return rk_err(err, -EBADF, "extract: layer %zu has no fd", i);
        const struct rk_aci_limits *l = opts->limits;
        if (!l) {
                rk_aci_limits_init(&def);
                l = &def;
        }
        if (opts->in_process)
                return rk_aci_extract_in_process(layers, n, opts, l, results, err);
        return run_child(layers, n, opts, l, results, err);
}
