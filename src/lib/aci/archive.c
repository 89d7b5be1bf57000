/* SPDX-License-Identifier: Apache-2.0 */
/* The ACI reader: libarchive as a reader only, and the image ID in the same pass.
 *
 * Two libarchive handles are chained through our own callbacks:
 *
 *   fd --fd_read--> [outer: format "raw" + one decompression filter] --tar_pull--> [tar: format
 *   tar, no filters]
 *
 * tar_pull sees every byte of the uncompressed tar exactly once, so it hashes and counts them
 * there; after the tar's end we drain the rest (trailing padding) through the same function.
 * The compression is sniffed from the first bytes and only that one filter is registered: a
 * gzip inside a gzip is not unwrapped again, and nothing but tar is ever parsed (libarchive's
 * other formats have had memory-safety bugs: security.md §4.3 "parser memory bugs"). For an
 * uncompressed tar there is no outer handle. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "aci/extract-internal.h"
#include "aci/manifest.h"

#define BUF_SIZE (128 * 1024)

struct rk_aci_reader {
        const char *what;
        const struct rk_aci_limits *l;
        int fd;
        bool seekable;
        off_t off;
        uint64_t compressed, uncompressed;
        const char *compression;
        struct archive *outer; /* NULL for an uncompressed tar */
        struct archive *tar;
        rk_sha512 hash;
        unsigned char *raw;        /* bytes read from fd */
        size_t pend_off, pend_len; /* sniffed bytes not yet handed on */
        unsigned char *plain;      /* bytes decompressed by outer */
        bool tar_eof;
        rk_error cb_err; /* an error raised inside a libarchive callback */
};

void rk_aci_limits_init(struct rk_aci_limits *l)
{
        *l = (struct rk_aci_limits){
            .max_compressed_bytes = UINT64_C(8) << 30,
            .max_total_bytes = UINT64_C(16) << 30,
            .max_file_bytes = UINT64_C(4) << 30,
            .max_entries = 1000000,
            .max_path_len = 4096,
            .max_depth = 128,
            .max_link_len = 4095,
            .max_xattrs = 64,
            .max_xattr_bytes = 256 * 1024,
            .max_manifest_bytes = RK_MANIFEST_MAX,
            .max_memory_bytes = UINT64_C(2) << 30,
            .max_cpu_seconds = 3600,
        };
}

void rk_aci_result_clear(struct rk_aci_result *r)
{
        if (!r)
                return;
        free(r->manifest);
        *r = (struct rk_aci_result){0};
}

const char *rk_aci_printable(const char *name, char *out, size_t size)
{
        static const char hex[] = "0123456789abcdef";
        size_t o = 0;

        if (size < 8) {
                if (size)
                        out[0] = 0;
                return out;
        }
        for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
                if (o + 8 >= size) {
                        memcpy(out + o, "...", 4);
                        return out;
                }
                if (*p < 0x20 || *p == 0x7f || *p == '\\') {
                        out[o++] = '\\';
                        out[o++] = 'x';
                        out[o++] = hex[*p >> 4];
                        out[o++] = hex[*p & 0xf];
                } else
                        out[o++] = (char)*p;
        }
        out[o] = 0;
        return out;
}

/* ---- raw bytes from the fd ---- */

static ssize_t fd_read(struct rk_aci_reader *r, const void **ret)
{
        if (r->pend_len > 0) {
                size_t n = r->pend_len;
                *ret = r->raw + r->pend_off;
                r->pend_len = 0;
                return (ssize_t)n;
        }
        for (;;) {
                ssize_t n = r->seekable ? pread(r->fd, r->raw, BUF_SIZE, r->off)
                                        : read(r->fd, r->raw, BUF_SIZE);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return rk_err_errno(&r->cb_err, negative_errno(), "'%s': read failed",
                                            r->what);
                r->off += n;
                r->compressed += (uint64_t)n;
                if (r->compressed > r->l->max_compressed_bytes)
                        return rk_err(&r->cb_err, -EFBIG,
                                      "'%s': archive larger than the limit of %" PRIu64 " bytes",
                                      r->what, r->l->max_compressed_bytes);
                *ret = r->raw;
                return n;
        }
}

static la_ssize_t outer_cb(struct archive *a, void *userdata, const void **buf)
{
        struct rk_aci_reader *r = userdata;
        ssize_t n = fd_read(r, buf);
        if (n < 0) {
                archive_set_error(a, EIO, "%s", r->cb_err.msg);
                return -1;
        }
        return n;
}

/* ---- the uncompressed tar stream: hashed and counted here, and only here ---- */

static ssize_t tar_pull(struct rk_aci_reader *r, const void **ret)
{
        ssize_t n;

        if (r->outer) {
                n = archive_read_data(r->outer, r->plain, BUF_SIZE);
                if (n < 0) {
                        if (r->cb_err.code < 0)
                                return r->cb_err.code;
                        const char *s = archive_error_string(r->outer);
                        return rk_err(&r->cb_err, -EBADMSG, "'%s': bad %s data: %s", r->what,
                                      r->compression, s ? s : "unknown error");
                }
                *ret = r->plain;
        } else {
                n = fd_read(r, ret);
                if (n < 0)
                        return n;
        }
        r->uncompressed += (uint64_t)n;
        /* The decompression-bomb cap: counted on the output of the decompressor, before the
         * bytes reach the tar parser. */
        if (r->uncompressed > r->l->max_total_bytes)
                return rk_err(&r->cb_err, -EFBIG,
                              "'%s': uncompressed tar larger than the limit of %" PRIu64 " bytes",
                              r->what, r->l->max_total_bytes);
        rk_sha512_update(&r->hash, *ret, (size_t)n);
        return n;
}

static la_ssize_t tar_cb(struct archive *a, void *userdata, const void **buf)
{
        struct rk_aci_reader *r = userdata;
        ssize_t n = tar_pull(r, buf);
        if (n < 0) {
                archive_set_error(a, EIO, "%s", r->cb_err.msg);
                return -1;
        }
        return n;
}

static int reader_error(struct rk_aci_reader *r, struct archive *a, const char *context,
                        rk_error *err)
{
        if (r->cb_err.code < 0) {
                if (err)
                        *err = r->cb_err;
                return r->cb_err.code;
        }
        const char *s = archive_error_string(a);
        return rk_err(err, -EBADMSG, "'%s': %s: %s", r->what, context, s ? s : "unknown error");
}

/* ---- setup ---- */

struct magic {
        const char *name;
        const unsigned char *bytes;
        size_t len;
        int (*support)(struct archive *);
        int code;
};

static const struct magic magics[] = {
    {"gzip", (const unsigned char *)"\x1f\x8b", 2, archive_read_support_filter_gzip,
     ARCHIVE_FILTER_GZIP},
    {"bzip2", (const unsigned char *)"BZh", 3, archive_read_support_filter_bzip2,
     ARCHIVE_FILTER_BZIP2},
    {"xz", (const unsigned char *)"\xfd\x37\x7a\x58\x5a\x00", 6, archive_read_support_filter_xz,
     ARCHIVE_FILTER_XZ},
    {"zstd", (const unsigned char *)"\x28\xb5\x2f\xfd", 4, archive_read_support_filter_zstd,
     ARCHIVE_FILTER_ZSTD},
};

/* Read until we hold enough bytes to recognise the compression (or hit EOF). */
static int sniff(struct rk_aci_reader *r, const struct magic **ret, rk_error *err)
{
        size_t got = 0;
        while (got < 6) {
                ssize_t n = r->seekable ? pread(r->fd, r->raw + got, BUF_SIZE - got, r->off)
                                        : read(r->fd, r->raw + got, BUF_SIZE - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return rk_err_errno(err, negative_errno(), "'%s': read failed", r->what);
                if (n == 0)
                        break;
                got += (size_t)n;
                r->off += n;
                r->compressed += (uint64_t)n;
        }
        if (got == 0)
                return rk_err(err, -EBADMSG, "'%s': empty file, not an ACI", r->what);
        r->pend_off = 0;
        r->pend_len = got;
        *ret = NULL;
        for (size_t i = 0; i < ELEMENTSOF(magics); i++)
                if (got >= magics[i].len && memcmp(r->raw, magics[i].bytes, magics[i].len) == 0)
                        *ret = &magics[i];
        return 0;
}

static int open_outer(struct rk_aci_reader *r, const struct magic *m, rk_error *err)
{
        struct archive_entry *e;

        r->outer = archive_read_new();
        r->plain = malloc(BUF_SIZE);
        if (!r->outer || !r->plain)
                return rk_err(err, -ENOMEM, "'%s': out of memory", r->what);
        /* ARCHIVE_WARN means libarchive would run an external program: never. */
        if (archive_read_support_format_raw(r->outer) != ARCHIVE_OK ||
            m->support(r->outer) != ARCHIVE_OK)
                return rk_err(err, -EOPNOTSUPP,
                              "'%s': this libarchive cannot decompress %s by itself", r->what,
                              m->name);
        if (archive_read_open(r->outer, r, NULL, outer_cb, NULL) != ARCHIVE_OK ||
            archive_read_next_header(r->outer, &e) != ARCHIVE_OK)
                return reader_error(r, r->outer, "cannot decompress", err);
        /* libarchive stacks a second filter when the output looks compressed again: one level
         * of compression is all an ACI has, more only multiplies a bomb. */
        if (archive_filter_count(r->outer) > 2)
                return rk_err(err, -EBADMSG, "'%s': nested compression is not supported", r->what);
        if (archive_filter_count(r->outer) != 2 || archive_filter_code(r->outer, 0) != m->code)
                return rk_err(err, -EBADMSG, "'%s': bad %s header", r->what, m->name);
        return 0;
}

static int open_tar(struct rk_aci_reader *r, rk_error *err)
{
        r->tar = archive_read_new();
        if (!r->tar)
                return rk_err(err, -ENOMEM, "'%s': out of memory", r->what);
        if (archive_read_support_format_tar(r->tar) != ARCHIVE_OK)
                return rk_err(err, -EOPNOTSUPP, "'%s': libarchive lacks tar support", r->what);
        /* No skip or seek callback: skipped data still flows through tar_cb and is hashed. */
        if (archive_read_open(r->tar, r, NULL, tar_cb, NULL) != ARCHIVE_OK)
                return reader_error(r, r->tar, "not a tar archive", err);
        return 0;
}

int rk_aci_reader_open(int fd, const char *what, const struct rk_aci_limits *l,
                       struct rk_aci_reader **ret, rk_error *err)
{
        const struct magic *m = NULL;
        struct rk_aci_reader *r = calloc(1, sizeof(*r));
        int q;

        if (!r)
                return rk_err(err, -ENOMEM, "'%s': out of memory", what);
        r->what = what;
        r->l = l;
        r->fd = fd;
        r->compression = "none";
        r->off = lseek(fd, 0, SEEK_CUR);
        r->seekable = r->off >= 0;
        if (!r->seekable)
                r->off = 0;
        r->raw = malloc(BUF_SIZE);
        if (!r->raw) {
                q = rk_err(err, -ENOMEM, "'%s': out of memory", what);
                goto fail;
        }
        q = rk_sha512_init(&r->hash, err);
        if (q >= 0)
                q = sniff(r, &m, err);
        if (q >= 0 && m) {
                r->compression = m->name;
                q = open_outer(r, m, err);
        }
        if (q >= 0)
                q = open_tar(r, err);
        if (q < 0)
                goto fail;
        *ret = r;
        return 0;
fail:
        rk_aci_reader_free(r);
        return q;
}

struct rk_aci_reader *rk_aci_reader_free(struct rk_aci_reader *r)
{
        if (!r)
                return NULL;
        if (r->tar)
                archive_read_free(r->tar);
        if (r->outer)
                archive_read_free(r->outer);
        rk_sha512_done(&r->hash);
        free(r->raw);
        free(r->plain);
        free(r);
        return NULL;
}

int rk_aci_reader_next(struct rk_aci_reader *r, struct archive_entry **ret_entry, rk_error *err)
{
        struct archive_entry *e = NULL;

        if (r->tar_eof)
                return 0;
        int q = archive_read_next_header(r->tar, &e);
        if (q == ARCHIVE_EOF) {
                r->tar_eof = true;
                return 0;
        }
        /* WARN is libarchive saying a name could not be converted to the locale (we read
         * bytes as they are) or that it ignored a malformed pax attribute; the entry is still
         * checked as we see it. RETRY ("damaged archive": libarchive would scan forward for the
         * next header) and FATAL end the extraction. */
        if (q != ARCHIVE_OK && q != ARCHIVE_WARN)
                return reader_error(r, r->tar, "bad tar archive", err);
        *ret_entry = e;
        return 1;
}

ssize_t rk_aci_reader_read(struct rk_aci_reader *r, void *buf, size_t len, rk_error *err)
{
        la_ssize_t n = archive_read_data(r->tar, buf, len);
        if (n < 0)
                return reader_error(r, r->tar, "bad tar archive", err);
        return n;
}

int rk_aci_reader_finish(struct rk_aci_reader *r, char ret_id[RK_IMAGE_ID_LEN + 1], rk_error *err)
{
        char hex[RK_SHA512_HEX_LEN + 1];
        const void *p;
        ssize_t n;

        if (!r->tar_eof)
                return rk_err(err, -EINVAL, "'%s': tar not read to its end", r->what);
        /* The ID covers every byte of the uncompressed stream, padding after the end-of-archive
         * blocks included (appc: hash of the uncompressed tar). */
        while ((n = tar_pull(r, &p)) > 0)
                ;
        if (n < 0) {
                if (err)
                        *err = r->cb_err;
                return (int)n;
        }
        int q = rk_sha512_final_hex(&r->hash, hex, err);
        if (q < 0)
                return q;
        snprintf(ret_id, RK_IMAGE_ID_LEN + 1, "sha512-%s", hex);
        return 0;
}
