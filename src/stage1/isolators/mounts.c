/* SPDX-License-Identifier: Apache-2.0 */
/* The app's root, in the order of ARCHITECTURE.md: rootfs (overlay on the read-only tree, or a
 * copy), /proc, /dev, volumes, /etc/hosts, /sys (read-only; last, once in the pod's network
 * namespace), masked and read-only kernel paths, read-only root, pivot_root. Everything happens in
 * the app's own, private mount namespace, and every target is an fd resolved inside the root (never
 * root + "/" + path). */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "base/fileio.h"
#include "base/path.h"
#include "stage1/isolators/mnt.h"
#include "stage1/stage1.h"

#define KERNEL_FS_ATTRS (MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)

/* Default masked and read-only paths (runc/crun spec, plus Docker's and podman's additions,
 * security.md §5.4). Masked: a directory gets an empty read-only tmpfs, a file /dev/null. */
static const char *const masked_proc[] = {
    "acpi",          "asound",      "interrupts", "kcore",      "keys",
    "latency_stats", "sched_debug", "scsi",       "timer_list", "timer_stats",
};
static const char *const masked_sys[] = {"firmware", "devices/virtual/powercap", "fs/selinux"};
static const char *const readonly_proc[] = {"bus", "fs", "irq", "sys", "sysrq-trigger"};

void s1_record(struct s1_app_root *ar, const char *rel)
{
        char line[PATH_MAX + 300];
        int n = snprintf(line, sizeof(line), "rootfs/%s%s%s\n", ar->app->name,
                         *rel && *rel != '/' ? "/" : "", rel);
        if (n <= 0 || (size_t)n >= sizeof(line))
                return;
        if (ar->rec_len + (size_t)n > ar->rec_cap) {
                size_t cap = (ar->rec_cap + (size_t)n) * 2;
                char *r = realloc(ar->rec, cap);
                if (!r)
                        return; /* a hint only: gc also reads mountinfo */
                ar->rec = r;
                ar->rec_cap = cap;
        }
        memcpy(ar->rec + ar->rec_len, line, (size_t)n);
        ar->rec_len += (size_t)n;
}

void s1_app_root_done(struct s1_app_root *ar)
{
        /* One O_APPEND write per app: the apps' notes do not interleave. */
        if (ar->rec_len > 0 && ar->pod->mounts_fd >= 0)
                (void)rk_write_all(ar->pod->mounts_fd, ar->rec, ar->rec_len);
        free(ar->rec);
        ar->rec = NULL;
        ar->pod_fd = safe_close(ar->pod_fd);
        ar->root = safe_close(ar->root);
}

/* An fd opened before unshare(CLONE_NEWNS) names a mount of the old namespace, which overlayfs
 * and move_mount refuse. Reopen the pod directory by its kernel name in this namespace and
 * check that it is the same directory. */
static int reopen_pod_dir(struct s1_app_root *ar, rk_error *err)
{
        char proc[64];
        struct stat a, b;
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", ar->pod->pod_fd);
        ssize_t n = readlink(proc, ar->pod_path, sizeof(ar->pod_path) - 1);
        if (n <= 0)
                return rk_err_errno(err, negative_errno(), "cannot name the pod directory");
        ar->pod_path[n] = 0;
        ar->pod_fd = open(ar->pod_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (ar->pod_fd < 0 || fstat(ar->pod_fd, &a) < 0 || fstat(ar->pod->pod_fd, &b) < 0)
                return rk_err_errno(err, negative_errno(), "cannot reopen the pod directory");
        if (a.st_dev != b.st_dev || a.st_ino != b.st_ino)
                return rk_err(err, -ESTALE, "the pod directory moved while the pod started");
        return 0;
}

/* <pod>/<a>/<app>[/<b>]: built from constants and a validated AC Name, resolved beneath the
 * pod directory with no symlink allowed. */
static int pod_subdir(int pod_fd, const char *a, const char *app, const char *b, rk_error *err)
{
        char rel[PATH_MAX];
        snprintf(rel, sizeof(rel), "%s/%s%s%s", a, app, b ? "/" : "", b ? b : "");
        int fd = rk_open_in_root(pod_fd, rel, O_PATH | O_DIRECTORY, 0,
                                 RK_RESOLVE_NO_SYMLINKS | RK_RESOLVE_BENEATH, NULL);
        if (fd < 0)
                return rk_err_errno(err, fd, "pod directory: cannot open %s", rel);
        return fd;
}

/* The merged root takes its owner and mode from the upper dir: give it the image's. */
static int upper_like_lower(int lower, int upper, rk_error *err)
{
        struct stat st;
        _cleanup_close_ int fd = openat(upper, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fstat(lower, &st) < 0 || fchown(fd, st.st_uid, st.st_gid) < 0 ||
            fchmod(fd, st.st_mode & 07777) < 0)
                return rk_err_errno(err, negative_errno(), "cannot prepare the overlay upper dir");
        return 0;
}

static int mount_overlay(const struct s1_pod *pod, int pod_fd, const struct s1_app *app, int target,
                         rk_error *err)
{
        /* The tree is stage0's rendered image under its data dir, a root-owned location it
         * named itself: it is opened as given (the data dir may legitimately be a symlink).
         * --private-users: its idmapped copy (isolators/userns.c). */
        _cleanup_close_ int lower = s1_userns_active()
                                        ? s1_userns_tree(pod, app)
                                        : open(app->tree, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (lower < 0)
                return rk_err_errno(err, negative_errno(), "cannot open the tree '%s'", app->tree);
        _cleanup_close_ int upper = pod_subdir(pod_fd, "overlay", app->name, "upper", err);
        if (upper < 0)
                return upper;
        _cleanup_close_ int work = pod_subdir(pod_fd, "overlay", app->name, "work", err);
        if (work < 0)
                return work;
        int r = upper_like_lower(lower, upper, err);
        if (r < 0)
                return r;
        _cleanup_close_ int fs = fsopen("overlay", FSOPEN_CLOEXEC);
        if (fs < 0)
                return rk_err_errno(err, negative_errno(), "overlayfs is not available");
        /* Layers passed as fds: no path string (with its ',' and ':' syntax) is parsed.
         * volatile: the upper dir is scratch that gc deletes and no pod remounts; without it
         * every overlay unmount at pod exit would syncfs the host's whole data filesystem. */
        if (fsconfig(fs, FSCONFIG_SET_STRING, "source", "overlay", 0) < 0 ||
            fsconfig(fs, FSCONFIG_SET_FD, "lowerdir+", NULL, lower) < 0 ||
            fsconfig(fs, FSCONFIG_SET_FD, "upperdir", NULL, upper) < 0 ||
            fsconfig(fs, FSCONFIG_SET_FD, "workdir", NULL, work) < 0 ||
            fsconfig(fs, FSCONFIG_SET_FLAG, "volatile", NULL, 0) < 0 ||
            (app->selinux_mount && /* every file of the root gets the pod's label */
             fsconfig(fs, FSCONFIG_SET_STRING, "context", app->selinux_mount, 0) < 0) ||
            fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return s1_fs_fail(fs, "overlay", app->tree, err);
        /* nodev: a device node in the image (or made later) opens nothing on the root. */
        _cleanup_close_ int mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV);
        if (mnt < 0)
                return s1_fs_fail(fs, "overlay", "fsmount", err);
        r = s1_attach(mnt, target, "the app's root overlay", err);
        return r < 0 ? r : TAKE_FD(mnt);
}

static int mount_copy(const struct s1_plan *plan, const struct s1_app *app, int target,
                      rk_error *err)
{
        _cleanup_close_ int src = open(app->tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (src < 0)
                return rk_err_errno(err, negative_errno(), "cannot open the tree '%s'", app->tree);
        _cleanup_close_ int dst = openat(target, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dst < 0)
                return rk_err_errno(err, negative_errno(), "cannot open the app's rootfs");
        int r = plan->userns ? s1_copy_tree_shifted(src, dst, plan->uid_base, plan->gid_base,
                                                    plan->userns_size, err)
                             : s1_copy_tree(src, dst, err);
        if (r < 0)
                return rk_err_prefix(err, r, "copying '%s'", app->tree);
        /* pivot_root needs a mount point: bind the copy onto itself. */
        _cleanup_close_ int mnt = s1_bind_new(target, "", false, err);
        if (mnt < 0)
                return mnt;
        r = s1_mount_set(mnt, MOUNT_ATTR_NODEV, false, "the app's root", err);
        if (r >= 0)
                r = s1_attach(mnt, target, "the app's root", err);
        return r < 0 ? r : TAKE_FD(mnt);
}

static int mount_kernel_fs(int root, const char *dir, const char *type, unsigned attrs,
                           rk_error *err)
{
        _cleanup_close_ int target = s1_mountpoint_at(root, dir, 0555, err);
        if (target < 0)
                return target;
        _cleanup_close_ int mnt = s1_fs_new(type, "", attrs, err);
        if (mnt < 0)
                return mnt;
        int r = s1_attach(mnt, target, type, err);
        return r < 0 ? r : TAKE_FD(mnt);
}

/* ---- masked and read-only kernel paths ---- */

static void record_in(struct s1_app_root *ar, const char *dir, const char *name)
{
        char rel[PATH_MAX];
        snprintf(rel, sizeof(rel), "%s/%s", dir, name);
        s1_record(ar, rel);
}

struct masks {
        int null_tmpl;  /* a verified bind of our /dev/null */
        int empty_tmpl; /* an empty read-only tmpfs */
};

static int mask_one(struct s1_app_root *ar, struct masks *mk, int base, const char *dir,
                    const char *name, rk_error *err)
{
        _cleanup_close_ int target = openat(base, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (target < 0 && (errno == ENOENT || errno == EACCES))
                return 0; /* not on this kernel */
        struct stat st;
        if (target < 0 || fstat(target, &st) < 0)
                return rk_err_errno(err, negative_errno(), "cannot mask '%s'", name);
        int tmpl = S_ISDIR(st.st_mode) ? mk->empty_tmpl : mk->null_tmpl;
        _cleanup_close_ int mnt = s1_bind_new(tmpl, "", false, err);
        int r = mnt < 0 ? mnt : s1_attach(mnt, target, name, err);
        if (r >= 0)
                record_in(ar, dir, name);
        return r;
}

static int masks_init(struct masks *mk, int dev, rk_error *err)
{
        mk->null_tmpl = s1_bind_new(dev, "null", false, err);
        if (mk->null_tmpl < 0)
                return mk->null_tmpl;
        /* Masks must read as nothing: check it is the null device we made, not a lookalike. */
        struct stat st;
        if (fstat(mk->null_tmpl, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
                return rk_err(err, -EBADF, "/dev/null is not the null device");
        mk->empty_tmpl = s1_fs_new("tmpfs", "nr_blocks=1,nr_inodes=1,mode=0555",
                                   MOUNT_ATTR_RDONLY | KERNEL_FS_ATTRS, err);
        return mk->empty_tmpl < 0 ? mk->empty_tmpl : 0;
}

static int readonly_one(struct s1_app_root *ar, int proc, const char *name, rk_error *err)
{
        _cleanup_close_ int target = openat(proc, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (target < 0 && errno == ENOENT)
                return 0;
        if (target < 0)
                return rk_err_errno(err, negative_errno(), "/proc/%s", name);
        _cleanup_close_ int mnt = s1_bind_new(proc, name, true, err);
        if (mnt < 0)
                return mnt;
        int r = s1_mount_set(mnt, MOUNT_ATTR_RDONLY | KERNEL_FS_ATTRS, true, name, err);
        if (r >= 0)
                r = s1_attach(mnt, target, name, err);
        if (r >= 0)
                record_in(ar, "proc", name);
        return r;
}

/* Masks and read-only binds are applied relative to the proc and sysfs mounts we made, so
 * nothing in the image can redirect them. */
static int mask_kernel_paths(struct s1_app_root *ar, int proc, int sys, int dev, rk_error *err)
{
        struct masks mk = {-EBADF, -EBADF};
        int r = masks_init(&mk, dev, err);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(masked_proc); i++)
                r = mask_one(ar, &mk, proc, "proc", masked_proc[i], err);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(masked_sys); i++)
                r = mask_one(ar, &mk, sys, "sys", masked_sys[i], err);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(readonly_proc); i++)
                r = readonly_one(ar, proc, readonly_proc[i], err);
        safe_close(mk.null_tmpl);
        safe_close(mk.empty_tmpl);
        return r < 0 ? r : 0;
}

/* ---- pivot_root ---- */

/* crun's sequence: pivot_root(".", ".") stacks the old root on top of the new one; detaching
 * "." then drops the whole host tree from this namespace. There is no chroot fallback. */
static int pivot(int root, rk_error *err)
{
        if (fchdir(root) < 0)
                return rk_err_errno(err, negative_errno(), "cannot enter the app's root");
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return rk_err_errno(err, negative_errno(), "pivot_root");
        if (umount2(".", MNT_DETACH) < 0)
                return rk_err_errno(err, negative_errno(), "cannot detach the old root");
        if (chdir("/") < 0)
                return rk_err_errno(err, negative_errno(), "chdir /");
        return 0;
}

/* ---- the whole root ---- */

/* The terminal to show as /dev/console: stdin, if interactive and a terminal. Reopened by its
 * name in this mount namespace (a bind needs a mount we own) and checked to be that device. */
static int console_fd(const struct s1_pod *pod)
{
        char name[PATH_MAX];
        struct stat a, b;
        if (!pod->plan->interactive || ttyname_r(STDIN_FILENO, name, sizeof(name)) != 0)
                return -EBADF;
        int fd = open(name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0 && (fstat(fd, &a) < 0 || fstat(STDIN_FILENO, &b) < 0 || !S_ISCHR(a.st_mode) ||
                        a.st_rdev != b.st_rdev))
                fd = safe_close(fd);
        return fd;
}

static int mount_api_fs(struct s1_app_root *ar, rk_error *err)
{
        const struct s1_pod *pod = ar->pod;
        _cleanup_close_ int proc = mount_kernel_fs(ar->root, "proc", "proc", KERNEL_FS_ATTRS, err);
        if (proc < 0)
                return proc;
        s1_record(ar, "proc");
        _cleanup_close_ int console = console_fd(pod);
        _cleanup_close_ int dev = s1_dev_setup(ar, console, err);
        if (dev < 0)
                return dev;
        int r = s1_mount_volumes(ar, err);
        if (r >= 0)
                r = s1_write_etc(pod, ar->root, err);
        /* sysfs shows the network namespace of whoever mounts it: join the pod's first. */
        if (r >= 0 && pod->net_ready_fd >= 0)
                r = s1_ns_app_join_net(pod->net_ready_fd, err);
        if (r < 0)
                return r;
        _cleanup_close_ int sys =
            mount_kernel_fs(ar->root, "sys", "sysfs", MOUNT_ATTR_RDONLY | KERNEL_FS_ATTRS, err);
        if (sys < 0)
                return sys;
        s1_record(ar, "sys");
        return mask_kernel_paths(ar, proc, sys, dev, err);
}

int s1_mount_app(const struct s1_pod *pod, const struct s1_app *app, rk_error *err)
{
        _cleanup_(s1_app_root_done) struct s1_app_root ar = {
            .pod = pod, .app = app, .pod_fd = -EBADF, .root = -EBADF};
        int r = s1_ns_app_enter(err);
        if (r >= 0)
                r = reopen_pod_dir(&ar, err);
        if (r < 0)
                return r;
        _cleanup_close_ int target = pod_subdir(ar.pod_fd, "rootfs", app->name, NULL, err);
        if (target < 0)
                return target;
        ar.root = pod->plan->no_overlay || s1_userns_copy(pod, app)
                      ? mount_copy(pod->plan, app, target, err)
                      : mount_overlay(pod, ar.pod_fd, app, target, err);
        if (ar.root < 0)
                return ar.root;
        s1_record(&ar, "");
        r = mount_api_fs(&ar, err);
        if (r >= 0 && app->read_only_rootfs)
                r = s1_mount_set(ar.root, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV, false,
                                 "the app's root", err);
        return r < 0 ? r : pivot(ar.root, err);
}
