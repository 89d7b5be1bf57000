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
 * compiled (rk_seccomp_compile_flags) and written there (atomically) when absent. */
int rk_seccomp_cached(const char *data_dir, const char *profile, size_t len, unsigned flags,
                      void **ret, size_t *ret_len, rk_error *err);

/* ---- seccomp sets (src/lib/pod/seccomp-set.c; profiles/README.md has the semantics) ---- */

#include <stdbool.h>

#include "aci/isolator.h"

#define RK_SECCOMP_PROFILE_MAX (1u << 20) /* --seccomp-profile=FILE, bytes */

/* rk_seccomp_compile_flags(): a generated profile may default to SCMP_ACT_ALLOW (retain-set
 * @appc.io/all); a profile file may not. */
#define RK_SECCOMP_ALLOW_DEFAULT_ALLOW 1u
int rk_seccomp_compile_flags(const char *profile, size_t len, unsigned flags, void **ret,
                             size_t *ret_len, rk_error *err);

/* An appc seccomp set: os/linux/seccomp-retain-set / -remove-set, or --seccomp=. */
struct rk_seccomp_set {
        bool retain;  /* else remove */
        char **names; /* syscall names and @groups, as given, in order */
        size_t n;
        char *errno_name; /* NULL: a blocked call kills the process (SIGSYS) */
};
void rk_seccomp_set_clear(struct rk_seccomp_set *s);

/* The errno number of an upper-case errno name (EPERM, ENOTSUP, EWOULDBLOCK, ...), or
 * -EINVAL. */
int rk_seccomp_errno_number(const char *name);
/* Whether group ("@rkt/default-whitelist", ...) is one we define (not @appc.io/). */
bool rk_seccomp_group_known(const char *group);

/* --seccomp=mode=retain|remove[,errno=ENAME],SYSCALL|@group,...: parsed and checked (every
 * syscall known to libseccomp, every group defined, the errno known, nothing twice).
 * -EINVAL with a message naming the flag and the bad word. */
int rk_seccomp_parse_opt(const char *arg, struct rk_seccomp_set *ret, rk_error *err);
/* The isolator value {"set": [...], "errno": "E"} of a set (NULL on allocation failure). */
json_t *rk_seccomp_set_to_json(const struct rk_seccomp_set *s);
/* The app's seccomp set from its isolators: 1 and *ret filled if it has one, 0 if none. The
 * set is checked like rk_seccomp_parse_opt's (ctx names it in errors). */
int rk_seccomp_set_from_isolators(const struct rk_isolators *iso, const char *ctx,
                                  struct rk_seccomp_set *ret, rk_error *err);
/* The OCI profile (JSON text, malloc'ed) for a set, derived from the default profile; the
 * hardening rules of the default profile stay. no_new_privs: whether stage1 loads the filter
 * last (else the steps after it need their syscalls too). *ret_flags: what to pass to
 * rk_seccomp_compile_flags. */
int rk_seccomp_set_profile(const struct rk_seccomp_set *s, bool no_new_privs, char **ret,
                           size_t *ret_len, unsigned *ret_flags, rk_error *err);
/* --seccomp-profile=FILE: read (at most RK_SECCOMP_PROFILE_MAX bytes) and compiled once to
 * check it. */
int rk_seccomp_profile_load(const char *path, char **ret, size_t *ret_len, rk_error *err);
