/* SPDX-License-Identifier: Apache-2.0 */
/* From images and rkt run/prepare options to the reified pod manifest (appc 6) and the stage1
 * plan (src/stage1/PLAN.md): environment (appc 7.6), users and groups resolved inside the
 * image, the exec PATH search, volumes and mounts. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <selinux/selinux.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "audit/summary.h"
#include "base/fileio.h"
#include "base/hash.h"
#include "base/json.h"
#include "base/label.h"
#include "base/path.h"
#include "pod/caps.h"
#include "pod/cni.h"
#include "pod/lsm.h"
#include "pod/cgroup.h"
#include "pod/pod.h"
#include "pod/seccomp.h"
#include "pod/userns.h"

#define ETC_FILE_MAX (4 << 20)     /* /etc/passwd, /etc/group of an image */
#define ID_MAX       4294967294ULL /* (uid_t)-1 means "unchanged" to setresuid */
#define AC_VERSION   "0.8.11"
#define PLAN_VERSION 1
/* stage1's limits (src/stage1/plan.h): refused here first, with a message naming the app */
#define HOSTNAME_MAX 63
#define MAX_APPS     64
#define MAX_MOUNTS   128
#define MAX_ENV      1024
#define MAX_GROUPS   256
#define MAX_APP_NAME 128

/* ---- option values ---- */

static void volume_clear(struct rk_volume *v)
{
        free(v->name);
        free(v->kind);
        free(v->source);
        free(v->mode);
        memset(v, 0, sizeof(*v));
}

static void mount_opts_free(struct rk_mount_opt *v, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(v[i].volume);
                free(v[i].target);
        }
        free(v);
}

void rk_pod_opts_clear(struct rk_pod_opts *o)
{
        for (size_t i = 0; i < o->n_apps; i++) {
                struct rk_app_opts *a = &o->apps[i];
                free(a->image);
                free(a->name);
                free(a->exec);
                for (size_t k = 0; k < a->n_args; k++)
                        free(a->args[k]);
                free(a->args);
                free(a->user);
                free(a->group);
                free(a->supplementary_gids);
                free(a->working_dir);
                rk_name_values_clear(&a->environment);
                free(a->signature);
                free(a->caps_retain);
                free(a->caps_remove);
                free(a->seccomp);
                free(a->seccomp_profile);
                free(a->memory);
                free(a->cpu);
                mount_opts_free(a->mounts, a->n_mounts);
        }
        free(o->apps);
        for (size_t i = 0; i < o->n_volumes; i++)
                volume_clear(&o->volumes[i]);
        free(o->volumes);
        mount_opts_free(o->mounts, o->n_mounts);
        rk_name_values_clear(&o->set_env);
        free(o->hostname);
        free(o->net);
        free(o->ports);
        rk_pod_manifest_free(o->manifest);
        rk_dns_opts_clear(&o->dns);
        memset(o, 0, sizeof(*o));
}

/* "k=v" of a comma list into obj, typed as the pod manifest's volume schema wants. */
static int volume_field(json_t *obj, const char *arg, const char *kv, rk_error *err)
{
        const char *eq = strchr(kv, '=');
        if (!eq)
                return rk_err(err, -EINVAL, "--volume %s: '%s' is not KEY=VALUE", RK_QUOTE(arg),
                              kv);
        size_t klen = (size_t)(eq - kv);
        const char *val = eq + 1;
        char key[32];
        if (klen == 0 || klen >= sizeof(key))
                return rk_err(err, -EINVAL, "--volume %s: bad key in '%s'", RK_QUOTE(arg), kv);
        memcpy(key, kv, klen);
        key[klen] = 0;
        json_t *v = NULL;
        if (json_object_get(obj, key))
                return rk_err(err, -EINVAL, "--volume %s: '%s' given twice", RK_QUOTE(arg), key);
        if (!strcmp(key, "readOnly") || !strcmp(key, "recursive")) {
                if (strcmp(val, "true") && strcmp(val, "false"))
                        return rk_err(err, -EINVAL, "--volume %s: %s must be true or false",
                                      RK_QUOTE(arg), key);
                v = json_boolean(!strcmp(val, "true"));
        } else if (!strcmp(key, "uid") || !strcmp(key, "gid")) {
                char *end = NULL;
                errno = 0;
                unsigned long long n = strtoull(val, &end, 10);
                if (!*val || *end || errno || n > ID_MAX || val[0] == '-')
                        return rk_err(err, -EINVAL, "--volume %s: %s must be a number 0..%llu",
                                      RK_QUOTE(arg), key, ID_MAX);
                v = json_integer((json_int_t)n);
        } else if (!strcmp(key, "name") || !strcmp(key, "kind") || !strcmp(key, "source") ||
                   !strcmp(key, "mode"))
                v = json_string(val);
        else
                return rk_err(err, -EINVAL,
                              "--volume %s: unknown key '%s' (name, kind, source, readOnly, "
                              "recursive, mode, uid, gid)",
                              RK_QUOTE(arg), key);
        if (!v || json_object_set_new(obj, key, v) < 0)
                return rk_err(err, -EINVAL, "--volume %s: bad value for %s", RK_QUOTE(arg), key);
        return 0;
}

/* The volume is checked exactly as a pod manifest's: wrapped in one and parsed. */
static int volume_from_json(const char *arg, json_t *vol, struct rk_volume *ret, rk_error *err)
{
        _cleanup_json_ json_t *doc = json_pack("{s:s, s:s, s:[], s:[O]}", "acVersion", AC_VERSION,
                                               "acKind", "PodManifest", "apps", "volumes", vol);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        struct rk_pod_manifest *m = NULL;
        rk_error e = RK_ERROR_INIT;
        if (!doc || rk_json_dump(doc, &buf, &len, err) < 0)
                return rk_err(err, -ENOMEM, "out of memory");
        int r = rk_pod_manifest_parse("--volume", buf, len, &m, &e);
        if (r < 0) {
                /* "pod manifest '--volume': volumes[0].x: why" -> "--volume 'arg': x: why" */
                const char *why = strstr(e.msg, "volumes[0]");
                why = why ? why + strlen("volumes[0]") : e.msg;
                while (*why == '.' || *why == ':' || *why == ' ')
                        why++;
                return rk_err(err, -EINVAL, "--volume %s: %s", RK_QUOTE(arg), why);
        }
        *ret = m->volumes[0];
        memset(&m->volumes[0], 0, sizeof(m->volumes[0]));
        rk_pod_manifest_free(m);
        return 0;
}

int rk_parse_volume_opt(const char *arg, struct rk_volume *ret, rk_error *err)
{
        _cleanup_json_ json_t *obj = json_object();
        _cleanup_free_ char *copy = strdup(arg);
        if (!obj || !copy)
                return rk_err(err, -ENOMEM, "out of memory");
        char *save = NULL;
        bool first = true;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                int r;
                /* rkt's form: NAME,kind=...; "name=NAME" is accepted too */
                if (first && !strchr(t, '='))
                        r = json_object_set_new(obj, "name", json_string(t)) < 0 ? -ENOMEM : 0;
                else
                        r = volume_field(obj, arg, t, err);
                if (r == -ENOMEM)
                        return rk_err(err, r, "out of memory");
                if (r < 0)
                        return r;
                first = false;
        }
        if (!json_object_get(obj, "name") || !json_object_get(obj, "kind"))
                return rk_err(err, -EINVAL,
                              "--volume %s: expected NAME,kind=host,source=PATH or "
                              "NAME,kind=empty",
                              RK_QUOTE(arg));
        return volume_from_json(arg, obj, ret, err);
}

int rk_parse_mount_opt(const char *arg, struct rk_mount_opt *ret, rk_error *err)
{
        _cleanup_free_ char *copy = strdup(arg);
        char *volume = NULL, *target = NULL, *save = NULL;
        if (!copy)
                return rk_err(err, -ENOMEM, "out of memory");
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                if (!strncmp(t, "volume=", 7) && !volume)
                        volume = t + 7;
                else if (!strncmp(t, "target=", 7) && !target)
                        target = t + 7;
                else
                        return rk_err(err, -EINVAL,
                                      "--mount %s: unexpected '%s' (expected "
                                      "volume=NAME,target=PATH)",
                                      RK_QUOTE(arg), t);
        }
        if (!volume || !target)
                return rk_err(err, -EINVAL, "--mount %s: expected volume=NAME,target=PATH",
                              RK_QUOTE(arg));
        rk_error e = RK_ERROR_INIT;
        if (rk_ac_name_validate(volume, "volume", &e) < 0 ||
            rk_abs_path_validate(target, "target", &e) < 0)
                return rk_err(err, -EINVAL, "--mount %s: %s", RK_QUOTE(arg), e.msg);
        ret->volume = strdup(volume);
        ret->target = strdup(target);
        if (!ret->volume || !ret->target) {
                free(ret->volume);
                free(ret->target);
                return rk_err(err, -ENOMEM, "out of memory");
        }
        return 0;
}

int rk_env_set(struct rk_name_values *l, const char *name, const char *value, rk_error *err)
{
        char *v = strdup(value);
        if (!v)
                return rk_err(err, -ENOMEM, "out of memory");
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->v[i].name, name) == 0) {
                        free(l->v[i].value);
                        l->v[i].value = v;
                        return 0;
                }
        struct rk_name_value *nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
        char *n = strdup(name);
        if (!nv || !n) {
                free(n);
                free(v);
                if (nv)
                        l->v = nv;
                return rk_err(err, -ENOMEM, "out of memory");
        }
        l->v = nv;
        l->v[l->n++] = (struct rk_name_value){n, v};
        return 0;
}

int rk_env_set_opt(struct rk_name_values *l, const char *arg, const char *flag, rk_error *err)
{
        const char *eq = strchr(arg, '=');
        if (!eq || eq == arg)
                return rk_err(err, -EINVAL, "%s %s: expected NAME=VALUE", flag, RK_QUOTE(arg));
        _cleanup_free_ char *name = strndup(arg, (size_t)(eq - arg));
        if (!name)
                return rk_err(err, -ENOMEM, "out of memory");
        rk_error e = RK_ERROR_INIT;
        if (rk_env_name_validate(name, NULL, &e) < 0)
                return rk_err(err, -EINVAL, "%s %s: %s", flag, RK_QUOTE(arg), e.msg);
        return rk_env_set(l, name, eq + 1, err);
}

int rk_env_file_parse(const char *what, const char *buf, size_t len, struct rk_name_values *l,
                      rk_error *err)
{
        size_t lineno = 0;
        const char *end = buf + len;
        if (memchr(buf, 0, len))
                return rk_err(err, -EINVAL, "%s: contains a NUL byte", what);
        for (const char *p = buf; p < end; lineno++) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
                _cleanup_free_ char *line = strndup(p, n);
                p += n + (nl ? 1 : 0);
                if (!line)
                        return rk_err(err, -ENOMEM, "out of memory");
                if (n && line[n - 1] == '\r')
                        line[n - 1] = 0;
                if (!line[0] || line[0] == '#' || line[0] == ';')
                        continue;
                char flag[PATH_MAX + 32];
                snprintf(flag, sizeof(flag), "%s line %zu:", what, lineno + 1);
                int r = rk_env_set_opt(l, line, flag, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_id(const char *s, uint32_t *ret)
{
        char *end = NULL;
        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || *end || v > ID_MAX)
                return -ERANGE;
        *ret = (uint32_t)v;
        return 0;
}

int rk_parse_gids(const char *arg, uint32_t **ret, size_t *ret_n, rk_error *err)
{
        _cleanup_free_ char *copy = strdup(arg);
        _cleanup_free_ uint32_t *v = calloc(strlen(arg) / 2 + 1, sizeof(*v));
        size_t n = 0;
        char *save = NULL;
        if (!copy || !v)
                return rk_err(err, -ENOMEM, "out of memory");
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
                if (parse_id(t, &v[n++]) < 0)
                        return rk_err(err, -EINVAL,
                                      "--supplementary-gids %s: '%s' is not a group ID "
                                      "0..%llu",
                                      RK_QUOTE(arg), t, ID_MAX);
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

/* ---- users, groups and programs inside the image ---- */

/* Field idfield (2 for passwd uid and group gid) of the line whose first field is name. */
static int etc_lookup(int rootfd, const char *file, const char *name, uint32_t *ret, rk_error *err)
{
        /* O_NONBLOCK and a regular file only: a FIFO or device planted by the image would
         * otherwise hang or feed us forever */
        _cleanup_close_ int fd = rk_open_in_root(rootfd, file, O_RDONLY | O_NONBLOCK, 0, 0, NULL);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return -ENOENT;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = rk_read_fd_capped(fd, file, ETC_FILE_MAX, &buf, &len, err);
        if (r < 0)
                return r;
        size_t nlen = strlen(name);
        char *save = NULL;
        for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (strncmp(line, name, nlen) != 0 || line[nlen] != ':')
                        continue;
                /* name:password:ID:... */
                char *f = strchr(line + nlen + 1, ':');
                if (!f)
                        continue;
                char *e = strchr(++f, ':');
                if (e)
                        *e = 0;
                if (parse_id(f, ret) < 0)
                        return rk_err(err, -EBADMSG, "image %s: %s has a bad ID for %s", file, name,
                                      RK_QUOTE(f));
                return 0;
        }
        return -ENOENT;
}

/* appc 3.1: by name in the image's file, else numeric, else the owner of a path. */
static int resolve_id(int rootfd, const char *s, bool user, uint32_t *ret, rk_error *err)
{
        const char *file = user ? "/etc/passwd" : "/etc/group";
        const char *kind = user ? "user" : "group";
        if (s[0] == '/') {
                int fd = rk_open_in_root(rootfd, s, O_PATH, 0, 0, NULL);
                struct stat st;
                if (fd < 0)
                        return rk_err(err, -ENOENT, "%s %s: no such path in the image", kind,
                                      RK_QUOTE(s));
                int r = fstat(fd, &st);
                (void)close(fd);
                if (r < 0)
                        return rk_err_errno(err, negative_errno(), "%s %s", kind, RK_QUOTE(s));
                *ret = user ? st.st_uid : st.st_gid;
                return 0;
        }
        int r = etc_lookup(rootfd, file, s, ret, err);
        if (r != -ENOENT)
                return r;
        if (parse_id(s, ret) == 0)
                return 0;
        return rk_err(err, -ENOENT, "%s %s: not found in the image's %s", kind, RK_QUOTE(s), file);
}

int rk_resolve_user(int rootfd, const char *user, uint32_t *ret, rk_error *err)
{
        return resolve_id(rootfd, user, true, ret, err);
}

int rk_resolve_group(int rootfd, const char *group, uint32_t *ret, rk_error *err)
{
        return resolve_id(rootfd, group, false, ret, err);
}

/* 0 executable file, -EACCES exists but not executable, -ENOENT otherwise. */
static int probe_exec(int rootfd, const char *path)
{
        int fd = rk_open_in_root(rootfd, path, O_PATH, 0, 0, NULL);
        if (fd < 0)
                return -ENOENT;
        struct stat st;
        int r = fstat(fd, &st);
        (void)close(fd);
        if (r < 0)
                return -ENOENT;
        return S_ISREG(st.st_mode) && (st.st_mode & 0111) ? 0 : -EACCES;
}

/* Lexically cleans an absolute path into out: no empty or "." components, no trailing slash
 * ("/" stays "/"), as stage1 wants mount targets and sources. -EINVAL for ".." (its meaning
 * depends on symlinks not resolved here) or a relative path, -ENAMETOOLONG. */
static int clean_path(const char *in, char *out, size_t size)
{
        size_t n = 0;
        if (in[0] != '/' || size < 2)
                return -EINVAL;
        for (const char *c = in; *c;) {
                while (*c == '/')
                        c++;
                size_t len = strcspn(c, "/");
                if (len == 0 || (len == 1 && c[0] == '.')) {
                        c += len;
                        continue;
                }
                if (len == 2 && c[0] == '.' && c[1] == '.')
                        return -EINVAL;
                if (n + 1 + len + 1 > size)
                        return -ENAMETOOLONG;
                out[n++] = '/';
                memcpy(out + n, c, len);
                n += len;
                c += len;
        }
        if (n == 0)
                out[n++] = '/';
        out[n] = 0;
        return 0;
}

static char *join(const char *dir, const char *name)
{
        char *s = NULL;
        size_t n = strlen(dir);
        while (n > 1 && dir[n - 1] == '/')
                n--;
        if (asprintf(&s, "%.*s/%s", (int)n, n == 1 && dir[0] == '/' ? "" : dir, name) < 0)
                return NULL;
        return s;
}

int rk_find_exec(int rootfd, const char *path, const char *cwd, const char *prog, char **ret,
                 rk_error *err)
{
        if (!prog || !*prog)
                return rk_err(err, -ENOENT, "empty program name");
        if (prog[0] == '/' || strchr(prog, '/')) {
                _cleanup_free_ char *p =
                    prog[0] == '/' ? strdup(prog) : join(cwd ? cwd : "/", prog);
                char clean[PATH_MAX];
                if (!p)
                        return rk_err(err, -ENOMEM, "out of memory");
                if (clean_path(p, clean, sizeof(clean)) < 0)
                        return rk_err(err, -EINVAL,
                                      "program %s: give a path without '..' components",
                                      RK_QUOTE(prog));
                if (!(*ret = strdup(clean)))
                        return rk_err(err, -ENOMEM, "out of memory");
                return 0;
        }
        _cleanup_free_ char *copy = strdup(path ? path : RK_APP_PATH);
        if (!copy)
                return rk_err(err, -ENOMEM, "out of memory");
        int found = -ENOENT;
        char *save = NULL;
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                if (d[0] != '/')
                        continue;
                _cleanup_free_ char *cand = join(d, prog);
                if (!cand)
                        return rk_err(err, -ENOMEM, "out of memory");
                int r = probe_exec(rootfd, cand);
                if (r == 0) {
                        *ret = TAKE_PTR(cand);
                        return 0;
                }
                if (r == -EACCES)
                        found = -EACCES; /* execvp: remember, keep looking */
        }
        if (found == -EACCES)
                return rk_err(err, -EACCES,
                              "%s: found in PATH inside the image, but not an "
                              "executable file",
                              RK_QUOTE(prog));
        return rk_err(err, -ENOENT, "%s: not found in PATH (%s) inside the image", RK_QUOTE(prog),
                      path ? path : RK_APP_PATH);
}

int rk_check_host_source(const char *source, rk_error *err)
{
        if (!source || source[0] != '/')
                return rk_err(err, -EINVAL, "volume source %s: must be an absolute path",
                              RK_QUOTE(source ? source : ""));
        _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return rk_err_errno(err, negative_errno(), "cannot open /");
        int fd =
            rk_open_in_root(root, source, O_PATH | O_NOFOLLOW, 0, RK_RESOLVE_NO_SYMLINKS, NULL);
        if (fd == -ELOOP)
                return rk_err(err, -ELOOP,
                              "volume source %s: a directory on the way is a symlink; give the "
                              "real path",
                              RK_QUOTE(source));
        if (fd < 0)
                return rk_err_errno(err, fd, "volume source %s", RK_QUOTE(source));
        struct stat st;
        int r = fstat(fd, &st) < 0 ? negative_errno() : 0;
        (void)close(fd);
        if (r < 0)
                return rk_err_errno(err, r, "volume source %s", RK_QUOTE(source));
        /* the check that matters: whoever can replace a symlink chooses what the pod sees */
        if (S_ISLNK(st.st_mode))
                return rk_err(err, -ELOOP, "volume source %s is a symlink; give the real path",
                              RK_QUOTE(source));
        return 0;
}

/* ---- environment ---- */

int rk_app_env(const char *app_name, char *const *inherited, const struct rk_name_values *app_env,
               char ***ret, size_t *ret_n, rk_error *err)
{
        struct rk_name_values l = {0};
        int r = rk_env_set(&l, "PATH", RK_APP_PATH, err);
        for (size_t i = 0; r >= 0 && inherited && inherited[i]; i++) {
                const char *eq = strchr(inherited[i], '=');
                if (!eq || eq == inherited[i])
                        continue;
                _cleanup_free_ char *name = strndup(inherited[i], (size_t)(eq - inherited[i]));
                if (!name)
                        r = rk_err(err, -ENOMEM, "out of memory");
                else if (rk_env_name_validate(name, NULL, NULL) == 0)
                        r = rk_env_set(&l, name, eq + 1, err);
        }
        for (size_t i = 0; r >= 0 && app_env && i < app_env->n; i++)
                r = rk_env_set(&l, app_env->v[i].name, app_env->v[i].value, err);
        /* the executor's own variables (appc 7.6) are not the app's to override */
        if (r >= 0)
                r = rk_env_set(&l, "AC_APP_NAME", app_name, err);
        if (r >= 0)
                r = rk_env_set(&l, "container", "rkt", err);
        char **v = r >= 0 ? calloc(l.n + 1, sizeof(*v)) : NULL;
        if (r >= 0 && !v)
                r = rk_err(err, -ENOMEM, "out of memory");
        for (size_t i = 0; r >= 0 && i < l.n; i++)
                if (asprintf(&v[i], "%s=%s", l.v[i].name, l.v[i].value) < 0) {
                        v[i] = NULL;
                        r = rk_err(err, -ENOMEM, "out of memory");
                }
        if (r < 0) {
                for (size_t i = 0; v && i < l.n; i++)
                        free(v[i]);
                free(v);
                rk_name_values_clear(&l);
                return r;
        }
        *ret = v;
        *ret_n = l.n;
        rk_name_values_clear(&l);
        return 0;
}

/* ---- the pod manifest ---- */

static json_t *name_values_json(const struct rk_name_values *l)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < l->n; i++)
                if (json_array_append_new(a, json_pack("{s:s, s:s}", "name", l->v[i].name, "value",
                                                       l->v[i].value)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

static json_t *labels_json(const struct rk_labels *l)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < l->n; i++)
                if (json_array_append_new(a, json_pack("{s:s, s:s}", "name", l->v[i].name, "value",
                                                       l->v[i].value)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

static json_t *volume_json(const struct rk_volume *v)
{
        json_t *o = json_pack("{s:s, s:s}", "name", v->name, "kind", v->kind);
        int f = !o;
        if (!f && v->source)
                f |= json_object_set_new(o, "source", json_string(v->source));
        if (!f && v->has_read_only)
                f |= json_object_set_new(o, "readOnly", json_boolean(v->read_only));
        if (!f && v->has_recursive)
                f |= json_object_set_new(o, "recursive", json_boolean(v->recursive));
        if (!f && v->mode)
                f |= json_object_set_new(o, "mode", json_string(v->mode));
        if (!f && v->has_uid)
                f |= json_object_set_new(o, "uid", json_integer(v->uid));
        if (!f && v->has_gid)
                f |= json_object_set_new(o, "gid", json_integer(v->gid));
        if (f) {
                json_decref(o);
                return NULL;
        }
        return o;
}

/* An AC Name from the last component of an image name ("example.com/My_App" -> "my-app"). */
static void derive_name(const char *image_name, char *out, size_t size)
{
        const char *s = strrchr(image_name, '/');
        s = s ? s + 1 : image_name;
        size_t n = 0;
        for (; *s && n + 1 < size; s++) {
                char c = *s;
                if (c >= 'A' && c <= 'Z')
                        c = (char)(c - 'A' + 'a');
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
                        c = '-';
                if (c == '-' && (n == 0 || out[n - 1] == '-'))
                        continue;
                out[n++] = c;
        }
        while (n > 0 && out[n - 1] == '-')
                n--;
        out[n] = 0;
        if (n == 0)
                snprintf(out, size, "app");
}

static bool name_taken(json_t *apps, const char *name)
{
        size_t i;
        json_t *a;
        json_array_foreach (apps, i, a) {
                if (!strcmp(json_string_value(json_object_get(a, "name")), name))
                        return true;
        }
        return false;
}

/* --name, or a derived name made unique with -2, -3, ... */
static int app_name(const struct rk_app_opts *ao, const struct rk_image_manifest *m, json_t *apps,
                    char *out, size_t size)
{
        if (ao->name) {
                snprintf(out, size, "%s", ao->name);
                return 0;
        }
        char base[RK_ACI_NAME_MAX];
        derive_name(m->name, base, sizeof(base));
        snprintf(out, size, "%s", base);
        for (int k = 2; name_taken(apps, out); k++)
                if (snprintf(out, size, "%s-%d", base, k) >= (int)size)
                        return -ENAMETOOLONG;
        return 0;
}

static int set_exec(json_t *app, const struct rk_app_opts *ao, const char *name, rk_error *err)
{
        json_t *exec = json_object_get(app, "exec");
        if (!exec) {
                exec = json_array();
                if (!exec || json_object_set_new(app, "exec", exec) < 0)
                        return rk_err(err, -ENOMEM, "out of memory");
        }
        int f = 0;
        if (ao->exec)
                f |= json_array_size(exec) ? json_array_set_new(exec, 0, json_string(ao->exec))
                                           : json_array_append_new(exec, json_string(ao->exec));
        for (size_t i = 0; i < ao->n_args; i++)
                f |= json_array_append_new(exec, json_string(ao->args[i]));
        if (f)
                return rk_err(err, -ENOMEM, "out of memory");
        if (json_array_size(exec) == 0)
                return rk_err(err, -EINVAL,
                              "app %s: the image has no exec; give one with --exec=PROGRAM",
                              RK_QUOTE(name));
        return 0;
}

/* image env < --set-env-file < --set-env < --environment (rkt's precedence) */
static int set_environment(json_t *app, const struct rk_image_manifest *m,
                           const struct rk_pod_opts *o, const struct rk_app_opts *ao, rk_error *err)
{
        struct rk_name_values env = {0};
        int r = 0;
        const struct rk_name_values *layers[] = {m->app ? &m->app->environment : NULL, &o->set_env,
                                                 &ao->environment};
        for (size_t k = 0; k < ELEMENTSOF(layers); k++)
                for (size_t i = 0; r >= 0 && layers[k] && i < layers[k]->n; i++)
                        r = rk_env_set(&env, layers[k]->v[i].name, layers[k]->v[i].value, err);
        if (r >= 0 && env.n) {
                json_t *a = name_values_json(&env);
                if (!a || json_object_set_new(app, "environment", a) < 0)
                        r = rk_err(err, -ENOMEM, "out of memory");
        } else if (r >= 0)
                json_object_del(app, "environment");
        rk_name_values_clear(&env);
        return r;
}

static int set_str(json_t *app, const char *key, const char *v)
{
        return v && json_object_set_new(app, key, json_string(v)) < 0 ? -ENOMEM : 0;
}

/* Replace the isolators named drop1/drop2 in the app object by {"name": name, "value": value}
 * (value is stolen; NULL: only drop). */
static int replace_isolator(json_t *app, const char *drop1, const char *drop2, const char *name,
                            json_t *value)
{
        json_t *old = json_object_get(app, "isolators"), *arr = json_array();
        size_t i;
        json_t *it;
        int f = !arr;
        json_array_foreach (old, i, it) {
                const char *n = json_string_value(json_object_get(it, "name"));
                if (f || (n && (!strcmp(n, drop1) || !strcmp(n, drop2))))
                        continue;
                f |= json_array_append(arr, it);
        }
        if (!f && name)
                f |= json_array_append_new(arr,
                                           json_pack("{s:s, s:O}", "name", name, "value", value));
        json_decref(value);
        if (!f)
                f |= json_object_set(app, "isolators", arr);
        json_decref(arr);
        return f ? -ENOMEM : 0;
}

static json_t *caps_set_json(const char *list)
{
        json_t *set = json_array();
        _cleanup_free_ char *dup = strdup(list);
        char *save = NULL;
        if (!set || !dup) {
                json_decref(set);
                return NULL;
        }
        for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save))
                json_array_append_new(set, json_string(t));
        return json_pack("{s:o}", "set", set);
}

/* --memory, --cpu, --cpu-shares, --oom-score-adj replace the image's isolators of that kind
 * (values checked by the flag parser). */
static int cgroup_flags(json_t *app, const struct rk_app_opts *ao)
{
        static const char mem[] = "resource/memory", cpu[] = "resource/cpu",
                          shares[] = "os/linux/cpu-shares", oom[] = "os/linux/oom-score-adj";
        int r = 0;
        if (ao->memory)
                r = replace_isolator(app, mem, mem, mem, json_pack("{s:s}", "limit", ao->memory));
        if (r >= 0 && ao->cpu)
                r = replace_isolator(app, cpu, cpu, cpu, json_pack("{s:s}", "limit", ao->cpu));
        if (r >= 0 && ao->has_cpu_shares)
                r = replace_isolator(app, shares, shares, shares, json_integer(ao->cpu_shares));
        if (r >= 0 && ao->has_oom_score_adj)
                r = replace_isolator(app, oom, oom, oom, json_integer(ao->oom_score_adj));
        return r;
}

/* --caps-retain/--caps-remove replace the image's capability isolators; --no-new-privileges
 * =false its no-new-privileges one. The pod manifest records what the app gets. */
static int isolator_flags(json_t *app, const struct rk_pod_opts *o, const struct rk_app_opts *ao)
{
        static const char ret[] = "os/linux/capabilities-retain-set",
                          rem[] = "os/linux/capabilities-remove-set",
                          nnp[] = "os/linux/no-new-privileges";
        int r = 0;
        if (ao->caps_retain || ao->caps_remove) {
                const char *list = ao->caps_retain ? ao->caps_retain : ao->caps_remove;
                json_t *v = caps_set_json(list);
                r = v ? replace_isolator(app, ret, rem, ao->caps_retain ? ret : rem, v) : -ENOMEM;
        }
        if (r >= 0 && o->no_new_privs_off)
                r = replace_isolator(app, nnp, nnp, nnp, json_false());
        /* --seccomp replaces the image's seccomp set; --seccomp-profile drops it (the plan
         * then uses the profile) */
        static const char sret[] = "os/linux/seccomp-retain-set",
                          srem[] = "os/linux/seccomp-remove-set";
        struct rk_seccomp_set set = {0};
        if (r >= 0 && ao->seccomp) { /* checked when the flag was parsed */
                json_t *v = NULL;
                if ((r = rk_seccomp_parse_opt(ao->seccomp, &set, NULL)) < 0)
                        return r;
                v = rk_seccomp_set_to_json(&set);
                r = v ? replace_isolator(app, sret, srem, set.retain ? sret : srem, v) : -ENOMEM;
                rk_seccomp_set_clear(&set);
        } else if (r >= 0 && ao->seccomp_profile)
                r = replace_isolator(app, sret, srem, NULL, NULL);
        if (r >= 0)
                r = cgroup_flags(app, ao);
        return r;
}

/* The image's app object with the flags applied. */
static json_t *app_json(const struct rk_pod_opts *o, const struct rk_app_opts *ao,
                        const struct rk_image_manifest *m, const char *name, rk_error *err)
{
        json_t *app =
            m->app ? rk_app_to_json(m->app) : json_pack("{s:s, s:s}", "user", "0", "group", "0");
        if (!app) {
                rk_err(err, -ENOMEM, "out of memory");
                return NULL;
        }
        int r = set_exec(app, ao, name, err);
        if (r >= 0)
                r = set_str(app, "user", ao->user) | set_str(app, "group", ao->group) |
                    set_str(app, "workingDirectory", ao->working_dir);
        if (r == -ENOMEM)
                r = rk_err(err, r, "out of memory");
        if (r >= 0 && ao->has_supplementary_gids) {
                json_t *g = json_array();
                for (size_t i = 0; g && i < ao->n_supplementary_gids; i++)
                        json_array_append_new(g, json_integer(ao->supplementary_gids[i]));
                json_object_del(app, "supplementaryGids");
                if (!g || json_object_set_new(app, "supplementaryGIDs", g) < 0)
                        r = rk_err(err, -ENOMEM, "out of memory");
        }
        if (r >= 0)
                r = set_environment(app, m, o, ao, err);
        if (r >= 0 && isolator_flags(app, o, ao) < 0)
                r = rk_err(err, -ENOMEM, "out of memory");
        if (r < 0) {
                json_decref(app);
                return NULL;
        }
        return app;
}

/* Whether an object of arr has key equal to value (a volume by name, a mount by path). */
static bool has_entry(json_t *arr, const char *key, const char *value)
{
        size_t i;
        json_t *v;
        json_array_foreach (arr, i, v) {
                const char *s = json_string_value(json_object_get(v, key));
                if (s && !strcmp(s, value))
                        return true;
        }
        return false;
}

static int add_mounts(json_t *mounts, const struct rk_mount_opt *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (json_array_append_new(mounts, json_pack("{s:s, s:s}", "volume", v[i].volume,
                                                            "path", v[i].target)) < 0)
                        return -ENOMEM;
        return 0;
}

/* --mount (pod-wide, then the app's), then every mountPoint not yet covered: by the volume of
 * the same name, which is created empty if nobody defined it (rkt's implicit volumes). */
static int app_mounts(const struct rk_pod_opts *o, const struct rk_app_opts *ao, json_t *app,
                      json_t *vols, json_t **ret)
{
        json_t *mounts = json_array();
        if (!mounts || add_mounts(mounts, o->mounts, o->n_mounts) < 0 ||
            add_mounts(mounts, ao->mounts, ao->n_mounts) < 0) {
                json_decref(mounts);
                return -ENOMEM;
        }
        size_t i;
        json_t *mp;
        json_array_foreach (json_object_get(app, "mountPoints"), i, mp) {
                const char *name = json_string_value(json_object_get(mp, "name"));
                const char *path = json_string_value(json_object_get(mp, "path"));
                int f = 0;
                if (!name || !path || has_entry(mounts, "path", path))
                        continue;
                if (!has_entry(vols, "name", name))
                        f |= json_array_append_new(
                            vols, json_pack("{s:s, s:s, s:s, s:i, s:i}", "name", name, "kind",
                                            "empty", "mode", "0755", "uid", 0, "gid", 0));
                f |= json_array_append_new(mounts,
                                           json_pack("{s:s, s:s}", "volume", name, "path", path));
                if (f) {
                        json_decref(mounts);
                        return -ENOMEM;
                }
        }
        *ret = mounts;
        return 0;
}

static int pod_app_json(const struct rk_pod_opts *o, size_t idx, const struct rk_pod_image *img,
                        json_t *apps, json_t *vols, rk_error *err)
{
        const struct rk_app_opts *ao = &o->apps[idx];
        char name[RK_ACI_NAME_MAX + 16];
        if (app_name(ao, img->m, apps, name, sizeof(name)) < 0)
                return rk_err(err, -ENAMETOOLONG, "image %s: cannot name its app", img->m->name);
        json_t *app = app_json(o, ao, img->m, name, err);
        if (!app)
                return err && err->code ? err->code : -ENOMEM;
        json_t *mounts = NULL;
        json_t *pa =
            json_pack("{s:s, s:{s:s, s:s, s:o}, s:o}", "name", name, "image", "name", img->m->name,
                      "id", img->id, "labels", labels_json(&img->m->labels), "app", app);
        int f = !pa || app_mounts(o, ao, app, vols, &mounts) < 0;
        if (!f && (ao->readonly_rootfs || o->readonly_rootfs))
                f |= json_object_set_new(pa, "readOnlyRootFS", json_true());
        if (!f && json_array_size(mounts))
                f |= json_object_set(pa, "mounts", mounts);
        json_decref(mounts);
        if (f || json_array_append_new(apps, pa) < 0)
                return rk_err(err, -ENOMEM, "out of memory");
        return 0;
}

/* A manifest given with --pod-manifest: apps without an app object get their image's. */
static json_t *from_given(const struct rk_pod_opts *o, const struct rk_pod_image *images,
                          rk_error *err)
{
        json_t *doc = rk_pod_manifest_to_json(o->manifest);
        if (!doc) {
                rk_err(err, -ENOMEM, "out of memory");
                return NULL;
        }
        size_t i;
        json_t *a;
        json_array_foreach (json_object_get(doc, "apps"), i, a) {
                if (json_object_get(a, "app") || !images[i].m->app)
                        continue;
                if (json_object_set_new(a, "app", rk_app_to_json(images[i].m->app)) < 0) {
                        json_decref(doc);
                        rk_err(err, -ENOMEM, "out of memory");
                        return NULL;
                }
        }
        return doc;
}

static json_t *from_options(const struct rk_pod_opts *o, const struct rk_pod_image *images,
                            rk_error *err)
{
        json_t *apps = json_array(), *vols = json_array();
        int r = apps && vols ? 0 : rk_err(err, -ENOMEM, "out of memory");
        for (size_t i = 0; r >= 0 && i < o->n_volumes; i++)
                if (json_array_append_new(vols, volume_json(&o->volumes[i])) < 0)
                        r = rk_err(err, -ENOMEM, "out of memory");
        for (size_t i = 0; r >= 0 && i < o->n_apps; i++)
                r = pod_app_json(o, i, &images[i], apps, vols, err);
        json_t *doc = r >= 0 ? json_pack("{s:s, s:s, s:O}", "acVersion", AC_VERSION, "acKind",
                                         "PodManifest", "apps", apps)
                             : NULL;
        if (doc && json_array_size(vols) && json_object_set(doc, "volumes", vols) < 0) {
                json_decref(doc);
                doc = NULL;
        }
        if (r >= 0 && !doc)
                rk_err(err, -ENOMEM, "out of memory");
        json_decref(apps);
        json_decref(vols);
        return doc;
}

int rk_pod_manifest_build(const struct rk_pod_opts *o, const struct rk_pod_image *images,
                          struct rk_pod_manifest **ret, rk_error *err)
{
        _cleanup_json_ json_t *doc =
            o->manifest ? from_given(o, images, err) : from_options(o, images, err);
        if (!doc)
                return err && err->code ? err->code : -ENOMEM;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = rk_json_dump(doc, &buf, &len, err);
        if (r < 0)
                return r;
        /* what we built is checked exactly as a manifest from outside would be */
        struct rk_pod_manifest *m = NULL;
        r = rk_pod_manifest_parse("pod", buf, len, &m, err);
        if (r >= 0)
                r = rk_pod_manifest_validate_runnable(m, err);
        for (size_t i = 0; r >= 0 && i < m->n_apps; i++)
                if (!m->apps[i].app)
                        r = rk_err(err, -EINVAL,
                                   "app %s: neither its image nor the pod manifest gives it an "
                                   "app (exec, user, group)",
                                   m->apps[i].name);
        if (r < 0) {
                rk_pod_manifest_free(m);
                return r == -EBADMSG ? -EINVAL : r;
        }
        *ret = m;
        return 0;
}

/* ---- the plan ---- */

struct planner {
        struct rk_pod *pod;
        const struct rk_pod_opts *o;
        const struct rk_pod_manifest *m;
        int *exec_status;
        rk_error *err;
        int volfd; /* <pod>/volumes, created on first use */
        /* SELinux (enabled only): lxc_contexts' process and file contexts, the pod's pair */
        char *se_process, *se_file;
        struct rk_mcs_pair se_pair;
        uint32_t userns_base; /* --private-users: the pod's host id range, else 0 */
};

static const struct rk_volume *find_volume(const struct rk_pod_manifest *m,
                                           const struct rk_pod_mount *mt)
{
        if (mt->app_volume)
                return mt->app_volume;
        for (size_t i = 0; i < m->n_volumes; i++)
                if (!strcmp(m->volumes[i].name, mt->volume))
                        return &m->volumes[i];
        return NULL;
}

/* <pod>/volumes/<name>, mode/uid/gid applied through the fd we created. */
static int make_empty_volume(struct planner *pl, const struct rk_volume *v)
{
        if (pl->volfd < 0) {
                if (mkdirat(pl->pod->fd, "volumes", 0700) < 0 && errno != EEXIST)
                        return rk_err_errno(pl->err, negative_errno(), "pod %s: volumes",
                                            pl->pod->uuid);
                pl->volfd =
                    openat(pl->pod->fd, "volumes", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (pl->volfd < 0)
                        return rk_err_errno(pl->err, negative_errno(), "pod %s: volumes",
                                            pl->pod->uuid);
        }
        if (mkdirat(pl->volfd, v->name, 0700) < 0) {
                if (errno == EEXIST)
                        return 0; /* shared by every app that mounts it */
                return rk_err_errno(pl->err, negative_errno(), "pod %s: volume %s", pl->pod->uuid,
                                    v->name);
        }
        _cleanup_close_ int fd =
            openat(pl->volfd, v->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        mode_t mode = (mode_t)strtoul(v->mode ? v->mode : "0755", NULL, 8) & 07777;
        uid_t uid = (v->has_uid ? v->uid : 0) + pl->userns_base;
        gid_t gid = (v->has_gid ? v->gid : 0) + pl->userns_base;
        if (pl->userns_base &&
            (uid - pl->userns_base >= RK_USERNS_SIZE || gid - pl->userns_base >= RK_USERNS_SIZE))
                return rk_err(pl->err, -ERANGE, "volume %s: uid/gid above %u under --private-users",
                              v->name, RK_USERNS_SIZE - 1);
        if (fd < 0 || fchown(fd, uid, gid) < 0 || fchmod(fd, mode) < 0)
                return rk_err_errno(pl->err, negative_errno(), "pod %s: volume %s", pl->pod->uuid,
                                    v->name);
        return 0;
}

/* The image's mountPoint at target (compared cleaned: "/data/" is "/data"). */
static bool mount_point_ro(const struct rk_app *app, const char *target)
{
        char p[PATH_MAX];
        for (size_t i = 0; app && i < app->n_mount_points; i++)
                if (clean_path(app->mount_points[i].path, p, sizeof(p)) == 0 && !strcmp(p, target))
                        return app->mount_points[i].read_only;
        return false;
}

static bool below(const char *path, const char *dir)
{
        size_t n = strlen(dir);
        return !strncmp(path, dir, n) && (path[n] == 0 || path[n] == '/');
}

/* What stage1 itself mounts (and refuses as a volume target): /, /proc, /sys, /dev, /dev/pts. */
static bool runtime_target(const char *t)
{
        return !strcmp(t, "/") || below(t, "/proc") || below(t, "/sys") || !strcmp(t, "/dev") ||
               below(t, "/dev/pts");
}

static json_t *mount_json(struct planner *pl, const struct rk_pod_app *a,
                          const struct rk_pod_mount *mt)
{
        const struct rk_volume *v = find_volume(pl->m, mt);
        char src[PATH_MAX], target[PATH_MAX];
        if (!v) {
                rk_err(pl->err, -EINVAL, "app %s: volume %s is not defined", a->name,
                       RK_QUOTE(mt->volume));
                return NULL;
        }
        if (clean_path(mt->path, target, sizeof(target)) < 0 || runtime_target(target)) {
                rk_err(pl->err, -EINVAL,
                       "app %s: cannot mount volume %s at %s (not /, /proc, /sys, /dev or "
                       "/dev/pts, which the runtime provides, and no '..')",
                       a->name, RK_QUOTE(mt->volume), RK_QUOTE(mt->path));
                return NULL;
        }
        bool host = !strcmp(v->kind, "host");
        if (host && (rk_check_host_source(v->source, pl->err) < 0 ||
                     clean_path(v->source, src, sizeof(src)) < 0)) {
                rk_err_prefix(pl->err, pl->err->code ? pl->err->code : -EINVAL, "app %s", a->name);
                return NULL;
        }
        if (!host && make_empty_volume(pl, v) < 0)
                return NULL;
        if (!host) /* stage1 runs the pod from run/, and the plan is only used there */
                snprintf(src, sizeof(src), "%s/pods/%s/%s/volumes/%s",
                         rk_pods_data_dir(pl->pod->pods), rk_pod_state_dir(RK_POD_RUN),
                         pl->pod->uuid, v->name);
        /* read-only if either the volume or the image's mountPoint says so */
        bool ro = (v->has_read_only && v->read_only) || mount_point_ro(a->app, target);
        bool rec = host && (v->has_recursive ? v->recursive : true);
        json_t *o = json_pack("{s:s, s:s, s:b, s:b, s:s}", "source", src, "target", target,
                              "readOnly", ro, "recursive", rec, "kind", host ? "host" : "empty");
        if (!o)
                rk_err(pl->err, -ENOMEM, "out of memory");
        return o;
}

static int path_depth(const char *p)
{
        int d = 0;
        for (; *p; p++)
                d += *p == '/' && p[1] && p[1] != '/';
        return d;
}

static int cmp_mount(const void *a, const void *b)
{
        const char *x = json_string_value(json_object_get(*(json_t *const *)a, "target"));
        const char *y = json_string_value(json_object_get(*(json_t *const *)b, "target"));
        int dx = path_depth(x), dy = path_depth(y);
        return dx != dy ? dx - dy : strcmp(x, y);
}

/* Mounts sorted so that a parent target is mounted before what lies below it. */
static json_t *mounts_json(struct planner *pl, const struct rk_pod_app *a)
{
        if (a->n_mounts > MAX_MOUNTS) {
                rk_err(pl->err, -E2BIG, "app %s: %zu mounts, at most %d", a->name, a->n_mounts,
                       MAX_MOUNTS);
                return NULL;
        }
        _cleanup_free_ json_t **v = calloc(a->n_mounts + 1, sizeof(*v));
        json_t *arr = json_array();
        int r = v && arr ? 0 : rk_err(pl->err, -ENOMEM, "out of memory");
        for (size_t i = 0; r >= 0 && i < a->n_mounts; i++)
                if (!(v[i] = mount_json(pl, a, &a->mounts[i])))
                        r = -1;
        if (r >= 0)
                qsort(v, a->n_mounts, sizeof(*v), cmp_mount);
        for (size_t i = 0; r >= 0 && i + 1 < a->n_mounts; i++)
                if (!cmp_mount(&v[i], &v[i + 1]))
                        r = rk_err(pl->err, -EINVAL, "app %s: two mounts at %s", a->name,
                                   json_string_value(json_object_get(v[i], "target")));
        for (size_t i = 0; i < a->n_mounts; i++)
                if (r < 0 || json_array_append_new(arr, v[i]) < 0)
                        json_decref(v[i]);
        if (r < 0) {
                json_decref(arr);
                return NULL;
        }
        return arr;
}

/* Records the exit status an exec failure means (127 not found, 126 not executable). */
static int exec_failed(struct planner *pl, int r)
{
        if (pl->exec_status && (r == -ENOENT || r == -EACCES))
                *pl->exec_status = r == -ENOENT ? 127 : 126;
        return r;
}

static json_t *argv_json(struct planner *pl, int rootfd, const char *path, const char *cwd,
                         const char *app, char *const *argv, size_t n)
{
        char *prog = NULL;
        int r = rk_find_exec(rootfd, path, cwd, argv[0], &prog, pl->err);
        if (r < 0) {
                exec_failed(pl, r);
                rk_err_prefix(pl->err, r, "app %s", app);
                return NULL;
        }
        json_t *a = json_array();
        int f = !a || json_array_append_new(a, json_string(prog)) < 0;
        for (size_t i = 1; !f && i < n; i++)
                f |= json_array_append_new(a, json_string(argv[i])) < 0;
        free(prog);
        if (f) {
                json_decref(a);
                rk_err(pl->err, -ENOMEM, "out of memory");
                return NULL;
        }
        return a;
}

static int handlers_json(struct planner *pl, int rootfd, const char *path, const char *cwd,
                         const struct rk_pod_app *a, json_t *out)
{
        json_t *pre = json_array(), *post = json_array();
        int r = pre && post ? 0 : -ENOMEM;
        for (size_t i = 0; r >= 0 && i < a->app->n_event_handlers; i++) {
                const struct rk_event_handler *h = &a->app->event_handlers[i];
                json_t *argv = argv_json(pl, rootfd, path, cwd, a->name, h->exec, h->n_exec);
                if (!argv)
                        r = -1;
                else
                        r = json_array_append_new(strcmp(h->name, "pre-start") ? post : pre, argv);
        }
        if (r >= 0 && (json_object_set(out, "preStart", pre) < 0 ||
                       json_object_set(out, "postStop", post) < 0))
                r = -ENOMEM;
        json_decref(pre);
        json_decref(post);
        if (r == -ENOMEM)
                rk_err(pl->err, r, "out of memory");
        return r;
}

static json_t *strv_json(char *const *v, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                if (json_array_append_new(a, json_string(v[i])) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

static const char *env_path(char **env, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!strncmp(env[i], "PATH=", 5))
                        return env[i] + 5;
        return NULL;
}

static int ids_json(struct planner *pl, int rootfd, const struct rk_pod_app *a, json_t *out)
{
        uint32_t uid = 0, gid = 0;
        int r = rk_resolve_user(rootfd, a->app->user, &uid, pl->err);
        if (r >= 0)
                r = rk_resolve_group(rootfd, a->app->group, &gid, pl->err);
        if (r < 0)
                return rk_err_prefix(pl->err, r, "app %s", a->name);
        /* --private-users maps 0-65535 only: an id beyond it would be the overflow id */
        for (size_t i = 0; pl->userns_base && i < a->app->n_supplementary_gids + 2; i++) {
                uint32_t id = i == 0 ? uid : i == 1 ? gid : a->app->supplementary_gids[i - 2];
                if (id >= RK_USERNS_SIZE)
                        return rk_err(pl->err, -ERANGE,
                                      "app %s: id %u is outside the pod's user namespace "
                                      "(--private-users maps 0-%u)",
                                      a->name, id, RK_USERNS_SIZE - 1);
        }
        json_t *g = json_array();
        for (size_t i = 0; g && i < a->app->n_supplementary_gids; i++)
                json_array_append_new(g, json_integer(a->app->supplementary_gids[i]));
        if (!g || json_object_set_new(out, "uid", json_integer(uid)) < 0 ||
            json_object_set_new(out, "gid", json_integer(gid)) < 0 ||
            json_object_set_new(out, "supplementaryGids", g) < 0)
                return rk_err(pl->err, -ENOMEM, "out of memory");
        struct rk_caps caps;
        r = rk_caps_compute(&a->app->isolators, uid, pl->o->insecure_capabilities, &caps, pl->err);
        if (r < 0)
                return rk_err_prefix(pl->err, r, "app %s", a->name);
        json_t *cj = rk_caps_to_json(&caps);
        if (!cj || json_object_set_new(out, "capabilities", cj) < 0 ||
            json_object_set_new(out, "noNewPrivileges",
                                json_boolean(rk_caps_no_new_privs(&a->app->isolators))) < 0)
                return rk_err(pl->err, -ENOMEM, "out of memory");
        return 0;
}

/* The app's seccomp profile: --seccomp-profile's text, or one built from the app's seccomp
 * set (profiles/README.md), or the default profile. */
static int app_seccomp_profile(struct planner *pl, const struct rk_pod_app *a, char **ret,
                               size_t *ret_len, unsigned *ret_flags)
{
        size_t idx = (size_t)(a - pl->m->apps);
        const struct rk_app_opts *ao =
            !pl->o->manifest && idx < pl->o->n_apps ? &pl->o->apps[idx] : NULL;
        *ret_flags = 0;
        if (ao && ao->seccomp_profile) {
                *ret = strndup(ao->seccomp_profile, ao->seccomp_profile_len);
                *ret_len = ao->seccomp_profile_len;
                return *ret ? 0 : rk_err(pl->err, -ENOMEM, "out of memory");
        }
        char ctx[RK_ACI_NAME_MAX + 16];
        snprintf(ctx, sizeof(ctx), "app %s", a->name);
        struct rk_seccomp_set set = {0};
        int r = rk_seccomp_set_from_isolators(&a->app->isolators, ctx, &set, pl->err);
        if (r > 0) {
                r = rk_seccomp_set_profile(&set, rk_caps_no_new_privs(&a->app->isolators), ret,
                                           ret_len, ret_flags, pl->err);
                rk_seccomp_set_clear(&set);
                return r < 0 ? rk_err_prefix(pl->err, r, "%s", ctx) : 0;
        }
        if (r < 0)
                return r;
        *ret_len = rk_seccomp_default_profile_len();
        *ret = strndup(rk_seccomp_default_profile, *ret_len);
        return *ret ? 0 : rk_err(pl->err, -ENOMEM, "out of memory");
}

/* seccomp/<app>.bpf in the pod ('/' of an AC Name becomes '_', which a name cannot hold) and
 * "seccomp": {"bpf": that path, "sha512": hex of the filter} in the app's plan. Each profile
 * is compiled once into <dir>/cas/seccomp/ by its digest. */
static int seccomp_json(struct planner *pl, const struct rk_pod_app *a, json_t *out)
{
        if (pl->o->insecure_seccomp)
                return 0;
        _cleanup_free_ char *profile = NULL;
        _cleanup_free_ void *bpf = NULL;
        size_t plen = 0, bpf_len = 0;
        unsigned flags = 0;
        char sha[RK_SHA512_HEX_LEN + 1];
        int r = app_seccomp_profile(pl, a, &profile, &plen, &flags);
        if (r >= 0)
                r = rk_seccomp_cached(rk_pods_data_dir(pl->pod->pods), profile, plen, flags, &bpf,
                                      &bpf_len, pl->err);
        if (r >= 0)
                r = rk_sha512_buf_hex(bpf, bpf_len, sha, pl->err);
        if (r < 0)
                return r;
        if (mkdirat(pl->pod->fd, "seccomp", 0700) < 0 && errno != EEXIST)
                return rk_err_errno(pl->err, negative_errno(), "pod: cannot create seccomp/");
        char rel[PATH_MAX];
        snprintf(rel, sizeof(rel), "seccomp/%s.bpf", a->name);
        for (char *p = rel + strlen("seccomp/"); *p; p++)
                if (*p == '/')
                        *p = '_';
        _cleanup_close_ int dfd =
            openat(pl->pod->fd, "seccomp", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return rk_err_errno(pl->err, negative_errno(), "pod: cannot open seccomp/");
        /* A new file in a new pod, not fsync'ed (that cost a millisecond a start): a torn copy
         * after a crash fails stage1's SHA-512 check, closed, and the pod is prepared again. */
        _cleanup_close_ int fd = openat(dfd, rel + strlen("seccomp/"),
                                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        r = fd < 0 ? negative_errno() : rk_write_all(fd, bpf, bpf_len);
        if (r < 0)
                return rk_err_errno(pl->err, r, "app %s: cannot write %s", a->name, rel);
        json_t *sj = json_pack("{s:s, s:s}", "bpf", rel, "sha512", sha);
        if (!sj || json_object_set_new(out, "seccomp", sj) < 0)
                return rk_err(pl->err, -ENOMEM, "out of memory");
        return 0;
}

/* "landlock": false with --insecure-options=landlock (absent: on); "selinux": {"process",
 * "mount"} when SELinux is enabled (lsm.h), nothing otherwise: stage0's caller reports that. */
static int lsm_json(struct planner *pl, const struct rk_pod_app *a, json_t *out)
{
        if (pl->o->insecure_landlock && json_object_set_new(out, "landlock", json_false()) < 0)
                return rk_err(pl->err, -ENOMEM, "out of memory");
        if (!pl->se_process)
                return 0;
        _cleanup_free_ char *proc = NULL, *mnt = NULL;
        int r = rk_selinux_app_labels(pl->se_process, pl->se_file, &pl->se_pair, &a->app->isolators,
                                      &pl->m->isolators, &proc, &mnt, pl->err);
        if (r < 0)
                return rk_err_prefix(pl->err, r, "app %s", a->name);
        json_t *sj = json_pack("{s:s, s:s}", "process", proc, "mount", mnt);
        if (!sj || json_object_set_new(out, "selinux", sj) < 0)
                return rk_err(pl->err, -ENOMEM, "out of memory");
        return 0;
}

/* "cgroup": {limits} and "oomScoreAdj" (PLAN.md, "Cgroups"). */
static int cgroup_json(struct planner *pl, const struct rk_pod_app *a, json_t *out)
{
        struct rk_cgroup_limits l;
        int64_t pids = pl->o->has_pids_limit ? pl->o->pids_limit : RK_PIDS_LIMIT_DEFAULT;
        char ctx[160];
        snprintf(ctx, sizeof(ctx), "app %s", a->name);
        int r = rk_cgroup_limits_compute(&a->app->isolators, pl->m ? &pl->m->isolators : NULL, pids,
                                         ctx, &l, pl->err);
        if (r < 0)
                return r;
        json_t *cj = rk_cgroup_limits_json(&l);
        if (!cj || json_object_set_new(out, "cgroup", cj) < 0 ||
            (l.has_oom_score_adj &&
             json_object_set_new(out, "oomScoreAdj", json_integer(l.oom_score_adj)) < 0))
                return rk_err(pl->err, -ENOMEM, "out of memory");
        return 0;
}

static int lsm_prepare(struct planner *pl)
{
        if (!rk_selinux_enabled())
                return 0;
        const char *path =
            pl->o->selinux_lxc_contexts ? pl->o->selinux_lxc_contexts : selinux_lxc_contexts_path();
        int r = rk_selinux_lxc_contexts_read(path, &pl->se_process, &pl->se_file, pl->err);
        return r < 0 ? r : rk_selinux_reserve(pl->pod, RK_MCS_MAX_CAT, &pl->se_pair, pl->err);
}

/* The tree's rootfs: opened through the store (it must be completely rendered), and its path
 * checked to be that same directory. */
static int open_rootfs(struct planner *pl, struct rk_store *s, const char *tree_id, char *path,
                       size_t size)
{
        _cleanup_close_ int tfd = rk_store_tree_open(s, tree_id, pl->err);
        if (tfd < 0)
                return tfd;
        int fd = openat(tfd, "rootfs", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return rk_err_errno(pl->err, negative_errno(), "tree %s: rootfs", tree_id);
        snprintf(path, size, "%s/cas/tree/%s/rootfs", rk_pods_data_dir(pl->pod->pods), tree_id);
        struct stat a, b;
        if (fstat(fd, &a) < 0 || stat(path, &b) < 0 || a.st_ino != b.st_ino ||
            a.st_dev != b.st_dev) {
                (void)close(fd);
                return rk_err(pl->err, -EXDEV, "tree %s: '%s' is not the store's tree", tree_id,
                              path);
        }
        return fd;
}

static int check_app_limits(struct planner *pl, const struct rk_pod_app *a)
{
        if (strlen(a->name) > MAX_APP_NAME)
                return rk_err(pl->err, -E2BIG, "app %.40s...: the name is longer than %d", a->name,
                              MAX_APP_NAME);
        if (a->app->n_supplementary_gids > MAX_GROUPS)
                return rk_err(pl->err, -E2BIG, "app %s: %zu supplementary groups, at most %d",
                              a->name, a->app->n_supplementary_gids, MAX_GROUPS);
        return 0;
}

static json_t *app_plan(struct planner *pl, struct rk_store *s, const struct rk_pod_app *a)
{
        struct rk_tree_info t = {0};
        char tree[PATH_MAX];
        char **env = NULL;
        size_t n_env = 0;
        json_t *out = NULL;
        int rootfd = -EBADF;
        const char *cwd = a->app->working_directory ? a->app->working_directory : "/";
        int r = check_app_limits(pl, a);
        if (r >= 0)
                r = rk_store_render(s, a->image_id, &t, pl->err);
        if (r >= 0 && (rootfd = open_rootfs(pl, s, t.id, tree, sizeof(tree))) < 0)
                r = rootfd;
        if (r >= 0)
                r = rk_app_env(a->name, pl->o->inherit_env, &a->app->environment, &env, &n_env,
                               pl->err);
        if (r >= 0 && n_env > MAX_ENV)
                r = rk_err(pl->err, -E2BIG, "app %s: %zu environment variables, at most %d",
                           a->name, n_env, MAX_ENV);
        if (r >= 0 &&
            !(out = json_pack("{s:s, s:s, s:s, s:b, s:o, s:s}", "name", a->name, "image",
                              a->image_id, "tree", tree, "readOnlyRootFS", a->read_only_rootfs,
                              "env", strv_json(env, n_env), "workingDirectory", cwd)))
                r = rk_err(pl->err, -ENOMEM, "out of memory");
        json_t *exec = NULL, *mounts = NULL;
        if (r >= 0 && !(exec = argv_json(pl, rootfd, env_path(env, n_env), cwd, a->name,
                                         a->app->exec, a->app->n_exec)))
                r = -1;
        if (r >= 0 && json_object_set_new(out, "exec", exec) < 0)
                r = rk_err(pl->err, -ENOMEM, "out of memory");
        if (r >= 0)
                r = ids_json(pl, rootfd, a, out);
        if (r >= 0)
                r = seccomp_json(pl, a, out);
        if (r >= 0)
                r = lsm_json(pl, a, out);
        if (r >= 0)
                r = cgroup_json(pl, a, out);
        if (r >= 0)
                r = handlers_json(pl, rootfd, env_path(env, n_env), cwd, a, out);
        if (r >= 0 &&
            (!(mounts = mounts_json(pl, a)) || json_object_set_new(out, "mounts", mounts) < 0))
                r = -1;
        for (size_t i = 0; env && i < n_env; i++)
                free(env[i]);
        free(env);
        safe_close(rootfd);
        rk_tree_info_clear(&t);
        if (r < 0) {
                json_decref(out);
                return NULL;
        }
        return out;
}

/* RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens (stage1
 * checks the same). */
static bool hostname_valid(const char *h)
{
        if (strlen(h) == 0 || strlen(h) > HOSTNAME_MAX)
                return false;
        for (const char *l = h;;) {
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

static int check_runtime(const char *net, const char *hostname, bool interactive, size_t n_apps,
                         rk_error *err)
{
        struct rk_cni_req req[RK_CNI_MAX_NETS];
        size_t n_req;
        if (net && rk_net_kind(net) < 0 && rk_cni_netlist_parse(net, req, &n_req, err) < 0)
                return rk_err_prefix(err, -EINVAL, "--net=%s", net);
        if (hostname && !hostname_valid(hostname))
                return rk_err(err, -EINVAL,
                              "--hostname %s: not a host name (letters, digits, '-' and '.', at "
                              "most %d)",
                              RK_QUOTE(hostname), HOSTNAME_MAX);
        if (interactive && n_apps != 1)
                return rk_err(err, -EINVAL, "--interactive needs exactly one app, not %zu", n_apps);
        return 0;
}

/* --private-users: a host id range from the registry (userns.h), released when the pod is
 * removed. Allocated before the apps, whose empty volumes are owned by the mapped ids. */
static int userns_json(struct planner *pl, json_t *plan)
{
        struct rk_userns_pool pool;
        const char *dir = rk_pods_data_dir(pl->pod->pods);
        _cleanup_close_ int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return rk_err_errno(pl->err, negative_errno(), "data dir '%s'", dir);
        rk_userns_default_pool(dir, &pool);
        int r = rk_userns_alloc(dirfd, &pool, pl->pod->uuid, &pl->userns_base, pl->err);
        if (r < 0)
                return r;
        json_t *u = json_pack("{s:I, s:I, s:I, s:b}", "uidBase", (json_int_t)pl->userns_base,
                              "gidBase", (json_int_t)pl->userns_base, "size",
                              (json_int_t)RK_USERNS_SIZE, "chown", pl->o->userns_chown);
        if (!u || json_object_set_new(plan, "userns", u) < 0)
                return rk_err(pl->err, -ENOMEM, "out of memory");
        return 0;
}

/* --port NAME:[HOSTIP:]HOSTPORT: NAME must be the port of exactly one app (tcp or udp). */
static int resolve_ports(const struct rk_pod_manifest *m, const struct rk_net_port_opt *o, size_t n,
                         struct rk_net_fwd *fwd, rk_error *err)
{
        if (n > RK_NET_MAX_PORTS)
                return rk_err(err, -E2BIG, "--port: %zu forwards, at most %d", n, RK_NET_MAX_PORTS);
        for (size_t i = 0; i < n; i++) {
                const struct rk_port *found = NULL;
                for (size_t a = 0; a < m->n_apps; a++)
                        for (size_t k = 0; m->apps[a].app && k < m->apps[a].app->n_ports; k++) {
                                const struct rk_port *p = &m->apps[a].app->ports[k];
                                if (strcmp(p->name, o[i].name) != 0)
                                        continue;
                                if (found)
                                        return rk_err(err, -EINVAL,
                                                      "--port=%s: more than one app has a port "
                                                      "named so",
                                                      o[i].name);
                                found = p;
                        }
                if (!found)
                        return rk_err(err, -ENOENT, "--port=%s: no app has a port named so",
                                      o[i].name);
                if (found->count > 1)
                        return rk_err(err, -EINVAL,
                                      "--port=%s: the image's port is a range of %u ports; only "
                                      "single ports are forwarded",
                                      o[i].name, found->count);
                if (strcmp(found->protocol, "tcp") && strcmp(found->protocol, "udp"))
                        return rk_err(err, -EPROTONOSUPPORT,
                                      "--port=%s: protocol %s (only tcp and udp are forwarded)",
                                      o[i].name, found->protocol);
                fwd[i] = (struct rk_net_fwd){.udp = !strcmp(found->protocol, "udp"),
                                             .host_ip = o[i].host_ip,
                                             .host_port = o[i].host_port,
                                             .pod_port = (uint16_t)found->port};
        }
        return 0;
}

/* default, default-restricted: the pod's address from the lease registry (net.h), which also
 * rebuilds the rkt nftables table with the pod's forwards. */
/* Named networks (cni.h): each conflist loaded strictly from net.d now, copied into the plan
 * (ADD and DEL use that copy, whatever happens to net.d meanwhile); "net" becomes "cni". */
static int cni_json(struct rk_pod *pod, const char *net, const char *netd, size_t n_ports,
                    json_t *plan, rk_error *err)
{
        struct rk_cni_req req[RK_CNI_MAX_NETS];
        size_t n = 0;
        int r = rk_cni_netlist_parse(net, req, &n, err);
        if (r < 0)
                return r;
        if (n_ports > 0)
                return rk_err(err, -EINVAL, "--port needs --net=default or default-restricted");
        if (!netd)
                return rk_err(err, -EINVAL, "--net=%s: named networks need rkt run or prepare",
                              net);
        json_t *arr = json_array();
        for (size_t i = 0; r >= 0 && i < n; i++) {
                json_t *conf = NULL;
                char ifname[16];
                snprintf(ifname, sizeof(ifname), "eth%zu", i);
                r = rk_cni_load(netd, req[i].name, &conf, err);
                if (r >= 0 &&
                    json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:o}", "name",
                                                         req[i].name, "ifname", ifname, "args",
                                                         req[i].args, "config", conf)) < 0)
                        r = rk_err(err, -ENOMEM, "out of memory");
        }
        if (r < 0 || json_object_set_new(plan, "cni", arr) < 0 ||
            json_object_set_new(plan, "net", json_string("cni")) < 0) {
                if (r >= 0)
                        r = rk_err(err, -ENOMEM, "out of memory");
                return r;
        }
        (void)json_object_del(plan, "network");
        return rk_net_free(rk_pods_data_dir(pod->pods), pod->uuid, err);
}

static int network_json(struct rk_pod *pod, const struct rk_pod_manifest *m, const char *net,
                        const char *netd, const struct rk_net_port_opt *ports, size_t n_ports,
                        json_t *plan, rk_error *err)
{
        int kind = rk_net_kind(net ? net : "default");
        if (kind < 0)
                return cni_json(pod, net, netd, n_ports, plan, err);
        (void)json_object_del(plan, "cni");
        if (!rk_net_contained(kind)) {
                if (n_ports > 0)
                        return rk_err(err, -EINVAL,
                                      "--port needs --net=default or "
                                      "default-restricted, not %s",
                                      net ? net : "default");
                (void)json_object_del(plan, "network");
                return rk_net_free(rk_pods_data_dir(pod->pods), pod->uuid, err);
        }
        struct rk_net_fwd fwd[RK_NET_MAX_PORTS];
        struct rk_net_lease l;
        int r = m ? resolve_ports(m, ports, n_ports, fwd, err) : 0;
        if (r >= 0)
                r = rk_net_alloc(rk_pods_data_dir(pod->pods), pod->uuid, kind, m ? fwd : NULL,
                                 n_ports, &l, err);
        if (r < 0)
                return r;
        char ip[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN], sub[INET_ADDRSTRLEN + 4];
        inet_ntop(AF_INET, &l.ip, ip, sizeof(ip));
        inet_ntop(AF_INET, &l.gateway, gw, sizeof(gw));
        inet_ntop(AF_INET, &l.subnet, sub, INET_ADDRSTRLEN);
        snprintf(sub + strlen(sub), 4, "/%u", l.prefix);
        json_t *n = json_pack("{s:s, s:s, s:s, s:b}", "ip", ip, "gateway", gw, "subnet", sub,
                              "defaultRoute", l.default_route);
        if (!n || json_object_set_new(plan, "network", n) < 0)
                return rk_err(err, -ENOMEM, "out of memory");
        return 0;
}

static json_t *plan_json(struct planner *pl, struct rk_store *s)
{
        const struct rk_pod_opts *o = pl->o;
        char host[HOSTNAME_MAX + 1];
        snprintf(host, sizeof(host), "rkt-%s", pl->pod->uuid);
        json_t *apps = json_array();
        json_t *plan =
            json_pack("{s:i, s:s, s:s, s:s, s:b, s:b, s:b, s:O}", "version", PLAN_VERSION, "uuid",
                      pl->pod->uuid, "hostname", o->hostname ? o->hostname : host, "net",
                      o->net ? o->net : "default", "interactive", o->interactive, "detached", 0,
                      "noOverlay", o->no_overlay, "apps", apps);
        int r = plan && apps ? 0 : rk_err(pl->err, -ENOMEM, "out of memory");
        if (r >= 0)
                r = rk_dns_plan_set(&o->dns, plan, pl->err);
        if (r >= 0 && o->private_users)
                r = userns_json(pl, plan);
        if (r >= 0)
                r = network_json(pl->pod, pl->m, o->net, o->netd, o->ports, o->n_ports, plan,
                                 pl->err);
        if (r >= 0 && o->insecure_cgroups &&
            json_object_set_new(plan, "cgroupsOptional", json_true()) < 0)
                r = rk_err(pl->err, -ENOMEM, "out of memory");
        if (r >= 0 && pl->m->n_apps > MAX_APPS)
                r = rk_err(pl->err, -E2BIG, "pod: %zu apps, at most %d", pl->m->n_apps, MAX_APPS);
        if (r >= 0)
                r = lsm_prepare(pl);
        for (size_t i = 0; r >= 0 && i < pl->m->n_apps; i++) {
                json_t *a = app_plan(pl, s, &pl->m->apps[i]);
                if (!a || json_array_append_new(apps, a) < 0)
                        r = -1;
        }
        json_decref(apps);
        if (r < 0) {
                json_decref(plan);
                return NULL;
        }
        return plan;
}

static int write_json(struct rk_pod *pod, const char *name, const json_t *v, rk_error *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = rk_json_dump(v, &buf, &len, err);
        if (r < 0)
                return r;
        return rk_write_file_atomic_at(pod->fd, name, buf, len, 0600, err);
}

static int write_files(struct rk_pod *pod, const struct rk_pod_manifest *m, const json_t *plan,
                       rk_error *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = rk_pod_manifest_serialize(m, &buf, &len, err);
        if (r >= 0)
                r = rk_write_file_atomic_at(pod->fd, "pod", buf, len, 0600, err);
        /* plan.json last: its presence says the prepare completed */
        if (r >= 0)
                r = write_json(pod, "plan.json", plan, err);
        return r;
}

int rk_pod_prepare(struct rk_pod *pod, struct rk_store *s, const struct rk_pod_opts *o,
                   const struct rk_pod_image *images, int *exec_status, rk_error *err)
{
        rk_error e = RK_ERROR_INIT;
        struct rk_pod_manifest *m = NULL;
        struct planner pl = {
            .pod = pod, .o = o, .exec_status = exec_status, .err = &e, .volfd = -EBADF};
        if (exec_status)
                *exec_status = 0;
        if (pod->state != RK_POD_PREPARE || pod->lock != LOCK_EX)
                return rk_err(err, -EINVAL, "pod %s: not being prepared by us", pod->uuid);
        size_t n = o->manifest ? o->manifest->n_apps : o->n_apps;
        int r = check_runtime(o->net, o->hostname, o->interactive, n, &e);
        if (r >= 0)
                r = rk_pod_manifest_build(o, images, &m, &e);
        /* shared with other prepares, exclusive for tree gc: a tree rendered now is not
         * referenced by a plan until plan.json is written, and must not be collected before */
        if (r >= 0)
                r = rk_pods_lock_prepare(pod->pods, LOCK_SH, &e);
        if (r >= 0) {
                pl.m = m;
                json_t *plan = plan_json(&pl, s);
                r = plan ? write_files(pod, m, plan, &e) : (e.code ? e.code : -EIO);
                json_decref(plan);
                rk_pods_unlock_prepare(pod->pods);
        }
        safe_close(pl.volfd);
        free(pl.se_process);
        free(pl.se_file);
        rk_pod_manifest_free(m);
        if (r < 0 && err)
                *err = e;
        return r < 0 ? (e.code ? e.code : r) : 0;
}

static int read_plan(struct rk_pod *pod, json_t **ret, rk_error *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = rk_read_file_at(pod->fd, "plan.json", RK_MANIFEST_MAX, &buf, &len, err);
        if (r < 0)
                return rk_err_prefix(err, r, "pod %s", pod->uuid);
        return rk_json_parse("plan.json", buf, len, RK_MANIFEST_MAX, ret, err);
}

int rk_pod_plan_update(struct rk_pod *pod, const char *net, const char *hostname, bool interactive,
                       rk_error *err)
{
        _cleanup_json_ json_t *plan = NULL;
        int r = read_plan(pod, &plan, err);
        if (r < 0)
                return r;
        r = check_runtime(net, hostname, interactive,
                          json_array_size(json_object_get(plan, "apps")), err);
        if (r < 0)
                return r;
        int f = 0;
        /* another network: its lease (forwards from the prepare kept); the same: the table is
         * rebuilt (something may have flushed it) */
        if (net)
                r = network_json(pod, NULL, net, NULL, NULL, 0, plan, err);
        else
                r = rk_net_reconcile(rk_pods_data_dir(pod->pods), err);
        if (r < 0)
                return r;
        if (net)
                f |= json_object_set_new(plan, "net", json_string(net));
        if (hostname)
                f |= json_object_set_new(plan, "hostname", json_string(hostname));
        if (interactive)
                f |= json_object_set_new(plan, "interactive", json_true());
        if (f)
                return rk_err(err, -ENOMEM, "out of memory");
        return write_json(pod, "plan.json", plan, err);
}

int rk_pod_plan_images(struct rk_pod *pod, char ***ret, size_t *ret_n, rk_error *err)
{
        _cleanup_json_ json_t *plan = NULL;
        int r = read_plan(pod, &plan, err);
        if (r < 0)
                return r;
        json_t *apps = json_object_get(plan, "apps");
        size_t n = json_array_size(apps);
        char **v = calloc(n + 1, sizeof(*v));
        if (!v)
                return rk_err(err, -ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                const char *id =
                    json_string_value(json_object_get(json_array_get(apps, i), "image"));
                if (!(v[i] = strdup(id ? id : ""))) {
                        for (size_t k = 0; k < i; k++)
                                free(v[k]);
                        free(v);
                        return rk_err(err, -ENOMEM, "out of memory");
                }
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

int rk_pod_plan_summary(struct rk_pod *pod, json_t **ret, rk_error *err)
{
        _cleanup_json_ json_t *plan = NULL;
        int r = read_plan(pod, &plan, err);
        if (r < 0)
                return r;
        *ret = rk_audit_plan_summary(plan);
        return *ret ? 0 : rk_err(err, -ENOMEM, "out of memory");
}
