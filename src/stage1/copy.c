/* SPDX-License-Identifier: Apache-2.0 */
/* noOverlay: copy the rendered tree into the pod. Every entry is opened relative to its
 * parent's fd with O_NOFOLLOW, symlinks are recreated (never followed), owners, modes, times
 * and xattrs are applied through the new fd, hard links stay links, and device nodes and
 * sockets are refused (the extractor never makes them; an image must not smuggle one in). */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "stage1/stage1.h"

#define COPY_MAX_DEPTH 256
#define XATTR_LIST_MAX 65536
#define XATTR_SIZE_MAX 65536

struct hardlink {
        dev_t dev;
        ino_t ino;
        char *path; /* relative to the destination root */
};

struct copy {
        int dst_root;
        char path[PATH_MAX];   /* current directory, relative to the roots */
        char failed[PATH_MAX]; /* the entry that failed, for the message */
        struct hardlink *links;
        size_t n_links;
        uid_t uid_base; /* --private-users: owners below size move up by these */
        gid_t gid_base;
        uint32_t size;
};

/* The owner the copy gets: ids the pod's user namespace maps are shifted into its host range;
 * others (unmapped inside the pod either way) are kept. */
static void shift(const struct copy *c, struct stat *st)
{
        if (st->st_uid < c->size)
                st->st_uid += c->uid_base;
        if (st->st_gid < c->size)
                st->st_gid += c->gid_base;
}

static int copy_xattrs(int src, int dst)
{
        _cleanup_free_ char *names = malloc(XATTR_LIST_MAX);
        _cleanup_free_ char *val = malloc(XATTR_SIZE_MAX);
        if (!names || !val)
                return -ENOMEM;
        ssize_t n = flistxattr(src, names, XATTR_LIST_MAX);
        if (n < 0)
                return errno == ENOTSUP ? 0 : negative_errno();
        for (char *k = names; k < names + n; k += strlen(k) + 1) {
                ssize_t v = fgetxattr(src, k, val, XATTR_SIZE_MAX);
                if (v < 0)
                        return negative_errno();
                if (fsetxattr(dst, k, val, (size_t)v, 0) < 0 && errno != ENOTSUP)
                        return negative_errno();
        }
        return 0;
}

/* Owner first (chown clears set-ID bits), then the mode, xattrs (file capabilities) and times. */
static int copy_meta(int src, int dst, const struct stat *st)
{
        if (fchown(dst, st->st_uid, st->st_gid) < 0 || fchmod(dst, st->st_mode & 07777) < 0)
                return negative_errno();
        int r = copy_xattrs(src, dst);
        if (r < 0)
                return r;
        struct timespec ts[2] = {st->st_atim, st->st_mtim};
        return futimens(dst, ts) < 0 ? negative_errno() : 0;
}

static int copy_data(int src, int dst, off_t size)
{
        for (off_t left = size; left > 0;) {
                ssize_t n = copy_file_range(src, NULL, dst, NULL, (size_t)left, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS))
                        break; /* fall back to read/write below */
                if (n <= 0)
                        return n < 0 ? negative_errno() : 0;
                left -= n;
        }
        char buf[65536];
        for (;;) {
                ssize_t n = read(src, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? negative_errno() : 0;
                for (ssize_t w = 0; w < n;) {
                        ssize_t k = write(dst, buf + w, (size_t)(n - w));
                        if (k < 0 && errno != EINTR)
                                return negative_errno();
                        w += k > 0 ? k : 0;
                }
        }
}

static int link_seen(struct copy *c, int ddir, const char *name, const struct stat *st, bool *done)
{
        *done = false;
        if (st->st_nlink < 2)
                return 0;
        for (size_t i = 0; i < c->n_links; i++)
                if (c->links[i].dev == st->st_dev && c->links[i].ino == st->st_ino) {
                        *done = true;
                        /* The earlier path lies in directories we created ourselves. */
                        return linkat(c->dst_root, c->links[i].path, ddir, name, 0) < 0
                                   ? negative_errno()
                                   : 0;
                }
        struct hardlink *n = realloc(c->links, (c->n_links + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        c->links = n;
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s%s", c->path, name);
        n[c->n_links] = (struct hardlink){st->st_dev, st->st_ino, strdup(p)};
        if (!n[c->n_links].path)
                return -ENOMEM;
        c->n_links++;
        return 0;
}

static int copy_file(struct copy *c, int sdir, int ddir, const char *name, const struct stat *st)
{
        bool done;
        int r = link_seen(c, ddir, name, st, &done);
        if (r < 0 || done)
                return r;
        _cleanup_close_ int s = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_close_ int d =
            openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (s < 0 || d < 0)
                return negative_errno();
        r = copy_data(s, d, st->st_size);
        return r < 0 ? r : copy_meta(s, d, st);
}

static int copy_symlink(int sdir, int ddir, const char *name, const struct stat *st)
{
        char target[PATH_MAX];
        ssize_t n = readlinkat(sdir, name, target, sizeof(target) - 1);
        if (n < 0)
                return negative_errno();
        target[n] = 0;
        if (symlinkat(target, ddir, name) < 0 ||
            fchownat(ddir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                return negative_errno();
        struct timespec ts[2] = {st->st_atim, st->st_mtim};
        return utimensat(ddir, name, ts, AT_SYMLINK_NOFOLLOW) < 0 ? negative_errno() : 0;
}

static int copy_dir(struct copy *c, int src, int dst, int depth);

static int copy_subdir(struct copy *c, int sdir, int ddir, const char *name, const struct stat *st,
                       int depth)
{
        if (mkdirat(ddir, name, 0700) < 0)
                return negative_errno();
        _cleanup_close_ int s = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_close_ int d = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (s < 0 || d < 0)
                return negative_errno();
        size_t len = strlen(c->path);
        if (snprintf(c->path + len, sizeof(c->path) - len, "%s/", name) >=
            (int)(sizeof(c->path) - len))
                return -ENAMETOOLONG;
        int r = copy_dir(c, s, d, depth + 1);
        c->path[len] = 0;
        /* Mode last, so a read-only directory could still be filled. */
        return r < 0 ? r : copy_meta(s, d, st);
}

static int copy_entry(struct copy *c, int src, int dst, const char *name, int depth)
{
        struct stat st;
        if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return negative_errno();
        shift(c, &st);
        switch (st.st_mode & S_IFMT) {
        case S_IFDIR:
                return copy_subdir(c, src, dst, name, &st, depth);
        case S_IFREG:
                return copy_file(c, src, dst, name, &st);
        case S_IFLNK:
                return copy_symlink(src, dst, name, &st);
        case S_IFIFO:
                if (mknodat(dst, name, S_IFIFO | 0600, 0) < 0 ||
                    fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
                    fchmodat(dst, name, st.st_mode & 07777, 0) < 0)
                        return negative_errno();
                return 0;
        default:
                return -ENODEV; /* device nodes and sockets */
        }
}

static int copy_dir(struct copy *c, int src, int dst, int depth)
{
        if (depth > COPY_MAX_DEPTH)
                return -ELOOP;
        int fd = fcntl(src, F_DUPFD_CLOEXEC, 3);
        DIR *d = fd < 0 ? NULL : fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return negative_errno();
        }
        _cleanup_closedir_ DIR *dir = d;
        int r = 0;
        for (struct dirent *de; r >= 0 && (errno = 0, de = readdir(dir));) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                r = copy_entry(c, src, dst, de->d_name, depth);
                if (r < 0 && !c->failed[0])
                        snprintf(c->failed, sizeof(c->failed), "%s%s", c->path, de->d_name);
        }
        return r < 0 ? r : errno ? negative_errno() : 0;
}

int s1_copy_tree_shifted(int src_dirfd, int dst_dirfd, uid_t uid_base, gid_t gid_base,
                         uint32_t size, rk_error *err)
{
        _cleanup_free_ struct copy *c = calloc(1, sizeof(*c));
        if (!c)
                return rk_err(err, -ENOMEM, "out of memory");
        c->dst_root = dst_dirfd;
        c->uid_base = uid_base;
        c->gid_base = gid_base;
        c->size = size;
        struct stat st;
        int r = copy_dir(c, src_dirfd, dst_dirfd, 0);
        if (r >= 0 && fstat(src_dirfd, &st) == 0) {
                shift(c, &st);
                r = copy_meta(src_dirfd, dst_dirfd, &st);
        }
        for (size_t i = 0; i < c->n_links; i++)
                free(c->links[i].path);
        free(c->links);
        if (r == -ENODEV)
                return rk_err(err, r, "'%s' is a device node or socket: not copied", c->failed);
        if (r < 0)
                return rk_err_errno(err, r, "cannot copy '%s'", c->failed);
        return 0;
}

int s1_copy_tree(int src_dirfd, int dst_dirfd, rk_error *err)
{
        return s1_copy_tree_shifted(src_dirfd, dst_dirfd, 0, 0, 0, err);
}
