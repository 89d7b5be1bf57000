/* SPDX-License-Identifier: Apache-2.0 */
/* policy.json parser and decision function. Oracles: a failure has a code and one line and
 * leaves *ret alone; whatever parses holds only valid prefixes and fingerprints, has a rule for
 * every name, and its decisions obey the rule types (reject never accepts, an unverified image
 * is accepted only by insecureAcceptAnything or by an opt-in the policy allows). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trust/policy.h"

/* one byte over the cap: the size refusal is exercised too */
#define FUZZ_MAX_INPUT (RK_POLICY_MAX + 1)

static const char *const names[] = {
    "example.com", "example.com/app", "example.com/app/x", "example.com/application",
    "a",           "a.b/c-d/e_f/~g"};

static void check_decision(const struct rk_policy *p, const char *name,
                           const struct rk_verify_result *vr, bool insecure)
{
        struct rk_policy_decision d;
        rk_error err = RK_ERROR_INIT;
        int r = rk_policy_decide(p, name, vr, insecure, &d, &err);
        const struct rk_policy_rule *rule = rk_policy_match(p, name);
        if (!rule || !d.rule || d.type != rule->type)
                abort();
        if (r < 0) {
                if (d.verdict != RK_POLICY_REJECTED || err.code != r || !err.msg[0] ||
                    strchr(err.msg, '\n'))
                        abort();
                return;
        }
        if (rule->type == RK_POLICY_REJECT || d.verdict == RK_POLICY_REJECTED)
                abort();
        if (!vr && d.verdict == RK_POLICY_VERIFIED)
                abort();
        if (d.verdict == RK_POLICY_INSECURE && (!insecure || !p->allow_insecure))
                abort();
        if (d.verdict == RK_POLICY_ACCEPT_ANYTHING &&
            rule->type != RK_POLICY_INSECURE_ACCEPT_ANYTHING)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > FUZZ_MAX_INPUT)
                return 0;
        struct rk_policy *p = NULL;
        rk_error err = RK_ERROR_INIT;
        int r = rk_policy_parse("fuzz", data, size, &p, &err);
        if (r < 0) {
                if (p || err.code != r || !err.msg[0] || strchr(err.msg, '\n'))
                        abort();
                return 0;
        }
        for (size_t i = 0; i < p->n_rules; i++) {
                if (rk_trust_prefix_validate(p->rules[i].prefix, NULL) < 0)
                        abort();
                for (size_t k = 0; k < p->rules[i].n_keys; k++)
                        if (rk_fpr_validate(p->rules[i].keys[k], NULL) < 0)
                                abort();
        }
        struct rk_verify_result vr = {.signer = "0b450a705260ababef27224fd94627d0d5728376",
                                      .prefix = (char *)""};
        for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
                /* Also the names the policy itself mentions. */
                check_decision(p, names[i], NULL, false);
                check_decision(p, names[i], NULL, true);
                check_decision(p, names[i], &vr, false);
        }
        for (size_t i = 0; i < p->n_rules && i < 8; i++) {
                check_decision(p, p->rules[i].prefix, NULL, true);
                check_decision(p, p->rules[i].prefix, &vr, false);
        }
        rk_policy_free(p);
        return 0;
}
