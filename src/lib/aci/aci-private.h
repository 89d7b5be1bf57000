/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Helpers shared by isolator.c, app.c, manifest.c and pod-manifest.c; not part of the aci API.
 *
 * Field paths: every value is named by its JSON path from the document root
 * ("app.ports[1].port"); rk_field() and rk_index() build them into caller buffers. The
 * document itself ("image manifest 'x.aci'") is prefixed once, at the top.
 *
 * Getters: a member that is absent or JSON null counts as absent (appc's Go code writes
 * "volumes": null and "exec": null); absent and required is an error; present with the wrong
 * type is an error. They return 0 (absent), 1 (present) or -EBADMSG. */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "aci/manifest.h"
#include "base/error.h"
#include "base/json.h"

#define RK_FIELD_MAX 256

DEFINE_CLEANUP(struct rk_app *, rk_app_free)

const char *rk_field(char buf[RK_FIELD_MAX], const char *parent, const char *key);
const char *rk_index(char buf[RK_FIELD_MAX], const char *parent, size_t i);

const char *rk_json_type_name(const json_t *v);

int rk_get(const json_t *obj, const char *key, json_type type, bool required, const char *parent,
           json_t **out, rk_error *err);
int rk_get_str(const json_t *obj, const char *key, bool required, const char *parent,
               const char **out, rk_error *err);
int rk_get_bool(const json_t *obj, const char *key, bool required, const char *parent, bool *out,
                rk_error *err);
/* A JSON integer in [min, max]; the range error names the value. */
int rk_get_int(const json_t *obj, const char *key, bool required, int64_t min, int64_t max,
               const char *parent, int64_t *out, rk_error *err);
int rk_get_array(const json_t *obj, const char *key, bool required, const char *parent,
                 json_t **out, rk_error *err);
int rk_get_object(const json_t *obj, const char *key, bool required, const char *parent,
                  json_t **out, rk_error *err);
/* The value at path must be an object. */
int rk_expect_object(const json_t *v, const char *path, rk_error *err);

/* A validator's -EINVAL/-ERANGE becomes -EBADMSG: inside a manifest, any bad value makes the
 * document malformed. */
int rk_bad(rk_error *err, int r);

/* Array of strings (each a JSON string) at path; empty array gives n = 0 and v = NULL. */
int rk_strv_from_json(const json_t *arr, const char *path, char ***ret, size_t *ret_n,
                      rk_error *err);
void rk_strv_free_n(char **v, size_t n);
json_t *rk_strv_to_json(char *const *v, size_t n);

/* String with no control characters (bytes < 0x20 or 0x7f), non-empty, at most max bytes. */
int rk_check_plain(const char *s, size_t max, const char *path, rk_error *err);

/* {"name": ..., "value": ...} lists. */
int rk_name_values_from_json(const json_t *arr, const char *path, struct rk_name_values *ret,
                             rk_error *err);
json_t *rk_name_values_to_json(const struct rk_name_values *l);
int rk_labels_from_json(const json_t *arr, const char *path, struct rk_labels *ret, rk_error *err);
json_t *rk_labels_to_json(const struct rk_labels *l);
/* An object whose members are all strings, deep-copied (userAnnotations, userLabels). */
int rk_string_map_from_json(const json_t *obj, const char *path, json_t **ret, rk_error *err);

int rk_port_from_json(const json_t *obj, const char *path, struct rk_port *ret, rk_error *err);
void rk_port_clear(struct rk_port *p);
json_t *rk_port_to_json(const struct rk_port *p);

/* Append the names of unknown isolators in l to (*v, *n, capacity *cap); rk_strv_dedup() then
 * drops repeats, keeping first occurrences in order. Both O(n log n) overall: a hostile manifest
 * can carry tens of thousands of isolators. */
int rk_unknown_isolators_collect(const struct rk_isolators *l, char ***v, size_t *n, size_t *cap);
int rk_strv_dedup(char **v, size_t *n);

/* Set key to v (stealing it); a NULL v counts as failure. Returns 0 or -1. */
int rk_json_set(json_t *obj, const char *key, json_t *v);

/* Escape control and non-ASCII bytes in err->msg (\xNN), keeping it one printable line: jansson's
 * "near '...'" text quotes the hostile input raw. */
void rk_err_sanitize(rk_error *err);

/* "image manifest 'x.aci'" */
void rk_doc_label(char *buf, size_t size, const char *kind, const char *what);

#define RK_DOC_LABEL_MAX 160
/* Shared first step of both manifest parsers: label the document ("image manifest 'x'"),
 * parse it with rk_json_parse (RK_MANIFEST_MAX, duplicate keys refused), require an object. */
int rk_manifest_doc(const char *kind, const char *what, const void *buf, size_t len,
                    char label[RK_DOC_LABEL_MAX], json_t **ret, rk_error *err);
