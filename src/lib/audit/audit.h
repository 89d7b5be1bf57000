/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The tamper-evident audit log: <dir>/audit/audit.log, one JSON object per line, appended with
 * O_APPEND in one write(2) under flock(2). Every record carries "seq" and "prev", the SHA-512 of
 * the previous record's line; <dir>/audit/head holds the seq and SHA-512 of the last record, so
 * a change to the last record, or a truncated tail, is found too. A crash can leave a torn line
 * (no newline, or not JSON); the next writer terminates it and chains past it, and the verifier
 * reports it as torn without losing the chain.
 *
 * What this does not stop: root rewriting the whole file and head consistently. Operators who
 * need that copy the head hash ("rkt audit verify" prints it) somewhere the host cannot write. */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "base/hash.h"

#define RK_AUDIT_RECORD_MAX (64 * 1024)

struct rk_audit;

/* Opens (creating 0700/0600 if needed) the log under data_dir/audit. */
int rk_audit_open(const char *data_dir, struct rk_audit **ret, rk_error *err);
struct rk_audit *rk_audit_close(struct rk_audit *a);

/* Appends one record: {"seq", "time", "event", "actor": {uid, pid}, <fields...>, "prev"}.
 * fields is an object (borrowed) whose members are copied in their order; it must not use the
 * reserved keys. */
int rk_audit_append(struct rk_audit *a, const char *event, const json_t *fields, rk_error *err);

struct rk_audit_report {
        uint64_t records; /* valid records */
        uint64_t torn;    /* torn lines (crash artefacts) */
        uint64_t last_seq;
        char head[RK_SHA512_HEX_LEN + 1]; /* SHA-512 of the last record line */
        bool head_lagging; /* head file one record behind (crash between the two writes) */
        uint64_t bad_line; /* first bad line (1-based), 0 if none */
};

/* Verifies the chain. Returns 0 if intact (torn lines and a lagging head are reported in
 * report, not errors), -EBADMSG naming the first bad record otherwise. headfd may be -1 (then
 * only the chain is checked). Reads logfd from offset 0. */
int rk_audit_verify_fd(int logfd, int headfd, struct rk_audit_report *report, rk_error *err);
int rk_audit_verify(const char *data_dir, struct rk_audit_report *report, rk_error *err);

/* Calls fn for every valid record in order (stops early when fn returns non-zero). */
int rk_audit_foreach(const char *data_dir, int (*fn)(const json_t *rec, void *ud), void *ud,
                     rk_error *err);
