/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* HTTPS transport (libcurl) for images, signatures and keys: TLS always verified, HTTPS only
 * (plain HTTP only when the caller was given --insecure-options=http), redirects followed only
 * to allowed protocols, every body size capped, stalled transfers cut. */

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

struct rk_http_opts {
        bool allow_http;      /* --insecure-options=http */
        bool insecure_tls;    /* --insecure-options=tls: no peer/host verification */
        uint64_t max_bytes;   /* body cap; 0 = 16 GiB */
        const char *etag;     /* If-None-Match */
        uint64_t resume_from; /* Range: bytes=N- (out_fd must already hold N bytes) */
        const char *auth;     /* Authorization header value, sent to the first host only */
        bool progress;        /* draw a progress bar on stderr (only if it is a terminal) */
        const char *label;    /* what the progress bar names */
        long connect_timeout; /* seconds; 0 = 30 */
        long stall_timeout;   /* seconds below 1 byte/s before giving up; 0 = 60 */
};

struct rk_http_result {
        long status;
        char etag[256];
        int64_t max_age; /* Cache-Control max-age, -1 if absent, 0 for no-cache/no-store */
        bool accept_ranges;
        uint64_t bytes; /* body bytes written to out_fd in this call */
        char effective_url[2048];
};

/* GET url; the body of a 200/206 goes to out_fd (appended at its offset). 304 and 202 are
 * returned as results, not errors; any other status >= 400 is an error naming the URL. */
int rk_http_get(const char *url, int out_fd, const struct rk_http_opts *opts,
                struct rk_http_result *ret, rk_error *err);

/* GET a small document (signature, key, discovery page) into memory, capped at max. */
int rk_http_get_mem(const char *url, const struct rk_http_opts *opts, size_t max, char **ret_buf,
                    size_t *ret_len, struct rk_http_result *ret, rk_error *err);

bool rk_http_is_url(const char *s);
