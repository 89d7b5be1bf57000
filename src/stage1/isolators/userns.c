/* SPDX-License-Identifier: Apache-2.0 */
/* --private-users (PLAN.md, "User namespaces"). The outer rkt-stage1, still root on the host:
 *
 *   1. forks a helper that unshares a user namespace; writes its gid_map, then its uid_map
 *      ("0 <base> <size>"; setgroups stays "allow": the maps are written by host root and the
 *      apps' supplementaryGids need setgroups(2));
 *   2. the helper, now privileged only inside it, sets user.max_user_namespaces to 0 there
 *      (a per-namespace limit: no app can create a nested user namespace, whatever its
 *      seccomp filter) and unshares the pod's UTS, IPC and (unless --net=host) network namespaces,
 *      which the user namespace therefore owns (root in the pod may bind port 80);
 *   3. the outer process keeps fds of those namespaces, and for each app an idmapped,
 *      detached, read-only copy of its tree (open_tree + mount_setattr(MOUNT_ATTR_IDMAP)):
 *      the overlay's lower layer, so image files owned by 0 are owned by 0 in the pod with no
 *      chown of the shared tree. Where the filesystem refuses an idmapped mount the app gets
 *      a copy of the tree with every owner shifted by the base instead (and a warning).
 *
 * Init and each app's setup keep host root while they mount (the pod directory lives in a
 * data dir the pod's ids cannot even traverse, and the mount namespace stays owned by the
 * host's user namespace, so the app can never unmount a mask). Init joins the namespaces from
 * 2., and each app process enters the user namespace (setns) just before its capability
 * steps: bounding set, ids and capsets then apply inside it.
 *
 * The state lives in this file: every process of the pod is forked from the outer one after
 * s1_userns_setup, so each inherits it. */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "base/fileio.h"
#include "base/log.h"
#include "stage1/stage1.h"

static struct {
        bool active;
        uint32_t uid_base, gid_base;
        int user_fd, net_fd, uts_fd, ipc_fd;
        int tree[S1_MAX_APPS]; /* idmapped tree per app, -EBADF: chown'ed copy */
} us;

bool s1_userns_active(void)
{
        return us.active;
}

uid_t s1_userns_host_uid(uid_t uid)
{
        return us.active ? uid + us.uid_base : uid;
}

gid_t s1_userns_host_gid(gid_t gid)
{
        return us.active ? gid + us.gid_base : gid;
}

/* The helper: never returns. Reports "r" once its user namespace exists, waits for "g" (maps
 * written), limits and unshares, reports "d", and waits for EOF (the parent has the fds). */
static _noreturn_ void helper(const struct s1_plan *plan, int to_parent, int from_parent)
{
        char c;
        rk_error err = RK_ERROR_INIT;
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || unshare(CLONE_NEWUSER) < 0 ||
            write(to_parent, "r", 1) != 1 || read(from_parent, &c, 1) != 1)
                _exit(1);
        /* Per user namespace: creating one inside ours now fails with ENOSPC. Only a process
         * with CAP_SYS_RESOURCE in ours writing /proc/sys could undo it, and the apps' /proc/sys
         * is read-only (and a new /proc needs privilege over the host-owned PID namespace). */
        _cleanup_close_ int fd =
            open("/proc/sys/user/max_user_namespaces", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 || write(fd, "0", 1) != 1) {
                rk_logf(RK_LOG_ERROR, 0, "cannot block nested user namespaces: %m");
                _exit(1);
        }
        if (unshare(CLONE_NEWUTS | CLONE_NEWIPC) < 0) {
                rk_logf(RK_LOG_ERROR, 0, "cannot create the pod's UTS and IPC namespaces: %m");
                _exit(1);
        }
        if (plan->net != S1_NET_HOST && s1_ns_pod_net(&err) < 0) {
                rk_log_error("%s", err.msg);
                _exit(1);
        }
        if (write(to_parent, "d", 1) != 1)
                _exit(1);
        while (read(from_parent, &c, 1) > 0)
                ;
        _exit(0);
}

static int write_map(int procfd, const char *file, uint32_t base, uint32_t size, rk_error *err)
{
        char line[64];
        int n = snprintf(line, sizeof(line), "0 %u %u\n", base, size);
        _cleanup_close_ int fd = openat(procfd, file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 || write(fd, line, (size_t)n) != n)
                return rk_err_errno(err, negative_errno(), "cannot write the pod's %s", file);
        return 0;
}

static int open_ns(int procfd, const char *name, int *ret, rk_error *err)
{
        char path[32];
        snprintf(path, sizeof(path), "ns/%s", name);
        /* above the fds exec.c moves into place (3: the error pipe, 4: see keep_fd) */
        _cleanup_close_ int fd = openat(procfd, path, O_RDONLY | O_CLOEXEC);
        *ret = fd < 0 ? fd : fcntl(fd, F_DUPFD_CLOEXEC, 8);
        if (*ret < 0)
                return rk_err_errno(err, negative_errno(), "cannot open the pod's %s namespace",
                                    name);
        return 0;
}

static int talk(pid_t pid, int to_child, int from_child, const struct s1_plan *plan, rk_error *err)
{
        char c = 0, path[32];
        if (read(from_child, &c, 1) != 1 || c != 'r')
                return rk_err(err, -ECHILD, "the pod's user namespace could not be created");
        snprintf(path, sizeof(path), "/proc/%d", (int)pid);
        _cleanup_close_ int procfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (procfd < 0)
                return rk_err_errno(err, negative_errno(), "%s", path);
        /* gid_map first (crun's order); both by us, root on the host, in one line each */
        int r = write_map(procfd, "gid_map", plan->gid_base, plan->userns_size, err);
        if (r >= 0)
                r = write_map(procfd, "uid_map", plan->uid_base, plan->userns_size, err);
        if (r >= 0)
                r = open_ns(procfd, "user", &us.user_fd, err);
        if (r >= 0 && (write(to_child, "g", 1) != 1 || read(from_child, &c, 1) != 1 || c != 'd'))
                r = rk_err(err, -ECHILD, "the pod's namespaces could not be made");
        if (r >= 0)
                r = open_ns(procfd, "uts", &us.uts_fd, err);
        if (r >= 0)
                r = open_ns(procfd, "ipc", &us.ipc_fd, err);
        if (r >= 0 && plan->net != S1_NET_HOST)
                r = open_ns(procfd, "net", &us.net_fd, err);
        return r;
}

/* The tree as the pod's ids see it. -EINVAL/-ENOTSUP/-EPERM from mount_setattr: the
 * filesystem (or this kernel) cannot idmap it; -EBADF is returned and the app gets a copy. */
static int idmapped_tree(const struct s1_app *app, rk_error *err)
{
        _cleanup_close_ int t =
            (int)syscall(SYS_open_tree, AT_FDCWD, app->tree, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (t < 0)
                return rk_err_errno(err, negative_errno(), "cannot open the tree '%s'", app->tree);
        struct mount_attr a = {.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY,
                               .userns_fd = (uint64_t)us.user_fd};
        if (syscall(SYS_mount_setattr, t, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0) {
                int e = errno;
                if (e != EINVAL && e != ENOTSUP && e != EOPNOTSUPP && e != EPERM)
                        return rk_err_errno(err, -e, "cannot idmap the tree '%s'", app->tree);
                rk_log_warning("app '%s': the tree cannot be idmapped (%s): using a copy "
                               "chown'ed to the pod's ids",
                               app->name, strerror(e));
                return -EBADF;
        }
        return TAKE_FD(t);
}

int s1_userns_setup(const struct s1_pod *pod, rk_error *err)
{
        const struct s1_plan *plan = pod->plan;
        if (!plan->userns)
                return 0;
        us.user_fd = us.net_fd = us.uts_fd = us.ipc_fd = -EBADF;
        us.uid_base = plan->uid_base;
        us.gid_base = plan->gid_base;
        int up[2], down[2];
        if (pipe2(up, O_CLOEXEC) < 0)
                return rk_err_errno(err, negative_errno(), "pipe");
        if (pipe2(down, O_CLOEXEC) < 0) {
                (void)close(up[0]);
                (void)close(up[1]);
                return rk_err_errno(err, negative_errno(), "pipe");
        }
        pid_t pid = fork();
        if (pid == 0) {
                (void)close(up[0]);
                (void)close(down[1]);
                helper(plan, up[1], down[0]);
        }
        (void)close(up[1]);
        (void)close(down[0]);
        int r = pid < 0 ? rk_err_errno(err, negative_errno(), "fork")
                        : talk(pid, down[1], up[0], plan, err);
        (void)close(down[1]); /* EOF: the helper exits; the namespaces live on in our fds */
        (void)close(up[0]);
        if (pid > 0 && (waitpid(pid, NULL, 0) < 0 || r < 0))
                (void)kill(pid, SIGKILL);
        if (r < 0)
                return r;
        for (size_t i = 0; i < plan->n_apps; i++) {
                us.tree[i] = -EBADF;
                if (plan->no_overlay)
                        continue;
                if (plan->userns_chown) {
                        rk_log_warning("app '%s': using a copy chown'ed to the pod's ids (forced)",
                                       plan->apps[i].name);
                        continue;
                }
                int t = idmapped_tree(&plan->apps[i], err);
                if (t < 0 && t != -EBADF)
                        return t;
                us.tree[i] = t;
        }
        us.active = true;
        rk_log_debug("user namespace: 0-%u -> %u (uids), %u (gids)", plan->userns_size - 1,
                     plan->uid_base, plan->gid_base);
        return 0;
}

int s1_userns_tree(const struct s1_pod *pod, const struct s1_app *app)
{
        if (!us.active)
                return -EBADF;
        size_t i = (size_t)(app - pod->plan->apps);
        return i < pod->plan->n_apps && us.tree[i] >= 0 ? fcntl(us.tree[i], F_DUPFD_CLOEXEC, 3)
                                                        : -EBADF;
}

bool s1_userns_copy(const struct s1_pod *pod, const struct s1_app *app)
{
        if (!us.active)
                return false;
        size_t i = (size_t)(app - pod->plan->apps);
        return i < pod->plan->n_apps && us.tree[i] < 0;
}

int s1_userns_join_pod_ns(rk_error *err)
{
        if (setns(us.uts_fd, CLONE_NEWUTS) < 0 || setns(us.ipc_fd, CLONE_NEWIPC) < 0)
                return rk_err_errno(err, negative_errno(),
                                    "cannot join the pod's UTS and IPC namespaces");
        return 0;
}

int s1_userns_join_net(rk_error *err)
{
        if (setns(us.net_fd, CLONE_NEWNET) < 0)
                return rk_err_errno(err, negative_errno(),
                                    "cannot join the pod's network namespace");
        return 0;
}

int s1_userns_enter(rk_error *err)
{
        if (!us.active)
                return 0;
        /* Full capabilities inside, none outside; the steps that follow drop them. */
        if (setns(us.user_fd, CLONE_NEWUSER) < 0)
                return rk_err_errno(err, negative_errno(), "cannot enter the pod's user namespace");
        us.user_fd = safe_close(us.user_fd);
        return 0;
}

void s1_userns_adopt(const struct s1_plan *plan, int user_fd)
{
        us.active = true;
        us.uid_base = plan->uid_base;
        us.gid_base = plan->gid_base;
        us.user_fd = user_fd;
        us.net_fd = us.uts_fd = us.ipc_fd = -EBADF;
        for (size_t i = 0; i < S1_MAX_APPS; i++)
                us.tree[i] = -EBADF;
}

int s1_userns_keep_fd(int fd)
{
        if (!us.active || us.user_fd < 0)
                return fd;
        if (us.user_fd != fd && dup3(us.user_fd, fd, O_CLOEXEC) < 0)
                return fd; /* closed with the rest: entering then fails, loudly */
        us.user_fd = fd;
        return fd + 1;
}

int s1_userns_own(int fd, rk_error *err)
{
        if (us.active && fchown(fd, us.uid_base, us.gid_base) < 0)
                return rk_err_errno(err, negative_errno(), "cannot give a file to the pod's root");
        return 0;
}
