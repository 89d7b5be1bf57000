/* SPDX-License-Identifier: Apache-2.0 */
/* The trust store on disk: rkt's layout, read and written through directory fds opened one
 * component at a time with O_NOFOLLOW, prefixes matched on whole path components. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "aci/types.h"
#include "base/fileio.h"
#include "trust/trust-internal.h"

#define LIST_MAX       4096 /* entries rk_trust_list reports */
#define PREFIX_DEPTH   64   /* path components of a prefix */
#define LEVEL_FILE_MAX 1024 /* fingerprint-named files in one directory */

const char *rk_trust_source_to_string(enum rk_trust_source s)
{
        return s == RK_TRUST_SYSTEM ? "system" : "local";
}

int rk_fpr_validate(const char *s, rk_error *err)
{
        size_t i;
        for (i = 0; s && i < RK_FPR_LEN; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        break;
        if (!s || i != RK_FPR_LEN || s[i])
                return rk_err(err, -EINVAL,
                              "%s is not a key fingerprint (40 lowercase hexadecimal digits)",
                              RK_QUOTE(s ? s : ""));
        return 0;
}

int rk_fpr_normalize(const char *s, char out[RK_FPR_LEN + 1], rk_error *err)
{
        char buf[RK_FPR_LEN + 1];
        size_t n = 0;
        if (strncmp(s, "0x", 2) == 0 || strncmp(s, "0X", 2) == 0)
                s += 2;
        for (const char *p = s; *p; p++) {
                if (*p == ' ')
                        continue;
                if (n == RK_FPR_LEN)
                        return rk_err(err, -EINVAL, "%s is longer than a key fingerprint",
                                      RK_QUOTE(s));
                buf[n++] = *p;
        }
        buf[n] = 0;
        if (n != RK_FPR_LEN || !rk_fpr_canon(buf, out))
                return rk_err(err, -EINVAL,
                              "%s is not a full key fingerprint (40 hexadecimal digits; key IDs "
                              "are not accepted)",
                              RK_QUOTE(s));
        return 0;
}

int rk_trust_prefix_validate(const char *s, rk_error *err)
{
        if (!s || !*s)
                return rk_err(err, -EINVAL, "empty prefix");
        if (strstr(s, "://"))
                return rk_err(err, -EINVAL,
                              "prefix %s is a URL; a prefix is an image name or the start of one, "
                              "such as example.com/app",
                              RK_QUOTE(s));
        if (strlen(s) > RK_ACI_NAME_MAX)
                return rk_err(err, -EINVAL, "prefix %s: longer than %d bytes", RK_QUOTE(s),
                              RK_ACI_NAME_MAX);
        /* The grammar refuses "..", empty components and a "/" at either end, so the prefix can
         * be used as a relative path below prefix.d without escaping it. */
        int r = rk_ac_identifier_validate(s, "prefix", err);
        if (r < 0)
                return r;
        size_t depth = 1;
        for (const char *p = s; *p; p++)
                depth += *p == '/';
        if (depth > PREFIX_DEPTH)
                return rk_err(err, -EINVAL, "prefix %s: more than %d path components", RK_QUOTE(s),
                              PREFIX_DEPTH);
        return 0;
}

bool rk_trust_prefix_covers(const char *prefix, const char *name)
{
        if (!prefix || !*prefix)
                return true;
        size_t n = strlen(prefix);
        return strncmp(prefix, name, n) == 0 && (name[n] == 0 || name[n] == '/');
}

static const char *config_of(const struct rk_trust_config *c, enum rk_trust_source s)
{
        return s == RK_TRUST_SYSTEM ? c->system_config : c->local_config;
}

static char *location_path(const char *config, const char *prefix, const char *fpr)
{
        char *p = NULL;
        int n = prefix ? asprintf(&p, "%s/trustedkeys/prefix.d/%s%s%s", config, prefix,
                                  fpr ? "/" : "", fpr ? fpr : "")
                       : asprintf(&p, "%s/trustedkeys/root.d%s%s", config, fpr ? "/" : "",
                                  fpr ? fpr : "");
        return n < 0 ? NULL : p;
}

char *rk_trust_key_path(const struct rk_trust_config *c, enum rk_trust_source s, const char *prefix,
                        const char *fpr)
{
        const char *config = config_of(c, s);
        return config ? location_path(config, prefix, fpr) : NULL;
}

/* One directory step below dfd (consumed). Never follows a symlink: the store holds only
 * directories and key files, and a link could point a prefix at another prefix's keys. New
 * directories get 0755 explicitly, whatever the umask (rkt #3780). */
static int step(int dfd, const char *name, bool create, const char *where, rk_error *err)
{
        _cleanup_close_ int d = dfd;
        int fd = openat(d, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && create) {
                if (mkdirat(d, name, 0755) < 0 && errno != EEXIST)
                        return rk_err_errno(err, negative_errno(), "cannot create '%s'", where);
                fd = openat(d, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd >= 0 && fchmod(fd, 0755) < 0) {
                        int r = negative_errno();
                        close(fd);
                        return rk_err_errno(err, r, "cannot set the mode of '%s'", where);
                }
        }
        if (fd >= 0)
                return fd;
        if (errno == ENOENT)
                return rk_err(err, -ENOENT, "'%s' does not exist", where);
        if (errno == ELOOP || errno == ENOTDIR)
                return rk_err(err, -ELOOP,
                              "'%s' is a symlink or not a directory; the trust store holds only "
                              "directories and key files",
                              where);
        return rk_err_errno(err, negative_errno(), "cannot open '%s'", where);
}

/* Opens <config>/trustedkeys/{root.d | prefix.d/<prefix>}. prefix must be validated. */
static int open_location(const char *config, const char *prefix, bool create, rk_error *err)
{
        if (!config)
                return rk_err(err, -ENOENT, "no configuration directory");
        if (create) {
                int r = rk_mkdir_p(config, 0755, err);
                if (r < 0)
                        return r;
        }
        int fd = open(config, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return rk_err(err, -ENOENT, "'%s' does not exist", config);
                return rk_err_errno(err, negative_errno(), "cannot open '%s'", config);
        }
        _cleanup_free_ char *copy = prefix ? strdup(prefix) : NULL;
        if (prefix && !copy) {
                close(fd);
                return rk_err(err, -ENOMEM, "out of memory");
        }
        fd = step(fd, "trustedkeys", create, config, err);
        if (fd >= 0)
                fd = step(fd, prefix ? "prefix.d" : "root.d", create, config, err);
        char *save = NULL;
        for (char *t = copy ? strtok_r(copy, "/", &save) : NULL; fd >= 0 && t;
             t = strtok_r(NULL, "/", &save))
                fd = step(fd, t, create, prefix, err);
        return fd;
}

enum file_kind {
        FILE_ABSENT,
        FILE_EMPTY,
        FILE_KEY,
        FILE_OTHER, /* a directory or something that is not a regular file */
};

static enum file_kind kind_at(int dfd, const char *name)
{
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return FILE_ABSENT;
        if (!S_ISREG(st.st_mode))
                return FILE_OTHER;
        return st.st_size == 0 ? FILE_EMPTY : FILE_KEY;
}

/* Reads a key file without following a symlink or blocking on a FIFO. */
static int read_key_file(int dfd, const char *name, const char *path, char **ret, size_t *ret_len,
                         rk_error *err)
{
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        struct stat st;
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "cannot open '%s'", path);
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return rk_err(err, -EBADMSG, "'%s' is not a regular file", path);
        return rk_read_fd_capped(fd, path, RK_TRUST_KEY_MAX, ret, ret_len, err);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void strv_free(char **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

/* Names in dfd that are fingerprints (files) or, with dirs, other names that are directories.
 * Sorted. Dot files (".#fpr.tmp" of an atomic write) and other names are skipped. */
static int scan_dir(int dfd, bool dirs, const char *where, char ***ret, size_t *ret_n,
                    rk_error *err)
{
        int d2 = dup(dfd);
        DIR *d = d2 >= 0 ? fdopendir(d2) : NULL;
        if (!d) {
                int r = negative_errno();
                safe_close(d2);
                return rk_err_errno(err, r, "cannot read '%s'", where);
        }
        rewinddir(d); /* the dup shares its offset with dfd, which may have been read before */
        char **v = NULL;
        size_t n = 0;
        int r = 0;
        struct dirent *de;
        while (r == 0 && (de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                bool is_dir = kind_at(dfd, de->d_name) == FILE_OTHER;
                if (dirs ? !is_dir : rk_fpr_validate(de->d_name, NULL) < 0)
                        continue;
                if (n == LEVEL_FILE_MAX) {
                        r = rk_err(err, -EFBIG, "'%s': more than %d entries", where,
                                   LEVEL_FILE_MAX);
                        break;
                }
                char **t = realloc(v, (n + 1) * sizeof(*v));
                if (!t || !(t[n] = strdup(de->d_name))) {
                        v = t ? t : v;
                        r = rk_err(err, -ENOMEM, "out of memory");
                        break;
                }
                v = t;
                n++;
        }
        closedir(d);
        if (r < 0) {
                strv_free(v, n);
                return r;
        }
        if (n)
                qsort(v, n, sizeof(*v), cmp_str);
        *ret = v;
        *ret_n = n;
        return 0;
}

/* ---- walking the stores ---- */

/* Called for every location of a store: root.d (level NULL), then every prefix.d directory
 * whose path is a valid prefix (level "a.com/b"), parents before children. */
typedef int (*level_fn)(enum rk_trust_source src, const char *config, const char *level, int dfd,
                        void *ud, rk_error *err);

static int walk_tree(enum rk_trust_source src, const char *config, const char *prefix, int dfd,
                     int depth, level_fn fn, void *ud, rk_error *err)
{
        int r = prefix ? fn(src, config, prefix, dfd, ud, err) : 0;
        if (r < 0 || depth >= PREFIX_DEPTH)
                return r;
        char **dirs = NULL;
        size_t n = 0;
        r = scan_dir(dfd, true, prefix ? prefix : "prefix.d", &dirs, &n, err);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_free_ char *sub = NULL;
                if ((prefix ? asprintf(&sub, "%s/%s", prefix, dirs[i])
                            : asprintf(&sub, "%s", dirs[i])) < 0) {
                        r = rk_err(err, -ENOMEM, "out of memory");
                        break;
                }
                if (rk_trust_prefix_validate(sub, NULL) < 0)
                        continue; /* not a prefix: never consulted for any name either */
                int fd = openat(dfd, dirs[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        continue;
                r = walk_tree(src, config, sub, fd, depth + 1, fn, ud, err);
                close(fd);
        }
        strv_free(dirs, n);
        return r;
}

static int walk_store(const struct rk_trust_config *c, enum rk_trust_source src, level_fn fn,
                      void *ud, rk_error *err)
{
        const char *config = config_of(c, src);
        if (!config)
                return 0;
        rk_error e2 = RK_ERROR_INIT;
        int r = 0;
        _cleanup_close_ int root = open_location(config, NULL, false, &e2);
        if (root >= 0)
                r = fn(src, config, NULL, root, ud, err);
        else if (root != -ENOENT) {
                *err = e2;
                return root;
        }
        if (r < 0)
                return r;
        int cfd = open(config, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cfd < 0)
                return 0;
        cfd = step(cfd, "trustedkeys", false, config, &e2);
        if (cfd >= 0)
                cfd = step(cfd, "prefix.d", false, config, &e2);
        if (cfd == -ENOENT)
                return 0;
        if (cfd < 0) {
                *err = e2;
                return cfd;
        }
        r = walk_tree(src, config, NULL, cfd, 0, fn, ud, err);
        close(cfd);
        return r;
}

/* ---- collecting keys ---- */

void rk_trust_chain_clear(struct rk_chain *ch)
{
        for (size_t i = 0; ch && i < ch->n; i++) {
                free(ch->v[i].prefix);
                free(ch->v[i].path);
                free(ch->v[i].data);
        }
        if (ch) {
                free(ch->v);
                ch->v = NULL;
                ch->n = 0;
        }
}

struct mask {
        char fpr[RK_FPR_LEN + 1];
        char *level; /* "" = root */
};

struct collect {
        struct rk_chain keys;
        struct mask *masks;
        size_t n_masks;
};

static int add_mask(struct collect *co, const char *fpr, const char *level, rk_error *err)
{
        if (co->n_masks == RK_TRUST_KEYS_MAX)
                return rk_err(err, -EFBIG, "more than %d masks", RK_TRUST_KEYS_MAX);
        struct mask *t = realloc(co->masks, (co->n_masks + 1) * sizeof(*co->masks));
        if (!t)
                return rk_err(err, -ENOMEM, "out of memory");
        co->masks = t;
        memcpy(t[co->n_masks].fpr, fpr, RK_FPR_LEN + 1);
        if (!(t[co->n_masks].level = strdup(level ? level : "")))
                return rk_err(err, -ENOMEM, "out of memory");
        co->n_masks++;
        return 0;
}

static int add_key(struct collect *co, int dfd, const char *fpr, const char *level,
                   const char *config, rk_error *err)
{
        if (co->keys.n == RK_TRUST_KEYS_MAX)
                return rk_err(err, -EFBIG, "more than %d trusted keys apply", RK_TRUST_KEYS_MAX);
        struct rk_chain_key k = {0};
        memcpy(k.fpr, fpr, sizeof(k.fpr));
        k.prefix = strdup(level ? level : "");
        k.path = location_path(config, level, fpr);
        if (!k.prefix || !k.path) {
                free(k.prefix);
                free(k.path);
                return rk_err(err, -ENOMEM, "out of memory");
        }
        int r = read_key_file(dfd, fpr, k.path, &k.data, &k.len, err);
        void *t = r < 0 ? NULL : realloc(co->keys.v, (co->keys.n + 1) * sizeof(k));
        if (r >= 0 && !t)
                r = rk_err(err, -ENOMEM, "out of memory");
        if (r < 0) {
                free(k.prefix);
                free(k.path);
                free(k.data);
                return r;
        }
        co->keys.v = t;
        co->keys.v[co->keys.n++] = k;
        return 0;
}

/* The keys and local masks of one location. */
static int collect_dir(enum rk_trust_source src, const char *config, const char *level, int fd,
                       void *ud, rk_error *err)
{
        struct collect *co = ud;
        char **names = NULL;
        size_t n = 0;
        _cleanup_free_ char *where = location_path(config, level, NULL);
        int r = scan_dir(fd, false, where ? where : config, &names, &n, err);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                enum file_kind k = kind_at(fd, names[i]);
                /* Only the admin's (local) store can mask; an empty vendor file is nothing. */
                if (k == FILE_EMPTY && src == RK_TRUST_LOCAL)
                        r = add_mask(co, names[i], level, err);
                else if (k == FILE_KEY)
                        r = add_key(co, fd, names[i], level, config, err);
        }
        strv_free(names, n);
        return r;
}

/* One location of one store, if it exists. */
static int collect_level(const struct rk_trust_config *c, enum rk_trust_source src,
                         const char *level, struct collect *co, rk_error *err)
{
        const char *config = config_of(c, src);
        if (!config)
                return 0;
        rk_error e2 = RK_ERROR_INIT;
        _cleanup_close_ int fd = open_location(config, level, false, &e2);
        if (fd == -ENOENT)
                return 0;
        if (fd < 0) {
                *err = e2;
                return fd;
        }
        return collect_dir(src, config, level, fd, co, err);
}

/* Drops masked keys. For one name's chain every mask collected covers the name, so any mask of
 * the fingerprint removes the key; for the whole store a mask removes a key only where the
 * mask's location covers the key's. Either way an admin's "do not trust" wins over any key. */
static int finish(struct collect *co, bool whole_store, int r, struct rk_chain *ret)
{
        size_t kept = 0;
        for (size_t i = 0; i < co->keys.n; i++) {
                struct rk_chain_key *k = &co->keys.v[i];
                bool masked = false;
                for (size_t j = 0; j < co->n_masks && !masked; j++)
                        masked =
                            strcmp(co->masks[j].fpr, k->fpr) == 0 &&
                            (!whole_store || rk_trust_prefix_covers(co->masks[j].level, k->prefix));
                if (masked || r < 0) {
                        free(k->prefix);
                        free(k->path);
                        free(k->data);
                        continue;
                }
                co->keys.v[kept++] = *k;
        }
        for (size_t j = 0; j < co->n_masks; j++)
                free(co->masks[j].level);
        free(co->masks);
        co->keys.n = kept;
        if (r < 0) {
                free(co->keys.v);
                return r;
        }
        *ret = co->keys;
        return 0;
}

int rk_trust_chain_collect(const struct rk_trust_config *c, const char *name, struct rk_chain *ret,
                           rk_error *err)
{
        int r = rk_ac_identifier_validate(name, "image name", err);
        if (r < 0)
                return r;
        _cleanup_free_ char *level = strdup(name);
        if (!level)
                return rk_err(err, -ENOMEM, "out of memory");
        struct collect co = {0};
        /* Levels: root, then "a.com", "a.com/b", ... "a.com/b/c": only whole components, so
         * "example.com/app" is never visited for "example.com/application". */
        for (const char *p = name; r >= 0; p++) {
                if (p != name && *p != '/' && *p)
                        continue;
                const char *lv = NULL;
                if (p != name) {
                        level[p - name] = 0;
                        lv = level;
                }
                for (int s = RK_TRUST_SYSTEM; r >= 0 && s <= RK_TRUST_LOCAL; s++)
                        r = collect_level(c, (enum rk_trust_source)s, lv, &co, err);
                if (p != name)
                        level[p - name] = name[p - name];
                if (!*p)
                        break;
        }
        return finish(&co, false, r, ret);
}

int rk_trust_chain_collect_all(const struct rk_trust_config *c, struct rk_chain *ret, rk_error *err)
{
        struct collect co = {0};
        int r = walk_store(c, RK_TRUST_SYSTEM, collect_dir, &co, err);
        if (r >= 0)
                r = walk_store(c, RK_TRUST_LOCAL, collect_dir, &co, err);
        return finish(&co, true, r, ret);
}

int rk_trust_signer_prefix(const struct rk_trust_config *c, const char *signer, const char *name,
                           char **ret_prefix, rk_error *err)
{
        struct rk_chain ch = {0};
        int r = rk_fpr_validate(signer, err);
        if (r >= 0)
                r = rk_trust_chain_collect(c, name, &ch, err);
        if (r < 0)
                return r;
        const char *best = NULL;
        for (size_t i = 0; i < ch.n; i++)
                if (strcmp(ch.v[i].fpr, signer) == 0 &&
                    (!best || strlen(ch.v[i].prefix) > strlen(best)))
                        best = ch.v[i].prefix;
        char *p = best ? strdup(best) : NULL;
        rk_trust_chain_clear(&ch);
        if (!best)
                return rk_err(err, -EKEYREJECTED,
                              "key %s is not trusted for '%s' or any prefix of it; see 'rkt "
                              "trust --prefix %s'",
                              signer, name, name);
        if (!p)
                return rk_err(err, -ENOMEM, "out of memory");
        *ret_prefix = p;
        return 0;
}

/* ---- add / remove ---- */

static int check_config(const struct rk_trust_config *c, const char *prefix, rk_error *err)
{
        if (!c->local_config || !*c->local_config)
                return rk_err(err, -EINVAL, "no local configuration directory to write keys to");
        return prefix ? rk_trust_prefix_validate(prefix, err) : 0;
}

/* Why refuse these at add time: they could never verify an image, and an admin who adds one
 * is better told now than at the first failing fetch. */
static int check_usable(const struct rk_key_info *k, rk_error *err)
{
        if (k->revoked)
                return rk_err(err, -EKEYREVOKED, "key %s is revoked", k->fpr);
        if (k->expired)
                return rk_err(err, -EKEYEXPIRED, "key %s has expired", k->fpr);
        if (!k->can_sign)
                return rk_err(err, -EKEYREJECTED, "key %s has no key that may make signatures",
                              k->fpr);
        return 0;
}

static int import_and_export(const struct rk_trust_config *c, const void *key, size_t len,
                             struct rk_key_info *info, char **ret, size_t *ret_len, rk_error *err)
{
        struct rk_gpg_home h;
        char fpr[RK_FPR_LEN + 1];
        int r = rk_gpg_home_open(c->data_dir, &h, err);
        if (r < 0)
                return r;
        r = rk_gpg_import_key(&h, "key", key, len, fpr, err);
        if (r >= 0)
                r = rk_gpg_key_info(&h, fpr, info, err);
        if (r >= 0)
                r = check_usable(info, err);
        /* Store GnuPG's export, not the caller's bytes: exactly one public key, no comments,
         * no trailing data. */
        if (r >= 0)
                r = rk_gpg_export_key(&h, fpr, ret, ret_len, err);
        rk_gpg_home_close(&h);
        if (r < 0)
                rk_key_info_clear(info);
        return r;
}

int rk_trust_add(const struct rk_trust_config *c, const char *prefix, const void *armored_key,
                 size_t len, struct rk_key_info *ret_info, rk_error *err)
{
        int r = check_config(c, prefix, err);
        if (r < 0)
                return r;
        struct rk_key_info info = {0};
        _cleanup_free_ char *data = NULL;
        size_t dlen = 0;
        r = import_and_export(c, armored_key, len, &info, &data, &dlen, err);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = open_location(c->local_config, prefix, true, err);
        if (fd < 0)
                r = fd;
        if (r >= 0)
                r = rk_write_file_atomic_at(fd, info.fpr, data, dlen, 0644, err);
        if (r >= 0 && !(info.path = location_path(c->local_config, prefix, info.fpr)))
                r = rk_err(err, -ENOMEM, "out of memory");
        if (r < 0 || !ret_info)
                rk_key_info_clear(&info);
        else
                *ret_info = info;
        return r;
}

static enum file_kind kind_in(const char *config, const char *prefix, const char *fpr)
{
        _cleanup_close_ int fd = open_location(config, prefix, false, NULL);
        return fd < 0 ? FILE_ABSENT : kind_at(fd, fpr);
}

static const char *where_str(const char *prefix)
{
        return prefix ? prefix : "(root)";
}

int rk_trust_remove(const struct rk_trust_config *c, const char *fpr, const char *prefix,
                    rk_error *err)
{
        int r = check_config(c, prefix, err);
        if (r < 0 || (r = rk_fpr_validate(fpr, err)) < 0)
                return r;
        enum file_kind local = kind_in(c->local_config, prefix, fpr);
        enum file_kind vendor =
            c->system_config ? kind_in(c->system_config, prefix, fpr) : FILE_ABSENT;
        int flags = 0;
        if (local == FILE_OTHER)
                return rk_err(err, -EINVAL, "'%s' is not a key file",
                              where_str(prefix)); /* a directory named like a key */
        if (local == FILE_KEY) {
                _cleanup_close_ int fd = open_location(c->local_config, prefix, false, err);
                if (fd < 0)
                        return fd;
                if (unlinkat(fd, fpr, 0) < 0)
                        return rk_err_errno(err, negative_errno(), "cannot remove key %s", fpr);
                (void)fsync(fd);
                flags |= RK_TRUST_REMOVED;
        }
        if (vendor == FILE_KEY && local != FILE_EMPTY) {
                /* A vendor key cannot be deleted (the package owns it): mask it instead. */
                _cleanup_close_ int fd = open_location(c->local_config, prefix, true, err);
                if (fd < 0)
                        return fd;
                r = rk_write_file_atomic_at(fd, fpr, "", 0, 0644, err);
                if (r < 0)
                        return r;
                flags |= RK_TRUST_MASKED;
        }
        if (!flags)
                return rk_err(err, -ENOENT,
                              "key %s is not trusted for %s%s (see 'rkt trust --list')", fpr,
                              prefix ? "prefix " : "", where_str(prefix));
        return flags;
}

/* ---- snapshots (undo) ---- */

void rk_trust_snapshot_clear(struct rk_trust_snapshot *s)
{
        if (!s)
                return;
        free(s->prefix);
        free(s->data);
        memset(s, 0, sizeof(*s));
}

int rk_trust_snapshot_take(const struct rk_trust_config *c, const char *fpr, const char *prefix,
                           struct rk_trust_snapshot *ret, rk_error *err)
{
        struct rk_trust_snapshot s = {0};
        int r = check_config(c, prefix, err);
        if (r < 0 || (r = rk_fpr_validate(fpr, err)) < 0)
                return r;
        memcpy(s.fpr, fpr, sizeof(s.fpr));
        if (prefix && !(s.prefix = strdup(prefix)))
                return rk_err(err, -ENOMEM, "out of memory");
        rk_error e2 = RK_ERROR_INIT;
        _cleanup_close_ int fd = open_location(c->local_config, prefix, false, &e2);
        if (fd >= 0 && kind_at(fd, fpr) != FILE_ABSENT) {
                _cleanup_free_ char *path = location_path(c->local_config, prefix, fpr);
                r = read_key_file(fd, fpr, path ? path : fpr, &s.data, &s.len, err);
                s.existed = r >= 0;
        } else if (fd < 0 && fd != -ENOENT) {
                *err = e2;
                r = fd;
        }
        if (r < 0) {
                rk_trust_snapshot_clear(&s);
                return r;
        }
        *ret = s;
        return 0;
}

int rk_trust_snapshot_restore(const struct rk_trust_config *c, const struct rk_trust_snapshot *s,
                              rk_error *err)
{
        _cleanup_close_ int fd = open_location(c->local_config, s->prefix, s->existed, err);
        if (fd == -ENOENT && !s->existed)
                return 0;
        if (fd < 0)
                return fd;
        if (s->existed)
                return rk_write_file_atomic_at(fd, s->fpr, s->data ? s->data : "", s->len, 0644,
                                               err);
        if (unlinkat(fd, s->fpr, 0) < 0 && errno != ENOENT)
                return rk_err_errno(err, negative_errno(), "cannot remove key %s", s->fpr);
        return 0;
}

/* ---- list ---- */

struct lister {
        const struct rk_trust_config *c;
        struct rk_gpg_home home;
        bool home_open;
        struct rk_trust_entry *v;
        size_t n;
};

void rk_trust_entries_free(struct rk_trust_entry *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++) {
                free(v[i].prefix);
                free(v[i].path);
                free(v[i].error);
                rk_key_info_clear(&v[i].info);
        }
        free(v);
}

static void describe_key(struct lister *l, struct rk_trust_entry *e, int dfd)
{
        rk_error e2 = RK_ERROR_INIT;
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        char fpr[RK_FPR_LEN + 1];
        int r = 0;
        if (!l->home_open) {
                r = rk_gpg_home_open(l->c->data_dir, &l->home, &e2);
                l->home_open = r >= 0;
        }
        if (r >= 0)
                r = read_key_file(dfd, e->fpr, e->path, &data, &len, &e2);
        if (r >= 0)
                r = rk_gpg_import_key(&l->home, e->path, data, len, fpr, &e2);
        if (r >= 0 && strcmp(fpr, e->fpr) != 0)
                r = rk_err(&e2, -EBADMSG, "'%s' holds key %s, not the key its name says", e->path,
                           fpr);
        if (r >= 0)
                r = rk_gpg_key_info(&l->home, fpr, &e->info, &e2);
        if (r < 0)
                e->error = strdup(e2.msg);
}

static int list_dir(enum rk_trust_source src, const char *config, const char *prefix, int dfd,
                    void *ud, rk_error *err)
{
        struct lister *l = ud;
        _cleanup_free_ char *where = location_path(config, prefix, NULL);
        char **names = NULL;
        size_t n = 0;
        int r = scan_dir(dfd, false, where ? where : config, &names, &n, err);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                enum file_kind k = kind_at(dfd, names[i]);
                if ((k != FILE_KEY && k != FILE_EMPTY) ||
                    (k == FILE_EMPTY && src != RK_TRUST_LOCAL))
                        continue;
                if (l->n == LIST_MAX) {
                        r = rk_err(err, -EFBIG, "more than %d trust store entries", LIST_MAX);
                        break;
                }
                void *t = realloc(l->v, (l->n + 1) * sizeof(*l->v));
                if (!t) {
                        r = rk_err(err, -ENOMEM, "out of memory");
                        break;
                }
                l->v = t;
                struct rk_trust_entry *e = &l->v[l->n++];
                memset(e, 0, sizeof(*e));
                memcpy(e->fpr, names[i], sizeof(e->fpr));
                e->source = src;
                e->mask = k == FILE_EMPTY;
                e->prefix = prefix ? strdup(prefix) : NULL;
                e->path = location_path(config, prefix, names[i]);
                if ((prefix && !e->prefix) || !e->path)
                        r = rk_err(err, -ENOMEM, "out of memory");
                else if (!e->mask)
                        describe_key(l, e, dfd);
        }
        strv_free(names, n);
        return r;
}

int rk_trust_list(const struct rk_trust_config *c, struct rk_trust_entry **ret, size_t *ret_n,
                  rk_error *err)
{
        struct lister l = {.c = c};
        int r = walk_store(c, RK_TRUST_SYSTEM, list_dir, &l, err);
        if (r >= 0)
                r = walk_store(c, RK_TRUST_LOCAL, list_dir, &l, err);
        if (l.home_open)
                rk_gpg_home_close(&l.home);
        if (r < 0) {
                rk_trust_entries_free(l.v, l.n);
                return r;
        }
        *ret = l.v;
        *ret_n = l.n;
        return 0;
}

int rk_trust_covered(const struct rk_trust_config *c, const char *name, rk_error *err)
{
        struct rk_trust_entry *v = NULL;
        size_t n = 0;
        int r = rk_trust_list(c, &v, &n, err);
        if (r < 0)
                return r;
        r = 0;
        for (size_t i = 0; i < n && !r; i++)
                r = !v[i].prefix || rk_trust_prefix_covers(v[i].prefix, name);
        rk_trust_entries_free(v, n);
        return r;
}
