/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

#include "base/error.h"

#define RK_SHA512_HEX_LEN 128
/* "sha512-" + 128 hex + NUL */
#define RK_IMAGE_ID_LEN (7 + RK_SHA512_HEX_LEN)

typedef struct rk_sha512 {
        void *ctx; /* EVP_MD_CTX */
} rk_sha512;

int rk_sha512_init(rk_sha512 *h, rk_error *err);
void rk_sha512_update(rk_sha512 *h, const void *buf, size_t len);
/* Writes 128 lowercase hex digits and a NUL; releases the context. */
int rk_sha512_final_hex(rk_sha512 *h, char out[RK_SHA512_HEX_LEN + 1], rk_error *err);
/* Releases the context without a result (safe to call twice, or after final). */
void rk_sha512_done(rk_sha512 *h);

int rk_sha512_buf_hex(const void *buf, size_t len, char out[RK_SHA512_HEX_LEN + 1], rk_error *err);
/* Hashes from the fd's current offset to EOF. */
int rk_sha512_fd_hex(int fd, char out[RK_SHA512_HEX_LEN + 1], rk_error *err);
