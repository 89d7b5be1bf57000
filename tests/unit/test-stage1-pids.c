/* SPDX-License-Identifier: Apache-2.0 */
/* stage1's pids/ records and /proc/<pid>/stat parser (src/stage1/pids.c, compiled into this
 * test: stage1 is not part of librkt), the /proc/<pid>/limits parser, and the pidfd check that
 * enter and stop rely on to never act on a recycled PID. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "../../src/stage1/pids.c"

static int parse_stat(const char *s, pid_t *pid, uint64_t *start)
{
        return s1_stat_parse(s, strlen(s), pid, start);
}

/* 52 fields as the kernel writes them; starttime (22) is 4242. */
#define TAIL                                                                                       \
        " S 1 2 2 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 4242 1000 100 1844674407 1 1 0 0 0 0 "   \
        "0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n"

static void test_stat_parse(void **state)
{
        (void)state;
        pid_t pid = 0;
        uint64_t start = 0;
        assert_int_equal(parse_stat("123 (probe)" TAIL, &pid, &start), 0);
        assert_int_equal(pid, 123);
        assert_int_equal(start, 4242);
        /* comm may hold spaces and parentheses: the fields resume after the last ')' */
        assert_int_equal(parse_stat("77 (a) b (c)) 9 9 9)" TAIL, &pid, &start), 0);
        assert_int_equal(pid, 77);
        assert_int_equal(start, 4242);
        /* a comm that tries to fake the fields is still skipped whole */
        assert_int_equal(
            parse_stat("5 (x) S 1 2 2 0 -1 0 0 0 0 0 0 0 0 0 0 0 0 0 1)" TAIL, &pid, &start), 0);
        assert_int_equal(start, 4242);
}

static void test_stat_parse_rejects(void **state)
{
        (void)state;
        pid_t pid = 0;
        uint64_t start = 0;
        assert_int_equal(parse_stat("", &pid, &start), -EBADMSG);
        assert_int_equal(parse_stat("123 probe" TAIL, &pid, &start), -EBADMSG);
        assert_int_equal(parse_stat("x (probe)" TAIL, &pid, &start), -EBADMSG);
        assert_int_equal(parse_stat("-1 (probe)" TAIL, &pid, &start), -EBADMSG);
        assert_int_equal(parse_stat("1 (probe) S 1 2", &pid, &start), -EBADMSG);
        assert_int_equal(
            parse_stat("1 (probe) S 1 2 2 0 -1 1 1 1 1 1 1 1 1 1 1 1 1 1 x 1", &pid, &start),
            -EBADMSG);
        assert_int_equal(s1_stat_parse("1 (a\0b)" TAIL, 20, &pid, &start), -EBADMSG);
}

static void test_pids_parse(void **state)
{
        (void)state;
        pid_t pid = 0;
        uint64_t start = 0;
        assert_int_equal(s1_pids_parse("12 34", 5, &pid, &start), 0);
        assert_int_equal(pid, 12);
        assert_int_equal(start, 34);
        assert_int_equal(s1_pids_parse("12 34\n", 6, &pid, &start), 0);
        static const char *const bad[] = {"",       "12",        "12 ",    " 12 34",
                                          "0 34",   "-1 34",     "12 -34", "12 34x",
                                          "12  34", "12 34\n\n", "012 3",  "99999999999 1"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                pid = 0;
                assert_int_equal(s1_pids_parse(bad[i], strlen(bad[i]), &pid, &start), -EBADMSG);
                assert_int_equal(pid, 0);
        }
}

/* Written, read back, and a pidfd only for the right start time. */
static void test_pids_roundtrip_and_pidfd(void **state)
{
        (void)state;
        char dir[] = "/tmp/test-stage1-pids-XXXXXX";
        assert_non_null(mkdtemp(dir));
        int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(mkdirat(fd, "pids", 0755), 0);
        rk_error err = RK_ERROR_INIT;
        pid_t self = 0, pid = 0;
        uint64_t start = 0, got = 0;
        assert_int_equal(s1_proc_stat("self", &self, &start, &err), 0);
        assert_int_equal(self, getpid());
        assert_int_equal(s1_pids_write(fd, "init", self, start, &err), 0);
        assert_int_equal(s1_pids_read(fd, "init", &pid, &got, &err), 0);
        assert_int_equal(pid, self);
        assert_int_equal(got, start);
        int pfd = s1_pidfd_open_verified(self, start, &err);
        assert_true(pfd >= 0);
        close(pfd);
        assert_int_equal(s1_pidfd_open_verified(self, start + 1, &err), -ESRCH);
        assert_non_null(strstr(err.msg, "PID was reused"));
        /* a process that is gone */
        pid_t child = fork();
        if (child == 0)
                _exit(0);
        assert_int_equal(waitpid(child, NULL, 0), child);
        assert_true(s1_pidfd_open_verified(child, 1, &err) < 0);
        assert_int_equal(s1_pids_read(fd, "missing", &pid, &got, &err), -ENOENT);
        assert_int_equal(unlinkat(fd, "pids/init", 0), 0);
        assert_int_equal(unlinkat(fd, "pids", AT_REMOVEDIR), 0);
        close(fd);
        assert_int_equal(rmdir(dir), 0);
}

/* /proc/self/limits parses to exactly what getrlimit says; damaged copies are refused. */
static void test_limits_parse(void **state)
{
        (void)state;
        char buf[8192];
        int fd = open("/proc/self/limits", O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        assert_true(n > 0);
        struct rlimit got[RLIM_NLIMITS], want;
        assert_int_equal(s1_limits_parse(buf, (size_t)n, got, RLIM_NLIMITS), 0);
        for (int r = 0; r < RLIM_NLIMITS; r++) {
                assert_int_equal(getrlimit(r, &want), 0);
                assert_int_equal(got[r].rlim_cur, want.rlim_cur);
                assert_int_equal(got[r].rlim_max, want.rlim_max);
        }
        /* one limit fewer than asked for */
        char *last = memrchr(buf, '\n', (size_t)n - 1);
        assert_non_null(last);
        assert_int_equal(s1_limits_parse(buf, (size_t)(last - buf + 1), got, RLIM_NLIMITS),
                         -EBADMSG);
        static const char *const bad[] = {
            "",
            "Max cpu time              unlimited            unlimited            seconds\n",
            "Limit                     Soft Limit           Hard Limit           Units\n"
            "Max cpu time              10                   5                    seconds\n",
            "Limit                     Soft Limit           Hard Limit           Units\n"
            "Max cpu time              -1                   5                    seconds\n",
            "Limit                     Soft Limit           Hard Limit           Units\n"
            "Max cpu time              unlimited\n",
            "Limit                     Soft Limit           Hard Limit           Units\n"
            "Max cpu time              1x                   5                    seconds\n",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(s1_limits_parse(bad[i], strlen(bad[i]), got, 1), -EBADMSG);
        static const char ok[] =
            "Limit                     Soft Limit           Hard Limit           Units\n"
            "Max cpu time              5                    unlimited            seconds\n";
        assert_int_equal(s1_limits_parse(ok, strlen(ok), got, 1), 0);
        assert_int_equal(got[0].rlim_cur, 5);
        assert_true(got[0].rlim_max == RLIM_INFINITY);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_stat_parse),   cmocka_unit_test(test_stat_parse_rejects),
            cmocka_unit_test(test_pids_parse),   cmocka_unit_test(test_pids_roundtrip_and_pidfd),
            cmocka_unit_test(test_limits_parse),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
