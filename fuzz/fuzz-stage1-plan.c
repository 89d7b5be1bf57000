/* SPDX-License-Identifier: Apache-2.0 */
/* rkt-stage1's plan.json reader (src/stage1/plan.c, compiled in: stage1 is not part of
 * librkt). The plan is written by stage0 into a root-only directory, but stage1 still reads it
 * strictly, so that a stage0 bug cannot become a stage1 hole. Oracles: a refusal has a code,
 * one line and no plan; an accepted plan holds only what PLAN.md allows — 1..64 apps with
 * unique names, absolute argv[0]s and canonical absolute paths, capability sets that nest
 * (effective <= permitted <= bounding, inheritable <= bounding, ambient <= permitted and
 * inheritable), at most the documented counts, ids below 2^32-1. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/stage1/plan.c"

static void want_path(const char *p, bool root_ok)
{
        if (!p || p[0] != '/' || strstr(p, "//") || strstr(p, "/./") || strstr(p, "/../"))
                abort();
        size_t n = strlen(p);
        if (!root_ok && n == 1)
                abort();
        if (n > 1 &&
            (p[n - 1] == '/' || !strcmp(p + n - 2, "/.") || (n > 2 && !strcmp(p + n - 3, "/.."))))
                abort();
}

static void want_argv(const struct s1_argv *a, size_t max)
{
        if (a->n == 0 || a->n > max || !a->v || a->v[a->n] || a->v[0][0] != '/')
                abort();
}

static void want_app(const struct s1_plan *p, size_t i)
{
        const struct s1_app *a = &p->apps[i];
        for (size_t k = 0; k < i; k++)
                if (!strcmp(p->apps[k].name, a->name))
                        abort();
        if (!a->name[0] || strlen(a->name) > S1_MAX_NAME)
                abort();
        want_path(a->tree, true);
        want_argv(&a->exec, S1_MAX_ARGS);
        for (size_t k = 0; k < a->env.n; k++)
                if (!strchr(a->env.v[k], '=') || a->env.v[k][0] == '=')
                        abort();
        if (a->env.v[a->env.n] || a->uid == (uid_t)-1 || a->gid == (gid_t)-1)
                abort();
        if (a->n_groups > S1_MAX_GROUPS || a->n_mounts > S1_MAX_MOUNTS ||
            a->n_pre_start > S1_MAX_HANDLERS || a->n_post_stop > S1_MAX_HANDLERS)
                abort();
        for (size_t k = 0; k < a->n_pre_start; k++)
                want_argv(&a->pre_start[k], S1_MAX_ARGS);
        for (size_t k = 0; k < a->n_post_stop; k++)
                want_argv(&a->post_stop[k], S1_MAX_ARGS);
        for (size_t k = 0; k < a->n_mounts; k++) {
                want_path(a->mounts[k].source, true);
                want_path(a->mounts[k].target, false);
        }
        if ((a->cap_effective & ~a->cap_permitted) || (a->cap_permitted & ~a->cap_bounding) ||
            (a->cap_inheritable & ~a->cap_bounding) ||
            (a->cap_ambient & ~(a->cap_permitted & a->cap_inheritable)))
                abort();
        /* a plan is only parsed here: the filter is read by s1_plan_load */
        if (!a->seccomp_bpf != !a->seccomp_sha512 || a->seccomp_prog)
                abort();
        if (a->seccomp_sha512 && strlen(a->seccomp_sha512) != 128)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct s1_plan *p = NULL;
        rk_error err = RK_ERROR_INIT;
        int r = s1_plan_parse((const char *)data, size, &p, &err);
        if (r < 0) {
                if (p || err.code != r || !err.msg[0] || strchr(err.msg, '\n'))
                        abort();
                return 0;
        }
        if (!p || !p->uuid || !p->hostname || p->n_apps < 1 || p->n_apps > S1_MAX_APPS ||
            strlen(p->hostname) > S1_MAX_HOSTNAME)
                abort();
        if (p->interactive && (p->n_apps != 1 || p->detached))
                abort();
        for (size_t i = 0; i < p->n_apps; i++)
                want_app(p, i);
        s1_plan_free(p);
        return 0;
}
