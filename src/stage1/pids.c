/* SPDX-License-Identifier: Apache-2.0 */
/* Which host process is the pod's init, and which is each app (PLAN.md "pids/"), and how enter
 * and stop get a pidfd to them without trusting a PID that may have been recycled.
 *
 * A PID alone names whatever process holds it now. So each record is "<pid> <starttime>", the
 * start time being field 22 of /proc/<pid>/stat (clock ticks since boot; it never changes for
 * a process and two processes that held the same PID cannot share it). A pidfd is opened
 * first and the start time read after: if it still matches, the pidfd is that process, and
 * from then on the pidfd cannot be redirected to another one. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "base/fileio.h"
#include "stage1/stage1.h"

int s1_stat_parse(const char *buf, size_t len, pid_t *ret_pid, uint64_t *ret_start)
{
        char tmp[1024];
        if (len == 0 || len >= sizeof(tmp))
                return -EBADMSG;
        memcpy(tmp, buf, len);
        tmp[len] = 0;
        if (strlen(tmp) != len)
                return -EBADMSG;
        char *end = NULL;
        errno = 0;
        long pid = strtol(tmp, &end, 10);
        if (errno || end == tmp || *end != ' ' || pid <= 0 || pid > INT32_MAX)
                return -EBADMSG;
        /* comm (field 2) is in parentheses and may itself hold ')' and spaces: the fields
         * resume after the last ')'. */
        char *p = strrchr(tmp, ')');
        if (!p || p < end)
                return -EBADMSG;
        p++;
        /* p is at " S ppid ...": state is field 3, starttime field 22 (19 fields on). */
        for (int field = 3; field < 22; field++) {
                if (*p != ' ')
                        return -EBADMSG;
                p++;
                size_t n = strcspn(p, " ");
                if (n == 0)
                        return -EBADMSG;
                p += n;
        }
        if (*p != ' ' || p[1] < '0' || p[1] > '9')
                return -EBADMSG;
        errno = 0;
        unsigned long long start = strtoull(p + 1, &end, 10);
        if (errno || (*end != ' ' && *end != '\n' && *end))
                return -EBADMSG;
        *ret_pid = (pid_t)pid;
        *ret_start = start;
        return 0;
}

int s1_proc_stat(const char *which, pid_t *ret_pid, uint64_t *ret_start, rk_error *err)
{
        char path[64], buf[1024];
        snprintf(path, sizeof(path), "/proc/%s/stat", which);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "%s", path);
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return rk_err_errno(err, negative_errno(), "%s", path);
        if (s1_stat_parse(buf, (size_t)n, ret_pid, ret_start) < 0)
                return rk_err(err, -EBADMSG, "%s: unexpected format", path);
        return 0;
}

int s1_pids_parse(const char *buf, size_t len, pid_t *ret_pid, uint64_t *ret_start)
{
        char tmp[64];
        if (len == 0 || len >= sizeof(tmp))
                return -EBADMSG;
        memcpy(tmp, buf, len);
        tmp[len] = 0;
        if (strlen(tmp) != len || tmp[0] < '1' || tmp[0] > '9')
                return -EBADMSG;
        char *end = NULL;
        errno = 0;
        long pid = strtol(tmp, &end, 10);
        if (errno || *end != ' ' || pid <= 0 || pid > INT32_MAX || end[1] < '0' || end[1] > '9')
                return -EBADMSG;
        char *s = end + 1;
        errno = 0;
        unsigned long long start = strtoull(s, &end, 10);
        if (errno || (end[0] && !(end[0] == '\n' && !end[1])))
                return -EBADMSG;
        *ret_pid = (pid_t)pid;
        *ret_start = start;
        return 0;
}

int s1_pids_write(int pod_fd, const char *name, pid_t pid, uint64_t start, rk_error *err)
{
        char tmp[S1_MAX_NAME + 16], dst[S1_MAX_NAME + 16], buf[48];
        snprintf(tmp, sizeof(tmp), "pids/.%s.tmp", name);
        snprintf(dst, sizeof(dst), "pids/%s", name);
        int n = snprintf(buf, sizeof(buf), "%d %" PRIu64, (int)pid, start);
        _cleanup_close_ int fd =
            openat(pod_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 || rk_write_all(fd, buf, (size_t)n) < 0 ||
            renameat(pod_fd, tmp, pod_fd, dst) < 0)
                return rk_err_errno(err, negative_errno(), "cannot write %s", dst);
        return 0;
}

int s1_pids_read(int pod_fd, const char *name, pid_t *ret_pid, uint64_t *ret_start, rk_error *err)
{
        char path[S1_MAX_NAME + 16];
        snprintf(path, sizeof(path), "pids/%s", name);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = rk_read_file_at(pod_fd, path, 63, &buf, &len, err);
        if (r < 0)
                return r;
        if (s1_pids_parse(buf, len, ret_pid, ret_start) < 0)
                return rk_err(err, -EBADMSG, "%s: not \"PID STARTTIME\"", path);
        return 0;
}

/* /proc/<pid>/limits: a header, then one line per limit in resource order, the name in 25
 * columns, then the soft and hard values ("unlimited" or a number). */
int s1_limits_parse(const char *buf, size_t len, struct rlimit *ret, size_t n)
{
        size_t i = 0;
        const char *p = buf, *end = buf + len;
        const char *nl = memchr(p, '\n', len);
        if (!nl || strncmp(p, "Limit ", 6) != 0)
                return -EBADMSG;
        for (p = nl + 1; p < end && i < n; p = nl + 1, i++) {
                char line[256], *save = NULL;
                nl = memchr(p, '\n', (size_t)(end - p));
                if (!nl || (size_t)(nl - p) >= sizeof(line) || nl - p < 27)
                        return -EBADMSG;
                memcpy(line, p, (size_t)(nl - p));
                line[nl - p] = 0;
                char *v[2] = {strtok_r(line + 26, " ", &save), strtok_r(NULL, " ", &save)};
                rlim_t out[2];
                for (int k = 0; k < 2; k++) {
                        char *e = NULL;
                        if (!v[k])
                                return -EBADMSG;
                        if (strcmp(v[k], "unlimited") == 0) {
                                out[k] = RLIM_INFINITY;
                                continue;
                        }
                        if (v[k][0] < '0' || v[k][0] > '9')
                                return -EBADMSG;
                        errno = 0;
                        out[k] = strtoull(v[k], &e, 10);
                        if (errno || *e)
                                return -EBADMSG;
                }
                if (out[0] > out[1])
                        return -EBADMSG;
                ret[i] = (struct rlimit){.rlim_cur = out[0], .rlim_max = out[1]};
        }
        return i == n ? 0 : -EBADMSG;
}

int s1_pidfd_open_verified(pid_t pid, uint64_t start, rk_error *err)
{
        _cleanup_close_ int fd = pidfd_open(pid, 0);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "process %d", (int)pid);
        char which[16];
        pid_t p = 0;
        uint64_t s = 0;
        snprintf(which, sizeof(which), "%d", (int)pid);
        rk_error e2 = RK_ERROR_INIT;
        /* After the pidfd exists: a start time that still matches means the pidfd is the
         * recorded process, not one that got its PID since. */
        if (s1_proc_stat(which, &p, &s, &e2) < 0 || p != pid || s != start)
                return rk_err(err, -ESRCH,
                              "process %d is not the one the pod recorded (it exited and the PID "
                              "was reused)",
                              (int)pid);
        return TAKE_FD(fd);
}
