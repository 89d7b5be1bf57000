/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* DNS and /etc/hosts settings of a pod (`--dns`, `--dns-search`, `--dns-opt`, `--hosts-entry`;
 * network.md §1.6): the value checks shared by stage0 (flags) and stage1 (plan keys), and the
 * stage0 side that turns flags into the plan's "dns" and "hosts" keys (src/stage1/PLAN.md). */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

#define RK_DNS_MAX_SERVERS 3 /* glibc's and musl's MAXNS: later ones are ignored */
#define RK_DNS_MAX_SEARCH  6 /* glibc's MAXDNSRCH before 2.26 */
#define RK_DNS_MAX_OPTIONS 16
#define RK_DNS_MAX_OPTION  32 /* bytes of one option */
#define RK_HOSTS_MAX       64 /* distinct IPs of --hosts-entry */
#define RK_HOSTS_MAX_NAMES 16 /* names on one IP's line */
#define RK_DNS_NAME_MAX    253

/* An IPv4 dotted quad or an IPv6 address, as inet_pton(3) reads them (no zone, no prefix). */
bool rk_ip_valid(const char *s);
/* RFC 1123 host or domain name: dot-separated labels of 1..63 letters, digits and inner
 * hyphens, at most RK_DNS_NAME_MAX bytes, no trailing dot. */
bool rk_dns_name_valid(const char *s);
/* A resolv.conf option: [a-z][a-z0-9-]* optionally followed by ':' and 1..4 digits. */
bool rk_dns_option_valid(const char *s);

enum rk_dns_mode { RK_DNS_UNSET, RK_DNS_SERVERS, RK_DNS_HOST, RK_DNS_NONE };

struct rk_hosts_entry {
        char *ip;
        char *names[RK_HOSTS_MAX_NAMES];
        size_t n_names;
};

struct rk_dns_opts {
        enum rk_dns_mode mode;
        char *servers[RK_DNS_MAX_SERVERS];
        size_t n_servers;
        char *search[RK_DNS_MAX_SEARCH];
        size_t n_search;
        char *options[RK_DNS_MAX_OPTIONS];
        size_t n_options;
        bool hosts_host; /* --hosts-entry=host */
        struct rk_hosts_entry hosts[RK_HOSTS_MAX];
        size_t n_hosts;
};

void rk_dns_opts_clear(struct rk_dns_opts *o);
/* One flag occurrence: flag is "dns", "dns-search", "dns-opt" or "hosts-entry"; value a
 * comma-separated list. -EINVAL with a one-line message naming the flag and the value. */
int rk_dns_opts_add(struct rk_dns_opts *o, const char *flag, const char *value, rk_error *err);
/* Set the plan's "dns" and "hosts" keys (nothing when the flags were not given). */
int rk_dns_plan_set(const struct rk_dns_opts *o, json_t *plan, rk_error *err);
