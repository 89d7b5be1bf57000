/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "base/path.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

/* 0 = unknown, 1 = openat2 works, -1 = kernel lacks it */
static atomic_int openat2_state;
static bool force_fallback;
static _Thread_local bool last_used_openat2;

void rk_path_force_fallback(bool on)
{
        force_fallback = on;
}

bool rk_path_used_openat2(void)
{
        return last_used_openat2;
}

static int open_openat2(int rootfd, const char *path, int flags, mode_t mode, unsigned resolve)
{
        struct open_how how = {
            .flags = (unsigned)flags,
            .mode = (flags & (O_CREAT | __O_TMPFILE)) ? mode : 0,
            .resolve = RESOLVE_NO_MAGICLINKS,
        };
        how.resolve |= (resolve & RK_RESOLVE_BENEATH) ? RESOLVE_BENEATH : RESOLVE_IN_ROOT;
        if (resolve & RK_RESOLVE_NO_SYMLINKS)
                how.resolve |= RESOLVE_NO_SYMLINKS;
        if (resolve & RK_RESOLVE_NO_XDEV)
                how.resolve |= RESOLVE_NO_XDEV;
        /* RESOLVE_BENEATH refuses absolute paths outright; an absolute path means "from the
         * root" in our API, so strip the slashes. */
        while ((resolve & RK_RESOLVE_BENEATH) && *path == '/')
                path++;
        if (!*path)
                path = ".";
        for (int tries = 0;; tries++) {
                long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
                if (fd >= 0)
                        return (int)fd;
                /* EAGAIN: a concurrent rename raced a ".." lookup; the kernel asks us to retry. */
                if (errno == EAGAIN && tries < 32)
                        continue;
                return negative_errno();
        }
}

/* ---- fallback walker ----
 * Keeps a stack of directory fds, starting with a dup of rootfd. ".." pops (never below the
 * root: clamped, or -EXDEV with RK_RESOLVE_BENEATH). Each component is opened with
 * O_PATH|O_NOFOLLOW; a symlink is read with readlinkat and its target spliced into the
 * remaining path (absolute targets restart from the root). Nothing is ever resolved by the
 * kernel across a symlink, so no string we build can name a host path. */

struct walk {
        int fds[RK_PATH_MAX_DEPTH + 1];
        int n;
};

static void walk_free(struct walk *w)
{
        for (int i = 0; i < w->n; i++)
                (void)close(w->fds[i]);
        w->n = 0;
}

static int walk_top(struct walk *w)
{
        return w->fds[w->n - 1];
}

static void walk_reset_to_root(struct walk *w)
{
        while (w->n > 1)
                (void)close(w->fds[--w->n]);
}

static int walk_push(struct walk *w, int fd)
{
        if (w->n > RK_PATH_MAX_DEPTH) {
                (void)close(fd);
                return -ENAMETOOLONG;
        }
        w->fds[w->n++] = fd;
        return 0;
}

/* Build "target/rest" into buf; returns -ENAMETOOLONG on overflow. */
static int splice_link(char *buf, size_t bufsz, const char *target, const char *rest)
{
        int n = snprintf(buf, bufsz, "%s%s%s", target, *rest ? "/" : "", rest);
        if (n < 0 || (size_t)n >= bufsz)
                return -ENAMETOOLONG;
        return 0;
}

static int open_fallback(int rootfd, const char *path, int flags, mode_t mode, unsigned resolve)
{
        struct walk w = {.n = 0};
        char cur[PATH_MAX * 2];
        int links = 0, r;

        if (strlen(path) >= sizeof(cur) / 2)
                return -ENAMETOOLONG;
        strcpy(cur, path);

        int root = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
        if (root < 0)
                return negative_errno();
        w.fds[w.n++] = root;

        struct stat root_st;
        if (fstat(root, &root_st) < 0) {
                r = negative_errno();
                goto out;
        }

        char *p = cur;
        for (;;) {
                if (*p == '/') {
                        walk_reset_to_root(&w);
                        while (*p == '/')
                                p++;
                }
                if (!*p) {
                        /* The path named a directory we already hold (root, or trailing "/"). */
                        r = openat(walk_top(&w), ".", flags | O_CLOEXEC, mode);
                        r = r < 0 ? negative_errno() : r;
                        goto out;
                }
                char *slash = strchr(p, '/');
                size_t clen = slash ? (size_t)(slash - p) : strlen(p);
                char comp[NAME_MAX + 1];
                if (clen > NAME_MAX) {
                        r = -ENAMETOOLONG;
                        goto out;
                }
                memcpy(comp, p, clen);
                comp[clen] = 0;
                char *rest = slash ? slash + 1 : p + clen;
                while (*rest == '/')
                        rest++;
                bool last = *rest == 0;

                if (strcmp(comp, ".") == 0) {
                        p = rest;
                        if (last) {
                                r = openat(walk_top(&w), ".", flags | O_CLOEXEC, mode);
                                r = r < 0 ? negative_errno() : r;
                                goto out;
                        }
                        continue;
                }
                if (strcmp(comp, "..") == 0) {
                        if (w.n > 1)
                                (void)close(w.fds[--w.n]);
                        else if (resolve & RK_RESOLVE_BENEATH) {
                                r = -EXDEV;
                                goto out;
                        }
                        p = rest;
                        if (last) {
                                r = openat(walk_top(&w), ".", flags | O_CLOEXEC, mode);
                                r = r < 0 ? negative_errno() : r;
                                goto out;
                        }
                        continue;
                }

                if (last) {
                        /* Final component: open it ourselves with O_NOFOLLOW; if it turns out to
                         * be a symlink and the caller wants it followed, splice and loop. */
                        int fd = openat(walk_top(&w), comp, flags | O_CLOEXEC | O_NOFOLLOW, mode);
                        if (fd >= 0) {
                                struct stat st;
                                if ((flags & O_NOFOLLOW) || fstat(fd, &st) < 0 ||
                                    !S_ISLNK(st.st_mode)) {
                                        r = fd;
                                        goto out;
                                }
                                /* O_PATH|O_NOFOLLOW opened the link itself: follow it. */
                                (void)close(fd);
                        } else if (errno != ELOOP || (flags & O_NOFOLLOW)) {
                                r = negative_errno();
                                goto out;
                        }
                } else {
                        int fd = openat(walk_top(&w), comp,
                                        O_PATH | O_NOFOLLOW | O_CLOEXEC | O_DIRECTORY);
                        if (fd >= 0) {
                                if (resolve & RK_RESOLVE_NO_XDEV) {
                                        struct stat st;
                                        if (fstat(fd, &st) < 0 || st.st_dev != root_st.st_dev) {
                                                (void)close(fd);
                                                r = -EXDEV;
                                                goto out;
                                        }
                                }
                                r = walk_push(&w, fd);
                                if (r < 0)
                                        goto out;
                                p = rest;
                                continue;
                        }
                        /* ENOTDIR is what a symlink gives under O_NOFOLLOW|O_DIRECTORY. */
                        if (errno != ENOTDIR && errno != ELOOP) {
                                r = negative_errno();
                                goto out;
                        }
                        struct stat st;
                        if (fstatat(walk_top(&w), comp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                                r = negative_errno();
                                goto out;
                        }
                        if (!S_ISLNK(st.st_mode)) {
                                r = -ENOTDIR;
                                goto out;
                        }
                }

                /* comp is a symlink to be followed. */
                if (resolve & RK_RESOLVE_NO_SYMLINKS) {
                        r = -ELOOP;
                        goto out;
                }
                if (++links > RK_PATH_MAX_SYMLINKS) {
                        r = -ELOOP;
                        goto out;
                }
                char target[PATH_MAX];
                ssize_t tl = readlinkat(walk_top(&w), comp, target, sizeof(target) - 1);
                if (tl < 0) {
                        r = negative_errno();
                        goto out;
                }
                target[tl] = 0;
                if (target[0] == '/' && (resolve & RK_RESOLVE_BENEATH)) {
                        r = -EXDEV;
                        goto out;
                }
                char next[sizeof(cur)];
                r = splice_link(next, sizeof(next), target, rest);
                if (r < 0)
                        goto out;
                strcpy(cur, next);
                p = cur; /* a leading '/' in the target resets to the root at the loop top */
        }
out:
        walk_free(&w);
        return r;
}

int rk_open_in_root(int rootfd, const char *path, int flags, mode_t mode, unsigned resolve,
                    rk_error *err)
{
        int r;

        if (!path || !*path)
                return rk_err(err, -EINVAL, "empty path");
        flags |= O_CLOEXEC;
        if (!force_fallback && atomic_load(&openat2_state) >= 0) {
                r = open_openat2(rootfd, path, flags, mode, resolve);
                if (r != -ENOSYS) {
                        atomic_store(&openat2_state, 1);
                        last_used_openat2 = true;
                        goto done;
                }
                atomic_store(&openat2_state, -1);
        }
        last_used_openat2 = false;
        r = open_fallback(rootfd, path, flags, mode, resolve);
done:
        if (r < 0) {
                if (r == -ELOOP || r == -EXDEV)
                        return rk_err(err, r, "'%s': path resolution refused (%s)", path,
                                      r == -ELOOP ? "symlink" : "escapes the root");
                return rk_err_errno(err, r, "'%s'", path);
        }
        return r;
}

int rk_path_split(const char *path, char **ret_parent, char **ret_leaf, rk_error *err)
{
        size_t len = strlen(path);
        while (len > 1 && path[len - 1] == '/')
                len--;
        if (len == 0)
                return rk_err(err, -EINVAL, "empty path");
        size_t i = len;
        while (i > 0 && path[i - 1] != '/')
                i--;
        size_t leaf_len = len - i;
        if (leaf_len == 0 || (leaf_len == 1 && path[i] == '.') ||
            (leaf_len == 2 && path[i] == '.' && path[i + 1] == '.'))
                return rk_err(err, -EINVAL, "'%s': no usable last component", path);
        char *leaf = strndup(path + i, leaf_len);
        size_t plen = i;
        while (plen > 1 && path[plen - 1] == '/')
                plen--;
        char *parent = plen == 0 ? strdup(".") : strndup(path, plen);
        if (!leaf || !parent) {
                free(leaf);
                free(parent);
                return rk_err(err, -ENOMEM, "out of memory");
        }
        *ret_parent = parent;
        *ret_leaf = leaf;
        return 0;
}

bool rk_path_is_escaping(const char *path)
{
        if (path[0] == '/')
                return true;
        const char *p = path;
        while (*p) {
                const char *s = strchr(p, '/');
                size_t n = s ? (size_t)(s - p) : strlen(p);
                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return true;
                if (!s)
                        break;
                p = s + 1;
        }
        return false;
}
