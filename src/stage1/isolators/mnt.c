/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "stage1/isolators/mnt.h"

/* The kernel explains fsconfig failures on the context fd ("e overlay: ..."): keep that. */
int s1_fs_fail(int fs, const char *type, const char *step, rk_error *err)
{
        int r = negative_errno();
        char msg[200];
        ssize_t n = read(fs, msg, sizeof(msg) - 1);
        if (n > 2) {
                msg[n] = 0;
                msg[strcspn(msg, "\n")] = 0;
                return rk_err(err, r, "cannot mount %s (%s): %s: %s", type, step, msg + 2,
                              strerror(-r));
        }
        return rk_err_errno(err, r, "cannot mount %s (%s)", type, step);
}

int s1_fs_new(const char *type, const char *opts, unsigned attrs, rk_error *err)
{
        _cleanup_close_ int fs = fsopen(type, FSOPEN_CLOEXEC);
        if (fs < 0)
                return rk_err_errno(err, negative_errno(), "cannot mount %s (fsopen)", type);
        /* The source shows in the app's mountinfo: name the filesystem, as mount(8) does. */
        if (fsconfig(fs, FSCONFIG_SET_STRING, "source", type, 0) < 0)
                return s1_fs_fail(fs, type, "source", err);
        char buf[256];
        if (strlen(opts) >= sizeof(buf))
                return rk_err(err, -ENAMETOOLONG, "mount options for %s", type);
        strcpy(buf, opts);
        char *save = NULL;
        for (char *o = strtok_r(buf, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(o, '=');
                if (eq)
                        *eq = 0;
                int r = eq ? fsconfig(fs, FSCONFIG_SET_STRING, o, eq + 1, 0)
                           : fsconfig(fs, FSCONFIG_SET_FLAG, o, NULL, 0);
                if (r < 0)
                        return s1_fs_fail(fs, type, o, err);
        }
        if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return s1_fs_fail(fs, type, "create", err);
        int mnt = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
        if (mnt < 0)
                return s1_fs_fail(fs, type, "fsmount", err);
        return mnt;
}

int s1_bind_new(int dirfd, const char *path, bool recursive, rk_error *err)
{
        unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW;
        if (!*path)
                flags |= AT_EMPTY_PATH;
        if (recursive)
                flags |= AT_RECURSIVE;
        int fd = open_tree(dirfd, path, flags);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "cannot copy the mount of '%s'",
                                    *path ? path : "(fd)");
        return fd;
}

int s1_mount_set(int mnt, unsigned attrs, bool recursive, const char *what, rk_error *err)
{
        struct mount_attr a = {.attr_set = attrs};
        if (mount_setattr(mnt, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a, sizeof(a)) <
            0)
                return rk_err_errno(err, negative_errno(), "cannot set the flags of %s", what);
        return 0;
}

int s1_attach(int mnt, int target, const char *what, rk_error *err)
{
        if (move_mount(mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return rk_err_errno(err, negative_errno(), "cannot mount %s", what);
        return 0;
}

int s1_mountpoint_at(int dirfd, const char *name, mode_t mode, rk_error *err)
{
        int flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
        int fd = openat(dirfd, name, flags);
        if (fd < 0 && errno == ENOENT) {
                if (mkdirat(dirfd, name, mode) < 0 && errno != EEXIST)
                        return rk_err_errno(err, negative_errno(), "cannot create /%s", name);
                fd = openat(dirfd, name, flags);
        }
        if (fd >= 0)
                return fd;
        int r = negative_errno();
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
                return rk_err(err, -ELOOP,
                              "the image's /%s is a symlink: refused, a kernel filesystem mounted "
                              "through it could land outside the root",
                              name);
        return rk_err_errno(err, r, "cannot use /%s as a mount point", name);
}

uint64_t s1_mount_id(int fd)
{
        struct statx sx;
        if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &sx) < 0 ||
            !(sx.stx_mask & STATX_MNT_ID))
                return 0;
        return sx.stx_mnt_id;
}
