/* SPDX-License-Identifier: Apache-2.0 */
/* rkt run | prepare | run-prepared: resolve and admit the images, create the pod, write its
 * manifest and plan, and (run) exec rkt-stage1 with the pod's lock.
 *
 *   rkt run [pod flags] IMAGE [app flags] [-- ARGS ---] [IMAGE [app flags] ...]
 *
 * Exit status of run and run-prepared: stage1's (the app's status, 128+N for signal N, 126/127
 * when the app's exec fails), or 125 when anything fails before stage1 starts, trust refusals
 * included; 2 for usage errors. prepare exits 1 on failure. */
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit/audit.h"
#include "pod/lsm.h"
#include "base/fileio.h"
#include "base/json.h"
#include "base/log.h"
#include "cli/cli.h"
#include "fetch/discover.h"
#include "fetch/fetch.h"
#include "pod/caps.h"
#include "pod/cgroup.h"
#include "pod/cni.h"
#include "pod/pod.h"
#include "mds/client.h"
#include "pod/seccomp.h"

#define EXIT_RUNTIME   125
#define ENV_FILE_MAX   (1 << 20)
#define POD_MANIFEST_F "--pod-manifest"

extern char **environ;

enum mode { MODE_RUN, MODE_PREPARE };

static const char *const verb_names[] = {"run", "prepare"};

static void help_flags(void)
{
        printf("Pod flags (before the first IMAGE):\n"
               "  --net=default|default-restricted|none|host\n"
               "                           default (the default): a veth to the host,\n"
               "                           172.16.28.0/24, masqueraded; default-restricted:\n"
               "                           172.31.0.0/16, reaches the host only; none: own\n"
               "                           network namespace with only lo; host: the host's\n"
               "                           network\n"
               "  --net=NAME[:K=V;K=V][,NAME[:ARGS]]...   named CNI networks from\n"
               "                           <local-config>/net.d/*.conflist, eth0, eth1...\n"
               "  --port=NAME:[HOSTIP:]HOSTPORT   forward a host port to the app port NAME\n"
               "                           (tcp/udp; default networks only; repeatable)\n"
               "  --hostname=NAME          the pod's host name (default rkt-<uuid>)\n"
               "  --dns=IP[,IP]|host|none  /etc/resolv.conf: these name servers (at most 3),\n"
               "                           the host's file, or the image's own (none)\n"
               "  --dns-search=DOMAIN[,..] --dns-opt=OPT[,..]  search domains and options\n"
               "  --hosts-entry=IP=NAME[,..]|host  /etc/hosts lines, or the host's file\n"
               "  --mds-register           register the pod with 'rkt metadata-service' (run\n"
               "                           and run-prepared) and set AC_METADATA_URL\n"
               "  --volume=NAME,kind=host,source=PATH[,readOnly=true][,recursive=false]\n"
               "  --volume=NAME,kind=empty[,mode=0755][,uid=0][,gid=0][,readOnly=true]\n"
               "                           a volume; a host source must not be, or pass\n"
               "                           through, a symlink\n"
               "  --mount=volume=NAME,target=PATH   mount a volume (every app here; after an\n"
               "                           IMAGE, that app only)\n"
               "  --set-env=NAME=VALUE     environment of every app (repeatable)\n"
               "  --set-env-file=FILE      NAME=VALUE lines (# and ; start comments)\n"
               "  --inherit-env            pass this process's environment to the apps\n"
               "  --uuid-file-save=FILE    write the pod UUID to FILE as soon as it exists\n"
               "  --pod-manifest=FILE      run this pod manifest (no IMAGE arguments)\n"
               "  --interactive            the one app gets this terminal\n"
               "  --no-overlay             copy the image tree instead of an overlay\n"
               "  --private-users          run the pod in its own user namespace (a host id range\n"
               "                           of its own, nested user namespaces blocked)\n"
               "  --readonly-rootfs        every app's root is read-only\n"
               "  --pull-policy=new|never  new (default): fetch (discover) IMAGE unless stored\n"
               "  --no-new-privileges=false  let apps gain privileges through execve\n"
               "  --pids-limit=N|max       pids.max of each app's cgroup (default 2048)\n"
               "\n"
               "App flags (after their IMAGE):\n"
               "  --name=NAME  --exec=PROGRAM  --user=USER  --group=GROUP\n"
               "  --supplementary-gids=G,...  --working-dir=DIR  --environment=NAME=VALUE\n"
               "  --readonly-rootfs  --signature=FILE  --mount=volume=NAME,target=PATH\n"
               "  --caps-retain=CAP,...     the app's capability set is exactly these\n"
               "  --caps-remove=CAP,...     remove these from the default set\n"
               "  --seccomp=mode=retain|remove[,errno=ENAME],SYSCALL|@group,...\n"
               "                            the app's seccomp set (replaces the image's)\n"
               "  --seccomp-profile=FILE    the app's seccomp filter: an OCI/Docker profile\n"
               "  --memory=QTY  --cpu=QTY   memory (bytes: 512Mi, 1G) and CPU (500m, 2) limits\n"
               "  --cpu-shares=N  --oom-score-adj=N   relative CPU weight, OOM killer bias\n"
               "  -- ARGS ---               arguments appended to the app's exec\n"
               "\n"
               "IMAGE is usually a name (example.com/app:1.0[,label=value...]): the stored\n"
               "image, else found by appc meta discovery (after 'rkt trust --prefix NAME');\n"
               "or an image ID (or unique prefix), a file, or an https:// URL. Names, files\n"
               "and URLs are fetched and verified as by 'rkt fetch'. An image stored\n"
               "unverified needs --insecure-options=image again.\n");
}

void rk_help_run(void)
{
        printf("Usage: rkt run [pod flags] IMAGE [app flags] [-- ARGS ---] [IMAGE ...]\n"
               "\n"
               "Run the images as the apps of one pod, in the foreground. The exit status is\n"
               "the first non-zero app status (128+N if killed by signal N, 126 or 127 if its\n"
               "program could not be executed or found), or 125 if the pod could not be\n"
               "started, an image refusal included.\n"
               "\n");
        help_flags();
        printf("\nSee rkt-run(1).\n");
}

void rk_help_prepare(void)
{
        printf("Usage: rkt prepare [--quiet] [pod flags] IMAGE [app flags] [-- ARGS ---] ...\n"
               "\n"
               "Prepare a pod as 'rkt run' would, leave it prepared, and print its UUID. Run it\n"
               "with 'rkt run-prepared UUID'; 'rkt gc --expire-prepared' discards stale ones.\n"
               "\n");
        help_flags();
        printf("\nSee rkt-run(1).\n");
}

void rk_help_run_prepared(void)
{
        printf("Usage: rkt run-prepared [--net=none|host|default|default-restricted] "
               "[--hostname=NAME] [--interactive] [--mds-register] "
               "UUID\n"
               "\n"
               "Run a prepared pod (UUID or a unique prefix). Exit status as for 'rkt run'.\n"
               "See rkt-run(1).\n");
}

/* ---- rkt-stage1 ---- */

/* stage1 runs as root with every privilege: whoever can replace the binary owns every pod, so
 * it must be a root-owned regular file in a directory only root can write. */
static int check_stage1(int fd, const char *path, rk_error *err)
{
        struct stat st, dst;
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return rk_err(err, -ENOMEM, "out of memory");
        if (fstat(fd, &st) < 0 || stat(dirname(copy), &dst) < 0)
                return rk_err_errno(err, negative_errno(), "stage1 '%s'", path);
        if (!S_ISREG(st.st_mode) || !(st.st_mode & 0100))
                return rk_err(err, -EACCES, "stage1 '%s': not an executable file", path);
        if (st.st_uid != 0 || (st.st_mode & 022) || dst.st_uid != 0 || (dst.st_mode & 022))
                return rk_err(err, -EPERM,
                              "stage1 '%s': it and its directory must belong to root and be "
                              "writable by nobody else",
                              path);
        return 0;
}

int rk_stage1_open(char *path, size_t size, rk_error *err)
{
        char self[PATH_MAX];
        /* the build directory first, so that a build runs its own stage1 */
        if (realpath("/proc/self/exe", self)) {
                snprintf(path, size, "%s/rkt-stage1", dirname(self));
                if (access(path, F_OK) != 0)
                        snprintf(path, size, "%s/rkt-stage1", RKT_LIBEXECDIR);
        } else
                snprintf(path, size, "%s/rkt-stage1", RKT_LIBEXECDIR);
        int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "stage1 '%s'", path);
        int r = check_stage1(fd, path, err);
        if (r < 0) {
                (void)close(fd);
                return r;
        }
        return fd;
}

/* The environment stage1 starts with: nothing of ours but the lock fd (the apps get the plan's
 * environment), and what a sanitizer build needs. */
static void stage1_env(char **env, size_t cap, int lockfd)
{
        /* RKT_CNI_PLUGIN_DIR: where stage1 finds CNI plugins (default /usr/lib/cni) */
        static const char *const pass[] = {"TERM", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS",
                                           "RKT_CNI_PLUGIN_DIR"};
        static char lock[32];
        size_t n = 0;
        env[n++] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        if (lockfd >= 0) {
                snprintf(lock, sizeof(lock), "RKT_LOCK_FD=%d", lockfd);
                env[n++] = lock;
        }
        for (size_t i = 0; i < ELEMENTSOF(pass) && n + 1 < cap; i++)
                for (char **e = environ; e && *e; e++)
                        if (!strncmp(*e, pass[i], strlen(pass[i])) && (*e)[strlen(pass[i])] == '=')
                                env[n++] = *e;
        env[n] = NULL;
}

void rk_stage1_env(char **env, size_t cap)
{
        stage1_env(env, cap, -1);
}

struct stage1_gc {
        int fd;
        bool debug;
};

/* rkt-stage1 gc --pod-dir=DIR; a failure is reported and the removal goes on (what stage1
 * leaves, the unmount and removal that follow still clean up). */
int rk_stage1_gc(void *userdata, const char *pod_dir, rk_error *err)
{
        struct stage1_gc *sg = userdata;
        if (!sg || sg->fd < 0)
                return 0;
        char arg[PATH_MAX + 16], *env[8];
        snprintf(arg, sizeof(arg), "--pod-dir=%s", pod_dir);
        char *argv[] = {"rkt-stage1", "gc", arg, sg->debug ? "--debug" : NULL, NULL};
        stage1_env(env, ELEMENTSOF(env), -1);
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0)
                return rk_err_errno(err, negative_errno(), "cannot start stage1 gc");
        if (pid == 0) {
                execveat(sg->fd, "", argv, env, AT_EMPTY_PATH);
                _exit(127);
        }
        int status = 0;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return rk_err_errno(err, negative_errno(), "stage1 gc");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                rk_log_warning("stage1 gc of '%s' failed (status %d); removing what is left",
                               pod_dir,
                               WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        return 0;
}

void *rk_stage1_gc_new(bool debug)
{
        struct stage1_gc *sg = calloc(1, sizeof(*sg));
        char path[PATH_MAX];
        rk_error err = RK_ERROR_INIT;
        if (!sg)
                return NULL;
        sg->debug = debug;
        sg->fd = rk_stage1_open(path, sizeof(path), &err);
        if (sg->fd < 0)
                rk_log_debug("%s; pods are cleaned without it", err.msg);
        return sg;
}

void rk_stage1_gc_free(void *userdata)
{
        struct stage1_gc *sg = userdata;
        if (sg)
                safe_close(sg->fd);
        free(sg);
}

/* stage1 runs from a memfd sealed against every change, so that a process in the pod cannot
 * reach the host's binary through /proc/<pid>/exe (CVE-2019-5736). Copying it here runs exactly
 * the bytes checked above and saves stage1 its own re-exec (PLAN.md). */
static int sealed_copy(int fd, rk_error *err)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return rk_err_errno(err, negative_errno(), "stage1");
        _cleanup_close_ int mfd = memfd_create("rkt-stage1", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (mfd < 0)
                return rk_err_errno(err, negative_errno(), "stage1: memfd_create");
        for (off_t off = 0; off < st.st_size;) {
                ssize_t n = sendfile(mfd, fd, &off, (size_t)(st.st_size - off));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return rk_err_errno(err, n < 0 ? negative_errno() : -EIO,
                                            "stage1: cannot copy it into a memfd");
        }
        if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
                return rk_err_errno(err, negative_errno(), "stage1: cannot seal its copy");
        return TAKE_FD(mfd);
}

/* Replaces this process with stage1; the pod's lock fd is handed over without CLOEXEC so that
 * the lock lives exactly as long as the pod (rkt.md 2.4). Returns only on failure. */
/* Stage1 appends the pod's exit record to the data dir's audit log (--audit-dir, absolute:
 * stage1 runs in the pod directory). */
static int exec_stage1(int stage1fd, struct rk_pod *pod, const struct rk_global *g, rk_error *err)
{
        char dir[PATH_MAX], data[PATH_MAX], arg[PATH_MAX + 16], audit[PATH_MAX + 16], *env[8];
        if (rk_pod_path(pod, dir, sizeof(dir)) < 0)
                return rk_err(err, -ENAMETOOLONG, "pod %s: path too long", pod->uuid);
        if (!realpath(g->dir, data))
                return rk_err_errno(err, negative_errno(), "data directory '%s'", g->dir);
        snprintf(arg, sizeof(arg), "--pod-dir=%s", dir);
        snprintf(audit, sizeof(audit), "--audit-dir=%s", data);
        char *argv[] = {"rkt-stage1", "run", arg, audit, g->debug ? "--debug" : NULL, NULL};
        if (fcntl(pod->fd, F_SETFD, 0) < 0 || chdir(dir) < 0)
                return rk_err_errno(err, negative_errno(), "pod %s", pod->uuid);
        _cleanup_close_ int mfd = sealed_copy(stage1fd, err);
        if (mfd < 0)
                return mfd;
        stage1_env(env, ELEMENTSOF(env), pod->fd);
        fflush(NULL);
        execveat(mfd, "", argv, env, AT_EMPTY_PATH);
        int r = negative_errno();
        (void)fcntl(pod->fd, F_SETFD, FD_CLOEXEC);
        return rk_err_errno(err, r, "cannot execute stage1");
}

/* ---- parsing ---- */

struct run_args {
        struct rk_pod_opts o;
        const char *uuid_file;
        const char *pod_manifest;
        const char *env_file;
        enum rk_pull_policy pull;
        bool quiet;
        bool mds_register; /* --mds-register (src/lib/mds/client.h) */
};

static void run_args_clear(struct run_args *a)
{
        rk_pod_opts_clear(&a->o);
}

enum flag_kind { POD, APP, BOTH };

struct flag {
        const char *name;
        enum flag_kind kind;
        bool boolean;
};

static const struct flag flags[] = {
    {"net", POD, false},
    {"port", POD, false},
    {"hostname", POD, false},
    {"dns", POD, false},
    {"dns-search", POD, false},
    {"dns-opt", POD, false},
    {"hosts-entry", POD, false},
    {"mds-register", POD, true},
    {"volume", POD, false},
    {"set-env", POD, false},
    {"set-env-file", POD, false},
    {"inherit-env", POD, true},
    {"uuid-file-save", POD, false},
    {"pod-manifest", POD, false},
    {"interactive", POD, true},
    {"no-overlay", POD, true},
    {"private-users", POD, true},
    {"pull-policy", POD, false},
    {"quiet", POD, true},
    {"mount", BOTH, false},
    {"readonly-rootfs", BOTH, true},
    {"name", APP, false},
    {"exec", APP, false},
    {"user", APP, false},
    {"group", APP, false},
    {"supplementary-gids", APP, false},
    {"working-dir", APP, false},
    {"environment", APP, false},
    {"signature", APP, false},
    {"caps-retain", APP, false},
    {"caps-remove", APP, false},
    {"seccomp", APP, false},
    {"seccomp-profile", APP, false},
    {"no-new-privileges", POD, true},
    {"pids-limit", POD, false},
    {"memory", APP, false},
    {"cpu", APP, false},
    {"cpu-shares", APP, false},
    {"oom-score-adj", APP, false},
};

static const struct flag *find_flag(const char *name, size_t len)
{
        for (size_t i = 0; i < ELEMENTSOF(flags); i++)
                if (strlen(flags[i].name) == len && !strncmp(flags[i].name, name, len))
                        return &flags[i];
        return NULL;
}

static int parse_bool(const char *verb, const char *flag, const char *v, bool *ret)
{
        if (!v || !strcmp(v, "true"))
                *ret = true;
        else if (!strcmp(v, "false"))
                *ret = false;
        else
                return rk_usage_error(verb, "--%s: expected true or false, not '%s'", flag, v);
        return 0;
}

static int dup_opt(char **dst, const char *v)
{
        free(*dst);
        *dst = strdup(v);
        return *dst ? 0 : -ENOMEM;
}

static int add_mount(struct rk_mount_opt **v, size_t *n, const char *arg, rk_error *err)
{
        struct rk_mount_opt m = {0};
        int r = rk_parse_mount_opt(arg, &m, err);
        if (r < 0)
                return r;
        struct rk_mount_opt *nv = realloc(*v, (*n + 1) * sizeof(**v));
        if (!nv) {
                free(m.volume);
                free(m.target);
                return rk_err(err, -ENOMEM, "out of memory");
        }
        *v = nv;
        (*v)[(*n)++] = m;
        return 0;
}

static int add_volume(struct rk_pod_opts *o, const char *arg, rk_error *err)
{
        struct rk_volume v = {0};
        int r = rk_parse_volume_opt(arg, &v, err);
        if (r < 0)
                return r;
        struct rk_volume *nv = realloc(o->volumes, (o->n_volumes + 1) * sizeof(*nv));
        if (!nv) {
                free(v.name);
                free(v.kind);
                free(v.source);
                free(v.mode);
                return rk_err(err, -ENOMEM, "out of memory");
        }
        o->volumes = nv;
        o->volumes[o->n_volumes++] = v;
        return 0;
}

/* Returns 0, or -EINVAL with err filled (a usage error), or another negative errno. */
static int pod_flag(struct run_args *a, const char *name, const char *v, rk_error *err)
{
        struct rk_pod_opts *o = &a->o;
        bool b = false;
        if (!strcmp(name, "net"))
                return dup_opt(&o->net, v ? v : "default");
        if (!strcmp(name, "port")) {
                if (o->n_ports >= RK_NET_MAX_PORTS)
                        return rk_err(err, -EINVAL, "--port: at most %d", RK_NET_MAX_PORTS);
                struct rk_net_port_opt *np = realloc(o->ports, (o->n_ports + 1) * sizeof(*np));
                if (!np)
                        return -ENOMEM;
                o->ports = np;
                return rk_net_port_parse(v, &o->ports[o->n_ports++], err);
        }
        if (!strcmp(name, "hostname"))
                return dup_opt(&o->hostname, v);
        if (!strncmp(name, "dns", 3) || !strcmp(name, "hosts-entry"))
                return rk_dns_opts_add(&o->dns, name, v, err);
        if (!strcmp(name, "volume"))
                return add_volume(o, v, err);
        if (!strcmp(name, "mount"))
                return add_mount(&o->mounts, &o->n_mounts, v, err);
        if (!strcmp(name, "set-env"))
                return rk_env_set_opt(&o->set_env, v, "--set-env", err);
        if (!strcmp(name, "set-env-file")) {
                a->env_file = v;
                return 0;
        }
        if (!strcmp(name, "uuid-file-save")) {
                a->uuid_file = v;
                return 0;
        }
        if (!strcmp(name, "pod-manifest")) {
                a->pod_manifest = v;
                return 0;
        }
        if (!strcmp(name, "pids-limit")) {
                o->has_pids_limit = true;
                return rk_cgroup_parse_pids_limit("--pids-limit", v, &o->pids_limit, err);
        }
        if (!strcmp(name, "pull-policy")) {
                if (rk_pull_policy_from_string(v, &a->pull) < 0 || a->pull == RK_PULL_UPDATE)
                        return rk_err(err, -EINVAL, "--pull-policy: '%s' is not new or never", v);
                return 0;
        }
        if (parse_bool(NULL, name, v, &b) != 0)
                return rk_err(err, -EINVAL, "--%s: expected true or false", name);
        if (!strcmp(name, "inherit-env"))
                o->inherit_env = b ? environ : NULL;
        else if (!strcmp(name, "interactive"))
                o->interactive = b;
        else if (!strcmp(name, "no-overlay"))
                o->no_overlay = b;
        else if (!strcmp(name, "private-users"))
                o->private_users = b;
        else if (!strcmp(name, "quiet"))
                a->quiet = b;
        else if (!strcmp(name, "mds-register"))
                a->mds_register = b;
        else if (!strcmp(name, "readonly-rootfs"))
                o->readonly_rootfs = b;
        else if (!strcmp(name, "no-new-privileges"))
                o->no_new_privs_off = !b;
        return 0;
}

static int app_flag(struct rk_app_opts *app, const char *name, const char *v, rk_error *err)
{
        bool b = false;
        if (!strcmp(name, "mount"))
                return add_mount(&app->mounts, &app->n_mounts, v, err);
        if (!strcmp(name, "environment"))
                return rk_env_set_opt(&app->environment, v, "--environment", err);
        if (!strcmp(name, "supplementary-gids")) {
                free(app->supplementary_gids);
                app->supplementary_gids = NULL;
                app->has_supplementary_gids = true;
                return rk_parse_gids(v, &app->supplementary_gids, &app->n_supplementary_gids, err);
        }
        if (!strcmp(name, "readonly-rootfs")) {
                if (parse_bool(NULL, name, v, &b) != 0)
                        return rk_err(err, -EINVAL, "--%s: expected true or false", name);
                app->readonly_rootfs = b;
                return 0;
        }
        if (!strcmp(name, "caps-retain") || !strcmp(name, "caps-remove")) {
                bool retain = !strcmp(name, "caps-retain");
                uint64_t m = 0;
                if ((retain ? app->caps_remove : app->caps_retain) != NULL)
                        return rk_err(err, -EINVAL,
                                      "--caps-retain and --caps-remove exclude "
                                      "each other");
                char flag[32];
                snprintf(flag, sizeof(flag), "--%s", name);
                int r = rk_caps_parse_list(v, flag, &m, err);
                return r < 0 ? r : dup_opt(retain ? &app->caps_retain : &app->caps_remove, v);
        }
        if (!strcmp(name, "seccomp") || !strcmp(name, "seccomp-profile")) {
                bool set = !strcmp(name, "seccomp");
                if (set ? app->seccomp_profile != NULL : app->seccomp != NULL)
                        return rk_err(err, -EINVAL,
                                      "--seccomp and --seccomp-profile exclude each other");
                if (set ? app->seccomp != NULL : app->seccomp_profile != NULL)
                        return rk_err(err, -EINVAL, "--%s given twice for one app", name);
                if (!set)
                        return rk_seccomp_profile_load(v, &app->seccomp_profile,
                                                       &app->seccomp_profile_len, err);
                struct rk_seccomp_set s = {0};
                int r = rk_seccomp_parse_opt(v, &s, err);
                rk_seccomp_set_clear(&s);
                return r < 0 ? r : dup_opt(&app->seccomp, v);
        }
        int64_t n = 0;
        if (!strcmp(name, "memory") || !strcmp(name, "cpu")) {
                bool mem = !strcmp(name, "memory");
                int r = mem ? rk_cgroup_parse_memory("--memory", v, &n, err)
                            : rk_cgroup_parse_cpu("--cpu", v, &n, err);
                return r < 0 ? r : dup_opt(mem ? &app->memory : &app->cpu, v);
        }
        if (!strcmp(name, "cpu-shares")) {
                app->has_cpu_shares = true;
                return rk_cgroup_parse_int("--cpu-shares", v, 2, 262144, &app->cpu_shares, err);
        }
        if (!strcmp(name, "oom-score-adj")) {
                app->has_oom_score_adj = true;
                return rk_cgroup_parse_int("--oom-score-adj", v, -1000, 1000, &app->oom_score_adj,
                                           err);
        }
        char **dst = !strcmp(name, "name")          ? &app->name
                     : !strcmp(name, "exec")        ? &app->exec
                     : !strcmp(name, "user")        ? &app->user
                     : !strcmp(name, "group")       ? &app->group
                     : !strcmp(name, "working-dir") ? &app->working_dir
                                                    : &app->signature;
        return dup_opt(dst, v);
}

static struct rk_app_opts *new_app(struct rk_pod_opts *o, const char *image)
{
        struct rk_app_opts *nv = realloc(o->apps, (o->n_apps + 1) * sizeof(*nv));
        if (!nv)
                return NULL;
        o->apps = nv;
        struct rk_app_opts *a = &o->apps[o->n_apps];
        memset(a, 0, sizeof(*a));
        if (!(a->image = strdup(image)))
                return NULL;
        o->n_apps++;
        return a;
}

/* "-- ARGS ---": everything up to a lone "---" (or the end) is the app's. */
static int take_args(struct rk_app_opts *app, int argc, char **argv, int *i)
{
        for ((*i)++; *i < argc && strcmp(argv[*i], "---") != 0; (*i)++) {
                char **nv = realloc(app->args, (app->n_args + 1) * sizeof(*nv));
                if (!nv)
                        return -ENOMEM;
                app->args = nv;
                if (!(app->args[app->n_args] = strdup(argv[*i])))
                        return -ENOMEM;
                app->n_args++;
        }
        return 0;
}

/* One "--flag[=value]" (or "--flag value") at argv[*i]. */
static int take_flag(const char *verb, struct run_args *a, struct rk_app_opts *app, int argc,
                     char **argv, int *i, rk_error *err)
{
        const char *s = argv[*i] + 2, *eq = strchr(s, '=');
        size_t len = eq ? (size_t)(eq - s) : strlen(s);
        const struct flag *f = find_flag(s, len);
        if (!f)
                return rk_usage_error(verb, "unknown option '%s'", argv[*i]);
        const char *v = eq ? eq + 1 : NULL;
        /* --net alone is rkt's "default" network, refused below */
        if (!v && !f->boolean && strcmp(f->name, "net") != 0) {
                if (*i + 1 >= argc)
                        return rk_usage_error(verb, "option '--%s' needs a value", f->name);
                v = argv[++*i];
        }
        if (!app && f->kind == APP)
                return rk_usage_error(verb, "'--%s' is an app flag: put it after its IMAGE",
                                      f->name);
        if (app && f->kind == POD)
                return rk_usage_error(verb, "'--%s' is a pod flag: put it before the first IMAGE",
                                      f->name);
        if (!strcmp(verb, "run") && !strcmp(f->name, "quiet"))
                return rk_usage_error(verb, "unknown option '--quiet'");
        int r = app ? app_flag(app, f->name, v, err) : pod_flag(a, f->name, v, err);
        if (r == -ENOMEM)
                return rk_usage_error(verb, "out of memory");
        if (r < 0)
                return rk_usage_error(verb, "%s", err->msg);
        return 0;
}

/* 0, or an exit status (usage error). */
static int parse_run(const char *verb, int argc, char **argv, struct run_args *a)
{
        struct rk_app_opts *app = NULL;
        rk_error err = RK_ERROR_INIT;
        for (int i = 1; i < argc; i++) {
                const char *s = argv[i];
                int x = 0;
                if (!strcmp(s, "--")) {
                        if (!app)
                                return rk_usage_error(verb, "'--' must follow an IMAGE");
                        x = take_args(app, argc, argv, &i) < 0
                                ? rk_usage_error(verb, "out of memory")
                                : 0;
                } else if (!strcmp(s, "-h") || !strcmp(s, "--help"))
                        return -1;
                else if (!strncmp(s, "--", 2))
                        x = take_flag(verb, a, app, argc, argv, &i, &err);
                else if (s[0] == '-' && s[1])
                        x = rk_usage_error(verb, "unknown option '%s'", s);
                else if (!(app = new_app(&a->o, s)))
                        x = rk_usage_error(verb, "out of memory");
                if (x)
                        return x;
        }
        return 0;
}

static int read_env_file(struct run_args *a, rk_error *err)
{
        if (!a->env_file)
                return 0;
        int fd = open(a->env_file, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "--set-env-file '%s'", a->env_file);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = rk_read_fd_capped(fd, a->env_file, ENV_FILE_MAX, &buf, &len, err);
        (void)close(fd);
        if (r < 0)
                return r;
        /* the file's entries come before --set-env, which wins */
        struct rk_name_values l = {0};
        char what[PATH_MAX + 32];
        snprintf(what, sizeof(what), "--set-env-file '%s'", a->env_file);
        r = rk_env_file_parse(what, buf, len, &l, err);
        for (size_t i = 0; r >= 0 && i < a->o.set_env.n; i++)
                r = rk_env_set(&l, a->o.set_env.v[i].name, a->o.set_env.v[i].value, err);
        if (r < 0) {
                rk_name_values_clear(&l);
                return r;
        }
        rk_name_values_clear(&a->o.set_env);
        a->o.set_env = l;
        return 0;
}

static int read_pod_manifest(struct run_args *a, rk_error *err)
{
        if (!a->pod_manifest)
                return 0;
        int fd = open(a->pod_manifest, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "--pod-manifest '%s'", a->pod_manifest);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = rk_read_fd_capped(fd, a->pod_manifest, RK_MANIFEST_MAX, &buf, &len, err);
        (void)close(fd);
        if (r >= 0)
                r = rk_pod_manifest_parse(a->pod_manifest, buf, len, &a->o.manifest, err);
        if (r >= 0)
                r = rk_pod_manifest_validate_runnable(a->o.manifest, err);
        return r;
}

/* Conflicts rkt refused too. 0 or a usage exit status. */
static int check_args(const char *verb, struct run_args *a)
{
        struct rk_pod_opts *o = &a->o;
        struct rk_cni_req req[RK_CNI_MAX_NETS];
        size_t n_req = 0;
        rk_error e = RK_ERROR_INIT;
        if (o->net && rk_net_kind(o->net) < 0 && rk_cni_netlist_parse(o->net, req, &n_req, &e) < 0)
                return rk_usage_error(verb, "%s", e.msg);
        if (o->n_ports && !rk_net_contained(rk_net_kind(o->net ? o->net : "default")))
                return rk_usage_error(verb, "--port needs --net=default or default-restricted");
        if (a->pod_manifest && (o->n_apps || o->n_volumes || o->n_mounts || o->set_env.n ||
                                a->env_file || o->inherit_env))
                return rk_usage_error(verb, "--pod-manifest cannot be combined with IMAGE "
                                            "arguments, --volume, --mount or environment flags");
        if (a->mds_register && strcmp(verb, "run") != 0)
                return rk_usage_error(verb, "--mds-register: only with rkt run and run-prepared");
        if (!a->pod_manifest && o->n_apps == 0)
                return rk_usage_error(verb, "expected at least one IMAGE");
        if (o->interactive && o->n_apps > 1)
                return rk_usage_error(verb, "--interactive needs exactly one IMAGE");
        return 0;
}

/* ---- images ---- */

struct images {
        struct rk_fetch_result *res;
        struct rk_image_manifest **m;
        struct rk_pod_image *img;
        size_t n;
};

static void images_clear(struct images *im)
{
        for (size_t i = 0; i < im->n; i++) {
                rk_fetch_result_clear(&im->res[i]);
                rk_image_manifest_free(im->m[i]);
        }
        free(im->res);
        free(im->m);
        free(im->img);
        memset(im, 0, sizeof(*im));
}

static void print_ref_error(const char *verb, const char *ref, const rk_error *err)
{
        size_t n = strlen(ref);
        if (!strncmp(err->msg, ref, n) && err->msg[n] == ':')
                fprintf(stderr, "rkt: %s %s\n", verb, err->msg);
        else
                fprintf(stderr, "rkt: %s %s: %s\n", verb, ref, err->msg);
}

/* Every image through rk_fetch: files and URLs are verified and stored, stored images are
 * checked against today's policy; an image stored unverified needs the opt-in again. */
static int resolve_images(const char *verb, const struct rk_global *g, struct run_args *a,
                          struct rk_store *s, struct images *im)
{
        size_t n = a->o.manifest ? a->o.manifest->n_apps : a->o.n_apps;
        struct rk_trust_config tc = {g->local_config, g->system_config, g->user_config, g->dir};
        struct rk_auth *auth = NULL;
        rk_error aerr = RK_ERROR_INIT;
        if (rk_auth_load(g->system_config, g->local_config, g->user_config, &auth, &aerr) < 0) {
                fprintf(stderr, "rkt: %s: %s\n", verb, aerr.msg);
                return aerr.code;
        }
        im->res = calloc(n, sizeof(*im->res));
        im->m = calloc(n, sizeof(*im->m));
        im->img = calloc(n, sizeof(*im->img));
        if (!im->res || !im->m || !im->img) {
                fprintf(stderr, "rkt: %s: out of memory\n", verb);
                rk_auth_free(auth);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                const char *ref =
                    a->o.manifest ? a->o.manifest->apps[i].image_id : a->o.apps[i].image;
                struct rk_fetch_opts fo = {
                    .trust = &tc,
                    .insecure_image = g->insecure & RK_INSECURE_IMAGE,
                    .insecure_tls = g->insecure & RK_INSECURE_TLS,
                    .insecure_http = g->insecure & RK_INSECURE_HTTP,
                    .pull = a->pull,
                    .signature = a->o.manifest ? NULL : a->o.apps[i].signature,
                    .auth = auth,
                    .trust_keys_from_https = g->trust_keys_from_https,
                    .insecure_pubkey = g->insecure & RK_INSECURE_PUBKEY,
                    /* TOFU asks only where someone can answer */
                    .review =
                        isatty(STDIN_FILENO) && isatty(STDERR_FILENO) ? rk_cli_review_key : NULL,
                };
                rk_error err = RK_ERROR_INIT;
                im->n++;
                int r = rk_fetch(s, ref, &fo, &im->res[i], &err);
                if (r >= 0)
                        r = rk_fetch_check_admitted(&im->res[i].info, fo.insecure_image, &err);
                if (r >= 0)
                        r = rk_store_manifest(s, im->res[i].info.id, NULL, NULL, &im->m[i], &err);
                if (r < 0) {
                        print_ref_error(verb, ref, &err);
                        rk_auth_free(auth);
                        return r;
                }
                if (im->res[i].info.insecure)
                        rk_log_warning("%s: using UNVERIFIED image %s (admitted by %s)", ref,
                                       im->res[i].info.name, im->res[i].info.insecure);
                im->img[i] = (struct rk_pod_image){im->res[i].info.id, im->m[i]};
        }
        rk_auth_free(auth);
        return 0;
}

/* ---- the pod ---- */

static int save_uuid(const char *path, const char *uuid, rk_error *err)
{
        /* a plain open: FILE may be a FIFO a supervisor reads from */
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "--uuid-file-save '%s'", path);
        char line[RK_UUID_STRING_MAX + 1];
        int n = snprintf(line, sizeof(line), "%s\n", uuid);
        int r = rk_write_all(fd, line, (size_t)n);
        if (close(fd) < 0 && r >= 0)
                r = negative_errno();
        return r < 0 ? rk_err_errno(err, r, "--uuid-file-save '%s'", path) : 0;
}

/* The run's Landlock and SELinux facts: "landlock": "abi N" | "off (insecure)" |
 * "unavailable (kernel)"; "selinux": "enabled" | "disabled, labels not applied". */
static void audit_lsm(json_t *o, const struct rk_pod_opts *po)
{
        char buf[32];
        int abi = rk_landlock_abi();
        if (po && po->insecure_landlock)
                snprintf(buf, sizeof(buf), "off (insecure)");
        else if (abi < 0)
                snprintf(buf, sizeof(buf), "unavailable (kernel)");
        else
                snprintf(buf, sizeof(buf), "abi %d", abi);
        json_object_set_new(o, "landlock", json_string(buf));
        json_object_set_new(
            o, "selinux",
            json_string(rk_selinux_enabled() ? "enabled" : "disabled, labels not applied"));
}

/* The record of a run, prepare or run-prepared: the images, the network, every relaxation,
 * and each app's isolator summary as the plan gives it to stage1 (audit/summary.h). */
static int audit_pod(const struct rk_global *g, const char *event, struct rk_pod *pod,
                     char *const *ids, size_t n, const char *net, const struct rk_pod_opts *po,
                     rk_error *err)
{
        _cleanup_json_ json_t *apps = NULL;
        int r = rk_pod_plan_summary(pod, &apps, err);
        if (r < 0)
                return r;
        struct rk_audit *au = NULL;
        r = rk_audit_open(g->dir, &au, err);
        if (r < 0)
                return r;
        json_t *imgs = json_array();
        for (size_t i = 0; imgs && i < n; i++)
                json_array_append_new(imgs, json_string(ids[i]));
        json_t *o =
            json_pack("{s:s, s:s, s:o, s:s, s:O}", "pod", pod->uuid, "image", n ? ids[0] : "",
                      "images", imgs, "net", net ? net : "default", "apps", apps);
        if (o && (g->insecure & RK_INSECURE_IMAGE))
                json_object_set_new(o, "insecure", json_string("image"));
        if (o && po && po->insecure_capabilities)
                json_object_set_new(o, "capabilities", json_string("all (insecure)"));
        if (o && po && po->insecure_seccomp)
                json_object_set_new(o, "seccomp", json_string("off (insecure)"));
        if (o && po && po->no_new_privs_off)
                json_object_set_new(o, "noNewPrivileges", json_false());
        if (o)
                audit_lsm(o, po);
        if (o && po && po->insecure_cgroups)
                json_object_set_new(o, "cgroups", json_string("optional (insecure)"));
        if (o && po && po->has_pids_limit && po->pids_limit == 0)
                json_object_set_new(o, "pidsLimit", json_string("max"));
        r = o ? rk_audit_append(au, event, o, err) : rk_err(err, -ENOMEM, "out of memory");
        json_decref(o);
        rk_audit_close(au);
        return r;
}

static int audit_images(const struct rk_global *g, const char *event, struct rk_pod *pod,
                        const struct images *im, const char *net, const struct rk_pod_opts *po,
                        rk_error *err)
{
        char **ids = calloc(im->n + 1, sizeof(*ids));
        if (!ids)
                return rk_err(err, -ENOMEM, "out of memory");
        for (size_t i = 0; i < im->n; i++)
                ids[i] = (char *)im->img[i].id;
        int r = audit_pod(g, event, pod, ids, im->n, net, po, err);
        free(ids);
        return r;
}

/* A pod that failed before it ran is removed at once (rkt gc would find it otherwise). */
static void discard(struct rk_pod *pod)
{
        rk_error e = RK_ERROR_INIT;
        if (rk_pod_remove(pod, NULL, NULL, &e) < 0)
                rk_log_warning("pod %s: %s; 'rkt gc' will remove it", pod->uuid, e.msg);
}

static int fail(const char *verb, int status, const rk_error *err)
{
        fprintf(stderr, "rkt: %s: %s\n", verb, err->msg[0] ? err->msg : "failed");
        return status;
}

static int run_pod(const struct rk_global *g, enum mode mode, struct run_args *a, int stage1fd)
{
        const char *verb = verb_names[mode];
        int failure = mode == MODE_RUN ? EXIT_RUNTIME : RK_EXIT_FAILURE;
        rk_error err = RK_ERROR_INIT;
        _cleanup_store_ struct rk_store *s = NULL;
        struct rk_pods *pods = NULL;
        struct images im = {0};
        struct rk_pod *pod = NULL;
        int exec_status = 0, r;

        if ((r = rk_store_open(g->dir, &s, &err)) < 0 ||
            (r = rk_pods_open(g->dir, &pods, &err)) < 0)
                goto out;
        if ((r = resolve_images(verb, g, a, s, &im)) < 0) {
                err.msg[0] = 0; /* printed with the image's name */
                goto out;
        }
        if ((r = rk_pod_create(pods, &pod, &err)) < 0)
                goto out;
        if (a->uuid_file && (r = save_uuid(a->uuid_file, pod->uuid, &err)) < 0)
                goto out;
        r = rk_pod_prepare(pod, s, &a->o, im.img, &exec_status, &err);
        if (r >= 0)
                r = audit_images(g, verb, pod, &im, a->o.net, &a->o, &err);
        if (r >= 0)
                r = rk_pod_transition(pod, mode == MODE_RUN ? RK_POD_RUN : RK_POD_PREPARED, &err);
        if (r < 0)
                goto out;
        if (mode == MODE_PREPARE) {
                printf("%s\n", pod->uuid);
                goto out;
        }
        if (a->mds_register &&
            (r = rk_mds_register_pod(pod, s, a->o.net ? a->o.net : "none", &err)) < 0)
                goto out;
        s = rk_store_close(s); /* nothing of the store reaches stage1 */
        r = exec_stage1(stage1fd, pod, g, &err);
out:
        if (r < 0 && pod)
                discard(pod);
        if (mode == MODE_PREPARE)
                exec_status = 0; /* 126/127 are run's: prepare just failed */
        images_clear(&im);
        pod = rk_pod_close(pod);
        rk_pods_close(pods);
        if (r < 0 && err.msg[0])
                return fail(verb, exec_status ? exec_status : failure, &err);
        return r < 0 ? (exec_status ? exec_status : failure) : RK_EXIT_OK;
}

/* Landlock missing from the kernel, and SELinux disabled, are said on every run (and
 * recorded by audit_lsm): never a silent downgrade. */
static void warn_lsm(bool landlock_off)
{
        int abi = rk_landlock_abi();
        if (landlock_off)
                rk_log_warning("apps run without Landlock: paths outside their root are "
                               "reachable (--insecure-options=landlock)");
        if (!landlock_off && abi < 0)
                rk_log_warning("the kernel has no Landlock (%s): apps run without it",
                               abi == -EOPNOTSUPP ? "disabled" : "not built");
        if (!rk_selinux_enabled())
                rk_log_warning("SELinux disabled, labels not applied");
}

/* Every run or prepare that relaxes a capability or no_new_privs default says so. */
static void warn_relaxed(const struct rk_pod_opts *o)
{
        if (o->insecure_capabilities)
                rk_log_warning("apps get every capability (--insecure-options=capabilities)");
        if (o->insecure_seccomp)
                rk_log_warning("apps run without a seccomp filter (--insecure-options=seccomp)");
        if (o->insecure_cgroups)
                rk_log_warning("a cgroup controller the host lacks only costs its limits "
                               "(--insecure-options=cgroups)");
        if (o->has_pids_limit && o->pids_limit == 0)
                rk_log_warning("apps have no pids limit: a fork bomb can exhaust the host's "
                               "PIDs (--pids-limit=max)");
        if (o->no_new_privs_off)
                rk_log_warning("no_new_privs is off: apps may gain privileges through setuid "
                               "and file capabilities (--no-new-privileges=false)");
}

static int run_or_prepare(const struct rk_global *g, enum mode mode, int argc, char **argv)
{
        const char *verb = verb_names[mode];
        struct run_args a = {.pull = RK_PULL_NEW};
        rk_error err = RK_ERROR_INIT;
        int x = parse_run(verb, argc, argv, &a);
        if (x < 0) {
                mode == MODE_RUN ? rk_help_run() : rk_help_prepare();
                run_args_clear(&a);
                return RK_EXIT_OK;
        }
        if (x == 0)
                x = check_args(verb, &a);
        if (x) {
                run_args_clear(&a);
                return x;
        }
        int failure = mode == MODE_RUN ? EXIT_RUNTIME : RK_EXIT_FAILURE;
        _cleanup_close_ int stage1fd = -EBADF;
        char stage1[PATH_MAX], netd[PATH_MAX];
        snprintf(netd, sizeof(netd), "%s/net.d", g->local_config);
        a.o.netd = netd;
        int r = read_env_file(&a, &err);
        if (r >= 0)
                r = read_pod_manifest(&a, &err);
        if (r >= 0 && mode == MODE_RUN &&
            (stage1fd = rk_stage1_open(stage1, sizeof(stage1), &err)) < 0)
                r = stage1fd;
        if (r < 0) {
                run_args_clear(&a);
                return fail(verb, failure, &err);
        }
        if (g->insecure & RK_INSECURE_IMAGE)
                rk_log_warning("image signature verification has been disabled "
                               "(--insecure-options=image)");
        if (g->insecure & RK_INSECURE_TLS)
                rk_log_warning("TLS verification has been disabled (--insecure-options=tls)");
        if (g->insecure & RK_INSECURE_HTTP)
                rk_log_warning("plain HTTP downloads are allowed (--insecure-options=http)");
        a.o.insecure_capabilities = g->insecure & RK_INSECURE_CAPABILITIES;
        a.o.insecure_seccomp = g->insecure & RK_INSECURE_SECCOMP;
        a.o.insecure_landlock = g->insecure & RK_INSECURE_LANDLOCK;
        /* Test hook: the chown'ed-copy fallback of --private-users on a filesystem that
         * would allow an idmapped mount (rkt-run(1)). */
        a.o.userns_chown = getenv("RKT_TEST_USERNS_CHOWN") != NULL;
        a.o.insecure_cgroups = g->insecure & RK_INSECURE_CGROUPS;
        warn_relaxed(&a.o);
        warn_lsm(a.o.insecure_landlock);
        x = run_pod(g, mode, &a, stage1fd);
        run_args_clear(&a);
        return x;
}

int rk_cmd_run(const struct rk_global *g, int argc, char **argv)
{
        return run_or_prepare(g, MODE_RUN, argc, argv);
}

int rk_cmd_prepare(const struct rk_global *g, int argc, char **argv)
{
        return run_or_prepare(g, MODE_PREPARE, argc, argv);
}

/* ---- run-prepared ---- */

static int run_prepared_pod(const struct rk_global *g, const char *arg, const char *net,
                            const char *hostname, bool interactive, bool mds_register, int stage1fd)
{
        rk_error err = RK_ERROR_INIT;
        struct rk_pods *pods = NULL;
        struct rk_pod *pod = NULL;
        char **ids = NULL;
        size_t n = 0;
        struct rk_pod_opts po = {0}; /* what the audit record and the warnings need */
        int r = rk_pods_open(g->dir, &pods, &err);
        if (r >= 0)
                r = rk_pod_open(pods, arg, &pod, &err);
        /* the lock, then the rename, decide between two run-prepared of one pod */
        if (r >= 0 && (r = rk_pod_lock(pod, LOCK_EX | LOCK_NB, &err)) == -EBUSY)
                r = rk_err(&err, -EBUSY, "pod %s is being run or removed", pod->uuid);
        if (r >= 0 && pod->state != RK_POD_PREPARED)
                r = rk_err(&err, -EINVAL, "pod %s is %s, not prepared", pod->uuid,
                           rk_pod_state_dir(pod->state));
        if (r >= 0)
                r = rk_pod_plan_update(pod, net, hostname, interactive, &err);
        if (r >= 0)
                r = rk_pod_plan_images(pod, &ids, &n, &err);
        if (r >= 0 && (r = rk_pod_plan_landlock_off(pod, &err)) >= 0)
                po.insecure_landlock = r > 0;
        struct rk_pod_status st = {0};
        rk_error ignored = RK_ERROR_INIT;
        /* without --net the audit record names the network the plan keeps */
        if (r >= 0 && !net && rk_pod_status_read(pod, &st, &ignored) >= 0 && st.net[0])
                net = st.net;
        /* registered while still prepared: a service that is not there leaves the pod
         * prepared (and unaudited) for another try; this process becomes stage1, which the
         * service watches, as for run */
        if (r >= 0 && mds_register && !net)
                r = rk_err(&err, -EINVAL, "--mds-register: pod %s: its network is unknown",
                           pod->uuid);
        if (r >= 0 && mds_register) {
                struct rk_store *s = NULL;
                r = rk_store_open(g->dir, &s, &err);
                if (r >= 0)
                        r = rk_mds_register_pod(pod, s, net, &err);
                s = rk_store_close(s); /* nothing of the store reaches stage1 */
        }
        if (r >= 0)
                r = audit_pod(g, "run", pod, ids, n, net, &po, &err);
        rk_pod_status_clear(&st);
        if (r >= 0)
                r = rk_pod_transition(pod, RK_POD_RUN, &err);
        if (r >= 0)
                warn_lsm(po.insecure_landlock);
        for (size_t i = 0; i < n; i++)
                free(ids[i]);
        free(ids);
        if (r >= 0) {
                r = exec_stage1(stage1fd, pod, g, &err);
                discard(pod);
        }
        pod = rk_pod_close(pod);
        rk_pods_close(pods);
        return fail("run-prepared", EXIT_RUNTIME, &err);
}

int rk_cmd_run_prepared(const struct rk_global *g, int argc, char **argv)
{
        const char *net = NULL, *hostname = NULL, *uuid = NULL;
        bool interactive = false, mds_register = false;
        for (int i = 1; i < argc; i++) {
                const char *s = argv[i];
                if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
                        rk_help_run_prepared();
                        return RK_EXIT_OK;
                } else if (!strncmp(s, "--net=", 6))
                        net = s + 6;
                else if (!strncmp(s, "--hostname=", 11))
                        hostname = s + 11;
                else if (!strcmp(s, "--interactive"))
                        interactive = true;
                else if (!strcmp(s, "--mds-register") || !strcmp(s, "--mds-register=true"))
                        mds_register = true;
                else if (!strcmp(s, "--mds-register=false"))
                        mds_register = false;
                else if ((!strcmp(s, "--net") || !strcmp(s, "--hostname")) && i + 1 < argc)
                        *(s[2] == 'n' ? &net : &hostname) = argv[++i];
                else if (s[0] == '-')
                        return rk_usage_error("run-prepared", "unknown option '%s'", s);
                else if (uuid)
                        return rk_usage_error("run-prepared", "expected one UUID");
                else
                        uuid = s;
        }
        if (!uuid)
                return rk_usage_error("run-prepared", "expected a pod UUID");
        if (net && rk_net_kind(net) < 0)
                return rk_usage_error("run-prepared",
                                      "--net=%s: unknown network (default, default-restricted, "
                                      "none, host; named networks are chosen at prepare)",
                                      net);
        rk_error err = RK_ERROR_INIT;
        char stage1[PATH_MAX];
        _cleanup_close_ int fd = rk_stage1_open(stage1, sizeof(stage1), &err);
        if (fd < 0)
                return fail("run-prepared", EXIT_RUNTIME, &err);
        return run_prepared_pod(g, uuid, net, hostname, interactive, mds_register, fd);
}
