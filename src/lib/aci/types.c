/* SPDX-License-Identifier: Apache-2.0 */
/* appc shared types (appc.md section 1). Where appc's Go code is weaker than the spec's grammar
 * (a--b accepted as an identifier, K refused as a quantity suffix, any "sha512-..." accepted as
 * an image ID) this file follows the spec, strictly. */
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "aci/types.h"

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static bool is_lower_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || is_digit(c);
}

static bool is_alpha(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c)
{
        return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_lower_hex(char c)
{
        return is_digit(c) || (c >= 'a' && c <= 'f');
}

static int hex_val(char c)
{
        if (is_digit(c))
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return c - 'A' + 10;
}

const char *rk_quote(const char *s, char *buf, size_t size)
{
        size_t o = 0;

        if (size < 8) {
                if (size)
                        buf[0] = 0;
                return buf;
        }
        if (!s) {
                snprintf(buf, size, "(null)");
                return buf;
        }
        buf[o++] = '\'';
        for (size_t i = 0; s[i]; i++) {
                unsigned char c = (unsigned char)s[i];
                char tmp[5];
                size_t tn;

                if (c == '\\' || c == '\'') {
                        tmp[0] = '\\';
                        tmp[1] = (char)c;
                        tn = 2;
                } else if (c >= 0x20 && c < 0x7f) {
                        tmp[0] = (char)c;
                        tn = 1;
                } else {
                        snprintf(tmp, sizeof(tmp), "\\x%02x", c);
                        tn = 4;
                }
                /* invariant: o + 5 <= size, room for "'..." and the NUL */
                if (o + tn + 5 > size) {
                        memcpy(buf + o, "'...", 4);
                        buf[o + 4] = 0;
                        return buf;
                }
                memcpy(buf + o, tmp, tn);
                o += tn;
        }
        buf[o++] = '\'';
        buf[o] = 0;
        return buf;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int rk_strv_find_duplicate(const char *const *v, size_t n, const char **ret_dup)
{
        if (n < 2)
                return 0;
        if (n <= 8) {
                for (size_t i = 0; i < n; i++)
                        for (size_t j = i + 1; j < n; j++)
                                if (v[i] && v[j] && strcmp(v[i], v[j]) == 0) {
                                        *ret_dup = v[i];
                                        return 1;
                                }
                return 0;
        }
        _cleanup_free_ const char **s = calloc(n, sizeof(*s));
        if (!s)
                return -ENOMEM;
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
                if (v[i])
                        s[m++] = v[i];
        qsort(s, m, sizeof(*s), cmp_str);
        for (size_t i = 1; i < m; i++)
                if (strcmp(s[i - 1], s[i]) == 0) {
                        *ret_dup = s[i];
                        return 1;
                }
        return 0;
}

/* ---- AC Identifier, AC Name, AC Kind ---- */

/* ^[a-z0-9]+([<seps>][a-z0-9]+)*$, and with slash_tilde the two-character separator "/~" too.
 *
 * The spec's AC Identifier regex refuses "example.com/~user/app_v1", yet that is the spec's own
 * example (and appc's test vectors list "example.com/~bob/database" as good): a path component
 * may start with '~', as in a URL home directory. That one pair is allowed; every other run of
 * separators ("a--b", "a._b", "a/.b", "x//y", "a/~~b", "a~/b") is refused as the regex says. */
static int check_separated(const char *s, const char *seps, bool slash_tilde, const char *what,
                           const char *ctx, rk_error *err)
{
        if (!s || !*s)
                return rk_err(err, -EINVAL, RK_CTX_FMT "%s must not be empty", RK_CTX_ARG(ctx),
                              what);
        size_t n = strnlen(s, RK_ACI_NAME_MAX + 1);
        if (n > RK_ACI_NAME_MAX)
                return rk_err(err, -EINVAL, RK_CTX_FMT "%s %s is longer than %d characters",
                              RK_CTX_ARG(ctx), what, RK_QUOTE(s), RK_ACI_NAME_MAX);
        bool after_sep = true; /* so a leading separator is refused */
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (is_lower_alnum(c)) {
                        after_sep = false;
                        continue;
                }
                if (!strchr(seps, c))
                        return rk_err(
                            err, -EINVAL,
                            RK_CTX_FMT "%s is not a valid %s: character %s is not allowed "
                                       "(lowercase letters, digits and %s only)",
                            RK_CTX_ARG(ctx), RK_QUOTE(s), what, RK_QUOTE(((char[2]){c, 0})), seps);
                if (i == 0)
                        return rk_err(err, -EINVAL,
                                      RK_CTX_FMT "%s is not a valid %s: it must start with a "
                                                 "lowercase letter or digit",
                                      RK_CTX_ARG(ctx), RK_QUOTE(s), what);
                if (after_sep && !(slash_tilde && c == '~' && s[i - 1] == '/'))
                        return rk_err(err, -EINVAL,
                                      RK_CTX_FMT "%s is not a valid %s: two separators in a row",
                                      RK_CTX_ARG(ctx), RK_QUOTE(s), what);
                after_sep = true;
        }
        if (after_sep)
                return rk_err(err, -EINVAL,
                              RK_CTX_FMT
                              "%s is not a valid %s: it must end with a lowercase letter "
                              "or digit",
                              RK_CTX_ARG(ctx), RK_QUOTE(s), what);
        return 0;
}

int rk_ac_identifier_validate(const char *s, const char *ctx, rk_error *err)
{
        return check_separated(s, "-._~/", true, "AC identifier", ctx, err);
}

int rk_ac_name_validate(const char *s, const char *ctx, rk_error *err)
{
        return check_separated(s, "-", false, "AC name", ctx, err);
}

int rk_ac_kind_validate(const char *s, const char *want, const char *ctx, rk_error *err)
{
        if (!s || !*s)
                return rk_err(err, -EINVAL, RK_CTX_FMT "acKind must be set", RK_CTX_ARG(ctx));
        if (want) {
                if (strcmp(s, want) != 0)
                        return rk_err(err, -EINVAL,
                                      RK_CTX_FMT "%s is not a valid acKind here (must be \"%s\")",
                                      RK_CTX_ARG(ctx), RK_QUOTE(s), want);
                return 0;
        }
        if (strcmp(s, "ImageManifest") != 0 && strcmp(s, "PodManifest") != 0)
                return rk_err(err, -EINVAL,
                              RK_CTX_FMT "%s is not a valid acKind (must be \"ImageManifest\" or "
                                         "\"PodManifest\")",
                              RK_CTX_ARG(ctx), RK_QUOTE(s));
        return 0;
}

/* ---- SemVer ---- */

/* A numeric identifier: "0" or [1-9][0-9]*, fitting in uint64. */
static bool parse_semver_num(const char **p, uint64_t *out)
{
        const char *s = *p;
        uint64_t v = 0;
        size_t n = 0;

        while (is_digit(s[n])) {
                unsigned d = (unsigned)(s[n] - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return false;
                v = v * 10 + d;
                n++;
        }
        if (n == 0 || (n > 1 && s[0] == '0'))
                return false;
        *p = s + n;
        *out = v;
        return true;
}

static bool is_ident_char(char c)
{
        return is_alpha(c) || is_digit(c) || c == '-';
}

/* Dot-separated non-empty identifiers of [0-9A-Za-z-]; for pre-release, numeric identifiers
 * have no leading zeros. Copies into out (size n). */
static bool parse_semver_idents(const char **p, bool pre, char *out, size_t n)
{
        const char *s = *p;
        size_t len = 0;

        for (;;) {
                size_t k = 0;
                bool numeric = true;
                while (is_ident_char(s[len + k])) {
                        numeric = numeric && is_digit(s[len + k]);
                        k++;
                }
                if (k == 0)
                        return false;
                if (pre && numeric && k > 1 && s[len] == '0')
                        return false;
                len += k;
                if (s[len] != '.')
                        break;
                len++;
        }
        if (len >= n)
                return false;
        memcpy(out, s, len);
        out[len] = 0;
        *p = s + len;
        return true;
}

int rk_semver_parse(const char *s, struct rk_semver *ret, const char *ctx, rk_error *err)
{
        struct rk_semver v = {0};
        const char *p = s;

        if (!s || !*s)
                return rk_err(err, -EINVAL, RK_CTX_FMT "version must be set", RK_CTX_ARG(ctx));
        if (strnlen(s, 300) >= 300)
                return rk_err(err, -EINVAL, RK_CTX_FMT "version %s is too long", RK_CTX_ARG(ctx),
                              RK_QUOTE(s));
        if (!parse_semver_num(&p, &v.major) || *p++ != '.' || !parse_semver_num(&p, &v.minor) ||
            *p++ != '.' || !parse_semver_num(&p, &v.patch))
                goto bad;
        if (*p == '-') {
                p++;
                if (!parse_semver_idents(&p, true, v.pre, sizeof(v.pre)))
                        goto bad;
        }
        if (*p == '+') {
                p++;
                if (!parse_semver_idents(&p, false, v.build, sizeof(v.build)))
                        goto bad;
        }
        if (*p)
                goto bad;
        if (v.major == 0 && v.minor == 0 && v.patch == 0)
                return rk_err(err, -EINVAL,
                              RK_CTX_FMT "%s is not a valid version: 0.0.0 is not allowed",
                              RK_CTX_ARG(ctx), RK_QUOTE(s));
        *ret = v;
        return 0;
bad:
        return rk_err(err, -EINVAL,
                      RK_CTX_FMT "%s is not a valid SemVer 2.0.0 version "
                                 "(MAJOR.MINOR.PATCH[-pre][+build], no leading zeros)",
                      RK_CTX_ARG(ctx), RK_QUOTE(s));
}

int rk_ac_version_validate(const char *s, const char *ctx, rk_error *err)
{
        struct rk_semver v;

        if (!s || !*s)
                return rk_err(err, -EINVAL, RK_CTX_FMT "acVersion must be set", RK_CTX_ARG(ctx));
        int r = rk_semver_parse(s, &v, ctx, err);
        if (r < 0)
                return r;
        if (v.major != 0)
                return rk_err(err, -EINVAL,
                              RK_CTX_FMT "%s is not supported: the App Container spec "
                                         "is 0.x, major version must be 0",
                              RK_CTX_ARG(ctx), RK_QUOTE(s));
        return 0;
}

/* ---- Image IDs ---- */

static int check_image_id(const char *s, size_t min, size_t max, const char *what, const char *ctx,
                          rk_error *err)
{
        if (!s || strncmp(s, "sha512-", 7) != 0)
                goto bad;
        size_t n = 0;
        while (n <= max && is_lower_hex(s[7 + n]))
                n++;
        if (s[7 + n] != 0 || n < min || n > max)
                goto bad;
        return 0;
bad:
        if (min == max)
                return rk_err(err, -EINVAL,
                              RK_CTX_FMT "%s is not a valid %s (must be \"sha512-\" followed by "
                                         "%zu lowercase hex digits)",
                              RK_CTX_ARG(ctx), RK_QUOTE(s), what, max);
        return rk_err(err, -EINVAL,
                      RK_CTX_FMT "%s is not a valid %s (must be \"sha512-\" followed by %zu to "
                                 "%zu lowercase hex digits)",
                      RK_CTX_ARG(ctx), RK_QUOTE(s), what, min, max);
}

int rk_image_id_validate(const char *s, const char *ctx, rk_error *err)
{
        return check_image_id(s, 128, 128, "image ID", ctx, err);
}

int rk_image_id_prefix_validate(const char *s, const char *ctx, rk_error *err)
{
        return check_image_id(s, 2, 128, "image ID prefix", ctx, err);
}

/* ---- Labels ---- */

void rk_labels_clear(struct rk_labels *l)
{
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++) {
                free(l->v[i].name);
                free(l->v[i].value);
        }
        free(l->v);
        l->v = NULL;
        l->n = 0;
}

const char *rk_labels_get(const struct rk_labels *l, const char *name)
{
        if (!l || !name)
                return NULL;
        for (size_t i = 0; i < l->n; i++)
                if (l->v[i].name && strcmp(l->v[i].name, name) == 0)
                        return l->v[i].value;
        return NULL;
}

static const char *const linux_arches[] = {"amd64",   "i386",   "aarch64", "aarch64_be",
                                           "armv6l",  "armv7l", "armv7b",  "ppc64",
                                           "ppc64le", "s390x",  NULL};
static const char *const freebsd_arches[] = {"amd64", "i386", "arm", NULL};
static const char *const darwin_arches[] = {"x86_64", "i386", NULL};

static const struct {
        const char *os;
        const char *const *arches;
        const char *list;
} os_arch[] = {
    {"darwin", darwin_arches, "x86_64 i386"},
    {"freebsd", freebsd_arches, "amd64 i386 arm"},
    {"linux", linux_arches,
     "amd64 i386 aarch64 aarch64_be armv6l armv7l armv7b ppc64 ppc64le s390x"},
};

static bool in_list(const char *const *l, const char *s)
{
        for (; *l; l++)
                if (strcmp(*l, s) == 0)
                        return true;
        return false;
}

int rk_os_arch_validate(const char *os, const char *arch, const char *ctx, rk_error *err)
{
        if (!os) {
                if (!arch)
                        return 0;
                for (size_t i = 0; i < ELEMENTSOF(os_arch); i++)
                        if (in_list(os_arch[i].arches, arch))
                                return 0;
                return rk_err(err, -EINVAL, RK_CTX_FMT "bad arch %s (not an arch of any known os)",
                              RK_CTX_ARG(ctx), RK_QUOTE(arch));
        }
        for (size_t i = 0; i < ELEMENTSOF(os_arch); i++) {
                if (strcmp(os_arch[i].os, os) != 0)
                        continue;
                if (arch && !in_list(os_arch[i].arches, arch))
                        return rk_err(err, -EINVAL,
                                      RK_CTX_FMT "bad arch %s for os %s (must be one of: %s)",
                                      RK_CTX_ARG(ctx), RK_QUOTE(arch), os, os_arch[i].list);
                return 0;
        }
        return rk_err(err, -EINVAL, RK_CTX_FMT "bad os %s (must be one of: darwin freebsd linux)",
                      RK_CTX_ARG(ctx), RK_QUOTE(os));
}

int rk_labels_validate(const struct rk_labels *l, const char *ctx, rk_error *err)
{
        char sub[256];
        const char *name = ctx ? ctx : "labels";

        if (!l || l->n == 0)
                return 0;
        _cleanup_free_ const char **names = calloc(l->n, sizeof(*names));
        if (!names)
                return rk_err(err, -ENOMEM, "%s: out of memory", name);
        for (size_t i = 0; i < l->n; i++) {
                snprintf(sub, sizeof(sub), "%s[%zu].name", name, i);
                int r = rk_ac_identifier_validate(l->v[i].name, sub, err);
                if (r < 0)
                        return r;
                if (strcmp(l->v[i].name, "name") == 0)
                        return rk_err(err, -EINVAL,
                                      "%s: label name 'name' is not allowed (the name is not a "
                                      "label)",
                                      sub);
                if (!l->v[i].value) {
                        snprintf(sub, sizeof(sub), "%s[%zu].value", name, i);
                        return rk_err(err, -EINVAL, "%s: label value must be set", sub);
                }
                names[i] = l->v[i].name;
        }
        const char *dup = NULL;
        int r = rk_strv_find_duplicate(names, l->n, &dup);
        if (r < 0)
                return rk_err(err, r, "%s: out of memory", name);
        if (r > 0)
                return rk_err(err, -EINVAL, "%s: duplicate label %s", name, RK_QUOTE(dup));
        return rk_os_arch_validate(rk_labels_get(l, "os"), rk_labels_get(l, "arch"), name, err);
}

/* ---- Quantities ---- */

#define QUANTITY_MAX_LEN    64
#define QUANTITY_MAX_DIGITS 19 /* significant digits; < 10^19 fits in uint64 */

struct suffix {
        const char *s;
        int dec; /* power of 10 */
        int bin; /* power of 2 */
};

static const struct suffix suffixes[] = {
    {"", 0, 0},    {"n", -9, 0},  {"u", -6, 0},  {"m", -3, 0},  {"k", 3, 0},   {"K", 3, 0},
    {"M", 6, 0},   {"G", 9, 0},   {"T", 12, 0},  {"P", 15, 0},  {"E", 18, 0},  {"Ki", 0, 10},
    {"Mi", 0, 20}, {"Gi", 0, 30}, {"Ti", 0, 40}, {"Pi", 0, 50}, {"Ei", 0, 60},
};

static bool parse_suffix(const char *p, int64_t *dec, int *bin)
{
        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++)
                if (strcmp(p, suffixes[i].s) == 0) {
                        *dec = suffixes[i].dec;
                        *bin = suffixes[i].bin;
                        return true;
                }
        /* exponent: e or E, optional sign, at least one digit ("1E" alone is exa, above) */
        if (*p != 'e' && *p != 'E')
                return false;
        p++;
        bool neg = false;
        if (*p == '+' || *p == '-')
                neg = *p++ == '-';
        if (!is_digit(*p))
                return false;
        int64_t e = 0;
        for (; is_digit(*p); p++)
                if (e < 100000) /* saturate: anything this large over- or underflows anyway */
                        e = e * 10 + (*p - '0');
        if (*p)
                return false;
        *dec = neg ? -e : e;
        *bin = 0;
        return true;
}

int rk_quantity_parse(const char *s, int64_t *ret_milli, const char *ctx, rk_error *err)
{
        if (!s || !*s)
                return rk_err(err, -EINVAL, RK_CTX_FMT "quantity must not be empty",
                              RK_CTX_ARG(ctx));
        if (strnlen(s, QUANTITY_MAX_LEN + 1) > QUANTITY_MAX_LEN)
                return rk_err(err, -EINVAL, RK_CTX_FMT "quantity %s is longer than %d characters",
                              RK_CTX_ARG(ctx), RK_QUOTE(s), QUANTITY_MAX_LEN);
        const char *p = s;
        if (*p == '-')
                return rk_err(err, -EINVAL, RK_CTX_FMT "quantity %s is negative", RK_CTX_ARG(ctx),
                              RK_QUOTE(s));
        if (*p == '+')
                p++;

        /* value = sig * 10^exp10, sig without trailing zeros (they are folded into exp10) */
        uint64_t sig = 0;
        int sig_digits = 0, pending_zeros = 0, frac_digits = 0;
        bool any_digit = false, in_frac = false;
        for (;; p++) {
                if (*p == '.' && !in_frac) {
                        in_frac = true;
                        continue;
                }
                if (!is_digit(*p))
                        break;
                any_digit = true;
                if (in_frac)
                        frac_digits++;
                if (*p == '0') {
                        if (sig_digits > 0)
                                pending_zeros++;
                        continue;
                }
                if (sig_digits + pending_zeros + 1 > QUANTITY_MAX_DIGITS)
                        return rk_err(err, -ERANGE,
                                      RK_CTX_FMT "quantity %s has more than %d significant digits",
                                      RK_CTX_ARG(ctx), RK_QUOTE(s), QUANTITY_MAX_DIGITS);
                for (; pending_zeros > 0; pending_zeros--, sig_digits++)
                        sig *= 10;
                sig = sig * 10 + (uint64_t)(*p - '0');
                sig_digits++;
        }
        if (!any_digit)
                goto bad;
        int64_t dec;
        int bin;
        if (!parse_suffix(p, &dec, &bin))
                goto bad;
        if (sig == 0) {
                *ret_milli = 0;
                return 0;
        }
        /* milli-units: value * 1000 = sig * 2^bin * 10^e, rounded up */
        int64_t e = (int64_t)pending_zeros - frac_digits + dec + 3;
        unsigned __int128 n = (unsigned __int128)sig << bin; /* < 2^124 */
        unsigned __int128 res;
        if (e >= 0) {
                res = n;
                for (int64_t i = 0; i < e && res <= INT64_MAX; i++)
                        res *= 10;
        } else if (e < -38) {
                res = 1; /* n < 2^124 < 10^38: a positive value below one milli-unit */
        } else {
                unsigned __int128 p10 = 1;
                for (int64_t i = 0; i < -e; i++)
                        p10 *= 10;
                res = n / p10 + (n % p10 ? 1 : 0);
        }
        if (res > INT64_MAX)
                return rk_err(err, -ERANGE, RK_CTX_FMT "quantity %s is too large", RK_CTX_ARG(ctx),
                              RK_QUOTE(s));
        *ret_milli = (int64_t)res;
        return 0;
bad:
        return rk_err(err, -EINVAL,
                      RK_CTX_FMT "%s is not a valid quantity (a number with an optional suffix: "
                                 "m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei or an exponent)",
                      RK_CTX_ARG(ctx), RK_QUOTE(s));
}

/* ---- UUIDs ---- */

int rk_uuid_parse(const char *s, struct rk_uuid *ret, rk_error *err)
{
        struct rk_uuid u = {{0}};
        size_t n = s ? strnlen(s, RK_UUID_STRING_MAX) : 0;
        bool dashed = n == 36;
        size_t k = 0;
        bool nonzero = false;

        if (n != 32 && n != 36)
                goto bad;
        for (size_t i = 0; i < n;) {
                if (dashed && (i == 8 || i == 13 || i == 18 || i == 23)) {
                        if (s[i] != '-')
                                goto bad;
                        i++;
                        continue;
                }
                if (!is_hex(s[i]) || !is_hex(s[i + 1]))
                        goto bad;
                u.b[k] = (uint8_t)(hex_val(s[i]) << 4 | hex_val(s[i + 1]));
                nonzero |= u.b[k] != 0;
                k++;
                i += 2;
        }
        if (!nonzero)
                return rk_err(err, -EINVAL, "UUID %s: the all-zero UUID is not allowed",
                              RK_QUOTE(s));
        *ret = u;
        return 0;
bad:
        return rk_err(err, -EINVAL,
                      "%s is not a valid UUID (32 hex digits, optionally as 8-4-4-4-12)",
                      RK_QUOTE(s));
}

void rk_uuid_format(const struct rk_uuid *u, char out[37])
{
        const uint8_t *b = u->b;
        snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
                 b[13], b[14], b[15]);
}

int rk_uuid_generate(struct rk_uuid *ret, rk_error *err)
{
        struct rk_uuid u;
        size_t got = 0;

        while (got < sizeof(u.b)) {
                ssize_t r = getrandom(u.b + got, sizeof(u.b) - got, 0);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return rk_err_errno(err, negative_errno(), "cannot generate a UUID");
                }
                got += (size_t)r;
        }
        u.b[6] = (uint8_t)((u.b[6] & 0x0f) | 0x40); /* version 4 */
        u.b[8] = (uint8_t)((u.b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
        *ret = u;
        return 0;
}

/* ---- Timestamps ---- */

static bool digits(const char *s, size_t n, int *out)
{
        int v = 0;
        for (size_t i = 0; i < n; i++) {
                if (!is_digit(s[i]))
                        return false;
                v = v * 10 + (s[i] - '0');
        }
        *out = v;
        return true;
}

static bool is_leap(int y)
{
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        int64_t yoe = y - era * 400;
        int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

int rk_timestamp_parse(const char *s, struct timespec *ret, const char *ctx, rk_error *err)
{
        static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int Y, M, D, h, m, sec, oh = 0, om = 0;
        long nsec = 0;

        if (!s || strnlen(s, 64) >= 64)
                goto bad;
        /* 2006-01-02T15:04:05 */
        if (!digits(s, 4, &Y) || s[4] != '-' || !digits(s + 5, 2, &M) || s[7] != '-' ||
            !digits(s + 8, 2, &D) || s[10] != 'T' || !digits(s + 11, 2, &h) || s[13] != ':' ||
            !digits(s + 14, 2, &m) || s[16] != ':' || !digits(s + 17, 2, &sec))
                goto bad;
        const char *p = s + 19;
        if (*p == '.') {
                int n = 0;
                for (p++; is_digit(*p); p++, n++) {
                        if (n >= 9)
                                goto bad;
                        nsec = nsec * 10 + (*p - '0');
                }
                if (n == 0)
                        goto bad;
                for (; n < 9; n++)
                        nsec *= 10;
        }
        int sign = 0;
        if (*p == 'Z') {
                p++;
        } else if (*p == '+' || *p == '-') {
                sign = *p == '+' ? 1 : -1;
                if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om))
                        goto bad;
                p += 6;
        } else {
                goto bad;
        }
        if (*p)
                goto bad;
        if (M < 1 || M > 12 || D < 1 || D > mdays[M - 1] + (M == 2 && is_leap(Y)) || h > 23 ||
            m > 59 || sec > 59 || oh > 23 || om > 59)
                return rk_err(err, -EINVAL, RK_CTX_FMT "timestamp %s is out of range",
                              RK_CTX_ARG(ctx), RK_QUOTE(s));
        int64_t t = days_from_civil(Y, M, D) * 86400 + h * 3600 + m * 60 + sec;
        t -= sign * (oh * 3600 + om * 60);
        ret->tv_sec = (time_t)t;
        ret->tv_nsec = nsec;
        return 0;
bad:
        return rk_err(err, -EINVAL,
                      RK_CTX_FMT "%s is not an RFC 3339 timestamp "
                                 "(like 2014-10-27T19:32:27.67021798Z)",
                      RK_CTX_ARG(ctx), RK_QUOTE(s));
}

void rk_timestamp_format(const struct timespec *ts, char out[40])
{
        struct tm tm;
        time_t t = ts->tv_sec;

        if (!gmtime_r(&t, &tm) || ts->tv_nsec < 0 || ts->tv_nsec > 999999999) {
                snprintf(out, 40, "invalid-time");
                return;
        }
        int n = snprintf(out, 40, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        if (n < 0 || n >= 40 - 11)
                return;
        if (ts->tv_nsec) {
                char frac[11];
                snprintf(frac, sizeof(frac), ".%09ld", ts->tv_nsec);
                size_t fl = strlen(frac);
                while (frac[fl - 1] == '0')
                        frac[--fl] = 0;
                memcpy(out + n, frac, fl);
                n += (int)fl;
        }
        out[n++] = 'Z';
        out[n] = 0;
}

/* ---- Environment names, URLs, paths ---- */

int rk_env_name_validate(const char *s, const char *ctx, rk_error *err)
{
        if (!s || !*s)
                return rk_err(err, -EINVAL,
                              RK_CTX_FMT "environment variable name must not be empty",
                              RK_CTX_ARG(ctx));
        size_t n = strnlen(s, RK_ACI_NAME_MAX + 1);
        if (n > RK_ACI_NAME_MAX)
                return rk_err(err, -EINVAL,
                              RK_CTX_FMT
                              "environment variable name %s is longer than %d characters",
                              RK_CTX_ARG(ctx), RK_QUOTE(s), RK_ACI_NAME_MAX);
        bool ok = is_alpha(s[0]) || s[0] == '_';
        for (size_t i = 1; ok && i < n; i++)
                ok = is_alpha(s[i]) || is_digit(s[i]) || s[i] == '_' || s[i] == '.' || s[i] == '-';
        if (!ok)
                return rk_err(err, -EINVAL,
                              RK_CTX_FMT "%s is not a valid environment variable name "
                                         "(^[A-Za-z_][A-Za-z_0-9.-]*$)",
                              RK_CTX_ARG(ctx), RK_QUOTE(s));
        return 0;
}

static bool url_char(char c)
{
        return is_alpha(c) || is_digit(c) || (c && strchr("-._~:/?#[]@!$&'()*+,;=", c));
}

int rk_url_validate(const char *s, const char *ctx, rk_error *err)
{
        const char *why = NULL;
        size_t n = s ? strnlen(s, RK_URL_MAX + 1) : 0;
        size_t skip;

        if (n == 0)
                return rk_err(err, -EINVAL, RK_CTX_FMT "URL must not be empty", RK_CTX_ARG(ctx));
        if (n > RK_URL_MAX)
                return rk_err(err, -EINVAL, RK_CTX_FMT "URL %s is longer than %d characters",
                              RK_CTX_ARG(ctx), RK_QUOTE(s), RK_URL_MAX);
        if (strncasecmp(s, "http://", 7) == 0)
                skip = 7;
        else if (strncasecmp(s, "https://", 8) == 0)
                skip = 8;
        else
                return rk_err(err, -EINVAL, RK_CTX_FMT "bad URL scheme in %s, must be http/https",
                              RK_CTX_ARG(ctx), RK_QUOTE(s));
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '%') {
                        if (!is_hex(s[i + 1]) || !is_hex(s[i + 2])) {
                                why = "bad %-escape";
                                goto bad;
                        }
                        i += 2;
                } else if (!url_char(s[i])) {
                        why = "character not allowed in a URL";
                        goto bad;
                }
        }
        /* authority: up to the first / ? #; host after the last @ */
        const char *a = s + skip;
        size_t alen = strcspn(a, "/?#");
        const char *host = a;
        for (size_t i = 0; i < alen; i++)
                if (a[i] == '@')
                        host = a + i + 1;
        size_t hlen = alen - (size_t)(host - a);
        const char *port = NULL;
        if (hlen > 0 && host[0] == '[') {
                const char *rb = memchr(host, ']', hlen);
                if (!rb) {
                        why = "unterminated IPv6 literal";
                        goto bad;
                }
                if (rb + 1 < host + hlen) {
                        if (rb[1] != ':') {
                                why = "junk after IPv6 literal";
                                goto bad;
                        }
                        port = rb + 2;
                }
                if (rb == host + 1) {
                        why = "empty host";
                        goto bad;
                }
        } else {
                const char *colon = memchr(host, ':', hlen);
                if (colon)
                        port = colon + 1;
                if (hlen == 0 || colon == host) {
                        why = "empty host";
                        goto bad;
                }
        }
        if (port) {
                size_t plen = (size_t)(host + hlen - port);
                if (plen == 0 || plen > 5) {
                        why = "bad port";
                        goto bad;
                }
                long pv = 0;
                for (size_t i = 0; i < plen; i++) {
                        if (!is_digit(port[i])) {
                                why = "bad port";
                                goto bad;
                        }
                        pv = pv * 10 + (port[i] - '0');
                }
                if (pv > 65535) {
                        why = "bad port";
                        goto bad;
                }
        }
        return 0;
bad:
        return rk_err(err, -EINVAL, RK_CTX_FMT "%s is not a valid http/https URL: %s",
                      RK_CTX_ARG(ctx), RK_QUOTE(s), why);
}

int rk_abs_path_validate(const char *s, const char *ctx, rk_error *err)
{
        if (!s || !*s)
                return rk_err(err, -EINVAL, RK_CTX_FMT "path must not be empty", RK_CTX_ARG(ctx));
        size_t n = strnlen(s, RK_PATH_MAX + 1);
        if (n > RK_PATH_MAX)
                return rk_err(err, -EINVAL, RK_CTX_FMT "path %s is longer than %d bytes",
                              RK_CTX_ARG(ctx), RK_QUOTE(s), RK_PATH_MAX);
        if (s[0] != '/')
                return rk_err(err, -EINVAL, RK_CTX_FMT "%s is not an absolute path",
                              RK_CTX_ARG(ctx), RK_QUOTE(s));
        for (const char *p = s; *p;) {
                while (*p == '/')
                        p++;
                size_t c = strcspn(p, "/");
                if ((c == 1 && p[0] == '.') || (c == 2 && p[0] == '.' && p[1] == '.'))
                        return rk_err(err, -EINVAL,
                                      RK_CTX_FMT "path %s must not contain \".\" or \"..\" "
                                                 "components",
                                      RK_CTX_ARG(ctx), RK_QUOTE(s));
                p += c;
        }
        return 0;
}
