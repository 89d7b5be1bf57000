/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Shared between store.c, gpg.c and verify.c; exposed to the unit tests, not to the CLI. */

#include <gpgme.h>
#include <limits.h>

#include "base/macro.h"
#include "trust/trust.h"

DEFINE_CLEANUP(gpgme_data_t, gpgme_data_release)
DEFINE_CLEANUP(gpgme_key_t, gpgme_key_unref)

/* A private, per-operation GnuPG home: 0700, a gpg.conf we wrote, only the keys we import. */
struct rk_gpg_home {
        char path[PATH_MAX];
        gpgme_ctx_t ctx;
};

/* The longest home path we create: gpg-agent's socket "<home>/S.gpg-agent.browser" must fit in
 * sun_path (108 bytes) if an agent were ever started. */
#define RK_GPG_HOME_MAX 80

int rk_gpg_home_open(const char *data_dir, struct rk_gpg_home *h, rk_error *err);
/* Releases the context, stops any agent that appeared in the home, removes the home. Safe on a
 * zeroed or already closed home. */
void rk_gpg_home_close(struct rk_gpg_home *h);

/* Imports data, which must be exactly one ASCII-armored public key (no secret key material,
 * nothing else), and returns its primary fingerprint. what names the source in errors. */
int rk_gpg_import_key(struct rk_gpg_home *h, const char *what, const void *data, size_t len,
                      char fpr[RK_FPR_LEN + 1], rk_error *err);
int rk_gpg_key_info(struct rk_gpg_home *h, const char *fpr, struct rk_key_info *ret, rk_error *err);
/* The armored export of the public key fpr from the home (a normalised copy of what was
 * imported: one key, no secret parts). */
int rk_gpg_export_key(struct rk_gpg_home *h, const char *fpr, char **ret, size_t *ret_len,
                      rk_error *err);
/* Lower-cases a hex fingerprint into out; false if it is not 40 hex digits. */
bool rk_fpr_canon(const char *in, char out[RK_FPR_LEN + 1]);
/* Copies s escaping every byte outside printable ASCII (and backslash) as \xNN, at most max
 * bytes of output. */
char *rk_escape_untrusted(const char *s, size_t max);

/* Everything the verdict depends on, lifted out of gpgme so the decision is one pure function
 * the tests can drive with values GnuPG would not produce. */
struct rk_sig_facts {
        unsigned n_sigs;
        unsigned status;          /* gpg_err_code_t of the (single) signature */
        unsigned summary;         /* GPGME_SIGSUM_* */
        int validity;             /* gpgme_validity_t */
        unsigned validity_reason; /* gpg_err_code_t */
        bool wrong_key_usage;
        bool critical_notation; /* a notation flagged critical (we know none) */
        int hash_algo;          /* gpgme_hash_algo_t */
        int64_t timestamp, exp_timestamp;
        char sig_fpr[RK_FPR_LEN + 1]; /* as reported (may be a subkey), "" if not a fingerprint */
        char raw_fpr[48];             /* as reported, possibly a key ID, for messages */
        char primary_fpr[RK_FPR_LEN + 1]; /* "" if the signing key was not found locally */
        bool key_revoked, key_expired, key_invalid, key_disabled;
        bool subkey_revoked, subkey_expired, subkey_invalid, subkey_can_sign;
};

/* Future-dated signatures beyond this skew are refused: GnuPG 2.2 accepts them. */
#define RK_SIG_CLOCK_SKEW 300

/* The verdict. allowed is the set of primary fingerprints trusted for image_name; *ret_idx gets
 * the matching index. Returns 0 or the errno documented for rk_trust_verify(). */
int rk_trust_judge(const struct rk_sig_facts *f, const char *image_name, const char *const *allowed,
                   size_t n_allowed, int64_t now, size_t *ret_idx, rk_error *err);

/* The keys trusted for a name: root keys and each matching prefix level, masks applied, each
 * fingerprint once with the most specific prefix it is trusted at. */
struct rk_chain_key {
        char fpr[RK_FPR_LEN + 1];
        char *prefix; /* "" = root */
        char *path;
        char *data;
        size_t len;
};
struct rk_chain {
        struct rk_chain_key *v;
        size_t n;
};
int rk_trust_chain_collect(const struct rk_trust_config *c, const char *name, struct rk_chain *ret,
                           rk_error *err);
/* Every key trusted for at least one name: all locations of both stores, a local mask removing
 * a key only where the mask's location covers the key's. */
int rk_trust_chain_collect_all(const struct rk_trust_config *c, struct rk_chain *ret,
                               rk_error *err);
void rk_trust_chain_clear(struct rk_chain *ch);
