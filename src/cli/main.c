/* SPDX-License-Identifier: Apache-2.0 */
/* rkt (stage0): global flags, the verb table, dispatch. The only place that exits. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "cli/cli.h"

static const struct rk_verb verbs[] = {
    {"audit", "list and verify the tamper-evident audit log", rk_cmd_audit, rk_help_audit},
    {"cat-manifest", "print a pod's manifest", rk_cmd_cat_manifest, rk_help_cat_manifest},
    {"enter", "run a command inside a running app, isolated exactly like the app", rk_cmd_enter,
     rk_help_enter},
    {"fetch", "fetch images into the store, verifying their signatures", rk_cmd_fetch,
     rk_help_fetch},
    {"gc", "remove exited pods and unused image trees", rk_cmd_gc, rk_help_gc},
    {"image", "build, validate and inspect App Container Images", rk_cmd_image, rk_help_image},
    {"list", "list pods", rk_cmd_list, rk_help_list},
    {"metadata-service", "serve the appc metadata service to pods (run --mds-register)",
     rk_cmd_metadata_service, rk_help_metadata_service},
    {"prepare", "prepare a pod to run later; print its UUID", rk_cmd_prepare, rk_help_prepare},
    {"rm", "remove pods that are not running", rk_cmd_rm, rk_help_rm},
    {"run", "run images in a new pod", rk_cmd_run, rk_help_run},
    {"run-prepared", "run a prepared pod", rk_cmd_run_prepared, rk_help_run_prepared},
    {"status", "print a pod's state and its apps' exit statuses", rk_cmd_status, rk_help_status},
    {"stop", "stop running pods (SIGTERM, then SIGKILL after a timeout)", rk_cmd_stop,
     rk_help_stop},
    {"trust", "trust, list and remove image signing keys", rk_cmd_trust, rk_help_trust},
    {"version", "print the version and build features", rk_cmd_version, rk_help_version},
};

static void help_main(void)
{
        printf("Usage: rkt [global flags] COMMAND [flags] [args]\n"
               "\n"
               "rkt runs App Container Images (ACI) in pods, refusing any image whose\n"
               "signature does not verify against a trusted key.\n"
               "\n"
               "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("  %-13s %s\n", verbs[i].name, verbs[i].summary);
        printf("  %-13s %s\n", "help", "show help for a command");
        printf("\n"
               "Global flags (before or after the command):\n"
               "  --dir=DIR                 data directory (default /var/lib/rkt)\n"
               "  --local-config=DIR        admin configuration (default /etc/rkt)\n"
               "  --system-config=DIR       vendor configuration (default /usr/lib/rkt)\n"
               "  --user-config=DIR         per-user configuration\n"
               "  --insecure-options=LIST   comma list of image,tls,http,pubkey,ondisk,\n"
               "                            capabilities,paths,seccomp,landlock,all-fetch,\n"
               "                            all-run,all\n"
               "  --insecure-skip-verify    deprecated alias of --insecure-options=image\n"
               "  --trust-keys-from-https   accept keys discovered over HTTPS without review\n"
               "  --format=FMT              table (default), json or json-pretty\n"
               "  --debug                   debug logging on stderr\n"
               "  -h, --help                this help; 'rkt COMMAND --help' for a command\n"
               "  --version                 same as 'rkt version'\n"
               "\n"
               "Exit status: 0 success, 1 refused or failed, 2 usage error.\n"
               "See rkt(1) and rkt-COMMAND(1).\n");
}

int rk_usage_error(const char *verb, const char *fmt, ...)
{
        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (verb)
                fprintf(stderr, "rkt: %s: %s; see 'rkt %s --help'\n", verb, msg, verb);
        else
                fprintf(stderr, "rkt: %s; see 'rkt --help'\n", msg);
        return RK_EXIT_USAGE;
}

int rk_fail(const rk_error *err)
{
        fprintf(stderr, "rkt: %s\n", err->msg[0] ? err->msg : "operation failed");
        return RK_EXIT_FAILURE;
}

int rk_bad_option(const char *verb, int opt, const char *arg)
{
        if (opt == ':')
                return rk_usage_error(verb, "option '%s' needs a value", arg);
        return rk_usage_error(verb, "unknown option '%s'", arg);
}

void rk_print_id(const char *id, bool full)
{
        if (full || strncmp(id, "sha512-", 7) != 0)
                printf("%s\n", id);
        else
                printf("%.39s\n", id);
}

static int parse_insecure(const char *list, unsigned *ret)
{
        static const struct {
                const char *name;
                unsigned bits;
        } opts[] = {
            {"none", 0},
            {"image", RK_INSECURE_IMAGE},
            {"tls", RK_INSECURE_TLS},
            {"http", RK_INSECURE_HTTP},
            {"pubkey", RK_INSECURE_PUBKEY},
            {"ondisk", RK_INSECURE_ONDISK},
            {"capabilities", RK_INSECURE_CAPABILITIES},
            {"paths", RK_INSECURE_PATHS},
            {"seccomp", RK_INSECURE_SECCOMP},
            {"landlock", RK_INSECURE_LANDLOCK},
            {"cgroups", RK_INSECURE_CGROUPS},
            {"all-fetch",
             RK_INSECURE_IMAGE | RK_INSECURE_TLS | RK_INSECURE_HTTP | RK_INSECURE_PUBKEY},
            {"all-run", RK_INSECURE_ONDISK | RK_INSECURE_CAPABILITIES | RK_INSECURE_PATHS |
                            RK_INSECURE_SECCOMP | RK_INSECURE_LANDLOCK | RK_INSECURE_CGROUPS},
            {"all", ~0u},
        };
        char buf[512];
        unsigned bits = 0;
        if (strlen(list) >= sizeof(buf))
                return rk_usage_error(NULL, "--insecure-options: value too long");
        strcpy(buf, list);
        char *save = NULL;
        for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                size_t i;
                for (i = 0; i < ELEMENTSOF(opts); i++)
                        if (strcmp(t, opts[i].name) == 0)
                                break;
                if (i == ELEMENTSOF(opts))
                        return rk_usage_error(
                            NULL,
                            "--insecure-options: unknown option '%s' (known: "
                            "image, tls, http, pubkey, ondisk, capabilities, "
                            "paths, seccomp, landlock, cgroups, all-fetch, all-run, "
                            "all, none)",
                            t);
                bits |= opts[i].bits;
        }
        *ret = bits;
        return 0;
}

/* Global flags may stand before or after the verb (rkt's cobra "persistent flags"). Returns
 * 1 if argv[*i] was a global flag (consumed, with its value), 0 if not, or an exit code < 0
 * encoded as -(code) on a usage error. */
static int take_global(struct rk_global *g, int argc, char **argv, int *i, bool *want_help,
                       bool *want_version)
{
        static const char *valued[] = {"--dir",         "--local-config",     "--system-config",
                                       "--user-config", "--insecure-options", "--format"};
        const char *a = argv[*i];
        if (strcmp(a, "--debug") == 0) {
                g->debug = true;
                return 1;
        }
        if (strcmp(a, "--insecure-skip-verify") == 0) {
                g->insecure |= RK_INSECURE_IMAGE;
                return 1;
        }
        if (strcmp(a, "--trust-keys-from-https") == 0) {
                g->trust_keys_from_https = true;
                return 1;
        }
        if (strcmp(a, "--version") == 0) {
                *want_version = true;
                return 1;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
                *want_help = true;
                return 1;
        }
        for (size_t k = 0; k < ELEMENTSOF(valued); k++) {
                size_t n = strlen(valued[k]);
                const char *val = NULL;
                if (strncmp(a, valued[k], n) != 0)
                        continue;
                if (a[n] == '=')
                        val = a + n + 1;
                else if (a[n] == 0) {
                        if (*i + 1 >= argc)
                                return -rk_usage_error(NULL, "option '%s' needs a value", a);
                        val = argv[++*i];
                } else
                        continue;
                if (!*val)
                        return -rk_usage_error(NULL, "option '%s' needs a non-empty value",
                                               valued[k]);
                switch (k) {
                case 0:
                        g->dir = val;
                        break;
                case 1:
                        g->local_config = val;
                        break;
                case 2:
                        g->system_config = val;
                        break;
                case 3:
                        g->user_config = val;
                        break;
                case 4: {
                        int r = parse_insecure(val, &g->insecure);
                        if (r)
                                return -r;
                        break;
                }
                case 5:
                        if (strcmp(val, "table") == 0)
                                g->format = RK_FORMAT_TABLE;
                        else if (strcmp(val, "json") == 0)
                                g->format = RK_FORMAT_JSON;
                        else if (strcmp(val, "json-pretty") == 0)
                                g->format = RK_FORMAT_JSON_PRETTY;
                        else
                                return -rk_usage_error(NULL,
                                                       "--format: unknown format '%s' (table, "
                                                       "json, json-pretty)",
                                                       val);
                        break;
                }
                return 1;
        }
        return 0;
}

static const struct rk_verb *find_verb(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(verbs[i].name, name) == 0)
                        return &verbs[i];
        return NULL;
}

int main(int argc, char **argv)
{
        struct rk_global g = {
            .dir = "/var/lib/rkt",
            .local_config = "/etc/rkt",
            .system_config = RKT_VENDORDIR,
        };
        bool want_help = false, want_version = false, dashdash = false;
        const struct rk_verb *verb = NULL;
        char **rest = calloc((size_t)argc + 1, sizeof(char *));
        int nrest = 0;

        if (!rest)
                return RK_EXIT_FAILURE;
        rk_log_set_ident("rkt");
        for (int i = 1; i < argc; i++) {
                if (!dashdash && strcmp(argv[i], "--") == 0) {
                        dashdash = true;
                        rest[nrest++] = argv[i];
                        continue;
                }
                if (!dashdash) {
                        int r = take_global(&g, argc, argv, &i, &want_help, &want_version);
                        if (r < 0) {
                                free(rest);
                                return -r;
                        }
                        if (r > 0)
                                continue;
                }
                if (!verb && !dashdash) {
                        if (argv[i][0] == '-') {
                                free(rest);
                                return rk_usage_error(NULL, "unknown global option '%s'", argv[i]);
                        }
                        if (strcmp(argv[i], "help") == 0) {
                                want_help = true;
                                continue;
                        }
                        verb = find_verb(argv[i]);
                        if (!verb) {
                                free(rest);
                                return rk_usage_error(NULL, "unknown command '%s'", argv[i]);
                        }
                }
                rest[nrest++] = argv[i];
        }
        if (g.debug)
                rk_log_set_level(RK_LOG_DEBUG);

        int r;
        if (want_version && !verb)
                r = rk_cmd_version(&g, 0, NULL);
        else if (want_help && !verb && nrest > 0 && !(verb = find_verb(rest[0])))
                r = rk_usage_error(NULL, "unknown command '%s'", rest[0]);
        else if (want_help && !verb) {
                help_main();
                r = RK_EXIT_OK;
        } else if (!verb) {
                help_main();
                r = RK_EXIT_USAGE;
        } else if (want_help && strcmp(verb->name, "image") != 0) {
                verb->help();
                r = RK_EXIT_OK;
        } else {
                /* "image" has sub-verbs with their own help; it sees --help itself. */
                if (want_help)
                        rest[nrest++] = "--help";
                rest[nrest] = NULL;
                r = verb->run(&g, nrest, rest);
        }
        free(rest);
        fflush(stdout);
        if (ferror(stdout)) {
                fprintf(stderr, "rkt: cannot write to standard output\n");
                return RK_EXIT_FAILURE;
        }
        return r;
}
