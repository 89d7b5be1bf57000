/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/hash.h"
#include "base/macro.h"
#include "pod/seccomp.h"

/* The profile is part of the binary: a run reads no file for it. */
__asm__(".section .rodata\n"
        ".global rk_seccomp_default_profile\n"
        ".type rk_seccomp_default_profile, @object\n"
        "rk_seccomp_default_profile:\n"
        ".incbin \"profiles/seccomp-default.json\"\n"
        "rk_seccomp_default_profile_end:\n"
        ".byte 0\n"
        ".global rk_seccomp_default_profile_size\n"
        ".type rk_seccomp_default_profile_size, @object\n"
        ".balign 8\n"
        "rk_seccomp_default_profile_size:\n"
        ".quad rk_seccomp_default_profile_end - rk_seccomp_default_profile\n"
        ".previous\n");
extern const uint64_t rk_seccomp_default_profile_size;

size_t rk_seccomp_default_profile_len(void)
{
        return (size_t)rk_seccomp_default_profile_size;
}

#define MAX_RULES 1024
#define MAX_NAMES 4096
#define MAX_BPF   (1u << 20)

static const struct {
        const char *name;
        uint32_t act; /* SCMP_ACT_ERRNO(0) for ERRNO */
} actions[] = {
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0)},
    {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG},
};

static const struct {
        const char *name;
        enum scmp_compare op;
} ops[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

static const struct {
        const char *name;
        uint32_t arch;
} arches[] = {
    {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64}, {"SCMP_ARCH_X86", SCMP_ARCH_X86},
    {"SCMP_ARCH_X32", SCMP_ARCH_X32},       {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
    {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
};

/* Untrusted text in a one-line message: control characters become '?', at most 64 bytes. */
static const char *clean(const char *s, char *buf, size_t size)
{
        size_t i = 0;
        for (; s && s[i] && i + 1 < size && i < 64; i++)
                buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
        buf[i] = 0;
        return buf;
}
#define CLEAN(s) clean((s), (char[72]){0}, 72)

static bool keys_known(json_t *o, const char *const *known, const char *ctx, rk_error *err, int *r)
{
        const char *k;
        json_t *v;
        json_object_foreach (o, k, v) {
                bool ok = false;
                for (size_t i = 0; known[i] && !ok; i++)
                        ok = !strcmp(k, known[i]);
                if (!ok) {
                        *r = rk_err(err, -EINVAL, "%s: unknown key \"%s\"", ctx, CLEAN(k));
                        return false;
                }
        }
        return true;
}

static int parse_action(json_t *o, const char *akey, const char *ekey, const char *ctx,
                        uint32_t *ret, rk_error *err)
{
        const char *a = json_string_value(json_object_get(o, akey));
        if (!a)
                return rk_err(err, -EINVAL, "%s: \"%s\" must be an action name", ctx, akey);
        size_t i = 0;
        while (i < sizeof(actions) / sizeof(actions[0]) && strcmp(actions[i].name, a))
                i++;
        if (i == sizeof(actions) / sizeof(actions[0]))
                return rk_err(err, -EINVAL, "%s: unknown action \"%s\"", ctx, CLEAN(a));
        json_t *e = json_object_get(o, ekey);
        bool is_errno = actions[i].act == SCMP_ACT_ERRNO(0);
        if (e && !is_errno)
                return rk_err(err, -EINVAL, "%s: \"%s\" with action %s (only SCMP_ACT_ERRNO)", ctx,
                              ekey, a);
        json_int_t n = EPERM;
        if (e && (!json_is_integer(e) || (n = json_integer_value(e)) < 0 || n > 4095))
                return rk_err(err, -EINVAL, "%s: \"%s\" must be an errno number (0..4095)", ctx,
                              ekey);
        *ret = is_errno ? SCMP_ACT_ERRNO((uint32_t)n) : actions[i].act;
        return 0;
}

static int parse_u64(json_t *v, const char *ctx, const char *key, uint64_t *ret, rk_error *err)
{
        if (!v) {
                *ret = 0;
                return 0;
        }
        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return rk_err(err, -EINVAL, "%s: \"%s\" must be a non-negative integer", ctx, key);
        *ret = (uint64_t)json_integer_value(v);
        return 0;
}

static int parse_args(json_t *args, const char *ctx, struct scmp_arg_cmp *cmp, unsigned *n,
                      rk_error *err)
{
        static const char *const known[] = {"index", "value", "valueTwo", "op", NULL};
        *n = 0;
        if (!args || json_is_null(args))
                return 0;
        if (!json_is_array(args) || json_array_size(args) > 6)
                return rk_err(err, -EINVAL, "%s: \"args\" must be an array of at most 6", ctx);
        bool seen[6] = {false};
        for (size_t i = 0; i < json_array_size(args); i++) {
                json_t *a = json_array_get(args, i);
                int r = 0;
                if (!json_is_object(a))
                        return rk_err(err, -EINVAL, "%s: args[%zu] must be an object", ctx, i);
                if (!keys_known(a, known, ctx, err, &r))
                        return r;
                json_t *ix = json_object_get(a, "index");
                json_int_t idx = json_is_integer(ix) ? json_integer_value(ix) : -1;
                if (idx < 0 || idx > 5)
                        return rk_err(err, -EINVAL, "%s: args[%zu].index must be 0..5", ctx, i);
                if (seen[idx])
                        return rk_err(err, -EINVAL,
                                      "%s: argument %d compared twice (write two rules)", ctx,
                                      (int)idx);
                seen[idx] = true;
                const char *op = json_string_value(json_object_get(a, "op"));
                size_t k = 0;
                while (op && k < sizeof(ops) / sizeof(ops[0]) && strcmp(ops[k].name, op))
                        k++;
                if (!op || k == sizeof(ops) / sizeof(ops[0]))
                        return rk_err(err, -EINVAL, "%s: unknown operator \"%s\"", ctx,
                                      op ? CLEAN(op) : "(none)");
                uint64_t v1 = 0, v2 = 0;
                if ((r = parse_u64(json_object_get(a, "value"), ctx, "value", &v1, err)) < 0 ||
                    (r = parse_u64(json_object_get(a, "valueTwo"), ctx, "valueTwo", &v2, err)) < 0)
                        return r;
                cmp[*n] = (struct scmp_arg_cmp){(unsigned)idx, ops[k].op, v1, v2};
                (*n)++;
        }
        return 0;
}

struct seen {
        int nr;
        bool args;
};

/* A syscall may appear in several rules only when every one of them compares arguments. */
static int check_dup(struct seen *s, size_t *n, int nr, bool args, const char *name, rk_error *err)
{
        for (size_t i = 0; i < *n; i++)
                if (s[i].nr == nr && (!args || !s[i].args))
                        return rk_err(err, -EINVAL, "seccomp profile: syscall \"%s\" listed twice",
                                      name);
        if (*n >= MAX_NAMES)
                return rk_err(err, -E2BIG, "seccomp profile: more than %d syscall names",
                              MAX_NAMES);
        s[(*n)++] = (struct seen){nr, args};
        return 0;
}

static int add_rule(scmp_filter_ctx ctx, uint32_t def, json_t *rule, size_t idx, struct seen *s,
                    size_t *n_seen, rk_error *err)
{
        static const char *const known[] = {"names", "action", "errnoRet", "args", "comment", NULL};
        char c[64];
        snprintf(c, sizeof(c), "seccomp profile: syscalls[%zu]", idx);
        int r = 0;
        if (!json_is_object(rule))
                return rk_err(err, -EINVAL, "%s must be an object", c);
        if (!keys_known(rule, known, c, err, &r))
                return r;
        uint32_t act = 0;
        if ((r = parse_action(rule, "action", "errnoRet", c, &act, err)) < 0)
                return r;
        struct scmp_arg_cmp cmp[6];
        unsigned n_cmp = 0;
        if ((r = parse_args(json_object_get(rule, "args"), c, cmp, &n_cmp, err)) < 0)
                return r;
        json_t *names = json_object_get(rule, "names");
        if (!json_is_array(names) || json_array_size(names) == 0)
                return rk_err(err, -EINVAL, "%s: \"names\" must be a non-empty array", c);
        for (size_t i = 0; i < json_array_size(names); i++) {
                const char *name = json_string_value(json_array_get(names, i));
                if (!name)
                        return rk_err(err, -EINVAL, "%s: names[%zu] must be a string", c, i);
                int nr = seccomp_syscall_resolve_name(name);
                if (nr == __NR_SCMP_ERROR)
                        return rk_err(err, -EINVAL, "seccomp profile: unknown syscall \"%s\"",
                                      CLEAN(name));
                if ((r = check_dup(s, n_seen, nr, n_cmp > 0, name, err)) < 0)
                        return r;
                /* equal to the default: libseccomp refuses it, and it changes nothing */
                if (act == def && n_cmp == 0)
                        continue;
                r = seccomp_rule_add_array(ctx, act, nr, n_cmp, cmp);
                if (r < 0)
                        return rk_err(err, -EINVAL, "seccomp profile: cannot add \"%s\": %s", name,
                                      strerror(-r));
        }
        return 0;
}

static int add_arches(scmp_filter_ctx ctx, json_t *a, rk_error *err)
{
        if (!a)
                return 0;
        if (!json_is_array(a))
                return rk_err(err, -EINVAL, "seccomp profile: \"architectures\" must be an array");
        uint32_t done[sizeof(arches) / sizeof(arches[0])];
        size_t n_done = 0;
        for (size_t i = 0; i < json_array_size(a); i++) {
                const char *name = json_string_value(json_array_get(a, i));
                size_t k = 0;
                while (name && k < sizeof(arches) / sizeof(arches[0]) &&
                       strcmp(arches[k].name, name))
                        k++;
                if (!name || k == sizeof(arches) / sizeof(arches[0]))
                        return rk_err(err, -EINVAL, "seccomp profile: unknown architecture \"%s\"",
                                      name ? CLEAN(name) : "(not a string)");
                for (size_t j = 0; j < n_done; j++)
                        if (done[j] == arches[k].arch)
                                return rk_err(err, -EINVAL,
                                              "seccomp profile: architecture \"%s\" listed twice",
                                              name);
                done[n_done++] = arches[k].arch;
                int r = seccomp_arch_add(ctx, arches[k].arch);
                if (r < 0 && r != -EEXIST)
                        return rk_err(err, -EINVAL, "seccomp profile: architecture \"%s\": %s",
                                      name, strerror(-r));
        }
        return 0;
}

static int export_bpf(scmp_filter_ctx ctx, void **ret, size_t *ret_len, rk_error *err)
{
        int fd = memfd_create("rkt-seccomp", MFD_CLOEXEC);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "seccomp: memfd_create");
        int r = seccomp_export_bpf(ctx, fd);
        if (r < 0) {
                close(fd);
                return rk_err(err, -EIO, "seccomp: cannot export the filter: %s", strerror(-r));
        }
        char *buf = NULL;
        size_t len = 0;
        if (lseek(fd, 0, SEEK_SET) < 0)
                r = rk_err_errno(err, negative_errno(), "seccomp: lseek");
        else
                r = rk_read_fd_capped(fd, "seccomp filter", MAX_BPF, &buf, &len, err);
        close(fd);
        if (r < 0)
                return r;
        if (len == 0 || len % 8) {
                free(buf);
                return rk_err(err, -EIO, "seccomp: exported filter has %zu bytes", len);
        }
        *ret = buf;
        *ret_len = len;
        return 0;
}

int rk_seccomp_compile(const char *profile, size_t len, void **ret, size_t *ret_len, rk_error *err)
{
        return rk_seccomp_compile_flags(profile, len, 0, ret, ret_len, err);
}

int rk_seccomp_compile_flags(const char *profile, size_t len, unsigned flags, void **ret,
                             size_t *ret_len, rk_error *err)
{
        static const char *const known[] = {"defaultAction", "defaultErrnoRet", "architectures",
                                            "syscalls",      "comment",         NULL};
        json_error_t je;
        json_t *root = json_loadb(profile, len, JSON_REJECT_DUPLICATES, &je);
        if (!root)
                return rk_err(err, -EINVAL, "seccomp profile: line %d: %s", je.line,
                              CLEAN(je.text));
        int r = 0;
        uint32_t def = 0;
        scmp_filter_ctx ctx = NULL;
        struct seen *s = NULL;
        size_t n_seen = 0;
        json_t *rules = json_object_get(root, "syscalls");
        if (!json_is_object(root))
                r = rk_err(err, -EINVAL, "seccomp profile: not a JSON object");
        else if (!keys_known(root, known, "seccomp profile", err, &r))
                ;
        else if ((r = parse_action(root, "defaultAction", "defaultErrnoRet", "seccomp profile",
                                   &def, err)) < 0)
                ;
        else if (def == SCMP_ACT_ALLOW && !(flags & RK_SECCOMP_ALLOW_DEFAULT_ALLOW))
                r = rk_err(err, -EINVAL,
                           "seccomp profile: defaultAction SCMP_ACT_ALLOW is not a "
                           "filter");
        else if (!json_is_array(rules) || json_array_size(rules) > MAX_RULES)
                r = rk_err(err, -EINVAL,
                           "seccomp profile: \"syscalls\" must be an array of at "
                           "most %d rules",
                           MAX_RULES);
        else if (!(ctx = seccomp_init(def)) || !(s = calloc(MAX_NAMES, sizeof(*s))))
                r = rk_err(err, -ENOMEM, "seccomp: out of memory");
        /* stage1 sets no_new_privs itself; compat ABIs not listed kill the process (x32 and
         * i386 syscalls on x86_64 are how argument filters get bypassed) */
        else if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0 ||
                 seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) < 0)
                r = rk_err(err, -EINVAL, "seccomp: cannot set filter attributes");
        else
                r = add_arches(ctx, json_object_get(root, "architectures"), err);
        for (size_t i = 0; r >= 0 && i < json_array_size(rules); i++)
                r = add_rule(ctx, def, json_array_get(rules, i), i, s, &n_seen, err);
        if (r >= 0)
                r = export_bpf(ctx, ret, ret_len, err);
        free(s);
        if (ctx)
                seccomp_release(ctx);
        json_decref(root);
        return r < 0 ? r : 0;
}

int rk_seccomp_cached(const char *data_dir, const char *profile, size_t len, unsigned flags,
                      void **ret, size_t *ret_len, rk_error *err)
{
        char hex[RK_SHA512_HEX_LEN + 1], dir[PATH_MAX], name[RK_SHA512_HEX_LEN + 8];
        int r = rk_sha512_buf_hex(profile, len, hex, err);
        if (r < 0)
                return r;
        snprintf(dir, sizeof(dir), "%s/cas/seccomp", data_dir);
        snprintf(name, sizeof(name), "%s.bpf", hex);
        if ((r = rk_mkdir_p(dir, 0700, err)) < 0)
                return r;
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return rk_err_errno(err, negative_errno(), "cannot open '%s'", dir);
        char *buf = NULL;
        size_t n = 0;
        rk_error ignored = RK_ERROR_INIT;
        r = rk_read_file_at(dfd, name, MAX_BPF, &buf, &n, &ignored);
        if (r >= 0 && n > 0 && n % 8 == 0) {
                close(dfd);
                *ret = buf;
                *ret_len = n;
                return 0;
        }
        free(buf);
        void *bpf = NULL;
        r = rk_seccomp_compile_flags(profile, len, flags, &bpf, &n, err);
        if (r >= 0)
                r = rk_write_file_atomic_at(dfd, name, bpf, n, 0600, err);
        close(dfd);
        if (r < 0) {
                free(bpf);
                return r;
        }
        *ret = bpf;
        *ret_len = n;
        return 0;
}
