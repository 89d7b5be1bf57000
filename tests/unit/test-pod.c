/* SPDX-License-Identifier: Apache-2.0 */
/* Pods: the state machine and its locks (held by another process, as stage1 holds them), UUID
 * prefixes, gc marking and sweeping, removal that never crosses into a mount, environment
 * precedence, users and groups resolved inside a fake image tree, the exec PATH search, volume
 * and mount options (a symlinked host source refused), and the plan.json a prepare writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include "aci-tar.h"
#include "base/json.h"
#include "pod/pod.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct rk_admission INSECURE = {.insecure = "image"};

struct fx {
        char dir[64];
        char root[128]; /* a fake image rootfs */
        int rootfd;
        struct rk_pods *pods;
};

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof(*f));
        rk_error e = RK_ERROR_INIT;
        strcpy(f->dir, "/tmp/rk-test-pod-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->root, sizeof(f->root), "%s/root", f->dir);
        assert_int_equal(mkdir(f->root, 0755), 0);
        f->rootfd = open(f->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(f->rootfd >= 0);
        assert_int_equal(rk_pods_open(f->dir, &f->pods, &e), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        rk_pods_close(f->pods);
        close(f->rootfd);
        (void)rk_rm_rf_at(AT_FDCWD, f->dir, NULL);
        free(f);
        return 0;
}

static bool exists_at(const struct fx *f, const char *fmt, ...)
{
        char rel[512], path[1024];
        struct stat st;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(rel, sizeof(rel), fmt, ap);
        va_end(ap);
        snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
        return lstat(path, &st) == 0;
}

static void put_file(const struct fx *f, const char *rel, const char *data, mode_t mode)
{
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", f->root, rel);
        char *slash = strrchr(path, '/');
        *slash = 0;
        assert_int_equal(rk_mkdir_p(path, 0755, NULL), 0);
        *slash = '/';
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        assert_true(fd >= 0);
        assert_int_equal(rk_write_all(fd, data, strlen(data)), 0);
        assert_int_equal(fchmod(fd, mode), 0);
        close(fd);
}

/* ---- state machine ---- */

static void test_create_and_transitions(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        struct rk_pod *pod = NULL;
        assert_int_equal(rk_pod_create(f->pods, &pod, &e), 0);
        assert_int_equal(pod->state, RK_POD_PREPARE);
        assert_int_equal(pod->lock, LOCK_EX);
        assert_true(exists_at(f, "pods/prepare/%s/pod-created", pod->uuid));
        assert_false(exists_at(f, "pods/embryo/%s", pod->uuid));
        assert_int_equal(rk_pod_is_locked(pod), 1);

        /* not allowed: prepare -> exited-garbage; run -> prepared */
        assert_int_equal(rk_pod_transition(pod, RK_POD_EXITED_GARBAGE, &e), -EINVAL);
        assert_int_equal(rk_pod_transition(pod, RK_POD_PREPARED, &e), 0);
        assert_true(exists_at(f, "pods/prepared/%s", pod->uuid));
        assert_int_equal(rk_pod_transition(pod, RK_POD_RUN, &e), 0);
        assert_int_equal(rk_pod_transition(pod, RK_POD_PREPARED, &e), -EINVAL);

        /* without the exclusive lock nothing moves */
        rk_pod_unlock(pod);
        assert_int_equal(rk_pod_is_locked(pod), 0);
        assert_int_equal(rk_pod_transition(pod, RK_POD_EXITED_GARBAGE, &e), -ENOLCK);
        assert_true(exists_at(f, "pods/run/%s", pod->uuid));
        rk_pod_close(pod);
}

static void test_no_replace(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        struct rk_pod *pod = NULL;
        assert_int_equal(rk_pod_create(f->pods, &pod, &e), 0);
        /* an empty directory of the same name in the target state: rename(2) would replace it */
        char path[256];
        snprintf(path, sizeof(path), "%s/pods/prepared/%s", f->dir, pod->uuid);
        assert_int_equal(mkdir(path, 0700), 0);
        assert_int_equal(rk_pod_transition(pod, RK_POD_PREPARED, &e), -EEXIST);
        assert_int_equal(pod->state, RK_POD_PREPARE);
        assert_true(exists_at(f, "pods/prepare/%s/pod-created", pod->uuid));
        rk_pod_close(pod);
}

/* A child creates a pod, moves it to run/ and holds its lock, as stage1 does; the parent sees
 * it running, gc leaves it alone, and once the child is killed it has exited. */
static void test_lock_held_by_other_process(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        int p[2];
        assert_int_equal(pipe(p), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct rk_pod *pod = NULL;
                if (rk_pod_create(f->pods, &pod, NULL) < 0 ||
                    rk_pod_transition(pod, RK_POD_RUN, NULL) < 0)
                        _exit(1);
                (void)!write(p[1], pod->uuid, 36);
                pause();
                _exit(0);
        }
        close(p[1]);
        char uuid[37] = {0};
        assert_int_equal(read(p[0], uuid, 36), 36);
        close(p[0]);

        struct rk_pod *pod = NULL;
        struct rk_pod_status st = {0};
        assert_int_equal(rk_pod_open(f->pods, uuid, &pod, &e), 0);
        assert_int_equal(rk_pod_status_read(pod, &st, &e), 0);
        assert_string_equal(st.state_name, "running");
        assert_false(st.exited);
        rk_pod_status_clear(&st);
        assert_int_equal(rk_pod_lock(pod, LOCK_SH | LOCK_NB, &e), -EBUSY);
        assert_int_equal(rk_pod_remove(pod, NULL, NULL, &e), -EBUSY);
        assert_non_null(strstr(e.msg, "running"));

        struct rk_pods_gc_opts o = {0};
        struct rk_pods_gc_report rep = {0};
        assert_int_equal(rk_pods_gc(f->pods, &o, &rep, &e), 0);
        assert_int_equal(rep.marked_exited, 0);
        assert_true(exists_at(f, "pods/run/%s", uuid));

        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        assert_int_equal(rk_pod_status_read(pod, &st, &e), 0);
        assert_string_equal(st.state_name, "exited");
        assert_true(st.exited);
        rk_pod_status_clear(&st);
        /* a blocking shared lock is the wait-for-exit primitive: it returns now */
        assert_int_equal(rk_pod_lock(pod, LOCK_SH, &e), 0);
        rk_pod_unlock(pod);
        rk_pod_close(pod);

        /* gc marks it, and with no grace period removes it in the same pass */
        assert_int_equal(rk_pods_gc(f->pods, &o, &rep, &e), 0);
        assert_int_equal(rep.marked_exited, 1);
        assert_int_equal(rep.removed, 1);
        assert_false(exists_at(f, "pods/run/%s", uuid));
        assert_false(exists_at(f, "pods/exited-garbage/%s", uuid));
}

static void test_gc_grace_and_expiry(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        struct rk_pod *a = NULL, *b = NULL, *c = NULL;
        char ua[37], ub[37], uc[37];
        assert_int_equal(rk_pod_create(f->pods, &a, &e), 0);
        assert_int_equal(rk_pod_create(f->pods, &b, &e), 0);
        assert_int_equal(rk_pod_create(f->pods, &c, &e), 0);
        strcpy(ua, a->uuid);
        strcpy(ub, b->uuid);
        strcpy(uc, c->uuid);
        assert_int_equal(rk_pod_transition(a, RK_POD_RUN, &e), 0);
        assert_int_equal(rk_pod_transition(b, RK_POD_PREPARED, &e), 0);
        rk_pod_close(a); /* exited */
        rk_pod_close(b); /* prepared */
        rk_pod_close(c); /* aborted prepare */

        struct rk_pods_gc_opts o = {.grace_ns = 3600LL * 1000000000,
                                    .expire_prepared_ns = 3600LL * 1000000000};
        struct rk_pods_gc_report rep = {0};
        assert_int_equal(rk_pods_gc(f->pods, &o, &rep, &e), 0);
        assert_int_equal(rep.marked_exited, 1);
        assert_int_equal(rep.marked_garbage, 1);
        assert_int_equal(rep.expired_prepared, 0);
        assert_int_equal(rep.removed, 1); /* the aborted prepare: it never ran */
        assert_true(exists_at(f, "pods/exited-garbage/%s", ua));
        assert_true(exists_at(f, "pods/prepared/%s", ub));
        assert_false(exists_at(f, "pods/garbage/%s", uc));

        o.grace_ns = 0;
        o.expire_prepared_ns = 0;
        o.mark_only = true;
        assert_int_equal(rk_pods_gc(f->pods, &o, &rep, &e), 0);
        assert_int_equal(rep.expired_prepared, 1);
        assert_int_equal(rep.removed, 0);
        assert_true(exists_at(f, "pods/garbage/%s", ub));
        o.mark_only = false;
        assert_int_equal(rk_pods_gc(f->pods, &o, &rep, &e), 0);
        assert_int_equal(rep.removed, 2);
        assert_false(exists_at(f, "pods/exited-garbage/%s", ua));
        assert_false(exists_at(f, "pods/garbage/%s", ub));
}

/* An embryo nobody holds (its creator was killed before the lock) is garbage. */
static void test_gc_embryo(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        const char *u = "11111111-2222-4333-8444-555555555555";
        char path[256];
        snprintf(path, sizeof(path), "%s/pods/embryo/%s", f->dir, u);
        assert_int_equal(mkdir(path, 0700), 0);
        struct rk_pods_gc_opts o = {0};
        struct rk_pods_gc_report rep = {0};
        assert_int_equal(rk_pods_gc(f->pods, &o, &rep, &e), 0);
        assert_int_equal(rep.marked_garbage, 1);
        assert_int_equal(rep.removed, 1);
        assert_false(exists_at(f, "pods/embryo/%s", u));
}

/* ---- UUIDs ---- */

static void mkpod(const struct fx *f, const char *state, const char *uuid)
{
        char path[256];
        snprintf(path, sizeof(path), "%s/pods/%s/%s", f->dir, state, uuid);
        assert_int_equal(mkdir(path, 0700), 0);
}

static void test_uuid_prefixes(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        struct rk_pod *pod = NULL;
        mkpod(f, "prepared", "abcdef01-0000-4000-8000-000000000001");
        mkpod(f, "run", "abcdef02-0000-4000-8000-000000000002");
        mkpod(f, "prepared", "not-a-uuid");

        assert_int_equal(rk_pod_open(f->pods, "abcdef", &pod, &e), -ENOTUNIQ);
        assert_int_equal(rk_pod_open(f->pods, "abcdef01", &pod, &e), 0);
        assert_string_equal(pod->uuid, "abcdef01-0000-4000-8000-000000000001");
        assert_int_equal(pod->state, RK_POD_PREPARED);
        rk_pod_close(pod);
        /* without dashes, upper case, across the dash */
        assert_int_equal(rk_pod_open(f->pods, "ABCDEF020000", &pod, &e), 0);
        assert_int_equal(pod->state, RK_POD_RUN);
        rk_pod_close(pod);
        assert_int_equal(rk_pod_open(f->pods, "abcdef02-0000-4000-8000-000000000002", &pod, &e), 0);
        rk_pod_close(pod);
        assert_int_equal(rk_pod_open(f->pods, "abcdef03", &pod, &e), -ENOENT);
        assert_int_equal(rk_pod_open(f->pods, "not-a", &pod, &e), -EINVAL);
        assert_int_equal(rk_pod_open(f->pods, "", &pod, &e), -EINVAL);
        assert_int_equal(rk_pod_open(f->pods, "../x", &pod, &e), -EINVAL);
        assert_int_equal(rk_pod_open(f->pods, "abcdef01-0000-4000-8000-0000000000012", &pod, &e),
                         -EINVAL);

        struct rk_pod_status *v = NULL;
        size_t n = 0;
        assert_int_equal(rk_pods_list(f->pods, &v, &n, &e), 0);
        assert_int_equal(n, 2); /* not-a-uuid is ignored */
        rk_pod_statuses_free(v, n);
}

/* ---- removal never enters a mount ---- */

static void test_remove_detaches_mounts(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        struct rk_pod *pod = NULL;
        char host[256], target[256], podpath[256];
        snprintf(host, sizeof(host), "%s/host", f->dir);
        assert_int_equal(mkdir(host, 0755), 0);
        char keep[300];
        snprintf(keep, sizeof(keep), "%s/keep", host);
        int fd = open(keep, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        close(fd);

        assert_int_equal(rk_pod_create(f->pods, &pod, &e), 0);
        assert_int_equal(rk_pod_path(pod, podpath, sizeof(podpath)), 0);
        snprintf(target, sizeof(target), "%s/rootfs/app/data", podpath);
        assert_int_equal(rk_mkdir_p(target, 0755, NULL), 0);
        if (mount(host, target, NULL, MS_BIND, NULL) < 0) {
                rk_pod_close(pod);
                skip(); /* no CAP_SYS_ADMIN here */
        }
        /* and a tmpfs on top of a nested one, as a crashed stage1 might leave */
        snprintf(target, sizeof(target), "%s/rootfs/app/tmp", podpath);
        assert_int_equal(rk_mkdir_p(target, 0755, NULL), 0);
        assert_int_equal(mount("none", target, "tmpfs", 0, NULL), 0);
        char **v = NULL;
        size_t n = 0;
        assert_int_equal(rk_mounts_below(podpath, &v, &n, &e), 0);
        assert_int_equal(n, 2);
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);

        assert_int_equal(rk_pod_transition(pod, RK_POD_RUN, &e), 0);
        rk_pod_unlock(pod);
        assert_int_equal(rk_pod_remove(pod, NULL, NULL, &e), 0);
        rk_pod_close(pod);
        assert_int_equal(rk_mounts_below(f->dir, &v, &n, &e), 0);
        assert_int_equal(n, 0);
        free(v);
        /* the host directory that was bound into the pod is untouched */
        assert_int_equal(access(keep, F_OK), 0);
}

/* ---- options ---- */

static void test_volume_and_mount_options(void **state)
{
        (void)state;
        rk_error e = RK_ERROR_INIT;
        struct rk_volume v = {0};
        assert_int_equal(rk_parse_volume_opt("data,kind=host,source=/srv,readOnly=true", &v, &e),
                         0);
        assert_string_equal(v.name, "data");
        assert_string_equal(v.kind, "host");
        assert_string_equal(v.source, "/srv");
        assert_true(v.has_read_only && v.read_only);
        free(v.name), free(v.kind), free(v.source), free(v.mode);
        memset(&v, 0, sizeof(v));
        assert_int_equal(rk_parse_volume_opt("name=s,kind=empty,mode=0700,uid=5,gid=6", &v, &e), 0);
        assert_string_equal(v.mode, "0700");
        assert_int_equal(v.uid, 5);
        assert_int_equal(v.gid, 6);
        free(v.name), free(v.kind), free(v.source), free(v.mode);

        static const char *const bad[] = {
            "data",                               /* no kind */
            "data,kind=host",                     /* no source */
            "data,kind=host,source=rel",          /* relative */
            "data,kind=empty,source=/x",          /* source on empty */
            "data,kind=host,source=/x,mode=0755", /* mode on host */
            "data,kind=other",
            "data,kind=empty,mode=999",
            "data,kind=empty,uid=-1",
            "data,kind=empty,readOnly=maybe",
            "data,kind=empty,kind=host",
            "data,kind=empty,colour=blue",
            "Data,kind=empty",
        };
        for (size_t i = 0; i < N(bad); i++) {
                memset(&v, 0, sizeof(v));
                if (rk_parse_volume_opt(bad[i], &v, &e) != -EINVAL)
                        fail_msg("--volume %s accepted", bad[i]);
                assert_non_null(strstr(e.msg, "--volume"));
        }

        struct rk_mount_opt m = {0};
        assert_int_equal(rk_parse_mount_opt("volume=data,target=/var/data", &m, &e), 0);
        assert_string_equal(m.volume, "data");
        assert_string_equal(m.target, "/var/data");
        free(m.volume), free(m.target);
        assert_int_equal(rk_parse_mount_opt("volume=data", &m, &e), -EINVAL);
        assert_int_equal(rk_parse_mount_opt("volume=data,target=rel", &m, &e), -EINVAL);
        assert_int_equal(rk_parse_mount_opt("volume=data,target=/a/../b", &m, &e), -EINVAL);
        assert_int_equal(rk_parse_mount_opt("volume=data,target=/x,extra=1", &m, &e), -EINVAL);

        uint32_t *g = NULL;
        size_t ng = 0;
        assert_int_equal(rk_parse_gids("1,20,300", &g, &ng, &e), 0);
        assert_int_equal(ng, 3);
        assert_int_equal(g[2], 300);
        free(g);
        assert_int_equal(rk_parse_gids("1,-2", &g, &ng, &e), -EINVAL);
        assert_int_equal(rk_parse_gids("4294967295", &g, &ng, &e), -EINVAL);
}

static void test_host_source_symlinks(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        char real[256], link[256], via[300], file[256];
        snprintf(real, sizeof(real), "%s/real", f->dir);
        snprintf(link, sizeof(link), "%s/link", f->dir);
        snprintf(via, sizeof(via), "%s/link/sub", f->dir);
        snprintf(file, sizeof(file), "%s/real/sub", f->dir);
        assert_int_equal(mkdir(real, 0755), 0);
        assert_int_equal(mkdir(file, 0755), 0);
        assert_int_equal(symlink("real", link), 0);
        assert_int_equal(rk_check_host_source(real, &e), 0);
        assert_int_equal(rk_check_host_source(file, &e), 0);
        assert_int_equal(rk_check_host_source(link, &e), -ELOOP);
        assert_non_null(strstr(e.msg, "symlink"));
        assert_int_equal(rk_check_host_source(via, &e), -ELOOP);
        snprintf(via, sizeof(via), "%s/missing", f->dir);
        assert_int_equal(rk_check_host_source(via, &e), -ENOENT);
        assert_int_equal(rk_check_host_source("relative", &e), -EINVAL);
}

/* ---- environment ---- */

static void test_env_precedence(void **state)
{
        (void)state;
        rk_error e = RK_ERROR_INIT;
        char *inherited[] = {
            "PATH=/host/bin",   "FOO=inherited",    "HOME=/root", "AC_APP_NAME=evil",
            "container=docker", "BASH_FUNC_x%%=()", "noequals",   NULL};
        struct rk_name_values app = {0};
        assert_int_equal(rk_env_set(&app, "FOO", "app", &e), 0);
        assert_int_equal(rk_env_set(&app, "AC_APP_NAME", "also-evil", &e), 0);
        char **env = NULL;
        size_t n = 0;
        assert_int_equal(rk_app_env("web", inherited, &app, &env, &n, &e), 0);
        static const char *const want[] = {"PATH=/host/bin", "FOO=app", "HOME=/root",
                                           "AC_APP_NAME=web", "container=rkt"};
        assert_int_equal(n, N(want));
        for (size_t i = 0; i < n; i++) {
                assert_string_equal(env[i], want[i]);
                free(env[i]);
        }
        free(env);
        rk_name_values_clear(&app);

        /* no inherited environment: exactly the spec's */
        assert_int_equal(rk_app_env("a", NULL, NULL, &env, &n, &e), 0);
        assert_int_equal(n, 3);
        assert_string_equal(env[0], "PATH=" RK_APP_PATH);
        assert_string_equal(env[0], "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
                                    "/sbin:/bin");
        assert_string_equal(env[1], "AC_APP_NAME=a");
        assert_string_equal(env[2], "container=rkt");
        for (size_t i = 0; i < n; i++)
                free(env[i]);
        free(env);
}

static void test_env_file(void **state)
{
        (void)state;
        rk_error e = RK_ERROR_INIT;
        struct rk_name_values l = {0};
        const char *ok = "# comment\n; also\n\nA=1\r\nB=two words\nA=3\nC=\nD=x=y";
        assert_int_equal(rk_env_file_parse("f", ok, strlen(ok), &l, &e), 0);
        assert_int_equal(l.n, 4);
        assert_string_equal(rk_name_values_get(&l, "A"), "3");
        assert_string_equal(rk_name_values_get(&l, "B"), "two words");
        assert_string_equal(rk_name_values_get(&l, "C"), "");
        assert_string_equal(rk_name_values_get(&l, "D"), "x=y");
        rk_name_values_clear(&l);
        const char *bad = "A=1\nnot an assignment\n";
        assert_int_equal(rk_env_file_parse("f", bad, strlen(bad), &l, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "line 2"));
        rk_name_values_clear(&l);
        assert_int_equal(rk_env_file_parse("f", "1A=x", 4, &l, &e), -EINVAL);
        rk_name_values_clear(&l);
        assert_int_equal(rk_env_file_parse("f", "A=\0x", 4, &l, &e), -EINVAL);
        rk_name_values_clear(&l);
        assert_int_equal(rk_env_set_opt(&l, "=x", "--set-env", &e), -EINVAL);
        assert_int_equal(rk_env_set_opt(&l, "X", "--set-env", &e), -EINVAL);
        rk_name_values_clear(&l);
}

/* ---- users, groups, exec search in a fake tree ---- */

static void test_user_group_resolution(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        uint32_t id = 0;
        put_file(f, "etc/passwd",
                 "root:x:0:0:root:/root:/bin/sh\nweb:x:1000:1000::/:/bin/sh\n"
                 "12:x:77:77::/:/bin/sh\nbroken:x:notanumber:0::/:/bin/sh\n",
                 0644);
        put_file(f, "etc/group", "root:x:0:\nstaff:x:50:web\n", 0644);
        put_file(f, "usr/bin/ping", "", 0755);
        char ping[256];
        snprintf(ping, sizeof(ping), "%s/usr/bin/ping", f->root);
        assert_int_equal(chown(ping, 123, 456), 0);

        assert_int_equal(rk_resolve_user(f->rootfd, "web", &id, &e), 0);
        assert_int_equal(id, 1000);
        assert_int_equal(rk_resolve_user(f->rootfd, "root", &id, &e), 0);
        assert_int_equal(id, 0);
        assert_int_equal(rk_resolve_user(f->rootfd, "4242", &id, &e), 0);
        assert_int_equal(id, 4242);
        /* a name that looks like a number is a name first (appc 3.1) */
        assert_int_equal(rk_resolve_user(f->rootfd, "12", &id, &e), 0);
        assert_int_equal(id, 77);
        assert_int_equal(rk_resolve_user(f->rootfd, "/usr/bin/ping", &id, &e), 0);
        assert_int_equal(id, 123);
        assert_int_equal(rk_resolve_group(f->rootfd, "/usr/bin/ping", &id, &e), 0);
        assert_int_equal(id, 456);
        assert_int_equal(rk_resolve_group(f->rootfd, "staff", &id, &e), 0);
        assert_int_equal(id, 50);
        assert_int_equal(rk_resolve_user(f->rootfd, "nobody", &id, &e), -ENOENT);
        assert_non_null(strstr(e.msg, "/etc/passwd"));
        assert_int_equal(rk_resolve_group(f->rootfd, "wheel", &id, &e), -ENOENT);
        assert_int_equal(rk_resolve_user(f->rootfd, "broken", &id, &e), -EBADMSG);
        assert_int_equal(rk_resolve_user(f->rootfd, "4294967295", &id, &e), -ENOENT);
        assert_int_equal(rk_resolve_user(f->rootfd, "/no/such", &id, &e), -ENOENT);

        /* a FIFO as /etc/passwd must not hang the lookup */
        snprintf(ping, sizeof(ping), "%s/etc/group", f->root);
        assert_int_equal(unlink(ping), 0);
        assert_int_equal(mkfifo(ping, 0644), 0);
        assert_int_equal(rk_resolve_group(f->rootfd, "staff", &id, &e), -ENOENT);
        assert_int_equal(rk_resolve_group(f->rootfd, "50", &id, &e), 0);

        /* /etc/passwd a symlink out of the image: read inside it, never the host's */
        char path[256];
        snprintf(path, sizeof(path), "%s/etc/passwd", f->root);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(symlink("../../../../../../etc/passwd", path), 0);
        assert_int_equal(rk_resolve_user(f->rootfd, "root", &id, &e), -ENOENT);
        assert_int_equal(rk_resolve_user(f->rootfd, "0", &id, &e), 0);
}

static void test_exec_search(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        char *p = NULL;
        put_file(f, "usr/bin/tool", "#!/bin/sh\n", 0755);
        put_file(f, "bin/tool", "not executable", 0644);
        put_file(f, "bin/only-here", "x", 0644);
        put_file(f, "sbin/x/.keep", "", 0644);
        char path[256];
        snprintf(path, sizeof(path), "%s/bin/linked", f->root);
        assert_int_equal(symlink("../usr/bin/tool", path), 0);
        snprintf(path, sizeof(path), "%s/bin/escape", f->root);
        assert_int_equal(symlink("../../../../../../../bin/sh", path), 0);

        /* /bin/tool is not executable: keep looking, like execvp */
        assert_int_equal(rk_find_exec(f->rootfd, "/bin:/usr/bin", "/", "tool", &p, &e), 0);
        assert_string_equal(p, "/usr/bin/tool");
        free(p);
        assert_int_equal(rk_find_exec(f->rootfd, NULL, "/", "tool", &p, &e), 0);
        assert_string_equal(p, "/usr/bin/tool");
        free(p);
        assert_int_equal(rk_find_exec(f->rootfd, "/bin", "/", "linked", &p, &e), 0);
        assert_string_equal(p, "/bin/linked");
        free(p);
        assert_int_equal(rk_find_exec(f->rootfd, "/bin", "/", "only-here", &p, &e), -EACCES);
        assert_int_equal(rk_find_exec(f->rootfd, "/sbin", "/", "x", &p, &e), -EACCES);
        assert_int_equal(rk_find_exec(f->rootfd, "/bin:/usr/bin", "/", "missing", &p, &e), -ENOENT);
        assert_non_null(strstr(e.msg, "not found"));
        /* relative and empty entries would depend on the working directory: skipped */
        assert_int_equal(rk_find_exec(f->rootfd, "usr/bin::.", "/usr/bin", "tool", &p, &e),
                         -ENOENT);
        /* a symlink cannot reach the host's /bin/sh */
        if (access("/bin/sh", X_OK) == 0)
                assert_int_equal(rk_find_exec(f->rootfd, "/bin", "/", "escape", &p, &e), -ENOENT);
        /* absolute: as is; with a slash: from the working directory */
        assert_int_equal(rk_find_exec(f->rootfd, "/bin", "/", "/opt/x", &p, &e), 0);
        assert_string_equal(p, "/opt/x");
        free(p);
        assert_int_equal(rk_find_exec(f->rootfd, "/bin", "/srv/", "./run", &p, &e), 0);
        assert_string_equal(p, "/srv/run");
        free(p);
        assert_int_equal(rk_find_exec(f->rootfd, "/bin", "/", "//opt//./x/", &p, &e), 0);
        assert_string_equal(p, "/opt/x");
        free(p);
        /* ".." would mean different things before and after symlinks: refused */
        assert_int_equal(rk_find_exec(f->rootfd, "/bin", "/srv", "../etc/x", &p, &e), -EINVAL);
}

/* ---- a whole prepare: manifest and plan.json ---- */

static const char IMAGE_MANIFEST[] =
    "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"example.com/web\","
    "\"labels\":[{\"name\":\"os\",\"value\":\"linux\"}],"
    "\"app\":{\"exec\":[\"tool\",\"--flag\"],\"user\":\"web\",\"group\":\"staff\","
    "\"environment\":[{\"name\":\"FOO\",\"value\":\"image\"},{\"name\":\"BAR\",\"value\":"
    "\"image\"}],"
    "\"eventHandlers\":[{\"name\":\"pre-start\",\"exec\":[\"tool\",\"pre\"]}],"
    "\"mountPoints\":[{\"name\":\"data\",\"path\":\"/data\",\"readOnly\":true},"
    "{\"name\":\"cache\",\"path\":\"/cache\"},{\"name\":\"host\",\"path\":\"/host\"}]}}";

static void import_image(struct rk_store *s, char id[RK_IMAGE_ID_LEN + 1])
{
        const struct tent t[] = {
            {'f', "manifest", IMAGE_MANIFEST},
            {'d', "rootfs"},
            {'d', "rootfs/etc"},
            {'f', "rootfs/etc/passwd", "web:x:1000:1000::/:/bin/sh\n"},
            {'f', "rootfs/etc/group", "staff:x:50:\n"},
            {'d', "rootfs/usr"},
            {'d', "rootfs/usr/bin"},
            {'f', "rootfs/usr/bin/tool", "#!/bin/sh\n", 0755},
        };
        rk_error e = RK_ERROR_INIT;
        struct rk_image_info info = {0};
        int fd = tar_make(t, N(t), ARCHIVE_FILTER_NONE);
        if (rk_store_import(s, fd, NULL, 0, &INSECURE, &info, &e) < 0)
                fail_msg("import: %s", e.msg);
        close(fd);
        strcpy(id, info.id);
        rk_image_info_clear(&info);
}

static json_t *read_json(const char *dir, const char *state, const char *uuid, const char *name)
{
        char path[512];
        json_t *v = NULL;
        snprintf(path, sizeof(path), "%s/pods/%s/%s/%s", dir, state, uuid, name);
        char *buf = NULL;
        size_t len = 0;
        assert_int_equal(rk_read_file_at(AT_FDCWD, path, 1 << 20, &buf, &len, NULL), 0);
        assert_int_equal(rk_json_parse(name, buf, len, 1 << 20, &v, NULL), 0);
        free(buf);
        return v;
}

static const char *jstr(json_t *o, const char *k)
{
        const char *s = json_string_value(json_object_get(o, k));
        assert_non_null(s);
        return s;
}

static void check_plan(const struct fx *f, const char *uuid, const char *image_id, json_t *plan)
{
        assert_int_equal(json_integer_value(json_object_get(plan, "version")), 1);
        assert_string_equal(jstr(plan, "uuid"), uuid);
        assert_string_equal(jstr(plan, "hostname"), "pod-host");
        assert_string_equal(jstr(plan, "net"), "host");
        json_t *app = json_array_get(json_object_get(plan, "apps"), 0);
        assert_string_equal(jstr(app, "name"), "web");
        assert_string_equal(jstr(app, "image"), image_id);
        const char *tree = jstr(app, "tree");
        assert_true(tree[0] == '/' && strstr(tree, "/cas/tree/deps-sha512-") &&
                    access(tree, F_OK) == 0);
        json_t *exec = json_object_get(app, "exec");
        assert_string_equal(json_string_value(json_array_get(exec, 0)), "/usr/bin/tool");
        assert_string_equal(json_string_value(json_array_get(exec, 1)), "--flag");
        assert_string_equal(json_string_value(json_array_get(exec, 2)), "arg");
        assert_int_equal(json_integer_value(json_object_get(app, "uid")), 1000);
        assert_int_equal(json_integer_value(json_object_get(app, "gid")), 50);
        assert_string_equal(jstr(app, "workingDirectory"), "/");
        json_t *pre = json_array_get(json_object_get(app, "preStart"), 0);
        assert_string_equal(json_string_value(json_array_get(pre, 0)), "/usr/bin/tool");
        /* image < --set-env < --environment; then the executor's */
        json_t *env = json_object_get(app, "env");
        static const char *const want[] = {"PATH=" RK_APP_PATH, "FOO=app",         "BAR=image",
                                           "BAZ=set",           "AC_APP_NAME=web", "container=rkt"};
        assert_int_equal(json_array_size(env), N(want));
        for (size_t i = 0; i < N(want); i++)
                assert_string_equal(json_string_value(json_array_get(env, i)), want[i]);
        json_t *mounts = json_object_get(app, "mounts");
        assert_int_equal(json_array_size(mounts), 3);
        /* sorted by target: /cache, /data, /host */
        json_t *cache = json_array_get(mounts, 0), *data = json_array_get(mounts, 1),
               *host = json_array_get(mounts, 2);
        assert_string_equal(jstr(cache, "target"), "/cache");
        assert_string_equal(jstr(cache, "kind"), "empty");
        assert_false(json_is_true(json_object_get(cache, "readOnly")));
        char want_src[512];
        snprintf(want_src, sizeof(want_src), "%s/pods/run/%s/volumes/cache", f->dir, uuid);
        assert_string_equal(jstr(cache, "source"), want_src);
        /* the mountPoint is read-only, the volume is not: read-only */
        assert_string_equal(jstr(data, "target"), "/data");
        assert_true(json_is_true(json_object_get(data, "readOnly")));
        assert_string_equal(jstr(host, "kind"), "host");
        assert_true(json_is_true(json_object_get(host, "recursive")));
        /* the empty volume exists with the requested mode and owner */
        struct stat st;
        char vol[512];
        snprintf(vol, sizeof(vol), "%s/pods/prepare/%s/volumes/cache", f->dir, uuid);
        assert_int_equal(stat(vol, &st), 0);
        assert_int_equal(st.st_mode & 07777, 01777);
        assert_int_equal(st.st_uid, 7);
        assert_int_equal(st.st_gid, 8);
}

/* ---- the pod manifest from options ---- */

static struct rk_image_manifest *parse_im(const char *json)
{
        struct rk_image_manifest *m = NULL;
        rk_error e = RK_ERROR_INIT;
        if (rk_image_manifest_parse("t", json, strlen(json), &m, &e) < 0)
                fail_msg("manifest: %s", e.msg);
        return m;
}

static void test_manifest_build(void **state)
{
        (void)state;
        rk_error e = RK_ERROR_INIT;
        const char *id = "sha512-"
                         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        struct rk_image_manifest *web = parse_im(IMAGE_MANIFEST);
        struct rk_image_manifest *bare =
            parse_im("{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\","
                     "\"name\":\"example.com/bare_image\"}");
        struct rk_pod_image imgs[3] = {{id, web}, {id, web}, {id, bare}};
        struct rk_pod_opts o = {0};
        o.apps = calloc(3, sizeof(*o.apps));
        o.n_apps = 3;
        o.apps[1].exec = strdup("/bin/other");
        o.apps[1].args = calloc(1, sizeof(char *));
        o.apps[1].args[0] = strdup("x");
        o.apps[1].n_args = 1;
        o.apps[1].working_dir = strdup("/srv");
        struct rk_pod_manifest *m = NULL;
        /* an image without an app needs --exec */
        assert_int_equal(rk_pod_manifest_build(&o, imgs, &m, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "--exec"));
        o.apps[2].exec = strdup("/bin/sh");
        assert_int_equal(rk_pod_manifest_build(&o, imgs, &m, &e), 0);
        assert_int_equal(m->n_apps, 3);
        /* derived names, made unique */
        assert_string_equal(m->apps[0].name, "web");
        assert_string_equal(m->apps[1].name, "web-2");
        assert_string_equal(m->apps[2].name, "bare-image");
        /* --exec replaces the program and keeps the image's arguments; ARGS are appended */
        const struct rk_app *a = m->apps[1].app;
        assert_int_equal(a->n_exec, 3);
        assert_string_equal(a->exec[0], "/bin/other");
        assert_string_equal(a->exec[1], "--flag");
        assert_string_equal(a->exec[2], "x");
        assert_string_equal(a->working_directory, "/srv");
        /* without an app in the image: root */
        assert_string_equal(m->apps[2].app->user, "0");
        /* every mountPoint got an implicit empty volume, once for the pod */
        assert_int_equal(m->n_volumes, 3);
        assert_string_equal(m->volumes[0].kind, "empty");
        assert_int_equal(m->apps[0].n_mounts, 3);
        rk_pod_manifest_free(m);

        /* an explicit duplicate name is refused */
        o.apps[0].name = strdup("same");
        o.apps[1].name = strdup("same");
        assert_true(rk_pod_manifest_build(&o, imgs, &m, &e) < 0);
        assert_non_null(strstr(e.msg, "duplicate"));
        rk_pod_opts_clear(&o);
        rk_image_manifest_free(web);
        rk_image_manifest_free(bare);
}

static void fill_opts(struct fx *f, struct rk_pod_opts *o, const char *hostdir)
{
        rk_error e = RK_ERROR_INIT;
        char arg[512];
        o->apps = calloc(1, sizeof(*o->apps));
        o->n_apps = 1;
        o->apps[0].image = strdup("example.com/web");
        o->apps[0].args = calloc(1, sizeof(char *));
        o->apps[0].args[0] = strdup("arg");
        o->apps[0].n_args = 1;
        assert_int_equal(rk_env_set(&o->apps[0].environment, "FOO", "app", &e), 0);
        assert_int_equal(rk_env_set(&o->set_env, "FOO", "set", &e), 0);
        assert_int_equal(rk_env_set(&o->set_env, "BAZ", "set", &e), 0);
        o->volumes = calloc(2, sizeof(*o->volumes));
        assert_int_equal(
            rk_parse_volume_opt("cache,kind=empty,mode=1777,uid=7,gid=8", &o->volumes[0], &e), 0);
        snprintf(arg, sizeof(arg), "host,kind=host,source=%s", hostdir);
        assert_int_equal(rk_parse_volume_opt(arg, &o->volumes[1], &e), 0);
        o->n_volumes = 2;
        o->hostname = strdup("pod-host");
        o->net = strdup("host");
        (void)f;
}

static void test_prepare_writes_plan(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        struct rk_store *s = NULL;
        char id[RK_IMAGE_ID_LEN + 1], hostdir[256];
        assert_int_equal(rk_store_open(f->dir, &s, &e), 0);
        import_image(s, id);
        snprintf(hostdir, sizeof(hostdir), "%s/hostdir", f->dir);
        assert_int_equal(mkdir(hostdir, 0755), 0);

        struct rk_pod_opts o = {0};
        fill_opts(f, &o, hostdir);
        struct rk_image_manifest *m = NULL;
        assert_int_equal(rk_store_manifest(s, id, NULL, NULL, &m, &e), 0);
        struct rk_pod_image img = {id, m};
        struct rk_pod *pod = NULL;
        int status = -1;
        assert_int_equal(rk_pod_create(f->pods, &pod, &e), 0);
        if (rk_pod_prepare(pod, s, &o, &img, &status, &e) < 0)
                fail_msg("prepare: %s", e.msg);
        assert_int_equal(status, 0);

        json_t *plan = read_json(f->dir, "prepare", pod->uuid, "plan.json");
        check_plan(f, pod->uuid, id, plan);
        json_decref(plan);
        json_t *man = read_json(f->dir, "prepare", pod->uuid, "pod");
        json_t *app = json_array_get(json_object_get(man, "apps"), 0);
        assert_string_equal(jstr(json_object_get(app, "image"), "id"), id);
        assert_int_equal(json_array_size(json_object_get(app, "mounts")), 3);
        json_decref(man);

        /* the tree is in use while the pod exists */
        struct rk_tree_info *t = NULL;
        size_t nt = 0;
        assert_int_equal(rk_store_trees(s, id, &t, &nt, &e), 0);
        assert_int_equal(nt, 1);
        assert_true(rk_pods_tree_in_use(f->pods, t[0].id));
        assert_false(rk_pods_tree_in_use(f->pods, "deps-sha512-00"));

        /* run-prepared's runtime options rewrite the plan */
        assert_int_equal(rk_pod_transition(pod, RK_POD_PREPARED, &e), 0);
        assert_int_equal(rk_pod_plan_update(pod, "none", "other", false, &e), 0);
        assert_int_equal(rk_pod_plan_update(pod, "bridge", NULL, false, &e), -EINVAL);
        assert_int_equal(rk_pod_plan_update(pod, NULL, "bad_host!", false, &e), -EINVAL);
        plan = read_json(f->dir, "prepared", pod->uuid, "plan.json");
        assert_string_equal(jstr(plan, "net"), "none");
        assert_string_equal(jstr(plan, "hostname"), "other");
        json_decref(plan);

        assert_int_equal(rk_pod_remove(pod, NULL, NULL, &e), 0);
        assert_false(rk_pods_tree_in_use(f->pods, t[0].id));
        rk_tree_infos_free(t, nt);
        rk_pod_close(pod);
        rk_image_manifest_free(m);
        rk_pod_opts_clear(&o);
        rk_store_close(s);
}

/* Failures of a prepare: a symlinked host source, a missing program (127), an unknown user,
 * an undefined volume. */
static void test_prepare_refusals(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        struct rk_store *s = NULL;
        char id[RK_IMAGE_ID_LEN + 1], hostdir[256], link[256];
        assert_int_equal(rk_store_open(f->dir, &s, &e), 0);
        import_image(s, id);
        snprintf(hostdir, sizeof(hostdir), "%s/hostdir", f->dir);
        snprintf(link, sizeof(link), "%s/hostlink", f->dir);
        assert_int_equal(mkdir(hostdir, 0755), 0);
        assert_int_equal(symlink("hostdir", link), 0);
        struct rk_image_manifest *m = NULL;
        assert_int_equal(rk_store_manifest(s, id, NULL, NULL, &m, &e), 0);
        struct rk_pod_image img = {id, m};

        for (int k = 0; k < 5; k++) {
                struct rk_pod_opts o = {0};
                fill_opts(f, &o, k == 0 ? link : hostdir);
                if (k == 1)
                        o.apps[0].exec = strdup("no-such-program");
                if (k == 2)
                        o.apps[0].user = strdup("nobody");
                if (k == 3) {
                        o.apps[0].mounts = calloc(1, sizeof(*o.apps[0].mounts));
                        o.apps[0].n_mounts = 1;
                        assert_int_equal(
                            rk_parse_mount_opt("volume=nope,target=/x", &o.apps[0].mounts[0], &e),
                            0);
                }
                if (k == 4) { /* the runtime's own mounts are not volume targets */
                        o.apps[0].mounts = calloc(1, sizeof(*o.apps[0].mounts));
                        o.apps[0].n_mounts = 1;
                        assert_int_equal(rk_parse_mount_opt("volume=cache,target=/proc/x",
                                                            &o.apps[0].mounts[0], &e),
                                         0);
                }
                struct rk_pod *pod = NULL;
                int status = 0;
                assert_int_equal(rk_pod_create(f->pods, &pod, &e), 0);
                int r = rk_pod_prepare(pod, s, &o, &img, &status, &e);
                static const int want[] = {-ELOOP, -ENOENT, -ENOENT, -EINVAL, -EINVAL};
                if (r != want[k])
                        fail_msg("case %d: %d %s", k, r, e.msg);
                assert_int_equal(status, k == 1 ? 127 : 0);
                assert_false(exists_at(f, "pods/prepare/%s/plan.json", pod->uuid));
                assert_int_equal(rk_pod_remove(pod, NULL, NULL, &e), 0);
                rk_pod_close(pod);
                rk_pod_opts_clear(&o);
        }
        rk_image_manifest_free(m);
        rk_store_close(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_create_and_transitions, setup, teardown),
            cmocka_unit_test_setup_teardown(test_no_replace, setup, teardown),
            cmocka_unit_test_setup_teardown(test_lock_held_by_other_process, setup, teardown),
            cmocka_unit_test_setup_teardown(test_gc_grace_and_expiry, setup, teardown),
            cmocka_unit_test_setup_teardown(test_gc_embryo, setup, teardown),
            cmocka_unit_test_setup_teardown(test_uuid_prefixes, setup, teardown),
            cmocka_unit_test_setup_teardown(test_remove_detaches_mounts, setup, teardown),
            cmocka_unit_test_setup_teardown(test_volume_and_mount_options, setup, teardown),
            cmocka_unit_test_setup_teardown(test_host_source_symlinks, setup, teardown),
            cmocka_unit_test_setup_teardown(test_env_precedence, setup, teardown),
            cmocka_unit_test_setup_teardown(test_env_file, setup, teardown),
            cmocka_unit_test_setup_teardown(test_user_group_resolution, setup, teardown),
            cmocka_unit_test_setup_teardown(test_exec_search, setup, teardown),
            cmocka_unit_test_setup_teardown(test_manifest_build, setup, teardown),
            cmocka_unit_test_setup_teardown(test_prepare_writes_plan, setup, teardown),
            cmocka_unit_test_setup_teardown(test_prepare_refusals, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
