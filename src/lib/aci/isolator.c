/* SPDX-License-Identifier: Apache-2.0 */
/* Isolators (appc.md section 4). Stricter than appc's Go code where that code is unsafe or
 * silent: a known isolator without a value is an error (Go crashed), capability names are
 * checked, retain+remove conflicts and "one sysctl per pod" are enforced, quantities must not be
 * negative, sysctl keys cannot climb out of /proc/sys. */
#include <string.h>

#include "aci/aci-private.h"
#include "aci/isolator.h"
#include "aci/types.h"

#define SET_MAX        4096 /* entries in a capability or seccomp set */
#define SYSCALL_MAX    64
#define ERRNO_NAME_MAX 32
#define LABEL_PART_MAX 255
#define SYSCTL_MAX     256 /* keys per sysctl isolator */
#define SYSCTL_KEY_MAX 256
#define SYSCTL_VAL_MAX 4096

static const struct {
        const char *name;
        bool app, pod;
} kinds[_RK_ISOLATOR_MAX] = {
    [RK_ISOLATOR_UNKNOWN] = {"unknown", true, true},
    [RK_ISOLATOR_CAPS_RETAIN] = {"os/linux/capabilities-retain-set", true, false},
    [RK_ISOLATOR_CAPS_REMOVE] = {"os/linux/capabilities-remove-set", true, false},
    [RK_ISOLATOR_NO_NEW_PRIVS] = {"os/linux/no-new-privileges", true, false},
    [RK_ISOLATOR_SECCOMP_REMOVE] = {"os/linux/seccomp-remove-set", true, false},
    [RK_ISOLATOR_SECCOMP_RETAIN] = {"os/linux/seccomp-retain-set", true, false},
    [RK_ISOLATOR_SELINUX_CONTEXT] = {"os/linux/selinux-context", true, true},
    [RK_ISOLATOR_APPARMOR_PROFILE] = {"os/linux/apparmor-profile", true, true},
    [RK_ISOLATOR_OOM_SCORE_ADJ] = {"os/linux/oom-score-adj", true, false},
    [RK_ISOLATOR_CPU_SHARES] = {"os/linux/cpu-shares", true, false},
    [RK_ISOLATOR_RESOURCE_CPU] = {"resource/cpu", true, true},
    [RK_ISOLATOR_RESOURCE_MEMORY] = {"resource/memory", true, true},
    [RK_ISOLATOR_BLOCK_BANDWIDTH] = {"resource/block-bandwidth", true, true},
    [RK_ISOLATOR_BLOCK_IOPS] = {"resource/block-iops", true, true},
    [RK_ISOLATOR_NETWORK_BANDWIDTH] = {"resource/network-bandwidth", true, true},
    [RK_ISOLATOR_SYSCTL] = {"os/unix/sysctl", false, true},
};

const char *rk_isolator_kind_name(enum rk_isolator_kind k)
{
        if ((int)k <= 0 || k >= _RK_ISOLATOR_MAX)
                return "unknown";
        return kinds[k].name;
}

enum rk_isolator_kind rk_isolator_kind_from_name(const char *name)
{
        if (!name)
                return RK_ISOLATOR_UNKNOWN;
        for (int k = 1; k < _RK_ISOLATOR_MAX; k++)
                if (strcmp(kinds[k].name, name) == 0)
                        return (enum rk_isolator_kind)k;
        return RK_ISOLATOR_UNKNOWN;
}

/* ---- capabilities ---- */

static const char *const cap_names[RK_CAP_LAST + 1] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

int rk_capability_number(const char *name)
{
        if (!name)
                return -EINVAL;
        for (int i = 0; i <= RK_CAP_LAST; i++)
                if (strcmp(cap_names[i], name) == 0)
                        return i;
        return -EINVAL;
}

const char *rk_capability_name(int n)
{
        return n >= 0 && n <= RK_CAP_LAST ? cap_names[n] : NULL;
}

int rk_capability_validate(const char *name, const char *ctx, rk_error *err)
{
        if (rk_capability_number(name) >= 0)
                return 0;
        return rk_err(err, -EINVAL,
                      RK_CTX_FMT "%s is not a known capability (use the upper-case CAP_ form, "
                                 "e.g. CAP_NET_BIND_SERVICE)",
                      RK_CTX_ARG(ctx), RK_QUOTE(name));
}

/* ---- seccomp ---- */

static int syscall_validate(const char *s, enum rk_isolator_kind k, const char *ctx, rk_error *err)
{
        if (s[0] == '@') {
                /* A wildcard group: @<identifier>. @appc.io/ is reserved by the spec, with
                 * exactly one member per set kind. */
                if (strncmp(s, "@appc.io/", 9) == 0) {
                        const char *want =
                            k == RK_ISOLATOR_SECCOMP_RETAIN ? "@appc.io/all" : "@appc.io/empty";
                        if (strcmp(s, want) != 0)
                                return rk_err(err, -EINVAL,
                                              "%s: %s is not a valid wildcard for %s (the only "
                                              "@appc.io/ one is %s)",
                                              ctx, RK_QUOTE(s), kinds[k].name, want);
                        return 0;
                }
                int r = rk_ac_identifier_validate(s + 1, NULL, err);
                if (r < 0)
                        return rk_err(err, -EINVAL,
                                      "%s: %s is not a valid syscall group (@ followed by an AC "
                                      "identifier, e.g. @rkt/default-blacklist)",
                                      ctx, RK_QUOTE(s));
                return 0;
        }
        size_t n = strnlen(s, SYSCALL_MAX + 1);
        bool ok = n > 0 && n <= SYSCALL_MAX && ((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_');
        for (size_t i = 1; ok && i < n; i++)
                ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_';
        if (!ok)
                return rk_err(err, -EINVAL,
                              "%s: %s is not a valid syscall name ([a-z_][a-z0-9_]*, or an "
                              "@group)",
                              ctx, RK_QUOTE(s));
        return 0;
}

static int errno_validate(const char *s, const char *ctx, rk_error *err)
{
        size_t n = strnlen(s, ERRNO_NAME_MAX + 1);
        bool ok = n >= 2 && n <= ERRNO_NAME_MAX && s[0] == 'E';
        for (size_t i = 1; ok && i < n; i++)
                ok = (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9');
        if (!ok)
                return rk_err(err, -EINVAL,
                              "%s: %s is not a valid errno name (E followed by upper-case letters "
                              "or digits, e.g. EPERM)",
                              ctx, RK_QUOTE(s));
        return 0;
}

/* ---- parsing helpers ---- */

/* {"set": [non-empty, unique strings]} with a per-entry check. */
static int parse_set(const json_t *value, const char *vpath, enum rk_isolator_kind k, char ***ret,
                     size_t *ret_n, rk_error *err)
{
        char path[RK_FIELD_MAX], epath[RK_FIELD_MAX];
        json_t *arr = NULL;
        char **v = NULL;
        size_t n = 0;

        int r = rk_expect_object(value, vpath, err);
        if (r < 0)
                return r;
        r = rk_get_array(value, "set", true, vpath, &arr, err);
        if (r < 0)
                return r;
        rk_field(path, vpath, "set");
        if (json_array_size(arr) == 0)
                return rk_err(err, -EBADMSG, "%s must not be empty", path);
        if (json_array_size(arr) > SET_MAX)
                return rk_err(err, -EBADMSG, "%s has %zu entries, limit %d", path,
                              json_array_size(arr), SET_MAX);
        r = rk_strv_from_json(arr, path, &v, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                rk_index(epath, path, i);
                if (k == RK_ISOLATOR_CAPS_RETAIN || k == RK_ISOLATOR_CAPS_REMOVE)
                        r = rk_capability_validate(v[i], epath, err);
                else
                        r = syscall_validate(v[i], k, epath, err);
                if (r < 0)
                        goto fail;
        }
        const char *dup = NULL;
        r = rk_strv_find_duplicate((const char *const *)v, n, &dup);
        if (r < 0) {
                r = rk_err(err, r, "%s: out of memory", path);
                goto fail;
        }
        if (r > 0) {
                r = rk_err(err, -EBADMSG, "%s: %s is listed twice", path, RK_QUOTE(dup));
                goto fail;
        }
        *ret = v;
        *ret_n = n;
        return 0;
fail:
        rk_strv_free_n(v, n);
        return rk_bad(err, r);
}

static int parse_seccomp(const json_t *value, const char *vpath, struct rk_isolator *iso,
                         rk_error *err)
{
        const char *e = NULL;
        int r = parse_set(value, vpath, iso->kind, &iso->u.seccomp.set, &iso->u.seccomp.n, err);
        if (r < 0)
                return r;
        r = rk_get_str(value, "errno", false, vpath, &e, err);
        if (r <= 0 || !*e) /* absent or empty: kill with SIGSYS */
                return r;
        char path[RK_FIELD_MAX];
        r = errno_validate(e, rk_field(path, vpath, "errno"), err);
        if (r < 0)
                return rk_bad(err, r);
        iso->u.seccomp.errno_name = strdup(e);
        return iso->u.seccomp.errno_name ? 0 : rk_err(err, -ENOMEM, "%s: out of memory", vpath);
}

static bool has_char_class(const char *s, bool colon)
{
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c <= 0x20 || c == 0x7f || (colon && c == ':'))
                        return true;
        }
        return false;
}

static int parse_selinux(const json_t *value, const char *vpath, struct rk_isolator *iso,
                         rk_error *err)
{
        static const char *const keys[] = {"user", "role", "type", "level"};
        char **out[] = {&iso->u.selinux.user, &iso->u.selinux.role, &iso->u.selinux.type,
                        &iso->u.selinux.level};
        char path[RK_FIELD_MAX];

        int r = rk_expect_object(value, vpath, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                const char *s = NULL;
                r = rk_get_str(value, keys[i], true, vpath, &s, err);
                if (r < 0)
                        return r;
                rk_field(path, vpath, keys[i]);
                if (!*s)
                        return rk_err(err, -EBADMSG, "%s must not be empty", path);
                if (strlen(s) > LABEL_PART_MAX)
                        return rk_err(err, -EBADMSG, "%s is longer than %d characters", path,
                                      LABEL_PART_MAX);
                /* only the level (s0:c1,c2) may contain ':'; whitespace and control characters
                 * never belong in a context written to /proc/self/attr/exec */
                if (has_char_class(s, i < 3))
                        return rk_err(err, -EBADMSG,
                                      "%s: %s must not contain %swhitespace or control characters",
                                      path, RK_QUOTE(s), i < 3 ? "':', " : "");
                *out[i] = strdup(s);
                if (!*out[i])
                        return rk_err(err, -ENOMEM, "%s: out of memory", path);
        }
        return 0;
}

static int parse_apparmor(const json_t *value, const char *vpath, struct rk_isolator *iso,
                          rk_error *err)
{
        const char *s = NULL;
        char path[RK_FIELD_MAX];

        int r = rk_expect_object(value, vpath, err);
        if (r < 0)
                return r;
        r = rk_get_str(value, "profile", true, vpath, &s, err);
        if (r < 0)
                return r;
        r = rk_check_plain(s, LABEL_PART_MAX, rk_field(path, vpath, "profile"), err);
        if (r < 0)
                return r;
        iso->u.apparmor_profile = strdup(s);
        return iso->u.apparmor_profile ? 0 : rk_err(err, -ENOMEM, "%s: out of memory", path);
}

static int parse_int_value(const json_t *value, const char *vpath, int64_t min, int64_t max,
                           int64_t *out, rk_error *err)
{
        if (!json_is_integer(value))
                return rk_err(err, -EBADMSG, "%s must be an integer, not %s", vpath,
                              rk_json_type_name(value));
        json_int_t v = json_integer_value(value);
        if (v < min || v > max)
                return rk_err(err, -EBADMSG, "%s: %lld is out of range %lld..%lld", vpath,
                              (long long)v, (long long)min, (long long)max);
        *out = v;
        return 0;
}

/* A quantity: a string in the Kubernetes grammar, or a JSON number (appc accepts 1024). */
static int quantity_from_json(const json_t *v, const char *path, int64_t *out, rk_error *err)
{
        char buf[64];
        const char *s;
        int r;

        switch (json_typeof(v)) {
        case JSON_STRING:
                s = json_string_value(v);
                break;
        case JSON_INTEGER:
                snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
                s = buf;
                break;
        case JSON_REAL:
                snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
                s = buf;
                break;
        default:
                return rk_err(err, -EBADMSG, "%s must be a quantity string or a number, not %s",
                              path, rk_json_type_name(v));
        }
        r = rk_quantity_parse(s, out, path, err);
        return r < 0 ? rk_bad(err, r) : 0;
}

static int parse_resource(const json_t *value, const char *vpath, struct rk_isolator *iso,
                          rk_error *err)
{
        bool block = iso->kind == RK_ISOLATOR_BLOCK_BANDWIDTH ||
                     iso->kind == RK_ISOLATOR_BLOCK_IOPS ||
                     iso->kind == RK_ISOLATOR_NETWORK_BANDWIDTH;
        char path[RK_FIELD_MAX];
        bool def = false;
        json_t *q;

        int r = rk_expect_object(value, vpath, err);
        if (r < 0)
                return r;
        r = rk_get_bool(value, "default", block, vpath, &def, err);
        if (r < 0)
                return r;
        rk_field(path, vpath, "default");
        if (block && !def)
                return rk_err(err, -EBADMSG, "%s must be true for %s", path, kinds[iso->kind].name);
        if (!block && def)
                return rk_err(err, -EBADMSG, "%s must be false for %s", path,
                              kinds[iso->kind].name);
        iso->u.resource.is_default = def;

        q = json_object_get(value, "request");
        if (q && !json_is_null(q)) {
                rk_field(path, vpath, "request");
                if (block)
                        return rk_err(err, -EBADMSG, "%s is not supported for %s", path,
                                      kinds[iso->kind].name);
                r = quantity_from_json(q, path, &iso->u.resource.request_milli, err);
                if (r < 0)
                        return r;
                iso->u.resource.has_request = true;
        }
        q = json_object_get(value, "limit");
        rk_field(path, vpath, "limit");
        if (q && !json_is_null(q)) {
                r = quantity_from_json(q, path, &iso->u.resource.limit_milli, err);
                if (r < 0)
                        return r;
                if (iso->u.resource.limit_milli == 0)
                        return rk_err(err, -EBADMSG, "%s must be greater than zero", path);
                iso->u.resource.has_limit = true;
        } else if (block) {
                return rk_err(err, -EBADMSG, "%s is required", path);
        }
        if (!iso->u.resource.has_request && !iso->u.resource.has_limit)
                return rk_err(err, -EBADMSG, "%s: a request or a limit is required", vpath);
        if (iso->u.resource.has_request && iso->u.resource.has_limit &&
            iso->u.resource.request_milli > iso->u.resource.limit_milli)
                return rk_err(err, -EBADMSG, "%s: request is greater than limit", vpath);
        return 0;
}

/* Keys are components of [A-Za-z0-9_-]+ joined by '.' or '/': stage1 maps them to
 * /proc/sys/<a>/<b>, so an empty, "." or ".." component must never get through. */
static int sysctl_key_validate(const char *k, const char *path, rk_error *err)
{
        size_t n = strnlen(k, SYSCTL_KEY_MAX + 1);
        bool ok = n > 0 && n <= SYSCTL_KEY_MAX;
        bool after_sep = true;
        for (size_t i = 0; ok && i < n; i++) {
                char c = k[i];
                if (c == '.' || c == '/') {
                        ok = !after_sep;
                        after_sep = true;
                } else {
                        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                             (c >= '0' && c <= '9') || c == '_' || c == '-';
                        after_sep = false;
                }
        }
        if (!ok || after_sep)
                return rk_err(err, -EBADMSG,
                              "%s: %s is not a valid sysctl key (components of [A-Za-z0-9_-] "
                              "separated by single '.' or '/')",
                              path, RK_QUOTE(k));
        return 0;
}

static int parse_sysctl(const json_t *value, const char *vpath, struct rk_isolator *iso,
                        rk_error *err)
{
        char path[RK_FIELD_MAX];
        const char *key;
        json_t *v;

        int r = rk_expect_object(value, vpath, err);
        if (r < 0)
                return r;
        size_t n = json_object_size(value);
        if (n == 0)
                return rk_err(err, -EBADMSG, "%s must set at least one sysctl", vpath);
        if (n > SYSCTL_MAX)
                return rk_err(err, -EBADMSG, "%s sets %zu sysctls, limit %d", vpath, n, SYSCTL_MAX);
        iso->u.sysctl.keys = calloc(n, sizeof(char *));
        iso->u.sysctl.values = calloc(n, sizeof(char *));
        if (!iso->u.sysctl.keys || !iso->u.sysctl.values)
                return rk_err(err, -ENOMEM, "%s: out of memory", vpath);
        json_object_foreach ((json_t *)value, key, v) {
                r = sysctl_key_validate(key, vpath, err);
                if (r < 0)
                        return r;
                snprintf(path, sizeof(path), "%s[%s]", vpath, RK_QUOTE(key));
                if (!json_is_string(v))
                        return rk_err(err, -EBADMSG, "%s must be a string, not %s", path,
                                      rk_json_type_name(v));
                const char *s = json_string_value(v);
                if (strlen(s) > SYSCTL_VAL_MAX)
                        return rk_err(err, -EBADMSG, "%s is longer than %d bytes", path,
                                      SYSCTL_VAL_MAX);
                for (const char *c = s; *c; c++)
                        if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
                                return rk_err(err, -EBADMSG,
                                              "%s: %s must not contain control characters", path,
                                              RK_QUOTE(s));
                size_t i = iso->u.sysctl.n;
                iso->u.sysctl.keys[i] = strdup(key);
                iso->u.sysctl.values[i] = strdup(s);
                iso->u.sysctl.n++;
                if (!iso->u.sysctl.keys[i] || !iso->u.sysctl.values[i])
                        return rk_err(err, -ENOMEM, "%s: out of memory", path);
        }
        return 0;
}

/* ---- one isolator ---- */

void rk_isolator_clear(struct rk_isolator *iso)
{
        if (!iso)
                return;
        switch (iso->kind) {
        case RK_ISOLATOR_CAPS_RETAIN:
        case RK_ISOLATOR_CAPS_REMOVE:
                rk_strv_free_n(iso->u.caps.set, iso->u.caps.n);
                break;
        case RK_ISOLATOR_SECCOMP_REMOVE:
        case RK_ISOLATOR_SECCOMP_RETAIN:
                rk_strv_free_n(iso->u.seccomp.set, iso->u.seccomp.n);
                free(iso->u.seccomp.errno_name);
                break;
        case RK_ISOLATOR_SELINUX_CONTEXT:
                free(iso->u.selinux.user);
                free(iso->u.selinux.role);
                free(iso->u.selinux.type);
                free(iso->u.selinux.level);
                break;
        case RK_ISOLATOR_APPARMOR_PROFILE:
                free(iso->u.apparmor_profile);
                break;
        case RK_ISOLATOR_SYSCTL:
                rk_strv_free_n(iso->u.sysctl.keys, iso->u.sysctl.n);
                rk_strv_free_n(iso->u.sysctl.values, iso->u.sysctl.n);
                /* the arrays may be longer than n after a partial parse */
                break;
        default:
                break;
        }
        free(iso->name);
        json_decref(iso->raw);
        memset(iso, 0, sizeof(*iso));
}

int rk_isolator_parse(const json_t *obj, const char *ctx, struct rk_isolator *ret, rk_error *err)
{
        struct rk_isolator iso = {0};
        char vpath[RK_FIELD_MAX], path[RK_FIELD_MAX];
        const char *name = NULL;
        int r;

        if (!ctx)
                ctx = "isolator";
        r = rk_expect_object(obj, ctx, err);
        if (r < 0)
                return r;
        r = rk_get_str(obj, "name", true, ctx, &name, err);
        if (r < 0)
                return r;
        r = rk_ac_identifier_validate(name, rk_field(path, ctx, "name"), err);
        if (r < 0)
                return rk_bad(err, r);
        rk_field(vpath, ctx, "value");
        /* A known isolator without a value crashed appc's actool; here any isolator needs one
         * (the spec makes it required). */
        json_t *value = json_object_get(obj, "value");
        if (!value)
                return rk_err(err, -EBADMSG, "%s is required (isolator %s)", vpath, RK_QUOTE(name));

        iso.kind = rk_isolator_kind_from_name(name);
        iso.name = strdup(name);
        iso.raw = json_deep_copy(value);
        if (!iso.name || !iso.raw) {
                r = rk_err(err, -ENOMEM, "%s: out of memory", ctx);
                goto fail;
        }
        switch (iso.kind) {
        case RK_ISOLATOR_UNKNOWN:
                r = 0;
                break;
        case RK_ISOLATOR_CAPS_RETAIN:
        case RK_ISOLATOR_CAPS_REMOVE:
                r = parse_set(value, vpath, iso.kind, &iso.u.caps.set, &iso.u.caps.n, err);
                break;
        case RK_ISOLATOR_NO_NEW_PRIVS:
                if (!json_is_boolean(value))
                        r = rk_err(err, -EBADMSG, "%s must be true or false, not %s", vpath,
                                   rk_json_type_name(value));
                else
                        iso.u.no_new_privs = json_is_true(value);
                break;
        case RK_ISOLATOR_SECCOMP_REMOVE:
        case RK_ISOLATOR_SECCOMP_RETAIN:
                r = parse_seccomp(value, vpath, &iso, err);
                break;
        case RK_ISOLATOR_SELINUX_CONTEXT:
                r = parse_selinux(value, vpath, &iso, err);
                break;
        case RK_ISOLATOR_APPARMOR_PROFILE:
                r = parse_apparmor(value, vpath, &iso, err);
                break;
        case RK_ISOLATOR_OOM_SCORE_ADJ:
                r = parse_int_value(value, vpath, -1000, 1000, &iso.u.oom_score_adj, err);
                break;
        case RK_ISOLATOR_CPU_SHARES:
                r = parse_int_value(value, vpath, 2, 262144, &iso.u.cpu_shares, err);
                break;
        case RK_ISOLATOR_RESOURCE_CPU:
        case RK_ISOLATOR_RESOURCE_MEMORY:
        case RK_ISOLATOR_BLOCK_BANDWIDTH:
        case RK_ISOLATOR_BLOCK_IOPS:
        case RK_ISOLATOR_NETWORK_BANDWIDTH:
                r = parse_resource(value, vpath, &iso, err);
                break;
        case RK_ISOLATOR_SYSCTL:
                r = parse_sysctl(value, vpath, &iso, err);
                break;
        default:
                r = rk_err(err, -EBADMSG, "%s: unhandled isolator kind", ctx);
                break;
        }
        if (r < 0)
                goto fail;
        *ret = iso;
        return 0;
fail:
        rk_isolator_clear(&iso);
        return r;
}

/* ---- lists ---- */

void rk_isolators_clear(struct rk_isolators *l)
{
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++)
                rk_isolator_clear(&l->v[i]);
        free(l->v);
        l->v = NULL;
        l->n = 0;
}

static bool conflicts(enum rk_isolator_kind a, enum rk_isolator_kind b)
{
        return (a == RK_ISOLATOR_CAPS_RETAIN && b == RK_ISOLATOR_CAPS_REMOVE) ||
               (a == RK_ISOLATOR_CAPS_REMOVE && b == RK_ISOLATOR_CAPS_RETAIN) ||
               (a == RK_ISOLATOR_SECCOMP_RETAIN && b == RK_ISOLATOR_SECCOMP_REMOVE) ||
               (a == RK_ISOLATOR_SECCOMP_REMOVE && b == RK_ISOLATOR_SECCOMP_RETAIN);
}

static int check_scope(const struct rk_isolators *l, enum rk_isolator_scope scope, const char *ctx,
                       rk_error *err)
{
        size_t first[_RK_ISOLATOR_MAX] = {0};
        bool seen[_RK_ISOLATOR_MAX] = {false};

        for (size_t i = 0; i < l->n; i++) {
                enum rk_isolator_kind k = l->v[i].kind;
                if (k == RK_ISOLATOR_UNKNOWN)
                        continue;
                if (scope == RK_ISOLATOR_SCOPE_APP && !kinds[k].app)
                        return rk_err(err, -EBADMSG,
                                      "%s[%zu]: %s is a pod isolator, not allowed in an app", ctx,
                                      i, kinds[k].name);
                if (scope == RK_ISOLATOR_SCOPE_POD && !kinds[k].pod)
                        return rk_err(err, -EBADMSG,
                                      "%s[%zu]: %s is an app isolator, not allowed at pod level",
                                      ctx, i, kinds[k].name);
                if (seen[k])
                        return rk_err(err, -EBADMSG,
                                      "%s[%zu]: only one %s is allowed (another at %s[%zu])", ctx,
                                      i, kinds[k].name, ctx, first[k]);
                for (int o = 1; o < _RK_ISOLATOR_MAX; o++)
                        if (seen[o] && conflicts((enum rk_isolator_kind)o, k))
                                return rk_err(err, -EBADMSG,
                                              "%s[%zu]: %s cannot be combined with %s at %s[%zu]",
                                              ctx, i, kinds[k].name, kinds[o].name, ctx, first[o]);
                seen[k] = true;
                first[k] = i;
        }
        return 0;
}

int rk_isolators_parse(const json_t *arr, enum rk_isolator_scope scope, const char *ctx,
                       struct rk_isolators *ret, rk_error *err)
{
        struct rk_isolators l = {0};
        char path[RK_FIELD_MAX];
        int r;

        if (!ctx)
                ctx = "isolators";
        if (!arr || json_is_null(arr)) {
                *ret = l;
                return 0;
        }
        if (!json_is_array(arr))
                return rk_err(err, -EBADMSG, "%s must be an array, not %s", ctx,
                              rk_json_type_name(arr));
        size_t n = json_array_size(arr);
        if (n > 0) {
                l.v = calloc(n, sizeof(*l.v));
                if (!l.v)
                        return rk_err(err, -ENOMEM, "%s: out of memory", ctx);
        }
        for (size_t i = 0; i < n; i++) {
                r = rk_isolator_parse(json_array_get(arr, i), rk_index(path, ctx, i), &l.v[i], err);
                if (r < 0)
                        goto fail;
                l.n++;
        }
        r = check_scope(&l, scope, ctx, err);
        if (r < 0)
                goto fail;
        *ret = l;
        return 0;
fail:
        rk_isolators_clear(&l);
        return r;
}

json_t *rk_isolators_to_json(const struct rk_isolators *l)
{
        json_t *a = json_array();
        if (!a)
                return NULL;
        for (size_t i = 0; l && i < l->n; i++) {
                const struct rk_isolator *iso = &l->v[i];
                json_t *o = json_object();
                if (!o || json_array_append_new(a, o) < 0 || !iso->name || !iso->raw ||
                    rk_json_set(o, "name", json_string(iso->name)) < 0 ||
                    rk_json_set(o, "value", json_deep_copy(iso->raw)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        }
        return a;
}
