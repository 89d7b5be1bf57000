/* SPDX-License-Identifier: Apache-2.0 */
/* App strings (appc discovery.NewAppFromString): name[:version][,label=value...], and the
 * host's appc os/arch names. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "discovery/discovery.h"

const char *rk_appc_os(void)
{
        return "linux";
}

/* uname machine -> appc arch (appc.md 3: Go's arm64 is appc's aarch64, 386 is i386). */
static const struct {
        const char *machine, *appc;
} arch_map[] = {
    {"x86_64", "amd64"},    {"amd64", "amd64"},   {"i386", "i386"},
    {"i486", "i386"},       {"i586", "i386"},     {"i686", "i386"},
    {"aarch64", "aarch64"}, {"arm64", "aarch64"}, {"aarch64_be", "aarch64_be"},
    {"armv6l", "armv6l"},   {"armv7l", "armv7l"}, {"armv8l", "armv7l"},
    {"armv7b", "armv7b"},   {"ppc64", "ppc64"},   {"ppc64le", "ppc64le"},
    {"s390x", "s390x"},
};

const char *rk_appc_arch(void)
{
        static char unknown[sizeof(((struct utsname *)0)->machine)];
        struct utsname u;

        if (uname(&u) < 0)
                return "unknown";
        for (size_t i = 0; i < ELEMENTSOF(arch_map); i++)
                if (strcmp(u.machine, arch_map[i].machine) == 0)
                        return arch_map[i].appc;
        /* No appc name: returned as is, so the caller's os/arch check names it. */
        memcpy(unknown, u.machine, sizeof(unknown));
        unknown[sizeof(unknown) - 1] = 0;
        return unknown;
}

void rk_app_string_clear(struct rk_app_string *a)
{
        if (!a)
                return;
        free(a->name);
        a->name = NULL;
        rk_labels_clear(&a->labels);
}

/* A label value: printable ASCII without whitespace; ',' and ':' cannot occur (they are the
 * separators). Values may hold '/', '?', '#', '@' (appc's parse tests use them): templates
 * escape them where they would change a URL's meaning. */
static int check_value(const char *v, size_t n, const char *label, const char *s, rk_error *err)
{
        if (n == 0)
                return rk_err(err, -EINVAL, "app string %s: label %s has an empty value",
                              RK_QUOTE(s), RK_QUOTE(label));
        if (n > RK_ACI_NAME_MAX)
                return rk_err(err, -EINVAL,
                              "app string %s: value of label %s is longer than %d characters",
                              RK_QUOTE(s), RK_QUOTE(label), RK_ACI_NAME_MAX);
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)v[i];
                if (c <= 0x20 || c >= 0x7f)
                        return rk_err(err, -EINVAL,
                                      "app string %s: value of label %s has a space, control or "
                                      "non-ASCII character",
                                      RK_QUOTE(s), RK_QUOTE(label));
        }
        return 0;
}

static int add_label(struct rk_labels *l, const char *name, size_t name_n, const char *value,
                     size_t value_n)
{
        struct rk_label *v = realloc(l->v, (l->n + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        l->v = v;
        char *n = strndup(name, name_n), *val = strndup(value, value_n);
        if (!n || !val) {
                free(n);
                free(val);
                return -ENOMEM;
        }
        l->v[l->n++] = (struct rk_label){.name = n, .value = val};
        return 0;
}

/* One "label=value" part. */
static int parse_label(const char *p, size_t n, const char *s, struct rk_labels *l, rk_error *err)
{
        char name[RK_ACI_NAME_MAX + 1];
        const char *eq = memchr(p, '=', n);

        if (!eq) {
                size_t k = n < sizeof(name) - 1 ? n : sizeof(name) - 1;
                memcpy(name, p, k);
                name[k] = 0;
                return rk_err(err, -EINVAL,
                              "app string %s: label %s has no value (want label=value)",
                              RK_QUOTE(s), RK_QUOTE(name));
        }
        size_t name_n = (size_t)(eq - p);
        if (name_n == 0)
                return rk_err(err, -EINVAL, "app string %s: a label has an empty name",
                              RK_QUOTE(s));
        if (name_n > RK_ACI_NAME_MAX)
                return rk_err(err, -EINVAL, "app string %s: label name longer than %d characters",
                              RK_QUOTE(s), RK_ACI_NAME_MAX);
        memcpy(name, p, name_n);
        name[name_n] = 0;
        int r = rk_ac_identifier_validate(name, "label name", err);
        if (r < 0)
                return rk_err_prefix(err, r, "app string %s", RK_QUOTE(s));
        if (strcmp(name, "name") == 0)
                return rk_err(err, -EINVAL,
                              "app string %s: 'name' is not a label (the name comes first)",
                              RK_QUOTE(s));
        r = check_value(eq + 1, n - name_n - 1, name, s, err);
        if (r < 0)
                return r;
        if (rk_labels_get(l, name)) {
                if (strcmp(name, "version") == 0)
                        return rk_err(err, -EINVAL,
                                      "app string %s: the version is given twice (\":version\" "
                                      "and \"version=\", or two \"version=\")",
                                      RK_QUOTE(s));
                return rk_err(err, -EINVAL, "app string %s: duplicate label %s", RK_QUOTE(s),
                              RK_QUOTE(name));
        }
        if (add_label(l, name, name_n, eq + 1, n - name_n - 1) < 0)
                return rk_err(err, -ENOMEM, "app string: out of memory");
        return 0;
}

int rk_app_string_parse(const char *s, struct rk_app_string *ret, rk_error *err)
{
        struct rk_app_string a = {0};
        int r;

        if (!s || !*s)
                return rk_err(err, -EINVAL, "app string must not be empty");
        size_t len = strnlen(s, RK_APP_STRING_MAX + 1);
        if (len > RK_APP_STRING_MAX)
                return rk_err(err, -EINVAL, "app string %s is longer than %d characters",
                              RK_QUOTE(s), RK_APP_STRING_MAX);
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c <= 0x20 || c >= 0x7f)
                        return rk_err(err, -EINVAL,
                                      "app string %s has a space, control or non-ASCII character",
                                      RK_QUOTE(s));
        }
        const char *colon = strchr(s, ':');
        const char *comma = strchr(s, ',');
        if (colon && strchr(colon + 1, ':'))
                return rk_err(err, -EINVAL,
                              "app string %s: a ':' may appear at most once (name:version)",
                              RK_QUOTE(s));
        if (colon && comma && colon > comma)
                return rk_err(err, -EINVAL,
                              "app string %s: ':' may appear only right after the app name "
                              "(name:version,label=value)",
                              RK_QUOTE(s));

        /* name[:version] */
        size_t first = comma ? (size_t)(comma - s) : len;
        size_t name_n = colon ? (size_t)(colon - s) : first;
        if (name_n == 0)
                return rk_err(err, -EINVAL, "app string %s: the name is empty", RK_QUOTE(s));
        a.name = strndup(s, name_n);
        if (!a.name)
                return rk_err(err, -ENOMEM, "app string: out of memory");
        r = rk_ac_identifier_validate(a.name, "app name", err);
        if (r < 0) {
                rk_app_string_clear(&a);
                return rk_err_prefix(err, r, "app string %s", RK_QUOTE(s));
        }
        if (colon) {
                size_t vn = first - name_n - 1;
                r = check_value(colon + 1, vn, "version", s, err);
                if (r >= 0 && add_label(&a.labels, "version", 7, colon + 1, vn) < 0)
                        r = rk_err(err, -ENOMEM, "app string: out of memory");
                if (r < 0) {
                        rk_app_string_clear(&a);
                        return r;
                }
        }

        /* ,label=value... */
        for (const char *p = comma; p; p = strchr(p + 1, ',')) {
                const char *next = strchr(p + 1, ',');
                size_t n = next ? (size_t)(next - p - 1) : strlen(p + 1);
                if (n == 0) {
                        rk_app_string_clear(&a);
                        return rk_err(err, -EINVAL,
                                      "app string %s: empty label (two ',' in a row or a "
                                      "trailing ',')",
                                      RK_QUOTE(s));
                }
                r = parse_label(p + 1, n, s, &a.labels, err);
                if (r < 0) {
                        rk_app_string_clear(&a);
                        return r;
                }
        }

        const char *defaults[][2] = {{"os", rk_appc_os()}, {"arch", rk_appc_arch()}};
        for (size_t i = 0; i < ELEMENTSOF(defaults); i++) {
                if (rk_labels_get(&a.labels, defaults[i][0]))
                        continue;
                if (add_label(&a.labels, defaults[i][0], strlen(defaults[i][0]), defaults[i][1],
                              strlen(defaults[i][1])) < 0) {
                        rk_app_string_clear(&a);
                        return rk_err(err, -ENOMEM, "app string: out of memory");
                }
        }
        r = rk_labels_validate(&a.labels, "labels", err);
        if (r < 0) {
                rk_app_string_clear(&a);
                return rk_err_prefix(err, r, "app string %s", RK_QUOTE(s));
        }
        *ret = a;
        return 0;
}
