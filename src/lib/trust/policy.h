/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* policy.json: which images need which signatures (policy/README.md).
 *
 *     {
 *       "allowInsecure": false,
 *       "default": {"type": "signed"},
 *       "prefixes": {
 *         "example.com/app": {"type": "signedBy", "keys": ["<40 hex>", ...]},
 *         "example.com/untrusted": {"type": "reject"},
 *         "example.com/dev": {"type": "insecureAcceptAnything"}
 *       }
 *     }
 *
 * The rule for a name is the one with the longest prefix covering it on whole path components,
 * else "default" (mandatory). <local-config>/policy.json, if it exists, replaces the vendor's
 * <system-config>/policy.json entirely (no merging); without either the built-in policy is the
 * vendor default shipped in policy/policy.json. The parser is strict: unknown or duplicate
 * fields, wrong types, bad prefixes or fingerprints refuse the whole file, naming the field. */

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "trust/trust.h"

#define RK_POLICY_MAX       (64 * 1024) /* bytes of policy.json */
#define RK_POLICY_RULES_MAX 1024
#define RK_POLICY_KEYS_MAX  256 /* per signedBy rule */

enum rk_policy_type {
        RK_POLICY_SIGNED,                   /* any key trusted for the name (the default) */
        RK_POLICY_SIGNED_BY,                /* one of the listed primary fingerprints */
        RK_POLICY_REJECT,                   /* never, whatever the flags */
        RK_POLICY_INSECURE_ACCEPT_ANYTHING, /* signed or not */
};
const char *rk_policy_type_to_string(enum rk_policy_type t);

struct rk_policy_rule {
        char *prefix; /* NULL for "default" */
        enum rk_policy_type type;
        char (*keys)[RK_FPR_LEN + 1];
        size_t n_keys;
};

struct rk_policy {
        bool allow_insecure; /* false: --insecure-options=image is refused */
        struct rk_policy_rule def;
        struct rk_policy_rule *rules;
        size_t n_rules;
        char *source; /* the file it came from, or "built-in" */
};

int rk_policy_parse(const char *what, const void *buf, size_t len, struct rk_policy **ret,
                    rk_error *err);
/* <local-config>/policy.json, else <system-config>/policy.json, else the built-in policy. A file
 * that exists but is invalid is an error (never a silent fall-back). */
int rk_policy_load(const struct rk_trust_config *c, struct rk_policy **ret, rk_error *err);
struct rk_policy *rk_policy_free(struct rk_policy *p);

/* The rule that applies to name (never NULL for a valid name). */
const struct rk_policy_rule *rk_policy_match(const struct rk_policy *p, const char *name);

enum rk_policy_verdict {
        RK_POLICY_REJECTED,
        RK_POLICY_VERIFIED,       /* accepted on a verified signature */
        RK_POLICY_INSECURE,       /* accepted unverified: the user opted in and policy allows */
        RK_POLICY_ACCEPT_ANYTHING /* accepted unverified by an insecureAcceptAnything rule */
};
const char *rk_policy_verdict_to_string(enum rk_policy_verdict v);

struct rk_policy_decision {
        enum rk_policy_verdict verdict;
        enum rk_policy_type type;
        const char *rule; /* the rule's prefix or "default"; borrowed from the policy */
};

/* Decides for image_name. vr is the result of rk_trust_verify() for that name, or NULL when the
 * image is unsigned or its signature was not verified; insecure is the user's opt-in
 * (--insecure-options=image or --insecure-skip-verify). Returns 0 if the image may be used, else
 * -EPERM (a reject rule, or an opt-in the policy forbids) or -EKEYREJECTED (no or the wrong
 * signature), with a message naming the rule. ret is filled in both cases. */
int rk_policy_decide(const struct rk_policy *p, const char *image_name,
                     const struct rk_verify_result *vr, bool insecure,
                     struct rk_policy_decision *ret, rk_error *err);
