/* SPDX-License-Identifier: Apache-2.0 */
/* Render order and per-layer whitelists; see render.h for the semantics. */
#include <string.h>

#include "aci/render.h"

/* A cleaned, sorted, duplicate-free list of absolute paths; set = false means "no list". */
struct slist {
        bool set;
        char **v;
        size_t n;
};

static void slist_clear(struct slist *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
        free(l->v);
        *l = (struct slist){0};
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "/a//./b/" -> "/a/b"; ".." refused (a whitelist names paths, it does not walk). */
static int clean_path(const char *s, char **ret)
{
        size_t len = strlen(s), o = 0;
        char *out = malloc(len + 2);

        if (!out)
                return -ENOMEM;
        for (const char *p = s; *p;) {
                while (*p == '/')
                        p++;
                const char *e = strchrnul(p, '/');
                size_t n = (size_t)(e - p);
                if (n == 2 && p[0] == '.' && p[1] == '.') {
                        free(out);
                        return -EINVAL;
                }
                if (n > 0 && !(n == 1 && p[0] == '.')) {
                        out[o++] = '/';
                        memcpy(out + o, p, n);
                        o += n;
                }
                p = e;
        }
        if (o == 0)
                out[o++] = '/';
        out[o] = 0;
        *ret = out;
        return 0;
}

static int slist_from_manifest(const struct rk_image_manifest *m, const char *what,
                               struct slist *ret, rk_error *err)
{
        struct slist l = {.set = m->n_path_whitelist > 0};

        if (!l.set) {
                *ret = l;
                return 0;
        }
        l.v = calloc(m->n_path_whitelist, sizeof(char *));
        if (!l.v)
                return rk_err(err, -ENOMEM, "out of memory");
        for (size_t i = 0; i < m->n_path_whitelist; i++) {
                int r = clean_path(m->path_whitelist[i], &l.v[l.n]);
                if (r < 0) {
                        slist_clear(&l);
                        return r == -ENOMEM ? rk_err(err, r, "out of memory")
                                            : rk_err(err, r,
                                                     "image '%s': pathWhitelist entry '%s' "
                                                     "contains '..'",
                                                     what, m->path_whitelist[i]);
                }
                l.n++;
        }
        qsort(l.v, l.n, sizeof(char *), cmp_str);
        size_t o = 0;
        for (size_t i = 0; i < l.n; i++) {
                if (o > 0 && strcmp(l.v[o - 1], l.v[i]) == 0)
                        free(l.v[i]);
                else
                        l.v[o++] = l.v[i];
        }
        l.n = o;
        *ret = l;
        return 0;
}

/* a ∩ b, where an unset list is "everything". */
static int slist_and(const struct slist *a, const struct slist *b, struct slist *ret)
{
        struct slist l = {0};

        if (!a->set || !b->set) {
                const struct slist *s = a->set ? a : b;
                l.set = s->set;
                if (l.set) {
                        l.v = calloc(s->n ? s->n : 1, sizeof(char *));
                        if (!l.v)
                                return -ENOMEM;
                        for (; l.n < s->n; l.n++)
                                if (!(l.v[l.n] = strdup(s->v[l.n]))) {
                                        slist_clear(&l);
                                        return -ENOMEM;
                                }
                }
                *ret = l;
                return 0;
        }
        l.set = true;
        l.v = calloc(a->n ? a->n : 1, sizeof(char *));
        if (!l.v)
                return -ENOMEM;
        for (size_t i = 0, j = 0; i < a->n && j < b->n;) {
                int c = strcmp(a->v[i], b->v[j]);
                if (c < 0)
                        i++;
                else if (c > 0)
                        j++;
                else {
                        if (!(l.v[l.n] = strdup(a->v[i]))) {
                                slist_clear(&l);
                                return -ENOMEM;
                        }
                        l.n++, i++, j++;
                }
        }
        *ret = l;
        return 0;
}

struct plan {
        struct rk_render_layer *v;
        size_t n;
        rk_render_resolve_fn resolve;
        void *userdata;
        const char *stack[RK_RENDER_MAX_DEPTH + 1]; /* IDs of the ancestors being expanded */
};

static const char *name_of(const struct rk_image_manifest *m, const char *id)
{
        return m && m->name ? m->name : id;
}

static int check_place(const struct plan *p, const char *id, const struct rk_image_manifest *m,
                       unsigned level, rk_error *err)
{
        if (level > RK_RENDER_MAX_DEPTH)
                return rk_err(err, -ELOOP, "image '%s': dependencies nested deeper than %d",
                              name_of(m, id), RK_RENDER_MAX_DEPTH);
        for (unsigned i = 0; i < level; i++)
                if (strcmp(p->stack[i], id) == 0)
                        return rk_err(err, -ELOOP,
                                      "image '%s' (%.*s) depends on itself: dependency cycle",
                                      name_of(m, id), 39, id);
        if (p->n >= RK_RENDER_MAX_LAYERS)
                return rk_err(err, -EFBIG, "image '%s': more than %d layers to render",
                              name_of(m, id), RK_RENDER_MAX_LAYERS);
        return 0;
}

/* Append the layer for (id, m) below ancestors whose whitelists intersect to upper; returns
 * in *ret_down the list its own dependencies inherit. */
static int add_layer(struct plan *p, const char *id, const struct rk_image_manifest *m,
                     const struct slist *upper, unsigned level, struct slist *ret_down,
                     rk_error *err)
{
        struct slist own = {0}, eff = {0}, up = {0};
        struct rk_render_layer *L = &p->v[p->n];

        int r = slist_from_manifest(m, name_of(m, id), &own, err);
        if (r < 0)
                return r;
        if (slist_and(&own, upper, &eff) < 0 || slist_and(upper, &(struct slist){0}, &up) < 0) {
                slist_clear(&own);
                slist_clear(&eff);
                return rk_err(err, -ENOMEM, "out of memory");
        }
        *L = (struct rk_render_layer){.manifest = m, .level = level};
        L->image_id = strdup(id);
        if (!L->image_id) {
                slist_clear(&own);
                slist_clear(&eff);
                slist_clear(&up);
                return rk_err(err, -ENOMEM, "out of memory");
        }
        L->whitelist = eff.set ? eff.v : NULL;
        L->n_whitelist = eff.n;
        L->upper_whitelist = up.set ? up.v : NULL;
        L->n_upper_whitelist = up.n;
        p->n++;
        /* the dependencies are filtered by this image's list and by all above it */
        r = slist_and(&own, upper, ret_down);
        slist_clear(&own);
        return r < 0 ? rk_err(err, r, "out of memory") : 0;
}

static int expand(struct plan *p, const char *id, const struct rk_image_manifest *m,
                  const struct slist *upper, unsigned level, rk_error *err)
{
        struct slist down = {0};
        int r = check_place(p, id, m, level, err);
        if (r < 0)
                return r;
        r = add_layer(p, id, m, upper, level, &down, err);
        if (r < 0)
                return r;
        p->stack[level] = p->v[p->n - 1].image_id;
        /* last dependency first: it is the one that overrides its siblings */
        for (size_t i = m->n_dependencies; r >= 0 && i-- > 0;) {
                const struct rk_dependency *dep = &m->dependencies[i];
                const struct rk_image_manifest *dm = NULL;
                char did[RK_IMAGE_ID_LEN + 1] = {0};
                r = p->resolve(p->userdata, dep, did, &dm, err);
                if (r < 0)
                        r = rk_err_prefix(err, r, "image '%s': dependency '%s'", name_of(m, id),
                                          dep->image_name);
                else if (!dm)
                        r = rk_err(err, -EINVAL, "image '%s': dependency '%s' has no manifest",
                                   name_of(m, id), dep->image_name);
                else if (dep->image_id && strcmp(dep->image_id, did) != 0)
                        r = rk_err(err, -EBADMSG,
                                   "image '%s': dependency '%s' resolved to %s, not %s",
                                   name_of(m, id), dep->image_name, did, dep->image_id);
                else
                        r = expand(p, did, dm, &down, level + 1, err);
        }
        slist_clear(&down);
        return r;
}

struct rk_render_layer *rk_render_plan_free(struct rk_render_layer *layers, size_t n)
{
        if (!layers)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                struct rk_render_layer *L = &layers[i];
                free(L->image_id);
                for (size_t j = 0; L->whitelist && j < L->n_whitelist; j++)
                        free(L->whitelist[j]);
                free(L->whitelist);
                for (size_t j = 0; L->upper_whitelist && j < L->n_upper_whitelist; j++)
                        free(L->upper_whitelist[j]);
                free(L->upper_whitelist);
        }
        free(layers);
        return NULL;
}

int rk_render_plan(const char *image_id, const struct rk_image_manifest *m,
                   rk_render_resolve_fn resolve, void *userdata, struct rk_render_layer **ret,
                   size_t *ret_n, rk_error *err)
{
        struct plan p = {.resolve = resolve, .userdata = userdata};
        struct slist none = {0};

        if (!image_id || !m || !resolve)
                return rk_err(err, -EINVAL, "render: image, manifest and resolver needed");
        p.v = calloc(RK_RENDER_MAX_LAYERS, sizeof(*p.v));
        if (!p.v)
                return rk_err(err, -ENOMEM, "out of memory");
        int r = expand(&p, image_id, m, &none, 0, err);
        if (r < 0) {
                rk_render_plan_free(p.v, p.n);
                return r;
        }
        *ret = p.v;
        *ret_n = p.n;
        return 0;
}

void rk_render_layer_to_aci(const struct rk_render_layer *rl, int fd, const char *what,
                            struct rk_aci_layer *ret)
{
        *ret = (struct rk_aci_layer){
            .fd = fd,
            .what = what,
            .expect_id = rl->image_id,
            .whitelist = (const char *const *)rl->whitelist,
            .n_whitelist = rl->n_whitelist,
            .upper_whitelist = (const char *const *)rl->upper_whitelist,
            .n_upper_whitelist = rl->n_upper_whitelist,
        };
}
