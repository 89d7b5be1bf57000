/* SPDX-License-Identifier: Apache-2.0 */
/* The tree store: images rendered with their dependencies into cas/tree/<tree-id>. */
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "aci/archive.h"
#include "aci/render.h"
#include "base/fileio.h"
#include "base/json.h"
#include "store/store-internal.h"

/* ---- dependency resolution over the store ---- */

struct deps {
        struct rk_store *s;
        struct rk_image_manifest **ms;
        char (*ids)[RK_IMAGE_ID_LEN + 1];
        size_t n, cap;
};

static void deps_clear(struct deps *d)
{
        for (size_t i = 0; i < d->n; i++)
                rk_image_manifest_free(d->ms[i]);
        free(d->ms);
        free(d->ids);
        *d = (struct deps){0};
}

/* The parsed manifest of id, loaded once per render. */
static int deps_manifest(struct deps *d, const char *id, const struct rk_image_manifest **ret,
                         rk_error *err)
{
        for (size_t i = 0; i < d->n; i++)
                if (strcmp(d->ids[i], id) == 0) {
                        *ret = d->ms[i];
                        return 0;
                }
        if (d->n == d->cap) {
                size_t ncap = d->cap ? d->cap * 2 : 8;
                void *a = reallocarray(d->ms, ncap, sizeof(*d->ms));
                if (a)
                        d->ms = a;
                void *b = a ? reallocarray(d->ids, ncap, sizeof(*d->ids)) : NULL;
                if (!b)
                        return rk_err(err, -ENOMEM, "out of memory");
                d->ids = b;
                d->cap = ncap;
        }
        struct rk_image_manifest *m = NULL;
        int r = rk_store_manifest(d->s, id, NULL, NULL, &m, err);
        if (r < 0)
                return r;
        snprintf(d->ids[d->n], sizeof(d->ids[0]), "%s", id);
        d->ms[d->n++] = m;
        *ret = m;
        return 0;
}

static int deps_resolve(void *userdata, const struct rk_dependency *dep,
                        char ret_id[RK_IMAGE_ID_LEN + 1],
                        const struct rk_image_manifest **ret_manifest, rk_error *err)
{
        struct deps *d = userdata;
        struct rk_image_info info = {0};
        int r;
        if (dep->image_id) {
                r = rk_store_get(d->s, dep->image_id, &info, err);
                if (r == -ENOENT)
                        r = rk_err(err, r, "%.39s is not in the store; fetch it first",
                                   dep->image_id);
        } else
                r = rk_store_find(d->s, dep->image_name, &dep->labels, &info, err);
        if (r < 0)
                return r;
        snprintf(ret_id, RK_IMAGE_ID_LEN + 1, "%s", info.id);
        rk_image_info_clear(&info);
        return deps_manifest(d, ret_id, ret_manifest, err);
}

struct plan {
        struct deps deps;
        struct rk_render_layer *layers;
        size_t n;
        char *joined; /* comma-joined layer IDs */
        char tree_id[RK_TREE_ID_LEN + 1];
        int fds[RK_RENDER_MAX_LAYERS];
};

static void plan_clear(struct plan *p)
{
        p->layers = rk_render_plan_free(p->layers, p->n);
        for (size_t i = 0; i < p->n; i++)
                safe_close(p->fds[i]);
        deps_clear(&p->deps);
        free(p->joined);
}

static int plan_make(struct rk_store *s, const char *image_id, bool with_deps, struct plan *p,
                     rk_error *err)
{
        const struct rk_image_manifest *m = NULL;
        *p = (struct plan){.deps = {.s = s}};
        for (size_t i = 0; i < ELEMENTSOF(p->fds); i++)
                p->fds[i] = -EBADF;
        int r = deps_manifest(&p->deps, image_id, &m, err);
        if (r < 0)
                return r;
        if (with_deps)
                r = rk_render_plan(image_id, m, deps_resolve, &p->deps, &p->layers, &p->n, err);
        else if (!(p->layers = calloc(1, sizeof(*p->layers))) ||
                 !(p->layers[0].image_id = strdup(image_id)))
                r = rk_err(err, -ENOMEM, "out of memory");
        else {
                p->layers[0].manifest = m;
                p->n = 1;
        }
        if (r < 0)
                return r;
        size_t len = p->n * (RK_IMAGE_ID_LEN + 1) + 1;
        if (!(p->joined = calloc(1, len)))
                return rk_err(err, -ENOMEM, "out of memory");
        for (size_t i = 0; i < p->n; i++)
                strcat(strcat(p->joined, i ? "," : ""), p->layers[i].image_id);
        char hex[RK_SHA512_HEX_LEN + 1];
        r = rk_sha512_buf_hex(p->joined, strlen(p->joined), hex, err);
        if (r >= 0)
                snprintf(p->tree_id, sizeof(p->tree_id), "deps-sha512-%s", hex);
        return r;
}

static int plan_open_blobs(struct rk_store *s, struct plan *p, rk_error *err)
{
        for (size_t i = 0; i < p->n; i++) {
                p->fds[i] = rk_store_open_blob(s, p->layers[i].image_id, err);
                if (p->fds[i] < 0)
                        return p->fds[i];
        }
        return 0;
}

static int plan_extract(struct plan *p, int dest_fd, bool rootfs_only, rk_error *err)
{
        struct rk_aci_layer al[RK_RENDER_MAX_LAYERS];
        struct rk_aci_result res[RK_RENDER_MAX_LAYERS];
        char what[RK_RENDER_MAX_LAYERS][RK_IMAGE_ID_LEN + 16];
        struct rk_aci_opts opts = {
            .dest_fd = dest_fd,
            .rootfs_only = rootfs_only,
            .keep_owners = geteuid() == 0,
        };
        memset(res, 0, sizeof(res));
        for (size_t i = 0; i < p->n; i++) {
                snprintf(what[i], sizeof(what[i]), "image %s", p->layers[i].image_id);
                rk_render_layer_to_aci(&p->layers[i], p->fds[i], what[i], &al[i]);
        }
        int r = rk_aci_extract(al, p->n, &opts, res, err);
        for (size_t i = 0; r >= 0 && i < p->n; i++)
                rk_aci_result_clear(&res[i]);
        return r;
}

/* ---- locks over a plan ---- */

static int cmp_id(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Shared locks on every distinct layer, in sorted order (the lock order). */
static int lock_layers(struct rk_store *s, const struct plan *p, int *fds, size_t *ret_n,
                       rk_error *err)
{
        const char *ids[RK_RENDER_MAX_LAYERS];
        size_t n = 0;
        for (size_t i = 0; i < p->n; i++)
                ids[i] = p->layers[i].image_id;
        qsort(ids, p->n, sizeof(ids[0]), cmp_id);
        for (size_t i = 0; i < p->n; i++) {
                if (i && strcmp(ids[i], ids[i - 1]) == 0)
                        continue;
                fds[n] = rk_store_lock_image(s, ids[i], LOCK_SH, err);
                if (fds[n] < 0) {
                        int r = fds[n];
                        while (n > 0)
                                safe_close(fds[--n]);
                        return r;
                }
                n++;
        }
        *ret_n = n;
        return 0;
}

/* ---- removal ---- */

static void random_name(const char *prefix, char *buf, size_t size)
{
        uint64_t rnd = 0;
        if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
                rnd = (uint64_t)rk_store_now() ^ ((uint64_t)getpid() << 32);
        snprintf(buf, size, "%s%016jx", prefix, (uintmax_t)rnd);
}

int rk_tree_remove_dir(struct rk_store *s, const char *name, rk_error *err)
{
        char del[32];
        if (name[0] != '.') {
                _cleanup_close_ int fd =
                    openat(s->treefd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 && errno == ENOENT)
                        return 0;
                /* unpublish first: a half-removed tree must never look complete */
                if (fd >= 0 && unlinkat(fd, "rendered", 0) == 0)
                        (void)fsync(fd);
                random_name(".del-", del, sizeof(del));
                if (renameat(s->treefd, name, s->treefd, del) < 0)
                        return rk_err_errno(err, negative_errno(), "tree %s: cannot remove", name);
                (void)fsync(s->treefd);
                name = del;
        }
        int r = rk_rm_rf_at(s->treefd, name, err);
        if (r < 0)
                return rk_err_prefix(err, r, "store '%s': cas/tree", s->dir);
        (void)fsync(s->treefd);
        return 0;
}

static int remove_tree(struct rk_store *s, const char *tree_id, int lock_op, rk_error *err)
{
        _cleanup_close_ int tl = rk_store_lock_tree(s, tree_id, lock_op, err);
        if (tl < 0)
                return tl;
        int r = rk_tree_remove_dir(s, tree_id, err);
        return r < 0 ? r : rk_index_tree_delete(s, tree_id, err);
}

int rk_tree_remove_for_image(struct rk_store *s, const char *image_id, rk_error *err)
{
        struct rk_tree_info *v = NULL;
        size_t n = 0;
        int r = rk_index_trees(s, image_id, &v, &n, err);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = remove_tree(s, v[i].id, LOCK_EX, err);
        rk_tree_infos_free(v, n);
        return r;
}

/* ---- render ---- */

static bool has_rendered(int dirfd)
{
        struct stat st;
        return fstatat(dirfd, "rendered", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

static int write_marker(int dirfd, const char *name, const char *content, rk_error *err)
{
        _cleanup_close_ int fd =
            openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        int r = fd < 0 ? negative_errno() : rk_write_all(fd, content, strlen(content));
        if (r >= 0 && fsync(fd) < 0)
                r = negative_errno();
        return r < 0 ? rk_err_errno(err, r, "tree: cannot write '%s'", name) : 0;
}

/* Extract, digest, sync, and only then mark "rendered" (rkt.md §4.3's order). */
static int build_tree(struct rk_store *s, struct plan *p, int dfd, struct rk_tree_info *t,
                      rk_error *err)
{
        char line[RK_SHA512_HEX_LEN + 2];
        int r = plan_extract(p, dfd, false, err);
        if (r >= 0)
                r = rk_tree_digest(dfd, t->digest, &t->size, err);
        if (r < 0)
                return r;
        snprintf(line, sizeof(line), "%s\n", t->digest);
        r = write_marker(dfd, "digest", line, err);
        if (r >= 0)
                r = write_marker(dfd, "layers", p->joined, err);
        if (r >= 0 && syncfs(dfd) < 0)
                r = rk_err_errno(err, negative_errno(), "tree %s: syncfs", p->tree_id);
        if (r >= 0)
                r = write_marker(dfd, "rendered", "", err);
        if (r >= 0 && fsync(dfd) < 0)
                r = rk_err_errno(err, negative_errno(), "tree %s: fsync", p->tree_id);
        return r;
}

/* Staging directories of a render killed before its rename: named after the tree, so that
 * the next render of the same tree, holding its lock, knows nobody else owns them. */
static void remove_staging(struct rk_store *s, const char *prefix)
{
        int d = openat(s->treefd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *dir = d >= 0 ? fdopendir(d) : NULL;
        struct dirent *de;
        if (!dir) {
                safe_close(d);
                return;
        }
        while ((de = readdir(dir)))
                if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
                        (void)rk_rm_rf_at(s->treefd, de->d_name, NULL);
        closedir(dir);
}

/* Build in a fresh private directory and rename it into place complete. */
static int render_new(struct rk_store *s, struct plan *p, struct rk_tree_info *t, rk_error *err)
{
        char prefix[RK_SHA512_HEX_LEN + 8], tmp[RK_SHA512_HEX_LEN + 32];
        snprintf(prefix, sizeof(prefix), ".new-%s-", p->tree_id + strlen("deps-sha512-"));
        remove_staging(s, prefix);
        random_name(prefix, tmp, sizeof(tmp));
        if (mkdirat(s->treefd, tmp, 0700) < 0)
                return rk_err_errno(err, negative_errno(), "tree %s: cannot create", p->tree_id);
        int dfd = openat(s->treefd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int r = dfd < 0 ? rk_err_errno(err, negative_errno(), "tree %s", p->tree_id)
                        : build_tree(s, p, dfd, t, err);
        safe_close(dfd);
        if (r >= 0 && renameat(s->treefd, tmp, s->treefd, p->tree_id) < 0)
                r = rk_err_errno(err, negative_errno(), "tree %s: cannot rename into place",
                                 p->tree_id);
        if (r < 0) {
                (void)rk_rm_rf_at(s->treefd, tmp, NULL);
                return r;
        }
        (void)fsync(s->treefd);
        return 0;
}

/* A rendered tree whose index row was lost (crash between rename and insert): re-hash it. */
static int adopt_tree(struct rk_store *s, struct plan *p, struct rk_tree_info *t, rk_error *err)
{
        _cleanup_close_ int dfd =
            openat(s->treefd, p->tree_id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_free_ char *want = NULL;
        if (dfd < 0)
                return rk_err_errno(err, negative_errno(), "tree %s", p->tree_id);
        int r = rk_tree_digest(dfd, t->digest, &t->size, err);
        if (r >= 0)
                r = rk_read_file_at(dfd, "digest", 256, &want, NULL, err);
        if (r < 0)
                return r;
        return strncmp(want, t->digest, RK_SHA512_HEX_LEN) == 0 ? 0 : -EBADMSG;
}

static int render_locked(struct rk_store *s, struct plan *p, struct rk_tree_info *t, bool *ret_new,
                         rk_error *err)
{
        int64_t now = rk_store_now();
        _cleanup_close_ int dfd =
            openat(s->treefd, p->tree_id, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        bool reuse = dfd >= 0 && has_rendered(dfd);
        int r = 0;
        *ret_new = false;
        t->render_time = now;
        if (reuse) {
                struct rk_tree_info old = {0};
                r = rk_index_tree_get(s, p->tree_id, &old, err);
                if (r >= 0) {
                        memcpy(t->digest, old.digest, sizeof(t->digest));
                        t->size = old.size;
                        t->render_time = old.render_time;
                        rk_tree_info_clear(&old);
                        return rk_index_tree_touch(s, p->tree_id, now, err);
                }
                /* rendered but not indexed (crash before the insert): keep it if intact */
                reuse = r == -ENOENT && adopt_tree(s, p, t, err) >= 0;
        }
        if (!reuse) {
                /* a partial or damaged tree is removed first, then rendered afresh */
                r = rk_tree_remove_dir(s, p->tree_id, err);
                if (r >= 0)
                        r = plan_open_blobs(s, p, err);
                if (r >= 0)
                        r = render_new(s, p, t, err);
                if (r < 0)
                        return r;
                *ret_new = true;
        }
        t->last_used = now;
        return rk_index_tree_put(s, t, err);
}

static int render_audit(struct rk_store *s, const struct plan *p, const struct rk_tree_info *t,
                        rk_error *err)
{
        json_t *layers = json_array();
        for (size_t i = 0; layers && i < p->n; i++)
                json_array_append_new(layers, json_string(p->layers[i].image_id));
        return rk_store_audit(s, "render",
                              json_pack("{s:s, s:s, s:s, s:o, s:I}", "image", t->image_id, "tree",
                                        t->id, "digest", t->digest, "layers", layers, "size",
                                        (json_int_t)t->size),
                              err);
}

static int render_plan(struct rk_store *s, struct plan *p, struct rk_tree_info *t, rk_error *err)
{
        int lfds[RK_RENDER_MAX_LAYERS];
        size_t nl = 0;
        bool fresh = false;
        _cleanup_close_ int sl = rk_store_lock(s, LOCK_SH, err);
        if (sl < 0)
                return sl;
        int r = lock_layers(s, p, lfds, &nl, err);
        if (r < 0)
                return r;
        _cleanup_close_ int tl = rk_store_lock_tree(s, p->tree_id, LOCK_EX, err);
        r = tl;
        /* the layers may have been removed between planning and locking */
        for (size_t i = 0; r >= 0 && i < p->n; i++) {
                struct rk_image_info gone = {0};
                r = rk_index_image_get(s, p->layers[i].image_id, &gone, err);
                rk_image_info_clear(&gone);
        }
        if (r >= 0)
                r = render_locked(s, p, t, &fresh, err);
        int64_t now = rk_store_now();
        for (size_t i = 0; r >= 0 && i < p->n; i++)
                r = rk_index_image_touch(s, p->layers[i].image_id, now, err);
        while (nl > 0)
                safe_close(lfds[--nl]);
        return r >= 0 && fresh ? render_audit(s, p, t, err) : r;
}

int rk_store_render(struct rk_store *s, const char *image_id, struct rk_tree_info *ret,
                    rk_error *err)
{
        struct plan p;
        struct rk_tree_info t = {0};
        if (!rk_store_is_image_id(image_id))
                return rk_err(err, -EINVAL, "render: %s is not a full image ID",
                              RK_QUOTE(image_id));
        int r = rk_store_audit(s, NULL, NULL, err);
        if (r < 0)
                return r;
        r = plan_make(s, image_id, true, &p, err);
        if (r >= 0) {
                memcpy(t.id, p.tree_id, sizeof(t.id));
                memcpy(t.image_id, image_id, sizeof(t.image_id));
                t.layers = strdup(p.joined);
                r = t.layers ? render_plan(s, &p, &t, err) : rk_err(err, -ENOMEM, "out of memory");
        }
        if (r < 0)
                rk_err_prefix(err, r, "render %.39s", image_id);
        plan_clear(&p);
        if (r >= 0 && ret)
                *ret = t;
        else
                rk_tree_info_clear(&t);
        return r;
}

/* ---- trees: lookup, verification ---- */

int rk_store_tree_open(struct rk_store *s, const char *tree_id, rk_error *err)
{
        if (!rk_store_is_tree_id(tree_id))
                return rk_err(err, -EINVAL, "tree %s: not a tree ID", RK_QUOTE(tree_id));
        _cleanup_close_ int fd =
            openat(s->treefd, tree_id, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno != ENOENT)
                return rk_err_errno(err, negative_errno(), "tree %s", tree_id);
        if (fd < 0 || !has_rendered(fd))
                return rk_err(err, -ENOENT, "tree %s: not rendered", tree_id);
        return TAKE_FD(fd);
}

int rk_store_trees(struct rk_store *s, const char *image_id, struct rk_tree_info **ret,
                   size_t *ret_n, rk_error *err)
{
        return rk_index_trees(s, image_id, ret, ret_n, err);
}

int rk_store_tree_verify(struct rk_store *s, const char *tree_id, rk_error *err)
{
        char got[RK_SHA512_HEX_LEN + 1] = {0};
        struct rk_tree_info t = {0};
        _cleanup_close_ int tl = rk_store_lock_tree(s, tree_id, LOCK_SH, err);
        if (tl < 0)
                return tl;
        int r = rk_index_tree_get(s, tree_id, &t, err);
        if (r < 0)
                return r;
        _cleanup_close_ int p = rk_store_tree_open(s, tree_id, err);
        _cleanup_close_ int dfd =
            p < 0 ? -EBADF : openat(p, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (p < 0)
                r = p;
        else if (dfd < 0)
                r = rk_err_errno(err, negative_errno(), "tree %s", tree_id);
        else
                r = rk_tree_digest(dfd, got, NULL, err);
        if (r >= 0 && strcmp(got, t.digest) != 0)
                r = rk_err(err, -EBADMSG,
                           "tree %s: contents changed since rendering (digest %.16s..., now "
                           "%.16s...); remove it with 'rkt image rm' or render it again",
                           tree_id, t.digest, got);
        rk_tree_info_clear(&t);
        return r;
}

/* ---- extraction into a caller's directory ---- */

int rk_store_extract(struct rk_store *s, const char *image_id, int dest_fd, unsigned flags,
                     rk_error *err)
{
        struct plan p;
        if (!rk_store_is_image_id(image_id))
                return rk_err(err, -EINVAL, "extract: %s is not a full image ID",
                              RK_QUOTE(image_id));
        int r = plan_make(s, image_id, flags & RK_STORE_EXTRACT_DEPS, &p, err);
        if (r >= 0)
                r = plan_open_blobs(s, &p, err);
        if (r >= 0)
                r = plan_extract(&p, dest_fd, flags & RK_STORE_EXTRACT_ROOTFS_ONLY, err);
        plan_clear(&p);
        return r;
}
