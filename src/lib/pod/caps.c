/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "pod/caps.h"

const char *const rk_caps_default[RK_CAPS_DEFAULT_N] = {
    "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",  "CAP_FOWNER",
    "CAP_SETGID", "CAP_SETUID",       "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
    "CAP_KILL",   "CAP_SYS_CHROOT",   "CAP_SETFCAP",
};

uint64_t rk_caps_default_mask(void)
{
        uint64_t m = 0;
        for (size_t i = 0; i < RK_CAPS_DEFAULT_N; i++)
                m |= UINT64_C(1) << rk_capability_number(rk_caps_default[i]);
        return m;
}

/* What this process may still hand out: its own bounding set (a capability the host runs us
 * without cannot be given to an app; asking for it would only make capset fail in stage1). */
uint64_t rk_caps_host_bounding(void)
{
        uint64_t m = 0;
        for (int c = 0; c <= RK_CAP_LAST; c++)
                if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
                        m |= UINT64_C(1) << c;
        return m;
}

static int set_mask(char *const *set, size_t n, uint64_t *ret, rk_error *err)
{
        uint64_t m = 0;
        for (size_t i = 0; i < n; i++) {
                int c = rk_capability_number(set[i]);
                if (c < 0)
                        return rk_capability_validate(set[i], NULL, err);
                m |= UINT64_C(1) << c;
        }
        *ret = m;
        return 0;
}

int rk_caps_compute(const struct rk_isolators *iso, uint32_t uid, bool all, struct rk_caps *ret,
                    rk_error *err)
{
        const struct rk_isolator *retain = NULL, *remove = NULL;
        for (size_t i = 0; iso && i < iso->n; i++) {
                if (iso->v[i].kind == RK_ISOLATOR_CAPS_RETAIN)
                        retain = &iso->v[i];
                else if (iso->v[i].kind == RK_ISOLATOR_CAPS_REMOVE)
                        remove = &iso->v[i];
        }
        if (retain && remove)
                return rk_err(err, -EINVAL,
                              "os/linux/capabilities-retain-set and -remove-set exclude each "
                              "other");
        uint64_t set = rk_caps_default_mask(), m = 0;
        int r = 0;
        if (retain && (r = set_mask(retain->u.caps.set, retain->u.caps.n, &m, err)) >= 0)
                set = m;
        if (remove && (r = set_mask(remove->u.caps.set, remove->u.caps.n, &m, err)) >= 0)
                set &= ~m;
        if (r < 0)
                return r;
        if (all)
                set = UINT64_MAX;
        set &= rk_caps_host_bounding();
        struct rk_caps c = {.bounding = set};
        if (uid == 0)
                c.permitted = c.effective = set;
        else if (retain || all)
                c.permitted = c.effective = c.inheritable = c.ambient = set;
        *ret = c;
        return 0;
}

bool rk_caps_no_new_privs(const struct rk_isolators *iso)
{
        bool nnp = true;
        for (size_t i = 0; iso && i < iso->n; i++)
                if (iso->v[i].kind == RK_ISOLATOR_NO_NEW_PRIVS)
                        nnp = iso->v[i].u.no_new_privs;
        return nnp;
}

static json_t *mask_json(uint64_t m)
{
        json_t *a = json_array();
        for (int i = 0; a && i <= RK_CAP_LAST; i++)
                if ((m >> i & 1) &&
                    json_array_append_new(a, json_string(rk_capability_name(i))) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

json_t *rk_caps_to_json(const struct rk_caps *c)
{
        return json_pack("{s:o*, s:o*, s:o*, s:o*, s:o*}", "bounding", mask_json(c->bounding),
                         "effective", mask_json(c->effective), "permitted", mask_json(c->permitted),
                         "inheritable", mask_json(c->inheritable), "ambient",
                         mask_json(c->ambient));
}

int rk_caps_parse_list(const char *arg, const char *flag, uint64_t *ret, rk_error *err)
{
        if (!arg || !*arg)
                return rk_err(err, -EINVAL, "%s: expected CAP_NAME,...", flag);
        char *dup = strdup(arg), *save = NULL;
        if (!dup)
                return rk_err(err, -ENOMEM, "out of memory");
        uint64_t m = 0;
        int r = 0;
        for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                int c = rk_capability_number(t);
                if (c < 0) {
                        r = rk_capability_validate(t, flag, err);
                        break;
                }
                m |= UINT64_C(1) << c;
        }
        free(dup);
        if (r >= 0)
                *ret = m;
        return r;
}
