/* SPDX-License-Identifier: Apache-2.0 */
/* The deterministic builder: the ID is the SHA-512 of the uncompressed tar it wrote, entries
 * are sorted with the manifest first, owners/times normalised, and unsafe inputs refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "aci/build.h"
#include "base/fileio.h"
#include "base/hash.h"

static const char manifest[] =
    "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"example.com/t\","
    "\"app\":{\"exec\":[\"/b\"],\"user\":\"0\",\"group\":\"0\"}}";

struct fx {
        char dir[64];
        int layout;
};

static void put(int dfd, const char *name, const char *data, mode_t mode)
{
        int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, mode);
        assert_true(fd >= 0);
        assert_int_equal(rk_write_all(fd, data, strlen(data)), 0);
        assert_int_equal(fchmod(fd, mode), 0);
        close(fd);
}

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof(*f));
        strcpy(f->dir, "/tmp/rk-test-build-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        f->layout = open(f->dir, O_RDONLY | O_DIRECTORY);
        put(f->layout, "manifest", manifest, 0644);
        assert_int_equal(mkdirat(f->layout, "rootfs", 0755), 0);
        assert_int_equal(mkdirat(f->layout, "rootfs/z", 0700), 0);
        put(f->layout, "rootfs/b", "#!/bin/sh\n", 04755);
        put(f->layout, "rootfs/a", "aaa", 0600);
        assert_int_equal(symlinkat("b", f->layout, "rootfs/c"), 0);
        assert_int_equal(linkat(f->layout, "rootfs/a", f->layout, "rootfs/z/a2", 0), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        close(f->layout);
        int t = open("/tmp", O_PATH | O_DIRECTORY);
        (void)rk_rm_rf_at(t, f->dir + 5, NULL);
        close(t);
        free(f);
        return 0;
}

static int build(struct fx *f, enum rk_compression c, char id[RK_IMAGE_ID_LEN + 1], int *ret_fd,
                 rk_error *e)
{
        int out = open("/tmp", O_TMPFILE | O_RDWR, 0600);
        assert_true(out >= 0);
        struct rk_build_opts o = {.compression = c, .mtime = 12345};
        int r = rk_aci_build(f->layout, -1, out, &o, id, NULL, e);
        if (ret_fd)
                *ret_fd = out;
        else
                close(out);
        return r;
}

static void test_id_is_hash_of_tar(void **state)
{
        struct fx *f = *state;
        char id[RK_IMAGE_ID_LEN + 1], hex[RK_SHA512_HEX_LEN + 1];
        int out;
        rk_error e = RK_ERROR_INIT;
        assert_int_equal(build(f, RK_COMPRESS_NONE, id, &out, &e), 0);
        assert_int_equal(lseek(out, 0, SEEK_SET), 0);
        assert_int_equal(rk_sha512_fd_hex(out, hex, &e), 0);
        assert_memory_equal(id, "sha512-", 7);
        assert_string_equal(id + 7, hex);
        close(out);
}

static void test_same_id_any_compression(void **state)
{
        struct fx *f = *state;
        char id0[RK_IMAGE_ID_LEN + 1], id[RK_IMAGE_ID_LEN + 1];
        rk_error e = RK_ERROR_INIT;
        assert_int_equal(build(f, RK_COMPRESS_NONE, id0, NULL, &e), 0);
        enum rk_compression cs[] = {RK_COMPRESS_GZIP, RK_COMPRESS_BZIP2, RK_COMPRESS_XZ,
                                    RK_COMPRESS_ZSTD};
        for (size_t i = 0; i < ELEMENTSOF(cs); i++) {
                assert_int_equal(build(f, cs[i], id, NULL, &e), 0);
                assert_string_equal(id, id0);
        }
        /* Rebuilding after touching times changes nothing. */
        struct timespec ts[2] = {{.tv_sec = 1}, {.tv_sec = 2}};
        assert_int_equal(utimensat(f->layout, "rootfs/a", ts, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(build(f, RK_COMPRESS_NONE, id, NULL, &e), 0);
        assert_string_equal(id, id0);
}

static void test_entries(void **state)
{
        struct fx *f = *state;
        char id[RK_IMAGE_ID_LEN + 1];
        int out;
        rk_error e = RK_ERROR_INIT;
        assert_int_equal(build(f, RK_COMPRESS_GZIP, id, &out, &e), 0);
        assert_int_equal(lseek(out, 0, SEEK_SET), 0);
        struct archive *a = archive_read_new();
        archive_read_support_format_tar(a);
        archive_read_support_filter_gzip(a);
        assert_int_equal(archive_read_open_fd(a, out, 65536), ARCHIVE_OK);
        const char *want[] = {"manifest", "rootfs/",   "rootfs/a",   "rootfs/b",
                              "rootfs/c", "rootfs/z/", "rootfs/z/a2"};
        struct archive_entry *ent;
        size_t i = 0;
        while (archive_read_next_header(a, &ent) == ARCHIVE_OK) {
                assert_true(i < ELEMENTSOF(want));
                assert_string_equal(archive_entry_pathname(ent), want[i]);
                assert_int_equal(archive_entry_uid(ent), 0);
                assert_int_equal(archive_entry_gid(ent), 0);
                assert_int_equal(archive_entry_mtime(ent), 12345);
                if (!strcmp(want[i], "rootfs/b"))
                        assert_int_equal(archive_entry_perm(ent), 04755);
                if (!strcmp(want[i], "rootfs/c"))
                        assert_string_equal(archive_entry_symlink(ent), "b");
                if (!strcmp(want[i], "rootfs/z/a2"))
                        assert_string_equal(archive_entry_hardlink(ent), "rootfs/a");
                i++;
        }
        assert_int_equal(i, ELEMENTSOF(want));
        archive_read_free(a);
        close(out);
}

static void test_refuses_devices_and_bad_manifest(void **state)
{
        struct fx *f = *state;
        char id[RK_IMAGE_ID_LEN + 1];
        rk_error e = RK_ERROR_INIT;
        assert_int_equal(mknodat(f->layout, "rootfs/null", S_IFCHR | 0666, makedev(1, 3)), 0);
        assert_int_equal(build(f, RK_COMPRESS_NONE, id, NULL, &e), -EPERM);
        assert_non_null(strstr(e.msg, "rootfs/null"));
        assert_int_equal(unlinkat(f->layout, "rootfs/null", 0), 0);

        put(f->layout, "manifest", "{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\"}", 0644);
        assert_true(build(f, RK_COMPRESS_NONE, id, NULL, &e) < 0);
        assert_non_null(strstr(e.msg, "acKind"));
}

static void test_symlinked_rootfs_refused(void **state)
{
        struct fx *f = *state;
        char id[RK_IMAGE_ID_LEN + 1];
        rk_error e = RK_ERROR_INIT;
        assert_int_equal(renameat(f->layout, "rootfs", f->layout, "real"), 0);
        assert_int_equal(symlinkat("/etc", f->layout, "rootfs"), 0);
        assert_true(build(f, RK_COMPRESS_NONE, id, NULL, &e) < 0);
        assert_non_null(strstr(e.msg, "rootfs"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_id_is_hash_of_tar, setup, teardown),
            cmocka_unit_test_setup_teardown(test_same_id_any_compression, setup, teardown),
            cmocka_unit_test_setup_teardown(test_entries, setup, teardown),
            cmocka_unit_test_setup_teardown(test_refuses_devices_and_bad_manifest, setup, teardown),
            cmocka_unit_test_setup_teardown(test_symlinked_rootfs_refused, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
