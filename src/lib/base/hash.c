/* SPDX-License-Identifier: Apache-2.0 */
#include <openssl/evp.h>
#include <string.h>

#include "base/hash.h"

int rk_sha512_init(rk_sha512 *h, rk_error *err)
{
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        if (!ctx)
                return rk_err(err, -ENOMEM, "sha512: cannot allocate digest context");
        if (EVP_DigestInit_ex(ctx, EVP_sha512(), NULL) != 1) {
                EVP_MD_CTX_free(ctx);
                return rk_err(err, -EIO, "sha512: digest initialisation failed");
        }
        h->ctx = ctx;
        return 0;
}

void rk_sha512_update(rk_sha512 *h, const void *buf, size_t len)
{
        if (h->ctx && len > 0)
                (void)EVP_DigestUpdate(h->ctx, buf, len);
}

void rk_sha512_done(rk_sha512 *h)
{
        if (h->ctx) {
                EVP_MD_CTX_free(h->ctx);
                h->ctx = NULL;
        }
}

int rk_sha512_final_hex(rk_sha512 *h, char out[RK_SHA512_HEX_LEN + 1], rk_error *err)
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        static const char hex[] = "0123456789abcdef";

        if (!h->ctx || EVP_DigestFinal_ex(h->ctx, md, &n) != 1 || n != 64) {
                rk_sha512_done(h);
                return rk_err(err, -EIO, "sha512: digest finalisation failed");
        }
        rk_sha512_done(h);
        for (unsigned i = 0; i < n; i++) {
                out[2 * i] = hex[md[i] >> 4];
                out[2 * i + 1] = hex[md[i] & 0xf];
        }
        out[RK_SHA512_HEX_LEN] = 0;
        return 0;
}

int rk_sha512_buf_hex(const void *buf, size_t len, char out[RK_SHA512_HEX_LEN + 1], rk_error *err)
{
        rk_sha512 h = {0};
        int r = rk_sha512_init(&h, err);
        if (r < 0)
                return r;
        rk_sha512_update(&h, buf, len);
        return rk_sha512_final_hex(&h, out, err);
}

int rk_sha512_fd_hex(int fd, char out[RK_SHA512_HEX_LEN + 1], rk_error *err)
{
        rk_sha512 h = {0};
        char buf[65536];
        int r = rk_sha512_init(&h, err);
        if (r < 0)
                return r;
        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = negative_errno();
                        rk_sha512_done(&h);
                        return rk_err_errno(err, r, "sha512: read failed");
                }
                if (n == 0)
                        break;
                rk_sha512_update(&h, buf, (size_t)n);
        }
        return rk_sha512_final_hex(&h, out, err);
}
