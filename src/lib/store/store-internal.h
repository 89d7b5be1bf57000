/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Internal to src/lib/store. */

#include <sqlite3.h>
#include <sys/file.h>

#include "audit/audit.h"
#include "store/store.h"

#define RK_SIG_MAX (1 << 20) /* bytes of a stored detached signature */

struct rk_store {
        char *dir;
        int dirfd;      /* the data dir */
        int casfd;      /* cas/ */
        int blobfd;     /* cas/blob/sha512/ */
        int treefd;     /* cas/tree/ */
        int tmpfd;      /* cas/tmp/ */
        int lockfd;     /* locks/ */
        int imglockfd;  /* locks/images/ */
        int treelockfd; /* locks/trees/ */
        dev_t dev;      /* of cas/: O_TMPFILE fds from elsewhere cannot be linked in */
        sqlite3 *db;
        struct rk_audit *audit;
        rk_store_sig_hook_fn sig_hook;
        void *sig_ud;
};

static inline void sqlite3_finalizep(sqlite3_stmt **st)
{
        if (*st)
                sqlite3_finalize(*st);
}
#define _cleanup_stmt_ __attribute__((cleanup(sqlite3_finalizep)))

/* ---- store.c ---- */
int64_t rk_store_now(void);
/* Opens (creating with 0700 if create) the directory name below parentfd and refuses one that
 * is a symlink, not owned by the euid or writable by group or others. */
int rk_store_dir_open(int parentfd, const char *name, bool create, const char *what, rk_error *err);
/* cas/blob/sha512/<2hex>/ for id. */
int rk_store_shard_open(struct rk_store *s, const char *id, bool create, rk_error *err);
bool rk_store_is_image_id(const char *s);
bool rk_store_is_tree_id(const char *s);
/* Copies all of in (from offset 0; in's offset untouched) to out at its offset. */
int rk_store_copy(int in, int out, const char *what, rk_error *err);
/* Appends an audit record (the log is opened on first use; event NULL only opens it). Takes
 * fields (NULL = out of memory). */
int rk_store_audit(struct rk_store *s, const char *event, json_t *fields, rk_error *err);

/* ---- lock.c ---- */
/* flock(op) on dirfd/name (created 0600 if missing), re-checking after the lock is granted that
 * the path still names the locked inode (a concurrent remover may have unlinked it: retry).
 * Returns the fd (the lock lives until it is closed); -EWOULDBLOCK with LOCK_NB when busy. */
int rk_lock_take(int dirfd, const char *name, int op, const char *what, rk_error *err);
/* Removes dirfd/name if nobody holds it: 1 removed, 0 busy, negative errno. */
int rk_lock_remove_unused(int dirfd, const char *name);
int rk_store_lock(struct rk_store *s, int op, rk_error *err);
int rk_store_lock_image(struct rk_store *s, const char *id, int op, rk_error *err);
int rk_store_lock_tree(struct rk_store *s, const char *tree_id, int op, rk_error *err);

/* ---- index.c ---- */
int rk_index_open(struct rk_store *s, rk_error *err);
void rk_index_close(struct rk_store *s);
/* -ENOENT if absent. */
int rk_index_image_get(struct rk_store *s, const char *id, struct rk_image_info *ret,
                       rk_error *err);
int rk_index_manifest_get(struct rk_store *s, const char *id, char **ret, size_t *ret_len,
                          char sha[RK_SHA512_HEX_LEN + 1], rk_error *err);
/* Insert or replace the row (one transaction). */
int rk_index_image_put(struct rk_store *s, const struct rk_image_info *i, const char *manifest,
                       size_t manifest_len, rk_error *err);
/* Deletes the image row, its remote rows and the tree rows that include it. */
int rk_index_image_delete(struct rk_store *s, const char *id, rk_error *err);
int rk_index_image_touch(struct rk_store *s, const char *id, int64_t when, rk_error *err);
/* IDs starting with prefix: up to max of them into ids (each RK_IMAGE_ID_LEN + 1), the total
 * count (capped at max) returned. */
int rk_index_ids_by_prefix(struct rk_store *s, const char *prefix, char (*ids)[RK_IMAGE_ID_LEN + 1],
                           size_t max, rk_error *err);
/* name NULL: every image. Newest import first when by name, oldest first for all. */
int rk_index_images(struct rk_store *s, const char *name, struct rk_image_info **ret, size_t *ret_n,
                    rk_error *err);

int rk_index_tree_get(struct rk_store *s, const char *tree_id, struct rk_tree_info *ret,
                      rk_error *err);
int rk_index_tree_put(struct rk_store *s, const struct rk_tree_info *t, rk_error *err);
int rk_index_tree_delete(struct rk_store *s, const char *tree_id, rk_error *err);
int rk_index_tree_touch(struct rk_store *s, const char *tree_id, int64_t when, rk_error *err);
int rk_index_trees(struct rk_store *s, const char *image_id, struct rk_tree_info **ret,
                   size_t *ret_n, rk_error *err);

int rk_index_remote_get(struct rk_store *s, const char *url, struct rk_remote *ret, rk_error *err);
int rk_index_remote_put(struct rk_store *s, const struct rk_remote *r, rk_error *err);

/* ---- tree.c ---- */
/* Unpublishes (removes "rendered" first) and deletes cas/tree/<name>; the caller holds the
 * tree lock (or the exclusive store lock). */
int rk_tree_remove_dir(struct rk_store *s, const char *name, rk_error *err);
/* Removes the trees including image_id (tree locks taken), dirs and rows. */
int rk_tree_remove_for_image(struct rk_store *s, const char *image_id, rk_error *err);
