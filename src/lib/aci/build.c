/* SPDX-License-Identifier: Apache-2.0 */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "aci/build.h"
#include "aci/manifest.h"
#include "base/fileio.h"

DEFINE_CLEANUP(struct archive *, archive_write_free)
DEFINE_CLEANUP(struct archive_entry *, archive_entry_free)

#define BUILD_MAX_DEPTH 256

int rk_compression_from_string(const char *s, enum rk_compression *ret)
{
        static const struct {
                const char *name;
                enum rk_compression c;
        } table[] = {
            {"gzip", RK_COMPRESS_GZIP}, {"none", RK_COMPRESS_NONE}, {"bzip2", RK_COMPRESS_BZIP2},
            {"xz", RK_COMPRESS_XZ},     {"zstd", RK_COMPRESS_ZSTD},
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (strcmp(s, table[i].name) == 0) {
                        *ret = table[i].c;
                        return 0;
                }
        return -EINVAL;
}

/* Hard links: first path seen for each (dev, ino) with st_nlink > 1. */
struct inode_seen {
        dev_t dev;
        ino_t ino;
        char *path;
};

struct builder {
        const struct rk_build_opts *opts;
        struct archive *tar; /* writes the uncompressed tar into write_cb */
        struct archive *out; /* "raw" format + compression filter onto out_fd (or NULL) */
        int out_fd;
        rk_sha512 hash;
        int io_error;
        struct inode_seen *inodes;
        size_t n_inodes;
        struct rk_build_stats stats;
        rk_error *err;
};

/* The tar stream is hashed here, byte for byte what an extractor will decompress, so the ID
 * we print is the ID every reader computes. */
static la_ssize_t write_cb(struct archive *a, void *ud, const void *buf, size_t len)
{
        struct builder *b = ud;
        rk_sha512_update(&b->hash, buf, len);
        if (b->out) {
                la_ssize_t n = archive_write_data(b->out, buf, len);
                if (n < 0 || (size_t)n != len) {
                        b->io_error = -EIO;
                        archive_set_error(a, EIO, "%s", archive_error_string(b->out));
                        return -1;
                }
        } else {
                int r = rk_write_all(b->out_fd, buf, len);
                if (r < 0) {
                        b->io_error = r;
                        archive_set_error(a, -r, "write failed");
                        return -1;
                }
        }
        return (la_ssize_t)len;
}

static int open_output(struct builder *b, rk_error *err)
{
        if (b->opts->compression == RK_COMPRESS_NONE)
                return 0;
        struct archive *o = archive_write_new();
        if (!o)
                return rk_err(err, -ENOMEM, "out of memory");
        int r = archive_write_set_format_raw(o);
        switch (b->opts->compression) {
        case RK_COMPRESS_GZIP:
                r = r ?: archive_write_add_filter_gzip(o);
                /* No timestamp in the gzip header: same input, same bytes. */
                r = r ?: archive_write_set_filter_option(o, "gzip", "timestamp", NULL);
                break;
        case RK_COMPRESS_BZIP2:
                r = r ?: archive_write_add_filter_bzip2(o);
                break;
        case RK_COMPRESS_XZ:
                r = r ?: archive_write_add_filter_xz(o);
                break;
        case RK_COMPRESS_ZSTD:
                r = r ?: archive_write_add_filter_zstd(o);
                break;
        case RK_COMPRESS_NONE:
                break;
        }
        r = r ?: archive_write_set_bytes_in_last_block(o, 1);
        r = r ?: archive_write_open_fd(o, b->out_fd);
        if (r != ARCHIVE_OK) {
                r = rk_err(err, -EIO, "cannot set up compression: %s", archive_error_string(o));
                archive_write_free(o);
                return r;
        }
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, "data");
        archive_entry_set_filetype(e, AE_IFREG);
        r = archive_write_header(o, e);
        archive_entry_free(e);
        if (r != ARCHIVE_OK) {
                r = rk_err(err, -EIO, "cannot start compressed stream: %s",
                           archive_error_string(o));
                archive_write_free(o);
                return r;
        }
        b->out = o;
        return 0;
}

static void set_common(struct builder *b, struct archive_entry *e, const char *path,
                       const struct stat *st)
{
        archive_entry_set_pathname(e, path);
        archive_entry_set_perm(e, st->st_mode & 07777);
        if (b->opts->preserve_owners) {
                archive_entry_set_uid(e, st->st_uid);
                archive_entry_set_gid(e, st->st_gid);
        } else {
                archive_entry_set_uid(e, 0);
                archive_entry_set_gid(e, 0);
        }
        if (b->opts->preserve_times)
                archive_entry_set_mtime(e, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
        else
                archive_entry_set_mtime(e, b->opts->mtime, 0);
}

static int cmp_str(const void *x, const void *y)
{
        return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Only user.* xattrs travel into an image; the extractor accepts nothing else either. */
static int add_xattrs(struct builder *b, struct archive_entry *e, int fd, const char *path)
{
        char names[65536];
        ssize_t n = flistxattr(fd, names, sizeof(names));
        if (n <= 0)
                return 0;
        char *list[256];
        size_t nl = 0;
        for (char *p = names; p < names + n && nl < ELEMENTSOF(list); p += strlen(p) + 1)
                if (strncmp(p, "user.", 5) == 0)
                        list[nl++] = p;
        qsort(list, nl, sizeof(*list), cmp_str);
        for (size_t i = 0; i < nl; i++) {
                char val[65536];
                ssize_t vl = fgetxattr(fd, list[i], val, sizeof(val));
                if (vl < 0)
                        return rk_err_errno(b->err, negative_errno(), "'%s': cannot read xattr %s",
                                            path, list[i]);
                archive_entry_xattr_add_entry(e, list[i], val, (size_t)vl);
        }
        return 0;
}

static int write_header(struct builder *b, struct archive_entry *e, const char *path)
{
        if (archive_write_header(b->tar, e) != ARCHIVE_OK)
                return rk_err(b->err, b->io_error ?: -EIO, "'%s': cannot write entry: %s", path,
                              archive_error_string(b->tar));
        b->stats.entries++;
        return 0;
}

static int copy_data(struct builder *b, int fd, const char *path, off_t size)
{
        char buf[65536];
        off_t left = size;
        while (left > 0) {
                ssize_t n = read(fd, buf, left < (off_t)sizeof(buf) ? (size_t)left : sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return rk_err_errno(b->err, negative_errno(), "'%s': read failed", path);
                if (n == 0)
                        return rk_err(b->err, -EIO, "'%s': file shrank while being archived", path);
                if (archive_write_data(b->tar, buf, (size_t)n) != n)
                        return rk_err(b->err, b->io_error ?: -EIO, "'%s': cannot write: %s", path,
                                      archive_error_string(b->tar));
                left -= n;
                b->stats.bytes += (uint64_t)n;
        }
        return 0;
}

static int add_file(struct builder *b, int dirfd, const char *name, const char *path,
                    const struct stat *st)
{
        _cleanup_(archive_entry_freep) struct archive_entry *e = archive_entry_new();
        if (!e)
                return rk_err(b->err, -ENOMEM, "out of memory");
        set_common(b, e, path, st);
        if (st->st_nlink > 1) {
                for (size_t i = 0; i < b->n_inodes; i++)
                        if (b->inodes[i].dev == st->st_dev && b->inodes[i].ino == st->st_ino) {
                                archive_entry_set_filetype(e, AE_IFREG);
                                archive_entry_set_hardlink(e, b->inodes[i].path);
                                archive_entry_set_size(e, 0);
                                b->stats.hardlinks++;
                                return write_header(b, e, path);
                        }
                struct inode_seen *n = realloc(b->inodes, (b->n_inodes + 1) * sizeof(*n));
                if (!n)
                        return rk_err(b->err, -ENOMEM, "out of memory");
                b->inodes = n;
                b->inodes[b->n_inodes] = (struct inode_seen){st->st_dev, st->st_ino, strdup(path)};
                if (!b->inodes[b->n_inodes++].path)
                        return rk_err(b->err, -ENOMEM, "out of memory");
        }
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return rk_err_errno(b->err, negative_errno(), "'%s': cannot open", path);
        struct stat fst;
        if (fstat(fd, &fst) < 0 || fst.st_ino != st->st_ino || !S_ISREG(fst.st_mode))
                return rk_err(b->err, -EBUSY, "'%s': changed while being archived", path);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(e, fst.st_size);
        int r = add_xattrs(b, e, fd, path);
        if (r < 0)
                return r;
        r = write_header(b, e, path);
        if (r < 0)
                return r;
        b->stats.files++;
        return copy_data(b, fd, path, fst.st_size);
}

static int add_symlink(struct builder *b, int dirfd, const char *name, const char *path,
                       const struct stat *st)
{
        char target[PATH_MAX];
        ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
        if (n < 0)
                return rk_err_errno(b->err, negative_errno(), "'%s': cannot read link", path);
        target[n] = 0;
        _cleanup_(archive_entry_freep) struct archive_entry *e = archive_entry_new();
        if (!e)
                return rk_err(b->err, -ENOMEM, "out of memory");
        set_common(b, e, path, st);
        archive_entry_set_perm(e, 0777);
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_set_symlink(e, target);
        b->stats.symlinks++;
        return write_header(b, e, path);
}

static int add_dir(struct builder *b, int fd, const char *path, int depth);

static int add_child(struct builder *b, int dirfd, const char *name, const char *parent, int depth)
{
        char path[PATH_MAX];
        if (snprintf(path, sizeof(path), "%s/%s", parent, name) >= (int)sizeof(path))
                return rk_err(b->err, -ENAMETOOLONG, "'%s/%s': path too long", parent, name);
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return rk_err_errno(b->err, negative_errno(), "'%s': cannot stat", path);
        if (S_ISDIR(st.st_mode)) {
                _cleanup_close_ int fd =
                    openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return rk_err_errno(b->err, negative_errno(), "'%s': cannot open", path);
                return add_dir(b, fd, path, depth + 1);
        }
        if (S_ISREG(st.st_mode))
                return add_file(b, dirfd, name, path, &st);
        if (S_ISLNK(st.st_mode))
                return add_symlink(b, dirfd, name, path, &st);
        /* The executor provides /dev; extraction refuses these, so refuse them here. */
        return rk_err(b->err, -EPERM,
                      "'%s': %s cannot be part of an image (the runtime provides /dev)", path,
                      S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "device nodes"
                      : S_ISFIFO(st.st_mode)                     ? "FIFOs"
                                                                 : "sockets");
}

static int add_dir(struct builder *b, int fd, const char *path, int depth)
{
        if (depth > BUILD_MAX_DEPTH)
                return rk_err(b->err, -ELOOP, "'%s': nested deeper than %d", path, BUILD_MAX_DEPTH);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return rk_err_errno(b->err, negative_errno(), "'%s': cannot stat", path);
        _cleanup_(archive_entry_freep) struct archive_entry *e = archive_entry_new();
        if (!e)
                return rk_err(b->err, -ENOMEM, "out of memory");
        set_common(b, e, path, &st);
        archive_entry_set_filetype(e, AE_IFDIR);
        int r = add_xattrs(b, e, fd, path);
        if (r < 0)
                return r;
        r = write_header(b, e, path);
        if (r < 0)
                return r;
        b->stats.dirs++;

        /* Bytewise order: independent of locale and of the filesystem's readdir order. */
        char **names = NULL;
        size_t n = 0;
        r = rk_dir_names(fd, true, &names, &n);
        if (r < 0)
                return rk_err_errno(b->err, r, "'%s': cannot list", path);
        for (size_t i = 0; i < n && r >= 0; i++)
                r = add_child(b, fd, names[i], path, depth);
        rk_strv_free(names, n);
        return r;
}

static int add_manifest(struct builder *b, int layout_fd, int manifest_fd)
{
        _cleanup_free_ char *raw = NULL, *canon = NULL;
        size_t raw_len = 0, canon_len = 0;
        int r;
        if (manifest_fd >= 0)
                r = rk_read_fd_capped(manifest_fd, "manifest", RK_MANIFEST_MAX, &raw, &raw_len,
                                      b->err);
        else
                r = rk_read_file_at(layout_fd, "manifest", RK_MANIFEST_MAX, &raw, &raw_len, b->err);
        if (r < 0)
                return r;
        struct rk_image_manifest *m = NULL;
        r = rk_image_manifest_parse("manifest", raw, raw_len, &m, b->err);
        if (r < 0)
                return r;
        r = rk_image_manifest_serialize(m, &canon, &canon_len, b->err);
        m = rk_image_manifest_free(m);
        if (r < 0)
                return r;
        _cleanup_(archive_entry_freep) struct archive_entry *e = archive_entry_new();
        if (!e)
                return rk_err(b->err, -ENOMEM, "out of memory");
        archive_entry_set_pathname(e, "manifest");
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_uid(e, 0);
        archive_entry_set_gid(e, 0);
        archive_entry_set_mtime(e, b->opts->mtime, 0);
        archive_entry_set_size(e, (la_int64_t)canon_len);
        r = write_header(b, e, "manifest");
        if (r < 0)
                return r;
        if (archive_write_data(b->tar, canon, canon_len) != (la_ssize_t)canon_len)
                return rk_err(b->err, b->io_error ?: -EIO, "manifest: cannot write: %s",
                              archive_error_string(b->tar));
        return 0;
}

int rk_aci_build(int layout_fd, int manifest_fd, int out_fd, const struct rk_build_opts *opts,
                 char ret_id[RK_IMAGE_ID_LEN + 1], struct rk_build_stats *ret_stats, rk_error *err)
{
        struct builder b = {.opts = opts, .out_fd = out_fd, .err = err};
        _cleanup_close_ int rootfs =
            openat(layout_fd, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (rootfs < 0)
                return rk_err_errno(err, negative_errno(),
                                    "image layout: cannot open 'rootfs' directory");
        int r = rk_sha512_init(&b.hash, err);
        if (r < 0)
                return r;
        r = open_output(&b, err);
        if (r < 0)
                goto out;
        b.tar = archive_write_new();
        if (!b.tar) {
                r = rk_err(err, -ENOMEM, "out of memory");
                goto out;
        }
        /* pax only where ustar cannot say it (long names, big ids, xattrs); no atime/ctime. */
        if (archive_write_set_format_pax_restricted(b.tar) != ARCHIVE_OK ||
            archive_write_add_filter_none(b.tar) != ARCHIVE_OK ||
            archive_write_open(b.tar, &b, NULL, write_cb, NULL) != ARCHIVE_OK) {
                r = rk_err(err, -EIO, "cannot start archive: %s", archive_error_string(b.tar));
                goto out;
        }
        r = add_manifest(&b, layout_fd, manifest_fd);
        if (r >= 0)
                r = add_dir(&b, rootfs, "rootfs", 0);
        if (r >= 0 && archive_write_close(b.tar) != ARCHIVE_OK)
                r = rk_err(err, b.io_error ?: -EIO, "cannot finish archive: %s",
                           archive_error_string(b.tar));
        if (r >= 0 && b.out && archive_write_close(b.out) != ARCHIVE_OK)
                r = rk_err(err, -EIO, "cannot finish compressed stream: %s",
                           archive_error_string(b.out));
        if (r >= 0)
                r = rk_sha512_final_hex(&b.hash, ret_id + 7, err);
        if (r >= 0) {
                memcpy(ret_id, "sha512-", 7);
                if (ret_stats)
                        *ret_stats = b.stats;
        }
out:
        if (b.tar)
                archive_write_free(b.tar);
        if (b.out)
                archive_write_free(b.out);
        rk_sha512_done(&b.hash);
        for (size_t i = 0; i < b.n_inodes; i++)
                free(b.inodes[i].path);
        free(b.inodes);
        return r;
}
