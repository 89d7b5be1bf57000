/* SPDX-License-Identifier: Apache-2.0 */
/* ACI reader + extractor, in-process, with an escape oracle (after libarchive's write_disk
 * fuzzer): a scratch directory holds
 *
 *   outside/sentinel   a file no input may change
 *   link -> outside    a symlink beside the root, for names like "../link/sentinel"
 *   root/              the destination, fresh for every input
 *
 * After each input: the sentinel has its content, inode, mode, link count and mtime; the
 * scratch directory holds exactly those three names and outside/ only the sentinel; link
 * still points at outside. Second oracle: check-only mode (no writes) reaches the same verdict
 * and the same image ID as the real extraction. Any difference aborts. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aci/archive.h"
#include "base/fileio.h"

#define FUZZ_MAX_INPUT (1 << 20)

static struct {
        char dir[64];
        char outside[96];
        int fd;
        struct stat sentinel;
} g;

static void die(const char *what)
{
        fprintf(stderr, "fuzz-aci: ESCAPE ORACLE: %s (scratch %s)\n", what, g.dir);
        abort();
}

static void cleanup(void)
{
        (void)rk_rm_rf_at(AT_FDCWD, g.dir, NULL);
}

static void setup(void)
{
        snprintf(g.dir, sizeof(g.dir), "/tmp/fuzz-aci-XXXXXX");
        if (!mkdtemp(g.dir))
                abort();
        g.fd = open(g.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        snprintf(g.outside, sizeof(g.outside), "%s/outside", g.dir);
        if (g.fd < 0 || mkdirat(g.fd, "outside", 0755) < 0 || symlinkat(g.outside, g.fd, "link"))
                abort();
        int f = openat(g.fd, "outside/sentinel", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        struct timespec ts[2] = {{1000, 0}, {1000, 0}};
        if (f < 0 || write(f, "sentinel\n", 9) != 9 || futimens(f, ts) < 0)
                abort();
        close(f);
        if (fstatat(g.fd, "outside/sentinel", &g.sentinel, AT_SYMLINK_NOFOLLOW) < 0)
                abort();
        atexit(cleanup);
}

static void check_names(int dfd, const char *const *want, size_t n, const char *what)
{
        DIR *d = fdopendir(dfd);
        struct dirent *de;
        size_t seen = 0;
        if (!d)
                die(what);
        while ((de = readdir(d))) {
                bool ok = false;
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                for (size_t i = 0; i < n; i++)
                        ok |= strcmp(de->d_name, want[i]) == 0;
                if (!ok) {
                        fprintf(stderr, "fuzz-aci: unexpected '%s'\n", de->d_name);
                        die(what);
                }
                seen++;
        }
        closedir(d);
        if (seen != n)
                die(what);
}

static void oracle(void)
{
        static const char *const top[] = {"outside", "link", "root"};
        static const char *const out[] = {"sentinel"};
        struct stat st;
        char buf[16] = {0};
        char target[128];

        int f = openat(g.fd, "outside/sentinel", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (f < 0 || fstat(f, &st) < 0 || read(f, buf, sizeof(buf)) != 9 ||
            memcmp(buf, "sentinel\n", 9) != 0)
                die("sentinel content");
        close(f);
        if (st.st_ino != g.sentinel.st_ino || st.st_mode != g.sentinel.st_mode ||
            st.st_nlink != 1 || st.st_uid != g.sentinel.st_uid ||
            st.st_mtim.tv_sec != g.sentinel.st_mtim.tv_sec)
                die("sentinel metadata");
        check_names(openat(g.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), top, 3, "scratch dir");
        check_names(openat(g.fd, "outside", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), out,
                    1, "outside dir");
        ssize_t n = readlinkat(g.fd, "link", target, sizeof(target) - 1);
        if (n < 0 || (size_t)n != strlen(g.outside) || memcmp(target, g.outside, (size_t)n))
                die("link");
        if (fstatat(g.fd, "outside", &st, AT_SYMLINK_NOFOLLOW) < 0 || (st.st_mode & 07777) != 0755)
                die("outside dir mode");
}

static int run(int fd, int dest, struct rk_aci_result *res, rk_error *err)
{
        static struct rk_aci_limits l;
        struct rk_aci_layer layer = {.fd = fd, .what = "fuzz.aci"};
        struct rk_aci_opts o = {
            .dest_fd = dest, .keep_owners = true, .in_process = true, .limits = &l};

        rk_aci_limits_init(&l);
        l.max_compressed_bytes = FUZZ_MAX_INPUT;
        l.max_total_bytes = 16 << 20;
        l.max_file_bytes = 1 << 20;
        l.max_entries = 4096;
        l.max_path_len = 1024;
        l.max_depth = 64;
        l.max_link_len = 1024;
        l.max_xattrs = 16;
        l.max_xattr_bytes = 16 << 10;
        l.max_manifest_bytes = 64 << 10;
        return rk_aci_extract(&layer, 1, &o, res, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct rk_aci_result res = {0}, chk = {0};
        rk_error err = RK_ERROR_INIT, cerr = RK_ERROR_INIT;

        if (size > FUZZ_MAX_INPUT)
                return 0;
        if (!g.dir[0])
                setup();
        int fd = memfd_create("fuzz.aci", MFD_CLOEXEC);
        if (fd < 0 || rk_write_all(fd, data, size) < 0 || lseek(fd, 0, SEEK_SET) < 0 ||
            mkdirat(g.fd, "root", 0755) < 0)
                abort();
        int dest = openat(g.fd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dest < 0)
                abort();
        int r = run(fd, dest, &res, &err);
        oracle();
        int c = run(fd, -1, &chk, &cerr);
        if (r != c || (r == 0 && strcmp(res.id, chk.id) != 0)) {
                fprintf(stderr, "fuzz-aci: extraction %d '%s', check-only %d '%s'\n", r, err.msg, c,
                        cerr.msg);
                abort();
        }
        if (r < 0 && (res.manifest || !err.msg[0] || err.code != r))
                abort();
        rk_aci_result_clear(&res);
        rk_aci_result_clear(&chk);
        close(dest);
        close(fd);
        if (rk_rm_rf_at(g.fd, "root", &err) < 0) {
                fprintf(stderr, "fuzz-aci: cleanup: %s\n", err.msg);
                abort();
        }
        return 0;
}
