/* SPDX-License-Identifier: Apache-2.0 */
/* The image store: import (copy and no-copy), admission records, resolution (prefixes,
 * ambiguity, names and labels), removal, rendering with dependencies and pathWhitelist, tree
 * digests, verification, gc repairs of every crash artefact, concurrent imports from several
 * processes, and processes killed with SIGKILL at random points. Every failure leaves the
 * store as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>

#include "aci-tar.h"
#include "audit/audit.h"
#include "store/store.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct rk_admission INSECURE = {.insecure = "image"};
static const struct rk_admission SIGNED = {
    .signer = "0123456789ABCDEF0123456789ABCDEF01234567",
    .prefix = "example.com",
    .rule = "default",
};
static const char SIG[] =
    "-----BEGIN PGP SIGNATURE-----\nnot really\n-----END PGP SIGNATURE-----\n";

struct fx {
        char dir[64];
        struct rk_store *s;
};

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof(*f));
        rk_error e = RK_ERROR_INIT;
        strcpy(f->dir, "/tmp/rk-test-store-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        assert_int_equal(rk_store_open(f->dir, &f->s, &e), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        rk_store_close(f->s);
        (void)rk_rm_rf_at(AT_FDCWD, f->dir, NULL);
        free(f);
        return 0;
}

/* ---- images ---- */

/* An archive with manifest (name, version, extra manifest members) and files; returns a
 * memfd at offset 0 (compressed with filter), the ID in id. */
static int mkimage(const char *name, const char *version, const char *extra,
                   const struct tent *files, size_t n, int filter, char id[RK_IMAGE_ID_LEN + 1])
{
        static char manifest[4096];
        struct tent t[32] = {0};
        snprintf(manifest, sizeof(manifest),
                 "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"%s\","
                 "\"labels\":[{\"name\":\"version\",\"value\":\"%s\"},{\"name\":\"os\","
                 "\"value\":\"linux\"}]%s}",
                 name, version, extra ? extra : "");
        t[0] = (struct tent){'f', "manifest", manifest};
        t[1] = (struct tent)T_ROOTFS;
        assert_true(n + 2 <= N(t));
        for (size_t i = 0; i < n; i++)
                t[i + 2] = files[i];
        if (id)
                tar_id(t, n + 2, id);
        return tar_make(t, n + 2, filter);
}

/* A small image made unique by seed. */
static int mkimage_n(const char *name, int seed, int filter, char id[RK_IMAGE_ID_LEN + 1])
{
        static char data[32];
        snprintf(data, sizeof(data), "seed %d\n", seed);
        const struct tent files[] = {{'d', "rootfs/etc"}, {'f', "rootfs/etc/seed", data}};
        char version[32];
        snprintf(version, sizeof(version), "1.0.%d", seed);
        return mkimage(name, version, NULL, files, N(files), filter, id);
}

static void import_ok(struct rk_store *s, int fd, const struct rk_admission *a, const char *sig,
                      struct rk_image_info *ret)
{
        rk_error e = RK_ERROR_INIT;
        struct rk_image_info info = {0};
        int r = rk_store_import(s, fd, sig, sig ? strlen(sig) : 0, a, &info, &e);
        if (r < 0)
                fail_msg("import: %d %s", r, e.msg);
        if (ret)
                *ret = info;
        else
                rk_image_info_clear(&info);
}

static void blob_path(const struct fx *f, const char *id, const char *suffix, char *buf,
                      size_t size)
{
        snprintf(buf, size, "%s/cas/blob/sha512/%.2s/%s%s", f->dir, id + 7, id, suffix);
}

static bool exists(const char *path)
{
        struct stat st;
        return lstat(path, &st) == 0;
}

static void read_all(int fd, char **ret, size_t *len)
{
        lseek(fd, 0, SEEK_SET);
        assert_int_equal(rk_read_fd_capped(fd, "t", 1 << 26, ret, len, NULL), 0);
}

/* ---- store snapshots: failures must leave them equal ---- */

static char *snap_buf;
static size_t snap_len;

static int snap_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        const char *rel = strstr(path, "/cas");
        if (!rel)
                rel = strstr(path, "/audit");
        /* the index file changes with checkpoints (its content is compared below); lock files
         * appear on demand */
        if (!rel || strstr(path, "index.db") || strstr(path, "/locks"))
                return 0;
        char line[1024];
        int n = snprintf(line, sizeof(line), "%s %o %jd %ju %jd.%09ld\n", rel,
                         (unsigned)st->st_mode, (intmax_t)st->st_size, (uintmax_t)st->st_ino,
                         (intmax_t)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
        snap_buf = realloc(snap_buf, snap_len + (size_t)n + 1);
        memcpy(snap_buf + snap_len, line, (size_t)n + 1);
        snap_len += (size_t)n;
        (void)type;
        (void)ftw;
        return 0;
}

static char *snapshot(struct fx *f)
{
        rk_error e = RK_ERROR_INIT;
        struct rk_image_info *v = NULL;
        struct rk_tree_info *t = NULL;
        size_t n = 0, nt = 0;
        snap_buf = strdup("");
        snap_len = 0;
        assert_int_equal(nftw(f->dir, snap_one, 32, FTW_PHYS), 0);
        assert_int_equal(rk_store_list(f->s, &v, &n, &e), 0);
        assert_int_equal(rk_store_trees(f->s, NULL, &t, &nt, &e), 0);
        for (size_t i = 0; i < n + nt; i++) {
                char line[512];
                int k = i < n ? snprintf(line, sizeof(line), "row %s %jd %jd %s %s\n", v[i].id,
                                         (intmax_t)v[i].import_time, (intmax_t)v[i].last_used,
                                         v[i].signer ? v[i].signer : "-",
                                         v[i].insecure ? v[i].insecure : "-")
                              : snprintf(line, sizeof(line), "tree %s %jd\n", t[i - n].id,
                                         (intmax_t)t[i - n].last_used);
                snap_buf = realloc(snap_buf, snap_len + (size_t)k + 1);
                memcpy(snap_buf + snap_len, line, (size_t)k + 1);
                snap_len += (size_t)k;
        }
        rk_image_infos_free(v, n);
        rk_tree_infos_free(t, nt);
        return snap_buf;
}

static void assert_snapshot(struct fx *f, const char *before)
{
        char *now = snapshot(f);
        if (strcmp(now, before) != 0)
                fail_msg("store changed:\n--- before\n%s--- after\n%s", before, now);
        free(now);
}

/* ---- consistency: what a store must look like after gc ---- */

static int count_entries(const char *path)
{
        DIR *d = opendir(path);
        struct dirent *de;
        int n = 0;
        assert_non_null(d);
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

/* Every row has a blob that re-hashes to its ID; every blob and signature has a row; every
 * tree is complete and indexed; nothing temporary is left. */
static void assert_consistent(struct fx *f)
{
        rk_error e = RK_ERROR_INIT;
        struct rk_image_info *v = NULL;
        size_t n = 0, blobs = 0;
        char path[512];
        assert_int_equal(rk_store_list(f->s, &v, &n, &e), 0);
        for (size_t i = 0; i < n; i++) {
                struct rk_store_verify_report rep;
                if (rk_store_verify(f->s, v[i].id, &rep, &e) < 0)
                        fail_msg("verify %s: %s", v[i].id, e.msg);
        }
        snprintf(path, sizeof(path), "%s/cas/blob/sha512", f->dir);
        DIR *d = opendir(path);
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                char sp[600];
                snprintf(sp, sizeof(sp), "%s/%s", path, de->d_name);
                DIR *sd = opendir(sp);
                struct dirent *be;
                while ((be = readdir(sd))) {
                        if (!strcmp(be->d_name, ".") || !strcmp(be->d_name, ".."))
                                continue;
                        if (be->d_name[0] == '.')
                                fail_msg("temporary file left in the shard: %s", be->d_name);
                        char id[RK_IMAGE_ID_LEN + 1];
                        snprintf(id, sizeof(id), "%.*s", RK_IMAGE_ID_LEN, be->d_name);
                        struct rk_image_info info = {0};
                        if (rk_store_get(f->s, id, &info, &e) < 0)
                                fail_msg("blob without row: %s", be->d_name);
                        rk_image_info_clear(&info);
                        blobs += strlen(be->d_name) == RK_IMAGE_ID_LEN;
                }
                closedir(sd);
        }
        closedir(d);
        assert_int_equal(blobs, n);
        rk_image_infos_free(v, n);
        snprintf(path, sizeof(path), "%s/cas/tree", f->dir);
        d = opendir(path);
        while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (strncmp(de->d_name, "deps-sha512-", 12) != 0)
                        fail_msg("stray tree entry %s", de->d_name);
                if (rk_store_tree_verify(f->s, de->d_name, &e) < 0)
                        fail_msg("tree %s: %s", de->d_name, e.msg);
        }
        closedir(d);
        snprintf(path, sizeof(path), "%s/cas/tmp", f->dir);
        assert_int_equal(count_entries(path), 0);
}

/* ---- import ---- */

static void test_import_and_read(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        char id[RK_IMAGE_ID_LEN + 1], path[512];
        struct rk_image_info info = {0};
        int fd = mkimage_n("example.com/app", 1, ARCHIVE_FILTER_GZIP, id);

        import_ok(f->s, fd, &SIGNED, SIG, &info);
        assert_string_equal(info.id, id);
        assert_string_equal(info.name, "example.com/app");
        assert_string_equal(rk_labels_get(&info.labels, "version"), "1.0.1");
        assert_string_equal(info.signer, SIGNED.signer);
        assert_string_equal(info.prefix, "example.com");
        assert_string_equal(info.rule, "default");
        assert_null(info.insecure);
        assert_true(info.has_signature);

        /* the blob is the file as distributed (gzip), 0644, in 0700 directories */
        struct stat st;
        blob_path(f, id, "", path, sizeof(path));
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);
        assert_int_equal((uint64_t)st.st_size, info.size);
        char *orig = NULL, *stored = NULL;
        size_t ol = 0, sl = 0;
        read_all(fd, &orig, &ol);
        int b = rk_store_open_blob(f->s, id, &e);
        assert_true(b >= 0);
        read_all(b, &stored, &sl);
        close(b);
        assert_int_equal(ol, sl);
        assert_memory_equal(orig, stored, ol);
        assert_int_equal(orig[0] & 0xff, 0x1f); /* gzip magic: not the uncompressed tar */
        free(orig);
        free(stored);
        for (const char *sub = "cas/blob/sha512"; sub; sub = NULL) {
                snprintf(path, sizeof(path), "%s/%s", f->dir, sub);
                assert_int_equal(stat(path, &st), 0);
                assert_int_equal(st.st_mode & 07777, 0700);
        }
        snprintf(path, sizeof(path), "%s/cas/index.db", f->dir);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);

        /* signature beside it, manifest from the index */
        char *sig = NULL, *raw = NULL;
        size_t len = 0;
        assert_int_equal(rk_store_signature(f->s, id, &sig, &len, &e), 0);
        assert_int_equal(len, strlen(SIG));
        assert_memory_equal(sig, SIG, len);
        free(sig);
        struct rk_image_manifest *m = NULL;
        assert_int_equal(rk_store_manifest(f->s, id, &raw, &len, &m, &e), 0);
        assert_non_null(strstr(raw, "\"example.com/app\""));
        assert_string_equal(m->name, "example.com/app");
        rk_image_manifest_free(m);
        free(raw);

        /* export gives the original bytes back */
        int out = memfd_create("out", MFD_CLOEXEC);
        assert_int_equal(rk_store_export(f->s, id, out, &e), 0);
        read_all(out, &stored, &sl);
        read_all(fd, &orig, &ol);
        assert_int_equal(ol, sl);
        assert_memory_equal(orig, stored, ol);
        free(orig);
        free(stored);
        close(out);
        close(fd);
        rk_image_info_clear(&info);

        /* an audit record says how it was admitted */
        struct rk_audit_report rep;
        assert_int_equal(rk_audit_verify(f->dir, &rep, &e), 0);
        assert_int_equal(rep.records, 1);
}

static void test_import_tmpfile_no_copy(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        char id[RK_IMAGE_ID_LEN + 1], path[512];
        int src = mkimage_n("example.com/tmp", 2, ARCHIVE_FILTER_XZ, id);
        int t = rk_store_tmpfile(f->s, &e);
        assert_true(t >= 0);
        char *buf = NULL;
        size_t len = 0;
        read_all(src, &buf, &len);
        assert_int_equal(rk_write_all(t, buf, len), 0);
        free(buf);
        struct stat a, b;
        assert_int_equal(fstat(t, &a), 0);
        assert_int_equal(a.st_nlink, 0);
        import_ok(f->s, t, &INSECURE, NULL, NULL);
        blob_path(f, id, "", path, sizeof(path));
        assert_int_equal(stat(path, &b), 0);
        /* the very file the caller wrote (and verified) was linked in: no copy */
        assert_int_equal(a.st_ino, b.st_ino);
        blob_path(f, id, ".asc", path, sizeof(path));
        assert_false(exists(path));
        close(t);
        close(src);
        /* nothing named was left in cas/tmp */
        snprintf(path, sizeof(path), "%s/cas/tmp", f->dir);
        assert_int_equal(count_entries(path), 0);
}

static void test_import_refused(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        char id[RK_IMAGE_ID_LEN + 1];
        int good = mkimage_n("example.com/ok", 3, ARCHIVE_FILTER_NONE, NULL);
        import_ok(f->s, good, &INSECURE, NULL, NULL);
        char *before = snapshot(f);

        /* a hostile archive: refused by the checking extractor, nothing stored */
        const struct tent evil[] = {{'f', "rootfs/../../etc/passwd", "x"}};
        int fd = mkimage("example.com/evil", "1.0.0", NULL, evil, N(evil), ARCHIVE_FILTER_NONE, id);
        assert_int_equal(rk_store_import(f->s, fd, NULL, 0, &INSECURE, NULL, &e), -EXDEV);
        assert_non_null(strstr(e.msg, "rootfs/../../etc/passwd"));
        close(fd);
        /* not an archive */
        fd = memfd_create("junk", MFD_CLOEXEC);
        assert_int_equal(write(fd, "not a tar\n", 10), 10);
        assert_true(rk_store_import(f->s, fd, NULL, 0, &INSECURE, NULL, &e) < 0);
        assert_non_null(strstr(e.msg, "import"));
        close(fd);
        /* a bad manifest */
        fd = mkimage("Bad Name", "1.0.0", NULL, NULL, 0, ARCHIVE_FILTER_NONE, id);
        assert_int_equal(rk_store_import(f->s, fd, NULL, 0, &INSECURE, NULL, &e), -EBADMSG);
        close(fd);
        /* bad admissions, before any byte is read */
        fd = mkimage_n("example.com/adm", 4, ARCHIVE_FILTER_NONE, NULL);
        struct rk_admission both = SIGNED;
        both.insecure = "image";
        assert_int_equal(rk_store_import(f->s, fd, SIG, strlen(SIG), &both, NULL, &e), -EINVAL);
        assert_int_equal(
            rk_store_import(f->s, fd, SIG, strlen(SIG), &(struct rk_admission){0}, NULL, &e),
            -EINVAL);
        assert_int_equal(rk_store_import(f->s, fd, NULL, 0, &SIGNED, NULL, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "signature"));
        close(fd);
        close(good);
        assert_snapshot(f, before);
        free(before);
}

static void test_admission_upgrade(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        char id[RK_IMAGE_ID_LEN + 1], path[512];
        struct rk_image_info info = {0};
        int gz = mkimage_n("example.com/up", 5, ARCHIVE_FILTER_GZIP, id);
        int plain = mkimage_n("example.com/up", 5, ARCHIVE_FILTER_NONE, NULL);

        import_ok(f->s, gz, &INSECURE, NULL, &info);
        assert_string_equal(info.insecure, "image");
        assert_null(info.signer);
        rk_image_info_clear(&info);
        /* a verified import of the same ID upgrades it (other bytes: the blob is replaced) */
        import_ok(f->s, plain, &SIGNED, SIG, &info);
        assert_null(info.insecure);
        assert_string_equal(info.signer, SIGNED.signer);
        rk_image_info_clear(&info);
        struct stat st;
        blob_path(f, id, "", path, sizeof(path));
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_size, lseek(plain, 0, SEEK_END));
        /* an insecure import never downgrades it, and changes nothing */
        char *before = snapshot(f);
        import_ok(f->s, gz, &INSECURE, NULL, &info);
        assert_string_equal(info.signer, SIGNED.signer);
        assert_null(info.insecure);
        rk_image_info_clear(&info);
        assert_snapshot(f, before);
        free(before);
        assert_int_equal(rk_store_get(f->s, id, &info, &e), 0);
        assert_string_equal(info.signer, SIGNED.signer);
        assert_true(info.has_signature);
        rk_image_info_clear(&info);
        blob_path(f, id, ".asc", path, sizeof(path));
        assert_true(exists(path));
        close(gz);
        close(plain);
}

/* ---- resolution ---- */

static void test_resolve_ids(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        char ids[40][RK_IMAGE_ID_LEN + 1];
        int a = -1, b = -1;
        /* import until two IDs share their first two hex digits (birthday bound: ~20) */
        for (int i = 0; i < 40 && a < 0; i++) {
                int fd = mkimage_n("example.com/many", 100 + i, ARCHIVE_FILTER_NONE, ids[i]);
                import_ok(f->s, fd, &INSECURE, NULL, NULL);
                close(fd);
                for (int j = 0; j < i && a < 0; j++)
                        if (!strncmp(ids[i], ids[j], 9)) {
                                a = j;
                                b = i;
                        }
        }
        assert_true(a >= 0);
        struct rk_image_info info = {0};
        char prefix[RK_IMAGE_ID_LEN + 1];
        snprintf(prefix, sizeof(prefix), "%.9s", ids[a]);
        assert_int_equal(rk_store_resolve(f->s, prefix, &info, &e), -ENOTUNIQ);
        assert_non_null(strstr(e.msg, prefix));
        assert_non_null(strstr(e.msg, "ambiguous"));
        /* the shortest prefix that tells them apart resolves to each */
        size_t k = 9;
        while (ids[a][k] == ids[b][k])
                k++;
        snprintf(prefix, sizeof(prefix), "%.*s", (int)k + 1, ids[a]);
        assert_int_equal(rk_store_resolve(f->s, prefix, &info, &e), 0);
        assert_string_equal(info.id, ids[a]);
        rk_image_info_clear(&info);
        assert_int_equal(rk_store_resolve(f->s, ids[b], &info, &e), 0);
        assert_string_equal(info.id, ids[b]);
        rk_image_info_clear(&info);
        /* too short, malformed, unknown */
        assert_int_equal(rk_store_resolve(f->s, "sha512-a", &info, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "too short"));
        assert_int_equal(rk_store_resolve(f->s, "sha512-", &info, &e), -EINVAL);
        assert_int_equal(rk_store_resolve(f->s, "sha512-zz", &info, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "sha512-zz"));
        assert_int_equal(rk_store_resolve(f->s, "sha512-AB", &info, &e), -EINVAL);
        snprintf(prefix, sizeof(prefix), "%.8s%c", ids[a], ids[a][8] == '0' ? '1' : '0');
        int r = rk_store_resolve(f->s, "sha512-0123456789abcdef0123", &info, &e);
        assert_int_equal(r, -ENOENT);
        assert_non_null(strstr(e.msg, "sha512-0123456789abcdef0123"));
        assert_non_null(strstr(e.msg, "not in the store"));
        assert_int_equal(rk_store_resolve(f->s, "", &info, &e), -EINVAL);
}

static void test_resolve_names(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        char id1[RK_IMAGE_ID_LEN + 1], id2[RK_IMAGE_ID_LEN + 1], id3[RK_IMAGE_ID_LEN + 1];
        struct rk_image_info info = {0};
        const struct tent x[] = {{'f', "rootfs/x", "x"}};
        const struct tent y[] = {{'f', "rootfs/y", "y"}};
        const struct tent z[] = {{'f', "rootfs/z", "z"}};
        int f1 = mkimage("example.com/web", "1.0.0", NULL, x, 1, ARCHIVE_FILTER_NONE, id1);
        int f2 = mkimage("example.com/web", "2.0.0", NULL, y, 1, ARCHIVE_FILTER_NONE, id2);
        int f3 = mkimage("example.com/web", "1.0.0",
                         ",\"annotations\":[{\"name\":\"created\",\"value\":"
                         "\"2020-01-01T00:00:00Z\"}]",
                         z, 1, ARCHIVE_FILTER_NONE, id3);
        import_ok(f->s, f1, &INSECURE, NULL, NULL);
        import_ok(f->s, f2, &INSECURE, NULL, NULL);
        /* the newest import wins when several match */
        assert_int_equal(rk_store_resolve(f->s, "example.com/web", &info, &e), 0);
        assert_string_equal(info.id, id2);
        rk_image_info_clear(&info);
        assert_int_equal(rk_store_resolve(f->s, "example.com/web:1.0.0", &info, &e), 0);
        assert_string_equal(info.id, id1);
        rk_image_info_clear(&info);
        import_ok(f->s, f3, &INSECURE, NULL, NULL);
        assert_int_equal(rk_store_resolve(f->s, "example.com/web:1.0.0", &info, &e), 0);
        assert_string_equal(info.id, id3);
        rk_image_info_clear(&info);
        assert_int_equal(
            rk_store_resolve(f->s, "example.com/web,version=2.0.0,os=linux", &info, &e), 0);
        assert_string_equal(info.id, id2);
        rk_image_info_clear(&info);
        /* every given label must match */
        assert_int_equal(rk_store_resolve(f->s, "example.com/web:2.0.0,os=freebsd", &info, &e),
                         -ENOENT);
        assert_non_null(strstr(e.msg, "example.com/web,version=2.0.0,os=freebsd"));
        assert_non_null(strstr(e.msg, "3 images named"));
        assert_int_equal(rk_store_resolve(f->s, "example.com/nope", &info, &e), -ENOENT);
        assert_non_null(strstr(e.msg, "example.com/nope"));
        assert_int_equal(rk_store_resolve(f->s, "Example.com/web", &info, &e), -EINVAL);
        assert_int_equal(rk_store_resolve(f->s, "example.com/web,os", &info, &e), -EINVAL);
        assert_int_equal(rk_store_resolve(f->s, "example.com/web,os=a,os=b", &info, &e), -EINVAL);
        close(f1);
        close(f2);
        close(f3);
}

/* ---- removal ---- */

static void test_remove(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        char id[RK_IMAGE_ID_LEN + 1], keep[RK_IMAGE_ID_LEN + 1], path[512];
        struct rk_tree_info t = {0};
        int fd = mkimage_n("example.com/rm", 7, ARCHIVE_FILTER_GZIP, id);
        int fk = mkimage_n("example.com/keep", 8, ARCHIVE_FILTER_GZIP, keep);
        import_ok(f->s, fd, &SIGNED, SIG, NULL);
        import_ok(f->s, fk, &INSECURE, NULL, NULL);
        assert_int_equal(rk_store_render(f->s, id, &t, &e), 0);
        struct rk_remote rem = {.url = "https://example.com/rm.aci",
                                .etag = "\"x\"",
                                .max_age = 60,
                                .download_time = 1};
        memcpy(rem.image_id, id, sizeof(rem.image_id));
        assert_int_equal(rk_store_remote_put(f->s, &rem, &e), 0);

        assert_int_equal(rk_store_remove(f->s, id, &e), 0);
        blob_path(f, id, "", path, sizeof(path));
        assert_false(exists(path));
        blob_path(f, id, ".asc", path, sizeof(path));
        assert_false(exists(path));
        snprintf(path, sizeof(path), "%s/cas/tree/%s", f->dir, t.id);
        assert_false(exists(path));
        struct rk_image_info info = {0};
        assert_int_equal(rk_store_get(f->s, id, &info, &e), -ENOENT);
        struct rk_remote got = {0};
        assert_int_equal(rk_store_remote_get(f->s, rem.url, &got, &e), -ENOENT);
        struct rk_tree_info *v = NULL;
        size_t n = 9;
        assert_int_equal(rk_store_trees(f->s, NULL, &v, &n, &e), 0);
        assert_int_equal(n, 0);
        free(v);
        /* the other image is untouched */
        assert_int_equal(rk_store_get(f->s, keep, &info, &e), 0);
        rk_image_info_clear(&info);
        assert_int_equal(rk_store_remove(f->s, id, &e), -ENOENT);
        assert_non_null(strstr(e.msg, id));
        rk_tree_info_clear(&t);
        assert_consistent(f);
        close(fd);
        close(fk);
}

static void test_remote_cache(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        char id[RK_IMAGE_ID_LEN + 1];
        int fd = mkimage_n("example.com/remote", 9, ARCHIVE_FILTER_NONE, id);
        struct rk_remote r = {
            .url = "https://example.com/a.aci", .max_age = 300, .download_time = 42};
        memcpy(r.image_id, id, sizeof(r.image_id));
        /* the image must be stored first */
        assert_int_equal(rk_store_remote_put(f->s, &r, &e), -ENOENT);
        import_ok(f->s, fd, &INSECURE, NULL, NULL);
        assert_int_equal(rk_store_remote_put(f->s, &r, &e), 0);
        struct rk_remote g = {0};
        assert_int_equal(rk_store_remote_get(f->s, r.url, &g, &e), 0);
        assert_string_equal(g.url, r.url);
        assert_null(g.etag);
        assert_int_equal(g.max_age, 300);
        assert_int_equal(g.download_time, 42);
        assert_string_equal(g.image_id, id);
        rk_remote_clear(&g);
        r.etag = "\"v2\"";
        r.max_age = 0;
        assert_int_equal(rk_store_remote_put(f->s, &r, &e), 0);
        assert_int_equal(rk_store_remote_get(f->s, r.url, &g, &e), 0);
        assert_string_equal(g.etag, "\"v2\"");
        assert_int_equal(g.max_age, 0);
        rk_remote_clear(&g);
        assert_int_equal(rk_store_remote_get(f->s, "https://example.com/b.aci", &g, &e), -ENOENT);
        close(fd);
}

/* ---- trees ---- */

static const struct tent base_files[] = {
    {'d', "rootfs/etc"},
    {'f', "rootfs/etc/a", "base a\n"},
    {'f', "rootfs/etc/b", "base b\n"},
    {'f', "rootfs/etc/shared", "from base\n"},
    {'l', "rootfs/etc/link", "a"},
};
static const struct tent app_files[] = {
    {'d', "rootfs/app"},
    {'f', "rootfs/app/run", "#!/bin/sh\n", 0755},
    {'d', "rootfs/etc"},
    {'f', "rootfs/etc/shared", "from app\n"},
};
#define APP_DEPS                                                                                   \
        ",\"dependencies\":[{\"imageName\":\"example.com/base\",\"labels\":[{\"name\":"            \
        "\"version\",\"value\":\"1.0.0\"}]}],\"pathWhitelist\":[\"/app\",\"/app/run\",\"/etc\","   \
        "\"/etc/a\",\"/etc/shared\",\"/etc/link\"]"

static void import_base_and_app(struct fx *f, char base[RK_IMAGE_ID_LEN + 1],
                                char app[RK_IMAGE_ID_LEN + 1])
{
        int b = mkimage("example.com/base", "1.0.0", NULL, base_files, N(base_files),
                        ARCHIVE_FILTER_GZIP, base);
        int a = mkimage("example.com/app", "1.0.0", APP_DEPS, app_files, N(app_files),
                        ARCHIVE_FILTER_ZSTD, app);
        import_ok(f->s, b, &INSECURE, NULL, NULL);
        import_ok(f->s, a, &SIGNED, SIG, NULL);
        close(a);
        close(b);
}

static void test_render_with_dependency(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        char base[RK_IMAGE_ID_LEN + 1], app[RK_IMAGE_ID_LEN + 1], path[512];
        struct rk_tree_info t = {0}, t2 = {0};
        import_base_and_app(f, base, app);

        /* tree ID = deps- + SHA-512 of the comma-joined render plan */
        char joined[2 * RK_IMAGE_ID_LEN + 2], hex[RK_SHA512_HEX_LEN + 1], want[RK_TREE_ID_LEN + 1];
        snprintf(joined, sizeof(joined), "%s,%s", app, base);
        assert_int_equal(rk_sha512_buf_hex(joined, strlen(joined), hex, NULL), 0);
        snprintf(want, sizeof(want), "deps-sha512-%s", hex);
        /* the staging directory of an earlier render of this tree that was killed, and a
         * partial tree under the final name: both go before rendering */
        snprintf(path, sizeof(path), "%s/cas/tree/.new-%s-0123456789abcdef/rootfs", f->dir, hex);
        assert_int_equal(rk_mkdir_p(path, 0700, &e), 0);
        snprintf(path, sizeof(path), "%s/cas/tree/%s/rootfs/junk", f->dir, want);
        assert_int_equal(rk_mkdir_p(path, 0700, &e), 0);
        assert_int_equal(rk_store_render(f->s, app, &t, &e), 0);
        snprintf(path, sizeof(path), "%s/cas/tree", f->dir);
        assert_int_equal(count_entries(path), 1);
        snprintf(path, sizeof(path), "%s/cas/tree/%s/rootfs/junk", f->dir, want);
        assert_false(exists(path));
        assert_string_equal(t.id, want);
        assert_string_equal(t.image_id, app);
        assert_string_equal(t.layers, joined);

        int d = rk_store_tree_open(f->s, t.id, &e);
        assert_true(d >= 0);
        int root = openat(d, "rootfs", O_PATH | O_DIRECTORY);
        assert_true(has_file(root, "app/run", "#!/bin/sh\n", 0755));
        assert_true(has_file(root, "etc/a", "base a\n", 0));
        assert_true(has_file(root, "etc/shared", "from app\n", 0)); /* the upper layer wins */
        assert_true(has_symlink(root, "etc/link", "a"));
        assert_true(absent(root, "etc/b")); /* not in the app's pathWhitelist */
        assert_true(has_file(d, "rendered", "", 0));
        char dg[RK_SHA512_HEX_LEN + 2];
        snprintf(dg, sizeof(dg), "%s\n", t.digest);
        assert_true(has_file(d, "digest", dg, 0));
        char again[RK_SHA512_HEX_LEN + 1];
        int rd = openat(d, ".", O_RDONLY | O_DIRECTORY);
        assert_int_equal(rk_tree_digest(rd, again, NULL, &e), 0);
        assert_string_equal(again, t.digest);
        close(rd);
        struct stat st1, st2;
        assert_int_equal(fstatat(d, "rootfs", &st1, 0), 0);
        close(root);
        close(d);

        /* rendering again reuses the tree */
        assert_int_equal(rk_store_render(f->s, app, &t2, &e), 0);
        assert_string_equal(t2.id, t.id);
        assert_string_equal(t2.digest, t.digest);
        snprintf(path, sizeof(path), "%s/cas/tree/%s/rootfs", f->dir, t.id);
        assert_int_equal(stat(path, &st2), 0);
        assert_int_equal(st1.st_ino, st2.st_ino);
        rk_tree_info_clear(&t2);

        /* the base renders to a tree of its own */
        assert_int_equal(rk_store_render(f->s, base, &t2, &e), 0);
        assert_string_not_equal(t2.id, t.id);
        rk_tree_info_clear(&t2);
        struct rk_image_info info = {0};
        assert_int_equal(rk_store_get(f->s, app, &info, &e), 0);
        assert_true(info.tree_bytes > 0);
        rk_image_info_clear(&info);

        /* one audit record per render that did something */
        struct rk_audit_report rep;
        assert_int_equal(rk_audit_verify(f->dir, &rep, &e), 0);
        assert_int_equal(rep.records, 4); /* 2 imports, 2 renders */
        rk_tree_info_clear(&t);
        assert_consistent(f);
}

static void test_render_missing_dependency(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        char id[RK_IMAGE_ID_LEN + 1], id2[RK_IMAGE_ID_LEN + 1], path[512];
        struct rk_tree_info t = {0};
        int fd = mkimage("example.com/orphan", "1.0.0",
                         ",\"dependencies\":[{\"imageName\":\"example.com/missing\"}]", NULL, 0,
                         ARCHIVE_FILTER_NONE, id);
        import_ok(f->s, fd, &INSECURE, NULL, NULL);
        close(fd);
        char extra[512];
        snprintf(extra, sizeof(extra),
                 ",\"dependencies\":[{\"imageName\":\"example.com/"
                 "byid\",\"imageID\":\"sha512-%0128d\"}]",
                 7);
        fd = mkimage("example.com/orphan2", "1.0.0", extra, NULL, 0, ARCHIVE_FILTER_NONE, id2);
        import_ok(f->s, fd, &INSECURE, NULL, NULL);
        close(fd);
        char *before = snapshot(f);
        assert_int_equal(rk_store_render(f->s, id, &t, &e), -ENOENT);
        assert_non_null(strstr(e.msg, "example.com/missing"));
        assert_non_null(strstr(e.msg, "example.com/orphan"));
        assert_int_equal(rk_store_render(f->s, id2, &t, &e), -ENOENT);
        assert_non_null(strstr(e.msg, "sha512-0000000000"));
        assert_non_null(strstr(e.msg, "fetch it first"));
        snprintf(path, sizeof(path), "%s/cas/tree", f->dir);
        assert_int_equal(count_entries(path), 0);
        assert_snapshot(f, before);
        free(before);
        /* extraction into a directory refuses the same way */
        int dest = open("/tmp", O_PATH | O_DIRECTORY);
        assert_int_equal(rk_store_extract(f->s, id, dest, RK_STORE_EXTRACT_DEPS, &e), -ENOENT);
        close(dest);
}

static void test_extract_into_dir(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        char base[RK_IMAGE_ID_LEN + 1], app[RK_IMAGE_ID_LEN + 1], path[512];
        import_base_and_app(f, base, app);
        snprintf(path, sizeof(path), "%s/out1", f->dir);
        assert_int_equal(mkdir(path, 0755), 0);
        int d = open(path, O_RDONLY | O_DIRECTORY);
        assert_int_equal(rk_store_extract(f->s, app, d, 0, &e), 0);
        assert_true(has_file(d, "rootfs/app/run", "#!/bin/sh\n", 0755));
        assert_true(absent(d, "rootfs/etc/a")); /* alone: no dependency */
        assert_false(absent(d, "manifest"));
        close(d);
        snprintf(path, sizeof(path), "%s/out2", f->dir);
        assert_int_equal(mkdir(path, 0755), 0);
        d = open(path, O_RDONLY | O_DIRECTORY);
        assert_int_equal(rk_store_extract(f->s, app, d,
                                          RK_STORE_EXTRACT_DEPS | RK_STORE_EXTRACT_ROOTFS_ONLY, &e),
                         0);
        assert_true(has_file(d, "etc/a", "base a\n", 0));
        assert_true(has_file(d, "etc/shared", "from app\n", 0));
        assert_true(absent(d, "etc/b"));
        assert_true(absent(d, "manifest"));
        close(d);
}

static int hook_calls;
static int sig_hook(void *ud, const struct rk_image_info *img, int blob_fd, const void *sig,
                    size_t len, rk_error *err)
{
        char buf[4];
        hook_calls++;
        /* the hook sees the blob from its start and the stored signature */
        if (read(blob_fd, buf, 2) != 2 || len != strlen(SIG) || memcmp(sig, SIG, len))
                return rk_err(err, -EIO, "hook got the wrong input");
        if (ud)
                return rk_err(err, -EKEYREJECTED, "signature by %s does not verify", img->signer);
        return 0;
}

static void test_verify(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        char base[RK_IMAGE_ID_LEN + 1], app[RK_IMAGE_ID_LEN + 1], path[512];
        struct rk_tree_info t = {0};
        struct rk_store_verify_report rep = {0};
        import_base_and_app(f, base, app);
        assert_int_equal(rk_store_render(f->s, app, &t, &e), 0);

        assert_int_equal(rk_store_verify(f->s, app, &rep, &e), 0);
        assert_int_equal(rep.sig, RK_SIG_CHECK_NOT_CHECKED);
        assert_int_equal(rep.trees_checked, 1);
        assert_int_equal(rk_store_verify(f->s, base, &rep, &e), 0);
        assert_int_equal(rep.sig, RK_SIG_CHECK_UNSIGNED);
        assert_int_equal(rep.trees_checked, 1); /* the base is a layer of the app's tree */
        rk_store_set_sig_hook(f->s, sig_hook, NULL);
        assert_int_equal(rk_store_verify(f->s, app, &rep, &e), 0);
        assert_int_equal(rep.sig, RK_SIG_CHECK_OK);
        assert_int_equal(hook_calls, 1);
        rk_store_set_sig_hook(f->s, sig_hook, (void *)1);
        assert_int_equal(rk_store_verify(f->s, app, &rep, &e), -EKEYREJECTED);
        assert_non_null(strstr(e.msg, app));
        rk_store_set_sig_hook(f->s, NULL, NULL);

        /* a changed file in the tree */
        snprintf(path, sizeof(path), "%s/cas/tree/%s/rootfs/etc/a", f->dir, t.id);
        int w = open(path, O_WRONLY | O_TRUNC);
        assert_int_equal(write(w, "evil\n", 5), 5);
        close(w);
        assert_int_equal(rk_store_tree_verify(f->s, t.id, &e), -EBADMSG);
        assert_non_null(strstr(e.msg, t.id));
        assert_int_equal(rk_store_verify(f->s, app, &rep, &e), -EBADMSG);
        /* a changed mode is a change too */
        assert_int_equal(rk_store_remove(f->s, app, &e), 0);
        rk_tree_info_clear(&t);
        import_base_and_app(f, base, app);
        assert_int_equal(rk_store_render(f->s, app, &t, &e), 0);
        snprintf(path, sizeof(path), "%s/cas/tree/%s/rootfs/app/run", f->dir, t.id);
        assert_int_equal(chmod(path, 0700), 0);
        assert_int_equal(rk_store_tree_verify(f->s, t.id, &e), -EBADMSG);
        rk_tree_info_clear(&t);

        /* a changed blob: same size, other bytes */
        blob_path(f, base, "", path, sizeof(path));
        w = open(path, O_WRONLY);
        assert_int_equal(pwrite(w, "\0\0\0\0", 4, 40), 4);
        close(w);
        assert_true(rk_store_verify(f->s, base, &rep, &e) < 0);
        assert_non_null(strstr(e.msg, base));
        /* a missing blob */
        unlink(path);
        assert_int_equal(rk_store_verify(f->s, base, &rep, &e), -ENOENT);
        assert_non_null(strstr(e.msg, "rkt image gc"));
}

/* ---- gc ---- */

static void test_gc_repairs(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        char base[RK_IMAGE_ID_LEN + 1], app[RK_IMAGE_ID_LEN + 1], path[600],
            fake[RK_IMAGE_ID_LEN + 1];
        char lone[RK_IMAGE_ID_LEN + 1];
        struct rk_tree_info t = {0};
        struct rk_store_gc_report rep = {0};
        struct rk_store_gc_opts keep = {.grace_ns = 3600LL * 1000000000};
        import_base_and_app(f, base, app);
        assert_int_equal(rk_store_render(f->s, app, &t, &e), 0);
        int fl = mkimage_n("example.com/lone", 11, ARCHIVE_FILTER_NONE, lone);
        import_ok(f->s, fl, &SIGNED, SIG, NULL);
        close(fl);

        /* nothing to repair in a clean store */
        assert_int_equal(rk_store_gc(f->s, &keep, &rep, &e), 0);
        assert_int_equal(rep.trees_removed + rep.partial_trees + rep.tmp_removed +
                             rep.rows_removed + rep.blobs_removed,
                         0);

        /* 1. stale files in cas/tmp; one still locked by its (live) user is kept */
        snprintf(path, sizeof(path), "%s/cas/tmp/download-1", f->dir);
        int t1 = open(path, O_CREAT | O_WRONLY, 0600);
        struct timespec old[2] = {{time(NULL) - 7200, 0}, {time(NULL) - 7200, 0}};
        assert_int_equal(futimens(t1, old), 0);
        close(t1);
        snprintf(path, sizeof(path), "%s/cas/tmp/download-2", f->dir);
        int held = open(path, O_CREAT | O_WRONLY, 0600);
        assert_int_equal(futimens(held, old), 0);
        assert_int_equal(flock(held, LOCK_EX), 0);
        snprintf(path, sizeof(path), "%s/cas/tmp/download-3", f->dir);
        t1 = open(path, O_CREAT | O_WRONLY, 0600); /* fresh: a download in progress */
        close(t1);
        /* 2. a tree without "rendered", and a half-built one */
        snprintf(path, sizeof(path), "%s/cas/tree/deps-sha512-%0128d", f->dir, 5);
        assert_int_equal(rk_mkdir_p(path, 0700, &e), 0);
        strcat(path, "/rootfs");
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/cas/tree/.new-0123456789abcdef/rootfs", f->dir);
        assert_int_equal(rk_mkdir_p(path, 0700, &e), 0);
        /* 3. a row without blob (and its signature left behind) */
        blob_path(f, lone, "", path, sizeof(path));
        assert_int_equal(unlink(path), 0);
        /* 4. a blob without row, and a stray temporary link */
        snprintf(fake, sizeof(fake), "sha512-%0128d", 9);
        snprintf(path, sizeof(path), "%s/cas/blob/sha512/00", f->dir);
        assert_int_equal(rk_mkdir_p(path, 0700, &e), 0);
        blob_path(f, fake, "", path, sizeof(path));
        int b = open(path, O_CREAT | O_WRONLY, 0644);
        close(b);
        blob_path(f, app, "", path, sizeof(path));
        strcpy(strrchr(path, '/') + 1, ".tmp-0011223344556677");
        b = open(path, O_CREAT | O_WRONLY, 0644);
        close(b);
        /* 5. a tree row whose directory is gone (the base's tree, deleted by hand) */
        struct rk_tree_info bt = {0};
        assert_int_equal(rk_store_render(f->s, base, &bt, &e), 0);
        snprintf(path, sizeof(path), "%s/cas/tree/%s", f->dir, bt.id);
        assert_int_equal(rk_rm_rf_at(AT_FDCWD, path, &e), 0);

        assert_int_equal(rk_store_gc(f->s, &keep, &rep, &e), 0);
        assert_int_equal(rep.tmp_removed, 2); /* download-1, .tmp-* */
        assert_int_equal(rep.partial_trees, 2);
        assert_int_equal(rep.rows_removed, 2);  /* lone's row, the base tree's row */
        assert_int_equal(rep.blobs_removed, 2); /* the fake blob, lone's signature */
        assert_int_equal(rep.trees_removed, 0);
        snprintf(path, sizeof(path), "%s/cas/tmp/download-2", f->dir);
        assert_true(exists(path));
        close(held);
        unlink(path);
        snprintf(path, sizeof(path), "%s/cas/tmp/download-3", f->dir);
        assert_true(exists(path));
        unlink(path);
        assert_consistent(f);
        struct rk_image_info info = {0};
        assert_int_equal(rk_store_get(f->s, lone, &info, &e), -ENOENT);
        /* the app's tree survived, and is removed once unused for the grace period... */
        assert_int_equal(rk_store_tree_verify(f->s, t.id, &e), 0);
        struct rk_store_gc_opts now = {.grace_ns = 0};
        assert_int_equal(rk_store_gc(f->s, &now, &rep, &e), 0);
        assert_int_equal(rep.trees_removed, 1);
        assert_int_equal(rk_store_tree_open(f->s, t.id, &e), -ENOENT);
        /* ...images stay: gc removes images only through rm */
        assert_int_equal(rk_store_get(f->s, app, &info, &e), 0);
        rk_image_info_clear(&info);
        rk_tree_info_clear(&t);
        rk_tree_info_clear(&bt);
        assert_consistent(f);
}

static bool always_in_use(void *ud, const char *tree_id)
{
        return true;
}

static void test_gc_keeps_used_trees(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        char base[RK_IMAGE_ID_LEN + 1], app[RK_IMAGE_ID_LEN + 1];
        struct rk_tree_info t = {0};
        struct rk_store_gc_report rep = {0};
        import_base_and_app(f, base, app);
        assert_int_equal(rk_store_render(f->s, app, &t, &e), 0);
        struct rk_store_gc_opts o = {.grace_ns = 0, .tree_in_use = always_in_use};
        assert_int_equal(rk_store_gc(f->s, &o, &rep, &e), 0);
        assert_int_equal(rep.trees_removed, 0);
        assert_int_equal(rk_store_tree_verify(f->s, t.id, &e), 0);
        /* a tree being rendered (its lock held) is left alone */
        int d = open(f->dir, O_PATH | O_DIRECTORY);
        char lk[RK_TREE_ID_LEN + 16];
        snprintf(lk, sizeof(lk), "locks/trees/%s", t.id);
        int l = openat(d, lk, O_RDWR | O_CREAT, 0600);
        assert_int_equal(flock(l, LOCK_EX), 0);
        o.tree_in_use = NULL;
        assert_int_equal(rk_store_gc(f->s, &o, &rep, &e), 0);
        assert_int_equal(rep.trees_removed, 0);
        close(l);
        assert_int_equal(rk_store_gc(f->s, &o, &rep, &e), 0);
        assert_int_equal(rep.trees_removed, 1);
        close(d);
        rk_tree_info_clear(&t);
}

/* ---- the layout refuses directories others can write ---- */

static void test_layout_permissions(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        char path[256];
        struct rk_store *s = NULL;
        snprintf(path, sizeof(path), "%s/cas/tree", f->dir);
        assert_int_equal(chmod(path, 0777), 0);
        assert_int_equal(rk_store_open(f->dir, &s, &e), -EPERM);
        assert_non_null(strstr(e.msg, "cas/tree"));
        assert_int_equal(chmod(path, 0700), 0);
        /* a symlink in place of a store directory */
        snprintf(path, sizeof(path), "%s/cas/tmp", f->dir);
        assert_int_equal(rmdir(path), 0);
        assert_int_equal(symlink("/tmp", path), 0);
        assert_int_equal(rk_store_open(f->dir, &s, &e), -ENOTDIR);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(rk_store_open(f->dir, &s, &e), 0);
        rk_store_close(s);
}

/* ---- concurrency ---- */

#define WORKERS 4
#define ROUNDS  6

static void concurrent_worker(const char *dir, int w)
{
        rk_error e = RK_ERROR_INIT;
        struct rk_store *s = NULL;
        if (rk_store_open(dir, &s, &e) < 0)
                _exit(10);
        for (int round = 0; round < ROUNDS; round++) {
                /* the same three images in every worker, in a different order, plus one of
                 * its own each round */
                int seeds[4] = {200 + (w + round) % 3, 200 + (w + round + 1) % 3,
                                200 + (w + round + 2) % 3, 300 + w * ROUNDS + round};
                for (int k = 0; k < 4; k++) {
                        char id[RK_IMAGE_ID_LEN + 1];
                        struct rk_tree_info t = {0};
                        int fd = mkimage_n("example.com/conc", seeds[k],
                                           k % 2 ? ARCHIVE_FILTER_GZIP : ARCHIVE_FILTER_NONE, id);
                        const struct rk_admission *a = (w + k) % 2 ? &SIGNED : &INSECURE;
                        if (rk_store_import(s, fd, SIG, strlen(SIG), a, NULL, &e) < 0)
                                _exit(11);
                        if (k == 0 && rk_store_render(s, id, &t, &e) < 0)
                                _exit(12);
                        rk_tree_info_clear(&t);
                        close(fd);
                }
                struct rk_store_gc_opts o = {.grace_ns = 3600LL * 1000000000};
                if (w == 0 && rk_store_gc(s, &o, NULL, &e) < 0)
                        _exit(13);
        }
        rk_store_close(s);
        _exit(0);
}

static void test_concurrent_imports(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        pid_t pids[WORKERS];
        for (int w = 0; w < WORKERS; w++) {
                pids[w] = fork();
                assert_true(pids[w] >= 0);
                if (pids[w] == 0)
                        concurrent_worker(f->dir, w);
        }
        for (int w = 0; w < WORKERS; w++) {
                int st = 0;
                assert_int_equal(waitpid(pids[w], &st, 0), pids[w]);
                if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                        fail_msg("worker %d: status %#x", w, st);
        }
        struct rk_image_info *v = NULL;
        size_t n = 0;
        assert_int_equal(rk_store_list(f->s, &v, &n, &e), 0);
        assert_int_equal(n, 3 + WORKERS * ROUNDS);
        rk_image_infos_free(v, n);
        struct rk_store_gc_report rep = {0};
        struct rk_store_gc_opts o = {.grace_ns = 3600LL * 1000000000};
        assert_int_equal(rk_store_gc(f->s, &o, &rep, &e), 0);
        assert_int_equal(rep.tmp_removed + rep.partial_trees + rep.rows_removed + rep.blobs_removed,
                         0);
        assert_consistent(f);
        struct rk_audit_report ar;
        assert_int_equal(rk_audit_verify(f->dir, &ar, &e), 0);
        assert_int_equal(ar.torn, 0);
}

/* ---- processes killed at random points ---- */

static void killed_worker(const char *dir, int seed)
{
        rk_error e = RK_ERROR_INIT;
        struct rk_store *s = NULL;
        char id[RK_IMAGE_ID_LEN + 1];
        static char big[1 << 20];
        struct rk_tree_info t = {0};
        if (rk_store_open(dir, &s, &e) < 0)
                _exit(10);
        /* big enough that the kill lands anywhere: copy, check, link, index, render, rm */
        memset(big, 'a' + seed % 26, sizeof(big) - 1);
        const struct tent files[] = {
            {'d', "rootfs/d"}, {'f', "rootfs/d/big", big}, {'f', "rootfs/d/big2", big}};
        char version[16];
        snprintf(version, sizeof(version), "2.0.%d", seed);
        int fd =
            mkimage("example.com/killed", version, NULL, files, N(files), ARCHIVE_FILTER_GZIP, id);
        if (rk_store_import(s, fd, SIG, strlen(SIG), &SIGNED, NULL, &e) < 0 ||
            rk_store_render(s, id, &t, &e) < 0)
                _exit(11);
        if (seed % 3 == 0 && rk_store_remove(s, id, &e) < 0)
                _exit(12);
        rk_tree_info_clear(&t);
        _exit(0);
}

static void test_killed_mid_operation(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        unsigned seed = 0;
        if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
                seed = (unsigned)getpid();
        srand(seed);
        int completed = 0;
        /* how long one worker takes undisturbed: the kills land uniformly within that */
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        pid_t c = fork();
        assert_true(c >= 0);
        if (c == 0)
                killed_worker(f->dir, 999);
        int cst = 0;
        assert_int_equal(waitpid(c, &cst, 0), c);
        assert_true(WIFEXITED(cst) && WEXITSTATUS(cst) == 0);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long span = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000;
        for (int i = 0; i < 16; i++) {
                pid_t p = fork();
                assert_true(p >= 0);
                if (p == 0)
                        killed_worker(f->dir, i);
                long us = rand() % (span + 1);
                struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
                nanosleep(&ts, NULL);
                kill(p, SIGKILL);
                int st = 0;
                assert_int_equal(waitpid(p, &st, 0), p);
                completed += WIFEXITED(st) && WEXITSTATUS(st) == 0;
                if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
                        fail_msg("worker %d failed with %d (seed %u)", i, WEXITSTATUS(st), seed);
                /* right away, without repair: the store opens, lists, and every row's blob is
                 * complete (a row is only ever written after its blob) */
                struct rk_store *s2 = NULL;
                assert_int_equal(rk_store_open(f->dir, &s2, &e), 0);
                struct rk_image_info *v = NULL;
                size_t n = 0;
                assert_int_equal(rk_store_list(s2, &v, &n, &e), 0);
                for (size_t k = 0; k < n; k++) {
                        struct rk_store_verify_report rep;
                        int r = rk_store_verify(s2, v[k].id, &rep, &e);
                        /* only a removal interrupted between row and files differs */
                        if (r < 0 && r != -ENOENT)
                                fail_msg("seed %u: %s", seed, e.msg);
                }
                rk_image_infos_free(v, n);
                rk_store_close(s2);
        }
        /* then gc repairs whatever was left, and the store is consistent */
        struct rk_store_gc_opts o = {.grace_ns = 3600LL * 1000000000};
        struct rk_store_gc_report rep = {0};
        assert_int_equal(rk_store_gc(f->s, &o, &rep, &e), 0);
        assert_consistent(f);
        struct rk_audit_report ar;
        assert_int_equal(rk_audit_verify(f->dir, &ar, &e), 0);
        print_message("killed workers: %d of 16 completed (seed %u, span %ld us); gc: %zu "
                      "partial trees, %zu rows, %zu blobs, %zu tmp\n",
                      completed, seed, span, rep.partial_trees, rep.rows_removed, rep.blobs_removed,
                      rep.tmp_removed);
}

/* ---- locks ---- */

static void test_lock_file_replaced(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        char id[RK_IMAGE_ID_LEN + 1];
        int fd = mkimage_n("example.com/lock", 12, ARCHIVE_FILTER_NONE, id);
        import_ok(f->s, fd, &INSECURE, NULL, NULL);
        /* gc removes unused lock files of images that are gone; later users re-create them */
        assert_int_equal(rk_store_remove(f->s, id, &e), 0);
        char path[512];
        snprintf(path, sizeof(path), "%s/locks/images/%s", f->dir, id);
        assert_true(exists(path));
        struct rk_store_gc_report rep = {0};
        assert_int_equal(rk_store_gc(f->s, NULL, &rep, &e), 0);
        assert_int_equal(rep.locks_removed, 1);
        assert_false(exists(path));
        import_ok(f->s, fd, &INSECURE, NULL, NULL);
        assert_true(exists(path));
        close(fd);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_import_and_read, setup, teardown),
            cmocka_unit_test_setup_teardown(test_import_tmpfile_no_copy, setup, teardown),
            cmocka_unit_test_setup_teardown(test_import_refused, setup, teardown),
            cmocka_unit_test_setup_teardown(test_admission_upgrade, setup, teardown),
            cmocka_unit_test_setup_teardown(test_resolve_ids, setup, teardown),
            cmocka_unit_test_setup_teardown(test_resolve_names, setup, teardown),
            cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
            cmocka_unit_test_setup_teardown(test_remote_cache, setup, teardown),
            cmocka_unit_test_setup_teardown(test_render_with_dependency, setup, teardown),
            cmocka_unit_test_setup_teardown(test_render_missing_dependency, setup, teardown),
            cmocka_unit_test_setup_teardown(test_extract_into_dir, setup, teardown),
            cmocka_unit_test_setup_teardown(test_verify, setup, teardown),
            cmocka_unit_test_setup_teardown(test_gc_repairs, setup, teardown),
            cmocka_unit_test_setup_teardown(test_gc_keeps_used_trees, setup, teardown),
            cmocka_unit_test_setup_teardown(test_layout_permissions, setup, teardown),
            cmocka_unit_test_setup_teardown(test_lock_file_replaced, setup, teardown),
            cmocka_unit_test_setup_teardown(test_concurrent_imports, setup, teardown),
            cmocka_unit_test_setup_teardown(test_killed_mid_operation, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
