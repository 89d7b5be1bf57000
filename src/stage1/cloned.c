/* SPDX-License-Identifier: Apache-2.0 */
/* CVE-2019-5736 defence. A process in the pod can reach stage1's executable through
 * /proc/<pid>/exe (the pod's init is PID 1 there). If that were the host's rkt-stage1, a
 * container with enough privilege could open it for writing once it stops running and plant
 * code the host runs next time. So before touching the pod we re-execute from an anonymous
 * memfd copy sealed against every change: /proc/<pid>/exe then names that copy, which nobody
 * can write and which vanishes with the pod. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stage1/stage1.h"

#define CLONED_ENV "_RKT_STAGE1_CLONED"
#define SEALS      (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

/* Only memfds carry seals: if our executable has all four, it is the sealed copy. */
static bool is_sealed_copy(int exe_fd)
{
        int seals = fcntl(exe_fd, F_GET_SEALS);
        return seals >= 0 && (seals & SEALS) == SEALS;
}

static int copy_to_memfd(int exe_fd, rk_error *err)
{
        struct stat st;
        if (fstat(exe_fd, &st) < 0)
                return rk_err_errno(err, negative_errno(), "cannot stat /proc/self/exe");
        _cleanup_close_ int mfd = memfd_create("rkt-stage1", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (mfd < 0)
                return rk_err_errno(err, negative_errno(), "memfd_create");
        for (off_t off = 0; off < st.st_size;) {
                ssize_t n = sendfile(mfd, exe_fd, &off, (size_t)(st.st_size - off));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return rk_err_errno(err, n < 0 ? negative_errno() : -EIO,
                                            "cannot copy /proc/self/exe into a memfd");
        }
        if (fcntl(mfd, F_ADD_SEALS, SEALS) < 0)
                return rk_err_errno(err, negative_errno(), "cannot seal the memfd copy");
        return TAKE_FD(mfd);
}

int s1_ensure_cloned(char **argv, rk_error *err)
{
        _cleanup_close_ int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        if (exe < 0)
                return rk_err_errno(err, negative_errno(), "cannot open /proc/self/exe");
        if (is_sealed_copy(exe)) {
                (void)unsetenv(CLONED_ENV);
                return 0;
        }
        /* The marker only stops a loop; it never stands in for the seal check above. */
        if (getenv(CLONED_ENV))
                return rk_err(err, -ELOOP,
                              "re-executed from a memfd, but /proc/self/exe is "
                              "not a sealed memfd");
        _cleanup_close_ int mfd = copy_to_memfd(exe, err);
        if (mfd < 0)
                return mfd;
        if (setenv(CLONED_ENV, "1", 1) < 0)
                return rk_err_errno(err, negative_errno(), "setenv");
        fexecve(mfd, argv, environ);
        int r = negative_errno();
        (void)unsetenv(CLONED_ENV);
        return rk_err_errno(err, r, "cannot execute the sealed copy of rkt-stage1");
}
