/* SPDX-License-Identifier: Apache-2.0 */
/* Detached-signature verification: GnuPG says what the signature is, rk_trust_judge() decides
 * whether that is good enough (security.md 6.4, every refusal with its own fixture). */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "aci/types.h"
#include "trust/trust-internal.h"

void rk_verify_result_clear(struct rk_verify_result *r)
{
        if (!r)
                return;
        free(r->prefix);
        free(r->signer_uid);
        memset(r, 0, sizeof(*r));
}

static const char *hash_name(int algo)
{
        const char *n = gpgme_hash_algo_name((gpgme_hash_algo_t)algo);
        return n ? n : "unknown";
}

static const char *date_of(int64_t t, char buf[40])
{
        struct timespec ts = {.tv_sec = (time_t)t};
        rk_timestamp_format(&ts, buf);
        return buf;
}

/* name NULL: the name is not known yet (rk_trust_verify_any). */
static int untrusted(const char *who, const char *name, rk_error *err)
{
        if (!name)
                return rk_err(err, -EKEYREJECTED,
                              "signature by %s: that key is not trusted for any image name; if "
                              "you trust it, see 'rkt trust --prefix NAME'",
                              who);
        return rk_err(err, -EKEYREJECTED,
                      "signature by %s is not trusted for '%s' or any prefix of it; if you trust "
                      "that key, see 'rkt trust --prefix %s'",
                      who, name, name);
}

static int judge_status(const struct rk_sig_facts *f, const char *image_name, rk_error *err)
{
        char quoted[RK_ACI_NAME_MAX + 16];
        snprintf(quoted, sizeof(quoted), image_name ? "'%s'" : "%s",
                 image_name ? image_name : "the image");
        const char *name = quoted;
        const char *who = f->raw_fpr[0] ? f->raw_fpr : "an unknown key";
        switch (f->status) {
        case GPG_ERR_NO_ERROR:
                return 0;
        case GPG_ERR_NO_PUBKEY:
                return untrusted(who, image_name, err);
        case GPG_ERR_BAD_SIGNATURE:
                return rk_err(err, -EKEYREJECTED,
                              "signature by %s does not match %s (the image or the "
                              "signature was altered, or the signature is for another image)",
                              who, name);
        case GPG_ERR_KEY_EXPIRED:
                return rk_err(err, -EKEYEXPIRED, "%s is signed by key %s, which has expired", name,
                              who);
        case GPG_ERR_SIG_EXPIRED:
                return rk_err(err, -EKEYEXPIRED, "the signature over %s by %s has expired", name,
                              who);
        case GPG_ERR_CERT_REVOKED:
                return rk_err(err, -EKEYREVOKED, "%s is signed by key %s, which is revoked", name,
                              who);
        case GPG_ERR_DIGEST_ALGO:
                return rk_err(err, -EKEYREJECTED,
                              "signature over %s uses a weak or unsupported hash algorithm "
                              "(%s); SHA-256, SHA-384 or SHA-512 is required",
                              name, hash_name(f->hash_algo));
        case GPG_ERR_WRONG_KEY_USAGE:
                return rk_err(err, -EKEYREJECTED,
                              "signature over %s was made by key %s, which is not allowed to "
                              "sign",
                              name, who);
        default:
                return rk_err(err, -EKEYREJECTED, "signature by %s over %s is not valid: %s", who,
                              name, gpgme_strerror(gpg_error((gpg_err_code_t)f->status)));
        }
}

/* After a good status: the checks GnuPG does not do, or that we do not leave to it alone. */
static int judge_details(const struct rk_sig_facts *f, const char *name, int64_t now, rk_error *err)
{
        const char *who = f->raw_fpr;
        char d[40];
        if (f->wrong_key_usage || !f->subkey_can_sign)
                return rk_err(err, -EKEYREJECTED,
                              "signature over %s was made by key %s, which is not allowed to "
                              "sign",
                              name, who);
        if (f->validity == GPGME_VALIDITY_NEVER || f->validity_reason)
                return rk_err(err, -EKEYREJECTED, "key %s that signed '%s' is not valid", who,
                              name);
        if (f->key_revoked || f->subkey_revoked || (f->summary & GPGME_SIGSUM_KEY_REVOKED))
                return rk_err(err, -EKEYREVOKED, "%s is signed by key %s, which is revoked", name,
                              who);
        if (f->key_expired || f->subkey_expired || (f->summary & GPGME_SIGSUM_KEY_EXPIRED))
                return rk_err(err, -EKEYEXPIRED, "%s is signed by key %s, which has expired", name,
                              who);
        if ((f->summary & GPGME_SIGSUM_SIG_EXPIRED) ||
            (f->exp_timestamp && f->exp_timestamp <= now))
                return rk_err(err, -EKEYEXPIRED, "the signature over %s by %s has expired", name,
                              who);
        if (f->key_invalid || f->subkey_invalid || f->key_disabled ||
            (f->summary & (GPGME_SIGSUM_RED | GPGME_SIGSUM_KEY_MISSING | GPGME_SIGSUM_BAD_POLICY |
                           GPGME_SIGSUM_SYS_ERROR)))
                return rk_err(err, -EKEYREJECTED, "key %s that signed '%s' is not valid", who,
                              name);
        /* SHA-1 and RIPEMD-160 are collision-prone and MD5 is broken; GnuPG 2.2 accepts SHA-1
         * signatures unless told otherwise. */
        if (f->hash_algo != GPGME_MD_SHA256 && f->hash_algo != GPGME_MD_SHA384 &&
            f->hash_algo != GPGME_MD_SHA512)
                return rk_err(err, -EKEYREJECTED,
                              "signature over '%s' uses the hash algorithm %s; SHA-256, SHA-384 "
                              "or SHA-512 is required",
                              name, hash_name(f->hash_algo));
        /* RFC 4880 5.2.3.16: a critical notation we do not understand invalidates the
         * signature. We understand none. */
        if (f->critical_notation)
                return rk_err(err, -EKEYREJECTED,
                              "signature over '%s' carries a critical notation this runtime does "
                              "not understand",
                              name);
        if (f->timestamp <= 0)
                return rk_err(err, -EKEYREJECTED, "signature over '%s' has no creation time", name);
        /* GnuPG 2.2 accepts a signature dated in the future; that is a clock problem or a
         * signature prepared to outlive a key's revocation. */
        if (f->timestamp > now + RK_SIG_CLOCK_SKEW)
                return rk_err(err, -EKEYREJECTED,
                              "signature over '%s' is dated in the future (%s); check the clocks "
                              "of this host and of the signer",
                              name, date_of(f->timestamp, d));
        return 0;
}

int rk_trust_judge(const struct rk_sig_facts *f, const char *image_name, const char *const *allowed,
                   size_t n_allowed, int64_t now, size_t *ret_idx, rk_error *err)
{
        const char *shown = image_name ? image_name : "the image";
        if (f->n_sigs == 0)
                return rk_err(err, -EBADMSG, "the signature for '%s' holds no OpenPGP signature",
                              shown);
        /* Exactly one: with several, "good if any is good" and "good if all are" are both
         * rules an attacker can aim at (containers/image requires one per file too). */
        if (f->n_sigs > 1)
                return rk_err(err, -EKEYREJECTED,
                              "the signature file for '%s' holds %u signatures; exactly one is "
                              "accepted",
                              shown, f->n_sigs);
        /* The status decides first and alone may reject. Never accept on GREEN/VALID or on the
         * absence of RED: a revoked key's signature is not RED. */
        int r = judge_status(f, image_name, err);
        if (r < 0)
                return r;
        r = judge_details(f, shown, now, err);
        if (r < 0)
                return r;
        if (!f->primary_fpr[0])
                return rk_err(err, -EKEYREJECTED,
                              "the key %s that signed '%s' is not among the trusted keys",
                              f->raw_fpr, shown);
        /* The full primary fingerprint, never a key ID (spoofable) and never the subkey's. */
        for (size_t i = 0; i < n_allowed; i++)
                if (strcmp(allowed[i], f->primary_fpr) == 0) {
                        *ret_idx = i;
                        return 0;
                }
        return untrusted(f->primary_fpr, image_name, err);
}

/* ---- gpgme plumbing ---- */

struct fd_source {
        int fd;
        off_t off;
};

/* The image is read with pread from its fd: the bytes verified are the bytes the caller hashes
 * and stores, with no reopen by path in between. */
static ssize_t fd_read(void *h, void *buf, size_t size)
{
        struct fd_source *s = h;
        for (;;) {
                ssize_t n = pread(s->fd, buf, size, s->off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n > 0)
                        s->off += n;
                return n;
        }
}

static off_t fd_seek(void *h, off_t off, int whence)
{
        struct fd_source *s = h;
        struct stat st;
        off_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? s->off : -1;
        if (whence == SEEK_END) {
                if (fstat(s->fd, &st) < 0)
                        return -1;
                base = st.st_size;
        }
        if (base < 0 || base + off < 0) {
                errno = EINVAL;
                return -1;
        }
        s->off = base + off;
        return s->off;
}

static void copy_key_facts(gpgme_key_t key, struct rk_sig_facts *f, char **ret_uid)
{
        gpgme_subkey_t signer = NULL;
        for (gpgme_subkey_t s = key->subkeys; s; s = s->next) {
                char c[RK_FPR_LEN + 1];
                if (s->fpr && rk_fpr_canon(s->fpr, c) && strcmp(c, f->sig_fpr) == 0)
                        signer = s;
        }
        /* gpgme_get_key() matched the signer; make sure it is exactly this key's (sub)key. */
        if (!signer || !key->subkeys->fpr || !rk_fpr_canon(key->subkeys->fpr, f->primary_fpr)) {
                f->primary_fpr[0] = 0;
                return;
        }
        f->key_revoked = key->revoked || key->subkeys->revoked;
        f->key_expired = key->expired || key->subkeys->expired;
        f->key_invalid = key->invalid || key->subkeys->invalid;
        f->key_disabled = key->disabled;
        f->subkey_revoked = signer->revoked;
        f->subkey_expired = signer->expired;
        f->subkey_invalid = signer->invalid;
        f->subkey_can_sign = signer->can_sign;
        for (gpgme_user_id_t u = key->uids; u && !*ret_uid; u = u->next)
                if (!u->revoked && !u->invalid && u->uid)
                        *ret_uid = rk_escape_untrusted(u->uid, 256);
}

static void gather(gpgme_ctx_t ctx, gpgme_verify_result_t res, struct rk_sig_facts *f,
                   char **ret_uid)
{
        memset(f, 0, sizeof(*f));
        for (gpgme_signature_t s = res ? res->signatures : NULL; s; s = s->next)
                f->n_sigs++;
        if (f->n_sigs != 1)
                return;
        gpgme_signature_t s = res->signatures;
        f->status = gpgme_err_code(s->status);
        f->summary = s->summary;
        f->validity = s->validity;
        f->validity_reason = gpgme_err_code(s->validity_reason);
        f->wrong_key_usage = s->wrong_key_usage;
        f->hash_algo = s->hash_algo;
        f->timestamp = s->timestamp;
        f->exp_timestamp = s->exp_timestamp;
        for (gpgme_sig_notation_t n = s->notations; n; n = n->next)
                if (n->flags & GPGME_SIG_NOTATION_CRITICAL)
                        f->critical_notation = true;
        snprintf(f->raw_fpr, sizeof(f->raw_fpr), "%.40s", s->fpr ? s->fpr : "");
        for (char *p = f->raw_fpr; *p; p++)
                if (*p >= 'A' && *p <= 'F')
                        *p = (char)(*p - 'A' + 'a');
        if (!s->fpr || !rk_fpr_canon(s->fpr, f->sig_fpr)) {
                f->sig_fpr[0] = 0;
                return;
        }
        _cleanup_(gpgme_key_unrefp) gpgme_key_t key = NULL;
        if (gpgme_get_key(ctx, s->fpr, &key, 0) == 0 && key && key->subkeys)
                copy_key_facts(key, f, ret_uid);
}

/* image_fd < 0: verify against empty data (the pre-check, which expects a bad signature). */
static int run_verify(struct rk_gpg_home *h, const char *name, int image_fd, const void *sig,
                      size_t sig_len, struct rk_sig_facts *f, char **ret_uid, rk_error *err)
{
        _cleanup_(gpgme_data_releasep) gpgme_data_t sigd = NULL, imgd = NULL;
        struct fd_source src = {.fd = image_fd, .off = 0};
        struct gpgme_data_cbs cbs = {.read = fd_read, .seek = fd_seek};
        gpgme_error_t e = gpgme_data_new_from_mem(&sigd, sig, sig_len, 0);
        if (!e)
                e = image_fd >= 0 ? gpgme_data_new_from_cbs(&imgd, &cbs, &src)
                                  : gpgme_data_new_from_mem(&imgd, "", 0, 0);
        if (e)
                return rk_err(err, -ENOMEM, "%s: %s", name, gpgme_strerror(e));
        e = gpgme_op_verify(h->ctx, sigd, imgd, NULL);
        if (e && (gpgme_err_code(e) & GPG_ERR_SYSTEM_ERROR))
                return rk_err(err, -EIO, "verifying '%s': %s", name, gpgme_strerror(e));
        if (e)
                return rk_err(err, -EBADMSG,
                              "the signature for '%s' is not an OpenPGP signature (%s)", name,
                              gpgme_strerror(e));
        gather(h->ctx, gpgme_op_verify_result(h->ctx), f, ret_uid);
        return 0;
}

/* Imports every chain key into the private home, each checked against its file name. */
static int import_chain(struct rk_gpg_home *h, const struct rk_chain *ch, rk_error *err)
{
        for (size_t i = 0; i < ch->n; i++) {
                char fpr[RK_FPR_LEN + 1];
                const struct rk_chain_key *k = &ch->v[i];
                int r = rk_gpg_import_key(h, k->path, k->data, k->len, fpr, err);
                if (r < 0)
                        return r;
                /* rkt's check, kept: a file named for one key must not carry another. */
                if (strcmp(fpr, k->fpr) != 0)
                        return rk_err(err, -EBADMSG,
                                      "'%s' holds key %s, not the key its name says; fix or "
                                      "remove the file",
                                      k->path, fpr);
        }
        return 0;
}

static int fill_result(const struct rk_chain *ch, const char *signer, bool bind, int hash_algo,
                       int64_t sig_time, char **uid, struct rk_verify_result *ret, rk_error *err)
{
        const char *best = NULL;
        for (size_t i = 0; i < ch->n; i++)
                if (strcmp(ch->v[i].fpr, signer) == 0 &&
                    (!best || strlen(ch->v[i].prefix) > strlen(best)))
                        best = ch->v[i].prefix;
        struct rk_verify_result v = {0};
        memcpy(v.signer, signer, sizeof(v.signer));
        if (bind && !(v.prefix = strdup(best ? best : "")))
                return rk_err(err, -ENOMEM, "out of memory");
        v.hash_algo = hash_algo;
        v.sig_time = sig_time;
        v.signer_uid = TAKE_PTR(*uid);
        *ret = v;
        return 0;
}

static int no_key(const char *name, rk_error *err)
{
        if (!name)
                return rk_err(err, -ENOKEY,
                              "no key is trusted for any image name; to trust the signer's key "
                              "run 'rkt trust --prefix NAME KEYFILE' (after checking its "
                              "fingerprint)");
        return rk_err(err, -ENOKEY,
                      "no key is trusted for '%s' or any prefix of it; to trust the publisher's "
                      "key run 'rkt trust --prefix %s' (key discovery) or 'rkt trust --prefix %s "
                      "KEYFILE' (after checking its fingerprint)",
                      name, name, name);
}

static int check_input(const char *name, int image_fd, const void *sig, size_t sig_len,
                       rk_error *err)
{
        const char *shown = name ? name : "the image";
        if (name) {
                int r = rk_ac_identifier_validate(name, "image name", err);
                if (r < 0)
                        return r;
        }
        if (!sig || sig_len == 0)
                return rk_err(err, -EBADMSG, "the signature for '%s' is empty", shown);
        if (sig_len > RK_TRUST_SIG_MAX)
                return rk_err(err, -EFBIG, "the signature for '%s' is %zu bytes, limit %d", shown,
                              sig_len, RK_TRUST_SIG_MAX);
        if (image_fd < 0)
                return rk_err(err, -EBADF, "verifying '%s': no image", shown);
        return 0;
}

static int collect(const struct rk_trust_config *c, const char *name, struct rk_chain *ch,
                   rk_error *err)
{
        int r = name ? rk_trust_chain_collect(c, name, ch, err)
                     : rk_trust_chain_collect_all(c, ch, err);
        if (r >= 0 && ch->n == 0)
                r = no_key(name, err);
        return r;
}

/* name NULL: against every trusted key (rk_trust_verify_any). image_fd < 0: the pre-check. */
static int verify_common(const struct rk_trust_config *c, const char *name, int image_fd,
                         const void *sig, size_t sig_len, struct rk_sig_facts *f,
                         struct rk_chain *ch, char **uid, rk_error *err)
{
        struct rk_gpg_home h;
        int r = collect(c, name, ch, err);
        if (r >= 0)
                r = rk_gpg_home_open(c->data_dir, &h, err);
        if (r < 0)
                return r;
        r = import_chain(&h, ch, err);
        if (r >= 0)
                r = run_verify(&h, name ? name : "the image", image_fd, sig, sig_len, f, uid, err);
        rk_gpg_home_close(&h);
        return r;
}

static int verify_and_judge(const struct rk_trust_config *c, const char *name, int image_fd,
                            const void *sig, size_t sig_len, struct rk_verify_result *ret,
                            rk_error *err)
{
        struct rk_chain ch = {0};
        struct rk_sig_facts f;
        _cleanup_free_ char *uid = NULL;
        int r = check_input(name, image_fd, sig, sig_len, err);
        if (r >= 0)
                r = verify_common(c, name, image_fd, sig, sig_len, &f, &ch, &uid, err);
        _cleanup_free_ const char **allowed = r >= 0 ? calloc(ch.n, sizeof(char *)) : NULL;
        if (r >= 0 && !allowed)
                r = rk_err(err, -ENOMEM, "out of memory");
        size_t idx = 0;
        for (size_t i = 0; r >= 0 && i < ch.n; i++)
                allowed[i] = ch.v[i].fpr;
        if (r >= 0)
                r = rk_trust_judge(&f, name, allowed, ch.n, (int64_t)time(NULL), &idx, err);
        if (r >= 0)
                r = fill_result(&ch, allowed[idx], name != NULL, f.hash_algo, f.timestamp, &uid,
                                ret, err);
        rk_trust_chain_clear(&ch);
        return r;
}

int rk_trust_verify(const struct rk_trust_config *c, const char *image_name, int image_fd,
                    const void *sig, size_t sig_len, struct rk_verify_result *ret, rk_error *err)
{
        if (!image_name)
                return rk_err(err, -EINVAL, "no image name to choose the keys by");
        return verify_and_judge(c, image_name, image_fd, sig, sig_len, ret, err);
}

int rk_trust_verify_any(const struct rk_trust_config *c, int image_fd, const void *sig,
                        size_t sig_len, struct rk_verify_result *ret, rk_error *err)
{
        return verify_and_judge(c, NULL, image_fd, sig, sig_len, ret, err);
}

static int signer_known(const struct rk_trust_config *c, const char *name, const void *sig,
                        size_t sig_len, rk_error *err)
{
        struct rk_chain ch = {0};
        struct rk_sig_facts f;
        _cleanup_free_ char *uid = NULL;
        int r = check_input(name, 0, sig, sig_len, err);
        if (r >= 0)
                r = verify_common(c, name, -1, sig, sig_len, &f, &ch, &uid, err);
        rk_trust_chain_clear(&ch);
        if (r < 0)
                return r;
        if (f.n_sigs == 0)
                return rk_err(err, -EBADMSG, "the signature holds no OpenPGP signature");
        if (f.n_sigs > 1)
                return rk_err(err, -EKEYREJECTED,
                              "the signature file holds %u signatures; exactly one is accepted",
                              f.n_sigs);
        /* Over empty data a good key gives a bad signature: all we learn here is whether the
         * issuer is known and the hash acceptable. */
        if (f.status == GPG_ERR_NO_PUBKEY || f.status == GPG_ERR_DIGEST_ALGO ||
            f.status == GPG_ERR_PUBKEY_ALGO)
                return judge_status(&f, name, err);
        return 0;
}

int rk_trust_signer_known(const struct rk_trust_config *c, const void *sig, size_t sig_len,
                          rk_error *err)
{
        return signer_known(c, NULL, sig, sig_len, err);
}

int rk_trust_signer_known_for(const struct rk_trust_config *c, const char *name, const void *sig,
                              size_t sig_len, rk_error *err)
{
        if (!name)
                return rk_err(err, -EINVAL, "no image name to choose the keys by");
        return signer_known(c, name, sig, sig_len, err);
}
