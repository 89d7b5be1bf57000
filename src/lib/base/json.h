/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

/* jansson ships json_decrefp() for its json_auto_t. */
#define _cleanup_json_ _cleanup_(json_decrefp)

/* Nesting deeper than this is refused before jansson sees the document. */
#define RK_JSON_MAX_DEPTH 64

/* Parse an untrusted JSON document. Refuses: more than max bytes, nesting deeper than
 * RK_JSON_MAX_DEPTH, duplicate object keys, NUL bytes in strings, trailing garbage. what names
 * the document in the error ("image manifest 'x.aci'"). */
int rk_json_parse(const char *what, const void *buf, size_t len, size_t max, json_t **ret,
                  rk_error *err);

/* Typed member access for validators. Each returns 0 if the member is absent and not required
 * (out untouched), 1 if present and of the right type, or a negative error naming ctx + key. */
int rk_json_get_string(const json_t *obj, const char *key, bool required, const char *ctx,
                       const char **out, rk_error *err);
int rk_json_get_bool(const json_t *obj, const char *key, bool required, const char *ctx, bool *out,
                     rk_error *err);
int rk_json_get_int(const json_t *obj, const char *key, bool required, const char *ctx,
                    int64_t *out, rk_error *err);
int rk_json_get_array(const json_t *obj, const char *key, bool required, const char *ctx,
                      json_t **out, rk_error *err);
int rk_json_get_object(const json_t *obj, const char *key, bool required, const char *ctx,
                       json_t **out, rk_error *err);

/* Compact serialisation, keys in insertion order (the serialiser's schema order), no trailing
 * newline. Returns a malloc'd NUL-terminated string. */
int rk_json_dump(const json_t *v, char **ret, size_t *ret_len, rk_error *err);
/* Indented form for humans, same key order, with a trailing newline. */
int rk_json_dump_pretty(const json_t *v, char **ret, size_t *ret_len, rk_error *err);
