/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Image manifest (appc aci.md) and pod manifest (appc pods.md): parse, validate, serialise.
 * Serialisation is canonical (schema key order, compact, absent optional fields omitted), so
 * serialise(parse(serialise(parse(x)))) == serialise(parse(x)) byte for byte. Unknown keys are
 * ignored on input and dropped on output; isolator values, userAnnotations and userLabels are
 * kept as given. Unknown isolators are kept, and listed in unknown_isolators so the CLI can
 * report them.
 *
 * Input rules (appc.md sections 3, 4, 6, with the [!] items decided the strict way): keys
 * match exactly ("supplementaryGids" is accepted as an alias of "supplementaryGIDs"), duplicate
 * keys are refused, an optional member that is JSON null counts as absent (appc's Go code
 * writes "volumes": null), every identifier, name, path, port, id and annotation is checked.
 *
 * Errors: parse returns -EFBIG over RK_MANIFEST_MAX, -EBADMSG for anything malformed or
 * invalid, -ENOMEM. The message is one line naming the document, the field and the value:
 * "image manifest 'x.aci': app.ports[1].port: 70000 is out of range 1..65535". what names the
 * source (a file or image name); NULL gives just "image manifest". */

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

/* The app object shared by both manifests (appc.md 3.1). path names it in messages ("app",
 * "apps[0].app"). *ret untouched on failure. */
int rk_app_parse(const json_t *obj, const char *path, struct rk_app **ret, rk_error *err);
struct rk_app *rk_app_free(struct rk_app *a);
json_t *rk_app_to_json(const struct rk_app *a);

void rk_name_values_clear(struct rk_name_values *l);
const char *rk_name_values_get(const struct rk_name_values *l, const char *name);
/* Annotations: names AC identifiers and unique; created must be an RFC 3339 timestamp,
 * homepage and documentation http/https URLs, appc.io/executor/supports-systemd-notify "true" or
 * "false". path names the list. -EINVAL on failure. */
int rk_annotations_validate(const struct rk_name_values *l, const char *path, rk_error *err);

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
/* Returns NULL, so m = rk_image_manifest_free(m). */
struct rk_image_manifest *rk_image_manifest_free(struct rk_image_manifest *m);
/* Canonical compact JSON (schema key order, defaults made explicit where appc's builder makes
 * them so: ports carry count and socketActivated; no trailing newline). Key order: acKind,
 * acVersion, name, labels, app, dependencies, pathWhitelist, annotations; app: exec, user,
 * group, supplementaryGIDs, eventHandlers, workingDirectory, environment, isolators,
 * mountPoints, ports, userAnnotations, userLabels. -EINVAL if m cannot be represented (a
 * string that is not UTF-8), -ENOMEM. */
int rk_image_manifest_serialize(const struct rk_image_manifest *m, char **ret, size_t *ret_len,
                                rk_error *err);
/* A new JSON object (NULL on failure), in the canonical key order. */
json_t *rk_image_manifest_to_json(const struct rk_image_manifest *m);

/* ---- pod manifest ---- */

struct rk_pod_app {
        char *name;       /* NULL if absent (template only) */
        char *image_name; /* NULL if absent */
        char *image_id;   /* NULL if absent (template only) */
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

/* Parses any schema-valid pod manifest (a template may lack app names and image IDs). Messages
 * start "pod manifest '<what>'". Key order on output: acVersion, acKind, apps, volumes,
 * isolators, annotations, ports, userAnnotations, userLabels; apps[]: name, image (name, id,
 * labels), app, readOnlyRootFS, mounts (volume, path, appVolume), annotations. "apps" is always
 * written. */
int rk_pod_manifest_parse(const char *what, const void *buf, size_t len,
                          struct rk_pod_manifest **ret, rk_error *err);
/* Additional checks for a reified, runnable manifest: at least one app, every app named and
 * referenced by image ID, every mount's volume defined (in volumes, or given as appVolume), and
 * for apps that carry their app object, every mountPoint satisfied by a mount with the same path
 * (appc pods.md: "all mountPoints satisfied by volumes"). -EINVAL, message starting
 * "pod manifest: ". */
int rk_pod_manifest_validate_runnable(const struct rk_pod_manifest *m, rk_error *err);
struct rk_pod_manifest *rk_pod_manifest_free(struct rk_pod_manifest *m);
int rk_pod_manifest_serialize(const struct rk_pod_manifest *m, char **ret, size_t *ret_len,
                              rk_error *err);
json_t *rk_pod_manifest_to_json(const struct rk_pod_manifest *m);
