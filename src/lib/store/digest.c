/* SPDX-License-Identifier: Apache-2.0 */
/* The tree digest: a deterministic walk of a rendered tree, never following a symlink. Each
 * entry contributes, length-prefixed and little-endian, its path (from "/"), type, mode,
 * uid, gid, size, device number, link target and, for regular files, the contents; names are
 * visited in bytewise order. Mtimes and xattrs are not part of it. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "base/fileio.h"
#include "store/store-internal.h"

#define DIGEST_MAX_DEPTH 1024
#define DIGEST_MAGIC     "rkt-tree-digest-v1"

struct walk {
        rk_sha512 h;
        uint64_t bytes;
        char path[8192];
        rk_error *err;
};

static void put_u64(struct walk *w, uint64_t v)
{
        uint8_t b[8];
        for (int i = 0; i < 8; i++)
                b[i] = (uint8_t)(v >> (8 * i));
        rk_sha512_update(&w->h, b, sizeof(b));
}

static void put_str(struct walk *w, const char *s, size_t n)
{
        put_u64(w, n);
        rk_sha512_update(&w->h, s, n);
}

static char type_char(mode_t m)
{
        switch (m & S_IFMT) {
        case S_IFREG:
                return 'f';
        case S_IFDIR:
                return 'd';
        case S_IFLNK:
                return 'l';
        case S_IFCHR:
                return 'c';
        case S_IFBLK:
                return 'b';
        case S_IFIFO:
                return 'p';
        default:
                return 's';
        }
}

/* Contents of a regular file: exactly st_size bytes, or the tree changed under us. */
static int hash_contents(struct walk *w, int dirfd, const char *name, const struct stat *st)
{
        /* O_NONBLOCK: should a FIFO have been swapped in, opening it must not hang */
        _cleanup_close_ int fd =
            openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        struct stat fst;
        if (fd < 0 || fstat(fd, &fst) < 0)
                return rk_err_errno(w->err, negative_errno(), "tree: '%s'", w->path);
        if (!S_ISREG(fst.st_mode) || fst.st_ino != st->st_ino || fst.st_dev != st->st_dev)
                return rk_err(w->err, -EBADMSG, "tree: '%s' changed while hashing", w->path);
        char buf[65536];
        uint64_t left = (uint64_t)st->st_size;
        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return rk_err_errno(w->err, negative_errno(), "tree: '%s'", w->path);
                if (n == 0)
                        break;
                if ((uint64_t)n > left)
                        return rk_err(w->err, -EBADMSG, "tree: '%s' grew while hashing", w->path);
                rk_sha512_update(&w->h, buf, (size_t)n);
                left -= (uint64_t)n;
        }
        if (left)
                return rk_err(w->err, -EBADMSG, "tree: '%s' shrank while hashing", w->path);
        w->bytes += (uint64_t)st->st_size;
        return 0;
}

/* The sorted names in dirfd. */
static int read_names(struct walk *w, int dirfd, char ***ret, size_t *ret_n)
{
        int r = rk_dir_names(dirfd, true, ret, ret_n);
        return r < 0 ? rk_err_errno(w->err, r, "tree: '%s'", w->path) : 0;
}

static int walk_dir(struct walk *w, int dirfd, unsigned depth);

static int walk_entry(struct walk *w, int dirfd, const char *name, unsigned depth)
{
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return rk_err_errno(w->err, negative_errno(), "tree: '%s'", w->path);
        char t = type_char(st.st_mode);
        put_str(w, w->path, strlen(w->path));
        rk_sha512_update(&w->h, &t, 1);
        put_u64(w, st.st_mode & 07777);
        put_u64(w, st.st_uid);
        put_u64(w, st.st_gid);
        put_u64(w, S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0);
        put_u64(w, S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? (uint64_t)st.st_rdev : 0);
        if (S_ISLNK(st.st_mode)) {
                char target[PATH_MAX + 1];
                ssize_t n = readlinkat(dirfd, name, target, sizeof(target));
                if (n < 0 || (size_t)n >= sizeof(target))
                        return rk_err(w->err, n < 0 ? negative_errno() : -ENAMETOOLONG,
                                      "tree: '%s': cannot read link", w->path);
                put_str(w, target, (size_t)n);
        } else if (S_ISREG(st.st_mode))
                return hash_contents(w, dirfd, name, &st);
        else if (S_ISDIR(st.st_mode)) {
                _cleanup_close_ int fd =
                    openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return rk_err_errno(w->err, negative_errno(), "tree: '%s'", w->path);
                return walk_dir(w, fd, depth + 1);
        }
        return 0;
}

static int walk_dir(struct walk *w, int dirfd, unsigned depth)
{
        char **names = NULL;
        size_t n = 0, plen = strlen(w->path);
        if (depth > DIGEST_MAX_DEPTH)
                return rk_err(w->err, -ELOOP, "tree: '%s': nested too deep", w->path);
        int r = read_names(w, dirfd, &names, &n);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                size_t len = strlen(names[i]);
                bool root = plen == 1;
                if (plen + len + 2 > sizeof(w->path)) {
                        r = rk_err(w->err, -ENAMETOOLONG, "tree: path too long below '%s'",
                                   w->path);
                        break;
                }
                snprintf(w->path + plen, sizeof(w->path) - plen, "%s%s", root ? "" : "/", names[i]);
                r = walk_entry(w, dirfd, names[i], depth);
                w->path[plen] = 0;
        }
        rk_strv_free(names, n);
        return r;
}

static int hash_manifest(struct walk *w, int dirfd)
{
        struct stat st;
        snprintf(w->path, sizeof(w->path), "manifest");
        if (fstatat(dirfd, "manifest", &st, AT_SYMLINK_NOFOLLOW) < 0)
                return rk_err_errno(w->err, negative_errno(), "tree: manifest");
        if (!S_ISREG(st.st_mode))
                return rk_err(w->err, -EBADMSG, "tree: manifest is not a regular file");
        put_str(w, "manifest", 8);
        put_u64(w, (uint64_t)st.st_size);
        uint64_t before = w->bytes;
        int r = hash_contents(w, dirfd, "manifest", &st);
        w->bytes = before;
        return r;
}

int rk_tree_digest(int dirfd, char ret[RK_SHA512_HEX_LEN + 1], uint64_t *ret_size, rk_error *err)
{
        struct walk *w = calloc(1, sizeof(*w));
        if (!w)
                return rk_err(err, -ENOMEM, "out of memory");
        w->err = err;
        int r = rk_sha512_init(&w->h, err);
        if (r < 0) {
                free(w);
                return r;
        }
        rk_sha512_update(&w->h, DIGEST_MAGIC, sizeof(DIGEST_MAGIC));
        r = hash_manifest(w, dirfd);
        if (r >= 0) {
                snprintf(w->path, sizeof(w->path), "/");
                r = walk_entry(w, dirfd, "rootfs", 0);
        }
        if (r >= 0)
                r = rk_sha512_final_hex(&w->h, ret, err);
        rk_sha512_done(&w->h);
        if (r >= 0 && ret_size)
                *ret_size = w->bytes;
        free(w);
        return r;
}
