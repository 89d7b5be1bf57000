/* SPDX-License-Identifier: Apache-2.0 */
/* Stage0's seccomp profile reader and compiler (src/lib/pod/seccomp.c): the built-in profile is
 * profiles/seccomp-default.json and compiles; the strict reader's rejections each name what
 * is wrong; the cache is written once and reused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileio.h"
#include "pod/seccomp.h"

static void test_default_is_the_file(void **state)
{
        char *buf = NULL;
        size_t len = 0;
        rk_error err = RK_ERROR_INIT;
        assert_int_equal(
            rk_read_file_at(AT_FDCWD, "profiles/seccomp-default.json", 1u << 20, &buf, &len, &err),
            0);
        assert_int_equal(len, rk_seccomp_default_profile_len());
        assert_memory_equal(buf, rk_seccomp_default_profile, len);
        free(buf);
        void *bpf = NULL;
        size_t n = 0;
        assert_int_equal(rk_seccomp_compile(rk_seccomp_default_profile, len, &bpf, &n, &err), 0);
        assert_true(n > 0 && n % 8 == 0 && n <= 4096 * 8);
        free(bpf);
}

#define RULE(x) "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,\"syscalls\":[" x "]}"

static void rejects(const char *profile, const char *what)
{
        void *bpf = NULL;
        size_t n = 0;
        rk_error err = RK_ERROR_INIT;
        assert_int_equal(rk_seccomp_compile(profile, strlen(profile), &bpf, &n, &err), -EINVAL);
        assert_null(bpf);
        if (!strstr(err.msg, what))
                fail_msg("'%s' does not name '%s'", err.msg, what);
}

static void test_rejections(void **state)
{
        rejects(RULE("{\"names\":[\"read\",\"no_such_syscall\"],\"action\":\"SCMP_ACT_ALLOW\"}"),
                "\"no_such_syscall\"");
        rejects(RULE("{\"names\":[\"read\"],\"action\":\"SCMP_ACT_MAYBE\"}"), "SCMP_ACT_MAYBE");
        rejects(RULE("{\"names\":[\"read\",\"write\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                     "{\"names\":[\"write\"],\"action\":\"SCMP_ACT_ERRNO\"}"),
                "\"write\" listed twice");
        rejects(RULE("{\"names\":[\"read\",\"read\"],\"action\":\"SCMP_ACT_ALLOW\"}"),
                "\"read\" listed twice");
        rejects(RULE("{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\",\"errnoRet\":1}"),
                "errnoRet");
        rejects(RULE("{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\",\"extra\":1}"),
                "\"extra\"");
        rejects(RULE("{\"names\":[\"clone\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":"
                     "0,\"value\":1,\"op\":\"SCMP_CMP_SOMETIMES\"}]}"),
                "SCMP_CMP_SOMETIMES");
        rejects(RULE("{\"names\":[\"clone\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":"
                     "6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}"),
                "index");
        rejects(RULE("{\"names\":[],\"action\":\"SCMP_ACT_ALLOW\"}"), "names");
        rejects("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[]}", "SCMP_ACT_ALLOW");
        rejects("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_VAX\"],"
                "\"syscalls\":[]}",
                "SCMP_ARCH_VAX");
        rejects("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_X86_64\","
                "\"SCMP_ARCH_X86_64\"],\"syscalls\":[]}",
                "listed twice");
        rejects("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[],\"flags\":[]}", "\"flags\"");
        rejects("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultAction\":\"SCMP_ACT_ALLOW\"}",
                "duplicate");
        /* the same syscall in several argument-filtered rules is fine */
        const char *ok = RULE(
            "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,"
            "\"value\":0,\"op\":\"SCMP_CMP_EQ\"}]},{\"names\":[\"personality\"],\"action\":"
            "\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":8,\"op\":\"SCMP_CMP_EQ\"}]}");
        void *bpf = NULL;
        size_t n = 0;
        rk_error err = RK_ERROR_INIT;
        assert_int_equal(rk_seccomp_compile(ok, strlen(ok), &bpf, &n, &err), 0);
        free(bpf);
}

static void test_cache(void **state)
{
        char dir[] = "/tmp/rkt-test-seccomp-XXXXXX";
        assert_non_null(mkdtemp(dir));
        void *a = NULL, *b = NULL;
        size_t na = 0, nb = 0;
        rk_error err = RK_ERROR_INIT;
        const char *p = RULE("{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"}");
        assert_int_equal(rk_seccomp_cached(dir, p, strlen(p), 0, &a, &na, &err), 0);
        char path[512], cmd[600];
        snprintf(path, sizeof(path), "%s/cas/seccomp", dir);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        /* a marker written over the cached file is what the next call returns: no recompile */
        snprintf(cmd, sizeof(cmd), "for f in %s/*.bpf; do printf 12345678 >\"$f\"; done", path);
        assert_int_equal(system(cmd), 0);
        assert_int_equal(rk_seccomp_cached(dir, p, strlen(p), 0, &b, &nb, &err), 0);
        assert_int_equal(nb, 8);
        assert_memory_equal(b, "12345678", 8);
        free(a);
        free(b);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        assert_int_equal(system(cmd), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_default_is_the_file),
            cmocka_unit_test(test_rejections),
            cmocka_unit_test(test_cache),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
