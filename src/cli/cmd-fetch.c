/* SPDX-License-Identifier: Apache-2.0 */
/* rkt fetch: images from files and https URLs into the store, verified before anything else
 * reads them. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "cli/cli.h"
#include "fetch/discover.h"
#include "fetch/fetch.h"

void rk_help_fetch(void)
{
        printf("Usage: rkt fetch [--full] [--signature=FILE] [--pull-policy=POLICY] IMAGE...\n"
               "\n"
               "Fetch each IMAGE into the store and print its image ID. IMAGE is an app name\n"
               "(example.com/app:1.0[,label=value...], found by appc meta discovery), an\n"
               "https:// URL, a file path, or an image ID. The detached signature (the\n"
               "discovered .aci.asc, IMAGE.asc, or --signature) must verify against a key\n"
               "trusted for the image's name ('rkt trust --prefix NAME'), and the policy must\n"
               "allow it; otherwise nothing is stored. Every decision goes to the audit log\n"
               "('rkt audit list'). Dependencies named in the manifest are fetched the same way.\n"
               "A stored image is used if it was stored verified (or with\n"
               "--insecure-options=image again).\n"
               "\n"
               "  --full                 print full image IDs\n"
               "  --signature=FILE|URL   the detached signature (one IMAGE only)\n"
               "  --pull-policy=POLICY   update (default): ask the server, reuse the stored image\n"
               "                         if unchanged; new: use the store if present; never:\n"
               "                         the store only\n"
               "  --no-progress          no progress bar (drawn only on a terminal anyway)\n"
               "\n"
               "--insecure-options=image admits an unsigned image, marked unverified in the\n"
               "store; running it later needs the same opt-in. The policy may forbid it.\n");
}

static void report(const char *ref, const struct rk_fetch_result *res)
{
        const struct rk_image_info *i = &res->info;
        if (res->cached)
                rk_log_info("%s: using %s from the store", ref, i->name);
        else if (res->verified)
                rk_log_info("%s: signature verified: %s (key %s, trusted for %s%s%s)", ref, i->name,
                            i->signer, i->prefix && *i->prefix ? "prefix '" : "",
                            i->prefix && *i->prefix ? i->prefix : "every image",
                            i->prefix && *i->prefix ? "'" : "");
}

static void print_error(const char *ref, const rk_error *err)
{
        size_t n = strlen(ref);
        if (strncmp(err->msg, ref, n) == 0 && err->msg[n] == ':')
                fprintf(stderr, "rkt: fetch %s\n", err->msg);
        else
                fprintf(stderr, "rkt: fetch %s: %s\n", ref, err->msg);
}

int rk_cmd_fetch(const struct rk_global *g, int argc, char **argv)
{
        static const struct option longopts[] = {
            {"full", no_argument, NULL, 'f'},
            {"signature", required_argument, NULL, 's'},
            {"pull-policy", required_argument, NULL, 'p'},
            {"no-progress", no_argument, NULL, 'n'},
            {"help", no_argument, NULL, 'h'},
            {},
        };
        struct rk_trust_config tc = {g->local_config, g->system_config, g->user_config, g->dir};
        struct rk_fetch_opts o = {
            .trust = &tc,
            .insecure_image = g->insecure & RK_INSECURE_IMAGE,
            .insecure_tls = g->insecure & RK_INSECURE_TLS,
            .insecure_http = g->insecure & RK_INSECURE_HTTP,
            .pull = RK_PULL_UPDATE,
            .progress = true,
            .trust_keys_from_https = g->trust_keys_from_https,
            .insecure_pubkey = g->insecure & RK_INSECURE_PUBKEY,
            /* TOFU asks only where someone can answer */
            .review = isatty(STDIN_FILENO) && isatty(STDERR_FILENO) ? rk_cli_review_key : NULL,
        };
        bool full = false;
        int c;
        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) >= 0) {
                switch (c) {
                case 'f':
                        full = true;
                        break;
                case 's':
                        o.signature = optarg;
                        break;
                case 'p':
                        if (rk_pull_policy_from_string(optarg, &o.pull) < 0)
                                return rk_usage_error("fetch",
                                                      "--pull-policy: unknown policy '%s' (new, "
                                                      "update, never)",
                                                      optarg);
                        break;
                case 'n':
                        o.progress = false;
                        break;
                case 'h':
                        rk_help_fetch();
                        return RK_EXIT_OK;
                default:
                        return rk_bad_option("fetch", c, argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return rk_usage_error("fetch", "expected at least one IMAGE");
        if (o.signature && argc - optind > 1)
                return rk_usage_error("fetch", "--signature applies to one IMAGE only");

        rk_error err = RK_ERROR_INIT;
        _cleanup_store_ struct rk_store *s = NULL;
        if (rk_store_open(g->dir, &s, &err) < 0)
                return rk_fail(&err);
        struct rk_auth *auth = NULL;
        if (rk_auth_load(g->system_config, g->local_config, g->user_config, &auth, &err) < 0)
                return rk_fail(&err);
        o.auth = auth;
        /* Loud every time it takes effect: these weaken what a signature guarantees. */
        if (o.insecure_image)
                rk_log_warning("image signature verification has been disabled "
                               "(--insecure-options=image); unsigned images are stored as "
                               "unverified");
        if (o.insecure_tls)
                rk_log_warning("TLS verification has been disabled (--insecure-options=tls)");
        if (o.insecure_http)
                rk_log_warning("plain HTTP downloads are allowed (--insecure-options=http)");
        int ret = RK_EXIT_OK;
        for (int i = optind; i < argc; i++) {
                struct rk_fetch_result res = {0};
                rk_err_clear(&err);
                if (rk_fetch(s, argv[i], &o, &res, &err) < 0) {
                        print_error(argv[i], &err);
                        ret = RK_EXIT_FAILURE;
                        continue;
                }
                report(argv[i], &res);
                if (res.info.insecure && !res.cached)
                        rk_log_warning("%s: stored UNVERIFIED (admitted by %s)", argv[i],
                                       res.info.insecure);
                rk_print_id(res.info.id, full);
                rk_fetch_result_clear(&res);
        }
        rk_auth_free(auth);
        return ret;
}
