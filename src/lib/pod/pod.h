/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Pods: their directories, their state machine, and the plan stage0 writes for stage1.
 *
 * Layout (ARCHITECTURE.md "On-disk layout", rkt.md 2.3, src/stage1/PLAN.md):
 *
 *   <dir>/pods/<state>/<uuid>/     0700, state one of embryo prepare prepared run
 *                                  exited-garbage garbage
 *   <dir>/pods/lock                shared while a pod is prepared (trees rendered but not yet
 *                                  referenced by a plan), exclusive while trees are collected
 *
 * A pod changes state only by renameat2(RENAME_NOREPLACE) between the state directories, and
 * only by a process holding the exclusive flock(2) on the pod directory (the fd stays valid
 * across the rename). Liveness is that lock: stage0 takes it when it creates the pod and hands
 * the fd to stage1, which holds it for the pod's lifetime; a pod in run/ whose lock is free has
 * exited (rkt.md 2.4):
 *
 *   embryo --> prepare --> prepared --> run --> exited-garbage --> (removed)
 *     |           |  \____________________/^
 *     +-----------+-----------+--> garbage --> (removed)
 *
 * A process killed at any point leaves a directory that rk_pods_gc moves on and removes:
 * embryo/ and prepare/ without a lock holder go to garbage/, run/ without one to
 * exited-garbage/. Removal never crosses into a mount: leftover mounts are detached first, and
 * a directory that is still a mount point stops the removal (so a host volume is never
 * emptied). */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "aci/manifest.h"
#include "aci/types.h"
#include "base/error.h"
#include "base/netcfg.h"
#include "pod/net.h"
#include "store/store.h"

enum rk_pod_state {
        RK_POD_EMBRYO,
        RK_POD_PREPARE,
        RK_POD_PREPARED,
        RK_POD_RUN,
        RK_POD_EXITED_GARBAGE,
        RK_POD_GARBAGE,
        RK_POD_STATE_MAX,
};

/* The directory name of a state ("exited-garbage"). */
const char *rk_pod_state_dir(enum rk_pod_state s);

struct rk_pods;

/* Opens (creating what is missing, 0700) <data_dir>/pods. The data dir and pods/ must belong
 * to the effective uid and be writable by nobody else. */
int rk_pods_open(const char *data_dir, struct rk_pods **ret, rk_error *err);
struct rk_pods *rk_pods_close(struct rk_pods *p);
/* The absolute data dir. */
const char *rk_pods_data_dir(const struct rk_pods *p);
/* pods/lock: LOCK_SH while preparing, LOCK_EX around tree gc (blocking). */
int rk_pods_lock_prepare(struct rk_pods *p, int op, rk_error *err);
void rk_pods_unlock_prepare(struct rk_pods *p);

struct rk_pod {
        struct rk_pods *pods; /* borrowed */
        char uuid[RK_UUID_STRING_MAX];
        enum rk_pod_state state;
        int fd;   /* the pod directory (O_RDONLY|O_DIRECTORY, CLOEXEC); the lock is on it */
        int lock; /* 0, LOCK_SH or LOCK_EX, as held through fd */
};

/* A new pod with a random v4 UUID: embryo/<uuid> is created 0700 with pod-created, locked
 * exclusively and renamed to prepare/. The lock is held on return. */
int rk_pod_create(struct rk_pods *p, struct rk_pod **ret, rk_error *err);
/* Opens a pod by UUID or unique UUID prefix (at least 1 hex digit; dashes optional), in any
 * state. -ENOENT "no pod", -ENOTUNIQ for an ambiguous prefix, -EINVAL for a malformed one. No
 * lock is taken. */
int rk_pod_open(struct rk_pods *p, const char *uuid_or_prefix, struct rk_pod **ret, rk_error *err);
/* Releases the lock (if this process still holds it) and frees. Returns NULL. */
struct rk_pod *rk_pod_close(struct rk_pod *pod);
static inline void rk_pod_closep(struct rk_pod **p)
{
        if (*p)
                rk_pod_close(*p);
}
#define _cleanup_pod_ __attribute__((cleanup(rk_pod_closep)))

/* flock(2) on the pod directory: op is LOCK_SH or LOCK_EX, optionally | LOCK_NB. -EBUSY when
 * LOCK_NB and someone else holds it, -EINTR when a signal interrupts a blocking wait. After the
 * lock is taken the pod's state is re-read (it may have moved before). */
int rk_pod_lock(struct rk_pod *pod, int op, rk_error *err);
void rk_pod_unlock(struct rk_pod *pod);
/* 1 if another open file holds the lock (the pod is being prepared, run or removed), 0 if
 * not. Does not disturb a lock this process holds. */
int rk_pod_is_locked(struct rk_pod *pod);
/* Finds the state directory that holds this pod now (by inode); -ENOENT if it is gone. */
int rk_pod_refresh(struct rk_pod *pod, rk_error *err);
/* Moves the pod to state to. Requires the exclusive lock (-ENOLCK) and an allowed transition
 * (-EINVAL); -ENOENT if the pod is no longer where it was. */
int rk_pod_transition(struct rk_pod *pod, enum rk_pod_state to, rk_error *err);
/* "<data dir>/pods/<state>/<uuid>" into buf; -ENAMETOOLONG if it does not fit. */
int rk_pod_path(const struct rk_pod *pod, char *buf, size_t size);

/* ---- status ---- */

struct rk_pod_app_status {
        char *name;
        char *image_name; /* NULL if unknown */
        char *image_id;   /* NULL if unknown */
        int exit_code;    /* valid when has_exit_code */
        bool has_exit_code;
        int64_t started_ns;  /* 0: not started */
        int64_t finished_ns; /* 0: not finished */
};

struct rk_pod_status {
        char uuid[RK_UUID_STRING_MAX];
        enum rk_pod_state state;
        /* rkt's names: embryo, preparing, aborted prepare, prepared, running, exited, exited
         * garbage, exited deleting, garbage, deleting */
        const char *state_name;
        bool locked;
        bool exited;        /* ran and finished */
        int64_t created_ns; /* ctime of pod-created, 0 if missing */
        int64_t started_ns; /* mtime of pid, 0 if not started */
        pid_t pid;          /* 0 if unknown */
        char net[96]; /* the plan's network, the named networks joined by ',' ("" if unknown) */
        char ip[16];  /* the pod's IPv4 address (named networks: eth0's, while attached), else "" */
        struct rk_pod_app_status *apps;
        size_t n_apps;
};
void rk_pod_status_clear(struct rk_pod_status *s);
int rk_pod_status_read(struct rk_pod *pod, struct rk_pod_status *ret, rk_error *err);
/* Every pod, ordered by creation time then UUID. Pods that vanish while listed are skipped. */
int rk_pods_list(struct rk_pods *p, struct rk_pod_status **ret, size_t *ret_n, rk_error *err);
void rk_pod_statuses_free(struct rk_pod_status *v, size_t n);

/* ---- removal and garbage collection ---- */

/* Runs "rkt-stage1 gc --pod-dir=DIR" (the CLI provides it; NULL skips the step). */
typedef int (*rk_pod_stage1_gc_fn)(void *userdata, const char *pod_dir, rk_error *err);

/* rkt rm: a prepared, exited or garbage pod (or an aborted prepare) is moved to garbage/ or
 * exited-garbage/ and removed now. A running or preparing pod is refused (-EBUSY). */
int rk_pod_remove(struct rk_pod *pod, rk_pod_stage1_gc_fn stage1_gc, void *userdata, rk_error *err);

struct rk_pods_gc_opts {
        int64_t grace_ns;           /* exited-garbage/ pods marked longer ago are removed */
        int64_t expire_prepared_ns; /* prepared/ pods older than this go to garbage/ */
        bool mark_only;
        rk_pod_stage1_gc_fn stage1_gc;
        void *userdata;
};

struct rk_pods_gc_report {
        size_t marked_exited;    /* run/ -> exited-garbage/ */
        size_t marked_garbage;   /* embryo/, prepare/ -> garbage/ */
        size_t expired_prepared; /* prepared/ -> garbage/ */
        size_t removed;
        size_t failed; /* pods that could not be removed (err holds the first reason) */
};

/* Mark, then sweep (rkt.md 2.4). Pods that are locked are left alone. Returns 0, or the first
 * failure (the other pods are still processed). Audit event "gc" when a pod was removed. */
int rk_pods_gc(struct rk_pods *p, const struct rk_pods_gc_opts *o, struct rk_pods_gc_report *ret,
               rk_error *err);

/* For rk_store_gc's tree_in_use: true if a pod that is not yet removed references the tree in
 * its plan (userdata: struct rk_pods *). A pod in garbage/ or exited-garbage/ keeps its tree
 * until it is removed. Errors count as "in use". */
bool rk_pods_tree_in_use(void *userdata, const char *tree_id);

/* Mounts (from /proc/self/mountinfo) at or below path, deepest first. */
int rk_mounts_below(const char *path, char ***ret, size_t *ret_n, rk_error *err);

/* ---- the plan (plan.c) ---- */

/* --mount volume=NAME,target=PATH */
struct rk_mount_opt {
        char *volume;
        char *target;
};

/* One IMAGE of rkt run/prepare and the app flags after it. */
struct rk_app_opts {
        char *image; /* as given */
        char *name;  /* --name, or NULL: from the image name */
        char *exec;  /* --exec: replaces argv[0] */
        char **args; /* after "--": appended to the exec */
        size_t n_args;
        char *user, *group;
        uint32_t *supplementary_gids;
        size_t n_supplementary_gids;
        bool has_supplementary_gids;
        char *working_dir;
        struct rk_name_values environment; /* --environment, in order (last wins) */
        bool readonly_rootfs;
        char *signature;
        struct rk_mount_opt *mounts;
        size_t n_mounts;
        char *caps_retain, *caps_remove; /* --caps-retain/--caps-remove: "CAP_X,..." or NULL */
        char *seccomp;                   /* --seccomp=mode=...,... (checked) or NULL */
        char *seccomp_profile;           /* --seccomp-profile: the file's text (checked) or NULL */
        size_t seccomp_profile_len;
        char *memory, *cpu;                /* --memory/--cpu: checked quantities, or NULL */
        int64_t cpu_shares, oom_score_adj; /* --cpu-shares/--oom-score-adj, when has_ */
        bool has_cpu_shares, has_oom_score_adj;
};

struct rk_pod_opts {
        struct rk_app_opts *apps;
        size_t n_apps;
        struct rk_volume *volumes; /* --volume */
        size_t n_volumes;
        struct rk_mount_opt *mounts; /* --mount before the first IMAGE: every app */
        size_t n_mounts;
        struct rk_name_values set_env; /* --set-env-file entries, then --set-env, in order */
        char **inherit_env;            /* --inherit-env: the parent's environ, or NULL */
        char *hostname;                /* NULL: "rkt-<uuid>" */
        char *net;        /* none, host, default, default-restricted (net.h), or named CNI networks
                           * "NAME[:ARGS],..." (cni.h); NULL: default */
        const char *netd; /* <local-config>/net.d: the named networks' conflists */
        struct rk_net_port_opt *ports; /* --port, resolved against the apps' ports */
        size_t n_ports;
        bool interactive;
        bool no_overlay;
        bool readonly_rootfs;             /* every app */
        bool insecure_capabilities;       /* --insecure-options=capabilities: all caps */
        bool no_new_privs_off;            /* --no-new-privileges=false */
        bool insecure_seccomp;            /* --insecure-options=seccomp: no filter */
        bool insecure_landlock;           /* --insecure-options=landlock: "landlock": false */
        const char *selinux_lxc_contexts; /* NULL: libselinux's selinux_lxc_context_path() */
        bool private_users;               /* --private-users: own user namespace (userns.h) */
        bool userns_chown;                /* with it: a chown'ed copy, not an idmapped mount */
        bool insecure_cgroups;            /* --insecure-options=cgroups: missing controllers ok */
        int64_t pids_limit;               /* --pids-limit (0: none), when has_pids_limit */
        bool has_pids_limit;
        struct rk_pod_manifest *manifest; /* --pod-manifest (validated runnable), or NULL */
        struct rk_dns_opts dns;           /* --dns*, --hosts-entry (base/netcfg.h) */
};
void rk_pod_opts_clear(struct rk_pod_opts *o);

/* Parsers for the flag values (unit-tested). Messages name the flag and the value. */
int rk_parse_volume_opt(const char *arg, struct rk_volume *ret, rk_error *err);
int rk_parse_mount_opt(const char *arg, struct rk_mount_opt *ret, rk_error *err);
/* "K=V" (name per appc environment rules) appended to l, replacing an earlier K. */
int rk_env_set_opt(struct rk_name_values *l, const char *arg, const char *flag, rk_error *err);
int rk_env_set(struct rk_name_values *l, const char *name, const char *value, rk_error *err);
/* --set-env-file: lines K=V; blank lines and lines starting with # or ; are skipped. */
int rk_env_file_parse(const char *what, const char *buf, size_t len, struct rk_name_values *l,
                      rk_error *err);
/* "1,2,3" */
int rk_parse_gids(const char *arg, uint32_t **ret, size_t *ret_n, rk_error *err);

/* user/group resolution inside an image (appc 3.1): a name in the image's /etc/passwd or
 * /etc/group, else a number, else (starting with "/") the owner of that path in the image.
 * rootfd is the image's rendered rootfs; nothing outside it is read. -ENOENT if unknown. */
int rk_resolve_user(int rootfd, const char *user, uint32_t *ret, rk_error *err);
int rk_resolve_group(int rootfd, const char *group, uint32_t *ret, rk_error *err);

/* execvp-like search of prog in the colon list path, inside rootfd. An absolute prog is
 * returned as is (stage1's execve reports it missing); one with a '/' is taken relative to cwd.
 * Relative and empty PATH entries are skipped: what they find would depend on the working
 * directory. *ret gets the absolute path. -ENOENT not found (exit 127), -EACCES found but not
 * an executable regular file (126). */
int rk_find_exec(int rootfd, const char *path, const char *cwd, const char *prog, char **ret,
                 rk_error *err);

/* A host volume's source must exist, and neither it nor any directory on the way may be a
 * symlink (appc 7.3): a symlink would let whoever controls it choose what the pod sees. */
int rk_check_host_source(const char *source, rk_error *err);

/* The environment of an app (appc 7.6), in order, last wins:
 *   PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin, the inherited
 *   environment (--inherit-env), the app's environment (image, --set-env-file, --set-env,
 *   --environment, merged by rk_pod_manifest_build), then AC_APP_NAME=<app> and container=rkt,
 *   which the app cannot override. Returned as "K=V" strings. */
#define RK_APP_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
int rk_app_env(const char *app_name, char *const *inherited, const struct rk_name_values *app_env,
               char ***ret, size_t *ret_n, rk_error *err);

/* An image of the pod, resolved and admitted by the caller. */
struct rk_pod_image {
        const char *id;                    /* full image ID */
        const struct rk_image_manifest *m; /* its manifest */
};

/* The reified pod manifest (appc 6) from the options and the images (one per o->apps[i], or
 * per o->manifest->apps[i]): app names (--name, else the last component of the image name,
 * unique), the image's app with the flags applied (--exec replaces argv[0], args after "--"
 * are appended, --user, --group, --supplementary-gids, --working-dir, environment merged
 * image < --set-env-file < --set-env < --environment), volumes from --volume plus an implicit
 * empty volume for each mountPoint no volume satisfies, mounts from --mount and the
 * mountPoints. Validated as runnable. */
int rk_pod_manifest_build(const struct rk_pod_opts *o, const struct rk_pod_image *images,
                          struct rk_pod_manifest **ret, rk_error *err);

/* Everything rkt run/prepare does to a pod in prepare/ (locked): render each image's tree,
 * build the manifest, resolve users, groups and exec paths inside the trees, check host
 * volumes, create empty volumes, and write pod, plan.json (PLAN.md) atomically. exec_status
 * gets 127 (not found) or 126 (not executable) when an app's exec cannot be used, else 0. */
int rk_pod_prepare(struct rk_pod *pod, struct rk_store *s, const struct rk_pod_opts *o,
                   const struct rk_pod_image *images, int *exec_status, rk_error *err);

/* Runtime options of run-prepared: net, hostname, interactive (NULL/false keep the plan's). */
int rk_pod_plan_update(struct rk_pod *pod, const char *net, const char *hostname, bool interactive,
                       rk_error *err);
/* The image IDs of a prepared pod's plan, for the audit record. */
int rk_pod_plan_images(struct rk_pod *pod, char ***ret, size_t *ret_n, rk_error *err);
/* The isolator summary of each app of the pod's plan, for the audit log (audit/summary.h). */
int rk_pod_plan_summary(struct rk_pod *pod, json_t **ret, rk_error *err);
