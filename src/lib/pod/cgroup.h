/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The cgroup limits and oom_score_adj of one app, computed by stage0 for the plan
 * (src/stage1/PLAN.md, "Cgroups"). Stage1 turns them into v1 or v2 files. */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "aci/isolator.h"
#include "base/error.h"

/* Default pids.max of every app (podman's); --pids-limit=N replaces it, --pids-limit=max
 * removes it. */
#define RK_PIDS_LIMIT_DEFAULT 2048
#define RK_PIDS_LIMIT_MAX     4194304 /* the kernel's PID_MAX_LIMIT */
#define RK_MEMORY_MIN         4096    /* one page: a smaller limit is a typo */
#define RK_CPU_MILLI_MIN      10      /* 1 ms of CPU per 100 ms period (cfs_quota_us >= 1000) */
#define RK_CPU_MILLI_MAX      (1024 * 1000)

struct rk_cgroup_limits {
        int64_t memory_max; /* bytes, 0: no limit */
        int64_t cpu_milli;  /* CPU time in thousandths of a CPU, 0: no limit */
        int64_t cpu_shares; /* 2..262144, 0: not set */
        int64_t pids_max;   /* 1..RK_PIDS_LIMIT_MAX, 0: no limit */
        int64_t oom_score_adj;
        bool has_oom_score_adj;
};

/* Flag values: --memory=QTY (bytes, at least RK_MEMORY_MIN, whole bytes), --cpu=QTY (cores:
 * "500m", "1.5", "2"), --cpu-shares=N, --oom-score-adj=N, --pids-limit=N|max (0: max). The
 * message names the flag and the value. -EINVAL on any error. */
int rk_cgroup_parse_memory(const char *flag, const char *v, int64_t *ret, rk_error *err);
int rk_cgroup_parse_cpu(const char *flag, const char *v, int64_t *ret, rk_error *err);
int rk_cgroup_parse_int(const char *flag, const char *v, int64_t min, int64_t max, int64_t *ret,
                        rk_error *err);
int rk_cgroup_parse_pids_limit(const char *flag, const char *v, int64_t *ret, rk_error *err);

/* The limits of one app: each of resource/memory, resource/cpu (their limits; requests are not
 * applied), os/linux/cpu-shares and os/linux/oom-score-adj from the app's isolators, else from
 * the pod's (pod may be NULL); pids_max as given. The flags reach here as app isolators
 * (rk_pod_manifest_build writes them into the manifest). ctx names the app in messages. */
int rk_cgroup_limits_compute(const struct rk_isolators *app, const struct rk_isolators *pod,
                             int64_t pids_max, const char *ctx, struct rk_cgroup_limits *ret,
                             rk_error *err);
/* {"memoryMax":N,"cpuMilli":N,"cpuShares":N,"pidsMax":N}, each only when set; NULL: ENOMEM. */
json_t *rk_cgroup_limits_json(const struct rk_cgroup_limits *l);
