/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Every isolator appc defines (appc.md section 4), parsed into typed values. Unknown names are
 * kept with their raw value (RK_ISOLATOR_UNKNOWN) so they can be reported, not dropped.
 *
 * Errors: -EBADMSG for any malformed or invalid isolator (the message names the field, e.g.
 * "app.isolators[2].value.limit: '12x' is not a valid quantity ..."), -ENOMEM.
 *
 * Scope (appc.md section 4): in an app, os/unix/sysctl is refused (it is a pod isolator); at
 * pod level only selinux-context, apparmor-profile, the resource isolators and sysctl are allowed.
 * Every known kind may appear at most once per scope; capabilities retain-set and remove-set
 * together are refused, and so are seccomp retain-set and remove-set together.
 *
 * To build an isolator programmatically, build its {"name","value"} JSON and parse it: the raw
 * value is what gets serialised. */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

enum rk_isolator_kind {
        RK_ISOLATOR_UNKNOWN = 0,
        RK_ISOLATOR_CAPS_RETAIN,       /* os/linux/capabilities-retain-set */
        RK_ISOLATOR_CAPS_REMOVE,       /* os/linux/capabilities-remove-set */
        RK_ISOLATOR_NO_NEW_PRIVS,      /* os/linux/no-new-privileges */
        RK_ISOLATOR_SECCOMP_REMOVE,    /* os/linux/seccomp-remove-set */
        RK_ISOLATOR_SECCOMP_RETAIN,    /* os/linux/seccomp-retain-set */
        RK_ISOLATOR_SELINUX_CONTEXT,   /* os/linux/selinux-context */
        RK_ISOLATOR_APPARMOR_PROFILE,  /* os/linux/apparmor-profile */
        RK_ISOLATOR_OOM_SCORE_ADJ,     /* os/linux/oom-score-adj */
        RK_ISOLATOR_CPU_SHARES,        /* os/linux/cpu-shares */
        RK_ISOLATOR_RESOURCE_CPU,      /* resource/cpu */
        RK_ISOLATOR_RESOURCE_MEMORY,   /* resource/memory */
        RK_ISOLATOR_BLOCK_BANDWIDTH,   /* resource/block-bandwidth */
        RK_ISOLATOR_BLOCK_IOPS,        /* resource/block-iops */
        RK_ISOLATOR_NETWORK_BANDWIDTH, /* resource/network-bandwidth */
        RK_ISOLATOR_SYSCTL,            /* os/unix/sysctl */
        _RK_ISOLATOR_MAX,
};

struct rk_isolator {
        enum rk_isolator_kind kind;
        char *name;
        json_t *raw; /* the value as given (always kept; serialised back verbatim) */
        union {
                struct {
                        char **set; /* capability names, "CAP_" form */
                        size_t n;
                } caps;
                bool no_new_privs;
                struct {
                        char **set; /* syscall names or @groups */
                        size_t n;
                        char *errno_name; /* NULL: kill */
                } seccomp;
                struct {
                        char *user, *role, *type, *level;
                } selinux;
                char *apparmor_profile;
                int64_t oom_score_adj;
                int64_t cpu_shares;
                struct {
                        bool has_request, has_limit, is_default;
                        int64_t request_milli, limit_milli;
                } resource;
                struct {
                        char **keys, **values;
                        size_t n;
                } sysctl;
        } u;
};

struct rk_isolators {
        struct rk_isolator *v;
        size_t n;
};

enum rk_isolator_scope {
        RK_ISOLATOR_SCOPE_APP,
        RK_ISOLATOR_SCOPE_POD,
};

/* The appc name of a kind ("os/linux/capabilities-retain-set"); "unknown" for
 * RK_ISOLATOR_UNKNOWN or an out-of-range value. */
const char *rk_isolator_kind_name(enum rk_isolator_kind k);
enum rk_isolator_kind rk_isolator_kind_from_name(const char *name);
/* Parse one {"name":..., "value":...} object. ctx is its path ("app.isolators[0]"). The value
 * is checked (and the scope rules above are not: they need the whole list). *ret is untouched
 * on failure; release it with rk_isolator_clear(). */
int rk_isolator_parse(const json_t *obj, const char *ctx, struct rk_isolator *ret, rk_error *err);
void rk_isolator_clear(struct rk_isolator *iso);
/* Parse a list and check multiplicity and conflicts for the scope (retain+remove capability
 * sets together are refused; one seccomp set; one selinux context; ...). arr may be NULL (no
 * isolators). *ret is untouched on failure. */
int rk_isolators_parse(const json_t *arr, enum rk_isolator_scope scope, const char *ctx,
                       struct rk_isolators *ret, rk_error *err);
void rk_isolators_clear(struct rk_isolators *l);
/* [{"name":...,"value":<raw>}...] in list order; NULL on allocation failure or a missing raw
 * value. */
json_t *rk_isolators_to_json(const struct rk_isolators *l);
/* Capability name in "CAP_X" form, upper case, CAP_CHOWN (0) .. CAP_CHECKPOINT_RESTORE (40)
 * (-EINVAL otherwise: no lower case, no missing prefix, no unknown names). */
int rk_capability_validate(const char *name, const char *ctx, rk_error *err);
/* The capability's number (CAP_CHOWN = 0), or -EINVAL. */
int rk_capability_number(const char *name);
/* The "CAP_X" name of capability n, or NULL if n is out of range. */
const char *rk_capability_name(int n);
#define RK_CAP_LAST 40
