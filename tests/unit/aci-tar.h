/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Test helpers shared by test-extract.c and test-render.c: build tars in memory with
 * libarchive's writer (tests only: the library itself never writes archives with it), a
 * scratch directory with a sentinel outside the destination, and assertions on trees. */

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>

#include "aci/archive.h"
#include "base/fileio.h"
#include "base/hash.h"

#define TEST_MANIFEST                                                                              \
        "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"example.com/t\"}"

/* type: 'f' file, 'd' dir, 'l' symlink, 'h' hard link, 'c' char dev, 'b' block dev, 'p' fifo */
struct tent {
        char type;
        const char *name;
        const char *data; /* contents, or link target */
        mode_t mode;      /* 0: 0644 / 0755 / 0777 */
        int64_t uid, gid;
        int64_t mtime; /* 0: 1500000000 */
        const char *xname, *xval;
        size_t xlen;
};

#define T_MANIFEST                                                                                 \
        {                                                                                          \
                'f', "manifest", TEST_MANIFEST                                                     \
        }
#define T_ROOTFS                                                                                   \
        {                                                                                          \
                'd', "rootfs"                                                                      \
        }

static inline la_ssize_t tar_write_cb(struct archive *a, void *ud, const void *buf, size_t len)
{
        (void)a;
        return rk_write_all(*(int *)ud, buf, len) < 0 ? -1 : (la_ssize_t)len;
}

static inline void tar_add(struct archive *a, const struct tent *t)
{
        struct archive_entry *e = archive_entry_new();
        const char *d = t->data ? t->data : "";
        mode_t type = AE_IFREG, mode = 0644;

        archive_entry_set_pathname(e, t->name);
        switch (t->type) {
        case 'd':
                type = AE_IFDIR, mode = 0755;
                break;
        case 'l':
                type = AE_IFLNK, mode = 0777;
                archive_entry_set_symlink(e, d);
                break;
        case 'h':
                archive_entry_set_hardlink(e, d);
                break;
        case 'c':
        case 'b':
                type = t->type == 'c' ? AE_IFCHR : AE_IFBLK;
                archive_entry_set_rdev(e, makedev(1, 3));
                break;
        case 'p':
                type = AE_IFIFO;
                break;
        }
        archive_entry_set_filetype(e, type);
        archive_entry_set_perm(e, t->mode ? t->mode : mode);
        archive_entry_set_uid(e, t->uid);
        archive_entry_set_gid(e, t->gid);
        archive_entry_set_mtime(e, t->mtime ? t->mtime : 1500000000, 0);
        if (t->xname)
                archive_entry_xattr_add_entry(e, t->xname, t->xval, t->xlen);
        size_t len = t->type == 'f' ? strlen(d) : 0;
        archive_entry_set_size(e, (int64_t)len);
        if (archive_write_header(a, e) != ARCHIVE_OK)
                abort();
        if (t->type == 'f' && len)
                archive_write_data(a, d, len);
        archive_entry_free(e);
}

/* Compress the bytes of in (from its offset) into a new memfd with one filter. */
static inline int compress_fd(int in, int filter)
{
        int fd = memfd_create("aci", MFD_CLOEXEC);
        struct archive *a = archive_write_new();
        struct archive_entry *e = archive_entry_new();
        char buf[65536];
        ssize_t n;

        archive_write_set_format_raw(a);
        if (archive_write_add_filter(a, filter) != ARCHIVE_OK)
                abort();
        archive_write_set_bytes_in_last_block(a, 1);
        if (archive_write_open(a, &fd, NULL, tar_write_cb, NULL) != ARCHIVE_OK)
                abort();
        archive_entry_set_filetype(e, AE_IFREG);
        archive_write_header(a, e);
        while ((n = read(in, buf, sizeof(buf))) > 0)
                archive_write_data(a, buf, (size_t)n);
        archive_write_close(a);
        archive_write_free(a);
        archive_entry_free(e);
        lseek(fd, 0, SEEK_SET);
        return fd;
}

/* A memfd holding the archive, at offset 0. filter: ARCHIVE_FILTER_NONE, _GZIP, ... The tar
 * inside is the same whatever the filter. */
static inline int tar_make(const struct tent *t, size_t n, int filter)
{
        int fd = memfd_create("aci", MFD_CLOEXEC);
        struct archive *a = archive_write_new();
        if (fd < 0 || !a)
                abort();
        archive_write_set_format_pax_restricted(a);
        if (archive_write_open(a, &fd, NULL, tar_write_cb, NULL) != ARCHIVE_OK)
                abort();
        for (size_t i = 0; i < n; i++)
                tar_add(a, &t[i]);
        archive_write_close(a);
        archive_write_free(a);
        lseek(fd, 0, SEEK_SET);
        if (filter == ARCHIVE_FILTER_NONE)
                return fd;
        int c = compress_fd(fd, filter);
        close(fd);
        return c;
}

/* "sha512-" + the hash of the uncompressed tar, computed independently of the reader. */
static inline void tar_id(const struct tent *t, size_t n, char id[RK_IMAGE_ID_LEN + 1])
{
        char hex[RK_SHA512_HEX_LEN + 1];
        int fd = tar_make(t, n, ARCHIVE_FILTER_NONE);
        if (rk_sha512_fd_hex(fd, hex, NULL) < 0)
                abort();
        close(fd);
        snprintf(id, RK_IMAGE_ID_LEN + 1, "sha512-%s", hex);
}

/* ---- a scratch directory: dest/, sentinel, outside/ ---- */

struct scratch {
        char dir[64];
        int fd;   /* the scratch directory */
        int dest; /* dest/, O_PATH */
        struct stat sentinel;
};

static inline void scratch_dest(struct scratch *s)
{
        if (s->dest >= 0)
                close(s->dest);
        (void)rk_rm_rf_at(s->fd, "dest", NULL);
        if (mkdirat(s->fd, "dest", 0755) < 0)
                abort();
        s->dest = openat(s->fd, "dest", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (s->dest < 0)
                abort();
}

static inline struct scratch *scratch_new(void)
{
        struct scratch *s = calloc(1, sizeof(*s));
        snprintf(s->dir, sizeof(s->dir), "/tmp/rk-aci-test-XXXXXX");
        if (!mkdtemp(s->dir))
                abort();
        s->fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        s->dest = -1;
        int f = openat(s->fd, "sentinel", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (f < 0 || write(f, "sentinel\n", 9) != 9)
                abort();
        struct timespec ts[2] = {{1000, 0}, {1000, 0}};
        futimens(f, ts);
        close(f);
        if (mkdirat(s->fd, "outside", 0755) < 0)
                abort();
        fstatat(s->fd, "sentinel", &s->sentinel, 0);
        scratch_dest(s);
        return s;
}

static inline void scratch_free(struct scratch *s)
{
        if (!s)
                return;
        close(s->dest);
        close(s->fd);
        (void)rk_rm_rf_at(AT_FDCWD, s->dir, NULL);
        free(s);
}

/* The escape oracle: the sentinel and the scratch directory are as they were. */
static inline bool scratch_intact(struct scratch *s)
{
        struct stat st;
        char buf[32] = {0};
        int f = openat(s->fd, "sentinel", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (f < 0 || fstat(f, &st) < 0 || read(f, buf, sizeof(buf) - 1) != 9 ||
            strcmp(buf, "sentinel\n") != 0 || st.st_ino != s->sentinel.st_ino ||
            st.st_mode != s->sentinel.st_mode || st.st_nlink != 1 ||
            st.st_mtim.tv_sec != s->sentinel.st_mtim.tv_sec || st.st_uid != s->sentinel.st_uid) {
                if (f >= 0)
                        close(f);
                return false;
        }
        close(f);
        int d = dup(s->fd);
        DIR *dir = fdopendir(d);
        struct dirent *de;
        int n = 0;
        rewinddir(dir);
        while ((de = readdir(dir))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (strcmp(de->d_name, "sentinel") && strcmp(de->d_name, "dest") &&
                    strcmp(de->d_name, "outside")) {
                        closedir(dir);
                        return false;
                }
                n++;
        }
        closedir(dir);
        if (fstatat(s->fd, "outside", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) ||
            st.st_nlink != 2 || (st.st_mode & 07777) != 0755)
                return false;
        return n == 3;
}

/* ---- tree assertions (return false rather than assert, callers use assert_true) ---- */

static inline bool has_file(int dfd, const char *path, const char *content, mode_t mode)
{
        struct stat st;
        char buf[4096];
        int f = openat(dfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (f < 0)
                return false;
        ssize_t n = read(f, buf, sizeof(buf) - 1);
        bool ok = fstat(f, &st) == 0 && S_ISREG(st.st_mode) && n >= 0;
        close(f);
        if (!ok)
                return false;
        buf[n] = 0;
        return strcmp(buf, content) == 0 && (mode == 0 || (st.st_mode & 07777) == mode);
}

static inline bool has_dir(int dfd, const char *path, mode_t mode)
{
        struct stat st;
        return fstatat(dfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) &&
               (mode == 0 || (st.st_mode & 07777) == mode);
}

static inline bool has_symlink(int dfd, const char *path, const char *target)
{
        char buf[4096];
        ssize_t n = readlinkat(dfd, path, buf, sizeof(buf) - 1);
        if (n < 0)
                return false;
        buf[n] = 0;
        return strcmp(buf, target) == 0;
}

static inline bool absent(int dfd, const char *path)
{
        struct stat st;
        return fstatat(dfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0 &&
               (errno == ENOENT || errno == ENOTDIR);
}

static inline bool is_empty_dir(int dfd)
{
        int d = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *dir = fdopendir(d);
        struct dirent *de;
        bool empty = true;
        while ((de = readdir(dir)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        empty = false;
        closedir(dir);
        return empty;
}
