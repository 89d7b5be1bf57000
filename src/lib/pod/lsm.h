/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Stage0's part of the Linux security modules (PLAN.md "Landlock and SELinux"): whether the
 * kernel has Landlock, and the pod's SELinux labels.
 *
 * SELinux (svirt style, as rkt): lxc_contexts names the process and file contexts of
 * containers; each pod gets a unique MCS pair c<A>,c<B> (A < B, 0..1023) and runs as the
 * process context with the level "s0:cA,cB", its root overlay labelled with the file context
 * at the same level. An os/linux/selinux-context isolator (the app's, else the pod's) gives
 * the app's process label instead. The pair is reserved in <pod>/selinux-mcs under
 * <data>/pods/selinux-mcs.lock; pods in prepare/ and run/ that still hold their lock, and
 * every pod in prepared/, keep theirs. */

#include <stdbool.h>
#include <stdint.h>

#include "aci/isolator.h"
#include "base/error.h"

struct rk_pod;

/* The running kernel's Landlock ABI (>= 1), -ENOSYS (not built) or -EOPNOTSUPP (disabled). */
int rk_landlock_abi(void);

/* 1 if the plan of pod turns Landlock off for an app (--insecure-options=landlock at
 * prepare time), 0 if not, or a negative errno. */
int rk_pod_plan_landlock_off(struct rk_pod *pod, rk_error *err);

/* is_selinux_enabled() > 0 */
bool rk_selinux_enabled(void);

struct rk_mcs_pair {
        unsigned a, b; /* a < b <= max category */
};

/* lxc_contexts: lines KEY = "VALUE" (quotes optional), blank lines and '#' comments.
 * "process" and "file" are required, once each, and must be valid contexts (base/label.h);
 * other keys (content, ro_file, sandbox_lxc_process, ...) are ignored. A line that is not
 * KEY = VALUE is an error (-EBADMSG), and so is more than 64 KiB (-EFBIG). */
int rk_selinux_lxc_contexts_parse(const char *what, const char *buf, size_t len, char **ret_process,
                                  char **ret_file, rk_error *err);
int rk_selinux_lxc_contexts_read(const char *path, char **ret_process, char **ret_file,
                                 rk_error *err);

/* "cA,cB" (the reservation file's text, an optional trailing newline) -> pair; -EBADMSG. */
int rk_selinux_mcs_parse(const char *s, struct rk_mcs_pair *ret);

/* A pair with both categories <= max_cat that is not in used[]; rnd (NULL: getrandom) picks
 * where to start looking. -EUSERS when every pair is taken. */
int rk_selinux_mcs_pick(const struct rk_mcs_pair *used, size_t n_used, unsigned max_cat,
                        uint32_t (*rnd)(void *), void *userdata, struct rk_mcs_pair *ret,
                        rk_error *err);

/* ctx with its level replaced by level; the result is checked (-EINVAL). */
int rk_selinux_with_level(const char *ctx, const char *level, char **ret, rk_error *err);

/* The app's labels: process = the selinux-context isolator (app's, else pod's) if any, else
 * process_base at "s0:cA,cB"; mount = file_base at the same level. Both checked. */
int rk_selinux_app_labels(const char *process_base, const char *file_base,
                          const struct rk_mcs_pair *pair, const struct rk_isolators *app_iso,
                          const struct rk_isolators *pod_iso, char **ret_process, char **ret_mount,
                          rk_error *err);

/* Reserve a pair of categories 0..max_cat (RK_MCS_MAX_CAT; smaller in tests) for pod (in
 * prepare/, locked by us): see above. -EUSERS when every pair is held. */
int rk_selinux_reserve(struct rk_pod *pod, unsigned max_cat, struct rk_mcs_pair *ret,
                       rk_error *err);
