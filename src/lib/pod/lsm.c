/* SPDX-License-Identifier: Apache-2.0 */
/* Landlock detection and SELinux labels for stage0 (lsm.h). */
#include <ctype.h>
#include <fcntl.h>
#include <selinux/selinux.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/json.h"
#include "base/label.h"
#include "pod/lsm.h"
#include "pod/pod.h"

#define LXC_CONTEXTS_MAX (64u << 10)
#define MCS_FILE         "selinux-mcs"
#define MCS_LOCK         "selinux-mcs.lock"
#define MCS_USED_MAX     65536 /* pods scanned; beyond that the allocation fails */

int rk_landlock_abi(void)
{
        long v = syscall(SYS_landlock_create_ruleset, NULL, 0, 1U /* VERSION */);
        return v < 0 ? -errno : (int)v;
}

int rk_pod_plan_landlock_off(struct rk_pod *pod, rk_error *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = rk_read_file_at(pod->fd, "plan.json", RK_MANIFEST_MAX, &buf, &len, err);
        if (r < 0)
                return rk_err_prefix(err, r, "pod %s", pod->uuid);
        _cleanup_json_ json_t *plan = NULL;
        r = rk_json_parse("plan.json", buf, len, RK_MANIFEST_MAX, &plan, err);
        if (r < 0)
                return r;
        size_t i;
        json_t *app;
        json_array_foreach (json_object_get(plan, "apps"), i, app)
                if (json_is_false(json_object_get(app, "landlock")))
                        return 1;
        return 0;
}

bool rk_selinux_enabled(void)
{
        return is_selinux_enabled() > 0;
}

/* ---- lxc_contexts ---- */

static char *trim(char *s)
{
        while (*s == ' ' || *s == '\t')
                s++;
        size_t n = strlen(s);
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
                s[--n] = 0;
        return s;
}

int rk_selinux_lxc_contexts_parse(const char *what, const char *buf, size_t len, char **ret_process,
                                  char **ret_file, rk_error *err)
{
        if (len > LXC_CONTEXTS_MAX)
                return rk_err(err, -EFBIG, "%s: more than %u bytes", what, LXC_CONTEXTS_MAX);
        if (memchr(buf, 0, len))
                return rk_err(err, -EBADMSG, "%s: contains a NUL byte", what);
        _cleanup_free_ char *copy = strndup(buf, len);
        if (!copy)
                return rk_err(err, -ENOMEM, "out of memory");
        const char *process = NULL, *file = NULL;
        unsigned lineno = 0;
        for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                lineno++;
                line = trim(line);
                if (!*line || *line == '#')
                        continue;
                char *eq = strchr(line, '=');
                if (!eq)
                        return rk_err(err, -EBADMSG, "%s: line %u is not KEY = VALUE", what,
                                      lineno);
                *eq = 0;
                char *key = trim(line), *val = trim(eq + 1);
                size_t vn = strlen(val);
                if (vn >= 2 && val[0] == '"' && val[vn - 1] == '"') {
                        val[vn - 1] = 0;
                        val++;
                }
                if (!*key || strspn(key, "abcdefghijklmnopqrstuvwxyz_") != strlen(key))
                        return rk_err(err, -EBADMSG, "%s: line %u: '%s' is not a key", what, lineno,
                                      key);
                const char **slot = !strcmp(key, "process") ? &process
                                    : !strcmp(key, "file")  ? &file
                                                            : NULL;
                if (!slot)
                        continue;
                if (*slot)
                        return rk_err(err, -EBADMSG, "%s: line %u: '%s' is given twice", what,
                                      lineno, key);
                if (!rk_label_valid(val))
                        return rk_err(err, -EBADMSG,
                                      "%s: line %u: %s '%.80s' is not a user:role:type:level "
                                      "context",
                                      what, lineno, key, val);
                *slot = val;
        }
        if (!process || !file)
                return rk_err(err, -EBADMSG, "%s: no \"%s\" context", what,
                              process ? "file" : "process");
        char *p = strdup(process), *f = strdup(file);
        if (!p || !f) {
                free(p);
                free(f);
                return rk_err(err, -ENOMEM, "out of memory");
        }
        *ret_process = p;
        *ret_file = f;
        return 0;
}

int rk_selinux_lxc_contexts_read(const char *path, char **ret_process, char **ret_file,
                                 rk_error *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = rk_read_file_at(AT_FDCWD, path, LXC_CONTEXTS_MAX, &buf, &len, err);
        if (r < 0)
                return rk_err_prefix(err, r, "SELinux lxc_contexts '%s'", path);
        return rk_selinux_lxc_contexts_parse(path, buf, len, ret_process, ret_file, err);
}

/* ---- MCS pairs ---- */

int rk_selinux_mcs_parse(const char *s, struct rk_mcs_pair *ret)
{
        unsigned a = 0, b = 0;
        int n = 0;
        if (sscanf(s, "c%u,c%u%n", &a, &b, &n) != 2 || (s[n] && strcmp(s + n, "\n")) || a >= b ||
            b > RK_MCS_MAX_CAT || !isdigit((unsigned char)s[1]))
                return -EBADMSG;
        /* one spelling: no leading zeros, no signs */
        char canon[32];
        snprintf(canon, sizeof(canon), "c%u,c%u", a, b);
        if (strncmp(canon, s, strlen(canon)) || (size_t)n != strlen(canon))
                return -EBADMSG;
        ret->a = a;
        ret->b = b;
        return 0;
}

static uint32_t random_u32(void *unused)
{
        uint32_t v = 0;
        if (getrandom(&v, sizeof(v), 0) != sizeof(v))
                v = (uint32_t)getpid() ^ (uint32_t)time(NULL);
        return v;
}

static bool pair_used(const struct rk_mcs_pair *used, size_t n, unsigned a, unsigned b)
{
        for (size_t i = 0; i < n; i++)
                if (used[i].a == a && used[i].b == b)
                        return true;
        return false;
}

int rk_selinux_mcs_pick(const struct rk_mcs_pair *used, size_t n_used, unsigned max_cat,
                        uint32_t (*rnd)(void *), void *userdata, struct rk_mcs_pair *ret,
                        rk_error *err)
{
        if (max_cat < 1 || max_cat > RK_MCS_MAX_CAT)
                return rk_err(err, -EINVAL, "MCS: categories 0..%u: need 1 to %d", max_cat,
                              RK_MCS_MAX_CAT);
        uint64_t n = (uint64_t)(max_cat + 1) * max_cat / 2; /* pairs a < b */
        if (!rnd)
                rnd = random_u32;
        /* Start at a random pair, then walk every pair once: unique even when nearly full. */
        uint64_t start = rnd(userdata) % n;
        for (uint64_t k = 0; k < n; k++) {
                uint64_t idx = (start + k) % n;
                /* idx -> (a, b): row a holds max_cat - a pairs */
                unsigned a = 0;
                while (idx >= max_cat - a) {
                        idx -= max_cat - a;
                        a++;
                }
                unsigned b = a + 1 + (unsigned)idx;
                if (!pair_used(used, n_used, a, b)) {
                        ret->a = a;
                        ret->b = b;
                        return 0;
                }
        }
        return rk_err(err, -EUSERS,
                      "SELinux: every MCS pair of c0..c%u is used by another pod; remove "
                      "pods ('rkt gc') and try again",
                      max_cat);
}

/* ---- labels ---- */

int rk_selinux_with_level(const char *ctx, const char *level, char **ret, rk_error *err)
{
        const char *p = ctx;
        for (int i = 0; i < 3 && p; i++)
                p = strchr(p, ':') ? strchr(p, ':') + 1 : NULL;
        if (!p)
                return rk_err(err, -EINVAL, "SELinux context '%.80s' has no level", ctx);
        char buf[RK_LABEL_MAX + 2];
        int n = snprintf(buf, sizeof(buf), "%.*s%s", (int)(p - ctx), ctx, level);
        if (n < 0 || (size_t)n >= sizeof(buf) || !rk_label_valid(buf))
                return rk_err(err, -EINVAL, "SELinux context '%.80s' at level '%.40s' is not valid",
                              ctx, level);
        if (!(*ret = strdup(buf)))
                return rk_err(err, -ENOMEM, "out of memory");
        return 0;
}

static const struct rk_isolator *find_context(const struct rk_isolators *l)
{
        for (size_t i = 0; l && i < l->n; i++)
                if (l->v[i].kind == RK_ISOLATOR_SELINUX_CONTEXT)
                        return &l->v[i];
        return NULL;
}

int rk_selinux_app_labels(const char *process_base, const char *file_base,
                          const struct rk_mcs_pair *pair, const struct rk_isolators *app_iso,
                          const struct rk_isolators *pod_iso, char **ret_process, char **ret_mount,
                          rk_error *err)
{
        char level[32];
        snprintf(level, sizeof(level), "s0:c%u,c%u", pair->a, pair->b);
        _cleanup_free_ char *proc = NULL, *mnt = NULL;
        const struct rk_isolator *iso = find_context(app_iso);
        if (!iso)
                iso = find_context(pod_iso);
        int r;
        if (iso) {
                char buf[RK_LABEL_MAX + 2];
                int n = snprintf(buf, sizeof(buf), "%s:%s:%s:%s", iso->u.selinux.user,
                                 iso->u.selinux.role, iso->u.selinux.type, iso->u.selinux.level);
                if (n < 0 || (size_t)n >= sizeof(buf) || !rk_label_valid(buf))
                        return rk_err(err, -EINVAL,
                                      "os/linux/selinux-context: '%.100s' is not a valid "
                                      "user:role:type:level context",
                                      buf);
                if (!(proc = strdup(buf)))
                        return rk_err(err, -ENOMEM, "out of memory");
        } else if ((r = rk_selinux_with_level(process_base, level, &proc, err)) < 0)
                return r;
        if ((r = rk_selinux_with_level(file_base, level, &mnt, err)) < 0)
                return r;
        *ret_process = TAKE_PTR(proc);
        *ret_mount = TAKE_PTR(mnt);
        return 0;
}

/* ---- reservation ---- */

/* A pod of prepare/ or run/ is live while someone holds its lock; one of prepared/ always. */
static bool pod_live(int fd, bool needs_lock)
{
        if (!needs_lock)
                return true;
        if (flock(fd, LOCK_SH | LOCK_NB) < 0)
                return errno == EWOULDBLOCK;
        (void)flock(fd, LOCK_UN);
        return false;
}

static int scan_state(int podsfd, const char *state, bool needs_lock, struct rk_mcs_pair **used,
                      size_t *n_used, rk_error *err)
{
        _cleanup_close_ int sfd =
            openat(podsfd, state, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sfd < 0)
                return errno == ENOENT ? 0 : rk_err_errno(err, negative_errno(), "pods/%s", state);
        char **names = NULL;
        size_t n = 0;
        int r = rk_dir_names(sfd, false, &names, &n);
        if (r < 0)
                return rk_err_errno(err, r, "pods/%s", state);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_close_ int pfd =
                    openat(sfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (pfd < 0 || !pod_live(pfd, needs_lock))
                        continue;
                char buf[32] = {0};
                _cleanup_close_ int f = openat(pfd, MCS_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                struct rk_mcs_pair p;
                if (f < 0 || read(f, buf, sizeof(buf) - 1) <= 0 ||
                    rk_selinux_mcs_parse(buf, &p) < 0)
                        continue;
                if (*n_used >= MCS_USED_MAX) {
                        r = rk_err(err, -EUSERS, "SELinux: more than %d pods hold MCS pairs",
                                   MCS_USED_MAX);
                        break;
                }
                struct rk_mcs_pair *v = realloc(*used, (*n_used + 1) * sizeof(**used));
                if (!v) {
                        r = rk_err(err, -ENOMEM, "out of memory");
                        break;
                }
                *used = v;
                v[(*n_used)++] = p;
        }
        rk_strv_free(names, n);
        return r;
}

int rk_selinux_reserve(struct rk_pod *pod, unsigned max_cat, struct rk_mcs_pair *ret, rk_error *err)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/pods", rk_pods_data_dir(pod->pods));
        _cleanup_close_ int podsfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (podsfd < 0)
                return rk_err_errno(err, negative_errno(), "cannot open '%s'", path);
        _cleanup_close_ int lock =
            openat(podsfd, MCS_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (lock < 0)
                return rk_err_errno(err, negative_errno(), "cannot open pods/%s", MCS_LOCK);
        /* one allocation at a time: scan, pick and write the reservation atomically */
        while (flock(lock, LOCK_EX) < 0)
                if (errno != EINTR)
                        return rk_err_errno(err, negative_errno(), "cannot lock pods/%s", MCS_LOCK);
        _cleanup_free_ struct rk_mcs_pair *used = NULL;
        size_t n_used = 0;
        int r = scan_state(podsfd, "prepare", true, &used, &n_used, err);
        if (r >= 0)
                r = scan_state(podsfd, "prepared", false, &used, &n_used, err);
        if (r >= 0)
                r = scan_state(podsfd, "run", true, &used, &n_used, err);
        struct rk_mcs_pair p = {0};
        if (r >= 0)
                r = rk_selinux_mcs_pick(used, n_used, max_cat, NULL, NULL, &p, err);
        char text[32];
        snprintf(text, sizeof(text), "c%u,c%u\n", p.a, p.b);
        if (r >= 0)
                r = rk_write_file_atomic_at(pod->fd, MCS_FILE, text, strlen(text), 0600, err);
        (void)flock(lock, LOCK_UN);
        if (r < 0)
                return r;
        *ret = p;
        return 0;
}
