/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "audit/audit.h"
#include "base/fileio.h"
#include "base/json.h"
#include "base/log.h"
#include "discovery/discovery.h"
#include "fetch/discover.h"
#include "fetch/fetch.h"
#include "fetch/http.h"
#include "trust/policy.h"

#define RESUME_TRIES   3
#define DEPS_DEPTH_MAX 8

int rk_pull_policy_from_string(const char *s, enum rk_pull_policy *ret)
{
        if (!strcmp(s, "new"))
                *ret = RK_PULL_NEW;
        else if (!strcmp(s, "update"))
                *ret = RK_PULL_UPDATE;
        else if (!strcmp(s, "never"))
                *ret = RK_PULL_NEVER;
        else
                return -EINVAL;
        return 0;
}

void rk_fetch_result_clear(struct rk_fetch_result *r)
{
        rk_image_info_clear(&r->info);
        *r = (struct rk_fetch_result){0};
}

static int64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- audit ---- */

struct fetch {
        struct rk_store *s;
        const struct rk_fetch_opts *o;
        const char *ref;    /* what the user named */
        const char *source; /* "file" or "url" */
        int fd;             /* the staged bytes */
        char *sig;
        size_t sig_len;
        struct rk_verify_result vr;
        bool verified;
        struct rk_policy *policy;
        struct rk_policy_decision decision;
        char *prefix;         /* prefix the signer is trusted for, covering the manifest name */
        const char *sigwhere; /* where the signature was looked for (for the message) */
        char blob[RK_SHA512_HEX_LEN + 1];
        const struct rk_app_string *app; /* a fetch by name: what was asked for */
        char *url;                       /* the endpoint tried (fetch by name) */
        char *page;                      /* the discovery page the endpoints came from */
        bool audited;                    /* the refusal is on the record already */
};

/* Every decision is recorded, refusals included; a refusal recorded without the image ID names
 * the bytes by their SHA-512 instead. */
static void audit_decision(struct fetch *f, const char *decision, const char *id, const char *name,
                           const rk_error *why)
{
        const char *dir = NULL;
        struct rk_audit *a = NULL;
        if (!f->o->trust || !(dir = f->o->trust->data_dir) || rk_audit_open(dir, &a, NULL) < 0)
                return;
        if (!f->blob[0] && f->fd >= 0) {
                rk_sha512 h = {0};
                char buf[65536];
                off_t off = 0;
                ssize_t n;
                if (rk_sha512_init(&h, NULL) == 0) {
                        while ((n = pread(f->fd, buf, sizeof(buf), off)) > 0) {
                                rk_sha512_update(&h, buf, (size_t)n);
                                off += n;
                        }
                        if (rk_sha512_final_hex(&h, f->blob, NULL) < 0)
                                f->blob[0] = 0;
                }
        }
        json_t *o =
            json_pack("{s:s, s:s, s:s}", "source", f->source, "ref", f->ref, "decision", decision);
        if (id)
                json_object_set_new(o, "image", json_string(id));
        if (name)
                json_object_set_new(o, "name", json_string(name));
        if (f->blob[0])
                json_object_set_new(o, "blobSha512", json_string(f->blob));
        if (f->verified) {
                json_object_set_new(o, "signer", json_string(f->vr.signer));
                if (f->prefix)
                        json_object_set_new(o, "prefix", json_string(f->prefix));
        }
        if (f->o->insecure_image)
                json_object_set_new(o, "insecure", json_string("image"));
        /* every insecure option that took effect is on the record (CLI.md) */
        if (strcmp(f->source, "file") != 0 && strcmp(f->source, "store") != 0 &&
            (f->o->insecure_tls || f->o->insecure_http))
                json_object_set_new(o, "insecureTransport",
                                    json_string(f->o->insecure_tls && f->o->insecure_http
                                                    ? "tls,http"
                                                : f->o->insecure_tls ? "tls"
                                                                     : "http"));
        if (f->policy && f->decision.rule)
                json_object_set_new(o, "rule", json_string(f->decision.rule));
        if (f->url)
                json_object_set_new(o, "url", json_string(f->url));
        if (f->page)
                json_object_set_new(o, "discovery", json_string(f->page));
        if (why)
                json_object_set_new(o, "reason", json_string(why->msg));
        (void)rk_audit_append(a, "fetch", o, NULL);
        json_decref(o);
        rk_audit_close(a);
}

/* ---- the admission callback: runs after the archive was checked, before it is stored ---- */

static int no_signature(const struct fetch *f, rk_error *err)
{
        return rk_err(err, -EKEYREJECTED,
                      "%s: no signature found (looked for '%s'); give it with --signature=FILE, "
                      "or fetch it unverified with --insecure-options=image",
                      f->ref, f->sigwhere ? f->sigwhere : "IMAGE.asc");
}

/* An image without a signature goes on to the archive checks only if the user opted in, or
 * the admin's policy has an insecureAcceptAnything rule (which may cover its name: admit()
 * decides once the manifest is known). Otherwise it is refused before its bytes are parsed. */
static bool unsigned_may_pass(const struct fetch *f)
{
        if (f->o->insecure_image)
                return true;
        if (!f->policy)
                return false;
        if (f->policy->def.type == RK_POLICY_INSECURE_ACCEPT_ANYTHING)
                return true;
        for (size_t i = 0; i < f->policy->n_rules; i++)
                if (f->policy->rules[i].type == RK_POLICY_INSECURE_ACCEPT_ANYTHING)
                        return true;
        return false;
}

/* appc discovery.md: the image must be the one asked for. Its name equal, and every requested
 * label present with the same value; os and arch (filled in from the host when not asked for)
 * may be absent from an image that claims no platform. */
static int app_matches(const struct rk_app_string *app, const char *name,
                       const struct rk_labels *labels, rk_error *err)
{
        if (strcmp(name, app->name) != 0)
                return rk_err(err, -EKEYREJECTED,
                              "the image served for '%s' is named %s: refused (a publisher may "
                              "only serve the name that was asked for)",
                              app->name, RK_QUOTE(name));
        for (size_t i = 0; i < app->labels.n; i++) {
                const struct rk_label *l = &app->labels.v[i];
                const char *v = rk_labels_get(labels, l->name);
                if (!v && (!strcmp(l->name, "os") || !strcmp(l->name, "arch")))
                        continue;
                if (!v || strcmp(v, l->value) != 0)
                        return rk_err(err, -EKEYREJECTED,
                                      "the image served for '%s' has %s=%s, not %s=%s as asked: "
                                      "refused",
                                      app->name, l->name, v ? RK_QUOTE(v) : "(none)", l->name,
                                      RK_QUOTE(l->value));
        }
        return 0;
}

static int admit(void *ud, const char *id, const struct rk_image_manifest *m,
                 struct rk_admission *adm, rk_error *err)
{
        struct fetch *f = ud;
        int r;

        if (f->app && (r = app_matches(f->app, m->name, &m->labels, err)) < 0)
                return rk_err_prefix(err, r, "%s", f->ref);

        if (f->verified) {
                /* Bind the signature to the name: the signer must be trusted for a prefix of
                 * the name inside the image, not just for some name (rkt chose the keyring by
                 * that name; a key for example.com/a must not admit an image called
                 * example.com/b). */
                r = rk_trust_signer_prefix(f->o->trust, f->vr.signer, m->name, &f->prefix, err);
                if (r < 0)
                        return rk_err(err, -EKEYREJECTED,
                                      "%s: signed by %s, which is not trusted for '%s'; run "
                                      "'rkt trust --prefix %s' with the publisher's key to trust "
                                      "it",
                                      f->ref, f->vr.signer, m->name, m->name);
                free(f->vr.prefix);
                f->vr.prefix = strdup(f->prefix);
        }
        r = rk_policy_decide(f->policy, m->name, f->verified ? &f->vr : NULL, f->o->insecure_image,
                             &f->decision, err);
        if (r < 0 && !f->verified && !f->o->insecure_image && f->decision.type != RK_POLICY_REJECT)
                return no_signature(f, err);
        if (r < 0)
                return rk_err_prefix(err, r, "%s", f->ref);
        *adm = (struct rk_admission){
            .signer = f->verified ? f->vr.signer : NULL,
            .prefix = f->verified ? f->prefix : NULL,
            .rule = f->decision.rule,
            .insecure = f->verified ? NULL : "image",
        };
        if (f->decision.verdict == RK_POLICY_ACCEPT_ANYTHING && !f->verified)
                adm->insecure = "policy";
        return 0;
}

static int load_policy(struct fetch *f, rk_error *err)
{
        return f->policy ? 0 : rk_policy_load(f->o->trust, &f->policy, err);
}

static int verify_and_import(struct fetch *f, struct rk_fetch_result *ret, rk_error *err)
{
        int r = load_policy(f, err);
        if (r < 0)
                return r;
        if (!f->o->insecure_image && (f->sig || !unsigned_may_pass(f))) {
                if (!f->sig)
                        return no_signature(f, err);
                /* The keyring is every key the operator trusted; which names the signer may
                 * sign is checked against the manifest in admit(), after the archive parser has
                 * seen bytes that are known to come from a trusted key. */
                r = f->app
                        ? rk_trust_verify(f->o->trust, f->app->name, f->fd, f->sig, f->sig_len,
                                          &f->vr, err)
                        : rk_trust_verify_any(f->o->trust, f->fd, f->sig, f->sig_len, &f->vr, err);
                if (r < 0)
                        return rk_err_prefix(err, r, "%s", f->ref);
                f->verified = true;
        }
        struct rk_image_info info = {0};
        r = rk_store_import_admit(f->s, f->fd, f->verified ? f->sig : NULL,
                                  f->verified ? f->sig_len : 0, admit, f, &info, err);
        if (r < 0)
                return r;
        ret->info = info;
        ret->verified = f->verified;
        return 0;
}

/* ---- sources ---- */

static int read_sig_file(const char *path, char **ret, size_t *ret_len, rk_error *err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0;
                return rk_err_errno(err, negative_errno(), "signature '%s'", path);
        }
        int r = rk_read_fd_capped(fd, path, RK_TRUST_SIG_MAX, ret, ret_len, err);
        return r < 0 ? r : 1;
}

static int fetch_file(struct fetch *f, struct rk_fetch_result *ret, rk_error *err)
{
        _cleanup_close_ int src = open(f->ref, O_RDONLY | O_CLOEXEC);
        if (src < 0)
                return rk_err_errno(err, negative_errno(), "%s: cannot open the image", f->ref);
        struct stat st;
        if (fstat(src, &st) < 0 || !S_ISREG(st.st_mode))
                return rk_err(err, -EINVAL, "%s: not a regular file", f->ref);
        char sigpath[PATH_MAX];
        snprintf(sigpath, sizeof(sigpath), "%s.asc", f->ref);
        f->sigwhere = f->o->signature ? f->o->signature : sigpath;
        int r =
            read_sig_file(f->o->signature ? f->o->signature : sigpath, &f->sig, &f->sig_len, err);
        if (r < 0)
                return r;
        if (r == 0 && f->o->signature)
                return rk_err(err, -ENOENT, "signature '%s': no such file", f->o->signature);
        /* Verify and import a private copy: the original can change under us. */
        f->fd = rk_store_tmpfile_copy(f->s, src, f->ref, err);
        if (f->fd < 0)
                return f->fd;
        return verify_and_import(f, ret, err);
}

static struct rk_http_opts http_opts(const struct fetch *f)
{
        return (struct rk_http_opts){
            .allow_http = f->o->insecure_http,
            .insecure_tls = f->o->insecure_tls,
            .progress = f->o->progress,
            .label = f->ref,
        };
}

static struct rk_http_opts http_opts_for(const struct fetch *f, const char *url)
{
        struct rk_http_opts o = http_opts(f);
        /* per host: http.c never sends it on across a redirect to another host */
        o.auth = rk_auth_header(f->o->auth, url);
        return o;
}

int rk_fetch_check_admitted(const struct rk_image_info *i, bool insecure_image, rk_error *err)
{
        if (i->signer && !i->insecure)
                return 0;
        /* rkt forgot how an image got in, so one --insecure-options=image fetch made the
         * image usable forever after (rkt.md 3.5); here the opt-in is needed on every use. */
        if (insecure_image)
                return 0;
        return rk_err(err, -EKEYREJECTED,
                      "image %s (sha512-%.32s) was stored unverified (admitted by %s); use it "
                      "with --insecure-options=image, or fetch it again with its signature",
                      i->name ? i->name : "?", i->id + 7,
                      !i->insecure                     ? "no signature"
                      : !strcmp(i->insecure, "image")  ? "--insecure-options=image"
                      : !strcmp(i->insecure, "policy") ? "an insecureAcceptAnything policy rule"
                                                       : i->insecure);
}

/* A stored image is used only under the rules that admit it today: verified (or the opt-in
 * given again), and the current policy still allowing it (a reject rule, signedBy and
 * allowInsecure apply to images fetched before the policy changed). */
static int check_stored(struct fetch *f, const struct rk_image_info *i, rk_error *err)
{
        int r = load_policy(f, err);
        if (r < 0)
                return r;
        bool verified = i->signer && !i->insecure;
        struct rk_verify_result vr = {0};
        if (verified) {
                snprintf(vr.signer, sizeof(vr.signer), "%s", i->signer);
                vr.prefix = i->prefix ? i->prefix : (char *)"";
        }
        r = rk_policy_decide(f->policy, i->name, verified ? &vr : NULL, f->o->insecure_image,
                             &f->decision, err);
        if (r >= 0)
                return 0;
        if (!verified && !f->o->insecure_image && f->decision.type != RK_POLICY_REJECT)
                return rk_fetch_check_admitted(i, false, err);
        return r;
}

/* The detached signature of a URL image, from su: --signature (a file or a URL) or <url>.asc.
 * A missing <url>.asc leaves f->sig NULL (the caller refuses unless the user opted out); HTTP
 * 202 sets *deferred (rkt's deferral: fetch the image first, then the signature again). */
static int get_sig(struct fetch *f, const char *su, bool *deferred, rk_error *err)
{
        free(f->sig);
        f->sig = NULL;
        f->sig_len = 0;
        if (!rk_http_is_url(su)) {
                int r = read_sig_file(su, &f->sig, &f->sig_len, err);
                if (r == 0)
                        return rk_err(err, -ENOENT, "signature '%s': no such file", su);
                return r < 0 ? r : 0;
        }
        struct rk_http_opts ho = http_opts_for(f, su);
        struct rk_http_result hr;
        int r = rk_http_get_mem(su, &ho, RK_TRUST_SIG_MAX, &f->sig, &f->sig_len, &hr, err);
        if (r == -ENOENT && !f->o->signature)
                return 0;
        if (r < 0)
                return rk_err_prefix(err, r, "signature");
        if (hr.status == 202) {
                free(f->sig);
                f->sig = NULL;
                f->sig_len = 0;
                *deferred = true;
        }
        return 0;
}

static int restart(int fd, const char *url, rk_error *err)
{
        if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)
                return rk_err_errno(err, negative_errno(), "'%s': cannot restart the download",
                                    url);
        return 0;
}

/* Downloads url into f->fd (empty). cond: an ETag for If-None-Match (a 304 is returned as
 * such). A transfer cut in the middle is resumed with a Range request, at most RESUME_TRIES
 * times, when the server takes ranges; if the content changed meanwhile (another ETag) or the
 * server ignores the range, it starts again from byte 0, so the bytes are never a mix of two
 * versions (the signature check would refuse them anyway). */
static int download(struct fetch *f, const char *url, const char *cond, struct rk_http_result *hr,
                    rk_error *err)
{
        struct rk_http_opts ho = http_opts_for(f, url);
        char etag[sizeof(hr->etag)] = "";
        int r = 0;
        ho.etag = cond;
        for (int attempt = 0; attempt <= RESUME_TRIES; attempt++) {
                struct stat st;
                if (fstat(f->fd, &st) < 0)
                        return rk_err_errno(err, negative_errno(), "'%s'", url);
                ho.resume_from = (uint64_t)st.st_size;
                r = rk_http_get(url, f->fd, &ho, hr, err);
                if (r >= 0 && hr->status == 304 && !ho.resume_from)
                        return 0;
                if (r >= 0 && (hr->status == 200 || hr->status == 206)) {
                        bool changed = etag[0] && strcmp(etag, hr->etag) != 0;
                        /* libcurl answers a 200 to a range request whose length equals what we
                         * hold as "already complete", without a body. */
                        bool ignored = ho.resume_from && hr->status == 200 && hr->bytes > 0;
                        if (!ho.resume_from || (!changed && !ignored))
                                return 0;
                        r = restart(f->fd, url, err);
                        if (r < 0)
                                return r;
                        etag[0] = 0;
                        continue;
                }
                if (r >= 0)
                        return rk_err(err, -EIO, "'%s': unexpected HTTP %ld", url, hr->status);
                if (r == -ERANGE) {
                        /* the server does not take ranges after all: from the start */
                        r = restart(f->fd, url, err);
                        if (r < 0)
                                return r;
                        etag[0] = 0;
                        continue;
                }
                if (r != -EIO || !hr->accept_ranges || (etag[0] && strcmp(etag, hr->etag)))
                        return r;
                snprintf(etag, sizeof(etag), "%s", hr->etag);
                ho.etag = NULL;
                rk_log_warning("%s: download interrupted after %" PRIu64 " bytes, resuming", url,
                               (uint64_t)st.st_size + hr->bytes);
        }
        return r;
}

/* The cached download of a URL may be reused only if the stored image may be used as it was
 * admitted (check_stored); otherwise the URL is downloaded and verified again. */
static int cached_image(struct fetch *f, const struct rk_remote *rem, struct rk_image_info *ret,
                        rk_error *err)
{
        struct rk_image_info info = {0};
        int r = rk_store_get(f->s, rem->image_id, &info, err);
        if (r >= 0 && f->app)
                r = app_matches(f->app, info.name, &info.labels, err);
        if (r >= 0)
                r = check_stored(f, &info, err);
        if (r < 0) {
                rk_image_info_clear(&info);
                return r;
        }
        *ret = info;
        return 0;
}

/* url: the image; sigurl: its signature, NULL for <url>.asc (--signature overrides both). */
static int fetch_url(struct fetch *f, const char *url, const char *sigurl_in,
                     struct rk_fetch_result *ret, rk_error *err)
{
        struct rk_remote rem = {0};
        struct rk_image_info cached = {0};
        rk_error cerr = RK_ERROR_INIT;
        bool have = rk_store_remote_get(f->s, url, &rem, NULL) >= 0 &&
                    cached_image(f, &rem, &cached, &cerr) >= 0;
        int r;
        /* By name, "update" always asks the server (a conditional request): the name may
         * point at a new image even while the old download is fresh. */
        if (have && (f->o->pull == RK_PULL_NEW || f->o->pull == RK_PULL_NEVER ||
                     (!f->app && now_ns() < rem.download_time + rem.max_age * 1000000000LL))) {
                ret->info = cached;
                cached = (struct rk_image_info){0};
                ret->cached = true;
                ret->verified = ret->info.signer && !ret->info.insecure;
                r = 0;
                goto out;
        }
        if (f->o->pull == RK_PULL_NEVER) {
                if (rem.url) { /* cached, but not usable without the opt-in or policy */
                        *err = cerr;
                        r = cerr.code;
                } else
                        r = rk_err(err, -ENOENT, "%s: not in the store, and --pull-policy=never",
                                   url);
                goto out;
        }
        char sigurl[4096];
        if ((size_t)snprintf(sigurl, sizeof(sigurl), "%s.asc", url) >= sizeof(sigurl)) {
                r = rk_err(err, -ENAMETOOLONG, "%s: URL too long", url);
                goto out;
        }
        const char *su = f->o->signature ? f->o->signature : sigurl_in ? sigurl_in : sigurl;
        bool deferred = false;
        f->sigwhere = su;
        r = load_policy(f, err);
        if (r < 0)
                goto out;
        if (!f->o->insecure_image) {
                /* Signature first, and its signer checked before the image is downloaded: an
                 * untrusted publisher costs a few bytes, not the whole image. */
                r = get_sig(f, su, &deferred, err);
                if (r < 0) {
                        rk_err_prefix(err, r, "%s", url);
                        goto out;
                }
                if (!f->sig && !deferred && !unsigned_may_pass(f)) {
                        /* by name, a missing signature is a broken endpoint: try the next */
                        r = f->app ? rk_err(err, -ENOENT,
                                            "no signature at '%s' (HTTP 404); an unsigned image "
                                            "needs --insecure-options=image",
                                            su)
                                   : no_signature(f, err);
                        goto out;
                }
                /* By name, the signer must be trusted for the requested name (rkt's identity
                 * pre-check), not merely for some name. */
                if (f->sig && (r = f->app ? rk_trust_signer_known_for(f->o->trust, f->app->name,
                                                                      f->sig, f->sig_len, err)
                                          : rk_trust_signer_known(f->o->trust, f->sig, f->sig_len,
                                                                  err)) < 0) {
                        if (!f->app)
                                rk_err_prefix(err, r, "%s", url);
                        goto out;
                }
        }
        f->fd = rk_store_tmpfile(f->s, err);
        if (f->fd < 0) {
                r = f->fd;
                goto out;
        }
        /* Conditional request: an unchanged image is not downloaded again. */
        struct rk_http_result hr = {0};
        r = download(f, url, have ? rem.etag : NULL, &hr, err);
        if (r < 0)
                goto out;
        if (hr.status == 304) {
                if (!have) {
                        r = rk_err(err, -EIO, "'%s': unexpected HTTP 304", url);
                        goto out;
                }
                rem.download_time = now_ns();
                if (hr.max_age >= 0)
                        rem.max_age = hr.max_age;
                (void)rk_store_remote_put(f->s, &rem, NULL);
                ret->info = cached;
                cached = (struct rk_image_info){0};
                ret->cached = true;
                ret->verified = ret->info.signer && !ret->info.insecure;
                goto out;
        }
        if (deferred) {
                bool again = false;
                r = get_sig(f, su, &again, err);
                if (r >= 0 && again)
                        r = rk_err(err, -EKEYREJECTED,
                                   "the server deferred the signature '%s' twice (HTTP 202)", su);
                else if (r >= 0 && !f->sig)
                        r = rk_err(err, -EKEYREJECTED,
                                   "no signature found at '%s' after the deferral (HTTP 202)", su);
                if (r < 0) {
                        rk_err_prefix(err, r, "%s", url);
                        goto out;
                }
        }
        r = verify_and_import(f, ret, err);
        if (r >= 0) {
                struct rk_remote nr = {
                    .url = (char *)url,
                    .etag = hr.etag[0] ? hr.etag : NULL,
                    .max_age = hr.max_age > 0 ? hr.max_age : 0,
                    .download_time = now_ns(),
                };
                snprintf(nr.image_id, sizeof(nr.image_id), "%s", ret->info.id);
                (void)rk_store_remote_put(f->s, &nr, NULL);
        }
out:
        rk_image_info_clear(&cached);
        rk_remote_clear(&rem);
        return r;
}

static int fetch_store(struct fetch *f, struct rk_fetch_result *ret, rk_error *err)
{
        int r = rk_store_resolve(f->s, f->ref, &ret->info, err);
        if (r < 0)
                return r;
        r = check_stored(f, &ret->info, err);
        if (r < 0)
                return r;
        ret->cached = true;
        ret->verified = ret->info.signer && !ret->info.insecure;
        return 0;
}

/* ---- fetch by name ---- */

static void attempt_reset(struct fetch *f)
{
        f->fd = safe_close(f->fd);
        free(f->sig);
        f->sig = NULL;
        f->sig_len = 0;
        free(f->prefix);
        f->prefix = NULL;
        rk_verify_result_clear(&f->vr);
        f->vr = (struct rk_verify_result){0};
        f->verified = false;
        f->blob[0] = 0;
        f->decision = (struct rk_policy_decision){0};
}

/* The best stored match for an app string: all its labels (os and arch included), else the
 * newest image of that name and the given labels whose os and arch do not contradict. */
static int store_best(struct fetch *f, struct rk_image_info *ret)
{
        rk_error e = RK_ERROR_INIT;
        struct rk_image_info i = {0};
        if (rk_store_find(f->s, f->app->name, &f->app->labels, &i, &e) >= 0) {
                *ret = i;
                return 0;
        }
        if (rk_store_resolve(f->s, f->ref, &i, &e) < 0)
                return -ENOENT;
        if (app_matches(f->app, i.name, &i.labels, &e) < 0) {
                rk_image_info_clear(&i);
                return -ENOENT;
        }
        *ret = i;
        return 0;
}

static int audit_tofu(const struct fetch *f, const char *url, const struct rk_key_info *k,
                      const char *how, const struct rk_trust_snapshot *snap, rk_error *err)
{
        struct rk_audit *a = NULL;
        int r = rk_audit_open(f->o->trust->data_dir, &a, err);
        if (r >= 0) {
                json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "prefix", f->app->name,
                                      "fingerprint", k->fpr, "source", url, "path",
                                      k->path ? k->path : "", "review", how, "tofu", 1);
                r = o ? rk_audit_append(a, "trust-add", o, err) : -ENOMEM;
                json_decref(o);
                rk_audit_close(a);
        }
        if (r < 0) {
                rk_error e2 = RK_ERROR_INIT;
                (void)rk_trust_snapshot_restore(f->o->trust, snap, &e2);
                return rk_err_prefix(err, r, "key %s not trusted: the audit log", k->fpr);
        }
        return 0;
}

/* Trust on first use (rkt.md 3.4, as rkt 1.x did after PR #2033): only when nothing in either
 * store covers the name, only for keys discovered for it, only with the review prompt answered
 * on a terminal or --trust-keys-from-https for an https key, and for the requested name as
 * prefix (never wider). Failures are warnings: the fetch then fails on the missing key, with the
 * command to run. */
static void maybe_tofu(struct fetch *f)
{
        const struct rk_fetch_opts *o = f->o;
        const char *name = f->app->name;
        rk_error e = RK_ERROR_INIT;
        if (!o->review && !o->trust_keys_from_https)
                return;
        int r = rk_trust_covered(o->trust, name, &e);
        if (r != 0) {
                if (r > 0)
                        rk_log_debug("%s: keys already exist for it or a prefix; not fetching "
                                     "keys (a change needs 'rkt trust --prefix')",
                                     name);
                return;
        }
        if ((o->insecure_tls || o->insecure_http) && !o->insecure_pubkey) {
                rk_log_warning("%s: not discovering keys over an insecure transport (needs "
                               "--insecure-options=pubkey too)",
                               name);
                return;
        }
        struct rk_discover_opts dop = {
            .allow_http = o->insecure_http, .insecure_tls = o->insecure_tls, .auth = o->auth};
        struct rk_discovered_key *keys = NULL;
        size_t n = 0;
        if (rk_discover_keys(name, &dop, &keys, &n, NULL, &e) < 0) {
                rk_log_warning("%s: %s", name, e.msg);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                struct rk_discovered_key *k = &keys[i];
                bool https = !strncmp(k->url, "https://", 8) && !o->insecure_tls;
                const char *how = NULL;
                if (o->trust_keys_from_https && https)
                        how = "trust-keys-from-https";
                else if (o->review && o->review(o->review_userdata, name, k->url, &k->info) > 0)
                        how = "prompt";
                if (!how) {
                        rk_log_debug("%s: key %s from %s not trusted", name, k->info.fpr, k->url);
                        continue;
                }
                struct rk_trust_snapshot snap = {0};
                struct rk_key_info stored = {0};
                r = rk_trust_snapshot_take(o->trust, k->info.fpr, name, &snap, &e);
                if (r >= 0)
                        r = rk_trust_add(o->trust, name, k->data, k->len, &stored, &e);
                if (r >= 0)
                        r = audit_tofu(f, k->url, &stored, how, &snap, &e);
                if (r >= 0 && !strcmp(how, "trust-keys-from-https"))
                        rk_log_warning("%s: trusting key %s from %s without review "
                                       "(--trust-keys-from-https)",
                                       name, stored.fpr, k->url);
                if (r >= 0)
                        rk_log_info("Added key %s for prefix \"%s\" at \"%s\"", stored.fpr, name,
                                    stored.path);
                else
                        rk_log_warning("%s: %s", name, e.msg);
                rk_trust_snapshot_clear(&snap);
                rk_key_info_clear(&stored);
        }
        rk_discovered_keys_free(keys, n);
}

/* Transport failures move on to the next endpoint; a trust or policy refusal is final. */
static bool try_next(int r)
{
        return r == -ENOENT || r == -EIO || r == -EACCES || r == -ETIMEDOUT ||
               r == -EPROTONOSUPPORT || r == -ECONNREFUSED || r == -ERANGE;
}

static int fetch_endpoints(struct fetch *f, const struct rk_endpoints *eps,
                           struct rk_fetch_result *ret, rk_error *err)
{
        char trail[300] = "";
        size_t tn = 0;
        rk_error e = RK_ERROR_INIT;
        int r = -ENOENT;
        for (size_t i = 0; i < eps->n; i++) {
                attempt_reset(f);
                free(f->url);
                if (!(f->url = strdup(eps->v[i].aci)))
                        return rk_err(err, -ENOMEM, "out of memory");
                rk_err_clear(&e);
                rk_log_debug("%s: trying endpoint %s", f->ref, f->url);
                r = fetch_url(f, eps->v[i].aci, eps->v[i].asc, ret, &e);
                if (r >= 0)
                        return 0;
                audit_decision(f, "refused", NULL, NULL, &e);
                f->audited = true;
                if (!try_next(r) || eps->n == 1) {
                        *err = e;
                        return r;
                }
                rk_log_debug("%s: endpoint %s failed: %s", f->ref, f->url, e.msg);
                if (tn < sizeof(trail) - 1) {
                        int w =
                            snprintf(trail + tn, sizeof(trail) - tn, "%s%s", tn ? "; " : "", e.msg);
                        tn = w > 0 ? tn + (size_t)w : tn;
                }
        }
        return rk_err(err, r, "every endpoint failed (%zu): %s", eps->n, trail);
}

static int fetch_name(struct fetch *f, struct rk_fetch_result *ret, rk_error *err)
{
        struct rk_app_string app = {0};
        struct rk_endpoints eps = {0};
        int r = rk_app_string_parse(f->ref, &app, err);
        if (r < 0)
                return r;
        f->app = &app;
        if (f->o->pull != RK_PULL_UPDATE) {
                struct rk_image_info i = {0};
                if (store_best(f, &i) >= 0) {
                        /* a stored match that may not be used is refused, not replaced behind
                         * the user's back */
                        r = check_stored(f, &i, err);
                        if (r >= 0) {
                                ret->info = i;
                                ret->cached = true;
                                ret->verified = i.signer && !i.insecure;
                                goto out;
                        }
                        rk_image_info_clear(&i);
                        goto out;
                }
                if (f->o->pull == RK_PULL_NEVER) {
                        r = rk_err(err, -ENOENT, "%s: not in the store, and --pull-policy=never",
                                   f->ref);
                        goto out;
                }
        }
        r = load_policy(f, err);
        if (r < 0)
                goto out;
        if (!f->o->insecure_image && !f->o->signature)
                maybe_tofu(f);
        struct rk_discover_opts dop = {.allow_http = f->o->insecure_http,
                                       .insecure_tls = f->o->insecure_tls,
                                       .auth = f->o->auth};
        rk_log_debug("%s: searching for the image by appc discovery", f->ref);
        r = rk_discover_endpoints(&app, &dop, &eps, &f->page, err);
        if (r < 0)
                goto out;
        r = fetch_endpoints(f, &eps, ret, err);
out:
        rk_endpoints_clear(&eps);
        rk_app_string_clear(&app);
        f->app = NULL;
        return r;
}

/* ---- dependencies ---- */

static int fetch_depth(struct rk_store *s, const char *ref, const struct rk_fetch_opts *o,
                       unsigned depth, struct rk_fetch_result *ret, rk_error *err);

/* "name,label=value,..." for a dependency; -EINVAL for a value that cannot be written so. */
static int dep_app_string(const struct rk_dependency *d, char *buf, size_t size, rk_error *err)
{
        size_t n = (size_t)snprintf(buf, size, "%s", d->image_name);
        for (size_t i = 0; i < d->labels.n && n < size; i++) {
                const struct rk_label *l = &d->labels.v[i];
                if (strpbrk(l->value, ",=:") || !*l->value)
                        return rk_err(err, -EINVAL,
                                      "dependency '%s': label %s=%s cannot be "
                                      "discovered",
                                      d->image_name, l->name, RK_QUOTE(l->value));
                n += (size_t)snprintf(buf + n, size - n, ",%s=%s", l->name, l->value);
        }
        if (n >= size)
                return rk_err(err, -ENAMETOOLONG, "dependency '%s': too long", d->image_name);
        return 0;
}

/* Dependencies are fetched by name and verified like the image itself (rkt.md 3.5): a stored
 * one is used (under today's rules), a missing one is discovered; an imageID in the manifest
 * must be what arrives. */
static int fetch_deps(struct rk_store *s, const struct rk_image_info *img,
                      const struct rk_fetch_opts *o, unsigned depth, rk_error *err)
{
        struct rk_image_manifest *m = NULL;
        int r = rk_store_manifest(s, img->id, NULL, NULL, &m, err);
        if (r < 0)
                return r;
        struct rk_fetch_opts dopt = *o;
        dopt.signature = NULL;
        dopt.pull = o->pull == RK_PULL_NEVER ? RK_PULL_NEVER : RK_PULL_NEW;
        for (size_t i = 0; r >= 0 && i < m->n_dependencies; i++) {
                const struct rk_dependency *d = &m->dependencies[i];
                struct rk_image_info have = {0};
                rk_error e = RK_ERROR_INIT;
                if (d->image_id ? rk_store_get(s, d->image_id, &have, &e) >= 0
                                : rk_store_find(s, d->image_name, &d->labels, &have, &e) >= 0) {
                        r = rk_fetch_check_admitted(&have, o->insecure_image, err);
                        rk_image_info_clear(&have);
                        continue;
                }
                char ref[RK_APP_STRING_MAX + 1];
                r = dep_app_string(d, ref, sizeof(ref), err);
                if (r < 0)
                        break;
                if (depth + 1 > DEPS_DEPTH_MAX) {
                        r = rk_err(err, -ELOOP, "dependencies nested deeper than %d",
                                   DEPS_DEPTH_MAX);
                        break;
                }
                rk_log_info("%s: fetching its dependency %s", img->name, ref);
                struct rk_fetch_result dr = {0};
                r = fetch_depth(s, ref, &dopt, depth + 1, &dr, err);
                if (r >= 0 && d->image_id && strcmp(dr.info.id, d->image_id) != 0)
                        r = rk_err(err, -EKEYREJECTED,
                                   "got %.39s, but the manifest of %s requires %.39s", dr.info.id,
                                   img->name, d->image_id);
                if (r < 0)
                        rk_err_prefix(err, r, "dependency %s of %s", ref, img->name);
                rk_fetch_result_clear(&dr);
        }
        rk_image_manifest_free(m);
        return r;
}

/* CLI.md: a path is "./x.aci", "/abs/x.aci" (a file even if missing, so the error says so) or
 * any existing file named like one; anything else is an ID or a name. */
static bool looks_like_file(const char *ref)
{
        struct stat st;
        size_t n = strlen(ref);
        if (ref[0] == '/' || !strncmp(ref, "./", 2) || !strncmp(ref, "../", 3))
                return true;
        if (!strncmp(ref, "sha512-", 7) || access(ref, F_OK) != 0)
                return false;
        return strchr(ref, '/') || (n > 4 && !strcmp(ref + n - 4, ".aci")) ||
               (stat(ref, &st) == 0 && S_ISREG(st.st_mode));
}

static int fetch_depth(struct rk_store *s, const char *ref, const struct rk_fetch_opts *o,
                       unsigned depth, struct rk_fetch_result *ret, rk_error *err)
{
        struct fetch f = {.s = s, .o = o, .ref = ref, .fd = -EBADF};
        struct rk_fetch_result res = {0};
        int r;
        if (rk_http_is_url(ref)) {
                f.source = "url";
                r = fetch_url(&f, ref, NULL, &res, err);
        } else if (looks_like_file(ref)) {
                f.source = "file";
                r = fetch_file(&f, &res, err);
        } else if (!strncmp(ref, "sha512-", 7)) {
                f.source = "store";
                r = fetch_store(&f, &res, err);
        } else {
                f.source = "name";
                r = fetch_name(&f, &res, err);
        }
        if (r < 0 && !f.audited)
                audit_decision(&f, "refused", NULL, NULL, err);
        else if (r >= 0 && !res.cached)
                audit_decision(&f, "accepted", res.info.id, res.info.name, NULL);
        safe_close(f.fd);
        free(f.sig);
        free(f.prefix);
        free(f.page);
        free(f.url);
        rk_verify_result_clear(&f.vr);
        rk_policy_free(f.policy);
        if (r >= 0 && !o->no_deps)
                r = fetch_deps(s, &res.info, o, depth, err);
        if (r < 0) {
                rk_fetch_result_clear(&res);
                return r;
        }
        *ret = res;
        return 0;
}

int rk_fetch(struct rk_store *s, const char *ref, const struct rk_fetch_opts *o,
             struct rk_fetch_result *ret, rk_error *err)
{
        return fetch_depth(s, ref, o, 0, ret, err);
}

int rk_fetch_sig_hook(void *userdata, const struct rk_image_info *img, int blob_fd, const void *sig,
                      size_t sig_len, rk_error *err)
{
        const struct rk_trust_config *c = userdata;
        struct rk_verify_result vr = {0};
        /* The same check as at admission: the keys trusted for the image's name today. */
        int r = rk_trust_verify(c, img->name, blob_fd, sig, sig_len, &vr, err);
        if (r >= 0 && img->signer && strcmp(vr.signer, img->signer) != 0)
                r = rk_err(err, -EKEYREJECTED, "%s: now verifies with %s, but was admitted on %s",
                           img->id, vr.signer, img->signer);
        rk_verify_result_clear(&vr);
        return r;
}
