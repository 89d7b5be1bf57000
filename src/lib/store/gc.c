/* SPDX-License-Identifier: Apache-2.0 */
/* Verification of stored images, and garbage collection with crash repair. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "aci/archive.h"
#include "base/fileio.h"
#include "base/json.h"
#include "store/store-internal.h"

/* ---- verify ---- */

static int verify_blob(struct rk_store *s, const struct rk_image_info *info, int fd, rk_error *err)
{
        struct rk_aci_layer layer = {.fd = fd, .what = info->id};
        struct rk_aci_opts opts = {.dest_fd = -1};
        struct rk_aci_result res = {0};
        char msha[RK_SHA512_HEX_LEN + 1];
        struct stat st;
        if (fstat(fd, &st) < 0)
                return rk_err_errno(err, negative_errno(), "image %s: blob", info->id);
        if ((uint64_t)st.st_size != info->size)
                return rk_err(err, -EBADMSG,
                              "image %s: blob is %ju bytes, %ju were stored; it was changed",
                              info->id, (uintmax_t)st.st_size, (uintmax_t)info->size);
        int r = rk_aci_extract(&layer, 1, &opts, &res, err);
        if (r < 0)
                return rk_err_prefix(err, r, "image %s: blob", info->id);
        r = rk_sha512_buf_hex(res.manifest, res.manifest_len, msha, err);
        if (r >= 0 && strcmp(res.id, info->id) != 0)
                r = rk_err(err, -EBADMSG, "image %s: blob hashes to %.39s...; it was changed",
                           info->id, res.id);
        else if (r >= 0 && strcmp(msha, info->manifest_sha512) != 0)
                r = rk_err(err, -EBADMSG, "image %s: manifest in the blob differs from the index's",
                           info->id);
        rk_aci_result_clear(&res);
        return r;
}

static int verify_sig(struct rk_store *s, const struct rk_image_info *info, int fd,
                      enum rk_sig_check *ret, rk_error *err)
{
        _cleanup_free_ char *sig = NULL;
        size_t len = 0;
        int r = rk_store_signature(s, info->id, &sig, &len, err);
        if (r == -ENOENT && info->signer)
                return rk_err(err, -EKEYREJECTED,
                              "image %s: admitted with a signature by %s, but the signature is "
                              "missing from the store",
                              info->id, info->signer);
        if (r == -ENOENT) {
                *ret = RK_SIG_CHECK_UNSIGNED;
                return 0;
        }
        if (r < 0)
                return r;
        if (!s->sig_hook) {
                *ret = RK_SIG_CHECK_NOT_CHECKED;
                return 0;
        }
        if (lseek(fd, 0, SEEK_SET) < 0)
                return rk_err_errno(err, negative_errno(), "image %s: blob", info->id);
        r = s->sig_hook(s->sig_ud, info, fd, sig, len, err);
        if (r < 0)
                return rk_err_prefix(err, r, "image %s: signature", info->id);
        *ret = RK_SIG_CHECK_OK;
        return 0;
}

int rk_store_verify(struct rk_store *s, const char *id, struct rk_store_verify_report *ret,
                    rk_error *err)
{
        struct rk_store_verify_report rep = {0};
        struct rk_image_info info = {0};
        struct rk_tree_info *trees = NULL;
        size_t nt = 0;
        int r = rk_store_get(s, id, &info, err);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = rk_store_open_blob(s, id, err);
        r = fd < 0 ? fd : verify_blob(s, &info, fd, err);
        if (r >= 0)
                r = rk_index_trees(s, id, &trees, &nt, err);
        for (size_t i = 0; r >= 0 && i < nt; i++) {
                r = rk_store_tree_verify(s, trees[i].id, err);
                if (r == -ENOENT) /* listed but not on disk: gc's business */
                        r = 0;
                else if (r >= 0)
                        rep.trees_checked++;
        }
        if (r >= 0)
                r = verify_sig(s, &info, fd, &rep.sig, err);
        rk_tree_infos_free(trees, nt);
        rk_image_info_clear(&info);
        if (r >= 0 && ret)
                *ret = rep;
        return r;
}

/* ---- gc ---- */

struct gc {
        struct rk_store *s;
        const struct rk_store_gc_opts *o;
        struct rk_store_gc_report rep;
        int64_t now;
        rk_error *err;
};

/* Names in dirfd (without . and ..), unsorted. */
static int list_dir(int dirfd, const char *what, char ***ret, size_t *ret_n, rk_error *err)
{
        int r = rk_dir_names(dirfd, false, ret, ret_n);
        return r < 0 ? rk_err_errno(err, r, "%s", what) : 0;
}

static bool older_than_grace(const struct gc *g, const struct stat *st)
{
        int64_t t = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
        return t <= g->now - g->o->grace_ns;
}

/* Named files in cas/tmp belong to callers that hold an flock on them while they use them
 * (resumable downloads); the unlocked ones older than the grace period are leftovers. */
static int gc_tmp(struct gc *g)
{
        char **names = NULL;
        size_t n = 0;
        int r = list_dir(g->s->tmpfd, "cas/tmp", &names, &n, g->err);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                struct stat st;
                if (fstatat(g->s->tmpfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !older_than_grace(g, &st))
                        continue;
                if (S_ISREG(st.st_mode)) {
                        _cleanup_close_ int fd = openat(
                            g->s->tmpfd, names[i], O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
                        if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
                                continue;
                }
                r = rk_rm_rf_at(g->s->tmpfd, names[i], g->err);
                if (r >= 0)
                        g->rep.tmp_removed++;
        }
        rk_strv_free(names, n);
        return r;
}

/* Index rows whose blob is gone (a crash in rm, or someone deleted it). */
static int gc_rows(struct gc *g)
{
        struct rk_image_info *v = NULL;
        size_t n = 0;
        int r = rk_store_list(g->s, &v, &n, g->err);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                rk_error e = RK_ERROR_INIT;
                int fd = rk_store_open_blob(g->s, v[i].id, &e);
                if (fd >= 0) {
                        safe_close(fd);
                        continue;
                }
                if (fd != -ENOENT)
                        continue;
                r = rk_tree_remove_for_image(g->s, v[i].id, g->err);
                if (r >= 0)
                        r = rk_index_image_delete(g->s, v[i].id, g->err);
                if (r >= 0)
                        g->rep.rows_removed++;
        }
        rk_image_infos_free(v, n);
        return r;
}

static bool has_row(struct gc *g, const char *id)
{
        struct rk_image_info i = {0};
        int r = rk_index_image_get(g->s, id, &i, NULL);
        rk_image_info_clear(&i);
        return r != -ENOENT; /* on any other error, keep the blob */
}

static int gc_shard_entry(struct gc *g, int shard, const char *name)
{
        char id[RK_IMAGE_ID_LEN + 1];
        struct stat st;
        size_t len = strlen(name);
        bool sig = len == RK_IMAGE_ID_LEN + 4 && strcmp(name + RK_IMAGE_ID_LEN, ".asc") == 0;
        size_t *count = &g->rep.blobs_removed;
        if (name[0] == '.') /* .tmp-* from place_blob, .#* from atomic writes */
                count = &g->rep.tmp_removed;
        else if (sig || rk_store_is_image_id(name)) {
                snprintf(id, sizeof(id), "%.*s", RK_IMAGE_ID_LEN, name);
                if (!rk_store_is_image_id(id))
                        return 0;
                /* a signature stays only beside its blob, a blob only with its row */
                if (sig ? fstatat(shard, id, &st, AT_SYMLINK_NOFOLLOW) == 0 : has_row(g, id))
                        return 0;
        } else
                return 0; /* not ours to judge */
        if (unlinkat(shard, name, 0) < 0 && errno != ENOENT)
                return rk_err_errno(g->err, negative_errno(), "cas/blob: cannot remove '%s'", name);
        (*count)++;
        return 0;
}

static int gc_blobs(struct gc *g)
{
        char **shards = NULL;
        size_t ns = 0;
        int r = list_dir(g->s->blobfd, "cas/blob/sha512", &shards, &ns, g->err);
        for (size_t i = 0; r >= 0 && i < ns; i++) {
                char **names = NULL;
                size_t n = 0;
                if (strlen(shards[i]) != 2)
                        continue;
                rk_error e = RK_ERROR_INIT;
                _cleanup_close_ int shard =
                    rk_store_dir_open(g->s->blobfd, shards[i], false, "cas/blob shard", &e);
                if (shard < 0)
                        continue;
                r = list_dir(shard, "cas/blob shard", &names, &n, g->err);
                /* signatures are judged after the blobs beside them */
                for (int pass = 0; pass < 2; pass++)
                        for (size_t k = 0; r >= 0 && k < n; k++)
                                if ((strstr(names[k], ".asc") != NULL) == (pass == 1))
                                        r = gc_shard_entry(g, shard, names[k]);
                rk_strv_free(names, n);
                if (r >= 0 && fsync(shard) == 0)
                        (void)unlinkat(g->s->blobfd, shards[i], AT_REMOVEDIR); /* if empty */
        }
        rk_strv_free(shards, ns);
        return r;
}

/* Every layer of the tree is still in the store. */
static bool layers_present(struct gc *g, const char *layers)
{
        const char *p = layers;
        while (p && *p) {
                char id[RK_IMAGE_ID_LEN + 1];
                const char *c = strchr(p, ',');
                size_t len = c ? (size_t)(c - p) : strlen(p);
                if (len != RK_IMAGE_ID_LEN)
                        return false;
                memcpy(id, p, len);
                id[len] = 0;
                if (!has_row(g, id))
                        return false;
                p = c ? c + 1 : NULL;
        }
        return true;
}

enum tree_fate { KEEP, PARTIAL, EXPIRED };

static enum tree_fate tree_fate(struct gc *g, const char *id)
{
        struct rk_tree_info t = {0};
        struct stat st;
        _cleanup_close_ int fd =
            openat(g->s->treefd, id, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstatat(fd, "rendered", &st, AT_SYMLINK_NOFOLLOW) < 0)
                return PARTIAL;
        if (rk_index_tree_get(g->s, id, &t, NULL) < 0)
                return PARTIAL; /* rendered but never indexed: render would re-hash it anyway */
        enum tree_fate f = KEEP;
        if (!layers_present(g, t.layers))
                f = PARTIAL;
        else if (t.last_used <= g->now - g->o->grace_ns &&
                 !(g->o->tree_in_use && g->o->tree_in_use(g->o->userdata, id)))
                f = EXPIRED;
        rk_tree_info_clear(&t);
        return f;
}

static int gc_tree_dir(struct gc *g, const char *name)
{
        if (!strncmp(name, ".new-", 5) || !strncmp(name, ".del-", 5)) {
                int r = rk_tree_remove_dir(g->s, name, g->err);
                if (r >= 0)
                        g->rep.partial_trees++;
                return r;
        }
        if (!rk_store_is_tree_id(name))
                return 0;
        rk_error e = RK_ERROR_INIT;
        _cleanup_close_ int tl = rk_store_lock_tree(g->s, name, LOCK_EX | LOCK_NB, &e);
        if (tl < 0)
                return 0; /* busy: being rendered or used */
        enum tree_fate f = tree_fate(g, name);
        if (f == KEEP)
                return 0;
        int r = rk_tree_remove_dir(g->s, name, g->err);
        if (r >= 0)
                r = rk_index_tree_delete(g->s, name, g->err);
        if (r >= 0)
                (*(f == EXPIRED ? &g->rep.trees_removed : &g->rep.partial_trees))++;
        return r;
}

static int gc_trees(struct gc *g)
{
        char **names = NULL;
        size_t n = 0;
        int r = list_dir(g->s->treefd, "cas/tree", &names, &n, g->err);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = gc_tree_dir(g, names[i]);
        rk_strv_free(names, n);
        if (r < 0)
                return r;
        /* rows whose directory is gone */
        struct rk_tree_info *v = NULL;
        size_t nt = 0;
        r = rk_index_trees(g->s, NULL, &v, &nt, g->err);
        for (size_t i = 0; r >= 0 && i < nt; i++) {
                struct stat st;
                if (fstatat(g->s->treefd, v[i].id, &st, AT_SYMLINK_NOFOLLOW) == 0)
                        continue;
                r = rk_index_tree_delete(g->s, v[i].id, g->err);
                if (r >= 0)
                        g->rep.rows_removed++;
        }
        rk_tree_infos_free(v, nt);
        return r;
}

/* Lock files of objects that no longer exist. */
static int gc_locks(struct gc *g, int dirfd, bool trees)
{
        char **names = NULL;
        size_t n = 0;
        int r = list_dir(dirfd, trees ? "locks/trees" : "locks/images", &names, &n, g->err);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                struct stat st;
                bool exists = trees ? fstatat(g->s->treefd, names[i], &st, AT_SYMLINK_NOFOLLOW) == 0
                                    : has_row(g, names[i]);
                if (exists)
                        continue;
                int q = rk_lock_remove_unused(dirfd, names[i]);
                if (q > 0)
                        g->rep.locks_removed++;
        }
        rk_strv_free(names, n);
        return r;
}

static int gc_audit(struct gc *g)
{
        const struct rk_store_gc_report *p = &g->rep;
        if (!(p->trees_removed | p->partial_trees | p->tmp_removed | p->rows_removed |
              p->blobs_removed))
                return 0;
        return rk_store_audit(
            g->s, "gc",
            json_pack("{s:I, s:I, s:I, s:I, s:I}", "treesRemoved", (json_int_t)p->trees_removed,
                      "partialTrees", (json_int_t)p->partial_trees, "tmpRemoved",
                      (json_int_t)p->tmp_removed, "rowsRemoved", (json_int_t)p->rows_removed,
                      "blobsRemoved", (json_int_t)p->blobs_removed),
            g->err);
}

int rk_store_gc(struct rk_store *s, const struct rk_store_gc_opts *opts,
                struct rk_store_gc_report *ret, rk_error *err)
{
        struct rk_store_gc_opts def = {0};
        struct gc g = {.s = s, .o = opts ? opts : &def, .err = err};
        int r = rk_store_audit(s, NULL, NULL, err);
        if (r < 0)
                return r;
        /* exclusive: no import, removal or render is between its steps while we judge */
        _cleanup_close_ int sl = rk_store_lock(s, LOCK_EX, err);
        if (sl < 0)
                return sl;
        g.now = rk_store_now();
        r = gc_tmp(&g);
        if (r >= 0)
                r = gc_rows(&g);
        if (r >= 0)
                r = gc_blobs(&g);
        if (r >= 0)
                r = gc_trees(&g);
        if (r >= 0)
                r = gc_locks(&g, s->imglockfd, false);
        if (r >= 0)
                r = gc_locks(&g, s->treelockfd, true);
        int a = gc_audit(&g);
        if (r >= 0)
                r = a;
        if (ret)
                *ret = g.rep;
        return r;
}
