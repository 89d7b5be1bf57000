/* SPDX-License-Identifier: Apache-2.0 */
/* The built-in networks' host side (src/lib/pod/net.c): network names, --port parsing, the
 * lease registry's parser, and the nft script. Nothing here talks to the kernel (allocation
 * rebuilds the table: tests/integration/90-net.bats does that, in a sandbox). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "../../src/lib/pod/net.c"

static void test_kinds(void **state)
{
        assert_int_equal(rk_net_kind("none"), RK_NET_NONE);
        assert_int_equal(rk_net_kind("host"), RK_NET_HOST);
        assert_int_equal(rk_net_kind("default"), RK_NET_DEFAULT);
        assert_int_equal(rk_net_kind("default-restricted"), RK_NET_RESTRICTED);
        assert_int_equal(rk_net_kind("Default"), -EINVAL);
        assert_int_equal(rk_net_kind("all"), -EINVAL);
        assert_int_equal(rk_net_kind(NULL), -EINVAL);
        struct rk_net_lease l;
        assert_int_equal(rk_net_network(RK_NET_DEFAULT, &l), 0);
        assert_int_equal(ntohl(l.gateway), 0xac101c01u);
        assert_int_equal(l.prefix, 24);
        assert_true(l.default_route);
        assert_int_equal(rk_net_network(RK_NET_RESTRICTED, &l), 0);
        assert_int_equal(ntohl(l.gateway), 0xac1f0001u);
        assert_false(l.default_route);
        assert_int_equal(rk_net_network(RK_NET_HOST, &l), -EINVAL);
}

static void test_port_parse(void **state)
{
        rk_error err = RK_ERROR_INIT;
        struct rk_net_port_opt p;
        assert_int_equal(rk_net_port_parse("http:8080", &p, &err), 0);
        assert_string_equal(p.name, "http");
        assert_int_equal(p.host_port, 8080);
        assert_int_equal(p.host_ip, 0);
        assert_int_equal(rk_net_port_parse("dns:10.0.0.1:53", &p, &err), 0);
        assert_int_equal(ntohl(p.host_ip), 0x0a000001u);
        assert_int_equal(p.host_port, 53);
        static const char *const bad[] = {
            "http",          ":80",      "http:",         "http:0",    "http:65536",
            "http:080",      "http:8o",  "http:1.2.3:80", "http:::80", "a:1.2.3.4:5:6",
            "http:[::1]:80", "http: 80", "http:-1"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                if (rk_net_port_parse(bad[i], &p, &err) != -EINVAL) {
                        print_error("accepted '%s'\n", bad[i]);
                        fail();
                }
                assert_non_null(strstr(err.msg, "not NAME:[HOSTIP:]HOSTPORT"));
        }
}

#define U1 "6f1c2a3e-1111-4222-8333-444455556666"
#define U2 "7f1c2a3e-1111-4222-8333-444455556666"

static void test_registry(void **state)
{
        rk_error err = RK_ERROR_INIT;
        struct registry reg = {0};
        const char *ok = "rkt-net 1\n" U1 " default 172.16.28.2 tcp:0.0.0.0:8080:80 "
                         "udp:10.0.0.1:53:5353\n" U2 " default-restricted 172.31.0.2\n";
        assert_int_equal(parse(ok, strlen(ok), &reg, &err), 0);
        assert_int_equal(reg.n, 2);
        assert_int_equal(reg.v[0].n_fwd, 2);
        assert_true(reg.v[0].fwd[1].udp);
        assert_int_equal(reg.v[0].fwd[1].pod_port, 5353);
        assert_int_equal(reg.v[1].kind, RK_NET_RESTRICTED);
        registry_clear(&reg);
        static const char *const bad[] = {
            "rkt-net 2\n",
            "rkt-net 1\n" U1 " default 172.16.28.2",                     /* no newline */
            "rkt-net 1\n" U1 " none 172.16.28.2\n",                      /* not contained */
            "rkt-net 1\n" U1 " default\n",                               /* no address */
            "rkt-net 1\n" U1 " default 172.16.28.2 tcp:0.0.0.0:0:80\n",  /* port 0 */
            "rkt-net 1\n" U1 " default 172.16.28.2 sctp:0.0.0.0:1:80\n", /* protocol */
            "rkt-net 1\n" U1 " default 172.16.28.2 tcp:0.0.0.0:1:80:9\n",
            "rkt-net 1\n" U1 " default 172.16.28.2\n" U1 " default 172.16.28.3\n",
            "rkt-net 1\n" U1 " default 172.16.28.2\n" U2 " default 172.16.28.2\n",
            "rkt-net 1\nNOT-A-UUID default 172.16.28.2\n",
            "rkt-net 1\n" U1 "  default 172.16.28.2\n",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int r = parse(bad[i], strlen(bad[i]), &reg, &err);
                registry_clear(&reg);
                if (r != -EBADMSG) {
                        print_error("case %zu: r=%d\n", i, r);
                        fail();
                }
        }
}

static void test_ruleset(void **state)
{
        rk_error err = RK_ERROR_INIT;
        char *s = NULL;
        /* no pod: the table goes */
        assert_int_equal(rk_net_ruleset(NULL, 0, &s, &err), 0);
        assert_string_equal(s, "add table inet rkt\ndelete table inet rkt\n");
        free(s);
        struct rk_net_entry e[2] = {{.uuid = U1, .kind = RK_NET_DEFAULT, .n_fwd = 2},
                                    {.uuid = U2, .kind = RK_NET_RESTRICTED}};
        inet_pton(AF_INET, "172.16.28.2", &e[0].ip);
        inet_pton(AF_INET, "172.31.0.2", &e[1].ip);
        e[0].fwd[0] = (struct rk_net_fwd){.host_port = 8080, .pod_port = 80};
        e[0].fwd[1] = (struct rk_net_fwd){.udp = true, .host_port = 53, .pod_port = 5353};
        inet_pton(AF_INET, "10.0.0.1", &e[0].fwd[1].host_ip);
        assert_int_equal(rk_net_ruleset(e, 2, &s, &err), 0);
        assert_true(
            strncmp(s, "add table inet rkt\nflush table inet rkt\ntable inet rkt {\n", 56) == 0);
        assert_non_null(strstr(s, "fib daddr type local tcp dport 8080 dnat ip to 172.16.28.2:80 "
                                  "comment \"" U1 "\"\n"));
        assert_non_null(strstr(s, "ip daddr 10.0.0.1 udp dport 53 dnat ip to 172.16.28.2:5353"));
        assert_non_null(strstr(s, "iifname != \"lo\" ip daddr 127.0.0.0/8 counter drop"));
        assert_non_null(strstr(s, "ip daddr @subnets ct status dnat accept\n"
                                  "    ip daddr @subnets drop\n"
                                  "    ip saddr 172.31.0.0/16 drop\n"));
        assert_non_null(strstr(s, "ip saddr 172.16.28.0/24 ip daddr != @subnets masquerade"));
        /* both nat chains carry each forward */
        const char *p = strstr(s, "dport 8080");
        assert_non_null(p);
        assert_non_null(strstr(p + 1, "dport 8080"));
        free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_kinds),
            cmocka_unit_test(test_port_parse),
            cmocka_unit_test(test_registry),
            cmocka_unit_test(test_ruleset),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
