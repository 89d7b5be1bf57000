/* SPDX-License-Identifier: Apache-2.0 */
/* Image manifest parser. Oracle: whatever parses serialises, the serialisation parses again,
 * and serialising that gives the same bytes (the canonical form is a fixed point). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aci/manifest.h"

/* one byte over the cap: the size refusal is exercised too */
#define FUZZ_MAX_INPUT (RK_MANIFEST_MAX + 1)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        rk_error err = RK_ERROR_INIT;
        struct rk_image_manifest *m = NULL, *m2 = NULL;
        char *s1 = NULL, *s2 = NULL;
        size_t n1 = 0, n2 = 0;

        if (size > FUZZ_MAX_INPUT)
                return 0;
        int r = rk_image_manifest_parse("fuzz", data, size, &m, &err);
        if (r < 0) {
                /* failures carry a code and a one-line message, and leave *ret alone */
                if (m || err.code != r || !err.msg[0] || strchr(err.msg, '\n'))
                        abort();
                return 0;
        }
        if (rk_image_manifest_serialize(m, &s1, &n1, &err) < 0) {
                fprintf(stderr, "serialise failed: %s\n", err.msg);
                abort();
        }
        if (rk_image_manifest_parse("fuzz-reparse", s1, n1, &m2, &err) < 0) {
                fprintf(stderr, "re-parse failed: %s\n%s\n", err.msg, s1);
                abort();
        }
        if (rk_image_manifest_serialize(m2, &s2, &n2, &err) < 0 || n1 != n2 ||
            memcmp(s1, s2, n1) != 0 || m->n_unknown_isolators != m2->n_unknown_isolators) {
                fprintf(stderr, "not a fixed point:\n%s\n%s\n", s1, s2 ? s2 : "(null)");
                abort();
        }
        free(s1);
        free(s2);
        rk_image_manifest_free(m);
        rk_image_manifest_free(m2);
        return 0;
}
