/* SPDX-License-Identifier: Apache-2.0 */
/* The registry of host id ranges for --private-users (userns.h). rkt picked a random shift per
 * pod and could give two pods the same range (rkt.md 2.10.6); here every block is handed out
 * under one lock and recorded before the pod can run, and released only when the pod is
 * removed. */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "base/fileio.h"
#include "pod/pod.h"
#include "pod/userns.h"

#define REG_HEADER    "rkt-userns 1\n"
#define REG_MAX_BYTES (4u << 20)
#define UUID_LEN      36

struct entry {
        char uuid[UUID_LEN + 1];
        uint32_t base;
};

struct registry {
        struct entry *v;
        size_t n;
};

static bool uuid_ok(const char *s, size_t len)
{
        if (len != UUID_LEN)
                return false;
        for (size_t i = 0; i < len; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;
                if (dash ? s[i] != '-' : !strchr("0123456789abcdef", s[i]) || !s[i])
                        return false;
        }
        return true;
}

/* Strict: any line that is not "<uuid> <base>" with an aligned base, or a uuid or base seen
 * twice, makes the whole file an error. */
static int parse(const char *buf, size_t len, struct registry *reg, rk_error *err)
{
        if (len < strlen(REG_HEADER) || memcmp(buf, REG_HEADER, strlen(REG_HEADER)) != 0)
                return rk_err(err, -EBADMSG, "userns registry: bad header");
        size_t lineno = 1;
        for (const char *p = buf + strlen(REG_HEADER); p < buf + len;) {
                const char *nl = memchr(p, '\n', (size_t)(buf + len - p));
                lineno++;
                if (!nl)
                        return rk_err(err, -EBADMSG, "userns registry line %zu: no newline",
                                      lineno);
                const char *sp = memchr(p, ' ', (size_t)(nl - p));
                char num[16];
                size_t nlen = sp ? (size_t)(nl - sp - 1) : 0;
                if (!sp || !uuid_ok(p, (size_t)(sp - p)) || nlen == 0 || nlen >= sizeof(num))
                        return rk_err(err, -EBADMSG,
                                      "userns registry line %zu: not '<uuid> <base>'", lineno);
                memcpy(num, sp + 1, nlen);
                num[nlen] = 0;
                char *end = NULL;
                errno = 0;
                unsigned long long b = strtoull(num, &end, 10);
                if (errno || *end || num[0] < '0' || num[0] > '9' || b > UINT32_MAX ||
                    b % RK_USERNS_SIZE != 0 || b == 0)
                        return rk_err(err, -EBADMSG, "userns registry line %zu: bad base '%s'",
                                      lineno, num);
                for (size_t i = 0; i < reg->n; i++)
                        if (reg->v[i].base == b || !memcmp(reg->v[i].uuid, p, UUID_LEN))
                                return rk_err(err, -EBADMSG,
                                              "userns registry line %zu: uuid or base used twice",
                                              lineno);
                struct entry *v = realloc(reg->v, (reg->n + 1) * sizeof(*v));
                if (!v)
                        return rk_err(err, -ENOMEM, "out of memory");
                reg->v = v;
                memcpy(v[reg->n].uuid, p, UUID_LEN);
                v[reg->n].uuid[UUID_LEN] = 0;
                v[reg->n].base = (uint32_t)b;
                reg->n++;
                p = nl + 1;
        }
        return 0;
}

/* <dir>/userns, locked; the registry read into reg (empty if the file does not exist yet). */
static int open_locked(int dirfd, bool create, struct registry *reg, int *ret_fd, rk_error *err)
{
        if (!create && faccessat(dirfd, "userns", F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
                return -ENOENT; /* no pod ever had a range */
        if (mkdirat(dirfd, "userns", 0700) < 0 && errno != EEXIST)
                return rk_err_errno(err, negative_errno(), "cannot create the userns registry");
        _cleanup_close_ int d =
            openat(dirfd, "userns", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (d < 0 || fstat(d, &st) < 0)
                return rk_err_errno(err, negative_errno(), "cannot open the userns registry");
        if (st.st_uid != geteuid() || (st.st_mode & 022))
                return rk_err(err, -EPERM, "userns registry: the directory must be ours, 0700");
        _cleanup_close_ int lock =
            openat(d, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (lock < 0)
                return rk_err_errno(err, negative_errno(), "cannot open the userns registry lock");
        int r;
        while ((r = flock(lock, LOCK_EX)) < 0 && errno == EINTR)
                ;
        if (r < 0)
                return rk_err_errno(err, negative_errno(), "cannot lock the userns registry");
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        r = rk_read_file_at(d, "registry", REG_MAX_BYTES, &buf, &len, err);
        if (r == -ENOENT) {
                r = 0;
        } else if (r >= 0) {
                r = parse(buf, len, reg, err);
                if (r < 0)
                        r = rk_err_prefix(err, r,
                                          "'userns/registry' under the data dir is corrupt; no "
                                          "range is handed out until it is repaired or removed "
                                          "(with every --private-users pod stopped)");
        }
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(d);
        return TAKE_FD(lock); /* held until the caller closes it */
}

static int store(int d, const struct registry *reg, rk_error *err)
{
        size_t cap = strlen(REG_HEADER) + reg->n * (UUID_LEN + 13) + 1;
        _cleanup_free_ char *buf = malloc(cap);
        if (!buf)
                return rk_err(err, -ENOMEM, "out of memory");
        size_t len = (size_t)snprintf(buf, cap, "%s", REG_HEADER);
        for (size_t i = 0; i < reg->n; i++)
                len += (size_t)snprintf(buf + len, cap - len, "%s %" PRIu32 "\n", reg->v[i].uuid,
                                        reg->v[i].base);
        return rk_write_file_atomic_at(d, "registry", buf, len, 0600, err);
}

/* [start, start+count) ranges of a subordinate-id file; a missing file has none. */
static bool overlaps_subid(const char *path, uint64_t lo, uint64_t hi)
{
        if (!path)
                return false;
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char line[512];
        while (f && fgets(line, sizeof(line), f)) {
                char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2)
                        continue;
                unsigned long long start = strtoull(c1 + 1, NULL, 10);
                unsigned long long count = strtoull(c2 + 1, NULL, 10);
                if (start < hi && start + count > lo)
                        return true;
        }
        return false;
}

static void registry_clear(struct registry *reg)
{
        free(reg->v);
        reg->v = NULL;
        reg->n = 0;
}

int rk_userns_alloc(int dirfd, const struct rk_userns_pool *pool, const char *uuid, uint32_t *ret,
                    rk_error *err)
{
        if (!uuid_ok(uuid, strlen(uuid)))
                return rk_err(err, -EINVAL, "userns: '%s' is not a pod UUID", uuid);
        if (pool->first % RK_USERNS_SIZE || pool->first == 0 ||
            (uint64_t)pool->first + (uint64_t)pool->slots * RK_USERNS_SIZE > UINT32_MAX)
                return rk_err(err, -EINVAL, "userns: bad pool");
        struct registry reg = {0};
        int d = -EBADF;
        _cleanup_close_ int lock = open_locked(dirfd, true, &reg, &d, err);
        _cleanup_close_ int dfd = d;
        if (lock < 0) {
                registry_clear(&reg);
                return lock;
        }
        /* Entries of pods that are gone (a crash after removal) are dropped first. */
        size_t kept = 0;
        for (size_t i = 0; i < reg.n; i++) {
                if (!strcmp(reg.v[i].uuid, uuid)) {
                        *ret = reg.v[i].base;
                        registry_clear(&reg);
                        return 0;
                }
                if (!pool->pod_exists || pool->pod_exists(pool->userdata, reg.v[i].uuid))
                        reg.v[kept++] = reg.v[i];
        }
        reg.n = kept;
        int r = -ENOSPC;
        for (uint32_t s = 0; s < pool->slots && r == -ENOSPC; s++) {
                uint64_t lo = (uint64_t)pool->first + (uint64_t)s * RK_USERNS_SIZE;
                bool used = overlaps_subid(pool->subuid, lo, lo + RK_USERNS_SIZE) ||
                            overlaps_subid(pool->subgid, lo, lo + RK_USERNS_SIZE);
                for (size_t i = 0; !used && i < reg.n; i++)
                        used = reg.v[i].base == lo;
                if (used)
                        continue;
                struct entry *v = realloc(reg.v, (reg.n + 1) * sizeof(*v));
                if (!v) {
                        r = rk_err(err, -ENOMEM, "out of memory");
                        break;
                }
                reg.v = v;
                snprintf(v[reg.n].uuid, sizeof(v[reg.n].uuid), "%s", uuid);
                v[reg.n].base = (uint32_t)lo;
                reg.n++;
                r = store(dfd, &reg, err);
                if (r >= 0)
                        *ret = (uint32_t)lo;
        }
        if (r == -ENOSPC)
                r = rk_err(err, -ENOSPC,
                           "userns: all %" PRIu32 " host id ranges are in use; remove pods run "
                           "with --private-users (rkt rm, rkt gc)",
                           pool->slots);
        registry_clear(&reg);
        return r;
}

int rk_userns_free(int dirfd, const char *uuid, rk_error *err)
{
        struct registry reg = {0};
        int d = -EBADF;
        _cleanup_close_ int lock = open_locked(dirfd, false, &reg, &d, err);
        _cleanup_close_ int dfd = d;
        if (lock < 0) {
                registry_clear(&reg);
                return lock == -ENOENT ? 0 : lock;
        }
        size_t kept = 0;
        for (size_t i = 0; i < reg.n; i++)
                if (strcmp(reg.v[i].uuid, uuid) != 0)
                        reg.v[kept++] = reg.v[i];
        int r = kept == reg.n ? 0 : (reg.n = kept, store(dfd, &reg, err));
        registry_clear(&reg);
        return r;
}

int rk_userns_lookup(int dirfd, const char *uuid, uint32_t *ret, rk_error *err)
{
        struct registry reg = {0};
        int d = -EBADF;
        _cleanup_close_ int lock = open_locked(dirfd, false, &reg, &d, err);
        _cleanup_close_ int dfd = d;
        int r = lock < 0 && lock != -ENOENT
                    ? lock
                    : rk_err(err, -ENOENT, "userns: pod %s has no range", uuid);
        for (size_t i = 0; i < reg.n; i++)
                if (!strcmp(reg.v[i].uuid, uuid)) {
                        *ret = reg.v[i].base;
                        r = 0;
                }
        registry_clear(&reg);
        return r;
}

/* A pod only ever moves to a later state of rk_pod_state (embryo, prepare, prepared, run,
 * exited-garbage, garbage), so looking in that order cannot miss one that moves meanwhile. */
static bool pod_exists(void *userdata, const char *uuid)
{
        char path[PATH_MAX];
        struct stat st;
        for (int s = 0; s < RK_POD_STATE_MAX; s++) {
                int n = snprintf(path, sizeof(path), "%s/pods/%s/%s", (const char *)userdata,
                                 rk_pod_state_dir((enum rk_pod_state)s), uuid);
                /* unsure (too long, or an error other than "not there"): it exists */
                if (n < 0 || (size_t)n >= sizeof(path) || lstat(path, &st) == 0 || errno != ENOENT)
                        return true;
        }
        return false;
}

void rk_userns_default_pool(const char *data_dir, struct rk_userns_pool *ret)
{
        *ret = (struct rk_userns_pool){.first = RK_USERNS_POOL_FIRST,
                                       .slots = RK_USERNS_POOL_SLOTS,
                                       .subuid = "/etc/subuid",
                                       .subgid = "/etc/subgid",
                                       .pod_exists = pod_exists,
                                       .userdata = (void *)data_dir};
}
