/* SPDX-License-Identifier: Apache-2.0 */
/* SELinux labels (src/lib/pod/lsm.c, src/lib/base/label.c): this host has no SELinux, so the
 * label computation is tested here against fixture lxc_contexts files (tests/data/selinux/):
 * parsing, strict context validation, MCS pair uniqueness and exhaustion, the reservation
 * across pods, and the os/linux/selinux-context override. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aci/isolator.h"
#include "base/fileio.h"
#include "base/label.h"
#include "pod/lsm.h"
#include "pod/pod.h"

#define DATA "tests/data/selinux/"

/* ---- contexts ---- */

static void test_label_valid(void **state)
{
        static const char *const good[] = {
            "system_u:system_r:container_t:s0",
            "system_u:system_r:container_t:s0:c1,c2",
            "system_u:object_r:container_file_t:s0:c0.c1023",
            "system_u:system_r:svirt_lxc_net_t:s0-s0:c0.c1023",
            "unconfined_u:unconfined_r:unconfined_t:s0-s15:c0.c1023",
            "user.name:role-x:type_1:s0:c5,c7.c9,c1023",
        };
        static const char *const bad[] = {
            "",
            "system_u:system_r:container_t",          /* no level */
            "system_u:system_r::s0",                  /* empty type */
            ":system_r:container_t:s0",               /* empty user */
            "system_u:system_r:container_t:",         /* empty level */
            "system_u:system_r:container_t:s0:",      /* empty categories */
            "system_u:system_r:container_t:s0:c1,",   /* trailing comma */
            "system_u:system_r:container_t:s0:c1024", /* category out of range */
            "system_u:system_r:container_t:s1024",    /* sensitivity out of range */
            "system_u:system_r:container_t:s0:c01",   /* leading zero */
            "system_u:system_r:container_t:s0:c5.c2", /* reversed range */
            "system_u:system_r:container_t:s0:c5.c5", /* empty range */
            "system_u:system_r:container_t:s0 ",      /* whitespace */
            "system_u:system_r:container_t:s0\n",
            "system_u:system_r:container t:s0",
            "system_u:system_r:container_t:s0,context=x", /* mount option injection */
            "system_u:system_r:container_t:s0:c1,c2,nosuid",
            "system_u:system_r:container_t:s0-s0-s0",
            "system_u:system_r:container_t:x0",
            "system_u:system_r:container_t:s0:d1",
            "system_u:system_r:con\"tainer_t:s0",
            "a:b:c:d:e",
        };
        for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
                assert_true(rk_label_valid(good[i]));
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                if (rk_label_valid(bad[i]))
                        fail_msg("accepted '%s'", bad[i]);
        }
        char big[RK_LABEL_MAX + 16];
        memset(big, 'u', sizeof(big));
        memcpy(big + sizeof(big) - 20, ":r:t:s0", 8);
        assert_false(rk_label_valid(big));
        assert_true(rk_label_level_valid("s0:c1,c2"));
        assert_false(rk_label_level_valid("s0:c2,c1x"));
}

/* ---- lxc_contexts ---- */

static int read_fixture(const char *name, char **p, char **f, rk_error *e)
{
        char path[256];
        snprintf(path, sizeof(path), DATA "%s", name);
        return rk_selinux_lxc_contexts_read(path, p, f, e);
}

static void test_lxc_contexts(void **state)
{
        rk_error e = RK_ERROR_INIT;
        char *p = NULL, *f = NULL;
        assert_int_equal(read_fixture("lxc_contexts", &p, &f, &e), 0);
        assert_string_equal(p, "system_u:system_r:container_t:s0");
        assert_string_equal(f, "system_u:object_r:container_file_t:s0");
        free(p);
        free(f);
        /* ranges, unquoted values */
        assert_int_equal(read_fixture("lxc_contexts-range", &p, &f, &e), 0);
        assert_string_equal(p, "system_u:system_r:svirt_lxc_net_t:s0-s0:c0.c1023");
        assert_string_equal(f, "system_u:object_r:svirt_sandbox_file_t:s0:c0.c1023");
        free(p);
        free(f);
}

static void test_lxc_contexts_errors(void **state)
{
        static const struct {
                const char *file, *want;
                int code;
        } cases[] = {
            {"lxc_contexts-no-file", "no \"file\" context", -EBADMSG},
            {"lxc_contexts-no-process", "no \"process\" context", -EBADMSG},
            {"lxc_contexts-empty", "no \"process\" context", -EBADMSG},
            {"lxc_contexts-garbage", "line 2 is not KEY = VALUE", -EBADMSG},
            {"lxc_contexts-twice", "line 2: 'process' is given twice", -EBADMSG},
            {"lxc_contexts-bad-context", "is not a user:role:type:level context", -EBADMSG},
            {"lxc_contexts-injection", "line 2: file", -EBADMSG},
            {"no-such-file", "no-such-file", -ENOENT},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                rk_error e = RK_ERROR_INIT;
                char *p = (char *)"untouched", *f = (char *)"untouched";
                int r = read_fixture(cases[i].file, &p, &f, &e);
                if (r != cases[i].code || !strstr(e.msg, cases[i].want))
                        fail_msg("%s: %d '%s', want %d '%s'", cases[i].file, r, e.msg,
                                 cases[i].code, cases[i].want);
                assert_string_equal(p, "untouched");
                assert_string_equal(f, "untouched");
        }
        /* size cap and NUL bytes, in memory */
        rk_error e = RK_ERROR_INIT;
        char *p = NULL, *f = NULL;
        size_t n = (64u << 10) + 1;
        char *big = calloc(1, n);
        memset(big, '#', n);
        assert_int_equal(rk_selinux_lxc_contexts_parse("big", big, n, &p, &f, &e), -EFBIG);
        free(big);
        static const char nul[] = "process = \"a:b:c:s0\"\0\nfile = \"a:b:c:s0\"\n";
        assert_int_equal(rk_selinux_lxc_contexts_parse("nul", nul, sizeof(nul) - 1, &p, &f, &e),
                         -EBADMSG);
}

/* ---- MCS pairs ---- */

static uint32_t fixed(void *ud)
{
        return *(uint32_t *)ud;
}

static void test_mcs_pick(void **state)
{
        rk_error e = RK_ERROR_INIT;
        struct rk_mcs_pair p, used[3];
        uint32_t seed = 0;
        /* categories 0..2: pairs (0,1) (0,2) (1,2) in order from index 0 */
        assert_int_equal(rk_selinux_mcs_pick(NULL, 0, 2, fixed, &seed, &p, &e), 0);
        assert_int_equal(p.a, 0);
        assert_int_equal(p.b, 1);
        seed = 2;
        assert_int_equal(rk_selinux_mcs_pick(NULL, 0, 2, fixed, &seed, &p, &e), 0);
        assert_true(p.a == 1 && p.b == 2);
        /* a used pair is skipped, wherever the search starts */
        used[0] = (struct rk_mcs_pair){1, 2};
        assert_int_equal(rk_selinux_mcs_pick(used, 1, 2, fixed, &seed, &p, &e), 0);
        assert_true(p.a == 0 && p.b == 1);
        /* exhaustion */
        used[1] = (struct rk_mcs_pair){0, 1};
        used[2] = (struct rk_mcs_pair){0, 2};
        assert_int_equal(rk_selinux_mcs_pick(used, 3, 2, fixed, &seed, &p, &e), -EUSERS);
        assert_non_null(strstr(e.msg, "every MCS pair"));
        /* every pair of the full range is reachable and valid: a < b <= 1023 */
        for (seed = 0; seed < 523776; seed += 4099) {
                assert_int_equal(rk_selinux_mcs_pick(NULL, 0, 1023, fixed, &seed, &p, &e), 0);
                assert_true(p.a < p.b && p.b <= 1023);
        }
        seed = 523775; /* the last pair */
        assert_int_equal(rk_selinux_mcs_pick(NULL, 0, 1023, fixed, &seed, &p, &e), 0);
        assert_true(p.a == 1022 && p.b == 1023);
        /* many picks, each added to used: all distinct, until exhaustion (categories 0..9) */
        struct rk_mcs_pair all[45];
        for (size_t i = 0; i < 45; i++) {
                assert_int_equal(rk_selinux_mcs_pick(all, i, 9, NULL, NULL, &all[i], &e), 0);
                for (size_t j = 0; j < i; j++)
                        assert_false(all[i].a == all[j].a && all[i].b == all[j].b);
        }
        assert_int_equal(rk_selinux_mcs_pick(all, 45, 9, NULL, NULL, &p, &e), -EUSERS);
        assert_int_equal(rk_selinux_mcs_pick(NULL, 0, 0, NULL, NULL, &p, &e), -EINVAL);
        assert_int_equal(rk_selinux_mcs_pick(NULL, 0, 1024, NULL, NULL, &p, &e), -EINVAL);
}

static void test_mcs_parse(void **state)
{
        struct rk_mcs_pair p;
        assert_int_equal(rk_selinux_mcs_parse("c1,c2\n", &p), 0);
        assert_true(p.a == 1 && p.b == 2);
        assert_int_equal(rk_selinux_mcs_parse("c0,c1023", &p), 0);
        static const char *const bad[] = {"",       "c2,c1",  "c1,c1",     "c1,c1024", "c01,c2",
                                          "c-1,c2", "c1,c2x", "c1,c2\n\n", "1,2",      "c1, c2",
                                          "c+1,c2", "c1,c2 ", "c1"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
                if (rk_selinux_mcs_parse(bad[i], &p) == 0)
                        fail_msg("accepted '%s'", bad[i]);
}

/* ---- labels ---- */

static void parse_isolators(const char *json, struct rk_isolators *ret)
{
        rk_error e = RK_ERROR_INIT;
        json_error_t je;
        json_t *arr = json_loads(json, 0, &je);
        assert_non_null(arr);
        assert_int_equal(rk_isolators_parse(arr, RK_ISOLATOR_SCOPE_APP, "app.isolators", ret, &e),
                         0);
        json_decref(arr);
}

static void test_app_labels(void **state)
{
        rk_error e = RK_ERROR_INIT;
        struct rk_mcs_pair pair = {12, 345};
        char *p = NULL, *m = NULL;
        const char *proc = "system_u:system_r:container_t:s0",
                   *file = "system_u:object_r:container_file_t:s0";
        assert_int_equal(rk_selinux_app_labels(proc, file, &pair, NULL, NULL, &p, &m, &e), 0);
        assert_string_equal(p, "system_u:system_r:container_t:s0:c12,c345");
        assert_string_equal(m, "system_u:object_r:container_file_t:s0:c12,c345");
        free(p);
        free(m);
        /* a range level in lxc_contexts is replaced by the pod's pair */
        assert_int_equal(rk_selinux_app_labels("system_u:system_r:svirt_lxc_net_t:s0-s0:c0.c1023",
                                               "system_u:object_r:svirt_sandbox_file_t:s0:c0.c1023",
                                               &pair, NULL, NULL, &p, &m, &e),
                         0);
        assert_string_equal(p, "system_u:system_r:svirt_lxc_net_t:s0:c12,c345");
        assert_string_equal(m, "system_u:object_r:svirt_sandbox_file_t:s0:c12,c345");
        free(p);
        free(m);
        /* the app's isolator wins over the pod's, which wins over lxc_contexts; the mount
         * label keeps the pod's level */
        struct rk_isolators app = {0}, pod = {0};
        parse_isolators("[{\"name\":\"os/linux/selinux-context\",\"value\":{\"user\":\"u1\","
                        "\"role\":\"r1\",\"type\":\"t1\",\"level\":\"s0:c1,c2\"}}]",
                        &app);
        parse_isolators("[{\"name\":\"os/linux/selinux-context\",\"value\":{\"user\":\"u2\","
                        "\"role\":\"r2\",\"type\":\"t2\",\"level\":\"s0:c3,c4\"}}]",
                        &pod);
        assert_int_equal(rk_selinux_app_labels(proc, file, &pair, &app, &pod, &p, &m, &e), 0);
        assert_string_equal(p, "u1:r1:t1:s0:c1,c2");
        assert_string_equal(m, "system_u:object_r:container_file_t:s0:c12,c345");
        free(p);
        free(m);
        assert_int_equal(rk_selinux_app_labels(proc, file, &pair, NULL, &pod, &p, &m, &e), 0);
        assert_string_equal(p, "u2:r2:t2:s0:c3,c4");
        free(p);
        free(m);
        rk_isolators_clear(&app);
        /* an isolator whose level the validator refuses (the isolator parser allows more) */
        parse_isolators("[{\"name\":\"os/linux/selinux-context\",\"value\":{\"user\":\"u1\","
                        "\"role\":\"r1\",\"type\":\"t1\",\"level\":\"s0:c1,c2,nosuid\"}}]",
                        &app);
        p = m = (char *)"untouched";
        assert_int_equal(rk_selinux_app_labels(proc, file, &pair, &app, NULL, &p, &m, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "os/linux/selinux-context"));
        assert_string_equal(p, "untouched");
        rk_isolators_clear(&app);
        rk_isolators_clear(&pod);
        /* a base context without a level */
        assert_int_equal(rk_selinux_with_level("system_u:system_r", "s0:c1,c2", &p, &e), -EINVAL);
}

/* ---- reservation across pods ---- */

static bool same(struct rk_mcs_pair a, struct rk_mcs_pair b)
{
        return a.a == b.a && a.b == b.b;
}

static void test_reserve(void **state)
{
        char dir[] = "/tmp/rk-test-selinux-XXXXXX";
        assert_non_null(mkdtemp(dir));
        rk_error e = RK_ERROR_INIT;
        struct rk_pods *pods = NULL;
        assert_int_equal(rk_pods_open(dir, &pods, &e), 0);
        /* categories 0..2: three pairs, three live pods in prepare/ take them all */
        struct rk_pod *pod[4] = {0};
        struct rk_mcs_pair pair[4];
        for (int i = 0; i < 3; i++) {
                assert_int_equal(rk_pod_create(pods, &pod[i], &e), 0);
                assert_int_equal(rk_selinux_reserve(pod[i], 2, &pair[i], &e), 0);
                for (int j = 0; j < i; j++)
                        assert_false(same(pair[i], pair[j]));
                char *buf = NULL;
                size_t len = 0;
                struct rk_mcs_pair back;
                assert_int_equal(rk_read_file_at(pod[i]->fd, "selinux-mcs", 64, &buf, &len, &e), 0);
                assert_int_equal(rk_selinux_mcs_parse(buf, &back), 0);
                assert_true(same(back, pair[i]));
                free(buf);
        }
        assert_int_equal(rk_pod_create(pods, &pod[3], &e), 0);
        assert_int_equal(rk_selinux_reserve(pod[3], 2, &pair[3], &e), -EUSERS);
        assert_false(rk_read_file_at(pod[3]->fd, "selinux-mcs", 64, &(char *){NULL}, &(size_t){0},
                                     NULL) == 0);
        /* pod 0's process is gone (its lock released, still in prepare/): its pair is free */
        pod[0] = rk_pod_close(pod[0]);
        assert_int_equal(rk_selinux_reserve(pod[3], 2, &pair[3], &e), 0);
        assert_true(same(pair[3], pair[0]));
        /* a pod in prepared/ holds its pair without a lock */
        pod[1] = rk_pod_close(pod[1]);
        char path[256];
        snprintf(path, sizeof(path), "%s/pods/prepared/aaaaaaaa-0000-4000-8000-000000000000", dir);
        assert_int_equal(mkdir(path, 0700), 0);
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char text[32];
        snprintf(text, sizeof(text), "c%u,c%u\n", pair[1].a, pair[1].b);
        assert_int_equal(rk_write_file_atomic_at(fd, "selinux-mcs", text, strlen(text), 0600, &e),
                         0);
        close(fd);
        struct rk_pod *again = NULL;
        struct rk_mcs_pair p;
        assert_int_equal(rk_pod_create(pods, &again, &e), 0);
        assert_int_equal(rk_selinux_reserve(again, 2, &p, &e), -EUSERS);
        assert_non_null(strstr(e.msg, "every MCS pair"));
        /* a malformed reservation is ignored, not trusted */
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_int_equal(rk_write_file_atomic_at(fd, "selinux-mcs", "c9,c1", 5, 0600, &e), 0);
        close(fd);
        assert_int_equal(rk_selinux_reserve(again, 2, &p, &e), 0);
        assert_true(same(p, pair[1]));
        rk_pod_close(again);
        for (int i = 0; i < 4; i++)
                if (pod[i])
                        rk_pod_close(pod[i]);
        rk_pods_close(pods);
        (void)rk_rm_rf_at(AT_FDCWD, dir, NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_label_valid),
            cmocka_unit_test(test_lxc_contexts),
            cmocka_unit_test(test_lxc_contexts_errors),
            cmocka_unit_test(test_mcs_pick),
            cmocka_unit_test(test_mcs_parse),
            cmocka_unit_test(test_app_labels),
            cmocka_unit_test(test_reserve),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
