/* SPDX-License-Identifier: Apache-2.0 */
/* Volumes: each source opened without following any symlink, each target created and opened
 * inside the app's root, bound fd to fd. */
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "base/path.h"
#include "stage1/isolators/mnt.h"

/* appc: a host source that is, or passes through, a symlink is an error. Opened component by
 * component with no symlink followed, then bound by that fd. */
static int open_host_source(const char *src, rk_error *err)
{
        _cleanup_close_ int host = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (host < 0)
                return rk_err_errno(err, negative_errno(), "cannot open /");
        int fd = rk_open_in_root(host, src, O_PATH, 0, RK_RESOLVE_NO_SYMLINKS, NULL);
        if (fd == -ELOOP)
                return rk_err(err, fd, "volume source '%s' is or passes through a symlink: refused",
                              src);
        if (fd < 0)
                return rk_err_errno(err, fd, "volume source '%s'", src);
        return fd;
}

static const char *path_after(const char *p, const char *dir)
{
        size_t n = strlen(dir);
        return n > 0 && strncmp(p, dir, n) == 0 && p[n] == '/' ? p + n + 1 : NULL;
}

/* Empty volumes are directories stage0 made inside the pod directory: resolved beneath it (no
 * symlink, no "..") so only the pod's own location may sit behind a symlink. */
static int open_pod_source(const struct s1_app_root *ar, const char *src, rk_error *err)
{
        const char *rel = path_after(src, ar->pod_path);
        if (!rel)
                rel = path_after(src, ar->pod->path);
        if (!rel)
                return rk_err(err, -EPERM, "empty volume source '%s' is not in the pod directory",
                              src);
        int fd = rk_open_in_root(ar->pod_fd, rel, O_PATH, 0,
                                 RK_RESOLVE_NO_SYMLINKS | RK_RESOLVE_BENEATH, NULL);
        if (fd < 0)
                return rk_err_errno(err, fd, "empty volume source '%s'", src);
        return fd;
}

static int create_step(int dir, const char *name, bool as_dir)
{
        if (as_dir)
                return mkdirat(dir, name, 0755);
        int fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        return fd < 0 ? fd : close(fd);
}

static bool on_allowed_mount(const struct s1_app_root *ar, int fd)
{
        uint64_t id = s1_mount_id(fd);
        for (size_t i = 0; id && i < ar->n_mnt_ids; i++)
                if (ar->mnt_ids[i] == id)
                        return true;
        return false;
}

/* One step of the target's path, resolved in-root from the top each time, and refused unless
 * it lies on the app's root or on a volume the plan put above it: the image's symlinks can
 * move a target within its own tree, never onto /proc, /sys, /dev or the host. */
static int resolve_step(const struct s1_app_root *ar, const char *path)
{
        int fd = rk_open_in_root(ar->root, path, O_PATH, 0, 0, NULL);
        if (fd >= 0 && !on_allowed_mount(ar, fd)) {
                (void)close(fd);
                return -EXDEV;
        }
        return fd;
}

/* Create the target and its missing parents (0755 root:root, or an empty file for a file
 * source), each step checked as above. */
static int make_target(const struct s1_app_root *ar, const char *target, bool want_dir,
                       rk_error *err)
{
        char path[PATH_MAX] = "";
        size_t len = 0;
        _cleanup_close_ int cur = fcntl(ar->root, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return rk_err_errno(err, negative_errno(), "dup");
        for (const char *c = target + 1;; c += strcspn(c, "/") + 1) {
                size_t n = strcspn(c, "/");
                bool last = c[n] == 0;
                len += (size_t)snprintf(path + len, sizeof(path) - len, "/%.*s", (int)n, c);
                int fd = resolve_step(ar, path);
                if (fd == -ENOENT) {
                        char name[NAME_MAX + 1];
                        snprintf(name, sizeof(name), "%.*s", (int)n, c);
                        (void)create_step(cur, name, !last || want_dir);
                        fd = resolve_step(ar, path);
                        if (fd == -ENOENT)
                                return rk_err(err, fd,
                                              "volume target '%s': '%s' in the image is a symlink "
                                              "to nowhere",
                                              target, path);
                }
                if (fd == -EXDEV)
                        return rk_err(err, fd,
                                      "volume target '%s' resolves onto a mount that is not the "
                                      "app's root or one of its volumes",
                                      target);
                if (fd < 0)
                        return rk_err_errno(err, fd, "volume target '%s'", target);
                (void)close(cur);
                cur = fd;
                if (last)
                        return TAKE_FD(cur);
        }
}

static int mount_volume(struct s1_app_root *ar, const struct s1_mount *m, rk_error *err)
{
        _cleanup_close_ int src = m->kind == S1_MOUNT_EMPTY ? open_pod_source(ar, m->source, err)
                                                            : open_host_source(m->source, err);
        if (src < 0)
                return src;
        struct stat st;
        if (fstat(src, &st) < 0)
                return rk_err_errno(err, negative_errno(), "volume source '%s'", m->source);
        _cleanup_close_ int target = make_target(ar, m->target, S_ISDIR(st.st_mode), err);
        if (target < 0)
                return target;
        _cleanup_close_ int mnt = s1_bind_new(src, "", m->recursive, err);
        if (mnt < 0)
                return mnt;
        /* Volumes are data: no set-user-ID programs, no device nodes (the hardened default);
         * readOnly reaches every submount of a recursive bind, not only the top one. */
        unsigned attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
        if (m->read_only)
                attrs |= MOUNT_ATTR_RDONLY;
        int r = s1_mount_set(mnt, attrs, m->recursive, m->target, err);
        if (r >= 0)
                r = s1_attach(mnt, target, m->target, err);
        if (r < 0)
                return rk_err_prefix(err, r, "volume '%s' on '%s'", m->source, m->target);
        s1_record(ar, m->target);
        ar->mnt_ids[ar->n_mnt_ids++] = s1_mount_id(mnt);
        return 0;
}

int s1_mount_volumes(struct s1_app_root *ar, rk_error *err)
{
        ar->n_mnt_ids = 0;
        ar->mnt_ids[ar->n_mnt_ids++] = s1_mount_id(ar->root);
        for (size_t i = 0; i < ar->app->n_mounts; i++) {
                int r = mount_volume(ar, &ar->app->mounts[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}
