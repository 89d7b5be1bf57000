/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "base/fileio.h"

int rk_read_fd_capped(int fd, const char *what, size_t max, char **ret, size_t *ret_len,
                      rk_error *err)
{
        size_t cap = 4096, len = 0;
        _cleanup_free_ char *buf = malloc(cap + 1);
        if (!buf)
                return rk_err(err, -ENOMEM, "%s: out of memory", what);
        for (;;) {
                if (len == cap) {
                        if (cap > max)
                                return rk_err(err, -EFBIG, "%s: larger than the limit of %zu bytes",
                                              what, max);
                        size_t ncap = cap * 2;
                        char *n = realloc(buf, ncap + 1);
                        if (!n)
                                return rk_err(err, -ENOMEM, "%s: out of memory", what);
                        buf = n;
                        cap = ncap;
                }
                ssize_t n = read(fd, buf + len, cap - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return rk_err_errno(err, negative_errno(), "%s: read failed", what);
                }
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len > max)
                        return rk_err(err, -EFBIG, "%s: larger than the limit of %zu bytes", what,
                                      max);
        }
        buf[len] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

int rk_read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len,
                    rk_error *err)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "cannot open '%s'", path);
        return rk_read_fd_capped(fd, path, max, ret, ret_len, err);
}

int rk_write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

int rk_write_file_atomic_at(int dirfd, const char *name, const void *buf, size_t len, mode_t mode,
                            rk_error *err)
{
        char tmp[NAME_MAX + 1];
        unsigned long long rnd = 0;
        if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
                rnd = (unsigned long long)getpid() ^ (unsigned long long)(uintptr_t)&rnd;
        int n = snprintf(tmp, sizeof(tmp), ".#%.200s.%016llx", name, rnd);
        if (n < 0 || (size_t)n >= sizeof(tmp))
                return rk_err(err, -ENAMETOOLONG, "'%s': name too long", name);
        _cleanup_close_ int fd =
            openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "cannot create '%s'", tmp);
        int r = rk_write_all(fd, buf, len);
        if (r >= 0 && fchmod(fd, mode) < 0)
                r = negative_errno();
        if (r >= 0 && fsync(fd) < 0)
                r = negative_errno();
        if (r >= 0 && renameat(dirfd, tmp, dirfd, name) < 0)
                r = negative_errno();
        if (r < 0) {
                (void)unlinkat(dirfd, tmp, 0);
                return rk_err_errno(err, r, "cannot write '%s'", name);
        }
        (void)fsync(dirfd);
        return 0;
}

int rk_mkdir_p(const char *path, mode_t mode, rk_error *err)
{
        char buf[PATH_MAX];
        size_t len = strlen(path);
        if (len == 0 || len >= sizeof(buf))
                return rk_err(err, -ENAMETOOLONG, "'%s': bad directory path", path);
        memcpy(buf, path, len + 1);
        for (char *p = buf + 1;; p++) {
                if (*p == '/' || *p == 0) {
                        char c = *p;
                        *p = 0;
                        if (mkdir(buf, mode) < 0 && errno != EEXIST)
                                return rk_err_errno(err, negative_errno(),
                                                    "cannot create directory '%s'", buf);
                        *p = c;
                        if (c == 0)
                                break;
                }
        }
        struct stat st;
        if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
                return rk_err(err, -ENOTDIR, "'%s' is not a directory", path);
        return 0;
}

static int rm_rf_children(int fd, int depth)
{
        if (depth > 4096)
                return -ELOOP;
        DIR *d = fdopendir(fd);
        if (!d) {
                (void)close(fd);
                return negative_errno();
        }
        int r = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                struct stat st;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        int cfd = openat(dirfd(d), de->d_name,
                                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (cfd >= 0) {
                                int q = rm_rf_children(cfd, depth + 1);
                                if (q < 0 && r == 0)
                                        r = q;
                        }
                        if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && r == 0)
                                r = negative_errno();
                } else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && r == 0)
                        r = negative_errno();
        }
        closedir(d);
        return r;
}

int rk_rm_rf_at(int dirfd, const char *name, rk_error *err)
{
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                        return 0;
                return rk_err_errno(err, negative_errno(), "cannot stat '%s'", name);
        }
        if (!S_ISDIR(st.st_mode)) {
                if (unlinkat(dirfd, name, 0) < 0)
                        return rk_err_errno(err, negative_errno(), "cannot remove '%s'", name);
                return 0;
        }
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "cannot open '%s'", name);
        int r = rm_rf_children(fd, 0);
        if (r < 0)
                return rk_err_errno(err, r, "cannot empty '%s'", name);
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
                return rk_err_errno(err, negative_errno(), "cannot remove '%s'", name);
        return 0;
}

void rk_strv_free(char **v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                free(v[i]);
        free(v);
}

static int cmp_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int rk_dir_names(int dirfd, bool sort, char ***ret, size_t *ret_n)
{
        int d = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *dir = d >= 0 ? fdopendir(d) : NULL;
        if (!dir) {
                int r = negative_errno();
                safe_close(d);
                return r;
        }
        char **v = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        int r = 0;
        while (r >= 0 && (errno = 0, de = readdir(dir))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (n == cap) {
                        cap = cap ? cap * 2 : 32;
                        char **nv = reallocarray(v, cap, sizeof(*v));
                        if (!nv) {
                                r = -ENOMEM;
                                break;
                        }
                        v = nv;
                }
                if (!(v[n] = strdup(de->d_name)))
                        r = -ENOMEM;
                else
                        n++;
        }
        if (r >= 0 && errno)
                r = negative_errno();
        closedir(dir);
        if (r < 0) {
                rk_strv_free(v, n);
                return r;
        }
        if (sort && n)
                qsort(v, n, sizeof(*v), cmp_names);
        *ret = v;
        *ret_n = n;
        return 0;
}
