/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The built-in networks' host side (src/stage1/PLAN.md, "Networks"): addresses and the
 * runtime's nftables table. Stage1 makes the veth pair (src/stage1/isolators/net.c); stage0
 * allocates the pod's address and writes every NAT and filter rule, in one table it owns,
 * `inet rkt`, which it rebuilds whole, in one transaction, from the lease registry each time
 * a lease is taken or released (and by `rkt gc`): a flushed table comes back, a pod that is
 * gone leaves nothing.
 *
 *   <dir>/net/lock    flock(2)ed exclusively around every read-modify-write and rebuild
 *   <dir>/net/leases  "rkt-net 1", then one line per pod:
 *                     "<uuid> <net> <ip> [<proto>:<host ip>:<host port>:<pod port>]..."
 *                     replaced atomically; host ip 0.0.0.0 = every local address
 *
 * Networks (rkt's): default = 172.16.28.0/24, gateway .1, default route, masquerade;
 * default-restricted = 172.31.0.0/16, gateway 172.31.0.1, only the subnet routed, no
 * masquerade, nothing forwarded from it but answers. Both: new connections into a pod subnet
 * are dropped unless DNAT'ed by a --port forward; packets for 127.0.0.0/8 arriving on any
 * interface but lo are dropped (the host ends have route_localnet for the 127.0.0.1
 * forwards; CVE-2020-8558); a packet from a pod whose source is not routed back through its
 * veth is dropped (no spoofing). */

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

#define RK_NET_MAX_PORTS 64

enum rk_net_kind { RK_NET_NONE, RK_NET_HOST, RK_NET_DEFAULT, RK_NET_RESTRICTED };

/* "none", "host", "default", "default-restricted"; -EINVAL otherwise. */
int rk_net_kind(const char *name);
/* Whether the network gets a veth and an address. */
static inline bool rk_net_contained(int kind)
{
        return kind == RK_NET_DEFAULT || kind == RK_NET_RESTRICTED;
}

/* --port=NAME:[HOSTIP:]HOSTPORT as given (NAME still to resolve against the apps' ports). */
struct rk_net_port_opt {
        char name[256];
        uint32_t host_ip; /* network order, 0: every local address */
        uint16_t host_port;
};
int rk_net_port_parse(const char *arg, struct rk_net_port_opt *ret, rk_error *err);

/* One resolved forward. */
struct rk_net_fwd {
        bool udp;
        uint32_t host_ip; /* network order, 0: any */
        uint16_t host_port, pod_port;
};

struct rk_net_lease {
        uint32_t ip, gateway, subnet; /* network order */
        unsigned prefix;
        bool default_route;
};

/* Takes the lowest free address of net for uuid (or the one it has; its forwards are
 * replaced), refusing a forward whose protocol and host port another pod already has on an
 * overlapping host address, and rebuilds the table. data_dir: rkt's --dir. fwd NULL: keep the
 * forwards uuid has (run-prepared). */
int rk_net_alloc(const char *data_dir, const char *uuid, int kind, const struct rk_net_fwd *fwd,
                 size_t n_fwd, struct rk_net_lease *ret, rk_error *err);
/* Releases uuid's lease (0 if it had none) and rebuilds the table. */
int rk_net_free(const char *data_dir, const char *uuid, rk_error *err);
/* Rebuilds the table from the registry (dropping leases of pods that no longer exist); with
 * no lease and no table, does nothing. */
int rk_net_reconcile(const char *data_dir, rk_error *err);

/* The table's text for a registry (exposed for the unit tests): the nft script, which flushes
 * the table and declares it again (with no entry: deletes it). */
struct rk_net_entry {
        char uuid[40];
        int kind;
        uint32_t ip;
        struct rk_net_fwd fwd[RK_NET_MAX_PORTS];
        size_t n_fwd;
};
int rk_net_ruleset(const struct rk_net_entry *v, size_t n, char **ret, rk_error *err);
int rk_net_network(int kind, struct rk_net_lease *ret);
