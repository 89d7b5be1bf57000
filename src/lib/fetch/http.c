/* SPDX-License-Identifier: Apache-2.0 */
/* libcurl is loaded on first use, not linked: it pulls in GnuTLS, Kerberos, LDAP, SSH, ICU...
 * whose constructors cost ~3.5 ms at every start of rkt, and most commands (run, list,
 * status, image ...) never touch the network. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <dlfcn.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/log.h"
#include "fetch/http.h"

static struct {
        CURLcode (*global_init)(long);
        CURL *(*easy_init)(void);
        CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
        CURLcode (*easy_perform)(CURL *);
        CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
        void (*easy_cleanup)(CURL *);
        const char *(*easy_strerror)(CURLcode);
        struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
        void (*slist_free_all)(struct curl_slist *);
        curl_version_info_data *(*version_info)(CURLversion);
        unsigned version; /* LIBCURL_VERSION_NUM of the library loaded */
        char error[256];
} api;

#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_easy_init     api.easy_init
#define curl_easy_setopt   api.easy_setopt
#define curl_easy_perform  api.easy_perform
#define curl_easy_getinfo  api.easy_getinfo
#define curl_easy_strerror api.easy_strerror
#define curl_slist_append  api.slist_append

static void easy_cleanup(CURL *c)
{
        api.easy_cleanup(c);
}
static void slist_free_all(struct curl_slist *l)
{
        api.slist_free_all(l);
}
DEFINE_CLEANUP(CURL *, easy_cleanup)
DEFINE_CLEANUP(struct curl_slist *, slist_free_all)

#define DEFAULT_MAX_BYTES (16ULL << 30)

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void)
{
        /* The soname Debian's libcurl4-openssl-dev links against (ABI 4). */
        void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                snprintf(api.error, sizeof(api.error), "cannot load libcurl: %s", dlerror());
                return;
        }
#define SYM(field, name)                                                                           \
        if (!(*(void **)&api.field = dlsym(h, name))) {                                            \
                snprintf(api.error, sizeof(api.error), "libcurl lacks %s", name);                  \
                return;                                                                            \
        }
        SYM(global_init, "curl_global_init")
        SYM(easy_init, "curl_easy_init")
        SYM(easy_setopt, "curl_easy_setopt")
        SYM(easy_perform, "curl_easy_perform")
        SYM(easy_getinfo, "curl_easy_getinfo")
        SYM(easy_cleanup, "curl_easy_cleanup")
        SYM(easy_strerror, "curl_easy_strerror")
        SYM(slist_append, "curl_slist_append")
        SYM(slist_free_all, "curl_slist_free_all")
        SYM(version_info, "curl_version_info")
#undef SYM
        curl_version_info_data *v = api.version_info(CURLVERSION_NOW);
        api.version = v ? v->version_num : 0;
        if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                snprintf(api.error, sizeof(api.error), "libcurl failed to initialise");
}

bool rk_http_is_url(const char *s)
{
        return strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
}

struct sink {
        int fd;    /* file sink, or -1 */
        char *buf; /* memory sink */
        size_t len, cap;
        uint64_t max, written, offset;
        int error;
        struct rk_http_result *res;
        const struct rk_http_opts *opts;
        double last_draw;
        bool drawn, finished; /* progress bar state */
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
        struct sink *s = ud;
        size_t len = size * n;
        long code = s->res->status;
        /* Only a successful body is content; error pages are dropped. */
        if (code != 200 && code != 206)
                return len;
        if (s->offset + s->written + len > s->max) {
                s->error = -EFBIG;
                return 0;
        }
        if (s->fd >= 0) {
                int r = rk_write_all(s->fd, p, len);
                if (r < 0) {
                        s->error = r;
                        return 0;
                }
        } else {
                if (s->len + len + 1 > s->cap) {
                        size_t nc = (s->len + len + 1) * 2;
                        char *nb = realloc(s->buf, nc);
                        if (!nb) {
                                s->error = -ENOMEM;
                                return 0;
                        }
                        s->buf = nb;
                        s->cap = nc;
                }
                memcpy(s->buf + s->len, p, len);
                s->len += len;
                s->buf[s->len] = 0;
        }
        s->written += len;
        return len;
}

static void trim(char *s)
{
        size_t n = strlen(s);
        while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == '\n' || s[n - 1] == ' '))
                s[--n] = 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
        struct sink *s = ud;
        size_t len = size * n;
        char line[1024];
        if (len >= sizeof(line))
                return len;
        memcpy(line, p, len);
        line[len] = 0;
        trim(line);
        /* A new response (redirect hop, 100-continue) starts with its status line. */
        if (strncmp(line, "HTTP/", 5) == 0) {
                char *sp = strchr(line, ' ');
                s->res->status = sp ? strtol(sp + 1, NULL, 10) : 0;
                s->res->etag[0] = 0;
                s->res->max_age = -1;
                s->res->accept_ranges = false;
                return len;
        }
        if (strncasecmp(line, "ETag:", 5) == 0) {
                const char *v = line + 5;
                while (*v == ' ')
                        v++;
                snprintf(s->res->etag, sizeof(s->res->etag), "%s", v);
        } else if (strncasecmp(line, "Cache-Control:", 14) == 0) {
                const char *v = line + 14;
                if (strcasestr(v, "no-cache") || strcasestr(v, "no-store"))
                        s->res->max_age = 0;
                else if ((v = strcasestr(v, "max-age="))) {
                        long long a = strtoll(v + 8, NULL, 10);
                        s->res->max_age = a < 0 ? 0 : a;
                }
        } else if (strncasecmp(line, "Accept-Ranges:", 14) == 0)
                s->res->accept_ranges = strcasestr(line + 14, "bytes") != NULL;
        return len;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
        struct sink *s = ud;
        if (!s->opts->progress || s->finished || dltotal <= 0 || !isatty(STDERR_FILENO))
                return 0;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        double now = ts.tv_sec + ts.tv_nsec / 1e9;
        if (now - s->last_draw < 0.1 && dlnow < dltotal)
                return 0;
        s->last_draw = now;
        curl_off_t total = dltotal + (curl_off_t)s->offset, got = dlnow + (curl_off_t)s->offset;
        int width = 30, fill = (int)(width * got / total);
        char bar[64];
        memset(bar, '=', (size_t)fill);
        memset(bar + fill, ' ', (size_t)(width - fill));
        bar[width] = 0;
        fprintf(stderr, "\rDownloading %s: [%s] %6.1f/%.1f MiB",
                s->opts->label ? s->opts->label : "", bar, got / 1048576.0, total / 1048576.0);
        s->drawn = true;
        if (dlnow >= dltotal) {
                fputc('\n', stderr);
                s->finished = true;
        }
        return 0;
}

static int perform(const char *url, struct sink *s, rk_error *err)
{
        const struct rk_http_opts *o = s->opts;
        char errbuf[CURL_ERROR_SIZE] = "";

        if (strncmp(url, "https://", 8) != 0 && !(o->allow_http && strncmp(url, "http://", 7) == 0))
                return rk_err(err, -EPROTONOSUPPORT,
                              "'%s': only https:// is allowed (plain http needs "
                              "--insecure-options=http)",
                              url);
        pthread_once(&curl_once, curl_init);
        if (api.error[0])
                return rk_err(err, -ENOPKG, "'%s': %s", url, api.error);
        _cleanup_(easy_cleanupp) CURL *c = curl_easy_init();
        if (!c)
                return rk_err(err, -ENOMEM, "'%s': cannot start a transfer", url);
        _cleanup_(slist_free_allp) struct curl_slist *hdrs = NULL;
        char h[600];
        if (o->etag && *o->etag) {
                snprintf(h, sizeof(h), "If-None-Match: %s", o->etag);
                hdrs = curl_slist_append(hdrs, h);
        }
        if (o->auth && *o->auth) {
                /* libcurl keeps a custom Authorization header on its first host since 7.58
                 * (CVE-2018-1000007) and on its first scheme and port since 7.83
                 * (CVE-2022-27776); an older one would send it on across a redirect. */
                if (api.version < 0x075300)
                        return rk_err(err, -EPROTONOSUPPORT,
                                      "'%s': libcurl %u.%u.%u is too old to keep credentials on "
                                      "their host across redirects (7.83 or later needed)",
                                      url, api.version >> 16, (api.version >> 8) & 0xff,
                                      api.version & 0xff);
                if (snprintf(h, sizeof(h), "Authorization: %s", o->auth) >= (int)sizeof(h))
                        return rk_err(err, -EINVAL, "'%s': credentials too long", url);
                hdrs = curl_slist_append(hdrs, h);
        }
        const char *protos = o->allow_http ? "https,http" : "https";
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, protos);
        /* Redirects stay within the same rules: an https URL never lands on http unless the
         * operator allowed http; custom headers (Authorization) are not sent to other hosts
         * (libcurl drops them on a host change unless CURLOPT_UNRESTRICTED_AUTH). */
        curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, protos);
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
        curl_easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, o->insecure_tls ? 0L : 1L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, o->insecure_tls ? 0L : 2L);
        curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, o->connect_timeout ? o->connect_timeout : 30L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, o->stall_timeout ? o->stall_timeout : 60L);
        curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->max);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "rkt/" RKT_VERSION);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, s);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, s);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        if (o->resume_from)
                curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)o->resume_from);
        rk_log_debug("GET %s", url);
        CURLcode cc = curl_easy_perform(c);
        if (s->drawn && !s->finished)
                fputc('\n', stderr); /* an error line must not land on the bar */
        char *eff = NULL;
        if (curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff)
                snprintf(s->res->effective_url, sizeof(s->res->effective_url), "%s", eff);
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        s->res->status = code;
        s->res->bytes = s->written;
        if (s->error == -EFBIG || cc == CURLE_FILESIZE_EXCEEDED)
                return rk_err(err, -EFBIG, "'%s': larger than the limit of %" PRIu64 " bytes", url,
                              s->max);
        if (s->error)
                return rk_err_errno(err, s->error, "'%s': cannot store the download", url);
        if (cc == CURLE_UNSUPPORTED_PROTOCOL)
                return rk_err(err, -EPROTONOSUPPORT,
                              "'%s': redirected to a protocol that is not allowed (%s)", url,
                              errbuf[0] ? errbuf : curl_easy_strerror(cc));
        if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE ||
            cc == CURLE_SSL_CONNECT_ERROR)
                return rk_err(err, -EKEYREJECTED, "'%s': TLS verification failed: %s", url,
                              errbuf[0] ? errbuf : curl_easy_strerror(cc));
        if (cc == CURLE_RANGE_ERROR)
                return rk_err(err, -ERANGE, "'%s': the server does not resume downloads (%s)", url,
                              errbuf[0] ? errbuf : curl_easy_strerror(cc));
        if (cc != CURLE_OK)
                return rk_err(err, cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO, "'%s': %s",
                              url, errbuf[0] ? errbuf : curl_easy_strerror(cc));
        if (code == 304 || code == 202 || code == 200 || code == 206)
                return 0;
        return rk_err(err,
                      code == 404                  ? -ENOENT
                      : code == 401 || code == 403 ? -EACCES
                                                   : -EIO,
                      "'%s': server answered HTTP %ld", url, code);
}

int rk_http_get(const char *url, int out_fd, const struct rk_http_opts *opts,
                struct rk_http_result *ret, rk_error *err)
{
        struct rk_http_result res = {.max_age = -1};
        struct sink s = {.fd = out_fd,
                         .max = opts->max_bytes ? opts->max_bytes : DEFAULT_MAX_BYTES,
                         .offset = opts->resume_from,
                         .res = &res,
                         .opts = opts};
        int r = perform(url, &s, err);
        *ret = res;
        return r;
}

int rk_http_get_mem(const char *url, const struct rk_http_opts *opts, size_t max, char **ret_buf,
                    size_t *ret_len, struct rk_http_result *ret, rk_error *err)
{
        struct rk_http_result res = {.max_age = -1};
        struct rk_http_opts o = *opts;
        o.progress = false;
        struct sink s = {.fd = -1, .max = max, .res = &res, .opts = &o};
        int r = perform(url, &s, err);
        *ret = res;
        if (r < 0) {
                free(s.buf);
                return r;
        }
        if (!s.buf)
                s.buf = calloc(1, 1);
        *ret_buf = s.buf;
        *ret_len = s.len;
        return 0;
}
