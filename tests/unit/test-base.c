/* SPDX-License-Identifier: Apache-2.0 */
/* lib/base: errors, SHA-512, JSON limits, and in-root path resolution with both openat2 and
 * the fallback walker (forced by flag, and by a seccomp filter that makes openat2 ENOSYS, as
 * on an old kernel). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <seccomp.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "base/error.h"
#include "base/fileio.h"
#include "base/hash.h"
#include "base/json.h"
#include "base/parse.h"
#include "base/path.h"

/* ---------- errors ---------- */

static void test_error_format(void **state)
{
        rk_error e = RK_ERROR_INIT;
        assert_int_equal(rk_err(&e, -EBADMSG, "manifest '%s': bad", "x"), -EBADMSG);
        assert_string_equal(e.msg, "manifest 'x': bad");
        rk_err_prefix(&e, -EIO, "image %d", 7);
        assert_string_equal(e.msg, "image 7: manifest 'x': bad");
        assert_int_equal(e.code, -EBADMSG);
        assert_int_equal(rk_err_errno(&e, -ENOENT, "open '%s'", "f"), -ENOENT);
        assert_string_equal(e.msg, "open 'f': No such file or directory");
        /* A NULL error still returns the code; a non-negative code becomes -EIO. */
        assert_int_equal(rk_err(NULL, -EPERM, "x"), -EPERM);
        assert_int_equal(rk_err(&e, 0, "x"), -EIO);
        /* Whatever a message quotes, it stays one line without terminal controls. */
        rk_err(&e, -EINVAL, "--mount '%s': bad", "a\nrkt: forged\x1b[2J\x7f");
        assert_string_equal(e.msg, "--mount 'a?rkt: forged?[2J?': bad");
        rk_err_prefix(&e, -EIO, "x\ty");
        assert_string_equal(e.msg, "x?y: --mount 'a?rkt: forged?[2J?': bad");
}

/* ---------- hashing ---------- */

static void test_sha512_vectors(void **state)
{
        char hex[RK_SHA512_HEX_LEN + 1];
        assert_int_equal(rk_sha512_buf_hex("abc", 3, hex, NULL), 0);
        assert_string_equal(hex,
                            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
        assert_int_equal(rk_sha512_buf_hex("", 0, hex, NULL), 0);
        assert_string_equal(hex,
                            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
                            "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e");
        /* Incremental equals one-shot. */
        rk_sha512 h = {0};
        char hex2[RK_SHA512_HEX_LEN + 1];
        assert_int_equal(rk_sha512_init(&h, NULL), 0);
        rk_sha512_update(&h, "a", 1);
        rk_sha512_update(&h, "bc", 2);
        assert_int_equal(rk_sha512_final_hex(&h, hex2, NULL), 0);
        assert_int_equal(rk_sha512_buf_hex("abc", 3, hex, NULL), 0);
        assert_string_equal(hex, hex2);
}

/* ---------- JSON ---------- */

static void test_json_duplicates_refused(void **state)
{
        rk_error e = RK_ERROR_INIT;
        json_t *v = NULL;
        const char *doc = "{\"acKind\":\"ImageManifest\",\"acKind\":\"PodManifest\"}";
        assert_int_equal(rk_json_parse("m", doc, strlen(doc), 1024, &v, &e), -EBADMSG);
        assert_null(v);
        assert_non_null(strstr(e.msg, "duplicate"));
}

static void test_json_size_and_depth(void **state)
{
        rk_error e = RK_ERROR_INIT;
        json_t *v = NULL;
        const char *doc = "{\"a\":\"0123456789\"}";
        assert_int_equal(rk_json_parse("m", doc, strlen(doc), 5, &v, &e), -EFBIG);
        assert_non_null(strstr(e.msg, "limit 5"));

        char deep[RK_JSON_MAX_DEPTH * 2 + 10];
        size_t n = 0;
        for (int i = 0; i < RK_JSON_MAX_DEPTH + 1; i++)
                deep[n++] = '[';
        for (int i = 0; i < RK_JSON_MAX_DEPTH + 1; i++)
                deep[n++] = ']';
        assert_int_equal(rk_json_parse("m", deep, n, 1 << 20, &v, &e), -EBADMSG);
        assert_non_null(strstr(e.msg, "nested"));
        /* Brackets inside strings do not count. */
        const char *s =
            "{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}";
        assert_int_equal(rk_json_parse("m", s, strlen(s), 1 << 20, &v, &e), 0);
        json_decref(v);
        /* NUL inside a string is refused by jansson without JSON_ALLOW_NUL. */
        const char *nul = "{\"a\":\"x\\u0000y\"}";
        assert_int_equal(rk_json_parse("m", nul, strlen(nul), 1024, &v, &e), -EBADMSG);
        /* Trailing garbage. */
        const char *trail = "{} {}";
        assert_int_equal(rk_json_parse("m", trail, strlen(trail), 1024, &v, &e), -EBADMSG);
}

static void test_json_getters(void **state)
{
        rk_error e = RK_ERROR_INIT;
        json_t *v = NULL;
        const char *doc = "{\"s\":\"x\",\"i\":3,\"b\":false,\"a\":[],\"o\":{}}";
        assert_int_equal(rk_json_parse("m", doc, strlen(doc), 1024, &v, &e), 0);
        const char *s = NULL;
        int64_t i = 0;
        bool b = true;
        json_t *a = NULL, *o = NULL;
        assert_int_equal(rk_json_get_string(v, "s", true, "ctx", &s, &e), 1);
        assert_string_equal(s, "x");
        assert_int_equal(rk_json_get_int(v, "i", true, "ctx", &i, &e), 1);
        assert_int_equal(i, 3);
        assert_int_equal(rk_json_get_bool(v, "b", true, "ctx", &b, &e), 1);
        assert_false(b);
        assert_int_equal(rk_json_get_array(v, "a", true, "ctx", &a, &e), 1);
        assert_int_equal(rk_json_get_object(v, "o", true, "ctx", &o, &e), 1);
        assert_int_equal(rk_json_get_string(v, "missing", false, "ctx", &s, &e), 0);
        assert_int_equal(rk_json_get_string(v, "missing", true, "ctx", &s, &e), -EBADMSG);
        assert_string_equal(e.msg, "ctx: \"missing\" is required");
        assert_int_equal(rk_json_get_string(v, "i", true, "ctx", &s, &e), -EBADMSG);
        assert_string_equal(e.msg, "ctx: \"i\" must be a string, not an integer");
        json_decref(v);
}

/* ---------- in-root resolution ---------- */

struct fixture {
        char base[64];
        int rootfd;
};

/* Layout (root = base/root; base/outside holds the secret):
 *   root/etc/passwd            regular, "inside"
 *   root/abs -> /etc           absolute symlink, must resolve inside root
 *   root/up -> ../../outside   relative symlink climbing out, must be clamped
 *   root/dir/ -> real dir, root/loop -> loop
 *   base/outside/passwd        "outside" */
static int setup_tree(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        strcpy(f->base, "/tmp/rk-test-base-XXXXXX");
        assert_non_null(mkdtemp(f->base));
        char p[256];
        snprintf(p, sizeof(p), "%s/root", f->base);
        assert_int_equal(mkdir(p, 0755), 0);
        snprintf(p, sizeof(p), "%s/outside", f->base);
        assert_int_equal(mkdir(p, 0755), 0);
        snprintf(p, sizeof(p), "%s/outside/passwd", f->base);
        FILE *o = fopen(p, "w");
        fputs("outside", o);
        fclose(o);
        snprintf(p, sizeof(p), "%s/root", f->base);
        f->rootfd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(f->rootfd >= 0);
        assert_int_equal(mkdirat(f->rootfd, "etc", 0755), 0);
        assert_int_equal(mkdirat(f->rootfd, "dir", 0755), 0);
        int fd = openat(f->rootfd, "etc/passwd", O_WRONLY | O_CREAT, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "inside", 6), 6);
        close(fd);
        assert_int_equal(symlinkat("/etc", f->rootfd, "abs"), 0);
        assert_int_equal(symlinkat("../../outside", f->rootfd, "up"), 0);
        assert_int_equal(symlinkat("loop", f->rootfd, "loop"), 0);
        assert_int_equal(symlinkat("/proc/self/root", f->rootfd, "magic"), 0);
        *state = f;
        return 0;
}

static int teardown_tree(void **state)
{
        struct fixture *f = *state;
        close(f->rootfd);
        int bfd = open("/tmp", O_PATH | O_DIRECTORY);
        (void)rk_rm_rf_at(bfd, f->base + 5, NULL);
        close(bfd);
        free(f);
        rk_path_force_fallback(false);
        return 0;
}

static void read_expect(int fd, const char *want)
{
        char buf[64] = {0};
        assert_true(fd >= 0);
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        assert_true(n >= 0);
        assert_string_equal(buf, want);
        close(fd);
}

static void check_semantics(struct fixture *f)
{
        rk_error e = RK_ERROR_INIT;
        /* Plain, absolute-from-root and dotdot-clamped lookups. */
        read_expect(rk_open_in_root(f->rootfd, "etc/passwd", O_RDONLY, 0, 0, &e), "inside");
        read_expect(rk_open_in_root(f->rootfd, "/etc/passwd", O_RDONLY, 0, 0, &e), "inside");
        read_expect(rk_open_in_root(f->rootfd, "../../../etc/passwd", O_RDONLY, 0, 0, &e),
                    "inside");
        /* An absolute symlink resolves inside the root, never to the host's /etc. */
        read_expect(rk_open_in_root(f->rootfd, "abs/passwd", O_RDONLY, 0, 0, &e), "inside");
        /* A climbing symlink is clamped at the root: up -> ../../outside is root/outside, which
         * does not exist; the real outside/passwd must not be reachable. */
        int fd = rk_open_in_root(f->rootfd, "up/passwd", O_RDONLY, 0, 0, &e);
        assert_int_equal(fd, -ENOENT);
        /* BENEATH refuses instead of clamping. */
        assert_int_equal(
            rk_open_in_root(f->rootfd, "../etc/passwd", O_RDONLY, 0, RK_RESOLVE_BENEATH, &e),
            -EXDEV);
        assert_int_equal(
            rk_open_in_root(f->rootfd, "up/passwd", O_RDONLY, 0, RK_RESOLVE_BENEATH, &e), -EXDEV);
        /* NO_SYMLINKS refuses any link on the way. */
        assert_int_equal(
            rk_open_in_root(f->rootfd, "abs/passwd", O_RDONLY, 0, RK_RESOLVE_NO_SYMLINKS, &e),
            -ELOOP);
        assert_non_null(strstr(e.msg, "abs/passwd"));
        /* Symlink loops end. */
        assert_int_equal(rk_open_in_root(f->rootfd, "loop/x", O_RDONLY, 0, 0, &e), -ELOOP);
        /* magic -> /proc/self/root is resolved as a string inside the root (root/proc does not
         * exist), never as the host's root: the host's /etc/passwd must stay unreachable. */
        assert_int_equal(rk_open_in_root(f->rootfd, "magic/etc/passwd", O_RDONLY, 0, 0, &e),
                         -ENOENT);
        /* O_NOFOLLOW|O_PATH on a final symlink opens the link itself. */
        fd = rk_open_in_root(f->rootfd, "abs", O_PATH | O_NOFOLLOW, 0, 0, &e);
        assert_true(fd >= 0);
        struct stat lst;
        assert_int_equal(fstat(fd, &lst), 0);
        assert_true(S_ISLNK(lst.st_mode));
        close(fd);
        /* O_CREAT through an absolute symlink creates inside the root. */
        fd = rk_open_in_root(f->rootfd, "abs/new", O_WRONLY | O_CREAT | O_EXCL, 0600, 0, &e);
        assert_true(fd >= 0);
        close(fd);
        struct stat st;
        assert_int_equal(fstatat(f->rootfd, "etc/new", &st, 0), 0);
        assert_int_equal(unlinkat(f->rootfd, "etc/new", 0), 0);
        /* Directories, the root itself. */
        fd = rk_open_in_root(f->rootfd, "/", O_RDONLY | O_DIRECTORY, 0, 0, &e);
        assert_true(fd >= 0);
        close(fd);
        fd = rk_open_in_root(f->rootfd, "dir/.", O_RDONLY | O_DIRECTORY, 0, 0, &e);
        assert_true(fd >= 0);
        close(fd);
}

static void test_resolve_openat2(void **state)
{
        rk_path_force_fallback(false);
        check_semantics(*state);
        assert_true(rk_path_used_openat2());
}

static void test_resolve_forced_fallback(void **state)
{
        rk_path_force_fallback(true);
        check_semantics(*state);
        assert_false(rk_path_used_openat2());
}

/* Crun's trick: a seccomp filter makes openat2 fail with ENOSYS, as on a kernel before 5.6;
 * the resolver must notice and give the same answers through the walker. */
static void test_resolve_enosys_fallback(void **state)
{
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
                if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(openat2), 0) ||
                    seccomp_load(ctx))
                        _exit(2);
                seccomp_release(ctx);
                /* cmocka assertions in the child longjmp into nothing; exit status instead. */
                struct fixture *f = *state;
                rk_error e = RK_ERROR_INIT;
                int fd = rk_open_in_root(f->rootfd, "abs/passwd", O_RDONLY, 0, 0, &e);
                if (fd < 0 || rk_path_used_openat2())
                        _exit(3);
                char buf[16] = {0};
                if (pread(fd, buf, sizeof(buf) - 1, 0) != 6 || strcmp(buf, "inside"))
                        _exit(4);
                if (rk_open_in_root(f->rootfd, "up/passwd", O_RDONLY, 0, RK_RESOLVE_BENEATH, &e) !=
                    -EXDEV)
                        _exit(5);
                _exit(0);
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_path_split(void **state)
{
        char *p = NULL, *l = NULL;
        assert_int_equal(rk_path_split("a/b/c", &p, &l, NULL), 0);
        assert_string_equal(p, "a/b");
        assert_string_equal(l, "c");
        free(p), free(l);
        assert_int_equal(rk_path_split("c/", &p, &l, NULL), 0);
        assert_string_equal(p, ".");
        assert_string_equal(l, "c");
        free(p), free(l);
        assert_int_equal(rk_path_split("/x", &p, &l, NULL), 0);
        assert_string_equal(p, "/");
        free(p), free(l);
        assert_int_equal(rk_path_split("a/..", &p, &l, NULL), -EINVAL);
        assert_int_equal(rk_path_split("", &p, &l, NULL), -EINVAL);
        assert_true(rk_path_is_escaping("/etc"));
        assert_true(rk_path_is_escaping("a/../b"));
        assert_true(rk_path_is_escaping(".."));
        assert_false(rk_path_is_escaping("a/..b/c"));
        assert_false(rk_path_is_escaping("a/b"));
}

/* ---------- file I/O ---------- */

static void test_fileio(void **state)
{
        char dir[] = "/tmp/rk-test-io-XXXXXX";
        assert_non_null(mkdtemp(dir));
        int dfd = open(dir, O_RDONLY | O_DIRECTORY);
        rk_error e = RK_ERROR_INIT;
        assert_int_equal(rk_write_file_atomic_at(dfd, "f", "hello", 5, 0640, &e), 0);
        struct stat st;
        assert_int_equal(fstatat(dfd, "f", &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        char *buf = NULL;
        size_t n = 0;
        assert_int_equal(rk_read_file_at(dfd, "f", 100, &buf, &n, &e), 0);
        assert_int_equal(n, 5);
        assert_string_equal(buf, "hello");
        free(buf);
        buf = NULL;
        assert_int_equal(rk_read_file_at(dfd, "f", 4, &buf, &n, &e), -EFBIG);
        assert_null(buf);
        /* O_NOFOLLOW: a symlink is not read through. */
        assert_int_equal(symlinkat("f", dfd, "l"), 0);
        assert_int_equal(rk_read_file_at(dfd, "l", 100, &buf, &n, &e), -ELOOP);
        /* rm -rf does not follow symlinks out of the tree. */
        char outside[] = "/tmp/rk-test-out-XXXXXX";
        assert_non_null(mkdtemp(outside));
        char keep[64];
        snprintf(keep, sizeof(keep), "%s/keep", outside);
        FILE *k = fopen(keep, "w");
        fclose(k);
        assert_int_equal(mkdirat(dfd, "d", 0755), 0);
        assert_int_equal(symlinkat(outside, dfd, "d/out"), 0);
        close(dfd);
        int tfd = open("/tmp", O_PATH | O_DIRECTORY);
        assert_int_equal(rk_rm_rf_at(tfd, dir + 5, &e), 0);
        assert_int_equal(access(keep, F_OK), 0);
        assert_int_equal(rk_rm_rf_at(tfd, outside + 5, &e), 0);
        close(tfd);
}

static void test_parse_duration(void **state)
{
        int64_t ns = -1;
        assert_int_equal(rk_parse_duration("0", &ns), 0);
        assert_int_equal(ns, 0);
        assert_int_equal(rk_parse_duration("1h30m", &ns), 0);
        assert_int_equal(ns, 5400LL * 1000000000);
        assert_int_equal(rk_parse_duration("250ms", &ns), 0);
        assert_int_equal(ns, 250000000);
        assert_int_equal(rk_parse_duration("1.5s", &ns), 0);
        assert_int_equal(ns, 1500000000);
        assert_int_equal(rk_parse_duration("", &ns), -EINVAL);
        assert_int_equal(rk_parse_duration("10", &ns), -EINVAL);
        assert_int_equal(rk_parse_duration("-1s", &ns), -EINVAL);
        assert_int_equal(rk_parse_duration("5d", &ns), -EINVAL);
        assert_int_equal(rk_parse_duration("99999999999h", &ns), -ERANGE);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_error_format),
            cmocka_unit_test(test_sha512_vectors),
            cmocka_unit_test(test_json_duplicates_refused),
            cmocka_unit_test(test_json_size_and_depth),
            cmocka_unit_test(test_json_getters),
            cmocka_unit_test_setup_teardown(test_resolve_openat2, setup_tree, teardown_tree),
            cmocka_unit_test_setup_teardown(test_resolve_forced_fallback, setup_tree,
                                            teardown_tree),
            cmocka_unit_test_setup_teardown(test_resolve_enosys_fallback, setup_tree,
                                            teardown_tree),
            cmocka_unit_test(test_path_split),
            cmocka_unit_test(test_fileio),
            cmocka_unit_test(test_parse_duration),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
