/* SPDX-License-Identifier: Apache-2.0 */
/* The parsers of `rkt run`/`prepare` option values, which scripts and pod specs hand to rkt:
 * --volume, --mount, --set-env/--environment, --set-env-file contents, --supplementary-gids,
 * --caps-retain/--caps-remove. The first byte picks the parser, the rest is the value.
 * Oracles: a refusal has the code returned, one line, and leaves nothing allocated (ASan's
 * leak check); an accepted value holds what the option promises — a volume has an AC name and
 * kind host (with an absolute source) or empty; a mount an AC name and an absolute target;
 * environment names are non-empty and without '='; group IDs below 2^32-1; capability masks
 * within the kernel's range. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pod/caps.h"
#include "pod/pod.h"

#define FUZZ_MAX_INPUT 8192

static void check_err(int r, const rk_error *err)
{
        if (r >= 0 || err->code != r || !err->msg[0] || strchr(err->msg, '\n'))
                abort();
}

static void fuzz_volume(const char *s)
{
        struct rk_volume v = {0};
        rk_error err = RK_ERROR_INIT;
        int r = rk_parse_volume_opt(s, &v, &err);
        if (r < 0) {
                check_err(r, &err);
                return;
        }
        if (!v.name || !v.name[0] || !v.kind)
                abort();
        if (!strcmp(v.kind, "host")) {
                if (!v.source || v.source[0] != '/')
                        abort();
        } else if (strcmp(v.kind, "empty") != 0) {
                abort();
        }
        free(v.name);
        free(v.kind);
        free(v.source);
        free(v.mode);
}

static void fuzz_mount(const char *s)
{
        struct rk_mount_opt m = {0};
        rk_error err = RK_ERROR_INIT;
        int r = rk_parse_mount_opt(s, &m, &err);
        if (r < 0) {
                check_err(r, &err);
                return;
        }
        if (!m.volume || !m.volume[0] || !m.target || m.target[0] != '/')
                abort();
        free(m.volume);
        free(m.target);
}

static void check_env(const struct rk_name_values *l)
{
        for (size_t i = 0; i < l->n; i++) {
                if (!l->v[i].name[0] || strchr(l->v[i].name, '=') || !l->v[i].value)
                        abort();
                for (size_t k = 0; k < i; k++)
                        if (!strcmp(l->v[k].name, l->v[i].name))
                                abort();
        }
}

static void fuzz_env(const char *s, size_t n, bool file)
{
        struct rk_name_values l = {0};
        rk_error err = RK_ERROR_INIT;
        int r = file ? rk_env_file_parse("env-file", s, n, &l, &err)
                     : rk_env_set_opt(&l, s, "--set-env", &err);
        if (r < 0)
                check_err(r, &err);
        check_env(&l); /* what was set before a bad line stays valid */
        rk_name_values_clear(&l);
}

static void fuzz_gids(const char *s)
{
        uint32_t *v = NULL;
        size_t n = 0;
        rk_error err = RK_ERROR_INIT;
        int r = rk_parse_gids(s, &v, &n, &err);
        if (r < 0) {
                check_err(r, &err);
                if (v)
                        abort();
                return;
        }
        for (size_t i = 0; i < n; i++)
                if (v[i] == UINT32_MAX)
                        abort();
        free(v);
}

static void fuzz_caps(const char *s)
{
        uint64_t m = 0;
        rk_error err = RK_ERROR_INIT;
        int r = rk_caps_parse_list(s, "--caps-retain", &m, &err);
        if (r < 0) {
                check_err(r, &err);
                return;
        }
        if (RK_CAP_LAST < 63 && m >> (RK_CAP_LAST + 1))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1 || size > FUZZ_MAX_INPUT)
                return 0;
        char *s = strndup((const char *)data + 1, size - 1);
        if (!s)
                return 0;
        switch (data[0] % 6) {
        case 0:
                fuzz_volume(s);
                break;
        case 1:
                fuzz_mount(s);
                break;
        case 2:
                fuzz_env(s, strlen(s), false);
                break;
        case 3:
                fuzz_env((const char *)data + 1, size - 1, true);
                break;
        case 4:
                fuzz_gids(s);
                break;
        default:
                fuzz_caps(s);
                break;
        }
        free(s);
        return 0;
}
