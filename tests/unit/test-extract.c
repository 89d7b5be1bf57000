/* SPDX-License-Identifier: Apache-2.0 */
/* The ACI reader and extractor: good archives in every compression, the image ID, check-only
 * mode, and one test per hostile class of security.md §4.3, each run in-process (openat2 and
 * the fallback walker), in check-only mode and in the confined child, with the escape oracle
 * (sentinel beside the destination unchanged, nothing created outside). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <cmocka.h>

#include "aci-tar.h"
#include "aci/archive.h"
#include "base/path.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

enum mode { M_IN_PROCESS, M_FALLBACK, M_CHECK, M_FORKED, M_FORKED_CHECK, M_COUNT };
static const char *const mode_names[] = {"in-process", "fallback walker", "check-only", "forked",
                                         "forked check-only"};

static int extract_mode(struct scratch *s, int fd, enum mode m, const struct rk_aci_opts *base,
                        struct rk_aci_result *res, rk_error *err)
{
        struct rk_aci_opts o = base ? *base : (struct rk_aci_opts){.keep_owners = true};
        struct rk_aci_layer l = {.fd = fd, .what = "t.aci"};
        o.dest_fd = (m == M_CHECK || m == M_FORKED_CHECK) ? -1 : s->dest;
        o.in_process = m == M_IN_PROCESS || m == M_FALLBACK || m == M_CHECK;
        rk_path_force_fallback(m == M_FALLBACK);
        int r = rk_aci_extract(&l, 1, &o, res, err);
        rk_path_force_fallback(false);
        return r;
}

/* Every mode refuses with code and a message containing want; nothing escapes. */
static void refused_opts(const struct tent *t, size_t n, int code, const char *want,
                         const struct rk_aci_opts *o)
{
        struct scratch *s = scratch_new();
        for (int m = 0; m < M_COUNT; m++) {
                struct rk_aci_result res = {0};
                rk_error err = RK_ERROR_INIT;
                int fd = tar_make(t, n, ARCHIVE_FILTER_NONE);
                scratch_dest(s);
                int r = extract_mode(s, fd, m, o, &res, &err);
                close(fd);
                if (r != code || !strstr(err.msg, want))
                        fail_msg("%s: got %d '%s', want %d '%s'", mode_names[m], r, err.msg, code,
                                 want);
                assert_null(res.manifest);
                assert_true(scratch_intact(s));
        }
        scratch_free(s);
}

static void refused(const struct tent *t, size_t n, int code, const char *want)
{
        refused_opts(t, n, code, want, NULL);
}

/* ---- good archives ---- */

static const struct tent good[] = {
    T_ROOTFS,
    {'d', "rootfs/bin"},
    {'f', "rootfs/bin/hello", "#!/bin/sh\n", 0755},
    {'l', "rootfs/bin/sh", "hello"},
    {'h', "rootfs/bin/hello2", "rootfs/bin/hello"},
    {'d', "rootfs/etc", NULL, 0750, .mtime = 1234567890},
    {'f', "rootfs/etc/passwd", "root:x:0:0::/:/bin/sh\n"},
    {'h', "rootfs/etc/hello3", "rootfs/bin/hello"}, /* across directories (Landlock REFER) */
    {'f', "rootfs/etc/owned", "x", 0600, 1234, 5678},
    {'l', "rootfs/abs", "/etc/passwd"},
    {'l', "rootfs/up", "../../../../etc"},
    {'d', "rootfs/ro", NULL, 0555},
    {'f', "rootfs/ro/file", "in a read-only dir"},
    {'f', "rootfs/implicit/parent/file", "made parents"},
    {'f', "rootfs/x", "x", .xname = "user.ok", .xval = "yes", .xlen = 3},
    T_MANIFEST, /* last, as appc's builder writes it */
};

static void check_good_tree(int d, bool owners)
{
        struct stat a, b;
        assert_true(has_file(d, "manifest", TEST_MANIFEST, 0644));
        assert_true(has_dir(d, "rootfs", 0755));
        assert_true(has_file(d, "rootfs/bin/hello", "#!/bin/sh\n", 0755));
        assert_true(has_symlink(d, "rootfs/bin/sh", "hello"));
        assert_true(has_symlink(d, "rootfs/abs", "/etc/passwd"));
        assert_true(has_symlink(d, "rootfs/up", "../../../../etc"));
        assert_true(has_dir(d, "rootfs/etc", 0750));
        assert_true(has_dir(d, "rootfs/ro", 0555));
        assert_true(has_file(d, "rootfs/ro/file", "in a read-only dir", 0644));
        assert_true(has_dir(d, "rootfs/implicit/parent", 0755));
        assert_int_equal(fstatat(d, "rootfs/bin/hello", &a, 0), 0);
        assert_int_equal(fstatat(d, "rootfs/bin/hello2", &b, 0), 0);
        assert_int_equal(a.st_ino, b.st_ino);
        assert_int_equal(a.st_nlink, 3);
        /* directory times applied after their contents were written */
        assert_int_equal(fstatat(d, "rootfs/etc", &a, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(a.st_mtim.tv_sec, 1234567890);
        assert_int_equal(fstatat(d, "rootfs/etc/owned", &a, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(a.st_uid, owners ? 1234u : getuid());
        assert_int_equal(a.st_gid, owners ? 5678u : getgid());
        assert_int_equal(a.st_mtim.tv_sec, 1500000000);
        char v[8] = {0};
        int f = openat(d, "rootfs/x", O_RDONLY | O_CLOEXEC);
        assert_int_equal(fgetxattr(f, "user.ok", v, sizeof(v)), 3);
        close(f);
        assert_string_equal(v, "yes");
}

static void test_good(void **state)
{
        char id[RK_IMAGE_ID_LEN + 1];
        tar_id(good, N(good), id);
        for (int m = 0; m < M_COUNT; m++) {
                struct scratch *s = scratch_new();
                struct rk_aci_result res = {0};
                rk_error err = RK_ERROR_INIT;
                int fd = tar_make(good, N(good), ARCHIVE_FILTER_NONE);
                int r = extract_mode(s, fd, m, NULL, &res, &err);
                if (r < 0)
                        fail_msg("%s: %s", mode_names[m], err.msg);
                assert_string_equal(res.id, id);
                assert_int_equal(res.manifest_len, strlen(TEST_MANIFEST));
                assert_string_equal(res.manifest, TEST_MANIFEST);
                assert_int_equal(res.stats.entries, N(good));
                assert_int_equal(res.stats.files, 6);
                assert_int_equal(res.stats.dirs, 4);
                assert_int_equal(res.stats.symlinks, 3);
                assert_int_equal(res.stats.hardlinks, 2);
                if (m == M_CHECK || m == M_FORKED_CHECK)
                        assert_true(is_empty_dir(s->dest));
                else
                        check_good_tree(s->dest, true);
                assert_true(scratch_intact(s));
                /* the fd's offset is left alone (pread) */
                assert_int_equal(lseek(fd, 0, SEEK_CUR), 0);
                close(fd);
                rk_aci_result_clear(&res);
                scratch_free(s);
        }
        (void)state;
}

static void test_compressions(void **state)
{
        static const int filters[] = {ARCHIVE_FILTER_GZIP, ARCHIVE_FILTER_BZIP2, ARCHIVE_FILTER_XZ,
                                      ARCHIVE_FILTER_ZSTD};
        char id[RK_IMAGE_ID_LEN + 1];
        tar_id(good, N(good), id);
        for (size_t i = 0; i < N(filters); i++) {
                struct scratch *s = scratch_new();
                struct rk_aci_result res = {0};
                rk_error err = RK_ERROR_INIT;
                int fd = tar_make(good, N(good), filters[i]);
                int r = extract_mode(s, fd, i % 2 ? M_FORKED : M_IN_PROCESS, NULL, &res, &err);
                if (r < 0)
                        fail_msg("filter %d: %s", filters[i], err.msg);
                assert_string_equal(res.id, id);
                check_good_tree(s->dest, true);
                close(fd);
                rk_aci_result_clear(&res);
                scratch_free(s);
        }
        (void)state;
}

static void test_rootfs_only_no_owners(void **state)
{
        struct scratch *s = scratch_new();
        struct rk_aci_opts o = {.rootfs_only = true, .keep_owners = false};
        struct rk_aci_result res = {0};
        rk_error err = RK_ERROR_INIT;
        int fd = tar_make(good, N(good), ARCHIVE_FILTER_NONE);
        assert_int_equal(extract_mode(s, fd, M_FORKED, &o, &res, &err), 0);
        assert_true(absent(s->dest, "manifest"));
        assert_true(absent(s->dest, "rootfs"));
        assert_true(has_file(s->dest, "bin/hello", "#!/bin/sh\n", 0755));
        assert_true(has_symlink(s->dest, "bin/sh", "hello"));
        struct stat st;
        assert_int_equal(fstatat(s->dest, "etc/owned", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(st.st_uid, getuid());
        assert_string_equal(res.manifest, TEST_MANIFEST);
        assert_true(scratch_intact(s));
        close(fd);
        rk_aci_result_clear(&res);
        scratch_free(s);
        (void)state;
}

/* The ID covers the whole uncompressed stream: trailing bytes after the end blocks too. */
static void test_trailing_bytes(void **state)
{
        char hex[RK_SHA512_HEX_LEN + 1], id[RK_IMAGE_ID_LEN + 1];
        struct rk_aci_layer l = {.what = "t.aci"};
        struct rk_aci_opts o = {.dest_fd = -1, .in_process = true};
        struct rk_aci_result res = {0};
        rk_error err = RK_ERROR_INIT;

        l.fd = tar_make(good, N(good), ARCHIVE_FILTER_NONE);
        lseek(l.fd, 0, SEEK_END);
        assert_int_equal(write(l.fd, "\0\0\0trailing", 11), 11);
        lseek(l.fd, 0, SEEK_SET);
        assert_int_equal(rk_sha512_fd_hex(l.fd, hex, NULL), 0);
        snprintf(id, sizeof(id), "sha512-%s", hex);
        lseek(l.fd, 0, SEEK_SET);
        assert_int_equal(rk_aci_extract(&l, 1, &o, &res, &err), 0);
        assert_string_equal(res.id, id);
        rk_aci_result_clear(&res);
        /* expect_id: the right one passes, any other is refused */
        l.expect_id = id;
        assert_int_equal(rk_aci_extract(&l, 1, &o, &res, &err), 0);
        rk_aci_result_clear(&res);
        char bad[RK_IMAGE_ID_LEN + 1];
        memcpy(bad, id, sizeof(bad));
        bad[10] = bad[10] == '0' ? '1' : '0';
        l.expect_id = bad;
        assert_int_equal(rk_aci_extract(&l, 1, &o, &res, &err), -EBADMSG);
        assert_non_null(strstr(err.msg, "image ID mismatch"));
        assert_null(res.manifest);
        close(l.fd);
        (void)state;
}

/* A pipe (not seekable) works too, and the same seekable fd can be read twice. */
static void test_pipe_and_reuse(void **state)
{
        int p[2], fd = tar_make(good, N(good), ARCHIVE_FILTER_GZIP);
        char buf[65536], id[RK_IMAGE_ID_LEN + 1];
        struct rk_aci_opts o = {.dest_fd = -1, .in_process = true};
        struct rk_aci_result res[2] = {{{0}}};
        rk_error err = RK_ERROR_INIT;

        tar_id(good, N(good), id);
        ssize_t n = read(fd, buf, sizeof(buf));
        assert_true(n > 0 && n < (ssize_t)sizeof(buf));
        assert_int_equal(pipe(p), 0);
        assert_int_equal(write(p[1], buf, (size_t)n), n);
        close(p[1]);
        struct rk_aci_layer l = {.fd = p[0], .what = "pipe"};
        assert_int_equal(rk_aci_extract(&l, 1, &o, res, &err), 0);
        assert_string_equal(res[0].id, id);
        rk_aci_result_clear(&res[0]);
        close(p[0]);
        lseek(fd, 0, SEEK_SET);
        struct rk_aci_layer two[2] = {{.fd = fd, .what = "a"}, {.fd = fd, .what = "b"}};
        assert_int_equal(rk_aci_extract(two, 2, &o, res, &err), 0);
        assert_string_equal(res[0].id, id);
        assert_string_equal(res[1].id, id);
        assert_int_equal(res[1].stats.skipped_upper, N(good) - 1);
        rk_aci_result_clear(&res[0]);
        rk_aci_result_clear(&res[1]);
        close(fd);
        (void)state;
}

/* ---- refused: one test per class ---- */

static void test_dotdot(void **state)
{
        const struct tent a[] = {T_MANIFEST, T_ROOTFS, {'f', "rootfs/../../sentinel", "pwned"}};
        const struct tent b[] = {
            T_MANIFEST, T_ROOTFS, {'d', "rootfs/a"}, {'f', "rootfs/a/../b", "mid"}};
        refused(a, N(a), -EXDEV, "entry 'rootfs/../../sentinel': path contains '..'");
        refused(b, N(b), -EXDEV, "entry 'rootfs/a/../b': path contains '..'");
        (void)state;
}

static void test_absolute(void **state)
{
        const struct tent a[] = {T_MANIFEST, T_ROOTFS, {'f', "/tmp/x", "pwned"}};
        refused(a, N(a), -EXDEV, "entry '/tmp/x': absolute path");
        (void)state;
}

/* A symlink to the scratch dir, then a file through it: must not reach the sentinel. */
static void test_symlink_write_through(void **state)
{
        struct scratch *probe = scratch_new();
        char target[128];
        snprintf(target, sizeof(target), "%s", probe->dir);
        scratch_free(probe);
        const struct tent rel[] = {T_MANIFEST,
                                   T_ROOTFS,
                                   {'l', "rootfs/evil", "../.."},
                                   {'f', "rootfs/evil/sentinel", "pwned"}};
        const struct tent dot[] = {T_MANIFEST,
                                   T_ROOTFS,
                                   {'l', "rootfs/evil", "../.."},
                                   {'f', "./rootfs//evil/./sentinel", "pwned"}};
        const struct tent leaf[] = {
            T_MANIFEST, T_ROOTFS, {'l', "rootfs/x", "../../sentinel"}, {'f', "rootfs/x", "pwned"}};
        refused(rel, N(rel), -ELOOP, "parent 'rootfs/evil' is a symlink made by this archive");
        refused(dot, N(dot), -ELOOP, "parent 'rootfs/evil' is a symlink made by this archive");
        refused(leaf, N(leaf), -EBADMSG, "entry 'rootfs/x': duplicate entry");
        (void)state;
}

/* A symlink planted in the destination by someone else is never followed either. */
static void test_planted_symlink(void **state)
{
        for (int m = 0; m < M_COUNT; m++) {
                if (m == M_CHECK || m == M_FORKED_CHECK)
                        continue;
                struct scratch *s = scratch_new();
                struct rk_aci_result res = {0};
                rk_error err = RK_ERROR_INIT;
                int fd = tar_make(good, N(good), ARCHIVE_FILTER_NONE);
                int dfd = openat(s->dest, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                assert_int_equal(symlinkat("../outside", dfd, "rootfs"), 0);
                close(dfd);
                int r = extract_mode(s, fd, m, NULL, &res, &err);
                assert_int_equal(r, -EEXIST);
                assert_non_null(strstr(err.msg, "entry 'rootfs/': cannot create directory"));
                assert_true(scratch_intact(s));
                close(fd);
                scratch_free(s);
        }
        (void)state;
}

static void test_hardlinks(void **state)
{
        const struct tent abs[] = {T_MANIFEST, T_ROOTFS, {'h', "rootfs/h", "/etc/passwd"}};
        const struct tent dd[] = {T_MANIFEST, T_ROOTFS, {'h', "rootfs/h", "rootfs/../sentinel"}};
        const struct tent sym[] = {T_MANIFEST,
                                   T_ROOTFS,
                                   {'l', "rootfs/l", "../../sentinel"},
                                   {'h', "rootfs/h", "rootfs/l"}};
        const struct tent fwd[] = {
            T_MANIFEST, T_ROOTFS, {'h', "rootfs/h", "rootfs/later"}, {'f', "rootfs/later", "x"}};
        const struct tent dir[] = {T_MANIFEST, T_ROOTFS, {'h', "rootfs/h", "rootfs"}};
        const struct tent man[] = {T_MANIFEST, T_ROOTFS, {'h', "rootfs/h", "manifest"}};
        const struct tent self[] = {T_MANIFEST, T_ROOTFS, {'h', "rootfs/h", "rootfs/h"}};
        refused(abs, N(abs), -EXDEV, "entry 'rootfs/h': hard link target: absolute path");
        refused(dd, N(dd), -EXDEV, "entry 'rootfs/h': hard link target: path contains '..'");
        refused(sym, N(sym), -EXDEV, "hard link target 'rootfs/l' is not a regular file");
        refused(fwd, N(fwd), -EXDEV, "'rootfs/later' is not an earlier entry of this archive");
        refused(dir, N(dir), -EXDEV, "hard link target is outside 'rootfs/'");
        refused(man, N(man), -EXDEV, "hard link target is outside 'rootfs/'");
        refused(self, N(self), -EXDEV, "'rootfs/h' is not an earlier entry");
        (void)state;
}

/* libarchive 2021 fixup CVEs: a directory, then a symlink with its name. */
static void test_fixup_swap(void **state)
{
        const struct tent a[] = {T_MANIFEST,
                                 T_ROOTFS,
                                 {'d', "rootfs/d", NULL, 0777, .mtime = 5},
                                 {'l', "rootfs/d", "../../outside"}};
        refused(a, N(a), -EBADMSG, "entry 'rootfs/d': duplicate entry");
        (void)state;
}

static void test_special_files(void **state)
{
        const struct tent c[] = {T_MANIFEST, T_ROOTFS, {'c', "rootfs/null"}};
        const struct tent b[] = {T_MANIFEST, T_ROOTFS, {'b', "rootfs/sda"}};
        const struct tent p[] = {T_MANIFEST, T_ROOTFS, {'p', "rootfs/fifo"}};
        refused(c, N(c), -EPERM, "entry 'rootfs/null': device nodes are not allowed");
        refused(b, N(b), -EPERM, "entry 'rootfs/sda': device nodes are not allowed");
        refused(p, N(p), -EPERM, "entry 'rootfs/fifo': FIFOs are not allowed");
        (void)state;
}

static void test_duplicates(void **state)
{
        const struct tent a[] = {
            T_MANIFEST, T_ROOTFS, {'f', "rootfs/a", "1"}, {'f', "rootfs/a", "2"}};
        const struct tent b[] = {
            T_MANIFEST, T_ROOTFS, {'f', "rootfs/a", "1"}, {'f', "./rootfs/a", "2"}};
        const struct tent c[] = {T_MANIFEST, T_ROOTFS, {'d', "rootfs/a"}, {'d', "rootfs/a/"}};
        const struct tent d[] = {T_MANIFEST, T_ROOTFS, T_MANIFEST};
        const struct tent e[] = {T_MANIFEST, T_ROOTFS, T_ROOTFS};
        const struct tent f[] = {
            T_MANIFEST, T_ROOTFS, {'f', "rootfs/a/b", "x"}, {'f', "rootfs/a", "x"}};
        refused(a, N(a), -EBADMSG, "entry 'rootfs/a': duplicate entry");
        refused(b, N(b), -EBADMSG, "entry './rootfs/a': duplicate entry");
        refused(c, N(c), -EBADMSG, "entry 'rootfs/a/': duplicate entry");
        refused(d, N(d), -EBADMSG, "entry 'manifest': duplicate entry");
        refused(e, N(e), -EBADMSG, "entry 'rootfs/': duplicate entry");
        refused(f, N(f), -EBADMSG, "entry 'rootfs/a': conflicts with the directory");
        (void)state;
}

static void test_layout(void **state)
{
        const struct tent evil[] = {T_MANIFEST, T_ROOTFS, {'f', "rootfs-evil/x", "x"}};
        const struct tent etc[] = {T_MANIFEST, T_ROOTFS, {'f', "etc/passwd", "x"}};
        const struct tent below[] = {T_MANIFEST, T_ROOTFS, {'f', "manifest/x", "x"}};
        const struct tent nom[] = {T_ROOTFS, {'f', "rootfs/a", "x"}};
        const struct tent nor[] = {T_MANIFEST};
        const struct tent msym[] = {{'l', "manifest", "/etc/passwd"}, T_ROOTFS};
        const struct tent rsym[] = {T_MANIFEST, {'l', "rootfs", "/"}};
        const struct tent root[] = {T_MANIFEST, {'f', ".", "x"}};
        refused(evil, N(evil), -EBADMSG, "entry 'rootfs-evil/x': outside 'rootfs/'");
        refused(etc, N(etc), -EBADMSG, "entry 'etc/passwd': outside 'rootfs/'");
        refused(below, N(below), -EBADMSG, "entry 'manifest/x': outside 'rootfs/'");
        refused(nom, N(nom), -EBADMSG, "no 'manifest' entry");
        refused(nor, N(nor), -EBADMSG, "no 'rootfs' directory");
        refused(msym, N(msym), -EBADMSG, "'manifest' must be a regular file");
        refused(rsym, N(rsym), -EBADMSG, "'rootfs' must be a directory");
        refused(root, N(root), -EBADMSG, "names the archive root");
        (void)state;
}

static void test_caps(void **state)
{
        struct rk_aci_limits l;
        struct rk_aci_opts o = {.keep_owners = true, .limits = &l};
        const struct tent big[] = {T_MANIFEST, T_ROOTFS, {'f', "rootfs/big", "0123456789"}};
        const struct tent deep[] = {T_MANIFEST, T_ROOTFS, {'f', "rootfs/a/b/c/d/e", "x"}};
        const struct tent lnk[] = {T_MANIFEST, T_ROOTFS, {'l', "rootfs/l", "0123456789"}};
        const struct tent xa[] = {
            T_MANIFEST,
            T_ROOTFS,
            {'f', "rootfs/x", "x", .xname = "user.a", .xval = "0123456789", .xlen = 10}};
        char longname[400];
        memset(longname, 'n', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = 0;
        memcpy(longname, "rootfs/", 7);
        const struct tent comp[] = {T_MANIFEST, T_ROOTFS, {'f', longname, "x"}};

        rk_aci_limits_init(&l);
        l.max_file_bytes = 9;
        refused_opts(big, N(big), -EFBIG, "entry 'rootfs/big': file of 10 bytes", &o);
        rk_aci_limits_init(&l);
        l.max_total_bytes = 4096;
        refused_opts(big, N(big), -EFBIG, "uncompressed tar larger than the limit of 4096", &o);
        rk_aci_limits_init(&l);
        l.max_compressed_bytes = 1000;
        refused_opts(big, N(big), -EFBIG, "archive larger than the limit of 1000 bytes", &o);
        rk_aci_limits_init(&l);
        l.max_entries = 2;
        refused_opts(big, N(big), -EFBIG, "entry 'rootfs/big': more than the limit of 2 entries",
                     &o);
        rk_aci_limits_init(&l);
        l.max_depth = 5;
        refused_opts(deep, N(deep), -ENAMETOOLONG, "path has too many components", &o);
        rk_aci_limits_init(&l);
        l.max_path_len = 10;
        refused_opts(deep, N(deep), -ENAMETOOLONG, "name longer than the limit of 10", &o);
        rk_aci_limits_init(&l);
        l.max_link_len = 9;
        refused_opts(lnk, N(lnk), -ENAMETOOLONG, "link target longer than the limit of 9", &o);
        rk_aci_limits_init(&l);
        l.max_xattr_bytes = 10;
        refused_opts(xa, N(xa), -EFBIG, "xattrs larger than the limit of 10", &o);
        rk_aci_limits_init(&l);
        l.max_xattrs = 0;
        refused_opts(xa, N(xa), -EFBIG, "xattrs, over the limit of 0", &o);
        rk_aci_limits_init(&l);
        l.max_manifest_bytes = 10;
        refused_opts(big, N(big), -EFBIG, "entry 'manifest': manifest of", &o);
        refused(comp, N(comp), -ENAMETOOLONG, "a path component is longer than 255 bytes");
        (void)state;
}

static void test_not_tar(void **state)
{
        struct rk_aci_opts o = {.dest_fd = -1, .in_process = true};
        struct rk_aci_result res = {0};
        rk_error err = RK_ERROR_INIT;
        int fd = memfd_create("x", MFD_CLOEXEC);
        struct rk_aci_layer l = {.fd = fd, .what = "x.aci"};

        assert_int_equal(rk_aci_extract(&l, 1, &o, &res, &err), -EBADMSG);
        assert_non_null(strstr(err.msg, "'x.aci': empty file"));
        assert_int_equal(write(fd, "PK\3\4 this is not a tar archive at all", 38), 38);
        lseek(fd, 0, SEEK_SET);
        assert_int_equal(rk_aci_extract(&l, 1, &o, &res, &err), -EBADMSG);
        assert_non_null(strstr(err.msg, "not a tar archive"));
        close(fd);
        /* a gzip inside a gzip is not unwrapped twice */
        int inner = tar_make(good, N(good), ARCHIVE_FILTER_GZIP);
        fd = memfd_create("x", MFD_CLOEXEC);
        struct archive *a = archive_write_new();
        archive_write_set_format_raw(a);
        archive_write_add_filter_gzip(a);
        archive_write_open(a, &fd, NULL, tar_write_cb, NULL);
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_filetype(e, AE_IFREG);
        archive_write_header(a, e);
        char buf[65536];
        ssize_t n = read(inner, buf, sizeof(buf));
        archive_write_data(a, buf, (size_t)n);
        archive_write_close(a);
        archive_write_free(a);
        archive_entry_free(e);
        lseek(fd, 0, SEEK_SET);
        l.fd = fd;
        assert_int_equal(rk_aci_extract(&l, 1, &o, &res, &err), -EBADMSG);
        assert_non_null(strstr(err.msg, "nested compression"));
        close(fd);
        close(inner);
        (void)state;
}

/* ---- neutralised ---- */

static void test_setid_xattrs(void **state)
{
        static const char cap[20] = {0, 0, 0, 2, 0, 0x20};
        const struct tent t[] = {
            T_MANIFEST,
            T_ROOTFS,
            {'f', "rootfs/suid", "x", 04755},
            {'f', "rootfs/sgid", "x", 02711},
            {'d', "rootfs/sgiddir", NULL, 02775},
            {'d', "rootfs/sticky", NULL, 01777},
            {'f', "rootfs/cap", "x", .xname = "security.capability", .xval = cap, .xlen = 20},
            {'f', "rootfs/trusted", "x", .xname = "trusted.x", .xval = "1", .xlen = 1},
            {'f', "rootfs/selinux", "x", .xname = "security.selinux", .xval = "s0", .xlen = 2},
            {'f', "rootfs/user", "x", .xname = "user.y", .xval = "ok", .xlen = 2},
        };
        for (int m = 0; m < M_COUNT; m++) {
                struct scratch *s = scratch_new();
                struct rk_aci_result res = {0};
                rk_error err = RK_ERROR_INIT;
                int fd = tar_make(t, N(t), ARCHIVE_FILTER_NONE);
                assert_int_equal(extract_mode(s, fd, m, NULL, &res, &err), 0);
                assert_int_equal(res.stats.setid_stripped, 3);
                assert_int_equal(res.stats.xattrs_dropped, 3);
                if (m != M_CHECK && m != M_FORKED_CHECK) {
                        char v[32];
                        assert_true(has_file(s->dest, "rootfs/suid", "x", 0755));
                        assert_true(has_file(s->dest, "rootfs/sgid", "x", 0711));
                        assert_true(has_dir(s->dest, "rootfs/sgiddir", 0775));
                        assert_true(has_dir(s->dest, "rootfs/sticky", 01777));
                        char p[128];
                        const char *names[] = {"cap", "trusted", "selinux"};
                        const char *xn[] = {"security.capability", "trusted.x", "security.selinux"};
                        for (int i = 0; i < 3; i++) {
                                snprintf(p, sizeof(p), "%s/dest/rootfs/%s", s->dir, names[i]);
                                assert_true(lgetxattr(p, xn[i], v, sizeof(v)) < 0);
                        }
                        snprintf(p, sizeof(p), "%s/dest/rootfs/user", s->dir);
                        assert_int_equal(lgetxattr(p, "user.y", v, sizeof(v)), 2);
                }
                close(fd);
                rk_aci_result_clear(&res);
                scratch_free(s);
        }
        (void)state;
}

/* Whiteout names are data in an ACI: nothing is deleted. */
static void test_whiteouts_are_data(void **state)
{
        const struct tent t[] = {T_MANIFEST,
                                 T_ROOTFS,
                                 {'f', "rootfs/foo", "keep"},
                                 {'f', "rootfs/.wh.foo", ""},
                                 {'f', "rootfs/.wh..wh..opq", ""}};
        struct scratch *s = scratch_new();
        struct rk_aci_result res = {0};
        rk_error err = RK_ERROR_INIT;
        int fd = tar_make(t, N(t), ARCHIVE_FILTER_NONE);
        assert_int_equal(extract_mode(s, fd, M_IN_PROCESS, NULL, &res, &err), 0);
        assert_true(has_file(s->dest, "rootfs/foo", "keep", 0));
        assert_true(has_file(s->dest, "rootfs/.wh.foo", "", 0));
        close(fd);
        rk_aci_result_clear(&res);
        scratch_free(s);
        (void)state;
}

/* The child reports its death as an error naming the image; no result leaks out. */
static void test_child_killed(void **state)
{
        struct rk_aci_limits l;
        struct rk_aci_opts o = {.dest_fd = -1, .limits = &l};
        struct rk_aci_result res = {0};
        rk_error err = RK_ERROR_INIT;
        int p[2];

        rk_aci_limits_init(&l);
        l.max_cpu_seconds = 1;
        assert_int_equal(pipe(p), 0);
        /* an endless stream: the child reads, hashes, and hits RLIMIT_CPU */
        pid_t w = fork();
        if (w == 0) {
                static char zeros[65536];
                close(p[0]);
                while (write(p[1], zeros, sizeof(zeros)) > 0)
                        ;
                _exit(0);
        }
        close(p[1]);
        int fd = tar_make(good, N(good), ARCHIVE_FILTER_NONE);
        (void)fd;
        struct rk_aci_layer layer = {.fd = p[0], .what = "endless.aci"};
        l.max_total_bytes = UINT64_MAX;
        l.max_compressed_bytes = UINT64_MAX;
        int r = rk_aci_extract(&layer, 1, &o, &res, &err);
        close(p[0]);
        kill(w, SIGKILL);
        waitpid(w, NULL, 0);
        close(fd);
        /* zeros are an (endless) end-of-archive, then trailing bytes: drained until killed */
        assert_int_equal(r, -ECHILD);
        assert_non_null(strstr(err.msg, "'endless.aci': extractor killed by signal"));
        assert_null(res.manifest);
        (void)state;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_good),
            cmocka_unit_test(test_compressions),
            cmocka_unit_test(test_rootfs_only_no_owners),
            cmocka_unit_test(test_trailing_bytes),
            cmocka_unit_test(test_pipe_and_reuse),
            cmocka_unit_test(test_dotdot),
            cmocka_unit_test(test_absolute),
            cmocka_unit_test(test_symlink_write_through),
            cmocka_unit_test(test_planted_symlink),
            cmocka_unit_test(test_hardlinks),
            cmocka_unit_test(test_fixup_swap),
            cmocka_unit_test(test_special_files),
            cmocka_unit_test(test_duplicates),
            cmocka_unit_test(test_layout),
            cmocka_unit_test(test_caps),
            cmocka_unit_test(test_not_tar),
            cmocka_unit_test(test_setid_xattrs),
            cmocka_unit_test(test_whiteouts_are_data),
            cmocka_unit_test(test_child_killed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
