/* SPDX-License-Identifier: Apache-2.0 */
/* The CNI runner's parsers (src/lib/pod/cni.c), which read net.d files, plugins' stdout and
 * --net. The first byte picks: 0 conflist, 1 result, 2 --net list, 3 CNI_ARGS and names.
 * Oracles: an accepted conflist has a valid name, a supported cniVersion and 1..16 plugins
 * of valid types; an accepted --net list has valid, distinct names and valid args; a refused
 * input leaves a one-line message; nothing reads outside its buffers (sanitizers). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "pod/cni.h"

#define FUZZ_MAX_INPUT (64 * 1024)

static void check(bool ok)
{
        if (!ok)
                abort();
}

static void refused(int r, const rk_error *err)
{
        check(r < 0 && err->msg[0] && !strchr(err->msg, '\n'));
}

static void conflist(const char *s, size_t n)
{
        rk_error err = RK_ERROR_INIT;
        json_t *j = NULL;
        int r = rk_cni_conflist_parse("f", s, n, &j, &err);
        if (r < 0) {
                check(!j);
                refused(r, &err);
                return;
        }
        const char *v = json_string_value(json_object_get(j, "cniVersion"));
        check(v && (!strcmp(v, "1.0.0") || !strcmp(v, "0.4.0")));
        check(rk_cni_name_valid(json_string_value(json_object_get(j, "name"))));
        json_t *p = json_object_get(j, "plugins");
        check(json_array_size(p) >= 1 && json_array_size(p) <= RK_CNI_MAX_PLUGINS);
        for (size_t i = 0; i < json_array_size(p); i++) {
                const char *t = json_string_value(json_object_get(json_array_get(p, i), "type"));
                check(rk_cni_type_valid(t) && !strchr(t, '/') && t[0] != '.');
        }
        json_decref(j);
}

static void result(const char *s, size_t n)
{
        rk_error err = RK_ERROR_INIT;
        json_t *j = NULL;
        if (rk_json_parse("f", s, n, FUZZ_MAX_INPUT, &j, &err) < 0)
                return;
        struct rk_cni_result r;
        int x = rk_cni_result_parse(j, &r, &err);
        if (x < 0)
                refused(x, &err);
        else
                check(r.prefix <= 32 && (r.ip != 0 || r.prefix == 0 || r.n_ips > 0));
        json_decref(j);
}

static void netlist(const char *s)
{
        rk_error err = RK_ERROR_INIT;
        struct rk_cni_req req[RK_CNI_MAX_NETS];
        size_t n = 0;
        int r = rk_cni_netlist_parse(s, req, &n, &err);
        if (r < 0) {
                refused(r, &err);
                return;
        }
        check(n >= 1 && n <= RK_CNI_MAX_NETS);
        for (size_t i = 0; i < n; i++) {
                check(rk_cni_name_valid(req[i].name) && rk_cni_args_valid(req[i].args));
                for (size_t k = 0; k < i; k++)
                        check(strcmp(req[i].name, req[k].name) != 0);
        }
}

static void strings(const char *s)
{
        if (rk_cni_name_valid(s))
                check(rk_cni_type_valid(s) && !strchr(s, '/'));
        if (rk_cni_type_valid(s))
                check(strcmp(s, "..") != 0 && !strchr(s, '/'));
        if (rk_cni_args_valid(s))
                check(!strchr(s, ' ') && strlen(s) <= RK_CNI_MAX_ARGS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1 || size > FUZZ_MAX_INPUT)
                return 0;
        char *s = malloc(size);
        if (!s)
                return 0;
        memcpy(s, data + 1, size - 1);
        s[size - 1] = 0;
        switch (data[0] % 4) {
        case 0:
                conflist(s, size - 1);
                break;
        case 1:
                result(s, size - 1);
                break;
        case 2:
                netlist(s);
                break;
        default:
                strings(s);
        }
        free(s);
        return 0;
}
