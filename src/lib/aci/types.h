/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* appc shared types (appc spec types.md), with the spec's grammar enforced exactly. Every
 * validator returns 0 or a negative errno (-EINVAL for a bad value, -ERANGE for a number that
 * does not fit) with a message naming the value and the rule it breaks. ctx names where the
 * value came from ("app.ports[1].name"); it may be NULL. Values are quoted in messages with
 * rk_quote(), so a hostile value cannot inject control characters or run on for pages. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/error.h"

#define RK_ACI_NAME_MAX 512  /* longest identifier/name we accept */
#define RK_URL_MAX      2048 /* longest URL we accept */
#define RK_PATH_MAX     4095 /* longest absolute path we accept */

/* "ctx: " (or nothing without a ctx) for messages: rk_err(err, -EINVAL, RK_CTX_FMT "...",
 * RK_CTX_ARG(ctx), ...). */
#define RK_CTX_FMT    "%s%s"
#define RK_CTX_ARG(c) ((c) ? (c) : ""), ((c) ? ": " : "")

/* Quote an untrusted value for a message: 'value', with \, \' and every byte outside printable
 * ASCII escaped (\xNN), cut at size with "...". size must be at least 8. Returns buf. */
#define RK_QUOTE_SIZE 80
const char *rk_quote(const char *s, char *buf, size_t size);
/* rk_quote() into a temporary that lives until the end of the enclosing block. */
#define RK_QUOTE(s) rk_quote((s), (char[RK_QUOTE_SIZE]){0}, RK_QUOTE_SIZE)

/* Find a string that occurs twice in v (NULL entries are skipped). Returns 1 and sets *ret_dup to
 * one of the duplicates, 0 if all are distinct, -ENOMEM. O(n log n). */
int rk_strv_find_duplicate(const char *const *v, size_t n, const char **ret_dup);

/* AC Identifier: ^[a-z0-9]+([-._~/][a-z0-9]+)*$, except that "/~" is also a separator: the
 * spec's own examples ("example.com/~user/app_v1") need it. "a--b", "a._b", "a/.b" and "x//y"
 * are refused (appc's Go code accepted them). */
int rk_ac_identifier_validate(const char *s, const char *ctx, rk_error *err);
/* AC Name: ^[a-z0-9]+([-][a-z0-9]+)*$ */
int rk_ac_name_validate(const char *s, const char *ctx, rk_error *err);
/* AC Kind: "ImageManifest" or "PodManifest". */
int rk_ac_kind_validate(const char *s, const char *want, const char *ctx, rk_error *err);

/* SemVer 2.0.0: MAJOR.MINOR.PATCH[-pre][+build], no leading zeros, not 0.0.0. */
struct rk_semver {
        uint64_t major, minor, patch;
        char pre[128];
        char build[128];
};
int rk_semver_parse(const char *s, struct rk_semver *ret, const char *ctx, rk_error *err);
/* acVersion: semver with major 0 (appc is frozen at 0.8.x). */
int rk_ac_version_validate(const char *s, const char *ctx, rk_error *err);

/* Image ID: "sha512-" + 128 lowercase hex (strict form, for manifests we produce or verify). */
int rk_image_id_validate(const char *s, const char *ctx, rk_error *err);
/* An image ID or a unique prefix of one as typed by a user: "sha512-" + 2..128 lowercase hex. */
int rk_image_id_prefix_validate(const char *s, const char *ctx, rk_error *err);

/* Labels: a name/value list, names AC Identifiers, unique, "name" forbidden; os/arch checked
 * against the appc whitelist (linux: amd64 i386 aarch64 aarch64_be armv6l armv7l armv7b ppc64
 * ppc64le s390x; freebsd: amd64 i386 arm; darwin: x86_64 i386). */
struct rk_label {
        char *name;
        char *value;
};
struct rk_labels {
        struct rk_label *v;
        size_t n;
};
void rk_labels_clear(struct rk_labels *l);
const char *rk_labels_get(const struct rk_labels *l, const char *name);
/* Every rule above; ctx names the list ("labels"), entries are reported as ctx[i].name. */
int rk_labels_validate(const struct rk_labels *l, const char *ctx, rk_error *err);
/* os may be NULL (no os label): arch (if any) must then be an arch of some known os. */
int rk_os_arch_validate(const char *os, const char *arch, const char *ctx, rk_error *err);

/* Resource quantity (Kubernetes grammar, accepting K as well as k). The value is kept in
 * milli-units, rounded up: "500m" -> 500, "1" -> 1000, "1Ki" -> 1024000. Negative values are
 * refused (-EINVAL), values whose milli-units do not fit in int64 too (-ERANGE), and so are
 * mantissas with more than 19 significant digits (-ERANGE: no exact arithmetic for them).
 * Grammar: [+]digits[.digits] | [+]digits. | [+].digits, then one suffix: n u m k K M G T P E,
 * Ki Mi Gi Ti Pi Ei, or e/E followed by a signed integer exponent. */
int rk_quantity_parse(const char *s, int64_t *ret_milli, const char *ctx, rk_error *err);

/* RFC 4122 UUID, canonical 8-4-4-4-12 lowercase; parse also accepts no dashes / uppercase;
 * all-zero refused. */
struct rk_uuid {
        uint8_t b[16];
};
#define RK_UUID_STRING_MAX 37
int rk_uuid_parse(const char *s, struct rk_uuid *ret, rk_error *err);
void rk_uuid_format(const struct rk_uuid *u, char out[37]);
int rk_uuid_generate(struct rk_uuid *ret, rk_error *err); /* random, version 4 */

/* RFC 3339 date-time with a literal 'T' and a zone (Z or +hh:mm): years 0000..9999, seconds
 * 00..59 (no leap second), 1..9 fraction digits. */
int rk_timestamp_parse(const char *s, struct timespec *ret, const char *ctx, rk_error *err);
/* Formats as UTC "2006-01-02T15:04:05.999999999Z" (fraction trimmed). */
void rk_timestamp_format(const struct timespec *ts, char out[40]);

/* Environment variable name: ^[A-Za-z_][A-Za-z_0-9.-]*$ */
int rk_env_name_validate(const char *s, const char *ctx, rk_error *err);
/* http/https URL (annotations homepage, documentation): scheme http or https (any case), a
 * non-empty host, an optional numeric port, only RFC 3986 characters, valid %-escapes. */
int rk_url_validate(const char *s, const char *ctx, rk_error *err);
/* Absolute path without "." or ".." components, at most RK_PATH_MAX bytes. Empty components
 * ("/a//b", "/etc/systemd/system/") are allowed. */
int rk_abs_path_validate(const char *s, const char *ctx, rk_error *err);
