/* SPDX-License-Identifier: Apache-2.0 */
/* Pod manifest: a reified runtime vector and a template (parses, not runnable), canonical
 * serialisation and its round trip, one negative test per rejection rule, and
 * rk_pod_manifest_validate_runnable. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aci/manifest.h"
#include "base/fileio.h"
#include "base/json.h"

#define DATA "tests/data/manifests/"

#define ID1                                                                                        \
        "sha512-98a183f86c7ad7626e6fb16f1c145d7e16c75d12f3db82febc3efc88ffb53f98"                  \
        "03efbcc992504dfe2b446c63768972e4552310aa6d183c8f944423c45e9d4206"

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

static struct rk_pod_manifest *parse_ok(const char *text, size_t len)
{
        rk_error err = RK_ERROR_INIT;
        struct rk_pod_manifest *m = NULL;
        if (rk_pod_manifest_parse("pod", text, len, &m, &err) != 0) {
                print_error("refused: %s\n", err.msg);
                fail();
        }
        assert_non_null(m);
        return m;
}

static char *serialize_ok(const struct rk_pod_manifest *m, size_t *len)
{
        rk_error err = RK_ERROR_INIT;
        char *s = NULL;
        if (rk_pod_manifest_serialize(m, &s, len, &err) != 0) {
                print_error("serialise failed: %s\n", err.msg);
                fail();
        }
        return s;
}

static void check_round_trip(const struct rk_pod_manifest *m)
{
        size_t n1, n2;
        char *s1 = serialize_ok(m, &n1);
        struct rk_pod_manifest *m2 = parse_ok(s1, n1);
        char *s2 = serialize_ok(m2, &n2);
        assert_int_equal(n1, n2);
        assert_string_equal(s1, s2);
        free(s1);
        free(s2);
        rk_pod_manifest_free(m2);
}

static void check_fails_(const char *text, const char *sub, const char *file, int line)
{
        rk_error err = RK_ERROR_INIT;
        struct rk_pod_manifest *m = (struct rk_pod_manifest *)0x1;
        int r = rk_pod_manifest_parse("p.json", text, strlen(text), &m, &err);
        if (r != -EBADMSG || err.code != -EBADMSG || !strstr(err.msg, sub) ||
            strncmp(err.msg, "pod manifest 'p.json': ", 23) != 0 ||
            m != (struct rk_pod_manifest *)0x1) {
                print_error("%s:%d: %s\n  got %d \"%s\"\n  want -EBADMSG with \"%s\"\n", file, line,
                            text, r, err.msg, sub);
                if (r == 0)
                        rk_pod_manifest_free(m);
                _fail(file, line);
        }
}
#define assert_fails(text, sub) check_fails_((text), (sub), __FILE__, __LINE__)

static void check_not_runnable_(const char *text, const char *sub, const char *file, int line)
{
        rk_error err = RK_ERROR_INIT;
        struct rk_pod_manifest *m = parse_ok(text, strlen(text));
        int r = rk_pod_manifest_validate_runnable(m, &err);
        rk_pod_manifest_free(m);
        if (r != -EINVAL || err.code != -EINVAL || !strstr(err.msg, sub)) {
                print_error("%s:%d: %s\n  got %d \"%s\"\n  want -EINVAL with \"%s\"\n", file, line,
                            text, r, err.msg, sub);
                _fail(file, line);
        }
}
#define assert_not_runnable(text, sub) check_not_runnable_((text), (sub), __FILE__, __LINE__)

#define HEAD "{\"acVersion\":\"0.8.11\",\"acKind\":\"PodManifest\""
/* a pod with one app (image id set) whose object gets extra members, and extra pod members */
#define POD(app_extra, extra)                                                                      \
        HEAD ",\"apps\":[{\"name\":\"a\",\"image\":{\"id\":\"" ID1 "\"}" app_extra "}]" extra "}"
#define VOL(v) POD("", ",\"volumes\":[" v "]")

static void test_runtime_example(void **state)
{
        rk_error err = RK_ERROR_INIT;
        size_t len;
        char *text = read_data("pod-runtime.json", &len);
        struct rk_pod_manifest *m = parse_ok(text, len);
        free(text);

        assert_string_equal(m->ac_version, "0.8.11");
        assert_int_equal(m->n_apps, 3);
        struct rk_pod_app *a = &m->apps[0];
        assert_string_equal(a->name, "reduce-worker");
        assert_string_equal(a->image_name, "example.com/reduce-worker");
        assert_string_equal(a->image_id, ID1);
        assert_string_equal(rk_labels_get(&a->image_labels, "version"), "1.0.0");
        assert_non_null(a->app);
        assert_int_equal(a->app->isolators.n, 2);
        assert_int_equal(a->app->isolators.v[1].u.oom_score_adj, 100);
        assert_true(a->read_only_rootfs);
        assert_int_equal(a->n_mounts, 1);
        assert_string_equal(a->mounts[0].volume, "worklib");
        assert_null(a->mounts[0].app_volume);
        assert_string_equal(rk_name_values_get(&a->annotations, "foo"), "baz");
        a = &m->apps[1];
        assert_false(a->read_only_rootfs);
        assert_non_null(a->mounts[1].app_volume);
        assert_string_equal(a->mounts[1].app_volume->mode, "0700");
        assert_int_equal(a->mounts[1].app_volume->uid, 1000);
        assert_null(m->apps[2].app);

        assert_int_equal(m->n_volumes, 2);
        assert_string_equal(m->volumes[0].kind, "host");
        assert_string_equal(m->volumes[0].source, "/opt/tenant1/work");
        assert_true(m->volumes[0].read_only && m->volumes[0].has_read_only);
        assert_true(m->volumes[0].recursive && m->volumes[0].has_recursive);
        assert_null(m->volumes[1].source);
        assert_true(m->volumes[1].has_uid && m->volumes[1].has_gid);
        assert_int_equal(m->isolators.n, 2);
        assert_int_equal(m->isolators.v[1].kind, RK_ISOLATOR_SYSCTL);
        assert_string_equal(m->isolators.v[1].u.sysctl.values[1], "32768\t60999");
        assert_int_equal(m->annotations.n, 2);
        assert_int_equal(m->n_ports, 2);
        assert_int_equal(m->ports[0].host_port, 4001);
        assert_string_equal(m->ports[0].host_ip, "127.0.0.1");
        assert_null(m->ports[0].pod_port);
        assert_int_equal(m->ports[1].pod_port->port, 9100);
        assert_non_null(m->user_annotations);
        assert_non_null(m->user_labels);
        assert_int_equal(m->n_unknown_isolators, 0);

        assert_int_equal(rk_pod_manifest_validate_runnable(m, &err), 0);
        check_round_trip(m);

        size_t glen;
        char *golden = read_data("pod-runtime.canonical.json", &glen);
        char *s = serialize_ok(m, NULL);
        assert_string_equal(s, golden);
        free(s);
        free(golden);
        rk_pod_manifest_free(m);
        assert_null(rk_pod_manifest_free(NULL));
}

static void test_template(void **state)
{
        rk_error err = RK_ERROR_INIT;
        size_t len;
        char *text = read_data("pod-template.json", &len);
        struct rk_pod_manifest *m = parse_ok(text, len);
        free(text);

        /* schema-valid: no image ids, an unnamed app, an old acVersion */
        assert_string_equal(m->ac_version, "0.3.0");
        assert_int_equal(m->n_apps, 2);
        assert_null(m->apps[0].image_id);
        assert_null(m->apps[1].name);
        check_round_trip(m);
        /* but not runnable */
        assert_int_equal(rk_pod_manifest_validate_runnable(m, &err), -EINVAL);
        assert_string_equal(err.msg, "pod manifest: apps[0] ('reduce-worker'): image.id is "
                                     "required in a runnable pod manifest (a template must be "
                                     "reified first)");
        rk_pod_manifest_free(m);
}

static void test_go_nulls_and_unknowns(void **state)
{
        /* appc's Go code writes null for absent lists */
        const char *t = HEAD ",\"apps\":[{\"name\":\"a\",\"image\":{\"id\":\"" ID1 "\"},"
                             "\"app\":null,\"mounts\":null,\"annotations\":null}],"
                             "\"volumes\":null,\"isolators\":null,\"annotations\":null,"
                             "\"ports\":null,\"future\":[1,2]}";
        struct rk_pod_manifest *m = parse_ok(t, strlen(t));
        char *s = serialize_ok(m, NULL);
        assert_string_equal(s, HEAD ",\"apps\":[{\"name\":\"a\",\"image\":{\"id\":\"" ID1 "\"}}]}");
        free(s);
        rk_pod_manifest_free(m);

        /* unknown isolators from the pod and from every app, reported once each */
        t = HEAD ",\"apps\":[{\"name\":\"a\",\"image\":{\"id\":\"" ID1
                 "\"},\"app\":{\"user\":\"0\","
                 "\"group\":\"0\",\"isolators\":[{\"name\":\"example.com/gpu\",\"value\":1}]}},"
                 "{\"name\":\"b\",\"image\":{\"id\":\"" ID1 "\"},\"app\":{\"user\":\"0\","
                 "\"group\":\"0\",\"isolators\":[{\"name\":\"example.com/gpu\",\"value\":2}]}}],"
                 "\"isolators\":[{\"name\":\"example.com/numa\",\"value\":{}}]}";
        m = parse_ok(t, strlen(t));
        assert_int_equal(m->n_unknown_isolators, 2);
        assert_string_equal(m->unknown_isolators[0], "example.com/gpu");
        assert_string_equal(m->unknown_isolators[1], "example.com/numa");
        check_round_trip(m);
        rk_pod_manifest_free(m);
}

static void test_rejections(void **state)
{
        /* document, kind, version */
        assert_fails("[]", "must be a JSON object, not an array");
        assert_fails(HEAD ",\"apps\":[],\"apps\":[]}", "duplicate object key");
        assert_fails(
            "{\"acVersion\":\"0.8.11\",\"acKind\":\"ImageManifest\",\"apps\":[]}",
            "acKind: 'ImageManifest' is not a valid acKind here (must be \"PodManifest\")");
        assert_fails("{\"acVersion\":\"0.8.11\",\"apps\":[]}", "acKind is required");
        assert_fails("{\"acVersion\":\"2.0.0\",\"acKind\":\"PodManifest\",\"apps\":[]}",
                     "major version must be 0");
        assert_fails(HEAD "}", "pod manifest 'p.json': apps is required");
        assert_fails(HEAD ",\"apps\":{}}", "apps must be an array, not an object");
        /* apps */
        assert_fails(HEAD
                     ",\"apps\":[{\"name\":\"a\",\"image\":{}},{\"name\":\"a\",\"image\":{}}]}",
                     "apps: duplicate app name 'a'");
        assert_fails(HEAD ",\"apps\":[{\"name\":\"a\"}]}", "apps[0].image is required");
        assert_fails(HEAD ",\"apps\":[{\"name\":\"A_1\",\"image\":{}}]}",
                     "apps[0].name: 'A_1' is not a valid AC name");
        assert_fails(HEAD ",\"apps\":[{\"name\":\"a\",\"image\":{\"id\":\"sha512-...\"}}]}",
                     "apps[0].image.id: 'sha512-...' is not a valid image ID");
        assert_fails(HEAD ",\"apps\":[{\"name\":\"a\",\"image\":{\"id\":\"\"}}]}",
                     "apps[0].image.id: '' is not a valid image ID");
        assert_fails(HEAD ",\"apps\":[{\"name\":\"a\",\"image\":{\"name\":\"Bad\"}}]}",
                     "apps[0].image.name: 'Bad' is not a valid AC identifier");
        assert_fails(HEAD ",\"apps\":[{\"name\":\"a\",\"image\":{\"labels\":[{\"name\":\"arch\","
                          "\"value\":\"vax\"}]}}]}",
                     "apps[0].image.labels: bad arch 'vax'");
        assert_fails(POD(",\"readOnlyRootFS\":1", ""), "apps[0].readOnlyRootFS must be a boolean");
        assert_fails(POD(",\"annotations\":[{\"name\":\"created\",\"value\":\"yesterday\"}]", ""),
                     "apps[0].annotations[0].value: 'yesterday' is not an RFC 3339 timestamp");
        assert_fails(POD(",\"annotations\":[{\"name\":\"x\",\"value\":\"1\"},{\"name\":\"x\","
                         "\"value\":\"1\"}]",
                         ""),
                     "apps[0].annotations: duplicate annotation 'x'");
        /* the app object, as in image manifests */
        assert_fails(
            POD(",\"app\":{\"user\":\"0\",\"group\":\"0\",\"supplementaryGIDs\":[-1]}", ""),
            "apps[0].app.supplementaryGIDs[0]: -1 is out of range");
        assert_fails(POD(",\"app\":{\"group\":\"0\"}", ""), "apps[0].app.user is required");
        assert_fails(POD(",\"app\":{\"user\":\"0\",\"group\":\"0\",\"ports\":[{\"name\":\"p\","
                         "\"port\":70000,\"protocol\":\"tcp\"}]}",
                         ""),
                     "apps[0].app.ports[0].port: 70000 is out of range 1..65535");
        /* mounts */
        assert_fails(POD(",\"mounts\":[{\"path\":\"/w\"}]", ""),
                     "apps[0].mounts[0].volume is required");
        assert_fails(POD(",\"mounts\":[{\"volume\":\"v\"}]", ""),
                     "apps[0].mounts[0].path is required");
        assert_fails(POD(",\"mounts\":[{\"volume\":\"v\",\"path\":\"w\"}]", ""),
                     "apps[0].mounts[0].path: 'w' is not an absolute path");
        assert_fails(POD(",\"mounts\":[{\"volume\":\"V\",\"path\":\"/w\"}]", ""),
                     "apps[0].mounts[0].volume: 'V' is not a valid AC name");
        assert_fails(POD(",\"mounts\":[{\"volume\":\"v\",\"path\":\"/"
                         "w\",\"appVolume\":{\"name\":\"v\",\"kind\":\"host\"}}]",
                         ""),
                     "apps[0].mounts[0].appVolume.source is required");
        /* volumes */
        assert_fails(VOL("{\"name\":\"v\",\"kind\":\"host\",\"source\":\"/"
                         "a\"},{\"name\":\"v\",\"kind\":\"empty\"}"),
                     "volumes: duplicate volume name 'v'");
        assert_fails(VOL("{\"name\":\"v\",\"kind\":\"tmpfs\"}"),
                     "volumes[0].kind: unrecognized volume kind 'tmpfs'");
        assert_fails(VOL("{\"name\":\"v\"}"), "volumes[0].kind is required");
        assert_fails(VOL("{\"kind\":\"empty\"}"), "volumes[0].name is required");
        assert_fails(VOL("{\"name\":\"v\",\"kind\":\"host\"}"), "volumes[0].source is required");
        assert_fails(VOL("{\"name\":\"v\",\"kind\":\"host\",\"source\":\"opt/work\"}"),
                     "volumes[0].source: 'opt/work' is not an absolute path");
        assert_fails(VOL("{\"name\":\"v\",\"kind\":\"host\",\"source\":\"/opt/../etc\"}"),
                     "volumes[0].source: path '/opt/../etc' must not contain");
        assert_fails(VOL("{\"name\":\"v\",\"kind\":\"host\",\"source\":\"/a\",\"mode\":\"0755\"}"),
                     "volumes[0].mode is not allowed for a host volume");
        assert_fails(VOL("{\"name\":\"v\",\"kind\":\"host\",\"source\":\"/a\",\"uid\":0}"),
                     "volumes[0].uid is not allowed for a host volume");
        assert_fails(VOL("{\"name\":\"v\",\"kind\":\"host\",\"source\":\"/a\",\"gid\":0}"),
                     "volumes[0].gid is not allowed for a host volume");
        assert_fails(VOL("{\"name\":\"v\",\"kind\":\"empty\",\"source\":\"/a\"}"),
                     "volumes[0].source is not allowed for an empty volume");
        assert_fails(VOL("{\"name\":\"v\",\"kind\":\"empty\",\"recursive\":true}"),
                     "volumes[0].recursive is only allowed for a host volume");
        assert_fails(VOL("{\"name\":\"v\",\"kind\":\"empty\",\"mode\":\"999\"}"),
                     "volumes[0].mode: '999' is not an octal mode");
        assert_fails(VOL("{\"name\":\"v\",\"kind\":\"empty\",\"mode\":\"75\"}"),
                     "is not an octal mode");
        assert_fails(VOL("{\"name\":\"v\",\"kind\":\"empty\",\"mode\":493}"),
                     "volumes[0].mode must be a string, not an integer");
        assert_fails(VOL("{\"name\":\"v\",\"kind\":\"empty\",\"uid\":-1}"),
                     "volumes[0].uid: -1 is out of range 0..4294967294");
        assert_fails(VOL("{\"name\":\"v\",\"kind\":\"empty\",\"gid\":4294967295}"),
                     "volumes[0].gid: 4294967295 is out of range");
        assert_fails(VOL("{\"name\":\"v\",\"kind\":\"empty\",\"readOnly\":\"no\"}"),
                     "volumes[0].readOnly must be a boolean");
        /* pod isolators */
        assert_fails(POD("", ",\"isolators\":[{\"name\":\"os/linux/"
                             "capabilities-retain-set\",\"value\":{\"set\":[\"CAP_CHOWN\"]}}]"),
                     "isolators[0]: os/linux/capabilities-retain-set is an app isolator");
        assert_fails(POD("",
                         ",\"isolators\":[{\"name\":\"os/unix/sysctl\",\"value\":{\"a\":\"1\"}},"
                         "{\"name\":\"os/unix/sysctl\",\"value\":{\"b\":\"2\"}}]"),
                     "isolators[1]: only one os/unix/sysctl is allowed");
        assert_fails(POD("", ",\"isolators\":[{\"name\":\"os/unix/sysctl\",\"value\":{\"a\":2}}]"),
                     "isolators[0].value['a'] must be a string, not an integer");
        assert_fails(POD("", ",\"isolators\":[{\"name\":\"resource/memory\"}]"),
                     "isolators[0].value is required");
        /* pod annotations */
        assert_fails(POD("", ",\"annotations\":[{\"name\":\"Ip\",\"value\":\"1\"}]"),
                     "annotations[0].name: 'Ip' is not a valid AC identifier");
        assert_fails(
            POD("", ",\"annotations\":[{\"name\":\"homepage\",\"value\":\"file:///etc\"}]"),
            "annotations[0].value: bad URL scheme");
        /* ports */
        assert_fails(POD("", ",\"ports\":[{\"name\":\"p\",\"hostPort\":0}]"),
                     "ports[0].hostPort: 0 is out of range 1..65535");
        assert_fails(POD("", ",\"ports\":[{\"name\":\"p\",\"hostPort\":65536}]"),
                     "ports[0].hostPort: 65536 is out of range 1..65535");
        assert_fails(POD("", ",\"ports\":[{\"name\":\"p\"}]"), "ports[0].hostPort is required");
        assert_fails(POD("", ",\"ports\":[{\"name\":\"p\",\"hostPort\":80,\"hostIP\":\"nope\"}]"),
                     "ports[0].hostIP: 'nope' is not an IPv4 or IPv6 address");
        assert_fails(
            POD("",
                ",\"ports\":[{\"name\":\"p\",\"hostPort\":80},{\"name\":\"p\",\"hostPort\":81}]"),
            "ports: duplicate port name 'p'");
        assert_fails(POD("", ",\"ports\":[{\"name\":\"p\",\"hostPort\":80,\"podPort\":{\"name\":"
                             "\"p\",\"port\":80}}]"),
                     "ports[0].podPort.protocol is required");
        assert_fails(POD("",
                         ",\"ports\":[{\"name\":\"p\",\"hostPort\":80,\"podPort\":{\"name\":\"p\","
                         "\"protocol\":\"tcp\",\"port\":65535,\"count\":2}}]"),
                     "ports[0].podPort: port 65535 with count 2 runs past 65535");
        /* user maps */
        assert_fails(POD("", ",\"userLabels\":{\"a\":[]}"),
                     "userLabels['a'] must be a string, not an array");
        assert_fails(POD("", ",\"userAnnotations\":\"x\""),
                     "userAnnotations must be an object, not a string");
}

static void test_runnable(void **state)
{
        rk_error err = RK_ERROR_INIT;

        assert_not_runnable(HEAD ",\"apps\":[]}",
                            "pod manifest: no apps: a runnable pod needs at least one");
        assert_int_equal(rk_pod_manifest_validate_runnable(NULL, &err), -EINVAL);
        assert_not_runnable(HEAD ",\"apps\":[{\"image\":{\"id\":\"" ID1 "\"}}]}",
                            "pod manifest: apps[0].name is required in a runnable pod manifest");
        assert_not_runnable(HEAD
                            ",\"apps\":[{\"name\":\"a\",\"image\":{\"name\":\"example.com/a\"}}]}",
                            "apps[0] ('a'): image.id is required");
        assert_not_runnable(
            POD(",\"mounts\":[{\"volume\":\"data\",\"path\":\"/d\"}]", ""),
            "pod manifest: apps[0].mounts[0]: volume 'data' is not defined in volumes");
        assert_not_runnable(POD(",\"app\":{\"user\":\"0\",\"group\":\"0\",\"mountPoints\":"
                                "[{\"name\":\"data\",\"path\":\"/d\"}]}",
                                ""),
                            "apps[0].app.mountPoints[0] ('data' at '/d') has no mount");

        /* a mount satisfied by a pod volume, or by its own appVolume */
        const char *ok[] = {
            POD(",\"app\":{\"user\":\"0\",\"group\":\"0\",\"mountPoints\":[{\"name\":\"data\","
                "\"path\":\"/d\"}]},"
                "\"mounts\":[{\"volume\":\"data\",\"path\":\"/d\"}]",
                ",\"volumes\":[{\"name\":\"data\",\"kind\":\"empty\"}]"),
            POD(",\"mounts\":[{\"volume\":\"x\",\"path\":\"/"
                "d\",\"appVolume\":{\"name\":\"x\",\"kind\":\"empty\"}}]",
                ""),
            POD("", ""),
        };
        for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
                struct rk_pod_manifest *m = parse_ok(ok[i], strlen(ok[i]));
                if (rk_pod_manifest_validate_runnable(m, &err) != 0) {
                        print_error("%s: not runnable: %s\n", ok[i], err.msg);
                        fail();
                }
                check_round_trip(m);
                rk_pod_manifest_free(m);
        }
}

/* Near the size cap, tens of thousands of entries: the checks stay O(n log n). */
static void test_big(void **state)
{
        rk_error err = RK_ERROR_INIT;
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        const int n = 6000;

        assert_non_null(f);
        fprintf(f, HEAD ",\"apps\":[{\"name\":\"a\",\"image\":{\"id\":\"" ID1 "\"},");
        fprintf(f, "\"app\":{\"user\":\"0\",\"group\":\"0\",\"isolators\":[");
        for (int i = 0; i < n; i++)
                fprintf(f, "%s{\"name\":\"x/u%d\",\"value\":0}", i ? "," : "", i % 3000);
        fprintf(f, "],\"mountPoints\":[");
        for (int i = 0; i < n; i++)
                fprintf(f, "%s{\"name\":\"m%d\",\"path\":\"/m%d\"}", i ? "," : "", i, i);
        fprintf(f, "]},\"mounts\":[");
        for (int i = 0; i < n; i++)
                fprintf(f, "%s{\"volume\":\"v%d\",\"path\":\"/m%d\"}", i ? "," : "", n - 1 - i,
                        n - 1 - i);
        fprintf(f, "]}],\"volumes\":[");
        for (int i = 0; i < n; i++)
                fprintf(f, "%s{\"name\":\"v%d\",\"kind\":\"empty\"}", i ? "," : "", i);
        fprintf(f, "]}");
        assert_int_equal(fclose(f), 0);
        assert_true(len < RK_MANIFEST_MAX);

        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        struct rk_pod_manifest *m = parse_ok(text, len);
        assert_int_equal(rk_pod_manifest_validate_runnable(m, &err), 0);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        assert_int_equal(m->n_unknown_isolators, 3000);
        assert_string_equal(m->unknown_isolators[0], "x/u0");
        assert_string_equal(m->unknown_isolators[2999], "x/u2999");
        double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
        assert_true(secs < 5.0);
        rk_pod_manifest_free(m);
        free(text);
}

static void test_api_contract(void **state)
{
        rk_error err = RK_ERROR_INIT;
        struct rk_pod_manifest *m = NULL;

        assert_int_equal(rk_pod_manifest_parse(NULL, HEAD "}", strlen(HEAD "}"), &m, &err),
                         -EBADMSG);
        assert_string_equal(err.msg, "pod manifest: apps is required");
        assert_int_equal(rk_pod_manifest_parse(NULL, HEAD "}", strlen(HEAD "}"), &m, NULL),
                         -EBADMSG);
        assert_null(m);
        const char *raw = "\"\\nulli\\\n\\*";
        assert_int_equal(rk_pod_manifest_parse("p", raw, strlen(raw), &m, &err), -EBADMSG);
        assert_null(strchr(err.msg, '\n'));
        size_t big = RK_MANIFEST_MAX + 1;
        char *huge = calloc(1, big);
        assert_non_null(huge);
        assert_int_equal(rk_pod_manifest_parse("big", huge, big, &m, &err), -EFBIG);
        assert_null(m);
        free(huge);

        m = parse_ok(POD("", ""), strlen(POD("", "")));
        free(m->ac_version);
        m->ac_version = NULL;
        char *s = NULL;
        assert_int_equal(rk_pod_manifest_serialize(m, &s, NULL, &err), -EINVAL);
        assert_null(s);
        rk_pod_manifest_free(m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_runtime_example),
            cmocka_unit_test(test_template),
            cmocka_unit_test(test_go_nulls_and_unknowns),
            cmocka_unit_test(test_rejections),
            cmocka_unit_test(test_runnable),
            cmocka_unit_test(test_big),
            cmocka_unit_test(test_api_contract),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
