/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* rkt-stage1 internals: one pod, built from the plan stage0 wrote (PLAN.md).
 *
 *   rkt-stage1 run (host PID ns)        re-exec from a sealed memfd, read the plan, fork
 *     └─ init (PID 1 of the pod)        new mnt/uts/ipc/net/cgroup ns, reaps, records statuses
 *          └─ app setup (one per app)   own mount ns: rootfs, /proc, /sys, /dev, volumes,
 *               └─ the app               masks, pivot_root, ids, cwd, fds, execve
 */

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "stage1/plan.h"

/* Exit statuses (PLAN.md). */
#define S1_EXIT_RUNTIME   125 /* stage1 failed before the app could run */
#define S1_EXIT_NOEXEC    126 /* exec found the file but could not run it */
#define S1_EXIT_NOTFOUND  127 /* exec found no such file */
#define S1_EXIT_SIGNAL(n) (128 + (n))

struct s1_cgroups;

struct s1_pod {
        const struct s1_plan *plan;
        const char *path;      /* --pod-dir as given, for messages */
        bool entering;         /* rkt-stage1 enter: the app's steps run for a joining process */
        const char *audit_dir; /* --audit-dir: the data dir whose audit log gets the exit record */
        int pod_fd;            /* the pod directory (O_PATH) */
        int lock_fd;           /* RKT_LOCK_FD: open, locked by stage0, kept for the pod's life */
        int status_fd;         /* status/ */
        int started_fd;        /* started/ */
        int log_fd;            /* log/ (detached pods), else -1 */
        int mounts_fd;         /* mounts, O_APPEND */
        int net_ready_fd;      /* in init's children: readable once the pod's netns exists, or -1 */
        int cni_up_fd;         /* net cni, init: written once the pod's netns exists, or -1 */
        int cni_down_fd;       /* net cni, init: 'y' once the outer process attached it, or -1 */
        bool debug;

        struct s1_cgroups *cg; /* isolators/cgroup.c: the pod's cgroups, or NULL */
};

/* cloned.c: make sure we run from a sealed memfd copy of ourselves (CVE-2019-5736). Returns
 * only when already running from one (or on error); otherwise it re-executes. */
int s1_ensure_cloned(char **argv, rk_error *err);

/* isolators/ns.c: init enters the pod's mount, UTS, IPC and cgroup namespaces, then (after
 * forking the apps) its network namespace and signals ready_fd; each app gets its own mount
 * namespace and joins the network namespace once ready_fd says it exists. */
int s1_ns_pod_enter(const struct s1_plan *plan, rk_error *err);
int s1_ns_pod_net(rk_error *err);
/* isolators/mds.c: with "mds" in the plan, init (in the pod's new network namespace) hands a
 * listener on the pod's 127.0.0.1 to the metadata service. */
int s1_mds_attach(const struct s1_plan *plan, rk_error *err);
int s1_ns_app_enter(rk_error *err);
int s1_ns_app_join_net(int ready_fd, rk_error *err);

/* isolators/net.c (--net=default, default-restricted): init opens a netlink socket in the
 * host's network namespace (host_open) before it makes or joins the pod's, then, inside it,
 * creates and configures the veth pair (setup). gc deletes the host end if it is left. No-ops
 * for none and host. ifname: the host end's name, "rkt" and 12 hex digits of the UUID. */
int s1_net_host_open(const struct s1_plan *plan, rk_error *err);
int s1_net_setup(const struct s1_plan *plan, rk_error *err);
int s1_net_gc(const struct s1_plan *plan, rk_error *err);
void s1_net_ifname(const struct s1_plan *plan, char name[static 16]);

/* isolators/cni.c (net cni): the outer process pins init's network namespace on
 * <pod>/net/netns and runs ADD for each network (undoing all on failure); teardown (pod exit,
 * gc) runs DEL from the caches, last interface first, and unpins. */
int s1_cni_attach(const struct s1_pod *pod, pid_t init, rk_error *err);
int s1_cni_teardown(int pod_fd, rk_error *err);

/* isolators/userns.c (--private-users, PLAN.md "User namespaces"). s1_userns_setup runs in
 * the outer process before init is forked: it makes the user namespace (maps written, nested
 * user namespaces blocked), the UTS, IPC and network namespaces it owns, and an idmapped
 * detached copy of each app's tree. Everything else is a no-op without a user namespace. */
int s1_userns_setup(const struct s1_pod *pod, rk_error *err);
bool s1_userns_active(void);
uid_t s1_userns_host_uid(uid_t uid); /* id in the pod -> id on the host */
gid_t s1_userns_host_gid(gid_t gid);
/* A new fd of the app's idmapped tree, or -EBADF (no user namespace, or a copy is needed). */
int s1_userns_tree(const struct s1_pod *pod, const struct s1_app *app);
/* Whether the app's root must be a copy chown'ed to the pod's ids. */
bool s1_userns_copy(const struct s1_pod *pod, const struct s1_app *app);
int s1_userns_join_pod_ns(rk_error *err); /* init: UTS and IPC */
int s1_userns_join_net(rk_error *err);    /* init: the network namespace */
int s1_userns_enter(rk_error *err);       /* the app, before its capability steps */
/* Before closing every fd from fd up: keeps the user namespace fd as fd (until entered) and
 * returns the first fd that may be closed. */
int s1_userns_keep_fd(int fd);
int s1_userns_own(int fd, rk_error *err); /* chown a file we made to the pod's root */
/* enter (a process s1_userns_setup never ran in): take user_fd, the pod's user namespace
 * (/proc/<app>/ns/user), so that s1_userns_enter joins it at the app's step of s1_exec_app,
 * after the steps that need host privilege, exactly as for the app. */
void s1_userns_adopt(const struct s1_plan *plan, int user_fd);

/* isolators/mounts.c: build the app's root in its own mount namespace and pivot_root into
 * it. On return "/" is the app's root and nothing of the host is mounted. Each mount is noted
 * in the pod's mounts file as "rootfs/<app>/<path>" (for gc after a crash). */
int s1_mount_app(const struct s1_pod *pod, const struct s1_app *app, rk_error *err);
/* /etc/hosts and /etc/resolv.conf in an app's root (isolators/etc.c). */
int s1_write_etc(const struct s1_pod *pod, int root, rk_error *err);

/* isolators/cgroup.c (PLAN.md, "Cgroups"): the outer process makes the pod's and the apps'
 * cgroups (pod_create) and starts init (fork_init: on v2 in the pod's cgroup); on v1 init
 * joins the pod's before its cgroup namespace (pod_enter) and, on
 * v2, moves to its leaf and hands the controllers down after it (pod_finish); fork_app starts
 * an app's setup process (on v2 in its cgroup: clone3 CLONE_INTO_CGROUP), which joins it on v1
 * (app_join) before anything else; app_oom writes oom_score_adj in the app's exec steps. gc
 * removes rkt/<uuid> (the plan's UUID) from every hierarchy, leaves first. */
int s1_cgroup_pod_create(struct s1_pod *pod, rk_error *err);
int s1_cgroup_pod_enter(const struct s1_pod *pod, rk_error *err);
int s1_cgroup_pod_finish(const struct s1_pod *pod, rk_error *err);
pid_t s1_cgroup_fork_init(const struct s1_pod *pod);
pid_t s1_cgroup_fork_app(const struct s1_pod *pod, size_t idx);
int s1_cgroup_app_join(const struct s1_pod *pod, const struct s1_app *app, rk_error *err);
/* enter: open app idx's existing cgroups (from the host's mount namespace) into a new pod->cg,
 * so that s1_cgroup_app_join puts the entering command where the app is. */
int s1_cgroup_enter_open(struct s1_pod *pod, size_t idx, rk_error *err);
int s1_cgroup_app_oom(const struct s1_app *app, rk_error *err);
/* Close every cgroup fd (init, once the apps are started: none stays reachable in the pod). */
void s1_cgroup_close(const struct s1_pod *pod);
int s1_cgroup_gc(int pod_fd, rk_error *err);
/* isolators/selinux.c: set the exec label the app runs with (where SELinux is enabled). */
int s1_selinux_exec_label(const struct s1_app *app, rk_error *err);
/* isolators/landlock.c: restrict the calling process to the app's root and volumes. */
int s1_landlock_apply(const struct s1_app *app, rk_error *err);

/* audit.c: append the pod's "exit" record (status, each app's status, isolator summary) to
 * the audit log of pod->audit_dir. error: stage1's own failure, or NULL. */
int s1_audit_exit(const struct s1_pod *pod, int status, const char *error, rk_error *err);

/* copy.c: copy a tree without following symlinks (noOverlay). dst must be empty. */
int s1_copy_tree(int src_dirfd, int dst_dirfd, rk_error *err);
/* The same, with every owner id below size moved up by uid_base/gid_base (--private-users). */
int s1_copy_tree_shifted(int src_dirfd, int dst_dirfd, uid_t uid_base, gid_t gid_base,
                         uint32_t size, rk_error *err);

/* exec.c: the app's setup process (forked by init); never returns. err_fd reports failures
 * to init as text lines. */
_noreturn_ void s1_app_main(const struct s1_pod *pod, size_t idx, int err_fd);
/* exec.c: the app's isolator steps in ARCHITECTURE.md's order (cgroup, rlimits, SELinux
 * label, bounding set, keep-caps, ids, cwd, capset, ambient, no_new_privs, Landlock, close
 * fds, seccomp), then execve(argv). The one path to stage2: the app, its handlers and `enter`
 * all go through it, so an isolator added here applies to all three. Called inside the app's
 * root and namespaces; err_fd (CLOEXEC) gets a failure as a text line; never returns (exit
 * 125 setup, 126 not executable, 127 not found). A step may use only pod->plan, app and what
 * is reachable inside the app's root and namespaces: under enter, pod->pod_fd and the other
 * fds are -EBADF (the app's setup has closed them by then too). */
_noreturn_ void s1_exec_app(const struct s1_pod *pod, const struct s1_app *app,
                            const struct s1_argv *argv, int err_fd);

/* exec.c: log what a setup process wrote to its error pipe before it exited, a line each,
 * as "<what> '<app>': <line>". */
void s1_drain_errors(const char *what, const char *app, int fd);

/* init.c: the pod's PID 1; never returns. sync_fd delivers the outer process's go-ahead. */
_noreturn_ void s1_init_main(const struct s1_pod *pod, int sync_fd);

/* enter.c, stop.c: the stage1 entrypoints of the same names (PLAN.md). Exit statuses: enter
 * the command's (125 when entering failed), stop 0 or 1. */
int s1_enter(const char *pod_path, const char *app_name, char **cmd, bool debug);
int s1_stop(const char *pod_path, bool force, unsigned timeout_s);

/* pids.c: pids/<name> records "<host pid> <starttime>" (PLAN.md) for "init" and "app-<app>".
 * Parsers are pure (unit-tested). s1_proc_stat reads /proc/<which>/stat ("self" or a PID). */
int s1_stat_parse(const char *buf, size_t len, pid_t *ret_pid, uint64_t *ret_start);
int s1_pids_parse(const char *buf, size_t len, pid_t *ret_pid, uint64_t *ret_start);
int s1_proc_stat(const char *which, pid_t *ret_pid, uint64_t *ret_start, rk_error *err);
int s1_pids_write(int pod_fd, const char *name, pid_t pid, uint64_t start, rk_error *err);
int s1_pids_read(int pod_fd, const char *name, pid_t *ret_pid, uint64_t *ret_start, rk_error *err);
/* /proc/<pid>/limits into n rlimits in resource order (readable without CAP_SYS_RESOURCE,
 * unlike prlimit on another user's process). */
struct rlimit;
int s1_limits_parse(const char *buf, size_t len, struct rlimit *ret, size_t n);
/* A pidfd for pid, only if that process still has the recorded start time (-ESRCH if not). */
int s1_pidfd_open_verified(pid_t pid, uint64_t start, rk_error *err);

/* gc.c: unmount what run mounted under the pod dir and remove overlay/ and rootfs/. */
int s1_gc(const char *pod_path, rk_error *err);

/* Map a wait(2) status to the pod's exit-status convention. */
int s1_exit_code(int wstatus);
/* The signals rkt-stage1 and init wait for (blocked): SIGCHLD and those that stop a pod. */
void s1_pod_sigset(sigset_t *set);
/* Whether to pass a received signal on to the pod (not a terminal's, already delivered). */
bool s1_forward_signal(const struct s1_pod *pod, const siginfo_t *si);
