/* SPDX-License-Identifier: Apache-2.0 */
/* The strict OCI/Docker seccomp profile reader and compiler (rk_seccomp_compile, which also
 * reads --seccomp-profile files). Oracles: a refusal has a code and one non-empty line and
 * leaves *ret alone; an accepted profile gives classic BPF (whole 8-byte instructions); the
 * strict reader accepts nothing that the ALLOW-default variant refuses. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pod/seccomp.h"

/* libseccomp's compile time grows with the rules; profiles of interest are a few KiB */
#define FUZZ_MAX_INPUT (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > FUZZ_MAX_INPUT)
                return 0;
        void *bpf = NULL;
        size_t n = 0;
        rk_error err = RK_ERROR_INIT;
        int r = rk_seccomp_compile((const char *)data, size, &bpf, &n, &err);
        if (r < 0) {
                if (bpf || err.code != r || !err.msg[0] || strchr(err.msg, '\n'))
                        abort();
        } else if (r != 0 || !bpf || n == 0 || n % 8 != 0) {
                abort();
        }
        free(bpf);
        bpf = NULL;
        rk_error err2 = RK_ERROR_INIT;
        int r2 = rk_seccomp_compile_flags((const char *)data, size, RK_SECCOMP_ALLOW_DEFAULT_ALLOW,
                                          &bpf, &n, &err2);
        if (r == 0 && r2 != 0)
                abort();
        if (r2 < 0 && (bpf || err2.code != r2 || !err2.msg[0] || strchr(err2.msg, '\n')))
                abort();
        free(bpf);
        return 0;
}
