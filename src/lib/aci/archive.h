/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* ACI reader, image ID and the confined extractor.
 *
 * libarchive is used as a reader only (tar format; gzip, bzip2, xz, zstd or no compression, one
 * level). Every write is done here, through fds resolved beneath the destination without
 * following any symlink. The image ID ("sha512-" + SHA-512 of the uncompressed tar, trailing
 * bytes included) is computed in the same pass.
 *
 * Policy for hostile archives (security.md §4.3):
 *   refused:     ".." components, absolute names, anything at the top level but "manifest" and
 *                "rootfs", entries below a symlink or file made by the archive, duplicates, hard
 *                links to anything but a regular file this archive created, hard links with
 *                data, device nodes, FIFOs, sockets, sparse files, and everything over a cap;
 *   neutralised: setuid/setgid bits are stripped (sticky kept), xattrs outside "user.*" are
 *                dropped; ACLs and file flags are never applied;
 *   never done:  following a symlink, overwriting an existing path, applying metadata by path.
 *
 * Unless opts->in_process, reading and writing happen in a forked child confined by rlimits,
 * no_new_privs, a private network namespace and Landlock (file system access only beneath the
 * destination). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/hash.h"

#define RK_ACI_MAX_LAYERS 64

struct rk_aci_limits {
        uint64_t max_compressed_bytes; /* bytes read from the file */
        uint64_t max_total_bytes;      /* bytes of the uncompressed tar stream */
        uint64_t max_file_bytes;       /* size of one file (also RLIMIT_FSIZE in the child) */
        uint64_t max_entries;          /* entries in one archive */
        size_t max_path_len;           /* bytes of an entry name (and of one component: 255) */
        size_t max_depth;              /* components of an entry name */
        size_t max_link_len;           /* bytes of a symlink or hard link target */
        size_t max_xattrs;             /* xattrs on one entry */
        size_t max_xattr_bytes;        /* names + values of one entry's xattrs */
        size_t max_manifest_bytes;
        uint64_t max_memory_bytes; /* RLIMIT_AS of the child (not under ASan) */
        uint64_t max_cpu_seconds;  /* RLIMIT_CPU of the child */
};

/* Defaults: 8 GiB compressed, 16 GiB uncompressed, 4 GiB per file, 1,000,000 entries, names of
 * 4096 bytes and 128 components, link targets of 4095 bytes, 64 xattrs / 256 KiB per entry,
 * RK_MANIFEST_MAX manifest, 2 GiB address space, 1 hour of CPU. */
void rk_aci_limits_init(struct rk_aci_limits *l);

struct rk_aci_stats {
        uint64_t entries, files, dirs, symlinks, hardlinks, bytes, setid_stripped, xattrs_dropped,
            skipped_whitelist, skipped_upper;
};

/* One archive to extract. fd is read from its current offset to EOF (with pread when it is
 * seekable, so the same fd may appear twice and its offset is left alone). what names it in
 * messages. expect_id, if non-NULL, must equal the computed ID. Whitelist paths are absolute
 * ("/etc/passwd") or relative to the rootfs, compared after cleaning. */
struct rk_aci_layer {
        int fd;
        const char *what;
        const char *expect_id;
        /* NULL = keep all; else non-directories are kept only if listed */
        const char *const *whitelist;
        size_t n_whitelist;
        /* NULL = keep all; else every entry, directories too, is kept only if listed: the
         * pathWhitelist of the images above this one in the dependency tree (see render.h) */
        const char *const *upper_whitelist;
        size_t n_upper_whitelist;
};

struct rk_aci_opts {
        int dest_fd;      /* directory; -1 = check only: every decision made, nothing written */
        bool rootfs_only; /* dest receives the rootfs contents; the manifest is not written */
        bool keep_owners; /* apply the archive's uid/gid (needs privilege) */
        bool in_process;  /* no confining child (tests, fuzzing) */
        const struct rk_aci_limits *limits; /* NULL = defaults */
};

struct rk_aci_result {
        char id[RK_IMAGE_ID_LEN + 1];
        char *manifest; /* raw bytes, NUL-terminated (the NUL is not counted) */
        size_t manifest_len;
        struct rk_aci_stats stats;
};

/* Extract n layers into opts->dest_fd. n == 1 extracts one image. n > 1 renders top-down:
 * layers[0] is the image, then its dependencies in render order (rk_render_plan); the first
 * layer to provide a path wins, nothing below a path an upper layer provided as a non-directory
 * is written, and the manifest written (unless rootfs_only) is layers[0]'s. results[i] gets
 * layer i's ID, manifest bytes and stats, only on success. On failure dest may hold a partial
 * tree: the caller discards it. */
int rk_aci_extract(const struct rk_aci_layer *layers, size_t n, const struct rk_aci_opts *opts,
                   struct rk_aci_result *results, rk_error *err);
void rk_aci_result_clear(struct rk_aci_result *r);
