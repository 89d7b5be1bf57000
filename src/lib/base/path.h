/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "base/error.h"

/* Resolution flags on top of the always-on in-root, no-magic-links behaviour. */
enum {
        /* Refuse (-ELOOP) any symlink met on the way, including the last component unless the
         * caller passes O_NOFOLLOW, in which case the link itself is opened (with O_PATH). */
        RK_RESOLVE_NO_SYMLINKS = 1 << 0,
        /* Refuse (-EXDEV) a ".." or absolute symlink that would climb above the root instead of
         * clamping it at the root (RESOLVE_BENEATH instead of RESOLVE_IN_ROOT). */
        RK_RESOLVE_BENEATH = 1 << 1,
        /* Refuse (-EXDEV) crossing into another mount. */
        RK_RESOLVE_NO_XDEV = 1 << 2,
};

#define RK_PATH_MAX_SYMLINKS 40
#define RK_PATH_MAX_DEPTH    256

/* Open path (absolute or relative, both taken from rootfd) as if rootfd were "/": symlinks and
 * ".." never leave rootfd, procfs magic links are never followed. Uses openat2(2) with
 * RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS, or, where the kernel lacks it, a component-by-component
 * openat(O_NOFOLLOW) walk with the same semantics. flags always gain O_CLOEXEC. Returns the fd
 * or a negative errno (-ELOOP, -EXDEV for refused resolutions). */
int rk_open_in_root(int rootfd, const char *path, int flags, mode_t mode, unsigned resolve,
                    rk_error *err);

/* Force the fallback walker (tests) or go back to auto-detection. */
void rk_path_force_fallback(bool on);
/* True when the last rk_open_in_root call was served by openat2. */
bool rk_path_used_openat2(void);

/* Split "a/b/c" into the parent "a/b" and the leaf "c" (both malloc'd). The leaf of "c" has
 * parent ".". Refuses empty paths, "." or ".." leaves. */
int rk_path_split(const char *path, char **ret_parent, char **ret_leaf, rk_error *err);

/* True if path has a "..", or is absolute. */
bool rk_path_is_escaping(const char *path);
