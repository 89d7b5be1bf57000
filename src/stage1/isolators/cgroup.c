/* SPDX-License-Identifier: Apache-2.0 */
/* Cgroups per pod and per app (PLAN.md, "Cgroups").
 *
 *   v1 (a hierarchy per controller):  /sys/fs/cgroup/<memory|cpu|pids>/rkt/<uuid>/<app>
 *   v2 (/sys/fs/cgroup is cgroup2):   /sys/fs/cgroup/rkt/<uuid>/{_init,<app>}
 *
 * Only the controllers some app's limits need are used (pids always, unless --pids-limit=max);
 * one the host lacks is an error unless the plan says cgroupsOptional. The outer process makes
 * the directories (and, on v1, writes the limits) and keeps the fds it needs. The pod's cgroup
 * is the root of the pod's cgroup namespace: init is in it when it unshares CLONE_NEWCGROUP.
 *
 * v1: init, then each app's setup process (first thing), moves itself with one write of "0"
 * per controller to "tasks" through an fd already open: the cheapest join (see open_procs).
 * v2: init is cloned straight into the pod's cgroup (clone3 CLONE_INTO_CGROUP), unshares its
 * cgroup namespace there, moves itself into _init (no processes in a cgroup that hands
 * controllers down), enables the controllers for the apps, writes the limits and clones each
 * setup process straight into its app's cgroup.
 *
 * Nothing of the host's cgroups but rkt/ and below is created or written. */
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/log.h"
#include "stage1/stage1.h"

#define CG_ROOT  "/sys/fs/cgroup"
#define CG_INIT  "_init" /* v2: init's leaf; '_' cannot start an AC Name */
#define CG_FILES 8

enum cg_version { CG_NONE, CG_V1, CG_V2 };
enum cg_ctrl { CG_MEMORY, CG_CPU, CG_PIDS, CG_N };

static const char *const ctrl_names[CG_N] = {"memory", "cpu", "pids"};
/* v1: a file every cgroup of the controller has (pids has none at the root: checked in rkt/) */
static const char *const v1_marker[CG_N] = {"memory.limit_in_bytes", "cpu.shares", "pids.max"};

struct cg_file {
        enum cg_ctrl ctrl;
        const char *name;
        char value[48];
        bool optional; /* written only where the file exists (swap accounting) */
};

struct s1_cgroups {
        enum cg_version v;
        bool use[CG_N];
        int pod_procs[CG_N];                  /* v1: per controller (init joins) */
        int app_procs[S1_MAX_APPS][CG_N];     /* v1 */
        int app_dir[S1_MAX_APPS];             /* v2: for CLONE_INTO_CGROUP and the limits */
        int pod_dir, init_procs, pod_subtree; /* v2 */
};

/* ---- pure computations (tests/unit/test-cgroup.c) ---- */

/* cgroup v2's cpu.weight (1..10000) for v1's cpu.shares (2..262144), as runc and crun map it. */
static uint64_t cg_weight_from_shares(uint64_t shares)
{
        if (shares < 2)
                shares = 2;
        if (shares > 262144)
                shares = 262144;
        return 1 + ((shares - 2) * 9999) / 262142;
}

/* The files to write for an app's limits, in order. */
static size_t cg_limit_files(enum cg_version v, const struct s1_app *a, struct cg_file *f)
{
        size_t n = 0;
#define ADD(c, nm, opt, ...)                                                                       \
        do {                                                                                       \
                f[n] = (struct cg_file){.ctrl = (c), .name = (nm), .optional = (opt)};             \
                snprintf(f[n].value, sizeof(f[n].value), __VA_ARGS__);                             \
                n++;                                                                               \
        } while (0)
        if (a->cg_memory_max && v == CG_V1) {
                ADD(CG_MEMORY, "memory.limit_in_bytes", false, "%lld", (long long)a->cg_memory_max);
                /* memory + swap: the same limit, so the app cannot swap its way past it */
                ADD(CG_MEMORY, "memory.memsw.limit_in_bytes", true, "%lld",
                    (long long)a->cg_memory_max);
        } else if (a->cg_memory_max) {
                ADD(CG_MEMORY, "memory.max", false, "%lld", (long long)a->cg_memory_max);
                ADD(CG_MEMORY, "memory.swap.max", true, "0");
        }
        if (a->cg_cpu_milli && v == CG_V1) {
                ADD(CG_CPU, "cpu.cfs_period_us", false, "100000");
                ADD(CG_CPU, "cpu.cfs_quota_us", false, "%lld", (long long)a->cg_cpu_milli * 100);
        } else if (a->cg_cpu_milli) {
                ADD(CG_CPU, "cpu.max", false, "%lld 100000", (long long)a->cg_cpu_milli * 100);
        }
        if (a->cg_cpu_shares && v == CG_V1)
                ADD(CG_CPU, "cpu.shares", false, "%lld", (long long)a->cg_cpu_shares);
        else if (a->cg_cpu_shares)
                ADD(CG_CPU, "cpu.weight", false, "%llu",
                    (unsigned long long)cg_weight_from_shares((uint64_t)a->cg_cpu_shares));
        if (a->cg_pids_max)
                ADD(CG_PIDS, "pids.max", false, "%lld", (long long)a->cg_pids_max);
#undef ADD
        return n;
}

/* Which controllers the pod's limits need. */
static void cg_needed(const struct s1_plan *p, bool need[CG_N])
{
        memset(need, 0, CG_N * sizeof(*need));
        for (size_t i = 0; i < p->n_apps; i++) {
                need[CG_MEMORY] |= p->apps[i].cg_memory_max != 0;
                need[CG_CPU] |= p->apps[i].cg_cpu_milli != 0 || p->apps[i].cg_cpu_shares != 0;
                need[CG_PIDS] |= p->apps[i].cg_pids_max != 0;
        }
}

/* The cgroup's path relative to /sys/fs/cgroup; app NULL: the pod's. */
static int cg_path(enum cg_version v, enum cg_ctrl c, const char *uuid, const char *app, char *buf,
                   size_t size)
{
        int n = v == CG_V1
                    ? snprintf(buf, size, "%s/rkt/%s%s%s", ctrl_names[c], uuid, app ? "/" : "",
                               app ? app : "")
                    : snprintf(buf, size, "rkt/%s%s%s", uuid, app ? "/" : "", app ? app : "");
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* A controller the limits need but the host lacks: an error, or (cgroupsOptional) a warning
 * and use[c] false. */
static int cg_check(const bool need[CG_N], const bool have[CG_N], bool optional, bool use[CG_N],
                    rk_error *err)
{
        for (int c = 0; c < CG_N; c++) {
                use[c] = need[c] && have[c];
                if (!need[c] || have[c])
                        continue;
                if (!optional)
                        return rk_err(err, -ENODEV,
                                      "the host has no usable %s cgroup controller, which the "
                                      "pod's limits need (--insecure-options=cgroups runs the pod "
                                      "without those limits)",
                                      ctrl_names[c]);
                rk_log_warning("the host has no usable %s cgroup controller: the pod runs "
                               "without its %s limits (--insecure-options=cgroups)",
                               ctrl_names[c], ctrl_names[c]);
        }
        return 0;
}

/* ---- filesystem ---- */

static int write_at(int dir, const char *name, const char *value, rk_error *err)
{
        _cleanup_close_ int fd = openat(dir, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        size_t n = strlen(value);
        if (fd < 0 || write(fd, value, n) != (ssize_t)n)
                return rk_err_errno(err, negative_errno(), "cgroup: cannot write '%s' to %s", value,
                                    name);
        return 0;
}

static bool is_fs(int fd, long magic)
{
        struct statfs sf;
        return fstatfs(fd, &sf) == 0 && sf.f_type == magic;
}

/* Whether the cgroup has no process (cgroup.procs reads empty). */
static bool cg_empty(int fd)
{
        char c;
        _cleanup_close_ int p = openat(fd, "cgroup.procs", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        return p >= 0 && read(p, &c, 1) == 0;
}

/* mkdir and open. An existing cgroup (a pod directory run again after a crash, without gc) is
 * reused only while no process is in it: a pod's limits are never shared. */
static int mkdir_cg(int dir, const char *name, bool shared, const char *what, rk_error *err)
{
        bool exists = mkdirat(dir, name, 0755) < 0;
        if (exists && errno != EEXIST)
                return rk_err_errno(err, negative_errno(), "cannot create cgroup %s", what);
        int fd = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "cannot open cgroup %s", what);
        if (exists && !shared && !cg_empty(fd)) {
                (void)close(fd);
                return rk_err(err, -EBUSY, "cgroup %s exists and has processes in it", what);
        }
        return fd;
}

/* The file a process joins the cgroup through. v1: "tasks", written "0" by the (single-
 * threaded) joining process itself: moving only the calling thread skips the global
 * cgroup_threadgroup_rwsem, whose write side costs an RCU grace period (about 10 ms here, per
 * join) on every cgroup.procs write. Stage1's processes never start a thread, so the thread is
 * the process. v2: cgroup.procs (only init writes it; apps are cloned into theirs). */
static int open_procs(enum cg_version v, int dir, const char *what, rk_error *err)
{
        const char *f = v == CG_V1 ? "tasks" : "cgroup.procs";
        int fd = openat(dir, f, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "cannot open %s/%s", what, f);
        return fd;
}

static int write_limits(enum cg_version v, int dir, enum cg_ctrl c, const struct s1_app *a,
                        const char *what, rk_error *err)
{
        struct cg_file f[CG_FILES];
        size_t n = cg_limit_files(v, a, f);
        for (size_t i = 0; i < n; i++) {
                if (f[i].ctrl != c)
                        continue;
                if (f[i].optional && faccessat(dir, f[i].name, F_OK, 0) < 0)
                        continue;
                int r = write_at(dir, f[i].name, f[i].value, err);
                if (r < 0)
                        return rk_err_prefix(err, r, "app %s (%s)", a->name, what);
        }
        return 0;
}

static struct s1_cgroups *cg_new(void)
{
        struct s1_cgroups *cg = calloc(1, sizeof(*cg));
        if (!cg)
                return NULL;
        for (int c = 0; c < CG_N; c++) {
                cg->pod_procs[c] = -EBADF;
                for (size_t i = 0; i < S1_MAX_APPS; i++)
                        cg->app_procs[i][c] = -EBADF;
        }
        for (size_t i = 0; i < S1_MAX_APPS; i++)
                cg->app_dir[i] = -EBADF;
        cg->pod_dir = cg->init_procs = cg->pod_subtree = -EBADF;
        return cg;
}

/* v1: /sys/fs/cgroup/<c> must be a cgroup (v1) mount whose rkt/ has the controller's files. */
static int v1_rkt_dir(enum cg_ctrl c, rk_error *err)
{
        _cleanup_close_ int base = open(CG_ROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int h =
            base < 0 ? -1 : openat(base, ctrl_names[c], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (h < 0 || !is_fs(h, CGROUP_SUPER_MAGIC))
                return -ENODEV;
        int rkt = mkdir_cg(h, "rkt", true, "rkt", err);
        if (rkt >= 0 && faccessat(rkt, v1_marker[c], F_OK, 0) < 0) {
                (void)close(rkt);
                return -ENODEV;
        }
        return rkt;
}

static int v1_create(struct s1_cgroups *cg, const struct s1_plan *p, rk_error *err)
{
        bool need[CG_N], have[CG_N] = {0};
        int rkt[CG_N] = {-EBADF, -EBADF, -EBADF};
        cg_needed(p, need);
        int r = 0;
        for (int c = 0; r >= 0 && c < CG_N; c++)
                if (need[c]) {
                        rkt[c] = v1_rkt_dir(c, err);
                        have[c] = rkt[c] >= 0;
                        if (rkt[c] < 0 && rkt[c] != -ENODEV)
                                r = rkt[c];
                }
        if (r >= 0)
                r = cg_check(need, have, p->cgroups_optional, cg->use, err);
        for (int c = 0; r >= 0 && c < CG_N; c++) {
                if (!cg->use[c])
                        continue;
                char what[S1_MAX_NAME * 2 + 64];
                (void)cg_path(CG_V1, c, p->uuid, NULL, what, sizeof(what));
                _cleanup_close_ int pod = mkdir_cg(rkt[c], p->uuid, false, what, err);
                if (pod < 0) {
                        r = pod;
                        break;
                }
                if ((cg->pod_procs[c] = open_procs(CG_V1, pod, what, err)) < 0)
                        r = cg->pod_procs[c];
                for (size_t i = 0; r >= 0 && i < p->n_apps; i++) {
                        (void)cg_path(CG_V1, c, p->uuid, p->apps[i].name, what, sizeof(what));
                        _cleanup_close_ int a = mkdir_cg(pod, p->apps[i].name, false, what, err);
                        r = a < 0 ? a : write_limits(CG_V1, a, c, &p->apps[i], what, err);
                        if (r >= 0 && (cg->app_procs[i][c] = open_procs(CG_V1, a, what, err)) < 0)
                                r = cg->app_procs[i][c];
                }
        }
        for (int c = 0; c < CG_N; c++)
                safe_close(rkt[c]);
        return r;
}

/* v2: the controllers the root hands down (cgroup.subtree_control) are the ones we have. */
static int v2_create(struct s1_cgroups *cg, const struct s1_plan *p, int root, rk_error *err)
{
        bool need[CG_N], have[CG_N] = {0};
        char ctl[256] = "", what[S1_MAX_NAME * 2 + 64];
        cg_needed(p, need);
        _cleanup_close_ int sfd = openat(root, "cgroup.subtree_control", O_RDONLY | O_CLOEXEC);
        ssize_t n = sfd < 0 ? -1 : read(sfd, ctl, sizeof(ctl) - 1);
        if (n < 0)
                return rk_err_errno(err, negative_errno(), "cannot read %s/cgroup.subtree_control",
                                    CG_ROOT);
        ctl[n] = 0;
        for (char *save = NULL, *t = strtok_r(ctl, " \n", &save); t;
             t = strtok_r(NULL, " \n", &save))
                for (int c = 0; c < CG_N; c++)
                        have[c] |= !strcmp(t, ctrl_names[c]);
        int r = cg_check(need, have, p->cgroups_optional, cg->use, err);
        char enable[64] = "";
        for (int c = 0; c < CG_N; c++)
                if (cg->use[c])
                        snprintf(enable + strlen(enable), sizeof(enable) - strlen(enable), "%s+%s",
                                 enable[0] ? " " : "", ctrl_names[c]);
        _cleanup_close_ int rkt = r < 0 ? r : mkdir_cg(root, "rkt", true, "rkt", err);
        if (rkt < 0)
                return rkt;
        if (enable[0] && (r = write_at(rkt, "cgroup.subtree_control", enable, err)) < 0)
                return r;
        (void)cg_path(CG_V2, 0, p->uuid, NULL, what, sizeof(what));
        int pod = cg->pod_dir = mkdir_cg(rkt, p->uuid, false, what, err);
        if (pod < 0)
                return pod;
        _cleanup_close_ int init = mkdir_cg(pod, CG_INIT, false, CG_INIT, err);
        if (init < 0)
                return init;
        if ((cg->init_procs = open_procs(CG_V2, init, CG_INIT, err)) < 0)
                return cg->init_procs;
        cg->pod_subtree = openat(pod, "cgroup.subtree_control", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (cg->pod_subtree < 0)
                return rk_err_errno(err, negative_errno(), "cannot open %s/cgroup.subtree_control",
                                    what);
        for (size_t i = 0; i < p->n_apps; i++) {
                (void)cg_path(CG_V2, 0, p->uuid, p->apps[i].name, what, sizeof(what));
                if ((cg->app_dir[i] = mkdir_cg(pod, p->apps[i].name, false, what, err)) < 0)
                        return cg->app_dir[i];
        }
        return 0;
}

/* ---- stage1's steps ---- */

int s1_cgroup_pod_create(struct s1_pod *pod, rk_error *err)
{
        struct s1_cgroups *cg = cg_new();
        if (!cg)
                return rk_err(err, -ENOMEM, "out of memory");
        pod->cg = cg;
        bool need[CG_N];
        cg_needed(pod->plan, need);
        if (!need[CG_MEMORY] && !need[CG_CPU] && !need[CG_PIDS])
                return 0; /* no limits (--pids-limit=max and nothing else): no cgroups */
        _cleanup_close_ int root = open(CG_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root >= 0 && is_fs(root, CGROUP2_SUPER_MAGIC)) {
                cg->v = CG_V2;
                return v2_create(cg, pod->plan, root, err);
        }
        cg->v = CG_V1;
        return v1_create(cg, pod->plan, err);
}

int s1_cgroup_pod_enter(const struct s1_pod *pod, rk_error *err)
{
        const struct s1_cgroups *cg = pod->cg;
        for (int c = 0; cg && c < CG_N; c++)
                if (cg->pod_procs[c] >= 0 && write(cg->pod_procs[c], "0", 1) != 1)
                        return rk_err_errno(err, negative_errno(),
                                            "cannot move init into the pod's cgroup");
        return 0;
}

int s1_cgroup_pod_finish(const struct s1_pod *pod, rk_error *err)
{
        const struct s1_cgroups *cg = pod->cg;
        if (!cg || cg->v != CG_V2)
                return 0;
        /* No processes in a cgroup that hands controllers down: init goes to its leaf. */
        if (write(cg->init_procs, "0", 1) != 1)
                return rk_err_errno(err, negative_errno(), "cannot move init into %s", CG_INIT);
        char enable[64] = "";
        for (int c = 0; c < CG_N; c++)
                if (cg->use[c])
                        snprintf(enable + strlen(enable), sizeof(enable) - strlen(enable), "%s+%s",
                                 enable[0] ? " " : "", ctrl_names[c]);
        size_t n = strlen(enable);
        if (n && write(cg->pod_subtree, enable, n) != (ssize_t)n)
                return rk_err_errno(err, negative_errno(), "cannot enable '%s' for the apps",
                                    enable);
        for (size_t i = 0; i < pod->plan->n_apps; i++)
                for (int c = 0; c < CG_N; c++) {
                        char what[S1_MAX_NAME * 2 + 64];
                        (void)cg_path(CG_V2, c, pod->plan->uuid, pod->plan->apps[i].name, what,
                                      sizeof(what));
                        int r = cg->use[c] ? write_limits(CG_V2, cg->app_dir[i], c,
                                                          &pod->plan->apps[i], what, err)
                                           : 0;
                        if (r < 0)
                                return r;
                }
        return 0;
}

/* fork(), or on v2 a fork straight into the cgroup dir: no migration, no RCU grace period. */
static pid_t fork_into(int dir)
{
        if (dir < 0)
                return fork();
        struct clone_args args = {
            .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = (uint64_t)dir};
        return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

pid_t s1_cgroup_fork_init(const struct s1_pod *pod)
{
        const struct s1_cgroups *cg = pod->cg;
        return fork_into(cg && cg->v == CG_V2 ? cg->pod_dir : -EBADF);
}

pid_t s1_cgroup_fork_app(const struct s1_pod *pod, size_t idx)
{
        const struct s1_cgroups *cg = pod->cg;
        return fork_into(cg && cg->v == CG_V2 ? cg->app_dir[idx] : -EBADF);
}

/* enter: the cgroups the pod made for app idx, opened from the host's /sys/fs/cgroup before
 * the entering process leaves the host's mount namespace; s1_cgroup_app_join then moves it
 * there at the app's step, like the app's own setup. Only rkt/<uuid>/<app> is opened, each
 * component without following links; a controller the pod did not use has no such cgroup. */
static int open_existing(int base, const char *const *parts, size_t n, int *ret)
{
        int fd = fcntl(base, F_DUPFD_CLOEXEC, 3);
        for (size_t i = 0; fd >= 0 && i < n; i++) {
                int next = openat(fd, parts[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                int e = errno;
                (void)close(fd);
                fd = next;
                errno = e;
        }
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        *ret = fd;
        return 1;
}

int s1_cgroup_enter_open(struct s1_pod *pod, size_t idx, rk_error *err)
{
        const struct s1_plan *p = pod->plan;
        struct s1_cgroups *cg = cg_new();
        if (!cg)
                return rk_err(err, -ENOMEM, "out of memory");
        pod->cg = cg;
        _cleanup_close_ int root = open(CG_ROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
        struct statfs sf;
        if (root < 0 || fstatfs(root, &sf) < 0)
                return 0; /* no cgroupfs: the pod made none either */
        cg->v = (unsigned long)sf.f_type == CGROUP2_SUPER_MAGIC ? CG_V2 : CG_V1;
        for (int c = 0; c < (cg->v == CG_V1 ? CG_N : 1); c++) {
                const char *v1[] = {ctrl_names[c], "rkt", p->uuid, p->apps[idx].name};
                const char *v2[] = {"rkt", p->uuid, p->apps[idx].name};
                char what[S1_MAX_NAME * 2 + 64];
                (void)cg_path(cg->v, c, p->uuid, p->apps[idx].name, what, sizeof(what));
                int dir = -EBADF;
                int r = cg->v == CG_V1 ? open_existing(root, v1, 4, &dir)
                                       : open_existing(root, v2, 3, &dir);
                if (r < 0)
                        return rk_err_errno(err, r, "cannot open the app's cgroup %s", what);
                if (r == 0)
                        continue;
                _cleanup_close_ int d = dir;
                _cleanup_close_ int real =
                    openat(d, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* O_PATH: no openat */
                if (real < 0)
                        return rk_err_errno(err, negative_errno(), "cgroup %s", what);
                int fd = open_procs(cg->v, real, what, err);
                if (fd < 0)
                        return fd;
                cg->app_procs[idx][c] = fd;
                cg->use[c] = true;
        }
        return 0;
}

int s1_cgroup_app_join(const struct s1_pod *pod, const struct s1_app *app, rk_error *err)
{
        const struct s1_cgroups *cg = pod->cg;
        size_t idx = (size_t)(app - pod->plan->apps);
        /* v2: apps are cloned into their cgroup; only enter joins one, through cgroup.procs */
        if (cg && cg->v == CG_V2 && cg->app_procs[idx][0] >= 0 &&
            write(cg->app_procs[idx][0], "0", 1) != 1)
                return rk_err_errno(err, negative_errno(), "cannot join the app's cgroup");
        for (int c = 0; cg && cg->v == CG_V1 && c < CG_N; c++)
                if (cg->app_procs[idx][c] >= 0 && write(cg->app_procs[idx][c], "0", 1) != 1)
                        return rk_err_errno(err, negative_errno(),
                                            "cannot join the app's %s cgroup", ctrl_names[c]);
        return 0;
}

int s1_cgroup_app_oom(const struct s1_app *app, rk_error *err)
{
        if (!app->has_oom_score_adj)
                return 0;
        char buf[16];
        snprintf(buf, sizeof(buf), "%d", app->oom_score_adj);
        _cleanup_close_ int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        size_t n = strlen(buf);
        if (fd < 0 || write(fd, buf, n) != (ssize_t)n)
                return rk_err_errno(err, negative_errno(), "cannot set oom_score_adj %s", buf);
        return 0;
}

void s1_cgroup_close(const struct s1_pod *pod)
{
        struct s1_cgroups *cg = pod->cg;
        for (int c = 0; cg && c < CG_N; c++) {
                cg->pod_procs[c] = safe_close(cg->pod_procs[c]);
                for (size_t i = 0; i < S1_MAX_APPS; i++)
                        cg->app_procs[i][c] = safe_close(cg->app_procs[i][c]);
        }
        for (size_t i = 0; cg && i < S1_MAX_APPS; i++)
                cg->app_dir[i] = safe_close(cg->app_dir[i]);
        if (cg) {
                cg->pod_dir = safe_close(cg->pod_dir);
                cg->init_procs = safe_close(cg->init_procs);
                cg->pod_subtree = safe_close(cg->pod_subtree);
        }
}

/* ---- gc ---- */

/* rmdir dir/name after its child cgroups (leaves first); only directories: a cgroup's files
 * go with it. */
static int rmdir_cg(int dir, const char *name, const char *what, int level, rk_error *err)
{
        _cleanup_close_ int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : rk_err_errno(err, negative_errno(), "cgroup %s", what);
        char **names = NULL;
        size_t n = 0;
        int r = level < 4 ? rk_dir_names(fd, false, &names, &n) : 0;
        if (r < 0)
                return rk_err_errno(err, r, "cannot list cgroup %s", what);
        int first = 0;
        for (size_t i = 0; i < n; i++) {
                struct stat st;
                if (fstatat(fd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                char sub[PATH_MAX];
                snprintf(sub, sizeof(sub), "%s/%s", what, names[i]);
                rk_error e = RK_ERROR_INIT;
                int x = rmdir_cg(fd, names[i], sub, level + 1, &e);
                if (x < 0 && !first) {
                        first = x;
                        *err = e;
                }
        }
        rk_strv_free(names, n);
        if (first < 0)
                return first;
        if (unlinkat(dir, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return rk_err_errno(err, negative_errno(), "cannot remove cgroup %s", what);
        return 0;
}

static bool uuid_ok(const char *s)
{
        return strlen(s) == 36 && strspn(s, "0123456789abcdef-") == 36;
}

/* The pod's UUID from its plan.json (only that key: gc must work on a plan stage1 would
 * refuse to run). 0 without a readable one: the pod then has no cgroups of ours. */
static int plan_uuid(int pod_fd, char uuid[static 37])
{
        _cleanup_close_ int fd = openat(pod_fd, "plan.json", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        rk_error e = RK_ERROR_INIT;
        if (fd < 0 || rk_read_fd_capped(fd, "plan.json", S1_PLAN_MAX_BYTES, &buf, &len, &e) < 0)
                return 0;
        json_t *doc = json_loadb(buf, len, 0, NULL);
        const char *u = json_string_value(json_object_get(doc, "uuid"));
        bool ok = u && uuid_ok(u);
        if (ok)
                memcpy(uuid, u, 37);
        json_decref(doc);
        return ok;
}

int s1_cgroup_gc(int pod_fd, rk_error *err)
{
        char uuid[37];
        if (!plan_uuid(pod_fd, uuid))
                return 0;
        _cleanup_close_ int root = open(CG_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return 0;
        int first = 0;
        for (int c = -1; c < CG_N; c++) {
                /* -1: v2 (/sys/fs/cgroup itself), then the v1 controllers */
                _cleanup_close_ int h =
                    c < 0 ? fcntl(root, F_DUPFD_CLOEXEC, 3)
                          : openat(root, ctrl_names[c], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (h < 0 || !is_fs(h, c < 0 ? CGROUP2_SUPER_MAGIC : CGROUP_SUPER_MAGIC))
                        continue;
                _cleanup_close_ int rkt =
                    openat(h, "rkt", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (rkt < 0)
                        continue;
                char what[128];
                snprintf(what, sizeof(what), "%s%srkt/%s", c < 0 ? "" : ctrl_names[c],
                         c < 0 ? "" : "/", uuid);
                rk_error e = RK_ERROR_INIT;
                int r = rmdir_cg(rkt, uuid, what, 0, &e);
                if (r < 0 && first)
                        rk_log_error("gc: %s", e.msg); /* the first one goes to the caller */
                if (r < 0 && !first) {
                        first = r;
                        *err = e;
                }
        }
        return first;
}
