/* SPDX-License-Identifier: Apache-2.0 */
/* rkt list | status | cat-manifest | rm | gc: pods under --dir. UUID arguments take any unique
 * prefix; status, cat-manifest and rm also take --uuid-file=FILE (as written by
 * run --uuid-file-save). */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/time.h>
#include <time.h>

#include "base/fileio.h"
#include "base/json.h"
#include "base/log.h"
#include "base/parse.h"
#include "cli/cli.h"
#include "pod/pod.h"
#include "store/store.h"

#define WAIT_POLL_NS 100000000LL /* while a pod is not yet running */

void rk_help_list(void)
{
        printf("Usage: rkt list [--no-legend] [--full]\n"
               "\n"
               "List the pods, one line per app: UUID, APP, IMAGE NAME, STATE, CREATED,\n"
               "STARTED. States: embryo, preparing, aborted prepare, prepared, running,\n"
               "exited, exited garbage, garbage (and deleting while removed).\n"
               "--format=json prints an array of objects.\n"
               "\n"
               "  --no-legend   no header line\n"
               "  --full        full UUIDs and absolute times\n"
               "See rkt-pods(1).\n");
}

void rk_help_status(void)
{
        printf("Usage: rkt status [--wait[=DURATION]] [--uuid-file=FILE] UUID\n"
               "\n"
               "Print a pod's state as key=value lines: state=, created=, started=, pid=,\n"
               "exited=, and app-NAME=EXIT_STATUS for each app that finished.\n"
               "--format=json prints one object.\n"
               "\n"
               "  --wait[=DURATION]   wait until the pod has exited (at most DURATION, e.g.\n"
               "                      10s, 1m30s); exit status 1 on timeout\n"
               "  --uuid-file=FILE    read the UUID from FILE\n"
               "See rkt-pods(1).\n");
}

void rk_help_cat_manifest(void)
{
        printf("Usage: rkt cat-manifest [--uuid-file=FILE] UUID\n"
               "\n"
               "Print the pod manifest (indented; compact with --format=json).\n"
               "See rkt-pods(1).\n");
}

void rk_help_rm(void)
{
        printf("Usage: rkt rm [--uuid-file=FILE] UUID...\n"
               "\n"
               "Remove pods that are not running (prepared, exited, or left by an aborted\n"
               "command) now: stage1's cleanup, every mount left below the pod, its files.\n"
               "Prints each removed UUID; exit status 1 if any pod could not be removed.\n"
               "See rkt-pods(1).\n");
}

void rk_help_gc(void)
{
        printf("Usage: rkt gc [--grace-period=DURATION] [--expire-prepared=DURATION] "
               "[--mark-only]\n"
               "\n"
               "Collect pods: exited pods and those left by killed commands are marked, and\n"
               "removed once marked longer than the grace period (default 30m; 0s removes\n"
               "them now); prepared pods older than --expire-prepared (default 24h) are\n"
               "discarded. Then image trees unused for the grace period that no remaining pod\n"
               "references are removed from the store.\n"
               "\n"
               "  --mark-only   mark, remove nothing\n"
               "See rkt-pods(1).\n");
}

/* ---- helpers ---- */

/* Go-style durations as rkt took them: "0", or numbers with units ns us ms s m h ("1h30m"). */
static int64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static const char *time_str(int64_t ns, char out[40])
{
        struct timespec ts = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
        rk_timestamp_format(&ts, out);
        return out;
}

/* "3 minutes ago", or with full the absolute time; "-" for none. */
static void ago(int64_t ns, bool full, char out[64])
{
        static const struct {
                int64_t secs;
                const char *unit;
        } u[] = {{86400, "day"}, {3600, "hour"}, {60, "minute"}, {1, "second"}};
        int64_t s = (now_ns() - ns) / 1000000000;
        snprintf(out, 64, "%s", !ns ? "-" : "just now");
        if (ns && full)
                time_str(ns, out);
        for (size_t i = 0; ns && !full && i < ELEMENTSOF(u); i++)
                if (s >= u[i].secs) {
                        int64_t n = s / u[i].secs;
                        snprintf(out, 64, "%lld %s%s ago", (long long)n, u[i].unit,
                                 n == 1 ? "" : "s");
                        break;
                }
}

static int print_json(const struct rk_global *g, const json_t *v)
{
        _cleanup_free_ char *s = NULL;
        size_t len = 0;
        rk_error err = RK_ERROR_INIT;
        int r = g->format == RK_FORMAT_JSON_PRETTY ? rk_json_dump_pretty(v, &s, &len, &err)
                                                   : rk_json_dump(v, &s, &len, &err);
        if (r < 0)
                return rk_fail(&err);
        fputs(s, stdout);
        if (len == 0 || s[len - 1] != '\n')
                putchar('\n');
        return RK_EXIT_OK;
}

/* The first line of FILE (written by run --uuid-file-save), trimmed. */
static int read_uuid_file(const char *path, char out[64], rk_error *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = rk_read_file_at(AT_FDCWD, path, 256, &buf, &len, err);
        if (r < 0)
                return rk_err_prefix(err, r, "--uuid-file '%s'", path);
        char *s = buf;
        while (isspace((unsigned char)*s))
                s++;
        size_t n = strcspn(s, " \t\r\n");
        if (n == 0 || n >= 64)
                return rk_err(err, -EINVAL, "--uuid-file '%s': no UUID in it", path);
        memcpy(out, s, n);
        out[n] = 0;
        return 0;
}

/* Flags shared by status, cat-manifest and rm; leaves optind at the first UUID. */
struct pod_flags {
        const char *uuid_file;
        const char *wait; /* "" for a bare --wait */
        bool has_wait;
};

static int parse_pod_flags(const char *verb, int argc, char **argv, bool wait_ok,
                           struct pod_flags *f, void (*help)(void))
{
        static const struct option longopts[] = {
            {"uuid-file", required_argument, NULL, 'u'},
            {"wait", optional_argument, NULL, 'w'},
            {"help", no_argument, NULL, 'h'},
            {},
        };
        int c;
        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) >= 0) {
                switch (c) {
                case 'u':
                        f->uuid_file = optarg;
                        break;
                case 'w':
                        if (!wait_ok)
                                return rk_usage_error(verb, "unknown option '--wait'");
                        f->has_wait = true;
                        f->wait = optarg ? optarg : "";
                        break;
                case 'h':
                        help();
                        return RK_EXIT_OK;
                default:
                        return rk_bad_option(verb, c, argv[optind - 1]);
                }
        }
        return -1;
}

/* The pod named by --uuid-file or the single UUID argument. */
static int open_pod_arg(const struct rk_global *g, const char *verb, int argc, char **argv,
                        const struct pod_flags *f, struct rk_pods **pods, struct rk_pod **pod)
{
        char buf[64];
        const char *arg = NULL;
        rk_error err = RK_ERROR_INIT;
        if (f->uuid_file && optind < argc)
                return rk_usage_error(verb, "give a UUID or --uuid-file, not both");
        if (!f->uuid_file && optind + 1 != argc)
                return rk_usage_error(verb, "expected one pod UUID");
        if (f->uuid_file && read_uuid_file(f->uuid_file, buf, &err) < 0)
                return rk_fail(&err);
        arg = f->uuid_file ? buf : argv[optind];
        if (rk_pods_open(g->dir, pods, &err) < 0 || rk_pod_open(*pods, arg, pod, &err) < 0)
                return rk_fail(&err);
        return -1;
}

/* ---- list and status ---- */

static json_t *status_json(const struct rk_pod_status *s)
{
        json_t *o = json_pack("{s:s, s:s, s:b}", "name", s->uuid, "state", s->state_name, "exited",
                              s->exited);
        json_t *names = json_array(), *apps = json_array();
        if (!o || !names || !apps) {
                json_decref(o);
                json_decref(names);
                json_decref(apps);
                return NULL;
        }
        for (size_t i = 0; i < s->n_apps; i++) {
                const struct rk_pod_app_status *a = &s->apps[i];
                json_t *ao = json_pack("{s:s}", "name", a->name);
                json_array_append_new(names, json_string(a->name));
                if (!ao)
                        continue;
                if (a->image_name)
                        json_object_set_new(ao, "image_name", json_string(a->image_name));
                if (a->image_id)
                        json_object_set_new(ao, "image_id", json_string(a->image_id));
                if (a->started_ns)
                        json_object_set_new(ao, "started_at",
                                            json_integer(a->started_ns / 1000000000));
                if (a->finished_ns)
                        json_object_set_new(ao, "finished_at",
                                            json_integer(a->finished_ns / 1000000000));
                if (a->has_exit_code)
                        json_object_set_new(ao, "exit_code", json_integer(a->exit_code));
                json_array_append_new(apps, ao);
        }
        json_object_set_new(o, "app_names", names);
        json_object_set_new(o, "apps", apps);
        if (s->created_ns)
                json_object_set_new(o, "created_at", json_integer(s->created_ns / 1000000000));
        if (s->started_ns)
                json_object_set_new(o, "started_at", json_integer(s->started_ns / 1000000000));
        if (s->pid)
                json_object_set_new(o, "pid", json_integer(s->pid));
        if (s->ip[0])
                json_object_set_new(o, "networks",
                                    json_pack("[{s:s, s:s, s:s}]", "netName", s->net, "ifName",
                                              "eth0", "ip", s->ip));
        return o;
}

struct row {
        char uuid[RK_UUID_STRING_MAX];
        const char *app, *image, *state;
        char created[64], started[64], networks[48];
};

static void print_rows(const struct row *rows, size_t n, bool legend)
{
        static const char *const head[] = {"UUID",    "APP",     "IMAGE NAME", "STATE",
                                           "CREATED", "STARTED", "NETWORKS"};
        int w[7];
        for (size_t k = 0; k < 7; k++)
                w[k] = legend ? (int)strlen(head[k]) : 0;
        for (size_t i = 0; i < n; i++) {
                const char *c[] = {rows[i].uuid,    rows[i].app,     rows[i].image,   rows[i].state,
                                   rows[i].created, rows[i].started, rows[i].networks};
                for (size_t k = 0; k < 7; k++)
                        if ((int)strlen(c[k]) > w[k])
                                w[k] = (int)strlen(c[k]);
        }
        if (legend)
                printf("%-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %s\n", w[0], head[0], w[1], head[1],
                       w[2], head[2], w[3], head[3], w[4], head[4], w[5], head[5], head[6]);
        for (size_t i = 0; i < n; i++)
                printf("%-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %s\n", w[0], rows[i].uuid, w[1],
                       rows[i].app, w[2], rows[i].image, w[3], rows[i].state, w[4], rows[i].created,
                       w[5], rows[i].started, rows[i].networks);
}

static int list_table(const struct rk_pod_status *v, size_t n, bool full, bool legend)
{
        size_t nrows = 0;
        for (size_t i = 0; i < n; i++)
                nrows += v[i].n_apps ? v[i].n_apps : 1;
        _cleanup_free_ struct row *rows = calloc(nrows + 1, sizeof(*rows));
        if (!rows)
                return rk_fail(&(rk_error){-ENOMEM, "out of memory"});
        size_t r = 0;
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < (v[i].n_apps ? v[i].n_apps : 1); k++, r++) {
                        const struct rk_pod_app_status *a = v[i].n_apps ? &v[i].apps[k] : NULL;
                        snprintf(rows[r].uuid, sizeof(rows[r].uuid), "%.*s", full ? 36 : 8,
                                 v[i].uuid);
                        rows[r].app = a ? a->name : "-";
                        rows[r].image = a && a->image_name ? a->image_name : "-";
                        rows[r].state = v[i].state_name;
                        ago(v[i].created_ns, full, rows[r].created);
                        ago(v[i].started_ns, full, rows[r].started);
                        if (v[i].ip[0])
                                snprintf(rows[r].networks, sizeof(rows[r].networks), "%s:ip4=%s",
                                         v[i].net, v[i].ip);
                        else
                                snprintf(rows[r].networks, sizeof(rows[r].networks), "-");
                }
        print_rows(rows, nrows, legend);
        return RK_EXIT_OK;
}

int rk_cmd_list(const struct rk_global *g, int argc, char **argv)
{
        static const struct option longopts[] = {
            {"no-legend", no_argument, NULL, 'n'},
            {"full", no_argument, NULL, 'f'},
            {"help", no_argument, NULL, 'h'},
            {},
        };
        bool legend = true, full = false;
        int c;
        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) >= 0) {
                if (c == 'n')
                        legend = false;
                else if (c == 'f')
                        full = true;
                else if (c == 'h') {
                        rk_help_list();
                        return RK_EXIT_OK;
                } else
                        return rk_bad_option("list", c, argv[optind - 1]);
        }
        if (optind < argc)
                return rk_usage_error("list", "unexpected argument '%s'", argv[optind]);
        rk_error err = RK_ERROR_INIT;
        struct rk_pods *pods = NULL;
        struct rk_pod_status *v = NULL;
        size_t n = 0;
        if (rk_pods_open(g->dir, &pods, &err) < 0 || rk_pods_list(pods, &v, &n, &err) < 0) {
                rk_pods_close(pods);
                return rk_fail(&err);
        }
        int x;
        if (g->format == RK_FORMAT_TABLE)
                x = list_table(v, n, full, legend);
        else {
                _cleanup_json_ json_t *arr = json_array();
                for (size_t i = 0; arr && i < n; i++)
                        json_array_append_new(arr, status_json(&v[i]));
                x = print_json(g, arr);
        }
        rk_pod_statuses_free(v, n);
        rk_pods_close(pods);
        return x;
}

static void print_status(const struct rk_pod_status *s)
{
        char t[40];
        printf("state=%s\n", s->state_name);
        if (s->created_ns)
                printf("created=%s\n", time_str(s->created_ns, t));
        if (s->started_ns)
                printf("started=%s\n", time_str(s->started_ns, t));
        if (s->pid)
                printf("pid=%d\n", (int)s->pid);
        printf("exited=%s\n", s->exited ? "true" : "false");
        if (s->ip[0])
                printf("networks=%s:ip4=%s\n", s->net, s->ip);
        for (size_t i = 0; i < s->n_apps; i++)
                if (s->apps[i].has_exit_code)
                        printf("app-%s=%d\n", s->apps[i].name, s->apps[i].exit_code);
}

static void on_alarm(int sig)
{
        (void)sig;
}

/* Until the pod has left prepare/ and prepared/, then until its lock is free (the pod has
 * exited). timeout_ns < 0: no limit. -ETIMEDOUT when the limit passes. */
static int wait_exit(struct rk_pod *pod, int64_t timeout_ns, rk_error *err)
{
        int64_t deadline = timeout_ns < 0 ? -1 : now_ns() + timeout_ns;
        int r;
        while ((r = rk_pod_refresh(pod, err)) >= 0 &&
               (pod->state == RK_POD_EMBRYO || pod->state == RK_POD_PREPARED ||
                (pod->state == RK_POD_PREPARE && rk_pod_is_locked(pod) > 0))) {
                if (deadline >= 0 && now_ns() >= deadline)
                        return rk_err(err, -ETIMEDOUT, "pod %s: timed out waiting for it to run",
                                      pod->uuid);
                nanosleep(&(struct timespec){0, WAIT_POLL_NS}, NULL);
        }
        if (r < 0 || pod->state != RK_POD_RUN)
                return r;
        /* stage1 holds the lock exclusively while the pod lives: a shared lock waits for it */
        struct sigaction sa = {.sa_handler = on_alarm}, old;
        sigaction(SIGALRM, &sa, &old); /* no SA_RESTART: the timer interrupts flock */
        if (deadline >= 0) {
                int64_t left = deadline - now_ns();
                if (left < 1000)
                        left = 1000;
                struct itimerval it = {.it_value = {left / 1000000000, (left % 1000000000) / 1000}};
                setitimer(ITIMER_REAL, &it, NULL);
        }
        r = rk_pod_lock(pod, LOCK_SH, err);
        setitimer(ITIMER_REAL, &(struct itimerval){0}, NULL);
        sigaction(SIGALRM, &old, NULL);
        if (r == -EINTR)
                return rk_err(err, -ETIMEDOUT, "pod %s: timed out waiting for it to exit",
                              pod->uuid);
        if (r >= 0)
                rk_pod_unlock(pod);
        return r;
}

int rk_cmd_status(const struct rk_global *g, int argc, char **argv)
{
        struct pod_flags f = {0};
        int x = parse_pod_flags("status", argc, argv, true, &f, rk_help_status);
        if (x >= 0)
                return x;
        int64_t timeout = -1;
        if (f.has_wait && *f.wait && strcmp(f.wait, "true") && strcmp(f.wait, "false") &&
            rk_parse_duration(f.wait, &timeout) < 0)
                return rk_usage_error("status", "--wait: '%s' is not a duration (e.g. 30s, 5m)",
                                      f.wait);
        bool wait = f.has_wait && strcmp(f.wait, "false") != 0;
        struct rk_pods *pods = NULL;
        struct rk_pod *pod = NULL;
        x = open_pod_arg(g, "status", argc, argv, &f, &pods, &pod);
        rk_error err = RK_ERROR_INIT;
        struct rk_pod_status s = {0};
        if (x < 0 && wait && wait_exit(pod, timeout, &err) < 0)
                x = rk_fail(&err);
        if (x < 0 && rk_pod_status_read(pod, &s, &err) < 0)
                x = rk_fail(&err);
        if (x < 0 && g->format == RK_FORMAT_TABLE) {
                print_status(&s);
                x = RK_EXIT_OK;
        } else if (x < 0) {
                _cleanup_json_ json_t *o = status_json(&s);
                x = print_json(g, o);
        }
        rk_pod_status_clear(&s);
        rk_pod_close(pod);
        rk_pods_close(pods);
        return x;
}

/* ---- cat-manifest ---- */

int rk_cmd_cat_manifest(const struct rk_global *g, int argc, char **argv)
{
        struct pod_flags f = {0};
        int x = parse_pod_flags("cat-manifest", argc, argv, false, &f, rk_help_cat_manifest);
        if (x >= 0)
                return x;
        struct rk_pods *pods = NULL;
        struct rk_pod *pod = NULL;
        x = open_pod_arg(g, "cat-manifest", argc, argv, &f, &pods, &pod);
        rk_error err = RK_ERROR_INIT;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        _cleanup_json_ json_t *doc = NULL;
        if (x < 0) {
                int r = rk_read_file_at(pod->fd, "pod", RK_MANIFEST_MAX, &buf, &len, &err);
                if (r == -ENOENT)
                        rk_err(&err, r, "pod %s has no manifest yet", pod->uuid);
                char what[80];
                snprintf(what, sizeof(what), "pod %s: manifest", pod->uuid);
                if (r >= 0)
                        r = rk_json_parse(what, buf, len, RK_MANIFEST_MAX, &doc, &err);
                if (r < 0)
                        x = rk_fail(&err);
        }
        if (x < 0) {
                struct rk_global pg = *g;
                if (pg.format == RK_FORMAT_TABLE)
                        pg.format = RK_FORMAT_JSON_PRETTY;
                x = print_json(&pg, doc);
        }
        rk_pod_close(pod);
        rk_pods_close(pods);
        return x;
}

/* ---- rm and gc ---- */

static int rm_one(struct rk_pods *pods, const char *arg, void *sg)
{
        rk_error err = RK_ERROR_INIT;
        struct rk_pod *pod = NULL;
        int r = rk_pod_open(pods, arg, &pod, &err);
        if (r >= 0)
                r = rk_pod_remove(pod, rk_stage1_gc, sg, &err);
        if (r >= 0)
                printf("%s\n", pod->uuid);
        else
                fprintf(stderr, "rkt: rm: %s\n", err.msg);
        rk_pod_close(pod);
        return r;
}

int rk_cmd_rm(const struct rk_global *g, int argc, char **argv)
{
        struct pod_flags f = {0};
        int x = parse_pod_flags("rm", argc, argv, false, &f, rk_help_rm);
        if (x >= 0)
                return x;
        if (!f.uuid_file && optind >= argc)
                return rk_usage_error("rm", "expected at least one pod UUID");
        char buf[64];
        rk_error err = RK_ERROR_INIT;
        struct rk_pods *pods = NULL;
        if (f.uuid_file && read_uuid_file(f.uuid_file, buf, &err) < 0)
                return rk_fail(&err);
        if (rk_pods_open(g->dir, &pods, &err) < 0)
                return rk_fail(&err);
        void *sg = rk_stage1_gc_new(g->debug);
        x = RK_EXIT_OK;
        if (f.uuid_file && rm_one(pods, buf, sg) < 0)
                x = RK_EXIT_FAILURE;
        for (int i = optind; i < argc; i++)
                if (rm_one(pods, argv[i], sg) < 0)
                        x = RK_EXIT_FAILURE;
        rk_stage1_gc_free(sg);
        rk_pods_close(pods);
        return x;
}

/* Trees unused for the grace period go, except those a remaining pod references; the prepare
 * lock keeps trees that a prepare has rendered but not yet written into its plan. */
static int gc_trees(const struct rk_global *g, struct rk_pods *pods, int64_t grace, rk_error *err)
{
        _cleanup_store_ struct rk_store *s = NULL;
        int r = rk_store_open(g->dir, &s, err);
        if (r < 0)
                return r;
        r = rk_pods_lock_prepare(pods, LOCK_EX, err);
        if (r < 0)
                return r;
        struct rk_store_gc_opts o = {
            .grace_ns = grace, .tree_in_use = rk_pods_tree_in_use, .userdata = pods};
        struct rk_store_gc_report rep = {0};
        r = rk_store_gc(s, &o, &rep, err);
        rk_pods_unlock_prepare(pods);
        if (r >= 0 && rep.trees_removed)
                rk_log_info("gc: removed %zu unused image tree%s", rep.trees_removed,
                            rep.trees_removed == 1 ? "" : "s");
        return r;
}

static void gc_summary(const struct rk_pods_gc_report *rep)
{
        if (rep->marked_exited + rep->marked_garbage + rep->expired_prepared)
                rk_log_info("gc: marked %zu exited, %zu aborted and %zu expired prepared pod%s",
                            rep->marked_exited, rep->marked_garbage, rep->expired_prepared,
                            rep->expired_prepared == 1 ? "" : "s");
        if (rep->removed)
                rk_log_info("gc: removed %zu pod%s", rep->removed, rep->removed == 1 ? "" : "s");
}

int rk_cmd_gc(const struct rk_global *g, int argc, char **argv)
{
        static const struct option longopts[] = {
            {"grace-period", required_argument, NULL, 'g'},
            {"expire-prepared", required_argument, NULL, 'e'},
            {"mark-only", no_argument, NULL, 'm'},
            {"help", no_argument, NULL, 'h'},
            {},
        };
        const char *grace = "30m", *expire = "24h";
        struct rk_pods_gc_opts o = {0};
        int c;
        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) >= 0) {
                if (c == 'g')
                        grace = optarg;
                else if (c == 'e')
                        expire = optarg;
                else if (c == 'm')
                        o.mark_only = true;
                else if (c == 'h') {
                        rk_help_gc();
                        return RK_EXIT_OK;
                } else
                        return rk_bad_option("gc", c, argv[optind - 1]);
        }
        if (optind < argc)
                return rk_usage_error("gc", "unexpected argument '%s'", argv[optind]);
        if (rk_parse_duration(grace, &o.grace_ns) < 0)
                return rk_usage_error("gc",
                                      "--grace-period: '%s' is not a duration (e.g. 0s, "
                                      "30m, 24h)",
                                      grace);
        if (rk_parse_duration(expire, &o.expire_prepared_ns) < 0)
                return rk_usage_error("gc",
                                      "--expire-prepared: '%s' is not a duration (e.g. "
                                      "0s, 30m, 24h)",
                                      expire);
        rk_error err = RK_ERROR_INIT;
        struct rk_pods *pods = NULL;
        if (rk_pods_open(g->dir, &pods, &err) < 0)
                return rk_fail(&err);
        struct rk_pods_gc_report rep = {0};
        o.stage1_gc = rk_stage1_gc;
        o.userdata = rk_stage1_gc_new(g->debug);
        int r = rk_pods_gc(pods, &o, &rep, &err);
        rk_stage1_gc_free(o.userdata);
        gc_summary(&rep);
        int x = RK_EXIT_OK;
        if (r < 0)
                x = rk_fail(&err);
        rk_error terr = RK_ERROR_INIT;
        if (!o.mark_only && gc_trees(g, pods, o.grace_ns, &terr) < 0)
                x = rk_fail(&terr);
        /* the rkt nftables table, rebuilt from the leases: leases of vanished pods go, and a
         * table something else flushed comes back (src/lib/pod/net.h) */
        rk_error nerr = RK_ERROR_INIT;
        if (!o.mark_only && rk_net_reconcile(g->dir, &nerr) < 0)
                x = rk_fail(&nerr);
        rk_pods_close(pods);
        return x;
}
