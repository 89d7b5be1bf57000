/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The trust store and signature verification (ARCHITECTURE.md "The trust decision").
 *
 * Layout (rkt's), under <system-config> (vendor) and <local-config> (admin):
 *
 *     trustedkeys/root.d/<fpr>                  trusted for every image name
 *     trustedkeys/prefix.d/<prefix>/<fpr>       trusted for <prefix> and the names below it
 *
 * <fpr> is the 40-digit lowercase hex v4 fingerprint of the key's *primary* key; the file holds
 * exactly one ASCII-armored public key whose primary fingerprint equals the file name. Files
 * holding several keys, any secret key material, a binary keyring, or a key whose fingerprint
 * differs from the name are refused (rkt silently used the first key of such files).
 *
 * Differences from rkt, each a fix:
 *   - prefixes match whole path components: a key for "example.com/app" covers
 *     "example.com/app" and "example.com/app/x", never "example.com/application";
 *   - an empty file in the *local* store masks that fingerprint for every name its location
 *     covers, at every level and in both stores (a mask always wins over a key);
 *   - prefixes are validated as AC identifiers before they become paths; directories and files
 *     are opened component by component with O_NOFOLLOW (a symlink in the store is an error);
 *   - a file named like a fingerprint is a key or a mask; other names (".#tmp" files of an
 *     interrupted write, README) are ignored.
 *
 * user_config is not consulted: trust is a system decision, not a per-user one. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define RK_FPR_LEN         40           /* hex digits of a v4 fingerprint */
#define RK_TRUST_KEY_MAX   (256 * 1024) /* bytes of one armored key file */
#define RK_TRUST_SIG_MAX   (64 * 1024)  /* bytes of one detached signature */
#define RK_TRUST_KEYS_MAX  256          /* keys in the prefix chain of one name */
#define RK_KEY_UIDS_MAX    64           /* user IDs kept from one key (more are refused) */
#define RK_KEY_SUBKEYS_MAX 64           /* subkeys kept from one key (more are refused) */

struct rk_trust_config {
        const char *local_config;  /* admin config, e.g. /etc/rkt: written by add/remove */
        const char *system_config; /* vendor config, e.g. /usr/lib/rkt: read only */
        const char *user_config;   /* unused by the trust store */
        const char *data_dir;      /* private GnuPG homes go in <data_dir>/tmp when short enough,
                                      else in $TMPDIR or /tmp; may be NULL */
};

struct rk_subkey_info {
        char fpr[RK_FPR_LEN + 1]; /* lowercase */
        bool can_sign, can_certify, can_encrypt, can_authenticate;
        bool expired, revoked;
        int64_t created;
        int64_t expires; /* 0 = never */
        char algo[32];   /* "rsa2048", "ed25519", ... */
};

/* What a key says about itself, for the review prompt and the listing. User IDs come from the
 * key file: every byte outside printable ASCII is escaped as \xNN, so they are safe to print
 * on a terminal. */
struct rk_key_info {
        char fpr[RK_FPR_LEN + 1]; /* primary, lowercase */
        char **uids;
        size_t n_uids;
        struct rk_subkey_info *subkeys; /* without the primary */
        size_t n_subkeys;
        char algo[32];
        int64_t created;
        int64_t expires; /* primary key expiry, 0 = never */
        bool expired, revoked;
        bool can_sign; /* the primary or a valid subkey may sign */
        char *path;    /* set by rk_trust_add: where the key was stored */
};
void rk_key_info_clear(struct rk_key_info *k);

/* Checks a key file: armored, exactly one public key, no secret material, at most
 * RK_TRUST_KEY_MAX bytes. Uses a private, throw-away GnuPG home. -EBADMSG for anything that is
 * not exactly one armored public key. */
int rk_key_inspect(const void *armored, size_t len, struct rk_key_info *ret, rk_error *err);

/* 0 if s is a usable prefix: an AC identifier (so no "..", no empty component, no "/" at either
 * end, no URL), at most RK_ACI_NAME_MAX bytes. -EINVAL otherwise. */
int rk_trust_prefix_validate(const char *s, rk_error *err);
/* 0 if s is 40 lowercase hex digits. */
int rk_fpr_validate(const char *s, rk_error *err);
/* Accepts what users paste (upper case, spaces in groups of four, a "0x" prefix) and writes the
 * canonical form. -EINVAL if it is not a 40-digit fingerprint (key IDs are refused: spoofable). */
int rk_fpr_normalize(const char *s, char out[RK_FPR_LEN + 1], rk_error *err);
/* True if prefix covers name on whole path components ("" or NULL covers everything). */
bool rk_trust_prefix_covers(const char *prefix, const char *name);

enum rk_trust_source {
        RK_TRUST_SYSTEM,
        RK_TRUST_LOCAL,
};
const char *rk_trust_source_to_string(enum rk_trust_source s);
/* "<config>/trustedkeys/{root.d|prefix.d/<prefix>}/<fpr>" (malloc'd, NULL on ENOMEM); prefix
 * must be valid. */
char *rk_trust_key_path(const struct rk_trust_config *c, enum rk_trust_source s, const char *prefix,
                        const char *fpr);

/* Stores the key (re-exported from GnuPG: one public key, nothing else) 0644 in
 * <local-config>/trustedkeys/{root.d|prefix.d/<prefix>}/<fpr>, creating directories 0755.
 * prefix NULL = root. Revoked or expired keys, and keys that cannot sign, are refused
 * (-EKEYREVOKED, -EKEYEXPIRED, -EKEYREJECTED). Replaces a mask or an older copy of the key.
 * ret_info (optional) gets the key's details and ->path. */
int rk_trust_add(const struct rk_trust_config *c, const char *prefix, const void *armored_key,
                 size_t len, struct rk_key_info *ret_info, rk_error *err);

enum {
        RK_TRUST_REMOVED = 1 << 0, /* the local key file was deleted */
        RK_TRUST_MASKED = 1 << 1,  /* an empty local file now masks the vendor key */
};
/* Stops trusting fpr at exactly this location (prefix NULL = root): deletes the local key file
 * and, if the vendor store has the same key there, writes the mask. Returns a mix of the flags
 * above, or -ENOENT if the key is not trusted at that location. */
int rk_trust_remove(const struct rk_trust_config *c, const char *fpr, const char *prefix,
                    rk_error *err);

struct rk_trust_entry {
        char fpr[RK_FPR_LEN + 1];
        char *prefix; /* NULL = root */
        enum rk_trust_source source;
        bool mask; /* empty local file */
        char *path;
        struct rk_key_info info; /* zeroed for masks and invalid files */
        char *error;             /* non-NULL: the file is not a valid key (why) */
};
void rk_trust_entries_free(struct rk_trust_entry *v, size_t n);

/* Every key and mask in both stores, system first, each store root.d then prefix.d in path
 * order. A file that is not a valid key is listed with ->error rather than failing the list. */
int rk_trust_list(const struct rk_trust_config *c, struct rk_trust_entry **ret, size_t *ret_n,
                  rk_error *err);

/* The state of one local store location, for undoing an add or remove whose audit record
 * could not be written. */
struct rk_trust_snapshot {
        char *prefix; /* NULL = root */
        char fpr[RK_FPR_LEN + 1];
        bool existed;
        char *data;
        size_t len;
};
int rk_trust_snapshot_take(const struct rk_trust_config *c, const char *fpr, const char *prefix,
                           struct rk_trust_snapshot *ret, rk_error *err);
int rk_trust_snapshot_restore(const struct rk_trust_config *c, const struct rk_trust_snapshot *s,
                              rk_error *err);
void rk_trust_snapshot_clear(struct rk_trust_snapshot *s);

struct rk_verify_result {
        char signer[RK_FPR_LEN + 1]; /* primary fingerprint, lowercase */
        char *prefix;                /* most specific prefix the key is trusted for, "" = root */
        int hash_algo;               /* OpenPGP hash algorithm id (8 SHA-256, 9, 10) */
        int64_t sig_time;            /* signature creation time */
        char *signer_uid;            /* first user ID (escaped as in rk_key_info), may be NULL */
};
void rk_verify_result_clear(struct rk_verify_result *r);

/* Verifies the detached signature sig over the bytes of image_fd (read from offset 0 with
 * pread; the fd is never reopened) against the keys trusted for image_name's prefix chain.
 * Runs GnuPG offline in a private home holding only those keys, removed before returning, with
 * no gpg-agent or dirmngr started. Accepts exactly one good signature, SHA-256/384/512, made
 * by a key (or signing subkey) that is valid, unexpired, unrevoked, with no unknown critical
 * notation, not made in the future, whose primary fingerprint is in the trusted set. Errors:
 *   -ENOKEY        no key is trusted for the name (the message says what to run)
 *   -EKEYREJECTED  bad signature, unknown signer, weak hash, wrong key usage, several
 *                  signatures, future timestamp, critical notation
 *   -EKEYEXPIRED   key or signature expired
 *   -EKEYREVOKED   key revoked
 *   -EBADMSG       the signature is not an OpenPGP signature; or a trust-store file is broken
 *   -EFBIG         signature larger than RK_TRUST_SIG_MAX
 * ret is filled only on success. */
int rk_trust_verify(const struct rk_trust_config *c, const char *image_name, int image_fd,
                    const void *sig, size_t sig_len, struct rk_verify_result *ret, rk_error *err);

/* For images whose name is known only from the manifest inside them (fetch of a file or URL):
 * the same checks as rk_trust_verify(), against every key trusted for at least one name, so
 * the archive is parsed only once it is known to come from a trusted key. ret->prefix is left
 * NULL: the caller must then bind the signer to the manifest's name with
 * rk_trust_signer_prefix() (rk_policy_decide() refuses a result without a prefix). -ENOKEY if
 * no key is trusted at all. */
int rk_trust_verify_any(const struct rk_trust_config *c, int image_fd, const void *sig,
                        size_t sig_len, struct rk_verify_result *ret, rk_error *err);

/* The most specific prefix ("" = root) for which the primary fingerprint signer is trusted for
 * name, masks applied; -EKEYREJECTED if it is not trusted for name. *ret_prefix is malloc'd. */
int rk_trust_signer_prefix(const struct rk_trust_config *c, const char *signer, const char *name,
                           char **ret_prefix, rk_error *err);

/* A cheap pre-check before downloading an image (rkt's "identity pre-check"): 0 if the (first)
 * OpenPGP signature in sig was issued by a key trusted for some name; -EKEYREJECTED for an
 * unknown issuer or a refused hash; -EBADMSG for garbage; -ENOKEY if no key is trusted at all.
 * Not a verification: rk_trust_verify*() must still run on the bytes. */
int rk_trust_signer_known(const struct rk_trust_config *c, const void *sig, size_t sig_len,
                          rk_error *err);
/* The same pre-check against the keys trusted for name only (a fetch by name: the requested
 * name's keyring, before the image is downloaded). -ENOKEY if no key is trusted for name. */
int rk_trust_signer_known_for(const struct rk_trust_config *c, const char *name, const void *sig,
                              size_t sig_len, rk_error *err);
/* 1 if any key or mask of either store covers name (root included), 0 if none: trust on first
 * use may only happen at 0, so existing trust is never replaced or widened silently. */
int rk_trust_covered(const struct rk_trust_config *c, const char *name, rk_error *err);
