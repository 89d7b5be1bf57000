/* SPDX-License-Identifier: Apache-2.0 */
/* The pod's PID 1: enters the pod's namespaces, forks one setup process per app (in plan
 * order), reaps every child (apps and whatever they orphan), records each app's status in
 * status/<app>, forwards SIGTERM/SIGINT/SIGHUP/SIGQUIT to the apps, and exits with the first
 * non-zero app status in app order once every app has exited. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "base/log.h"
#include "stage1/stage1.h"

struct app_proc {
        pid_t pid;
        int err_fd; /* read end of the app's error pipe */
        int status;
        bool done;
};

int s1_exit_code(int wstatus)
{
        if (WIFEXITED(wstatus))
                return WEXITSTATUS(wstatus);
        if (WIFSIGNALED(wstatus))
                return S1_EXIT_SIGNAL(WTERMSIG(wstatus));
        return S1_EXIT_RUNTIME;
}

/* status/<app>: decimal, no newline; written to a temp name and renamed, so a reader never
 * sees a partial value. No fsync: a status is worth less than the start latency it costs. */
static void write_status(const struct s1_pod *pod, const char *name, int code)
{
        char tmp[S1_MAX_NAME + 8], buf[16];
        snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
        int n = snprintf(buf, sizeof(buf), "%d", code);
        _cleanup_close_ int fd = openat(
            pod->status_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, buf, (size_t)n) != n ||
            renameat(pod->status_fd, tmp, pod->status_fd, name) < 0)
                rk_logf(RK_LOG_ERROR, 0, "cannot write status/%s: %m", name);
}

static void spawn(const struct s1_pod *pod, size_t i, struct app_proc *p, int ready_w)
{
        int fds[2];
        if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
                rk_logf(RK_LOG_ERROR, 0, "app '%s': pipe: %m", pod->plan->apps[i].name);
                p->pid = -1;
                return;
        }
        p->pid = s1_cgroup_fork_app(pod, i);
        if (p->pid == 0) {
                (void)close(fds[0]);
                safe_close(ready_w); /* only init writes it: EOF must mean init gave up */
                /* The pipe's write end blocks: a failing app must get its message out. */
                (void)fcntl(fds[1], F_SETFL, 0);
                s1_app_main(pod, i, fds[1]);
        }
        (void)close(fds[1]);
        p->err_fd = fds[0];
        if (p->pid < 0)
                rk_logf(RK_LOG_ERROR, 0, "app '%s': fork: %m", pod->plan->apps[i].name);
}

static void record(const struct s1_pod *pod, size_t i, struct app_proc *p, int code)
{
        const char *name = pod->plan->apps[i].name;
        s1_drain_errors("app", name, p->err_fd);
        p->err_fd = safe_close(p->err_fd);
        p->status = code;
        p->done = true;
        write_status(pod, name, code);
        rk_log_debug("app '%s' exited with status %d", name, code);
}

/* Reap everything that has exited; returns how many apps are still running. */
static size_t reap(const struct s1_pod *pod, struct app_proc *apps, size_t left)
{
        int st;
        pid_t pid;
        while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
                for (size_t i = 0; i < pod->plan->n_apps; i++)
                        if (apps[i].pid == pid && !apps[i].done) {
                                record(pod, i, &apps[i], s1_exit_code(st));
                                left--;
                        }
        return left;
}

void s1_pod_sigset(sigset_t *set)
{
        static const int sigs[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT};
        sigemptyset(set);
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                sigaddset(set, sigs[i]);
}

bool s1_forward_signal(const struct s1_pod *pod, const siginfo_t *si)
{
        /* A terminal's SIGINT/SIGQUIT already reached an interactive app (it shares rkt's
         * foreground process group): do not deliver it twice. */
        return !(pod->plan->interactive && si->si_code == SI_KERNEL &&
                 (si->si_signo == SIGINT || si->si_signo == SIGQUIT));
}

static int supervise(const struct s1_pod *pod, struct app_proc *apps, size_t left)
{
        sigset_t set;
        s1_pod_sigset(&set);
        left = reap(pod, apps, left);
        while (left > 0) {
                siginfo_t si;
                int sig = sigwaitinfo(&set, &si);
                if (sig == SIGCHLD)
                        left = reap(pod, apps, left);
                else if (sig > 0 && s1_forward_signal(pod, &si))
                        (void)kill(-1, sig); /* every process of the pod but us */
        }
        for (size_t i = 0; i < pod->plan->n_apps; i++)
                if (apps[i].status != 0)
                        return apps[i].status;
        return 0;
}

/* net cni: tell the outer process the namespace exists, wait for its networks. */
static int cni_wait(const struct s1_pod *pod, rk_error *err)
{
        if (pod->plan->net != S1_NET_CNI)
                return 0;
        char c = 0;
        ssize_t n;
        if (write(pod->cni_up_fd, "u", 1) != 1)
                return rk_err_errno(err, negative_errno(), "cannot signal the network namespace");
        while ((n = read(pod->cni_down_fd, &c, 1)) < 0 && errno == EINTR)
                ;
        if (n != 1 || c != 'y')
                return rk_err(err, -ENETDOWN, "the pod's CNI networks were not attached");
        return 0;
}

/* The pod's network namespace, made while the apps build their roots; each app waits for one
 * byte on net_ready_fd before joining it (EOF: it could not be made). */
static void make_pod_net(const struct s1_pod *pod, int ready_w)
{
        rk_error err = RK_ERROR_INIT;
        /* default, default-restricted: a netlink socket of the host's namespace first, then
         * the veth pair once we are in the pod's (isolators/net.c) */
        if (s1_net_host_open(pod->plan, &err) < 0 || s1_ns_pod_net(&err) < 0 ||
            s1_net_setup(pod->plan, &err) < 0 || cni_wait(pod, &err) < 0 ||
            s1_mds_attach(pod->plan, &err) < 0) {
                rk_log_error("%s", err.msg);
                return;
        }
        for (size_t i = 0; i < pod->plan->n_apps; i++)
                if (write(ready_w, "n", 1) != 1)
                        rk_logf(RK_LOG_ERROR, 0, "cannot signal the network namespace: %m");
}

static int start_apps(struct s1_pod *pod, struct app_proc *apps)
{
        int ready[2] = {-EBADF, -EBADF};
        bool own_net = pod->plan->net != S1_NET_HOST;
        /* A pipe buffer holds one byte per app (at most S1_MAX_APPS): the writes never block. */
        if (own_net && pipe2(ready, O_CLOEXEC) < 0) {
                rk_logf(RK_LOG_ERROR, 0, "pipe: %m");
                return S1_EXIT_RUNTIME;
        }
        pod->net_ready_fd = ready[0];
        size_t left = 0;
        for (size_t i = 0; i < pod->plan->n_apps; i++) {
                apps[i].err_fd = -EBADF;
                spawn(pod, i, &apps[i], ready[1]);
                if (apps[i].pid < 0)
                        record(pod, i, &apps[i], S1_EXIT_RUNTIME);
                else
                        left++;
        }
        pod->net_ready_fd = safe_close(ready[0]);
        s1_cgroup_close(pod);
        if (own_net)
                make_pod_net(pod, ready[1]);
        safe_close(ready[1]);
        return supervise(pod, apps, left);
}

_noreturn_ void s1_init_main(const struct s1_pod *pod_in, int sync_fd)
{
        rk_error err = RK_ERROR_INIT;
        struct s1_pod pod = *pod_in;
        char go = 0;
        /* If rkt-stage1 dies (even by SIGKILL), so does the pod: no pod outlives the process
         * stage0 and its caller wait on. Armed before the go-ahead is read, so the parent was
         * alive after it was armed. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || read(sync_fd, &go, 1) != 1)
                _exit(S1_EXIT_RUNTIME);
        (void)close(sync_fd);
        if (!pod.plan->interactive)
                (void)setsid();
        /* The pod's cgroup is joined before the cgroup namespace is made: it is the root the
         * pod sees. */
        int r = s1_cgroup_pod_enter(&pod, &err);
        if (r >= 0)
                r = s1_ns_pod_enter(pod.plan, &err);
        if (r >= 0)
                r = s1_cgroup_pod_finish(&pod, &err);
        if (r < 0) {
                rk_log_error("%s", err.msg);
                _exit(S1_EXIT_RUNTIME);
        }
        struct app_proc apps[S1_MAX_APPS] = {0};
        /* _exit: nothing buffered to flush, and exit-time hooks (LeakSanitizer's, which walks
         * /proc by PID) would look up our pod PIDs in the host's /proc. */
        _exit(start_apps(&pod, apps));
}
