/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "base/macro.h"

enum rk_log_level {
        RK_LOG_ERROR = 3,
        RK_LOG_WARNING = 4,
        RK_LOG_INFO = 6,
        RK_LOG_DEBUG = 7,
};

void rk_log_set_level(int level);
int rk_log_get_level(void);
/* Program name used as the message prefix ("rkt: ..."). */
void rk_log_set_ident(const char *ident);
/* Logs to stderr; returns code so callers can "return rk_log_errno(r, ...)". */
int rk_logf(int level, int code, const char *fmt, ...) _printf_(3, 4);

#define rk_log_error(...)   rk_logf(RK_LOG_ERROR, 0, __VA_ARGS__)
#define rk_log_warning(...) rk_logf(RK_LOG_WARNING, 0, __VA_ARGS__)
#define rk_log_info(...)    rk_logf(RK_LOG_INFO, 0, __VA_ARGS__)
#define rk_log_debug(...)                                                                          \
        (rk_log_get_level() >= RK_LOG_DEBUG ? rk_logf(RK_LOG_DEBUG, 0, __VA_ARGS__) : 0)
#define rk_log_errno(code, ...) rk_logf(RK_LOG_ERROR, (code), __VA_ARGS__)
