/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Image manifest (appc aci.md) and pod manifest (appc pods.md): parse, validate, serialise.
 * Parsing keeps the document (json) so that unknown keys survive a round trip untouched where
 * that matters; serialisation is canonical (schema key order, compact). Unknown isolators are
 * kept, and listed in unknown_isolators so the CLI can report them. */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "aci/isolator.h"
#include "aci/types.h"
#include "base/error.h"

#define RK_MANIFEST_MAX (1 << 20) /* 1 MiB: bigger manifests are refused */

struct rk_name_value {
        char *name;
        char *value;
};
struct rk_name_values {
        struct rk_name_value *v;
        size_t n;
};

struct rk_event_handler {
        char *name; /* "pre-start" or "post-stop" */
        char **exec;
        size_t n_exec;
};

struct rk_mount_point {
        char *name;
        char *path;
        bool read_only;
};

struct rk_port {
        char *name;
        char *protocol;
        uint32_t port;
        uint32_t count;
        bool socket_activated;
};

struct rk_app {
        char **exec; /* may be empty (n_exec == 0) */
        size_t n_exec;
        char *user;
        char *group;
        uint32_t *supplementary_gids;
        size_t n_supplementary_gids;
        struct rk_event_handler *event_handlers;
        size_t n_event_handlers;
        char *working_directory; /* NULL = "/" */
        struct rk_name_values environment;
        struct rk_isolators isolators;
        struct rk_mount_point *mount_points;
        size_t n_mount_points;
        struct rk_port *ports;
        size_t n_ports;
        json_t *user_annotations; /* object or NULL, kept verbatim */
        json_t *user_labels;      /* object or NULL, kept verbatim */
};

struct rk_dependency {
        char *image_name;
        char *image_id; /* NULL if absent */
        struct rk_labels labels;
        uint64_t size; /* 0 if absent */
        bool has_size;
};

struct rk_image_manifest {
        char *ac_version;
        char *name;
        struct rk_labels labels;
        struct rk_app *app; /* NULL if absent */
        struct rk_dependency *dependencies;
        size_t n_dependencies;
        char **path_whitelist; /* absolute paths, as written */
        size_t n_path_whitelist;
        struct rk_name_values annotations;
        /* names of isolators this implementation does not know (kept, reported) */
        char **unknown_isolators;
        size_t n_unknown_isolators;
};

int rk_image_manifest_parse(const char *what, const void *buf, size_t len,
                            struct rk_image_manifest **ret, rk_error *err);
struct rk_image_manifest *rk_image_manifest_free(struct rk_image_manifest *m);
/* Canonical compact JSON (schema key order, defaults made explicit where appc's builder makes
 * them so, no trailing newline). */
int rk_image_manifest_serialize(const struct rk_image_manifest *m, char **ret, size_t *ret_len,
                                rk_error *err);
json_t *rk_image_manifest_to_json(const struct rk_image_manifest *m);

/* ---- pod manifest ---- */

struct rk_pod_app {
        char *name;
        char *image_name; /* NULL if absent */
        char *image_id;
        struct rk_labels image_labels;
        struct rk_app *app; /* NULL: use the image's */
        bool read_only_rootfs;
        struct rk_pod_mount *mounts;
        size_t n_mounts;
        struct rk_name_values annotations;
};

struct rk_volume {
        char *name;
        char *kind; /* "host" or "empty" */
        char *source;
        bool read_only, has_read_only;
        bool recursive, has_recursive;
        char *mode; /* empty volumes: octal string, default "0755" */
        uint32_t uid, gid;
        bool has_uid, has_gid;
};

struct rk_pod_mount {
        char *volume;
        char *path;
        struct rk_volume *app_volume; /* NULL if absent */
};

struct rk_pod_port {
        char *name;
        uint32_t host_port;
        char *host_ip;            /* NULL if absent */
        struct rk_port *pod_port; /* NULL if absent */
};

struct rk_pod_manifest {
        char *ac_version;
        struct rk_pod_app *apps;
        size_t n_apps;
        struct rk_volume *volumes;
        size_t n_volumes;
        struct rk_isolators isolators;
        struct rk_name_values annotations;
        struct rk_pod_port *ports;
        size_t n_ports;
        json_t *user_annotations;
        json_t *user_labels;
        char **unknown_isolators;
        size_t n_unknown_isolators;
};

/* Parses any schema-valid pod manifest (a template may lack image IDs). */
int rk_pod_manifest_parse(const char *what, const void *buf, size_t len,
                          struct rk_pod_manifest **ret, rk_error *err);
/* Additional checks for a reified, runnable manifest: at least one app, every app named and
 * referenced by image ID, every mount's volume defined. */
int rk_pod_manifest_validate_runnable(const struct rk_pod_manifest *m, rk_error *err);
struct rk_pod_manifest *rk_pod_manifest_free(struct rk_pod_manifest *m);
int rk_pod_manifest_serialize(const struct rk_pod_manifest *m, char **ret, size_t *ret_len,
                              rk_error *err);
json_t *rk_pod_manifest_to_json(const struct rk_pod_manifest *m);
