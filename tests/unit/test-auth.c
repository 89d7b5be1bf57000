/* SPDX-License-Identifier: Apache-2.0 */
/* auth.d: the strict parser (every malformed file refused, named), the file checks (owner,
 * writable or readable by others), precedence (user over local over system, per domain), and
 * the header chosen for a URL's host only. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileio.h"
#include "fetch/discover.h"

static char root[64];

static void put(const char *config, const char *name, const char *json, mode_t mode)
{
        char dir[256], path[320];
        snprintf(dir, sizeof(dir), "%s/%s/auth.d", root, config);
        assert_int_equal(rk_mkdir_p(dir, 0755, NULL), 0);
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(json, f);
        fclose(f);
        assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
        (void)state;
        snprintf(root, sizeof(root), "/tmp/rkt-test-auth.XXXXXX");
        assert_non_null(mkdtemp(root));
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        assert_int_equal(rk_rm_rf_at(AT_FDCWD, root, NULL), 0);
        return 0;
}

static int load(struct rk_auth **a, rk_error *e)
{
        char s[128], l[128], u[128];
        snprintf(s, sizeof(s), "%s/s", root);
        snprintf(l, sizeof(l), "%s/l", root);
        snprintf(u, sizeof(u), "%s/u", root);
        return rk_auth_load(s, l, u, a, e);
}

#define BASIC(domains, user, pass)                                                                 \
        "{\"rktKind\":\"auth\",\"rktVersion\":\"v1\",\"domains\":" domains                         \
        ",\"type\":\"basic\",\"credentials\":{\"user\":\"" user "\",\"password\":\"" pass "\"}}"
#define OAUTH(domains, token)                                                                      \
        "{\"rktKind\":\"auth\",\"rktVersion\":\"v1\",\"domains\":" domains                         \
        ",\"type\":\"oauth\",\"credentials\":{\"token\":\"" token "\"}}"

static void test_none(void **state)
{
        (void)state;
        struct rk_auth *a = NULL;
        assert_int_equal(load(&a, NULL), 0);
        assert_int_equal(rk_auth_count(a), 0);
        assert_null(rk_auth_header(a, "https://example.test/x"));
        rk_auth_free(a);
}

static void test_basic_and_oauth_per_host(void **state)
{
        (void)state;
        put("l", "a.json", BASIC("[\"example.test\",\"b.test\"]", "user", "s3cret"), 0600);
        put("l", "b.json", OAUTH("[\"c.test\"]", "t0ken"), 0640);
        put("l", "README", "not json", 0644); /* not *.json: ignored */
        struct rk_auth *a = NULL;
        rk_error e = RK_ERROR_INIT;
        if (load(&a, &e) < 0)
                fail_msg("%s", e.msg);
        assert_int_equal(rk_auth_count(a), 3);
        assert_string_equal(rk_auth_header(a, "https://example.test/app?ac-discovery=1"),
                            "Basic dXNlcjpzM2NyZXQ=");
        assert_string_equal(rk_auth_header(a, "https://EXAMPLE.test:8443/x"),
                            "Basic dXNlcjpzM2NyZXQ=");
        assert_string_equal(rk_auth_header(a, "https://c.test"), "Bearer t0ken");
        /* other hosts, lookalikes and userinfo tricks get nothing */
        assert_null(rk_auth_header(a, "https://example.test.evil.test/x"));
        assert_null(rk_auth_header(a, "https://sub.example.test/x"));
        assert_null(rk_auth_header(a, "https://example.test@evil.test/x"));
        assert_null(rk_auth_header(a, "https://evil.test/example.test"));
        assert_null(rk_auth_header(a, "example.test"));
        rk_auth_free(a);
}

static void test_precedence(void **state)
{
        (void)state;
        put("s", "a.json", OAUTH("[\"example.test\",\"s.test\"]", "vendor"), 0600);
        put("l", "a.json", OAUTH("[\"example.test\"]", "admin"), 0600);
        put("u", "a.json", OAUTH("[\"s.test\"]", "user"), 0600);
        struct rk_auth *a = NULL;
        assert_int_equal(load(&a, NULL), 0);
        assert_string_equal(rk_auth_header(a, "https://example.test/"), "Bearer admin");
        assert_string_equal(rk_auth_header(a, "https://s.test/"), "Bearer user");
        rk_auth_free(a);
}

static void bad(const char *json, mode_t mode, const char *needle)
{
        put("l", "bad.json", json, mode);
        struct rk_auth *a = NULL;
        rk_error e = RK_ERROR_INIT;
        int r = load(&a, &e);
        if (r >= 0)
                fail_msg("accepted: %s", json);
        assert_null(a);
        if (!strstr(e.msg, needle))
                fail_msg("'%s': message '%s' lacks '%s'", json, e.msg, needle);
        if (!strstr(e.msg, "bad.json"))
                fail_msg("'%s': message '%s' does not name the file", json, e.msg);
}

static void test_refused(void **state)
{
        (void)state;
        bad(BASIC("[\"example.test\"]", "u", "p"), 0644, "readable by others");
        bad(BASIC("[\"example.test\"]", "u", "p"), 0620, "writable by group");
        bad(BASIC("[\"example.test\"]", "u", "p"), 0602, "writable by group or others");
        bad("{\"rktKind\":\"auth\",\"rktVersion\":\"v1\",\"domains\":[\"a.test\"],\"type\":"
            "\"basic\",\"credentials\":{\"user\":\"u\",\"password\":\"p\"},\"extra\":1}",
            0600, "unknown member 'extra'");
        bad("{\"rktKind\":\"auth\",\"rktVersion\":\"v1\",\"domains\":[\"a.test\"],\"type\":"
            "\"basic\",\"credentials\":{\"user\":\"u\",\"password\":\"p\",\"x\":\"\"}}",
            0600, "unknown member 'x'");
        bad("{\"rktKind\":\"auth\",\"rktVersion\":\"v2\",\"domains\":[\"a.test\"],\"type\":"
            "\"oauth\",\"credentials\":{\"token\":\"t\"}}",
            0600, "rktVersion");
        bad("{\"rktKind\":\"paths\",\"rktVersion\":\"v1\"}", 0600, "rktKind");
        bad("{\"rktKind\":\"auth\",\"rktVersion\":\"v1\",\"domains\":[\"a.test\"],\"type\":"
            "\"aws\",\"credentials\":{}}",
            0600, "not supported");
        bad(OAUTH("[]", "t"), 0600, "no domains");
        bad(OAUTH("[\"A.test\"]", "t"), 0600, "domains[0]");
        bad(OAUTH("[\"a.test/x\"]", "t"), 0600, "domains[0]");
        bad(OAUTH("[\"a.test\"]", "t\\r\\nX-Injected: 1"), 0600, "control characters");
        bad(BASIC("[\"a.test\"]", "u:x", "p"), 0600, "':'");
        bad("{\"rktKind\":\"auth\",\"rktKind\":\"auth\"}", 0600, "bad.json");
        bad("[1]", 0600, "not a JSON object");
        /* the same domain twice in one directory */
        put("l", "a.json", OAUTH("[\"a.test\"]", "t"), 0600);
        bad(OAUTH("[\"a.test\"]", "u"), 0600, "already configured");
}

static void test_dir_checked(void **state)
{
        (void)state;
        put("l", "a.json", OAUTH("[\"a.test\"]", "t"), 0600);
        char dir[128];
        snprintf(dir, sizeof(dir), "%s/l/auth.d", root);
        assert_int_equal(chmod(dir, 0777), 0);
        struct rk_auth *a = NULL;
        rk_error e = RK_ERROR_INIT;
        assert_int_equal(load(&a, &e), -EPERM);
        assert_non_null(strstr(e.msg, "writable by group or others"));
        /* a symlinked file is not followed */
        assert_int_equal(chmod(dir, 0755), 0);
        char link[160];
        snprintf(link, sizeof(link), "%s/l/auth.d/b.json", root);
        assert_int_equal(symlink("/etc/passwd", link), 0);
        assert_true(load(&a, &e) < 0);
        assert_non_null(strstr(e.msg, "b.json"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_none, setup, teardown),
            cmocka_unit_test_setup_teardown(test_basic_and_oauth_per_host, setup, teardown),
            cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
            cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
            cmocka_unit_test_setup_teardown(test_dir_checked, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
