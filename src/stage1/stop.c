/* SPDX-License-Identifier: Apache-2.0 */
/* rkt-stage1 stop --pod-dir=DIR [--force] [--timeout=SECONDS]: stop a running pod.
 *
 * The pod's init (the pid file) gets SIGTERM, which it passes to every process of the pod; the
 * apps' supervisors run their post-stop handlers once their app is gone, and init exits when
 * every app has. If init is still there after the timeout (default 10 s), or at once with
 * --force, it gets SIGKILL: the kernel then kills the whole PID namespace, and post-stop
 * handlers do not run.
 *
 * Signals go through a pidfd, opened first and then checked against the start time stage1
 * recorded in pids/init (and init must be PID 1 of its own namespace): a pid file naming a
 * recycled PID, or rewritten, makes stop refuse instead of signalling a stranger. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <time.h>

#include "base/fileio.h"
#include "base/log.h"
#include "stage1/stage1.h"

#define LOCK_WAIT_MS 5000 /* after init: for stage1 run to exit and free the lock */
#define KILL_WAIT_MS 5000 /* after SIGKILL */

static int read_pid_file(int pod_fd, pid_t *ret, rk_error *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = rk_read_file_at(pod_fd, "pid", 15, &buf, &len, err);
        if (r < 0)
                return r;
        char *end = NULL;
        long v = strtol(buf, &end, 10);
        if (end == buf || (*end && *end != '\n') || v <= 0 || v > INT32_MAX)
                return rk_err(err, -EBADMSG, "the pod's pid file is not a PID");
        *ret = (pid_t)v;
        return 0;
}

/* NSpid of /proc/<pid>/status ends in 1 for the init of a PID namespace below ours. */
static bool is_ns_init(pid_t pid)
{
        char path[48], line[256];
        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        while (f && fgets(line, sizeof(line), f))
                if (strncmp(line, "NSpid:", 6) == 0) {
                        char *last = strrchr(line, '\t');
                        return last && strtol(last + 1, NULL, 10) == 1 && last != line + 6;
                }
        return false;
}

static int open_init(int pod_fd, const char *path, rk_error *err)
{
        pid_t pid = 0, rec = 0;
        uint64_t start = 0;
        int r = read_pid_file(pod_fd, &pid, err);
        if (r >= 0)
                r = s1_pids_read(pod_fd, "init", &rec, &start, err);
        if (r < 0)
                return rk_err_prefix(err, r, "pod '%s'", path);
        if (rec != pid)
                return rk_err(err, -ESRCH,
                              "pod '%s': the pid file says %d, but stage1 started init as %d; not "
                              "signalling either",
                              path, (int)pid, (int)rec);
        int fd = s1_pidfd_open_verified(pid, start, err);
        if (fd < 0)
                return rk_err_prefix(err, fd, "pod '%s'", path);
        if (!is_ns_init(pid)) {
                (void)close(fd);
                return rk_err(err, -ESRCH, "pod '%s': process %d is not a pod's init", path,
                              (int)pid);
        }
        return fd;
}

/* 1 once the process is gone, 0 on timeout. */
static int wait_exit(int pidfd, int ms)
{
        struct pollfd p = {.fd = pidfd, .events = POLLIN};
        for (;;) {
                int n = poll(&p, 1, ms);
                if (n >= 0 || errno != EINTR)
                        return n > 0;
        }
}

static void wait_unlocked(int lock_fd)
{
        for (int ms = 0; ms < LOCK_WAIT_MS; ms += 20) {
                if (flock(lock_fd, LOCK_SH | LOCK_NB) == 0) {
                        (void)flock(lock_fd, LOCK_UN);
                        return;
                }
                nanosleep(&(struct timespec){0, 20 * 1000000}, NULL);
        }
}

static int stop(const char *path, bool force, unsigned timeout_s, rk_error *err)
{
        _cleanup_close_ int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return rk_err_errno(err, negative_errno(), "cannot open the pod directory '%s'",
                                    path);
        if (flock(dir, LOCK_SH | LOCK_NB) == 0)
                return rk_err(err, -ESRCH, "pod '%s' is not running", path);
        _cleanup_close_ int init = open_init(dir, path, err);
        if (init < 0)
                return init;
        int sig = force ? SIGKILL : SIGTERM;
        rk_log_debug("stop: sending %s to the pod's init", sigabbrev_np(sig));
        if (pidfd_send_signal(init, sig, NULL, 0) < 0 && errno != ESRCH)
                return rk_err_errno(err, negative_errno(), "pod '%s': cannot signal init", path);
        if (!force && !wait_exit(init, (int)timeout_s * 1000)) {
                rk_log_warning("pod '%s' did not stop within %u s of SIGTERM; sending SIGKILL",
                               path, timeout_s);
                if (pidfd_send_signal(init, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
                        return rk_err_errno(err, negative_errno(), "pod '%s': cannot kill init",
                                            path);
        }
        if (!wait_exit(init, KILL_WAIT_MS))
                return rk_err(err, -ETIMEDOUT, "pod '%s': init did not exit after SIGKILL", path);
        wait_unlocked(dir);
        return 0;
}

int s1_stop(const char *pod_path, bool force, unsigned timeout_s)
{
        rk_error err = RK_ERROR_INIT;
        if (prctl(PR_SET_DUMPABLE, 0) < 0 || close_range(3, ~0U, 0) < 0) {
                rk_logf(RK_LOG_ERROR, 0, "stop: %m");
                return 1;
        }
        if (stop(pod_path, force, timeout_s, &err) < 0) {
                rk_log_error("stop: %s", err.msg);
                return 1;
        }
        return 0;
}
