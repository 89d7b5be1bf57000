/* SPDX-License-Identifier: Apache-2.0 */
/* auth.d: per-host credentials for discovery pages, images and signatures (rkt's format). */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/json.h"
#include "base/log.h"
#include "fetch/discover.h"

struct rk_auth_entry {
        char *domain;
        char *header; /* "Basic ..." / "Bearer ..." */
        int level;    /* 0 system, 1 local, 2 user */
        char *file;
};

struct rk_auth {
        struct rk_auth_entry *v;
        size_t n;
};

static void wipe_free(char *s)
{
        if (s) {
                explicit_bzero(s, strlen(s));
                free(s);
        }
}

struct rk_auth *rk_auth_free(struct rk_auth *a)
{
        if (!a)
                return NULL;
        for (size_t i = 0; i < a->n; i++) {
                free(a->v[i].domain);
                wipe_free(a->v[i].header);
                free(a->v[i].file);
        }
        free(a->v);
        free(a);
        return NULL;
}

size_t rk_auth_count(const struct rk_auth *a)
{
        return a ? a->n : 0;
}

static char *base64(const char *in, size_t n)
{
        static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        char *out = malloc((n + 2) / 3 * 4 + 1), *p = out;
        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i += 3) {
                unsigned v = (unsigned char)in[i] << 16;
                if (i + 1 < n)
                        v |= (unsigned char)in[i + 1] << 8;
                if (i + 2 < n)
                        v |= (unsigned char)in[i + 2];
                *p++ = t[(v >> 18) & 63];
                *p++ = t[(v >> 12) & 63];
                *p++ = i + 1 < n ? t[(v >> 6) & 63] : '=';
                *p++ = i + 2 < n ? t[v & 63] : '=';
        }
        *p = 0;
        return out;
}

/* A header value goes into an HTTP request line: no control characters, bounded. */
static bool header_safe(const char *s)
{
        if (strlen(s) > 400)
                return false;
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        return false;
        return true;
}

static bool domain_ok(const char *d)
{
        size_t n = strlen(d);
        if (n == 0 || n > 253)
                return false;
        for (; *d; d++)
                if (!(islower((unsigned char)*d) || isdigit((unsigned char)*d) || *d == '-' ||
                      *d == '.'))
                        return false;
        return true;
}

static int only_keys(const json_t *o, const char *const *allowed, const char *file, rk_error *err)
{
        const char *k;
        json_t *v;
        json_object_foreach ((json_t *)o, k, v) {
                bool ok = false;
                for (size_t i = 0; allowed[i]; i++)
                        ok = ok || !strcmp(k, allowed[i]);
                if (!ok)
                        return rk_err(err, -EBADMSG, "auth config '%s': unknown member %s", file,
                                      RK_QUOTE(k));
        }
        return 0;
}

static int make_header(const json_t *o, const char *file, char **ret, rk_error *err)
{
        const char *type = NULL, *user = NULL, *pass = NULL, *token = NULL;
        json_t *cred = NULL;
        int r = rk_json_get_string(o, "type", true, file, &type, err);
        if (r >= 0)
                r = rk_json_get_object(o, "credentials", true, file, &cred, err);
        if (r < 0)
                return r;
        if (!strcmp(type, "basic")) {
                static const char *const keys[] = {"user", "password", NULL};
                if ((r = only_keys(cred, keys, file, err)) < 0 ||
                    (r = rk_json_get_string(cred, "user", true, file, &user, err)) < 0 ||
                    (r = rk_json_get_string(cred, "password", true, file, &pass, err)) < 0)
                        return r;
                if (strchr(user, ':'))
                        return rk_err(err, -EBADMSG, "auth config '%s': a basic user has no ':'",
                                      file);
                size_t n = strlen(user) + 1 + strlen(pass);
                _cleanup_free_ char *up = malloc(n + 1);
                if (!up)
                        return rk_err(err, -ENOMEM, "out of memory");
                snprintf(up, n + 1, "%s:%s", user, pass);
                char *b = base64(up, n);
                explicit_bzero(up, n);
                if (!b || asprintf(ret, "Basic %s", b) < 0) {
                        wipe_free(b);
                        return rk_err(err, -ENOMEM, "out of memory");
                }
                wipe_free(b);
        } else if (!strcmp(type, "oauth")) {
                static const char *const keys[] = {"token", NULL};
                if ((r = only_keys(cred, keys, file, err)) < 0 ||
                    (r = rk_json_get_string(cred, "token", true, file, &token, err)) < 0)
                        return r;
                if (asprintf(ret, "Bearer %s", token) < 0)
                        return rk_err(err, -ENOMEM, "out of memory");
        } else
                return rk_err(err, -EBADMSG,
                              "auth config '%s': type %s is not supported (basic, oauth)", file,
                              RK_QUOTE(type));
        if (!header_safe(*ret)) {
                wipe_free(*ret);
                *ret = NULL;
                return rk_err(err, -EBADMSG,
                              "auth config '%s': credentials too long or with control characters",
                              file);
        }
        return 0;
}

static int add_entry(struct rk_auth *a, const char *domain, const char *header, int level,
                     const char *file, rk_error *err)
{
        for (size_t i = 0; i < a->n; i++) {
                if (strcmp(a->v[i].domain, domain) != 0)
                        continue;
                if (a->v[i].level == level)
                        return rk_err(err, -EBADMSG,
                                      "auth config '%s': domain '%s' is already configured in "
                                      "'%s'",
                                      file, domain, a->v[i].file);
                /* a later directory (local over system, user over local) overrides */
                char *h = strdup(header), *f = strdup(file);
                if (!h || !f) {
                        free(h);
                        free(f);
                        return rk_err(err, -ENOMEM, "out of memory");
                }
                wipe_free(a->v[i].header);
                free(a->v[i].file);
                a->v[i].header = h;
                a->v[i].file = f;
                a->v[i].level = level;
                return 0;
        }
        void *nv = reallocarray(a->v, a->n + 1, sizeof(*a->v));
        if (!nv)
                return rk_err(err, -ENOMEM, "out of memory");
        a->v = nv;
        struct rk_auth_entry *e = &a->v[a->n];
        *e = (struct rk_auth_entry){.domain = strdup(domain),
                                    .header = strdup(header),
                                    .level = level,
                                    .file = strdup(file)};
        if (!e->domain || !e->header || !e->file) {
                free(e->domain);
                wipe_free(e->header);
                free(e->file);
                return rk_err(err, -ENOMEM, "out of memory");
        }
        a->n++;
        return 0;
}

/* Who may write the file decides where credentials go; who may read it learns them. */
static int check_owner(const struct stat *st, const char *what, bool secret, rk_error *err)
{
        if (st->st_uid != 0 && st->st_uid != geteuid())
                return rk_err(err, -EPERM, "%s is owned by uid %u, not root or uid %u", what,
                              (unsigned)st->st_uid, (unsigned)geteuid());
        if (st->st_mode & 022)
                return rk_err(err, -EPERM,
                              "%s is writable by group or others (mode %04o); run 'chmod go-w'",
                              what, (unsigned)(st->st_mode & 07777));
        if (secret && (st->st_mode & 04))
                return rk_err(err, -EPERM,
                              "%s holds credentials and is readable by others (mode %04o); run "
                              "'chmod o-r'",
                              what, (unsigned)(st->st_mode & 07777));
        return 0;
}

static int load_file(struct rk_auth *a, int dfd, const char *dir, const char *name, int level,
                     rk_error *err)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "auth config '%s'", path);
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return rk_err(err, -EINVAL, "auth config '%s' is not a regular file", path);
        int r = check_owner(&st, path, true, err);
        if (r < 0)
                return rk_err_prefix(err, r, "auth config");
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        r = rk_read_fd_capped(fd, path, RK_AUTH_FILE_MAX, &buf, &len, err);
        if (r >= 0)
                r = rk_auth_parse(a, path, buf, len, level, err);
        if (buf)
                explicit_bzero(buf, len);
        return r;
}

struct rk_auth *rk_auth_new(void)
{
        return calloc(1, sizeof(struct rk_auth));
}

int rk_auth_parse(struct rk_auth *a, const char *path, const char *buf, size_t len, int level,
                  rk_error *err)
{
        _cleanup_json_ json_t *o = NULL;
        int r = rk_json_parse(path, buf, len, RK_AUTH_FILE_MAX, &o, err);
        if (r < 0)
                return r;
        if (!json_is_object(o))
                return rk_err(err, -EBADMSG, "auth config '%s': not a JSON object", path);
        const char *kind = NULL, *version = NULL;
        if ((r = rk_json_get_string(o, "rktKind", true, path, &kind, err)) < 0 ||
            (r = rk_json_get_string(o, "rktVersion", true, path, &version, err)) < 0)
                return r;
        if (strcmp(version, "v1") != 0)
                return rk_err(err, -EBADMSG, "auth config '%s': rktVersion %s is not v1", path,
                              RK_QUOTE(version));
        if (!strcmp(kind, "dockerAuth")) {
                rk_log_debug("auth config '%s': dockerAuth skipped (no docker support)", path);
                return 0;
        }
        if (strcmp(kind, "auth") != 0)
                return rk_err(err, -EBADMSG, "auth config '%s': rktKind %s is not auth", path,
                              RK_QUOTE(kind));
        static const char *const keys[] = {"rktKind", "rktVersion",  "domains",
                                           "type",    "credentials", NULL};
        if ((r = only_keys(o, keys, path, err)) < 0)
                return r;
        json_t *domains = NULL;
        if ((r = rk_json_get_array(o, "domains", true, path, &domains, err)) < 0)
                return r;
        if (json_array_size(domains) == 0)
                return rk_err(err, -EBADMSG, "auth config '%s': no domains", path);
        char *header = NULL;
        if ((r = make_header(o, path, &header, err)) < 0)
                return r;
        size_t i;
        json_t *d;
        json_array_foreach (domains, i, d) {
                const char *ds = json_string_value(d);
                if (!ds || !domain_ok(ds)) {
                        r = rk_err(err, -EBADMSG,
                                   "auth config '%s': domains[%zu] is not a lower-case host name",
                                   path, i);
                        break;
                }
                if ((r = add_entry(a, ds, header, level, path, err)) < 0)
                        break;
        }
        wipe_free(header);
        return r;
}

static int load_dir(struct rk_auth *a, const char *config, int level, rk_error *err)
{
        if (!config)
                return 0;
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s/auth.d", config);
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0) {
                if (errno == ENOENT)
                        return 0;
                return rk_err_errno(err, negative_errno(), "auth config directory '%s'", dir);
        }
        struct stat st;
        if (fstat(dfd, &st) < 0)
                return rk_err_errno(err, negative_errno(), "auth config directory '%s'", dir);
        int r = check_owner(&st, dir, false, err);
        if (r < 0)
                return rk_err_prefix(err, r, "auth config directory");
        char **names = NULL;
        size_t n = 0;
        r = rk_dir_names(dfd, true, &names, &n);
        if (r < 0)
                return rk_err_errno(err, r, "auth config directory '%s'", dir);
        size_t files = 0;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                size_t l = strlen(names[i]);
                if (l < 6 || strcmp(names[i] + l - 5, ".json") != 0 || names[i][0] == '.')
                        continue;
                if (++files > RK_AUTH_FILES_MAX)
                        r = rk_err(err, -EFBIG, "auth config directory '%s': more than %d files",
                                   dir, RK_AUTH_FILES_MAX);
                else
                        r = load_file(a, dfd, dir, names[i], level, err);
        }
        rk_strv_free(names, n);
        return r;
}

int rk_auth_load(const char *system_config, const char *local_config, const char *user_config,
                 struct rk_auth **ret, rk_error *err)
{
        struct rk_auth *a = rk_auth_new();
        if (!a)
                return rk_err(err, -ENOMEM, "out of memory");
        int r = load_dir(a, system_config, 0, err);
        if (r >= 0)
                r = load_dir(a, local_config, 1, err);
        if (r >= 0)
                r = load_dir(a, user_config, 2, err);
        if (r < 0) {
                rk_auth_free(a);
                return r;
        }
        *ret = a;
        return 0;
}

const char *rk_auth_header(const struct rk_auth *a, const char *url)
{
        if (!a || !url)
                return NULL;
        const char *h = strstr(url, "://");
        if (!h)
                return NULL;
        h += 3;
        size_t n = strcspn(h, ":/?#");
        /* userinfo in a URL is refused: "https://example.test@evil.test/" */
        if (memchr(h, '@', strcspn(h, "/?#")))
                return NULL;
        for (size_t i = 0; i < a->n; i++)
                if (strlen(a->v[i].domain) == n && strncasecmp(a->v[i].domain, h, n) == 0)
                        return a->v[i].header;
        return NULL;
}
