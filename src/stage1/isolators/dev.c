/* SPDX-License-Identifier: Apache-2.0 */
/* /dev: a tmpfs the runtime owns, holding exactly the nodes the appc Linux spec lists (plus
 * /dev/console only when a terminal is handed over), the usual /proc/self/fd symlinks, a
 * private devpts instance and a /dev/shm tmpfs. The image's own /dev is hidden; if it is a
 * symlink we refuse the image (CVE-2026-47766 class: device creation redirected).
 *
 * The tmpfs is nodev and each node is a bind of the host's, checked to be the expected device:
 * a node the app makes itself (CAP_MKNOD) opens nothing here, nor anywhere else it can write
 * (the root, /dev/shm and volumes are nodev too). */
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "stage1/isolators/mnt.h"
#include "stage1/stage1.h"

static const struct {
        const char *name;
        unsigned major, minor;
} nodes[] = {
    {"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
    {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

static const struct {
        const char *name, *target;
} links[] = {
    {"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"}, {"ptmx", "pts/ptmx"},
};

/* Fill the (still detached) tmpfs: only we can reach it, so plain *at calls are safe. The node
 * files are empty mount points for the binds. */
static int populate(int dev, rk_error *err)
{
        for (size_t i = 0; i < ELEMENTSOF(nodes); i++) {
                int fd = openat(dev, nodes[i].name,
                                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
                if (fd < 0)
                        return rk_err_errno(err, negative_errno(), "cannot create /dev/%s",
                                            nodes[i].name);
                (void)close(fd);
        }
        for (size_t i = 0; i < ELEMENTSOF(links); i++)
                if (symlinkat(links[i].target, dev, links[i].name) < 0)
                        return rk_err_errno(err, negative_errno(), "cannot create /dev/%s",
                                            links[i].name);
        if (mkdirat(dev, "pts", 0755) < 0 || mkdirat(dev, "shm", 01777) < 0 ||
            fchmodat(dev, "shm", 01777, 0) < 0)
                return rk_err_errno(err, negative_errno(), "cannot create /dev/pts or /dev/shm");
        return 0;
}

static int bind_node(int dev, const char *name, unsigned major, unsigned minor, rk_error *err)
{
        char host[32];
        struct stat st;
        snprintf(host, sizeof(host), "/dev/%s", name);
        _cleanup_close_ int mnt = s1_bind_new(AT_FDCWD, host, false, err);
        if (mnt < 0)
                return mnt;
        if (fstat(mnt, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(major, minor))
                return rk_err(err, -ENODEV, "the host's %s is not the %u:%u device", host, major,
                              minor);
        int r = s1_mount_set(mnt, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, false, host, err);
        _cleanup_close_ int target = openat(dev, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (r >= 0 && target < 0)
                r = rk_err_errno(err, negative_errno(), "/dev/%s", name);
        return r < 0 ? r : s1_attach(mnt, target, host, err);
}

static int bind_nodes(struct s1_app_root *ar, int dev, rk_error *err)
{
        for (size_t i = 0; i < ELEMENTSOF(nodes); i++) {
                int r = bind_node(dev, nodes[i].name, nodes[i].major, nodes[i].minor, err);
                if (r < 0)
                        return r;
                char rel[32];
                snprintf(rel, sizeof(rel), "dev/%s", nodes[i].name);
                s1_record(ar, rel);
        }
        return 0;
}

static int mount_sub(int dev, const char *name, const char *type, const char *opts, unsigned attrs,
                     rk_error *err)
{
        _cleanup_close_ int target = openat(dev, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (target < 0)
                return rk_err_errno(err, negative_errno(), "/dev/%s", name);
        _cleanup_close_ int mnt = s1_fs_new(type, opts, attrs, err);
        if (mnt < 0)
                return mnt;
        return s1_attach(mnt, target, name, err);
}

/* Interactive: the caller's terminal, bound on an empty file. */
static int bind_console(int dev, int console, rk_error *err)
{
        _cleanup_close_ int f =
            openat(dev, "console", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0620);
        if (f < 0)
                return rk_err_errno(err, negative_errno(), "cannot create /dev/console");
        _cleanup_close_ int target = openat(dev, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_close_ int mnt = s1_bind_new(console, "", false, err);
        if (mnt < 0 || target < 0)
                return mnt < 0 ? mnt : rk_err_errno(err, negative_errno(), "/dev/console");
        return s1_attach(mnt, target, "/dev/console", err);
}

int s1_dev_setup(struct s1_app_root *ar, int console, rk_error *err)
{
        _cleanup_close_ int target = s1_mountpoint_at(ar->root, "dev", 0755, err);
        if (target < 0)
                return target;
        /* --private-users: /dev belongs to the pod's root, ptys to its tty group */
        char opts[96], pts[96];
        snprintf(opts, sizeof(opts), "mode=0755,size=65536k,uid=%u,gid=%u",
                 (unsigned)s1_userns_host_uid(0), (unsigned)s1_userns_host_gid(0));
        snprintf(pts, sizeof(pts), "newinstance,ptmxmode=0666,mode=0620,gid=%u",
                 (unsigned)s1_userns_host_gid(5));
        _cleanup_close_ int dev =
            s1_fs_new("tmpfs", opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, err);
        if (dev < 0)
                return dev;
        int r = populate(dev, err);
        if (r >= 0 && (r = s1_attach(dev, target, "/dev", err)) >= 0)
                s1_record(ar, "dev");
        if (r >= 0)
                r = bind_nodes(ar, dev, err);
        /* A private devpts instance: the host's ptys are not visible, ptmx is usable by all. */
        if (r >= 0 && (r = mount_sub(dev, "pts", "devpts", pts,
                                     MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, err)) >= 0)
                s1_record(ar, "dev/pts");
        if (r >= 0 &&
            (r = mount_sub(dev, "shm", "tmpfs", "mode=01777,size=65536k",
                           MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, err)) >= 0)
                s1_record(ar, "dev/shm");
        if (r >= 0 && console >= 0 && (r = bind_console(dev, console, err)) >= 0)
                s1_record(ar, "dev/console");
        return r < 0 ? r : TAKE_FD(dev);
}
