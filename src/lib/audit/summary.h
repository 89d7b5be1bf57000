/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The isolator summary of an app, as the audit log records it on run, prepare, enter and exit:
 * taken from the app's object in plan.json (src/stage1/PLAN.md), so what is logged is what
 * stage1 was told to apply. Linked into both rkt and rkt-stage1. */

#include <jansson.h>

/* A new object: name, image, uid, gid, supplementaryGids, capabilities (the plan's sets),
 * noNewPrivileges, seccomp (the filter's SHA-512, or "off"), and each further isolator key the
 * plan has (cgroup limits, oomScoreAdj, user namespace map, SELinux labels, Landlock). NULL on
 * allocation failure. */
json_t *rk_audit_app_summary(const json_t *plan_app);

/* An array of those, one per app of the plan (NULL on allocation failure). */
json_t *rk_audit_plan_summary(const json_t *plan);
