/* SPDX-License-Identifier: Apache-2.0 */
/* Test driver for the ACI extractor:
 *
 *   aci-extract [--check] [--rootfs-only] [--no-owners] [--in-process] [--stats]
 *               [--expect-id ID] [--max-<limit> N]... FILE.aci [DESTDIR]
 *
 * Prints the image ID on success (and with --stats a line of counters); prints
 * "aci-extract: <message>" and exits 1 on failure. DESTDIR is made if missing; with --check it
 * may be left out. Limits: --max-compressed-bytes, --max-total-bytes, --max-file-bytes,
 * --max-entries, --max-path-len, --max-depth, --max-link-len, --max-xattrs, --max-xattr-bytes,
 * --max-manifest-bytes, --max-memory-bytes, --max-cpu-seconds. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aci/archive.h"

static int fail(const char *msg)
{
        fprintf(stderr, "aci-extract: %s\n", msg);
        return 1;
}

static int parse_u64(const char *s, uint64_t *ret)
{
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || end == s || *end || s[0] == '-')
                return -1;
        *ret = v;
        return 0;
}

static int set_limit(struct rk_aci_limits *l, const char *name, const char *value)
{
        static const struct {
                const char *name;
                size_t off;
                bool is_size_t;
        } tab[] = {
#define U64(f) {"--" #f, offsetof(struct rk_aci_limits, f), false}
#define SIZET(f)                                                                                   \
        {                                                                                          \
                "--" #f, offsetof(struct rk_aci_limits, f), true                                   \
        }
            U64(max_compressed_bytes), U64(max_total_bytes),  U64(max_file_bytes),
            U64(max_entries),          SIZET(max_path_len),   SIZET(max_depth),
            SIZET(max_link_len),       SIZET(max_xattrs),     SIZET(max_xattr_bytes),
            SIZET(max_manifest_bytes), U64(max_memory_bytes), U64(max_cpu_seconds),
        };
        char key[64];
        snprintf(key, sizeof(key), "%s", name);
        for (char *p = key + 2; *p; p++)
                if (*p == '-')
                        *p = '_';
        for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
                uint64_t v;
                if (strcmp(tab[i].name, key) != 0)
                        continue;
                if (parse_u64(value, &v) < 0)
                        return -1;
                if (tab[i].is_size_t)
                        *(size_t *)((char *)l + tab[i].off) = (size_t)v;
                else
                        *(uint64_t *)((char *)l + tab[i].off) = v;
                return 0;
        }
        return -1;
}

int main(int argc, char **argv)
{
        struct rk_aci_limits limits;
        struct rk_aci_opts opts = {.dest_fd = -1, .keep_owners = true, .limits = &limits};
        struct rk_aci_layer layer = {.fd = -1};
        struct rk_aci_result res = {0};
        rk_error err = RK_ERROR_INIT;
        bool check = false, stats = false;
        const char *pos[2] = {NULL, NULL};
        int npos = 0;

        rk_aci_limits_init(&limits);
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                if (!strcmp(a, "--check"))
                        check = true;
                else if (!strcmp(a, "--rootfs-only"))
                        opts.rootfs_only = true;
                else if (!strcmp(a, "--no-owners"))
                        opts.keep_owners = false;
                else if (!strcmp(a, "--in-process"))
                        opts.in_process = true;
                else if (!strcmp(a, "--stats"))
                        stats = true;
                else if (!strcmp(a, "--expect-id") && i + 1 < argc)
                        layer.expect_id = argv[++i];
                else if (!strncmp(a, "--max-", 6) && i + 1 < argc) {
                        if (set_limit(&limits, a, argv[++i]) < 0)
                                return fail("bad limit option");
                } else if (a[0] == '-' && a[1])
                        return fail("unknown option (see the comment at the top of aci-extract.c)");
                else if (npos < 2)
                        pos[npos++] = a;
                else
                        return fail("too many arguments");
        }
        if (!pos[0] || (!check && !pos[1]))
                return fail("usage: aci-extract [--check] [--rootfs-only] [--no-owners] "
                            "FILE.aci DESTDIR");
        layer.what = pos[0];
        layer.fd = strcmp(pos[0], "-") == 0 ? STDIN_FILENO : open(pos[0], O_RDONLY | O_CLOEXEC);
        if (layer.fd < 0)
                return fail(strerror(errno));
        if (!check) {
                if (mkdir(pos[1], 0755) < 0 && errno != EEXIST)
                        return fail(strerror(errno));
                opts.dest_fd = open(pos[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (opts.dest_fd < 0)
                        return fail(strerror(errno));
        }
        if (rk_aci_extract(&layer, 1, &opts, &res, &err) < 0)
                return fail(err.msg);
        printf("%s\n", res.id);
        if (stats) {
                const struct rk_aci_stats *s = &res.stats;
                printf("entries=%" PRIu64 " files=%" PRIu64 " dirs=%" PRIu64 " symlinks=%" PRIu64
                       " hardlinks=%" PRIu64 " bytes=%" PRIu64 " setid_stripped=%" PRIu64
                       " xattrs_dropped=%" PRIu64 " skipped_whitelist=%" PRIu64
                       " skipped_upper=%" PRIu64 " manifest_bytes=%zu\n",
                       s->entries, s->files, s->dirs, s->symlinks, s->hardlinks, s->bytes,
                       s->setid_stripped, s->xattrs_dropped, s->skipped_whitelist, s->skipped_upper,
                       res.manifest_len);
        }
        rk_aci_result_clear(&res);
        if (opts.dest_fd >= 0)
                close(opts.dest_fd);
        if (layer.fd > STDIN_FILENO)
                close(layer.fd);
        return 0;
}
