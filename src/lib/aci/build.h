/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Deterministic ACI builder: an image layout directory (manifest + rootfs/) becomes an ACI whose
 * image ID depends only on the content: entries sorted bytewise, owners and times normalised
 * unless asked otherwise, the manifest re-serialised canonically and written first. */

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "base/hash.h"

enum rk_compression {
        RK_COMPRESS_GZIP = 0,
        RK_COMPRESS_NONE,
        RK_COMPRESS_BZIP2,
        RK_COMPRESS_XZ,
        RK_COMPRESS_ZSTD,
};

int rk_compression_from_string(const char *s, enum rk_compression *ret);

struct rk_build_opts {
        enum rk_compression compression;
        bool preserve_owners; /* keep numeric uid/gid; default: 0:0 */
        bool preserve_times;  /* keep mtimes; default: every entry gets mtime */
        int64_t mtime;        /* normalised time (SOURCE_DATE_EPOCH, default 0) */
};

struct rk_build_stats {
        uint64_t entries, files, dirs, symlinks, hardlinks, bytes;
};

/* layout_fd: directory holding rootfs/ (and manifest unless manifest_fd >= 0). out_fd receives
 * the ACI. ret_id gets "sha512-<128 hex>" of the uncompressed tar. The manifest is validated
 * (and its unknown isolators reported through ret_manifest_warning if non-NULL). */
int rk_aci_build(int layout_fd, int manifest_fd, int out_fd, const struct rk_build_opts *opts,
                 char ret_id[RK_IMAGE_ID_LEN + 1], struct rk_build_stats *ret_stats, rk_error *err);
