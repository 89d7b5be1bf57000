/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "audit/audit.h"
#include "base/fileio.h"
#include "base/json.h"

#define GENESIS                                                                                    \
        "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000"   \
        "000000000000000000000000000000000000000000"

struct rk_audit {
        int dirfd;
        int fd;
};

static const char *const reserved[] = {"seq", "time", "event", "actor", "prev"};

int rk_audit_open(const char *data_dir, struct rk_audit **ret, rk_error *err)
{
        char path[PATH_MAX];
        if (snprintf(path, sizeof(path), "%s/audit", data_dir) >= (int)sizeof(path))
                return rk_err(err, -ENAMETOOLONG, "audit log: '%s': path too long", data_dir);
        int r = rk_mkdir_p(path, 0700, err);
        if (r < 0)
                return rk_err_prefix(err, r, "audit log");
        _cleanup_close_ int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return rk_err_errno(err, negative_errno(), "audit log: cannot open '%s'", path);
        /* Whoever can write here decides what the log says: keep it root's alone. */
        if (fchmod(dfd, 0700) < 0)
                return rk_err_errno(err, negative_errno(), "audit log: cannot secure '%s'", path);
        _cleanup_close_ int fd =
            openat(dfd, "audit.log", O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "audit log: cannot open '%s/audit.log'",
                                    path);
        struct rk_audit *a = calloc(1, sizeof(*a));
        if (!a)
                return rk_err(err, -ENOMEM, "out of memory");
        a->dirfd = TAKE_FD(dfd);
        a->fd = TAKE_FD(fd);
        *ret = a;
        return 0;
}

struct rk_audit *rk_audit_close(struct rk_audit *a)
{
        if (a) {
                safe_close(a->fd);
                safe_close(a->dirfd);
                free(a);
        }
        return NULL;
}

static void format_now(char out[48])
{
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        size_t n = strftime(out, 48, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(out + n, 48 - n, ".%09ldZ", ts.tv_nsec);
}

/* A line is a record if it parses as a JSON object with an integer seq and a 128-hex prev. */
static json_t *parse_record(const char *line, size_t len)
{
        json_t *v = NULL;
        if (rk_json_parse("audit record", line, len, RK_AUDIT_RECORD_MAX, &v, NULL) < 0)
                return NULL;
        json_t *seq = json_object_get(v, "seq"), *prev = json_object_get(v, "prev");
        if (!json_is_object(v) || !json_is_integer(seq) || json_integer_value(seq) < 1 ||
            !json_is_string(prev) || strlen(json_string_value(prev)) != RK_SHA512_HEX_LEN) {
                json_decref(v);
                return NULL;
        }
        return v;
}

/* Finds the last record before the end of the file: its seq and the hash of its line. Reads
 * a window from the end; records are capped, so two caps always hold the last one unless the
 * tail is garbage, in which case the chain restarts from the last record a full scan finds. */
static int find_tail(int fd, uint64_t *ret_seq, char hash[RK_SHA512_HEX_LEN + 1], bool *ret_torn,
                     rk_error *err)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return rk_err_errno(err, negative_errno(), "audit log: cannot stat");
        *ret_seq = 0;
        strcpy(hash, GENESIS);
        *ret_torn = false;
        if (st.st_size == 0)
                return 0;
        off_t win = 2 * RK_AUDIT_RECORD_MAX + 2;
        off_t start = st.st_size > win ? st.st_size - win : 0;
        size_t n = (size_t)(st.st_size - start);
        _cleanup_free_ char *buf = malloc(n + 1);
        if (!buf)
                return rk_err(err, -ENOMEM, "out of memory");
        if (pread(fd, buf, n, start) != (ssize_t)n)
                return rk_err_errno(err, -EIO, "audit log: cannot read the tail");
        buf[n] = 0;
        *ret_torn = buf[n - 1] != '\n';
        size_t end = *ret_torn ? n : n - 1; /* end of the candidate line (exclusive) */
        if (*ret_torn) {
                /* skip the torn fragment */
                char *nl = memrchr(buf, '\n', n);
                if (!nl) {
                        if (start == 0)
                                return 0;
                        return rk_err(err, -EBADMSG, "audit log: torn tail longer than a record");
                }
                end = (size_t)(nl - buf);
        }
        for (;;) {
                char *nl = end ? memrchr(buf, '\n', end) : NULL;
                size_t ls = nl ? (size_t)(nl - buf) + 1 : 0;
                if (!nl && start != 0)
                        return rk_err(err, -EBADMSG,
                                      "audit log: no record in the last %lld bytes; run 'rkt "
                                      "audit verify'",
                                      (long long)win);
                json_t *rec = parse_record(buf + ls, end - ls);
                if (rec) {
                        *ret_seq = (uint64_t)json_integer_value(json_object_get(rec, "seq"));
                        json_decref(rec);
                        return rk_sha512_buf_hex(buf + ls, end - ls, hash, err);
                }
                if (!nl)
                        return 0; /* only torn lines: start a new chain */
                end = (size_t)(nl - buf);
        }
}

static int write_head(struct rk_audit *a, uint64_t seq, const char *hash, rk_error *err)
{
        char line[200];
        int n = snprintf(line, sizeof(line), "%" PRIu64 " %s\n", seq, hash);
        return rk_write_file_atomic_at(a->dirfd, "head", line, (size_t)n, 0600, err);
}

static int append_locked(struct rk_audit *a, const char *event, const json_t *fields, rk_error *err)
{
        uint64_t seq = 0;
        char prev[RK_SHA512_HEX_LEN + 1], now[48], hash[RK_SHA512_HEX_LEN + 1];
        bool torn = false;

        int r = find_tail(a->fd, &seq, prev, &torn, err);
        if (r < 0)
                return r;
        if (torn && (r = rk_write_all(a->fd, "\n", 1)) < 0)
                return rk_err_errno(err, r, "audit log: cannot terminate a torn record");
        format_now(now);
        _cleanup_json_ json_t *rec = json_pack(
            "{s:I, s:s, s:s, s:{s:I, s:I}}", "seq", (json_int_t)(seq + 1), "time", now, "event",
            event, "actor", "uid", (json_int_t)getuid(), "pid", (json_int_t)getpid());
        if (!rec)
                return rk_err(err, -ENOMEM, "audit log: cannot build record");
        const char *key;
        json_t *val;
        json_object_foreach ((json_t *)fields, key, val) {
                for (size_t i = 0; i < ELEMENTSOF(reserved); i++)
                        if (strcmp(key, reserved[i]) == 0)
                                return rk_err(err, -EINVAL, "audit log: field '%s' is reserved",
                                              key);
                json_object_set(rec, key, val);
        }
        json_object_set_new(rec, "prev", json_string(prev));
        _cleanup_free_ char *line = NULL;
        size_t len = 0;
        r = rk_json_dump(rec, &line, &len, err);
        if (r < 0)
                return r;
        if (len > RK_AUDIT_RECORD_MAX)
                return rk_err(err, -EFBIG, "audit log: %s record of %zu bytes exceeds %d", event,
                              len, RK_AUDIT_RECORD_MAX);
        r = rk_sha512_buf_hex(line, len, hash, err);
        if (r < 0)
                return r;
        line[len] = '\n'; /* rk_json_dump's NUL becomes the newline: one write per record */
        r = rk_write_all(a->fd, line, len + 1);
        if (r >= 0 && fdatasync(a->fd) < 0)
                r = negative_errno();
        if (r < 0)
                return rk_err_errno(err, r, "audit log: cannot append");
        return write_head(a, seq + 1, hash, err);
}

int rk_audit_append(struct rk_audit *a, const char *event, const json_t *fields, rk_error *err)
{
        /* One writer at a time: the tail we chain to must still be the tail when we write. */
        if (flock(a->fd, LOCK_EX) < 0)
                return rk_err_errno(err, negative_errno(), "audit log: cannot lock");
        int r = append_locked(a, event, fields, err);
        (void)flock(a->fd, LOCK_UN);
        return r;
}

static int read_head(int headfd, uint64_t *seq, char hash[RK_SHA512_HEX_LEN + 1], rk_error *err)
{
        char buf[256];
        ssize_t n = pread(headfd, buf, sizeof(buf) - 1, 0);
        if (n < 0)
                return rk_err_errno(err, negative_errno(), "audit head: cannot read");
        buf[n] = 0;
        unsigned long long s;
        char h[RK_SHA512_HEX_LEN + 2];
        if (sscanf(buf, "%llu %129s", &s, h) != 2 || strlen(h) != RK_SHA512_HEX_LEN)
                return rk_err(err, -EBADMSG, "audit head: malformed");
        *seq = s;
        strcpy(hash, h);
        return 0;
}

int rk_audit_verify_fd(int logfd, int headfd, struct rk_audit_report *rep, rk_error *err)
{
        *rep = (struct rk_audit_report){0};
        int dfd = fcntl(logfd, F_DUPFD_CLOEXEC, 3);
        if (dfd < 0)
                return rk_err_errno(err, negative_errno(), "audit log: cannot read");
        _cleanup_fclose_ FILE *f = fdopen(dfd, "r");
        if (!f) {
                (void)close(dfd);
                return rk_err(err, -ENOMEM, "out of memory");
        }
        if (fseeko(f, 0, SEEK_SET) < 0)
                return rk_err_errno(err, negative_errno(), "audit log: cannot seek");
        char prev[RK_SHA512_HEX_LEN + 1], before[RK_SHA512_HEX_LEN + 1];
        strcpy(prev, GENESIS);
        strcpy(before, GENESIS);
        uint64_t expect = 1, lineno = 0;
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, f)) > 0) {
                lineno++;
                bool terminated = line[n - 1] == '\n';
                size_t len = (size_t)n - terminated;
                json_t *rec = len <= RK_AUDIT_RECORD_MAX ? parse_record(line, len) : NULL;
                if (!rec) {
                        /* A torn write, or something that is not a record at all: either way it
                         * cannot be part of the chain, and the next record shows whether
                         * anything was lost. */
                        rep->torn++;
                        continue;
                }
                uint64_t seq = (uint64_t)json_integer_value(json_object_get(rec, "seq"));
                bool prev_ok = strcmp(json_string_value(json_object_get(rec, "prev")), prev) == 0;
                json_decref(rec);
                if (!terminated) {
                        rep->torn++;
                        continue;
                }
                if (seq != expect) {
                        rep->bad_line = lineno;
                        return rk_err(err, -EBADMSG,
                                      "audit log: line %" PRIu64 ": record %" PRIu64
                                      " where %" PRIu64
                                      " was expected (records deleted, reordered or duplicated)",
                                      lineno, seq, expect);
                }
                if (!prev_ok) {
                        rep->bad_line = lineno;
                        return rk_err(err, -EBADMSG,
                                      "audit log: line %" PRIu64 ": record %" PRIu64
                                      " does not chain to record %" PRIu64
                                      " (a record was modified or replaced)",
                                      lineno, seq, seq - 1);
                }
                strcpy(before, prev);
                int r = rk_sha512_buf_hex(line, len, prev, err);
                if (r < 0)
                        return r;
                rep->records++;
                rep->last_seq = seq;
                expect++;
        }
        if (ferror(f))
                return rk_err_errno(err, -EIO, "audit log: read failed");
        strcpy(rep->head, prev);
        if (headfd < 0)
                return 0;
        uint64_t hseq = 0;
        char hhash[RK_SHA512_HEX_LEN + 1];
        int r = read_head(headfd, &hseq, hhash, err);
        if (r < 0)
                return r;
        if (hseq == rep->last_seq && strcmp(hhash, prev) == 0)
                return 0;
        if (rep->last_seq > 0 && hseq == rep->last_seq - 1 && strcmp(hhash, before) == 0) {
                rep->head_lagging = true; /* crash between appending and updating head */
                return 0;
        }
        rep->bad_line = lineno;
        if (hseq > rep->last_seq)
                return rk_err(err, -EBADMSG,
                              "audit log: ends at record %" PRIu64 " but the head records %" PRIu64
                              " (records removed from the end)",
                              rep->last_seq, hseq);
        return rk_err(err, -EBADMSG,
                      "audit log: record %" PRIu64 " does not match the head (the last record was "
                      "modified)",
                      rep->last_seq);
}

static int open_log(const char *data_dir, int *ret_log, int *ret_head, rk_error *err)
{
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/audit", data_dir);
        _cleanup_close_ int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return rk_err_errno(err, negative_errno(), "audit log: cannot open '%s'", path);
        int lfd = openat(dfd, "audit.log", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (lfd < 0)
                return rk_err_errno(err, negative_errno(), "audit log: cannot open '%s/audit.log'",
                                    path);
        int hfd = openat(dfd, "head", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (hfd < 0 && errno != ENOENT) {
                int r = negative_errno();
                (void)close(lfd);
                return rk_err_errno(err, r, "audit log: cannot open '%s/head'", path);
        }
        *ret_log = lfd;
        *ret_head = hfd;
        return 0;
}

int rk_audit_verify(const char *data_dir, struct rk_audit_report *rep, rk_error *err)
{
        _cleanup_close_ int lfd = -EBADF, hfd = -EBADF;
        int r = open_log(data_dir, &lfd, &hfd, err);
        if (r < 0)
                return r;
        struct stat st;
        if (hfd < 0 && fstat(lfd, &st) == 0 && st.st_size > 0)
                return rk_err(err, -EBADMSG, "audit log: the head file is missing");
        return rk_audit_verify_fd(lfd, hfd, rep, err);
}

int rk_audit_foreach(const char *data_dir, int (*fn)(const json_t *rec, void *ud), void *ud,
                     rk_error *err)
{
        _cleanup_close_ int lfd = -EBADF, hfd = -EBADF;
        int r = open_log(data_dir, &lfd, &hfd, err);
        if (r < 0)
                return r;
        _cleanup_fclose_ FILE *f = fdopen(TAKE_FD(lfd), "r");
        if (!f)
                return rk_err(err, -ENOMEM, "out of memory");
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, f)) > 0) {
                if (line[n - 1] != '\n')
                        break;
                json_t *rec = parse_record(line, (size_t)n - 1);
                if (!rec)
                        continue;
                int q = fn(rec, ud);
                json_decref(rec);
                if (q)
                        return q;
        }
        return 0;
}
