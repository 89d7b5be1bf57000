/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>

/* Go-style durations as rkt took them: "0", "30s", "1h30m", "1.5h", "250ms" (units ns, us, ms,
 * s, m, h). Returns 0 and nanoseconds, -EINVAL for anything else, -ERANGE above ~285 years. */
int rk_parse_duration(const char *s, int64_t *ret_ns);
