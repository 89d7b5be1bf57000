/* SPDX-License-Identifier: Apache-2.0 */
/* The metadata service's HTTP/1.x request parser (http.h): RFC 9112's grammar, narrowed. No
 * obsolete line folding, no bare LF, no Transfer-Encoding, Content-Length once and digits only,
 * caps on every length; anything else is refused with a status, never guessed at. */
#include "mds/http.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is_tchar(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool eq_ci(const char *a, size_t n, const char *lit)
{
        return strlen(lit) == n && strncasecmp(a, lit, n) == 0;
}

/* The end of the head ("\r\n\r\n"), or NULL. */
static const char *head_end(const char *buf, size_t len)
{
        for (size_t i = 0; i + 3 < len; i++)
                if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' &&
                    buf[i + 3] == '\n')
                        return buf + i;
        return NULL;
}

static int parse_request_line(const char *p, const char *eol, struct rk_http_req *req)
{
        const char *s = p;
        while (s < eol && *s >= 'A' && *s <= 'Z')
                s++;
        if (s == p || s - p > 7 || s >= eol || *s != ' ')
                return -400;
        req->method = p;
        req->method_len = (size_t)(s - p);
        const char *t = ++s;
        while (s < eol && (unsigned char)*s > 0x20 && (unsigned char)*s < 0x7f)
                s++;
        if (s == t || *t != '/' || s >= eol || *s != ' ')
                return -400;
        if ((size_t)(s - t) > RK_HTTP_MAX_TARGET)
                return -414;
        req->target = t;
        req->target_len = (size_t)(s - t);
        s++;
        if (eol - s != 8 || strncmp(s, "HTTP/1.", 7) != 0)
                return -400;
        if (s[7] != '1' && s[7] != '0')
                return -505;
        return 0;
}

int rk_http_parse(const char *buf, size_t len, size_t max_body, struct rk_http_req *req)
{
        memset(req, 0, sizeof(*req));
        size_t scan = len < RK_HTTP_MAX_HEAD ? len : RK_HTTP_MAX_HEAD;
        const char *end = head_end(buf, scan);
        size_t limit = end ? (size_t)(end - buf) + 4 : scan;
        /* a NUL, a bare LF or a bare CR in the head is malformed, even before it is complete */
        for (size_t i = 0; i < limit; i++) {
                if (buf[i] == 0)
                        return -400;
                if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r'))
                        return -400;
                if (buf[i] == '\r' && i + 1 < limit && buf[i + 1] != '\n')
                        return -400;
        }
        if (!end)
                return len >= RK_HTTP_MAX_HEAD ? -431 : 0;
        const char *eol = memmem(buf, limit, "\r\n", 2);
        int r = parse_request_line(buf, eol, req);
        if (r < 0)
                return r;
        bool have_len = false;
        uint64_t clen = 0;
        size_t n_headers = 0;
        for (const char *p = eol + 2; p < end + 2; p = eol + 2) {
                eol = memmem(p, (size_t)(end + 2 - p), "\r\n", 2);
                if (++n_headers > RK_HTTP_MAX_HEADERS)
                        return -431;
                const char *c = p;
                while (c < eol && is_tchar((unsigned char)*c))
                        c++;
                if (c == p || c - p > 64 || c >= eol || *c != ':')
                        return -400; /* also: obs-fold (a line starting with SP/HTAB) */
                size_t nlen = (size_t)(c - p);
                const char *v = c + 1, *ve = eol;
                while (v < ve && (*v == ' ' || *v == '\t'))
                        v++;
                while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                        ve--;
                for (const char *x = v; x < ve; x++)
                        if (((unsigned char)*x < 0x20 && *x != '\t') || *x == 0x7f)
                                return -400;
                size_t vlen = (size_t)(ve - v);
                if (eq_ci(p, nlen, "Content-Length")) {
                        if (have_len || vlen == 0 || vlen > 10)
                                return -400;
                        for (const char *x = v; x < ve; x++) {
                                if (*x < '0' || *x > '9')
                                        return -400;
                                clen = clen * 10 + (uint64_t)(*x - '0');
                        }
                        have_len = true;
                } else if (eq_ci(p, nlen, "Transfer-Encoding")) {
                        return -501;
                } else if (eq_ci(p, nlen, "Metadata-Flavor")) {
                        req->flavor = vlen == 12 && strncmp(v, "AppContainer", 12) == 0;
                } else if (eq_ci(p, nlen, "Content-Type")) {
                        const char *ft = "application/x-www-form-urlencoded";
                        req->form = vlen >= strlen(ft) && strncasecmp(v, ft, strlen(ft)) == 0 &&
                                    (vlen == strlen(ft) || v[strlen(ft)] == ';');
                }
        }
        if (clen > max_body)
                return -413;
        size_t head = (size_t)(end - buf) + 4;
        if (len - head < clen)
                return 0;
        req->body = buf + head;
        req->body_len = (size_t)clen;
        req->total = head + (size_t)clen;
        return 1;
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Decode [s, e) into out (at least e - s + 1 bytes); the decoded length, or -EINVAL. */
static ssize_t form_decode(const char *s, const char *e, char *out)
{
        size_t n = 0;
        for (; s < e; s++) {
                if (*s == '+')
                        out[n++] = ' ';
                else if (*s == '%') {
                        int hi = -1;
                        if (e - s < 3 || (hi = hexval(s[1])) < 0 || hexval(s[2]) < 0)
                                return -EINVAL;
                        out[n++] = (char)(hi * 16 + hexval(s[2]));
                        s += 2;
                } else
                        out[n++] = *s;
        }
        out[n] = 0;
        return (ssize_t)n;
}

int rk_http_form_get(const char *body, size_t len, const char *name, char **ret, size_t *ret_len)
{
        const char *p = body, *end = body + len;
        size_t nlen = strlen(name);
        *ret = NULL;
        *ret_len = 0;
        while (p < end) {
                const char *amp = memchr(p, '&', (size_t)(end - p));
                const char *fe = amp ? amp : end;
                const char *eq = memchr(p, '=', (size_t)(fe - p));
                const char *ke = eq ? eq : fe;
                char key[64];
                if ((size_t)(ke - p) < sizeof(key)) {
                        ssize_t k = form_decode(p, ke, key);
                        if (k < 0) {
                                free(*ret);
                                *ret = NULL;
                                return -EINVAL;
                        }
                        if ((size_t)k == nlen && memcmp(key, name, nlen) == 0) {
                                if (*ret) {
                                        free(*ret);
                                        *ret = NULL;
                                        return -EINVAL; /* twice */
                                }
                                const char *vs = eq ? eq + 1 : fe;
                                char *v = malloc((size_t)(fe - vs) + 1);
                                if (!v)
                                        return -ENOMEM;
                                ssize_t vn = form_decode(vs, fe, v);
                                if (vn < 0) {
                                        free(v);
                                        return -EINVAL;
                                }
                                *ret = v;
                                *ret_len = (size_t)vn;
                        }
                }
                p = amp ? amp + 1 : end;
        }
        return *ret ? 1 : 0;
}

const char *rk_http_reason(int status)
{
        switch (status) {
        case 200:
                return "OK";
        case 201:
                return "Created";
        case 204:
                return "No Content";
        case 400:
                return "Bad Request";
        case 401:
                return "Unauthorized";
        case 403:
                return "Forbidden";
        case 404:
                return "Not Found";
        case 405:
                return "Method Not Allowed";
        case 408:
                return "Request Timeout";
        case 409:
                return "Conflict";
        case 413:
                return "Content Too Large";
        case 414:
                return "URI Too Long";
        case 431:
                return "Request Header Fields Too Large";
        case 500:
                return "Internal Server Error";
        case 501:
                return "Not Implemented";
        case 503:
                return "Service Unavailable";
        case 505:
                return "HTTP Version Not Supported";
        default:
                return "Error";
        }
}

int rk_http_response(int status, const char *content_type, const char *body, size_t body_len,
                     char **ret, size_t *ret_len)
{
        char head[256];
        int n = snprintf(head, sizeof(head),
                         "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                         "Connection: close\r\n\r\n",
                         status, rk_http_reason(status), content_type, body_len);
        if (n < 0 || (size_t)n >= sizeof(head))
                return -ENOMEM;
        char *out = malloc((size_t)n + body_len + 1);
        if (!out)
                return -ENOMEM;
        memcpy(out, head, (size_t)n);
        if (body_len)
                memcpy(out + n, body, body_len);
        out[(size_t)n + body_len] = 0;
        *ret = out;
        *ret_len = (size_t)n + body_len;
        return 0;
}
