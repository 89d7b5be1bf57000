/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

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

/* Image IDs as users see them: "sha512-" + 32 hex unless full. */
void rk_print_id(const char *id, bool full);
