/* SPDX-License-Identifier: Apache-2.0 */
/* The audit log: every tamper case is found and named, crash artefacts are reported but do
 * not break the chain, and concurrent writers never interleave. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "audit/audit.h"
#include "base/fileio.h"

struct fx {
        char dir[64];
        char log[96];
};

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof(*f));
        strcpy(f->dir, "/tmp/rk-test-audit-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->log, sizeof(f->log), "%s/audit/audit.log", f->dir);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        int t = open("/tmp", O_PATH | O_DIRECTORY);
        (void)rk_rm_rf_at(t, f->dir + 5, NULL);
        close(t);
        free(f);
        return 0;
}

static void append_n(struct fx *f, int n)
{
        struct rk_audit *a = NULL;
        rk_error e = RK_ERROR_INIT;
        assert_int_equal(rk_audit_open(f->dir, &a, &e), 0);
        for (int i = 0; i < n; i++) {
                json_t *o = json_pack("{s:s, s:i, s:s}", "image", "sha512-abcd", "n", i, "decision",
                                      "accepted");
                assert_int_equal(rk_audit_append(a, "fetch", o, &e), 0);
                json_decref(o);
        }
        rk_audit_close(a);
}

/* Reads the log into lines (each with its newline). */
static size_t read_lines(struct fx *f, char lines[][4096], size_t max)
{
        FILE *fp = fopen(f->log, "r");
        assert_non_null(fp);
        size_t n = 0;
        while (n < max && fgets(lines[n], 4096, fp))
                n++;
        fclose(fp);
        return n;
}

static void write_lines(struct fx *f, char lines[][4096], size_t n)
{
        FILE *fp = fopen(f->log, "w");
        assert_non_null(fp);
        for (size_t i = 0; i < n; i++)
                fputs(lines[i], fp);
        fclose(fp);
}

static int verify(struct fx *f, struct rk_audit_report *rep, rk_error *e)
{
        return rk_audit_verify(f->dir, rep, e);
}

static void test_intact(void **state)
{
        struct fx *f = *state;
        append_n(f, 5);
        struct rk_audit_report rep;
        rk_error e = RK_ERROR_INIT;
        assert_int_equal(verify(f, &rep, &e), 0);
        assert_int_equal(rep.records, 5);
        assert_int_equal(rep.torn, 0);
        assert_int_equal(rep.last_seq, 5);
        struct stat st;
        assert_int_equal(stat(f->log, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        char d[96];
        snprintf(d, sizeof(d), "%s/audit", f->dir);
        assert_int_equal(stat(d, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);
}

static void flip(struct fx *f, size_t line, const char *from, const char *to)
{
        char lines[16][4096];
        size_t n = read_lines(f, lines, 16);
        assert_true(line < n);
        char *p = strstr(lines[line], from);
        assert_non_null(p);
        assert_int_equal(strlen(from), strlen(to));
        memcpy(p, to, strlen(to));
        write_lines(f, lines, n);
}

static void test_flipped_middle_record(void **state)
{
        struct fx *f = *state;
        append_n(f, 5);
        flip(f, 2, "accepted", "acceptee");
        struct rk_audit_report rep;
        rk_error e = RK_ERROR_INIT;
        assert_int_equal(verify(f, &rep, &e), -EBADMSG);
        /* Record 3 changed: record 4 (line 4) no longer chains to it. */
        assert_int_equal(rep.bad_line, 4);
        assert_non_null(strstr(e.msg, "record 4 does not chain to record 3"));
}

static void test_flipped_last_record(void **state)
{
        struct fx *f = *state;
        append_n(f, 3);
        flip(f, 2, "accepted", "rejected");
        struct rk_audit_report rep;
        rk_error e = RK_ERROR_INIT;
        assert_int_equal(verify(f, &rep, &e), -EBADMSG);
        assert_non_null(strstr(e.msg, "record 3 does not match the head"));
}

static void test_flipped_prev_field(void **state)
{
        struct fx *f = *state;
        append_n(f, 3);
        char lines[16][4096];
        read_lines(f, lines, 16);
        char *p = strstr(lines[1], "\"prev\":\"");
        assert_non_null(p);
        p[8] = p[8] == 'a' ? 'b' : 'a';
        write_lines(f, lines, 3);
        struct rk_audit_report rep;
        rk_error e = RK_ERROR_INIT;
        assert_int_equal(verify(f, &rep, &e), -EBADMSG);
        assert_int_equal(rep.bad_line, 2);
}

static void test_deleted_record(void **state)
{
        struct fx *f = *state;
        append_n(f, 5);
        char lines[16][4096];
        size_t n = read_lines(f, lines, 16);
        memmove(lines[1], lines[2], sizeof(lines[0]) * (n - 2));
        write_lines(f, lines, n - 1);
        struct rk_audit_report rep;
        rk_error e = RK_ERROR_INIT;
        assert_int_equal(verify(f, &rep, &e), -EBADMSG);
        assert_int_equal(rep.bad_line, 2);
        assert_non_null(strstr(e.msg, "record 3 where 2 was expected"));
}

static void test_truncated_tail(void **state)
{
        struct fx *f = *state;
        append_n(f, 5);
        char lines[16][4096];
        size_t n = read_lines(f, lines, 16);
        write_lines(f, lines, n - 1);
        struct rk_audit_report rep;
        rk_error e = RK_ERROR_INIT;
        assert_int_equal(verify(f, &rep, &e), -EBADMSG);
        assert_non_null(strstr(e.msg, "ends at record 4 but the head records 5"));
}

static void test_reordered_records(void **state)
{
        struct fx *f = *state;
        append_n(f, 5);
        char lines[16][4096], tmp[4096];
        size_t n = read_lines(f, lines, 16);
        strcpy(tmp, lines[1]);
        strcpy(lines[1], lines[2]);
        strcpy(lines[2], tmp);
        write_lines(f, lines, n);
        struct rk_audit_report rep;
        rk_error e = RK_ERROR_INIT;
        assert_int_equal(verify(f, &rep, &e), -EBADMSG);
        assert_int_equal(rep.bad_line, 2);
}

static void test_duplicated_record(void **state)
{
        struct fx *f = *state;
        append_n(f, 4);
        char lines[16][4096];
        size_t n = read_lines(f, lines, 16);
        memmove(lines[3], lines[2], sizeof(lines[0]) * (n - 2));
        write_lines(f, lines, n + 1);
        struct rk_audit_report rep;
        rk_error e = RK_ERROR_INIT;
        assert_int_equal(verify(f, &rep, &e), -EBADMSG);
        assert_int_equal(rep.bad_line, 4);
        assert_non_null(strstr(e.msg, "record 3 where 4 was expected"));
}

static void test_torn_tail_then_append(void **state)
{
        struct fx *f = *state;
        append_n(f, 3);
        /* A crash mid-write: half a record, no newline. */
        FILE *fp = fopen(f->log, "a");
        fputs("{\"seq\":4,\"time\":\"2026", fp);
        fclose(fp);
        struct rk_audit_report rep;
        rk_error e = RK_ERROR_INIT;
        assert_int_equal(verify(f, &rep, &e), 0);
        assert_int_equal(rep.torn, 1);
        assert_int_equal(rep.records, 3);
        /* The next writer terminates the torn line and chains to record 3. */
        append_n(f, 2);
        assert_int_equal(verify(f, &rep, &e), 0);
        assert_int_equal(rep.torn, 1);
        assert_int_equal(rep.records, 5);
        assert_int_equal(rep.last_seq, 5);
}

static void test_head_lagging_after_crash(void **state)
{
        struct fx *f = *state;
        append_n(f, 2);
        char head[128];
        snprintf(head, sizeof(head), "%s/audit/head", f->dir);
        char *saved = NULL;
        size_t len = 0;
        int hd = open(head, O_RDONLY);
        assert_int_equal(rk_read_fd_capped(hd, "head", 4096, &saved, &len, NULL), 0);
        close(hd);
        append_n(f, 1);
        /* Simulate a crash after the record was appended but before head was replaced. */
        FILE *fp = fopen(head, "w");
        fwrite(saved, 1, len, fp);
        fclose(fp);
        free(saved);
        struct rk_audit_report rep;
        rk_error e = RK_ERROR_INIT;
        assert_int_equal(verify(f, &rep, &e), 0);
        assert_true(rep.head_lagging);
}

static void test_missing_head_refused(void **state)
{
        struct fx *f = *state;
        append_n(f, 2);
        char head[128];
        snprintf(head, sizeof(head), "%s/audit/head", f->dir);
        assert_int_equal(unlink(head), 0);
        struct rk_audit_report rep;
        rk_error e = RK_ERROR_INIT;
        assert_int_equal(verify(f, &rep, &e), -EBADMSG);
        assert_non_null(strstr(e.msg, "head"));
}

static void test_reserved_fields_refused(void **state)
{
        struct fx *f = *state;
        struct rk_audit *a = NULL;
        rk_error e = RK_ERROR_INIT;
        assert_int_equal(rk_audit_open(f->dir, &a, &e), 0);
        json_t *o = json_pack("{s:s}", "prev", "forged");
        assert_int_equal(rk_audit_append(a, "x", o, &e), -EINVAL);
        json_decref(o);
        rk_audit_close(a);
}

static void test_concurrent_writers(void **state)
{
        struct fx *f = *state;
        append_n(f, 1); /* create the directory before the race */
        pid_t pids[4];
        for (int i = 0; i < 4; i++) {
                pids[i] = fork();
                assert_true(pids[i] >= 0);
                if (pids[i] == 0) {
                        struct rk_audit *a = NULL;
                        if (rk_audit_open(f->dir, &a, NULL) < 0)
                                _exit(1);
                        for (int k = 0; k < 40; k++) {
                                json_t *o = json_pack("{s:i, s:i}", "writer", i, "k", k);
                                if (rk_audit_append(a, "stress", o, NULL) < 0)
                                        _exit(2);
                                json_decref(o);
                        }
                        rk_audit_close(a);
                        _exit(0);
                }
        }
        for (int i = 0; i < 4; i++) {
                int st = 0;
                assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
                assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        }
        struct rk_audit_report rep;
        rk_error e = RK_ERROR_INIT;
        assert_int_equal(verify(f, &rep, &e), 0);
        assert_int_equal(rep.records, 161);
        assert_int_equal(rep.torn, 0);
}

static int count_cb(const json_t *rec, void *ud)
{
        (*(int *)ud)++;
        return 0;
}

static void test_foreach(void **state)
{
        struct fx *f = *state;
        append_n(f, 7);
        int n = 0;
        assert_int_equal(rk_audit_foreach(f->dir, count_cb, &n, NULL), 0);
        assert_int_equal(n, 7);
}

int main(void)
{
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
        const struct CMUnitTest tests[] = {
            T(test_intact),
            T(test_flipped_middle_record),
            T(test_flipped_last_record),
            T(test_flipped_prev_field),
            T(test_deleted_record),
            T(test_truncated_tail),
            T(test_reordered_records),
            T(test_duplicated_record),
            T(test_torn_tail_then_append),
            T(test_head_lagging_after_crash),
            T(test_missing_head_refused),
            T(test_reserved_fields_refused),
            T(test_concurrent_writers),
            T(test_foreach),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
