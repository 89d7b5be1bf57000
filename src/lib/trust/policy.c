/* SPDX-License-Identifier: Apache-2.0 */
/* policy.json: a strict parser and the decision function (policy/README.md). */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "aci/types.h"
#include "base/fileio.h"
#include "base/json.h"
#include "trust/policy.h"

/* The same text as policy/policy.json, used when neither config dir has a policy. */
static const char builtin_policy[] =
    "{\"allowInsecure\": true, \"default\": {\"type\": \"signed\"}}";

static const char *const type_names[] = {
    [RK_POLICY_SIGNED] = "signed",
    [RK_POLICY_SIGNED_BY] = "signedBy",
    [RK_POLICY_REJECT] = "reject",
    [RK_POLICY_INSECURE_ACCEPT_ANYTHING] = "insecureAcceptAnything",
};

const char *rk_policy_type_to_string(enum rk_policy_type t)
{
        return (size_t)t < ELEMENTSOF(type_names) ? type_names[t] : "unknown";
}

const char *rk_policy_verdict_to_string(enum rk_policy_verdict v)
{
        switch (v) {
        case RK_POLICY_VERIFIED:
                return "verified";
        case RK_POLICY_INSECURE:
                return "insecure";
        case RK_POLICY_ACCEPT_ANYTHING:
                return "acceptAnything";
        default:
                return "rejected";
        }
}

static void rule_clear(struct rk_policy_rule *r)
{
        free(r->prefix);
        free(r->keys);
        memset(r, 0, sizeof(*r));
}

struct rk_policy *rk_policy_free(struct rk_policy *p)
{
        if (!p)
                return NULL;
        rule_clear(&p->def);
        for (size_t i = 0; i < p->n_rules; i++)
                rule_clear(&p->rules[i]);
        free(p->rules);
        free(p->source);
        free(p);
        return NULL;
}

DEFINE_CLEANUP(struct rk_policy *, rk_policy_free)

/* Only the listed members may appear. */
static int only_keys(const json_t *o, const char *const *allowed, size_t n, const char *ctx,
                     rk_error *err)
{
        const char *k;
        json_t *v;
        json_object_foreach ((json_t *)o, k, v) {
                size_t i;
                for (i = 0; i < n; i++)
                        if (strcmp(k, allowed[i]) == 0)
                                break;
                if (i == n)
                        return rk_err(err, -EBADMSG, "%s: unknown field %s", ctx, RK_QUOTE(k));
        }
        return 0;
}

static int parse_keys(const json_t *arr, const char *ctx, struct rk_policy_rule *rule,
                      rk_error *err)
{
        size_t n = json_array_size(arr);
        if (n == 0)
                return rk_err(err, -EBADMSG, "%s.keys: a signedBy rule needs at least one key",
                              ctx);
        if (n > RK_POLICY_KEYS_MAX)
                return rk_err(err, -EBADMSG, "%s.keys: more than %d keys", ctx, RK_POLICY_KEYS_MAX);
        rule->keys = calloc(n, sizeof(*rule->keys));
        if (!rule->keys)
                return rk_err(err, -ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                const char *s = json_string_value(json_array_get(arr, i));
                if (!s)
                        return rk_err(err, -EBADMSG, "%s.keys[%zu]: must be a string", ctx, i);
                rk_error e2 = RK_ERROR_INIT;
                if (rk_fpr_validate(s, &e2) < 0)
                        return rk_err(err, -EBADMSG, "%s.keys[%zu]: %s", ctx, i, e2.msg);
                for (size_t j = 0; j < i; j++)
                        if (strcmp(rule->keys[j], s) == 0)
                                return rk_err(err, -EBADMSG, "%s.keys[%zu]: duplicate key %s", ctx,
                                              i, s);
                memcpy(rule->keys[i], s, RK_FPR_LEN + 1);
                rule->n_keys++;
        }
        return 0;
}

static int parse_rule(const json_t *o, const char *ctx, struct rk_policy_rule *rule, rk_error *err)
{
        static const char *const fields[] = {"type", "keys"};
        const char *type = NULL;
        json_t *keys = NULL;
        if (!json_is_object(o))
                return rk_err(err, -EBADMSG, "%s: must be an object such as {\"type\": \"signed\"}",
                              ctx);
        int r = only_keys(o, fields, ELEMENTSOF(fields), ctx, err);
        if (r >= 0)
                r = rk_json_get_string(o, "type", true, ctx, &type, err);
        if (r >= 0)
                r = rk_json_get_array(o, "keys", false, ctx, &keys, err);
        if (r < 0)
                return r;
        size_t t;
        for (t = 0; t < ELEMENTSOF(type_names); t++)
                if (strcmp(type, type_names[t]) == 0)
                        break;
        if (t == ELEMENTSOF(type_names))
                return rk_err(err, -EBADMSG,
                              "%s.type: unknown type %s (signed, signedBy, reject, "
                              "insecureAcceptAnything)",
                              ctx, RK_QUOTE(type));
        rule->type = (enum rk_policy_type)t;
        if (rule->type != RK_POLICY_SIGNED_BY && keys)
                return rk_err(err, -EBADMSG, "%s.keys: only a signedBy rule takes keys", ctx);
        if (rule->type == RK_POLICY_SIGNED_BY && !keys)
                return rk_err(err, -EBADMSG, "%s.keys: a signedBy rule needs \"keys\"", ctx);
        return keys ? parse_keys(keys, ctx, rule, err) : 0;
}

static int parse_prefixes(const json_t *o, const char *what, struct rk_policy *p, rk_error *err)
{
        size_t n = json_object_size(o);
        if (n > RK_POLICY_RULES_MAX)
                return rk_err(err, -EBADMSG, "%s: prefixes: more than %d rules", what,
                              RK_POLICY_RULES_MAX);
        p->rules = calloc(n ? n : 1, sizeof(*p->rules));
        if (!p->rules)
                return rk_err(err, -ENOMEM, "out of memory");
        const char *k;
        json_t *v;
        json_object_foreach ((json_t *)o, k, v) {
                char ctx[RK_ACI_NAME_MAX + 600];
                rk_error e2 = RK_ERROR_INIT;
                if (rk_trust_prefix_validate(k, &e2) < 0)
                        return rk_err(err, -EBADMSG, "%s: prefixes: %s", what, e2.msg);
                snprintf(ctx, sizeof(ctx), "%s: prefixes.\"%s\"", what, k);
                struct rk_policy_rule *rule = &p->rules[p->n_rules++];
                if (!(rule->prefix = strdup(k)))
                        return rk_err(err, -ENOMEM, "out of memory");
                int r = parse_rule(v, ctx, rule, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int rk_policy_parse(const char *what, const void *buf, size_t len, struct rk_policy **ret,
                    rk_error *err)
{
        static const char *const fields[] = {"allowInsecure", "default", "prefixes"};
        _cleanup_json_ json_t *root = NULL;
        int r = rk_json_parse(what, buf, len, RK_POLICY_MAX, &root, err);
        if (r < 0)
                return r;
        if (!json_is_object(root))
                return rk_err(err, -EBADMSG, "%s: must be a JSON object", what);
        _cleanup_(rk_policy_freep) struct rk_policy *p = calloc(1, sizeof(*p));
        if (!p || !(p->source = strdup(what)))
                return rk_err(err, -ENOMEM, "out of memory");
        json_t *def = NULL, *prefixes = NULL;
        char ctx[256];
        snprintf(ctx, sizeof(ctx), "%s", what);
        r = only_keys(root, fields, ELEMENTSOF(fields), what, err);
        if (r >= 0)
                r = rk_json_get_bool(root, "allowInsecure", false, what, &p->allow_insecure, err);
        if (r >= 0)
                r = rk_json_get_object(root, "prefixes", false, what, &prefixes, err);
        if (r >= 0 && !(def = json_object_get(root, "default")))
                r = rk_err(err, -EBADMSG, "%s: \"default\" is required", what);
        if (r >= 0) {
                snprintf(ctx, sizeof(ctx), "%s: default", what);
                r = parse_rule(def, ctx, &p->def, err);
        }
        if (r >= 0 && prefixes)
                r = parse_prefixes(prefixes, what, p, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

/* Returns 1 and the parsed policy if path exists, 0 if it does not. */
static int load_file(const char *dir, struct rk_policy **ret, rk_error *err)
{
        _cleanup_free_ char *path = NULL, *buf = NULL;
        size_t len = 0;
        if (!dir || asprintf(&path, "%s/policy.json", dir) < 0)
                return dir ? rk_err(err, -ENOMEM, "out of memory") : 0;
        /* A symlink is allowed here (config management links files into /etc); a FIFO or a
         * device is not. */
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
                return 0;
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "policy '%s'", path);
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return rk_err(err, -EBADMSG, "policy '%s': not a regular file", path);
        char what[PATH_MAX + 16];
        snprintf(what, sizeof(what), "policy '%s'", path);
        int r = rk_read_fd_capped(fd, what, RK_POLICY_MAX, &buf, &len, err);
        if (r >= 0)
                r = rk_policy_parse(what, buf, len, ret, err);
        if (r >= 0) {
                free((*ret)->source);
                (*ret)->source = TAKE_PTR(path);
        }
        return r < 0 ? r : 1;
}

int rk_policy_load(const struct rk_trust_config *c, struct rk_policy **ret, rk_error *err)
{
        /* The admin's file replaces the vendor's entirely: merging would let a vendor update
         * add an insecureAcceptAnything rule the admin never saw. */
        int r = load_file(c->local_config, ret, err);
        if (r == 0)
                r = load_file(c->system_config, ret, err);
        if (r == 0) {
                r = rk_policy_parse("built-in policy", builtin_policy, sizeof(builtin_policy) - 1,
                                    ret, err);
                if (r >= 0) {
                        free((*ret)->source);
                        (*ret)->source = strdup("built-in");
                }
        }
        return r < 0 ? r : 0;
}

const struct rk_policy_rule *rk_policy_match(const struct rk_policy *p, const char *name)
{
        const struct rk_policy_rule *best = &p->def;
        size_t best_len = 0;
        for (size_t i = 0; i < p->n_rules; i++) {
                size_t n = strlen(p->rules[i].prefix);
                if (n > best_len && rk_trust_prefix_covers(p->rules[i].prefix, name)) {
                        best = &p->rules[i];
                        best_len = n;
                }
        }
        return best;
}

static bool signer_listed(const struct rk_policy_rule *rule, const char *fpr)
{
        for (size_t i = 0; i < rule->n_keys; i++)
                if (strcmp(rule->keys[i], fpr) == 0)
                        return true;
        return false;
}

/* The verified signature, if any, satisfies the rule. */
static bool satisfied(const struct rk_policy_rule *rule, const struct rk_verify_result *vr)
{
        if (!vr)
                return false;
        return rule->type == RK_POLICY_SIGNED ||
               (rule->type == RK_POLICY_SIGNED_BY && signer_listed(rule, vr->signer));
}

static int refuse_unsatisfied(const struct rk_policy *p, const struct rk_policy_rule *rule,
                              const char *name, const struct rk_verify_result *vr,
                              const char *rname, rk_error *err)
{
        if (vr)
                return rk_err(err, -EKEYREJECTED,
                              "'%s' is signed by %s, which policy rule \"%s\" (%s) does not list",
                              name, vr->signer, rname, p->source);
        return rk_err(err, -EKEYREJECTED,
                      "'%s' is not verified, and policy rule \"%s\" (%s) requires a signature%s",
                      name, rname, p->source,
                      p->allow_insecure ? "; --insecure-options=image accepts it unverified" : "");
}

int rk_policy_decide(const struct rk_policy *p, const char *image_name,
                     const struct rk_verify_result *vr, bool insecure,
                     struct rk_policy_decision *ret, rk_error *err)
{
        const struct rk_policy_rule *rule = rk_policy_match(p, image_name);
        const char *rname = rule->prefix ? rule->prefix : "default";
        *ret = (struct rk_policy_decision){RK_POLICY_REJECTED, rule->type, rname};
        int r = rk_ac_identifier_validate(image_name, "image name", err);
        if (r < 0)
                return r;
        /* A verify result for another name must not satisfy this one (defence against a
         * caller mixing up images). */
        if (vr && (!vr->prefix || !rk_trust_prefix_covers(vr->prefix, image_name)))
                return rk_err(err, -EKEYREJECTED,
                              "'%s': the signature was verified for prefix '%s', which does not "
                              "cover this name",
                              image_name, vr->prefix ? vr->prefix : "");
        if (rule->type == RK_POLICY_REJECT)
                return rk_err(err, -EPERM, "policy rule \"%s\" (%s) rejects '%s'", rname, p->source,
                              image_name);
        if (rule->type == RK_POLICY_INSECURE_ACCEPT_ANYTHING) {
                ret->verdict = vr ? RK_POLICY_VERIFIED : RK_POLICY_ACCEPT_ANYTHING;
                return 0;
        }
        if (satisfied(rule, vr)) {
                ret->verdict = RK_POLICY_VERIFIED;
                return 0;
        }
        if (!insecure)
                return refuse_unsatisfied(p, rule, image_name, vr, rname, err);
        /* The opt-in is the only way past verification, and the admin can take it away. */
        if (!p->allow_insecure)
                return rk_err(err, -EPERM,
                              "policy %s forbids --insecure-options=image (allowInsecure is "
                              "false); '%s' must be verified",
                              p->source, image_name);
        ret->verdict = RK_POLICY_INSECURE;
        return 0;
}
