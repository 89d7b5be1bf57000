/* SPDX-License-Identifier: Apache-2.0 */
/* Pod manifest (appc.md section 6): parse, validate (schema, then "runnable"), serialise. */
#include <arpa/inet.h>
#include <string.h>

#include "aci/aci-private.h"
#include "aci/manifest.h"
#include "base/json.h"

#define UID_MAX_VALUE 4294967294LL /* (uid_t)-1 is "unchanged" to chown and setresuid */

DEFINE_CLEANUP(struct rk_pod_manifest *, rk_pod_manifest_free)

static void volume_clear(struct rk_volume *v)
{
        if (!v)
                return;
        free(v->name);
        free(v->kind);
        free(v->source);
        free(v->mode);
        memset(v, 0, sizeof(*v));
}

static void pod_app_clear(struct rk_pod_app *a)
{
        free(a->name);
        free(a->image_name);
        free(a->image_id);
        rk_labels_clear(&a->image_labels);
        rk_app_free(a->app);
        for (size_t i = 0; i < a->n_mounts; i++) {
                free(a->mounts[i].volume);
                free(a->mounts[i].path);
                volume_clear(a->mounts[i].app_volume);
                free(a->mounts[i].app_volume);
        }
        free(a->mounts);
        rk_name_values_clear(&a->annotations);
}

struct rk_pod_manifest *rk_pod_manifest_free(struct rk_pod_manifest *m)
{
        if (!m)
                return NULL;
        free(m->ac_version);
        for (size_t i = 0; i < m->n_apps; i++)
                pod_app_clear(&m->apps[i]);
        free(m->apps);
        for (size_t i = 0; i < m->n_volumes; i++)
                volume_clear(&m->volumes[i]);
        free(m->volumes);
        rk_isolators_clear(&m->isolators);
        rk_name_values_clear(&m->annotations);
        for (size_t i = 0; i < m->n_ports; i++) {
                free(m->ports[i].name);
                free(m->ports[i].host_ip);
                rk_port_clear(m->ports[i].pod_port);
                free(m->ports[i].pod_port);
        }
        free(m->ports);
        json_decref(m->user_annotations);
        json_decref(m->user_labels);
        rk_strv_free_n(m->unknown_isolators, m->n_unknown_isolators);
        free(m);
        return NULL;
}

/* ---- volumes ---- */

/* "0755", "755", "1777": three or four octal digits. */
static bool mode_valid(const char *s)
{
        size_t n = strlen(s);
        if (n < 3 || n > 4)
                return false;
        for (size_t i = 0; i < n; i++)
                if (s[i] < '0' || s[i] > '7')
                        return false;
        return true;
}

static int dup_into(char **dst, const char *s, const char *path, rk_error *err)
{
        if (!(*dst = strdup(s)))
                return rk_err(err, -ENOMEM, "%s: out of memory", path);
        return 0;
}

static int parse_volume(const json_t *o, const char *path, struct rk_volume *v, rk_error *err)
{
        char fpath[RK_FIELD_MAX];
        const char *name = NULL, *kind = NULL, *source = NULL, *mode = NULL;
        int64_t id = 0;
        int r;

        r = rk_expect_object(o, path, err);
        if (r >= 0)
                r = rk_get_str(o, "name", true, path, &name, err);
        if (r >= 0)
                r = rk_bad(err, rk_ac_name_validate(name, rk_field(fpath, path, "name"), err));
        if (r >= 0)
                r = rk_get_str(o, "kind", true, path, &kind, err);
        if (r < 0)
                return r;
        bool host = strcmp(kind, "host") == 0;
        if (!host && strcmp(kind, "empty") != 0)
                return rk_err(err, -EBADMSG,
                              "%s.kind: unrecognized volume kind %s (must be \"host\" or "
                              "\"empty\")",
                              path, RK_QUOTE(kind));
        if ((r = dup_into(&v->name, name, path, err)) < 0 ||
            (r = dup_into(&v->kind, kind, path, err)) < 0)
                return r;
        r = rk_get_str(o, "source", host, path, &source, err);
        if (r < 0)
                return r;
        if (r > 0 && !host)
                return rk_err(err, -EBADMSG, "%s.source is not allowed for an empty volume", path);
        if (r > 0) {
                r = rk_abs_path_validate(source, rk_field(fpath, path, "source"), err);
                if (r < 0)
                        return rk_bad(err, r);
                if ((r = dup_into(&v->source, source, path, err)) < 0)
                        return r;
        }
        r = rk_get_bool(o, "readOnly", false, path, &v->read_only, err);
        if (r < 0)
                return r;
        v->has_read_only = r > 0;
        r = rk_get_bool(o, "recursive", false, path, &v->recursive, err);
        if (r < 0)
                return r;
        if (r > 0 && !host)
                return rk_err(err, -EBADMSG, "%s.recursive is only allowed for a host volume",
                              path);
        v->has_recursive = r > 0;

        static const char *const empty_only[] = {"mode", "uid", "gid"};
        for (size_t i = 0; host && i < ELEMENTSOF(empty_only); i++) {
                json_t *x = json_object_get(o, empty_only[i]);
                if (x && !json_is_null(x))
                        return rk_err(err, -EBADMSG, "%s.%s is not allowed for a host volume", path,
                                      empty_only[i]);
        }
        r = rk_get_str(o, "mode", false, path, &mode, err);
        if (r < 0)
                return r;
        if (r > 0) {
                if (!mode_valid(mode))
                        return rk_err(err, -EBADMSG,
                                      "%s.mode: %s is not an octal mode (3 or 4 digits 0-7, "
                                      "like \"0755\")",
                                      path, RK_QUOTE(mode));
                if ((r = dup_into(&v->mode, mode, path, err)) < 0)
                        return r;
        }
        r = rk_get_int(o, "uid", false, 0, UID_MAX_VALUE, path, &id, err);
        if (r < 0)
                return r;
        v->has_uid = r > 0;
        v->uid = (uint32_t)id;
        r = rk_get_int(o, "gid", false, 0, UID_MAX_VALUE, path, &id, err);
        if (r < 0)
                return r;
        v->has_gid = r > 0;
        v->gid = (uint32_t)id;
        return 0;
}

static json_t *volume_to_json(const struct rk_volume *v)
{
        json_t *o = json_object();
        int f = !o || !v->name || !v->kind;
        if (!f) {
                f |= rk_json_set(o, "name", json_string(v->name));
                f |= rk_json_set(o, "kind", json_string(v->kind));
                if (v->source)
                        f |= rk_json_set(o, "source", json_string(v->source));
                if (v->has_read_only)
                        f |= rk_json_set(o, "readOnly", json_boolean(v->read_only));
                if (v->has_recursive)
                        f |= rk_json_set(o, "recursive", json_boolean(v->recursive));
                if (v->mode)
                        f |= rk_json_set(o, "mode", json_string(v->mode));
                if (v->has_uid)
                        f |= rk_json_set(o, "uid", json_integer(v->uid));
                if (v->has_gid)
                        f |= rk_json_set(o, "gid", json_integer(v->gid));
        }
        if (f) {
                json_decref(o);
                return NULL;
        }
        return o;
}

/* ---- apps ---- */

static int parse_mounts(const json_t *arr, const char *path, struct rk_pod_app *a, rk_error *err)
{
        char epath[RK_FIELD_MAX], fpath[RK_FIELD_MAX];
        size_t n = json_array_size(arr);

        if (n == 0)
                return 0;
        a->mounts = calloc(n, sizeof(*a->mounts));
        if (!a->mounts)
                return rk_err(err, -ENOMEM, "%s: out of memory", path);
        for (size_t i = 0; i < n; i++) {
                struct rk_pod_mount *mt = &a->mounts[i];
                json_t *e = json_array_get(arr, i), *av = NULL;
                const char *volume = NULL, *p = NULL;

                a->n_mounts++;
                rk_index(epath, path, i);
                int r = rk_expect_object(e, epath, err);
                if (r >= 0)
                        r = rk_get_str(e, "volume", true, epath, &volume, err);
                if (r >= 0)
                        r = rk_bad(err, rk_ac_name_validate(volume,
                                                            rk_field(fpath, epath, "volume"), err));
                if (r >= 0)
                        r = rk_get_str(e, "path", true, epath, &p, err);
                if (r >= 0)
                        r = rk_bad(err,
                                   rk_abs_path_validate(p, rk_field(fpath, epath, "path"), err));
                if (r >= 0)
                        r = dup_into(&mt->volume, volume, epath, err);
                if (r >= 0)
                        r = dup_into(&mt->path, p, epath, err);
                if (r >= 0)
                        r = rk_get_object(e, "appVolume", false, epath, &av, err);
                if (r > 0) {
                        mt->app_volume = calloc(1, sizeof(*mt->app_volume));
                        if (!mt->app_volume)
                                return rk_err(err, -ENOMEM, "%s: out of memory", epath);
                        r = parse_volume(av, rk_field(fpath, epath, "appVolume"), mt->app_volume,
                                         err);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_image(const json_t *o, const char *path, struct rk_pod_app *a, rk_error *err)
{
        char fpath[RK_FIELD_MAX];
        const char *s = NULL;
        json_t *v = NULL;

        int r = rk_get_str(o, "name", false, path, &s, err);
        if (r > 0) {
                r = rk_bad(err, rk_ac_identifier_validate(s, rk_field(fpath, path, "name"), err));
                if (r >= 0)
                        r = dup_into(&a->image_name, s, path, err);
        }
        if (r < 0)
                return r;
        r = rk_get_str(o, "id", false, path, &s, err);
        if (r > 0) {
                r = rk_bad(err, rk_image_id_validate(s, rk_field(fpath, path, "id"), err));
                if (r >= 0)
                        r = dup_into(&a->image_id, s, path, err);
        }
        if (r < 0)
                return r;
        r = rk_get_array(o, "labels", false, path, &v, err);
        if (r > 0)
                r = rk_labels_from_json(v, rk_field(fpath, path, "labels"), &a->image_labels, err);
        return r < 0 ? r : 0;
}

static int parse_pod_app(const json_t *o, const char *path, struct rk_pod_app *a, rk_error *err)
{
        char fpath[RK_FIELD_MAX];
        const char *s = NULL;
        json_t *v = NULL;

        int r = rk_expect_object(o, path, err);
        if (r < 0)
                return r;
        /* a template may leave the name out; validate_runnable insists */
        r = rk_get_str(o, "name", false, path, &s, err);
        if (r > 0) {
                r = rk_bad(err, rk_ac_name_validate(s, rk_field(fpath, path, "name"), err));
                if (r >= 0)
                        r = dup_into(&a->name, s, path, err);
        }
        if (r < 0)
                return r;
        r = rk_get_object(o, "image", true, path, &v, err);
        if (r > 0)
                r = parse_image(v, rk_field(fpath, path, "image"), a, err);
        if (r < 0)
                return r;
        r = rk_get_object(o, "app", false, path, &v, err);
        if (r > 0)
                r = rk_app_parse(v, rk_field(fpath, path, "app"), &a->app, err);
        if (r < 0)
                return r;
        r = rk_get_bool(o, "readOnlyRootFS", false, path, &a->read_only_rootfs, err);
        if (r < 0)
                return r;
        r = rk_get_array(o, "mounts", false, path, &v, err);
        if (r > 0)
                r = parse_mounts(v, rk_field(fpath, path, "mounts"), a, err);
        if (r < 0)
                return r;
        r = rk_get_array(o, "annotations", false, path, &v, err);
        rk_field(fpath, path, "annotations");
        if (r > 0)
                r = rk_name_values_from_json(v, fpath, &a->annotations, err);
        if (r >= 0)
                r = rk_bad(err, rk_annotations_validate(&a->annotations, fpath, err));
        return r < 0 ? r : 0;
}

static int check_unique(const char *const *names, size_t n, const char *path, const char *what,
                        rk_error *err)
{
        const char *dup = NULL;
        int r = rk_strv_find_duplicate(names, n, &dup);
        if (r < 0)
                return rk_err(err, r, "%s: out of memory", path);
        if (r > 0)
                return rk_err(err, -EBADMSG, "%s: duplicate %s name %s", path, what, RK_QUOTE(dup));
        return 0;
}

static int parse_apps(const json_t *arr, struct rk_pod_manifest *m, rk_error *err)
{
        char epath[RK_FIELD_MAX];
        size_t n = json_array_size(arr);

        if (n == 0)
                return 0;
        m->apps = calloc(n, sizeof(*m->apps));
        _cleanup_free_ const char **names = calloc(n, sizeof(*names));
        if (!m->apps || !names)
                return rk_err(err, -ENOMEM, "apps: out of memory");
        for (size_t i = 0; i < n; i++) {
                m->n_apps++;
                int r = parse_pod_app(json_array_get(arr, i), rk_index(epath, "apps", i),
                                      &m->apps[i], err);
                if (r < 0)
                        return r;
                names[i] = m->apps[i].name;
        }
        return check_unique(names, n, "apps", "app", err);
}

static int parse_volumes(const json_t *arr, struct rk_pod_manifest *m, rk_error *err)
{
        char epath[RK_FIELD_MAX];
        size_t n = json_array_size(arr);

        if (n == 0)
                return 0;
        m->volumes = calloc(n, sizeof(*m->volumes));
        _cleanup_free_ const char **names = calloc(n, sizeof(*names));
        if (!m->volumes || !names)
                return rk_err(err, -ENOMEM, "volumes: out of memory");
        for (size_t i = 0; i < n; i++) {
                m->n_volumes++;
                int r = parse_volume(json_array_get(arr, i), rk_index(epath, "volumes", i),
                                     &m->volumes[i], err);
                if (r < 0)
                        return r;
                names[i] = m->volumes[i].name;
        }
        return check_unique(names, n, "volumes", "volume", err);
}

static int parse_ports(const json_t *arr, struct rk_pod_manifest *m, rk_error *err)
{
        char epath[RK_FIELD_MAX], fpath[RK_FIELD_MAX];
        size_t n = json_array_size(arr);

        if (n == 0)
                return 0;
        m->ports = calloc(n, sizeof(*m->ports));
        _cleanup_free_ const char **names = calloc(n, sizeof(*names));
        if (!m->ports || !names)
                return rk_err(err, -ENOMEM, "ports: out of memory");
        for (size_t i = 0; i < n; i++) {
                struct rk_pod_port *p = &m->ports[i];
                json_t *e = json_array_get(arr, i), *pp = NULL;
                const char *name = NULL, *ip = NULL;
                int64_t hp = 0;

                m->n_ports++;
                rk_index(epath, "ports", i);
                int r = rk_expect_object(e, epath, err);
                if (r >= 0)
                        r = rk_get_str(e, "name", true, epath, &name, err);
                if (r >= 0)
                        r = rk_bad(err,
                                   rk_ac_name_validate(name, rk_field(fpath, epath, "name"), err));
                if (r >= 0)
                        r = dup_into(&p->name, name, epath, err);
                if (r >= 0)
                        r = rk_get_int(e, "hostPort", true, 1, 65535, epath, &hp, err);
                if (r < 0)
                        return r;
                p->host_port = (uint32_t)hp;
                names[i] = p->name;
                r = rk_get_str(e, "hostIP", false, epath, &ip, err);
                if (r > 0) {
                        unsigned char addr[sizeof(struct in6_addr)];
                        if (inet_pton(AF_INET, ip, addr) != 1 && inet_pton(AF_INET6, ip, addr) != 1)
                                return rk_err(err, -EBADMSG,
                                              "%s.hostIP: %s is not an IPv4 or IPv6 address", epath,
                                              RK_QUOTE(ip));
                        r = dup_into(&p->host_ip, ip, epath, err);
                }
                if (r >= 0)
                        r = rk_get_object(e, "podPort", false, epath, &pp, err);
                if (r > 0) {
                        p->pod_port = calloc(1, sizeof(*p->pod_port));
                        if (!p->pod_port)
                                return rk_err(err, -ENOMEM, "%s: out of memory", epath);
                        r = rk_port_from_json(pp, rk_field(fpath, epath, "podPort"), p->pod_port,
                                              err);
                }
                if (r < 0)
                        return r;
        }
        return check_unique(names, n, "ports", "port", err);
}

/* Unknown isolators of every app, then of the pod, each name once. */
static int collect_unknown_isolators(struct rk_pod_manifest *m, rk_error *err)
{
        size_t cap = 0;
        int r = 0;
        for (size_t i = 0; i < m->n_apps && r >= 0; i++)
                if (m->apps[i].app)
                        r = rk_unknown_isolators_collect(&m->apps[i].app->isolators,
                                                         &m->unknown_isolators,
                                                         &m->n_unknown_isolators, &cap);
        if (r >= 0)
                r = rk_unknown_isolators_collect(&m->isolators, &m->unknown_isolators,
                                                 &m->n_unknown_isolators, &cap);
        if (r >= 0)
                r = rk_strv_dedup(m->unknown_isolators, &m->n_unknown_isolators);
        return r < 0 ? rk_err(err, r, "isolators: out of memory") : 0;
}

static int parse_fields(const json_t *doc, struct rk_pod_manifest *m, rk_error *err)
{
        const char *s = NULL;
        json_t *v = NULL;
        int r;

        r = rk_get_str(doc, "acKind", true, "", &s, err);
        if (r < 0 || (r = rk_bad(err, rk_ac_kind_validate(s, "PodManifest", "acKind", err))) < 0)
                return r;
        r = rk_get_str(doc, "acVersion", true, "", &s, err);
        if (r < 0 || (r = rk_bad(err, rk_ac_version_validate(s, "acVersion", err))) < 0)
                return r;
        if ((r = dup_into(&m->ac_version, s, "acVersion", err)) < 0)
                return r;
        r = rk_get_array(doc, "apps", true, "", &v, err);
        if (r > 0)
                r = parse_apps(v, m, err);
        if (r < 0)
                return r;
        r = rk_get_array(doc, "volumes", false, "", &v, err);
        if (r > 0)
                r = parse_volumes(v, m, err);
        if (r < 0)
                return r;
        r = rk_get_array(doc, "isolators", false, "", &v, err);
        if (r > 0)
                r = rk_isolators_parse(v, RK_ISOLATOR_SCOPE_POD, "isolators", &m->isolators, err);
        if (r < 0)
                return r;
        /* appc's Go code checks pod annotation names as AC identifiers (the spec text says AC
         * name); identifiers are the superset, and what real manifests use */
        r = rk_get_array(doc, "annotations", false, "", &v, err);
        if (r > 0)
                r = rk_name_values_from_json(v, "annotations", &m->annotations, err);
        if (r >= 0)
                r = rk_bad(err, rk_annotations_validate(&m->annotations, "annotations", err));
        if (r < 0)
                return r;
        r = rk_get_array(doc, "ports", false, "", &v, err);
        if (r > 0)
                r = parse_ports(v, m, err);
        if (r < 0)
                return r;
        r = rk_get_object(doc, "userAnnotations", false, "", &v, err);
        if (r > 0)
                r = rk_string_map_from_json(v, "userAnnotations", &m->user_annotations, err);
        if (r < 0)
                return r;
        r = rk_get_object(doc, "userLabels", false, "", &v, err);
        if (r > 0)
                r = rk_string_map_from_json(v, "userLabels", &m->user_labels, err);
        if (r < 0)
                return r;
        return collect_unknown_isolators(m, err);
}

int rk_pod_manifest_parse(const char *what, const void *buf, size_t len,
                          struct rk_pod_manifest **ret, rk_error *err)
{
        rk_error local = RK_ERROR_INIT;
        char label[RK_DOC_LABEL_MAX];
        _cleanup_json_ json_t *doc = NULL;

        if (!err)
                err = &local;
        int r = rk_manifest_doc("pod manifest", what, buf, len, label, &doc, err);
        if (r < 0)
                return r;
        _cleanup_(rk_pod_manifest_freep) struct rk_pod_manifest *m = calloc(1, sizeof(*m));
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

/* ---- runnable ---- */

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool sorted_has(const char **v, size_t n, const char *s)
{
        return n > 0 && bsearch(&s, v, n, sizeof(*v), cmp_str);
}

/* Lookups go through sorted copies: a hostile 1 MiB manifest can hold tens of thousands of
 * mounts and volumes, and a quadratic check would be a denial of service. */
int rk_pod_manifest_validate_runnable(const struct rk_pod_manifest *m, rk_error *err)
{
        if (!m || m->n_apps == 0)
                return rk_err(err, -EINVAL,
                              "pod manifest: no apps: a runnable pod needs at least one");
        _cleanup_free_ const char **vols = calloc(m->n_volumes + 1, sizeof(*vols));
        if (!vols)
                return rk_err(err, -ENOMEM, "pod manifest: out of memory");
        for (size_t i = 0; i < m->n_volumes; i++)
                vols[i] = m->volumes[i].name;
        qsort(vols, m->n_volumes, sizeof(*vols), cmp_str);

        for (size_t i = 0; i < m->n_apps; i++) {
                const struct rk_pod_app *a = &m->apps[i];
                if (!a->name)
                        return rk_err(err, -EINVAL,
                                      "pod manifest: apps[%zu].name is required in a runnable pod "
                                      "manifest",
                                      i);
                if (!a->image_id)
                        return rk_err(err, -EINVAL,
                                      "pod manifest: apps[%zu] (%s): image.id is required in a "
                                      "runnable pod manifest (a template must be reified first)",
                                      i, RK_QUOTE(a->name));
                _cleanup_free_ const char **paths = calloc(a->n_mounts + 1, sizeof(*paths));
                if (!paths)
                        return rk_err(err, -ENOMEM, "pod manifest: out of memory");
                for (size_t k = 0; k < a->n_mounts; k++) {
                        const struct rk_pod_mount *mt = &a->mounts[k];
                        if (!mt->app_volume && !sorted_has(vols, m->n_volumes, mt->volume))
                                return rk_err(err, -EINVAL,
                                              "pod manifest: apps[%zu].mounts[%zu]: volume %s is "
                                              "not defined in volumes",
                                              i, k, RK_QUOTE(mt->volume));
                        paths[k] = mt->path;
                }
                qsort(paths, a->n_mounts, sizeof(*paths), cmp_str);
                for (size_t k = 0; a->app && k < a->app->n_mount_points; k++) {
                        const struct rk_mount_point *mp = &a->app->mount_points[k];
                        if (!sorted_has(paths, a->n_mounts, mp->path))
                                return rk_err(err, -EINVAL,
                                              "pod manifest: apps[%zu].app.mountPoints[%zu] (%s "
                                              "at %s) has no mount: a runnable pod must satisfy "
                                              "every mountPoint",
                                              i, k, RK_QUOTE(mp->name), RK_QUOTE(mp->path));
                }
        }
        return 0;
}

/* ---- serialisation ---- */

static json_t *image_to_json(const struct rk_pod_app *a)
{
        json_t *o = json_object();
        int f = !o;
        if (!f && a->image_name)
                f |= rk_json_set(o, "name", json_string(a->image_name));
        if (!f && a->image_id)
                f |= rk_json_set(o, "id", json_string(a->image_id));
        if (!f && a->image_labels.n)
                f |= rk_json_set(o, "labels", rk_labels_to_json(&a->image_labels));
        if (f) {
                json_decref(o);
                return NULL;
        }
        return o;
}

static json_t *mounts_to_json(const struct rk_pod_app *a)
{
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < a->n_mounts; i++) {
                const struct rk_pod_mount *mt = &a->mounts[i];
                json_t *o = json_object();
                int f = !o || json_array_append_new(arr, o) < 0 || !mt->volume || !mt->path;
                if (!f) {
                        f |= rk_json_set(o, "volume", json_string(mt->volume));
                        f |= rk_json_set(o, "path", json_string(mt->path));
                        if (mt->app_volume)
                                f |= rk_json_set(o, "appVolume", volume_to_json(mt->app_volume));
                }
                if (f) {
                        json_decref(arr);
                        return NULL;
                }
        }
        return arr;
}

static json_t *pod_app_to_json(const struct rk_pod_app *a)
{
        json_t *o = json_object();
        int f = !o;
        if (!f) {
                if (a->name)
                        f |= rk_json_set(o, "name", json_string(a->name));
                f |= rk_json_set(o, "image", image_to_json(a));
                if (a->app)
                        f |= rk_json_set(o, "app", rk_app_to_json(a->app));
                if (a->read_only_rootfs)
                        f |= rk_json_set(o, "readOnlyRootFS", json_true());
                if (a->n_mounts)
                        f |= rk_json_set(o, "mounts", mounts_to_json(a));
                if (a->annotations.n)
                        f |= rk_json_set(o, "annotations", rk_name_values_to_json(&a->annotations));
        }
        if (f) {
                json_decref(o);
                return NULL;
        }
        return o;
}

static json_t *pod_port_to_json(const struct rk_pod_port *p)
{
        json_t *o = json_object();
        int f = !o || !p->name;
        if (!f) {
                f |= rk_json_set(o, "name", json_string(p->name));
                f |= rk_json_set(o, "hostPort", json_integer(p->host_port));
                if (p->host_ip)
                        f |= rk_json_set(o, "hostIP", json_string(p->host_ip));
                if (p->pod_port)
                        f |= rk_json_set(o, "podPort", rk_port_to_json(p->pod_port));
        }
        if (f) {
                json_decref(o);
                return NULL;
        }
        return o;
}

json_t *rk_pod_manifest_to_json(const struct rk_pod_manifest *m)
{
        json_t *o = json_object(), *apps = json_array(), *vols = NULL, *ports = NULL;
        int f = !o || !m || !m->ac_version;

        if (!f) {
                f |= rk_json_set(o, "acVersion", json_string(m->ac_version));
                f |= rk_json_set(o, "acKind", json_string("PodManifest"));
                for (size_t i = 0; apps && i < m->n_apps; i++)
                        f |= json_array_append_new(apps, pod_app_to_json(&m->apps[i]));
                f |= rk_json_set(o, "apps", TAKE_PTR(apps));
                if (m->n_volumes) {
                        vols = json_array();
                        for (size_t i = 0; vols && i < m->n_volumes; i++)
                                f |= json_array_append_new(vols, volume_to_json(&m->volumes[i]));
                        f |= rk_json_set(o, "volumes", TAKE_PTR(vols));
                }
                if (m->isolators.n)
                        f |= rk_json_set(o, "isolators", rk_isolators_to_json(&m->isolators));
                if (m->annotations.n)
                        f |= rk_json_set(o, "annotations", rk_name_values_to_json(&m->annotations));
                if (m->n_ports) {
                        ports = json_array();
                        for (size_t i = 0; ports && i < m->n_ports; i++)
                                f |= json_array_append_new(ports, pod_port_to_json(&m->ports[i]));
                        f |= rk_json_set(o, "ports", TAKE_PTR(ports));
                }
                if (m->user_annotations)
                        f |= rk_json_set(o, "userAnnotations", json_deep_copy(m->user_annotations));
                if (m->user_labels)
                        f |= rk_json_set(o, "userLabels", json_deep_copy(m->user_labels));
        }
        json_decref(apps);
        if (f) {
                json_decref(o);
                return NULL;
        }
        return o;
}

int rk_pod_manifest_serialize(const struct rk_pod_manifest *m, char **ret, size_t *ret_len,
                              rk_error *err)
{
        _cleanup_json_ json_t *o = rk_pod_manifest_to_json(m);
        if (!o)
                return rk_err(err, -EINVAL,
                              "pod manifest: cannot serialise (a field is missing or not UTF-8, "
                              "or out of memory)");
        return rk_json_dump(o, ret, ret_len, err);
}
