/* SPDX-License-Identifier: Apache-2.0 */
/* Pod directories and their state machine (rkt.md 2.4): creation, lookup by UUID prefix,
 * locks, transitions, status, removal and garbage collection. */
#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "audit/audit.h"
#include "base/fileio.h"
#include "base/json.h"
#include "base/path.h"
#include "pod/cni.h"
#include "pod/pod.h"
#include "pod/userns.h"

#define POD_FILE_MAX  4096
#define MOUNTINFO_MAX (64 << 20)
#define UMOUNT_ROUNDS 8
#define CREATE_TRIES  16
#define RM_DEPTH_MAX  4096

static const char *const state_dirs[RK_POD_STATE_MAX] = {
    [RK_POD_EMBRYO] = "embryo",
    [RK_POD_PREPARE] = "prepare",
    [RK_POD_PREPARED] = "prepared",
    [RK_POD_RUN] = "run",
    [RK_POD_EXITED_GARBAGE] = "exited-garbage",
    [RK_POD_GARBAGE] = "garbage",
};

struct rk_pods {
        char *dir; /* absolute data dir */
        int dirfd;
        int podsfd;
        int statefd[RK_POD_STATE_MAX];
        int lockfd; /* pods/lock, opened on first use */
};

const char *rk_pod_state_dir(enum rk_pod_state s)
{
        return s < RK_POD_STATE_MAX ? state_dirs[s] : "?";
}

static int64_t ts_ns(struct statx_timestamp t)
{
        return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- the pods directory ---- */

/* fs.protected_symlinks may be off: a directory someone else can write would let them swap pod
 * directories under us, so every level must be ours and private. */
static int check_dir(int fd, const char *what, rk_error *err)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return rk_err_errno(err, negative_errno(), "%s", what);
        if (!S_ISDIR(st.st_mode))
                return rk_err(err, -ENOTDIR, "%s: not a directory", what);
        if (st.st_uid != geteuid() || (st.st_mode & 022))
                return rk_err(err, -EPERM,
                              "%s: owned by uid %u with mode %04o; pods need a directory owned by "
                              "uid %u that nobody else can write",
                              what, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777),
                              (unsigned)geteuid());
        return 0;
}

static int subdir_open(int parentfd, const char *name, const char *what, rk_error *err)
{
        if (mkdirat(parentfd, name, 0700) < 0 && errno != EEXIST)
                return rk_err_errno(err, negative_errno(), "%s: cannot create", what);
        _cleanup_close_ int fd =
            openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "%s", what);
        int r = check_dir(fd, what, err);
        return r < 0 ? r : TAKE_FD(fd);
}

struct rk_pods *rk_pods_close(struct rk_pods *p)
{
        if (!p)
                return NULL;
        free(p->dir);
        safe_close(p->dirfd);
        safe_close(p->podsfd);
        safe_close(p->lockfd);
        for (size_t i = 0; i < RK_POD_STATE_MAX; i++)
                safe_close(p->statefd[i]);
        free(p);
        return NULL;
}

DEFINE_CLEANUP(struct rk_pods *, rk_pods_close)

static int open_layout(struct rk_pods *p, rk_error *err)
{
        char what[PATH_MAX];
        snprintf(what, sizeof(what), "pods '%s/pods'", p->dir);
        p->podsfd = subdir_open(p->dirfd, "pods", what, err);
        if (p->podsfd < 0)
                return p->podsfd;
        for (size_t i = 0; i < RK_POD_STATE_MAX; i++) {
                snprintf(what, sizeof(what), "pods '%s/pods/%s'", p->dir, state_dirs[i]);
                p->statefd[i] = subdir_open(p->podsfd, state_dirs[i], what, err);
                if (p->statefd[i] < 0)
                        return p->statefd[i];
        }
        return 0;
}

int rk_pods_open(const char *data_dir, struct rk_pods **ret, rk_error *err)
{
        _cleanup_(rk_pods_closep) struct rk_pods *p = calloc(1, sizeof(*p));
        if (!p)
                return rk_err(err, -ENOMEM, "out of memory");
        p->dirfd = p->podsfd = p->lockfd = -EBADF;
        for (size_t i = 0; i < RK_POD_STATE_MAX; i++)
                p->statefd[i] = -EBADF;
        int r = rk_mkdir_p(data_dir, 0700, err);
        if (r < 0)
                return r;
        /* stage1 and the plan need absolute paths; the chain is checked below */
        p->dir = realpath(data_dir, NULL);
        if (!p->dir)
                return rk_err_errno(err, negative_errno(), "data dir '%s'", data_dir);
        p->dirfd = open(p->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (p->dirfd < 0)
                return rk_err_errno(err, negative_errno(), "data dir '%s'", p->dir);
        char what[PATH_MAX];
        snprintf(what, sizeof(what), "data dir '%s'", p->dir);
        r = check_dir(p->dirfd, what, err);
        if (r >= 0)
                r = open_layout(p, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

const char *rk_pods_data_dir(const struct rk_pods *p)
{
        return p->dir;
}

int rk_pods_lock_prepare(struct rk_pods *p, int op, rk_error *err)
{
        if (p->lockfd < 0) {
                p->lockfd =
                    openat(p->podsfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (p->lockfd < 0)
                        return rk_err_errno(err, negative_errno(), "pods '%s/pods/lock'", p->dir);
        }
        while (flock(p->lockfd, op) < 0) {
                if (errno == EINTR)
                        continue;
                if (errno == EWOULDBLOCK)
                        return rk_err(err, -EBUSY, "pods '%s/pods/lock': busy", p->dir);
                return rk_err_errno(err, negative_errno(), "pods '%s/pods/lock'", p->dir);
        }
        return 0;
}

void rk_pods_unlock_prepare(struct rk_pods *p)
{
        if (p->lockfd >= 0)
                (void)flock(p->lockfd, LOCK_UN);
}

/* ---- one pod ---- */

static bool is_uuid_name(const char *s)
{
        struct rk_uuid u;
        char canon[RK_UUID_STRING_MAX];
        if (strlen(s) != 36 || rk_uuid_parse(s, &u, NULL) < 0)
                return false;
        rk_uuid_format(&u, canon);
        return strcmp(canon, s) == 0;
}

int rk_pod_path(const struct rk_pod *pod, char *buf, size_t size)
{
        int n =
            snprintf(buf, size, "%s/pods/%s/%s", pod->pods->dir, state_dirs[pod->state], pod->uuid);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static struct rk_pod *pod_new(struct rk_pods *p, const char *uuid, enum rk_pod_state s, int fd)
{
        struct rk_pod *pod = calloc(1, sizeof(*pod));
        if (!pod)
                return NULL;
        pod->pods = p;
        snprintf(pod->uuid, sizeof(pod->uuid), "%s", uuid);
        pod->state = s;
        pod->fd = fd;
        return pod;
}

struct rk_pod *rk_pod_close(struct rk_pod *pod)
{
        if (!pod)
                return NULL;
        safe_close(pod->fd); /* drops the lock with the last reference to the open file */
        free(pod);
        return NULL;
}

int rk_pod_refresh(struct rk_pod *pod, rk_error *err)
{
        struct stat self, st;
        if (fstat(pod->fd, &self) < 0)
                return rk_err_errno(err, negative_errno(), "pod %s", pod->uuid);
        for (size_t k = 0; k < RK_POD_STATE_MAX; k++) {
                /* the current state first: it is nearly always still right */
                size_t s = (pod->state + k) % RK_POD_STATE_MAX;
                if (fstatat(pod->pods->statefd[s], pod->uuid, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                    st.st_ino == self.st_ino && st.st_dev == self.st_dev) {
                        pod->state = (enum rk_pod_state)s;
                        return 0;
                }
        }
        return rk_err(err, -ENOENT, "pod %s: no longer exists", pod->uuid);
}

int rk_pod_lock(struct rk_pod *pod, int op, rk_error *err)
{
        while (flock(pod->fd, op) < 0) {
                if (errno == EWOULDBLOCK)
                        return rk_err(err, -EBUSY, "pod %s: locked by another process", pod->uuid);
                if (errno == EINTR)
                        return rk_err(err, -EINTR, "pod %s: interrupted while waiting", pod->uuid);
                return rk_err_errno(err, negative_errno(), "pod %s: cannot lock", pod->uuid);
        }
        pod->lock = op & (LOCK_SH | LOCK_EX);
        /* only lock holders move pods: the state read now stays true while we hold it */
        int r = rk_pod_refresh(pod, err);
        if (r < 0)
                rk_pod_unlock(pod);
        return r;
}

void rk_pod_unlock(struct rk_pod *pod)
{
        (void)flock(pod->fd, LOCK_UN);
        pod->lock = 0;
}

int rk_pod_is_locked(struct rk_pod *pod)
{
        /* a new open file description: flock on our own fd would just convert our lock */
        _cleanup_close_ int fd = openat(pod->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (flock(fd, LOCK_SH | LOCK_NB) == 0)
                return 0;
        return errno == EWOULDBLOCK ? 1 : negative_errno();
}

static bool transition_allowed(enum rk_pod_state from, enum rk_pod_state to)
{
        switch (from) {
        case RK_POD_EMBRYO:
                return to == RK_POD_PREPARE || to == RK_POD_GARBAGE;
        case RK_POD_PREPARE:
                return to == RK_POD_PREPARED || to == RK_POD_RUN || to == RK_POD_GARBAGE;
        case RK_POD_PREPARED:
                return to == RK_POD_RUN || to == RK_POD_GARBAGE;
        case RK_POD_RUN:
                return to == RK_POD_EXITED_GARBAGE;
        default:
                return false;
        }
}

int rk_pod_transition(struct rk_pod *pod, enum rk_pod_state to, rk_error *err)
{
        struct rk_pods *p = pod->pods;
        if (pod->lock != LOCK_EX)
                return rk_err(err, -ENOLCK, "pod %s: moving it to %s needs its exclusive lock",
                              pod->uuid, state_dirs[to]);
        if (!transition_allowed(pod->state, to))
                return rk_err(err, -EINVAL, "pod %s: cannot go from %s to %s", pod->uuid,
                              state_dirs[pod->state], state_dirs[to]);
        /* RENAME_NOREPLACE: a plain rename would silently replace an empty directory */
        if (renameat2(p->statefd[pod->state], pod->uuid, p->statefd[to], pod->uuid,
                      RENAME_NOREPLACE) < 0)
                return rk_err_errno(err, negative_errno(), "pod %s: cannot move from %s to %s",
                                    pod->uuid, state_dirs[pod->state], state_dirs[to]);
        pod->state = to;
        return 0;
}

static int touch_created(int fd)
{
        int cfd =
            openat(fd, "pod-created", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (cfd < 0)
                return negative_errno();
        (void)close(cfd);
        return 0;
}

/* One attempt; 1 means "try another UUID" (a collision, or gc took the embryo meanwhile). */
static int create_once(struct rk_pods *p, struct rk_pod **ret, rk_error *err)
{
        struct rk_uuid u;
        char uuid[RK_UUID_STRING_MAX];
        int efd = p->statefd[RK_POD_EMBRYO];
        int r = rk_uuid_generate(&u, err);
        if (r < 0)
                return r;
        rk_uuid_format(&u, uuid);
        if (mkdirat(efd, uuid, 0700) < 0)
                return errno == EEXIST ? 1
                                       : rk_err_errno(err, negative_errno(),
                                                      "pods '%s': cannot create embryo", p->dir);
        _cleanup_close_ int fd = openat(efd, uuid, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 1 : rk_err_errno(err, negative_errno(), "pod %s", uuid);
        /* gc may lock and discard an unlocked embryo at any moment: if it got there first,
         * the lock or the rename below fails and we start over with a new UUID */
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? 1
                                            : rk_err_errno(err, negative_errno(), "pod %s", uuid);
        r = touch_created(fd);
        if (r == -ENOENT)
                return 1;
        if (r < 0)
                return rk_err_errno(err, r, "pod %s: cannot create pod-created", uuid);
        if (renameat2(efd, uuid, p->statefd[RK_POD_PREPARE], uuid, RENAME_NOREPLACE) < 0)
                return errno == ENOENT ? 1
                                       : rk_err_errno(err, negative_errno(),
                                                      "pod %s: cannot move to prepare", uuid);
        struct rk_pod *pod = pod_new(p, uuid, RK_POD_PREPARE, fd);
        if (!pod)
                return rk_err(err, -ENOMEM, "out of memory");
        TAKE_FD(fd);
        pod->lock = LOCK_EX;
        *ret = pod;
        return 0;
}

int rk_pod_create(struct rk_pods *p, struct rk_pod **ret, rk_error *err)
{
        for (int i = 0; i < CREATE_TRIES; i++) {
                int r = create_once(p, ret, err);
                if (r <= 0)
                        return r;
        }
        return rk_err(err, -EAGAIN, "pods '%s': could not create a pod after %d attempts", p->dir,
                      CREATE_TRIES);
}

/* ---- lookup by UUID prefix ---- */

/* The prefix without dashes, lowercase, in out (33 bytes); -EINVAL if it is not hex. */
static int normalize_prefix(const char *s, char out[33], rk_error *err)
{
        size_t n = 0;
        if (!s || !*s)
                return rk_err(err, -EINVAL, "pod UUID: empty");
        for (const char *c = s; *c; c++) {
                if (*c == '-')
                        continue;
                if (!isxdigit((unsigned char)*c) || n == 32)
                        return rk_err(err, -EINVAL,
                                      "pod UUID %s: not a UUID or a UUID prefix (hex digits)",
                                      RK_QUOTE(s));
                out[n++] = (char)tolower((unsigned char)*c);
        }
        out[n] = 0;
        if (n == 0)
                return rk_err(err, -EINVAL, "pod UUID %s: no hex digits", RK_QUOTE(s));
        return 0;
}

static bool uuid_has_prefix(const char *uuid, const char *prefix)
{
        for (; *uuid && *prefix; uuid++) {
                if (*uuid == '-')
                        continue;
                if (*uuid != *prefix++)
                        return false;
        }
        return *prefix == 0;
}

struct match {
        char uuid[RK_UUID_STRING_MAX];
        enum rk_pod_state state;
        int n;
};

static int scan_state(struct rk_pods *p, enum rk_pod_state s, const char *prefix, struct match *m,
                      rk_error *err)
{
        int fd = openat(p->statefd[s], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "pods '%s/pods/%s'", p->dir,
                                    state_dirs[s]);
        _cleanup_closedir_ DIR *d = fdopendir(fd);
        if (!d) {
                (void)close(fd);
                return rk_err_errno(err, negative_errno(), "pods '%s'", p->dir);
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!is_uuid_name(de->d_name) || !uuid_has_prefix(de->d_name, prefix))
                        continue;
                /* a pod moved during the scan can be seen twice: same UUID, one pod */
                if (m->n > 0 && strcmp(m->uuid, de->d_name) == 0)
                        continue;
                m->n++;
                snprintf(m->uuid, sizeof(m->uuid), "%s", de->d_name);
                m->state = s;
        }
        return 0;
}

int rk_pod_open(struct rk_pods *p, const char *arg, struct rk_pod **ret, rk_error *err)
{
        char prefix[33];
        int r = normalize_prefix(arg, prefix, err);
        if (r < 0)
                return r;
        /* a pod can move between the scan and the open: look again a few times */
        for (int attempt = 0; attempt < 4; attempt++) {
                struct match m = {.n = 0};
                for (size_t s = 0; s < RK_POD_STATE_MAX; s++)
                        if ((r = scan_state(p, (enum rk_pod_state)s, prefix, &m, err)) < 0)
                                return r;
                if (m.n == 0)
                        continue;
                if (m.n > 1)
                        return rk_err(err, -ENOTUNIQ,
                                      "pod %s: the prefix matches %d pods; give more of the UUID",
                                      RK_QUOTE(arg), m.n);
                int fd = openat(p->statefd[m.state], m.uuid,
                                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 && errno == ENOENT)
                        continue;
                if (fd < 0)
                        return rk_err_errno(err, negative_errno(), "pod %s", m.uuid);
                struct rk_pod *pod = pod_new(p, m.uuid, m.state, fd);
                if (!pod) {
                        (void)close(fd);
                        return rk_err(err, -ENOMEM, "out of memory");
                }
                if (rk_pod_refresh(pod, NULL) < 0) {
                        rk_pod_close(pod);
                        continue;
                }
                *ret = pod;
                return 0;
        }
        return rk_err(err, -ENOENT, "pod %s: no such pod", RK_QUOTE(arg));
}

static int pod_open_at(struct rk_pods *p, enum rk_pod_state s, const char *uuid,
                       struct rk_pod **ret)
{
        int fd = openat(p->statefd[s], uuid, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        *ret = pod_new(p, uuid, s, fd);
        if (!*ret) {
                (void)close(fd);
                return -ENOMEM;
        }
        return 0;
}

static void strv_free(char **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

/* UUIDs in one state directory (a snapshot). */
static int list_state(struct rk_pods *p, enum rk_pod_state s, char ***ret, size_t *ret_n,
                      rk_error *err)
{
        int fd = openat(p->statefd[s], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "pods '%s/pods/%s'", p->dir,
                                    state_dirs[s]);
        _cleanup_closedir_ DIR *d = fdopendir(fd);
        if (!d) {
                (void)close(fd);
                return rk_err_errno(err, negative_errno(), "pods '%s'", p->dir);
        }
        char **v = NULL;
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!is_uuid_name(de->d_name))
                        continue;
                char **nv = realloc(v, (n + 1) * sizeof(*v));
                if (nv)
                        v = nv;
                if (!nv || !(v[n] = strdup(de->d_name))) {
                        strv_free(v, n);
                        return rk_err(err, -ENOMEM, "out of memory");
                }
                n++;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* ---- status ---- */

static const char *state_name(enum rk_pod_state s, bool locked)
{
        switch (s) {
        case RK_POD_EMBRYO:
                return "embryo";
        case RK_POD_PREPARE:
                return locked ? "preparing" : "aborted prepare";
        case RK_POD_PREPARED:
                return "prepared";
        case RK_POD_RUN:
                return locked ? "running" : "exited";
        case RK_POD_EXITED_GARBAGE:
                return locked ? "exited deleting" : "exited garbage";
        case RK_POD_GARBAGE:
                return locked ? "deleting" : "garbage";
        default:
                return "unknown";
        }
}

static int64_t file_time(int dirfd, const char *path, bool ctime)
{
        struct statx sx;
        if (statx(dirfd, path, AT_SYMLINK_NOFOLLOW, STATX_CTIME | STATX_MTIME, &sx) < 0)
                return 0;
        return ts_ns(ctime ? sx.stx_ctime : sx.stx_mtime);
}

/* A small decimal file written by stage1: -ENOENT if missing, -EBADMSG if not a number. */
static int read_int_file(int dirfd, const char *path, long long min, long long max, long long *ret)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = rk_read_file_at(dirfd, path, 64, &buf, &len, NULL);
        if (r < 0)
                return r;
        char *end = NULL;
        errno = 0;
        long long v = strtoll(buf, &end, 10);
        while (end && (*end == '\n' || *end == ' '))
                end++;
        if (errno || end == buf || *end || v < min || v > max)
                return -EBADMSG;
        *ret = v;
        return 0;
}

static int read_manifest(struct rk_pod *pod, struct rk_pod_manifest **ret, rk_error *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = rk_read_file_at(pod->fd, "pod", RK_MANIFEST_MAX, &buf, &len, err);
        if (r < 0)
                return r;
        char what[64];
        snprintf(what, sizeof(what), "pod %s", pod->uuid);
        return rk_pod_manifest_parse(what, buf, len, ret, err);
}

static int app_status(struct rk_pod *pod, const struct rk_pod_app *a, struct rk_pod_app_status *s)
{
        char path[PATH_MAX];
        long long code = 0;
        s->name = strdup(a->name ? a->name : "");
        s->image_name = a->image_name ? strdup(a->image_name) : NULL;
        s->image_id = a->image_id ? strdup(a->image_id) : NULL;
        if (!s->name || (a->image_name && !s->image_name) || (a->image_id && !s->image_id))
                return -ENOMEM;
        snprintf(path, sizeof(path), "status/%s", s->name);
        if (read_int_file(pod->fd, path, 0, 255, &code) == 0) {
                s->exit_code = (int)code;
                s->has_exit_code = true;
                s->finished_ns = file_time(pod->fd, path, false);
        }
        snprintf(path, sizeof(path), "started/%s", s->name);
        s->started_ns = file_time(pod->fd, path, false);
        return 0;
}

void rk_pod_status_clear(struct rk_pod_status *s)
{
        for (size_t i = 0; i < s->n_apps; i++) {
                free(s->apps[i].name);
                free(s->apps[i].image_name);
                free(s->apps[i].image_id);
        }
        free(s->apps);
        memset(s, 0, sizeof(*s));
}

void rk_pod_statuses_free(struct rk_pod_status *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                rk_pod_status_clear(&v[i]);
        free(v);
}

static int status_apps(struct rk_pod *pod, struct rk_pod_status *s, rk_error *err)
{
        struct rk_pod_manifest *m = NULL;
        rk_error merr = RK_ERROR_INIT;
        int r = read_manifest(pod, &m, &merr);
        /* not written yet (embryo, preparing, aborted prepare), or damaged: the pod is still
         * listed (cat-manifest reports the damage) so that one bad pod cannot hide the others */
        if (r == -ENOENT || r == -EBADMSG || r == -EFBIG)
                return 0;
        if (r < 0)
                return rk_err(err, r, "%s", merr.msg);
        s->apps = calloc(m->n_apps ? m->n_apps : 1, sizeof(*s->apps));
        r = s->apps ? 0 : -ENOMEM;
        for (size_t i = 0; r >= 0 && i < m->n_apps; i++) {
                s->n_apps++;
                r = app_status(pod, &m->apps[i], &s->apps[i]);
        }
        rk_pod_manifest_free(m);
        return r < 0 ? rk_err(err, r, "out of memory") : 0;
}

/* Named networks: their names, and eth0's address from its CNI cache while attached. */
static void status_cni(struct rk_pod *pod, const json_t *cni, struct rk_pod_status *s)
{
        size_t i, off = 0;
        json_t *a;
        json_array_foreach (cni, i, a) {
                const char *n = json_string_value(json_object_get(a, "name"));
                if (!n || !rk_cni_name_valid(n) || off + strlen(n) + 2 > sizeof(s->net))
                        break;
                off +=
                    (size_t)snprintf(s->net + off, sizeof(s->net) - off, "%s%s", i ? "," : "", n);
        }
        const char *n0 = json_string_value(json_object_get(json_array_get(cni, 0), "name"));
        char path[160], cache[128];
        if (!n0 || !rk_cni_name_valid(n0))
                return;
        snprintf(path, sizeof(path), "net/cni/%s", n0);
        snprintf(cache, sizeof(cache), "%s-eth0.json", pod->uuid);
        _cleanup_close_ int d =
            openat(pod->fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        json_t *res = NULL;
        rk_error ignored = RK_ERROR_INIT;
        struct rk_cni_result r;
        if (d >= 0 && rk_cni_cache_result(d, cache, &res, &ignored) >= 0 && res &&
            rk_cni_result_parse(res, &r, &ignored) >= 0 && r.ip)
                inet_ntop(AF_INET, &r.ip, s->ip, sizeof(s->ip));
        json_decref(res);
}

/* The network and address from plan.json (best effort: a pod still preparing has none). */
static void status_net(struct rk_pod *pod, struct rk_pod_status *s)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        rk_error ignored = RK_ERROR_INIT;
        _cleanup_json_ json_t *plan = NULL;
        if (rk_read_file_at(pod->fd, "plan.json", RK_MANIFEST_MAX, &buf, &len, &ignored) < 0 ||
            rk_json_parse("plan.json", buf, len, RK_MANIFEST_MAX, &plan, &ignored) < 0)
                return;
        const char *net = json_string_value(json_object_get(plan, "net"));
        const char *ip = json_string_value(json_object_get(json_object_get(plan, "network"), "ip"));
        if (net && rk_net_kind(net) >= 0)
                snprintf(s->net, sizeof(s->net), "%s", net);
        if (ip && strlen(ip) < sizeof(s->ip) && strspn(ip, "0123456789.") == strlen(ip))
                snprintf(s->ip, sizeof(s->ip), "%s", ip);
        if (net && !strcmp(net, "cni"))
                status_cni(pod, json_object_get(plan, "cni"), s);
}

int rk_pod_status_read(struct rk_pod *pod, struct rk_pod_status *ret, rk_error *err)
{
        struct rk_pod_status s = {0};
        long long pid = 0;
        int r = rk_pod_refresh(pod, err);
        if (r < 0)
                return r;
        int locked = pod->lock == LOCK_EX ? 1 : rk_pod_is_locked(pod);
        if (locked < 0)
                return rk_err_errno(err, locked, "pod %s", pod->uuid);
        snprintf(s.uuid, sizeof(s.uuid), "%s", pod->uuid);
        s.state = pod->state;
        s.locked = locked;
        s.state_name = state_name(pod->state, locked);
        s.exited = (pod->state == RK_POD_RUN && !locked) || pod->state == RK_POD_EXITED_GARBAGE;
        s.created_ns = file_time(pod->fd, "pod-created", true);
        if (read_int_file(pod->fd, "pid", 1, INT_MAX, &pid) == 0) {
                s.pid = (pid_t)pid;
                s.started_ns = file_time(pod->fd, "pid", false);
        }
        status_net(pod, &s);
        r = status_apps(pod, &s, err);
        if (r < 0) {
                rk_pod_status_clear(&s);
                return r;
        }
        *ret = s;
        return 0;
}

static int cmp_status(const void *a, const void *b)
{
        const struct rk_pod_status *x = a, *y = b;
        if (x->created_ns != y->created_ns)
                return x->created_ns < y->created_ns ? -1 : 1;
        return strcmp(x->uuid, y->uuid);
}

static int list_one(struct rk_pods *p, enum rk_pod_state st, const char *uuid,
                    struct rk_pod_status *ret, rk_error *err)
{
        _cleanup_pod_ struct rk_pod *pod = NULL;
        int r = pod_open_at(p, st, uuid, &pod);
        if (r < 0)
                return r == -ENOENT ? 0 : rk_err_errno(err, r, "pod %s", uuid);
        r = rk_pod_status_read(pod, ret, err);
        if (r == -ENOENT)
                return 0; /* removed meanwhile */
        return r < 0 ? r : 1;
}

int rk_pods_list(struct rk_pods *p, struct rk_pod_status **ret, size_t *ret_n, rk_error *err)
{
        struct rk_pod_status *v = NULL;
        size_t n = 0;
        int r = 0;
        for (size_t s = 0; r >= 0 && s < RK_POD_STATE_MAX; s++) {
                char **uuids = NULL;
                size_t nu = 0;
                r = list_state(p, (enum rk_pod_state)s, &uuids, &nu, err);
                for (size_t i = 0; r >= 0 && i < nu; i++) {
                        bool seen = false;
                        for (size_t k = 0; k < n && !seen; k++)
                                seen = strcmp(v[k].uuid, uuids[i]) == 0;
                        if (seen)
                                continue;
                        struct rk_pod_status *nv = realloc(v, (n + 1) * sizeof(*v));
                        if (!nv) {
                                r = rk_err(err, -ENOMEM, "out of memory");
                                break;
                        }
                        v = nv;
                        memset(&v[n], 0, sizeof(v[n]));
                        r = list_one(p, (enum rk_pod_state)s, uuids[i], &v[n], err);
                        if (r > 0)
                                n++;
                }
                strv_free(uuids, nu);
        }
        if (r < 0) {
                rk_pod_statuses_free(v, n);
                return r;
        }
        if (n > 1)
                qsort(v, n, sizeof(*v), cmp_status);
        *ret = v;
        *ret_n = n;
        return 0;
}

/* ---- mounts ---- */

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
        char *o = s;
        for (; *s; s++) {
                if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
                    s[3] >= '0' && s[3] <= '7') {
                        *o++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
                        s += 3;
                } else
                        *o++ = *s;
        }
        *o = 0;
}

static int cmp_depth(const void *a, const void *b)
{
        size_t x = strlen(*(char *const *)a), y = strlen(*(char *const *)b);
        return x < y ? 1 : x > y ? -1 : 0;
}

/* The mount point (field 5) of one mountinfo line, unescaped, if it is path or below it. */
static char *mount_below(char *line, const char *path)
{
        char *save = NULL, *f = strtok_r(line, " ", &save);
        for (int i = 1; f && i < 5; i++)
                f = strtok_r(NULL, " ", &save);
        if (!f)
                return NULL;
        unescape_octal(f);
        size_t n = strlen(path);
        if (strncmp(f, path, n) != 0 || (f[n] != 0 && f[n] != '/'))
                return NULL;
        return f;
}

int rk_mounts_below(const char *path, char ***ret, size_t *ret_n, rk_error *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = rk_read_file_at(AT_FDCWD, "/proc/self/mountinfo", MOUNTINFO_MAX, &buf, &len, err);
        if (r < 0)
                return r;
        char **v = NULL;
        size_t n = 0;
        char *save = NULL;
        for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *mp = mount_below(line, path);
                if (!mp)
                        continue;
                char **nv = realloc(v, (n + 1) * sizeof(*v));
                if (nv)
                        v = nv;
                if (!nv || !(v[n] = strdup(mp))) {
                        strv_free(v, n);
                        return rk_err(err, -ENOMEM, "out of memory");
                }
                n++;
        }
        if (n > 1)
                qsort(v, n, sizeof(*v), cmp_depth);
        *ret = v;
        *ret_n = n;
        return 0;
}

/* Detaches the mount at abs (below the pod directory podfd at podpath). The path is resolved
 * from the pod directory without following any symlink and without leaving it: the pod's
 * contents were written by its apps, and a symlink planted there must not turn this into an
 * unmount of a host path (rkt #3486). The mount is then detached through the fd. */
static int umount_in_pod(int podfd, const char *podpath, const char *abs)
{
        const char *rel = abs + strlen(podpath);
        while (*rel == '/')
                rel++;
        int fd = rk_open_in_root(podfd, *rel ? rel : ".", O_PATH | O_NOFOLLOW, 0,
                                 RK_RESOLVE_NO_SYMLINKS | RK_RESOLVE_BENEATH, NULL);
        if (fd < 0)
                return fd;
        char proc[64];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        int r = umount2(proc, MNT_DETACH) < 0 ? negative_errno() : 0;
        (void)close(fd);
        return r;
}

/* Unmounts everything at or below the pod directory (MNT_DETACH, so a busy mount goes too);
 * -EBUSY if mounts remain after a few rounds. */
static int umount_pod(struct rk_pod *pod, const char *podpath, rk_error *err)
{
        for (int round = 0; round < UMOUNT_ROUNDS; round++) {
                char **v = NULL;
                size_t n = 0;
                int r = rk_mounts_below(podpath, &v, &n, err);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < n; i++)
                        (void)umount_in_pod(pod->fd, podpath, v[i]);
                strv_free(v, n);
                if (n == 0)
                        return 0;
        }
        return rk_err(err, -EBUSY, "pod %s: mounts remain below '%s' after unmounting", pod->uuid,
                      podpath);
}

static bool is_mount_root(int dirfd, const char *name, const struct stat *parent)
{
        struct statx sx;
        if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) < 0)
                return true; /* cannot tell: do not descend */
        if (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
                return (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
        return parent && makedev(sx.stx_dev_major, sx.stx_dev_minor) != parent->st_dev;
}

/* rm -rf that refuses (-EBUSY) to enter a mount: a host volume still bound below the pod must
 * never be emptied by a pod's removal. */
static int rm_tree(int dfd, const char *name, int depth)
{
        struct stat st, self;
        if (depth > RM_DEPTH_MAX)
                return -ELOOP;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        if (!S_ISDIR(st.st_mode))
                return unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? negative_errno() : 0;
        if (fstat(dfd, &self) < 0)
                return negative_errno();
        if (is_mount_root(dfd, name, &self))
                return -EBUSY;
        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        _cleanup_closedir_ DIR *d = fdopendir(fd);
        if (!d) {
                (void)close(fd);
                return negative_errno();
        }
        int r = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                int q = rm_tree(dirfd(d), de->d_name, depth + 1);
                if (q < 0 && r == 0)
                        r = q;
        }
        if (r < 0)
                return r;
        return unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? negative_errno() : 0;
}

/* Removal of a pod in garbage/ or exited-garbage/ that we hold exclusively: stage1's gc, every
 * leftover mount, then the files, rootfs first (so that a failure leaves what a retry needs). */
static int destroy(struct rk_pod *pod, rk_pod_stage1_gc_fn stage1_gc, void *ud, rk_error *err)
{
        char path[PATH_MAX];
        if (rk_pod_path(pod, path, sizeof(path)) < 0)
                return rk_err(err, -ENAMETOOLONG, "pod %s: path too long", pod->uuid);
        if (pod->state != RK_POD_EXITED_GARBAGE && pod->state != RK_POD_GARBAGE)
                return rk_err(err, -EINVAL, "pod %s: not garbage", pod->uuid);
        int r;
        if (pod->state == RK_POD_EXITED_GARBAGE && stage1_gc && (r = stage1_gc(ud, path, err)) < 0)
                return r;
        r = umount_pod(pod, path, err);
        if (r < 0)
                return r;
        r = rm_tree(pod->fd, "rootfs", 0);
        if (r >= 0)
                r = rm_tree(pod->pods->statefd[pod->state], pod->uuid, 0);
        if (r < 0)
                return rk_err_errno(err, r, "pod %s: cannot remove '%s'", pod->uuid, path);
        /* --private-users: its host id range may go to another pod only now; its address and
         * forwards too (net.h: the rkt table is rebuilt without them) */
        r = rk_userns_free(pod->pods->dirfd, pod->uuid, err);
        if (r >= 0)
                r = rk_net_free(rk_pods_data_dir(pod->pods), pod->uuid, err);
        return r;
}

static void audit_removed(struct rk_pods *p, const char *uuid, const char *by)
{
        struct rk_audit *a = NULL;
        if (rk_audit_open(p->dir, &a, NULL) < 0)
                return;
        json_t *o = json_pack("{s:s, s:s, s:s}", "pod", uuid, "decision", "removed", "by", by);
        if (o)
                (void)rk_audit_append(a, "gc", o, NULL);
        json_decref(o);
        rk_audit_close(a);
}

int rk_pod_remove(struct rk_pod *pod, rk_pod_stage1_gc_fn stage1_gc, void *ud, rk_error *err)
{
        int r = rk_pod_lock(pod, LOCK_EX | LOCK_NB, err);
        if (r == -EBUSY) {
                const char *what = pod->state == RK_POD_RUN       ? "running"
                                   : pod->state == RK_POD_PREPARE ? "being prepared"
                                                                  : "in use";
                return rk_err(err, -EBUSY, "pod %s is %s; stop it first", pod->uuid, what);
        }
        if (r < 0)
                return r;
        switch (pod->state) {
        case RK_POD_EMBRYO:
        case RK_POD_PREPARE:
        case RK_POD_PREPARED:
                r = rk_pod_transition(pod, RK_POD_GARBAGE, err);
                break;
        case RK_POD_RUN:
                r = rk_pod_transition(pod, RK_POD_EXITED_GARBAGE, err);
                break;
        default:
                break;
        }
        if (r >= 0)
                r = destroy(pod, stage1_gc, ud, err);
        if (r >= 0)
                audit_removed(pod->pods, pod->uuid, "rm");
        rk_pod_unlock(pod);
        return r;
}

/* ---- gc ---- */

struct gc {
        struct rk_pods *p;
        const struct rk_pods_gc_opts *o;
        struct rk_pods_gc_report rep;
        rk_error *err;
        int first; /* first failure */
};

static void gc_fail(struct gc *g, int r, const rk_error *e)
{
        g->rep.failed++;
        if (g->first == 0) {
                g->first = r;
                if (g->err)
                        *g->err = *e;
        }
}

static int64_t dir_ctime(struct rk_pod *pod)
{
        struct statx sx;
        if (statx(pod->fd, "", AT_EMPTY_PATH, STATX_CTIME, &sx) < 0)
                return 0;
        return ts_ns(sx.stx_ctime);
}

/* One pod of state s: mark it or sweep it. Pods locked by someone else are alive (or being
 * handled by another rkt) and are skipped. */
static void gc_pod(struct gc *g, enum rk_pod_state s, const char *uuid)
{
        _cleanup_pod_ struct rk_pod *pod = NULL;
        rk_error e = RK_ERROR_INIT;
        if (pod_open_at(g->p, s, uuid, &pod) < 0)
                return;
        /* now, not when gc started: a pod marked in this pass has a ctime after that */
        int64_t age = now_ns() - dir_ctime(pod);
        if (s == RK_POD_PREPARED && age < g->o->expire_prepared_ns)
                return;
        if (s == RK_POD_EXITED_GARBAGE && age < g->o->grace_ns)
                return;
        if (rk_pod_lock(pod, LOCK_EX | LOCK_NB, &e) < 0 || pod->state != s)
                return;
        int r = 0;
        switch (s) {
        case RK_POD_EMBRYO:
        case RK_POD_PREPARE:
                if ((r = rk_pod_transition(pod, RK_POD_GARBAGE, &e)) >= 0)
                        g->rep.marked_garbage++;
                break;
        case RK_POD_PREPARED:
                if ((r = rk_pod_transition(pod, RK_POD_GARBAGE, &e)) >= 0)
                        g->rep.expired_prepared++;
                break;
        case RK_POD_RUN:
                if ((r = rk_pod_transition(pod, RK_POD_EXITED_GARBAGE, &e)) >= 0)
                        g->rep.marked_exited++;
                break;
        default:
                if (g->o->mark_only)
                        break;
                r = destroy(pod, g->o->stage1_gc, g->o->userdata, &e);
                if (r >= 0) {
                        g->rep.removed++;
                        audit_removed(g->p, pod->uuid, "gc");
                }
                break;
        }
        if (r < 0 && r != -ENOENT)
                gc_fail(g, r, &e);
}

static void gc_state(struct gc *g, enum rk_pod_state s)
{
        char **uuids = NULL;
        size_t n = 0;
        rk_error e = RK_ERROR_INIT;
        int r = list_state(g->p, s, &uuids, &n, &e);
        if (r < 0) {
                gc_fail(g, r, &e);
                return;
        }
        for (size_t i = 0; i < n; i++)
                gc_pod(g, s, uuids[i]);
        strv_free(uuids, n);
}

int rk_pods_gc(struct rk_pods *p, const struct rk_pods_gc_opts *o, struct rk_pods_gc_report *ret,
               rk_error *err)
{
        struct gc g = {.p = p, .o = o, .err = err};
        /* mark, in the order pods move, then sweep: a pod marked now waits for the grace
         * period, a garbage pod (it never ran) goes at once */
        static const enum rk_pod_state order[] = {RK_POD_EMBRYO,   RK_POD_PREPARE,
                                                  RK_POD_PREPARED, RK_POD_RUN,
                                                  RK_POD_GARBAGE,  RK_POD_EXITED_GARBAGE};
        for (size_t i = 0; i < ELEMENTSOF(order); i++)
                gc_state(&g, order[i]);
        if (ret)
                *ret = g.rep;
        return g.first;
}

/* ---- trees in use ---- */

/* The tree IDs a plan references ("tree": ".../cas/tree/<id>/rootfs"). */
static bool plan_uses_tree(int podfd, const char *tree_id)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        if (rk_read_file_at(podfd, "plan.json", RK_MANIFEST_MAX, &buf, &len, NULL) < 0)
                return false;
        _cleanup_json_ json_t *plan = NULL;
        if (rk_json_parse("plan.json", buf, len, RK_MANIFEST_MAX, &plan, NULL) < 0)
                return true; /* unreadable: keep every tree rather than guess */
        size_t i;
        json_t *app;
        char needle[RK_TREE_ID_LEN + 16];
        snprintf(needle, sizeof(needle), "/%s/rootfs", tree_id);
        json_array_foreach (json_object_get(plan, "apps"), i, app) {
                const char *t = json_string_value(json_object_get(app, "tree"));
                size_t tn = t ? strlen(t) : 0, nn = strlen(needle);
                if (tn >= nn && strcmp(t + tn - nn, needle) == 0)
                        return true;
        }
        return false;
}

bool rk_pods_tree_in_use(void *userdata, const char *tree_id)
{
        struct rk_pods *p = userdata;
        bool used = false;
        for (size_t s = 0; !used && s < RK_POD_STATE_MAX; s++) {
                char **uuids = NULL;
                size_t n = 0;
                if (list_state(p, (enum rk_pod_state)s, &uuids, &n, NULL) < 0)
                        return true;
                for (size_t i = 0; !used && i < n; i++) {
                        _cleanup_close_ int fd =
                            openat(p->statefd[s], uuids[i],
                                   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        used = fd >= 0 && plan_uses_tree(fd, tree_id);
                }
                strv_free(uuids, n);
        }
        return used;
}
