/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* appc shared types (appc spec types.md), with the spec's grammar enforced exactly. Every
 * validator returns 0 or a negative errno (-EINVAL for a bad value) with a message naming
 * the value and the rule it breaks. ctx names where the value came from ("image manifest:
 * name"); it may be NULL. */

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "base/error.h"

#define RK_ACI_NAME_MAX 512 /* longest identifier/name we accept */

/* AC Identifier: ^[a-z0-9]+([-._~/][a-z0-9]+)*$ */
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
int rk_os_arch_validate(const char *os, const char *arch, const char *ctx, rk_error *err);

/* Resource quantity (Kubernetes grammar, accepting K as well as k). The value is kept in
 * milli-units, rounded up: "500m" -> 500, "1" -> 1000, "1Ki" -> 1024000. Negative values are
 * refused. */
int rk_quantity_parse(const char *s, int64_t *ret_milli, const char *ctx, rk_error *err);

/* RFC 4122 UUID, canonical 8-4-4-4-12 lowercase; parse also accepts no dashes / uppercase;
 * all-zero refused. */
struct rk_uuid {
        uint8_t b[16];
};
int rk_uuid_parse(const char *s, struct rk_uuid *ret, rk_error *err);
void rk_uuid_format(const struct rk_uuid *u, char out[37]);
int rk_uuid_generate(struct rk_uuid *ret, rk_error *err); /* random, version 4 */

/* RFC 3339 date-time with a literal 'T' and a zone (Z or +hh:mm). */
int rk_timestamp_parse(const char *s, struct timespec *ret, const char *ctx, rk_error *err);
/* Formats as UTC "2006-01-02T15:04:05.999999999Z" (fraction trimmed). */
void rk_timestamp_format(const struct timespec *ts, char out[40]);

/* Environment variable name: ^[A-Za-z_][A-Za-z_0-9.-]*$ */
int rk_env_name_validate(const char *s, const char *ctx, rk_error *err);
/* http/https URL (annotations homepage, documentation). */
int rk_url_validate(const char *s, const char *ctx, rk_error *err);
/* Absolute path without NUL, "." or ".." components. */
int rk_abs_path_validate(const char *s, const char *ctx, rk_error *err);
