/* SPDX-License-Identifier: Apache-2.0 */
/* appc seccomp sets (os/linux/seccomp-retain-set / -remove-set, rkt run --seccomp=) turned into
 * OCI profiles derived from the default one, so that one strict compiler (seccomp.c) and one
 * cache serve them all. What each form means: profiles/README.md. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aci/types.h"
#include "base/fileio.h"
#include "base/macro.h"
#include "pod/seccomp.h"

/* The groups are part of the binary, like the default profile. */
__asm__(".section .rodata\n"
        ".global rk_seccomp_groups_text\n"
        ".type rk_seccomp_groups_text, @object\n"
        "rk_seccomp_groups_text:\n"
        ".incbin \"profiles/seccomp-groups.txt\"\n"
        ".byte 0\n"
        ".previous\n");
extern const char rk_seccomp_groups_text[];

#define SET_MAX     4096 /* names in a set, after expanding the groups */
#define SYSCALL_MAX 64
#define APPC_ALL    "@appc.io/all"
#define APPC_EMPTY  "@appc.io/empty"

/* What stage1 runs between loading the filter and the app's execve, which a retain-set must
 * not break (appc: "the minimal implementation whitelist needed for app life-cycle"). */
static const char *const lifecycle[] = {
    "execve",         "exit",  "exit_group", "rt_sigreturn", "restart_syscall", "rt_sigaction",
    "rt_sigprocmask", "umask", NULL};
/* With noNewPrivileges false the filter is loaded before the capability, id, working
 * directory, Landlock and fd steps (src/stage1/exec.c), which need these as well. */
static const char *const lifecycle_privs[] = {"open",
                                              "openat",
                                              "openat2",
                                              "read",
                                              "write",
                                              "close",
                                              "fstat",
                                              "newfstatat",
                                              "lseek",
                                              "prctl",
                                              "capget",
                                              "capset",
                                              "setgroups",
                                              "setresgid",
                                              "setresuid",
                                              "fchdir",
                                              "getcwd",
                                              "close_range",
                                              "landlock_create_ruleset",
                                              "landlock_add_rule",
                                              "landlock_restrict_self",
                                              NULL};

void rk_seccomp_set_clear(struct rk_seccomp_set *s)
{
        for (size_t i = 0; i < s->n; i++)
                free(s->names[i]);
        free(s->names);
        free(s->errno_name);
        memset(s, 0, sizeof(*s));
}

int rk_seccomp_errno_number(const char *name)
{
        static const struct {
                const char *name;
                int nr;
        } aliases[] = {
            {"EWOULDBLOCK", EWOULDBLOCK}, {"EDEADLOCK", EDEADLOCK}, {"ENOTSUP", ENOTSUP}};
        if (!name || name[0] != 'E')
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(aliases); i++)
                if (!strcmp(name, aliases[i].name))
                        return aliases[i].nr;
        for (int e = 1; e < 4096; e++) {
                const char *n = strerrorname_np(e);
                if (n && !strcmp(n, name))
                        return e;
        }
        return -EINVAL;
}

/* ---- groups ---- */

/* Calls f for each member of group; -ENOENT if there is no such group. */
static int group_foreach(const char *group, int (*f)(const char *name, void *u), void *u)
{
        size_t glen = strlen(group);
        bool in = false, found = false;
        for (const char *p = rk_seccomp_groups_text; *p;) {
                const char *e = strchr(p, '\n');
                size_t n = e ? (size_t)(e - p) : strlen(p);
                if (n > 0 && p[0] == '[')
                        in = n == glen + 2 && !strncmp(p + 1, group, glen) && p[n - 1] == ']';
                else if (in && n > 0 && p[0] != '#') {
                        char name[SYSCALL_MAX + 1];
                        if (n > SYSCALL_MAX)
                                return -EINVAL;
                        memcpy(name, p, n);
                        name[n] = 0;
                        int r = f(name, u);
                        if (r < 0)
                                return r;
                }
                found |= in;
                p += e ? n + 1 : n;
        }
        return found ? 0 : -ENOENT;
}

static int nop(const char *name, void *u)
{
        return 0;
}

bool rk_seccomp_group_known(const char *group)
{
        return group[0] == '@' && strncmp(group, "@appc.io/", 9) != 0 &&
               group_foreach(group, nop, NULL) == 0;
}

/* ---- checking a set ---- */

static int check_word(const char *w, bool retain, const char *ctx, rk_error *err)
{
        if (!strcmp(w, APPC_ALL) || !strcmp(w, APPC_EMPTY)) {
                if (retain != !strcmp(w, APPC_ALL))
                        return rk_err(err, -EINVAL, "%s: %s is only valid in a %s-set", ctx, w,
                                      retain ? "remove" : "retain");
                return 0;
        }
        if (w[0] == '@') {
                if (!rk_seccomp_group_known(w))
                        return rk_err(
                            err, -EINVAL,
                            "%s: unknown syscall group %s (known: @rkt/default-whitelist, "
                            "@rkt/default-blacklist, @docker/default-whitelist, "
                            "@docker/default-blacklist, @appc.io/all, @appc.io/empty)",
                            ctx, RK_QUOTE(w));
                return 0;
        }
        if (strlen(w) > SYSCALL_MAX || seccomp_syscall_resolve_name(w) == __NR_SCMP_ERROR)
                return rk_err(err, -EINVAL, "%s: unknown syscall %s", ctx, RK_QUOTE(w));
        return 0;
}

static int check_set(const struct rk_seccomp_set *s, const char *ctx, rk_error *err)
{
        if (s->n == 0)
                return rk_err(err, -EINVAL, "%s: no syscall or @group given", ctx);
        for (size_t i = 0; i < s->n; i++) {
                int r = check_word(s->names[i], s->retain, ctx, err);
                if (r < 0)
                        return r;
                for (size_t k = 0; k < i; k++)
                        if (!strcmp(s->names[k], s->names[i]))
                                return rk_err(err, -EINVAL, "%s: %s is listed twice", ctx,
                                              RK_QUOTE(s->names[i]));
                if (s->n > 1 &&
                    (!strcmp(s->names[i], APPC_ALL) || !strcmp(s->names[i], APPC_EMPTY)))
                        return rk_err(err, -EINVAL, "%s: %s cannot be combined with other names",
                                      ctx, s->names[i]);
        }
        if (s->errno_name && rk_seccomp_errno_number(s->errno_name) < 0)
                return rk_err(err, -EINVAL,
                              "%s: unknown errno %s (an upper-case name such as EPERM)", ctx,
                              RK_QUOTE(s->errno_name));
        return 0;
}

static int push_name(struct rk_seccomp_set *s, const char *w)
{
        if (s->n >= SET_MAX)
                return -E2BIG;
        char **v = realloc(s->names, (s->n + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        s->names = v;
        if (!(v[s->n] = strdup(w)))
                return -ENOMEM;
        s->n++;
        return 0;
}

int rk_seccomp_parse_opt(const char *arg, struct rk_seccomp_set *ret, rk_error *err)
{
        static const char ctx[] = "--seccomp";
        struct rk_seccomp_set s = {0};
        bool have_mode = false;
        _cleanup_free_ char *dup = arg ? strdup(arg) : NULL;
        if (!arg || !*arg)
                return rk_err(err, -EINVAL,
                              "%s: expected mode=retain|remove[,errno=ENAME],SYSCALL|@group,...",
                              ctx);
        if (!dup)
                return rk_err(err, -ENOMEM, "out of memory");
        int r = 0;
        char *save = NULL;
        for (char *t = strtok_r(dup, ",", &save); r >= 0 && t; t = strtok_r(NULL, ",", &save)) {
                if (!strncmp(t, "mode=", 5)) {
                        if (have_mode)
                                r = rk_err(err, -EINVAL,
                                           "%s: mode given twice (retain and remove exclude each "
                                           "other)",
                                           ctx);
                        else if (strcmp(t + 5, "retain") && strcmp(t + 5, "remove"))
                                r = rk_err(err, -EINVAL, "%s: mode %s is not retain or remove", ctx,
                                           RK_QUOTE(t + 5));
                        have_mode = true;
                        s.retain = !strcmp(t + 5, "retain");
                } else if (!strncmp(t, "errno=", 6)) {
                        if (s.errno_name)
                                r = rk_err(err, -EINVAL, "%s: errno given twice", ctx);
                        else if (!(s.errno_name = strdup(t + 6)))
                                r = rk_err(err, -ENOMEM, "out of memory");
                } else if (strchr(t, '='))
                        r = rk_err(err, -EINVAL, "%s: unknown option %s (mode=, errno=)", ctx,
                                   RK_QUOTE(t));
                else if ((r = push_name(&s, t)) < 0)
                        r = r == -E2BIG ? rk_err(err, r, "%s: more than %d names", ctx, SET_MAX)
                                        : rk_err(err, r, "out of memory");
        }
        if (r >= 0 && !have_mode)
                r = rk_err(err, -EINVAL, "%s: mode=retain or mode=remove is required", ctx);
        if (r >= 0)
                r = check_set(&s, ctx, err);
        if (r < 0) {
                rk_seccomp_set_clear(&s);
                return r;
        }
        *ret = s;
        return 0;
}

json_t *rk_seccomp_set_to_json(const struct rk_seccomp_set *s)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < s->n; i++)
                if (json_array_append_new(a, json_string(s->names[i])) < 0) {
                        json_decref(a);
                        return NULL;
                }
        json_t *v = a ? json_pack("{s:o}", "set", a) : NULL;
        if (v && s->errno_name && json_object_set_new(v, "errno", json_string(s->errno_name)) < 0) {
                json_decref(v);
                return NULL;
        }
        return v;
}

int rk_seccomp_set_from_isolators(const struct rk_isolators *iso, const char *ctx,
                                  struct rk_seccomp_set *ret, rk_error *err)
{
        const struct rk_isolator *found = NULL;
        for (size_t i = 0; iso && i < iso->n; i++) {
                if (iso->v[i].kind != RK_ISOLATOR_SECCOMP_RETAIN &&
                    iso->v[i].kind != RK_ISOLATOR_SECCOMP_REMOVE)
                        continue;
                if (found) /* the isolator parser refuses this already */
                        return rk_err(err, -EINVAL,
                                      "%s: os/linux/seccomp-retain-set and -remove-set exclude "
                                      "each other",
                                      ctx);
                found = &iso->v[i];
        }
        if (!found)
                return 0;
        struct rk_seccomp_set s = {.retain = found->kind == RK_ISOLATOR_SECCOMP_RETAIN};
        char c[256];
        snprintf(c, sizeof(c), "%s: %s", ctx, rk_isolator_kind_name(found->kind));
        int r = 0;
        for (size_t i = 0; r >= 0 && i < found->u.seccomp.n; i++)
                r = push_name(&s, found->u.seccomp.set[i]);
        if (r >= 0 && found->u.seccomp.errno_name &&
            !(s.errno_name = strdup(found->u.seccomp.errno_name)))
                r = -ENOMEM;
        if (r < 0)
                r = rk_err(err, r, "%s: %s", c, r == -E2BIG ? "too many names" : "out of memory");
        else
                r = check_set(&s, c, err);
        if (r < 0) {
                rk_seccomp_set_clear(&s);
                return r;
        }
        *ret = s;
        return 1;
}

/* ---- the profile ---- */

/* Syscall names keyed by libseccomp number (each once). */
struct names {
        struct {
                int nr;
                const char *name; /* static (group text copy) or from the set */
                char *owned;
        } * v;
        size_t n;
};

static void names_clear(struct names *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i].owned);
        free(l->v);
        memset(l, 0, sizeof(*l));
}

static bool names_has(const struct names *l, int nr)
{
        for (size_t i = 0; i < l->n; i++)
                if (l->v[i].nr == nr)
                        return true;
        return false;
}

static int names_add(const char *name, void *u)
{
        struct names *l = u;
        int nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR)
                return -ENOENT; /* a group member libseccomp does not know: a data error */
        if (names_has(l, nr))
                return 0;
        if (l->n >= SET_MAX)
                return -E2BIG;
        void *v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
        char *own = strdup(name);
        if (!v || !own) {
                free(own);
                if (v)
                        l->v = v;
                return -ENOMEM;
        }
        l->v = v;
        l->v[l->n].nr = nr;
        l->v[l->n].name = own;
        l->v[l->n].owned = own;
        l->n++;
        return 0;
}

static int expand(const struct rk_seccomp_set *s, struct names *l, rk_error *err)
{
        for (size_t i = 0; i < s->n; i++) {
                const char *w = s->names[i];
                if (!strcmp(w, APPC_ALL) || !strcmp(w, APPC_EMPTY))
                        continue;
                int r = w[0] == '@' ? group_foreach(w, names_add, l) : names_add(w, l);
                if (r < 0)
                        return rk_err(err, r == -ENOMEM ? r : -EINVAL, "seccomp set: %s: %s", w,
                                      r == -ENOMEM  ? "out of memory"
                                      : r == -E2BIG ? "too many syscalls"
                                                    : "a member is not a known syscall");
        }
        return 0;
}

/* names of arr minus those in drop (by number); NULL on allocation failure */
static json_t *names_minus(json_t *arr, const struct names *drop)
{
        json_t *out = json_array();
        size_t i;
        json_t *v;
        json_array_foreach (arr, i, v) {
                const char *n = json_string_value(v);
                int nr = n ? seccomp_syscall_resolve_name(n) : __NR_SCMP_ERROR;
                if (out && !names_has(drop, nr) && json_array_append(out, v) < 0) {
                        json_decref(out);
                        out = NULL;
                }
        }
        return out;
}

static json_t *names_json(const struct names *l)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < l->n; i++)
                if (json_array_append_new(a, json_string(l->v[i].name)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

/* A copy of rule with its names minus drop; NULL names-less (set *empty). */
static json_t *rule_minus(json_t *rule, const struct names *drop, bool *empty)
{
        json_t *names = names_minus(json_object_get(rule, "names"), drop);
        json_t *c = names ? json_deep_copy(rule) : NULL;
        *empty = names && json_array_size(names) == 0;
        if (!c || json_object_set_new(c, "names", names) < 0) {
                json_decref(c);
                return NULL;
        }
        return c;
}

static json_t *action_json(json_t *o, const char *key, const char *errkey, int e)
{
        if (e > 0)
                return json_object_set_new(o, key, json_string("SCMP_ACT_ERRNO")) < 0 ||
                               json_object_set_new(o, errkey, json_integer(e)) < 0
                           ? NULL
                           : o;
        return json_object_set_new(o, key, json_string("SCMP_ACT_KILL_PROCESS")) < 0 ? NULL : o;
}

/* remove-set: the default profile with the set taken out of every rule and added as one rule
 * of its own (the errno, or kill). */
static int remove_rules(json_t *rules, const struct names *set, int e, json_t *out)
{
        size_t i;
        json_t *rule;
        json_array_foreach (rules, i, rule) {
                bool empty = false;
                json_t *c = rule_minus(rule, set, &empty);
                if (!c)
                        return -ENOMEM;
                if (empty)
                        json_decref(c);
                else if (json_array_append_new(out, c) < 0)
                        return -ENOMEM;
        }
        json_t *r = json_pack("{s:o}", "names", names_json(set));
        if (!r || !action_json(r, "action", "errnoRet", e) || json_array_append_new(out, r) < 0) {
                json_decref(r);
                return -ENOMEM;
        }
        return 0;
}

/* Under a default of ALLOW (@appc.io/all), an argument-filtered ALLOW rule of the default
 * profile (clone with "flags & NAMESPACES == 0") becomes one EPERM rule per flag bit: the
 * namespace flags stay masked. Only that shape is known; anything else is refused. */
static int invert_allow(json_t *rule, json_t *out, rk_error *err)
{
        json_t *args = json_object_get(rule, "args"), *a = json_array_get(args, 0);
        const char *op = json_string_value(json_object_get(a, "op"));
        json_int_t mask = json_integer_value(json_object_get(a, "value"));
        if (json_array_size(args) != 1 || !op || strcmp(op, "SCMP_CMP_MASKED_EQ") ||
            json_integer_value(json_object_get(a, "valueTwo")) != 0 || mask <= 0)
                return rk_err(err, -EINVAL, "seccomp: cannot invert a rule of the default profile");
        for (int b = 0; b < 63; b++) {
                json_int_t bit = (json_int_t)1 << b;
                if (!(mask & bit))
                        continue;
                json_t *r = json_pack("{s:O, s:s, s:i, s:[{s:I, s:I, s:I, s:s}]}", "names",
                                      json_object_get(rule, "names"), "action", "SCMP_ACT_ERRNO",
                                      "errnoRet", EPERM, "args", "index",
                                      json_integer_value(json_object_get(a, "index")), "value", bit,
                                      "valueTwo", bit, "op", "SCMP_CMP_MASKED_EQ");
                if (!r || json_array_append_new(out, r) < 0)
                        return rk_err(err, -ENOMEM, "out of memory");
        }
        return 0;
}

/* retain-set: ALLOW the set (and the life-cycle calls); every later rule of the default
 * profile (the hardening: always-denied calls, clone's namespace flags, clone3) is kept, its
 * argument-filtered ALLOW rules only for names the set holds. */
static int retain_rules(json_t *rules, struct names *set, bool all, json_t *out, rk_error *err)
{
        struct names later = {0};
        size_t i;
        json_t *rule;
        int r = 0;
        json_array_foreach (rules, i, rule) {
                size_t k;
                json_t *v;
                if (i == 0)
                        continue;
                json_array_foreach (json_object_get(rule, "names"), k, v)
                        if (r >= 0)
                                r = names_add(json_string_value(v), &later);
        }
        json_t *allow = NULL;
        if (r >= 0 && !all) {
                json_t *a = names_json(set);
                allow = a ? names_minus(a, &later) : NULL;
                json_decref(a);
                if (!allow)
                        r = -ENOMEM;
                else if (json_array_size(allow) > 0 &&
                         json_array_append_new(out, json_pack("{s:O, s:s}", "names", allow,
                                                              "action", "SCMP_ACT_ALLOW")) < 0)
                        r = -ENOMEM;
        }
        json_decref(allow);
        names_clear(&later);
        if (r < 0)
                return rk_err(err, r, "seccomp: cannot build the profile");
        json_array_foreach (rules, i, rule) {
                const char *act = json_string_value(json_object_get(rule, "action"));
                bool is_allow = act && !strcmp(act, "SCMP_ACT_ALLOW");
                if (i == 0)
                        continue;
                if (is_allow && all) {
                        if ((r = invert_allow(rule, out, err)) < 0)
                                return r;
                        continue;
                }
                json_t *keep = NULL;
                if (is_allow) { /* names of this rule that the set holds */
                        bool empty = false;
                        struct names not_in = {0};
                        json_t *v;
                        size_t k;
                        json_array_foreach (json_object_get(rule, "names"), k, v)
                                if (r >= 0 && !names_has(set, seccomp_syscall_resolve_name(
                                                                  json_string_value(v))))
                                        r = names_add(json_string_value(v), &not_in);
                        keep = r >= 0 ? rule_minus(rule, &not_in, &empty) : NULL;
                        names_clear(&not_in);
                        if (keep && empty) {
                                json_decref(keep);
                                continue;
                        }
                } else
                        keep = json_deep_copy(rule);
                if (!keep || json_array_append_new(out, keep) < 0)
                        return rk_err(err, -ENOMEM, "out of memory");
        }
        return 0;
}

int rk_seccomp_set_profile(const struct rk_seccomp_set *s, bool no_new_privs, char **ret,
                           size_t *ret_len, unsigned *ret_flags, rk_error *err)
{
        bool all = s->retain && s->n == 1 && !strcmp(s->names[0], APPC_ALL);
        int e = s->errno_name ? rk_seccomp_errno_number(s->errno_name) : 0;
        if (e < 0)
                return rk_err(err, -EINVAL, "seccomp set: unknown errno %s",
                              RK_QUOTE(s->errno_name));
        *ret_flags = all ? RK_SECCOMP_ALLOW_DEFAULT_ALLOW : 0;
        if (!s->retain && s->n == 1 && !strcmp(s->names[0], APPC_EMPTY)) {
                /* nothing removed: the default profile itself (same digest, same cache) */
                size_t n = rk_seccomp_default_profile_len();
                char *p = malloc(n + 1);
                if (!p)
                        return rk_err(err, -ENOMEM, "out of memory");
                memcpy(p, rk_seccomp_default_profile, n);
                p[n] = 0;
                *ret = p;
                *ret_len = n;
                return 0;
        }
        struct names set = {0};
        int r = expand(s, &set, err);
        if (r >= 0 && s->retain && !all) {
                for (size_t i = 0; r >= 0 && lifecycle[i]; i++)
                        r = names_add(lifecycle[i], &set);
                for (size_t i = 0; r >= 0 && !no_new_privs && lifecycle_privs[i]; i++)
                        r = names_add(lifecycle_privs[i], &set);
                if (r < 0)
                        r = rk_err(err, r, "seccomp set: cannot add the life-cycle syscalls");
        }
        json_error_t je;
        json_t *def = r >= 0 ? json_loadb(rk_seccomp_default_profile,
                                          rk_seccomp_default_profile_len(), 0, &je)
                             : NULL;
        json_t *out = def ? json_deep_copy(def) : NULL, *rules = out ? json_array() : NULL;
        if (r >= 0 && (!out || !rules))
                r = rk_err(err, -ENOMEM, "seccomp: cannot read the default profile");
        json_t *drules = json_object_get(def, "syscalls");
        if (r >= 0 && !s->retain)
                r = remove_rules(drules, &set, e, rules) < 0
                        ? rk_err(err, -ENOMEM, "seccomp: cannot build the profile")
                        : 0;
        else if (r >= 0) {
                r = retain_rules(drules, &set, all, rules, err);
                json_object_del(out, "defaultErrnoRet");
                if (r >= 0 && all)
                        r = json_object_set_new(out, "defaultAction",
                                                json_string("SCMP_ACT_ALLOW")) < 0
                                ? -ENOMEM
                                : 0;
                else if (r >= 0 && !action_json(out, "defaultAction", "defaultErrnoRet", e))
                        r = -ENOMEM;
                if (r == -ENOMEM)
                        r = rk_err(err, r, "out of memory");
        }
        if (r >= 0 && json_object_set(out, "syscalls", rules) < 0)
                r = rk_err(err, -ENOMEM, "out of memory");
        char *text = r >= 0 ? json_dumps(out, JSON_COMPACT) : NULL;
        if (r >= 0 && !text)
                r = rk_err(err, -ENOMEM, "out of memory");
        json_decref(rules);
        json_decref(out);
        json_decref(def);
        names_clear(&set);
        if (r < 0)
                return r;
        *ret = text;
        *ret_len = strlen(text);
        return 0;
}

int rk_seccomp_profile_load(const char *path, char **ret, size_t *ret_len, rk_error *err)
{
        char *buf = NULL;
        size_t len = 0;
        int r = rk_read_file_at(AT_FDCWD, path, RK_SECCOMP_PROFILE_MAX, &buf, &len, err);
        if (r < 0)
                return rk_err_prefix(err, r, "--seccomp-profile %s", RK_QUOTE(path));
        void *bpf = NULL;
        size_t n = 0;
        r = rk_seccomp_compile(buf, len, &bpf, &n, err);
        free(bpf);
        if (r < 0) {
                free(buf);
                return rk_err_prefix(err, r, "--seccomp-profile %s", RK_QUOTE(path));
        }
        *ret = buf;
        *ret_len = len;
        return 0;
}
