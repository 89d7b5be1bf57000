/* SPDX-License-Identifier: Apache-2.0 */
/* auth.d documents (credentials per host). Oracles: a failure has a code and one line; what
 * parses yields, for every configured host, a header that is "Basic " or "Bearer " plus bytes
 * without control characters (it goes into a request line), and nothing for hosts it does not
 * name or for URLs with userinfo. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch/discover.h"

#define FUZZ_MAX_INPUT (RK_AUTH_FILE_MAX + 1)

static void check_header(const char *h)
{
        if (!h)
                return;
        if (strncmp(h, "Basic ", 6) != 0 && strncmp(h, "Bearer ", 7) != 0)
                abort();
        for (const char *p = h; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > FUZZ_MAX_INPUT)
                return 0;
        struct rk_auth *a = rk_auth_new();
        if (!a)
                return 0;
        rk_error err = RK_ERROR_INIT;
        int r = rk_auth_parse(a, "fuzz.json", (const char *)data, size, 1, &err);
        if (r < 0 && (err.code != r || !err.msg[0] || strchr(err.msg, '\n')))
                abort();
        if (r >= 0) {
                static const char *const urls[] = {
                    "https://example.com/x", "https://example.com:8443/", "http://a.test",
                    "https://registry.example.org/v2/", "https://a/"};
                for (size_t i = 0; i < sizeof(urls) / sizeof(*urls); i++)
                        check_header(rk_auth_header(a, urls[i]));
                if (rk_auth_header(a, "https://example.com@never-configured.invalid/") ||
                    rk_auth_header(a, "https://never-configured.invalid/"))
                        abort();
        }
        rk_auth_free(a);
        return 0;
}
