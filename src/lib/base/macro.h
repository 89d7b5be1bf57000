/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <dirent.h>

#define _cleanup_(f)       __attribute__((cleanup(f)))
#define _cleanup_free_     _cleanup_(freep)
#define _cleanup_close_    _cleanup_(closep)
#define _cleanup_fclose_   _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)
#define _unused_           __attribute__((unused))
#define _printf_(a, b)     __attribute__((format(printf, a, b)))
#define _noreturn_         __attribute__((noreturn))
#define _likely_(x)        __builtin_expect(!!(x), 1)
#define _unlikely_(x)      __builtin_expect(!!(x), 0)

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

#define TAKE_PTR(p)                                                                                \
        ({                                                                                         \
                __typeof__(p) t_ = (p);                                                            \
                (p) = NULL;                                                                        \
                t_;                                                                                \
        })
#define TAKE_FD(fd)                                                                                \
        ({                                                                                         \
                int t_ = (fd);                                                                     \
                (fd) = -EBADF;                                                                     \
                t_;                                                                                \
        })

/* One cleanup helper per library handle: DEFINE_CLEANUP(json_t *, json_decref) gives
 * json_decrefp() for _cleanup_(json_decrefp). */
#define DEFINE_CLEANUP(T, fn)                                                                      \
        static inline void fn##p(T *p)                                                             \
        {                                                                                          \
                if (*p)                                                                            \
                        fn(*p);                                                                    \
        }

static inline void freep(void *p)
{
        free(*(void **)p);
}

static inline void closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                (void)close(*fd);
                errno = saved;
        }
}

static inline void fclosep(FILE **f)
{
        if (*f)
                (void)fclose(*f);
}

static inline void closedirp(DIR **d)
{
        if (*d)
                (void)closedir(*d);
}

/* Negative errno from the current errno, never 0 (a failing call that left errno 0 is EIO). */
static inline int negative_errno(void)
{
        return errno > 0 ? -errno : -EIO;
}

static inline int safe_close(int fd)
{
        if (fd >= 0)
                (void)close(fd);
        return -EBADF;
}
