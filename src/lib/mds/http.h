/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A small, strict HTTP/1.x request parser for the metadata service (one request per
 * connection). Everything it returns points into the caller's buffer. */

#include <stdbool.h>
#include <stddef.h>

#define RK_HTTP_MAX_HEAD    8192 /* request line and headers, CRLFs included */
#define RK_HTTP_MAX_TARGET  2048
#define RK_HTTP_MAX_HEADERS 32

struct rk_http_req {
        const char *method, *target, *body;
        size_t method_len, target_len, body_len;
        size_t total; /* bytes of the whole request */
        bool flavor;  /* "Metadata-Flavor: AppContainer" */
        bool form;    /* Content-Type: application/x-www-form-urlencoded */
};

/* 1: a complete request in req; 0: incomplete, read more; or the negated HTTP status to
 * answer with: -400 malformed, -413 body over max_body, -431 head over RK_HTTP_MAX_HEAD, -414
 * target over RK_HTTP_MAX_TARGET, -501 Transfer-Encoding, -505 not HTTP/1.0 or 1.1. Bytes after the
 * request are ignored. */
int rk_http_parse(const char *buf, size_t len, size_t max_body, struct rk_http_req *req);

/* The value of field name in an application/x-www-form-urlencoded body, decoded ('+' and
 * %XX), malloc'd and NUL-terminated in *ret (its length in *ret_len; it may hold NULs).
 * 1 found, 0 absent, -EINVAL malformed (bad escape, a field twice), -ENOMEM. */
int rk_http_form_get(const char *body, size_t len, const char *name, char **ret, size_t *ret_len);

/* "HTTP/1.1 <status> <reason>" with Content-Type, Content-Length and Connection: close,
 * then body; malloc'd in *ret. -ENOMEM. */
int rk_http_response(int status, const char *content_type, const char *body, size_t body_len,
                     char **ret, size_t *ret_len);
const char *rk_http_reason(int status);
