/* SPDX-License-Identifier: Apache-2.0 */
/* rkt-stage1 enter --pod-dir=DIR --app=NAME [-- CMD [ARGS...]]: run a command in a running app
 * with exactly the app's isolators (rkt's unfixed CVE-2019-10144/10145/10147: its enter only
 * joined the namespaces, so the command ran with every capability, no seccomp filter and
 * outside the app's cgroup, next to a possibly hostile app that could ptrace it).
 *
 *   this process (host PID ns)       sealed memfd copy, non-dumpable, no fd but 0-2; checks
 *     |                               the pod is running; pidfds of init and the app verified
 *     |                               by start time; setns(app pidfd, every namespace)
 *     └─ the command (pod PID ns)    the app's inherited limits and OOM score, then
 *                                     s1_exec_app: the app's own isolator steps, then execve
 *
 * The child is the only part visible inside the pod, and it is non-dumpable until its execve
 * (the app's own setup is the same), so the app can neither ptrace it nor read its fds. */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "base/fileio.h"
#include "base/log.h"
#include "stage1/stage1.h"

#define ENTER_NS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP)

/* The pod lives exactly as long as stage1 run holds the lock on its directory. */
static int check_running(int pod_fd, const char *path, rk_error *err)
{
        _cleanup_close_ int fd = openat(pod_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "pod '%s'", path);
        if (flock(fd, LOCK_SH | LOCK_NB) == 0)
                return rk_err(err, -ESRCH, "pod '%s' is not running", path);
        if (errno != EWOULDBLOCK)
                return rk_err_errno(err, negative_errno(), "pod '%s': lock", path);
        return 0;
}

static const struct s1_app *find_app(const struct s1_plan *plan, const char *name, rk_error *err)
{
        char list[1024] = "";
        for (size_t i = 0; i < plan->n_apps; i++) {
                if (strcmp(plan->apps[i].name, name) == 0)
                        return &plan->apps[i];
                size_t n = strlen(list);
                snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "", plan->apps[i].name);
        }
        rk_err(err, -ENOENT, "the pod has no app '%s' (its apps: %s)", name, list);
        return NULL;
}

/* The app must have started (pids/ and its namespaces exist) and not yet exited. */
static int check_app(int pod_fd, const char *name, rk_error *err)
{
        char path[S1_MAX_NAME + 16];
        struct stat st;
        snprintf(path, sizeof(path), "status/%s", name);
        if (fstatat(pod_fd, path, &st, AT_SYMLINK_NOFOLLOW) == 0)
                return rk_err(err, -ESRCH, "app '%s' has exited", name);
        snprintf(path, sizeof(path), "started/%s", name);
        if (fstatat(pod_fd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return rk_err(err, -EAGAIN, "app '%s' has not started (yet)", name);
        return 0;
}

static int ns_ino(const char *pid, const char *ns, ino_t *ret, rk_error *err)
{
        char path[64];
        struct stat st;
        snprintf(path, sizeof(path), "/proc/%s/ns/%s", pid, ns);
        if (stat(path, &st) < 0)
                return rk_err_errno(err, negative_errno(), "%s", path);
        *ret = st.st_ino;
        return 0;
}

/* What the app inherited rather than got from the plan: resource limits and the OOM score
 * adjustment (from rkt run's caller). The command gets the app's, not rkt enter's caller's,
 * before the plan's own steps (rlimits among them) apply on top, as for the app. */
struct inherited {
        struct rlimit lim[RLIM_NLIMITS];
        char oom[16];
};

struct target {
        int pidfd;   /* the app (or its supervisor): its namespaces and root */
        int rootfd;  /* /proc/<app>/root, to check where setns put us */
        int nsflags; /* what to join now */
        int userfd;  /* the pod's user namespace (--private-users), joined at the app's step */
        struct inherited in;
};

static int read_inherited(pid_t pid, struct inherited *in, rk_error *err)
{
        char path[48];
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
        int r = rk_read_file_at(AT_FDCWD, path, 8192, &buf, &len, err);
        if (r >= 0 && s1_limits_parse(buf, len, in->lim, RLIM_NLIMITS) < 0)
                r = rk_err(err, -EBADMSG, "%s: unexpected format", path);
        if (r < 0)
                return r;
        snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, in->oom, sizeof(in->oom) - 1);
        if (n <= 0)
                return rk_err_errno(err, n < 0 ? negative_errno() : -EIO, "%s", path);
        in->oom[n] = 0;
        return 0;
}

/* Raising a hard limit above ours, or lowering the OOM score below ours, takes
 * CAP_SYS_RESOURCE, which the host may not give us: then the command keeps the stricter
 * value (a warning says so), never a laxer one. */
static int apply_inherited(const struct inherited *in, rk_error *err)
{
        for (int r = 0; r < RLIM_NLIMITS; r++) {
                struct rlimit cur, want = in->lim[r];
                if (setrlimit(r, &want) == 0)
                        continue;
                if (errno != EPERM || getrlimit(r, &cur) < 0)
                        return rk_err_errno(err, negative_errno(), "resource limit %d", r);
                want.rlim_max = cur.rlim_max;
                if (want.rlim_cur > want.rlim_max)
                        want.rlim_cur = want.rlim_max;
                if (setrlimit(r, &want) < 0)
                        return rk_err_errno(err, negative_errno(), "resource limit %d", r);
                rk_log_warning("enter: resource limit %d: cannot raise the hard limit to the "
                               "app's (no CAP_SYS_RESOURCE); keeping the lower one",
                               r);
        }
        _cleanup_close_ int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "oom_score_adj");
        if (write(fd, in->oom, strlen(in->oom)) < 0) {
                if (errno != EACCES && errno != EPERM)
                        return rk_err_errno(err, negative_errno(), "oom_score_adj");
                rk_log_warning("enter: cannot lower oom_score_adj to the app's %.*s (no "
                               "CAP_SYS_RESOURCE); keeping ours",
                               (int)strcspn(in->oom, "\n"), in->oom);
        }
        return 0;
}

/* pidfds for the pod's init and the app, each verified by its recorded start time; the app
 * must be in init's PID namespace (a process of this pod, not a stranger with its PID). */
static int find_target(int pod_fd, const char *app, bool pod_userns, struct target *t,
                       rk_error *err)
{
        char name[S1_MAX_NAME + 8], ipid[16], apid[16];
        pid_t ip = 0, ap = 0;
        uint64_t is = 0, as = 0;
        snprintf(name, sizeof(name), "app-%s", app);
        int r = s1_pids_read(pod_fd, "init", &ip, &is, err);
        if (r >= 0)
                r = s1_pids_read(pod_fd, name, &ap, &as, err);
        if (r < 0)
                return r;
        _cleanup_close_ int init = s1_pidfd_open_verified(ip, is, err);
        if (init < 0)
                return init;
        _cleanup_close_ int fd = s1_pidfd_open_verified(ap, as, err);
        if (fd < 0)
                return fd;
        snprintf(ipid, sizeof(ipid), "%d", (int)ip);
        snprintf(apid, sizeof(apid), "%d", (int)ap);
        ino_t a = 0, b = 0, u = 0, v = 0;
        if ((r = ns_ino(ipid, "pid", &a, err)) < 0 || (r = ns_ino(apid, "pid", &b, err)) < 0 ||
            (r = ns_ino("self", "user", &u, err)) < 0 || (r = ns_ino(apid, "user", &v, err)) < 0)
                return r;
        if (a != b)
                return rk_err(err, -ESRCH, "process %d is not in the pod's PID namespace", (int)ap);
        char root[48];
        snprintf(root, sizeof(root), "/proc/%d/root", (int)ap);
        t->rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (t->rootfd < 0)
                return rk_err_errno(err, negative_errno(), "%s", root);
        r = read_inherited(ap, &t->in, err);
        if (r < 0)
                return r;
        /* the root and limits we read are the app's only if the PID still is */
        _cleanup_close_ int again = s1_pidfd_open_verified(ap, as, err);
        if (again < 0)
                return again;
        if ((u != v) != pod_userns)
                return rk_err(err, -EXDEV,
                              "process %d is %sin a user namespace of its own, but the "
                              "plan says %s",
                              (int)ap, u != v ? "" : "not ",
                              pod_userns ? "--private-users" : "none");
        if (u != v) {
                char user[48];
                snprintf(user, sizeof(user), "/proc/%d/ns/user", (int)ap);
                t->userfd = open(user, O_RDONLY | O_CLOEXEC);
                if (t->userfd < 0)
                        return rk_err_errno(err, negative_errno(), "%s", user);
        }
        /* The other namespaces are owned by the pod's user namespace, but we have every
         * capability there: join them now, the user namespace itself at the app's step. */
        t->nsflags = ENTER_NS | CLONE_NEWPID;
        t->pidfd = TAKE_FD(fd);
        return 0;
}

/* One setns for every namespace of the app (a pidfd allows that since 5.8). Then "/" must be
 * the app's root: if not, the command would run somewhere the app does not. */
static int join(struct target *t, rk_error *err)
{
        struct stat want, got;
        if (setns(t->pidfd, t->nsflags) < 0)
                return rk_err_errno(err, negative_errno(), "cannot join the app's namespaces");
        if (fstat(t->rootfd, &want) < 0 || chdir("/") < 0 || stat("/", &got) < 0)
                return rk_err_errno(err, negative_errno(), "cannot check the app's root");
        if (want.st_dev != got.st_dev || want.st_ino != got.st_ino)
                return rk_err(err, -EXDEV,
                              "joined the app's mount namespace, but '/' is not "
                              "the app's root");
        return 0;
}

/* CMD as given (argv[0] absolute, or searched in the app's PATH, absolute entries only), or by
 * default /bin/bash, else /bin/sh (rkt's default was /bin/bash alone). Looked up inside the
 * app's root, after setns. */
static int pick_command(const struct s1_app *app, char **cmd, char *buf, size_t size,
                        struct s1_argv *out, rk_error *err)
{
        static char *bash[] = {"/bin/bash", NULL}, *sh[] = {"/bin/sh", NULL};
        if (!cmd) {
                cmd = access("/bin/bash", X_OK) == 0 ? bash : sh;
                rk_log_debug("enter: no command given, running %s", cmd[0]);
        }
        out->v = cmd;
        for (out->n = 0; cmd[out->n]; out->n++)
                ;
        if (strchr(cmd[0], '/'))
                return 0;
        const char *path = NULL;
        for (size_t i = 0; i < app->env.n; i++)
                if (strncmp(app->env.v[i], "PATH=", 5) == 0)
                        path = app->env.v[i] + 5;
        for (const char *p = path; p && *p;) {
                size_t n = strcspn(p, ":");
                if (n > 0 && p[0] == '/' &&
                    snprintf(buf, size, "%.*s/%s", (int)n, p, cmd[0]) < (int)size &&
                    access(buf, X_OK) == 0) {
                        cmd[0] = buf;
                        return 0;
                }
                p += n + (p[n] == ':');
        }
        return rk_err(err, -ENOENT, "'%s' not found in the app's PATH", cmd[0]);
}

/* Wait for the command; TERM and HUP are passed on, a terminal's INT and QUIT already reached
 * it (same foreground process group), others' are passed on. */
static int wait_command(pid_t pid, const sigset_t *set)
{
        for (;;) {
                siginfo_t si;
                int st, sig = sigwaitinfo(set, &si);
                if (sig == SIGCHLD) {
                        if (waitpid(pid, &st, WNOHANG) == pid)
                                return s1_exit_code(st);
                } else if (sig > 0 &&
                           !(si.si_code == SI_KERNEL && (sig == SIGINT || sig == SIGQUIT))) {
                        (void)kill(pid, sig);
                }
        }
}

static int run_command(const struct s1_pod *pod, const struct s1_app *app,
                       const struct inherited *in, int userfd, char **cmd, rk_error *err)
{
        sigset_t set;
        s1_pod_sigset(&set);
        int fds[2];
        if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 || pipe2(fds, O_CLOEXEC) < 0)
                return rk_err_errno(err, negative_errno(), "cannot start the command");
        pid_t pid = fork();
        if (pid < 0)
                return rk_err_errno(err, negative_errno(), "fork");
        if (pid == 0) {
                char buf[PATH_MAX];
                struct s1_argv argv;
                rk_error e = RK_ERROR_INIT;
                (void)close(fds[0]);
                if (apply_inherited(in, &e) < 0) {
                        dprintf(fds[1], "%s\n", e.msg);
                        _exit(S1_EXIT_RUNTIME);
                }
                if (pick_command(app, cmd, buf, sizeof(buf), &argv, &e) < 0) {
                        dprintf(fds[1], "%s\n", e.msg);
                        _exit(S1_EXIT_NOTFOUND);
                }
                if (userfd >= 0)
                        s1_userns_adopt(pod->plan, userfd);
                s1_exec_app(pod, app, &argv, fds[1]);
        }
        (void)close(fds[1]);
        s1_cgroup_close(pod); /* the helper keeps nothing of the host's cgroupfs */
        int code = wait_command(pid, &set);
        s1_drain_errors("enter app", app->name, fds[0]);
        (void)close(fds[0]);
        return code;
}

int s1_enter(const char *pod_path, const char *app_name, char **cmd, bool debug)
{
        rk_error err = RK_ERROR_INIT;
        _cleanup_(s1_plan_freep) struct s1_plan *plan = NULL;
        struct target t = {.pidfd = -EBADF, .rootfd = -EBADF, .userfd = -EBADF};
        const struct s1_app *app = NULL;
        /* Before anything of the pod is touched: nothing may ptrace us or read our memory, and
         * no fd of stage0's goes in (CVE-2016-9962 class). */
        int r = prctl(PR_SET_DUMPABLE, 0) < 0 || close_range(3, ~0U, 0) < 0
                    ? rk_err_errno(&err, negative_errno(), "cannot prepare to enter")
                    : 0;
        if (r >= 0 && chdir("/") < 0)
                r = rk_err_errno(&err, negative_errno(), "chdir /");
        _cleanup_close_ int pod_fd = open(pod_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (r >= 0 && pod_fd < 0)
                r = rk_err_errno(&err, negative_errno(), "cannot open the pod directory '%s'",
                                 pod_path);
        if (r >= 0)
                r = check_running(pod_fd, pod_path, &err);
        if (r >= 0)
                r = s1_plan_load(pod_fd, &plan, &err);
        if (r >= 0 && !(app = find_app(plan, app_name, &err)))
                r = -ENOENT;
        if (r >= 0)
                r = check_app(pod_fd, app_name, &err);
        if (r >= 0)
                r = find_target(pod_fd, app_name, plan->userns, &t, &err);
        pod_fd = safe_close(pod_fd);
        /* The app's cgroups, opened while /sys/fs/cgroup is still the host's; joined at the
         * app's cgroup step. */
        struct s1_pod cgpod = {.plan = plan};
        if (r >= 0)
                r = s1_cgroup_enter_open(&cgpod, (size_t)(app - plan->apps), &err);
        if (r >= 0)
                r = join(&t, &err);
        t.pidfd = safe_close(t.pidfd);
        t.rootfd = safe_close(t.rootfd);
        if (r < 0) {
                s1_cgroup_close(&cgpod);
                free(cgpod.cg);
                rk_log_error("enter: %s", err.msg);
                return S1_EXIT_RUNTIME;
        }
        /* The command starts with what the app's own setup has at this step: stdio and the
         * error pipe, no directory or lock of the pod's. */
        struct s1_pod pod = {.plan = plan,
                             .path = pod_path,
                             .pod_fd = -EBADF,
                             .lock_fd = -EBADF,
                             .status_fd = -EBADF,
                             .started_fd = -EBADF,
                             .log_fd = -EBADF,
                             .mounts_fd = -EBADF,
                             .net_ready_fd = -EBADF,
                             .cg = cgpod.cg,
                             .entering = true,
                             .debug = debug};
        r = run_command(&pod, app, &t.in, t.userfd, cmd, &err);
        s1_cgroup_close(&pod);
        free(pod.cg);
        t.userfd = safe_close(t.userfd);
        if (r < 0) {
                rk_log_error("enter: %s", err.msg);
                return S1_EXIT_RUNTIME;
        }
        return r;
}
