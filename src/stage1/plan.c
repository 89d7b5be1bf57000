/* SPDX-License-Identifier: Apache-2.0 */
/* Strict reader of plan.json. Stage0 is trusted, but a bug there must not become a hole here:
 * unknown keys, wrong types, relative or non-canonical paths, out-of-range ids, duplicate
 * names and nested volume targets are all errors, and every count is capped. */
#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/stat.h>

#include "base/fileio.h"
#include "base/hash.h"
#include "base/json.h"
#include "base/label.h"
#include "base/netcfg.h"
#include "pod/cni.h"
#include "stage1/plan.h"

/* A printable, bounded rendering of an untrusted string for error messages. */
static const char *q(const char *s, char buf[static 72])
{
        size_t i = 0;
        for (; s[i] && i < 64; i++)
                buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
        if (s[i])
                buf[i - 3] = buf[i - 2] = buf[i - 1] = '.';
        buf[i] = 0;
        return buf;
}

static int check_keys(const json_t *obj, const char *ctx, const char *const *allowed, rk_error *err)
{
        const char *key;
        json_t *v;
        char b[72];
        json_object_foreach ((json_t *)obj, key, v) {
                size_t i = 0;
                while (allowed[i] && strcmp(key, allowed[i]) != 0)
                        i++;
                if (!allowed[i])
                        return rk_err(err, -EBADMSG, "%s: unknown key \"%s\"", ctx, q(key, b));
        }
        return 0;
}

/* Absolute, shorter than PATH_MAX, no ".." component. canonical additionally refuses empty
 * and "." components and a trailing slash, so that two spellings never name one target. */
static int check_path(const char *ctx, const char *what, const char *p, bool canonical,
                      rk_error *err)
{
        char b[72];
        if (p[0] != '/')
                return rk_err(err, -EBADMSG, "%s: %s '%s' is not absolute", ctx, what, q(p, b));
        if (strlen(p) >= PATH_MAX)
                return rk_err(err, -ENAMETOOLONG, "%s: %s is longer than %d bytes", ctx, what,
                              PATH_MAX - 1);
        if (p[1] == 0)
                return 0;
        for (const char *c = p + 1;;) {
                size_t n = strcspn(c, "/");
                bool dot = n == 1 && c[0] == '.', dotdot = n == 2 && c[0] == '.' && c[1] == '.';
                if (dotdot)
                        return rk_err(err, -EBADMSG, "%s: %s '%s' has a '..' component", ctx, what,
                                      q(p, b));
                /* n == 0: "//" or a trailing slash. */
                if (canonical && (dot || n == 0))
                        return rk_err(err, -EBADMSG, "%s: %s '%s' is not a canonical path", ctx,
                                      what, q(p, b));
                if (c[n] == 0)
                        break;
                c += n + 1;
        }
        return 0;
}

static int get_path(const json_t *o, const char *key, bool required, bool canonical,
                    const char *ctx, const char **out, rk_error *err)
{
        int r = rk_json_get_string(o, key, required, ctx, out, err);
        if (r <= 0)
                return r;
        return check_path(ctx, key, *out, canonical, err);
}

static int get_id(const json_t *o, const char *key, bool required, const char *ctx, uint32_t *out,
                  rk_error *err)
{
        int64_t v = 0;
        int r = rk_json_get_int(o, key, required, ctx, &v, err);
        if (r <= 0)
                return r;
        /* (uid_t)-1 means "leave unchanged" to setresuid(2): never a real id. */
        if (v < 0 || v >= (int64_t)UINT32_MAX)
                return rk_err(err, -ERANGE, "%s: \"%s\" %lld is out of range", ctx, key,
                              (long long)v);
        *out = (uint32_t)v;
        return 1;
}

static bool is_ac_name(const char *s)
{
        size_t n = strlen(s);
        if (n == 0 || n > S1_MAX_NAME || s[0] == '-' || s[n - 1] == '-' || strstr(s, "--"))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
                        return false;
        return true;
}

static bool is_uuid(const char *s)
{
        if (strlen(s) != 36)
                return false;
        for (int i = 0; i < 36; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;
                if (dash ? s[i] != '-'
                         : !(isdigit((unsigned char)s[i]) || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        }
        return true;
}

/* RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens. */
static bool is_hostname(const char *s)
{
        size_t n = strlen(s);
        if (n == 0 || n > S1_MAX_HOSTNAME)
                return false;
        for (const char *l = s;;) {
                size_t len = strspn(l, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                       "0123456789-");
                if (len == 0 || l[0] == '-' || l[len - 1] == '-')
                        return false;
                if (l[len] == 0)
                        return true;
                if (l[len] != '.')
                        return false;
                l += len + 1;
        }
}

static bool is_image_id(const char *s)
{
        if (strncmp(s, "sha512-", 7) != 0 || strlen(s) != 7 + 128)
                return false;
        for (const char *p = s + 7; *p; p++)
                if (!(isdigit((unsigned char)*p) || (*p >= 'a' && *p <= 'f')))
                        return false;
        return true;
}

/* ---- argument vectors ---- */

static int parse_argv(const json_t *arr, const char *ctx, size_t max, bool need_abs0,
                      struct s1_argv *out, rk_error *err)
{
        size_t n = json_array_size(arr);
        if (need_abs0 && n == 0)
                return rk_err(err, -EBADMSG, "%s: must not be empty", ctx);
        if (n > max)
                return rk_err(err, -E2BIG, "%s: %zu entries, limit %zu", ctx, n, max);
        char **v = calloc(n + 1, sizeof(*v));
        if (!v)
                return rk_err(err, -ENOMEM, "%s: out of memory", ctx);
        out->v = v;
        out->n = n;
        for (size_t i = 0; i < n; i++) {
                const json_t *e = json_array_get(arr, i);
                if (!json_is_string(e))
                        return rk_err(err, -EBADMSG, "%s: entry %zu is not a string", ctx, i);
                if (json_string_length(e) > S1_MAX_ARG_BYTES)
                        return rk_err(err, -E2BIG, "%s: entry %zu is longer than %u bytes", ctx, i,
                                      S1_MAX_ARG_BYTES);
                /* execve(2) takes char *const[]; the kernel copies and never writes them. */
                v[i] = (char *)json_string_value(e);
        }
        if (need_abs0)
                return check_path(ctx, "argv[0]", v[0], false, err);
        return 0;
}

static int get_argv(const json_t *o, const char *key, bool required, const char *ctx, size_t max,
                    bool need_abs0, struct s1_argv *out, rk_error *err)
{
        json_t *arr = NULL;
        int r = rk_json_get_array(o, key, required, ctx, &arr, err);
        if (r <= 0)
                return r;
        char c[160];
        snprintf(c, sizeof(c), "%s: \"%s\"", ctx, key);
        return parse_argv(arr, c, max, need_abs0, out, err);
}

/* "NAME=value" with a non-empty name, each name once: the app's environment is exactly this. */
static int check_env(const struct s1_argv *env, const char *ctx, rk_error *err)
{
        char b[72];
        for (size_t i = 0; i < env->n; i++) {
                const char *eq = strchr(env->v[i], '=');
                if (!eq || eq == env->v[i])
                        return rk_err(err, -EBADMSG, "%s: env entry '%s' is not NAME=value", ctx,
                                      q(env->v[i], b));
                size_t len = (size_t)(eq - env->v[i]) + 1;
                for (size_t j = 0; j < i; j++)
                        if (strncmp(env->v[i], env->v[j], len) == 0)
                                return rk_err(err, -EBADMSG, "%s: env name in '%s' is repeated",
                                              ctx, q(env->v[i], b));
        }
        return 0;
}

static int get_handlers(const json_t *o, const char *key, const char *ctx, struct s1_argv **out,
                        size_t *n_out, rk_error *err)
{
        json_t *arr = NULL;
        int r = rk_json_get_array(o, key, false, ctx, &arr, err);
        if (r <= 0)
                return r;
        size_t n = json_array_size(arr);
        if (n > S1_MAX_HANDLERS)
                return rk_err(err, -E2BIG, "%s: \"%s\": %zu handlers, limit %d", ctx, key, n,
                              S1_MAX_HANDLERS);
        *out = calloc(n ? n : 1, sizeof(**out));
        if (!*out)
                return rk_err(err, -ENOMEM, "%s: out of memory", ctx);
        *n_out = n;
        for (size_t i = 0; i < n; i++) {
                const json_t *h = json_array_get(arr, i);
                char c[160];
                snprintf(c, sizeof(c), "%s: \"%s\"[%zu]", ctx, key, i);
                if (!json_is_array(h))
                        return rk_err(err, -EBADMSG, "%s: must be an array", c);
                r = parse_argv(h, c, S1_MAX_ARGS, true, &(*out)[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int get_groups(const json_t *o, const char *ctx, struct s1_app *app, rk_error *err)
{
        json_t *arr = NULL;
        int r = rk_json_get_array(o, "supplementaryGids", false, ctx, &arr, err);
        if (r <= 0)
                return r;
        size_t n = json_array_size(arr);
        if (n > S1_MAX_GROUPS)
                return rk_err(err, -E2BIG, "%s: %zu supplementary groups, limit %d", ctx, n,
                              S1_MAX_GROUPS);
        app->groups = calloc(n ? n : 1, sizeof(gid_t));
        if (!app->groups)
                return rk_err(err, -ENOMEM, "%s: out of memory", ctx);
        app->n_groups = n;
        for (size_t i = 0; i < n; i++) {
                json_t *e = json_array_get(arr, i);
                json_int_t v = json_integer_value(e);
                if (!json_is_integer(e) || v < 0 || v >= (json_int_t)UINT32_MAX)
                        return rk_err(err, -ERANGE, "%s: supplementaryGids[%zu] is not a valid gid",
                                      ctx, i);
                app->groups[i] = (gid_t)v;
        }
        return 0;
}

/* ---- mounts ---- */

static bool path_under(const char *p, const char *dir)
{
        size_t n = strlen(dir);
        return strncmp(p, dir, n) == 0 && (p[n] == 0 || p[n] == '/');
}

/* Targets that would cover the runtime's own kernel mounts. Resolution inside the root is
 * checked again at mount time (a symlink in the image may still lead there). */
static bool target_reserved(const char *t)
{
        return strcmp(t, "/") == 0 || path_under(t, "/proc") || path_under(t, "/sys") ||
               strcmp(t, "/dev") == 0 || path_under(t, "/dev/pts");
}

static int parse_mount(const json_t *m, const char *ctx, struct s1_mount *out, rk_error *err)
{
        static const char *const keys[] = {"source",    "target", "readOnly",
                                           "recursive", "kind",   NULL};
        char b[72];
        if (!json_is_object(m))
                return rk_err(err, -EBADMSG, "%s: must be an object", ctx);
        int r = check_keys(m, ctx, keys, err);
        if (r >= 0)
                r = get_path(m, "source", true, true, ctx, &out->source, err);
        if (r >= 0)
                r = get_path(m, "target", true, true, ctx, &out->target, err);
        if (r >= 0)
                r = rk_json_get_bool(m, "readOnly", false, ctx, &out->read_only, err);
        if (r >= 0)
                r = rk_json_get_bool(m, "recursive", false, ctx, &out->recursive, err);
        const char *kind = "host";
        if (r >= 0)
                r = rk_json_get_string(m, "kind", false, ctx, &kind, err);
        if (r < 0)
                return r;
        if (strcmp(kind, "host") == 0)
                out->kind = S1_MOUNT_HOST;
        else if (strcmp(kind, "empty") == 0)
                out->kind = S1_MOUNT_EMPTY;
        else
                return rk_err(err, -EBADMSG, "%s: kind '%s' is not host or empty", ctx, q(kind, b));
        if (target_reserved(out->target))
                return rk_err(err, -EPERM, "%s: target '%s' is reserved for the runtime", ctx,
                              q(out->target, b));
        return 0;
}

static int get_mounts(const json_t *o, const char *ctx, struct s1_app *app, rk_error *err)
{
        json_t *arr = NULL;
        int r = rk_json_get_array(o, "mounts", false, ctx, &arr, err);
        if (r <= 0)
                return r;
        size_t n = json_array_size(arr);
        if (n > S1_MAX_MOUNTS)
                return rk_err(err, -E2BIG, "%s: %zu mounts, limit %d", ctx, n, S1_MAX_MOUNTS);
        app->mounts = calloc(n ? n : 1, sizeof(*app->mounts));
        if (!app->mounts)
                return rk_err(err, -ENOMEM, "%s: out of memory", ctx);
        app->n_mounts = n;
        for (size_t i = 0; i < n; i++) {
                char c[160], b[72];
                snprintf(c, sizeof(c), "%s: mounts[%zu]", ctx, i);
                r = parse_mount(json_array_get(arr, i), c, &app->mounts[i], err);
                if (r < 0)
                        return r;
                /* Two mounts on one target would hide one another; a nested target must come
                 * after the one it lies in, or mounting that one would hide it. */
                for (size_t j = 0; j < i; j++) {
                        const char *a = app->mounts[i].target, *t = app->mounts[j].target;
                        if (strcmp(a, t) == 0)
                                return rk_err(err, -EBADMSG, "%s: target '%s' is also mounts[%zu]",
                                              c, q(a, b), j);
                        if (path_under(t, a))
                                return rk_err(err, -EBADMSG,
                                              "%s: target '%s' must come before mounts[%zu], "
                                              "which lies inside it",
                                              c, q(a, b), j);
                }
        }
        return 0;
}

/* ---- capabilities ---- */

/* "CAP_X" as libcap knows it (upper case only: one spelling per capability), each once. */
static int parse_cap_set(const json_t *o, const char *key, const char *ctx, uint64_t *out,
                         rk_error *err)
{
        json_t *arr = NULL;
        int r = rk_json_get_array(o, key, false, ctx, &arr, err);
        if (r <= 0)
                return r;
        if (json_array_size(arr) > 64)
                return rk_err(err, -E2BIG, "%s: \"%s\": more than 64 capabilities", ctx, key);
        size_t i;
        json_t *e;
        char b[72];
        json_array_foreach (arr, i, e) {
                const char *n = json_string_value(e);
                cap_value_t c = 0;
                if (!n)
                        return rk_err(err, -EBADMSG, "%s: \"%s\"[%zu] is not a string", ctx, key,
                                      i);
                if (strncmp(n, "CAP_", 4) != 0 || n[4] == 0 ||
                    strspn(n + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(n + 4) ||
                    cap_from_name(n, &c) < 0 || c < 0 || c > 63)
                        return rk_err(err, -EBADMSG, "%s: \"%s\": '%s' is not a capability", ctx,
                                      key, q(n, b));
                if (*out & (UINT64_C(1) << c))
                        return rk_err(err, -EBADMSG, "%s: \"%s\": '%s' is listed twice", ctx, key,
                                      q(n, b));
                *out |= UINT64_C(1) << c;
        }
        return 0;
}

static int get_caps(const json_t *a, const char *ctx, struct s1_app *app, rk_error *err)
{
        static const char *const keys[] = {"bounding",    "effective", "permitted",
                                           "inheritable", "ambient",   NULL};
        json_t *o = json_object_get(a, "capabilities");
        if (!o)
                return 0;
        char c[160];
        snprintf(c, sizeof(c), "%s: capabilities", ctx);
        if (!json_is_object(o))
                return rk_err(err, -EBADMSG, "%s: must be an object", c);
        int r = check_keys(o, c, keys, err);
        if (r >= 0)
                r = parse_cap_set(o, "bounding", c, &app->cap_bounding, err);
        if (r >= 0)
                r = parse_cap_set(o, "effective", c, &app->cap_effective, err);
        if (r >= 0)
                r = parse_cap_set(o, "permitted", c, &app->cap_permitted, err);
        if (r >= 0)
                r = parse_cap_set(o, "inheritable", c, &app->cap_inheritable, err);
        if (r >= 0)
                r = parse_cap_set(o, "ambient", c, &app->cap_ambient, err);
        if (r < 0)
                return r;
        /* What the kernel would refuse or silently drop, refused here with a clear message. */
        if (app->cap_effective & ~app->cap_permitted)
                return rk_err(err, -EBADMSG, "%s: effective is not a subset of permitted", c);
        if ((app->cap_permitted | app->cap_inheritable) & ~app->cap_bounding)
                return rk_err(err, -EBADMSG,
                              "%s: permitted and inheritable must be subsets of bounding", c);
        if (app->cap_ambient & ~(app->cap_permitted & app->cap_inheritable))
                return rk_err(err, -EBADMSG,
                              "%s: ambient must be a subset of permitted and inheritable", c);
        return 0;
}

/* ---- seccomp ---- */

/* "seccomp": {"bpf": "seccomp/<file>.bpf", "sha512": "<128 lower-case hex>"} */
static int get_seccomp(const json_t *a, const char *ctx, struct s1_app *app, rk_error *err)
{
        static const char *const keys[] = {"bpf", "sha512", NULL};
        json_t *o = json_object_get(a, "seccomp");
        if (!o)
                return 0;
        char c[160], b[72];
        snprintf(c, sizeof(c), "%s: seccomp", ctx);
        if (!json_is_object(o))
                return rk_err(err, -EBADMSG, "%s: must be an object", c);
        int r = check_keys(o, c, keys, err);
        if (r >= 0)
                r = rk_json_get_string(o, "bpf", true, c, &app->seccomp_bpf, err);
        if (r >= 0)
                r = rk_json_get_string(o, "sha512", true, c, &app->seccomp_sha512, err);
        if (r < 0)
                return r;
        const char *f = app->seccomp_bpf + strlen("seccomp/");
        size_t n = strlen(app->seccomp_bpf);
        if (strncmp(app->seccomp_bpf, "seccomp/", 8) || n <= 12 || n > 8 + S1_MAX_NAME + 4 ||
            strcmp(app->seccomp_bpf + n - 4, ".bpf") || f[0] == '.' ||
            strspn(f, "abcdefghijklmnopqrstuvwxyz0123456789-._") != strlen(f))
                return rk_err(err, -EBADMSG, "%s: bpf '%s' is not seccomp/<name>.bpf", c,
                              q(app->seccomp_bpf, b));
        if (strlen(app->seccomp_sha512) != 128 ||
            strspn(app->seccomp_sha512, "0123456789abcdef") != 128)
                return rk_err(err, -EBADMSG, "%s: sha512 is not 128 lower-case hex digits", c);
        return 0;
}

/* Read the app's filter from the pod dir (a regular file of ours, not writable by others)
 * and check it against the plan's SHA-512: what stage1 loads is what stage0 compiled. */
static int load_seccomp(int pod_fd, struct s1_app *app, rk_error *err)
{
        if (!app->seccomp_bpf)
                return 0;
        _cleanup_close_ int dfd =
            openat(pod_fd, "seccomp", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_close_ int fd =
            dfd < 0 ? -1 : openat(dfd, app->seccomp_bpf + 8, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return rk_err_errno(err, negative_errno(), "app %s: cannot open %s", app->name,
                                    app->seccomp_bpf);
        if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022))
                return rk_err(err, -EPERM,
                              "app %s: %s must be a regular file owned by uid %u, mode 0600",
                              app->name, app->seccomp_bpf, (unsigned)geteuid());
        char *buf = NULL;
        size_t len = 0;
        int r = rk_read_fd_capped(fd, app->seccomp_bpf, S1_MAX_BPF_BYTES, &buf, &len, err);
        if (r < 0)
                return rk_err_prefix(err, r, "app %s", app->name);
        char hex[RK_SHA512_HEX_LEN + 1];
        r = rk_sha512_buf_hex(buf, len, hex, err);
        if (r >= 0 && strcmp(hex, app->seccomp_sha512))
                r = rk_err(err, -EBADMSG,
                           "app %s: %s does not have the SHA-512 the plan names (modified?)",
                           app->name, app->seccomp_bpf);
        if (r >= 0 && (len == 0 || len % 8))
                r = rk_err(err, -EBADMSG, "app %s: %s is not a BPF program (%zu bytes)", app->name,
                           app->seccomp_bpf, len);
        if (r < 0) {
                free(buf);
                return r;
        }
        app->seccomp_prog = buf;
        app->seccomp_len = len;
        return 0;
}

/* ---- Landlock and SELinux ---- */

/* "selinux": {"process": CONTEXT, "mount": CONTEXT}, both required and valid contexts (the
 * process label goes to setexeccon, the mount label into a "context=" mount option). */
static int get_selinux(const json_t *a, const char *ctx, struct s1_app *app, rk_error *err)
{
        static const char *const keys[] = {"process", "mount", NULL};
        json_t *o = json_object_get(a, "selinux");
        if (!o)
                return 0;
        char c[160], b[72];
        snprintf(c, sizeof(c), "%s: selinux", ctx);
        if (!json_is_object(o))
                return rk_err(err, -EBADMSG, "%s: must be an object", c);
        int r = check_keys(o, c, keys, err);
        if (r >= 0)
                r = rk_json_get_string(o, "process", true, c, &app->selinux_process, err);
        if (r >= 0)
                r = rk_json_get_string(o, "mount", true, c, &app->selinux_mount, err);
        if (r < 0)
                return r;
        if (!rk_label_valid(app->selinux_process))
                return rk_err(err, -EBADMSG,
                              "%s: process '%s' is not a user:role:type:level context", c,
                              q(app->selinux_process, b));
        if (!rk_label_valid(app->selinux_mount))
                return rk_err(err, -EBADMSG, "%s: mount '%s' is not a user:role:type:level context",
                              c, q(app->selinux_mount, b));
        return 0;
}

/* ---- cgroups ---- */

static int get_range(const json_t *o, const char *key, const char *ctx, int64_t min, int64_t max,
                     int64_t *out, rk_error *err)
{
        int r = rk_json_get_int(o, key, false, ctx, out, err);
        if (r > 0 && (*out < min || *out > max))
                return rk_err(err, -ERANGE, "%s: \"%s\" %lld is not from %lld to %lld", ctx, key,
                              (long long)*out, (long long)min, (long long)max);
        return r;
}

/* "cgroup": {"memoryMax", "cpuMilli", "cpuShares", "pidsMax"}, each optional; "oomScoreAdj". */
static int get_cgroup(const json_t *a, const char *ctx, struct s1_app *app, rk_error *err)
{
        static const char *const keys[] = {"memoryMax", "cpuMilli", "cpuShares", "pidsMax", NULL};
        int64_t oom = 0;
        int r = get_range(a, "oomScoreAdj", ctx, -1000, 1000, &oom, err);
        if (r < 0)
                return r;
        app->has_oom_score_adj = r > 0;
        app->oom_score_adj = (int)oom;
        json_t *o = json_object_get(a, "cgroup");
        if (!o)
                return 0;
        char c[160];
        snprintf(c, sizeof(c), "%s: cgroup", ctx);
        if (!json_is_object(o))
                return rk_err(err, -EBADMSG, "%s: must be an object", c);
        r = check_keys(o, c, keys, err);
        if (r >= 0)
                r = get_range(o, "memoryMax", c, 4096, INT64_MAX / 2, &app->cg_memory_max, err);
        if (r >= 0)
                r = get_range(o, "cpuMilli", c, 10, 1024000, &app->cg_cpu_milli, err);
        if (r >= 0)
                r = get_range(o, "cpuShares", c, 2, 262144, &app->cg_cpu_shares, err);
        if (r >= 0)
                r = get_range(o, "pidsMax", c, 1, 4194304, &app->cg_pids_max, err);
        return r < 0 ? r : 0;
}

/* ---- apps ---- */

static int parse_app_fields(const json_t *a, const char *ctx, struct s1_app *app, rk_error *err)
{
        static const char *const keys[] = {"name",
                                           "image",
                                           "tree",
                                           "readOnlyRootFS",
                                           "exec",
                                           "env",
                                           "uid",
                                           "gid",
                                           "supplementaryGids",
                                           "workingDirectory",
                                           "preStart",
                                           "postStop",
                                           "mounts",
                                           "capabilities",
                                           "noNewPrivileges",
                                           "seccomp",
                                           "landlock",
                                           "selinux",
                                           "cgroup",
                                           "oomScoreAdj",
                                           NULL};
        char b[72];
        uint32_t uid = 0, gid = 0;
        int r = check_keys(a, ctx, keys, err);
        if (r >= 0)
                r = rk_json_get_string(a, "name", true, ctx, &app->name, err);
        if (r >= 0 && !is_ac_name(app->name))
                r = rk_err(err, -EBADMSG, "%s: name '%s' is not an AC Name", ctx, q(app->name, b));
        if (r >= 0)
                r = rk_json_get_string(a, "image", false, ctx, &app->image, err);
        if (r > 0 && !is_image_id(app->image))
                r = rk_err(err, -EBADMSG, "%s: image '%s' is not a full sha512 image ID", ctx,
                           q(app->image, b));
        if (r >= 0)
                r = get_path(a, "tree", true, true, ctx, &app->tree, err);
        if (r >= 0)
                r = rk_json_get_bool(a, "readOnlyRootFS", false, ctx, &app->read_only_rootfs, err);
        if (r >= 0)
                r = get_argv(a, "exec", true, ctx, S1_MAX_ARGS, true, &app->exec, err);
        if (r >= 0)
                r = get_argv(a, "env", true, ctx, S1_MAX_ENV, false, &app->env, err);
        if (r >= 0)
                r = check_env(&app->env, ctx, err);
        if (r >= 0)
                r = get_id(a, "uid", true, ctx, &uid, err);
        if (r >= 0)
                r = get_id(a, "gid", true, ctx, &gid, err);
        app->uid = uid;
        app->gid = gid;
        if (r >= 0)
                r = get_groups(a, ctx, app, err);
        app->working_dir = "/";
        if (r >= 0)
                r = get_path(a, "workingDirectory", false, false, ctx, &app->working_dir, err);
        if (r >= 0)
                r = get_caps(a, ctx, app, err);
        app->no_new_privs = true;
        if (r >= 0)
                r = rk_json_get_bool(a, "noNewPrivileges", false, ctx, &app->no_new_privs, err);
        if (r >= 0)
                r = get_seccomp(a, ctx, app, err);
        app->landlock = true;
        if (r >= 0)
                r = rk_json_get_bool(a, "landlock", false, ctx, &app->landlock, err);
        if (r >= 0)
                r = get_selinux(a, ctx, app, err);
        if (r >= 0)
                r = get_cgroup(a, ctx, app, err);
        return r < 0 ? r : 0;
}

static int parse_app(const json_t *a, const char *ctx, struct s1_app *app, rk_error *err)
{
        if (!json_is_object(a))
                return rk_err(err, -EBADMSG, "%s: must be an object", ctx);
        int r = parse_app_fields(a, ctx, app, err);
        if (r >= 0)
                r = get_handlers(a, "preStart", ctx, &app->pre_start, &app->n_pre_start, err);
        if (r >= 0)
                r = get_handlers(a, "postStop", ctx, &app->post_stop, &app->n_post_stop, err);
        if (r >= 0)
                r = get_mounts(a, ctx, app, err);
        return r < 0 ? r : 0;
}

static int parse_apps(const json_t *root, struct s1_plan *p, rk_error *err)
{
        json_t *arr = NULL;
        int r = rk_json_get_array(root, "apps", true, "plan", &arr, err);
        if (r < 0)
                return r;
        size_t n = json_array_size(arr);
        if (n == 0 || n > S1_MAX_APPS)
                return rk_err(err, -EBADMSG, "plan: %zu apps, need 1 to %d", n, S1_MAX_APPS);
        p->apps = calloc(n, sizeof(*p->apps));
        if (!p->apps)
                return rk_err(err, -ENOMEM, "plan: out of memory");
        p->n_apps = n;
        for (size_t i = 0; i < n; i++) {
                char ctx[64], b[72];
                snprintf(ctx, sizeof(ctx), "plan: apps[%zu]", i);
                r = parse_app(json_array_get(arr, i), ctx, &p->apps[i], err);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < i; j++)
                        if (strcmp(p->apps[i].name, p->apps[j].name) == 0)
                                return rk_err(err, -EBADMSG, "%s: name '%s' is used twice", ctx,
                                              q(p->apps[i].name, b));
        }
        return 0;
}

/* "userns": {"uidBase", "gidBase", "size", "chown"}: host id 0 (root) is never mapped, and
 * the range must end below (uid_t)-1. */
static int parse_userns(const json_t *u, struct s1_plan *p, rk_error *err)
{
        static const char *const keys[] = {"uidBase", "gidBase", "size", "chown", NULL};
        if (!u)
                return 0;
        if (!json_is_object(u))
                return rk_err(err, -EBADMSG, "plan: userns is not an object");
        int r = check_keys(u, "plan: userns", keys, err);
        if (r >= 0)
                r = get_id(u, "uidBase", true, "plan: userns", &p->uid_base, err);
        if (r >= 0)
                r = get_id(u, "gidBase", true, "plan: userns", &p->gid_base, err);
        if (r >= 0)
                r = get_id(u, "size", true, "plan: userns", &p->userns_size, err);
        if (r >= 0)
                r = rk_json_get_bool(u, "chown", false, "plan: userns", &p->userns_chown, err);
        if (r < 0)
                return r;
        if (p->uid_base == 0 || p->gid_base == 0 || p->userns_size == 0 ||
            (uint64_t)p->uid_base + p->userns_size > UINT32_MAX ||
            (uint64_t)p->gid_base + p->userns_size > UINT32_MAX)
                return rk_err(err, -ERANGE,
                              "plan: userns range is empty, maps host root or "
                              "ends beyond 2^32-2");
        p->userns = true;
        return 0;
}

/* One dotted-quad IPv4 address, nothing else (inet_pton refuses shorthand and leading
 * junk). */
static int ipv4(const json_t *o, const char *key, uint32_t *ret, rk_error *err)
{
        const char *s = NULL;
        char b[72];
        int r = rk_json_get_string(o, key, true, "plan: network", &s, err);
        if (r < 0)
                return r;
        struct in_addr a;
        if (inet_pton(AF_INET, s, &a) != 1)
                return rk_err(err, -EBADMSG, "plan: network: %s '%s' is not an IPv4 address", key,
                              q(s, b));
        *ret = a.s_addr;
        return 0;
}

/* "network": {"ip", "gateway", "subnet": "A.B.C.D/N", "defaultRoute"}: required exactly for
 * default and default-restricted. The subnet is a network address with a prefix of 8 to 30;
 * ip and gateway are distinct hosts inside it (neither its network nor broadcast address). */
static int parse_network(const json_t *n, struct s1_plan *p, rk_error *err)
{
        static const char *const keys[] = {"ip", "gateway", "subnet", "defaultRoute", NULL};
        bool want = p->net == S1_NET_DEFAULT || p->net == S1_NET_RESTRICTED;
        if (!want)
                return n ? rk_err(err, -EBADMSG, "plan: network given for net none or host") : 0;
        if (!json_is_object(n))
                return rk_err(err, -EBADMSG, "plan: network missing or not an object");
        int r = check_keys(n, "plan: network", keys, err);
        if (r >= 0)
                r = ipv4(n, "ip", &p->net_ip, err);
        if (r >= 0)
                r = ipv4(n, "gateway", &p->net_gateway, err);
        const char *sub = NULL;
        if (r >= 0)
                r = rk_json_get_string(n, "subnet", true, "plan: network", &sub, err);
        if (r >= 0)
                r = rk_json_get_bool(n, "defaultRoute", true, "plan: network",
                                     &p->net_default_route, err);
        if (r < 0)
                return r;
        char addr[16], b[72];
        const char *slash = strchr(sub, '/');
        size_t alen = slash ? (size_t)(slash - sub) : 0;
        unsigned prefix = 0;
        struct in_addr a;
        bool ok = slash && alen > 0 && alen < sizeof(addr) && slash[1] >= '1' && slash[1] <= '9' &&
                  strspn(slash + 1, "0123456789") == strlen(slash + 1) && strlen(slash + 1) <= 2;
        if (ok) {
                memcpy(addr, sub, alen);
                addr[alen] = 0;
                prefix = (unsigned)atoi(slash + 1);
                ok = prefix >= 8 && prefix <= 30 && inet_pton(AF_INET, addr, &a) == 1;
        }
        uint32_t mask = ok ? htonl(~0u << (32 - prefix)) : 0;
        if (!ok || (a.s_addr & ~mask) != 0)
                return rk_err(err, -EBADMSG,
                              "plan: network: subnet '%s' is not A.B.C.D/N (a network address, N "
                              "8 to 30)",
                              q(sub, b));
        p->net_subnet = a.s_addr;
        p->net_prefix = prefix;
        const uint32_t hosts[] = {p->net_ip, p->net_gateway};
        for (size_t i = 0; i < 2; i++)
                if ((hosts[i] & mask) != a.s_addr || (hosts[i] & ~mask) == 0 ||
                    (hosts[i] & ~mask) == ~mask)
                        return rk_err(err, -EBADMSG,
                                      "plan: network: %s is not a host address of %s",
                                      i ? "gateway" : "ip", q(sub, b));
        if (p->net_ip == p->net_gateway)
                return rk_err(err, -EBADMSG, "plan: network: ip and gateway are the same");
        return 0;
}

/* Under a user namespace every id the apps use must be mapped. */
static int check_userns_ids(const struct s1_plan *p, rk_error *err)
{
        for (size_t i = 0; p->userns && i < p->n_apps; i++) {
                const struct s1_app *a = &p->apps[i];
                bool bad = a->uid >= p->userns_size || a->gid >= p->userns_size;
                for (size_t g = 0; g < a->n_groups; g++)
                        bad |= a->groups[g] >= p->userns_size;
                if (bad)
                        return rk_err(err, -ERANGE,
                                      "app '%s': an id is outside the pod's user "
                                      "namespace (0-%u)",
                                      a->name, p->userns_size - 1);
        }
        return 0;
}

/* ---- dns, hosts ---- */

/* An array of at most max strings, each accepted by ok; empty allowed. */
static int check_str_array(const json_t *a, const char *ctx, size_t max, bool (*ok)(const char *),
                           const char *what, rk_error *err)
{
        char b[72];
        if (!json_is_array(a))
                return rk_err(err, -EBADMSG, "%s: not an array", ctx);
        if (json_array_size(a) > max)
                return rk_err(err, -E2BIG, "%s: %zu entries, at most %zu", ctx, json_array_size(a),
                              max);
        size_t i;
        const json_t *v;
        json_array_foreach (a, i, v) {
                if (!json_is_string(v))
                        return rk_err(err, -EBADMSG, "%s[%zu]: not a string", ctx, i);
                const char *s = json_string_value(v);
                if (strlen(s) != json_string_length(v) || !ok(s))
                        return rk_err(err, -EBADMSG, "%s: '%s' is not %s", ctx, q(s, b), what);
                for (size_t k = 0; k < i; k++)
                        if (!strcmp(json_string_value(json_array_get(a, k)), s))
                                return rk_err(err, -EBADMSG, "%s: '%s' twice", ctx, q(s, b));
        }
        return 0;
}

static int parse_dns(const json_t *d, struct s1_plan *p, rk_error *err)
{
        static const char *const keys[] = {"nameservers", "search", "options", NULL};
        char b[72];
        p->dns = S1_ETC_DEFAULT;
        if (!d)
                return 0;
        if (json_is_string(d)) {
                const char *s = json_string_value(d);
                if (strcmp(s, "host") != 0 && strcmp(s, "none") != 0)
                        return rk_err(err, -EBADMSG,
                                      "plan: dns '%s' is not host, none or an object", q(s, b));
                p->dns = s[0] == 'h' ? S1_ETC_HOST : S1_ETC_NONE;
                return 0;
        }
        if (!json_is_object(d))
                return rk_err(err, -EBADMSG, "plan: dns is not a string or an object");
        int r = check_keys(d, "plan: dns", keys, err);
        if (r < 0)
                return r;
        p->dns_nameservers = json_object_get(d, "nameservers");
        p->dns_search = json_object_get(d, "search");
        p->dns_options = json_object_get(d, "options");
        if (!p->dns_nameservers || !p->dns_search || !p->dns_options)
                return rk_err(err, -EBADMSG, "plan: dns needs nameservers, search and options");
        r = check_str_array(p->dns_nameservers, "plan: dns.nameservers", RK_DNS_MAX_SERVERS,
                            rk_ip_valid, "an IP address", err);
        if (r >= 0)
                r = check_str_array(p->dns_search, "plan: dns.search", RK_DNS_MAX_SEARCH,
                                    rk_dns_name_valid, "an RFC 1123 domain", err);
        if (r >= 0)
                r = check_str_array(p->dns_options, "plan: dns.options", RK_DNS_MAX_OPTIONS,
                                    rk_dns_option_valid, "a resolver option", err);
        if (r < 0)
                return r;
        if (!json_array_size(p->dns_nameservers) && !json_array_size(p->dns_search) &&
            !json_array_size(p->dns_options))
                return rk_err(err, -EBADMSG, "plan: dns lists nothing");
        p->dns = S1_ETC_LIST;
        return 0;
}

static int parse_hosts(const json_t *h, struct s1_plan *p, rk_error *err)
{
        static const char *const keys[] = {"ip", "names", NULL};
        char b[72];
        p->hosts = S1_ETC_DEFAULT;
        if (!h)
                return 0;
        if (json_is_string(h)) {
                if (strcmp(json_string_value(h), "host") != 0)
                        return rk_err(err, -EBADMSG, "plan: hosts '%s' is not host or an array",
                                      q(json_string_value(h), b));
                p->hosts = S1_ETC_HOST;
                return 0;
        }
        if (!json_is_array(h))
                return rk_err(err, -EBADMSG, "plan: hosts is not a string or an array");
        size_t n = json_array_size(h);
        if (n == 0 || n > RK_HOSTS_MAX)
                return rk_err(err, -E2BIG, "plan: hosts has %zu entries, 1 to %d", n, RK_HOSTS_MAX);
        size_t i;
        const json_t *e;
        json_array_foreach (h, i, e) {
                const char *ip = NULL;
                const json_t *names = NULL;
                if (!json_is_object(e))
                        return rk_err(err, -EBADMSG, "plan: hosts[%zu] is not an object", i);
                int r = check_keys(e, "plan: hosts[]", keys, err);
                if (r >= 0)
                        r = rk_json_get_string(e, "ip", true, "plan: hosts[]", &ip, err);
                if (r >= 0 && (strlen(ip) != json_string_length(json_object_get(e, "ip")) ||
                               !rk_ip_valid(ip)))
                        r = rk_err(err, -EBADMSG, "plan: hosts: '%s' is not an IP address",
                                   q(ip, b));
                if (r >= 0 && !(names = json_object_get(e, "names")))
                        r = rk_err(err, -EBADMSG, "plan: hosts[%zu] has no names", i);
                if (r >= 0)
                        r = check_str_array(names, "plan: hosts[].names", RK_HOSTS_MAX_NAMES,
                                            rk_dns_name_valid, "an RFC 1123 host name", err);
                if (r >= 0 && json_array_size(names) == 0)
                        r = rk_err(err, -EBADMSG, "plan: hosts[%zu] has no names", i);
                for (size_t k = 0; r >= 0 && k < i; k++)
                        if (!strcmp(json_string_value(json_object_get(json_array_get(h, k), "ip")),
                                    ip))
                                r = rk_err(err, -EBADMSG, "plan: hosts: '%s' twice", q(ip, b));
                if (r < 0)
                        return r;
        }
        p->hosts = S1_ETC_LIST;
        p->hosts_entries = h;
        return 0;
}

/* "mds": {"port": 1..65535}, for a pod with its own network namespace only. */
static int parse_mds(const json_t *m, struct s1_plan *p, rk_error *err)
{
        static const char *const keys[] = {"port", NULL};
        int64_t port = 0;
        if (!m)
                return 0;
        if (!json_is_object(m))
                return rk_err(err, -EBADMSG, "plan: mds is not an object");
        int r = check_keys(m, "plan: mds", keys, err);
        if (r >= 0)
                r = rk_json_get_int(m, "port", true, "plan: mds", &port, err);
        if (r < 0)
                return r;
        if (port < 1 || port > 65535)
                return rk_err(err, -ERANGE, "plan: mds.port %lld is not 1-65535", (long long)port);
        if (p->net == S1_NET_HOST)
                return rk_err(err, -EBADMSG, "plan: mds is for a pod with its own network");
        p->mds_port = (unsigned)port;
        return 0;
}

/* "cni": exactly for net cni; 1..RK_CNI_MAX_NETS attachments, names distinct, interface i
 * named eth<i>, args K=V;K=V, config a conflist (checked as stage0 checked it) of that name. */
static int parse_cni(const json_t *c, struct s1_plan *p, rk_error *err)
{
        static const char *const keys[] = {"name", "ifname", "args", "config", NULL};
        if (p->net != S1_NET_CNI)
                return c ? rk_err(err, -EBADMSG, "plan: cni given for another net") : 0;
        size_t n = json_array_size(c);
        if (!json_is_array(c) || n == 0 || n > RK_CNI_MAX_NETS)
                return rk_err(err, -EBADMSG, "plan: cni must be an array of 1 to %d networks",
                              RK_CNI_MAX_NETS);
        for (size_t i = 0; i < n; i++) {
                const json_t *a = json_array_get(c, i);
                const char *name = NULL, *ifname = NULL, *args = NULL;
                json_t *conf = NULL;
                char want[16];
                int r = check_keys(a, "plan: cni[]", keys, err);
                if (r >= 0)
                        r = rk_json_get_string(a, "name", true, "plan: cni[]", &name, err);
                if (r >= 0)
                        r = rk_json_get_string(a, "ifname", true, "plan: cni[]", &ifname, err);
                if (r >= 0)
                        r = rk_json_get_string(a, "args", true, "plan: cni[]", &args, err);
                if (r >= 0)
                        r = rk_json_get_object(a, "config", true, "plan: cni[]", &conf, err);
                if (r < 0)
                        return r;
                snprintf(want, sizeof(want), "eth%zu", i);
                if (!rk_cni_name_valid(name) || strcmp(ifname, want) != 0 ||
                    !rk_cni_args_valid(args))
                        return rk_err(err, -EBADMSG, "plan: cni[%zu]: bad name, ifname or args", i);
                for (size_t j = 0; j < i; j++)
                        if (!strcmp(name, json_string_value(
                                              json_object_get(json_array_get(c, j), "name"))))
                                return rk_err(err, -EBADMSG, "plan: cni: network '%s' twice", name);
                char *s = json_dumps(conf, JSON_COMPACT);
                json_t *chk = NULL;
                r = s ? rk_cni_conflist_parse("plan: cni config", s, strlen(s), &chk, err)
                      : rk_err(err, -ENOMEM, "out of memory");
                free(s);
                if (r >= 0 && strcmp(json_string_value(json_object_get(chk, "name")), name))
                        r = rk_err(err, -EBADMSG, "plan: cni[%zu]: config names another network",
                                   i);
                json_decref(chk);
                if (r < 0)
                        return r;
        }
        p->cni = c;
        p->n_cni = n;
        return 0;
}

static int parse_top(const json_t *root, struct s1_plan *p, rk_error *err)
{
        static const char *const keys[] = {
            "version", "uuid",   "hostname",        "net", "interactive", "detached", "noOverlay",
            "apps",    "userns", "cgroupsOptional", "dns", "hosts",       "mds",      "network",
            "cni",     NULL};
        char b[72];
        int64_t version = 0;
        const char *net = NULL;
        if (!json_is_object(root))
                return rk_err(err, -EBADMSG, "plan: not a JSON object");
        int r = check_keys(root, "plan", keys, err);
        if (r >= 0)
                r = rk_json_get_int(root, "version", true, "plan", &version, err);
        if (r >= 0 && version != S1_PLAN_VERSION)
                r = rk_err(err, -EPROTONOSUPPORT, "plan: version %lld, this stage1 reads %d",
                           (long long)version, S1_PLAN_VERSION);
        if (r >= 0)
                r = rk_json_get_string(root, "uuid", true, "plan", &p->uuid, err);
        if (r >= 0 && !is_uuid(p->uuid))
                r = rk_err(err, -EBADMSG, "plan: uuid '%s' is not a lowercase RFC 4122 UUID",
                           q(p->uuid, b));
        if (r >= 0)
                r = rk_json_get_string(root, "hostname", true, "plan", &p->hostname, err);
        if (r >= 0 && !is_hostname(p->hostname))
                r = rk_err(err, -EBADMSG, "plan: hostname '%s' is not a valid host name",
                           q(p->hostname, b));
        if (r >= 0)
                r = rk_json_get_string(root, "net", true, "plan", &net, err);
        if (r >= 0 && strcmp(net, "none") != 0 && strcmp(net, "host") != 0 &&
            strcmp(net, "default") != 0 && strcmp(net, "default-restricted") != 0 &&
            strcmp(net, "cni") != 0)
                r = rk_err(err, -EBADMSG,
                           "plan: net '%s' is not none, host, default, default-restricted or cni",
                           q(net, b));
        if (r >= 0)
                p->net = !strcmp(net, "host")      ? S1_NET_HOST
                         : !strcmp(net, "cni")     ? S1_NET_CNI
                         : !strcmp(net, "default") ? S1_NET_DEFAULT
                         : !strcmp(net, "none")    ? S1_NET_NONE
                                                   : S1_NET_RESTRICTED;
        if (r >= 0)
                r = parse_network(json_object_get(root, "network"), p, err);
        if (r >= 0)
                r = parse_cni(json_object_get(root, "cni"), p, err);
        if (r >= 0)
                r = rk_json_get_bool(root, "interactive", false, "plan", &p->interactive, err);
        if (r >= 0)
                r = rk_json_get_bool(root, "detached", false, "plan", &p->detached, err);
        if (r >= 0)
                r = rk_json_get_bool(root, "noOverlay", false, "plan", &p->no_overlay, err);
        if (r >= 0)
                r = parse_userns(json_object_get(root, "userns"), p, err);
        if (r >= 0)
                r = rk_json_get_bool(root, "cgroupsOptional", false, "plan", &p->cgroups_optional,
                                     err);
        if (r >= 0)
                r = parse_dns(json_object_get(root, "dns"), p, err);
        if (r >= 0)
                r = parse_hosts(json_object_get(root, "hosts"), p, err);
        if (r >= 0)
                r = parse_mds(json_object_get(root, "mds"), p, err);
        return r < 0 ? r : 0;
}

int s1_plan_parse(const char *buf, size_t len, struct s1_plan **ret, rk_error *err)
{
        _cleanup_(s1_plan_freep) struct s1_plan *p = calloc(1, sizeof(*p));
        if (!p)
                return rk_err(err, -ENOMEM, "plan: out of memory");
        int r = rk_json_parse("plan.json", buf, len, S1_PLAN_MAX_BYTES, &p->root, err);
        if (r < 0)
                return r;
        r = parse_top(p->root, p, err);
        if (r < 0)
                return r;
        r = parse_apps(p->root, p, err);
        if (r >= 0)
                r = check_userns_ids(p, err);
        if (r < 0)
                return r;
        if (p->interactive && p->n_apps != 1)
                return rk_err(err, -EBADMSG, "plan: interactive needs exactly one app, not %zu",
                              p->n_apps);
        if (p->interactive && p->detached)
                return rk_err(err, -EBADMSG, "plan: interactive and detached exclude each other");
        *ret = TAKE_PTR(p);
        return 0;
}

int s1_plan_load(int pod_fd, struct s1_plan **ret, rk_error *err)
{
        _cleanup_close_ int fd = openat(pod_fd, "plan.json", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "cannot open the pod's plan.json");
        struct stat st;
        if (fstat(fd, &st) < 0)
                return rk_err_errno(err, negative_errno(), "cannot stat plan.json");
        /* The plan decides what runs as whom: only its writer (root) may have changed it. */
        if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022))
                return rk_err(err, -EPERM,
                              "plan.json must be a regular file owned by uid %u and not writable "
                              "by group or others (mode 0600)",
                              (unsigned)geteuid());
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = rk_read_fd_capped(fd, "plan.json", S1_PLAN_MAX_BYTES, &buf, &len, err);
        if (r < 0)
                return r;
        _cleanup_(s1_plan_freep) struct s1_plan *p = NULL;
        r = s1_plan_parse(buf, len, &p, err);
        for (size_t i = 0; r >= 0 && i < p->n_apps; i++)
                r = load_seccomp(pod_fd, &p->apps[i], err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

static void argv_free(struct s1_argv *a)
{
        free(a->v);
}

struct s1_plan *s1_plan_free(struct s1_plan *p)
{
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_apps; i++) {
                struct s1_app *a = &p->apps[i];
                argv_free(&a->exec);
                argv_free(&a->env);
                free(a->groups);
                for (size_t j = 0; a->pre_start && j < a->n_pre_start; j++)
                        argv_free(&a->pre_start[j]);
                for (size_t j = 0; a->post_stop && j < a->n_post_stop; j++)
                        argv_free(&a->post_stop[j]);
                free(a->pre_start);
                free(a->post_stop);
                free(a->mounts);
                free(a->seccomp_prog);
        }
        free(p->apps);
        json_decref(p->root);
        free(p);
        return NULL;
}
