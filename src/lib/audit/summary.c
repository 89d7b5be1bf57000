/* SPDX-License-Identifier: Apache-2.0 */
#include "audit/summary.h"

#include <string.h>

/* Keys copied as they are; anything else of the plan (argv, env, paths) is left out: the log
 * records what confined the app, not its inputs. */
static const char *const copied[] = {
    "name",   "image",       "uid",    "gid",     "supplementaryGids", "capabilities",
    "cgroup", "oomScoreAdj", "userns", "selinux", "landlock",          "readOnlyRootFS",
};

json_t *rk_audit_app_summary(const json_t *plan_app)
{
        json_t *o = json_object();
        if (!o)
                return NULL;
        for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++) {
                json_t *v = json_object_get(plan_app, copied[i]);
                if (v && json_object_set(o, copied[i], v) < 0)
                        goto oom;
        }
        if (!json_object_get(o, "capabilities") &&
            json_object_set_new(o, "capabilities", json_object()) < 0)
                goto oom;
        json_t *nnp = json_object_get(plan_app, "noNewPrivileges");
        if (json_object_set_new(o, "noNewPrivileges", json_boolean(!nnp || json_is_true(nnp))) < 0)
                goto oom;
        const char *sha =
            json_string_value(json_object_get(json_object_get(plan_app, "seccomp"), "sha512"));
        if (json_object_set_new(o, "seccomp", json_string(sha ? sha : "off")) < 0)
                goto oom;
        return o;
oom:
        json_decref(o);
        return NULL;
}

json_t *rk_audit_plan_summary(const json_t *plan)
{
        json_t *apps = json_object_get(plan, "apps"), *a = json_array();
        size_t i;
        json_t *app;
        if (!a)
                return NULL;
        json_array_foreach (apps, i, app) {
                if (json_array_append_new(a, rk_audit_app_summary(app)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        }
        return a;
}
