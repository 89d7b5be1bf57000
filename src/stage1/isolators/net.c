/* SPDX-License-Identifier: Apache-2.0 */
/* --net=default and --net=default-restricted (PLAN.md, "Networks"): a point-to-point veth pair
 * per pod, rkt's "ptp" design. The host end, rkt<12 hex of the UUID>, carries the gateway as a
 * /32 and a /32 route to the pod; the pod end, eth0, is created directly inside the pod's
 * network namespace (IFLA_NET_NS_FD in the veth's peer), carries the pod's address as a /32,
 * a link route to the gateway and either a default route (default) or a route to the subnet
 * (default-restricted) through it. Pods share no L2: every packet between two pods is routed
 * by the host, where stage0's nftables table (src/lib/pod/net.c) filters it.
 *
 * Init runs it: it opens a NETLINK_ROUTE socket while still in the host's network namespace
 * (s1_net_host_open), makes or joins the pod's namespace, and then configures both ends
 * (s1_net_setup) through that socket and one opened inside the pod. Only netlink ACKs and the
 * one RTM_GETLINK answer (from the kernel) are read: stage1 parses no network input. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "stage1/stage1.h"

#define NL_BUF 8192 /* libmnl's MNL_SOCKET_BUFFER_SIZE is a sysconf() call */

static struct mnl_socket *host_nl;

void s1_net_ifname(const struct s1_plan *plan, char name[static 16])
{
        size_t n = 0;
        memcpy(name, "rkt", 3);
        for (const char *u = plan->uuid; *u && n < 12; u++)
                if (*u != '-')
                        name[3 + n++] = *u;
        name[3 + n] = 0;
}

static int nl_open(struct mnl_socket **ret, rk_error *err)
{
        struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
        if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
                int e = errno;
                if (nl)
                        mnl_socket_close(nl);
                return rk_err_errno(err, -e, "cannot open a netlink socket");
        }
        *ret = nl;
        return 0;
}

/* Send one request with NLM_F_ACK and wait for its answer. cb (may be NULL) sees data. */
static int nl_talk(struct mnl_socket *nl, struct nlmsghdr *h, mnl_cb_t cb, void *data)
{
        static unsigned seq;
        char buf[NL_BUF];
        h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
        h->nlmsg_seq = ++seq + (unsigned)time(NULL);
        unsigned portid = mnl_socket_get_portid(nl);
        if (mnl_socket_sendto(nl, h, h->nlmsg_len) < 0)
                return negative_errno();
        for (;;) {
                ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
                if (n < 0)
                        return negative_errno();
                int r = mnl_cb_run(buf, (size_t)n, h->nlmsg_seq, portid, cb, data);
                if (r <= MNL_CB_STOP)
                        return r < 0 ? negative_errno() : 0;
        }
}

static struct nlmsghdr *link_msg(char *buf, uint16_t type, uint16_t flags, int index)
{
        struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
        h->nlmsg_type = type;
        h->nlmsg_flags = flags;
        struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_index = index;
        return h;
}

static int index_cb(const struct nlmsghdr *h, void *data)
{
        if (h->nlmsg_type == RTM_NEWLINK && h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifinfomsg)))
                *(int *)data = ((const struct ifinfomsg *)mnl_nlmsg_get_payload(h))->ifi_index;
        return MNL_CB_OK;
}

static int link_index(struct mnl_socket *nl, const char *name, int *ret)
{
        char buf[NL_BUF];
        struct nlmsghdr *h = link_msg(buf, RTM_GETLINK, 0, 0);
        mnl_attr_put_strz(h, IFLA_IFNAME, name);
        *ret = 0;
        int r = nl_talk(nl, h, index_cb, ret);
        return r < 0 ? r : *ret > 0 ? 0 : -ENODEV;
}

/* Up, and for the host end route_localnet (the host's 127.0.0.1:PORT forwards leave through
 * it with source 127.0.0.1 until masqueraded; stage0's table drops packets for 127.0.0.0/8
 * that arrive from anywhere but lo, CVE-2020-8558). */
static int link_up(struct mnl_socket *nl, int index, bool localnet)
{
        char buf[NL_BUF];
        struct nlmsghdr *h = link_msg(buf, RTM_NEWLINK, 0, index);
        struct ifinfomsg *ifi = mnl_nlmsg_get_payload(h);
        ifi->ifi_flags = IFF_UP;
        ifi->ifi_change = IFF_UP;
        if (localnet) {
                struct nlattr *spec = mnl_attr_nest_start(h, IFLA_AF_SPEC);
                struct nlattr *inet = mnl_attr_nest_start(h, AF_INET);
                struct nlattr *conf = mnl_attr_nest_start(h, IFLA_INET_CONF);
                mnl_attr_put_u32(h, IPV4_DEVCONF_ROUTE_LOCALNET, 1);
                mnl_attr_nest_end(h, conf);
                mnl_attr_nest_end(h, inet);
                mnl_attr_nest_end(h, spec);
        }
        return nl_talk(nl, h, NULL, NULL);
}

/* No IPv6 on either end: no link-local address, so the pair carries IPv4 only (what the
 * filters of stage0's table speak). Where the kernel has no IPv6 there is nothing to do. */
static int no_ipv6(struct mnl_socket *nl, int index)
{
        char buf[NL_BUF];
        struct nlmsghdr *h = link_msg(buf, RTM_NEWLINK, 0, index);
        struct nlattr *spec = mnl_attr_nest_start(h, IFLA_AF_SPEC);
        struct nlattr *inet6 = mnl_attr_nest_start(h, AF_INET6);
        mnl_attr_put_u8(h, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
        mnl_attr_nest_end(h, inet6);
        mnl_attr_nest_end(h, spec);
        int r = nl_talk(nl, h, NULL, NULL);
        return r == -EAFNOSUPPORT || r == -EOPNOTSUPP ? 0 : r;
}

static int addr_add(struct mnl_socket *nl, int index, uint32_t ip)
{
        char buf[NL_BUF];
        struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
        h->nlmsg_type = RTM_NEWADDR;
        h->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
        struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(h, sizeof(*ifa));
        ifa->ifa_family = AF_INET;
        ifa->ifa_prefixlen = 32;
        ifa->ifa_scope = RT_SCOPE_UNIVERSE;
        ifa->ifa_index = (unsigned)index;
        mnl_attr_put_u32(h, IFA_LOCAL, ip);
        mnl_attr_put_u32(h, IFA_ADDRESS, ip);
        return nl_talk(nl, h, NULL, NULL);
}

/* dst/prefix through index, via gw (0: on the link), preferred source src (0: none). */
static int route_add(struct mnl_socket *nl, int index, uint32_t dst, unsigned prefix, uint32_t gw,
                     uint32_t src)
{
        char buf[NL_BUF];
        struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
        h->nlmsg_type = RTM_NEWROUTE;
        h->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
        struct rtmsg *rt = mnl_nlmsg_put_extra_header(h, sizeof(*rt));
        rt->rtm_family = AF_INET;
        rt->rtm_dst_len = (unsigned char)prefix;
        rt->rtm_table = RT_TABLE_MAIN;
        rt->rtm_protocol = RTPROT_BOOT;
        rt->rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
        rt->rtm_type = RTN_UNICAST;
        if (prefix)
                mnl_attr_put_u32(h, RTA_DST, dst);
        if (gw)
                mnl_attr_put_u32(h, RTA_GATEWAY, gw);
        if (src)
                mnl_attr_put_u32(h, RTA_PREFSRC, src);
        mnl_attr_put_u32(h, RTA_OIF, (uint32_t)index);
        return nl_talk(nl, h, NULL, NULL);
}

/* The veth pair: host end named host_if in the host, peer eth0 born in the pod (pod_ns). */
static int veth_add(struct mnl_socket *nl, const char *host_if, int pod_ns)
{
        char buf[NL_BUF];
        struct nlmsghdr *h = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
        mnl_attr_put_strz(h, IFLA_IFNAME, host_if);
        struct nlattr *info = mnl_attr_nest_start(h, IFLA_LINKINFO);
        mnl_attr_put_strz(h, IFLA_INFO_KIND, "veth");
        struct nlattr *data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
        struct nlattr *peer = mnl_attr_nest_start(h, VETH_INFO_PEER);
        struct ifinfomsg *pi = mnl_nlmsg_put_extra_header(h, sizeof(*pi));
        pi->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(h, IFLA_IFNAME, "eth0");
        mnl_attr_put_u32(h, IFLA_NET_NS_FD, (uint32_t)pod_ns);
        mnl_attr_nest_end(h, peer);
        mnl_attr_nest_end(h, data);
        mnl_attr_nest_end(h, info);
        return nl_talk(nl, h, NULL, NULL);
}

int s1_net_host_open(const struct s1_plan *plan, rk_error *err)
{
        if (plan->net != S1_NET_DEFAULT && plan->net != S1_NET_RESTRICTED)
                return 0;
        return nl_open(&host_nl, err);
}

#define NETERR(what) rk_err_errno(err, r, "network: cannot %s", what)

int s1_net_setup(const struct s1_plan *plan, rk_error *err)
{
        if (plan->net != S1_NET_DEFAULT && plan->net != S1_NET_RESTRICTED)
                return 0;
        if (!host_nl)
                return rk_err(err, -EBADF, "network: no netlink socket in the host");
        char host_if[16];
        s1_net_ifname(plan, host_if);
        struct mnl_socket *pod_nl = NULL;
        _cleanup_close_ int pod_ns = -EBADF;
        int r = nl_open(&pod_nl, err); /* in the pod's namespace: bound to it for good */
        if (r < 0)
                goto out;
        pod_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (pod_ns < 0) {
                r = rk_err_errno(err, negative_errno(), "network: cannot open the pod's netns");
                goto out;
        }
        int hidx = 0, pidx = 0;
        if ((r = veth_add(host_nl, host_if, pod_ns)) < 0) {
                r = NETERR("create the veth pair");
                goto out;
        }
        if ((r = link_index(host_nl, host_if, &hidx)) < 0 ||
            (r = link_index(pod_nl, "eth0", &pidx)) < 0) {
                r = NETERR("find the veth pair");
                goto out;
        }
        if ((r = no_ipv6(host_nl, hidx)) < 0 || (r = no_ipv6(pod_nl, pidx)) < 0) {
                r = NETERR("turn IPv6 off on the veth pair");
                goto out;
        }
        if ((r = addr_add(host_nl, hidx, plan->net_gateway)) < 0 ||
            (r = link_up(host_nl, hidx, true)) < 0 ||
            (r = route_add(host_nl, hidx, plan->net_ip, 32, 0, plan->net_gateway)) < 0) {
                r = NETERR("configure the host end of the veth");
                goto out;
        }
        if ((r = addr_add(pod_nl, pidx, plan->net_ip)) < 0 ||
            (r = link_up(pod_nl, pidx, false)) < 0 ||
            (r = route_add(pod_nl, pidx, plan->net_gateway, 32, 0, plan->net_ip)) < 0 ||
            (r = plan->net_default_route
                     ? route_add(pod_nl, pidx, 0, 0, plan->net_gateway, plan->net_ip)
                     : route_add(pod_nl, pidx, plan->net_subnet, plan->net_prefix,
                                 plan->net_gateway, plan->net_ip)) < 0) {
                r = NETERR("configure eth0 in the pod");
                goto out;
        }
        r = 0;
out:
        if (pod_nl)
                mnl_socket_close(pod_nl);
        mnl_socket_close(host_nl);
        host_nl = NULL;
        return r;
}

int s1_net_gc(const struct s1_plan *plan, rk_error *err)
{
        if (plan->net != S1_NET_DEFAULT && plan->net != S1_NET_RESTRICTED)
                return 0;
        char host_if[16], buf[NL_BUF];
        s1_net_ifname(plan, host_if);
        struct mnl_socket *nl = NULL;
        int r = nl_open(&nl, err);
        if (r < 0)
                return r;
        struct nlmsghdr *h = link_msg(buf, RTM_DELLINK, 0, 0);
        mnl_attr_put_strz(h, IFLA_IFNAME, host_if);
        r = nl_talk(nl, h, NULL, NULL);
        mnl_socket_close(nl);
        if (r < 0 && r != -ENODEV)
                return rk_err_errno(err, r, "network: cannot delete %s", host_if);
        return 0;
}
