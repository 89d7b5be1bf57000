/* SPDX-License-Identifier: Apache-2.0 */
/* Image manifest: the full example vector (appc examples/image.json re-expressed, with a real
 * errno and real image IDs), canonical serialisation and its round trip, and one negative test
 * per rejection rule. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <string.h>

#include "aci/manifest.h"
#include "base/fileio.h"
#include "base/json.h"

#define DATA "tests/data/manifests/"

static char *read_data(const char *name, size_t *len)
{
        rk_error err = RK_ERROR_INIT;
        char path[256], *buf = NULL;
        snprintf(path, sizeof(path), DATA "%s", name);
        if (rk_read_file_at(AT_FDCWD, path, 4 << 20, &buf, len, &err) < 0) {
                print_error("%s (run the tests from the repository root)\n", err.msg);
                fail();
        }
        return buf;
}

static struct rk_image_manifest *parse_ok(const char *text, size_t len)
{
        rk_error err = RK_ERROR_INIT;
        struct rk_image_manifest *m = NULL;
        if (rk_image_manifest_parse("test.aci", text, len, &m, &err) != 0) {
                print_error("refused: %s\n", err.msg);
                fail();
        }
        assert_non_null(m);
        return m;
}

static char *serialize_ok(const struct rk_image_manifest *m, size_t *len)
{
        rk_error err = RK_ERROR_INIT;
        char *s = NULL;
        if (rk_image_manifest_serialize(m, &s, len, &err) != 0) {
                print_error("serialise failed: %s\n", err.msg);
                fail();
        }
        return s;
}

/* serialise(parse(x)) is a fixed point of parse+serialise, byte for byte */
static void check_round_trip(const struct rk_image_manifest *m)
{
        size_t n1, n2;
        char *s1 = serialize_ok(m, &n1);
        assert_int_equal(n1, strlen(s1));
        struct rk_image_manifest *m2 = parse_ok(s1, n1);
        char *s2 = serialize_ok(m2, &n2);
        assert_int_equal(n1, n2);
        assert_string_equal(s1, s2);
        free(s1);
        free(s2);
        rk_image_manifest_free(m2);
}

static void check_fails_(const char *text, int code, const char *sub, const char *file, int line)
{
        rk_error err = RK_ERROR_INIT;
        struct rk_image_manifest *m = (struct rk_image_manifest *)0x1;
        int r = rk_image_manifest_parse("x.aci", text, strlen(text), &m, &err);
        if (r != code || err.code != code || !strstr(err.msg, sub) ||
            strncmp(err.msg, "image manifest 'x.aci': ", 24) != 0 ||
            m != (struct rk_image_manifest *)0x1 || strchr(err.msg, '\n')) {
                print_error("%s:%d: %s\n  got %d \"%s\"\n  want %d with \"%s\"\n", file, line, text,
                            r, err.msg, code, sub);
                if (r == 0)
                        rk_image_manifest_free(m);
                _fail(file, line);
        }
}
#define assert_fails(text, sub) check_fails_((text), -EBADMSG, (sub), __FILE__, __LINE__)

#define HEAD "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"example.com/x\""
/* a manifest with extra top-level members */
#define TOP(extra) HEAD "," extra "}"
/* a manifest whose app object has user and group plus extra members */
#define APP(extra) HEAD ",\"app\":{\"user\":\"0\",\"group\":\"0\"," extra "}}"

#define HEX128                                                                                     \
        "63ba39f7cc643c4de5a67f087ac4c896ecbbff0942ba16fa60dd8a9efa96a454"                         \
        "75230d7fc4ee0673224c059422ccc4049200b35529dbc575eef620ee89526f13"

static void test_full_example(void **state)
{
        size_t len;
        char *text = read_data("image-full.json", &len);
        struct rk_image_manifest *m = parse_ok(text, len);
        free(text);

        assert_string_equal(m->ac_version, "0.8.11");
        assert_string_equal(m->name, "example.com/reduce-worker");
        assert_int_equal(m->labels.n, 3);
        assert_string_equal(rk_labels_get(&m->labels, "arch"), "amd64");
        struct rk_app *a = m->app;
        assert_non_null(a);
        assert_int_equal(a->n_exec, 2);
        assert_string_equal(a->exec[1], "--quiet");
        assert_string_equal(a->user, "100");
        assert_string_equal(a->group, "300");
        assert_int_equal(a->n_supplementary_gids, 2);
        assert_int_equal(a->supplementary_gids[1], 500);
        assert_int_equal(a->n_event_handlers, 2);
        assert_string_equal(a->event_handlers[1].name, "post-stop");
        assert_string_equal(a->event_handlers[1].exec[1], "--verbose");
        assert_string_equal(a->working_directory, "/opt/work");
        assert_int_equal(a->environment.n, 2);
        assert_string_equal(rk_name_values_get(&a->environment, "REDUCE_WORKER_DEBUG"), "true");
        assert_int_equal(a->isolators.n, 5);
        assert_int_equal(a->isolators.v[0].kind, RK_ISOLATOR_RESOURCE_CPU);
        assert_int_equal(a->isolators.v[0].u.resource.limit_milli, 500);
        assert_int_equal(a->isolators.v[1].u.resource.limit_milli, 2000000000000LL);
        assert_int_equal(a->isolators.v[2].kind, RK_ISOLATOR_CAPS_RETAIN);
        assert_int_equal(a->isolators.v[3].kind, RK_ISOLATOR_NO_NEW_PRIVS);
        assert_string_equal(a->isolators.v[4].u.seccomp.errno_name, "ENOTSUP");
        assert_int_equal(a->n_mount_points, 1);
        assert_false(a->mount_points[0].read_only);
        assert_int_equal(a->n_ports, 2);
        assert_true(a->ports[0].socket_activated);
        assert_int_equal(a->ports[0].count, 1); /* default */
        assert_int_equal(a->ports[1].port, 20000);
        assert_int_equal(a->ports[1].count, 1000);
        assert_string_equal(json_string_value(json_object_get(a->user_annotations, "any key")),
                            "any value");
        assert_non_null(a->user_labels);
        assert_int_equal(m->n_dependencies, 1);
        assert_string_equal(m->dependencies[0].image_name, "example.com/reduce-worker-base");
        assert_string_equal(m->dependencies[0].image_id, "sha512-" HEX128);
        assert_string_equal(rk_labels_get(&m->dependencies[0].labels, "env"), "canary");
        assert_true(m->dependencies[0].has_size);
        assert_int_equal(m->dependencies[0].size, 22017258);
        assert_int_equal(m->n_path_whitelist, 5);
        assert_string_equal(m->path_whitelist[4], "/etc/systemd/system/");
        assert_int_equal(m->annotations.n, 4);
        assert_string_equal(rk_name_values_get(&m->annotations, "homepage"), "https://example.com");
        assert_int_equal(m->n_unknown_isolators, 0);

        check_round_trip(m);
        rk_image_manifest_free(m);
}

static void test_canonical_form(void **state)
{
        size_t len, glen, slen;
        char *text = read_data("image-full.json", &len);
        char *golden = read_data("image-full.canonical.json", &glen);
        struct rk_image_manifest *m = parse_ok(text, len);
        char *s = serialize_ok(m, &slen);

        /* schema key order, compact, defaults made explicit, absent fields omitted, the
         * supplied userAnnotations order kept */
        assert_string_equal(s, golden);
        assert_int_equal(slen, glen);
        /* and the golden file itself is canonical */
        struct rk_image_manifest *g = parse_ok(golden, glen);
        char *gs = serialize_ok(g, NULL);
        assert_string_equal(gs, golden);
        free(gs);
        rk_image_manifest_free(g);
        free(s);
        free(text);
        free(golden);
        rk_image_manifest_free(m);

        _cleanup_json_ json_t *o = NULL;
        m = parse_ok(HEAD "}", strlen(HEAD "}"));
        o = rk_image_manifest_to_json(m);
        assert_int_equal(json_object_size(o), 3);
        s = serialize_ok(m, NULL);
        assert_string_equal(s, HEAD "}");
        free(s);
        rk_image_manifest_free(m);
}

static void test_minimal_and_defaults(void **state)
{
        size_t len;
        char *text = read_data("image-minimal.json", &len);
        struct rk_image_manifest *m = parse_ok(text, len);
        free(text);
        assert_null(m->app);
        assert_int_equal(m->labels.n, 0);
        assert_int_equal(m->n_dependencies, 0);
        check_round_trip(m);
        rk_image_manifest_free(m);
        assert_null(rk_image_manifest_free(NULL));

        /* exec may be empty (0.7.2); ports get count 1 and socketActivated false; readOnly false
         * is dropped; [] and null count as absent */
        const char *t =
            APP("\"exec\":[],\"mountPoints\":[{\"name\":\"w\",\"path\":\"/w\",\"readOnly\":false}],"
                "\"ports\":[{\"name\":\"p\",\"port\":80,\"protocol\":\"tcp\"}],"
                "\"environment\":null,\"isolators\":[]");
        m = parse_ok(t, strlen(t));
        char *s = serialize_ok(m, NULL);
        assert_string_equal(s,
                            HEAD ",\"app\":{\"user\":\"0\",\"group\":\"0\",\"mountPoints\":"
                                 "[{\"name\":\"w\",\"path\":\"/w\"}],\"ports\":[{\"name\":\"p\","
                                 "\"protocol\":\"tcp\",\"port\":80,\"count\":1,\"socketActivated\":"
                                 "false}]}}");
        free(s);
        check_round_trip(m);
        rk_image_manifest_free(m);

        /* appc's Go code writes null for absent members */
        t = HEAD ",\"labels\":null,\"app\":{\"exec\":null,\"user\":\"0\",\"group\":\"0\"},"
                 "\"annotations\":null,\"dependencies\":null,\"pathWhitelist\":[]}";
        m = parse_ok(t, strlen(t));
        assert_int_equal(m->app->n_exec, 0);
        s = serialize_ok(m, NULL);
        assert_string_equal(s, HEAD ",\"app\":{\"user\":\"0\",\"group\":\"0\"}}");
        free(s);
        rk_image_manifest_free(m);
}

static void test_aliases_and_unknowns(void **state)
{
        /* the spec example's spelling is accepted, written back in the schema's */
        const char *t = APP("\"supplementaryGids\":[4,5]");
        struct rk_image_manifest *m = parse_ok(t, strlen(t));
        assert_int_equal(m->app->n_supplementary_gids, 2);
        char *s = serialize_ok(m, NULL);
        assert_non_null(strstr(s, "\"supplementaryGIDs\":[4,5]"));
        assert_null(strstr(s, "supplementaryGids"));
        free(s);
        rk_image_manifest_free(m);
        assert_fails(APP("\"supplementaryGIDs\":[1],\"supplementaryGids\":[2]"),
                     "app: both supplementaryGIDs and supplementaryGids are set");

        /* unknown keys are ignored (and dropped), unknown isolators kept and reported */
        t = HEAD ",\"future\":{\"x\":1},\"app\":{\"user\":\"0\",\"group\":\"0\",\"nope\":[],"
                 "\"isolators\":[{\"name\":\"example.com/gpu\",\"value\":{\"n\":1}},"
                 "{\"name\":\"example.com/gpu\",\"value\":{\"n\":2}},"
                 "{\"name\":\"example.com/fpga\",\"value\":1}]}}";
        m = parse_ok(t, strlen(t));
        assert_int_equal(m->n_unknown_isolators, 2);
        assert_string_equal(m->unknown_isolators[0], "example.com/gpu");
        assert_string_equal(m->unknown_isolators[1], "example.com/fpga");
        assert_int_equal(m->app->isolators.n, 3);
        s = serialize_ok(m, NULL);
        assert_null(strstr(s, "future"));
        assert_null(strstr(s, "nope"));
        assert_non_null(strstr(s, "{\"name\":\"example.com/gpu\",\"value\":{\"n\":2}}"));
        free(s);
        check_round_trip(m);
        rk_image_manifest_free(m);

        /* keys match exactly: appc's Go code matched them case-insensitively */
        assert_fails("{\"ACKIND\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"a\"}",
                     "acKind is required");
}

static void test_top_level_rejections(void **state)
{
        rk_error err = RK_ERROR_INIT;
        struct rk_image_manifest *m = NULL;

        /* document */
        assert_fails("{\"acKind\":\"ImageManifest\",\"acKind\":\"ImageManifest\"}",
                     "duplicate object key");
        assert_fails("[]", "must be a JSON object, not an array");
        assert_fails("{", "invalid JSON");
        assert_fails(HEAD "} trailing", "invalid JSON");
        char deep[300];
        memset(deep, '[', 200);
        memset(deep + 200, ']', 99);
        deep[299] = 0;
        assert_fails(deep, "nested deeper than");
        size_t big = RK_MANIFEST_MAX + 1;
        char *huge = malloc(big);
        assert_non_null(huge);
        memset(huge, ' ', big);
        assert_int_equal(rk_image_manifest_parse("x.aci", huge, big, &m, &err), -EFBIG);
        assert_non_null(strstr(err.msg, "limit 1048576"));
        assert_null(m);
        free(huge);
        /* acKind, acVersion, name */
        assert_fails("{\"acVersion\":\"0.8.11\",\"name\":\"a\"}", "acKind is required");
        assert_fails(
            "{\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\",\"name\":\"a\"}",
            "acKind: 'PodManifest' is not a valid acKind here (must be \"ImageManifest\")");
        assert_fails("{\"acKind\":\"Bogus\",\"acVersion\":\"0.8.11\",\"name\":\"a\"}",
                     "'Bogus' is not a valid acKind");
        assert_fails("{\"acKind\":7,\"acVersion\":\"0.8.11\",\"name\":\"a\"}",
                     "acKind must be a string, not an integer");
        assert_fails("{\"acKind\":\"ImageManifest\",\"name\":\"a\"}", "acVersion is required");
        assert_fails("{\"acKind\":\"ImageManifest\",\"acVersion\":\"1.0.0\",\"name\":\"a\"}",
                     "acVersion: '1.0.0' is not supported: the App Container spec is 0.x");
        assert_fails("{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8\",\"name\":\"a\"}",
                     "acVersion: '0.8' is not a valid SemVer 2.0.0 version");
        assert_fails("{\"acKind\":\"ImageManifest\",\"acVersion\":\"\",\"name\":\"a\"}",
                     "acVersion must be set");
        assert_fails("{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\"}", "name is required");
        assert_fails(
            "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"Example.com/x\"}",
            "name: 'Example.com/x' is not a valid AC identifier");
        assert_fails("{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"a--b\"}",
                     "two separators in a row");
        /* labels */
        assert_fails(TOP("\"labels\":[{\"name\":\"os\",\"value\":\"linux\"},{\"name\":\"os\","
                         "\"value\":\"linux\"}]"),
                     "labels: duplicate label 'os'");
        assert_fails(TOP("\"labels\":[{\"name\":\"name\",\"value\":\"x\"}]"),
                     "labels[0].name: label name 'name' is not allowed");
        assert_fails(TOP("\"labels\":[{\"name\":\"os\",\"value\":\"windows\"}]"),
                     "bad os 'windows'");
        assert_fails(TOP("\"labels\":[{\"name\":\"os\",\"value\":\"linux\"},{\"name\":\"arch\","
                         "\"value\":\"x86_64\"}]"),
                     "bad arch 'x86_64' for os linux");
        assert_fails(TOP("\"labels\":[{\"name\":\"version\"}]"), "labels[0].value is required");
        assert_fails(TOP("\"labels\":[{\"name\":\"version\",\"value\":1}]"),
                     "labels[0].value must be a string, not an integer");
        assert_fails(TOP("\"labels\":{\"version\":\"1\"}"),
                     "labels must be an array, not an object");
        /* pathWhitelist */
        assert_fails(TOP("\"pathWhitelist\":[\"/etc/a\",\"etc/b\"]"),
                     "pathWhitelist[1]: 'etc/b' is not an absolute path");
        assert_fails(TOP("\"pathWhitelist\":[\"/etc/../shadow\"]"),
                     "pathWhitelist[0]: path '/etc/../shadow' must not contain");
        assert_fails(TOP("\"pathWhitelist\":[\"/a\",\"/a\"]"),
                     "pathWhitelist: '/a' is listed twice");
        assert_fails(TOP("\"pathWhitelist\":[1]"), "pathWhitelist[0] must be a string");
        /* annotations */
        assert_fails(
            TOP("\"annotations\":[{\"name\":\"created\",\"value\":\"2014-10-27 19:32:27Z\"}]"),
            "annotations[0].value: '2014-10-27 19:32:27Z' is not an RFC 3339 timestamp");
        assert_fails(
            TOP("\"annotations\":[{\"name\":\"homepage\",\"value\":\"ftp://example.com\"}]"),
            "annotations[0].value: bad URL scheme in 'ftp://example.com'");
        assert_fails(
            TOP("\"annotations\":[{\"name\":\"documentation\",\"value\":\"example.com/docs\"}]"),
            "annotations[0].value: bad URL scheme");
        assert_fails(TOP("\"annotations\":[{\"name\":\"appc.io/executor/"
                         "supports-systemd-notify\",\"value\":\"yes\"}]"),
                     "'yes' must be \"true\" or \"false\"");
        assert_fails(TOP("\"annotations\":[{\"name\":\"a\",\"value\":\"1\"},{\"name\":\"a\","
                         "\"value\":\"2\"}]"),
                     "annotations: duplicate annotation 'a'");
        assert_fails(TOP("\"annotations\":[{\"name\":\"A\",\"value\":\"1\"}]"),
                     "annotations[0].name: 'A' is not a valid AC identifier");
}

static void test_dependency_rejections(void **state)
{
        assert_fails(TOP("\"dependencies\":[{\"imageID\":\"sha512-" HEX128 "\"}]"),
                     "dependencies[0].imageName is required");
        assert_fails(TOP("\"dependencies\":[{\"imageName\":\"a\",\"imageID\":\"sha512-...\"}]"),
                     "dependencies[0].imageID: 'sha512-...' is not a valid image ID");
        assert_fails(TOP("\"dependencies\":[{\"imageName\":\"a\",\"size\":-1}]"),
                     "dependencies[0].size: -1 is out of range 0..");
        assert_fails(TOP("\"dependencies\":[{\"imageName\":\"a\",\"size\":1.5}]"),
                     "dependencies[0].size must be an integer, not a real number");
        assert_fails(TOP("\"dependencies\":[{\"imageName\":\"a\",\"labels\":[{\"name\":\"os\","
                         "\"value\":\"plan9\"}]}]"),
                     "dependencies[0].labels: bad os 'plan9'");
        assert_fails(TOP("\"dependencies\":[{\"imageName\":\"A\"}]"),
                     "dependencies[0].imageName: 'A' is not a valid AC identifier");
        assert_fails(TOP("\"dependencies\":[\"a\"]"),
                     "dependencies[0] must be an object, not a string");
}

static void test_app_rejections(void **state)
{
        assert_fails(HEAD ",\"app\":{\"group\":\"0\"}}", "app.user is required");
        assert_fails(HEAD ",\"app\":{\"user\":\"0\"}}", "app.group is required");
        assert_fails(HEAD ",\"app\":{\"user\":\"\",\"group\":\"0\"}}",
                     "app.user must not be empty");
        assert_fails(HEAD ",\"app\":{\"user\":\"/bin/../x\",\"group\":\"0\"}}",
                     "app.user: path '/bin/../x' must not contain");
        assert_fails(HEAD ",\"app\":{\"user\":0,\"group\":\"0\"}}",
                     "app.user must be a string, not an integer");
        assert_fails(HEAD ",\"app\":[]}", "app must be an object, not an array");
        assert_fails(APP("\"exec\":[\"\"]"), "app.exec[0]: the program must not be empty");
        assert_fails(APP("\"exec\":\"/bin/sh\""), "app.exec must be an array, not a string");
        assert_fails(APP("\"exec\":[\"/bin/sh\",1]"),
                     "app.exec[1] must be a string, not an integer");
        /* supplementaryGIDs: appc's Go code accepted negatives */
        assert_fails(APP("\"supplementaryGIDs\":[1,-1]"),
                     "app.supplementaryGIDs[1]: -1 is out of range 0..4294967294");
        assert_fails(APP("\"supplementaryGIDs\":[4294967295]"), "out of range");
        assert_fails(APP("\"supplementaryGids\":[-5]"),
                     "app.supplementaryGids[0]: -5 is out of range");
        assert_fails(APP("\"supplementaryGIDs\":[\"1\"]"),
                     "app.supplementaryGIDs[0] must be an integer, not a string");
        /* eventHandlers */
        assert_fails(APP("\"eventHandlers\":[{\"name\":\"post-start\",\"exec\":[\"/x\"]}]"),
                     "app.eventHandlers[0].name: bad eventHandler 'post-start'");
        assert_fails(APP("\"eventHandlers\":[{\"name\":\"\",\"exec\":[\"/x\"]}]"),
                     "bad eventHandler ''");
        assert_fails(APP("\"eventHandlers\":[{\"name\":\"pre-start\",\"exec\":[\"/x\"]},"
                         "{\"name\":\"pre-start\",\"exec\":[\"/y\"]}]"),
                     "app.eventHandlers[1].name: only one eventHandler 'pre-start' is allowed");
        assert_fails(APP("\"eventHandlers\":[{\"name\":\"pre-start\"}]"),
                     "app.eventHandlers[0].exec is required");
        assert_fails(APP("\"eventHandlers\":[{\"name\":\"pre-start\",\"exec\":[]}]"),
                     "app.eventHandlers[0].exec must not be empty");
        /* workingDirectory */
        assert_fails(APP("\"workingDirectory\":\"opt/work\""),
                     "app.workingDirectory: 'opt/work' is not an absolute path");
        assert_fails(APP("\"workingDirectory\":\"\""),
                     "app.workingDirectory: path must not be empty");
        /* environment */
        assert_fails(APP("\"environment\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"A\","
                         "\"value\":\"2\"}]"),
                     "app.environment: duplicate environment variable 'A'");
        assert_fails(APP("\"environment\":[{\"name\":\"1A\",\"value\":\"1\"}]"),
                     "app.environment[0].name: '1A' is not a valid environment variable name");
        assert_fails(APP("\"environment\":[{\"name\":\"A\"}]"),
                     "app.environment[0].value is required");
        /* mountPoints: appc's Go code let a missing path through */
        assert_fails(APP("\"mountPoints\":[{\"name\":\"work\"}]"),
                     "app.mountPoints[0].path is required");
        assert_fails(APP("\"mountPoints\":[{\"name\":\"work\",\"path\":\"var/lib\"}]"),
                     "app.mountPoints[0].path: 'var/lib' is not an absolute path");
        assert_fails(APP("\"mountPoints\":[{\"name\":\"Work\",\"path\":\"/w\"}]"),
                     "app.mountPoints[0].name: 'Work' is not a valid AC name");
        assert_fails(APP("\"mountPoints\":[{\"name\":\"w\",\"path\":\"/"
                         "a\"},{\"name\":\"w\",\"path\":\"/b\"}]"),
                     "app.mountPoints: duplicate mountPoint 'w'");
        assert_fails(APP("\"mountPoints\":[{\"name\":\"w\",\"path\":\"/a\",\"readOnly\":\"yes\"}]"),
                     "app.mountPoints[0].readOnly must be a boolean, not a string");
        /* ports */
        assert_fails(APP("\"ports\":[{\"name\":\"a\",\"port\":80,\"protocol\":\"tcp\"},"
                         "{\"name\":\"b\",\"port\":70000,\"protocol\":\"tcp\"}]"),
                     "image manifest 'x.aci': app.ports[1].port: 70000 is out of range 1..65535");
        assert_fails(APP("\"ports\":[{\"name\":\"a\",\"port\":0,\"protocol\":\"tcp\"}]"),
                     "app.ports[0].port: 0 is out of range 1..65535");
        assert_fails(
            APP("\"ports\":[{\"name\":\"a\",\"port\":65000,\"count\":1000,\"protocol\":\"tcp\"}]"),
            "app.ports[0]: port 65000 with count 1000 runs past 65535");
        assert_fails(
            APP("\"ports\":[{\"name\":\"a\",\"port\":80,\"count\":0,\"protocol\":\"tcp\"}]"),
            "app.ports[0].count: 0 is out of range 1..65535");
        assert_fails(APP("\"ports\":[{\"name\":\"a\",\"port\":80}]"),
                     "app.ports[0].protocol is required");
        assert_fails(APP("\"ports\":[{\"name\":\"a\",\"port\":80,\"protocol\":\"\"}]"),
                     "app.ports[0].protocol must not be empty");
        assert_fails(APP("\"ports\":[{\"port\":80,\"protocol\":\"tcp\"}]"),
                     "app.ports[0].name is required");
        assert_fails(APP("\"ports\":[{\"name\":\"a\",\"port\":80,\"protocol\":\"tcp\"},"
                         "{\"name\":\"a\",\"port\":81,\"protocol\":\"tcp\"}]"),
                     "app.ports: duplicate port 'a'");
        assert_fails(APP("\"ports\":[{\"name\":\"a\",\"port\":\"80\",\"protocol\":\"tcp\"}]"),
                     "app.ports[0].port must be an integer, not a string");
        /* isolators: errors carry the path */
        assert_fails(APP("\"isolators\":[{\"name\":\"os/linux/no-new-privileges\"}]"),
                     "app.isolators[0].value is required");
        assert_fails(
            APP("\"isolators\":[{\"name\":\"resource/memory\",\"value\":{\"limit\":\"-1\"}}]"),
            "app.isolators[0].value.limit: quantity '-1' is negative");
        assert_fails(APP("\"isolators\":[{\"name\":\"os/unix/sysctl\",\"value\":{\"a\":\"1\"}}]"),
                     "app.isolators[0]: os/unix/sysctl is a pod isolator");
        /* user maps */
        assert_fails(APP("\"userAnnotations\":{\"a\":1}"),
                     "app.userAnnotations['a'] must be a string, not an integer");
        assert_fails(APP("\"userLabels\":[]"), "app.userLabels must be an object, not an array");
}

static void test_api_contract(void **state)
{
        rk_error err = RK_ERROR_INIT;
        struct rk_image_manifest *m = NULL;

        /* NULL err is allowed; what = NULL gives a plain label */
        assert_int_equal(rk_image_manifest_parse(NULL, "{}", 2, &m, NULL), -EBADMSG);
        assert_int_equal(rk_image_manifest_parse(NULL, "{}", 2, &m, &err), -EBADMSG);
        assert_string_equal(err.msg, "image manifest: acKind is required");
        assert_null(m);
        /* hostile "what" cannot inject a line break */
        assert_int_equal(rk_image_manifest_parse("a\nb", "{}", 2, &m, &err), -EBADMSG);
        assert_null(strchr(err.msg, '\n'));
        /* jansson quotes the offending input raw ("near '...'"): still one printable line */
        const char *raw = "{\"acKind\":\"Image\n\x1b[2J\xff\"}";
        assert_int_equal(rk_image_manifest_parse("x.aci", raw, strlen(raw), &m, &err), -EBADMSG);
        assert_non_null(strstr(err.msg, "invalid JSON"));
        for (const char *p = err.msg; *p; p++)
                assert_true(*p >= 0x20 && *p < 0x7f);
        /* values in messages are quoted and escaped */
        const char *t = TOP("\"labels\":[{\"name\":\"os\",\"value\":\"\\u001b[2Jx\"}]");
        assert_int_equal(rk_image_manifest_parse("x.aci", t, strlen(t), &m, &err), -EBADMSG);
        assert_non_null(strstr(err.msg, "bad os '\\x1b[2Jx'"));

        /* a manifest built in memory with a non-UTF-8 string cannot be serialised */
        m = parse_ok(HEAD "}", strlen(HEAD "}"));
        free(m->name);
        m->name = strdup("bad\xff");
        char *s = NULL;
        assert_int_equal(rk_image_manifest_serialize(m, &s, NULL, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "cannot serialise"));
        assert_null(s);
        rk_image_manifest_free(m);
        assert_null(rk_app_free(NULL));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_full_example),
            cmocka_unit_test(test_canonical_form),
            cmocka_unit_test(test_minimal_and_defaults),
            cmocka_unit_test(test_aliases_and_unknowns),
            cmocka_unit_test(test_top_level_rejections),
            cmocka_unit_test(test_dependency_rejections),
            cmocka_unit_test(test_app_rejections),
            cmocka_unit_test(test_api_contract),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
