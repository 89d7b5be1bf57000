/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The image store under the data dir (ARCHITECTURE.md "On-disk layout"):
 *
 *   cas/blob/sha512/<2hex>/<id>   the image exactly as distributed (the compressed bytes a
 *                                 signature covers), 0644; <id>.asc beside it when signed
 *   cas/index.db                  SQLite in WAL mode: images, trees, remote cache
 *   cas/tree/<tree-id>/           rootfs/, manifest, digest, layers and "rendered" (last)
 *   cas/tmp/                      O_TMPFILE staging (anonymous); named files only from callers
 *                                 that hold an flock on them while in use
 *   locks/store                   shared by every mutation, exclusive for gc repairs
 *   locks/images/<id>             exclusive for import/remove, shared while rendering
 *   locks/trees/<tree-id>         exclusive while rendering or removing a tree
 *
 * Every directory is 0700 and must belong to the effective uid and be writable by nobody
 * else (the store is refused otherwise); everything is opened relative to directory fds with
 * O_NOFOLLOW. Lock order: store, then images (sorted), then trees.
 *
 * Crash safety: a blob is written to an O_TMPFILE, fsync'd and linked under its final name
 * only when complete; its index row is inserted after; a tree is extracted into a fresh
 * cas/tree/.new-* directory, its digest written, the file system synced, "rendered" written
 * last, and only then renamed into place. A process killed at any point leaves at most: a
 * blob without row, a row without blob, a stray .new-/.del- directory or temporary file, a
 * tree without "rendered"; the next rk_store_render/rk_store_import ignore or replace them
 * and rk_store_gc removes them.
 *
 * Image references (rk_store_resolve): a full ID, any unique prefix of >= 2 hex digits
 * ("sha512-ab"), or "name[:version][,label=value...]" (every given label must match; the
 * newest import wins). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aci/manifest.h"
#include "aci/types.h"
#include "base/error.h"
#include "base/hash.h"

/* "deps-" + "sha512-" + 128 hex */
#define RK_TREE_ID_LEN (5 + RK_IMAGE_ID_LEN)
#define RK_FPR_MAX     128

struct rk_store;

/* Opens (creating what is missing) the store under dir. */
int rk_store_open(const char *dir, struct rk_store **ret, rk_error *err);
/* Returns NULL. */
struct rk_store *rk_store_close(struct rk_store *s);
static inline void rk_store_closep(struct rk_store **s)
{
        if (*s)
                rk_store_close(*s);
}
#define _cleanup_store_ __attribute__((cleanup(rk_store_closep)))

/* How an image was admitted: exactly one of signer and insecure is set. */
struct rk_admission {
        const char *signer;   /* primary key fingerprint (hex), or NULL */
        const char *prefix;   /* the trust-store prefix the key was trusted for, or NULL */
        const char *rule;     /* the policy rule that decided, or NULL */
        const char *insecure; /* the option that let it in unverified ("image"), or NULL */
};

struct rk_image_info {
        char id[RK_IMAGE_ID_LEN + 1];
        char *name;
        struct rk_labels labels;
        char manifest_sha512[RK_SHA512_HEX_LEN + 1];
        uint64_t size;       /* bytes of the blob */
        uint64_t tree_bytes; /* bytes of the trees rendered from it (as the top image) */
        int64_t import_time; /* ns since the epoch */
        int64_t last_used;   /* ns since the epoch */
        char *signer, *prefix, *rule, *insecure; /* NULL when absent */
        bool has_signature;
};
void rk_image_info_clear(struct rk_image_info *i);
void rk_image_infos_free(struct rk_image_info *v, size_t n);

/* ---- import ---- */

/* An anonymous O_RDWR file in cas/tmp (O_TMPFILE), 0600. Write the download into it, verify
 * the signature over it, then pass it to rk_store_import: it is linked into place without a
 * copy (so write nothing to it after the import). Returns the fd. */
int rk_store_tmpfile(struct rk_store *s, rk_error *err);
/* rk_store_tmpfile() filled with the bytes of src (from offset 0; a regular file). Use it for
 * files someone else can write (rkt fetch ./x.aci): verify the copy, not the original, whose
 * bytes could change between verification and import. Returns the fd at offset 0. */
int rk_store_tmpfile_copy(struct rk_store *s, int src, const char *what, rk_error *err);

/* Stores the image in fd (a regular file, read whole from offset 0; the offset of an
 * rk_store_tmpfile fd is moved) which the caller has already verified (or chosen not to:
 * adm->insecure) with its detached signature sig (sig_len bytes, may be NULL). An fd from
 * rk_store_tmpfile* is linked in directly; anything else is first copied into one. The archive is
 * checked by the confined extractor (nothing written) and its manifest parsed before anything is
 * stored.
 *
 * Re-importing an ID: a verified import replaces the admission, the signature and (if the
 * bytes differ) the blob; an insecure import never downgrades a verified image, so it then
 * leaves everything as it was. ret (may be NULL) gets the stored row. Audit event "import".
 * Errors: -EBADMSG (not a valid ACI, the message says why), -EINVAL (bad admission). */
int rk_store_import(struct rk_store *s, int fd, const void *sig, size_t sig_len,
                    const struct rk_admission *adm, struct rk_image_info *ret, rk_error *err);

/* rk_store_import with the admission decided after the archive was checked and its manifest
 * parsed, before anything is stored: admit gets the image ID and the manifest (e.g. to bind
 * the signer to the manifest's name and apply the policy) and fills adm, whose strings must
 * stay valid until rk_store_import_admit returns. A negative return refuses the image (its
 * code and message are returned; nothing is stored). */
typedef int (*rk_store_admit_fn)(void *userdata, const char *id, const struct rk_image_manifest *m,
                                 struct rk_admission *adm, rk_error *err);
int rk_store_import_admit(struct rk_store *s, int fd, const void *sig, size_t sig_len,
                          rk_store_admit_fn admit, void *userdata, struct rk_image_info *ret,
                          rk_error *err);

/* ---- lookup ---- */

/* -ENOENT "not found", -ENOTUNIQ for an ambiguous prefix, -EINVAL for a malformed or too short
 * reference; messages name the reference. */
int rk_store_resolve(struct rk_store *s, const char *ref, struct rk_image_info *ret, rk_error *err);
/* By name and labels (each given label must be equal); newest import wins. */
int rk_store_find(struct rk_store *s, const char *name, const struct rk_labels *labels,
                  struct rk_image_info *ret, rk_error *err);
/* By full ID. */
int rk_store_get(struct rk_store *s, const char *id, struct rk_image_info *ret, rk_error *err);
/* Every image, oldest import first. */
int rk_store_list(struct rk_store *s, struct rk_image_info **ret, size_t *ret_n, rk_error *err);

/* The manifest as stored (raw, NUL-terminated) and/or parsed; either out may be NULL. The
 * raw bytes are checked against the stored manifest digest. */
int rk_store_manifest(struct rk_store *s, const char *id, char **ret_raw, size_t *ret_len,
                      struct rk_image_manifest **ret_m, rk_error *err);
/* Read-only fd of the blob (the bytes as distributed). */
int rk_store_open_blob(struct rk_store *s, const char *id, rk_error *err);
/* The detached signature; -ENOENT if the image has none. */
int rk_store_signature(struct rk_store *s, const char *id, char **ret, size_t *ret_len,
                       rk_error *err);
/* Sets last_used to now. */
int rk_store_touch(struct rk_store *s, const char *id, rk_error *err);
/* Copies the blob to out_fd (at its offset). */
int rk_store_export(struct rk_store *s, const char *id, int out_fd, rk_error *err);

/* Removes the trees rendered with the image, its blob, signature, remote cache rows and index
 * row. Audit event "remove". */
int rk_store_remove(struct rk_store *s, const char *id, rk_error *err);

/* ---- remote cache (for the fetch code) ---- */

struct rk_remote {
        char *url;
        char *etag;            /* NULL if the server sent none */
        int64_t max_age;       /* seconds the download stays fresh (Cache-Control) */
        int64_t download_time; /* ns since the epoch */
        char image_id[RK_IMAGE_ID_LEN + 1];
};
void rk_remote_clear(struct rk_remote *r);
/* -ENOENT if url is not cached (or its image is gone). */
int rk_store_remote_get(struct rk_store *s, const char *url, struct rk_remote *ret, rk_error *err);
/* Insert or replace; the image must be in the store (-ENOENT). */
int rk_store_remote_put(struct rk_store *s, const struct rk_remote *r, rk_error *err);

/* ---- trees ---- */

struct rk_tree_info {
        char id[RK_TREE_ID_LEN + 1];
        char image_id[RK_IMAGE_ID_LEN + 1]; /* the top image */
        char digest[RK_SHA512_HEX_LEN + 1];
        char *layers; /* comma-joined IDs in render order */
        uint64_t size;
        int64_t render_time, last_used;
};
void rk_tree_info_clear(struct rk_tree_info *t);
void rk_tree_infos_free(struct rk_tree_info *v, size_t n);

/* Renders the image with its dependencies (which must be in the store: the message names the
 * missing one) into cas/tree/<tree-id>, tree-id = "deps-" + "sha512-" + SHA-512 of the
 * comma-joined IDs of the render plan. A rendered tree is reused. Audit event "render". */
int rk_store_render(struct rk_store *s, const char *image_id, struct rk_tree_info *ret,
                    rk_error *err);
/* O_PATH directory fd of a rendered tree (cas/tree/<id>, holding rootfs/); -ENOENT if it is
 * missing or not completely rendered. */
int rk_store_tree_open(struct rk_store *s, const char *tree_id, rk_error *err);
/* Trees whose layers include image_id (NULL: all trees). */
int rk_store_trees(struct rk_store *s, const char *image_id, struct rk_tree_info **ret,
                   size_t *ret_n, rk_error *err);
/* Re-hashes a rendered tree against its stored digest: -EBADMSG on mismatch. */
int rk_store_tree_verify(struct rk_store *s, const char *tree_id, rk_error *err);

/* The tree digest: SHA-512 over the manifest file and a walk of rootfs/ in bytewise name
 * order recording path, type, mode, uid, gid, size, link target and file contents, without
 * following symlinks. dirfd holds "manifest" and "rootfs". size gets the bytes of regular
 * files. */
int rk_tree_digest(int dirfd, char ret[RK_SHA512_HEX_LEN + 1], uint64_t *ret_size, rk_error *err);

enum {
        RK_STORE_EXTRACT_DEPS = 1 << 0,        /* render with dependencies */
        RK_STORE_EXTRACT_ROOTFS_ONLY = 1 << 1, /* the rootfs contents only, no manifest */
};
/* Extracts the image (alone, or with RK_STORE_EXTRACT_DEPS as rendered) into dest_fd, an
 * empty directory, through the confined extractor; owners kept when running as root. */
int rk_store_extract(struct rk_store *s, const char *image_id, int dest_fd, unsigned flags,
                     rk_error *err);

/* ---- verification ---- */

/* Re-checks a stored signature over blob_fd (the bytes as distributed, at offset 0) for the
 * image described by img (its admission: signer, prefix). 0 if it still verifies. */
typedef int (*rk_store_sig_hook_fn)(void *userdata, const struct rk_image_info *img, int blob_fd,
                                    const void *sig, size_t sig_len, rk_error *err);
void rk_store_set_sig_hook(struct rk_store *s, rk_store_sig_hook_fn fn, void *userdata);

enum rk_sig_check {
        RK_SIG_CHECK_OK,          /* the hook re-verified it */
        RK_SIG_CHECK_NOT_CHECKED, /* there is a signature but no hook is registered */
        RK_SIG_CHECK_UNSIGNED,    /* the image has no signature (it was admitted insecurely) */
};

struct rk_store_verify_report {
        enum rk_sig_check sig;
        size_t trees_checked;
};

/* Re-hashes the blob (its ID must match, every entry is re-checked), compares its manifest
 * with the index, re-hashes every rendered tree that includes it, and re-checks the signature
 * through the hook. -EBADMSG on the first mismatch, -EKEYREJECTED (or the hook's code) if the
 * signature fails. */
int rk_store_verify(struct rk_store *s, const char *id, struct rk_store_verify_report *ret,
                    rk_error *err);

/* ---- garbage collection and repair ---- */

struct rk_store_gc_opts {
        int64_t grace_ns; /* trees unused this long are removed; also the age of stale tmp files */
        /* optional: a tree that a pod still references is kept */
        bool (*tree_in_use)(void *userdata, const char *tree_id);
        void *userdata;
};

struct rk_store_gc_report {
        size_t trees_removed; /* unused for the grace period */
        size_t partial_trees; /* without "rendered", stray .new-/.del- dirs, orphans */
        size_t tmp_removed;   /* stale files in cas/tmp and temporary names in blob dirs */
        size_t rows_removed;  /* index rows whose blob is missing, and tree rows without tree */
        size_t blobs_removed; /* blobs (and signatures) without an index row */
        size_t locks_removed; /* unused lock files */
};

/* Under the exclusive store lock: repairs what a crash can leave, then removes trees unused
 * for the grace period. Images are only removed by rk_store_remove. Audit event "gc" when
 * anything was removed. */
int rk_store_gc(struct rk_store *s, const struct rk_store_gc_opts *opts,
                struct rk_store_gc_report *ret, rk_error *err);
