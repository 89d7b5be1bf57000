/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The default seccomp filter (profiles/seccomp-default.json, compiled into stage0): a strict
 * reader of the OCI/Docker profile format, compiled with libseccomp into classic BPF that
 * stage1 loads with the raw seccomp(2) syscall (src/stage1/PLAN.md). */

#include <stddef.h>

#include "base/error.h"

/* The profile text, as built in. */
extern const char rk_seccomp_default_profile[];
size_t rk_seccomp_default_profile_len(void);

/* Parse a profile strictly (unknown keys, syscall names, actions, architectures or operators,
 * a syscall listed twice, errnoRet on an action that is not SCMP_ACT_ERRNO: errors naming
 * them) and compile it into BPF (malloc'ed into *ret, *ret_len bytes). -EINVAL on a bad
 * profile. */
int rk_seccomp_compile(const char *profile, size_t len, void **ret, size_t *ret_len, rk_error *err);

/* The BPF of the profile from the cache <data_dir>/cas/seccomp/<sha512 of profile>.bpf,
 * compiled and written there (atomically) when absent. */
int rk_seccomp_cached(const char *data_dir, const char *profile, size_t len, void **ret,
                      size_t *ret_len, rk_error *err);
