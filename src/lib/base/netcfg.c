/* SPDX-License-Identifier: Apache-2.0 */
/* DNS and hosts flags (netcfg.h). */
#include "base/netcfg.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/macro.h"

bool rk_ip_valid(const char *s)
{
        unsigned char buf[16];
        if (!s || strlen(s) > 45)
                return false;
        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

bool rk_dns_name_valid(const char *s)
{
        if (!s || !*s || strlen(s) > RK_DNS_NAME_MAX)
                return false;
        for (const char *l = s;;) {
                size_t len = strspn(l, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                       "0123456789-");
                if (len == 0 || len > 63 || l[0] == '-' || l[len - 1] == '-')
                        return false;
                if (l[len] == 0)
                        return true;
                if (l[len] != '.')
                        return false;
                l += len + 1;
        }
}

bool rk_dns_option_valid(const char *s)
{
        if (!s || !*s || strlen(s) > RK_DNS_MAX_OPTION || !islower((unsigned char)s[0]))
                return false;
        size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-");
        if (s[n] == 0)
                return true;
        if (s[n] != ':')
                return false;
        const char *d = s + n + 1;
        size_t k = strspn(d, "0123456789");
        return k >= 1 && k <= 4 && d[k] == 0;
}

static void free_v(char **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i]);
}

void rk_dns_opts_clear(struct rk_dns_opts *o)
{
        free_v(o->servers, o->n_servers);
        free_v(o->search, o->n_search);
        free_v(o->options, o->n_options);
        for (size_t i = 0; i < o->n_hosts; i++) {
                free(o->hosts[i].ip);
                free_v(o->hosts[i].names, o->hosts[i].n_names);
        }
        memset(o, 0, sizeof(*o));
}

static int push(char **v, size_t *n, size_t max, const char *s, size_t len, const char *flag,
                rk_error *err)
{
        if (*n >= max)
                return rk_err(err, -EINVAL, "--%s: at most %zu values", flag, max);
        if (!(v[*n] = strndup(s, len)))
                return rk_err(err, -ENOMEM, "out of memory");
        (*n)++;
        return 0;
}

static int conflicts(const struct rk_dns_opts *o, rk_error *err)
{
        if ((o->mode == RK_DNS_HOST || o->mode == RK_DNS_NONE) &&
            (o->n_servers || o->n_search || o->n_options))
                return rk_err(err, -EINVAL,
                              "--dns=%s cannot be combined with other --dns, --dns-search or "
                              "--dns-opt values",
                              o->mode == RK_DNS_HOST ? "host" : "none");
        if (o->hosts_host && o->n_hosts)
                return rk_err(err, -EINVAL, "--hosts-entry=host cannot be combined with IP=NAME");
        return 0;
}

static int add_host(struct rk_dns_opts *o, const char *item, rk_error *err)
{
        const char *eq = strchr(item, '=');
        if (!eq)
                return rk_err(err, -EINVAL, "--hosts-entry '%s': expected IP=HOSTNAME or host",
                              item);
        char ip[64];
        size_t iplen = (size_t)(eq - item);
        if (iplen >= sizeof(ip))
                return rk_err(err, -EINVAL, "--hosts-entry '%s': not an IP address", item);
        memcpy(ip, item, iplen);
        ip[iplen] = 0;
        if (!rk_ip_valid(ip))
                return rk_err(err, -EINVAL, "--hosts-entry '%s': not an IP address", item);
        if (!rk_dns_name_valid(eq + 1))
                return rk_err(err, -EINVAL, "--hosts-entry '%s': not an RFC 1123 host name", item);
        struct rk_hosts_entry *e = NULL;
        for (size_t i = 0; i < o->n_hosts && !e; i++)
                if (!strcmp(o->hosts[i].ip, ip))
                        e = &o->hosts[i];
        if (!e) {
                if (o->n_hosts >= RK_HOSTS_MAX)
                        return rk_err(err, -EINVAL, "--hosts-entry: at most %d addresses",
                                      RK_HOSTS_MAX);
                e = &o->hosts[o->n_hosts];
                if (!(e->ip = strdup(ip)))
                        return rk_err(err, -ENOMEM, "out of memory");
                o->n_hosts++;
        }
        for (size_t i = 0; i < e->n_names; i++)
                if (!strcmp(e->names[i], eq + 1))
                        return 0;
        return push(e->names, &e->n_names, RK_HOSTS_MAX_NAMES, eq + 1, strlen(eq + 1),
                    "hosts-entry", err);
}

static int add_one(struct rk_dns_opts *o, const char *flag, const char *item, rk_error *err)
{
        if (!strcmp(flag, "dns")) {
                if (!strcmp(item, "host") || !strcmp(item, "none")) {
                        if (o->mode != RK_DNS_UNSET || o->n_servers)
                                return rk_err(err, -EINVAL, "--dns=%s must be the only --dns value",
                                              item);
                        o->mode = item[0] == 'h' ? RK_DNS_HOST : RK_DNS_NONE;
                        return 0;
                }
                if (!rk_ip_valid(item))
                        return rk_err(err, -EINVAL, "--dns '%s': not an IP address (or host, none)",
                                      item);
                if (o->mode == RK_DNS_HOST || o->mode == RK_DNS_NONE)
                        return rk_err(err, -EINVAL, "--dns=%s must be the only --dns value",
                                      o->mode == RK_DNS_HOST ? "host" : "none");
                o->mode = RK_DNS_SERVERS;
                return push(o->servers, &o->n_servers, RK_DNS_MAX_SERVERS, item, strlen(item), flag,
                            err);
        }
        if (!strcmp(flag, "dns-search")) {
                if (!rk_dns_name_valid(item))
                        return rk_err(err, -EINVAL, "--dns-search '%s': not an RFC 1123 domain",
                                      item);
                return push(o->search, &o->n_search, RK_DNS_MAX_SEARCH, item, strlen(item), flag,
                            err);
        }
        if (!strcmp(flag, "dns-opt")) {
                if (!rk_dns_option_valid(item))
                        return rk_err(err, -EINVAL,
                                      "--dns-opt '%s': not a resolver option (name or name:N)",
                                      item);
                return push(o->options, &o->n_options, RK_DNS_MAX_OPTIONS, item, strlen(item), flag,
                            err);
        }
        if (!strcmp(flag, "hosts-entry")) {
                if (!strcmp(item, "host") ? o->n_hosts > 0 : o->hosts_host)
                        return rk_err(err, -EINVAL,
                                      "--hosts-entry=host cannot be combined with IP=NAME");
                if (!strcmp(item, "host")) {
                        o->hosts_host = true;
                        return 0;
                }
                return add_host(o, item, err);
        }
        return rk_err(err, -EINVAL, "--%s: unknown flag", flag);
}

int rk_dns_opts_add(struct rk_dns_opts *o, const char *flag, const char *value, rk_error *err)
{
        if (!value || !*value)
                return rk_err(err, -EINVAL, "--%s: empty value", flag);
        if (strlen(value) > 4096)
                return rk_err(err, -EINVAL, "--%s: value too long", flag);
        char *dup = strdup(value);
        if (!dup)
                return rk_err(err, -ENOMEM, "out of memory");
        int r = 0;
        char *save = NULL;
        /* empty items ("a,,b", trailing ',') are errors, not skipped */
        size_t n = strlen(dup);
        if (dup[0] == ',' || dup[n - 1] == ',' || strstr(dup, ",,"))
                r = rk_err(err, -EINVAL, "--%s '%s': empty list item", flag, value);
        for (char *t = r < 0 ? NULL : strtok_r(dup, ",", &save); t && r >= 0;
             t = strtok_r(NULL, ",", &save))
                r = add_one(o, flag, t, err);
        free(dup);
        return r < 0 ? r : conflicts(o, err);
}

static json_t *str_array(char *const *v, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                if (json_array_append_new(a, json_string(v[i])) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

int rk_dns_plan_set(const struct rk_dns_opts *o, json_t *plan, rk_error *err)
{
        json_t *dns = NULL, *hosts = NULL;
        if (o->mode == RK_DNS_HOST || o->mode == RK_DNS_NONE)
                dns = json_string(o->mode == RK_DNS_HOST ? "host" : "none");
        else if (o->n_servers || o->n_search || o->n_options)
                dns =
                    json_pack("{s:o, s:o, s:o}", "nameservers", str_array(o->servers, o->n_servers),
                              "search", str_array(o->search, o->n_search), "options",
                              str_array(o->options, o->n_options));
        if (o->hosts_host)
                hosts = json_string("host");
        else if (o->n_hosts) {
                hosts = json_array();
                for (size_t i = 0; hosts && i < o->n_hosts; i++) {
                        json_t *e = json_pack("{s:s, s:o}", "ip", o->hosts[i].ip, "names",
                                              str_array(o->hosts[i].names, o->hosts[i].n_names));
                        if (!e || json_array_append_new(hosts, e) < 0) {
                                json_decref(hosts);
                                hosts = NULL;
                        }
                }
        }
        bool want_dns = o->mode != RK_DNS_UNSET || o->n_search || o->n_options;
        bool want_hosts = o->hosts_host || o->n_hosts;
        int f = 0;
        if (want_dns)
                f |= !dns || json_object_set_new(plan, "dns", dns) < 0;
        if (want_hosts)
                f |= !hosts || json_object_set_new(plan, "hosts", hosts) < 0;
        return f ? rk_err(err, -ENOMEM, "out of memory") : 0;
}
