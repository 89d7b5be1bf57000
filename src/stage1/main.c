/* SPDX-License-Identifier: Apache-2.0 */
/* rkt-stage1: applies the plan stage0 wrote into a pod directory (src/stage1/PLAN.md).
 *
 *   rkt-stage1 run --pod-dir=DIR [--debug]     (RKT_LOCK_FD=N: the pod dir, locked)
 *   rkt-stage1 gc  --pod-dir=DIR [--debug]
 *   rkt-stage1 enter --pod-dir=DIR --app=NAME [--debug] [-- CMD [ARGS...]]
 *   rkt-stage1 stop  --pod-dir=DIR [--force] [--timeout=SECONDS]
 *
 * run exits with the pod's status (the first non-zero app status in app order, 128+N for a
 * signal, 126/127 for exec failures, 125 when stage1 itself fails). gc exits 0 or 1. */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "base/log.h"
#include "stage1/stage1.h"

static int usage(void)
{
        fprintf(stderr, "usage: rkt-stage1 run|gc --pod-dir=DIR [--audit-dir=DIR] [--debug]\n"
                        "       rkt-stage1 enter --pod-dir=DIR --app=NAME [--debug] [-- CMD...]\n"
                        "       rkt-stage1 stop --pod-dir=DIR [--force] [--timeout=SECONDS]\n");
        return S1_EXIT_RUNTIME;
}

/* fds 0-2 must exist, or the first files we open would become the app's stdio. */
static void ensure_stdio(void)
{
        for (int fd = 0; fd < 3; fd++)
                if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
                        _exit(S1_EXIT_RUNTIME);
}

/* RKT_LOCK_FD must be the pod directory and really locked: a fresh open of the directory may
 * not get the lock. It stays open for the pod's life (rkt status: "running"). */
static int take_lock_fd(struct s1_pod *pod, rk_error *err)
{
        const char *s = getenv("RKT_LOCK_FD");
        char *end = NULL;
        long fd = s ? strtol(s, &end, 10) : -1;
        if (!s || !*s || *end || fd < 3 || fd > 1 << 20)
                return rk_err(err, -EBADF, "RKT_LOCK_FD is not set to an fd: stage1 is run by rkt");
        struct stat a, b;
        if (fstat((int)fd, &a) < 0 || fstat(pod->pod_fd, &b) < 0 || a.st_dev != b.st_dev ||
            a.st_ino != b.st_ino)
                return rk_err(err, -EBADF, "RKT_LOCK_FD %ld is not the pod directory", fd);
        _cleanup_close_ int probe = openat(pod->pod_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (probe < 0 || flock(probe, LOCK_EX | LOCK_NB) == 0 || errno != EWOULDBLOCK)
                return rk_err(err, -ENOLCK, "the pod directory '%s' is not locked", pod->path);
        if (fcntl((int)fd, F_SETFD, 0) < 0)
                return rk_err_errno(err, negative_errno(), "RKT_LOCK_FD");
        pod->lock_fd = (int)fd;
        (void)unsetenv("RKT_LOCK_FD");
        return 0;
}

static int mkdir_open(int dir, const char *name, mode_t mode, rk_error *err)
{
        if (mkdirat(dir, name, mode) < 0 && errno != EEXIST)
                return rk_err_errno(err, negative_errno(), "cannot create %s", name);
        int fd = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "cannot open %s", name);
        return fd;
}

/* overlay/<app>/{upper,work} and rootfs/<app> for each app. */
static int make_app_dirs(const struct s1_pod *pod, const struct s1_app *app, rk_error *err)
{
        _cleanup_close_ int ov = mkdir_open(pod->pod_fd, "overlay", 0700, err);
        _cleanup_close_ int rootfs = ov < 0 ? ov : mkdir_open(pod->pod_fd, "rootfs", 0700, err);
        _cleanup_close_ int a = rootfs < 0 ? rootfs : mkdir_open(ov, app->name, 0700, err);
        _cleanup_close_ int m = a < 0 ? a : mkdir_open(rootfs, app->name, 0755, err);
        if (m < 0)
                return m;
        if (pod->plan->no_overlay)
                return 0;
        _cleanup_close_ int u = mkdir_open(a, "upper", 0755, err);
        _cleanup_close_ int w = u < 0 ? u : mkdir_open(a, "work", 0700, err);
        return w < 0 ? w : 0;
}

static int prepare_pod_dir(struct s1_pod *pod, rk_error *err)
{
        pod->status_fd = mkdir_open(pod->pod_fd, "status", 0755, err);
        if (pod->status_fd < 0)
                return pod->status_fd;
        pod->started_fd = mkdir_open(pod->pod_fd, "started", 0755, err);
        if (pod->started_fd < 0)
                return pod->started_fd;
        if (pod->plan->detached) {
                pod->log_fd = mkdir_open(pod->pod_fd, "log", 0750, err);
                if (pod->log_fd < 0)
                        return pod->log_fd;
        }
        _cleanup_close_ int pids = mkdir_open(pod->pod_fd, "pids", 0755, err);
        if (pids < 0)
                return pids;
        pod->mounts_fd = openat(pod->pod_fd, "mounts",
                                O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (pod->mounts_fd < 0)
                return rk_err_errno(err, negative_errno(), "cannot open the pod's mounts file");
        for (size_t i = 0; i < pod->plan->n_apps; i++) {
                int r = make_app_dirs(pod, &pod->plan->apps[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* pids/init first (what stop and enter verify the pid file against), then pid. init is our
 * unreaped child: its PID cannot change hands while we read its start time. */
static int write_pid(const struct s1_pod *pod, pid_t pid, rk_error *err)
{
        char buf[16], which[16];
        pid_t p = 0;
        uint64_t start = 0;
        snprintf(which, sizeof(which), "%d", (int)pid);
        int r = s1_proc_stat(which, &p, &start, err);
        if (r >= 0)
                r = s1_pids_write(pod->pod_fd, "init", pid, start, err);
        if (r < 0)
                return r;
        int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
        _cleanup_close_ int fd = openat(
            pod->pod_fd, ".pid.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, buf, (size_t)n) != n ||
            renameat(pod->pod_fd, ".pid.tmp", pod->pod_fd, "pid") < 0)
                return rk_err_errno(err, negative_errno(), "cannot write the pod's pid file");
        return 0;
}

/* Wait for init, passing on the signals that stop a pod. */
static int wait_init(const struct s1_pod *pod, pid_t init, const sigset_t *set)
{
        for (;;) {
                siginfo_t si;
                int st, sig = sigwaitinfo(set, &si);
                if (sig == SIGCHLD) {
                        if (waitpid(init, &st, WNOHANG) == init)
                                return s1_exit_code(st);
                } else if (sig > 0 && s1_forward_signal(pod, &si)) {
                        (void)kill(init, sig);
                }
        }
}

static int start_pod(const struct s1_pod *pod, rk_error *err)
{
        sigset_t set;
        s1_pod_sigset(&set);
        int sync[2], up[2] = {-EBADF, -EBADF}, down[2] = {-EBADF, -EBADF};
        bool cni = pod->plan->net == S1_NET_CNI;
        if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 || pipe2(sync, O_CLOEXEC) < 0 ||
            (cni && (pipe2(up, O_CLOEXEC) < 0 || pipe2(down, O_CLOEXEC) < 0)))
                return rk_err_errno(err, negative_errno(), "cannot start the pod");
        /* Our child is PID 1 of the pod; we stay in the host's PID namespace to wait on it,
         * and go back to it for any later child (once init is gone, fork would fail). */
        _cleanup_close_ int host_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
        if (host_pidns < 0 || unshare(CLONE_NEWPID) < 0)
                return rk_err_errno(err, negative_errno(), "cannot create the pod's PID namespace");
        pid_t pid = s1_cgroup_fork_init(pod);
        if (pid < 0)
                return rk_err_errno(err, negative_errno(), "fork");
        if (pid == 0) {
                struct s1_pod ip = *pod;
                (void)close(sync[1]);
                (void)close(host_pidns);
                safe_close(up[0]);
                safe_close(down[1]);
                ip.cni_up_fd = up[1];
                ip.cni_down_fd = down[0];
                s1_init_main(&ip, sync[0]);
        }
        (void)close(sync[0]);
        safe_close(up[1]);
        safe_close(down[0]);
        (void)setns(host_pidns, CLONE_NEWPID);
        int r = write_pid(pod, pid, err);
        if (r < 0 || write(sync[1], "g", 1) != 1) {
                (void)kill(pid, SIGKILL);
                (void)waitpid(pid, NULL, 0);
                return r < 0 ? r : rk_err_errno(err, negative_errno(), "cannot start init");
        }
        (void)close(sync[1]);
        if (cni) {
                /* init made the pod's network namespace: attach the networks from here, the
                 * host's namespaces (isolators/cni.c) */
                char c = 0;
                ssize_t n;
                while ((n = read(up[0], &c, 1)) < 0 && errno == EINTR)
                        ;
                safe_close(up[0]);
                rk_error e = RK_ERROR_INIT;
                bool ok = n == 1 && s1_cni_attach(pod, pid, &e) >= 0;
                if (n == 1 && !ok)
                        rk_log_error("%s", e.msg);
                if (write(down[1], ok ? "y" : "n", 1) != 1)
                        rk_logf(RK_LOG_ERROR, 0, "cannot signal init: %m");
                safe_close(down[1]);
        }
        int st = wait_init(pod, pid, &set);
        if (cni) {
                rk_error e = RK_ERROR_INIT;
                (void)s1_cni_teardown(pod->pod_fd, &e); /* logged there */
        }
        return st;
}

static void pod_close(struct s1_pod *pod)
{
        pod->pod_fd = safe_close(pod->pod_fd);
        pod->status_fd = safe_close(pod->status_fd);
        pod->started_fd = safe_close(pod->started_fd);
        pod->log_fd = safe_close(pod->log_fd);
        pod->mounts_fd = safe_close(pod->mounts_fd);
        s1_cgroup_close(pod);
        free(pod->cg);
        pod->cg = NULL;
}

static int cmd_run(char **argv, struct s1_pod *pod)
{
        rk_error err = RK_ERROR_INIT;
        _cleanup_(s1_plan_freep) struct s1_plan *plan = NULL;
        int r = s1_ensure_cloned(argv, &err);
        /* Nothing may ptrace, or read the memory and fds of, the processes that build the
         * pod (CVE-2016-9962 class); the flag survives fork, so init and setup inherit it. */
        if (r >= 0 && prctl(PR_SET_DUMPABLE, 0) < 0)
                r = rk_err_errno(&err, negative_errno(), "PR_SET_DUMPABLE");
        umask(0);
        pod->pod_fd = open(pod->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (r >= 0 && pod->pod_fd < 0)
                r = rk_err_errno(&err, negative_errno(), "cannot open the pod directory '%s'",
                                 pod->path);
        /* Hold no directory of the caller's: the pod's processes inherit our cwd. */
        if (r >= 0 && chdir("/") < 0)
                r = rk_err_errno(&err, negative_errno(), "chdir /");
        if (r >= 0)
                r = take_lock_fd(pod, &err);
        if (r >= 0)
                r = s1_plan_load(pod->pod_fd, &plan, &err);
        pod->plan = plan;
        if (r >= 0)
                r = prepare_pod_dir(pod, &err);
        if (r >= 0)
                r = s1_userns_setup(pod, &err);
        if (r >= 0)
                r = s1_cgroup_pod_create(pod, &err);
        if (r >= 0)
                r = start_pod(pod, &err);
        if (r < 0)
                rk_log_error("%s", err.msg);
        /* Once the plan is read, every end of the pod is in the audit log. */
        rk_error aerr = RK_ERROR_INIT;
        if (plan && pod->audit_dir &&
            s1_audit_exit(pod, r < 0 ? S1_EXIT_RUNTIME : r, r < 0 ? err.msg : NULL, &aerr) < 0)
                rk_log_error("audit log: %s", aerr.msg);
        pod_close(pod);
        return r < 0 ? S1_EXIT_RUNTIME : r;
}

static int cmd_gc(const struct s1_pod *pod)
{
        rk_error err = RK_ERROR_INIT;
        if (s1_gc(pod->path, &err) < 0) {
                rk_log_error("gc: %s", err.msg);
                return 1;
        }
        return 0;
}

int main(int argc, char **argv)
{
        struct s1_pod pod = {.pod_fd = -EBADF,
                             .lock_fd = -EBADF,
                             .status_fd = -EBADF,
                             .started_fd = -EBADF,
                             .log_fd = -EBADF,
                             .mounts_fd = -EBADF,
                             .net_ready_fd = -EBADF,
                             .cni_up_fd = -EBADF,
                             .cni_down_fd = -EBADF};
        rk_log_set_ident("rkt-stage1");
        ensure_stdio();
        if (argc < 2)
                return usage();
        bool enter = strcmp(argv[1], "enter") == 0, stop = strcmp(argv[1], "stop") == 0;
        const char *app = NULL;
        char **cmd = NULL;
        bool force = false;
        unsigned long timeout = 10;
        for (int i = 2; i < argc; i++) {
                if (strncmp(argv[i], "--pod-dir=", 10) == 0 && argv[i][10])
                        pod.path = argv[i] + 10;
                else if (strncmp(argv[i], "--audit-dir=", 12) == 0 && argv[i][12] == '/')
                        pod.audit_dir = argv[i] + 12;
                else if (strcmp(argv[i], "--debug") == 0)
                        pod.debug = true;
                else if (enter && strncmp(argv[i], "--app=", 6) == 0 && argv[i][6])
                        app = argv[i] + 6;
                else if (enter && strcmp(argv[i], "--") == 0) {
                        cmd = argv + i + 1;
                        break;
                } else if (stop && strcmp(argv[i], "--force") == 0)
                        force = true;
                else if (stop && strncmp(argv[i], "--timeout=", 10) == 0) {
                        char *end = NULL;
                        timeout = strtoul(argv[i] + 10, &end, 10);
                        if (!argv[i][10] || *end || timeout > 3600)
                                return usage();
                } else
                        return usage();
        }
        if (!pod.path || (enter && !app))
                return usage();
        if (pod.debug)
                rk_log_set_level(RK_LOG_DEBUG);
        if (strcmp(argv[1], "run") == 0)
                return cmd_run(argv, &pod);
        if (strcmp(argv[1], "gc") == 0)
                return cmd_gc(&pod);
        if (enter) {
                /* the sealed copy first (CVE-2019-5736): it is what runs inside the pod */
                rk_error err = RK_ERROR_INIT;
                if (s1_ensure_cloned(argv, &err) < 0) {
                        rk_log_error("enter: %s", err.msg);
                        return S1_EXIT_RUNTIME;
                }
                /* The helper has joined the app's namespaces: it ends without atexit handlers
                 * (a leak checker's tracer, made in the pod's PID namespace, could not attach
                 * to it and would wait forever). */
                int code = s1_enter(pod.path, app, cmd && *cmd ? cmd : NULL, pod.debug);
                fflush(NULL);
                _exit(code);
        }
        if (stop)
                return s1_stop(pod.path, force, (unsigned)timeout);
        return usage();
}
