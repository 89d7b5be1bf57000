/* SPDX-License-Identifier: Apache-2.0 */
/* A context reaches setexeccon(3) and the context= mount option: nothing in it may change how
 * the kernel or the option parser splits it (no ',' outside the level, no '"', no spaces). */
#include <string.h>

#include "base/label.h"

bool rk_label_ident_valid(const char *s)
{
        size_t n = strlen(s);
        return n > 0 && n <= RK_LABEL_MAX &&
               strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/* A decimal 0..1023 without leading zeros; *p moves past it. */
static bool number(const char **p, unsigned *out)
{
        const char *s = *p;
        unsigned v = 0;
        size_t n = 0;
        while (s[n] >= '0' && s[n] <= '9' && n < 5)
                v = v * 10 + (unsigned)(s[n++] - '0');
        if (n == 0 || (n > 1 && s[0] == '0') || v > RK_MCS_MAX_CAT)
                return false;
        *p = s + n;
        *out = v;
        return true;
}

/* sN[:cA[.cB][,cC...]] */
static bool level(const char **p)
{
        const char *s = *p;
        unsigned v, w;
        if (*s++ != 's' || !number(&s, &v))
                return false;
        if (*s == ':') {
                do {
                        s++;
                        if (*s++ != 'c' || !number(&s, &v))
                                return false;
                        if (*s == '.') {
                                s++;
                                if (*s++ != 'c' || !number(&s, &w) || w <= v)
                                        return false;
                        }
                } while (*s == ',');
        }
        *p = s;
        return true;
}

bool rk_label_level_valid(const char *lv)
{
        if (strlen(lv) > RK_LABEL_MAX)
                return false;
        const char *p = lv;
        if (!level(&p))
                return false;
        if (*p == '-') {
                p++;
                if (!level(&p))
                        return false;
        }
        return *p == 0;
}

bool rk_label_valid(const char *label)
{
        if (strlen(label) > RK_LABEL_MAX)
                return false;
        char buf[RK_LABEL_MAX + 1];
        strcpy(buf, label);
        char *f[4], *p = buf;
        for (int i = 0; i < 3; i++) {
                f[i] = p;
                p = strchr(p, ':');
                if (!p)
                        return false;
                *p++ = 0;
        }
        f[3] = p;
        return rk_label_ident_valid(f[0]) && rk_label_ident_valid(f[1]) &&
               rk_label_ident_valid(f[2]) && rk_label_level_valid(f[3]);
}
