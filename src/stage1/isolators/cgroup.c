/* SPDX-License-Identifier: Apache-2.0 */
/* cgroups per pod and app: filled in by the isolators issue (work in progress; the plan reader accepts no key for it yet). */
#include "stage1/stage1.h"

int s1_cgroup_app_join(const struct s1_pod *pod, const struct s1_app *app, rk_error *err)
{
        return 0;
}
