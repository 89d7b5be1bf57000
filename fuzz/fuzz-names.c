/* SPDX-License-Identifier: Apache-2.0 */
/* Every validator in aci/types.c, on up to four strings cut from the input at '\n'. Oracles:
 * an AC name is always an AC identifier, a full image ID is always a prefix, UUIDs and
 * timestamps survive format -> parse, quoting stays inside its buffer and printable. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aci/isolator.h"
#include "aci/types.h"

#define FUZZ_MAX_INPUT 4096
#define PARTS          4

static void check(bool ok)
{
        if (!ok)
                abort();
}

static void one(const char *s)
{
        rk_error err = RK_ERROR_INIT;
        struct rk_semver v;
        struct rk_uuid u, u2;
        struct timespec ts, ts2;
        int64_t q;
        char buf[40];

        int name = rk_ac_name_validate(s, "f", &err);
        int ident = rk_ac_identifier_validate(s, "f", &err);
        check(name == 0 || name == -EINVAL);
        check(ident == 0 || ident == -EINVAL);
        check(name < 0 || ident == 0);
        (void)rk_ac_kind_validate(s, NULL, "f", &err);
        (void)rk_ac_kind_validate(s, "PodManifest", NULL, &err);
        int sv = rk_semver_parse(s, &v, "f", &err);
        int acv = rk_ac_version_validate(s, "f", &err);
        check(acv < 0 || (sv == 0 && v.major == 0));
        int id = rk_image_id_validate(s, "f", &err);
        int idp = rk_image_id_prefix_validate(s, "f", &err);
        check(id < 0 || idp == 0);
        if (rk_quantity_parse(s, &q, "f", &err) == 0)
                check(q >= 0);
        else
                check(err.code == -EINVAL || err.code == -ERANGE);
        if (rk_uuid_parse(s, &u, &err) == 0) {
                char out[37];
                rk_uuid_format(&u, out);
                check(strlen(out) == 36);
                check(rk_uuid_parse(out, &u2, &err) == 0 && memcmp(u.b, u2.b, 16) == 0);
        }
        if (rk_timestamp_parse(s, &ts, "f", &err) == 0) {
                rk_timestamp_format(&ts, buf);
                check(strlen(buf) < 40);
                /* an offset can move the instant outside years 0000..9999, which the parser
                 * refuses; inside, the UTC form must read back the same */
                if (ts.tv_sec >= -62167219200LL && ts.tv_sec <= 253402300799LL)
                        check(rk_timestamp_parse(buf, &ts2, "f", &err) == 0 &&
                              ts.tv_sec == ts2.tv_sec && ts.tv_nsec == ts2.tv_nsec);
        }
        (void)rk_env_name_validate(s, "f", &err);
        (void)rk_url_validate(s, "f", &err);
        (void)rk_abs_path_validate(s, "f", &err);
        (void)rk_capability_validate(s, "f", &err);
        (void)rk_os_arch_validate(s, NULL, "f", &err);
        (void)rk_os_arch_validate(NULL, s, "f", &err);

        char qb[RK_QUOTE_SIZE];
        rk_quote(s, qb, sizeof(qb));
        check(strlen(qb) < sizeof(qb));
        for (const char *p = qb; *p; p++)
                check(*p >= 0x20 && *p < 0x7f);
        check(strlen(err.msg) < sizeof(err.msg) && !strchr(err.msg, '\n'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        rk_error err = RK_ERROR_INIT;
        char *part[PARTS] = {NULL};
        size_t n = 0;

        if (size > FUZZ_MAX_INPUT)
                return 0;
        char *buf = malloc(size + 1);
        if (!buf)
                return 0;
        memcpy(buf, data, size);
        buf[size] = 0;
        for (char *p = buf; n < PARTS;) {
                part[n++] = p;
                char *nl = strchr(p, '\n');
                if (!nl)
                        break;
                *nl = 0;
                p = nl + 1;
        }
        for (size_t i = 0; i < n; i++)
                one(part[i]);
        if (n >= 2) {
                (void)rk_os_arch_validate(part[0], part[1], "f", &err);
                (void)rk_ac_kind_validate(part[0], part[1], "f", &err);
                /* labels from pairs: name0=value1, name2=value3 */
                struct rk_label l[2] = {{part[0], part[1]},
                                        {n >= 4 ? part[2] : "os", n >= 4 ? part[3] : "linux"}};
                struct rk_labels ls = {l, 2};
                (void)rk_labels_validate(&ls, "labels", &err);
                const char *dup = NULL;
                int d = rk_strv_find_duplicate((const char *const *)part, n, &dup);
                check(d >= 0);
        }
        free(buf);
        return 0;
}
