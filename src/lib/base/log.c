/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <string.h>

#include "base/log.h"

static int log_level = RK_LOG_INFO;
static const char *log_ident = "rkt";

void rk_log_set_level(int level)
{
        log_level = level;
}

int rk_log_get_level(void)
{
        return log_level;
}

void rk_log_set_ident(const char *ident)
{
        log_ident = ident;
}

int rk_logf(int level, int code, const char *fmt, ...)
{
        if (level > log_level)
                return code;
        int saved = errno;
        char line[2048];
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        const char *tag = level == RK_LOG_WARNING ? "warning: "
                          : level == RK_LOG_DEBUG ? "debug: "
                                                  : "";
        /* One write(2) per line so concurrent writers do not interleave mid-line. */
        char out[2300];
        int n = snprintf(out, sizeof(out), "%s: %s%s\n", log_ident, tag, line);
        if (n > 0)
                (void)!write(STDERR_FILENO, out,
                             (size_t)n < sizeof(out) ? (size_t)n : sizeof(out) - 1);
        errno = saved;
        return code;
}
