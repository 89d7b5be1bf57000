/* SPDX-License-Identifier: Apache-2.0 */
/* appc shared types: identifiers and names (appc.md 1.1, 1.2, with the reference vectors),
 * kinds, semver, image IDs, labels, quantities, UUIDs, timestamps, env names, URLs, paths. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "aci/types.h"

static void check_fail_(int r, rk_error *err, int code, const char *sub, const char *file, int line)
{
        if (r != code || err->code != code || !strstr(err->msg, sub)) {
                print_error("%s:%d: got %d (code %d) \"%s\", want %d with \"%s\"\n", file, line, r,
                            err->code, err->msg, code, sub);
                _fail(file, line);
        }
        rk_err_clear(err);
}
#define assert_fail(call, err, code, sub)                                                          \
        check_fail_((call), (err), (code), (sub), __FILE__, __LINE__)

static void check_ok_(int r, rk_error *err, const char *file, int line)
{
        if (r != 0) {
                print_error("%s:%d: got %d \"%s\", want success\n", file, line, r, err->msg);
                _fail(file, line);
        }
}
#define assert_ok(call, err) check_ok_((call), (err), __FILE__, __LINE__)

static const char *const good_identifiers[] = {
    "asdf",
    "foo-bar-baz",
    "zab_rab_oof",
    "database",
    "my~database",
    "example.com/database",
    "example.com/~bob/database",
    "example.com/ourapp-1.0.0",
    "sub-domain.example.com/org/product/release-1.0.0",
    "sub-domain.example.com/org/product/~alice/release-1.0.0",
    "example.com/~user/app_v1",
    "a",
    "0",
};

static const char *const bad_identifiers[] = {
    "",
    "BAR",
    "foo#",
    "EXAMPLE.com",
    "foo.com/BAR",
    "/app",
    "app/",
    "-app",
    "app-",
    ".app",
    "app.",
    "_app",
    "app_",
    "~app",
    "app~",
    /* accepted by appc's Go code, refused by the spec's regex */
    "a--b",
    "a._b",
    "a/.b",
    "example.com//x",
    "a b",
    "a\nb",
    "é",
    /* "/~" is the one two-character separator (the spec's own ~user examples) */
    "a/~~b",
    "a~/b",
    "a/~",
    "a/~/b",
    "a-~b",
    "a~~b",
    "a/~.b",
};

static void test_identifier(void **state)
{
        rk_error err = RK_ERROR_INIT;
        for (size_t i = 0; i < sizeof(good_identifiers) / sizeof(*good_identifiers); i++)
                assert_ok(rk_ac_identifier_validate(good_identifiers[i], "name", &err), &err);
        for (size_t i = 0; i < sizeof(bad_identifiers) / sizeof(*bad_identifiers); i++) {
                int r = rk_ac_identifier_validate(bad_identifiers[i], "name", &err);
                if (r != -EINVAL || strncmp(err.msg, "name: ", 6) != 0) {
                        print_error("identifier '%s' was not refused: %d %s\n", bad_identifiers[i],
                                    r, err.msg);
                        fail();
                }
        }
        assert_fail(rk_ac_identifier_validate("a--b", "name", &err), &err, -EINVAL,
                    "name: 'a--b' is not a valid AC identifier: two separators in a row");
        assert_fail(rk_ac_identifier_validate("foo#", NULL, &err), &err, -EINVAL,
                    "character '#' is not allowed");
        assert_fail(rk_ac_identifier_validate("-app", NULL, &err), &err, -EINVAL, "must start");
        assert_fail(rk_ac_identifier_validate("app-", NULL, &err), &err, -EINVAL, "must end");
        assert_fail(rk_ac_identifier_validate(NULL, NULL, &err), &err, -EINVAL,
                    "must not be empty");

        char longname[RK_ACI_NAME_MAX + 2];
        memset(longname, 'a', sizeof(longname));
        longname[RK_ACI_NAME_MAX] = 0;
        assert_ok(rk_ac_identifier_validate(longname, NULL, &err), &err);
        longname[RK_ACI_NAME_MAX] = 'a';
        longname[RK_ACI_NAME_MAX + 1] = 0;
        assert_fail(rk_ac_identifier_validate(longname, NULL, &err), &err, -EINVAL,
                    "longer than 512");
        assert_fail(rk_ac_name_validate(longname, NULL, &err), &err, -EINVAL, "longer than 512");
}

static void test_name(void **state)
{
        static const char *const good[] = {
            "asdf", "foo-bar-baz", "database", "product-database", "a1", "1"};
        static const char *const bad[] = {
            "",     "foo#", "EXAMPLE.com", "foo.com/BAR", "example.com/app_1",
            "/app", "app/", "-app",        "app-",        ".app",
            "app.", "a--b", "zab_rab_oof", "my~database", "BAR"};
        rk_error err = RK_ERROR_INIT;
        for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
                assert_ok(rk_ac_name_validate(good[i], NULL, &err), &err);
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                if (rk_ac_name_validate(bad[i], NULL, &err) != -EINVAL) {
                        print_error("name '%s' was not refused\n", bad[i]);
                        fail();
                }
        }
        assert_fail(rk_ac_name_validate("a--b", "apps[0].name", &err), &err, -EINVAL,
                    "apps[0].name: 'a--b' is not a valid AC name");
}

static void test_kind(void **state)
{
        rk_error err = RK_ERROR_INIT;
        assert_ok(rk_ac_kind_validate("ImageManifest", "ImageManifest", NULL, &err), &err);
        assert_ok(rk_ac_kind_validate("PodManifest", NULL, NULL, &err), &err);
        assert_fail(rk_ac_kind_validate("PodManifest", "ImageManifest", "acKind", &err), &err,
                    -EINVAL, "acKind: 'PodManifest' is not a valid acKind here");
        assert_fail(rk_ac_kind_validate("imagemanifest", NULL, NULL, &err), &err, -EINVAL,
                    "not a valid acKind");
        assert_fail(rk_ac_kind_validate("", NULL, NULL, &err), &err, -EINVAL, "acKind must be set");
}

static void test_semver(void **state)
{
        rk_error err = RK_ERROR_INIT;
        struct rk_semver v;

        assert_ok(rk_semver_parse("0.8.11", &v, NULL, &err), &err);
        assert_int_equal(v.major, 0);
        assert_int_equal(v.minor, 8);
        assert_int_equal(v.patch, 11);
        assert_string_equal(v.pre, "");
        assert_ok(rk_semver_parse("1.2.3-alpha.1.x-y+build.05.z", &v, NULL, &err), &err);
        assert_string_equal(v.pre, "alpha.1.x-y");
        assert_string_equal(v.build, "build.05.z");
        assert_ok(rk_semver_parse("0.8.11+git", &v, NULL, &err), &err);
        assert_string_equal(v.build, "git");
        assert_ok(rk_semver_parse("18446744073709551615.0.1", &v, NULL, &err), &err);
        assert_true(v.major == UINT64_MAX);

        static const char *const bad[] = {
            "1.2",       "01.2.3",    "1.02.3",     "1.2.03", "1.2.3-",
            "1.2.3-01",  "1.2.3+",    "1.2.3-a..b", "v1.2.3", " 1.2.3",
            "1.2.3 ",    "1.2.3.4",   "1..3",       "-1.2.3", "18446744073709551616.0.0",
            "1.2.3-a_b", "1.2.3+a+b", "",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                struct rk_semver keep = {.major = 77};
                if (rk_semver_parse(bad[i], &keep, NULL, &err) != -EINVAL || keep.major != 77) {
                        print_error("semver '%s' was not refused\n", bad[i]);
                        fail();
                }
        }
        assert_fail(rk_semver_parse("0.0.0", &v, "acVersion", &err), &err, -EINVAL,
                    "acVersion: '0.0.0' is not a valid version: 0.0.0 is not allowed");
        assert_fail(rk_semver_parse("1.2", &v, "acVersion", &err), &err, -EINVAL,
                    "acVersion: '1.2' is not a valid SemVer 2.0.0 version");
        char longpre[200] = "1.0.0-";
        memset(longpre + 6, 'a', 150);
        longpre[156] = 0;
        assert_fail(rk_semver_parse(longpre, &v, NULL, &err), &err, -EINVAL, "not a valid SemVer");

        assert_ok(rk_ac_version_validate("0.8.11", NULL, &err), &err);
        assert_ok(rk_ac_version_validate("0.3.0", NULL, &err), &err);
        assert_fail(rk_ac_version_validate("1.0.0", "acVersion", &err), &err, -EINVAL,
                    "major version must be 0");
        assert_fail(rk_ac_version_validate("", "acVersion", &err), &err, -EINVAL,
                    "acVersion must be set");
        assert_fail(rk_ac_version_validate("0.0.0", NULL, &err), &err, -EINVAL, "0.0.0");
}

#define HEX128                                                                                     \
        "63ba39f7cc643c4de5a67f087ac4c896ecbbff0942ba16fa60dd8a9efa96a454"                         \
        "75230d7fc4ee0673224c059422ccc4049200b35529dbc575eef620ee89526f13"

static void test_image_id(void **state)
{
        rk_error err = RK_ERROR_INIT;
        assert_ok(rk_image_id_validate("sha512-" HEX128, NULL, &err), &err);
        assert_fail(rk_image_id_validate("sha512-...", "imageID", &err), &err, -EINVAL,
                    "imageID: 'sha512-...' is not a valid image ID");
        assert_fail(rk_image_id_validate("sha512-" HEX128 "0", NULL, &err), &err, -EINVAL,
                    "128 lowercase hex");
        char upper[] = "sha512-" HEX128;
        upper[8] = 'B';
        assert_fail(rk_image_id_validate(upper, NULL, &err), &err, -EINVAL, "not a valid image ID");
        char shortid[] = "sha512-" HEX128;
        shortid[sizeof(shortid) - 2] = 0;
        assert_fail(rk_image_id_validate(shortid, NULL, &err), &err, -EINVAL, "image ID");
        assert_fail(rk_image_id_validate("sha256-abcd", NULL, &err), &err, -EINVAL, "image ID");
        assert_fail(rk_image_id_validate(NULL, NULL, &err), &err, -EINVAL, "image ID");

        assert_ok(rk_image_id_prefix_validate("sha512-63", NULL, &err), &err);
        assert_ok(rk_image_id_prefix_validate("sha512-" HEX128, NULL, &err), &err);
        assert_fail(rk_image_id_prefix_validate("sha512-6", NULL, &err), &err, -EINVAL,
                    "2 to 128 lowercase hex");
        assert_fail(rk_image_id_prefix_validate("sha512-" HEX128 "a", NULL, &err), &err, -EINVAL,
                    "prefix");
        assert_fail(rk_image_id_prefix_validate("63ba39f7", NULL, &err), &err, -EINVAL, "prefix");
}

static void test_labels(void **state)
{
        rk_error err = RK_ERROR_INIT;
        struct rk_label v[] = {
            {"version", "1.0.0"}, {"arch", "aarch64"}, {"os", "linux"}, {"channel", ""}};
        struct rk_labels l = {v, 4};

        assert_ok(rk_labels_validate(&l, "labels", &err), &err);
        assert_string_equal(rk_labels_get(&l, "os"), "linux");
        assert_null(rk_labels_get(&l, "missing"));
        assert_null(rk_labels_get(NULL, "os"));

        v[1].value = "arm64"; /* Go's name; appc says aarch64 */
        assert_fail(rk_labels_validate(&l, "labels", &err), &err, -EINVAL,
                    "labels: bad arch 'arm64' for os linux (must be one of:");
        v[1].value = "amd64";
        v[2].value = "windows";
        assert_fail(rk_labels_validate(&l, "labels", &err), &err, -EINVAL,
                    "bad os 'windows' (must be one of: darwin freebsd linux)");
        v[2].value = "linux";
        v[3].name = "version";
        assert_fail(rk_labels_validate(&l, "labels", &err), &err, -EINVAL,
                    "labels: duplicate label 'version'");
        v[3].name = "name";
        assert_fail(rk_labels_validate(&l, "labels", &err), &err, -EINVAL,
                    "labels[3].name: label name 'name' is not allowed");
        v[3].name = "Channel";
        assert_fail(rk_labels_validate(&l, "labels", &err), &err, -EINVAL,
                    "labels[3].name: 'Channel' is not a valid AC identifier");

        assert_ok(rk_os_arch_validate("darwin", "x86_64", NULL, &err), &err);
        assert_ok(rk_os_arch_validate("freebsd", "arm", NULL, &err), &err);
        assert_ok(rk_os_arch_validate("linux", NULL, NULL, &err), &err);
        assert_ok(rk_os_arch_validate(NULL, "s390x", NULL, &err), &err);
        assert_ok(rk_os_arch_validate(NULL, NULL, NULL, &err), &err);
        assert_fail(rk_os_arch_validate("darwin", "amd64", NULL, &err), &err, -EINVAL,
                    "bad arch 'amd64' for os darwin");
        assert_fail(rk_os_arch_validate(NULL, "sparc", NULL, &err), &err, -EINVAL,
                    "bad arch 'sparc' (not an arch of any known os)");
        assert_fail(rk_os_arch_validate("Linux", NULL, NULL, &err), &err, -EINVAL, "bad os");

        struct rk_labels empty = {0};
        assert_ok(rk_labels_validate(&empty, NULL, &err), &err);
        rk_labels_clear(NULL);
}

static int64_t q(const char *s)
{
        rk_error err = RK_ERROR_INIT;
        int64_t v = -1;
        if (rk_quantity_parse(s, &v, NULL, &err) < 0) {
                print_error("quantity '%s' refused: %s\n", s, err.msg);
                fail();
        }
        return v;
}

static void test_quantity(void **state)
{
        rk_error err = RK_ERROR_INIT;
        int64_t v = 42;

        /* appc's own example: 128974848 = 125952Ki = 123Mi */
        assert_int_equal(q("128974848"), 128974848000LL);
        assert_int_equal(q("125952Ki"), 128974848000LL);
        assert_int_equal(q("123Mi"), 128974848000LL);
        assert_int_equal(q("500m"), 500);
        assert_int_equal(q("250m"), 250);
        assert_int_equal(q("0.3"), 300);
        assert_int_equal(q("1e3"), 1000000);
        assert_int_equal(q("1E3"), 1000000);
        assert_int_equal(q("1e+3"), 1000000);
        assert_int_equal(q("1e-3"), 1);
        assert_int_equal(q("1K"), 1000000);
        assert_int_equal(q("1k"), 1000000);
        assert_int_equal(q("1Ki"), 1024000);
        assert_int_equal(q("1"), 1000);
        assert_int_equal(q("+1"), 1000);
        assert_int_equal(q("0"), 0);
        assert_int_equal(q("0Ki"), 0);
        assert_int_equal(q("000.000"), 0);
        assert_int_equal(q(".5"), 500);
        assert_int_equal(q("5."), 5000);
        assert_int_equal(q("1.5Gi"), 1610612736000LL);
        assert_int_equal(q("2G"), 2000000000000LL);
        assert_int_equal(q("4G"), 4000000000000LL);
        assert_int_equal(q("100M"), 100000000000LL);
        assert_int_equal(q("1T"), 1000000000000000LL);
        assert_int_equal(q("1P"), 1000000000000000000LL);
        assert_int_equal(q("8Pi"), 9007199254740992000LL);
        assert_int_equal(q("1n"), 1);   /* rounded up */
        assert_int_equal(q("0.1m"), 1); /* rounded up */
        assert_int_equal(q("1u"), 1);
        assert_int_equal(q("1500u"), 2);
        assert_int_equal(q("1e-30"), 1);
        assert_int_equal(q("0.0000000000000000000000000001"), 1);
        assert_int_equal(q("1000000000000000000000000n"), 1000000000000000000LL);
        assert_int_equal(q("9223372036854775.807"), INT64_MAX);
        assert_int_equal(q("1.000000000000000001"), 1001); /* rounded up, exactly */

        /* negatives are refused, whatever their spelling */
        assert_fail(rk_quantity_parse("-1", &v, "limit", &err), &err, -EINVAL,
                    "limit: quantity '-1' is negative");
        assert_fail(rk_quantity_parse("-0.5Gi", &v, NULL, &err), &err, -EINVAL, "negative");
        /* garbage */
        static const char *const bad[] = {
            "",    "abc", "1.2.3", "1x",   "1KK",  "1iK", "e3",  ".",    "1e",
            "--1", "+-1", "1 ",    " 1",   "1Ki ", "1ki", "1mi", "0x10", "1e3.5",
            "1E+", "1,5", "ten",   "1Ki2", "1.5.", "++1", "1b",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                int64_t keep = 42;
                if (rk_quantity_parse(bad[i], &keep, NULL, &err) != -EINVAL || keep != 42) {
                        print_error("quantity '%s' was not refused (%lld)\n", bad[i],
                                    (long long)keep);
                        fail();
                }
        }
        assert_fail(rk_quantity_parse("12x", &v, "value.limit", &err), &err, -EINVAL,
                    "value.limit: '12x' is not a valid quantity");
        /* overflow of the milli-unit int64 */
        assert_fail(rk_quantity_parse("1E", &v, NULL, &err), &err, -ERANGE, "too large");
        assert_fail(rk_quantity_parse("9Pi", &v, NULL, &err), &err, -ERANGE, "too large");
        assert_fail(rk_quantity_parse("8Ei", &v, NULL, &err), &err, -ERANGE, "too large");
        assert_fail(rk_quantity_parse("9223372036854775.808", &v, NULL, &err), &err, -ERANGE,
                    "too large");
        assert_fail(rk_quantity_parse("1e99999999", &v, NULL, &err), &err, -ERANGE, "too large");
        assert_fail(rk_quantity_parse("12345678901234567891", &v, NULL, &err), &err, -ERANGE,
                    "significant digits");
        char longq[80];
        memset(longq, '0', sizeof(longq));
        longq[79] = 0;
        assert_fail(rk_quantity_parse(longq, &v, NULL, &err), &err, -EINVAL, "longer than 64");
        assert_int_equal(v, 42); /* untouched by every failure */
}

static void test_uuid(void **state)
{
        rk_error err = RK_ERROR_INIT;
        struct rk_uuid u, u2;
        char s[37];

        assert_ok(rk_uuid_parse("6733c2d1-a5cd-4c2a-9ae0-6c5d1ab6b2f1", &u, &err), &err);
        assert_int_equal(u.b[0], 0x67);
        assert_int_equal(u.b[15], 0xf1);
        rk_uuid_format(&u, s);
        assert_string_equal(s, "6733c2d1-a5cd-4c2a-9ae0-6c5d1ab6b2f1");
        assert_ok(rk_uuid_parse("6733C2D1A5CD4C2A9AE06C5D1AB6B2F1", &u2, &err), &err);
        assert_memory_equal(u.b, u2.b, 16);

        static const char *const bad[] = {
            "",
            "6733c2d1-a5cd-4c2a-9ae0-6c5d1ab6b2f",
            "6733c2d1-a5cd-4c2a-9ae0-6c5d1ab6b2f12",
            "6733c2d1a-5cd-4c2a-9ae0-6c5d1ab6b2f1",
            "6733c2d1-a5cd-4c2a-9ae0_6c5d1ab6b2f1",
            "6733c2d1-a5cd-4c2a-9ae0-6c5d1ab6b2fg",
            "6733c2d1a5cd4c2a9ae06c5d1ab6b2f",
            "{6733c2d1-a5cd-4c2a-9ae0-6c5d1ab6b2f1}",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
                assert_fail(rk_uuid_parse(bad[i], &u, &err), &err, -EINVAL, "not a valid UUID");
        assert_fail(rk_uuid_parse("00000000-0000-0000-0000-000000000000", &u, &err), &err, -EINVAL,
                    "all-zero");
        assert_fail(rk_uuid_parse(NULL, &u, &err), &err, -EINVAL, "not a valid UUID");

        assert_ok(rk_uuid_generate(&u, &err), &err);
        assert_ok(rk_uuid_generate(&u2, &err), &err);
        assert_memory_not_equal(u.b, u2.b, 16);
        assert_int_equal(u.b[6] >> 4, 4);
        assert_int_equal(u.b[8] >> 6, 2);
        rk_uuid_format(&u, s);
        assert_ok(rk_uuid_parse(s, &u2, &err), &err);
        assert_memory_equal(u.b, u2.b, 16);
}

static void test_timestamp(void **state)
{
        rk_error err = RK_ERROR_INIT;
        struct timespec ts, ts2;
        char out[40];

        assert_ok(rk_timestamp_parse("2014-10-27T19:32:27.67021798Z", &ts, NULL, &err), &err);
        assert_int_equal(ts.tv_sec, 1414438347);
        assert_int_equal(ts.tv_nsec, 670217980);
        rk_timestamp_format(&ts, out);
        assert_string_equal(out, "2014-10-27T19:32:27.67021798Z");
        assert_ok(rk_timestamp_parse("2014-10-27T20:32:27.67021798+01:00", &ts2, NULL, &err), &err);
        assert_int_equal(ts2.tv_sec, ts.tv_sec);
        assert_ok(rk_timestamp_parse("1970-01-01T00:00:00Z", &ts, NULL, &err), &err);
        assert_int_equal(ts.tv_sec, 0);
        rk_timestamp_format(&ts, out);
        assert_string_equal(out, "1970-01-01T00:00:00Z");
        assert_ok(rk_timestamp_parse("1969-12-31T23:59:59.5-00:30", &ts, NULL, &err), &err);
        assert_int_equal(ts.tv_sec, 1799);
        assert_int_equal(ts.tv_nsec, 500000000);
        assert_ok(rk_timestamp_parse("2016-02-29T12:00:00Z", &ts, NULL, &err), &err);
        assert_ok(rk_timestamp_parse("2000-02-29T12:00:00Z", &ts, NULL, &err), &err);
        assert_ok(rk_timestamp_parse("0000-01-01T00:00:00Z", &ts, NULL, &err), &err);
        assert_ok(rk_timestamp_parse("9999-12-31T23:59:59.999999999Z", &ts, NULL, &err), &err);
        rk_timestamp_format(&ts, out);
        assert_string_equal(out, "9999-12-31T23:59:59.999999999Z");

        static const char *const bad[] = {
            "2014-10-27 19:32:27Z", /* space instead of T: appc requires the T */
            "2014-10-27t19:32:27Z",
            "2014-10-27T19:32:27z",
            "2014-10-27T19:32:27",
            "2014-10-27T19:32Z",
            "2014-10-27",
            "2014-10-27T19:32:27.Z",
            "2014-10-27T19:32:27.1234567890Z",
            "2014-10-27T19:32:27+0100",
            "2014-10-27T19:32:27+01",
            "14-10-27T19:32:27Z",
            "2014-10-27T19:32:27Z ",
            "",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
                assert_fail(rk_timestamp_parse(bad[i], &ts, "created", &err), &err, -EINVAL,
                            "is not an RFC 3339 timestamp");
        static const char *const range[] = {
            "2014-13-01T00:00:00Z", "2014-00-01T00:00:00Z", "2015-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z", "2014-04-31T00:00:00Z", "2014-10-27T24:00:00Z",
            "2014-10-27T23:60:00Z", "2014-10-27T23:59:60Z", "2014-10-27T23:59:59+24:00",
            "2014-10-00T00:00:00Z",
        };
        for (size_t i = 0; i < sizeof(range) / sizeof(*range); i++)
                assert_fail(rk_timestamp_parse(range[i], &ts, "created", &err), &err, -EINVAL,
                            "out of range");
}

static void test_env_name(void **state)
{
        static const char *const good[] = {"PATH", "_x", "a.b-c", "A1", "reduce.worker-mode", "_"};
        static const char *const bad[] = {"", "1A", "A B", "A=B", "\xc3\x84", ".a", "-a", "a\n"};
        rk_error err = RK_ERROR_INIT;
        for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
                assert_ok(rk_env_name_validate(good[i], NULL, &err), &err);
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
                assert_int_equal(rk_env_name_validate(bad[i], NULL, &err), -EINVAL);
        assert_fail(rk_env_name_validate("A=B", "environment[0].name", &err), &err, -EINVAL,
                    "environment[0].name: 'A=B' is not a valid environment variable name");
}

static void test_url(void **state)
{
        static const char *const good[] = {
            "https://example.com",
            "http://example.com:8080/docs?x=1&y=%20#frag",
            "HTTPS://EXAMPLE.COM/",
            "http://[::1]:80/",
            "https://user:pw@example.com/a(b)",
            "http://10.0.0.1",
        };
        static const char *const bad[] = {
            "ftp://example.com",    "https://",
            "https:// example.com", "example.com",
            "https://exa mple.com", "http://a:99999/",
            "http://a/%zz",         "http://a/%4",
            "http://:80/",          "http://[::1",
            "http://[]/",           "http://a:8x/",
            "https://a/\"",         "javascript:alert(1)",
            "http://a\n",           "",
            "http://[::1]x/",       "http://a:/",
        };
        rk_error err = RK_ERROR_INIT;
        for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
                assert_ok(rk_url_validate(good[i], NULL, &err), &err);
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                if (rk_url_validate(bad[i], NULL, &err) != -EINVAL) {
                        print_error("URL '%s' was not refused\n", bad[i]);
                        fail();
                }
        }
        assert_fail(rk_url_validate("ftp://x", "homepage", &err), &err, -EINVAL,
                    "homepage: bad URL scheme in 'ftp://x', must be http/https");
        char longurl[RK_URL_MAX + 20] = "https://a/";
        memset(longurl + 10, 'x', RK_URL_MAX);
        longurl[RK_URL_MAX + 10] = 0;
        assert_fail(rk_url_validate(longurl, NULL, &err), &err, -EINVAL, "longer than");
}

static void test_abs_path(void **state)
{
        static const char *const good[] = {
            "/", "/a/b", "/etc/systemd/system/", "/a//b", "/.a", "/a..", "/..a/b..c"};
        static const char *const bad[] = {"",   "a/b",   "/a/../b", "/a/./b", "/..",
                                          "/.", "/a/..", "./a",     "/a/./"};
        rk_error err = RK_ERROR_INIT;
        for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
                assert_ok(rk_abs_path_validate(good[i], NULL, &err), &err);
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                if (rk_abs_path_validate(bad[i], NULL, &err) != -EINVAL) {
                        print_error("path '%s' was not refused\n", bad[i]);
                        fail();
                }
        }
        assert_fail(rk_abs_path_validate("opt/work", "app.workingDirectory", &err), &err, -EINVAL,
                    "app.workingDirectory: 'opt/work' is not an absolute path");
        assert_fail(rk_abs_path_validate("/a/../b", NULL, &err), &err, -EINVAL,
                    "must not contain \".\" or \"..\"");
        static char longpath[RK_PATH_MAX + 2];
        memset(longpath, 'a', sizeof(longpath) - 1);
        longpath[0] = '/';
        assert_fail(rk_abs_path_validate(longpath, NULL, &err), &err, -EINVAL, "longer than");
        longpath[RK_PATH_MAX] = 0;
        assert_ok(rk_abs_path_validate(longpath, NULL, &err), &err);
}

static void test_quote(void **state)
{
        char buf[RK_QUOTE_SIZE];
        assert_string_equal(rk_quote("abc", buf, sizeof(buf)), "'abc'");
        assert_string_equal(rk_quote("a'b\\c", buf, sizeof(buf)), "'a\\'b\\\\c'");
        assert_string_equal(rk_quote("\x1b[2J\n\xc3\xa9", buf, sizeof(buf)),
                            "'\\x1b[2J\\x0a\\xc3\\xa9'");
        assert_string_equal(rk_quote(NULL, buf, sizeof(buf)), "(null)");
        char longs[300];
        memset(longs, 'x', sizeof(longs) - 1);
        longs[299] = 0;
        rk_quote(longs, buf, sizeof(buf));
        assert_true(strlen(buf) < sizeof(buf));
        assert_non_null(strstr(buf, "'..."));
        char tiny[8];
        rk_quote(longs, tiny, sizeof(tiny));
        assert_true(strlen(tiny) < sizeof(tiny));
        assert_string_equal(RK_QUOTE("x"), "'x'");
}

static void test_find_duplicate(void **state)
{
        const char *dup = NULL;
        const char *few[] = {"a", "b", NULL, "c", "b"};
        assert_int_equal(rk_strv_find_duplicate(few, 5, &dup), 1);
        assert_string_equal(dup, "b");
        assert_int_equal(rk_strv_find_duplicate(few, 4, &dup), 0);
        const char *many[20];
        char names[20][4];
        for (int i = 0; i < 20; i++) {
                snprintf(names[i], sizeof(names[i]), "n%d", i);
                many[i] = names[i];
        }
        many[3] = NULL;
        assert_int_equal(rk_strv_find_duplicate(many, 20, &dup), 0);
        many[17] = "n11";
        assert_int_equal(rk_strv_find_duplicate(many, 20, &dup), 1);
        assert_string_equal(dup, "n11");
        assert_int_equal(rk_strv_find_duplicate(NULL, 0, &dup), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_identifier), cmocka_unit_test(test_name),
            cmocka_unit_test(test_kind),       cmocka_unit_test(test_semver),
            cmocka_unit_test(test_image_id),   cmocka_unit_test(test_labels),
            cmocka_unit_test(test_quantity),   cmocka_unit_test(test_uuid),
            cmocka_unit_test(test_timestamp),  cmocka_unit_test(test_env_name),
            cmocka_unit_test(test_url),        cmocka_unit_test(test_abs_path),
            cmocka_unit_test(test_quote),      cmocka_unit_test(test_find_duplicate),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
