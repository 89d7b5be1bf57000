/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

/* Exit statuses scripts rely on (CLI.md). */
enum {
        RK_EXIT_OK = 0,
        RK_EXIT_FAILURE = 1,
        RK_EXIT_USAGE = 2,
};

enum rk_format {
        RK_FORMAT_TABLE,
        RK_FORMAT_JSON,
        RK_FORMAT_JSON_PRETTY,
};

/* --insecure-options bits. */
enum {
        RK_INSECURE_IMAGE = 1 << 0,
        RK_INSECURE_TLS = 1 << 1,
        RK_INSECURE_HTTP = 1 << 2,
        RK_INSECURE_PUBKEY = 1 << 3,
        RK_INSECURE_ONDISK = 1 << 4,
        RK_INSECURE_CAPABILITIES = 1 << 5,
        RK_INSECURE_PATHS = 1 << 6,
        RK_INSECURE_SECCOMP = 1 << 7,
        RK_INSECURE_LANDLOCK = 1 << 8,
        RK_INSECURE_CGROUPS = 1 << 9,
};

struct rk_global {
        const char *dir;
        const char *local_config;
        const char *system_config;
        const char *user_config;
        unsigned insecure;
        bool trust_keys_from_https;
        bool debug;
        enum rk_format format;
};

struct rk_verb {
        const char *name;
        const char *summary;
        int (*run)(const struct rk_global *g, int argc, char **argv);
        void (*help)(void);
};

/* Prints "rkt: <message>" on stderr and returns RK_EXIT_USAGE, with a hint to the help. */
int rk_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "rkt: <err->msg>" and returns RK_EXIT_FAILURE. */
int rk_fail(const rk_error *err);
/* getopt_long error for an option, in the house format. */
int rk_bad_option(const char *verb, int opt, const char *arg);

int rk_cmd_image(const struct rk_global *g, int argc, char **argv);
void rk_help_image(void);
int rk_cmd_version(const struct rk_global *g, int argc, char **argv);
void rk_help_version(void);
int rk_cmd_audit(const struct rk_global *g, int argc, char **argv);
void rk_help_audit(void);
int rk_cmd_fetch(const struct rk_global *g, int argc, char **argv);
void rk_help_fetch(void);
int rk_cmd_trust(const struct rk_global *g, int argc, char **argv);
void rk_help_trust(void);
struct rk_key_info;
/* The trust review on a terminal (prefix, key URL, fingerprint, subkeys, user IDs, then an
 * exact yes/no): 1 trust, 0 declined or no terminal. An rk_fetch_review_fn for TOFU. */
int rk_cli_review_key(void *userdata, const char *prefix, const char *url,
                      const struct rk_key_info *k);

/* Pods: cmd-run.c (run, prepare, run-prepared), cmd-pods.c (list, status, cat-manifest, rm,
 * gc). */
int rk_cmd_run(const struct rk_global *g, int argc, char **argv);
void rk_help_run(void);
int rk_cmd_prepare(const struct rk_global *g, int argc, char **argv);
void rk_help_prepare(void);
int rk_cmd_run_prepared(const struct rk_global *g, int argc, char **argv);
void rk_help_run_prepared(void);
int rk_cmd_list(const struct rk_global *g, int argc, char **argv);
void rk_help_list(void);
int rk_cmd_status(const struct rk_global *g, int argc, char **argv);
void rk_help_status(void);
int rk_cmd_cat_manifest(const struct rk_global *g, int argc, char **argv);
void rk_help_cat_manifest(void);
int rk_cmd_rm(const struct rk_global *g, int argc, char **argv);
void rk_help_rm(void);
int rk_cmd_gc(const struct rk_global *g, int argc, char **argv);
void rk_help_gc(void);
/* cmd-mds.c: metadata-service. */
int rk_cmd_metadata_service(const struct rk_global *g, int argc, char **argv);
void rk_help_metadata_service(void);
/* cmd-enter.c: enter, stop. */
int rk_cmd_enter(const struct rk_global *g, int argc, char **argv);
void rk_help_enter(void);
int rk_cmd_stop(const struct rk_global *g, int argc, char **argv);
void rk_help_stop(void);

/* rkt-stage1: next to this rkt's real path (a build directory), else in RKT_LIBEXECDIR; it and
 * its directory must be root's and writable by nobody else. Returns an O_CLOEXEC fd to exec,
 * the path in path. */
int rk_stage1_open(char *path, size_t size, rk_error *err);
/* The environment rkt-stage1 gets (PATH, TERM and the sanitizers' options; no lock fd). */
void rk_stage1_env(char **env, size_t cap);
/* "rkt-stage1 gc --pod-dir=DIR" for rk_pods_gc and rk_pod_remove; userdata from
 * rk_stage1_gc_new (without a stage1 the step is skipped). */
void *rk_stage1_gc_new(bool debug);
void rk_stage1_gc_free(void *userdata);
int rk_stage1_gc(void *userdata, const char *pod_dir, rk_error *err);

/* Image IDs as users see them: "sha512-" + 32 hex unless full. */
void rk_print_id(const char *id, bool full);
