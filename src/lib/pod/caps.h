/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The capability sets and no_new_privs of one app, computed by stage0 for the plan
 * (src/stage1/PLAN.md). Bit n of each mask is capability n (CAP_CHOWN = bit 0). */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "aci/isolator.h"
#include "base/error.h"

struct rk_caps {
        uint64_t bounding, effective, permitted, inheritable, ambient;
};

/* The default bounding set: podman's 11 (appc's 14 minus CAP_AUDIT_WRITE, CAP_MKNOD,
 * CAP_NET_RAW); profiles/capabilities-default.json holds the same list. */
extern const char *const rk_caps_default[];
#define RK_CAPS_DEFAULT_N 11
uint64_t rk_caps_default_mask(void);
/* This process's bounding set (CAP_CHOWN .. RK_CAP_LAST): every computed set is cut to it. */
uint64_t rk_caps_host_bounding(void);

/* From the app's isolators (os/linux/capabilities-retain-set replaces the default set,
 * -remove-set removes from it; at most one of them, as rk_isolators_parse checks), its uid
 * and --insecure-options=capabilities (all: every capability this process has in its bounding set).
 * Root: bounding = permitted = effective = the set. Other uids: bounding = the set, and only a
 * retain-set gives effective/permitted caps, carried over execve by the ambient set (which the
 * kernel requires to be in inheritable too). -EINVAL if both sets are present. */
int rk_caps_compute(const struct rk_isolators *iso, uint32_t uid, bool all, struct rk_caps *ret,
                    rk_error *err);
/* os/linux/no-new-privileges, true when absent. */
bool rk_caps_no_new_privs(const struct rk_isolators *iso);
/* {"bounding":[names],"effective":...,"permitted":...,"inheritable":...,"ambient":...} */
json_t *rk_caps_to_json(const struct rk_caps *c);
/* "CAP_A,CAP_B" (a flag value) into a mask; the message names flag and the unknown name. */
int rk_caps_parse_list(const char *arg, const char *flag, uint64_t *ret, rk_error *err);
