/* SPDX-License-Identifier: Apache-2.0 */
/* The built-in networks' host side (net.h): the lease registry and the `inet rkt` table. The
 * nft script is generated only from values this file parsed to binary and prints back
 * (addresses, ports, fixed names): nothing of an image or a user reaches libnftables as text. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <nftables/libnftables.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "base/fileio.h"
#include "pod/net.h"
#include "pod/pod.h"

#define REG_HEADER    "rkt-net 1\n"
#define REG_MAX_BYTES (8u << 20)
#define REG_MAX_PODS  70000u
#define UUID_LEN      36
#define TABLE         "inet rkt"

static const char *const kind_names[] = {"none", "host", "default", "default-restricted"};

int rk_net_kind(const char *name)
{
        for (size_t i = 0; name && i < ELEMENTSOF(kind_names); i++)
                if (!strcmp(name, kind_names[i]))
                        return (int)i;
        return -EINVAL;
}

int rk_net_network(int kind, struct rk_net_lease *ret)
{
        struct in_addr a;
        if (kind == RK_NET_DEFAULT) {
                inet_pton(AF_INET, "172.16.28.0", &a);
                *ret =
                    (struct rk_net_lease){.subnet = a.s_addr, .prefix = 24, .default_route = true};
        } else if (kind == RK_NET_RESTRICTED) {
                inet_pton(AF_INET, "172.31.0.0", &a);
                *ret = (struct rk_net_lease){.subnet = a.s_addr, .prefix = 16};
        } else
                return -EINVAL;
        ret->gateway = htonl(ntohl(ret->subnet) + 1);
        return 0;
}

static bool uuid_ok(const char *s)
{
        if (strlen(s) != UUID_LEN)
                return false;
        for (size_t i = 0; i < UUID_LEN; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;
                if (dash ? s[i] != '-' : !strchr("0123456789abcdef", s[i]))
                        return false;
        }
        return true;
}

static bool parse_u16(const char *s, size_t len, uint16_t *ret)
{
        if (len == 0 || len > 5 || s[0] == '0')
                return false;
        unsigned v = 0;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (unsigned)(s[i] - '0');
        }
        if (v == 0 || v > 65535)
                return false;
        *ret = (uint16_t)v;
        return true;
}

static bool parse_ip(const char *s, size_t len, uint32_t *ret)
{
        char b[INET_ADDRSTRLEN];
        struct in_addr a;
        if (len == 0 || len >= sizeof(b))
                return false;
        memcpy(b, s, len);
        b[len] = 0;
        if (inet_pton(AF_INET, b, &a) != 1)
                return false;
        *ret = a.s_addr;
        return true;
}

int rk_net_port_parse(const char *arg, struct rk_net_port_opt *ret, rk_error *err)
{
        const char *c1 = strchr(arg, ':');
        const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        *ret = (struct rk_net_port_opt){0};
        bool ok = c1 && c1 > arg && (size_t)(c1 - arg) < sizeof(ret->name) &&
                  (!c2 || !strchr(c2 + 1, ':'));
        if (ok) {
                memcpy(ret->name, arg, (size_t)(c1 - arg));
                const char *port = c2 ? c2 + 1 : c1 + 1;
                ok = parse_u16(port, strlen(port), &ret->host_port) &&
                     (!c2 || parse_ip(c1 + 1, (size_t)(c2 - c1 - 1), &ret->host_ip));
        }
        if (!ok)
                return rk_err(err, -EINVAL,
                              "--port=%s: not NAME:[HOSTIP:]HOSTPORT (an IPv4 address, a port "
                              "1-65535)",
                              arg);
        return 0;
}

/* ---- the registry ---- */

struct registry {
        struct rk_net_entry *v;
        size_t n;
};

static void registry_clear(struct registry *reg)
{
        free(reg->v);
        reg->v = NULL;
        reg->n = 0;
}

/* "<proto>:<ip>:<host port>:<pod port>" */
static bool parse_fwd(const char *s, size_t len, struct rk_net_fwd *f)
{
        const char *end = s + len, *p[3];
        const char *q = s;
        for (int i = 0; i < 3; i++) {
                p[i] = memchr(q, ':', (size_t)(end - q));
                if (!p[i])
                        return false;
                q = p[i] + 1;
        }
        if (memchr(q, ':', (size_t)(end - q)))
                return false;
        size_t plen = (size_t)(p[0] - s);
        if (plen == 3 && !memcmp(s, "tcp", 3))
                f->udp = false;
        else if (plen == 3 && !memcmp(s, "udp", 3))
                f->udp = true;
        else
                return false;
        return parse_ip(p[0] + 1, (size_t)(p[1] - p[0] - 1), &f->host_ip) &&
               parse_u16(p[1] + 1, (size_t)(p[2] - p[1] - 1), &f->host_port) &&
               parse_u16(p[2] + 1, (size_t)(end - p[2] - 1), &f->pod_port);
}

/* Strict: a line that does not parse, or a uuid or address seen twice, is an error. */
static int parse(const char *buf, size_t len, struct registry *reg, rk_error *err)
{
        if (len < strlen(REG_HEADER) || memcmp(buf, REG_HEADER, strlen(REG_HEADER)) != 0)
                return rk_err(err, -EBADMSG, "net leases: bad header");
        size_t lineno = 1;
        for (const char *p = buf + strlen(REG_HEADER); p < buf + len;) {
                const char *nl = memchr(p, '\n', (size_t)(buf + len - p));
                lineno++;
                if (!nl || reg->n >= REG_MAX_PODS)
                        return rk_err(err, -EBADMSG, "net leases line %zu: bad line", lineno);
                struct rk_net_entry *v = realloc(reg->v, (reg->n + 1) * sizeof(*v));
                if (!v)
                        return rk_err(err, -ENOMEM, "out of memory");
                reg->v = v;
                struct rk_net_entry *e = &v[reg->n];
                *e = (struct rk_net_entry){0};
                bool ok = true;
                int field = 0;
                for (const char *f = p; ok && f < nl; field++) {
                        const char *sp = memchr(f, ' ', (size_t)(nl - f));
                        const char *fe = sp ? sp : nl;
                        size_t flen = (size_t)(fe - f);
                        if (field == 0) {
                                ok = flen == UUID_LEN;
                                if (ok) {
                                        memcpy(e->uuid, f, flen);
                                        ok = uuid_ok(e->uuid);
                                }
                        } else if (field == 1) {
                                char k[24] = {0};
                                ok = flen < sizeof(k);
                                if (ok) {
                                        memcpy(k, f, flen);
                                        e->kind = rk_net_kind(k);
                                        ok = rk_net_contained(e->kind);
                                }
                        } else if (field == 2)
                                ok = parse_ip(f, flen, &e->ip);
                        else
                                ok = e->n_fwd < RK_NET_MAX_PORTS &&
                                     parse_fwd(f, flen, &e->fwd[e->n_fwd++]);
                        f = sp ? sp + 1 : nl;
                }
                if (!ok || field < 3)
                        return rk_err(err, -EBADMSG, "net leases line %zu: bad line", lineno);
                for (size_t i = 0; i < reg->n; i++)
                        if (!strcmp(v[i].uuid, e->uuid) || v[i].ip == e->ip)
                                return rk_err(err, -EBADMSG,
                                              "net leases line %zu: pod or address seen twice",
                                              lineno);
                reg->n++;
                p = nl + 1;
        }
        return 0;
}

static int store(int d, const struct registry *reg, rk_error *err)
{
        size_t cap = strlen(REG_HEADER) + reg->n * (UUID_LEN + 40 + RK_NET_MAX_PORTS * 40) + 1;
        _cleanup_free_ char *buf = malloc(cap);
        if (!buf)
                return rk_err(err, -ENOMEM, "out of memory");
        size_t len = (size_t)snprintf(buf, cap, "%s", REG_HEADER);
        for (size_t i = 0; i < reg->n; i++) {
                const struct rk_net_entry *e = &reg->v[i];
                char ip[INET_ADDRSTRLEN], hip[INET_ADDRSTRLEN];
                inet_ntop(AF_INET, &e->ip, ip, sizeof(ip));
                len += (size_t)snprintf(buf + len, cap - len, "%s %s %s", e->uuid,
                                        kind_names[e->kind], ip);
                for (size_t k = 0; k < e->n_fwd; k++) {
                        inet_ntop(AF_INET, &e->fwd[k].host_ip, hip, sizeof(hip));
                        len += (size_t)snprintf(buf + len, cap - len, " %s:%s:%u:%u",
                                                e->fwd[k].udp ? "udp" : "tcp", hip,
                                                e->fwd[k].host_port, e->fwd[k].pod_port);
                }
                len += (size_t)snprintf(buf + len, cap - len, "\n");
        }
        return rk_write_file_atomic_at(d, "leases", buf, len, 0600, err);
}

/* <dir>/net, created 0700 when create; returns the lock fd, flock'ed, and the dir in *dfd. */
static int open_locked(const char *data_dir, bool create, struct registry *reg, int *dfd,
                       rk_error *err)
{
        _cleanup_close_ int dir = open(data_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return rk_err_errno(err, negative_errno(), "data dir '%s'", data_dir);
        if (create && mkdirat(dir, "net", 0700) < 0 && errno != EEXIST)
                return rk_err_errno(err, negative_errno(), "cannot create %s/net", data_dir);
        _cleanup_close_ int d = openat(dir, "net", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (d < 0)
                return errno == ENOENT ? -ENOENT
                                       : rk_err_errno(err, negative_errno(), "%s/net", data_dir);
        int lock = openat(d, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (lock < 0)
                return rk_err_errno(err, negative_errno(), "%s/net/lock", data_dir);
        if (flock(lock, LOCK_EX) < 0) {
                int r = rk_err_errno(err, negative_errno(), "cannot lock %s/net", data_dir);
                (void)close(lock);
                return r;
        }
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        rk_error e = RK_ERROR_INIT;
        int r = rk_read_file_at(d, "leases", REG_MAX_BYTES, &buf, &len, &e);
        if (r == -ENOENT)
                r = 0;
        else if (r < 0)
                *err = e;
        else
                r = parse(buf, len, reg, err);
        if (r < 0) {
                (void)close(lock);
                return r;
        }
        *dfd = TAKE_FD(d);
        return lock;
}

/* A pod moves only forward through rk_pod_state: looking in that order cannot miss it. */
static bool pod_exists(const char *data_dir, const char *uuid)
{
        char path[PATH_MAX];
        struct stat st;
        for (int s = 0; s < RK_POD_STATE_MAX; s++) {
                int n = snprintf(path, sizeof(path), "%s/pods/%s/%s", data_dir,
                                 rk_pod_state_dir((enum rk_pod_state)s), uuid);
                if (n < 0 || (size_t)n >= sizeof(path) || lstat(path, &st) == 0 || errno != ENOENT)
                        return true;
        }
        return false;
}

/* ---- the table ---- */

struct sbuf {
        char *s;
        size_t len, cap;
        bool oom;
};

__attribute__((format(printf, 2, 3))) static void sb(struct sbuf *b, const char *fmt, ...)
{
        va_list ap;
        for (;;) {
                va_start(ap, fmt);
                int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
                va_end(ap);
                if (n < 0 || b->oom) {
                        b->oom = true;
                        return;
                }
                if (b->s && b->len + (size_t)n < b->cap) {
                        b->len += (size_t)n;
                        return;
                }
                size_t cap = (b->cap + (size_t)n + 1) * 2;
                char *s = realloc(b->s, cap);
                if (!s) {
                        b->oom = true;
                        return;
                }
                b->s = s;
                b->cap = cap;
        }
}

static const char *ip_str(uint32_t ip, char b[static INET_ADDRSTRLEN])
{
        return inet_ntop(AF_INET, &ip, b, INET_ADDRSTRLEN);
}

static void dnat_rules(struct sbuf *b, const struct rk_net_entry *v, size_t n)
{
        char pod[INET_ADDRSTRLEN], host[INET_ADDRSTRLEN];
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < v[i].n_fwd; k++) {
                        const struct rk_net_fwd *f = &v[i].fwd[k];
                        const char *proto = f->udp ? "udp" : "tcp";
                        if (f->host_ip)
                                sb(b, "    ip daddr %s ", ip_str(f->host_ip, host));
                        else
                                sb(b, "    fib daddr type local ");
                        sb(b, "%s dport %u dnat ip to %s:%u comment \"%s\"\n", proto, f->host_port,
                           ip_str(v[i].ip, pod), f->pod_port, v[i].uuid);
                }
}

static int ruleset(const struct rk_net_entry *v, size_t n, bool fresh, char **ret, rk_error *err)
{
        struct sbuf b = {0};
        struct rk_net_lease def, res;
        char sd[INET_ADDRSTRLEN], sr[INET_ADDRSTRLEN];
        rk_net_network(RK_NET_DEFAULT, &def);
        rk_net_network(RK_NET_RESTRICTED, &res);
        ip_str(def.subnet, sd);
        ip_str(res.subnet, sr);
        /* n == 0: "add" then "delete" (never fails): the table goes. Otherwise its rules and set
         * elements are flushed and everything declared again, in one transaction: chains
         * (hooks) that exist are kept, which spares the kernel the RCU grace periods of
         * unregistering and registering them (about 9 ms here). rk_net_ruleset_fresh is the
         * same with the table deleted first, for a table that does not take the declaration. */
        if (n == 0 || fresh)
                sb(&b, "add table " TABLE "\ndelete table " TABLE "\n");
        else
                sb(&b, "add table " TABLE "\nflush table " TABLE "\n");
        if (n == 0)
                goto out;
        sb(&b, "table " TABLE " {\n");
        sb(&b, "  set subnets { type ipv4_addr; flags interval; elements = { %s/%u, %s/%u } }\n",
           sd, def.prefix, sr, res.prefix);
        sb(&b, "  chain raw-prerouting {\n"
               "    type filter hook prerouting priority raw; policy accept;\n"
               "    iifname != \"lo\" ip daddr 127.0.0.0/8 counter drop\n"
               "    iifname \"rkt*\" meta nfproto ipv4 fib saddr . iif oif missing drop\n"
               "  }\n");
        sb(&b, "  chain nat-prerouting {\n"
               "    type nat hook prerouting priority dstnat; policy accept;\n");
        dnat_rules(&b, v, n);
        sb(&b, "  }\n  chain nat-output {\n"
               "    type nat hook output priority -100; policy accept;\n");
        dnat_rules(&b, v, n);
        sb(&b,
           "  }\n  chain nat-postrouting {\n"
           "    type nat hook postrouting priority srcnat; policy accept;\n"
           "    ct status dnat ip saddr 127.0.0.0/8 masquerade\n"
           "    ct status dnat ip saddr @subnets masquerade\n"
           "    ip saddr %s/%u ip daddr != @subnets masquerade\n"
           "  }\n",
           sd, def.prefix);
        sb(&b,
           "  chain forward {\n"
           "    type filter hook forward priority filter; policy accept;\n"
           "    ct state established,related accept\n"
           "    ip daddr @subnets ct status dnat accept\n"
           "    ip daddr @subnets drop\n"
           "    ip saddr %s/%u drop\n"
           "  }\n}\n",
           sr, res.prefix);
out:
        if (b.oom) {
                free(b.s);
                return rk_err(err, -ENOMEM, "out of memory");
        }
        *ret = b.s;
        return 0;
}

int rk_net_ruleset(const struct rk_net_entry *v, size_t n, char **ret, rk_error *err)
{
        return ruleset(v, n, false, ret, err);
}

static int nft_apply(const char *script, rk_error *err)
{
        struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
        if (!ctx)
                return rk_err(err, -ENOMEM, "network: cannot create an nftables context");
        nft_ctx_buffer_output(ctx);
        nft_ctx_buffer_error(ctx);
        int r = nft_run_cmd_from_buffer(ctx, script);
        if (r != 0) {
                const char *e = nft_ctx_get_error_buffer(ctx);
                r = rk_err(err, -EIO, "network: nftables refused the rkt table: %.400s",
                           e && *e ? e : "(no message)");
        }
        nft_ctx_free(ctx);
        return r;
}

/* Forwarding is per network namespace; the host routes for the pods. */
static int ip_forward(rk_error *err)
{
        int fd = open("/proc/sys/net/ipv4/ip_forward", O_RDWR | O_CLOEXEC);
        char c = 0;
        if (fd >= 0 && pread(fd, &c, 1, 0) == 1 && c != '1' && pwrite(fd, "1", 1, 0) != 1) {
                (void)close(fd);
                fd = -1;
        }
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "network: cannot enable ip_forward");
        (void)close(fd);
        return 0;
}

/* Under the lock: drop the leases of pods that are gone, store, rebuild the table. */
static int commit(const char *data_dir, int dfd, struct registry *reg, bool changed, rk_error *err)
{
        size_t kept = 0;
        for (size_t i = 0; i < reg->n; i++)
                if (pod_exists(data_dir, reg->v[i].uuid))
                        reg->v[kept++] = reg->v[i];
        changed |= kept != reg->n;
        reg->n = kept;
        int r = changed ? store(dfd, reg, err) : 0;
        _cleanup_free_ char *script = NULL, *fresh = NULL;
        if (r >= 0)
                r = rk_net_ruleset(reg->v, reg->n, &script, err);
        if (r >= 0 && reg->n > 0)
                r = ip_forward(err);
        if (r >= 0)
                r = nft_apply(script, err);
        /* a table this version did not make (other chains or hooks): replaced whole */
        if (r == -EIO && reg->n > 0 && ruleset(reg->v, reg->n, true, &fresh, err) >= 0)
                r = nft_apply(fresh, err);
        return r;
}

static bool fwd_clash(const struct rk_net_fwd *a, const struct rk_net_fwd *b)
{
        return a->udp == b->udp && a->host_port == b->host_port &&
               (!a->host_ip || !b->host_ip || a->host_ip == b->host_ip);
}

int rk_net_alloc(const char *data_dir, const char *uuid, int kind, const struct rk_net_fwd *fwd,
                 size_t n_fwd, struct rk_net_lease *ret, rk_error *err)
{
        if (!uuid_ok(uuid) || !rk_net_contained(kind) || n_fwd > RK_NET_MAX_PORTS)
                return rk_err(err, -EINVAL, "network: bad request");
        for (size_t i = 0; i < n_fwd; i++)
                for (size_t k = 0; k < i; k++)
                        if (fwd_clash(&fwd[i], &fwd[k]))
                                return rk_err(err, -EADDRINUSE,
                                              "--port: host port %s/%u given twice",
                                              fwd[i].udp ? "udp" : "tcp", fwd[i].host_port);
        struct registry reg = {0};
        int d = -EBADF;
        _cleanup_close_ int lock = open_locked(data_dir, true, &reg, &d, err);
        _cleanup_close_ int dfd = d;
        if (lock < 0) {
                registry_clear(&reg);
                return lock;
        }
        rk_net_network(kind, ret);
        int r = 0;
        size_t self = reg.n;
        for (size_t i = 0; i < reg.n; i++) {
                if (!strcmp(reg.v[i].uuid, uuid)) {
                        self = i;
                        continue;
                }
                if (!pod_exists(data_dir, reg.v[i].uuid))
                        continue;
                for (size_t k = 0; r >= 0 && k < reg.v[i].n_fwd; k++)
                        for (size_t j = 0; r >= 0 && j < n_fwd; j++)
                                if (fwd_clash(&reg.v[i].fwd[k], &fwd[j]))
                                        r = rk_err(err, -EADDRINUSE,
                                                   "--port: host port %s/%u is forwarded to pod "
                                                   "%s already",
                                                   fwd[j].udp ? "udp" : "tcp", fwd[j].host_port,
                                                   reg.v[i].uuid);
        }
        if (r >= 0 && self < reg.n && reg.v[self].kind != kind) {
                /* another network: a new address */
                reg.v[self] = reg.v[--reg.n];
                self = reg.n;
        }
        if (r >= 0 && self == reg.n) {
                uint32_t first = ntohl(ret->gateway) + 1;
                uint32_t last = ntohl(ret->subnet) + (1u << (32 - ret->prefix)) - 2;
                uint32_t ip = 0;
                for (uint32_t a = first; !ip && a <= last; a++) {
                        bool used = false;
                        for (size_t i = 0; !used && i < reg.n; i++)
                                used =
                                    reg.v[i].ip == htonl(a) && pod_exists(data_dir, reg.v[i].uuid);
                        if (!used)
                                ip = htonl(a);
                }
                struct rk_net_entry *v = ip ? realloc(reg.v, (reg.n + 1) * sizeof(*v)) : NULL;
                if (!ip)
                        r = rk_err(err, -ENOSPC,
                                   "network %s: no free address (remove exited pods: rkt gc)",
                                   kind_names[kind]);
                else if (!v)
                        r = rk_err(err, -ENOMEM, "out of memory");
                else {
                        /* a stale lease of a vanished pod on that address goes */
                        for (size_t i = 0; i < reg.n; i++)
                                if (v[i].ip == ip)
                                        v[i] = v[--reg.n];
                        reg.v = v;
                        self = reg.n++;
                        reg.v[self] = (struct rk_net_entry){.kind = kind, .ip = ip};
                        snprintf(reg.v[self].uuid, sizeof(reg.v[self].uuid), "%s", uuid);
                }
        }
        if (r >= 0 && fwd) {
                memcpy(reg.v[self].fwd, fwd, n_fwd * sizeof(*fwd));
                reg.v[self].n_fwd = n_fwd;
        }
        if (r >= 0) {
                ret->ip = reg.v[self].ip;
                r = commit(data_dir, dfd, &reg, true, err);
        }
        registry_clear(&reg);
        return r;
}

int rk_net_free(const char *data_dir, const char *uuid, rk_error *err)
{
        struct registry reg = {0};
        int d = -EBADF;
        _cleanup_close_ int lock = open_locked(data_dir, false, &reg, &d, err);
        _cleanup_close_ int dfd = d;
        if (lock < 0) {
                registry_clear(&reg);
                return lock == -ENOENT ? 0 : lock;
        }
        size_t kept = 0;
        for (size_t i = 0; i < reg.n; i++)
                if (strcmp(reg.v[i].uuid, uuid) != 0)
                        reg.v[kept++] = reg.v[i];
        bool changed = kept != reg.n;
        reg.n = kept;
        int r = changed ? commit(data_dir, dfd, &reg, true, err) : 0;
        registry_clear(&reg);
        return r;
}

int rk_net_reconcile(const char *data_dir, rk_error *err)
{
        struct registry reg = {0};
        int d = -EBADF;
        _cleanup_close_ int lock = open_locked(data_dir, false, &reg, &d, err);
        _cleanup_close_ int dfd = d;
        if (lock < 0) {
                registry_clear(&reg);
                return lock == -ENOENT ? 0 : lock;
        }
        int r = commit(data_dir, dfd, &reg, false, err);
        registry_clear(&reg);
        return r;
}
