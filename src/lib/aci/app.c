/* SPDX-License-Identifier: Apache-2.0 */
/* The app object shared by image and pod manifests (appc.md 3.1), and the JSON helpers the
 * manifest parsers share (aci-private.h). */
#include <string.h>

#include "aci/aci-private.h"
#include "aci/manifest.h"

#define USER_MAX     256
#define PROTOCOL_MAX 32
#define GID_MAX      4294967294LL /* (gid_t)-1 means "unchanged" to setgroups and friends */

/* ---- paths, getters ---- */

const char *rk_field(char buf[RK_FIELD_MAX], const char *parent, const char *key)
{
        if (!parent || !*parent)
                snprintf(buf, RK_FIELD_MAX, "%s", key);
        else
                snprintf(buf, RK_FIELD_MAX, "%s.%s", parent, key);
        return buf;
}

const char *rk_index(char buf[RK_FIELD_MAX], const char *parent, size_t i)
{
        snprintf(buf, RK_FIELD_MAX, "%s[%zu]", parent ? parent : "", i);
        return buf;
}

const char *rk_json_type_name(const json_t *v)
{
        if (!v)
                return "nothing";
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return "an object";
        case JSON_ARRAY:
                return "an array";
        case JSON_STRING:
                return "a string";
        case JSON_INTEGER:
                return "an integer";
        case JSON_REAL:
                return "a real number";
        case JSON_TRUE:
        case JSON_FALSE:
                return "a boolean";
        case JSON_NULL:
                return "null";
        }
        return "unknown";
}

static const char *want_name(json_type t)
{
        switch (t) {
        case JSON_OBJECT:
                return "an object";
        case JSON_ARRAY:
                return "an array";
        case JSON_STRING:
                return "a string";
        case JSON_INTEGER:
                return "an integer";
        case JSON_TRUE:
        case JSON_FALSE:
                return "a boolean";
        default:
                return "a value";
        }
}

int rk_get(const json_t *obj, const char *key, json_type type, bool required, const char *parent,
           json_t **out, rk_error *err)
{
        char path[RK_FIELD_MAX];
        json_t *v = json_object_get(obj, key);

        if (!v || json_is_null(v)) {
                if (required)
                        return rk_err(err, -EBADMSG, "%s is required", rk_field(path, parent, key));
                return 0;
        }
        bool ok = json_typeof(v) == type || (type == JSON_TRUE && json_typeof(v) == JSON_FALSE);
        if (!ok)
                return rk_err(err, -EBADMSG, "%s must be %s, not %s", rk_field(path, parent, key),
                              want_name(type), rk_json_type_name(v));
        *out = v;
        return 1;
}

int rk_get_str(const json_t *obj, const char *key, bool required, const char *parent,
               const char **out, rk_error *err)
{
        json_t *v = NULL;
        int r = rk_get(obj, key, JSON_STRING, required, parent, &v, err);
        if (r > 0)
                *out = json_string_value(v);
        return r;
}

int rk_get_bool(const json_t *obj, const char *key, bool required, const char *parent, bool *out,
                rk_error *err)
{
        json_t *v = NULL;
        int r = rk_get(obj, key, JSON_TRUE, required, parent, &v, err);
        if (r > 0)
                *out = json_is_true(v);
        return r;
}

int rk_get_int(const json_t *obj, const char *key, bool required, int64_t min, int64_t max,
               const char *parent, int64_t *out, rk_error *err)
{
        char path[RK_FIELD_MAX];
        json_t *v = NULL;
        int r = rk_get(obj, key, JSON_INTEGER, required, parent, &v, err);
        if (r <= 0)
                return r;
        json_int_t i = json_integer_value(v);
        if (i < min || i > max)
                return rk_err(err, -EBADMSG, "%s: %lld is out of range %lld..%lld",
                              rk_field(path, parent, key), (long long)i, (long long)min,
                              (long long)max);
        *out = i;
        return 1;
}

int rk_get_array(const json_t *obj, const char *key, bool required, const char *parent,
                 json_t **out, rk_error *err)
{
        return rk_get(obj, key, JSON_ARRAY, required, parent, out, err);
}

int rk_get_object(const json_t *obj, const char *key, bool required, const char *parent,
                  json_t **out, rk_error *err)
{
        return rk_get(obj, key, JSON_OBJECT, required, parent, out, err);
}

int rk_expect_object(const json_t *v, const char *path, rk_error *err)
{
        if (json_is_object(v))
                return 0;
        return rk_err(err, -EBADMSG, "%s must be an object, not %s", path, rk_json_type_name(v));
}

int rk_bad(rk_error *err, int r)
{
        if (r == -EINVAL || r == -ERANGE) {
                if (err)
                        err->code = -EBADMSG;
                return -EBADMSG;
        }
        return r;
}

int rk_json_set(json_t *obj, const char *key, json_t *v)
{
        if (!v)
                return -1;
        return json_object_set_new(obj, key, v);
}

void rk_doc_label(char *buf, size_t size, const char *kind, const char *what)
{
        if (what)
                snprintf(buf, size, "%s %s", kind, RK_QUOTE(what));
        else
                snprintf(buf, size, "%s", kind);
}

int rk_manifest_doc(const char *kind, const char *what, const void *buf, size_t len,
                    char label[RK_DOC_LABEL_MAX], json_t **ret, rk_error *err)
{
        json_t *doc = NULL;
        rk_doc_label(label, RK_DOC_LABEL_MAX, kind, what);
        int r = rk_json_parse(label, buf, len, RK_MANIFEST_MAX, &doc, err);
        if (r < 0) {
                rk_err_sanitize(err);
                return r;
        }
        if (!json_is_object(doc)) {
                r = rk_err(err, -EBADMSG, "%s: must be a JSON object, not %s", label,
                           rk_json_type_name(doc));
                json_decref(doc);
                return r;
        }
        *ret = doc;
        return 0;
}

void rk_err_sanitize(rk_error *err)
{
        char out[sizeof(err->msg)];
        size_t o = 0;

        if (!err)
                return;
        for (size_t i = 0; err->msg[i]; i++) {
                unsigned char c = (unsigned char)err->msg[i];
                if (c >= 0x20 && c < 0x7f) {
                        if (o + 1 >= sizeof(out))
                                break;
                        out[o++] = (char)c;
                } else {
                        if (o + 4 >= sizeof(out))
                                break;
                        snprintf(out + o, 5, "\\x%02x", c);
                        o += 4;
                }
        }
        out[o] = 0;
        memcpy(err->msg, out, o + 1);
}

int rk_check_plain(const char *s, size_t max, const char *path, rk_error *err)
{
        if (!*s)
                return rk_err(err, -EBADMSG, "%s must not be empty", path);
        size_t n = strnlen(s, max + 1);
        if (n > max)
                return rk_err(err, -EBADMSG, "%s: %s is longer than %zu bytes", path, RK_QUOTE(s),
                              max);
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
                        return rk_err(err, -EBADMSG, "%s: %s must not contain control characters",
                                      path, RK_QUOTE(s));
        return 0;
}

/* ---- string arrays ---- */

void rk_strv_free_n(char **v, size_t n)
{
        if (!v)
                return;
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

int rk_strv_from_json(const json_t *arr, const char *path, char ***ret, size_t *ret_n,
                      rk_error *err)
{
        char epath[RK_FIELD_MAX];
        size_t n = json_array_size(arr);
        char **v = NULL;

        if (n > 0) {
                v = calloc(n, sizeof(*v));
                if (!v)
                        return rk_err(err, -ENOMEM, "%s: out of memory", path);
        }
        for (size_t i = 0; i < n; i++) {
                json_t *e = json_array_get(arr, i);
                if (!json_is_string(e)) {
                        rk_strv_free_n(v, n);
                        return rk_err(err, -EBADMSG, "%s must be a string, not %s",
                                      rk_index(epath, path, i), rk_json_type_name(e));
                }
                v[i] = strdup(json_string_value(e));
                if (!v[i]) {
                        rk_strv_free_n(v, n);
                        return rk_err(err, -ENOMEM, "%s: out of memory", path);
                }
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

json_t *rk_strv_to_json(char *const *v, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                if (!v[i] || json_array_append_new(a, json_string(v[i])) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

/* ---- name/value lists, labels, annotations ---- */

void rk_name_values_clear(struct rk_name_values *l)
{
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++) {
                free(l->v[i].name);
                free(l->v[i].value);
        }
        free(l->v);
        l->v = NULL;
        l->n = 0;
}

const char *rk_name_values_get(const struct rk_name_values *l, const char *name)
{
        for (size_t i = 0; l && name && i < l->n; i++)
                if (l->v[i].name && strcmp(l->v[i].name, name) == 0)
                        return l->v[i].value;
        return NULL;
}

/* [{"name": string, "value": string}, ...] into parallel name/value strings. */
static int pairs_from_json(const json_t *arr, const char *path, char ***ret_names,
                           char ***ret_values, size_t *ret_n, rk_error *err)
{
        char epath[RK_FIELD_MAX];
        size_t n = json_array_size(arr);
        _cleanup_free_ char **names = NULL;
        _cleanup_free_ char **values = NULL;
        int r;

        if (!json_is_array(arr))
                return rk_err(err, -EBADMSG, "%s must be an array, not %s", path,
                              rk_json_type_name(arr));
        if (n == 0) {
                *ret_names = *ret_values = NULL;
                *ret_n = 0;
                return 0;
        }
        names = calloc(n, sizeof(*names));
        values = calloc(n, sizeof(*values));
        if (!names || !values)
                return rk_err(err, -ENOMEM, "%s: out of memory", path);
        for (size_t i = 0; i < n; i++) {
                json_t *e = json_array_get(arr, i);
                const char *name = NULL, *value = NULL;
                rk_index(epath, path, i);
                r = rk_expect_object(e, epath, err);
                if (r >= 0)
                        r = rk_get_str(e, "name", true, epath, &name, err);
                if (r >= 0)
                        r = rk_get_str(e, "value", true, epath, &value, err);
                if (r >= 0) {
                        names[i] = strdup(name);
                        values[i] = strdup(value);
                        if (!names[i] || !values[i])
                                r = rk_err(err, -ENOMEM, "%s: out of memory", path);
                }
                if (r < 0) {
                        for (size_t k = 0; k <= i; k++) {
                                free(names[k]);
                                free(values[k]);
                        }
                        return r;
                }
        }
        *ret_names = TAKE_PTR(names);
        *ret_values = TAKE_PTR(values);
        *ret_n = n;
        return 0;
}

static int pairs_into(const json_t *arr, const char *path, struct rk_name_value **ret,
                      size_t *ret_n, rk_error *err)
{
        char **names = NULL, **values = NULL;
        size_t n = 0;
        int r = pairs_from_json(arr, path, &names, &values, &n, err);
        if (r < 0)
                return r;
        struct rk_name_value *v = NULL;
        if (n > 0) {
                v = calloc(n, sizeof(*v));
                if (!v) {
                        rk_strv_free_n(names, n);
                        rk_strv_free_n(values, n);
                        return rk_err(err, -ENOMEM, "%s: out of memory", path);
                }
        }
        for (size_t i = 0; i < n; i++) {
                v[i].name = names[i];
                v[i].value = values[i];
        }
        free(names);
        free(values);
        *ret = v;
        *ret_n = n;
        return 0;
}

int rk_name_values_from_json(const json_t *arr, const char *path, struct rk_name_values *ret,
                             rk_error *err)
{
        return pairs_into(arr, path, &ret->v, &ret->n, err);
}

json_t *rk_name_values_to_json(const struct rk_name_values *l)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < l->n; i++) {
                json_t *o = json_object();
                if (!o || json_array_append_new(a, o) < 0 || !l->v[i].name || !l->v[i].value ||
                    rk_json_set(o, "name", json_string(l->v[i].name)) < 0 ||
                    rk_json_set(o, "value", json_string(l->v[i].value)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        }
        return a;
}

int rk_labels_from_json(const json_t *arr, const char *path, struct rk_labels *ret, rk_error *err)
{
        struct rk_labels l = {0};
        struct rk_name_values nv = {0};
        int r = rk_name_values_from_json(arr, path, &nv, err);
        if (r < 0)
                return r;
        if (nv.n > 0) {
                l.v = calloc(nv.n, sizeof(*l.v));
                if (!l.v) {
                        rk_name_values_clear(&nv);
                        return rk_err(err, -ENOMEM, "%s: out of memory", path);
                }
        }
        for (size_t i = 0; i < nv.n; i++) {
                l.v[i].name = TAKE_PTR(nv.v[i].name);
                l.v[i].value = TAKE_PTR(nv.v[i].value);
        }
        l.n = nv.n;
        rk_name_values_clear(&nv);
        r = rk_labels_validate(&l, path, err);
        if (r < 0) {
                rk_labels_clear(&l);
                return rk_bad(err, r);
        }
        *ret = l;
        return 0;
}

json_t *rk_labels_to_json(const struct rk_labels *l)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < l->n; i++) {
                json_t *o = json_object();
                if (!o || json_array_append_new(a, o) < 0 || !l->v[i].name || !l->v[i].value ||
                    rk_json_set(o, "name", json_string(l->v[i].name)) < 0 ||
                    rk_json_set(o, "value", json_string(l->v[i].value)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        }
        return a;
}

int rk_annotations_validate(const struct rk_name_values *l, const char *path, rk_error *err)
{
        char epath[RK_FIELD_MAX];
        struct timespec ts;
        int r;

        if (!path)
                path = "annotations";
        if (!l || l->n == 0)
                return 0;
        _cleanup_free_ const char **names = calloc(l->n, sizeof(*names));
        if (!names)
                return rk_err(err, -ENOMEM, "%s: out of memory", path);
        for (size_t i = 0; i < l->n; i++) {
                const char *name = l->v[i].name, *value = l->v[i].value;
                snprintf(epath, sizeof(epath), "%s[%zu].name", path, i);
                r = rk_ac_identifier_validate(name, epath, err);
                if (r < 0)
                        return r;
                names[i] = name;
                snprintf(epath, sizeof(epath), "%s[%zu].value", path, i);
                if (!value)
                        return rk_err(err, -EINVAL, "%s must be set", epath);
                if (strcmp(name, "created") == 0)
                        r = rk_timestamp_parse(value, &ts, epath, err);
                else if (strcmp(name, "homepage") == 0 || strcmp(name, "documentation") == 0)
                        r = rk_url_validate(value, epath, err);
                else if (strcmp(name, "appc.io/executor/supports-systemd-notify") == 0 &&
                         strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
                        r = rk_err(err, -EINVAL, "%s: %s must be \"true\" or \"false\"", epath,
                                   RK_QUOTE(value));
                if (r < 0)
                        return r;
        }
        const char *dup = NULL;
        r = rk_strv_find_duplicate(names, l->n, &dup);
        if (r < 0)
                return rk_err(err, r, "%s: out of memory", path);
        if (r > 0)
                return rk_err(err, -EINVAL, "%s: duplicate annotation %s", path, RK_QUOTE(dup));
        return 0;
}

int rk_string_map_from_json(const json_t *obj, const char *path, json_t **ret, rk_error *err)
{
        const char *key;
        json_t *v;

        json_object_foreach ((json_t *)obj, key, v) {
                if (!json_is_string(v))
                        return rk_err(err, -EBADMSG, "%s[%s] must be a string, not %s", path,
                                      RK_QUOTE(key), rk_json_type_name(v));
        }
        json_t *copy = json_deep_copy(obj);
        if (!copy)
                return rk_err(err, -ENOMEM, "%s: out of memory", path);
        *ret = copy;
        return 0;
}

/* ---- ports ---- */

void rk_port_clear(struct rk_port *p)
{
        if (!p)
                return;
        free(p->name);
        free(p->protocol);
        memset(p, 0, sizeof(*p));
}

int rk_port_from_json(const json_t *obj, const char *path, struct rk_port *ret, rk_error *err)
{
        char fpath[RK_FIELD_MAX];
        const char *name = NULL, *protocol = NULL;
        int64_t port = 0, count = 1;
        bool sa = false;

        int r = rk_expect_object(obj, path, err);
        if (r < 0)
                return r;
        r = rk_get_str(obj, "name", true, path, &name, err);
        if (r < 0)
                return r;
        r = rk_ac_name_validate(name, rk_field(fpath, path, "name"), err);
        if (r < 0)
                return rk_bad(err, r);
        r = rk_get_str(obj, "protocol", true, path, &protocol, err);
        if (r < 0)
                return r;
        r = rk_check_plain(protocol, PROTOCOL_MAX, rk_field(fpath, path, "protocol"), err);
        if (r < 0)
                return r;
        r = rk_get_int(obj, "port", true, 1, 65535, path, &port, err);
        if (r < 0)
                return r;
        r = rk_get_int(obj, "count", false, 1, 65535, path, &count, err);
        if (r < 0)
                return r;
        if (port + count > 65536)
                return rk_err(err, -EBADMSG,
                              "%s: port %lld with count %lld runs past 65535 (port+count > 65536)",
                              path, (long long)port, (long long)count);
        r = rk_get_bool(obj, "socketActivated", false, path, &sa, err);
        if (r < 0)
                return r;
        struct rk_port p = {
            .name = strdup(name),
            .protocol = strdup(protocol),
            .port = (uint32_t)port,
            .count = (uint32_t)count,
            .socket_activated = sa,
        };
        if (!p.name || !p.protocol) {
                rk_port_clear(&p);
                return rk_err(err, -ENOMEM, "%s: out of memory", path);
        }
        *ret = p;
        return 0;
}

json_t *rk_port_to_json(const struct rk_port *p)
{
        json_t *o = json_object();
        if (!o || !p->name || !p->protocol || rk_json_set(o, "name", json_string(p->name)) < 0 ||
            rk_json_set(o, "protocol", json_string(p->protocol)) < 0 ||
            rk_json_set(o, "port", json_integer(p->port)) < 0 ||
            rk_json_set(o, "count", json_integer(p->count)) < 0 ||
            rk_json_set(o, "socketActivated", json_boolean(p->socket_activated)) < 0) {
                json_decref(o);
                return NULL;
        }
        return o;
}

/* ---- unknown isolators ---- */

int rk_unknown_isolators_collect(const struct rk_isolators *l, char ***v, size_t *n, size_t *cap)
{
        for (size_t i = 0; i < l->n; i++) {
                if (l->v[i].kind != RK_ISOLATOR_UNKNOWN)
                        continue;
                if (*n == *cap) {
                        size_t c = *cap ? *cap * 2 : 8;
                        char **t = reallocarray(*v, c, sizeof(char *));
                        if (!t)
                                return -ENOMEM;
                        *v = t;
                        *cap = c;
                }
                (*v)[*n] = strdup(l->v[i].name);
                if (!(*v)[*n])
                        return -ENOMEM;
                (*n)++;
        }
        return 0;
}

struct strv_pos {
        const char *s;
        size_t i;
};

static int cmp_pos(const void *a, const void *b)
{
        const struct strv_pos *x = a, *y = b;
        int r = strcmp(x->s, y->s);
        if (r)
                return r;
        return x->i < y->i ? -1 : x->i > y->i;
}

int rk_strv_dedup(char **v, size_t *n)
{
        if (*n < 2)
                return 0;
        _cleanup_free_ struct strv_pos *pos = calloc(*n, sizeof(*pos));
        _cleanup_free_ bool *drop = calloc(*n, sizeof(*drop));
        if (!pos || !drop)
                return -ENOMEM;
        for (size_t i = 0; i < *n; i++)
                pos[i] = (struct strv_pos){v[i], i};
        qsort(pos, *n, sizeof(*pos), cmp_pos);
        for (size_t k = 1; k < *n; k++)
                if (strcmp(pos[k - 1].s, pos[k].s) == 0)
                        drop[pos[k].i] = true; /* a later occurrence: the first one stays */
        size_t o = 0;
        for (size_t i = 0; i < *n; i++) {
                if (drop[i])
                        free(v[i]);
                else
                        v[o++] = v[i];
        }
        *n = o;
        return 0;
}

/* ---- the app object ---- */

struct rk_app *rk_app_free(struct rk_app *a)
{
        if (!a)
                return NULL;
        rk_strv_free_n(a->exec, a->n_exec);
        free(a->user);
        free(a->group);
        free(a->supplementary_gids);
        for (size_t i = 0; i < a->n_event_handlers; i++) {
                free(a->event_handlers[i].name);
                rk_strv_free_n(a->event_handlers[i].exec, a->event_handlers[i].n_exec);
        }
        free(a->event_handlers);
        free(a->working_directory);
        rk_name_values_clear(&a->environment);
        rk_isolators_clear(&a->isolators);
        for (size_t i = 0; i < a->n_mount_points; i++) {
                free(a->mount_points[i].name);
                free(a->mount_points[i].path);
        }
        free(a->mount_points);
        for (size_t i = 0; i < a->n_ports; i++)
                rk_port_clear(&a->ports[i]);
        free(a->ports);
        json_decref(a->user_annotations);
        json_decref(a->user_labels);
        free(a);
        return NULL;
}

/* user and group: a name, a number or an absolute path inside the image. */
static int user_group_validate(const char *s, const char *path, rk_error *err)
{
        int r = rk_check_plain(s, USER_MAX, path, err);
        if (r < 0)
                return r;
        if (s[0] == '/') {
                r = rk_abs_path_validate(s, path, err);
                if (r < 0)
                        return rk_bad(err, r);
        }
        return 0;
}

static int check_unique(const char *const *names, size_t n, const char *path, const char *what,
                        rk_error *err)
{
        const char *dup = NULL;
        int r = rk_strv_find_duplicate(names, n, &dup);
        if (r < 0)
                return rk_err(err, r, "%s: out of memory", path);
        if (r > 0)
                return rk_err(err, -EBADMSG, "%s: duplicate %s %s", path, what, RK_QUOTE(dup));
        return 0;
}

static int parse_exec(const json_t *obj, const char *key, bool required, const char *parent,
                      char ***ret, size_t *ret_n, rk_error *err)
{
        char path[RK_FIELD_MAX], epath[RK_FIELD_MAX];
        json_t *arr = NULL;

        int r = rk_get_array(obj, key, required, parent, &arr, err);
        if (r <= 0)
                return r;
        rk_field(path, parent, key);
        if (required && json_array_size(arr) == 0)
                return rk_err(err, -EBADMSG, "%s must not be empty", path);
        r = rk_strv_from_json(arr, path, ret, ret_n, err);
        if (r < 0)
                return r;
        if (*ret_n > 0 && (*ret)[0][0] == 0)
                return rk_err(err, -EBADMSG, "%s: the program must not be empty",
                              rk_index(epath, path, 0));
        return 0;
}

static int parse_gids(const json_t *obj, const char *parent, struct rk_app *a, rk_error *err)
{
        char path[RK_FIELD_MAX], epath[RK_FIELD_MAX];
        json_t *arr = NULL, *alias = NULL;
        const char *key = "supplementaryGIDs";

        int r = rk_get_array(obj, "supplementaryGIDs", false, parent, &arr, err);
        if (r < 0)
                return r;
        /* the spec's example spells it supplementaryGids */
        int r2 = rk_get_array(obj, "supplementaryGids", false, parent, &alias, err);
        if (r2 < 0)
                return r2;
        if (r > 0 && r2 > 0)
                return rk_err(err, -EBADMSG,
                              "%s: both supplementaryGIDs and supplementaryGids are set", parent);
        if (r2 > 0) {
                arr = alias;
                key = "supplementaryGids";
        }
        size_t n = json_array_size(arr);
        if (n == 0)
                return 0;
        rk_field(path, parent, key);
        a->supplementary_gids = calloc(n, sizeof(uint32_t));
        if (!a->supplementary_gids)
                return rk_err(err, -ENOMEM, "%s: out of memory", path);
        for (size_t i = 0; i < n; i++) {
                json_t *e = json_array_get(arr, i);
                rk_index(epath, path, i);
                if (!json_is_integer(e))
                        return rk_err(err, -EBADMSG, "%s must be an integer, not %s", epath,
                                      rk_json_type_name(e));
                json_int_t g = json_integer_value(e);
                if (g < 0 || g > GID_MAX)
                        return rk_err(err, -EBADMSG, "%s: %lld is out of range 0..%lld", epath,
                                      (long long)g, GID_MAX);
                a->supplementary_gids[i] = (uint32_t)g;
                a->n_supplementary_gids++;
        }
        return 0;
}

static int parse_event_handlers(const json_t *arr, const char *path, struct rk_app *a,
                                rk_error *err)
{
        char epath[RK_FIELD_MAX];
        size_t n = json_array_size(arr);

        if (n == 0)
                return 0;
        a->event_handlers = calloc(n, sizeof(*a->event_handlers));
        if (!a->event_handlers)
                return rk_err(err, -ENOMEM, "%s: out of memory", path);
        for (size_t i = 0; i < n; i++) {
                struct rk_event_handler *h = &a->event_handlers[i];
                json_t *e = json_array_get(arr, i);
                const char *name = NULL;
                a->n_event_handlers++;
                rk_index(epath, path, i);
                int r = rk_expect_object(e, epath, err);
                if (r >= 0)
                        r = rk_get_str(e, "name", true, epath, &name, err);
                if (r < 0)
                        return r;
                if (strcmp(name, "pre-start") != 0 && strcmp(name, "post-stop") != 0)
                        return rk_err(err, -EBADMSG,
                                      "%s.name: bad eventHandler %s (must be \"pre-start\" or "
                                      "\"post-stop\")",
                                      epath, RK_QUOTE(name));
                for (size_t k = 0; k < i; k++)
                        if (strcmp(a->event_handlers[k].name, name) == 0)
                                return rk_err(err, -EBADMSG,
                                              "%s.name: only one eventHandler %s is allowed", epath,
                                              RK_QUOTE(name));
                h->name = strdup(name);
                if (!h->name)
                        return rk_err(err, -ENOMEM, "%s: out of memory", epath);
                r = parse_exec(e, "exec", true, epath, &h->exec, &h->n_exec, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_environment(const json_t *arr, const char *path, struct rk_app *a, rk_error *err)
{
        char epath[RK_FIELD_MAX];
        int r = rk_name_values_from_json(arr, path, &a->environment, err);
        if (r < 0)
                return r;
        _cleanup_free_ const char **names = calloc(a->environment.n + 1, sizeof(*names));
        if (!names)
                return rk_err(err, -ENOMEM, "%s: out of memory", path);
        for (size_t i = 0; i < a->environment.n; i++) {
                snprintf(epath, sizeof(epath), "%s[%zu].name", path, i);
                r = rk_env_name_validate(a->environment.v[i].name, epath, err);
                if (r < 0)
                        return rk_bad(err, r);
                names[i] = a->environment.v[i].name;
        }
        return check_unique(names, a->environment.n, path, "environment variable", err);
}

static int parse_mount_points(const json_t *arr, const char *path, struct rk_app *a, rk_error *err)
{
        char epath[RK_FIELD_MAX], fpath[RK_FIELD_MAX];
        size_t n = json_array_size(arr);

        if (n == 0)
                return 0;
        a->mount_points = calloc(n, sizeof(*a->mount_points));
        _cleanup_free_ const char **names = calloc(n, sizeof(*names));
        if (!a->mount_points || !names)
                return rk_err(err, -ENOMEM, "%s: out of memory", path);
        for (size_t i = 0; i < n; i++) {
                struct rk_mount_point *mp = &a->mount_points[i];
                json_t *e = json_array_get(arr, i);
                const char *name = NULL, *p = NULL;
                a->n_mount_points++;
                rk_index(epath, path, i);
                int r = rk_expect_object(e, epath, err);
                if (r >= 0)
                        r = rk_get_str(e, "name", true, epath, &name, err);
                if (r >= 0)
                        r = rk_bad(err,
                                   rk_ac_name_validate(name, rk_field(fpath, epath, "name"), err));
                /* appc's Go code let a missing path through */
                if (r >= 0)
                        r = rk_get_str(e, "path", true, epath, &p, err);
                if (r >= 0)
                        r = rk_bad(err,
                                   rk_abs_path_validate(p, rk_field(fpath, epath, "path"), err));
                if (r >= 0)
                        r = rk_get_bool(e, "readOnly", false, epath, &mp->read_only, err);
                if (r < 0)
                        return r;
                mp->name = strdup(name);
                mp->path = strdup(p);
                if (!mp->name || !mp->path)
                        return rk_err(err, -ENOMEM, "%s: out of memory", epath);
                names[i] = mp->name;
        }
        return check_unique(names, n, path, "mountPoint", err);
}

static int parse_ports(const json_t *arr, const char *path, struct rk_app *a, rk_error *err)
{
        char epath[RK_FIELD_MAX];
        size_t n = json_array_size(arr);

        if (n == 0)
                return 0;
        a->ports = calloc(n, sizeof(*a->ports));
        _cleanup_free_ const char **names = calloc(n, sizeof(*names));
        if (!a->ports || !names)
                return rk_err(err, -ENOMEM, "%s: out of memory", path);
        for (size_t i = 0; i < n; i++) {
                int r = rk_port_from_json(json_array_get(arr, i), rk_index(epath, path, i),
                                          &a->ports[i], err);
                if (r < 0)
                        return r;
                a->n_ports++;
                names[i] = a->ports[i].name;
        }
        return check_unique(names, n, path, "port", err);
}

static int parse_app_fields(const json_t *o, const char *path, struct rk_app *a, rk_error *err)
{
        char fpath[RK_FIELD_MAX];
        const char *s = NULL;
        json_t *v = NULL;
        int r;

        r = parse_exec(o, "exec", false, path, &a->exec, &a->n_exec, err);
        if (r < 0)
                return r;
        r = rk_get_str(o, "user", true, path, &s, err);
        if (r < 0 || (r = user_group_validate(s, rk_field(fpath, path, "user"), err)) < 0)
                return r;
        if (!(a->user = strdup(s)))
                return -ENOMEM;
        r = rk_get_str(o, "group", true, path, &s, err);
        if (r < 0 || (r = user_group_validate(s, rk_field(fpath, path, "group"), err)) < 0)
                return r;
        if (!(a->group = strdup(s)))
                return -ENOMEM;
        r = parse_gids(o, path, a, err);
        if (r < 0)
                return r;
        r = rk_get_array(o, "eventHandlers", false, path, &v, err);
        if (r > 0)
                r = parse_event_handlers(v, rk_field(fpath, path, "eventHandlers"), a, err);
        if (r < 0)
                return r;
        r = rk_get_str(o, "workingDirectory", false, path, &s, err);
        if (r > 0) {
                r = rk_bad(err,
                           rk_abs_path_validate(s, rk_field(fpath, path, "workingDirectory"), err));
                if (r >= 0 && !(a->working_directory = strdup(s)))
                        return -ENOMEM;
        }
        if (r < 0)
                return r;
        r = rk_get_array(o, "environment", false, path, &v, err);
        if (r > 0)
                r = parse_environment(v, rk_field(fpath, path, "environment"), a, err);
        if (r < 0)
                return r;
        r = rk_get_array(o, "isolators", false, path, &v, err);
        if (r > 0)
                r = rk_isolators_parse(v, RK_ISOLATOR_SCOPE_APP, rk_field(fpath, path, "isolators"),
                                       &a->isolators, err);
        if (r < 0)
                return r;
        r = rk_get_array(o, "mountPoints", false, path, &v, err);
        if (r > 0)
                r = parse_mount_points(v, rk_field(fpath, path, "mountPoints"), a, err);
        if (r < 0)
                return r;
        r = rk_get_array(o, "ports", false, path, &v, err);
        if (r > 0)
                r = parse_ports(v, rk_field(fpath, path, "ports"), a, err);
        if (r < 0)
                return r;
        r = rk_get_object(o, "userAnnotations", false, path, &v, err);
        if (r > 0)
                r = rk_string_map_from_json(v, rk_field(fpath, path, "userAnnotations"),
                                            &a->user_annotations, err);
        if (r < 0)
                return r;
        r = rk_get_object(o, "userLabels", false, path, &v, err);
        if (r > 0)
                r = rk_string_map_from_json(v, rk_field(fpath, path, "userLabels"), &a->user_labels,
                                            err);
        return r < 0 ? r : 0;
}

int rk_app_parse(const json_t *obj, const char *path, struct rk_app **ret, rk_error *err)
{
        if (!path)
                path = "app";
        int r = rk_expect_object(obj, path, err);
        if (r < 0)
                return r;
        _cleanup_(rk_app_freep) struct rk_app *a = calloc(1, sizeof(*a));
        if (!a)
                return rk_err(err, -ENOMEM, "%s: out of memory", path);
        r = parse_app_fields(obj, path, a, err);
        if (r == -ENOMEM && (!err || err->code != -ENOMEM))
                return rk_err(err, -ENOMEM, "%s: out of memory", path);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(a);
        return 0;
}

static json_t *event_handlers_to_json(const struct rk_app *a)
{
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < a->n_event_handlers; i++) {
                const struct rk_event_handler *h = &a->event_handlers[i];
                json_t *o = json_object();
                if (!o || json_array_append_new(arr, o) < 0 || !h->name ||
                    rk_json_set(o, "name", json_string(h->name)) < 0 ||
                    rk_json_set(o, "exec", rk_strv_to_json(h->exec, h->n_exec)) < 0) {
                        json_decref(arr);
                        return NULL;
                }
        }
        return arr;
}

static json_t *mount_points_to_json(const struct rk_app *a)
{
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < a->n_mount_points; i++) {
                const struct rk_mount_point *mp = &a->mount_points[i];
                json_t *o = json_object();
                if (!o || json_array_append_new(arr, o) < 0 || !mp->name || !mp->path ||
                    rk_json_set(o, "name", json_string(mp->name)) < 0 ||
                    rk_json_set(o, "path", json_string(mp->path)) < 0 ||
                    (mp->read_only && rk_json_set(o, "readOnly", json_true()) < 0)) {
                        json_decref(arr);
                        return NULL;
                }
        }
        return arr;
}

static json_t *ports_to_json(const struct rk_app *a)
{
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < a->n_ports; i++)
                if (json_array_append_new(arr, rk_port_to_json(&a->ports[i])) < 0) {
                        json_decref(arr);
                        return NULL;
                }
        return arr;
}

static json_t *gids_to_json(const struct rk_app *a)
{
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < a->n_supplementary_gids; i++)
                if (json_array_append_new(arr, json_integer(a->supplementary_gids[i])) < 0) {
                        json_decref(arr);
                        return NULL;
                }
        return arr;
}

json_t *rk_app_to_json(const struct rk_app *a)
{
        json_t *o = json_object();
        int f = 0;

        if (!o || !a || !a->user || !a->group) {
                json_decref(o);
                return NULL;
        }
        if (a->n_exec)
                f |= rk_json_set(o, "exec", rk_strv_to_json(a->exec, a->n_exec));
        f |= rk_json_set(o, "user", json_string(a->user));
        f |= rk_json_set(o, "group", json_string(a->group));
        if (a->n_supplementary_gids)
                f |= rk_json_set(o, "supplementaryGIDs", gids_to_json(a));
        if (a->n_event_handlers)
                f |= rk_json_set(o, "eventHandlers", event_handlers_to_json(a));
        if (a->working_directory)
                f |= rk_json_set(o, "workingDirectory", json_string(a->working_directory));
        if (a->environment.n)
                f |= rk_json_set(o, "environment", rk_name_values_to_json(&a->environment));
        if (a->isolators.n)
                f |= rk_json_set(o, "isolators", rk_isolators_to_json(&a->isolators));
        if (a->n_mount_points)
                f |= rk_json_set(o, "mountPoints", mount_points_to_json(a));
        if (a->n_ports)
                f |= rk_json_set(o, "ports", ports_to_json(a));
        if (a->user_annotations)
                f |= rk_json_set(o, "userAnnotations", json_deep_copy(a->user_annotations));
        if (a->user_labels)
                f |= rk_json_set(o, "userLabels", json_deep_copy(a->user_labels));
        if (f) {
                json_decref(o);
                return NULL;
        }
        return o;
}
