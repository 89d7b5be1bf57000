/* SPDX-License-Identifier: Apache-2.0 */
/* The extractor: every decision on an entry, and every write, made here (security.md §4.3).
 *
 * Names are cleaned once ("./rootfs//a/" -> "rootfs/a"; "..", absolute names refused) and every
 * path the archive mentions is kept in a tree (tsearch: O(log n), no hash flooding) with what
 * this layer's entry was and what was written there. Decisions (duplicates, writes below a
 * symlink, upper layers winning, hard link targets) are made against that tree, so they are the
 * same in check-only mode; the writes then go through fds: parents opened with
 * RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, leaves created with O_CREAT|O_EXCL|O_NOFOLLOW, mkdirat,
 * symlinkat, linkat (no AT_SYMLINK_FOLLOW), metadata through the fd we created. Directory modes
 * and times are applied last, deepest first, on directories re-opened with NO_SYMLINKS and
 * checked to be the inode we made. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <inttypes.h>
#include <locale.h>
#include <search.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "aci/extract-internal.h"
#include "base/fileio.h"
#include "base/path.h"

#define DATA_BUF   (128 * 1024)
#define NAME_LIMIT 255 /* NAME_MAX: one component */
#define NO_LAYER   SIZE_MAX

enum kind { K_REG, K_DIR, K_LNK, K_HARDLINK };
enum fate { F_NONE, F_WRITTEN, F_SKIP_UPPER, F_SKIP_WL };

/* One path named by an entry, or made as a parent of one. */
struct node {
        const char *path;  /* cleaned archive name, "rootfs/a/b" */
        size_t seen_layer; /* last layer with an entry of this name */
        enum kind seen_kind;
        enum fate fate;  /* what happened to that entry */
        size_t provider; /* layer that wrote it (NO_LAYER: nothing written) */
        bool is_dir;     /* what was written */
        bool implicit;   /* a directory made for the entries below it */
        dev_t dev;       /* regular files written: their inode, for hard links */
        ino_t ino;
};

struct fixup {
        char *dpath;
        size_t depth;
        mode_t mode;
        struct timespec ts[2];
        dev_t dev;
        ino_t ino;
};

struct wl {
        bool set;
        char **v; /* cleaned, rootfs-relative, sorted */
        size_t n;
};

struct ctx {
        const struct rk_aci_opts *o;
        const struct rk_aci_limits *l;
        int dest; /* -1: check only */
        void *tree;
        struct fixup *fix;
        size_t n_fix, cap_fix;
        unsigned char *buf;
        /* the layer being read */
        size_t layer;
        const char *what;
        struct rk_aci_reader *rd;
        struct wl wl, uwl;
        struct rk_aci_result *res;
        bool seen_manifest, seen_rootfs;
        char last[256]; /* printable name of the last entry, for archive-level errors */
        bool in_entry;  /* an error now is about the entry, and names it */
};

struct ent {
        struct archive_entry *ae;
        char pname[256]; /* printable raw name */
        char *norm;      /* cleaned name */
        size_t depth;
        enum kind kind;
        const char *link; /* symlink or hard link target, raw */
        uint64_t size;
        mode_t mode;
};

static int ent_err(struct ctx *c, const struct ent *e, rk_error *err, int code, const char *fmt,
                   ...) _printf_(5, 6);
static int ent_err(struct ctx *c, const struct ent *e, rk_error *err, int code, const char *fmt,
                   ...)
{
        char msg[384];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return rk_err(err, code, "'%s': entry '%s': %s", c->what, e->pname, msg);
}

static int ent_errno(struct ctx *c, const struct ent *e, rk_error *err, int code, const char *op)
{
        return ent_err(c, e, err, code, "%s: %s", op, strerror(-code));
}

/* Entry data, with reader errors ("'x.aci': bad tar archive: ...") naming the entry. */
static ssize_t read_data(struct ctx *c, const struct ent *e, void *buf, size_t len, rk_error *err)
{
        rk_error rerr = RK_ERROR_INIT;
        ssize_t n = rk_aci_reader_read(c->rd, buf, len, &rerr);
        if (n >= 0)
                return n;
        const char *msg = rerr.msg;
        size_t wl = strlen(c->what);
        if (msg[0] == '\'' && strncmp(msg + 1, c->what, wl) == 0 &&
            !strncmp(msg + 1 + wl, "': ", 3))
                msg += wl + 4;
        return ent_err(c, e, err, (int)n, "%s", msg);
}

/* ---- names ---- */

/* Clean name: drop empty and "." components, refuse ".." and absolute names. ret is "" for the
 * archive root ("./"). */
static int clean_name(const char *name, size_t max_depth, char **ret, size_t *ret_depth,
                      const char **why)
{
        size_t len = strlen(name), depth = 0, o = 0;
        _cleanup_free_ char *out = malloc(len + 1);

        if (!out)
                return -ENOMEM;
        /* CVE-2015-2304 class: an absolute name is never made relative silently. */
        if (name[0] == '/')
                return *why = "absolute path", -EXDEV;
        for (const char *p = name; *p;) {
                const char *s = strchr(p, '/');
                size_t n = s ? (size_t)(s - p) : strlen(p);
                if (n == 2 && p[0] == '.' && p[1] == '.')
                        /* POINTYFEATHER class: any "..", not only a leading one. */
                        return *why = "path contains '..'", -EXDEV;
                if (n > NAME_LIMIT)
                        return *why = "a path component is longer than 255 bytes", -ENAMETOOLONG;
                if (n > 0 && !(n == 1 && p[0] == '.')) {
                        if (++depth > max_depth)
                                return *why = "path has too many components", -ENAMETOOLONG;
                        if (o > 0)
                                out[o++] = '/';
                        memcpy(out + o, p, n);
                        o += n;
                }
                p += n;
                while (*p == '/')
                        p++;
        }
        out[o] = 0;
        *ret = TAKE_PTR(out);
        *ret_depth = depth;
        return 0;
}

/* ---- whitelists ---- */

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void wl_clear(struct wl *w)
{
        for (size_t i = 0; i < w->n; i++)
                free(w->v[i]);
        free(w->v);
        *w = (struct wl){0};
}

static int wl_init(struct ctx *c, struct wl *w, const char *const *list, size_t n, rk_error *err)
{
        *w = (struct wl){.set = list != NULL};
        if (!list || n == 0)
                return 0;
        w->v = calloc(n, sizeof(char *));
        if (!w->v)
                return rk_err(err, -ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                const char *why = NULL, *s = list[i];
                size_t depth;
                while (*s == '/')
                        s++;
                int r = clean_name(s, SIZE_MAX, &w->v[w->n], &depth, &why);
                if (r < 0)
                        return rk_err(err, r == -ENOMEM ? r : -EINVAL,
                                      "'%s': pathWhitelist entry '%s': %s", c->what, list[i],
                                      why ? why : "out of memory");
                w->n++;
        }
        qsort(w->v, w->n, sizeof(char *), cmp_str);
        return 0;
}

static bool wl_has(const struct wl *w, const char *rel)
{
        return !w->set || (w->n > 0 && bsearch(&rel, w->v, w->n, sizeof(char *), cmp_str));
}

static bool wl_allows(const struct ctx *c, const struct ent *e)
{
        if (strcmp(e->norm, "rootfs") == 0)
                return true;
        const char *rel = e->norm + strlen("rootfs/");
        if (!wl_has(&c->uwl, rel))
                return false;
        return e->kind == K_DIR || wl_has(&c->wl, rel);
}

/* ---- the tree of paths ---- */

static int node_cmp(const void *a, const void *b)
{
        return strcmp(((const struct node *)a)->path, ((const struct node *)b)->path);
}

static struct node *node_find(struct ctx *c, const char *path)
{
        struct node key = {.path = path};
        void **p = tfind(&key, &c->tree, node_cmp);
        return p ? *p : NULL;
}

static struct node *node_get(struct ctx *c, const char *path)
{
        struct node *n = node_find(c, path);
        if (n)
                return n;
        size_t len = strlen(path);
        n = malloc(sizeof(*n) + len + 1);
        if (!n)
                return NULL;
        char *s = (char *)(n + 1);
        memcpy(s, path, len + 1);
        *n = (struct node){.path = s, .seen_layer = NO_LAYER, .provider = NO_LAYER};
        void **p = tsearch(n, &c->tree, node_cmp);
        if (!p) {
                free(n);
                return NULL;
        }
        return n;
}

/* ---- destination paths ---- */

static const char *dest_path(const struct ctx *c, const char *norm)
{
        if (!c->o->rootfs_only)
                return norm;
        if (strcmp(norm, "rootfs") == 0)
                return ".";
        return norm + strlen("rootfs/");
}

/* Make the missing directories of dparent, one component at a time, each opened with
 * O_NOFOLLOW|O_DIRECTORY relative to the previous one. */
static int make_dirs(struct ctx *c, const char *dparent)
{
        _cleanup_close_ int fd = fcntl(c->dest, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return negative_errno();
        for (const char *p = dparent; *p;) {
                const char *s = strchr(p, '/');
                size_t n = s ? (size_t)(s - p) : strlen(p);
                char comp[NAME_LIMIT + 1];
                memcpy(comp, p, n);
                comp[n] = 0;
                int nfd = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (nfd < 0 && errno == ENOENT) {
                        if (mkdirat(fd, comp, 0755) < 0)
                                return negative_errno();
                        nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        /* exactly 0755 whatever the umask: apps run as other users */
                        if (nfd >= 0 && fchmod(nfd, 0755) < 0) {
                                (void)close(nfd);
                                return negative_errno();
                        }
                }
                if (nfd < 0)
                        return errno == ENOTDIR ? -ELOOP : negative_errno();
                (void)close(fd);
                fd = nfd;
                p += n;
                while (*p == '/')
                        p++;
        }
        return TAKE_FD(fd);
}

/* An O_PATH fd on the parent directory of dpath, made if missing; *ret_leaf points into
 * dpath. */
static int open_parent(struct ctx *c, const struct ent *e, const char *dpath, const char **ret_leaf,
                       rk_error *err)
{
        const char *slash = strrchr(dpath, '/');
        int fd;

        if (!slash) {
                *ret_leaf = dpath;
                fd = fcntl(c->dest, F_DUPFD_CLOEXEC, 3);
                return fd < 0 ? ent_errno(c, e, err, negative_errno(), "dup") : fd;
        }
        _cleanup_free_ char *parent = strndup(dpath, (size_t)(slash - dpath));
        if (!parent)
                return rk_err(err, -ENOMEM, "out of memory");
        *ret_leaf = slash + 1;
        fd = rk_open_in_root(c->dest, parent, O_PATH | O_DIRECTORY, 0,
                             RK_RESOLVE_BENEATH | RK_RESOLVE_NO_SYMLINKS, NULL);
        if (fd == -ENOENT)
                fd = make_dirs(c, parent);
        if (fd == -ELOOP || fd == -EXDEV || fd == -ENOTDIR)
                return ent_err(c, e, err, -ELOOP,
                               "parent '%s' in the destination is not a directory reached "
                               "without symlinks",
                               parent);
        if (fd < 0)
                return ent_errno(c, e, err, fd, "cannot open the parent directory");
        return fd;
}

/* ---- metadata ---- */

static mode_t entry_mode(struct ctx *c, const struct ent *e)
{
        mode_t m = e->mode & 07777;
        /* Neutralised, not refused: an image's setuid root binary must not become one on the
         * host side, and apps run with no_new_privs anyway. The sticky bit is harmless. */
        if (m & (S_ISUID | S_ISGID)) {
                c->res->stats.setid_stripped++;
                m &= ~(mode_t)(S_ISUID | S_ISGID);
        }
        return m;
}

static void entry_times(const struct ent *e, struct timespec ts[2])
{
        struct archive_entry *ae = e->ae;
        long mn = archive_entry_mtime_nsec(ae), an = archive_entry_atime_nsec(ae);

        ts[1].tv_sec = (time_t)archive_entry_mtime(ae);
        ts[1].tv_nsec = mn >= 0 && mn < 1000000000L ? mn : 0;
        if (!archive_entry_mtime_is_set(ae))
                ts[1].tv_nsec = UTIME_OMIT;
        if (archive_entry_atime_is_set(ae)) {
                ts[0].tv_sec = (time_t)archive_entry_atime(ae);
                ts[0].tv_nsec = an >= 0 && an < 1000000000L ? an : 0;
        } else
                ts[0] = ts[1];
}

/* True if an xattr before index i has this name (n is capped by max_xattrs). The entry's
 * cursor is restored to just after i. */
static bool xattr_seen_before(struct archive_entry *ae, const char *name, size_t i)
{
        const char *n2;
        const void *v;
        size_t sz;
        bool seen = false;
        char *copy = strdup(name);

        if (!copy)
                return false;
        archive_entry_xattr_reset(ae);
        for (size_t j = 0; j <= i && archive_entry_xattr_next(ae, &n2, &v, &sz) == ARCHIVE_OK; j++)
                if (j < i && strcmp(n2, copy) == 0)
                        seen = true;
        free(copy);
        return seen;
}

/* Xattrs by allow-list of full names: only "user.*". security.capability (file caps),
 * security.selinux (labels), trusted.* and system.posix_acl_* are the image asking for
 * privilege or policy the host decides. fd < 0: check only, or a symlink (Linux refuses user
 * xattrs on those). */
static int apply_xattrs(struct ctx *c, const struct ent *e, int fd, bool can, rk_error *err)
{
        const char *name;
        const void *value;
        size_t size;

        archive_entry_xattr_reset(e->ae);
        for (size_t i = 0; archive_entry_xattr_next(e->ae, &name, &value, &size) == ARCHIVE_OK;
             i++) {
                /* libarchive's writer stores each xattr twice (LIBARCHIVE.xattr and
                 * SCHILY.xattr): the first of a name counts */
                if (xattr_seen_before(e->ae, name, i))
                        continue;
                if (!can || strncmp(name, "user.", 5) != 0 || name[5] == 0) {
                        c->res->stats.xattrs_dropped++;
                        continue;
                }
                if (fd < 0)
                        continue;
                if (fsetxattr(fd, name, value, size, 0) < 0) {
                        /* the file system cannot hold it (no user xattrs, or ext4's one
                         * block per inode): dropped and counted, as in check-only mode */
                        if (errno == ENOTSUP || errno == ENOSPC || errno == E2BIG) {
                                c->res->stats.xattrs_dropped++;
                                continue;
                        }
                        return ent_errno(c, e, err, negative_errno(), "cannot set xattr");
                }
        }
        return 0;
}

static int apply_owner(struct ctx *c, const struct ent *e, int fd, rk_error *err)
{
        if (!c->o->keep_owners || fd < 0)
                return 0;
        if (fchown(fd, (uid_t)archive_entry_uid(e->ae), (gid_t)archive_entry_gid(e->ae)) < 0)
                return ent_errno(c, e, err, negative_errno(), "cannot set owner");
        return 0;
}

/* Owner, mode, xattrs, times: all through the fd we created, times last. */
static int apply_file_meta(struct ctx *c, const struct ent *e, int fd, rk_error *err)
{
        struct timespec ts[2];
        mode_t mode = entry_mode(c, e);
        int r = apply_owner(c, e, fd, err);
        if (r < 0)
                return r;
        if (fd >= 0 && fchmod(fd, mode) < 0)
                return ent_errno(c, e, err, negative_errno(), "cannot set mode");
        r = apply_xattrs(c, e, fd, true, err);
        if (r < 0)
                return r;
        entry_times(e, ts);
        if (fd >= 0 && futimens(fd, ts) < 0)
                return ent_errno(c, e, err, negative_errno(), "cannot set times");
        return 0;
}

/* ---- entry checks ---- */

static int check_owner(struct ctx *c, const struct ent *e, rk_error *err)
{
        int64_t uid = archive_entry_uid(e->ae), gid = archive_entry_gid(e->ae);
        /* (uid_t)-1 would mean "leave unchanged" to chown */
        if (uid < 0 || uid >= UINT32_MAX || gid < 0 || gid >= UINT32_MAX)
                return ent_err(c, e, err, -EINVAL, "owner %" PRId64 ":%" PRId64 " out of range",
                               uid, gid);
        return 0;
}

static int check_xattrs(struct ctx *c, const struct ent *e, rk_error *err)
{
        const char *name;
        const void *value;
        size_t size, total = 0;
        size_t n = (size_t)archive_entry_xattr_reset(e->ae);

        if (n > c->l->max_xattrs)
                return ent_err(c, e, err, -EFBIG, "%zu xattrs, over the limit of %zu", n,
                               c->l->max_xattrs);
        while (archive_entry_xattr_next(e->ae, &name, &value, &size) == ARCHIVE_OK) {
                size_t nl = strlen(name);
                if (nl == 0 || nl > NAME_LIMIT || size > 65536)
                        return ent_err(c, e, err, -EFBIG, "xattr name or value too long");
                total += nl + size;
                if (total > c->l->max_xattr_bytes)
                        return ent_err(c, e, err, -EFBIG,
                                       "xattrs larger than the limit of %zu bytes",
                                       c->l->max_xattr_bytes);
        }
        return 0;
}

static int check_kind(struct ctx *c, struct ent *e, rk_error *err)
{
        struct archive_entry *ae = e->ae;
        const char *hl = archive_entry_hardlink(ae);

        if (hl) {
                e->kind = K_HARDLINK;
                e->link = hl;
                /* CVE-2016-5418: a hard link entry carrying data would write that data into
                 * whatever the link points at. */
                if (archive_entry_size_is_set(ae) && archive_entry_size(ae) > 0)
                        return ent_err(c, e, err, -EBADMSG, "hard link with data");
                return 0;
        }
        switch (archive_entry_filetype(ae)) {
        case AE_IFREG:
                e->kind = K_REG;
                return 0;
        case AE_IFDIR:
                e->kind = K_DIR;
                return 0;
        case AE_IFLNK:
                e->kind = K_LNK;
                e->link = archive_entry_symlink(ae);
                if (!e->link || !*e->link)
                        return ent_err(c, e, err, -EBADMSG, "symlink without a target");
                return 0;
        case AE_IFCHR:
        case AE_IFBLK:
                return ent_err(c, e, err, -EPERM,
                               "device nodes are not allowed (the runtime provides /dev)");
        case AE_IFIFO:
                return ent_err(c, e, err, -EPERM, "FIFOs are not allowed");
        case AE_IFSOCK:
                return ent_err(c, e, err, -EPERM, "sockets are not allowed");
        default:
                return ent_err(c, e, err, -EBADMSG, "unknown entry type");
        }
}

static int check_sizes(struct ctx *c, struct ent *e, rk_error *err)
{
        struct archive_entry *ae = e->ae;
        int64_t size = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : 0;

        if (size < 0)
                return ent_err(c, e, err, -EBADMSG, "negative size");
        e->size = (uint64_t)size;
        if (e->kind == K_REG && e->size > c->l->max_file_bytes &&
            strcmp(e->norm, "manifest") != 0) /* which has a cap of its own */
                return ent_err(c, e, err, -EFBIG,
                               "file of %" PRIu64 " bytes, over the limit of %" PRIu64 " bytes",
                               e->size, c->l->max_file_bytes);
        /* Sparse files have an apparent size that their data does not pay for. */
        if (archive_entry_sparse_count(ae) > 0)
                return ent_err(c, e, err, -EBADMSG, "sparse files are not supported");
        if (e->link && strlen(e->link) > c->l->max_link_len)
                return ent_err(c, e, err, -ENAMETOOLONG,
                               "link target longer than the limit of %zu bytes",
                               c->l->max_link_len);
        return 0;
}

static int classify(struct ctx *c, struct archive_entry *ae, struct ent *e, rk_error *err)
{
        const char *name = archive_entry_pathname(ae), *why = NULL;

        *e = (struct ent){.ae = ae};
        if (!name)
                name = archive_entry_pathname_utf8(ae);
        if (!name || !*name)
                return rk_err(err, -EBADMSG, "'%s': entry %" PRIu64 " has no name", c->what,
                              c->res->stats.entries);
        rk_aci_printable(name, e->pname, sizeof(e->pname));
        e->mode = archive_entry_perm(ae);
        if (c->res->stats.entries > c->l->max_entries)
                return ent_err(c, e, err, -EFBIG, "more than the limit of %" PRIu64 " entries",
                               c->l->max_entries);
        if (strlen(name) > c->l->max_path_len)
                return ent_err(c, e, err, -ENAMETOOLONG, "name longer than the limit of %zu bytes",
                               c->l->max_path_len);
        int r = clean_name(name, c->l->max_depth, &e->norm, &e->depth, &why);
        if (r == -ENOMEM)
                return rk_err(err, r, "out of memory");
        if (r < 0)
                return ent_err(c, e, err, r, "%s", why);
        r = check_kind(c, e, err);
        if (r >= 0)
                r = check_sizes(c, e, err);
        if (r >= 0)
                r = check_xattrs(c, e, err);
        if (r >= 0)
                r = check_owner(c, e, err);
        return r;
}

/* ---- manifest ---- */

static int write_manifest(struct ctx *c, const struct ent *e, rk_error *err)
{
        _cleanup_close_ int fd =
            openat(c->dest, "manifest", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return ent_errno(c, e, err, negative_errno(), "cannot create");
        int r = rk_write_all(fd, c->res->manifest, c->res->manifest_len);
        if (r < 0)
                return ent_errno(c, e, err, r, "cannot write");
        return apply_file_meta(c, e, fd, err);
}

static int do_manifest(struct ctx *c, const struct ent *e, rk_error *err)
{
        if (e->depth != 1)
                return ent_err(c, e, err, -EBADMSG,
                               "outside 'rootfs/' (an ACI holds only 'manifest' and 'rootfs/')");
        if (e->kind != K_REG)
                return ent_err(c, e, err, -EBADMSG, "'manifest' must be a regular file");
        if (c->seen_manifest)
                return ent_err(c, e, err, -EBADMSG, "duplicate entry (appc forbids duplicates)");
        c->seen_manifest = true;
        if (e->size > c->l->max_manifest_bytes)
                return ent_err(c, e, err, -EFBIG,
                               "manifest of %" PRIu64 " bytes, over the limit of %zu bytes",
                               e->size, c->l->max_manifest_bytes);
        _cleanup_free_ char *buf = malloc((size_t)e->size + 1);
        size_t got = 0;
        if (!buf)
                return rk_err(err, -ENOMEM, "out of memory");
        for (;;) {
                ssize_t n = read_data(c, e, buf + got, (size_t)e->size - got, err);
                if (n < 0)
                        return (int)n;
                if (n == 0 || (got += (size_t)n) == e->size)
                        break;
        }
        if (got != e->size)
                return ent_err(c, e, err, -EBADMSG, "truncated");
        buf[got] = 0;
        c->res->manifest = TAKE_PTR(buf);
        c->res->manifest_len = got;
        if (c->dest < 0 || c->o->rootfs_only || c->layer > 0)
                return apply_file_meta(c, e, -1, err);
        return write_manifest(c, e, err);
}

/* ---- rootfs entries ---- */

/* Refuse entries below something this archive made as a non-directory (the symlink
 * write-through class: Docker CVE-2014-6407, umoci CVE-2021-29136); skip entries below a
 * non-directory an upper layer provided. Returns 1 to skip. */
static int check_parents(struct ctx *c, const struct ent *e, rk_error *err)
{
        _cleanup_free_ char *p = strdup(e->norm);
        int skip = 0;

        if (!p)
                return rk_err(err, -ENOMEM, "out of memory");
        for (char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
                *s = 0;
                struct node *n = node_find(c, p);
                if (n && n->seen_layer == c->layer && n->seen_kind != K_DIR)
                        return n->seen_kind == K_LNK
                                   ? ent_err(c, e, err, -ELOOP,
                                             "parent '%s' is a symlink made by this archive; "
                                             "refusing to write through it",
                                             p)
                                   : ent_err(c, e, err, -ENOTDIR,
                                             "parent '%s' is not a directory in this archive", p);
                if (n && n->provider != NO_LAYER && n->provider != c->layer && !n->is_dir)
                        skip = 1;
                *s = '/';
        }
        return skip;
}

/* Directories made for the entries below them. */
static int record_parents(struct ctx *c, const struct ent *e, rk_error *err)
{
        _cleanup_free_ char *p = strdup(e->norm);
        if (!p)
                return rk_err(err, -ENOMEM, "out of memory");
        for (char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
                *s = 0;
                struct node *n = node_get(c, p);
                if (!n)
                        return rk_err(err, -ENOMEM, "out of memory");
                if (n->provider == NO_LAYER) {
                        n->provider = c->layer;
                        n->is_dir = n->implicit = true;
                }
                *s = '/';
        }
        return 0;
}

static int add_fixup(struct ctx *c, const struct ent *e, const char *dpath, int fd, rk_error *err)
{
        struct stat st;
        if (c->n_fix == c->cap_fix) {
                size_t ncap = c->cap_fix ? c->cap_fix * 2 : 64;
                struct fixup *f = realloc(c->fix, ncap * sizeof(*f));
                if (!f)
                        return rk_err(err, -ENOMEM, "out of memory");
                c->fix = f;
                c->cap_fix = ncap;
        }
        struct fixup *f = &c->fix[c->n_fix];
        *f = (struct fixup){.depth = e->depth, .mode = entry_mode(c, e)};
        entry_times(e, f->ts);
        if (fd >= 0) {
                if (fstat(fd, &st) < 0)
                        return ent_errno(c, e, err, negative_errno(), "stat");
                f->dev = st.st_dev;
                f->ino = st.st_ino;
        }
        f->dpath = strdup(dpath);
        if (!f->dpath)
                return rk_err(err, -ENOMEM, "out of memory");
        c->n_fix++;
        return 0;
}

static int write_dir(struct ctx *c, const struct ent *e, struct node *n, rk_error *err)
{
        const char *dpath = dest_path(c, e->norm), *leaf;
        _cleanup_close_ int fd = -EBADF;

        if (c->dest < 0) {
                (void)entry_mode(c, e);
                return apply_xattrs(c, e, -1, true, err);
        }
        if (n->implicit || strcmp(dpath, ".") == 0) {
                fd = rk_open_in_root(c->dest, dpath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0,
                                     RK_RESOLVE_BENEATH | RK_RESOLVE_NO_SYMLINKS, NULL);
                if (fd < 0)
                        return ent_errno(c, e, err, fd, "cannot open directory");
        } else {
                _cleanup_close_ int pfd = open_parent(c, e, dpath, &leaf, err);
                if (pfd < 0)
                        return pfd;
                /* 0700 until the fixup: nobody else walks in while we fill it */
                if (mkdirat(pfd, leaf, 0700) < 0) {
                        struct stat st;
                        /* a caller may have made rootfs/ for us; nothing else may exist */
                        if (errno != EEXIST || strcmp(e->norm, "rootfs") != 0 ||
                            fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                            !S_ISDIR(st.st_mode))
                                return ent_errno(c, e, err, negative_errno(),
                                                 "cannot create directory");
                }
                fd = openat(pfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return ent_errno(c, e, err, negative_errno(), "cannot open directory");
        }
        int r = apply_owner(c, e, fd, err);
        if (r >= 0)
                r = apply_xattrs(c, e, fd, true, err);
        if (r >= 0)
                r = add_fixup(c, e, dpath, fd, err);
        return r;
}

static int copy_data(struct ctx *c, const struct ent *e, int fd, rk_error *err)
{
        uint64_t got = 0;
        for (;;) {
                ssize_t n = read_data(c, e, c->buf, DATA_BUF, err);
                if (n < 0)
                        return (int)n;
                if (n == 0)
                        break;
                got += (uint64_t)n;
                if (got > e->size)
                        return ent_err(c, e, err, -EBADMSG, "more data than its size");
                int r = rk_write_all(fd, c->buf, (size_t)n);
                if (r < 0)
                        return ent_errno(c, e, err, r, "cannot write");
        }
        if (got != e->size)
                return ent_err(c, e, err, -EBADMSG, "truncated");
        return 0;
}

static int write_file(struct ctx *c, const struct ent *e, struct node *n, rk_error *err)
{
        const char *dpath = dest_path(c, e->norm), *leaf;
        struct stat st;

        c->res->stats.bytes += e->size;
        if (c->dest < 0)
                return apply_file_meta(c, e, -1, err);
        _cleanup_close_ int pfd = open_parent(c, e, dpath, &leaf, err);
        if (pfd < 0)
                return pfd;
        _cleanup_close_ int fd =
            openat(pfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return ent_errno(c, e, err, negative_errno(), "cannot create");
        int r = copy_data(c, e, fd, err);
        if (r >= 0)
                r = apply_file_meta(c, e, fd, err);
        if (r < 0)
                return r;
        if (fstat(fd, &st) < 0)
                return ent_errno(c, e, err, negative_errno(), "stat");
        n->dev = st.st_dev;
        n->ino = st.st_ino;
        return 0;
}

static int write_symlink(struct ctx *c, const struct ent *e, rk_error *err)
{
        const char *dpath = dest_path(c, e->norm), *leaf;
        struct timespec ts[2];

        /* No xattrs on symlinks (Linux refuses user.* there); mode is meaningless. */
        int r = apply_xattrs(c, e, -1, false, err);
        if (r < 0 || c->dest < 0)
                return r;
        _cleanup_close_ int pfd = open_parent(c, e, dpath, &leaf, err);
        if (pfd < 0)
                return pfd;
        /* The target is data: stored, never followed or checked (it is resolved inside the
         * app's root at run time). */
        if (symlinkat(e->link, pfd, leaf) < 0)
                return ent_errno(c, e, err, negative_errno(), "cannot create symlink");
        if (c->o->keep_owners && fchownat(pfd, leaf, (uid_t)archive_entry_uid(e->ae),
                                          (gid_t)archive_entry_gid(e->ae), AT_SYMLINK_NOFOLLOW) < 0)
                return ent_errno(c, e, err, negative_errno(), "cannot set owner");
        entry_times(e, ts);
        if (utimensat(pfd, leaf, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return ent_errno(c, e, err, negative_errno(), "cannot set times");
        return 0;
}

/* The target of a hard link must be a regular file that an earlier entry of this archive
 * wrote (CVE-2016-5418 class: never a path outside, never a symlink, never something that
 * was there before). Returns 0 to link, 1 if the target was skipped (whitelist or an upper
 * layer), so the link is too. */
static int hardlink_target(struct ctx *c, const struct ent *e, struct node **ret,
                           enum fate *ret_skip, rk_error *err)
{
        _cleanup_free_ char *t = NULL;
        const char *why = NULL;
        size_t depth;

        int r = clean_name(e->link, c->l->max_depth, &t, &depth, &why);
        if (r == -ENOMEM)
                return rk_err(err, r, "out of memory");
        if (r < 0)
                return ent_err(c, e, err, r, "hard link target: %s", why);
        if (strncmp(t, "rootfs/", 7) != 0)
                return ent_err(c, e, err, -EXDEV, "hard link target is outside 'rootfs/'");
        struct node *n = node_find(c, t);
        if (!n || n->seen_layer != c->layer || n->fate == F_NONE)
                return ent_err(c, e, err, -EXDEV,
                               "hard link target '%s' is not an earlier entry of this archive", t);
        if (n->seen_kind != K_REG && n->seen_kind != K_HARDLINK)
                return ent_err(c, e, err, -EXDEV, "hard link target '%s' is not a regular file", t);
        *ret = n;
        *ret_skip = n->fate;
        return n->fate == F_WRITTEN ? 0 : 1;
}

static int write_hardlink(struct ctx *c, const struct ent *e, struct node *n,
                          const struct node *target, rk_error *err)
{
        const char *dpath = dest_path(c, e->norm), *leaf, *tleaf;
        struct stat st;
        struct ent te = *e;

        if (c->dest < 0)
                return 0;
        _cleanup_close_ int pfd = open_parent(c, e, dpath, &leaf, err);
        if (pfd < 0)
                return pfd;
        _cleanup_free_ char *tpath = strdup(dest_path(c, target->path));
        if (!tpath)
                return rk_err(err, -ENOMEM, "out of memory");
        _cleanup_close_ int tfd = open_parent(c, &te, tpath, &tleaf, err);
        if (tfd < 0)
                return tfd;
        /* Still the inode we wrote? */
        if (fstatat(tfd, tleaf, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
            st.st_dev != target->dev || st.st_ino != target->ino)
                return ent_err(c, e, err, -EXDEV, "hard link target '%s' changed", target->path);
        if (linkat(tfd, tleaf, pfd, leaf, 0) < 0)
                return ent_errno(c, e, err, negative_errno(), "cannot create hard link");
        n->dev = st.st_dev;
        n->ino = st.st_ino;
        return 0;
}

static int skip(struct ctx *c, struct node *n, enum fate f)
{
        n->fate = f;
        if (f == F_SKIP_UPPER)
                c->res->stats.skipped_upper++;
        else
                c->res->stats.skipped_whitelist++;
        return 0;
}

static int write_entry(struct ctx *c, const struct ent *e, struct node *n,
                       const struct node *target, rk_error *err)
{
        int r = record_parents(c, e, err);
        if (r < 0)
                return r;
        switch (e->kind) {
        case K_DIR:
                r = write_dir(c, e, n, err);
                c->res->stats.dirs++;
                break;
        case K_REG:
                r = write_file(c, e, n, err);
                c->res->stats.files++;
                break;
        case K_LNK:
                r = write_symlink(c, e, err);
                c->res->stats.symlinks++;
                break;
        case K_HARDLINK:
                r = write_hardlink(c, e, n, target, err);
                c->res->stats.hardlinks++;
                break;
        }
        if (r < 0)
                return r;
        n->fate = F_WRITTEN;
        n->provider = c->layer;
        n->is_dir = e->kind == K_DIR;
        n->implicit = false;
        return 0;
}

static int do_rootfs_entry(struct ctx *c, const struct ent *e, rk_error *err)
{
        struct node *target = NULL;
        enum fate tfate = F_NONE;

        if (e->depth == 1 && e->kind != K_DIR)
                return ent_err(c, e, err, -EBADMSG, "'rootfs' must be a directory");
        struct node *n = node_get(c, e->norm);
        if (!n)
                return rk_err(err, -ENOMEM, "out of memory");
        if (n->seen_layer == c->layer)
                return ent_err(c, e, err, -EBADMSG, "duplicate entry (appc forbids duplicates)");
        int r = check_parents(c, e, err);
        if (r < 0)
                return r;
        n->seen_layer = c->layer;
        n->seen_kind = e->kind;
        n->fate = F_NONE;
        if (r > 0)
                return skip(c, n, F_SKIP_UPPER);
        if (n->provider == c->layer && e->kind != K_DIR)
                /* this archive put entries below it first */
                return ent_err(c, e, err, -EBADMSG,
                               "conflicts with the directory of earlier "
                               "entries");
        /* upper layers win; a directory they only made for their entries takes our metadata */
        if (n->provider != NO_LAYER && n->provider != c->layer &&
            !(n->implicit && e->kind == K_DIR))
                return skip(c, n, F_SKIP_UPPER);
        if (!wl_allows(c, e))
                return skip(c, n, F_SKIP_WL);
        if (e->kind == K_HARDLINK) {
                r = hardlink_target(c, e, &target, &tfate, err);
                if (r < 0)
                        return r;
                if (r > 0)
                        return skip(c, n, tfate);
        }
        return write_entry(c, e, n, target, err);
}

static int do_entry(struct ctx *c, struct archive_entry *ae, rk_error *err)
{
        struct ent e;

        c->res->stats.entries++;
        c->in_entry = true;
        int r = classify(c, ae, &e, err);
        _cleanup_free_ char *norm = e.norm;
        if (r < 0)
                return r;
        memcpy(c->last, e.pname, sizeof(c->last));
        if (!*e.norm) {
                /* "./": the archive's own root, as `tar -C layout .` writes it */
                if (e.kind != K_DIR)
                        return ent_err(c, &e, err, -EBADMSG, "names the archive root");
                return 0;
        }
        const char *slash = strchr(e.norm, '/');
        size_t top = slash ? (size_t)(slash - e.norm) : strlen(e.norm);
        if (top == 8 && strncmp(e.norm, "manifest", 8) == 0)
                return do_manifest(c, &e, err);
        /* exactly "rootfs" or "rootfs/...": "rootfs-evil/x" is outside */
        if (top != 6 || strncmp(e.norm, "rootfs", 6) != 0)
                return ent_err(c, &e, err, -EBADMSG,
                               "outside 'rootfs/' (an ACI holds only 'manifest' and 'rootfs/')");
        c->seen_rootfs = true;
        return do_rootfs_entry(c, &e, err);
}

/* ---- layers ---- */

static int check_id(struct ctx *c, const struct rk_aci_layer *L, rk_error *err)
{
        if (!L->expect_id || strcmp(L->expect_id, c->res->id) == 0)
                return 0;
        char want[RK_IMAGE_ID_LEN + 8];
        return rk_err(err, -EBADMSG, "'%s': image ID mismatch: expected %s, got %s", c->what,
                      rk_aci_printable(L->expect_id, want, sizeof(want)), c->res->id);
}

static int extract_layer(struct ctx *c, const struct rk_aci_layer *L, rk_error *err)
{
        struct archive_entry *ae;
        int r;

        c->what = L->what ? L->what : "image";
        c->seen_manifest = c->seen_rootfs = c->in_entry = false;
        c->last[0] = 0;
        r = wl_init(c, &c->wl, L->whitelist, L->n_whitelist, err);
        if (r >= 0)
                r = wl_init(c, &c->uwl, L->upper_whitelist, L->n_upper_whitelist, err);
        if (r >= 0)
                r = rk_aci_reader_open(L->fd, c->what, c->l, &c->rd, err);
        while (r >= 0 && (r = rk_aci_reader_next(c->rd, &ae, err)) > 0) {
                r = do_entry(c, ae, err);
                if (r >= 0)
                        c->in_entry = false;
        }
        if (r < 0 && c->rd && err && !c->in_entry) {
                /* libarchive refused a header before we saw its name: say where */
                size_t len = strlen(err->msg);
                snprintf(err->msg + len, sizeof(err->msg) - len, " (after entry '%s')",
                         c->last[0] ? c->last : "(none)");
        }
        if (r >= 0)
                r = rk_aci_reader_finish(c->rd, c->res->id, err);
        if (r >= 0 && !c->seen_manifest)
                r = rk_err(err, -EBADMSG, "'%s': no 'manifest' entry: not an ACI", c->what);
        if (r >= 0 && !c->seen_rootfs)
                r = rk_err(err, -EBADMSG, "'%s': no 'rootfs' directory: not an ACI", c->what);
        if (r >= 0)
                r = check_id(c, L, err);
        c->rd = rk_aci_reader_free(c->rd);
        wl_clear(&c->wl);
        wl_clear(&c->uwl);
        return r;
}

static int cmp_fixup(const void *a, const void *b)
{
        const struct fixup *x = a, *y = b;
        return x->depth < y->depth ? 1 : x->depth > y->depth ? -1 : 0;
}

/* Directory modes and times, deepest first (a parent's mode never blocks a child's fixup and
 * a child's fixup never bumps a parent's mtime). Re-resolved without symlinks and checked to
 * be the inode we made: never by a path something could have swapped (libarchive 2021
 * fixup CVEs, rkt's own filepath.Join fixups). */
static int apply_fixups(struct ctx *c, rk_error *err)
{
        struct stat st;

        if (c->n_fix == 0)
                return 0;
        qsort(c->fix, c->n_fix, sizeof(*c->fix), cmp_fixup);
        for (size_t i = 0; c->dest >= 0 && i < c->n_fix; i++) {
                struct fixup *f = &c->fix[i];
                _cleanup_close_ int fd =
                    rk_open_in_root(c->dest, f->dpath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0,
                                    RK_RESOLVE_BENEATH | RK_RESOLVE_NO_SYMLINKS, NULL);
                if (fd < 0 || fstat(fd, &st) < 0 || st.st_dev != f->dev || st.st_ino != f->ino)
                        return rk_err(err, -EXDEV, "directory '%s' changed during extraction",
                                      f->dpath);
                if (fchmod(fd, f->mode) < 0 || futimens(fd, f->ts) < 0)
                        return rk_err_errno(err, negative_errno(),
                                            "cannot set mode or times of directory '%s'", f->dpath);
        }
        return 0;
}

static void ctx_done(struct ctx *c)
{
        tdestroy(c->tree, free);
        for (size_t i = 0; i < c->n_fix; i++)
                free(c->fix[i].dpath);
        free(c->fix);
        free(c->buf);
}

int rk_aci_extract_in_process(const struct rk_aci_layer *layers, size_t n,
                              const struct rk_aci_opts *opts, const struct rk_aci_limits *l,
                              struct rk_aci_result *results, rk_error *err)
{
        struct ctx c = {.o = opts, .l = l, .dest = opts->dest_fd};
        struct rk_aci_result *tmp = calloc(n, sizeof(*tmp));
        int r = 0;

        c.buf = malloc(DATA_BUF);
        if (!tmp || !c.buf) {
                free(tmp);
                free(c.buf);
                return rk_err(err, -ENOMEM, "out of memory");
        }
        /* Names are bytes: libarchive converts pax UTF-8 names to the locale's charset, which
         * in the C locale leaves them as they are (and the same whatever the caller's locale). */
        locale_t cloc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
        locale_t old = cloc ? uselocale(cloc) : (locale_t)0;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                c.layer = i;
                c.res = &tmp[i];
                r = extract_layer(&c, &layers[i], err);
        }
        if (r >= 0)
                r = apply_fixups(&c, err);
        if (cloc) {
                uselocale(old);
                freelocale(cloc);
        }
        ctx_done(&c);
        for (size_t i = 0; i < n; i++) {
                if (r >= 0)
                        results[i] = tmp[i];
                else
                        rk_aci_result_clear(&tmp[i]);
        }
        free(tmp);
        return r < 0 ? r : 0;
}
