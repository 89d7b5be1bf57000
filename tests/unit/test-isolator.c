/* SPDX-License-Identifier: Apache-2.0 */
/* Isolators (appc.md section 4): every kind's value rules, unknown names kept, a known name
 * without a value refused, scope, multiplicity and conflicts, capability names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "aci/isolator.h"
#include "base/json.h"

static json_t *js(const char *text)
{
        json_error_t jerr;
        json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
        if (!v) {
                print_error("bad test JSON: %s: %s\n", text, jerr.text);
                fail();
        }
        return v;
}

/* Parse one isolator; on success the caller clears it. */
static int one(const char *text, struct rk_isolator *iso, rk_error *err)
{
        _cleanup_json_ json_t *v = js(text);
        return rk_isolator_parse(v, "app.isolators[0]", iso, err);
}

static int list(const char *text, enum rk_isolator_scope scope, struct rk_isolators *l,
                rk_error *err)
{
        _cleanup_json_ json_t *v = js(text);
        return rk_isolators_parse(
            v, scope, scope == RK_ISOLATOR_SCOPE_APP ? "app.isolators" : "isolators", l, err);
}

static void check_one_fails_(const char *text, const char *sub, const char *file, int line)
{
        rk_error err = RK_ERROR_INIT;
        struct rk_isolator iso = {.kind = _RK_ISOLATOR_MAX};
        int r = one(text, &iso, &err);
        if (r != -EBADMSG || err.code != -EBADMSG || !strstr(err.msg, sub) ||
            iso.kind != _RK_ISOLATOR_MAX) {
                print_error("%s:%d: %s: got %d \"%s\", want -EBADMSG with \"%s\"\n", file, line,
                            text, r, err.msg, sub);
                if (r == 0)
                        rk_isolator_clear(&iso);
                _fail(file, line);
        }
}
#define assert_one_fails(text, sub) check_one_fails_((text), (sub), __FILE__, __LINE__)

static void check_list_fails_(const char *text, enum rk_isolator_scope scope, const char *sub,
                              const char *file, int line)
{
        rk_error err = RK_ERROR_INIT;
        struct rk_isolators l = {.n = 12345};
        int r = list(text, scope, &l, &err);
        if (r != -EBADMSG || err.code != -EBADMSG || !strstr(err.msg, sub) || l.n != 12345) {
                print_error("%s:%d: %s: got %d \"%s\", want -EBADMSG with \"%s\"\n", file, line,
                            text, r, err.msg, sub);
                if (r == 0)
                        rk_isolators_clear(&l);
                _fail(file, line);
        }
}
#define assert_list_fails(text, scope, sub)                                                        \
        check_list_fails_((text), (scope), (sub), __FILE__, __LINE__)

static void parse_ok(const char *text, struct rk_isolator *iso)
{
        rk_error err = RK_ERROR_INIT;
        if (one(text, iso, &err) != 0) {
                print_error("%s: refused: %s\n", text, err.msg);
                fail();
        }
}

static void test_kind_names(void **state)
{
        assert_string_equal(rk_isolator_kind_name(RK_ISOLATOR_CAPS_RETAIN),
                            "os/linux/capabilities-retain-set");
        assert_string_equal(rk_isolator_kind_name(RK_ISOLATOR_SYSCTL), "os/unix/sysctl");
        assert_string_equal(rk_isolator_kind_name(RK_ISOLATOR_UNKNOWN), "unknown");
        assert_string_equal(rk_isolator_kind_name(_RK_ISOLATOR_MAX), "unknown");
        for (int k = 1; k < _RK_ISOLATOR_MAX; k++)
                assert_int_equal(rk_isolator_kind_from_name(rk_isolator_kind_name(k)), k);
        assert_int_equal(rk_isolator_kind_from_name("example.com/x"), RK_ISOLATOR_UNKNOWN);
        assert_int_equal(rk_isolator_kind_from_name(NULL), RK_ISOLATOR_UNKNOWN);
}

static void test_capabilities(void **state)
{
        struct rk_isolator iso;
        rk_error err = RK_ERROR_INIT;

        parse_ok("{\"name\":\"os/linux/capabilities-retain-set\",\"value\":{\"set\":"
                 "[\"CAP_NET_BIND_SERVICE\",\"CAP_CHECKPOINT_RESTORE\",\"CAP_CHOWN\"]}}",
                 &iso);
        assert_int_equal(iso.kind, RK_ISOLATOR_CAPS_RETAIN);
        assert_int_equal(iso.u.caps.n, 3);
        assert_string_equal(iso.u.caps.set[1], "CAP_CHECKPOINT_RESTORE");
        rk_isolator_clear(&iso);
        assert_int_equal(iso.kind, RK_ISOLATOR_UNKNOWN);
        rk_isolator_clear(NULL);

        parse_ok(
            "{\"name\":\"os/linux/capabilities-remove-set\",\"value\":{\"set\":[\"CAP_MKNOD\"]}}",
            &iso);
        assert_int_equal(iso.kind, RK_ISOLATOR_CAPS_REMOVE);
        rk_isolator_clear(&iso);

        assert_one_fails(
            "{\"name\":\"os/linux/capabilities-retain-set\",\"value\":{\"set\":[\"CAP_BOGUS\"]}}",
            "app.isolators[0].value.set[0]: 'CAP_BOGUS' is not a known capability");
        assert_one_fails(
            "{\"name\":\"os/linux/capabilities-retain-set\",\"value\":{\"set\":[\"cap_chown\"]}}",
            "'cap_chown' is not a known capability");
        assert_one_fails(
            "{\"name\":\"os/linux/capabilities-retain-set\",\"value\":{\"set\":[\"CHOWN\"]}}",
            "'CHOWN' is not a known capability");
        assert_one_fails("{\"name\":\"os/linux/capabilities-retain-set\",\"value\":{\"set\":[]}}",
                         "app.isolators[0].value.set must not be empty");
        assert_one_fails("{\"name\":\"os/linux/capabilities-remove-set\",\"value\":{}}",
                         "app.isolators[0].value.set is required");
        assert_one_fails(
            "{\"name\":\"os/linux/capabilities-remove-set\",\"value\":{\"set\":\"CAP_CHOWN\"}}",
            "value.set must be an array, not a string");
        assert_one_fails("{\"name\":\"os/linux/capabilities-remove-set\",\"value\":{\"set\":[1]}}",
                         "value.set[0] must be a string, not an integer");
        assert_one_fails(
            "{\"name\":\"os/linux/"
            "capabilities-remove-set\",\"value\":{\"set\":[\"CAP_KILL\",\"CAP_KILL\"]}}",
            "'CAP_KILL' is listed twice");
        assert_one_fails("{\"name\":\"os/linux/capabilities-remove-set\",\"value\":[\"CAP_KILL\"]}",
                         "app.isolators[0].value must be an object, not an array");

        assert_int_equal(rk_capability_number("CAP_CHOWN"), 0);
        assert_int_equal(rk_capability_number("CAP_SYS_ADMIN"), 21);
        assert_int_equal(rk_capability_number("CAP_CHECKPOINT_RESTORE"), RK_CAP_LAST);
        assert_int_equal(rk_capability_number("CAP_FOO"), -EINVAL);
        assert_int_equal(rk_capability_number(NULL), -EINVAL);
        assert_int_equal(rk_capability_validate("CAP_BPF", NULL, &err), 0);
        assert_int_equal(rk_capability_validate("bpf", "x", &err), -EINVAL);
        assert_non_null(strstr(err.msg, "x: 'bpf' is not a known capability"));
}

static void test_capabilities_conflict(void **state)
{
        assert_list_fails(
            "[{\"name\":\"os/linux/capabilities-retain-set\",\"value\":{\"set\":[\"CAP_CHOWN\"]}},"
            " {\"name\":\"os/linux/capabilities-remove-set\",\"value\":{\"set\":[\"CAP_KILL\"]}}]",
            RK_ISOLATOR_SCOPE_APP,
            "app.isolators[1]: os/linux/capabilities-remove-set cannot be combined "
            "with os/linux/capabilities-retain-set at app.isolators[0]");
        assert_list_fails(
            "[{\"name\":\"os/linux/capabilities-retain-set\",\"value\":{\"set\":[\"CAP_CHOWN\"]}},"
            " {\"name\":\"os/linux/capabilities-retain-set\",\"value\":{\"set\":[\"CAP_KILL\"]}}]",
            RK_ISOLATOR_SCOPE_APP,
            "app.isolators[1]: only one os/linux/capabilities-retain-set is allowed");
        /* capabilities are app isolators */
        assert_list_fails(
            "[{\"name\":\"os/linux/capabilities-retain-set\",\"value\":{\"set\":[\"CAP_CHOWN\"]}}]",
            RK_ISOLATOR_SCOPE_POD,
            "isolators[0]: os/linux/capabilities-retain-set is an app isolator, "
            "not allowed at pod level");
}

static void test_no_new_privs(void **state)
{
        struct rk_isolator iso;
        parse_ok("{\"name\":\"os/linux/no-new-privileges\",\"value\":true}", &iso);
        assert_true(iso.u.no_new_privs);
        rk_isolator_clear(&iso);
        parse_ok("{\"name\":\"os/linux/no-new-privileges\",\"value\":false}", &iso);
        assert_false(iso.u.no_new_privs);
        rk_isolator_clear(&iso);
        assert_one_fails("{\"name\":\"os/linux/no-new-privileges\",\"value\":\"true\"}",
                         "app.isolators[0].value must be true or false, not a string");
        assert_list_fails("[{\"name\":\"os/linux/no-new-privileges\",\"value\":true},"
                          "{\"name\":\"os/linux/no-new-privileges\",\"value\":false}]",
                          RK_ISOLATOR_SCOPE_APP, "only one os/linux/no-new-privileges");
}

static void test_missing_value(void **state)
{
        /* appc's actool crashed on this */
        assert_one_fails("{\"name\":\"os/linux/no-new-privileges\"}",
                         "app.isolators[0].value is required (isolator "
                         "'os/linux/no-new-privileges')");
        assert_one_fails("{\"name\":\"resource/memory\"}", "value is required");
        assert_one_fails("{\"name\":\"example.com/custom\"}", "value is required");
        assert_one_fails("{\"value\":true}", "app.isolators[0].name is required");
        assert_one_fails("{\"name\":\"Bad Name\",\"value\":1}",
                         "app.isolators[0].name: 'Bad Name' is not a valid AC identifier");
        assert_one_fails("{\"name\":7,\"value\":1}", "name must be a string, not an integer");
        assert_one_fails("[]", "app.isolators[0] must be an object, not an array");
}

static void test_unknown(void **state)
{
        struct rk_isolator iso;
        rk_error err = RK_ERROR_INIT;
        struct rk_isolators l;

        parse_ok("{\"name\":\"example.com/gpu\",\"value\":{\"count\":2,\"model\":[\"x\",1.5]}}",
                 &iso);
        assert_int_equal(iso.kind, RK_ISOLATOR_UNKNOWN);
        assert_string_equal(iso.name, "example.com/gpu");
        assert_int_equal(json_integer_value(json_object_get(iso.raw, "count")), 2);
        rk_isolator_clear(&iso);
        parse_ok("{\"name\":\"example.com/null\",\"value\":null}", &iso);
        assert_true(json_is_null(iso.raw));
        rk_isolator_clear(&iso);

        /* kept, in either scope, even twice */
        assert_int_equal(list("[{\"name\":\"example.com/gpu\",\"value\":1},"
                              "{\"name\":\"example.com/gpu\",\"value\":2}]",
                              RK_ISOLATOR_SCOPE_POD, &l, &err),
                         0);
        assert_int_equal(l.n, 2);
        rk_isolators_clear(&l);
        assert_int_equal(l.n, 0);
        rk_isolators_clear(NULL);
}

static void test_seccomp(void **state)
{
        struct rk_isolator iso;

        parse_ok(
            "{\"name\":\"os/linux/seccomp-remove-set\",\"value\":{\"set\":"
            "[\"clock_adjtime\",\"@rkt/default-blacklist\",\"_sysctl\"],\"errno\":\"ENOTSUP\"}}",
            &iso);
        assert_int_equal(iso.kind, RK_ISOLATOR_SECCOMP_REMOVE);
        assert_int_equal(iso.u.seccomp.n, 3);
        assert_string_equal(iso.u.seccomp.errno_name, "ENOTSUP");
        rk_isolator_clear(&iso);
        parse_ok("{\"name\":\"os/linux/seccomp-retain-set\",\"value\":{\"set\":[\"@appc.io/"
                 "all\"],\"errno\":\"\"}}",
                 &iso);
        assert_null(iso.u.seccomp.errno_name); /* empty errno: kill */
        rk_isolator_clear(&iso);
        parse_ok(
            "{\"name\":\"os/linux/seccomp-remove-set\",\"value\":{\"set\":[\"@appc.io/empty\"]}}",
            &iso);
        assert_null(iso.u.seccomp.errno_name);
        rk_isolator_clear(&iso);
        /* the spec example's EACCESS is not a real errno, but passes the syntax */
        parse_ok("{\"name\":\"os/linux/"
                 "seccomp-remove-set\",\"value\":{\"set\":[\"reboot\"],\"errno\":\"EACCESS\"}}",
                 &iso);
        rk_isolator_clear(&iso);

        assert_one_fails(
            "{\"name\":\"os/linux/"
            "seccomp-remove-set\",\"value\":{\"set\":[\"reboot\"],\"errno\":\"eperm\"}}",
            "app.isolators[0].value.errno: 'eperm' is not a valid errno name");
        assert_one_fails("{\"name\":\"os/linux/"
                         "seccomp-remove-set\",\"value\":{\"set\":[\"reboot\"],\"errno\":\"E\"}}",
                         "not a valid errno name");
        assert_one_fails(
            "{\"name\":\"os/linux/"
            "seccomp-remove-set\",\"value\":{\"set\":[\"reboot\"],\"errno\":\"E_PERM\"}}",
            "not a valid errno name");
        assert_one_fails("{\"name\":\"os/linux/"
                         "seccomp-remove-set\",\"value\":{\"set\":[\"reboot\"],\"errno\":1}}",
                         "value.errno must be a string, not an integer");
        assert_one_fails("{\"name\":\"os/linux/seccomp-remove-set\",\"value\":{\"set\":[]}}",
                         "value.set must not be empty");
        assert_one_fails(
            "{\"name\":\"os/linux/seccomp-remove-set\",\"value\":{\"set\":[\"Reboot\"]}}",
            "value.set[0]: 'Reboot' is not a valid syscall name");
        assert_one_fails("{\"name\":\"os/linux/seccomp-remove-set\",\"value\":{\"set\":[\"\"]}}",
                         "is not a valid syscall name");
        assert_one_fails(
            "{\"name\":\"os/linux/seccomp-remove-set\",\"value\":{\"set\":[\"@appc.io/all\"]}}",
            "'@appc.io/all' is not a valid wildcard for os/linux/seccomp-remove-set");
        assert_one_fails(
            "{\"name\":\"os/linux/seccomp-retain-set\",\"value\":{\"set\":[\"@appc.io/empty\"]}}",
            "is not a valid wildcard");
        assert_one_fails(
            "{\"name\":\"os/linux/seccomp-retain-set\",\"value\":{\"set\":[\"@Bad//x\"]}}",
            "'@Bad//x' is not a valid syscall group");
        assert_one_fails(
            "{\"name\":\"os/linux/seccomp-retain-set\",\"value\":{\"set\":[\"read\",\"read\"]}}",
            "'read' is listed twice");

        assert_list_fails(
            "[{\"name\":\"os/linux/seccomp-remove-set\",\"value\":{\"set\":[\"reboot\"]}},"
            "{\"name\":\"os/linux/seccomp-retain-set\",\"value\":{\"set\":[\"read\"]}}]",
            RK_ISOLATOR_SCOPE_APP,
            "app.isolators[1]: os/linux/seccomp-retain-set cannot be combined with "
            "os/linux/seccomp-remove-set at app.isolators[0]");
        assert_list_fails(
            "[{\"name\":\"os/linux/seccomp-remove-set\",\"value\":{\"set\":[\"reboot\"]}},"
            "{\"name\":\"os/linux/seccomp-remove-set\",\"value\":{\"set\":[\"read\"]}}]",
            RK_ISOLATOR_SCOPE_APP, "only one os/linux/seccomp-remove-set");
        assert_list_fails(
            "[{\"name\":\"os/linux/seccomp-remove-set\",\"value\":{\"set\":[\"reboot\"]}}]",
            RK_ISOLATOR_SCOPE_POD, "is an app isolator, not allowed at pod level");
}

static void test_selinux(void **state)
{
        struct rk_isolator iso;
        parse_ok("{\"name\":\"os/linux/selinux-context\",\"value\":{\"user\":\"system_u\","
                 "\"role\":\"system_r\",\"type\":\"container_t\",\"level\":\"s0:c1,c2\"}}",
                 &iso);
        assert_string_equal(iso.u.selinux.user, "system_u");
        assert_string_equal(iso.u.selinux.role, "system_r");
        assert_string_equal(iso.u.selinux.type, "container_t");
        assert_string_equal(iso.u.selinux.level, "s0:c1,c2");
        rk_isolator_clear(&iso);

        assert_one_fails("{\"name\":\"os/linux/selinux-context\",\"value\":{\"user\":\"a:b\","
                         "\"role\":\"r\",\"type\":\"t\",\"level\":\"s0\"}}",
                         "app.isolators[0].value.user: 'a:b' must not contain ':'");
        assert_one_fails("{\"name\":\"os/linux/selinux-context\",\"value\":{\"user\":\"u\","
                         "\"role\":\"r:x\",\"type\":\"t\",\"level\":\"s0\"}}",
                         "value.role: 'r:x' must not contain ':'");
        assert_one_fails("{\"name\":\"os/linux/selinux-context\",\"value\":{\"user\":\"u\","
                         "\"role\":\"r\",\"type\":\"t:x\",\"level\":\"s0\"}}",
                         "value.type: 't:x' must not contain ':'");
        assert_one_fails("{\"name\":\"os/linux/selinux-context\",\"value\":{\"user\":\"u\","
                         "\"role\":\"r\",\"type\":\"\",\"level\":\"s0\"}}",
                         "value.type must not be empty");
        assert_one_fails("{\"name\":\"os/linux/selinux-context\",\"value\":{\"user\":\"u\","
                         "\"role\":\"r\",\"type\":\"t\"}}",
                         "app.isolators[0].value.level is required");
        assert_one_fails("{\"name\":\"os/linux/selinux-context\",\"value\":{\"user\":\"u\","
                         "\"role\":\"r\",\"type\":\"t\",\"level\":\"s0\\nx\"}}",
                         "must not contain whitespace or control characters");
        const char *two = "[{\"name\":\"os/linux/selinux-context\",\"value\":{\"user\":\"u\","
                          "\"role\":\"r\",\"type\":\"t\",\"level\":\"s0\"}},"
                          "{\"name\":\"os/linux/selinux-context\",\"value\":{\"user\":\"u\","
                          "\"role\":\"r\",\"type\":\"t\",\"level\":\"s0\"}}]";
        assert_list_fails(two, RK_ISOLATOR_SCOPE_POD,
                          "isolators[1]: only one os/linux/selinux-context is allowed");
        assert_list_fails(two, RK_ISOLATOR_SCOPE_APP, "only one os/linux/selinux-context");
}

static void test_apparmor(void **state)
{
        struct rk_isolator iso;
        parse_ok(
            "{\"name\":\"os/linux/apparmor-profile\",\"value\":{\"profile\":\"docker-default\"}}",
            &iso);
        assert_string_equal(iso.u.apparmor_profile, "docker-default");
        rk_isolator_clear(&iso);
        assert_one_fails("{\"name\":\"os/linux/apparmor-profile\",\"value\":{\"profile\":\"\"}}",
                         "app.isolators[0].value.profile must not be empty");
        assert_one_fails("{\"name\":\"os/linux/apparmor-profile\",\"value\":{}}",
                         "value.profile is required");
        assert_list_fails("[{\"name\":\"os/linux/apparmor-profile\",\"value\":{\"profile\":\"a\"}},"
                          "{\"name\":\"os/linux/apparmor-profile\",\"value\":{\"profile\":\"b\"}}]",
                          RK_ISOLATOR_SCOPE_APP, "only one os/linux/apparmor-profile");
}

static void test_oom_cpu_shares(void **state)
{
        struct rk_isolator iso;
        parse_ok("{\"name\":\"os/linux/oom-score-adj\",\"value\":-1000}", &iso);
        assert_int_equal(iso.u.oom_score_adj, -1000);
        rk_isolator_clear(&iso);
        parse_ok("{\"name\":\"os/linux/oom-score-adj\",\"value\":1000}", &iso);
        rk_isolator_clear(&iso);
        assert_one_fails("{\"name\":\"os/linux/oom-score-adj\",\"value\":1001}",
                         "app.isolators[0].value: 1001 is out of range -1000..1000");
        assert_one_fails("{\"name\":\"os/linux/oom-score-adj\",\"value\":-1001}", "out of range");
        assert_one_fails("{\"name\":\"os/linux/oom-score-adj\",\"value\":\"5\"}",
                         "value must be an integer, not a string");
        assert_one_fails("{\"name\":\"os/linux/oom-score-adj\",\"value\":5.0}",
                         "must be an integer, not a real number");
        assert_list_fails("[{\"name\":\"os/linux/oom-score-adj\",\"value\":1},"
                          "{\"name\":\"os/linux/oom-score-adj\",\"value\":2}]",
                          RK_ISOLATOR_SCOPE_APP, "only one os/linux/oom-score-adj");

        parse_ok("{\"name\":\"os/linux/cpu-shares\",\"value\":2}", &iso);
        assert_int_equal(iso.u.cpu_shares, 2);
        rk_isolator_clear(&iso);
        parse_ok("{\"name\":\"os/linux/cpu-shares\",\"value\":262144}", &iso);
        rk_isolator_clear(&iso);
        assert_one_fails("{\"name\":\"os/linux/cpu-shares\",\"value\":1}",
                         "1 is out of range 2..262144");
        assert_one_fails("{\"name\":\"os/linux/cpu-shares\",\"value\":262145}",
                         "262145 is out of range 2..262144");
        assert_list_fails("[{\"name\":\"os/linux/cpu-shares\",\"value\":1024},"
                          "{\"name\":\"os/linux/cpu-shares\",\"value\":512}]",
                          RK_ISOLATOR_SCOPE_APP, "only one os/linux/cpu-shares");
        assert_list_fails("[{\"name\":\"os/linux/cpu-shares\",\"value\":1024}]",
                          RK_ISOLATOR_SCOPE_POD, "is an app isolator");
}

static void test_resources(void **state)
{
        struct rk_isolator iso;

        parse_ok("{\"name\":\"resource/cpu\",\"value\":{\"request\":\"250m\",\"limit\":\"500m\"}}",
                 &iso);
        assert_true(iso.u.resource.has_request && iso.u.resource.has_limit);
        assert_int_equal(iso.u.resource.request_milli, 250);
        assert_int_equal(iso.u.resource.limit_milli, 500);
        assert_false(iso.u.resource.is_default);
        rk_isolator_clear(&iso);
        parse_ok("{\"name\":\"resource/memory\",\"value\":{\"limit\":\"123Mi\",\"default\":false}}",
                 &iso);
        assert_false(iso.u.resource.has_request);
        assert_int_equal(iso.u.resource.limit_milli, 128974848000LL);
        rk_isolator_clear(&iso);
        parse_ok("{\"name\":\"resource/memory\",\"value\":{\"limit\":1024}}", &iso);
        assert_int_equal(iso.u.resource.limit_milli, 1024000);
        rk_isolator_clear(&iso);
        parse_ok("{\"name\":\"resource/cpu\",\"value\":{\"request\":0.5}}", &iso);
        assert_int_equal(iso.u.resource.request_milli, 500);
        assert_false(iso.u.resource.has_limit);
        rk_isolator_clear(&iso);
        parse_ok("{\"name\":\"resource/"
                 "block-bandwidth\",\"value\":{\"default\":true,\"limit\":\"10M\"}}",
                 &iso);
        assert_true(iso.u.resource.is_default);
        assert_int_equal(iso.u.resource.limit_milli, 10000000000LL);
        rk_isolator_clear(&iso);
        parse_ok("{\"name\":\"resource/block-iops\",\"value\":{\"default\":true,\"limit\":1000}}",
                 &iso);
        rk_isolator_clear(&iso);
        parse_ok("{\"name\":\"resource/"
                 "network-bandwidth\",\"value\":{\"default\":true,\"limit\":\"1Gi\"}}",
                 &iso);
        rk_isolator_clear(&iso);

        assert_one_fails("{\"name\":\"resource/memory\",\"value\":{\"limit\":\"-1\"}}",
                         "app.isolators[0].value.limit: quantity '-1' is negative");
        assert_one_fails("{\"name\":\"resource/memory\",\"value\":{\"limit\":-1}}", "negative");
        assert_one_fails("{\"name\":\"resource/memory\",\"value\":{\"limit\":-0.5}}", "negative");
        assert_one_fails("{\"name\":\"resource/memory\",\"value\":{\"limit\":\"12x\"}}",
                         "value.limit: '12x' is not a valid quantity");
        assert_one_fails("{\"name\":\"resource/memory\",\"value\":{\"limit\":\"9Ei\"}}",
                         "value.limit: quantity '9Ei' is too large");
        assert_one_fails("{\"name\":\"resource/memory\",\"value\":{\"limit\":1e300}}", "too large");
        assert_one_fails("{\"name\":\"resource/memory\",\"value\":{\"limit\":true}}",
                         "value.limit must be a quantity string or a number, not a boolean");
        assert_one_fails("{\"name\":\"resource/memory\",\"value\":{\"limit\":\"0\"}}",
                         "value.limit must be greater than zero");
        assert_one_fails(
            "{\"name\":\"resource/memory\",\"value\":{\"request\":\"2G\",\"limit\":\"1G\"}}",
            "app.isolators[0].value: request is greater than limit");
        assert_one_fails("{\"name\":\"resource/memory\",\"value\":{}}",
                         "value: a request or a limit is required");
        assert_one_fails("{\"name\":\"resource/cpu\",\"value\":{\"default\":true,\"limit\":\"1\"}}",
                         "value.default must be false for resource/cpu");
        assert_one_fails("{\"name\":\"resource/cpu\",\"value\":\"1\"}",
                         "value must be an object, not a string");
        assert_one_fails("{\"name\":\"resource/"
                         "block-bandwidth\",\"value\":{\"default\":false,\"limit\":\"1M\"}}",
                         "value.default must be true for resource/block-bandwidth");
        assert_one_fails("{\"name\":\"resource/block-iops\",\"value\":{\"limit\":\"1M\"}}",
                         "app.isolators[0].value.default is required");
        assert_one_fails("{\"name\":\"resource/network-bandwidth\",\"value\":{\"default\":true,"
                         "\"request\":\"1M\",\"limit\":\"2M\"}}",
                         "value.request is not supported for resource/network-bandwidth");
        assert_one_fails("{\"name\":\"resource/block-bandwidth\",\"value\":{\"default\":true}}",
                         "value.limit is required");
        assert_list_fails("[{\"name\":\"resource/memory\",\"value\":{\"limit\":\"1G\"}},"
                          "{\"name\":\"resource/memory\",\"value\":{\"limit\":\"2G\"}}]",
                          RK_ISOLATOR_SCOPE_POD, "only one resource/memory");
}

static void test_sysctl(void **state)
{
        struct rk_isolators l;
        rk_error err = RK_ERROR_INIT;

        assert_int_equal(
            list("[{\"name\":\"os/unix/sysctl\",\"value\":{\"net.ipv4.tcp_mtu_probing\":\"1\","
                 "\"net/ipv4/conf/eth0/rp_filter\":\"2\"}}]",
                 RK_ISOLATOR_SCOPE_POD, &l, &err),
            0);
        assert_int_equal(l.n, 1);
        assert_int_equal(l.v[0].u.sysctl.n, 2);
        assert_string_equal(l.v[0].u.sysctl.keys[0], "net.ipv4.tcp_mtu_probing");
        assert_string_equal(l.v[0].u.sysctl.values[0], "1");
        rk_isolators_clear(&l);

        assert_list_fails(
            "[{\"name\":\"os/unix/sysctl\",\"value\":{\"net.ipv4.tcp_mtu_probing\":1}}]",
            RK_ISOLATOR_SCOPE_POD,
            "isolators[0].value['net.ipv4.tcp_mtu_probing'] must be a string, not "
            "an integer");
        assert_list_fails("[{\"name\":\"os/unix/sysctl\",\"value\":{\"a\":\"1\"}},"
                          "{\"name\":\"os/unix/sysctl\",\"value\":{\"b\":\"1\"}}]",
                          RK_ISOLATOR_SCOPE_POD,
                          "isolators[1]: only one os/unix/sysctl is allowed (another at "
                          "isolators[0])");
        assert_list_fails(
            "[{\"name\":\"os/unix/sysctl\",\"value\":{\"a\":\"1\"}}]", RK_ISOLATOR_SCOPE_APP,
            "app.isolators[0]: os/unix/sysctl is a pod isolator, not allowed in an app");
        /* keys become /proc/sys paths: nothing may climb out */
        assert_list_fails("[{\"name\":\"os/unix/sysctl\",\"value\":{\"../../etc/shadow\":\"1\"}}]",
                          RK_ISOLATOR_SCOPE_POD, "'../../etc/shadow' is not a valid sysctl key");
        assert_list_fails("[{\"name\":\"os/unix/sysctl\",\"value\":{\"net..ipv4\":\"1\"}}]",
                          RK_ISOLATOR_SCOPE_POD, "is not a valid sysctl key");
        assert_list_fails("[{\"name\":\"os/unix/sysctl\",\"value\":{\"/net\":\"1\"}}]",
                          RK_ISOLATOR_SCOPE_POD, "is not a valid sysctl key");
        assert_list_fails("[{\"name\":\"os/unix/sysctl\",\"value\":{\"net.\":\"1\"}}]",
                          RK_ISOLATOR_SCOPE_POD, "is not a valid sysctl key");
        assert_list_fails("[{\"name\":\"os/unix/sysctl\",\"value\":{\"\":\"1\"}}]",
                          RK_ISOLATOR_SCOPE_POD, "is not a valid sysctl key");
        assert_list_fails("[{\"name\":\"os/unix/sysctl\",\"value\":{\"a\":\"1\\n2\"}}]",
                          RK_ISOLATOR_SCOPE_POD, "must not contain control characters");
        assert_list_fails("[{\"name\":\"os/unix/sysctl\",\"value\":{}}]", RK_ISOLATOR_SCOPE_POD,
                          "must set at least one sysctl");
        assert_list_fails("[{\"name\":\"os/unix/sysctl\",\"value\":[\"a\"]}]",
                          RK_ISOLATOR_SCOPE_POD, "value must be an object, not an array");
}

static void test_list_and_json(void **state)
{
        struct rk_isolators l;
        rk_error err = RK_ERROR_INIT;
        const char *text =
            "[{\"name\":\"resource/cpu\",\"value\":{\"request\":\"250m\",\"limit\":0.5}},"
            "{\"name\":\"example.com/custom\",\"value\":{\"z\":1,\"a\":[true,null]}},"
            "{\"name\":\"os/linux/no-new-privileges\",\"value\":true,\"ignored\":1}]";

        assert_int_equal(list(text, RK_ISOLATOR_SCOPE_APP, &l, &err), 0);
        assert_int_equal(l.n, 3);
        _cleanup_json_ json_t *out = rk_isolators_to_json(&l);
        assert_non_null(out);
        char *s = NULL;
        assert_int_equal(rk_json_dump(out, &s, NULL, &err), 0);
        /* raw values verbatim, member order kept, unknown keys dropped */
        assert_string_equal(
            s, "[{\"name\":\"resource/cpu\",\"value\":{\"request\":\"250m\",\"limit\":0.5}},"
               "{\"name\":\"example.com/custom\",\"value\":{\"z\":1,\"a\":[true,null]}},"
               "{\"name\":\"os/linux/no-new-privileges\",\"value\":true}]");
        free(s);
        rk_isolators_clear(&l);

        assert_int_equal(rk_isolators_parse(NULL, RK_ISOLATOR_SCOPE_APP, NULL, &l, &err), 0);
        assert_int_equal(l.n, 0);
        _cleanup_json_ json_t *empty = rk_isolators_to_json(&l);
        assert_int_equal(json_array_size(empty), 0);
        assert_list_fails("{}", RK_ISOLATOR_SCOPE_APP,
                          "app.isolators must be an array, not an object");
        assert_list_fails("[{\"name\":\"resource/cpu\",\"value\":{\"limit\":\"1\"}}, 5]",
                          RK_ISOLATOR_SCOPE_APP,
                          "app.isolators[1] must be an object, not an integer");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_kind_names),
            cmocka_unit_test(test_capabilities),
            cmocka_unit_test(test_capabilities_conflict),
            cmocka_unit_test(test_no_new_privs),
            cmocka_unit_test(test_missing_value),
            cmocka_unit_test(test_unknown),
            cmocka_unit_test(test_seccomp),
            cmocka_unit_test(test_selinux),
            cmocka_unit_test(test_apparmor),
            cmocka_unit_test(test_oom_cpu_shares),
            cmocka_unit_test(test_resources),
            cmocka_unit_test(test_sysctl),
            cmocka_unit_test(test_list_and_json),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
