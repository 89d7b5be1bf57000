/* SPDX-License-Identifier: Apache-2.0 */
/* Stage0's side of the cgroup isolators: flag values and isolators into per-app limits for the
 * plan. Stage1 (src/stage1/isolators/cgroup.c) writes them into cgroupfs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aci/types.h"
#include "pod/cgroup.h"

int rk_cgroup_parse_memory(const char *flag, const char *v, int64_t *ret, rk_error *err)
{
        int64_t milli = 0;
        rk_error e = RK_ERROR_INIT;
        if (!v || rk_quantity_parse(v, &milli, NULL, &e) < 0)
                return rk_err(err, -EINVAL, "%s: '%s' is not a quantity (like 512Mi, 1G, 1048576)",
                              flag, v ? v : "");
        if (milli % 1000)
                return rk_err(err, -EINVAL, "%s: '%s' is not a whole number of bytes", flag, v);
        if (milli / 1000 < RK_MEMORY_MIN)
                return rk_err(err, -EINVAL, "%s: '%s' is less than %d bytes", flag, v,
                              RK_MEMORY_MIN);
        *ret = milli / 1000;
        return 0;
}

int rk_cgroup_parse_cpu(const char *flag, const char *v, int64_t *ret, rk_error *err)
{
        int64_t milli = 0;
        rk_error e = RK_ERROR_INIT;
        if (!v || rk_quantity_parse(v, &milli, NULL, &e) < 0)
                return rk_err(err, -EINVAL, "%s: '%s' is not a quantity (like 500m, 1.5, 2)", flag,
                              v ? v : "");
        if (milli < RK_CPU_MILLI_MIN || milli > RK_CPU_MILLI_MAX)
                return rk_err(err, -EINVAL, "%s: '%s' is not between %dm and %d CPUs", flag, v,
                              RK_CPU_MILLI_MIN, RK_CPU_MILLI_MAX / 1000);
        *ret = milli;
        return 0;
}

int rk_cgroup_parse_int(const char *flag, const char *v, int64_t min, int64_t max, int64_t *ret,
                        rk_error *err)
{
        char *end = NULL;
        errno = 0;
        long long n = v && *v ? strtoll(v, &end, 10) : 0;
        if (!v || !*v || *end || errno || n < min || n > max)
                return rk_err(err, -EINVAL, "%s: '%s' is not an integer from %lld to %lld", flag,
                              v ? v : "", (long long)min, (long long)max);
        *ret = n;
        return 0;
}

int rk_cgroup_parse_pids_limit(const char *flag, const char *v, int64_t *ret, rk_error *err)
{
        if (v && (!strcmp(v, "max") || !strcmp(v, "0"))) {
                *ret = 0;
                return 0;
        }
        return rk_cgroup_parse_int(flag, v, 1, RK_PIDS_LIMIT_MAX, ret, err);
}

static const struct rk_isolator *find(const struct rk_isolators *app,
                                      const struct rk_isolators *pod, enum rk_isolator_kind k)
{
        for (size_t i = 0; app && i < app->n; i++)
                if (app->v[i].kind == k)
                        return &app->v[i];
        for (size_t i = 0; pod && i < pod->n; i++)
                if (pod->v[i].kind == k)
                        return &pod->v[i];
        return NULL;
}

int rk_cgroup_limits_compute(const struct rk_isolators *app, const struct rk_isolators *pod,
                             int64_t pids_max, const char *ctx, struct rk_cgroup_limits *ret,
                             rk_error *err)
{
        struct rk_cgroup_limits l = {.pids_max = pids_max};
        const struct rk_isolator *i = find(app, pod, RK_ISOLATOR_RESOURCE_MEMORY);
        if (i && i->u.resource.has_limit) {
                int64_t m = i->u.resource.limit_milli;
                if (m % 1000 || m / 1000 < RK_MEMORY_MIN)
                        return rk_err(err, -EINVAL,
                                      "%s: resource/memory limit must be a whole number of bytes, "
                                      "at least %d",
                                      ctx, RK_MEMORY_MIN);
                l.memory_max = m / 1000;
        }
        i = find(app, pod, RK_ISOLATOR_RESOURCE_CPU);
        if (i && i->u.resource.has_limit) {
                int64_t c = i->u.resource.limit_milli;
                if (c < RK_CPU_MILLI_MIN || c > RK_CPU_MILLI_MAX)
                        return rk_err(err, -EINVAL,
                                      "%s: resource/cpu limit must be from %dm to %d CPUs", ctx,
                                      RK_CPU_MILLI_MIN, RK_CPU_MILLI_MAX / 1000);
                l.cpu_milli = c;
        }
        if ((i = find(app, pod, RK_ISOLATOR_CPU_SHARES)))
                l.cpu_shares = i->u.cpu_shares;
        if ((i = find(app, pod, RK_ISOLATOR_OOM_SCORE_ADJ))) {
                l.oom_score_adj = i->u.oom_score_adj;
                l.has_oom_score_adj = true;
        }
        *ret = l;
        return 0;
}

json_t *rk_cgroup_limits_json(const struct rk_cgroup_limits *l)
{
        json_t *o = json_object();
        int f = !o;
        if (!f && l->memory_max)
                f |= json_object_set_new(o, "memoryMax", json_integer(l->memory_max));
        if (!f && l->cpu_milli)
                f |= json_object_set_new(o, "cpuMilli", json_integer(l->cpu_milli));
        if (!f && l->cpu_shares)
                f |= json_object_set_new(o, "cpuShares", json_integer(l->cpu_shares));
        if (!f && l->pids_max)
                f |= json_object_set_new(o, "pidsMax", json_integer(l->pids_max));
        if (f) {
                json_decref(o);
                return NULL;
        }
        return o;
}
