/* SPDX-License-Identifier: Apache-2.0 */
/* The CNI runner's parsers (src/lib/pod/cni.c): names, types, CNI_ARGS, conflists, results.
 * Plugin execution is tested in tests/integration/93-cni.bats, in a sandbox. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "../../src/lib/pod/cni.c"

static int conf(const char *s)
{
        rk_error err = RK_ERROR_INIT;
        json_t *j = NULL;
        int r = rk_cni_conflist_parse("t", s, strlen(s), &j, &err);
        json_decref(j);
        return r;
}

static int result(const char *s, struct rk_cni_result *out)
{
        rk_error err = RK_ERROR_INIT;
        json_t *j = json_loads(s, 0, NULL);
        assert_non_null(j);
        int r = rk_cni_result_parse(j, out, &err);
        json_decref(j);
        return r;
}

static void test_names(void **state)
{
        assert_true(rk_cni_name_valid("net1"));
        assert_true(rk_cni_name_valid("my-net.a_b"));
        assert_false(rk_cni_name_valid(""));
        assert_false(rk_cni_name_valid("Net"));
        assert_false(rk_cni_name_valid("a/b"));
        assert_false(rk_cni_name_valid("-a"));
        assert_false(rk_cni_name_valid("a--b"));
        assert_false(rk_cni_name_valid("a."));
        assert_true(rk_cni_type_valid("host-local"));
        assert_true(rk_cni_type_valid("my_plugin.v2"));
        assert_false(rk_cni_type_valid("../bridge"));
        assert_false(rk_cni_type_valid("a/b"));
        assert_false(rk_cni_type_valid(".."));
        assert_false(rk_cni_type_valid(""));
        assert_false(rk_cni_type_valid("a b"));
}

static void test_args(void **state)
{
        assert_true(rk_cni_args_valid(""));
        assert_true(rk_cni_args_valid("IP=10.1.2.3"));
        assert_true(rk_cni_args_valid("IgnoreUnknown=1;IP=10.1.2.3"));
        assert_false(rk_cni_args_valid("IP"));
        assert_false(rk_cni_args_valid("=x"));
        assert_false(rk_cni_args_valid("A=1;"));
        assert_false(rk_cni_args_valid("A=1;;B=2"));
        assert_false(rk_cni_args_valid("A=a b"));
        assert_false(rk_cni_args_valid("A-B=1"));
        assert_false(rk_cni_args_valid(NULL));
}

static void test_conflist(void **state)
{
        assert_int_equal(conf("{\"cniVersion\":\"1.0.0\",\"name\":\"n1\",\"plugins\":[{\"type\":"
                              "\"bridge\",\"bridge\":\"b0\",\"ipam\":{\"type\":\"host-local\"}}]}"),
                         0);
        assert_int_equal(conf("{\"cniVersion\":\"0.4.0\",\"name\":\"n1\",\"disableCheck\":true,"
                              "\"plugins\":[{\"type\":\"ptp\"},{\"type\":\"tuning\"}]}"),
                         0);
        /* unknown version, missing or bad fields */
        assert_int_equal(conf("{\"cniVersion\":\"9.9.9\",\"name\":\"n1\",\"plugins\":[{\"type\":"
                              "\"ptp\"}]}"),
                         -EBADMSG);
        assert_int_equal(conf("{\"cniVersion\":\"0.2.0\",\"name\":\"n1\",\"plugins\":[{\"type\":"
                              "\"ptp\"}]}"),
                         -EBADMSG);
        assert_true(conf("{\"name\":\"n1\",\"plugins\":[{\"type\":\"ptp\"}]}") < 0);
        assert_true(conf("{\"cniVersion\":\"1.0.0\",\"name\":\"N1\",\"plugins\":[{\"type\":"
                         "\"ptp\"}]}") < 0);
        assert_true(conf("{\"cniVersion\":\"1.0.0\",\"name\":\"n1\",\"plugins\":[]}") < 0);
        assert_true(conf("{\"cniVersion\":\"1.0.0\",\"name\":\"n1\",\"plugins\":[{}]}") < 0);
        assert_true(conf("{\"cniVersion\":\"1.0.0\",\"name\":\"n1\",\"plugins\":[{\"type\":"
                         "\"../../bin/sh\"}]}") < 0);
        assert_true(conf("{\"cniVersion\":\"1.0.0\",\"name\":\"n1\",\"plugins\":[{\"type\":"
                         "\"a/b\"}]}") < 0);
        assert_true(conf("{\"cniVersion\":\"1.0.0\",\"name\":\"n1\",\"plugins\":[{\"type\":"
                         "\"ptp\",\"prevResult\":{}}]}") < 0);
        assert_true(conf("{\"cniVersion\":\"1.0.0\",\"name\":\"n1\",\"plugins\":[{\"type\":"
                         "\"ptp\",\"name\":\"other\"}]}") < 0);
        assert_true(conf("{\"cniVersion\":\"1.0.0\",\"name\":\"n1\",\"extra\":1,\"plugins\":"
                         "[{\"type\":\"ptp\"}]}") < 0);
        assert_true(conf("{\"cniVersion\":\"1.0.0\",\"name\":\"n1\",\"name\":\"n2\",\"plugins\":"
                         "[{\"type\":\"ptp\"}]}") < 0);
        assert_true(conf("[]") < 0);
        assert_true(conf("{") < 0);
}

static void test_result(void **state)
{
        struct rk_cni_result r;
        assert_int_equal(
            result("{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"b0\",\"mac\":\"x\"},"
                   "{\"name\":\"eth0\",\"sandbox\":\"/x\"}],\"ips\":[{\"address\":"
                   "\"10.1.0.2/24\",\"gateway\":\"10.1.0.1\",\"interface\":1}],\"routes\":[{"
                   "\"dst\":\"0.0.0.0/0\"}],\"dns\":{}}",
                   &r),
            0);
        assert_int_equal(ntohl(r.ip), 0x0a010002u);
        assert_int_equal(ntohl(r.gateway), 0x0a010001u);
        assert_int_equal(r.prefix, 24);
        assert_int_equal(r.n_interfaces, 2);
        /* an address on the sandbox interface wins over a host one */
        assert_int_equal(result("{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"b0\"},"
                                "{\"name\":\"eth0\",\"sandbox\":\"/x\"}],\"ips\":[{\"address\":"
                                "\"10.9.0.1/16\",\"interface\":0},{\"address\":\"10.1.0.2/24\","
                                "\"interface\":1}]}",
                                &r),
                         0);
        assert_int_equal(ntohl(r.ip), 0x0a010002u);
        assert_int_equal(result("{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"fd00::2/64\"}"
                                ",{\"address\":\"10.1.0.2/24\"}]}",
                                &r),
                         0);
        assert_int_equal(ntohl(r.ip), 0x0a010002u);
        assert_int_equal(result("{\"cniVersion\":\"1.0.0\"}", &r), 0);
        assert_int_equal(r.ip, 0);
        /* refused */
        assert_true(result("{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.1.0.2\"}]}", &r) <
                    0);
        assert_true(
            result("{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.1.0.2/33\"}]}", &r) < 0);
        assert_true(result("{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.1.0.2/24\","
                           "\"interface\":3}]}",
                           &r) < 0);
        assert_true(result("{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.1.0.2/24\","
                           "\"gateway\":\"nope\"}]}",
                           &r) < 0);
        assert_true(result("{\"cniVersion\":\"1.0.0\",\"bogus\":1}", &r) < 0);
        assert_true(result("{\"cniVersion\":\"0.2.0\"}", &r) < 0);
        assert_true(result("{\"ips\":[]}", &r) < 0);
        assert_true(result("{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":"
                           "\"a-very-long-ifname\"}]}",
                           &r) < 0);
        assert_true(result("{\"cniVersion\":\"1.0.0\",\"routes\":[{\"gw\":\"1.2.3.4\"}]}", &r) < 0);
        assert_true(result("[]", &r) < 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_names),
            cmocka_unit_test(test_args),
            cmocka_unit_test(test_conflist),
            cmocka_unit_test(test_result),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
