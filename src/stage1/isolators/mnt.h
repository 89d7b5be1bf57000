/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Small wrappers over the fd-based mount API (fsopen/fsmount/open_tree/move_mount): every
 * mount is made on an fd we resolved ourselves, never on a path string the kernel re-walks. */

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "stage1/stage1.h"

/* One app's root while it is being built (in the app's own mount namespace). */
struct s1_app_root {
        const struct s1_pod *pod;
        const struct s1_app *app;
        int pod_fd;              /* the pod directory, reopened in this mount namespace */
        char pod_path[PATH_MAX]; /* its name, as the kernel reports it */
        int root;                /* the app's root mount */
        /* Mounts a volume target may lie on: the root, then each volume as it is attached
         * (so a plan can nest /data/logs in /data, never a target on /proc, /sys or /dev). */
        uint64_t mnt_ids[S1_MAX_MOUNTS + 1];
        size_t n_mnt_ids;
        char *rec; /* lines for the pod's mounts file, written once at the end */
        size_t rec_len, rec_cap;
};

/* mounts.c: note a mount at <root>/rel ("" for the root itself) for the mounts file; and
 * release the root's fds, writing the notes out. */
void s1_record(struct s1_app_root *ar, const char *rel);
void s1_app_root_done(struct s1_app_root *ar);

/* dev.c: a runtime-owned tmpfs on <root>/dev with the spec's nodes only. console is the
 * terminal to bind on /dev/console (interactive), or -1. Returns the /dev mount fd. */
int s1_dev_setup(struct s1_app_root *ar, int console, rk_error *err);

/* volumes.c: bind the app's volumes into its root. */
int s1_mount_volumes(struct s1_app_root *ar, rk_error *err);
/* The mount ID of what fd refers to (statx STATX_MNT_ID), 0 if unknown. */
uint64_t s1_mount_id(int fd);

/* A detached mount of a new filesystem. opts is a constant "key=value,flag,..." list. */
int s1_fs_new(const char *type, const char *opts, unsigned attrs, rk_error *err);
/* Report a failed fsconfig/fsmount on fs, with the kernel's own message when it left one. */
int s1_fs_fail(int fs, const char *type, const char *step, rk_error *err);
/* A detached copy (bind) of dirfd/path; recursive copies submounts too. */
int s1_bind_new(int dirfd, const char *path, bool recursive, rk_error *err);
/* Set mount attributes (MOUNT_ATTR_*) on a mount fd, recursively if asked. */
int s1_mount_set(int mnt, unsigned attrs, bool recursive, const char *what, rk_error *err);
/* Attach the detached mount mnt on the object target refers to. */
int s1_attach(int mnt, int target, const char *what, rk_error *err);
/* Open dirfd/name as a mount point directory, creating it (mode) if missing. A symlink or a
 * non-directory is refused: it could redirect a kernel filesystem out of the root. */
int s1_mountpoint_at(int dirfd, const char *name, mode_t mode, rk_error *err);
