/* SPDX-License-Identifier: Apache-2.0 */
/* The lxc_contexts parser and the SELinux context validator (pod/lsm.c, base/label.c).
 * Oracles: whatever the parser returns is a valid context, and a valid context keeps being
 * valid with the pod's level put in its place (what stage1 then receives). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/label.h"
#include "pod/lsm.h"

#define FUZZ_MAX_INPUT (70u << 10)

static void check(bool ok)
{
        if (!ok)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        rk_error err = RK_ERROR_INIT;
        if (size > FUZZ_MAX_INPUT)
                return 0;
        char *p = NULL, *f = NULL;
        if (rk_selinux_lxc_contexts_parse("fuzz", (const char *)data, size, &p, &f, &err) == 0) {
                check(rk_label_valid(p) && rk_label_valid(f));
                struct rk_mcs_pair pair = {1, 1023};
                char *lp = NULL, *lm = NULL;
                check(rk_selinux_app_labels(p, f, &pair, NULL, NULL, &lp, &lm, &err) == 0);
                check(rk_label_valid(lp) && rk_label_valid(lm));
                free(lp);
                free(lm);
                free(p);
                free(f);
        }
        /* the input as one context */
        char *s = malloc(size + 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = 0;
        if (rk_label_valid(s))
                check(strlen(s) <= RK_LABEL_MAX && !strpbrk(s, " \t\n\"=\\"));
        struct rk_mcs_pair m;
        if (rk_selinux_mcs_parse(s, &m) == 0)
                check(m.a < m.b && m.b <= RK_MCS_MAX_CAT);
        free(s);
        return 0;
}
