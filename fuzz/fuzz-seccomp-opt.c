/* SPDX-License-Identifier: Apache-2.0 */
/* rkt run --seccomp=... (rk_seccomp_parse_opt) and the profiles built from a set. Oracles: a
 * refusal has a code and one line and leaves *ret alone; every accepted set builds a profile
 * (with and without no_new_privs) that the compiler accepts; the set survives the round trip
 * through its isolator JSON and the appc isolator parser. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aci/isolator.h"
#include "pod/seccomp.h"

#define FUZZ_MAX_INPUT 4096

static void check(bool ok)
{
        if (!ok)
                abort();
}

static void compiles(const struct rk_seccomp_set *s, bool nnp)
{
        char *p = NULL;
        size_t len = 0, n = 0;
        unsigned flags = 0;
        void *bpf = NULL;
        rk_error err = RK_ERROR_INIT;
        check(rk_seccomp_set_profile(s, nnp, &p, &len, &flags, &err) == 0);
        check(rk_seccomp_compile_flags(p, len, flags, &bpf, &n, &err) == 0);
        check(n > 0 && n % 8 == 0);
        free(bpf);
        free(p);
}

static void round_trip(const struct rk_seccomp_set *s)
{
        json_t *v = rk_seccomp_set_to_json(s);
        check(v != NULL);
        json_t *arr = json_pack(
            "[{s:s, s:o}]", "name",
            s->retain ? "os/linux/seccomp-retain-set" : "os/linux/seccomp-remove-set", "value", v);
        check(arr != NULL);
        struct rk_isolators l = {0};
        struct rk_seccomp_set t = {0};
        rk_error err = RK_ERROR_INIT;
        check(rk_isolators_parse(arr, RK_ISOLATOR_SCOPE_APP, "fuzz", &l, &err) == 0);
        check(rk_seccomp_set_from_isolators(&l, "fuzz", &t, &err) == 1);
        check(t.retain == s->retain && t.n == s->n);
        for (size_t i = 0; i < t.n; i++)
                check(!strcmp(t.names[i], s->names[i]));
        check(!t.errno_name == !s->errno_name);
        check(!t.errno_name || !strcmp(t.errno_name, s->errno_name));
        rk_seccomp_set_clear(&t);
        rk_isolators_clear(&l);
        json_decref(arr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > FUZZ_MAX_INPUT)
                return 0;
        char *s = malloc(size + 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = 0;
        struct rk_seccomp_set set = {0};
        rk_error err = RK_ERROR_INIT;
        int r = rk_seccomp_parse_opt(s, &set, &err);
        if (r < 0) {
                check(!set.names && !set.errno_name && err.code == r && err.msg[0] &&
                      !strchr(err.msg, '\n'));
        } else {
                check(r == 0 && set.n > 0);
                compiles(&set, true);
                compiles(&set, false);
                round_trip(&set);
        }
        rk_seccomp_set_clear(&set);
        free(s);
        return 0;
}
