/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "base/macro.h"

/* The one error type. Caller-owned, fixed size, no heap: safe after fork/clone and under OOM.
 * code is a negative errno (0 = unset); msg names the object and the reason. */
typedef struct rk_error {
        int code;
        char msg[512];
} rk_error;

#define RK_ERROR_INIT                                                                              \
        {                                                                                          \
                0,                                                                                 \
                {                                                                                  \
                        0                                                                          \
                }                                                                                  \
        }

/* Fill err (if non-NULL) and return code. code must be negative. */
int rk_err(rk_error *err, int code, const char *fmt, ...) _printf_(3, 4);
/* Prepend "context: " to an existing message; returns err->code (or code if err is NULL). */
int rk_err_prefix(rk_error *err, int code, const char *fmt, ...) _printf_(3, 4);
/* rk_err() with ": <strerror(-code)>" appended. */
int rk_err_errno(rk_error *err, int code, const char *fmt, ...) _printf_(3, 4);
void rk_err_clear(rk_error *err);
