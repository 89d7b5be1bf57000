/* SPDX-License-Identifier: Apache-2.0 */
/* flock(2)-based store locks. Lock files are created on demand and may be removed by gc while
 * unused; every acquisition therefore re-checks, once the lock is granted, that the path still
 * names the inode it locked (rkt.md §4.6): if a remover unlinked it in between, the lock is on
 * an orphan inode that nobody else will ever see, so it is dropped and taken again. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "store/store-internal.h"

#define LOCK_RETRIES 16

static int flock_retry(int fd, int op)
{
        while (flock(fd, op) < 0) {
                if (errno != EINTR)
                        return negative_errno();
        }
        return 0;
}

int rk_lock_take(int dirfd, const char *name, int op, const char *what, rk_error *err)
{
        for (int attempt = 0; attempt < LOCK_RETRIES; attempt++) {
                _cleanup_close_ int fd =
                    openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0)
                        return rk_err_errno(err, negative_errno(), "%s: cannot open lock", what);
                int r = flock_retry(fd, op);
                if (r == -EWOULDBLOCK)
                        return rk_err(err, r, "%s: locked by another process", what);
                if (r < 0)
                        return rk_err_errno(err, r, "%s: cannot lock", what);
                struct stat a, b;
                if (fstat(fd, &a) < 0)
                        return rk_err_errno(err, negative_errno(), "%s: cannot lock", what);
                if (fstatat(dirfd, name, &b, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                continue; /* removed while we waited */
                        return rk_err_errno(err, negative_errno(), "%s: cannot lock", what);
                }
                if (a.st_dev == b.st_dev && a.st_ino == b.st_ino)
                        return TAKE_FD(fd);
        }
        return rk_err(err, -EDEADLK, "%s: lock file keeps being replaced", what);
}

int rk_lock_remove_unused(int dirfd, const char *name)
{
        _cleanup_close_ int fd = -EBADF;
        rk_error e = RK_ERROR_INIT;

        fd = rk_lock_take(dirfd, name, LOCK_EX | LOCK_NB, name, &e);
        if (fd == -EWOULDBLOCK)
                return 0;
        if (fd < 0)
                return fd;
        /* unlinked while we hold it: a waiter on this inode sees the path gone and retries */
        if (unlinkat(dirfd, name, 0) < 0)
                return negative_errno();
        return 1;
}

int rk_store_lock(struct rk_store *s, int op, rk_error *err)
{
        return rk_lock_take(s->lockfd, "store", op, "store lock", err);
}

int rk_store_lock_image(struct rk_store *s, const char *id, int op, rk_error *err)
{
        char what[RK_IMAGE_ID_LEN + 32];
        if (!rk_store_is_image_id(id))
                return rk_err(err, -EINVAL, "image lock: '%.*s' is not an image ID", 140, id);
        snprintf(what, sizeof(what), "image %s", id);
        return rk_lock_take(s->imglockfd, id, op, what, err);
}

int rk_store_lock_tree(struct rk_store *s, const char *tree_id, int op, rk_error *err)
{
        char what[RK_TREE_ID_LEN + 32];
        if (!rk_store_is_tree_id(tree_id))
                return rk_err(err, -EINVAL, "tree lock: '%.*s' is not a tree ID", 150, tree_id);
        snprintf(what, sizeof(what), "tree %s", tree_id);
        return rk_lock_take(s->treelockfd, tree_id, op, what, err);
}
