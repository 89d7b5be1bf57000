/* SPDX-License-Identifier: Apache-2.0 */
/* Landlock: after pivot_root the app may reach files only beneath its own root (and, through
 * the bind mounts there, its volumes). What that adds to the mount namespace: a path that
 * resolves outside the app's hierarchy is refused even when the app can name it, e.g. through
 * /proc/<pid>/root or /proc/<pid>/cwd of a process in another mount namespace (the pod's init
 * still has the host's root), or through a directory fd leaked into the app.
 *
 * Rules (path-beneath, keyed by the directories opened here, after pivot_root):
 *   /        read and execute; with a writable root every filesystem right
 *   /dev     read and write (the null, zero, tty... nodes and /dev/shm)
 *   /proc    read, and write to existing files (/proc/self/... knobs; the kernel's own paths
 *            are masked or read-only already)
 *   /sys     read
 *   volumes  read and execute; unless readOnly, every filesystem right
 * A rule grants rights to everything beneath it, so with a writable root a readOnly volume is
 * kept read-only by its mount flags (MOUNT_ATTR_RDONLY), which a Landlock domain cannot change
 * (no mount, remount or umount). Device creation is left to CAP_MKNOD (not in the default set)
 * and to nodev, which every mount of the app has: Landlock would only change EPERM to EACCES.
 *
 * Scoping (ABI 6): signals only to processes of this domain (the app's own children, which
 * inherit it), and no connect to abstract unix sockets created outside it (with --net=host
 * those are the host's: the containerd-shim CVE-2020-15257 class).
 *
 * The ABI is negotiated: rights the kernel does not know are dropped from what is handled,
 * so an older kernel enforces less instead of refusing the app. Without Landlock (ENOSYS: not
 * built; EOPNOTSUPP: disabled at boot) the app runs without it and stage1 says so; stage0
 * records the same fact in the run's audit record. Raw syscalls: Debian 12's headers stop at
 * ABI 2, so what is needed is defined here. */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/path.h"
#include "stage1/stage1.h"

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule       445
#define SYS_landlock_restrict_self  446
#endif

#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH      1

#define LL_FS_EXECUTE     (1ULL << 0)
#define LL_FS_WRITE_FILE  (1ULL << 1)
#define LL_FS_READ_FILE   (1ULL << 2)
#define LL_FS_READ_DIR    (1ULL << 3)
#define LL_FS_REMOVE_DIR  (1ULL << 4)
#define LL_FS_REMOVE_FILE (1ULL << 5)
#define LL_FS_MAKE_CHAR   (1ULL << 6)
#define LL_FS_MAKE_DIR    (1ULL << 7)
#define LL_FS_MAKE_REG    (1ULL << 8)
#define LL_FS_MAKE_SOCK   (1ULL << 9)
#define LL_FS_MAKE_FIFO   (1ULL << 10)
#define LL_FS_MAKE_BLOCK  (1ULL << 11)
#define LL_FS_MAKE_SYM    (1ULL << 12)
#define LL_FS_REFER       (1ULL << 13) /* ABI 2 */
#define LL_FS_TRUNCATE    (1ULL << 14) /* ABI 3 */
#define LL_FS_IOCTL_DEV   (1ULL << 15) /* ABI 5 */

#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL               (1ULL << 1) /* ABI 6 */

struct ll_ruleset_attr {
        uint64_t handled_access_fs;
        uint64_t handled_access_net; /* ABI 4 */
        uint64_t scoped;             /* ABI 6 */
};

struct ll_path_beneath_attr {
        uint64_t allowed_access;
        int32_t parent_fd;
} __attribute__((packed));

#define LL_READ (LL_FS_EXECUTE | LL_FS_READ_FILE | LL_FS_READ_DIR)
/* Every filesystem right the given ABI knows. */
static uint64_t fs_rights(int abi)
{
        uint64_t r = (LL_FS_MAKE_SYM << 1) - 1; /* ABI 1 */
        if (abi >= 2)
                r |= LL_FS_REFER;
        if (abi >= 3)
                r |= LL_FS_TRUNCATE;
        if (abi >= 5)
                r |= LL_FS_IOCTL_DEV;
        return r;
}

/* The highest ABI, or -ENOSYS / -EOPNOTSUPP when the kernel has no (enabled) Landlock. */
static int ll_abi(void)
{
        long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
        return v < 0 ? -errno : (int)v;
}

/* The rights that mean something on a file (a volume may be a single file). */
#define LL_FILE_RIGHTS                                                                             \
        (LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)

static int add_rule(int ruleset, int root, const char *path, uint64_t allowed, uint64_t handled,
                    const struct s1_app *app, rk_error *err)
{
        /* Resolved in the app's root as the volume code resolved the mount target (symlinks
         * stay inside). A path the app's ids cannot reach (we already are the app's user) gets
         * no rule: Landlock then denies everything there, which is stricter. */
        _cleanup_close_ int fd = rk_open_in_root(root, path, O_PATH, 0, 0, NULL);
        if (fd == -EACCES)
                return 0;
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return rk_err_errno(err, fd < 0 ? fd : negative_errno(),
                                    "app %s: Landlock: cannot open '%s'", app->name, path);
        if (!S_ISDIR(st.st_mode))
                allowed &= LL_FILE_RIGHTS;
        struct ll_path_beneath_attr pb = {.allowed_access = allowed & handled, .parent_fd = fd};
        if (syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &pb, 0) < 0)
                return rk_err_errno(err, negative_errno(),
                                    "app %s: Landlock: cannot add a rule for '%s'", app->name,
                                    path);
        return 0;
}

static int add_rules(int ruleset, uint64_t handled, const struct s1_app *app, rk_error *err)
{
        _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return rk_err_errno(err, negative_errno(), "app %s: Landlock: cannot open /",
                                    app->name);
        uint64_t all = handled;
        int r =
            add_rule(ruleset, root, "/", app->read_only_rootfs ? LL_READ : all, handled, app, err);
        if (r >= 0)
                r = add_rule(ruleset, root, "/dev", all, handled, app, err);
        if (r >= 0)
                r = add_rule(ruleset, root, "/proc", LL_READ | LL_FS_WRITE_FILE | LL_FS_TRUNCATE,
                             handled, app, err);
        if (r >= 0)
                r = add_rule(ruleset, root, "/sys", LL_READ, handled, app, err);
        for (size_t i = 0; r >= 0 && i < app->n_mounts; i++) {
                const struct s1_mount *m = &app->mounts[i];
                r = add_rule(ruleset, root, m->target, m->read_only ? LL_READ : all, handled, app,
                             err);
        }
        return r;
}

int s1_landlock_apply(const struct s1_app *app, rk_error *err)
{
        if (!app->landlock)
                return 0;
        int abi = ll_abi();
        if (abi == -ENOSYS || abi == -EOPNOTSUPP) {
                /* Stage0 has warned and audited the same; said again here, where it happens. */
                fprintf(stderr,
                        "rkt-stage1: warning: app %s runs without Landlock: the kernel %s it\n",
                        app->name, abi == -ENOSYS ? "does not support" : "has disabled");
                return 0;
        }
        if (abi < 0)
                return rk_err_errno(err, abi, "app %s: Landlock: cannot query the ABI", app->name);
        struct ll_ruleset_attr attr = {.handled_access_fs = fs_rights(abi)};
        size_t size = offsetof(struct ll_ruleset_attr, handled_access_net);
        if (abi >= 6) {
                attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
                size = sizeof(attr);
        }
        _cleanup_close_ int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
        if (ruleset < 0)
                return rk_err_errno(err, negative_errno(),
                                    "app %s: Landlock: cannot create a ruleset", app->name);
        int r = add_rules(ruleset, attr.handled_access_fs, app, err);
        if (r < 0)
                return r;
        /* Needs no_new_privs or CAP_SYS_ADMIN: exec.c calls this after PR_SET_NO_NEW_PRIVS, or
         * (noNewPrivileges false) early, while the setup process still has its capabilities. */
        if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
                return rk_err_errno(err, negative_errno(),
                                    "app %s: Landlock: cannot restrict the app (ABI %d)", app->name,
                                    abi);
        return 0;
}
