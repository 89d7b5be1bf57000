/* SPDX-License-Identifier: Apache-2.0 */
/* Cgroup limits: stage0's flag and isolator parsing (src/lib/pod/cgroup.c), and stage1's
 * computations (src/stage1/isolators/cgroup.c and plan.c, compiled into this test): v1 and v2
 * file names and values, cgroup paths, which controllers a pod needs and what a missing one
 * does, and the plan's "cgroup" keys read back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "pod/cgroup.h"

#include "../../src/stage1/isolators/cgroup.c"
#include "../../src/stage1/plan.c"

/* ---- stage0: flag values ---- */

static void test_parse_memory(void **state)
{
        rk_error err = RK_ERROR_INIT;
        int64_t v = 0;
        assert_int_equal(rk_cgroup_parse_memory("--memory", "512M", &v, &err), 0);
        assert_int_equal(v, 512000000);
        assert_int_equal(rk_cgroup_parse_memory("--memory", "1Gi", &v, &err), 0);
        assert_int_equal(v, 1073741824);
        assert_int_equal(rk_cgroup_parse_memory("--memory", "4096", &v, &err), 0);
        assert_int_equal(v, 4096);
        assert_int_equal(rk_cgroup_parse_memory("--memory", "abc", &v, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "--memory: 'abc' is not a quantity"));
        assert_int_equal(rk_cgroup_parse_memory("--memory", "500m", &v, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "whole number of bytes"));
        assert_int_equal(rk_cgroup_parse_memory("--memory", "1k", &v, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "less than 4096"));
        assert_int_equal(rk_cgroup_parse_memory("--memory", "-1G", &v, &err), -EINVAL);
        assert_int_equal(rk_cgroup_parse_memory("--memory", "", &v, &err), -EINVAL);
        assert_int_equal(rk_cgroup_parse_memory("--memory", "99999E", &v, &err), -EINVAL);
        assert_int_equal(v, 4096); /* untouched on failure */
}

static void test_parse_cpu_and_ints(void **state)
{
        rk_error err = RK_ERROR_INIT;
        int64_t v = 0;
        assert_int_equal(rk_cgroup_parse_cpu("--cpu", "500m", &v, &err), 0);
        assert_int_equal(v, 500);
        assert_int_equal(rk_cgroup_parse_cpu("--cpu", "1.5", &v, &err), 0);
        assert_int_equal(v, 1500);
        assert_int_equal(rk_cgroup_parse_cpu("--cpu", "2", &v, &err), 0);
        assert_int_equal(v, 2000);
        assert_int_equal(rk_cgroup_parse_cpu("--cpu", "9m", &v, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "not between 10m"));
        assert_int_equal(rk_cgroup_parse_cpu("--cpu", "2000", &v, &err), -EINVAL);
        assert_int_equal(rk_cgroup_parse_cpu("--cpu", "x", &v, &err), -EINVAL);
        assert_int_equal(rk_cgroup_parse_int("--cpu-shares", "1024", 2, 262144, &v, &err), 0);
        assert_int_equal(v, 1024);
        assert_int_equal(rk_cgroup_parse_int("--cpu-shares", "1", 2, 262144, &v, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "--cpu-shares: '1' is not an integer from 2 to 262144"));
        assert_int_equal(rk_cgroup_parse_int("--oom-score-adj", "-1000", -1000, 1000, &v, &err), 0);
        assert_int_equal(v, -1000);
        assert_int_equal(rk_cgroup_parse_int("--oom-score-adj", "12x", -1000, 1000, &v, &err),
                         -EINVAL);
        assert_int_equal(rk_cgroup_parse_int("--oom-score-adj", "", -1000, 1000, &v, &err),
                         -EINVAL);
        assert_int_equal(rk_cgroup_parse_pids_limit("--pids-limit", "max", &v, &err), 0);
        assert_int_equal(v, 0);
        assert_int_equal(rk_cgroup_parse_pids_limit("--pids-limit", "64", &v, &err), 0);
        assert_int_equal(v, 64);
        assert_int_equal(rk_cgroup_parse_pids_limit("--pids-limit", "-1", &v, &err), -EINVAL);
        assert_int_equal(rk_cgroup_parse_pids_limit("--pids-limit", "4194305", &v, &err), -EINVAL);
}

/* ---- stage0: isolators into limits ---- */

static void isolators(const char *json, enum rk_isolator_scope scope, struct rk_isolators *ret)
{
        rk_error err = RK_ERROR_INIT;
        json_error_t je;
        json_t *arr = json_loads(json, 0, &je);
        assert_non_null(arr);
        assert_int_equal(rk_isolators_parse(arr, scope, "t", ret, &err), 0);
        json_decref(arr);
}

static void test_limits_compute(void **state)
{
        rk_error err = RK_ERROR_INIT;
        struct rk_isolators app = {0}, pod = {0};
        struct rk_cgroup_limits l;
        isolators("[{\"name\":\"resource/memory\",\"value\":{\"limit\":\"64Mi\"}},"
                  "{\"name\":\"os/linux/cpu-shares\",\"value\":512},"
                  "{\"name\":\"os/linux/oom-score-adj\",\"value\":-5}]",
                  RK_ISOLATOR_SCOPE_APP, &app);
        isolators(
            "[{\"name\":\"resource/memory\",\"value\":{\"limit\":\"1G\"}},"
            "{\"name\":\"resource/cpu\",\"value\":{\"request\":\"100m\",\"limit\":\"250m\"}}]",
            RK_ISOLATOR_SCOPE_POD, &pod);
        assert_int_equal(rk_cgroup_limits_compute(&app, &pod, 2048, "app a", &l, &err), 0);
        assert_int_equal(l.memory_max, 64 << 20); /* the app's wins over the pod's */
        assert_int_equal(l.cpu_milli, 250);       /* the pod's, its limit (not the request) */
        assert_int_equal(l.cpu_shares, 512);
        assert_true(l.has_oom_score_adj && l.oom_score_adj == -5);
        assert_int_equal(l.pids_max, 2048);
        json_t *j = rk_cgroup_limits_json(&l);
        char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        assert_string_equal(s, "{\"cpuMilli\":250,\"cpuShares\":512,\"memoryMax\":67108864,"
                               "\"pidsMax\":2048}");
        free(s);
        json_decref(j);
        /* nothing: an empty object, no oom */
        assert_int_equal(rk_cgroup_limits_compute(NULL, NULL, 0, "app a", &l, &err), 0);
        assert_false(l.has_oom_score_adj);
        j = rk_cgroup_limits_json(&l);
        assert_int_equal(json_object_size(j), 0);
        json_decref(j);
        rk_isolators_clear(&app);
        rk_isolators_clear(&pod);
        /* a request alone sets no limit; a memory limit in milli-bytes is refused */
        isolators("[{\"name\":\"resource/memory\",\"value\":{\"request\":\"1G\"}}]",
                  RK_ISOLATOR_SCOPE_APP, &app);
        assert_int_equal(rk_cgroup_limits_compute(&app, NULL, 0, "app a", &l, &err), 0);
        assert_int_equal(l.memory_max, 0);
        rk_isolators_clear(&app);
        isolators("[{\"name\":\"resource/memory\",\"value\":{\"limit\":\"5000m\"}}]",
                  RK_ISOLATOR_SCOPE_APP, &app);
        assert_int_equal(rk_cgroup_limits_compute(&app, NULL, 0, "app a", &l, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "app a: resource/memory limit"));
        rk_isolators_clear(&app);
        isolators("[{\"name\":\"resource/cpu\",\"value\":{\"limit\":\"1m\"}}]",
                  RK_ISOLATOR_SCOPE_APP, &app);
        assert_int_equal(rk_cgroup_limits_compute(&app, NULL, 0, "app a", &l, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "resource/cpu limit"));
        rk_isolators_clear(&app);
}

/* ---- stage1: files, paths, controllers ---- */

static const struct cg_file *find_file(const struct cg_file *f, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (!strcmp(f[i].name, name))
                        return &f[i];
        return NULL;
}

static void test_files_v1_v2(void **state)
{
        struct s1_app a = {.name = "web",
                           .cg_memory_max = 64 << 20,
                           .cg_cpu_milli = 500,
                           .cg_cpu_shares = 1024,
                           .cg_pids_max = 100};
        struct cg_file f[CG_FILES];
        size_t n = cg_limit_files(CG_V1, &a, f);
        assert_int_equal(n, 6);
        assert_string_equal(find_file(f, n, "memory.limit_in_bytes")->value, "67108864");
        assert_true(find_file(f, n, "memory.memsw.limit_in_bytes")->optional);
        assert_string_equal(find_file(f, n, "cpu.cfs_period_us")->value, "100000");
        assert_string_equal(find_file(f, n, "cpu.cfs_quota_us")->value, "50000");
        assert_string_equal(find_file(f, n, "cpu.shares")->value, "1024");
        assert_string_equal(find_file(f, n, "pids.max")->value, "100");
        assert_int_equal(find_file(f, n, "pids.max")->ctrl, CG_PIDS);
        /* the period is written before the quota */
        assert_true(find_file(f, n, "cpu.cfs_period_us") < find_file(f, n, "cpu.cfs_quota_us"));
        n = cg_limit_files(CG_V2, &a, f);
        assert_int_equal(n, 5);
        assert_string_equal(find_file(f, n, "memory.max")->value, "67108864");
        assert_string_equal(find_file(f, n, "memory.swap.max")->value, "0");
        assert_true(find_file(f, n, "memory.swap.max")->optional);
        assert_string_equal(find_file(f, n, "cpu.max")->value, "50000 100000");
        assert_string_equal(find_file(f, n, "cpu.weight")->value, "39");
        assert_string_equal(find_file(f, n, "pids.max")->value, "100");
        assert_null(find_file(f, n, "memory.limit_in_bytes"));
        /* nothing set: nothing written */
        struct s1_app none = {.name = "x"};
        assert_int_equal(cg_limit_files(CG_V1, &none, f), 0);
        assert_int_equal(cg_limit_files(CG_V2, &none, f), 0);
        /* runc's and crun's shares -> weight map, at its ends */
        assert_int_equal(cg_weight_from_shares(2), 1);
        assert_int_equal(cg_weight_from_shares(262144), 10000);
        assert_int_equal(cg_weight_from_shares(1024), 39);
}

static void test_paths(void **state)
{
        const char *u = "6f1c2a3e-1111-4222-8333-444455556666";
        char b[256];
        assert_int_equal(cg_path(CG_V1, CG_MEMORY, u, "web", b, sizeof(b)), 0);
        assert_string_equal(b, "memory/rkt/6f1c2a3e-1111-4222-8333-444455556666/web");
        assert_int_equal(cg_path(CG_V1, CG_PIDS, u, NULL, b, sizeof(b)), 0);
        assert_string_equal(b, "pids/rkt/6f1c2a3e-1111-4222-8333-444455556666");
        assert_int_equal(cg_path(CG_V2, CG_CPU, u, "web", b, sizeof(b)), 0);
        assert_string_equal(b, "rkt/6f1c2a3e-1111-4222-8333-444455556666/web");
        assert_int_equal(cg_path(CG_V2, CG_CPU, u, NULL, b, 10), -ENAMETOOLONG);
        assert_true(uuid_ok(u));
        assert_false(uuid_ok("../../../etc"));
        assert_false(uuid_ok("6f1c2a3e-1111-4222-8333-44445555666/"));
}

static void test_needed_and_missing(void **state)
{
        struct s1_app apps[2] = {{.name = "a", .cg_pids_max = 10},
                                 {.name = "b", .cg_memory_max = 1 << 20}};
        struct s1_plan p = {.apps = apps, .n_apps = 2};
        bool need[CG_N], use[CG_N];
        cg_needed(&p, need);
        assert_true(need[CG_MEMORY] && need[CG_PIDS] && !need[CG_CPU]);
        apps[0].cg_cpu_shares = 100;
        cg_needed(&p, need);
        assert_true(need[CG_CPU]);

        rk_error err = RK_ERROR_INIT;
        bool all[CG_N] = {true, true, true}, no_mem[CG_N] = {false, true, true};
        assert_int_equal(cg_check(need, all, false, use, &err), 0);
        assert_true(use[CG_MEMORY] && use[CG_CPU] && use[CG_PIDS]);
        /* a missing controller the limits need: refused ... */
        assert_int_equal(cg_check(need, no_mem, false, use, &err), -ENODEV);
        assert_non_null(strstr(err.msg, "no usable memory cgroup controller"));
        assert_non_null(strstr(err.msg, "--insecure-options=cgroups"));
        /* ... unless the user relaxed it: then the controller is not used */
        assert_int_equal(cg_check(need, no_mem, true, use, &err), 0);
        assert_true(!use[CG_MEMORY] && use[CG_CPU] && use[CG_PIDS]);
        /* a missing controller nothing needs is no error */
        bool need_pids[CG_N] = {false, false, true};
        assert_int_equal(cg_check(need_pids, no_mem, false, use, &err), 0);
        assert_true(!use[CG_MEMORY] && !use[CG_CPU] && use[CG_PIDS]);
}

/* ---- the plan's keys ---- */

static void test_plan_keys(void **state)
{
        static const char doc[] =
            "{\"version\":1,\"uuid\":\"6f1c2a3e-1111-4222-8333-444455556666\","
            "\"hostname\":\"h\",\"net\":\"none\",\"cgroupsOptional\":true,"
            "\"apps\":[{\"name\":\"a\",\"tree\":\"/t\",\"exec\":[\"/bin/true\"],\"env\":[],"
            "\"uid\":0,\"gid\":0,\"oomScoreAdj\":-500,\"cgroup\":{\"memoryMax\":67108864,"
            "\"cpuMilli\":500,\"cpuShares\":1024,\"pidsMax\":64}},"
            "{\"name\":\"b\",\"tree\":\"/t\",\"exec\":[\"/bin/true\"],\"env\":[],\"uid\":0,"
            "\"gid\":0}]}";
        rk_error err = RK_ERROR_INIT;
        struct s1_plan *p = NULL;
        assert_int_equal(s1_plan_parse(doc, strlen(doc), &p, &err), 0);
        assert_true(p->cgroups_optional);
        const struct s1_app *a = &p->apps[0], *b = &p->apps[1];
        assert_int_equal(a->cg_memory_max, 67108864);
        assert_int_equal(a->cg_cpu_milli, 500);
        assert_int_equal(a->cg_cpu_shares, 1024);
        assert_int_equal(a->cg_pids_max, 64);
        assert_true(a->has_oom_score_adj && a->oom_score_adj == -500);
        assert_int_equal(b->cg_memory_max + b->cg_cpu_milli + b->cg_cpu_shares + b->cg_pids_max, 0);
        assert_false(b->has_oom_score_adj);
        s1_plan_free(p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_parse_memory),   cmocka_unit_test(test_parse_cpu_and_ints),
            cmocka_unit_test(test_limits_compute), cmocka_unit_test(test_files_v1_v2),
            cmocka_unit_test(test_paths),          cmocka_unit_test(test_needed_and_missing),
            cmocka_unit_test(test_plan_keys),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
