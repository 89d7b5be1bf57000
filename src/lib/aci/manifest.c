/* SPDX-License-Identifier: Apache-2.0 */
/* Image manifest (appc.md section 3): parse, validate, serialise canonically. */
#include <string.h>

#include "aci/aci-private.h"
#include "aci/manifest.h"
#include "base/json.h"

DEFINE_CLEANUP(struct rk_image_manifest *, rk_image_manifest_free)

struct rk_image_manifest *rk_image_manifest_free(struct rk_image_manifest *m)
{
        if (!m)
                return NULL;
        free(m->ac_version);
        free(m->name);
        rk_labels_clear(&m->labels);
        rk_app_free(m->app);
        for (size_t i = 0; i < m->n_dependencies; i++) {
                free(m->dependencies[i].image_name);
                free(m->dependencies[i].image_id);
                rk_labels_clear(&m->dependencies[i].labels);
        }
        free(m->dependencies);
        rk_strv_free_n(m->path_whitelist, m->n_path_whitelist);
        rk_name_values_clear(&m->annotations);
        rk_strv_free_n(m->unknown_isolators, m->n_unknown_isolators);
        free(m);
        return NULL;
}

static int parse_dependencies(const json_t *arr, struct rk_image_manifest *m, rk_error *err)
{
        char epath[RK_FIELD_MAX], fpath[RK_FIELD_MAX];
        size_t n = json_array_size(arr);

        if (n == 0)
                return 0;
        m->dependencies = calloc(n, sizeof(*m->dependencies));
        if (!m->dependencies)
                return rk_err(err, -ENOMEM, "dependencies: out of memory");
        for (size_t i = 0; i < n; i++) {
                struct rk_dependency *d = &m->dependencies[i];
                json_t *e = json_array_get(arr, i), *v = NULL;
                const char *name = NULL, *id = NULL;
                int64_t size = 0;

                m->n_dependencies++;
                rk_index(epath, "dependencies", i);
                int r = rk_expect_object(e, epath, err);
                if (r >= 0)
                        r = rk_get_str(e, "imageName", true, epath, &name, err);
                if (r >= 0)
                        r = rk_bad(err, rk_ac_identifier_validate(
                                            name, rk_field(fpath, epath, "imageName"), err));
                if (r < 0)
                        return r;
                if (!(d->image_name = strdup(name)))
                        return rk_err(err, -ENOMEM, "%s: out of memory", epath);
                r = rk_get_str(e, "imageID", false, epath, &id, err);
                if (r > 0) {
                        r = rk_bad(
                            err, rk_image_id_validate(id, rk_field(fpath, epath, "imageID"), err));
                        if (r >= 0 && !(d->image_id = strdup(id)))
                                return rk_err(err, -ENOMEM, "%s: out of memory", epath);
                }
                if (r < 0)
                        return r;
                r = rk_get_array(e, "labels", false, epath, &v, err);
                if (r > 0)
                        r = rk_labels_from_json(v, rk_field(fpath, epath, "labels"), &d->labels,
                                                err);
                if (r < 0)
                        return r;
                r = rk_get_int(e, "size", false, 0, INT64_MAX, epath, &size, err);
                if (r < 0)
                        return r;
                d->has_size = r > 0;
                d->size = (uint64_t)size;
        }
        return 0;
}

static int parse_path_whitelist(const json_t *arr, struct rk_image_manifest *m, rk_error *err)
{
        char epath[RK_FIELD_MAX];
        int r =
            rk_strv_from_json(arr, "pathWhitelist", &m->path_whitelist, &m->n_path_whitelist, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n_path_whitelist; i++) {
                /* appc's Go code took relative entries; the renderer compares paths exactly, so
                 * anything but a clean absolute path would silently whitelist nothing */
                r = rk_abs_path_validate(m->path_whitelist[i], rk_index(epath, "pathWhitelist", i),
                                         err);
                if (r < 0)
                        return rk_bad(err, r);
        }
        const char *dup = NULL;
        r = rk_strv_find_duplicate((const char *const *)m->path_whitelist, m->n_path_whitelist,
                                   &dup);
        if (r < 0)
                return rk_err(err, r, "pathWhitelist: out of memory");
        if (r > 0)
                return rk_err(err, -EBADMSG, "pathWhitelist: %s is listed twice", RK_QUOTE(dup));
        return 0;
}

static int parse_fields(const json_t *doc, struct rk_image_manifest *m, rk_error *err)
{
        const char *s = NULL;
        json_t *v = NULL;
        int r;

        r = rk_get_str(doc, "acKind", true, "", &s, err);
        if (r < 0 || (r = rk_bad(err, rk_ac_kind_validate(s, "ImageManifest", "acKind", err))) < 0)
                return r;
        r = rk_get_str(doc, "acVersion", true, "", &s, err);
        if (r < 0 || (r = rk_bad(err, rk_ac_version_validate(s, "acVersion", err))) < 0)
                return r;
        if (!(m->ac_version = strdup(s)))
                return rk_err(err, -ENOMEM, "out of memory");
        r = rk_get_str(doc, "name", true, "", &s, err);
        if (r < 0 || (r = rk_bad(err, rk_ac_identifier_validate(s, "name", err))) < 0)
                return r;
        if (!(m->name = strdup(s)))
                return rk_err(err, -ENOMEM, "out of memory");
        r = rk_get_array(doc, "labels", false, "", &v, err);
        if (r > 0)
                r = rk_labels_from_json(v, "labels", &m->labels, err);
        if (r < 0)
                return r;
        r = rk_get_object(doc, "app", false, "", &v, err);
        if (r > 0)
                r = rk_app_parse(v, "app", &m->app, err);
        if (r < 0)
                return r;
        r = rk_get_array(doc, "dependencies", false, "", &v, err);
        if (r > 0)
                r = parse_dependencies(v, m, err);
        if (r < 0)
                return r;
        r = rk_get_array(doc, "pathWhitelist", false, "", &v, err);
        if (r > 0)
                r = parse_path_whitelist(v, m, err);
        if (r < 0)
                return r;
        r = rk_get_array(doc, "annotations", false, "", &v, err);
        if (r > 0)
                r = rk_name_values_from_json(v, "annotations", &m->annotations, err);
        if (r >= 0)
                r = rk_bad(err, rk_annotations_validate(&m->annotations, "annotations", err));
        if (r < 0)
                return r;
        size_t cap = 0;
        if (m->app && (rk_unknown_isolators_collect(&m->app->isolators, &m->unknown_isolators,
                                                    &m->n_unknown_isolators, &cap) < 0 ||
                       rk_strv_dedup(m->unknown_isolators, &m->n_unknown_isolators) < 0))
                return rk_err(err, -ENOMEM, "out of memory");
        return 0;
}

int rk_image_manifest_parse(const char *what, const void *buf, size_t len,
                            struct rk_image_manifest **ret, rk_error *err)
{
        rk_error local = RK_ERROR_INIT;
        char label[RK_DOC_LABEL_MAX];
        _cleanup_json_ json_t *doc = NULL;

        if (!err)
                err = &local;
        int r = rk_manifest_doc("image manifest", what, buf, len, label, &doc, err);
        if (r < 0)
                return r;
        _cleanup_(rk_image_manifest_freep) struct rk_image_manifest *m = calloc(1, sizeof(*m));
        if (!m)
                return rk_err(err, -ENOMEM, "%s: out of memory", label);
        r = parse_fields(doc, m, err);
        if (r < 0) {
                rk_err_prefix(err, r, "%s", label);
                return rk_bad(err, err->code);
        }
        *ret = TAKE_PTR(m);
        return 0;
}

static json_t *dependencies_to_json(const struct rk_image_manifest *m)
{
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < m->n_dependencies; i++) {
                const struct rk_dependency *d = &m->dependencies[i];
                json_t *o = json_object();
                int f = !o || json_array_append_new(arr, o) < 0 || !d->image_name;
                if (!f) {
                        f |= rk_json_set(o, "imageName", json_string(d->image_name));
                        if (d->image_id)
                                f |= rk_json_set(o, "imageID", json_string(d->image_id));
                        if (d->labels.n)
                                f |= rk_json_set(o, "labels", rk_labels_to_json(&d->labels));
                        if (d->has_size)
                                f |= d->size > INT64_MAX ||
                                     rk_json_set(o, "size", json_integer((json_int_t)d->size));
                }
                if (f) {
                        json_decref(arr);
                        return NULL;
                }
        }
        return arr;
}

json_t *rk_image_manifest_to_json(const struct rk_image_manifest *m)
{
        json_t *o = json_object();
        int f = 0;

        if (!o || !m || !m->ac_version || !m->name) {
                json_decref(o);
                return NULL;
        }
        f |= rk_json_set(o, "acKind", json_string("ImageManifest"));
        f |= rk_json_set(o, "acVersion", json_string(m->ac_version));
        f |= rk_json_set(o, "name", json_string(m->name));
        if (m->labels.n)
                f |= rk_json_set(o, "labels", rk_labels_to_json(&m->labels));
        if (m->app)
                f |= rk_json_set(o, "app", rk_app_to_json(m->app));
        if (m->n_dependencies)
                f |= rk_json_set(o, "dependencies", dependencies_to_json(m));
        if (m->n_path_whitelist)
                f |= rk_json_set(o, "pathWhitelist",
                                 rk_strv_to_json(m->path_whitelist, m->n_path_whitelist));
        if (m->annotations.n)
                f |= rk_json_set(o, "annotations", rk_name_values_to_json(&m->annotations));
        if (f) {
                json_decref(o);
                return NULL;
        }
        return o;
}

int rk_image_manifest_serialize(const struct rk_image_manifest *m, char **ret, size_t *ret_len,
                                rk_error *err)
{
        _cleanup_json_ json_t *o = rk_image_manifest_to_json(m);
        if (!o)
                return rk_err(err, -EINVAL,
                              "image manifest %s: cannot serialise (a field is missing or not "
                              "UTF-8, or out of memory)",
                              m && m->name ? RK_QUOTE(m->name) : "(unnamed)");
        return rk_json_dump(o, ret, ret_len, err);
}
