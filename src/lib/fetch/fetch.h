/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Fetching an image into the store: the trust decision of ARCHITECTURE.md, in order.
 *
 *  1. The bytes are staged in the store's own anonymous file (a file fetch copies the file, so
 *     nobody can change them between the checks and the import; a URL is downloaded into it,
 *     its signature first).
 *  2. Unless the user opted out (--insecure-options=image), the detached signature is verified
 *     over that same fd, against the keys the operator trusted. No archive byte reaches the tar
 *     parser before this succeeds.
 *  3. The archive is checked by the confined extractor and the manifest parsed; its name must be
 *     covered by a prefix the signer is trusted for (and equal the requested name, for names).
 *  4. The policy decides (signed, signedBy, reject, insecureAcceptAnything, opt-ins allowed).
 *  5. The image is linked into the store with how it was admitted, and every decision, accepted
 *     or refused, is written to the audit log. */

#include <stdbool.h>

#include "base/error.h"
#include "store/store.h"
#include "trust/trust.h"

enum rk_pull_policy {
        RK_PULL_NEW,    /* use the store if the image is there (run, prepare) */
        RK_PULL_UPDATE, /* ask the server, reuse the stored image if unchanged (fetch) */
        RK_PULL_NEVER,  /* the store only */
};
int rk_pull_policy_from_string(const char *s, enum rk_pull_policy *ret);

struct rk_auth;
struct rk_key_info;

/* Trust on first use during a fetch by name (rkt.md 3.4, after rkt's fix): asked only when no
 * key or mask of either store covers the name at all, for a key discovered for it. Shows the
 * key and returns 1 to trust it for prefix, 0 to decline (no terminal: decline). */
typedef int (*rk_fetch_review_fn)(void *userdata, const char *prefix, const char *url,
                                  const struct rk_key_info *key);

struct rk_fetch_opts {
        const struct rk_trust_config *trust;
        const struct rk_auth *auth; /* auth.d headers per host (discover.h), may be NULL */
        bool trust_keys_from_https; /* TOFU: accept an https-served key without the review */
        bool insecure_pubkey;       /* --insecure-options=pubkey: TOFU even with tls/http off */
        rk_fetch_review_fn review;  /* TOFU review prompt, or NULL (never asked) */
        void *review_userdata;
        bool no_deps;        /* do not fetch the dependencies named in the manifest */
        bool insecure_image; /* --insecure-options=image / --insecure-skip-verify */
        bool insecure_tls;
        bool insecure_http;
        enum rk_pull_policy pull;
        bool progress;         /* progress bar on stderr (drawn only when it is a terminal) */
        const char *signature; /* --signature=FILE, or NULL for <image>.asc */
};

struct rk_fetch_result {
        struct rk_image_info info;
        bool cached;   /* served from the store without a download */
        bool verified; /* a signature was verified (else admitted by an insecure opt-in) */
};
void rk_fetch_result_clear(struct rk_fetch_result *r);

/* ref: a file path, an https:// (or, with insecure_http, http://) URL, an image ID, or an app
 * string "name[:version][,label=value...]": under RK_PULL_NEW / NEVER the best match in the
 * store, otherwise (and under NEW when absent) meta discovery: each endpoint in order, the
 * signature first, its signer checked against the keys trusted for the requested name before
 * the image is downloaded, the manifest's name and the requested labels required to match.
 * Dependencies named in the manifest that are not in the store are fetched the same way. -ENOKEY,
 * -EKEYREJECTED, -EKEYEXPIRED, -EKEYREVOKED, -EPERM (policy) on refusal, with a message that names
 * the image and says what to run next. */
int rk_fetch(struct rk_store *s, const char *ref, const struct rk_fetch_opts *o,
             struct rk_fetch_result *ret, rk_error *err);

/* The signature-verification hook for rk_store_verify (re-checks a stored image's signature
 * against the current trust store). userdata: const struct rk_trust_config *. */
int rk_fetch_sig_hook(void *userdata, const struct rk_image_info *img, int blob_fd, const void *sig,
                      size_t sig_len, rk_error *err);

/* The rule for using an image already in the store (rk_fetch of an ID, a stored name, or a
 * cached URL; rkt run): 0 if it was admitted on a verified signature, or if insecure_image (the
 * user's --insecure-options=image, given again for this use); else -EKEYREJECTED with a
 * message naming the image, saying it was stored unverified and what to pass. rk_fetch also
 * re-applies the current policy to stored images (reject, signedBy, allowInsecure, and
 * insecureAcceptAnything admitting an unverified image). */
int rk_fetch_check_admitted(const struct rk_image_info *i, bool insecure_image, rk_error *err);
