/* SPDX-License-Identifier: Apache-2.0 */
/* The CNI runner (cni.h). Links only lib/base: stage1 runs it. */
#include "pod/cni.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/json.h"

bool rk_cni_name_valid(const char *s)
{
        size_t n = s ? strlen(s) : 0;
        if (n == 0 || n > 64)
                return false;
        bool prev_sep = true;
        for (; *s; s++) {
                bool alnum = (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9');
                bool sep = *s == '-' || *s == '.' || *s == '_';
                if (!alnum && !sep)
                        return false;
                if (sep && prev_sep)
                        return false;
                prev_sep = sep;
        }
        return !prev_sep;
}

bool rk_cni_type_valid(const char *s)
{
        size_t n = s ? strlen(s) : 0;
        if (n == 0 || n > 64 || s[0] == '.')
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
                        return false;
        return true;
}

bool rk_cni_args_valid(const char *s)
{
        if (!s)
                return false;
        size_t n = strlen(s);
        if (n == 0)
                return true;
        if (n > RK_CNI_MAX_ARGS)
                return false;
        const char *p = s;
        for (;;) {
                const char *k = p;
                while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                       (*p >= '0' && *p <= '9') || *p == '_')
                        p++;
                if (p == k || *p != '=')
                        return false;
                p++;
                while (*p && *p != ';') {
                        if (*p <= ' ' || *p > '~')
                                return false;
                        p++;
                }
                if (!*p)
                        return true;
                p++; /* ';' must be followed by another pair */
        }
}

static bool version_ok(const char *v)
{
        return !strcmp(v, "1.0.0") || !strcmp(v, "0.4.0");
}

int rk_cni_conflist_parse(const char *what, const void *buf, size_t len, json_t **ret,
                          rk_error *err)
{
        json_t *root = NULL;
        int r = rk_json_parse(what, buf, len, RK_CNI_MAX_CONF, &root, err);
        if (r < 0)
                return r;
        const char *ver = NULL, *name = NULL;
        json_t *plugins = NULL;
        if (!json_is_object(root)) {
                r = rk_err(err, -EBADMSG, "%s: not a JSON object", what);
                goto fail;
        }
        const char *key;
        json_t *v;
        json_object_foreach (root, key, v) {
                if (strcmp(key, "cniVersion") && strcmp(key, "name") && strcmp(key, "plugins") &&
                    strcmp(key, "disableCheck")) {
                        r = rk_err(err, -EBADMSG, "%s: unknown key '%.64s'", what, key);
                        goto fail;
                }
        }
        bool dc;
        if ((r = rk_json_get_string(root, "cniVersion", true, what, &ver, err)) < 0 ||
            (r = rk_json_get_string(root, "name", true, what, &name, err)) < 0 ||
            (r = rk_json_get_array(root, "plugins", true, what, &plugins, err)) < 0 ||
            (r = rk_json_get_bool(root, "disableCheck", false, what, &dc, err)) < 0)
                goto fail;
        if (!version_ok(ver)) {
                r = rk_err(err, -EBADMSG, "%s: cniVersion '%.16s' is not supported (1.0.0, 0.4.0)",
                           what, ver);
                goto fail;
        }
        if (!rk_cni_name_valid(name)) {
                r = rk_err(err, -EBADMSG, "%s: name '%.70s' is not a valid network name", what,
                           name);
                goto fail;
        }
        size_t n = json_array_size(plugins);
        if (n == 0 || n > RK_CNI_MAX_PLUGINS) {
                r = rk_err(err, -EBADMSG, "%s: plugins must hold 1 to %d entries", what,
                           RK_CNI_MAX_PLUGINS);
                goto fail;
        }
        for (size_t i = 0; i < n; i++) {
                json_t *p = json_array_get(plugins, i);
                const char *type = NULL, *s = NULL;
                char ctx[160];
                snprintf(ctx, sizeof(ctx), "%s: plugins[%zu]", what, i);
                if (!json_is_object(p)) {
                        r = rk_err(err, -EBADMSG, "%s: not an object", ctx);
                        goto fail;
                }
                if ((r = rk_json_get_string(p, "type", true, ctx, &type, err)) < 0)
                        goto fail;
                if (!rk_cni_type_valid(type)) {
                        r = rk_err(err, -EBADMSG, "%s: type '%.70s' is not a plugin file name", ctx,
                                   type);
                        goto fail;
                }
                if ((r = rk_json_get_string(p, "cniVersion", false, ctx, &s, err)) < 0)
                        goto fail;
                if (r > 0 && strcmp(s, ver) != 0) {
                        r = rk_err(err, -EBADMSG, "%s: cniVersion differs from the list's", ctx);
                        goto fail;
                }
                s = NULL;
                if ((r = rk_json_get_string(p, "name", false, ctx, &s, err)) < 0)
                        goto fail;
                if (r > 0 && strcmp(s, name) != 0) {
                        r = rk_err(err, -EBADMSG, "%s: name differs from the list's", ctx);
                        goto fail;
                }
                if (json_object_get(p, "prevResult") || json_object_get(p, "runtimeConfig")) {
                        r = rk_err(err, -EBADMSG,
                                   "%s: prevResult and runtimeConfig are the "
                                   "runtime's",
                                   ctx);
                        goto fail;
                }
        }
        *ret = root;
        return 0;
fail:
        json_decref(root);
        return r;
}

static int cidr4(const char *s, uint32_t *ip, unsigned *prefix)
{
        char a[32];
        const char *slash = strchr(s, '/');
        if (!slash || (size_t)(slash - s) >= sizeof(a))
                return -1;
        memcpy(a, s, (size_t)(slash - s));
        a[slash - s] = 0;
        char *end;
        errno = 0;
        unsigned long n = strtoul(slash + 1, &end, 10);
        if (errno || *end || end == slash + 1 || slash[1] == '+' || slash[1] == '-')
                return -1;
        struct in_addr in;
        if (inet_pton(AF_INET, a, &in) == 1) {
                if (n > 32)
                        return -1;
                *ip = in.s_addr;
                *prefix = (unsigned)n;
                return 4;
        }
        struct in6_addr in6;
        if (inet_pton(AF_INET6, a, &in6) == 1 && n <= 128)
                return 6;
        return -1;
}

static bool ip_any(const char *s)
{
        struct in6_addr b;
        return inet_pton(AF_INET, s, &b) == 1 || inet_pton(AF_INET6, s, &b) == 1;
}

static int only_keys(const json_t *o, const char *ctx, const char *const *keys, rk_error *err)
{
        if (!json_is_object(o))
                return rk_err(err, -EBADMSG, "%s: not an object", ctx);
        const char *k;
        json_t *v;
        json_object_foreach ((json_t *)o, k, v) {
                bool ok = false;
                for (size_t i = 0; keys[i]; i++)
                        ok |= !strcmp(keys[i], k);
                if (!ok)
                        return rk_err(err, -EBADMSG, "%s: unknown key '%.64s'", ctx, k);
        }
        return 0;
}

int rk_cni_result_parse(const json_t *res, struct rk_cni_result *out, rk_error *err)
{
        static const char *const top[] = {"cniVersion", "interfaces", "ips", "routes", "dns", NULL};
        static const char *const ifk[] = {"name", "mac", "mtu", "sandbox", "socketPath", NULL};
        static const char *const ipk[] = {"address", "gateway", "interface", NULL};
        static const char *const rtk[] = {"dst", "gw", NULL};
        static const char *const dnsk[] = {"nameservers", "domain", "search", "options", NULL};
        const char *ctx = "CNI result";
        memset(out, 0, sizeof(*out));
        int r = only_keys(res, ctx, top, err);
        const char *ver = NULL;
        json_t *ifs = NULL, *ips = NULL, *routes = NULL, *dns = NULL;
        if (r < 0 || (r = rk_json_get_string(res, "cniVersion", true, ctx, &ver, err)) < 0 ||
            (r = rk_json_get_array(res, "interfaces", false, ctx, &ifs, err)) < 0 ||
            (r = rk_json_get_array(res, "ips", false, ctx, &ips, err)) < 0 ||
            (r = rk_json_get_array(res, "routes", false, ctx, &routes, err)) < 0 ||
            (r = rk_json_get_object(res, "dns", false, ctx, &dns, err)) < 0)
                return r;
        if (!version_ok(ver))
                return rk_err(err, -EBADMSG, "%s: cniVersion '%.16s' is not supported", ctx, ver);
        if (dns && (r = only_keys(dns, "CNI result: dns", dnsk, err)) < 0)
                return r;
        out->n_interfaces = json_array_size(ifs);
        out->n_ips = json_array_size(ips);
        out->n_routes = json_array_size(routes);
        if (out->n_interfaces > 64 || out->n_ips > 64 || out->n_routes > 256)
                return rk_err(err, -EBADMSG, "%s: too many entries", ctx);
        for (size_t i = 0; i < out->n_interfaces; i++) {
                json_t *o = json_array_get(ifs, i);
                const char *name = NULL, *s = NULL;
                int64_t mtu;
                if ((r = only_keys(o, "CNI result: interfaces[]", ifk, err)) < 0 ||
                    (r = rk_json_get_string(o, "name", true, "CNI result: interfaces[]", &name,
                                            err)) < 0 ||
                    (r = rk_json_get_string(o, "mac", false, "CNI result: interfaces[]", &s, err)) <
                        0 ||
                    (r = rk_json_get_string(o, "sandbox", false, "CNI result: interfaces[]", &s,
                                            err)) < 0 ||
                    (r = rk_json_get_int(o, "mtu", false, "CNI result: interfaces[]", &mtu, err)) <
                        0)
                        return r;
                if (!*name || strlen(name) > 15)
                        return rk_err(err, -EBADMSG, "%s: interface name '%.32s' is invalid", ctx,
                                      name);
        }
        bool have = false, have_sandboxed = false;
        for (size_t i = 0; i < out->n_ips; i++) {
                json_t *o = json_array_get(ips, i);
                const char *addr = NULL, *gw = NULL;
                int64_t ifi = -1;
                if ((r = only_keys(o, "CNI result: ips[]", ipk, err)) < 0 ||
                    (r = rk_json_get_string(o, "address", true, "CNI result: ips[]", &addr, err)) <
                        0 ||
                    (r = rk_json_get_string(o, "gateway", false, "CNI result: ips[]", &gw, err)) <
                        0 ||
                    (r = rk_json_get_int(o, "interface", false, "CNI result: ips[]", &ifi, err)) <
                        0)
                        return r;
                uint32_t ip = 0;
                unsigned prefix = 0;
                int fam = cidr4(addr, &ip, &prefix);
                if (fam < 0)
                        return rk_err(err, -EBADMSG, "%s: address '%.64s' is not A/N", ctx, addr);
                if (gw && !ip_any(gw))
                        return rk_err(err, -EBADMSG, "%s: gateway '%.64s' is not an address", ctx,
                                      gw);
                if (r > 0 && (ifi < 0 || (size_t)ifi >= out->n_interfaces))
                        return rk_err(err, -EBADMSG, "%s: ips[%zu].interface out of range", ctx, i);
                bool sandboxed = false;
                if (r > 0) {
                        const char *sb = json_string_value(
                            json_object_get(json_array_get(ifs, (size_t)ifi), "sandbox"));
                        sandboxed = sb && *sb;
                }
                if (fam == 4 && (!have || (sandboxed && !have_sandboxed))) {
                        struct in_addr g = {0};
                        if (gw && inet_pton(AF_INET, gw, &g) != 1)
                                g.s_addr = 0;
                        out->ip = ip;
                        out->prefix = prefix;
                        out->gateway = g.s_addr;
                        have = true;
                        have_sandboxed = sandboxed;
                }
        }
        for (size_t i = 0; i < out->n_routes; i++) {
                json_t *o = json_array_get(routes, i);
                const char *dst = NULL, *gw = NULL;
                uint32_t ip;
                unsigned prefix;
                if ((r = only_keys(o, "CNI result: routes[]", rtk, err)) < 0 ||
                    (r = rk_json_get_string(o, "dst", true, "CNI result: routes[]", &dst, err)) <
                        0 ||
                    (r = rk_json_get_string(o, "gw", false, "CNI result: routes[]", &gw, err)) < 0)
                        return r;
                if (cidr4(dst, &ip, &prefix) < 0 || (gw && !ip_any(gw)))
                        return rk_err(err, -EBADMSG, "%s: route '%.64s' is invalid", ctx, dst);
        }
        return 0;
}

int rk_cni_load(const char *dir, const char *name, json_t **ret, rk_error *err)
{
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return rk_err_errno(err, negative_errno(), "network '%s': cannot open '%s'", name,
                                    dir);
        char **names = NULL;
        size_t n = 0;
        int r = rk_dir_names(dfd, true, &names, &n);
        if (r < 0)
                return rk_err_errno(err, r, "cannot list '%s'", dir);
        json_t *found = NULL, *seen = json_object();
        for (size_t i = 0; r >= 0 && i < n; i++) {
                size_t l = strlen(names[i]);
                if (l < 10 || strcmp(names[i] + l - 9, ".conflist") != 0 || names[i][0] == '.')
                        continue;
                char *buf = NULL;
                size_t len = 0;
                char what[320];
                snprintf(what, sizeof(what), "%s/%s", dir, names[i]);
                r = rk_read_file_at(dfd, names[i], RK_CNI_MAX_CONF, &buf, &len, err);
                json_t *c = NULL;
                if (r >= 0)
                        r = rk_cni_conflist_parse(what, buf, len, &c, err);
                free(buf);
                if (r < 0)
                        break;
                const char *nm = json_string_value(json_object_get(c, "name"));
                if (json_object_get(seen, nm)) {
                        r = rk_err(err, -EBADMSG, "%s: network '%s' is also declared in %s", what,
                                   nm, json_string_value(json_object_get(seen, nm)));
                        json_decref(c);
                        break;
                }
                json_object_set_new(seen, nm, json_string(names[i]));
                if (!found && !strcmp(nm, name))
                        found = c;
                else
                        json_decref(c);
        }
        rk_strv_free(names, n);
        json_decref(seen);
        if (r < 0) {
                json_decref(found);
                return r;
        }
        if (!found)
                return rk_err(err, -ENOENT, "network '%s': not found in %s", name, dir);
        *ret = found;
        return 0;
}

int rk_cni_cache_name(const struct rk_cni_attach *a, char *buf, size_t len)
{
        int n = snprintf(buf, len, "%s-%s.json", a->containerid, a->ifname);
        return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Exec one plugin. Returns 0 with *out (stdout, NUL-terminated) and *status (wait status),
 * or a negative error (exec machinery, timeout). */
static int exec_plugin(const char *dir, const char *type, const char *cmd, const char *cid,
                       const char *netns, const char *ifname, const char *args, const char *in,
                       size_t in_len, unsigned timeout_ms, char **out, int *status, rk_error *err)
{
        char path[4096], e_cmd[64], e_cid[128], e_ns[4200], e_if[64], e_args[RK_CNI_MAX_ARGS + 16],
            e_path[4200];
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, type) >= sizeof(path))
                return rk_err(err, -ENAMETOOLONG, "plugin path too long");
        snprintf(e_cmd, sizeof(e_cmd), "CNI_COMMAND=%s", cmd);
        snprintf(e_cid, sizeof(e_cid), "CNI_CONTAINERID=%s", cid);
        snprintf(e_ns, sizeof(e_ns), "CNI_NETNS=%s", netns ? netns : "");
        snprintf(e_if, sizeof(e_if), "CNI_IFNAME=%s", ifname);
        snprintf(e_args, sizeof(e_args), "CNI_ARGS=%s", args ? args : "");
        snprintf(e_path, sizeof(e_path), "CNI_PATH=%s", dir);
        char *envp[] = {
            "PATH=/usr/sbin:/usr/bin:/sbin:/bin", e_cmd, e_cid, e_ns, e_if, e_args, e_path, NULL};
        char *argv[] = {(char *)type, NULL};
        struct stat st;
        if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || access(path, X_OK) < 0)
                return rk_err(err, -ENOENT, "no executable plugin '%s' in %s", type, dir);
        _cleanup_close_ int mfd = memfd_create("cni-stdin", MFD_CLOEXEC);
        if (mfd < 0 || rk_write_all(mfd, in, in_len) < 0 || lseek(mfd, 0, SEEK_SET) < 0)
                return rk_err_errno(err, negative_errno(), "cannot stage the plugin's stdin");
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return rk_err_errno(err, negative_errno(), "pipe");
        pid_t pid = fork();
        if (pid < 0) {
                int e = negative_errno();
                close(p[0]);
                close(p[1]);
                return rk_err_errno(err, e, "fork");
        }
        if (pid == 0) {
                int nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
                sigset_t all;
                sigemptyset(&all);
                sigprocmask(SIG_SETMASK, &all, NULL);
                if (dup2(mfd, 0) < 0 || dup2(p[1], 1) < 0 || nul < 0 || dup2(nul, 2) < 0)
                        _exit(127);
                /* nothing else of ours: not the pod's lock fd (held without CLOEXEC) */
                if (close_range(3, ~0U, 0) < 0)
                        _exit(127);
                umask(022);
                execve(path, argv, envp);
                _exit(127);
        }
        close(p[1]);
        size_t cap = RK_CNI_MAX_CONF, n = 0;
        char *buf = malloc(cap + 1);
        struct timespec t0, t;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int r = buf ? 0 : -ENOMEM;
        while (r == 0) {
                clock_gettime(CLOCK_MONOTONIC, &t);
                long el = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
                if (el >= (long)timeout_ms) {
                        r = rk_err(err, -ETIMEDOUT, "plugin '%s' %s timed out after %u ms", type,
                                   cmd, timeout_ms);
                        break;
                }
                struct pollfd pf = {p[0], POLLIN, 0};
                int pr = poll(&pf, 1, (int)(timeout_ms - el));
                if (pr < 0 && errno == EINTR)
                        continue;
                if (pr <= 0)
                        continue;
                if (n == cap) {
                        r = rk_err(err, -EFBIG, "plugin '%s' %s: output larger than %zu bytes",
                                   type, cmd, cap);
                        break;
                }
                ssize_t k = read(p[0], buf + n, cap - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        r = rk_err_errno(err, negative_errno(), "reading plugin '%s'", type);
                        break;
                }
                if (k == 0)
                        break;
                n += (size_t)k;
        }
        close(p[0]);
        /* stdout closed: the plugin still has the rest of the timeout to exit */
        int ws = 0;
        _cleanup_close_ int pfd = r < 0 ? -EBADF : (int)syscall(SYS_pidfd_open, pid, 0);
        while (r == 0 && pfd >= 0) {
                clock_gettime(CLOCK_MONOTONIC, &t);
                long el = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
                struct pollfd pf = {pfd, POLLIN, 0};
                if (el >= (long)timeout_ms)
                        r = rk_err(err, -ETIMEDOUT, "plugin '%s' %s timed out after %u ms", type,
                                   cmd, timeout_ms);
                else if (poll(&pf, 1, (int)(timeout_ms - el)) > 0)
                        break;
        }
        if (r < 0)
                (void)kill(pid, SIGKILL);
        while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
                ;
        if (r < 0) {
                free(buf);
                return r;
        }
        buf[n] = 0;
        *out = buf;
        *status = ws;
        return 0;
}

/* The request for plugin i: its object plus the list's name and cniVersion, prevResult. */
static char *request(const json_t *conf, size_t i, const json_t *prev, size_t *len)
{
        json_t *p = json_deep_copy(json_array_get(json_object_get(conf, "plugins"), i));
        if (!p)
                return NULL;
        json_object_set(p, "cniVersion", json_object_get(conf, "cniVersion"));
        json_object_set(p, "name", json_object_get(conf, "name"));
        json_object_del(p, "capabilities");
        if (prev)
                json_object_set(p, "prevResult", (json_t *)prev);
        char *s = json_dumps(p, JSON_COMPACT);
        json_decref(p);
        if (s)
                *len = strlen(s);
        return s;
}

static const char *ptype(const json_t *conf, size_t i)
{
        return json_string_value(
            json_object_get(json_array_get(json_object_get(conf, "plugins"), i), "type"));
}

/* One exec with the error made one line: "<cmd> <type>: <msg>: <details>" into err. On
 * success with want_result, *res gets the parsed result. */
static int run_one(const char *dir, const json_t *conf, size_t i, const char *cmd, const char *cid,
                   const char *netns, const char *ifname, const char *args, const json_t *prev,
                   unsigned timeout_ms, json_t **res, rk_error *err)
{
        const char *type = ptype(conf, i);
        size_t len = 0;
        char *in = request(conf, i, prev, &len);
        if (!in)
                return rk_err(err, -ENOMEM, "plugin '%s': cannot build its config", type);
        char *out = NULL;
        int ws = 0;
        int r = exec_plugin(dir, type, cmd, cid, netns, ifname, args, in, len,
                            timeout_ms ? timeout_ms : RK_CNI_TIMEOUT_MS, &out, &ws, err);
        free(in);
        if (r < 0)
                return r;
        if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
                json_t *e = json_loads(out, JSON_REJECT_DUPLICATES, NULL);
                const char *msg = json_string_value(json_object_get(e, "msg"));
                const char *det = json_string_value(json_object_get(e, "details"));
                json_int_t code = json_integer_value(json_object_get(e, "code"));
                char how[48];
                if (WIFEXITED(ws))
                        snprintf(how, sizeof(how), "exit status %d", WEXITSTATUS(ws));
                else
                        snprintf(how, sizeof(how), "signal %d", WTERMSIG(ws));
                if (msg)
                        r = rk_err(err, -EIO, "plugin '%s' %s failed (code %lld): %.200s%s%.150s",
                                   type, cmd, (long long)code, msg, det && *det ? ": " : "",
                                   det ? det : "");
                else
                        r = rk_err(err, -EIO, "plugin '%s' %s failed (%s, no error message)", type,
                                   cmd, how);
                json_decref(e);
                free(out);
                /* one line, whatever the plugin wrote */
                for (char *c = err ? err->msg : ""; *c; c++)
                        if ((unsigned char)*c < 0x20 || *c == 0x7f)
                                *c = ' ';
                return r;
        }
        if (res) {
                json_t *j = NULL;
                char what[96];
                snprintf(what, sizeof(what), "plugin '%s' %s result", type, cmd);
                r = rk_json_parse(what, out, strlen(out), RK_CNI_MAX_CONF, &j, err);
                struct rk_cni_result pr;
                if (r >= 0 && (r = rk_cni_result_parse(j, &pr, err)) < 0)
                        rk_err_prefix(err, r, "plugin '%s' %s", type, cmd);
                if (r < 0)
                        json_decref(j);
                else
                        *res = j;
        }
        free(out);
        return r;
}

static int cache_write(int dirfd, const char *name, const struct rk_cni_attach *a,
                       const json_t *conf, size_t added, const json_t *result, rk_error *err)
{
        json_t *c = json_pack("{s:s, s:O, s:s, s:s, s:s, s:s, s:O, s:I}", "kind", "rktCniCacheV1",
                              "network", json_object_get(conf, "name"), "pluginDir",
                              a->plugin_dir ? a->plugin_dir : RK_CNI_PLUGIN_DIR, "ifName",
                              a->ifname, "netns", a->netns, "cniArgs", a->args ? a->args : "",
                              "config", conf, "added", (json_int_t)added);
        if (!c)
                return rk_err(err, -ENOMEM, "cannot build the CNI cache");
        if (result)
                json_object_set(c, "result", (json_t *)result);
        char *s = json_dumps(c, JSON_COMPACT);
        json_decref(c);
        if (!s)
                return rk_err(err, -ENOMEM, "cannot build the CNI cache");
        int r = rk_write_file_atomic_at(dirfd, name, s, strlen(s), 0600, err);
        free(s);
        return r;
}

/* DEL plugins added-1..0 with prev; all of them; errors joined into err. */
static int del_chain(const char *dir, const json_t *conf, size_t added, const char *cid,
                     const char *netns, const char *ifname, const char *args, const json_t *prev,
                     unsigned timeout_ms, rk_error *err)
{
        int first = 0;
        for (size_t i = added; i-- > 0;) {
                rk_error e = RK_ERROR_INIT;
                int r = run_one(dir, conf, i, "DEL", cid, netns, ifname, args, prev, timeout_ms,
                                NULL, &e);
                if (r < 0 && first == 0) {
                        first = r;
                        rk_err(err, r, "%s", e.msg);
                }
        }
        return first;
}

int rk_cni_add(const struct rk_cni_attach *a, const json_t *conf, json_t **result, rk_error *err)
{
        const char *dir = a->plugin_dir ? a->plugin_dir : RK_CNI_PLUGIN_DIR;
        const char *net = json_string_value(json_object_get(conf, "name"));
        char cname[256];
        if (rk_cni_cache_name(a, cname, sizeof(cname)) < 0)
                return rk_err(err, -ENAMETOOLONG, "network '%s': names too long", net);
        if (a->args && !rk_cni_args_valid(a->args))
                return rk_err(err, -EINVAL, "network '%s': CNI args '%.64s' are not K=V;K=V", net,
                              a->args);
        size_t n = json_array_size(json_object_get(conf, "plugins"));
        json_t *prev = NULL;
        int r = 0;
        size_t i;
        for (i = 0; i < n; i++) {
                /* the cache says plugin i may have acted before it runs */
                r = cache_write(a->cache_dirfd, cname, a, conf, i + 1, prev, err);
                if (r < 0) {
                        rk_err_prefix(err, r, "network '%s'", net);
                        break;
                }
                json_t *res = NULL;
                r = run_one(dir, conf, i, "ADD", a->containerid, a->netns, a->ifname, a->args, prev,
                            a->timeout_ms, &res, err);
                if (r < 0) {
                        rk_err_prefix(err, r, "network '%s'", net);
                        i++;
                        break;
                }
                json_decref(prev);
                prev = res;
        }
        if (r >= 0) {
                r = cache_write(a->cache_dirfd, cname, a, conf, n, prev, err);
                if (r >= 0) {
                        if (result)
                                *result = prev;
                        else
                                json_decref(prev);
                        return 0;
                }
                i = n;
        }
        /* undo: DEL every plugin that may have acted (the failed one too), reverse order */
        rk_error de = RK_ERROR_INIT;
        int dr = del_chain(dir, conf, i, a->containerid, a->netns, a->ifname, a->args, prev,
                           a->timeout_ms, &de);
        json_decref(prev);
        if (dr < 0 && err) {
                size_t l = strlen(err->msg);
                snprintf(err->msg + l, sizeof(err->msg) - l, " (cleanup: %s)", de.msg);
        } else if (dr >= 0)
                (void)unlinkat(a->cache_dirfd, cname, 0);
        return r;
}

static int cache_read(int dirfd, const char *name, json_t **ret, rk_error *err)
{
        char *buf = NULL;
        size_t len = 0;
        int r = rk_read_file_at(dirfd, name, 4 * RK_CNI_MAX_CONF, &buf, &len, err);
        if (r < 0)
                return r;
        r = rk_json_parse(name, buf, len, 4 * RK_CNI_MAX_CONF, ret, err);
        free(buf);
        return r;
}

int rk_cni_cache_result(int dirfd, const char *name, json_t **ret, rk_error *err)
{
        json_t *c = NULL;
        *ret = NULL;
        int r = cache_read(dirfd, name, &c, err);
        if (r < 0)
                return r;
        json_t *res = json_object_get(c, "result");
        if (res)
                *ret = json_incref(res);
        json_decref(c);
        return 0;
}

int rk_cni_del_cached(int dirfd, const char *name, const char *plugin_dir, const char *netns_now,
                      rk_error *err)
{
        const char *dir = plugin_dir ? plugin_dir : RK_CNI_PLUGIN_DIR;
        json_t *c = NULL;
        int r = cache_read(dirfd, name, &c, err);
        if (r == -ENOENT) {
                rk_err_clear(err);
                return 0;
        }
        if (r < 0)
                return r;
        const char *kind = json_string_value(json_object_get(c, "kind"));
        /* the plugins that ADDed, not whatever the caller has now */
        const char *pd = json_string_value(json_object_get(c, "pluginDir"));
        if (pd && pd[0] == '/' && !strstr(pd, "/../"))
                dir = pd;
        const char *ifname = json_string_value(json_object_get(c, "ifName"));
        const char *netns = json_string_value(json_object_get(c, "netns"));
        const char *args = json_string_value(json_object_get(c, "cniArgs"));
        json_t *conf = json_object_get(c, "config"), *res = json_object_get(c, "result");
        json_int_t added = json_integer_value(json_object_get(c, "added"));
        char cid[128];
        const char *dash = NULL;
        json_t *chk = NULL;
        r = 0;
        if (!kind || strcmp(kind, "rktCniCacheV1") || !ifname || !netns || !args ||
            !rk_cni_args_valid(args) || strlen(name) >= sizeof(cid))
                r = -EBADMSG;
        else {
                char *s = json_dumps(conf, JSON_COMPACT);
                r = s ? rk_cni_conflist_parse(name, s, strlen(s), &chk, err) : -ENOMEM;
                free(s);
                json_decref(chk);
        }
        size_t n = json_array_size(json_object_get(conf, "plugins"));
        if (r >= 0 && (added < 0 || (size_t)added > n))
                r = -EBADMSG;
        /* the container id is the file name up to "-<ifname>.json" */
        snprintf(cid, sizeof(cid), "%s", name);
        size_t sl = strlen(cid), il = ifname ? strlen(ifname) : 0;
        if (r >= 0 && sl > il + 6 && !strcmp(cid + sl - 5, ".json") &&
            !strncmp(cid + sl - 5 - il, ifname, il) && cid[sl - 6 - il] == '-') {
                dash = cid + sl - 6 - il;
                cid[dash - cid] = 0;
        } else if (r >= 0)
                r = -EBADMSG;
        if (r < 0) {
                if (!err->msg[0] || r == -EBADMSG)
                        rk_err(err, r, "CNI cache '%s' is invalid", name);
                json_decref(c);
                return r;
        }
        const char *net = json_string_value(json_object_get(conf, "name"));
        if (netns_now)
                netns = netns_now;
        r = del_chain(dir, conf, (size_t)added, cid, netns, ifname, args, res, 0, err);
        if (r < 0)
                rk_err_prefix(err, r, "network '%s'", net);
        else
                (void)unlinkat(dirfd, name, 0);
        json_decref(c);
        return r;
}

int rk_cni_netlist_parse(const char *spec, struct rk_cni_req *reqs, size_t *n, rk_error *err)
{
        static const char *const builtin[] = {"none", "host", "default", "default-restricted",
                                              "all"};
        *n = 0;
        if (!spec || !*spec)
                return rk_err(err, -EINVAL, "--net: empty network list");
        const char *p = spec;
        for (;;) {
                const char *end = strchr(p, ',');
                size_t len = end ? (size_t)(end - p) : strlen(p);
                const char *colon = memchr(p, ':', len);
                size_t nl = colon ? (size_t)(colon - p) : len;
                if (*n >= RK_CNI_MAX_NETS)
                        return rk_err(err, -EINVAL, "--net: at most %d networks", RK_CNI_MAX_NETS);
                struct rk_cni_req *r = &reqs[*n];
                if (nl == 0 || nl >= sizeof(r->name))
                        return rk_err(err, -EINVAL, "--net: empty or too long network name");
                memcpy(r->name, p, nl);
                r->name[nl] = 0;
                for (size_t i = 0; i < ELEMENTSOF(builtin); i++)
                        if (!strcmp(r->name, builtin[i]))
                                return rk_err(err, -EINVAL,
                                              "--net: '%s' cannot be combined with named "
                                              "networks or given arguments",
                                              r->name);
                if (!rk_cni_name_valid(r->name))
                        return rk_err(err, -EINVAL, "--net: '%s' is not a valid network name",
                                      r->name);
                for (size_t i = 0; i < *n; i++)
                        if (!strcmp(reqs[i].name, r->name))
                                return rk_err(err, -EINVAL, "--net: network '%s' given twice",
                                              r->name);
                size_t al = colon ? len - nl - 1 : 0;
                if (al > RK_CNI_MAX_ARGS)
                        return rk_err(err, -EINVAL, "--net: %s: arguments too long", r->name);
                memcpy(r->args, colon ? colon + 1 : "", al);
                r->args[al] = 0;
                if ((colon && al == 0) || !rk_cni_args_valid(r->args))
                        return rk_err(err, -EINVAL, "--net: %s: arguments must be K=V[;K=V]...",
                                      r->name);
                (*n)++;
                if (!end)
                        return 0;
                p = end + 1;
        }
}
