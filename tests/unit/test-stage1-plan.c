/* SPDX-License-Identifier: Apache-2.0 */
/* stage1's plan.json reader (src/stage1/plan.c, compiled into this test: stage1 is not part of
 * librkt). A full plan and a minimal one parse with the documented defaults; then one case per
 * rejection rule, each checked by the message it must produce; then the file checks of
 * s1_plan_load. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../../src/stage1/plan.c"

#define ID                                                                                         \
        "sha512-98a183f86c7ad7626e6fb16f1c145d7e16c75d12f3db82febc3efc88ffb53f98"                  \
        "03efbcc992504dfe2b446c63768972e4552310aa6d183c8f944423c45e9d4206"

static const char *const full_plan =
    "{\"version\":1,\"uuid\":\"6f1c2a3e-1111-4222-8333-444455556666\",\"hostname\":\"rkt-"
    "6f1c2a3e\","
    "\"net\":\"host\",\"interactive\":false,\"detached\":true,\"noOverlay\":true,"
    "\"apps\":[{\"name\":\"web-1\",\"image\":\"" ID
    "\",\"tree\":\"/var/lib/rkt/cas/tree/x/rootfs\","
    "\"readOnlyRootFS\":true,\"exec\":[\"/bin/sh\",\"-c\",\"echo hi\"],"
    "\"env\":[\"PATH=/bin\",\"AC_APP_NAME=web-1\",\"EMPTY=\"],\"uid\":1000,\"gid\":1001,"
    "\"supplementaryGids\":[5,6],\"workingDirectory\":\"/srv/\","
    "\"preStart\":[[\"/bin/pre\",\"a\"]],\"postStop\":[[\"/bin/post\"],[\"/bin/post2\"]],"
    "\"mounts\":[{\"source\":\"/srv/data\",\"target\":\"/data\",\"readOnly\":true,"
    "\"recursive\":true,\"kind\":\"host\"},{\"source\":\"/p/volumes/v\",\"target\":\"/dev/shm\","
    "\"kind\":\"empty\"}],"
    "\"capabilities\":{\"bounding\":[\"CAP_CHOWN\",\"CAP_NET_ADMIN\",\"CAP_KILL\"],"
    "\"effective\":[\"CAP_NET_ADMIN\"],\"permitted\":[\"CAP_NET_ADMIN\"],"
    "\"inheritable\":[\"CAP_NET_ADMIN\"],\"ambient\":[\"CAP_NET_ADMIN\"]},"
    "\"noNewPrivileges\":false}]}";

static json_t *base_plan(void)
{
        json_error_t je;
        json_t *p =
            json_loads("{\"version\":1,\"uuid\":\"6f1c2a3e-1111-4222-8333-444455556666\","
                       "\"hostname\":\"rkt-6f1c2a3e\",\"net\":\"none\","
                       "\"apps\":[{\"name\":\"app\",\"tree\":\"/t/rootfs\","
                       "\"exec\":[\"/bin/true\"],\"env\":[\"PATH=/bin\"],\"uid\":0,\"gid\":0,"
                       "\"mounts\":[{\"source\":\"/s\",\"target\":\"/v\"}]}]}",
                       0, &je);
        assert_non_null(p);
        return p;
}

static int parse_json(json_t *doc, struct s1_plan **ret, rk_error *err)
{
        char *s = json_dumps(doc, JSON_COMPACT);
        assert_non_null(s);
        int r = s1_plan_parse(s, strlen(s), ret, err);
        free(s);
        return r;
}

static void test_full_plan(void **state)
{
        rk_error err = RK_ERROR_INIT;
        struct s1_plan *p = NULL;
        assert_int_equal(s1_plan_parse(full_plan, strlen(full_plan), &p, &err), 0);
        assert_string_equal(p->hostname, "rkt-6f1c2a3e");
        assert_int_equal(p->net, S1_NET_HOST);
        assert_true(p->detached && p->no_overlay && !p->interactive);
        assert_int_equal(p->n_apps, 1);
        const struct s1_app *a = &p->apps[0];
        assert_string_equal(a->name, "web-1");
        assert_true(a->read_only_rootfs);
        assert_int_equal(a->exec.n, 3);
        assert_string_equal(a->exec.v[2], "echo hi");
        assert_null(a->exec.v[3]);
        assert_int_equal(a->env.n, 3);
        assert_null(a->env.v[3]);
        assert_int_equal(a->uid, 1000);
        assert_int_equal(a->gid, 1001);
        assert_int_equal(a->n_groups, 2);
        assert_int_equal(a->groups[1], 6);
        assert_string_equal(a->working_dir, "/srv/");
        assert_int_equal(a->n_pre_start, 1);
        assert_string_equal(a->pre_start[0].v[1], "a");
        assert_int_equal(a->n_post_stop, 2);
        assert_int_equal(a->n_mounts, 2);
        assert_true(a->mounts[0].read_only && a->mounts[0].recursive);
        assert_int_equal(a->mounts[1].kind, S1_MOUNT_EMPTY);
        assert_false(a->mounts[1].read_only);
        assert_true(a->cap_bounding == ((1u << 0) | (1u << 12) | (1u << 5)));
        assert_true(a->cap_effective == (1u << 12) && a->cap_permitted == (1u << 12));
        assert_true(a->cap_inheritable == (1u << 12) && a->cap_ambient == (1u << 12));
        assert_false(a->no_new_privs);
        s1_plan_free(p);
}

static void test_defaults(void **state)
{
        rk_error err = RK_ERROR_INIT;
        struct s1_plan *p = NULL;
        json_t *doc = base_plan();
        assert_int_equal(parse_json(doc, &p, &err), 0);
        json_decref(doc);
        assert_int_equal(p->net, S1_NET_NONE);
        assert_false(p->interactive || p->detached || p->no_overlay);
        const struct s1_app *a = &p->apps[0];
        assert_null(a->image);
        assert_false(a->read_only_rootfs);
        assert_string_equal(a->working_dir, "/");
        assert_int_equal(a->n_groups, 0);
        assert_int_equal(a->n_pre_start + a->n_post_stop, 0);
        assert_int_equal(a->mounts[0].kind, S1_MOUNT_HOST);
        assert_false(a->mounts[0].read_only || a->mounts[0].recursive);
        /* no capabilities object: every set empty; no_new_privs on */
        assert_true((a->cap_bounding | a->cap_effective | a->cap_permitted | a->cap_inheritable |
                     a->cap_ambient) == 0);
        assert_true(a->no_new_privs);
        s1_plan_free(p);
}

static void test_network(void **state)
{
        rk_error err = RK_ERROR_INIT;
        struct s1_plan *p = NULL;
        json_t *doc = base_plan();
        json_error_t je;
        json_object_set_new(doc, "net", json_string("default-restricted"));
        json_object_set_new(doc, "network",
                            json_loads("{\"ip\":\"172.31.4.2\",\"gateway\":\"172.31.0.1\","
                                       "\"subnet\":\"172.31.0.0/16\",\"defaultRoute\":false}",
                                       0, &je));
        assert_int_equal(parse_json(doc, &p, &err), 0);
        json_decref(doc);
        assert_int_equal(p->net, S1_NET_RESTRICTED);
        assert_int_equal(ntohl(p->net_ip), 0xac1f0402u);
        assert_int_equal(ntohl(p->net_gateway), 0xac1f0001u);
        assert_int_equal(ntohl(p->net_subnet), 0xac1f0000u);
        assert_int_equal(p->net_prefix, 16);
        assert_false(p->net_default_route);
        s1_plan_free(p);
}

static void test_userns(void **state)
{
        rk_error err = RK_ERROR_INIT;
        struct s1_plan *p = NULL;
        json_t *doc = base_plan();
        json_t *u = json_pack("{s:I, s:I, s:I}", "uidBase", (json_int_t)2147483648LL, "gidBase",
                              (json_int_t)2147549184LL, "size", (json_int_t)65536);
        json_object_set_new(doc, "userns", u);
        json_object_set_new(json_array_get(json_object_get(doc, "apps"), 0), "uid",
                            json_integer(65535));
        assert_int_equal(parse_json(doc, &p, &err), 0);
        json_decref(doc);
        assert_true(p->userns);
        assert_false(p->userns_chown);
        assert_int_equal(p->uid_base, 2147483648u);
        assert_int_equal(p->gid_base, 2147549184u);
        assert_int_equal(p->userns_size, 65536);
        s1_plan_free(p);
        /* absent: no user namespace */
        doc = base_plan();
        assert_int_equal(parse_json(doc, &p, &err), 0);
        json_decref(doc);
        assert_false(p->userns);
        s1_plan_free(p);
}

/* A rejection: patches (JSON objects; the value "#delete" deletes a key) merged into the base
 * plan's top level, its app and the app's mount; want is a substring of the error message. */
struct reject {
        const char *top, *app, *mount, *want;
};

#define NETOK "\"ip\":\"172.16.28.5\",\"gateway\":\"172.16.28.1\",\"defaultRoute\":true"

#define CNIA "{\"cniVersion\":\"1.0.0\",\"name\":\"a\",\"plugins\":[{\"type\":\"ptp\"}]}"

static const struct reject rejects[] = {
    /* net and network (default, default-restricted) */
    {"{\"net\":\"bridge\"}", NULL, NULL, "is not none, host, default, default-restricted or cni"},
    /* cni (named CNI networks) */
    {"{\"net\":\"cni\"}", NULL, NULL, "cni must be an array of 1 to 8 networks"},
    {"{\"net\":\"cni\",\"cni\":[]}", NULL, NULL, "cni must be an array of 1 to 8 networks"},
    {"{\"net\":\"none\",\"cni\":[]}", NULL, NULL, "cni given for another net"},
    {"{\"net\":\"cni\",\"cni\":[{\"name\":\"a\",\"ifname\":\"eth1\",\"args\":\"\",\"config\":" CNIA
     "}]}",
     NULL, NULL, "bad name, ifname or args"},
    {"{\"net\":\"cni\",\"cni\":[{\"name\":\"a\",\"ifname\":\"eth0\",\"args\":\"X\",\"config\":" CNIA
     "}]}",
     NULL, NULL, "bad name, ifname or args"},
    {"{\"net\":\"cni\",\"cni\":[{\"name\":\"b\",\"ifname\":\"eth0\",\"args\":\"\",\"config\":" CNIA
     "}]}",
     NULL, NULL, "config names another network"},
    {"{\"net\":\"cni\",\"cni\":[{\"name\":\"a\",\"ifname\":\"eth0\",\"args\":\"\",\"config\":" CNIA
     "},{\"name\":\"a\",\"ifname\":\"eth1\",\"args\":\"\",\"config\":" CNIA "}]}",
     NULL, NULL, "network 'a' twice"},
    {"{\"net\":\"cni\",\"cni\":[{\"name\":\"a\",\"ifname\":\"eth0\",\"args\":\"\",\"config\":"
     "{\"cniVersion\":\"1.0.0\",\"name\":\"a\",\"plugins\":[{\"type\":\"../sh\"}]}}]}",
     NULL, NULL, "is not a plugin file name"},
    {"{\"net\":\"cni\",\"cni\":[{\"name\":\"a\",\"ifname\":\"eth0\",\"args\":\"\",\"config\":" CNIA
     ",\"x\":1}]}",
     NULL, NULL, "unknown key \"x\""},
    {"{\"net\":\"default\"}", NULL, NULL, "network missing or not an object"},
    {"{\"net\":\"none\",\"network\":{}}", NULL, NULL, "network given for net none or host"},
    {"{\"net\":\"host\",\"network\":{" NETOK ",\"subnet\":\"172.16.28.0/24\"}}", NULL, NULL,
     "network given for net none or host"},
    {"{\"net\":\"default\",\"network\":{" NETOK ",\"subnet\":\"172.16.28.0/24\",\"x\":1}}", NULL,
     NULL, "unknown key \"x\""},
    {"{\"net\":\"default\",\"network\":{" NETOK "}}", NULL, NULL, "subnet"},
    {"{\"net\":\"default\",\"network\":{" NETOK ",\"subnet\":\"172.16.28.0\"}}", NULL, NULL,
     "is not A.B.C.D/N"},
    {"{\"net\":\"default\",\"network\":{" NETOK ",\"subnet\":\"172.16.28.0/31\"}}", NULL, NULL,
     "is not A.B.C.D/N"},
    {"{\"net\":\"default\",\"network\":{" NETOK ",\"subnet\":\"172.16.28.0/024\"}}", NULL, NULL,
     "is not A.B.C.D/N"},
    {"{\"net\":\"default\",\"network\":{" NETOK ",\"subnet\":\"172.16.28.1/24\"}}", NULL, NULL,
     "is not A.B.C.D/N"},
    {"{\"net\":\"default\",\"network\":{" NETOK ",\"subnet\":\"172.16.28.0/ 24\"}}", NULL, NULL,
     "is not A.B.C.D/N"},
    {"{\"net\":\"default\",\"network\":{" NETOK ",\"subnet\":\"172.17.0.0/16\"}}", NULL, NULL,
     "ip is not a host address"},
    {"{\"net\":\"default\",\"network\":{\"ip\":\"172.16.28.05\",\"gateway\":\"172.16.28."
     "1\",\"defaultRoute\":true,\"subnet\":\"172.16.28.0/24\"}}",
     NULL, NULL, "is not an IPv4 address"},
    {"{\"net\":\"default\",\"network\":{\"ip\":\"172.16.28.255\",\"gateway\":\"172.16.28."
     "1\",\"defaultRoute\":true,\"subnet\":\"172.16.28.0/24\"}}",
     NULL, NULL, "ip is not a host address"},
    {"{\"net\":\"default\",\"network\":{\"ip\":\"172.16.28.5\",\"gateway\":\"172.16.28."
     "0\",\"defaultRoute\":true,\"subnet\":\"172.16.28.0/24\"}}",
     NULL, NULL, "gateway is not a host address"},
    {"{\"net\":\"default\",\"network\":{\"ip\":\"172.16.28.1\",\"gateway\":\"172.16.28."
     "1\",\"defaultRoute\":true,\"subnet\":\"172.16.28.0/24\"}}",
     NULL, NULL, "ip and gateway are the same"},
    {"{\"net\":\"default\",\"network\":{\"ip\":\"172.16.28.5\",\"gateway\":\"172.16.28."
     "1\",\"defaultRoute\":1,\"subnet\":\"172.16.28.0/24\"}}",
     NULL, NULL, "defaultRoute"},
    /* capabilities and no_new_privs */
    {NULL, "{\"capabilities\":[]}", NULL, "capabilities: must be an object"},
    {NULL, "{\"capabilities\":{\"bounding\":[],\"extra\":[]}}", NULL, "unknown key \"extra\""},
    {NULL, "{\"capabilities\":{\"bounding\":[\"cap_chown\"]}}", NULL,
     "'cap_chown' is not a capability"},
    {NULL, "{\"capabilities\":{\"bounding\":[\"CAP_NO_SUCH\"]}}", NULL,
     "'CAP_NO_SUCH' is not a capability"},
    {NULL, "{\"capabilities\":{\"bounding\":[\"CAP_\"]}}", NULL, "is not a capability"},
    {NULL, "{\"capabilities\":{\"bounding\":[1]}}", NULL, "is not a string"},
    {NULL, "{\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_KILL\"]}}", NULL,
     "'CAP_KILL' is listed twice"},
    {NULL, "{\"capabilities\":{\"bounding\":[\"CAP_KILL\"],\"effective\":[\"CAP_KILL\"]}}", NULL,
     "effective is not a subset of permitted"},
    {NULL, "{\"capabilities\":{\"permitted\":[\"CAP_KILL\"]}}", NULL, "subsets of bounding"},
    {NULL, "{\"capabilities\":{\"inheritable\":[\"CAP_KILL\"]}}", NULL, "subsets of bounding"},
    {NULL,
     "{\"capabilities\":{\"bounding\":[\"CAP_KILL\"],\"permitted\":[\"CAP_KILL\"],"
     "\"ambient\":[\"CAP_KILL\"]}}",
     NULL, "ambient must be a subset of permitted and inheritable"},
    {NULL, "{\"noNewPrivileges\":1}", NULL, "noNewPrivileges"},
    /* cgroups (PLAN.md "Cgroups") */
    {NULL, "{\"cgroup\":[]}", NULL, "cgroup: must be an object"},
    {NULL, "{\"cgroup\":{\"blkioWeight\":10}}", NULL, "unknown key \"blkioWeight\""},
    {NULL, "{\"cgroup\":{\"memoryMax\":4095}}", NULL, "\"memoryMax\" 4095 is not from 4096"},
    {NULL, "{\"cgroup\":{\"memoryMax\":\"1G\"}}", NULL, "memoryMax"},
    {NULL, "{\"cgroup\":{\"cpuMilli\":9}}", NULL, "\"cpuMilli\" 9 is not from 10"},
    {NULL, "{\"cgroup\":{\"cpuShares\":1}}", NULL, "\"cpuShares\" 1 is not from 2"},
    {NULL, "{\"cgroup\":{\"cpuShares\":262145}}", NULL, "is not from 2 to 262144"},
    {NULL, "{\"cgroup\":{\"pidsMax\":0}}", NULL, "\"pidsMax\" 0 is not from 1"},
    {NULL, "{\"cgroup\":{\"pidsMax\":4194305}}", NULL, "is not from 1 to 4194304"},
    {NULL, "{\"oomScoreAdj\":1001}", NULL, "\"oomScoreAdj\" 1001 is not from -1000"},
    {NULL, "{\"oomScoreAdj\":-1001}", NULL, "\"oomScoreAdj\" -1001"},
    {"{\"cgroupsOptional\":1}", NULL, NULL, "cgroupsOptional"},
    /* seccomp */
    {NULL, "{\"seccomp\":\"seccomp/app.bpf\"}", NULL, "seccomp: must be an object"},
    {NULL, "{\"seccomp\":{\"bpf\":\"seccomp/app.bpf\"}}", NULL, "\"sha512\" is required"},
    {NULL,
     "{\"seccomp\":{\"bpf\":\"seccomp/"
     "app.bpf\",\"sha512\":"
     "\"0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "0000000000000000000000000000000000000\",\"x\":1}}",
     NULL, "unknown key \"x\""},
    {NULL,
     "{\"seccomp\":{\"bpf\":\"seccomp/../"
     "plan.bpf\",\"sha512\":"
     "\"0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "0000000000000000000000000000000000000\"}}",
     NULL, "is not seccomp/<name>.bpf"},
    {NULL,
     "{\"seccomp\":{\"bpf\":\"/etc/"
     "app.bpf\",\"sha512\":"
     "\"0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "0000000000000000000000000000000000000\"}}",
     NULL, "is not seccomp/<name>.bpf"},
    {NULL,
     "{\"seccomp\":{\"bpf\":\"seccomp/a/"
     "b.bpf\",\"sha512\":"
     "\"0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "0000000000000000000000000000000000000\"}}",
     NULL, "is not seccomp/<name>.bpf"},
    {NULL, "{\"seccomp\":{\"bpf\":\"seccomp/app.bpf\",\"sha512\":\"ABC\"}}", NULL,
     "128 lower-case hex"},
    /* landlock and selinux */
    {NULL, "{\"landlock\":1}", NULL, "\"landlock\" must be a boolean"},
    {NULL, "{\"landlock\":\"false\"}", NULL, "\"landlock\" must be a boolean"},
    {NULL, "{\"landlock\":null}", NULL, "\"landlock\" must be a boolean"},
    {NULL, "{\"selinux\":\"system_u:system_r:container_t:s0\"}", NULL,
     "selinux: must be an object"},
    {NULL, "{\"selinux\":{\"mount\":\"system_u:object_r:f_t:s0\"}}", NULL,
     "\"process\" is required"},
    {NULL, "{\"selinux\":{\"process\":\"system_u:system_r:c_t:s0\"}}", NULL,
     "\"mount\" is required"},
    {NULL,
     "{\"selinux\":{\"process\":\"system_u:system_r:c_t:s0\",\"mount\":\"u:r:t:s0\","
     "\"file\":\"u:r:t:s0\"}}",
     NULL, "selinux: unknown key \"file\""},
    {NULL, "{\"selinux\":{\"process\":1,\"mount\":\"u:r:t:s0\"}}", NULL,
     "\"process\" must be a string"},
    {NULL, "{\"selinux\":{\"process\":\"system_u:system_r:c_t\",\"mount\":\"u:r:t:s0\"}}", NULL,
     "process 'system_u:system_r:c_t' is not a user:role:type:level context"},
    {NULL, "{\"selinux\":{\"process\":\"u:r:t:s0 \",\"mount\":\"u:r:t:s0\"}}", NULL,
     "is not a user:role:type:level context"},
    {NULL, "{\"selinux\":{\"process\":\"u:r:t:s0:c1024\",\"mount\":\"u:r:t:s0\"}}", NULL,
     "is not a user:role:type:level context"},
    {NULL, "{\"selinux\":{\"process\":\"u:r:t:s0:c5.c2\",\"mount\":\"u:r:t:s0\"}}", NULL,
     "is not a user:role:type:level context"},
    {NULL, "{\"selinux\":{\"process\":\"::t:s0\",\"mount\":\"u:r:t:s0\"}}", NULL,
     "is not a user:role:type:level context"},
    {NULL, "{\"selinux\":{\"process\":\"u:r:t:s0\",\"mount\":\"u:r:t:s0,context=x\"}}", NULL,
     "mount 'u:r:t:s0,context=x' is not a user:role:type:level context"},
    {NULL, "{\"selinux\":{\"process\":\"u:r:t:s0\",\"mount\":\"u:r:t:s0\\nx\"}}", NULL,
     "mount 'u:r:t:s0?x'"},
    /* top level */
    {"{\"extra\":1}", NULL, NULL, "plan: unknown key \"extra\""},
    {"{\"version\":\"#delete\"}", NULL, NULL, "\"version\" is required"},
    {"{\"version\":\"1\"}", NULL, NULL, "\"version\" must be an integer, not a string"},
    {"{\"version\":2}", NULL, NULL, "version 2, this stage1 reads 1"},
    {"{\"uuid\":\"#delete\"}", NULL, NULL, "\"uuid\" is required"},
    {"{\"uuid\":\"6F1C2A3E-1111-4222-8333-444455556666\"}", NULL, NULL, "lowercase RFC 4122"},
    {"{\"uuid\":\"6f1c2a3e11114222833344445555666600\"}", NULL, NULL, "lowercase RFC 4122"},
    {"{\"uuid\":\"6f1c2a3e-1111-4222-8333-44445555666\"}", NULL, NULL, "lowercase RFC 4122"},
    {"{\"hostname\":\"\"}", NULL, NULL, "not a valid host name"},
    {"{\"hostname\":\"-rkt\"}", NULL, NULL, "not a valid host name"},
    {"{\"hostname\":\"a..b\"}", NULL, NULL, "not a valid host name"},
    {"{\"hostname\":\"a b\"}", NULL, NULL, "not a valid host name"},
    {"{\"hostname\":\"a.\"}", NULL, NULL, "not a valid host name"},
    {"{\"hostname\":\"a\\nb\"}", NULL, NULL, "hostname 'a?b'"},
    {"{\"hostname\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", NULL,
     NULL, "not a valid host name"},
    {"{\"net\":\"#delete\"}", NULL, NULL, "\"net\" is required"},
    {"{\"net\":\"bridge\"}", NULL, NULL,
     "net 'bridge' is not none, host, default, default-restricted or cni"},
    {"{\"interactive\":1}", NULL, NULL, "\"interactive\" must be a boolean"},
    {"{\"detached\":\"yes\"}", NULL, NULL, "\"detached\" must be a boolean"},
    {"{\"noOverlay\":null}", NULL, NULL, "\"noOverlay\" must be a boolean, not null"},
    {"{\"interactive\":true,\"detached\":true}", NULL, NULL, "exclude each other"},
    /* userns (--private-users) */
    {"{\"userns\":1}", NULL, NULL, "userns is not an object"},
    {"{\"userns\":{\"uidBase\":65536,\"gidBase\":65536,\"size\":65536,\"x\":1}}", NULL, NULL,
     "unknown key \"x\""},
    {"{\"userns\":{\"gidBase\":65536,\"size\":65536}}", NULL, NULL, "\"uidBase\" is required"},
    {"{\"userns\":{\"uidBase\":0,\"gidBase\":65536,\"size\":65536}}", NULL, NULL, "maps host root"},
    {"{\"userns\":{\"uidBase\":65536,\"gidBase\":0,\"size\":65536}}", NULL, NULL, "maps host root"},
    {"{\"userns\":{\"uidBase\":65536,\"gidBase\":65536,\"size\":0}}", NULL, NULL, "is empty"},
    {"{\"userns\":{\"uidBase\":4294901760,\"gidBase\":65536,\"size\":65536}}", NULL, NULL,
     "beyond 2^32-2"},
    {"{\"userns\":{\"uidBase\":65536,\"gidBase\":65536,\"size\":65536,\"chown\":1}}", NULL, NULL,
     "\"chown\" must be a boolean"},
    {"{\"userns\":{\"uidBase\":65536,\"gidBase\":65536,\"size\":100}}", "{\"uid\":100}", NULL,
     "outside the pod's user namespace"},
    {"{\"userns\":{\"uidBase\":65536,\"gidBase\":65536,\"size\":100}}",
     "{\"supplementaryGids\":[1,100]}", NULL, "outside the pod's user namespace"},
    {"{\"apps\":\"#delete\"}", NULL, NULL, "\"apps\" is required"},
    {"{\"apps\":{}}", NULL, NULL, "\"apps\" must be an array"},
    {"{\"apps\":[]}", NULL, NULL, "0 apps, need 1 to 64"},
    {"{\"apps\":[1]}", NULL, NULL, "apps[0]: must be an object"},
    /* app */
    {NULL, "{\"isolators\":[]}", NULL, "apps[0]: unknown key \"isolators\""},
    {NULL, "{\"name\":\"#delete\"}", NULL, "\"name\" is required"},
    {NULL, "{\"name\":\"App\"}", NULL, "name 'App' is not an AC Name"},
    {NULL, "{\"name\":\"-a\"}", NULL, "is not an AC Name"},
    {NULL, "{\"name\":\"a--b\"}", NULL, "is not an AC Name"},
    {NULL, "{\"name\":\"a/b\"}", NULL, "is not an AC Name"},
    {NULL, "{\"name\":\"..\"}", NULL, "is not an AC Name"},
    {NULL, "{\"name\":\"\"}", NULL, "is not an AC Name"},
    {NULL, "{\"image\":\"sha512-abc\"}", NULL, "not a full sha512 image ID"},
    {NULL, "{\"image\":7}", NULL, "\"image\" must be a string"},
    {NULL, "{\"tree\":\"#delete\"}", NULL, "\"tree\" is required"},
    {NULL, "{\"tree\":\"t/rootfs\"}", NULL, "tree 't/rootfs' is not absolute"},
    {NULL, "{\"tree\":\"/t//rootfs\"}", NULL, "is not a canonical path"},
    {NULL, "{\"tree\":\"/t/./rootfs\"}", NULL, "is not a canonical path"},
    {NULL, "{\"tree\":\"/t/../rootfs\"}", NULL, "tree '/t/../rootfs' has a '..' component"},
    {NULL, "{\"tree\":\"/t/rootfs/\"}", NULL, "is not a canonical path"},
    {NULL, "{\"readOnlyRootFS\":0}", NULL, "\"readOnlyRootFS\" must be a boolean"},
    {NULL, "{\"exec\":\"#delete\"}", NULL, "\"exec\" is required"},
    {NULL, "{\"exec\":[]}", NULL, "\"exec\": must not be empty"},
    {NULL, "{\"exec\":\"/bin/true\"}", NULL, "\"exec\" must be an array"},
    {NULL, "{\"exec\":[\"/bin/x\",1]}", NULL, "\"exec\": entry 1 is not a string"},
    {NULL, "{\"exec\":[\"true\"]}", NULL, "argv[0] 'true' is not absolute"},
    {NULL, "{\"exec\":[\"/bin/../bin/true\"]}", NULL, "argv[0] '/bin/../bin/true' has a '..'"},
    {NULL, "{\"env\":\"#delete\"}", NULL, "\"env\" is required"},
    {NULL, "{\"env\":[\"PATH\"]}", NULL, "env entry 'PATH' is not NAME=value"},
    {NULL, "{\"env\":[\"=x\"]}", NULL, "env entry '=x' is not NAME=value"},
    {NULL, "{\"env\":[\"A=1\",\"B=2\",\"A=3\"]}", NULL, "env name in 'A=3' is repeated"},
    {NULL, "{\"env\":[true]}", NULL, "entry 0 is not a string"},
    {NULL, "{\"uid\":\"#delete\"}", NULL, "\"uid\" is required"},
    {NULL, "{\"uid\":-1}", NULL, "\"uid\" -1 is out of range"},
    {NULL, "{\"uid\":4294967295}", NULL, "\"uid\" 4294967295 is out of range"},
    {NULL, "{\"uid\":99999999999}", NULL, "out of range"},
    {NULL, "{\"uid\":\"0\"}", NULL, "\"uid\" must be an integer"},
    {NULL, "{\"uid\":0.5}", NULL, "\"uid\" must be an integer, not a number"},
    {NULL, "{\"gid\":-5}", NULL, "\"gid\" -5 is out of range"},
    {NULL, "{\"supplementaryGids\":5}", NULL, "\"supplementaryGids\" must be an array"},
    {NULL, "{\"supplementaryGids\":[1,-2]}", NULL, "supplementaryGids[1] is not a valid gid"},
    {NULL, "{\"supplementaryGids\":[\"1\"]}", NULL, "supplementaryGids[0] is not a valid gid"},
    {NULL, "{\"workingDirectory\":\"srv\"}", NULL, "workingDirectory 'srv' is not absolute"},
    {NULL, "{\"workingDirectory\":\"/srv/../..\"}", NULL,
     "workingDirectory '/srv/../..' has a '..'"},
    {NULL, "{\"workingDirectory\":\"/..\"}", NULL, "has a '..' component"},
    {NULL, "{\"preStart\":{}}", NULL, "\"preStart\" must be an array"},
    {NULL, "{\"preStart\":[\"/bin/x\"]}", NULL, "\"preStart\"[0]: must be an array"},
    {NULL, "{\"preStart\":[[]]}", NULL, "\"preStart\"[0]: must not be empty"},
    {NULL, "{\"postStop\":[[\"x\"]]}", NULL, "\"postStop\"[0]: argv[0] 'x' is not absolute"},
    {NULL, "{\"mounts\":{}}", NULL, "\"mounts\" must be an array"},
    {NULL, "{\"mounts\":[\"/v\"]}", NULL, "mounts[0]: must be an object"},
    /* mount */
    {NULL, NULL, "{\"volume\":\"v\"}", "mounts[0]: unknown key \"volume\""},
    {NULL, NULL, "{\"source\":\"#delete\"}", "\"source\" is required"},
    {NULL, NULL, "{\"source\":\"s\"}", "source 's' is not absolute"},
    {NULL, NULL, "{\"source\":\"/s/\"}", "source '/s/' is not a canonical path"},
    {NULL, NULL, "{\"target\":\"#delete\"}", "\"target\" is required"},
    {NULL, NULL, "{\"target\":\"v\"}", "target 'v' is not absolute"},
    {NULL, NULL, "{\"target\":\"/a/../proc\"}", "target '/a/../proc' has a '..'"},
    {NULL, NULL, "{\"target\":\"/a/./b\"}", "target '/a/./b' is not a canonical path"},
    {NULL, NULL, "{\"target\":\"//a\"}", "is not a canonical path"},
    {NULL, NULL, "{\"target\":\"/\"}", "target '/' is reserved for the runtime"},
    {NULL, NULL, "{\"target\":\"/proc\"}", "target '/proc' is reserved"},
    {NULL, NULL, "{\"target\":\"/proc/sys\"}", "target '/proc/sys' is reserved"},
    {NULL, NULL, "{\"target\":\"/sys/fs/cgroup\"}", "is reserved"},
    {NULL, NULL, "{\"target\":\"/dev\"}", "target '/dev' is reserved"},
    {NULL, NULL, "{\"target\":\"/dev/pts/0\"}", "is reserved"},
    {NULL, NULL, "{\"readOnly\":\"true\"}", "\"readOnly\" must be a boolean"},
    {NULL, NULL, "{\"recursive\":1}", "\"recursive\" must be a boolean"},
    {NULL, NULL, "{\"kind\":\"tmpfs\"}", "kind 'tmpfs' is not host or empty"},
};

static void apply(json_t *obj, const char *patch)
{
        if (!patch)
                return;
        json_error_t je;
        json_t *p = json_loads(patch, 0, &je);
        assert_non_null(p);
        const char *k;
        json_t *v;
        json_object_foreach (p, k, v) {
                if (json_is_string(v) && strcmp(json_string_value(v), "#delete") == 0)
                        json_object_del(obj, k);
                else
                        json_object_set(obj, k, v);
        }
        json_decref(p);
}

static void test_rejections(void **state)
{
        for (size_t i = 0; i < ELEMENTSOF(rejects); i++) {
                json_t *doc = base_plan();
                json_t *app = json_array_get(json_object_get(doc, "apps"), 0);
                apply(doc, rejects[i].top);
                apply(app, rejects[i].app);
                apply(json_array_get(json_object_get(app, "mounts"), 0), rejects[i].mount);
                rk_error err = RK_ERROR_INIT;
                struct s1_plan *p = NULL;
                int r = parse_json(doc, &p, &err);
                json_decref(doc);
                if (r >= 0 || !strstr(err.msg, rejects[i].want)) {
                        print_error("case %zu: r=%d msg='%s' want '%s'\n", i, r, err.msg,
                                    rejects[i].want);
                        fail();
                }
                assert_null(p);
        }
}

static int parse_text(const char *text, rk_error *err)
{
        struct s1_plan *p = NULL;
        int r = s1_plan_parse(text, strlen(text), &p, err);
        s1_plan_free(p);
        return r;
}

static void test_documents(void **state)
{
        rk_error err = RK_ERROR_INIT;
        assert_int_equal(parse_text("", &err), -EBADMSG);
        assert_int_equal(parse_text("[]", &err), -EBADMSG);
        assert_string_equal(err.msg, "plan: not a JSON object");
        assert_int_equal(parse_text("{\"version\":1} x", &err), -EBADMSG);
        assert_int_equal(parse_text("{\"version\":1,\"version\":1}", &err), -EBADMSG);
        assert_non_null(strstr(err.msg, "duplicate"));
        /* Deep nesting is cut off before jansson. */
        char deep[200];
        memset(deep, '[', sizeof(deep) - 1);
        deep[sizeof(deep) - 1] = 0;
        assert_int_equal(parse_text(deep, &err), -EBADMSG);
        assert_non_null(strstr(err.msg, "nested deeper"));
        /* Size cap. */
        size_t big = S1_PLAN_MAX_BYTES + 1;
        char *b = malloc(big + 1);
        assert_non_null(b);
        memset(b, ' ', big);
        b[big] = 0;
        struct s1_plan *p = NULL;
        assert_int_equal(s1_plan_parse(b, big, &p, &err), -EFBIG);
        free(b);
}

static json_t *app_named(const char *name)
{
        json_t *doc = base_plan();
        json_t *app = json_deep_copy(json_array_get(json_object_get(doc, "apps"), 0));
        json_object_set_new(app, "name", json_string(name));
        json_decref(doc);
        return app;
}

static void test_apps_rules(void **state)
{
        rk_error err = RK_ERROR_INIT;
        struct s1_plan *p = NULL;
        /* Duplicate app names. */
        json_t *doc = base_plan();
        json_t *apps = json_object_get(doc, "apps");
        json_array_append_new(apps, app_named("app"));
        assert_int_equal(parse_json(doc, &p, &err), -EBADMSG);
        assert_non_null(strstr(err.msg, "apps[1]: name 'app' is used twice"));
        /* Two distinct apps are fine; interactive needs exactly one. */
        json_array_set_new(apps, 1, app_named("other"));
        assert_int_equal(parse_json(doc, &p, &err), 0);
        p = s1_plan_free(p);
        json_object_set_new(doc, "interactive", json_true());
        assert_int_equal(parse_json(doc, &p, &err), -EBADMSG);
        assert_non_null(strstr(err.msg, "interactive needs exactly one app, not 2"));
        json_decref(doc);
        /* More than S1_MAX_APPS. */
        doc = base_plan();
        apps = json_object_get(doc, "apps");
        for (int i = 1; i <= S1_MAX_APPS; i++) {
                char n[16];
                snprintf(n, sizeof(n), "a%d", i);
                json_array_append_new(apps, app_named(n));
        }
        assert_int_equal(parse_json(doc, &p, &err), -EBADMSG);
        assert_non_null(strstr(err.msg, "65 apps, need 1 to 64"));
        json_decref(doc);
}

static void set_mounts(json_t *doc, const char *mounts)
{
        json_error_t je;
        json_t *app = json_array_get(json_object_get(doc, "apps"), 0);
        json_object_set_new(app, "mounts", json_loads(mounts, 0, &je));
}

static void test_mount_overlaps(void **state)
{
        static const struct {
                const char *mounts, *want;
        } bad[] = {
            {"[{\"source\":\"/a\",\"target\":\"/v\"},{\"source\":\"/b\",\"target\":\"/v\"}]",
             "mounts[1]: target '/v' is also mounts[0]"},
            {"[{\"source\":\"/a\",\"target\":\"/v/w/x\"},{\"source\":\"/b\",\"target\":\"/v\"}]",
             "mounts[1]: target '/v' must come before mounts[0]"},
        };
        rk_error err = RK_ERROR_INIT;
        struct s1_plan *p = NULL;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                json_t *doc = base_plan();
                set_mounts(doc, bad[i].mounts);
                assert_int_equal(parse_json(doc, &p, &err), -EBADMSG);
                assert_non_null(strstr(err.msg, bad[i].want));
                json_decref(doc);
        }
        /* A nested target after its parent is fine; so is a shared prefix that is not a
         * path component. */
        json_t *doc = base_plan();
        set_mounts(doc,
                   "[{\"source\":\"/a\",\"target\":\"/v\"},{\"source\":\"/a\",\"target\":\"/vw\"},"
                   "{\"source\":\"/b\",\"target\":\"/v/w\"}]");
        assert_int_equal(parse_json(doc, &p, &err), 0);
        s1_plan_free(p);
        json_decref(doc);
}

static void test_limits(void **state)
{
        rk_error err = RK_ERROR_INIT;
        struct s1_plan *p = NULL;
        json_t *doc = base_plan();
        json_t *app = json_array_get(json_object_get(doc, "apps"), 0);
        json_t *env = json_array();
        for (int i = 0; i <= S1_MAX_ENV; i++) {
                char e[32];
                snprintf(e, sizeof(e), "V%d=1", i);
                json_array_append_new(env, json_string(e));
        }
        json_object_set_new(app, "env", env);
        assert_int_equal(parse_json(doc, &p, &err), -E2BIG);
        assert_non_null(strstr(err.msg, "\"env\": 1025 entries, limit 1024"));
        json_object_set_new(app, "env", json_array());
        json_t *groups = json_array();
        for (int i = 0; i <= S1_MAX_GROUPS; i++)
                json_array_append_new(groups, json_integer(i));
        json_object_set_new(app, "supplementaryGids", groups);
        assert_int_equal(parse_json(doc, &p, &err), -E2BIG);
        json_object_del(app, "supplementaryGids");
        /* An argument longer than the kernel's MAX_ARG_STRLEN. */
        char *arg = malloc(S1_MAX_ARG_BYTES + 2);
        assert_non_null(arg);
        memset(arg, 'x', S1_MAX_ARG_BYTES + 1);
        arg[S1_MAX_ARG_BYTES + 1] = 0;
        json_t *exec = json_array();
        json_array_append_new(exec, json_string("/bin/echo"));
        json_array_append_new(exec, json_string(arg));
        free(arg);
        json_object_set_new(app, "exec", exec);
        assert_int_equal(parse_json(doc, &p, &err), -E2BIG);
        assert_non_null(strstr(err.msg, "entry 1 is longer than"));
        json_decref(doc);
}

static void test_lsm(void **state)
{
        rk_error err = RK_ERROR_INIT;
        struct s1_plan *p = NULL;
        json_t *doc = base_plan();
        assert_int_equal(parse_json(doc, &p, &err), 0);
        /* defaults: Landlock on, no SELinux labels */
        assert_true(p->apps[0].landlock);
        assert_null(p->apps[0].selinux_process);
        assert_null(p->apps[0].selinux_mount);
        p = s1_plan_free(p);
        json_t *app = json_array_get(json_object_get(doc, "apps"), 0);
        json_object_set_new(app, "landlock", json_false());
        json_object_set_new(app, "selinux",
                            json_pack("{s:s, s:s}", "process",
                                      "system_u:system_r:container_t:s0:c12,c345", "mount",
                                      "system_u:object_r:container_file_t:s0:c12,c345"));
        assert_int_equal(parse_json(doc, &p, &err), 0);
        assert_false(p->apps[0].landlock);
        assert_string_equal(p->apps[0].selinux_process,
                            "system_u:system_r:container_t:s0:c12,c345");
        assert_string_equal(p->apps[0].selinux_mount,
                            "system_u:object_r:container_file_t:s0:c12,c345");
        s1_plan_free(p);
        json_decref(doc);
}

/* "dns" and "hosts" (PLAN.md, "DNS and hosts"): accepted shapes, then one case per rule. */
static int parse_dns_hosts(const char *dns, const char *hosts, struct s1_plan **p, rk_error *err)
{
        json_t *doc = base_plan();
        json_error_t je;
        if (dns)
                json_object_set_new(doc, "dns", json_loads(dns, JSON_DECODE_ANY, &je));
        if (hosts)
                json_object_set_new(doc, "hosts", json_loads(hosts, JSON_DECODE_ANY, &je));
        int r = parse_json(doc, p, err);
        json_decref(doc);
        return r;
}

static void test_dns_hosts(void **state)
{
        rk_error err = RK_ERROR_INIT;
        struct s1_plan *p = NULL;
        assert_int_equal(parse_dns_hosts(NULL, NULL, &p, &err), 0);
        assert_int_equal(p->dns, S1_ETC_DEFAULT);
        assert_int_equal(p->hosts, S1_ETC_DEFAULT);
        p = s1_plan_free(p);
        assert_int_equal(parse_dns_hosts("\"host\"", "\"host\"", &p, &err), 0);
        assert_int_equal(p->dns, S1_ETC_HOST);
        assert_int_equal(p->hosts, S1_ETC_HOST);
        p = s1_plan_free(p);
        assert_int_equal(parse_dns_hosts("\"none\"", NULL, &p, &err), 0);
        assert_int_equal(p->dns, S1_ETC_NONE);
        p = s1_plan_free(p);
        assert_int_equal(
            parse_dns_hosts(
                "{\"nameservers\":[\"10.0.0.1\",\"fd00::1\"],\"search\":[\"a.example\"],"
                "\"options\":[\"ndots:2\",\"rotate\"]}",
                "[{\"ip\":\"10.1.2.3\",\"names\":[\"db\",\"db.example\"]},"
                "{\"ip\":\"::1\",\"names\":[\"x\"]}]",
                &p, &err),
            0);
        assert_int_equal(p->dns, S1_ETC_LIST);
        assert_int_equal(json_array_size(p->dns_nameservers), 2);
        assert_int_equal(p->hosts, S1_ETC_LIST);
        assert_int_equal(json_array_size(p->hosts_entries), 2);
        p = s1_plan_free(p);
        static const struct {
                const char *dns, *hosts, *want;
        } bad[] = {
            {"\"google\"", NULL, "is not host, none or an object"},
            {"1", NULL, "dns is not a string or an object"},
            {"{\"nameservers\":[],\"search\":[],\"options\":[],\"x\":[]}", NULL, "unknown key"},
            {"{\"nameservers\":[\"10.0.0.1\"]}", NULL, "needs nameservers, search and options"},
            {"{\"nameservers\":[],\"search\":[],\"options\":[]}", NULL, "lists nothing"},
            {"{\"nameservers\":[\"10.0.0.256\"],\"search\":[],\"options\":[]}", NULL,
             "is not an IP address"},
            {"{\"nameservers\":[\"10.0.0.1\\n\"],\"search\":[],\"options\":[]}", NULL,
             "is not an IP address"},
            {"{\"nameservers\":[\"1.1.1.1\",\"1.1.1.2\",\"1.1.1.3\",\"1.1.1.4\"],\"search\":[],"
             "\"options\":[]}",
             NULL, "at most 3"},
            {"{\"nameservers\":[\"1.1.1.1\",\"1.1.1.1\"],\"search\":[],\"options\":[]}", NULL,
             "twice"},
            {"{\"nameservers\":[1],\"search\":[],\"options\":[]}", NULL, "not a string"},
            {"{\"nameservers\":\"1.1.1.1\",\"search\":[],\"options\":[]}", NULL, "not an array"},
            {"{\"nameservers\":[],\"search\":[\"-bad.example\"],\"options\":[]}", NULL,
             "not an RFC 1123 domain"},
            {"{\"nameservers\":[],\"search\":[\"a b\"],\"options\":[]}", NULL,
             "not an RFC 1123 domain"},
            {"{\"nameservers\":[],\"search\":[],\"options\":[\"ndots:2\\nnameserver 1.2.3.4\"]}",
             NULL, "not a resolver option"},
            {"{\"nameservers\":[],\"search\":[],\"options\":[\"ndots:99999\"]}", NULL,
             "not a resolver option"},
            {NULL, "\"file\"", "is not host or an array"},
            {NULL, "{}", "hosts is not a string or an array"},
            {NULL, "[]", "hosts has 0 entries"},
            {NULL, "[1]", "is not an object"},
            {NULL, "[{\"ip\":\"10.0.0.1\",\"names\":[\"a\"],\"x\":1}]", "unknown key"},
            {NULL, "[{\"names\":[\"a\"]}]", "ip"},
            {NULL, "[{\"ip\":\"10.0.0.1/8\",\"names\":[\"a\"]}]", "is not an IP address"},
            {NULL, "[{\"ip\":\"10.0.0.1\"}]", "has no names"},
            {NULL, "[{\"ip\":\"10.0.0.1\",\"names\":[]}]", "has no names"},
            {NULL, "[{\"ip\":\"10.0.0.1\",\"names\":[\"a\\tb\"]}]", "not an RFC 1123 host name"},
            {NULL,
             "[{\"ip\":\"10.0.0.1\",\"names\":[\"a\"]},{\"ip\":\"10.0.0.1\",\"names\":[\"b\"]}]",
             "twice"},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                int r = parse_dns_hosts(bad[i].dns, bad[i].hosts, &p, &err);
                if (r >= 0 || !strstr(err.msg, bad[i].want)) {
                        print_error("case %zu: r=%d msg='%s' want '%s'\n", i, r, err.msg,
                                    bad[i].want);
                        fail();
                }
                assert_null(p);
        }
}

/* "mds" (isolators/mds.c): a port for a pod with its own network only. */
static void test_mds(void **state)
{
        static const struct {
                const char *net, *mds, *want;
        } cases[] = {
            {"none", "{\"port\":18112}", NULL},
            {"host", "{\"port\":18112}", "for a pod with its own network"},
            {"none", "{\"port\":0}", "is not 1-65535"},
            {"none", "{\"port\":65536}", "is not 1-65535"},
            {"none", "{\"port\":\"18112\"}", "port"},
            {"none", "{}", "port"},
            {"none", "{\"port\":1,\"host\":\"0.0.0.0\"}", "unknown key"},
            {"none", "18112", "mds is not an object"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                json_t *doc = base_plan();
                json_error_t je;
                json_object_set_new(doc, "net", json_string(cases[i].net));
                json_object_set_new(doc, "mds", json_loads(cases[i].mds, JSON_DECODE_ANY, &je));
                rk_error err = RK_ERROR_INIT;
                struct s1_plan *p = NULL;
                int r = parse_json(doc, &p, &err);
                json_decref(doc);
                if (cases[i].want ? r >= 0 || !strstr(err.msg, cases[i].want) : r < 0) {
                        print_error("case %zu: r=%d msg='%s'\n", i, r, err.msg);
                        fail();
                }
                if (!cases[i].want)
                        assert_int_equal(p->mds_port, 18112);
                s1_plan_free(p);
        }
}

/* The flag side (base/netcfg.c). */
static void test_dns_flags(void **state)
{
        rk_error err = RK_ERROR_INIT;
        assert_true(rk_ip_valid("10.0.0.1") && rk_ip_valid("fd00::1") && rk_ip_valid("::"));
        assert_false(rk_ip_valid("10.0.0") || rk_ip_valid("fe80::1%eth0") || rk_ip_valid("") ||
                     rk_ip_valid(" 1.2.3.4"));
        assert_true(rk_dns_name_valid("a") && rk_dns_name_valid("a-b.example.COM"));
        assert_false(rk_dns_name_valid("a.") || rk_dns_name_valid(".a") ||
                     rk_dns_name_valid("a..b") || rk_dns_name_valid("a_b") ||
                     rk_dns_name_valid("-a"));
        assert_true(rk_dns_option_valid("ndots:2") && rk_dns_option_valid("single-request"));
        assert_false(rk_dns_option_valid("Ndots") || rk_dns_option_valid("ndots:") ||
                     rk_dns_option_valid("a:1:2") || rk_dns_option_valid("a b"));
        struct rk_dns_opts o = {0};
        assert_int_equal(rk_dns_opts_add(&o, "dns", "10.0.0.1,10.0.0.2", &err), 0);
        assert_int_equal(rk_dns_opts_add(&o, "dns-search", "a.example", &err), 0);
        assert_int_equal(rk_dns_opts_add(&o, "hosts-entry", "10.1.1.1=a,10.1.1.1=b", &err), 0);
        assert_int_equal(rk_dns_opts_add(&o, "hosts-entry", "10.1.1.1=a", &err), 0);
        assert_int_equal(o.n_hosts, 1);
        assert_int_equal(o.hosts[0].n_names, 2);
        assert_int_equal(rk_dns_opts_add(&o, "dns", "host", &err), -EINVAL);
        assert_int_equal(rk_dns_opts_add(&o, "dns", "10.0.0.3", &err), 0);
        assert_int_equal(rk_dns_opts_add(&o, "dns", "10.0.0.4", &err), -EINVAL);
        assert_non_null(strstr(err.msg, "at most 3"));
        assert_int_equal(rk_dns_opts_add(&o, "hosts-entry", "host", &err), -EINVAL);
        json_t *plan = json_object();
        assert_int_equal(rk_dns_plan_set(&o, plan, &err), 0);
        char *s = json_dumps(plan, JSON_COMPACT | JSON_SORT_KEYS);
        assert_string_equal(s, "{\"dns\":{\"nameservers\":[\"10.0.0.1\",\"10.0.0.2\",\"10.0.0.3\"],"
                               "\"options\":[],\"search\":[\"a.example\"]},\"hosts\":[{\"ip\":"
                               "\"10.1.1.1\",\"names\":[\"a\",\"b\"]}]}");
        free(s);
        json_decref(plan);
        rk_dns_opts_clear(&o);
        assert_int_equal(rk_dns_opts_add(&o, "dns", "none", &err), 0);
        assert_int_equal(rk_dns_opts_add(&o, "dns-opt", "rotate", &err), -EINVAL);
        rk_dns_opts_clear(&o);
        assert_int_equal(rk_dns_opts_add(&o, "dns", "1.2.3.4,,", &err), -EINVAL);
        assert_int_equal(rk_dns_opts_add(&o, "hosts-entry", "1.2.3.4", &err), -EINVAL);
        assert_int_equal(rk_dns_opts_add(&o, "hosts-entry", "1.2.3.4=a b", &err), -EINVAL);
        assert_int_equal(rk_dns_opts_add(&o, "dns", "8.8.8.8\n", &err), -EINVAL);
        rk_dns_opts_clear(&o);
}

static void test_load(void **state)
{
        char dir[] = "/tmp/test-stage1-plan-XXXXXX";
        assert_non_null(mkdtemp(dir));
        int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        rk_error err = RK_ERROR_INIT;
        struct s1_plan *p = NULL;
        assert_int_equal(s1_plan_load(dfd, &p, &err), -ENOENT);
        int fd = openat(dfd, "plan.json", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(rk_write_all(fd, full_plan, strlen(full_plan)), 0);
        close(fd);
        assert_int_equal(s1_plan_load(dfd, &p, &err), 0);
        p = s1_plan_free(p);
        /* Writable by group or others: refused, whoever did it. */
        assert_int_equal(fchmodat(dfd, "plan.json", 0620, 0), 0);
        assert_int_equal(s1_plan_load(dfd, &p, &err), -EPERM);
        assert_non_null(strstr(err.msg, "not writable by group or others"));
        assert_int_equal(fchmodat(dfd, "plan.json", 0644, 0), 0);
        if (geteuid() == 0) {
                /* Owned by someone else. */
                assert_int_equal(fchownat(dfd, "plan.json", 1000, 0, 0), 0);
                assert_int_equal(s1_plan_load(dfd, &p, &err), -EPERM);
                assert_int_equal(fchownat(dfd, "plan.json", 0, 0, 0), 0);
        }
        /* A symlink is not followed; a directory is not a plan. */
        assert_int_equal(renameat(dfd, "plan.json", dfd, "real.json"), 0);
        assert_int_equal(symlinkat("real.json", dfd, "plan.json"), 0);
        assert_int_equal(s1_plan_load(dfd, &p, &err), -ELOOP);
        assert_int_equal(unlinkat(dfd, "plan.json", 0), 0);
        assert_int_equal(mkdirat(dfd, "plan.json", 0700), 0);
        assert_true(s1_plan_load(dfd, &p, &err) < 0);
        assert_null(p);
        unlinkat(dfd, "plan.json", AT_REMOVEDIR);
        unlinkat(dfd, "real.json", 0);
        close(dfd);
        rmdir(dir);
}

/* The filter is read from the pod dir and must have the plan's SHA-512. */
static void test_load_seccomp(void **state)
{
        static const char bpf[8] = {6, 0, 0, 0, 0, 0, 0xff, 0x7f}; /* RET ALLOW */
        char dir[] = "/tmp/test-stage1-plan-XXXXXX", hex[RK_SHA512_HEX_LEN + 1];
        assert_non_null(mkdtemp(dir));
        int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        rk_error err = RK_ERROR_INIT;
        assert_int_equal(rk_sha512_buf_hex(bpf, sizeof(bpf), hex, &err), 0);
        json_t *doc = base_plan();
        json_t *app = json_array_get(json_object_get(doc, "apps"), 0);
        json_object_set_new(app, "seccomp",
                            json_pack("{s:s, s:s}", "bpf", "seccomp/app.bpf", "sha512", hex));
        char *text = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        int fd = openat(dfd, "plan.json", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(rk_write_all(fd, text, strlen(text)), 0);
        close(fd);
        free(text);
        struct s1_plan *p = NULL;
        assert_int_equal(s1_plan_load(dfd, &p, &err), -ENOENT); /* no filter file */
        assert_null(p);
        assert_int_equal(mkdirat(dfd, "seccomp", 0700), 0);
        fd = openat(dfd, "seccomp/app.bpf", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(rk_write_all(fd, bpf, sizeof(bpf)), 0);
        assert_int_equal(s1_plan_load(dfd, &p, &err), 0);
        assert_int_equal(p->apps[0].seccomp_len, 8);
        assert_memory_equal(p->apps[0].seccomp_prog, bpf, 8);
        p = s1_plan_free(p);
        /* one byte more: not the filter the plan names */
        assert_int_equal(rk_write_all(fd, bpf, 1), 0);
        close(fd);
        assert_int_equal(s1_plan_load(dfd, &p, &err), -EBADMSG);
        assert_non_null(strstr(err.msg, "app app: seccomp/app.bpf does not have the SHA-512"));
        assert_null(p);
        unlinkat(dfd, "seccomp/app.bpf", 0);
        unlinkat(dfd, "seccomp", AT_REMOVEDIR);
        unlinkat(dfd, "plan.json", 0);
        close(dfd);
        rmdir(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_full_plan),    cmocka_unit_test(test_defaults),
            cmocka_unit_test(test_rejections),   cmocka_unit_test(test_documents),
            cmocka_unit_test(test_apps_rules),   cmocka_unit_test(test_mount_overlaps),
            cmocka_unit_test(test_limits),       cmocka_unit_test(test_load),
            cmocka_unit_test(test_load_seccomp), cmocka_unit_test(test_lsm),
            cmocka_unit_test(test_userns),       cmocka_unit_test(test_dns_hosts),
            cmocka_unit_test(test_dns_flags),    cmocka_unit_test(test_mds),
            cmocka_unit_test(test_network),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
