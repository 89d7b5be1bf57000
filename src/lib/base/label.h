/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* SELinux security contexts as the runtime writes them (user:role:type:level), checked the
 * same way by stage0, which builds them, and stage1, which hands them to the kernel. */

#include <stdbool.h>
#include <stddef.h>

#define RK_LABEL_MAX   255  /* bytes of a whole context */
#define RK_MCS_MAX_CAT 1023 /* the highest category of the default MCS policy */

/* "user:role:type:level": user, role and type non-empty identifiers of [A-Za-z0-9_.-]; level
 * an MLS range "sN[:cats][-sN[:cats]]" with sN and each category cN (or cN.cM, N < M) at most
 * 1023, categories in a comma list. No whitespace, no control characters, at most
 * RK_LABEL_MAX bytes. */
bool rk_label_valid(const char *label);
/* The same for a level alone ("s0:c1,c2", "s0-s0:c0.c1023"). */
bool rk_label_level_valid(const char *level);
/* The same for user, role or type alone. */
bool rk_label_ident_valid(const char *s);
