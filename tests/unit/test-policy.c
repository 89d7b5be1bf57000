/* SPDX-License-Identifier: Apache-2.0 */
/* policy.json: the strict parser (every malformed field refused, named), precedence of the
 * local file over the vendor's, whole-component most-specific matching, and every decision. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fileio.h"
#include "trust/policy.h"

#define RSA "0b450a705260ababef27224fd94627d0d5728376"
#define ED  "896fd71bf663f3a0010ef5fee2c855ed5e336e21"

static struct rk_policy *parse_ok(const char *json)
{
        struct rk_policy *p = NULL;
        rk_error e = RK_ERROR_INIT;
        int r = rk_policy_parse("policy", json, strlen(json), &p, &e);
        if (r != 0)
                fail_msg("'%s': %s", json, e.msg);
        return p;
}

static void parse_bad(const char *json, const char *field)
{
        struct rk_policy *p = NULL;
        rk_error e = RK_ERROR_INIT;
        int r = rk_policy_parse("policy", json, strlen(json), &p, &e);
        if (r >= 0)
                fail_msg("accepted: %s", json);
        assert_null(p);
        if (field && !strstr(e.msg, field))
                fail_msg("'%s': message '%s' does not name '%s'", json, e.msg, field);
}

static void test_vendor_file_is_the_builtin(void **state)
{
        char *buf = NULL;
        size_t n = 0;
        struct rk_policy *p = NULL, *b = NULL;
        assert_int_equal(
            rk_read_file_at(AT_FDCWD, "policy/policy.json", RK_POLICY_MAX, &buf, &n, NULL), 0);
        assert_int_equal(rk_policy_parse("vendor", buf, n, &p, NULL), 0);
        struct rk_trust_config c = {.local_config = "/nonexistent/l",
                                    .system_config = "/nonexistent/s"};
        assert_int_equal(rk_policy_load(&c, &b, NULL), 0);
        assert_string_equal(b->source, "built-in");
        assert_int_equal(p->allow_insecure, b->allow_insecure);
        assert_int_equal(p->def.type, b->def.type);
        assert_int_equal(p->def.type, RK_POLICY_SIGNED);
        assert_int_equal(p->n_rules, b->n_rules);
        free(buf);
        rk_policy_free(p);
        rk_policy_free(b);
}

static void test_parse_full(void **state)
{
        struct rk_policy *p = parse_ok("{\"allowInsecure\": false, \"default\": {\"type\": "
                                       "\"reject\"}, \"prefixes\": {"
                                       "\"example.com\": {\"type\": \"signed\"},"
                                       "\"example.com/app\": {\"type\": \"signedBy\", \"keys\": "
                                       "[\"" RSA "\", \"" ED "\"]},"
                                       "\"dev.example.com\": {\"type\": "
                                       "\"insecureAcceptAnything\"}}}");
        assert_false(p->allow_insecure);
        assert_int_equal(p->def.type, RK_POLICY_REJECT);
        assert_null(p->def.prefix);
        assert_int_equal(p->n_rules, 3);
        const struct rk_policy_rule *r = rk_policy_match(p, "example.com/app/x");
        assert_string_equal(r->prefix, "example.com/app");
        assert_int_equal(r->type, RK_POLICY_SIGNED_BY);
        assert_int_equal(r->n_keys, 2);
        assert_string_equal(r->keys[1], ED);
        rk_policy_free(p);
        /* allowInsecure defaults to false. */
        p = parse_ok("{\"default\": {\"type\": \"signed\"}}");
        assert_false(p->allow_insecure);
        rk_policy_free(p);
}

static void test_parse_refusals(void **state)
{
        parse_bad("", NULL);
        parse_bad("[]", "object");
        parse_bad("{}", "default");
        parse_bad("{\"default\": {\"type\": \"signed\"}} x", NULL);
        parse_bad("{\"default\": {\"type\": \"signed\"}, \"extra\": 1}", "extra");
        parse_bad("{\"default\": {\"type\": \"signed\"}, \"default\": {\"type\": \"reject\"}}",
                  "default");
        parse_bad("{\"default\": {\"type\": \"signed\", \"why\": 1}}", "why");
        parse_bad("{\"default\": \"signed\"}", "default");
        parse_bad("{\"default\": {}}", "type");
        parse_bad("{\"default\": {\"type\": 1}}", "type");
        parse_bad("{\"default\": {\"type\": \"Signed\"}}", "type");
        parse_bad("{\"default\": {\"type\": \"signedBy\"}}", "keys");
        parse_bad("{\"default\": {\"type\": \"signedBy\", \"keys\": []}}", "keys");
        parse_bad("{\"default\": {\"type\": \"signedBy\", \"keys\": \"" RSA "\"}}", "keys");
        parse_bad("{\"default\": {\"type\": \"signedBy\", \"keys\": [1]}}", "keys[0]");
        parse_bad("{\"default\": {\"type\": \"signedBy\", \"keys\": [\"" RSA "\", "
                  "\"0B450A705260ABABEF27224FD94627D0D5728376\"]}}",
                  "keys[1]");
        parse_bad("{\"default\": {\"type\": \"signedBy\", \"keys\": [\"D94627D0D5728376\"]}}",
                  "keys[0]");
        parse_bad("{\"default\": {\"type\": \"signedBy\", \"keys\": [\"" RSA "\", \"" RSA "\"]}}",
                  "duplicate");
        parse_bad("{\"default\": {\"type\": \"signed\", \"keys\": [\"" RSA "\"]}}", "keys");
        parse_bad("{\"allowInsecure\": \"yes\", \"default\": {\"type\": \"signed\"}}",
                  "allowInsecure");
        parse_bad("{\"allowInsecure\": 1, \"default\": {\"type\": \"signed\"}}", "allowInsecure");
        parse_bad("{\"default\": {\"type\": \"signed\"}, \"prefixes\": []}", "prefixes");
        parse_bad("{\"default\": {\"type\": \"signed\"}, \"prefixes\": {\"a.com\": "
                  "{\"type\": \"signed\"}, \"a.com\": {\"type\": \"reject\"}}}",
                  "a.com");
        static const char *bad_prefixes[] = {
            "example.com/",        "/example.com", "a/../b", "a//b",
            "https://example.com", "Example.com",  ""};
        for (size_t i = 0; i < ELEMENTSOF(bad_prefixes); i++) {
                char json[256];
                snprintf(json, sizeof(json),
                         "{\"default\": {\"type\": \"signed\"}, \"prefixes\": {\"%s\": "
                         "{\"type\": \"signed\"}}}",
                         bad_prefixes[i]);
                parse_bad(json, "prefix");
        }
        parse_bad("{\"default\": {\"type\": \"signed\"}, \"prefixes\": {\"a.com\": "
                  "{\"type\": \"nope\"}}}",
                  "prefixes.\"a.com\".type");
}

static void test_parse_caps(void **state)
{
        size_t cap = RK_POLICY_MAX + 64;
        char *big = malloc(cap);
        int n = snprintf(big, cap, "{\"default\": {\"type\": \"signed\"}, \"prefixes\": {");
        for (int i = 0; n < RK_POLICY_MAX; i++)
                n += snprintf(big + n, cap - (size_t)n, "%s\"a%d.com\": {\"type\": \"signed\"}",
                              i ? "," : "", i);
        struct rk_policy *p = NULL;
        assert_true(rk_policy_parse("big", big, (size_t)n, &p, NULL) < 0);
        /* Just under the byte cap but over the rule cap. */
        n = snprintf(big, cap, "{\"default\":{\"type\":\"signed\"},\"prefixes\":{");
        for (int i = 0; i <= RK_POLICY_RULES_MAX; i++)
                n += snprintf(big + n, cap - (size_t)n, "%s\"a%d\":{\"type\":\"reject\"}",
                              i ? "," : "", i);
        n += snprintf(big + n, cap - (size_t)n, "}}");
        assert_true((size_t)n < RK_POLICY_MAX);
        rk_error e = RK_ERROR_INIT;
        assert_int_equal(rk_policy_parse("many", big, (size_t)n, &p, &e), -EBADMSG);
        assert_non_null(strstr(e.msg, "rules"));
        free(big);
}

static void test_match_whole_components(void **state)
{
        struct rk_policy *p = parse_ok("{\"default\": {\"type\": \"signed\"}, \"prefixes\": {"
                                       "\"example.com/app\": {\"type\": \"reject\"},"
                                       "\"example.com\": {\"type\": \"insecureAcceptAnything\"},"
                                       "\"example.com/app/ok\": {\"type\": \"signed\"}}}");
        assert_string_equal(rk_policy_match(p, "example.com/app")->prefix, "example.com/app");
        assert_string_equal(rk_policy_match(p, "example.com/app/x")->prefix, "example.com/app");
        assert_string_equal(rk_policy_match(p, "example.com/application")->prefix, "example.com");
        assert_string_equal(rk_policy_match(p, "example.com/app/ok/y")->prefix,
                            "example.com/app/ok");
        assert_null(rk_policy_match(p, "example.co")->prefix);
        assert_null(rk_policy_match(p, "example.com.evil.org/app")->prefix);
        rk_policy_free(p);
}

struct decide_case {
        const char *type; /* rule for example.com */
        bool allow;
        const char *signer; /* NULL = unverified */
        bool insecure;
        int want;
        enum rk_policy_verdict verdict;
};

static const struct decide_case decide_cases[] = {
    {"{\"type\": \"signed\"}", true, RSA, false, 0, RK_POLICY_VERIFIED},
    {"{\"type\": \"signed\"}", true, NULL, false, -EKEYREJECTED, RK_POLICY_REJECTED},
    {"{\"type\": \"signed\"}", true, NULL, true, 0, RK_POLICY_INSECURE},
    {"{\"type\": \"signed\"}", false, NULL, true, -EPERM, RK_POLICY_REJECTED},
    {"{\"type\": \"signed\"}", false, RSA, true, 0, RK_POLICY_VERIFIED},
    {"{\"type\": \"signedBy\", \"keys\": [\"" ED "\"]}", true, ED, false, 0, RK_POLICY_VERIFIED},
    {"{\"type\": \"signedBy\", \"keys\": [\"" ED "\"]}", true, RSA, false, -EKEYREJECTED,
     RK_POLICY_REJECTED},
    {"{\"type\": \"signedBy\", \"keys\": [\"" ED "\"]}", true, NULL, false, -EKEYREJECTED,
     RK_POLICY_REJECTED},
    {"{\"type\": \"signedBy\", \"keys\": [\"" ED "\"]}", true, RSA, true, 0, RK_POLICY_INSECURE},
    {"{\"type\": \"signedBy\", \"keys\": [\"" ED "\"]}", false, RSA, true, -EPERM,
     RK_POLICY_REJECTED},
    {"{\"type\": \"reject\"}", true, RSA, false, -EPERM, RK_POLICY_REJECTED},
    {"{\"type\": \"reject\"}", true, NULL, true, -EPERM, RK_POLICY_REJECTED},
    {"{\"type\": \"insecureAcceptAnything\"}", false, NULL, false, 0, RK_POLICY_ACCEPT_ANYTHING},
    {"{\"type\": \"insecureAcceptAnything\"}", false, RSA, false, 0, RK_POLICY_VERIFIED},
};

static void test_decide(void **state)
{
        for (size_t i = 0; i < ELEMENTSOF(decide_cases); i++) {
                const struct decide_case *c = &decide_cases[i];
                char json[512];
                snprintf(json, sizeof(json),
                         "{\"allowInsecure\": %s, \"default\": {\"type\": \"reject\"}, "
                         "\"prefixes\": {\"example.com\": %s}}",
                         c->allow ? "true" : "false", c->type);
                struct rk_policy *p = parse_ok(json);
                struct rk_verify_result vr = {.prefix = (char *)"example.com"};
                if (c->signer)
                        strcpy(vr.signer, c->signer);
                struct rk_policy_decision d;
                rk_error e = RK_ERROR_INIT;
                int r = rk_policy_decide(p, "example.com/app", c->signer ? &vr : NULL, c->insecure,
                                         &d, &e);
                if (r != c->want || d.verdict != c->verdict)
                        fail_msg("case %zu: got %d/%s (%s), want %d/%s", i, r,
                                 rk_policy_verdict_to_string(d.verdict), e.msg, c->want,
                                 rk_policy_verdict_to_string(c->verdict));
                assert_string_equal(d.rule, "example.com");
                if (r < 0)
                        assert_non_null(strstr(e.msg, "example.com"));
                rk_policy_free(p);
        }
}

static void test_decide_binds_the_name(void **state)
{
        struct rk_policy *p = parse_ok("{\"default\": {\"type\": \"signed\"}}");
        struct rk_verify_result vr = {.signer = RSA, .prefix = (char *)"example.com/app"};
        struct rk_policy_decision d;
        assert_int_equal(rk_policy_decide(p, "example.com/app/x", &vr, false, &d, NULL), 0);
        assert_string_equal(d.rule, "default");
        /* Verified for another prefix: refused even though the rule is plain "signed". */
        assert_int_equal(rk_policy_decide(p, "example.com/application", &vr, false, &d, NULL),
                         -EKEYREJECTED);
        vr.prefix = NULL;
        assert_int_equal(rk_policy_decide(p, "example.com/app", &vr, false, &d, NULL),
                         -EKEYREJECTED);
        vr.prefix = (char *)"";
        assert_int_equal(rk_policy_decide(p, "anything.org/x", &vr, false, &d, NULL), 0);
        assert_int_equal(rk_policy_decide(p, "../etc", &vr, false, &d, NULL), -EINVAL);
        rk_policy_free(p);
}

/* ---- loading ---- */

struct fx {
        char dir[64], local[96], sys[96];
        struct rk_trust_config c;
};

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof(*f));
        strcpy(f->dir, "/tmp/rk-test-policy-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->local, sizeof(f->local), "%s/local", f->dir);
        snprintf(f->sys, sizeof(f->sys), "%s/sys", f->dir);
        assert_int_equal(mkdir(f->local, 0755), 0);
        assert_int_equal(mkdir(f->sys, 0755), 0);
        f->c = (struct rk_trust_config){.local_config = f->local, .system_config = f->sys};
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        (void)rk_rm_rf_at(AT_FDCWD, f->dir, NULL);
        free(f);
        return 0;
}

static void put(const char *dir, const char *json)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_int_equal(rk_write_file_atomic_at(fd, "policy.json", json, strlen(json), 0644, NULL),
                         0);
        close(fd);
}

static void test_load_precedence(void **state)
{
        struct fx *f = *state;
        struct rk_policy *p = NULL;
        char path[128];
        assert_int_equal(rk_policy_load(&f->c, &p, NULL), 0);
        assert_string_equal(p->source, "built-in");
        p = rk_policy_free(p);

        put(f->sys, "{\"allowInsecure\": true, \"default\": {\"type\": \"signed\"}, "
                    "\"prefixes\": {\"a.com\": {\"type\": \"insecureAcceptAnything\"}}}");
        assert_int_equal(rk_policy_load(&f->c, &p, NULL), 0);
        snprintf(path, sizeof(path), "%s/policy.json", f->sys);
        assert_string_equal(p->source, path);
        assert_int_equal(p->n_rules, 1);
        p = rk_policy_free(p);

        /* The local file replaces the vendor's entirely: the vendor's rule is gone. */
        put(f->local, "{\"default\": {\"type\": \"signed\"}}");
        assert_int_equal(rk_policy_load(&f->c, &p, NULL), 0);
        snprintf(path, sizeof(path), "%s/policy.json", f->local);
        assert_string_equal(p->source, path);
        assert_int_equal(p->n_rules, 0);
        assert_false(p->allow_insecure);
        p = rk_policy_free(p);

        /* An invalid local file is an error, not a fall-back to the vendor's. */
        put(f->local, "{\"default\": {\"type\": \"signed\"}, \"allowinsecure\": true}");
        rk_error e = RK_ERROR_INIT;
        assert_int_equal(rk_policy_load(&f->c, &p, &e), -EBADMSG);
        assert_null(p);
        assert_non_null(strstr(e.msg, path));
        assert_non_null(strstr(e.msg, "allowinsecure"));
}

static void test_load_file_kinds(void **state)
{
        struct fx *f = *state;
        struct rk_policy *p = NULL;
        char path[128], target[128];
        snprintf(path, sizeof(path), "%s/policy.json", f->local);
        assert_int_equal(mkdir(path, 0755), 0);
        assert_int_equal(rk_policy_load(&f->c, &p, NULL), -EBADMSG);
        assert_int_equal(rmdir(path), 0);
        /* A symlink (config management) is followed. */
        put(f->dir, "{\"default\": {\"type\": \"reject\"}}");
        snprintf(target, sizeof(target), "%s/policy.json", f->dir);
        assert_int_equal(symlink(target, path), 0);
        assert_int_equal(rk_policy_load(&f->c, &p, NULL), 0);
        assert_int_equal(p->def.type, RK_POLICY_REJECT);
        rk_policy_free(p);
}

int main(void)
{
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_vendor_file_is_the_builtin),
            cmocka_unit_test(test_parse_full),
            cmocka_unit_test(test_parse_refusals),
            cmocka_unit_test(test_parse_caps),
            cmocka_unit_test(test_match_whole_components),
            cmocka_unit_test(test_decide),
            cmocka_unit_test(test_decide_binds_the_name),
            T(test_load_precedence),
            T(test_load_file_kinds),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
