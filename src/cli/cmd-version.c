/* SPDX-License-Identifier: Apache-2.0 */
#include <archive.h>
#include <jansson.h>
#include <openssl/opensslv.h>
#include <stdio.h>

#include "base/json.h"
#include "cli/cli.h"

#define APPC_SPEC_VERSION "0.8.11"

void rk_help_version(void)
{
        printf("Usage: rkt version [--format=json]\n"
               "\n"
               "Print the rkt version, the appc spec version it implements and the versions of\n"
               "the libraries it was built with.\n");
}

int rk_cmd_version(const struct rk_global *g, int argc, char **argv)
{
        if (argc > 1)
                return rk_usage_error("version", "unexpected argument '%s'", argv[1]);
        if (g->format != RK_FORMAT_TABLE) {
                _cleanup_json_ json_t *o = json_pack(
                    "{s:s, s:s, s:{s:s, s:s, s:s}}", "rkt", RKT_VERSION, "appc", APPC_SPEC_VERSION,
                    "libraries", "libarchive", archive_version_string(), "jansson", JANSSON_VERSION,
                    "openssl", OPENSSL_VERSION_TEXT);
                _cleanup_free_ char *s = NULL;
                rk_error err = RK_ERROR_INIT;
                int r = g->format == RK_FORMAT_JSON ? rk_json_dump(o, &s, NULL, &err)
                                                    : rk_json_dump_pretty(o, &s, NULL, &err);
                if (r < 0)
                        return rk_fail(&err);
                fputs(s, stdout);
                if (g->format == RK_FORMAT_JSON)
                        putchar('\n');
                return RK_EXIT_OK;
        }
        printf("rkt Version: %s\n", RKT_VERSION);
        printf("appc Version: %s\n", APPC_SPEC_VERSION);
        printf("Libraries: %s, jansson %s, %s\n", archive_version_string(), JANSSON_VERSION,
               OPENSSL_VERSION_TEXT);
        return RK_EXIT_OK;
}
