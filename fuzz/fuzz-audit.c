/* SPDX-License-Identifier: Apache-2.0 */
/* The audit-log verifier against mutations. A real chained log of a few records is written
 * once; each input is a list of edits (flip a byte, delete / duplicate / swap lines, truncate,
 * insert bytes) applied to a copy. Oracle: any log that differs from the original must be
 * reported — verification fails, or reports torn lines — never accepted as the same intact
 * chain. abort() otherwise. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "audit/audit.h"
#include "base/fileio.h"

#define FUZZ_MAX_INPUT 4096

static char *orig;
static size_t orig_len;
static int headfd = -1;

static void init(void)
{
        char dir[] = "/tmp/fuzz-audit-XXXXXX";
        if (!mkdtemp(dir))
                abort();
        struct rk_audit *a = NULL;
        if (rk_audit_open(dir, &a, NULL) < 0)
                abort();
        for (int i = 0; i < 6; i++) {
                json_t *o =
                    json_pack("{s:s, s:i, s:s}", "image", "sha512-0123456789abcdef0123456789abcdef",
                              "n", i, "decision", i % 2 ? "refused" : "accepted");
                if (rk_audit_append(a, "fetch", o, NULL) < 0)
                        abort();
                json_decref(o);
        }
        rk_audit_close(a);
        char p[128];
        snprintf(p, sizeof(p), "%s/audit/audit.log", dir);
        int fd = open(p, O_RDONLY);
        if (fd < 0 || rk_read_fd_capped(fd, "log", 1 << 20, &orig, &orig_len, NULL) < 0)
                abort();
        close(fd);
        /* Keep the head in memory (memfd), then remove the directory. */
        snprintf(p, sizeof(p), "%s/audit/head", dir);
        char *head = NULL;
        size_t hl = 0;
        fd = open(p, O_RDONLY);
        if (fd < 0 || rk_read_fd_capped(fd, "head", 4096, &head, &hl, NULL) < 0)
                abort();
        close(fd);
        headfd = memfd_create("head", MFD_CLOEXEC);
        if (headfd < 0 || rk_write_all(headfd, head, hl) < 0)
                abort();
        free(head);
        int t = open("/tmp", O_PATH | O_DIRECTORY);
        (void)rk_rm_rf_at(t, dir + 5, NULL);
        close(t);
}

/* Start offsets of lines in buf. */
static size_t lines(const char *buf, size_t len, size_t *starts, size_t max)
{
        size_t n = 0;
        for (size_t i = 0; i < len && n < max; i++)
                if (i == 0 || buf[i - 1] == '\n')
                        starts[n++] = i;
        return n;
}

static size_t line_end(const char *buf, size_t len, size_t start)
{
        const char *nl = memchr(buf + start, '\n', len - start);
        return nl ? (size_t)(nl - buf) + 1 : len;
}

static void apply(char *buf, size_t *len, size_t cap, const uint8_t *op)
{
        size_t st[64];
        size_t n = lines(buf, *len, st, 64);
        if (n == 0)
                return;
        size_t a = op[1] % n, b = op[2] % n;
        size_t pos = (((size_t)op[1] << 8) | op[2]) % (*len ? *len : 1);
        switch (op[0] % 6) {
        case 0: /* flip bits of one byte */
                if (*len)
                        buf[pos] ^= (char)(op[3] ? op[3] : 1);
                break;
        case 1: { /* delete line a */
                size_t e = line_end(buf, *len, st[a]);
                memmove(buf + st[a], buf + e, *len - e);
                *len -= e - st[a];
                break;
        }
        case 2: { /* duplicate line a after itself */
                size_t e = line_end(buf, *len, st[a]), l = e - st[a];
                if (*len + l > cap)
                        break;
                memmove(buf + e + l, buf + e, *len - e);
                memcpy(buf + e, buf + st[a], l);
                *len += l;
                break;
        }
        case 3: { /* swap lines a < b */
                if (a == b)
                        break;
                if (a > b) {
                        size_t t = a;
                        a = b;
                        b = t;
                }
                size_t ae = line_end(buf, *len, st[a]), be = line_end(buf, *len, st[b]);
                size_t la = ae - st[a], lb = be - st[b];
                char *tmp = malloc(be - st[a]);
                if (!tmp)
                        abort();
                size_t k = 0;
                memcpy(tmp + k, buf + st[b], lb), k += lb;
                memcpy(tmp + k, buf + ae, st[b] - ae), k += st[b] - ae;
                memcpy(tmp + k, buf + st[a], la);
                memcpy(buf + st[a], tmp, be - st[a]);
                free(tmp);
                break;
        }
        case 4: /* truncate */
                *len = pos;
                break;
        case 5: /* insert op[3] at pos */
                if (*len + 1 > cap)
                        break;
                memmove(buf + pos + 1, buf + pos, *len - pos);
                buf[pos] = (char)op[3];
                (*len)++;
                break;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (!orig)
                init();
        if (size > FUZZ_MAX_INPUT || size < 4)
                return 0;
        size_t cap = orig_len + 4 * 1024 * 64, len = orig_len;
        char *buf = malloc(cap);
        if (!buf)
                abort();
        memcpy(buf, orig, orig_len);
        for (size_t i = 0; i + 4 <= size && i < 64; i += 4)
                apply(buf, &len, cap, data + i);
        int fd = memfd_create("log", MFD_CLOEXEC);
        if (fd < 0 || rk_write_all(fd, buf, len) < 0)
                abort();
        struct rk_audit_report rep;
        int r = rk_audit_verify_fd(fd, headfd, &rep, NULL);
        bool same = len == orig_len && memcmp(buf, orig, len) == 0;
        bool reported = r < 0 || rep.torn > 0 || rep.head_lagging;
        if (!same && !reported)
                abort(); /* a changed log passed as the original, intact chain */
        if (same && r < 0)
                abort(); /* the untouched log must verify */
        close(fd);
        free(buf);
        return 0;
}
