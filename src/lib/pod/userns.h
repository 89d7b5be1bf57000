/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The registry of host id ranges for pods run with --private-users (src/stage1/PLAN.md, "User
 * namespaces"). Each pod gets one block of RK_USERNS_SIZE uids and the same gids, starting at a
 * multiple of RK_USERNS_SIZE in [RK_USERNS_POOL_FIRST, 2^32 - RK_USERNS_SIZE): above every
 * ordinary host user. Blocks that overlap a range in /etc/subuid or /etc/subgid are skipped.
 *
 *   <dir>/userns/lock      flock(2)ed exclusively around every read-modify-write
 *   <dir>/userns/registry  "rkt-userns 1" then one "<uuid> <base>" line per pod, replaced
 *                          atomically (temp file, fsync, rename)
 *
 * A registry that does not parse is an error, never an empty registry: handing out a range
 * that a running pod still uses is exactly what rkt's random ranges did. */

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

#define RK_USERNS_SIZE       65536u
#define RK_USERNS_POOL_FIRST 0x80000000u /* 2^31 */
#define RK_USERNS_POOL_SLOTS 32767u      /* the last block ends at 2^32 - 65537 */

struct rk_userns_pool {
        uint32_t first; /* a multiple of RK_USERNS_SIZE */
        uint32_t slots; /* blocks of RK_USERNS_SIZE */
        /* subordinate-id files whose ranges are never handed out (NULL: none) */
        const char *subuid, *subgid;
        /* Whether a pod still exists; entries of pods that do not are dropped on allocation
         * (a crash between removal and release). NULL: keep every entry. */
        bool (*pod_exists)(void *userdata, const char *uuid);
        void *userdata;
};

/* The pool stage0 uses: 2^31 upward, /etc/subuid and /etc/subgid skipped, entries of pods no
 * longer under <data_dir>/pods dropped. */
void rk_userns_default_pool(const char *data_dir, struct rk_userns_pool *ret);

/* Allocates the lowest free block for uuid (or returns the block it already has). -ENOSPC when
 * the pool is full, -EBADMSG when the registry is corrupt. dirfd is the data dir. */
int rk_userns_alloc(int dirfd, const struct rk_userns_pool *pool, const char *uuid, uint32_t *ret,
                    rk_error *err);
/* Releases uuid's block; 0 if it had none. */
int rk_userns_free(int dirfd, const char *uuid, rk_error *err);
/* uuid's block, or -ENOENT. */
int rk_userns_lookup(int dirfd, const char *uuid, uint32_t *ret, rk_error *err);
