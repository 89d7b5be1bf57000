/* SPDX-License-Identifier: Apache-2.0 */
/* Pod manifest parser and runnable check. Oracle: parse -> serialise -> parse -> serialise is a
 * fixed point, and the runnable verdict survives the round trip. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aci/manifest.h"

#define FUZZ_MAX_INPUT (RK_MANIFEST_MAX + 1)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        rk_error err = RK_ERROR_INIT;
        struct rk_pod_manifest *m = NULL, *m2 = NULL;
        char *s1 = NULL, *s2 = NULL;
        size_t n1 = 0, n2 = 0;

        if (size > FUZZ_MAX_INPUT)
                return 0;
        int r = rk_pod_manifest_parse("fuzz", data, size, &m, &err);
        if (r < 0) {
                if (m || err.code != r || !err.msg[0] || strchr(err.msg, '\n'))
                        abort();
                return 0;
        }
        int runnable = rk_pod_manifest_validate_runnable(m, &err);
        if (rk_pod_manifest_serialize(m, &s1, &n1, &err) < 0) {
                fprintf(stderr, "serialise failed: %s\n", err.msg);
                abort();
        }
        if (rk_pod_manifest_parse("fuzz-reparse", s1, n1, &m2, &err) < 0) {
                fprintf(stderr, "re-parse failed: %s\n%s\n", err.msg, s1);
                abort();
        }
        if (rk_pod_manifest_serialize(m2, &s2, &n2, &err) < 0 || n1 != n2 ||
            memcmp(s1, s2, n1) != 0 || m->n_unknown_isolators != m2->n_unknown_isolators ||
            rk_pod_manifest_validate_runnable(m2, &err) != runnable) {
                fprintf(stderr, "not a fixed point:\n%s\n%s\n", s1, s2 ? s2 : "(null)");
                abort();
        }
        free(s1);
        free(s2);
        rk_pod_manifest_free(m);
        rk_pod_manifest_free(m2);
        return 0;
}
