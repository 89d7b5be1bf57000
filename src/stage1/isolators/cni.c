/* SPDX-License-Identifier: Apache-2.0 */
/* Named CNI networks (PLAN.md, "CNI networks"). The outer rkt-stage1 process, which stays in
 * the host's mount, network and PID namespaces, attaches them once init made the pod's network
 * namespace: it pins that namespace with a bind mount on <pod>/net/netns (so DEL still finds
 * the pod's interfaces after init died, even by SIGKILL), then runs each network's plugins
 * through the CNI runner (src/lib/pod/cni.c) with interface eth<i>, the cache of each
 * attachment in <pod>/net/cni/<network>/<uuid>-eth<i>.json. Teardown (the outer process when
 * the pod exits, `gc` after a crash) DELs every cached attachment, last interface first, then
 * unpins the namespace. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/log.h"
#include "pod/cni.h"
#include "stage1/stage1.h"

static const char *plugin_dir(void)
{
        /* tests point this at a directory holding the real plugins plus fakes */
        const char *d = getenv("RKT_CNI_PLUGIN_DIR");
        return d && d[0] == '/' ? d : RK_CNI_PLUGIN_DIR;
}

static int open_dir(int at, const char *name, bool create, rk_error *err)
{
        if (create && mkdirat(at, name, 0700) < 0 && errno != EEXIST)
                return rk_err_errno(err, negative_errno(), "cannot create %s", name);
        int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "cannot open %s", name);
        return fd;
}

static int pod_abs(int pod_fd, char *buf, size_t len, rk_error *err)
{
        char proc[64];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pod_fd);
        ssize_t n = readlink(proc, buf, len - 1);
        if (n <= 0 || (size_t)n >= len - 1)
                return rk_err(err, -ENAMETOOLONG, "cannot name the pod directory");
        buf[n] = 0;
        return 0;
}

int s1_cni_attach(const struct s1_pod *pod, pid_t init, rk_error *err)
{
        const struct s1_plan *plan = pod->plan;
        char base[PATH_MAX], netns[PATH_MAX + 16], src[64];
        int r = pod_abs(pod->pod_fd, base, sizeof(base), err);
        if (r < 0)
                return r;
        _cleanup_close_ int net = open_dir(pod->pod_fd, "net", true, err);
        if (net < 0)
                return net;
        _cleanup_close_ int cni = open_dir(net, "cni", true, err);
        if (cni < 0)
                return cni;
        /* the pin: an empty file, bind-mounted over by the pod's namespace */
        int f = openat(net, "netns", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (f < 0)
                return rk_err_errno(err, negative_errno(), "cannot create net/netns");
        (void)close(f);
        snprintf(src, sizeof(src), "/proc/%d/ns/net", (int)init);
        snprintf(netns, sizeof(netns), "%s/net/netns", base);
        if (mount(src, netns, NULL, MS_BIND, NULL) < 0)
                return rk_err_errno(err, negative_errno(),
                                    "cannot pin the pod's network namespace");
        for (size_t i = 0; i < plan->n_cni; i++) {
                const json_t *a = json_array_get(plan->cni, i);
                const char *name = json_string_value(json_object_get(a, "name"));
                const char *ifname = json_string_value(json_object_get(a, "ifname"));
                const char *args = json_string_value(json_object_get(a, "args"));
                _cleanup_close_ int dfd = open_dir(cni, name, true, err);
                if (dfd < 0)
                        r = dfd;
                struct rk_cni_attach at = {.plugin_dir = plugin_dir(),
                                           .containerid = plan->uuid,
                                           .netns = netns,
                                           .ifname = ifname,
                                           .args = args,
                                           .cache_dirfd = dfd};
                if (r >= 0)
                        r = rk_cni_add(&at, json_object_get(a, "config"), NULL, err);
                if (r < 0) {
                        /* this one was undone by the runner; the earlier ones now */
                        rk_error ignored = RK_ERROR_INIT;
                        (void)s1_cni_teardown(pod->pod_fd, &ignored);
                        return r;
                }
        }
        return 0;
}

struct cached {
        char dir[80], file[160];
        unsigned ifn;
};

static int by_ifn_desc(const void *a, const void *b)
{
        const struct cached *x = a, *y = b;
        return x->ifn < y->ifn ? 1 : x->ifn > y->ifn ? -1 : strcmp(x->dir, y->dir);
}

/* "<uuid>-eth<N>.json" → N */
static bool cache_ifn(const char *name, unsigned *n)
{
        size_t l = strlen(name);
        const char *e = strstr(name, "-eth");
        if (l < 10 || strcmp(name + l - 5, ".json") || !e)
                return false;
        char *end;
        unsigned long v = strtoul(e + 4, &end, 10);
        if (end == e + 4 || strcmp(end, ".json") || v >= RK_CNI_MAX_NETS)
                return false;
        *n = (unsigned)v;
        return true;
}

int s1_cni_teardown(int pod_fd, rk_error *err)
{
        _cleanup_close_ int net =
            openat(pod_fd, "net", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (net < 0)
                return errno == ENOENT ? 0 : rk_err_errno(err, negative_errno(), "net/");
        _cleanup_close_ int cni =
            openat(net, "cni", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct cached c[RK_CNI_MAX_NETS * 2];
        size_t n = 0;
        char **dirs = NULL;
        size_t nd = 0;
        int first = 0;
        if (cni >= 0 && rk_dir_names(cni, true, &dirs, &nd) >= 0) {
                for (size_t i = 0; i < nd; i++) {
                        _cleanup_close_ int d =
                            openat(cni, dirs[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        char **files = NULL;
                        size_t nf = 0;
                        if (d < 0 || !rk_cni_name_valid(dirs[i]) ||
                            rk_dir_names(d, true, &files, &nf) < 0)
                                continue;
                        for (size_t j = 0; j < nf && n < ELEMENTSOF(c); j++) {
                                unsigned ifn;
                                if (files[j][0] == '.' || !cache_ifn(files[j], &ifn) ||
                                    strlen(files[j]) >= sizeof(c[n].file))
                                        continue;
                                snprintf(c[n].dir, sizeof(c[n].dir), "%s", dirs[i]);
                                snprintf(c[n].file, sizeof(c[n].file), "%s", files[j]);
                                c[n++].ifn = ifn;
                        }
                        rk_strv_free(files, nf);
                }
                rk_strv_free(dirs, nd);
        }
        qsort(c, n, sizeof(c[0]), by_ifn_desc);
        /* the pin where the pod directory is now */
        char base[PATH_MAX], pin[PATH_MAX + 16];
        bool have_pin = pod_abs(pod_fd, base, sizeof(base), err) >= 0;
        if (have_pin)
                snprintf(pin, sizeof(pin), "%s/net/netns", base);
        for (size_t i = 0; i < n; i++) {
                _cleanup_close_ int d =
                    openat(cni, c[i].dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                rk_error e = RK_ERROR_INIT;
                int r = d < 0 ? -errno
                              : rk_cni_del_cached(d, c[i].file, plugin_dir(), have_pin ? pin : NULL,
                                                  &e);
                if (r < 0) {
                        /* logged, and the namespace is unpinned anyway (a DEL that fails now
                         * would fail forever); the cache stays for a later look */
                        rk_logf(RK_LOG_ERROR, 0, "CNI DEL: %s", e.msg[0] ? e.msg : "cannot open");
                        if (!first)
                                first = rk_err(err, r, "%s", e.msg);
                }
        }
        /* unpin; a missing pin is fine */
        while (have_pin && umount2(pin, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
                ;
        (void)unlinkat(net, "netns", 0);
        return first;
}
