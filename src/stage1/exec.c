/* SPDX-License-Identifier: Apache-2.0 */
/* One app: its setup process (forked by init) builds and enters the app's root, runs the
 * pre-start handlers, marks the app started and execs it; with post-stop handlers it stays
 * behind as a small supervisor. Failures go to init as a text line on err_fd (CLOEXEC, so a
 * successful execve closes it) and as the exit status: 125 setup, 126 not executable, 127 not
 * found. */
#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "base/log.h"
#include "base/path.h"
#include "stage1/stage1.h"

struct app_ctx {
        const struct s1_pod *pod;
        const struct s1_app *app;
        int err_fd;
        pid_t host_pid; /* ours in the host's PID namespace, and our start time (pids/) */
        uint64_t start_time;
};

static _noreturn_ void fail(const struct app_ctx *c, int code, const rk_error *err)
{
        char line[sizeof(err->msg) + 2];
        int n = snprintf(line, sizeof(line), "%s\n", err->msg[0] ? err->msg : "failed");
        (void)!write(c->err_fd, line, (size_t)n);
        _exit(code);
}

static int wait_child(pid_t pid)
{
        int st = 0;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return S1_EXIT_RUNTIME << 8;
        return st;
}

/* ---- isolator steps, in the order of ARCHITECTURE.md ("App: ...") ----
 * Each isolator lives in its own file under isolators/ (declared in stage1.h). */
/* The app's setup joined its cgroup first thing in s1_app_main (its cgroup fds are closed by
 * now); a process entering the app joins here, then either gets the app's OOM score. */
static int step_cgroup(const struct app_ctx *c, rk_error *err)
{
        int r = c->pod->entering ? s1_cgroup_app_join(c->pod, c->app, err) : 0;
        return r < 0 ? r : s1_cgroup_app_oom(c->app, err);
}
static int step_rlimits(const struct s1_app *app, rk_error *err)
{
        return 0;
}
static int step_selinux_label(const struct s1_app *app, rk_error *err)
{
        return s1_selinux_exec_label(app, err);
}
static int step_landlock(const struct s1_app *app, rk_error *err)
{
        return s1_landlock_apply(app, err);
}
/* The filter stage0 compiled (read and checked against the plan's SHA-512 by s1_plan_load,
 * before pivot_root), loaded with the raw syscall: no libseccomp at run time. */
static int step_seccomp(const struct s1_app *app, rk_error *err)
{
        if (!app->seccomp_prog)
                return 0;
        struct sock_fprog prog = {.len = (unsigned short)(app->seccomp_len / 8),
                                  .filter = app->seccomp_prog};
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
                return rk_err_errno(err, negative_errno(), "app %s: cannot load the seccomp filter",
                                    app->name);
        return 0;
}

/* ---- capabilities and no_new_privs (security.md 1.4: crun's order) ---- */

/* The kernel's highest capability, from /proc/sys/kernel/cap_last_cap (the pod's /proc). */
static int cap_last(rk_error *err)
{
        char buf[16] = {0};
        _cleanup_close_ int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return rk_err_errno(err, n < 0 ? negative_errno() : -EIO,
                                    "cannot read /proc/sys/kernel/cap_last_cap");
        char *end = NULL;
        long v = strtol(buf, &end, 10);
        if (end == buf || (*end && *end != '\n') || v < 0 || v > 63)
                return rk_err(err, -EIO, "/proc/sys/kernel/cap_last_cap: '%s' is not valid", buf);
        return (int)v;
}

static uint64_t kernel_mask(int last)
{
        return last >= 63 ? UINT64_MAX : (UINT64_C(1) << (last + 1)) - 1;
}

static int step_bounding_set(const struct s1_app *app, rk_error *err)
{
        int last = cap_last(err);
        if (last < 0)
                return last;
        for (int c = 0; c <= last; c++)
                if (!(app->cap_bounding >> c & 1) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
                        return rk_err_errno(err, negative_errno(),
                                            "capability bounding set: cannot drop capability %d",
                                            c);
        return 0;
}

/* Permitted caps survive the setresuid to a non-root uid; capset then trims them. */
static int step_keep_caps(const struct s1_app *app, rk_error *err)
{
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return rk_err_errno(err, negative_errno(), "PR_SET_KEEPCAPS");
        return 0;
}

static int set_flag(cap_t caps, cap_flag_t flag, uint64_t mask)
{
        for (int c = 0; c < 64; c++) {
                cap_value_t v = c;
                if ((mask >> c & 1) && cap_set_flag(caps, flag, 1, &v, CAP_SET) < 0)
                        return -1;
        }
        return 0;
}

static int step_capabilities(const struct s1_app *app, rk_error *err)
{
        int last = cap_last(err);
        if (last < 0)
                return last;
        uint64_t k = kernel_mask(last);
        cap_t caps = cap_init();
        if (!caps)
                return rk_err_errno(err, negative_errno(), "capset: cap_init");
        int r = set_flag(caps, CAP_EFFECTIVE, app->cap_effective & k) < 0 ||
                        set_flag(caps, CAP_PERMITTED, app->cap_permitted & k) < 0 ||
                        set_flag(caps, CAP_INHERITABLE, app->cap_inheritable & k) < 0 ||
                        cap_set_proc(caps) < 0
                    ? rk_err_errno(err, negative_errno(), "capset")
                    : 0;
        cap_free(caps);
        return r;
}

static int step_ambient_caps(const struct s1_app *app, rk_error *err)
{
        int last = cap_last(err);
        if (last < 0)
                return last;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
                return rk_err_errno(err, negative_errno(), "ambient capabilities: clear");
        for (int c = 0; c <= last; c++)
                if ((app->cap_ambient >> c & 1) &&
                    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
                        return rk_err_errno(err, negative_errno(),
                                            "ambient capabilities: cannot raise capability %d", c);
        return 0;
}

static int step_no_new_privs(const struct s1_app *app, rk_error *err)
{
        if (app->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return rk_err_errno(err, negative_errno(), "PR_SET_NO_NEW_PRIVS");
        return 0;
}

/* ---- implemented steps ---- */

static int step_ids(const struct s1_app *app, rk_error *err)
{
        if (setgroups(app->n_groups, app->groups) < 0)
                return rk_err_errno(err, negative_errno(), "setgroups");
        if (setresgid(app->gid, app->gid, app->gid) < 0)
                return rk_err_errno(err, negative_errno(), "setresgid %u", (unsigned)app->gid);
        if (setresuid(app->uid, app->uid, app->uid) < 0)
                return rk_err_errno(err, negative_errno(), "setresuid %u", (unsigned)app->uid);
        return 0;
}

/* Resolved inside the new root (no magic links: /proc/self/fd/N cannot name a leaked host
 * directory) and entered with the app's ids, so its permissions apply. CVE-2024-21626: the
 * cwd must be reachable from the root, which getcwd() confirms. */
static int step_workdir(const struct s1_app *app, rk_error *err)
{
        _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return rk_err_errno(err, negative_errno(), "cannot open /");
        _cleanup_close_ int fd =
            rk_open_in_root(root, app->working_dir, O_PATH | O_DIRECTORY, 0, 0, NULL);
        if (fd < 0)
                return rk_err_errno(err, fd, "working directory '%s'", app->working_dir);
        char buf[PATH_MAX];
        if (fchdir(fd) < 0 || !getcwd(buf, sizeof(buf)))
                return rk_err_errno(err, negative_errno(), "working directory '%s'",
                                    app->working_dir);
        return 0;
}

/* Everything but stdio and the CLOEXEC error pipe goes: the lock, the pod directory, mount
 * fds. Any of those in the app would be a way back to the host. Failure is fatal. */
static int step_close_fds(struct app_ctx *c, rk_error *err)
{
        if (c->err_fd != 3) {
                if (dup3(c->err_fd, 3, O_CLOEXEC) < 0)
                        return rk_err_errno(err, negative_errno(), "dup3");
                c->err_fd = 3;
        }
        /* --private-users: the user namespace fd (moved to 4) stays until the app enters it */
        if (close_range(s1_userns_keep_fd(4), ~0U, 0) < 0)
                return rk_err_errno(err, negative_errno(), "close_range");
        return 0;
}

/* execve keeps the signal mask and ignored signals: the app starts from the defaults. */
static void reset_signals(void)
{
        sigset_t none;
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void)signal(sig, SIG_DFL);
        sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
}

_noreturn_ void s1_exec_app(const struct s1_pod *pod, const struct s1_app *app,
                            const struct s1_argv *argv, int err_fd)
{
        struct app_ctx ctx = {.pod = pod, .app = app, .err_fd = err_fd}, *c = &ctx;
        rk_error err = RK_ERROR_INIT;
        int r = step_cgroup(c, &err);
        if (r >= 0)
                r = step_rlimits(app, &err);
        if (r >= 0)
                r = step_selinux_label(app, &err);
        /* --private-users: after the steps that need host privilege, before any filter (it
         * would refuse setns) and before the capability steps, which then apply inside. */
        if (r >= 0)
                r = s1_userns_enter(&err);
        /* without no_new_privs, loading a filter needs CAP_SYS_ADMIN: before the caps go (the
         * steps below only need syscalls the filter allows) */
        if (r >= 0 && !app->no_new_privs)
                r = step_landlock(app, &err); /* likewise: without NNP it needs CAP_SYS_ADMIN */
        if (r >= 0 && !app->no_new_privs)
                r = step_seccomp(app, &err);
        if (r >= 0)
                r = step_bounding_set(app, &err);
        if (r >= 0)
                r = step_keep_caps(app, &err);
        if (r >= 0)
                r = step_ids(app, &err);
        if (r >= 0)
                r = step_workdir(app, &err);
        if (r >= 0)
                r = step_capabilities(app, &err);
        if (r >= 0)
                r = step_ambient_caps(app, &err);
        if (r >= 0)
                r = step_no_new_privs(app, &err);
        if (r >= 0 && app->no_new_privs)
                r = step_landlock(app, &err);
        if (r >= 0)
                r = step_close_fds(c, &err);
        if (r >= 0 && app->no_new_privs)
                r = step_seccomp(app, &err); /* last: the steps above need their syscalls */
        if (r < 0)
                fail(c, S1_EXIT_RUNTIME, &err);
        reset_signals();
        umask(022);
        execve(argv->v[0], argv->v, app->env.v);
        int e = errno;
        rk_err_errno(&err, -e, "cannot execute '%s'", argv->v[0]);
        fail(c, e == ENOENT || e == ENOTDIR ? S1_EXIT_NOTFOUND : S1_EXIT_NOEXEC, &err);
}

static _noreturn_ void exec_argv(struct app_ctx *c, const struct s1_argv *argv)
{
        s1_exec_app(c->pod, c->app, argv, c->err_fd);
}

/* Each handler runs like the app (same root, ids, env, cwd); a non-zero status stops there. */
static int run_handlers(struct app_ctx *c, const struct s1_argv *h, size_t n, const char *kind,
                        rk_error *err)
{
        for (size_t i = 0; i < n; i++) {
                pid_t pid = fork();
                if (pid < 0) {
                        rk_err_errno(err, negative_errno(), "fork");
                        return S1_EXIT_RUNTIME;
                }
                if (pid == 0)
                        exec_argv(c, &h[i]);
                int code = s1_exit_code(wait_child(pid));
                if (code != 0) {
                        rk_err(err, -ECANCELED, "%s handler '%s' failed with status %d", kind,
                               h[i].v[0], code);
                        return code;
                }
        }
        return 0;
}

/* The app runs as our child; we wait for it, then run the post-stop handlers in the same
 * root, and exit with the app's status for init to record. */
static _noreturn_ void supervise(struct app_ctx *c)
{
        rk_error err = RK_ERROR_INIT;
        pid_t pid = fork();
        if (pid < 0) {
                rk_err_errno(&err, negative_errno(), "fork");
                fail(c, S1_EXIT_RUNTIME, &err);
        }
        if (pid == 0)
                exec_argv(c, &c->app->exec);
        int code = s1_exit_code(wait_child(pid));
        if (run_handlers(c, c->app->post_stop, c->app->n_post_stop, "post-stop", &err) != 0)
                fail(c, code, &err);
        _exit(code);
}

static int open_log(const struct s1_pod *pod, const struct s1_app *app, rk_error *err)
{
        if (!pod->plan->detached)
                return -EBADF;
        char name[S1_MAX_NAME + 8];
        snprintf(name, sizeof(name), "%s.log", app->name);
        int fd =
            openat(pod->log_fd, name, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "cannot open log/%s", name);
        return fd;
}

/* Non-interactive apps read /dev/null (ours, inside the root), not the caller's terminal;
 * detached ones write to their log. Interactive apps keep rkt's stdio and terminal. */
static int setup_stdio(const struct s1_pod *pod, int log, rk_error *err)
{
        if (pod->plan->interactive)
                return 0;
        _cleanup_close_ int null = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        if (null < 0 || dup2(null, STDIN_FILENO) < 0)
                return rk_err_errno(err, negative_errno(), "cannot open /dev/null");
        if (log >= 0 && (dup2(log, STDOUT_FILENO) < 0 || dup2(log, STDERR_FILENO) < 0))
                return rk_err_errno(err, negative_errno(), "cannot redirect output to the log");
        return 0;
}

/* pids/app-<name>: this process (the app itself, or its supervisor when it has post-stop
 * handlers) holds the app's namespaces and root; `enter` joins them through it. Written before
 * started/<app>, so whoever sees the app started finds it. */
static int mark_started(const struct app_ctx *c, rk_error *err)
{
        const struct s1_pod *pod = c->pod;
        const struct s1_app *app = c->app;
        char name[S1_MAX_NAME + 8];
        snprintf(name, sizeof(name), "app-%s", app->name);
        int r = s1_pids_write(pod->pod_fd, name, c->host_pid, c->start_time, err);
        if (r < 0)
                return r;
        _cleanup_close_ int fd =
            openat(pod->started_fd, app->name,
                   O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "cannot write started/%s", app->name);
        return 0;
}

static int prepare(struct app_ctx *c, rk_error *err)
{
        /* Our own session: the caller's terminal is not the app's controlling terminal. */
        if (!c->pod->plan->interactive && setsid() < 0)
                return rk_err_errno(err, negative_errno(), "setsid");
        /* Still the host's /proc here (the pod's is mounted below): our host PID. */
        int r = s1_proc_stat("self", &c->host_pid, &c->start_time, err);
        if (r < 0)
                return r;
        _cleanup_close_ int log = open_log(c->pod, c->app, err);
        if (log < 0 && log != -EBADF)
                return log;
        r = s1_mount_app(c->pod, c->app, err);
        return r < 0 ? r : setup_stdio(c->pod, log, err);
}

void s1_drain_errors(const char *what, const char *app, int fd)
{
        char buf[4096];
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return;
        buf[n] = 0;
        for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                rk_log_error("%s '%s': %s", what, app, l);
}

_noreturn_ void s1_app_main(const struct s1_pod *pod, size_t idx, int err_fd)
{
        struct app_ctx c = {.pod = pod, .app = &pod->plan->apps[idx], .err_fd = err_fd};
        rk_error err = RK_ERROR_INIT;
        if (s1_cgroup_app_join(pod, c.app, &err) < 0 || prepare(&c, &err) < 0)
                fail(&c, S1_EXIT_RUNTIME, &err);
        int code = run_handlers(&c, c.app->pre_start, c.app->n_pre_start, "pre-start", &err);
        if (code != 0)
                fail(&c, code, &err);
        if (mark_started(&c, &err) < 0 || step_close_fds(&c, &err) < 0)
                fail(&c, S1_EXIT_RUNTIME, &err);
        if (c.app->n_post_stop > 0)
                supervise(&c);
        exec_argv(&c, &c.app->exec);
}
