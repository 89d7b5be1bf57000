/* SPDX-License-Identifier: Apache-2.0 */
/* SELinux exec label: the process label stage0 computed (lxc_contexts with the pod's unique
 * MCS pair, or the os/linux/selinux-context isolator) becomes the label of the app's execve.
 * No label in the plan: SELinux was disabled when stage0 prepared the pod, and stage0 said so
 * (warning and audit record). A label with SELinux now disabled is refused rather than
 * dropped: the app would run unconfined while the plan says it is confined. */
#include <selinux/selinux.h>

#include "stage1/stage1.h"

int s1_selinux_exec_label(const struct s1_app *app, rk_error *err)
{
        if (!app->selinux_process)
                return 0;
        if (is_selinux_enabled() <= 0)
                return rk_err(err, -EOPNOTSUPP,
                              "app %s: the plan has the SELinux label '%s' but SELinux is "
                              "disabled; prepare the pod again",
                              app->name, app->selinux_process);
        /* setexeccon takes a non-const char * in older libselinux; it does not write it. */
        if (setexeccon((char *)app->selinux_process) < 0)
                return rk_err_errno(err, negative_errno(),
                                    "app %s: cannot set the SELinux exec label '%s'", app->name,
                                    app->selinux_process);
        return 0;
}
