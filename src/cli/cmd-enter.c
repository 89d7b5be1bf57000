/* SPDX-License-Identifier: Apache-2.0 */
/* rkt enter [--app=NAME] UUID [CMD [ARGS...]] and rkt stop [--force] [--timeout=D] UUID...:
 * both check the pod here and leave the work to rkt-stage1's entrypoints of the same names
 * (src/stage1/PLAN.md), then write an audit record with the outcome. */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "audit/audit.h"
#include "audit/summary.h"
#include "base/fileio.h"
#include "base/json.h"
#include "base/parse.h"
#include "cli/cli.h"
#include "pod/pod.h"

#define PLAN_MAX           (4u << 20) /* stage1's S1_PLAN_MAX_BYTES */
#define STOP_TIMEOUT_NS    (10LL * 1000000000)
#define STOP_TIMEOUT_MAX_S 3600

void rk_help_enter(void)
{
        printf("Usage: rkt enter [--app=NAME] UUID [--] [CMD [ARGS...]]\n"
               "\n"
               "Run CMD inside a running app of the pod (UUID or a unique prefix) with exactly\n"
               "the app's isolation: its namespaces, root, cgroup, user and groups,\n"
               "capability sets, no_new_privs, Landlock and seccomp filter, working directory\n"
               "and environment. CMD defaults to /bin/bash, or /bin/sh where the app has no\n"
               "bash; a CMD without '/' is searched in the app's PATH. Put '--' before a CMD\n"
               "that has options of its own.\n"
               "\n"
               "  --app=NAME   the app to enter; required when the pod has several\n"
               "\n"
               "Exit status: CMD's; 125 if entering failed, 126/127 if CMD could not be run,\n"
               "1 if the pod is unknown or not running, 2 on a usage error.\n"
               "See rkt-enter(1).\n");
}

void rk_help_stop(void)
{
        printf("Usage: rkt stop [--force] [--timeout=DURATION] UUID...\n"
               "\n"
               "Stop running pods: every process of the pod gets SIGTERM, the apps' post-stop\n"
               "handlers run, and whatever is left after the timeout (default 10s) is killed.\n"
               "Prints each stopped UUID; exit status 1 if any pod was not running or could\n"
               "not be stopped.\n"
               "\n"
               "  --force              SIGKILL at once (post-stop handlers do not run)\n"
               "  --timeout=DURATION   how long to wait after SIGTERM (e.g. 500ms, 30s)\n"
               "See rkt-stop(1).\n");
}

/* ---- shared ---- */

static int open_running(const struct rk_global *g, const char *arg, struct rk_pods **pods,
                        struct rk_pod **pod, rk_error *err)
{
        int r = rk_pods_open(g->dir, pods, err);
        if (r >= 0)
                r = rk_pod_open(*pods, arg, pod, err);
        if (r < 0)
                return r;
        if ((*pod)->state != RK_POD_RUN || rk_pod_is_locked(*pod) <= 0)
                return rk_err(err, -ESRCH, "pod %s is not running", (*pod)->uuid);
        return 0;
}

static int pod_dir_arg(const struct rk_pod *pod, char *buf, size_t size, rk_error *err)
{
        char dir[PATH_MAX];
        if (rk_pod_path(pod, dir, sizeof(dir)) < 0 ||
            snprintf(buf, size, "--pod-dir=%s", dir) >= (int)size)
                return rk_err(err, -ENAMETOOLONG, "pod %s: path too long", pod->uuid);
        return 0;
}

static volatile sig_atomic_t child_pid;

static void forward(int sig)
{
        if (child_pid > 0)
                (void)kill(child_pid, sig);
}

/* Runs rkt-stage1 with argv and waits for it. A terminal's SIGINT/SIGQUIT reach it directly
 * (same process group); SIGTERM and SIGHUP sent to rkt are passed on. Returns its exit status
 * (128+N for a signal) or a negative errno. */
static int run_stage1(char **argv, rk_error *err)
{
        char path[PATH_MAX], *env[8];
        _cleanup_close_ int fd = rk_stage1_open(path, sizeof(path), err);
        if (fd < 0)
                return fd;
        rk_stage1_env(env, ELEMENTSOF(env));
        fflush(NULL);
        struct sigaction ign = {.sa_handler = SIG_IGN}, fwd = {.sa_handler = forward}, o[4];
        sigaction(SIGINT, &ign, &o[0]);
        sigaction(SIGQUIT, &ign, &o[1]);
        sigaction(SIGTERM, &fwd, &o[2]);
        sigaction(SIGHUP, &fwd, &o[3]);
        pid_t pid = fork();
        if (pid == 0) {
                signal(SIGINT, SIG_DFL);
                signal(SIGQUIT, SIG_DFL);
                execveat(fd, "", argv, env, AT_EMPTY_PATH);
                _exit(127);
        }
        int st = 0, r = 0;
        if (pid < 0)
                r = rk_err_errno(err, negative_errno(), "cannot start stage1");
        child_pid = pid;
        while (pid > 0 && waitpid(pid, &st, 0) < 0)
                if (errno != EINTR) {
                        r = rk_err_errno(err, negative_errno(), "stage1");
                        break;
                }
        child_pid = 0;
        sigaction(SIGINT, &o[0], NULL);
        sigaction(SIGQUIT, &o[1], NULL);
        sigaction(SIGTERM, &o[2], NULL);
        sigaction(SIGHUP, &o[3], NULL);
        if (r < 0)
                return r;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int audit(const struct rk_global *g, const char *event, json_t *fields, rk_error *err)
{
        struct rk_audit *au = NULL;
        int r = fields ? rk_audit_open(g->dir, &au, err) : rk_err(err, -ENOMEM, "out of memory");
        if (r >= 0)
                r = rk_audit_append(au, event, fields, err);
        rk_audit_close(au);
        return r;
}

/* ---- enter ---- */

/* The app to enter: --app, or the only one. Returns its plan object (borrowed from plan). */
static int pick_app(const struct rk_pod *pod, const json_t *plan, const char *want,
                    const json_t **ret, rk_error *err)
{
        const json_t *apps = json_object_get(plan, "apps");
        char list[1024] = "";
        size_t n = json_array_size(apps);
        for (size_t i = 0; i < n; i++) {
                const char *name =
                    json_string_value(json_object_get(json_array_get(apps, i), "name"));
                if (!name)
                        continue;
                if (want && strcmp(want, name) == 0) {
                        *ret = json_array_get(apps, i);
                        return 0;
                }
                size_t l = strlen(list);
                snprintf(list + l, sizeof(list) - l, "%s%s", l ? ", " : "", name);
        }
        if (!want && n == 1) {
                *ret = json_array_get(apps, 0);
                return 0;
        }
        if (!want)
                return rk_err(err, -EINVAL, "pod %s has several apps (%s): choose one with --app",
                              pod->uuid, list);
        return rk_err(err, -ENOENT, "pod %s has no app '%s' (its apps: %s)", pod->uuid, want, list);
}

static int load_plan(const struct rk_pod *pod, json_t **ret, rk_error *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        char what[80];
        snprintf(what, sizeof(what), "pod %s: plan.json", pod->uuid);
        int r = rk_read_file_at(pod->fd, "plan.json", PLAN_MAX, &buf, &len, err);
        return r < 0 ? rk_err_prefix(err, r, "pod %s", pod->uuid)
                     : rk_json_parse(what, buf, len, PLAN_MAX, ret, err);
}

static int enter_record(const struct rk_global *g, const struct rk_pod *pod, const json_t *app,
                        char **cmd, int status)
{
        rk_error err = RK_ERROR_INIT;
        json_t *argv = json_array();
        for (char **c = cmd; argv && c && *c; c++)
                json_array_append_new(argv, json_string(*c));
        json_t *o = json_pack("{s:s, s:O, s:o, s:o, s:i}", "pod", pod->uuid, "app",
                              json_object_get(app, "name"), "command", argv ? argv : json_null(),
                              "isolators", rk_audit_app_summary(app), "exitStatus", status);
        int r = audit(g, "enter", o, &err);
        json_decref(o);
        if (r < 0)
                fprintf(stderr, "rkt: enter: audit: %s\n", err.msg);
        return r;
}

int rk_cmd_enter(const struct rk_global *g, int argc, char **argv)
{
        static const struct option longopts[] = {
            {"app", required_argument, NULL, 'a'},
            {"help", no_argument, NULL, 'h'},
            {},
        };
        const char *want = NULL;
        int c;
        opterr = 0;
        optind = 1;
        /* "+": stop at the UUID, so that CMD's own options stay CMD's */
        while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) >= 0) {
                if (c == 'a')
                        want = optarg;
                else if (c == 'h') {
                        rk_help_enter();
                        return RK_EXIT_OK;
                } else
                        return rk_bad_option("enter", c, argv[optind - 1]);
        }
        if (want && !*want)
                return rk_usage_error("enter", "--app needs a name");
        if (optind >= argc)
                return rk_usage_error("enter", "expected a pod UUID");
        const char *uuid = argv[optind++];
        if (optind < argc && strcmp(argv[optind], "--") == 0)
                optind++;
        char **cmd = optind < argc ? argv + optind : NULL;

        rk_error err = RK_ERROR_INIT;
        struct rk_pods *pods = NULL;
        struct rk_pod *pod = NULL;
        _cleanup_json_ json_t *plan = NULL;
        const json_t *app = NULL;
        int x = -1, r = open_running(g, uuid, &pods, &pod, &err);
        if (r >= 0)
                r = load_plan(pod, &plan, &err);
        if (r >= 0 && (r = pick_app(pod, plan, want, &app, &err)) < 0 && r == -EINVAL)
                x = rk_usage_error("enter", "%s", err.msg);
        char dir[PATH_MAX + 16], appa[256];
        if (r >= 0)
                r = pod_dir_arg(pod, dir, sizeof(dir), &err);
        if (r >= 0) {
                snprintf(appa, sizeof(appa), "--app=%s",
                         json_string_value(json_object_get(app, "name")));
                size_t n = 0;
                for (char **p = cmd; p && *p; p++)
                        n++;
                _cleanup_free_ char **sv = calloc(n + 8, sizeof(char *));
                if (!sv)
                        r = rk_err(&err, -ENOMEM, "out of memory");
                else {
                        size_t k = 0;
                        sv[k++] = "rkt-stage1";
                        sv[k++] = "enter";
                        sv[k++] = dir;
                        sv[k++] = appa;
                        if (g->debug)
                                sv[k++] = "--debug";
                        sv[k++] = "--";
                        for (size_t i = 0; i < n; i++)
                                sv[k++] = cmd[i];
                        r = run_stage1(sv, &err);
                }
                if (r >= 0) {
                        x = r;
                        /* the record is written even when it fails; its failure is reported,
                         * but the command's status stays the exit status */
                        enter_record(g, pod, app, cmd, r);
                }
        }
        if (x < 0)
                x = rk_fail(&err);
        rk_pod_close(pod);
        rk_pods_close(pods);
        return x;
}

/* ---- stop ---- */

static int stop_one(const struct rk_global *g, const char *arg, bool force, unsigned timeout_s)
{
        rk_error err = RK_ERROR_INIT;
        struct rk_pods *pods = NULL;
        struct rk_pod *pod = NULL;
        char dir[PATH_MAX + 16], to[32];
        int r = open_running(g, arg, &pods, &pod, &err);
        if (r >= 0)
                r = pod_dir_arg(pod, dir, sizeof(dir), &err);
        if (r >= 0) {
                snprintf(to, sizeof(to), "--timeout=%u", timeout_s);
                char *sv[] = {"rkt-stage1", "stop", dir, to, force ? "--force" : NULL, NULL};
                r = run_stage1(sv, &err);
                json_t *o = json_pack("{s:s, s:b, s:i, s:s, s:i}", "pod", pod->uuid, "force", force,
                                      "timeoutSeconds", (int)timeout_s, "result",
                                      r == 0 ? "stopped" : "failed", "stage1Status", r);
                rk_error aerr = RK_ERROR_INIT;
                if (audit(g, "stop", o, &aerr) < 0)
                        fprintf(stderr, "rkt: stop: audit: %s\n", aerr.msg);
                json_decref(o);
                if (r > 0)
                        r = rk_err(&err, -ECANCELED, "pod %s was not stopped (see above)",
                                   pod->uuid);
        }
        if (r >= 0)
                printf("%s\n", pod->uuid);
        else
                fprintf(stderr, "rkt: stop: %s\n", err.msg);
        rk_pod_close(pod);
        rk_pods_close(pods);
        return r;
}

int rk_cmd_stop(const struct rk_global *g, int argc, char **argv)
{
        static const struct option longopts[] = {
            {"force", no_argument, NULL, 'f'},
            {"timeout", required_argument, NULL, 't'},
            {"help", no_argument, NULL, 'h'},
            {},
        };
        bool force = false;
        int64_t timeout = STOP_TIMEOUT_NS;
        int c;
        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) >= 0) {
                if (c == 'f')
                        force = true;
                else if (c == 't') {
                        if (rk_parse_duration(optarg, &timeout) < 0 ||
                            timeout > (int64_t)STOP_TIMEOUT_MAX_S * 1000000000)
                                return rk_usage_error("stop",
                                                      "--timeout: '%s' is not a duration up to "
                                                      "1h (e.g. 500ms, 30s)",
                                                      optarg);
                } else if (c == 'h') {
                        rk_help_stop();
                        return RK_EXIT_OK;
                } else
                        return rk_bad_option("stop", c, argv[optind - 1]);
        }
        if (optind >= argc)
                return rk_usage_error("stop", "expected at least one pod UUID");
        /* whole seconds, rounded up: a short timeout still gives the pod a moment */
        unsigned secs = (unsigned)((timeout + 999999999) / 1000000000);
        int x = RK_EXIT_OK;
        for (int i = optind; i < argc; i++)
                if (stop_one(g, argv[i], force, secs) < 0)
                        x = RK_EXIT_FAILURE;
        return x;
}
