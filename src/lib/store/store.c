/* SPDX-License-Identifier: Apache-2.0 */
/* The image store: opening the layout, and importing blobs. */
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include "aci/archive.h"
#include "base/fileio.h"
#include "base/json.h"
#include "store/store-internal.h"

int64_t rk_store_now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static bool is_hex(const char *p, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
                        return false;
        return true;
}

bool rk_store_is_image_id(const char *s)
{
        return s && strncmp(s, "sha512-", 7) == 0 && strlen(s) == RK_IMAGE_ID_LEN &&
               is_hex(s + 7, RK_SHA512_HEX_LEN);
}

bool rk_store_is_tree_id(const char *s)
{
        return s && strncmp(s, "deps-", 5) == 0 && rk_store_is_image_id(s + 5);
}

/* The machine runs with fs.protected_symlinks=0: a directory someone else can write would let
 * them swap names under us, so every store directory must be ours and private. */
static int check_dir(int fd, const char *what, rk_error *err)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return rk_err_errno(err, negative_errno(), "%s", what);
        if (!S_ISDIR(st.st_mode))
                return rk_err(err, -ENOTDIR, "%s: not a directory", what);
        if (st.st_uid != geteuid() || (st.st_mode & 022))
                return rk_err(err, -EPERM,
                              "%s: owned by uid %u with mode %04o; the store needs a directory "
                              "owned by uid %u that nobody else can write",
                              what, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777),
                              (unsigned)geteuid());
        return 0;
}

int rk_store_dir_open(int parentfd, const char *name, bool create, const char *what, rk_error *err)
{
        if (create && mkdirat(parentfd, name, 0700) < 0 && errno != EEXIST)
                return rk_err_errno(err, negative_errno(), "%s: cannot create", what);
        _cleanup_close_ int fd =
            openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "%s", what);
        int r = check_dir(fd, what, err);
        return r < 0 ? r : TAKE_FD(fd);
}

int rk_store_shard_open(struct rk_store *s, const char *id, bool create, rk_error *err)
{
        char shard[3] = {id[7], id[8], 0}, what[PATH_MAX];
        snprintf(what, sizeof(what), "store '%s': cas/blob/sha512/%s", s->dir, shard);
        return rk_store_dir_open(s->blobfd, shard, create, what, err);
}

static int open_layout(struct rk_store *s, rk_error *err)
{
        static const struct {
                size_t parent, self; /* offsets of the fds in struct rk_store */
                const char *name, *path;
        } dirs[] = {
#define FD(f) offsetof(struct rk_store, f)
            {FD(dirfd), FD(casfd), "cas", "cas"},
            {FD(casfd), FD(blobfd), "blob", "cas/blob"},
            {FD(blobfd), FD(blobfd), "sha512", "cas/blob/sha512"},
            {FD(casfd), FD(treefd), "tree", "cas/tree"},
            {FD(casfd), FD(tmpfd), "tmp", "cas/tmp"},
            {FD(dirfd), FD(lockfd), "locks", "locks"},
            {FD(lockfd), FD(imglockfd), "images", "locks/images"},
            {FD(lockfd), FD(treelockfd), "trees", "locks/trees"},
#undef FD
        };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                char what[PATH_MAX];
                int *parent = (int *)((char *)s + dirs[i].parent);
                int *self = (int *)((char *)s + dirs[i].self);
                snprintf(what, sizeof(what), "store '%s': %s", s->dir, dirs[i].path);
                int fd = rk_store_dir_open(*parent, dirs[i].name, true, what, err);
                if (fd < 0)
                        return fd;
                if (*self >= 0)
                        (void)close(*self); /* blob -> blob/sha512 */
                *self = fd;
        }
        struct stat st;
        if (fstat(s->casfd, &st) < 0)
                return rk_err_errno(err, negative_errno(), "store '%s'", s->dir);
        s->dev = st.st_dev;
        return 0;
}

int rk_store_open(const char *dir, struct rk_store **ret, rk_error *err)
{
        struct rk_store *s = calloc(1, sizeof(*s));
        if (!s)
                return rk_err(err, -ENOMEM, "out of memory");
        s->dirfd = s->casfd = s->blobfd = s->treefd = s->tmpfd = -EBADF;
        s->lockfd = s->imglockfd = s->treelockfd = -EBADF;
        s->dir = strdup(dir);
        int r = s->dir ? 0 : rk_err(err, -ENOMEM, "out of memory");
        if (r >= 0)
                r = rk_mkdir_p(dir, 0700, err);
        if (r >= 0) {
                char what[PATH_MAX];
                snprintf(what, sizeof(what), "store '%s'", dir);
                s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                r = s->dirfd < 0 ? rk_err_errno(err, negative_errno(), "%s", what)
                                 : check_dir(s->dirfd, what, err);
        }
        if (r >= 0)
                r = open_layout(s, err);
        if (r >= 0)
                r = rk_index_open(s, err);
        if (r < 0) {
                rk_store_close(s);
                return r;
        }
        *ret = s;
        return 0;
}

struct rk_store *rk_store_close(struct rk_store *s)
{
        if (!s)
                return NULL;
        rk_index_close(s);
        rk_audit_close(s->audit);
        int *fds[] = {&s->dirfd, &s->casfd,  &s->blobfd,    &s->treefd,
                      &s->tmpfd, &s->lockfd, &s->imglockfd, &s->treelockfd};
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                safe_close(*fds[i]);
        free(s->dir);
        free(s);
        return NULL;
}

void rk_store_set_sig_hook(struct rk_store *s, rk_store_sig_hook_fn fn, void *userdata)
{
        s->sig_hook = fn;
        s->sig_ud = userdata;
}

int rk_store_audit(struct rk_store *s, const char *event, json_t *fields, rk_error *err)
{
        if (!s->audit) {
                int r = rk_audit_open(s->dir, &s->audit, err);
                if (r < 0)
                        return r;
        }
        if (!event)
                return 0;
        int r = fields ? rk_audit_append(s->audit, event, fields, err)
                       : rk_err(err, -ENOMEM, "out of memory");
        json_decref(fields);
        return r;
}

void rk_image_info_clear(struct rk_image_info *i)
{
        if (!i)
                return;
        free(i->name);
        rk_labels_clear(&i->labels);
        free(i->signer);
        free(i->prefix);
        free(i->rule);
        free(i->insecure);
        *i = (struct rk_image_info){0};
}

void rk_image_infos_free(struct rk_image_info *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                rk_image_info_clear(&v[i]);
        free(v);
}

void rk_tree_info_clear(struct rk_tree_info *t)
{
        if (!t)
                return;
        free(t->layers);
        *t = (struct rk_tree_info){0};
}

void rk_tree_infos_free(struct rk_tree_info *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                rk_tree_info_clear(&v[i]);
        free(v);
}

void rk_remote_clear(struct rk_remote *r)
{
        if (!r)
                return;
        free(r->url);
        free(r->etag);
        *r = (struct rk_remote){0};
}

/* ---- temporary files ---- */

int rk_store_tmpfile(struct rk_store *s, rk_error *err)
{
        int fd = openat(s->tmpfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(),
                                    "store '%s': cannot create a file in cas/tmp", s->dir);
        return fd;
}

/* Copies all of in (from offset 0, in's offset untouched) to out at its offset. */
static int copy_all(int in, int out, const char *what, rk_error *err)
{
        loff_t off = 0;
        for (;;) {
                ssize_t n = copy_file_range(in, &off, out, NULL, 1 << 30, 0);
                if (n == 0)
                        return 0;
                if (n > 0)
                        continue;
                if (errno == EINTR)
                        continue;
                if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
                        return rk_err_errno(err, negative_errno(), "%s: cannot copy", what);
                break;
        }
        char buf[65536];
        for (;;) {
                ssize_t n = pread(in, buf, sizeof(buf), off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return rk_err_errno(err, negative_errno(), "%s: cannot read", what);
                if (n == 0)
                        return 0;
                int r = rk_write_all(out, buf, (size_t)n);
                if (r < 0)
                        return rk_err_errno(err, r, "%s: cannot write", what);
                off += n;
        }
}

int rk_store_copy(int in, int out, const char *what, rk_error *err)
{
        return copy_all(in, out, what, err);
}

int rk_store_tmpfile_copy(struct rk_store *s, int src, const char *what, rk_error *err)
{
        struct stat st;
        struct rk_aci_limits l;
        rk_aci_limits_init(&l);
        if (fstat(src, &st) < 0)
                return rk_err_errno(err, negative_errno(), "'%s'", what);
        if (!S_ISREG(st.st_mode))
                return rk_err(err, -EINVAL, "'%s': not a regular file", what);
        /* the extractor would refuse it anyway; refuse before copying gigabytes */
        if ((uint64_t)st.st_size > l.max_compressed_bytes)
                return rk_err(err, -EFBIG, "'%s': %ju bytes, limit %ju", what,
                              (uintmax_t)st.st_size, (uintmax_t)l.max_compressed_bytes);
        _cleanup_close_ int fd = rk_store_tmpfile(s, err);
        if (fd < 0)
                return fd;
        int r = copy_all(src, fd, what, err);
        if (r < 0)
                return r;
        if (lseek(fd, 0, SEEK_SET) < 0)
                return rk_err_errno(err, negative_errno(), "'%s'", what);
        return TAKE_FD(fd);
}

/* An fd we may link into the store as is: an anonymous regular file on the store's file
 * system (rk_store_tmpfile). Anything else is copied, so a caller's file is never
 * hard-linked into the store (its owner could change the blob later). */
static int own_fd(struct rk_store *s, int fd, rk_error *err)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return rk_err_errno(err, negative_errno(), "import");
        if (S_ISREG(st.st_mode) && st.st_nlink == 0 && st.st_dev == s->dev &&
            st.st_uid == geteuid()) {
                _cleanup_close_ int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                if (d < 0 || lseek(d, 0, SEEK_SET) < 0)
                        return rk_err_errno(err, negative_errno(), "import");
                return TAKE_FD(d);
        }
        return rk_store_tmpfile_copy(s, fd, "import", err);
}

/* ---- import ---- */

static int check_admission(const struct rk_admission *a, const void *sig, size_t sig_len,
                           rk_error *err)
{
        if (!a || !a->signer == !a->insecure)
                return rk_err(err, -EINVAL,
                              "import: the admission must name either a signer or the "
                              "insecure option that allowed the image");
        if (a->signer && (!sig || !sig_len))
                return rk_err(err, -EINVAL, "import: a verified image needs its signature");
        if (sig_len > RK_SIG_MAX)
                return rk_err(err, -EFBIG, "import: signature of %zu bytes, limit %d", sig_len,
                              RK_SIG_MAX);
        if (a->signer && strlen(a->signer) > RK_FPR_MAX)
                return rk_err(err, -EINVAL, "import: signer fingerprint too long");
        return 0;
}

static char *dup_or_null(const char *s, bool *oom)
{
        char *d = s ? strdup(s) : NULL;
        if (s && !d)
                *oom = true;
        return d;
}

static int labels_copy(const struct rk_labels *from, struct rk_labels *to)
{
        to->v = calloc(from->n + 1, sizeof(*to->v));
        if (!to->v)
                return -ENOMEM;
        for (size_t i = 0; i < from->n; i++) {
                to->v[i].name = strdup(from->v[i].name);
                to->v[i].value = strdup(from->v[i].value);
                to->n++;
                if (!to->v[i].name || !to->v[i].value)
                        return -ENOMEM;
        }
        return 0;
}

/* The row for a checked archive. */
static int make_info(const struct rk_aci_result *res, const struct rk_image_manifest *m,
                     uint64_t size, const struct rk_admission *a, bool has_sig,
                     struct rk_image_info *ret, rk_error *err)
{
        struct rk_image_info i = {.size = size, .has_signature = has_sig};
        bool oom = false;
        memcpy(i.id, res->id, sizeof(i.id));
        int r = rk_sha512_buf_hex(res->manifest, res->manifest_len, i.manifest_sha512, err);
        if (r < 0)
                return r;
        i.name = dup_or_null(m->name, &oom);
        i.signer = dup_or_null(a->signer, &oom);
        i.prefix = dup_or_null(a->prefix, &oom);
        i.rule = dup_or_null(a->rule, &oom);
        i.insecure = dup_or_null(a->insecure, &oom);
        if (oom || labels_copy(&m->labels, &i.labels) < 0) {
                rk_image_info_clear(&i);
                return rk_err(err, -ENOMEM, "out of memory");
        }
        i.import_time = i.last_used = rk_store_now();
        *ret = i;
        return 0;
}

/* Same bytes? Only consulted on re-import of an ID already stored. */
static bool same_bytes(int a, int b)
{
        struct stat sa, sb;
        char ha[RK_SHA512_HEX_LEN + 1], hb[RK_SHA512_HEX_LEN + 1];
        if (fstat(a, &sa) < 0 || fstat(b, &sb) < 0 || sa.st_size != sb.st_size)
                return false;
        if (lseek(a, 0, SEEK_SET) < 0 || lseek(b, 0, SEEK_SET) < 0 ||
            rk_sha512_fd_hex(a, ha, NULL) < 0 || rk_sha512_fd_hex(b, hb, NULL) < 0)
                return false;
        return strcmp(ha, hb) == 0;
}

static int link_tmpfile(int fd, int dirfd, const char *name)
{
        if (linkat(fd, "", dirfd, name, AT_EMPTY_PATH) == 0)
                return 0;
        if (errno != EPERM && errno != ENOENT && errno != EINVAL)
                return negative_errno();
        char proc[64];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        return linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW) == 0 ? 0 : negative_errno();
}

/* The blob appears under its final name complete or not at all: fsync'd, linked under a
 * temporary name, renamed over the final one (atomic, also when replacing), dir fsync'd. */
static int place_blob(struct rk_store *s, int shard, int fd, const char *id, rk_error *err)
{
        char tmp[64];
        uint64_t rnd = 0;
        if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
                rnd = (uint64_t)rk_store_now() ^ (uint64_t)getpid();
        snprintf(tmp, sizeof(tmp), ".tmp-%016jx", (uintmax_t)rnd);
        if (fchmod(fd, 0644) < 0 || fsync(fd) < 0)
                return rk_err_errno(err, negative_errno(), "image %s: cannot write blob", id);
        int r = link_tmpfile(fd, shard, tmp);
        if (r == -ENOENT) {
                /* an unlinked file that was not made with O_TMPFILE: store a copy */
                _cleanup_close_ int c = rk_store_tmpfile_copy(s, fd, id, err);
                if (c < 0)
                        return c;
                return place_blob(s, shard, c, id, err);
        }
        if (r < 0)
                return rk_err_errno(err, r, "image %s: cannot link blob", id);
        if (renameat(shard, tmp, shard, id) < 0) {
                r = negative_errno();
                (void)unlinkat(shard, tmp, 0);
                return rk_err_errno(err, r, "image %s: cannot link blob", id);
        }
        return 0;
}

static int place_sig(int shard, const char *id, const void *sig, size_t sig_len, rk_error *err)
{
        char name[RK_IMAGE_ID_LEN + 8];
        snprintf(name, sizeof(name), "%s.asc", id);
        if (sig)
                return rk_write_file_atomic_at(shard, name, sig, sig_len, 0644, err);
        if (unlinkat(shard, name, 0) < 0 && errno != ENOENT)
                return rk_err_errno(err, negative_errno(), "image %s: cannot remove signature", id);
        return 0;
}

enum outcome { KEPT, STORED, REPLACED };

/* Under the image lock: decide what the re-import changes and do it. */
static int place(struct rk_store *s, int fd, struct rk_image_info *info, const void *sig,
                 size_t sig_len, const struct rk_aci_result *res, enum outcome *ret, rk_error *err)
{
        struct rk_image_info old = {0};
        int r = rk_index_image_get(s, info->id, &old, err);
        if (r < 0 && r != -ENOENT)
                return r;
        bool have_old = r >= 0;
        _cleanup_close_ int shard = rk_store_shard_open(s, info->id, true, err);
        if (shard < 0) {
                rk_image_info_clear(&old);
                return shard;
        }
        _cleanup_close_ int cur = openat(shard, info->id, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        /* an unverified import never downgrades a verified one, nor replaces an equal one */
        if (have_old && cur >= 0 && info->insecure) {
                rk_image_info_clear(info);
                *info = old;
                *ret = KEPT;
                return 0;
        }
        rk_image_info_clear(&old);
        if (cur < 0 || !same_bytes(cur, fd))
                r = place_blob(s, shard, fd, info->id, err);
        if (r >= 0)
                r = place_sig(shard, info->id, sig, sig_len, err);
        if (r >= 0 && fsync(shard) < 0)
                r = rk_err_errno(err, negative_errno(), "image %s: fsync", info->id);
        if (r >= 0)
                r = rk_index_image_put(s, info, res->manifest, res->manifest_len, err);
        *ret = have_old ? REPLACED : STORED;
        return r;
}

static json_t *verification_json(const struct rk_image_info *i)
{
        if (i->insecure)
                return json_pack("{s:s}", "insecure", i->insecure);
        json_t *o = json_pack("{s:s}", "signer", i->signer);
        if (o && i->prefix)
                json_object_set_new(o, "prefix", json_string(i->prefix));
        if (o && i->rule)
                json_object_set_new(o, "rule", json_string(i->rule));
        return o;
}

/* Check-only extraction in the confined child, then the manifest parse. */
static int check_archive(int fd, struct rk_aci_result *res, struct rk_image_manifest **ret_m,
                         rk_error *err)
{
        struct rk_aci_layer layer = {.fd = fd, .what = "image"};
        struct rk_aci_opts opts = {.dest_fd = -1};
        int r = rk_aci_extract(&layer, 1, &opts, res, err);
        if (r < 0)
                return rk_err_prefix(err, r, "import");
        char what[RK_IMAGE_ID_LEN + 16];
        snprintf(what, sizeof(what), "image %s", res->id);
        r = rk_image_manifest_parse(what, res->manifest, res->manifest_len, ret_m, err);
        return r < 0 ? rk_err_prefix(err, r, "import") : 0;
}

static int import_locked(struct rk_store *s, int fd, const void *sig, size_t sig_len,
                         struct rk_image_info *info, const struct rk_aci_result *res, rk_error *err)
{
        enum outcome oc = KEPT;
        _cleanup_close_ int sl = rk_store_lock(s, LOCK_SH, err);
        if (sl < 0)
                return sl;
        _cleanup_close_ int il = rk_store_lock_image(s, info->id, LOCK_EX, err);
        if (il < 0)
                return il;
        int r = place(s, fd, info, sig, sig_len, res, &oc, err);
        if (r < 0 || oc == KEPT)
                return r;
        return rk_store_audit(s, "import",
                              json_pack("{s:s, s:s, s:s, s:I, s:o, s:b, s:s}", "image", info->id,
                                        "name", info->name, "manifestSha512", info->manifest_sha512,
                                        "size", (json_int_t)info->size, "verification",
                                        verification_json(info), "signature", info->has_signature,
                                        "result", oc == STORED ? "stored" : "replaced"),
                              err);
}

struct fixed_admission {
        const struct rk_admission *adm;
};

static int admit_fixed(void *userdata, const char *id, const struct rk_image_manifest *m,
                       struct rk_admission *adm, rk_error *err)
{
        *adm = *((struct fixed_admission *)userdata)->adm;
        return 0;
}

int rk_store_import(struct rk_store *s, int fd, const void *sig, size_t sig_len,
                    const struct rk_admission *adm, struct rk_image_info *ret, rk_error *err)
{
        struct fixed_admission fa = {adm};
        /* refuse a bad admission before reading any byte */
        int r = check_admission(adm, sig, sig_len, err);
        return r < 0 ? r : rk_store_import_admit(s, fd, sig, sig_len, admit_fixed, &fa, ret, err);
}

int rk_store_import_admit(struct rk_store *s, int fd, const void *sig, size_t sig_len,
                          rk_store_admit_fn admit, void *userdata, struct rk_image_info *ret,
                          rk_error *err)
{
        if (sig_len > RK_SIG_MAX)
                return rk_err(err, -EFBIG, "import: signature of %zu bytes, limit %d", sig_len,
                              RK_SIG_MAX);
        if (!sig_len)
                sig = NULL;
        /* the audit log opens before anything changes, so a broken log refuses the import */
        int r = rk_store_audit(s, NULL, NULL, err);
        if (r < 0)
                return r;
        _cleanup_close_ int own = own_fd(s, fd, err);
        if (own < 0)
                return own;
        struct stat st;
        if (fstat(own, &st) < 0)
                return rk_err_errno(err, negative_errno(), "import");
        struct rk_aci_result res = {0};
        struct rk_image_manifest *m = NULL;
        struct rk_image_info info = {0};
        struct rk_admission adm = {0};
        r = check_archive(own, &res, &m, err);
        if (r >= 0)
                r = admit(userdata, res.id, m, &adm, err);
        if (r >= 0)
                r = check_admission(&adm, sig, sig_len, err);
        if (r >= 0)
                r = make_info(&res, m, (uint64_t)st.st_size, &adm, sig != NULL, &info, err);
        m = rk_image_manifest_free(m);
        if (r >= 0)
                r = import_locked(s, own, sig, sig_len, &info, &res, err);
        rk_aci_result_clear(&res);
        if (r >= 0 && ret)
                *ret = info;
        else
                rk_image_info_clear(&info);
        return r;
}

/* ---- remote cache ---- */

int rk_store_remote_get(struct rk_store *s, const char *url, struct rk_remote *ret, rk_error *err)
{
        if (!url || !*url)
                return rk_err(err, -EINVAL, "remote cache: empty URL");
        return rk_index_remote_get(s, url, ret, err);
}

int rk_store_remote_put(struct rk_store *s, const struct rk_remote *r, rk_error *err)
{
        if (!r || !r->url || !*r->url)
                return rk_err(err, -EINVAL, "remote cache: empty URL");
        if (!rk_store_is_image_id(r->image_id))
                return rk_err(err, -EINVAL, "remote cache '%s': bad image ID", r->url);
        if (r->max_age < 0)
                return rk_err(err, -EINVAL, "remote cache '%s': negative max-age", r->url);
        return rk_index_remote_put(s, r, err);
}
