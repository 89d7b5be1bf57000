/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/macro.h"
#include "base/parse.h"

int rk_parse_duration(const char *s, int64_t *ret)
{
        static const struct {
                const char *u;
                double ns;
        } units[] = {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
        double total = 0;
        if (strcmp(s, "0") == 0) {
                *ret = 0;
                return 0;
        }
        if (!*s)
                return -EINVAL;
        while (*s) {
                char *end = NULL;
                if (!isdigit((unsigned char)*s) && *s != '.')
                        return -EINVAL;
                double v = strtod(s, &end);
                if (end == s || !isfinite(v))
                        return -EINVAL;
                /* the longest unit that matches: "ms" before "m" */
                size_t best = ELEMENTSOF(units);
                for (size_t k = 0; k < ELEMENTSOF(units); k++)
                        if (strncmp(end, units[k].u, strlen(units[k].u)) == 0 &&
                            (best == ELEMENTSOF(units) ||
                             strlen(units[k].u) > strlen(units[best].u)))
                                best = k;
                if (best == ELEMENTSOF(units))
                        return -EINVAL;
                total += v * units[best].ns;
                s = end + strlen(units[best].u);
        }
        if (total > 9e18)
                return -ERANGE;
        *ret = (int64_t)total;
        return 0;
}
