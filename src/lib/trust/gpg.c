/* SPDX-License-Identifier: Apache-2.0 */
/* GnuPG through gpgme, always in a private, per-operation home that holds only the keys we put
 * there and a gpg.conf we wrote, and that is removed afterwards (security.md 6.5). */
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <dirent.h>
#include <time.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "base/fileio.h"
#include "trust/trust-internal.h"

static const char gpg_conf[] =
    "# Written by rkt for one operation; this home is removed afterwards.\n"
    "no-autostart\n"
    "no-auto-key-retrieve\n"
    "no-auto-key-import\n"
    "auto-key-locate local\n"
    "weak-digest SHA1\n"
    "weak-digest RIPEMD160\n"
    "no-greeting\n";
/* Why each line:
 * - no-autostart: public-key import and verify never need gpg-agent or dirmngr, and GnuPG 2.2
 *   otherwise starts an agent per home that outlives us (observed on Debian 12);
 * - no-auto-key-retrieve/-import, auto-key-locate local: offline, and a key embedded in a
 *   signature never enters the keyring (it would verify with a key that is not trusted);
 * - weak-digest: a second layer behind the hash check in rk_trust_judge(). */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static gpgme_error_t init_error;

static void init_gpgme(void)
{
        if (!gpgme_check_version(NULL)) {
                init_error = gpg_error(GPG_ERR_NOT_SUPPORTED);
                return;
        }
        init_error = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP);
}

bool rk_fpr_canon(const char *in, char out[RK_FPR_LEN + 1])
{
        size_t i;
        for (i = 0; i < RK_FPR_LEN; i++) {
                char c = in[i];
                if (c >= 'A' && c <= 'F')
                        c = (char)(c - 'A' + 'a');
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                        return false;
                out[i] = c;
        }
        out[i] = 0;
        return in[RK_FPR_LEN] == 0;
}

char *rk_escape_untrusted(const char *s, size_t max)
{
        size_t n = strlen(s);
        if (n > max)
                n = max;
        char *o = malloc(n * 4 + 1);
        if (!o)
                return NULL;
        char *p = o;
        for (size_t i = 0; i < n && (size_t)(p - o) + 4 <= max; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c >= 0x20 && c < 0x7f && c != '\\')
                        *p++ = (char)c;
                else
                        p += sprintf(p, "\\x%02x", c);
        }
        *p = 0;
        return o;
}

/* Homes left by a verification that was killed hold only public keys, but they pile up: remove
 * those older than an hour. Only in <data_dir>/tmp, which is ours alone (never in a shared
 * /tmp, where a name is no proof of ownership). */
static void sweep_stale_homes(int dfd)
{
        int fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                safe_close(fd);
                return;
        }
        time_t cutoff = time(NULL) - 3600;
        struct dirent *de;
        while ((de = readdir(d))) {
                struct stat st;
                if (strncmp(de->d_name, "rkt-gpg-", 8) != 0 ||
                    fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !S_ISDIR(st.st_mode) || st.st_mtime > cutoff)
                        continue;
                (void)rk_rm_rf_at(dfd, de->d_name, NULL);
        }
        closedir(d);
}

/* <data_dir>/tmp is private to rkt on a real host (unlike a shared /tmp); used only if it is a
 * directory we own that nobody else can write, and if the resulting home path is short. */
static bool private_dir_ok(const char *data_dir, char *buf, size_t size)
{
        struct stat st;
        if (!data_dir || data_dir[0] != '/' ||
            strlen(data_dir) + sizeof("/tmp/rkt-gpg-XXXXXX") > RK_GPG_HOME_MAX)
                return false;
        if (stat(data_dir, &st) < 0 || !S_ISDIR(st.st_mode))
                return false;
        snprintf(buf, size, "%s/tmp", data_dir);
        if (mkdir(buf, 0700) < 0 && errno != EEXIST)
                return false;
        _cleanup_close_ int fd = open(buf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0)
                return false;
        if (st.st_uid != geteuid() || (st.st_mode & 0077) != 0)
                return false;
        sweep_stale_homes(fd);
        return true;
}

static void pick_base(const char *data_dir, char *buf, size_t size)
{
        if (private_dir_ok(data_dir, buf, size))
                return;
        const char *t = secure_getenv("TMPDIR");
        if (!t || t[0] != '/' || strlen(t) + sizeof("/rkt-gpg-XXXXXX") > RK_GPG_HOME_MAX)
                t = "/tmp";
        snprintf(buf, size, "%s", t);
}

static int write_conf(const char *home, rk_error *err)
{
        _cleanup_close_ int dfd = open(home, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return rk_err_errno(err, negative_errno(), "GnuPG home '%s'", home);
        _cleanup_close_ int fd =
            openat(dfd, "gpg.conf", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "GnuPG home '%s': gpg.conf", home);
        int r = rk_write_all(fd, gpg_conf, sizeof(gpg_conf) - 1);
        if (r < 0)
                return rk_err_errno(err, r, "GnuPG home '%s': gpg.conf", home);
        return 0;
}

static int gpg_fail(rk_error *err, int code, const char *what, gpgme_error_t e)
{
        return rk_err(err, code, "%s: %s", what, gpgme_strerror(e));
}

int rk_gpg_home_open(const char *data_dir, struct rk_gpg_home *h, rk_error *err)
{
        char base[PATH_MAX];
        memset(h, 0, sizeof(*h));
        pthread_once(&init_once, init_gpgme);
        if (init_error)
                return gpg_fail(err, -ENOPKG, "GnuPG (gpgme/gpg) is not usable", init_error);
        pick_base(data_dir, base, sizeof(base));
        snprintf(h->path, sizeof(h->path), "%s/rkt-gpg-XXXXXX", base);
        /* mkdtemp: a fresh 0700 directory, O_EXCL-created, so nobody can pre-plant a gpg.conf. */
        if (!mkdtemp(h->path)) {
                int r = negative_errno();
                char p[PATH_MAX];
                snprintf(p, sizeof(p), "%s", h->path);
                h->path[0] = 0;
                return rk_err_errno(err, r, "cannot create a private GnuPG home '%s'", p);
        }
        int r = write_conf(h->path, err);
        gpgme_error_t e = 0;
        if (r >= 0 && !(e = gpgme_new(&h->ctx)))
                e = gpgme_set_protocol(h->ctx, GPGME_PROTOCOL_OpenPGP);
        if (r >= 0 && !e)
                e = gpgme_ctx_set_engine_info(h->ctx, GPGME_PROTOCOL_OpenPGP, NULL, h->path);
        if (r >= 0 && !e) {
                gpgme_set_offline(h->ctx, 1);
                gpgme_set_armor(h->ctx, 1);
                e = gpgme_set_keylist_mode(h->ctx, GPGME_KEYLIST_MODE_LOCAL);
        }
        if (r >= 0 && e)
                r = gpg_fail(err, -EIO, "cannot set up GnuPG", e);
        if (r < 0)
                rk_gpg_home_close(h);
        return r;
}

static bool has_sockets(const char *home)
{
        _cleanup_closedir_ DIR *d = opendir(home);
        struct dirent *de;
        while (d && (de = readdir(d)))
                if (strncmp(de->d_name, "S.", 2) == 0)
                        return true;
        return false;
}

/* Defence in depth: no-autostart means no agent should exist, but if one does (sockets in the
 * home, or possibly under /run/user/<uid>), "gpgconf --kill all" stops it. */
static void kill_daemons(const char *home)
{
        char run[64];
        struct stat st;
        snprintf(run, sizeof(run), "/run/user/%u/gnupg", (unsigned)geteuid());
        if (!has_sockets(home) && stat(run, &st) < 0)
                return;
        const char *gpgconf = NULL;
        gpgme_engine_info_t info = NULL;
        if (gpgme_get_engine_info(&info) == 0)
                for (; info; info = info->next)
                        if (info->protocol == GPGME_PROTOCOL_GPGCONF)
                                gpgconf = info->file_name;
        if (!gpgconf)
                return;
        char *argv[] = {(char *)"gpgconf", (char *)"--homedir", (char *)home,
                        (char *)"--kill",  (char *)"all",       NULL};
        posix_spawn_file_actions_t fa;
        if (posix_spawn_file_actions_init(&fa) != 0)
                return;
        for (int fd = 0; fd <= 2; fd++)
                posix_spawn_file_actions_addopen(&fa, fd, "/dev/null", fd ? O_WRONLY : O_RDONLY, 0);
        pid_t pid;
        extern char **environ;
        if (posix_spawn(&pid, gpgconf, &fa, NULL, argv, environ) == 0)
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
        posix_spawn_file_actions_destroy(&fa);
}

void rk_gpg_home_close(struct rk_gpg_home *h)
{
        if (h->ctx) {
                gpgme_release(h->ctx);
                h->ctx = NULL;
        }
        if (!h->path[0])
                return;
        kill_daemons(h->path);
        (void)rk_rm_rf_at(AT_FDCWD, h->path, NULL);
        h->path[0] = 0;
}

static const char *find_mem(const char *hay, size_t n, const char *needle)
{
        return memmem(hay, n, needle, strlen(needle));
}

/* Textual checks before GnuPG sees the data: armored (rkt refused binary keyrings), one public
 * key block, no private key block. */
static int check_armor(const char *what, const char *p, size_t len, rk_error *err)
{
        static const char begin[] = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
        if (memchr(p, 0, len))
                return rk_err(err, -EBADMSG,
                              "%s: not an ASCII-armored key (binary data); export it with "
                              "'gpg --export --armor FINGERPRINT'",
                              what);
        if (find_mem(p, len, "PRIVATE KEY BLOCK"))
                return rk_err(err, -EBADMSG,
                              "%s: holds a secret key; a trust store takes only the public key "
                              "('gpg --export --armor FINGERPRINT')",
                              what);
        const char *b = find_mem(p, len, begin);
        if (!b)
                return rk_err(err, -EBADMSG,
                              "%s: not an ASCII-armored OpenPGP public key (no '%s' line)", what,
                              begin);
        if (find_mem(b + 1, len - (size_t)(b - p) - 1, "-----BEGIN PGP"))
                return rk_err(err, -EBADMSG,
                              "%s: holds more than one armored block; a key file must hold "
                              "exactly one public key",
                              what);
        return 0;
}

int rk_gpg_import_key(struct rk_gpg_home *h, const char *what, const void *data, size_t len,
                      char fpr[RK_FPR_LEN + 1], rk_error *err)
{
        if (len == 0)
                return rk_err(err, -EBADMSG, "%s: empty key file", what);
        if (len > RK_TRUST_KEY_MAX)
                return rk_err(err, -EFBIG, "%s: %zu bytes, a key file is limited to %d", what, len,
                              RK_TRUST_KEY_MAX);
        int r = check_armor(what, data, len, err);
        if (r < 0)
                return r;
        _cleanup_(gpgme_data_releasep) gpgme_data_t d = NULL;
        gpgme_error_t e = gpgme_data_new_from_mem(&d, data, len, 0);
        if (e)
                return gpg_fail(err, -ENOMEM, what, e);
        e = gpgme_op_import(h->ctx, d);
        if (e)
                return rk_err(err, -EBADMSG, "%s: not a usable OpenPGP key: %s", what,
                              gpgme_strerror(e));
        gpgme_import_result_t res = gpgme_op_import_result(h->ctx);
        if (!res)
                return rk_err(err, -EBADMSG, "%s: GnuPG returned no import result", what);
        /* Why: a secret key has no business in a trust store, and a file holding several keys
         * would carry an untrusted key in next to the trusted one (rkt used the first key of
         * such a file and ignored the rest). */
        if (res->secret_read || res->secret_imported)
                return rk_err(err, -EBADMSG,
                              "%s: holds secret key material; a trust store takes only the "
                              "public key ('gpg --export --armor FINGERPRINT')",
                              what);
        if (res->considered != 1)
                return rk_err(err, -EBADMSG,
                              "%s: holds %d keys; a key file must hold exactly one public key",
                              what, res->considered);
        gpgme_import_status_t st = res->imports;
        if (res->imported + res->unchanged != 1 || res->not_imported || !st || st->next ||
            st->result || !st->fpr)
                return rk_err(err, -EBADMSG,
                              "%s: GnuPG did not accept the key (no valid self-signed user ID?)",
                              what);
        if (!rk_fpr_canon(st->fpr, fpr))
                return rk_err(err, -EBADMSG,
                              "%s: not a v4 key (fingerprint '%.64s'); only v4 keys are supported",
                              what, st->fpr);
        return 0;
}

static int copy_subkey(gpgme_subkey_t s, struct rk_subkey_info *o, const char *what, rk_error *err)
{
        if (!s->fpr || !rk_fpr_canon(s->fpr, o->fpr))
                return rk_err(err, -EBADMSG, "%s: a subkey has no v4 fingerprint", what);
        o->can_sign = s->can_sign;
        o->can_certify = s->can_certify;
        o->can_encrypt = s->can_encrypt;
        o->can_authenticate = s->can_authenticate;
        o->expired = s->expired;
        o->revoked = s->revoked;
        o->created = s->timestamp;
        o->expires = s->expires;
        char *a = gpgme_pubkey_algo_string(s);
        snprintf(o->algo, sizeof(o->algo), "%s", a ? a : "unknown");
        gpgme_free(a);
        return 0;
}

static int copy_uids(gpgme_key_t key, struct rk_key_info *k, const char *what, rk_error *err)
{
        size_t n = 0;
        for (gpgme_user_id_t u = key->uids; u; u = u->next)
                n++;
        if (n > RK_KEY_UIDS_MAX)
                return rk_err(err, -EBADMSG, "%s: %zu user IDs, at most %d are accepted", what, n,
                              RK_KEY_UIDS_MAX);
        k->uids = calloc(n ? n : 1, sizeof(char *));
        if (!k->uids)
                return rk_err(err, -ENOMEM, "out of memory");
        for (gpgme_user_id_t u = key->uids; u; u = u->next) {
                char buf[300];
                snprintf(buf, sizeof(buf), "%.256s%s", u->uid ? u->uid : "",
                         u->revoked   ? " [revoked]"
                         : u->invalid ? " [invalid]"
                                      : "");
                k->uids[k->n_uids] = rk_escape_untrusted(buf, 1024);
                if (!k->uids[k->n_uids])
                        return rk_err(err, -ENOMEM, "out of memory");
                k->n_uids++;
        }
        return 0;
}

int rk_gpg_key_info(struct rk_gpg_home *h, const char *fpr, struct rk_key_info *ret, rk_error *err)
{
        _cleanup_(gpgme_key_unrefp) gpgme_key_t key = NULL;
        gpgme_error_t e = gpgme_get_key(h->ctx, fpr, &key, 0);
        if (e || !key || !key->subkeys)
                return rk_err(err, -EBADMSG, "key %s: not found after import: %s", fpr,
                              gpgme_strerror(e));
        struct rk_key_info k = {0};
        struct rk_subkey_info primary = {0};
        int r = copy_subkey(key->subkeys, &primary, fpr, err);
        size_t n = 0;
        for (gpgme_subkey_t s = key->subkeys->next; s; s = s->next)
                n++;
        if (r >= 0 && n > RK_KEY_SUBKEYS_MAX)
                r = rk_err(err, -EBADMSG, "key %s: %zu subkeys, at most %d are accepted", fpr, n,
                           RK_KEY_SUBKEYS_MAX);
        if (r >= 0 && !(k.subkeys = calloc(n ? n : 1, sizeof(*k.subkeys))))
                r = rk_err(err, -ENOMEM, "out of memory");
        for (gpgme_subkey_t s = key->subkeys->next; r >= 0 && s; s = s->next)
                r = copy_subkey(s, &k.subkeys[k.n_subkeys++], fpr, err);
        if (r >= 0)
                r = copy_uids(key, &k, fpr, err);
        if (r < 0) {
                rk_key_info_clear(&k);
                return r;
        }
        memcpy(k.fpr, primary.fpr, sizeof(k.fpr));
        memcpy(k.algo, primary.algo, sizeof(k.algo));
        k.created = primary.created;
        k.expires = primary.expires;
        k.expired = key->expired || primary.expired;
        k.revoked = key->revoked || primary.revoked;
        k.can_sign = key->can_sign;
        *ret = k;
        return 0;
}

int rk_gpg_export_key(struct rk_gpg_home *h, const char *fpr, char **ret, size_t *ret_len,
                      rk_error *err)
{
        gpgme_data_t out = NULL;
        gpgme_error_t e = gpgme_data_new(&out);
        if (e)
                return gpg_fail(err, -ENOMEM, "export", e);
        e = gpgme_op_export(h->ctx, fpr, 0, out);
        size_t n = 0;
        char *mem = gpgme_data_release_and_get_mem(out, &n);
        if (e || !mem || n == 0) {
                gpgme_free(mem);
                return rk_err(err, -EIO, "key %s: GnuPG could not export it: %s", fpr,
                              gpgme_strerror(e));
        }
        char *copy = malloc(n + 1);
        if (copy) {
                memcpy(copy, mem, n);
                copy[n] = 0;
        }
        gpgme_free(mem);
        if (!copy)
                return rk_err(err, -ENOMEM, "out of memory");
        *ret = copy;
        *ret_len = n;
        return 0;
}

void rk_key_info_clear(struct rk_key_info *k)
{
        if (!k)
                return;
        for (size_t i = 0; i < k->n_uids; i++)
                free(k->uids[i]);
        free(k->uids);
        free(k->subkeys);
        free(k->path);
        memset(k, 0, sizeof(*k));
}

int rk_key_inspect(const void *armored, size_t len, struct rk_key_info *ret, rk_error *err)
{
        struct rk_gpg_home h;
        char fpr[RK_FPR_LEN + 1];
        int r = rk_gpg_home_open(NULL, &h, err);
        if (r < 0)
                return r;
        r = rk_gpg_import_key(&h, "key", armored, len, fpr, err);
        if (r >= 0)
                r = rk_gpg_key_info(&h, fpr, ret, err);
        rk_gpg_home_close(&h);
        return r;
}
