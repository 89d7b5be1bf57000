/* SPDX-License-Identifier: Apache-2.0 */
/* The pod's "exit" record in the audit log of --audit-dir (rkt passes its data dir),
 * appended by the outer rkt-stage1 once init is gone: the pod's exit status, each app's status
 * (null if it never ran to an exit), and the isolator summary the app ran under (audit/summary.h,
 * the same the run record has). */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "audit/summary.h"
#include "base/json.h"
#include "stage1/stage1.h"

static json_t *app_status(const struct s1_pod *pod, const char *name)
{
        char buf[16] = {0};
        _cleanup_close_ int fd = openat(pod->pod_fd, "status", O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int f =
            fd < 0 ? -EBADF : openat(fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        ssize_t n = f < 0 ? -1 : read(f, buf, sizeof(buf) - 1);
        char *end = NULL;
        long v = n > 0 ? strtol(buf, &end, 10) : -1;
        if (n <= 0 || *end || v < 0 || v > 255)
                return json_null();
        return json_integer(v);
}

int s1_audit_exit(const struct s1_pod *pod, int status, const char *error, rk_error *err)
{
        int r;
        _cleanup_json_ json_t *o =
            json_pack("{s:s, s:i, s:o, s:o}", "pod", pod->plan->uuid, "status", status, "apps",
                      rk_audit_plan_summary(pod->plan->root), "appStatus", json_object());
        if (!o)
                return rk_err(err, -ENOMEM, "out of memory");
        json_t *st = json_object_get(o, "appStatus");
        for (size_t i = 0; i < pod->plan->n_apps; i++)
                if (json_object_set_new(st, pod->plan->apps[i].name,
                                        app_status(pod, pod->plan->apps[i].name)) < 0)
                        return rk_err(err, -ENOMEM, "out of memory");
        if (error && json_object_set_new(o, "error", json_string(error)) < 0)
                return rk_err(err, -ENOMEM, "out of memory");
        struct rk_audit *au = NULL;
        r = rk_audit_open(pod->audit_dir, &au, err);
        if (r < 0)
                return r;
        r = rk_audit_append(au, "exit", o, err);
        rk_audit_close(au);
        return r;
}
