/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <string.h>

#include "base/error.h"

/* A message is one line of text whatever it quotes: a newline or an escape sequence from a
 * flag value, a file name or a manifest would forge lines or drive the user's terminal. */
static void scrub(char *msg)
{
        for (unsigned char *p = (unsigned char *)msg; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        *p = '?';
}

static void set_msg(rk_error *err, const char *fmt, va_list ap)
{
        int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        if (n < 0)
                snprintf(err->msg, sizeof(err->msg), "(unformattable error)");
        scrub(err->msg);
}

int rk_err(rk_error *err, int code, const char *fmt, ...)
{
        if (code >= 0)
                code = -EIO;
        if (!err)
                return code;
        va_list ap;
        va_start(ap, fmt);
        set_msg(err, fmt, ap);
        va_end(ap);
        err->code = code;
        return code;
}

int rk_err_errno(rk_error *err, int code, const char *fmt, ...)
{
        if (code >= 0)
                code = -EIO;
        if (!err)
                return code;
        va_list ap;
        va_start(ap, fmt);
        set_msg(err, fmt, ap);
        va_end(ap);
        size_t len = strlen(err->msg);
        snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", strerror(-code));
        err->code = code;
        return code;
}

int rk_err_prefix(rk_error *err, int code, const char *fmt, ...)
{
        if (!err)
                return code < 0 ? code : -EIO;
        if (err->code == 0)
                err->code = code < 0 ? code : -EIO;
        char prefix[sizeof(err->msg)];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(prefix, sizeof(prefix), fmt, ap);
        va_end(ap);
        if (n < 0)
                return err->code;
        char old[sizeof(err->msg)];
        memcpy(old, err->msg, sizeof(old));
        snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
        scrub(err->msg);
        return err->code;
}

void rk_err_clear(rk_error *err)
{
        if (err) {
                err->code = 0;
                err->msg[0] = 0;
        }
}
