/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "base/json.h"

/* Bounded, string-aware bracket scan: jansson's own limit is 2048 levels of recursion, far more
 * than any manifest needs, so hostile nesting is cut off here. */
static int check_depth(const char *what, const char *buf, size_t len, rk_error *err)
{
        int depth = 0;
        bool in_str = false;
        for (size_t i = 0; i < len; i++) {
                char c = buf[i];
                if (in_str) {
                        if (c == '\\')
                                i++;
                        else if (c == '"')
                                in_str = false;
                        continue;
                }
                if (c == '"')
                        in_str = true;
                else if (c == '{' || c == '[') {
                        if (++depth > RK_JSON_MAX_DEPTH)
                                return rk_err(err, -EBADMSG,
                                              "%s: JSON nested deeper than %d levels", what,
                                              RK_JSON_MAX_DEPTH);
                } else if (c == '}' || c == ']')
                        depth--;
        }
        return 0;
}

int rk_json_parse(const char *what, const void *buf, size_t len, size_t max, json_t **ret,
                  rk_error *err)
{
        json_error_t jerr;

        if (len > max)
                return rk_err(err, -EFBIG, "%s: %zu bytes, limit %zu", what, len, max);
        int r = check_depth(what, buf, len, err);
        if (r < 0)
                return r;
        json_t *v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
        /* jansson quotes the offending input ("near '...'"): keep control bytes from hostile
         * documents out of the one-line error. */
        for (char *p = jerr.text; !v && *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        *p = '?';
        if (!v)
                return rk_err(err, -EBADMSG, "%s: invalid JSON at line %d column %d: %s", what,
                              jerr.line, jerr.column, jerr.text);
        *ret = v;
        return 0;
}

static const char *type_name(const json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return "an object";
        case JSON_ARRAY:
                return "an array";
        case JSON_STRING:
                return "a string";
        case JSON_INTEGER:
                return "an integer";
        case JSON_REAL:
                return "a number";
        case JSON_TRUE:
        case JSON_FALSE:
                return "a boolean";
        case JSON_NULL:
                return "null";
        }
        return "unknown";
}

static int get_member(const json_t *obj, const char *key, bool required, const char *ctx,
                      json_type want, const char *want_name, json_t **out, rk_error *err)
{
        json_t *v = json_object_get(obj, key);
        if (!v) {
                if (required)
                        return rk_err(err, -EBADMSG, "%s: \"%s\" is required", ctx, key);
                return 0;
        }
        bool ok = json_typeof(v) == want || (want == JSON_TRUE && json_typeof(v) == JSON_FALSE);
        if (!ok)
                return rk_err(err, -EBADMSG, "%s: \"%s\" must be %s, not %s", ctx, key, want_name,
                              type_name(v));
        *out = v;
        return 1;
}

int rk_json_get_string(const json_t *obj, const char *key, bool required, const char *ctx,
                       const char **out, rk_error *err)
{
        json_t *v = NULL;
        int r = get_member(obj, key, required, ctx, JSON_STRING, "a string", &v, err);
        if (r > 0)
                *out = json_string_value(v);
        return r;
}

int rk_json_get_bool(const json_t *obj, const char *key, bool required, const char *ctx, bool *out,
                     rk_error *err)
{
        json_t *v = NULL;
        int r = get_member(obj, key, required, ctx, JSON_TRUE, "a boolean", &v, err);
        if (r > 0)
                *out = json_is_true(v);
        return r;
}

int rk_json_get_int(const json_t *obj, const char *key, bool required, const char *ctx,
                    int64_t *out, rk_error *err)
{
        json_t *v = NULL;
        int r = get_member(obj, key, required, ctx, JSON_INTEGER, "an integer", &v, err);
        if (r > 0)
                *out = (int64_t)json_integer_value(v);
        return r;
}

int rk_json_get_array(const json_t *obj, const char *key, bool required, const char *ctx,
                      json_t **out, rk_error *err)
{
        return get_member(obj, key, required, ctx, JSON_ARRAY, "an array", out, err);
}

int rk_json_get_object(const json_t *obj, const char *key, bool required, const char *ctx,
                       json_t **out, rk_error *err)
{
        return get_member(obj, key, required, ctx, JSON_OBJECT, "an object", out, err);
}

static int dump(const json_t *v, size_t flags, bool newline, char **ret, size_t *ret_len,
                rk_error *err)
{
        char *s = json_dumps(v, flags | JSON_ENCODE_ANY);
        if (!s)
                return rk_err(err, -ENOMEM, "JSON serialisation failed");
        size_t len = strlen(s);
        if (newline) {
                char *t = realloc(s, len + 2);
                if (!t) {
                        free(s);
                        return rk_err(err, -ENOMEM, "JSON serialisation failed");
                }
                s = t;
                s[len++] = '\n';
                s[len] = 0;
        }
        *ret = s;
        if (ret_len)
                *ret_len = len;
        return 0;
}

int rk_json_dump(const json_t *v, char **ret, size_t *ret_len, rk_error *err)
{
        return dump(v, JSON_COMPACT, false, ret, ret_len, err);
}

int rk_json_dump_pretty(const json_t *v, char **ret, size_t *ret_len, rk_error *err)
{
        return dump(v, JSON_INDENT(2), true, ret, ret_len, err);
}
