/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Rendering an image with dependencies (appc aci.md "Dependencies", ace.md "Filesystem
 * Setup"): the order in which layers are extracted and what each may contribute.
 *
 * Order. Layers are listed top-down, the image first; each image is followed by its
 * dependencies, last dependency first, each with its own dependencies after it. For
 * A -> [B, C], C -> [D] that is A, C, D, B: the spec's bottom-up order B, D, C, A reversed, so
 * that "the first layer to provide a path wins" (rk_aci_extract) equals "later layers
 * overwrite earlier ones". A dependency reached twice (a diamond) is listed twice, once per
 * path, each time with that path's whitelists (A -> [B, C], B -> [D], C -> [D] gives
 * A, C, D, B, D).
 *
 * Whitelists (the reference renderer's semantics, appc pkg/acirenderer): an image's own
 * pathWhitelist filters its non-directories only; the pathWhitelists of the images above it on
 * its path (every one of them: the spec says a file "may be filtered by that image's whitelist
 * and by the whitelists of the images that depend on it") filter all its entries, directories
 * included. Entries are compared exactly after cleaning: "/etc/" names the directory /etc, not
 * what is below it. The reference renderer applies only the topmost ancestor's list and can
 * pick up a sibling's list by mistake; this implementation intersects the lists of the actual
 * ancestors. */

#include <stddef.h>

#include "aci/archive.h"
#include "aci/manifest.h"
#include "base/error.h"

#define RK_RENDER_MAX_LAYERS RK_ACI_MAX_LAYERS
#define RK_RENDER_MAX_DEPTH  RK_ACI_MAX_LAYERS

struct rk_render_layer {
        char *image_id;
        const struct rk_image_manifest *manifest; /* borrowed from the resolver */
        unsigned level;                           /* 0 = the image itself */
        /* NULL = keep every non-directory; else only these (own pathWhitelist intersected with
         * the ancestors'), cleaned, absolute, sorted */
        char **whitelist;
        size_t n_whitelist;
        /* NULL = no ancestor has a pathWhitelist; else every entry, directories included, must
         * be listed (the intersection of the ancestors' lists) */
        char **upper_whitelist;
        size_t n_upper_whitelist;
};

/* Resolve a dependency to an image ID and its manifest (borrowed: it must outlive the plan).
 * If dep->image_id is set the result must be that image. */
typedef int (*rk_render_resolve_fn)(void *userdata, const struct rk_dependency *dep,
                                    char ret_id[RK_IMAGE_ID_LEN + 1],
                                    const struct rk_image_manifest **ret_manifest, rk_error *err);

/* Compute the render order of image_id (manifest m) and each layer's whitelists. Refuses
 * cycles (an image among its own ancestors), more than RK_RENDER_MAX_DEPTH levels and more
 * than RK_RENDER_MAX_LAYERS layers. */
int rk_render_plan(const char *image_id, const struct rk_image_manifest *m,
                   rk_render_resolve_fn resolve, void *userdata, struct rk_render_layer **ret,
                   size_t *ret_n, rk_error *err);
struct rk_render_layer *rk_render_plan_free(struct rk_render_layer *layers, size_t n);

/* Fill an extractor layer from a plan layer (pointers borrowed from rl; fd and what from the
 * caller, expect_id = the layer's image ID). */
void rk_render_layer_to_aci(const struct rk_render_layer *rl, int fd, const char *what,
                            struct rk_aci_layer *ret);
