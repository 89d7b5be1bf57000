/* SPDX-License-Identifier: Apache-2.0 */
/* gc: undo what run left under the pod directory, whatever point it was killed at. Mounts
 * under the pod dir (from mountinfo, plus the hints in `mounts`) are unmounted deepest first,
 * lazily when busy, each through an fd resolved beneath the pod dir with no symlink followed;
 * only when none is left are overlay/ and rootfs/ removed, by a walk that refuses to cross a
 * mount point (a leftover bind of a host volume must never be emptied). Idempotent. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "base/fileio.h"
#include "base/path.h"
#include "stage1/stage1.h"

#define MOUNTINFO_MAX (64u << 20)
#define GC_MAX_MOUNTS 4096

struct targets {
        char *rel[GC_MAX_MOUNTS]; /* relative to the pod dir */
        size_t n;
};

static void targets_add(struct targets *t, const char *rel, size_t len)
{
        if (t->n >= GC_MAX_MOUNTS || len == 0)
                return;
        for (size_t i = 0; i < t->n; i++)
                if (strlen(t->rel[i]) == len && strncmp(t->rel[i], rel, len) == 0)
                        return;
        char *s = strndup(rel, len);
        if (s)
                t->rel[t->n++] = s;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
        char *w = s;
        for (char *r = s; *r; w++) {
                if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
                    r[3] >= '0' && r[3] <= '7') {
                        *w = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
                        r += 4;
                } else
                        *w = *r++;
        }
        *w = 0;
}

static int scan_mountinfo(const char *base, struct targets *t, rk_error *err)
{
        _cleanup_free_ char *buf = NULL;
        int r = rk_read_file_at(AT_FDCWD, "/proc/self/mountinfo", MOUNTINFO_MAX, &buf, NULL, err);
        if (r < 0)
                return r;
        size_t blen = strlen(base);
        for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l;
             l = strtok_r(NULL, "\n", &save)) {
                char *f = l;
                for (int i = 0; i < 4 && f; i++) /* id parent major:minor root mountpoint */
                        f = strchr(f, ' ') ? strchr(f, ' ') + 1 : NULL;
                if (!f)
                        continue;
                f[strcspn(f, " ")] = 0;
                unescape(f);
                if (strncmp(f, base, blen) == 0 && f[blen] == '/')
                        targets_add(t, f + blen + 1, strlen(f + blen + 1));
        }
        return 0;
}

static void scan_hints(int pod_fd, struct targets *t)
{
        _cleanup_free_ char *buf = NULL;
        rk_error ignored = RK_ERROR_INIT;
        if (rk_read_file_at(pod_fd, "mounts", 16u << 20, &buf, NULL, &ignored) < 0)
                return;
        for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                if (!rk_path_is_escaping(l))
                        targets_add(t, l, strlen(l));
}

static size_t depth(const char *p)
{
        size_t d = 0;
        for (; *p; p++)
                d += *p == '/';
        return d;
}

static int by_depth_desc(const void *a, const void *b)
{
        size_t da = depth(*(char *const *)a), db = depth(*(char *const *)b);
        return da < db ? 1 : da > db ? -1 : strcmp(*(char *const *)b, *(char *const *)a);
}

/* Unmount through the fd (its /proc/self/fd path names exactly the object we resolved).
 * Returns 1 if something was unmounted, 0 if nothing is mounted there. */
static int unmount_one(int pod_fd, const char *rel, rk_error *err)
{
        int fd = rk_open_in_root(pod_fd, rel, O_PATH | O_NOFOLLOW, 0,
                                 RK_RESOLVE_NO_SYMLINKS | RK_RESOLVE_BENEATH, NULL);
        if (fd == -ENOENT || fd == -ENOTDIR)
                return 0;
        if (fd < 0)
                return rk_err_errno(err, fd, "cannot safely reach mount '%s'", rel);
        _cleanup_close_ int f = fd;
        char p[64];
        snprintf(p, sizeof(p), "/proc/self/fd/%d", f);
        if (umount2(p, 0) == 0 || (errno == EBUSY && umount2(p, MNT_DETACH) == 0))
                return 1;
        if (errno == EINVAL)
                return 0; /* not (or no longer) a mount point */
        return rk_err_errno(err, negative_errno(), "cannot unmount '%s'", rel);
}

static void targets_free(struct targets *t)
{
        for (size_t i = 0; i < t->n; i++)
                free(t->rel[i]);
        t->n = 0;
}

/* The mounts file only hints (the mounts it names usually died with the pod's mount
 * namespaces, and the image's own symlinks may lie on their paths): best effort. */
static void unmount_hints(int pod_fd)
{
        _cleanup_free_ struct targets *t = calloc(1, sizeof(*t));
        if (!t)
                return;
        scan_hints(pod_fd, t);
        qsort(t->rel, t->n, sizeof(char *), by_depth_desc);
        for (size_t i = 0; i < t->n; i++) {
                rk_error ignored = RK_ERROR_INIT;
                (void)unmount_one(pod_fd, t->rel[i], &ignored);
        }
        targets_free(t);
}

/* What mountinfo shows is real and must go, deepest first; rounds until a scan finds nothing
 * (stacked mounts on one point need one round each). */
static int unmount_all(int pod_fd, const char *base, rk_error *err)
{
        unmount_hints(pod_fd);
        for (int round = 0; round < 16; round++) {
                _cleanup_free_ struct targets *t = calloc(1, sizeof(*t));
                if (!t)
                        return rk_err(err, -ENOMEM, "out of memory");
                int r = scan_mountinfo(base, t, err);
                qsort(t->rel, t->n, sizeof(char *), by_depth_desc);
                int done = 0;
                for (size_t i = 0; r >= 0 && i < t->n; i++) {
                        int q = unmount_one(pod_fd, t->rel[i], err);
                        r = q < 0 ? q : r;
                        done += q > 0;
                }
                size_t found = t->n;
                targets_free(t);
                if (r < 0 || found == 0)
                        return r < 0 ? r : 0;
                if (done == 0)
                        return rk_err(err, -EBUSY, "%zu mounts under '%s' cannot be unmounted",
                                      found, base);
        }
        return rk_err(err, -EBUSY, "mounts under '%s' keep coming back", base);
}

/* rm -r that never crosses a mount point and never follows a symlink. */
static int remove_tree(int dir, const char *name, int level)
{
        struct statx sx;
        if (statx(dir, name, AT_SYMLINK_NOFOLLOW, STATX_TYPE, &sx) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        if ((sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
            (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
                return -EBUSY;
        if (!S_ISDIR(sx.stx_mode))
                return unlinkat(dir, name, 0) < 0 && errno != ENOENT ? negative_errno() : 0;
        if (level > 512)
                return -ELOOP;
        int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d = fd < 0 ? NULL : fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return negative_errno();
        }
        _cleanup_closedir_ DIR *dd = d;
        int r = 0;
        for (struct dirent *de; (de = readdir(dd));)
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
                        int q = remove_tree(dirfd(dd), de->d_name, level + 1);
                        r = r < 0 ? r : q;
                }
        if (r >= 0 && unlinkat(dir, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                r = negative_errno();
        return r;
}

int s1_gc(const char *pod_path, rk_error *err)
{
        _cleanup_close_ int pod_fd = open(pod_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (pod_fd < 0)
                return rk_err_errno(err, negative_errno(), "cannot open the pod directory '%s'",
                                    pod_path);
        /* Only ever in a pod directory: never remove "rootfs" from a directory given by
         * mistake. */
        struct stat st;
        if (fstatat(pod_fd, "plan.json", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                return rk_err(err, -ENOTDIR, "'%s' is not a pod directory (no plan.json)",
                              pod_path);
        /* mountinfo speaks in the kernel's names: ask the kernel for this directory's. */
        char proc[64], base[PATH_MAX];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pod_fd);
        ssize_t n = readlink(proc, base, sizeof(base) - 1);
        if (n <= 0)
                return rk_err_errno(err, negative_errno(), "cannot name the pod directory");
        base[n] = 0;
        /* The host end of the pod's veth dies with the pod's network namespace; one left (the
         * namespace still held somewhere) goes now. A plan that does not load has none. */
        _cleanup_(s1_plan_freep) struct s1_plan *plan = NULL;
        rk_error ignored = RK_ERROR_INIT;
        int r = 0;
        if (s1_plan_load(pod_fd, &plan, &ignored) >= 0)
                r = s1_net_gc(plan, err);
        if (r < 0)
                return r;
        /* CNI attachments left by a stage1 that died: DEL from the caches while the pinned
         * namespace is still there, then unpin (errors logged, never blocking the rest) */
        (void)s1_cni_teardown(pod_fd, &ignored);
        r = unmount_all(pod_fd, base, err);
        if (r < 0)
                return r;
        static const char *const dirs[] = {"rootfs", "overlay", "mounts"};
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                r = remove_tree(pod_fd, dirs[i], 0);
                if (r < 0)
                        return rk_err_errno(err, r, "cannot remove %s/%s", pod_path, dirs[i]);
        }
        return s1_cgroup_gc(pod_fd, err);
}
