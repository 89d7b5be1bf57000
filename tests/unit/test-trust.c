/* SPDX-License-Identifier: Apache-2.0 */
/* The trust store and the verifier: layout, whole-component prefixes, masks, key-file hygiene,
 * every signature fixture with its errno (keys/README.md), the pure verdict function with
 * values GnuPG would not produce, and no GnuPG daemon left behind. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "base/fileio.h"
#include "trust/policy.h"
#include "trust/trust-internal.h"
#include "trust/trust.h"

#define IMAGES "tests/data/images/"
#define KEYS   "keys/"
#define NAME   "example.com/test"

struct fx {
        char dir[64];
        char sys[96], local[96], data[96];
        struct rk_trust_config c;
};

static char *slurp(const char *path, size_t *len)
{
        char *buf = NULL;
        size_t n = 0;
        assert_int_equal(rk_read_file_at(AT_FDCWD, path, 1 << 20, &buf, &n, NULL), 0);
        if (len)
                *len = n;
        return buf;
}

static void fpr_of(const char *key, char out[RK_FPR_LEN + 1])
{
        char path[128];
        snprintf(path, sizeof(path), KEYS "test-%s.fpr", key);
        char *s = slurp(path, NULL);
        assert_true(strlen(s) >= RK_FPR_LEN);
        memcpy(out, s, RK_FPR_LEN);
        out[RK_FPR_LEN] = 0;
        free(s);
}

/* GnuPG double-forks; with a subreaper the grandchildren come back to us and are reaped here
 * instead of piling up as zombies under a PID 1 that does not reap. */
static void reap(void)
{
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
}

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof(*f));
        strcpy(f->dir, "/tmp/rk-test-trust-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->sys, sizeof(f->sys), "%s/sys", f->dir);
        snprintf(f->local, sizeof(f->local), "%s/local", f->dir);
        snprintf(f->data, sizeof(f->data), "%s/data", f->dir);
        assert_int_equal(mkdir(f->data, 0700), 0);
        f->c = (struct rk_trust_config){
            .local_config = f->local, .system_config = f->sys, .data_dir = f->data};
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        (void)rk_rm_rf_at(AT_FDCWD, f->dir, NULL);
        free(f);
        reap();
        return 0;
}

/* Puts a file into a store by hand (as a package or an admin would), bypassing rk_trust_add:
 * the verifier must cope with whatever is on disk. content NULL = empty file (a mask). */
static void install(const char *config, const char *prefix, const char *name, const char *src)
{
        char dir[512], path[600];
        if (prefix)
                snprintf(dir, sizeof(dir), "%s/trustedkeys/prefix.d/%s", config, prefix);
        else
                snprintf(dir, sizeof(dir), "%s/trustedkeys/root.d", config);
        assert_int_equal(rk_mkdir_p(dir, 0755, NULL), 0);
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        size_t n = 0;
        char *data = src ? slurp(src, &n) : NULL;
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(rk_write_all(fd, data ? data : "", n), 0);
        close(fd);
        free(data);
}

static void install_key(const char *config, const char *prefix, const char *key)
{
        char fpr[RK_FPR_LEN + 1], src[128];
        fpr_of(key, fpr);
        snprintf(src, sizeof(src), KEYS "test-%s.pub.asc", key);
        install(config, prefix, fpr, src);
}

static int verify_as(struct fx *f, const char *name, const char *image, const char *sig,
                     struct rk_verify_result *res, rk_error *e)
{
        char ipath[128], spath[128];
        snprintf(ipath, sizeof(ipath), IMAGES "%s", image);
        snprintf(spath, sizeof(spath), IMAGES "test.aci.%s.asc", sig);
        size_t n = 0;
        char *s = slurp(spath, &n);
        int fd = open(ipath, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        struct rk_verify_result tmp = {0};
        int r = rk_trust_verify(&f->c, name, fd, s, n, res ? res : &tmp, e);
        close(fd);
        free(s);
        rk_verify_result_clear(&tmp);
        reap();
        return r;
}

static int verify(struct fx *f, const char *name, const char *sig, rk_error *e)
{
        return verify_as(f, name, "test.aci", sig, NULL, e);
}

/* ---- names, prefixes, fingerprints ---- */

static void test_prefix_validate(void **state)
{
        static const char *good[] = {"example.com", "example.com/app", "example.com/~user/app",
                                     "a-b.c_d/e"};
        static const char *bad[] = {"",      "/example.com", "example.com/", "a/../b",      "..",
                                    "a//b",  "a/./b",        "Example.com",  "https://x/y", "a b/c",
                                    "a/b\n", "./a"};
        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                assert_int_equal(rk_trust_prefix_validate(good[i], NULL), 0);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                rk_error e = RK_ERROR_INIT;
                assert_int_equal(rk_trust_prefix_validate(bad[i], &e), -EINVAL);
                assert_true(e.msg[0]);
        }
}

static void test_prefix_covers_whole_components(void **state)
{
        assert_true(rk_trust_prefix_covers("example.com/app", "example.com/app"));
        assert_true(rk_trust_prefix_covers("example.com/app", "example.com/app/x"));
        assert_false(rk_trust_prefix_covers("example.com/app", "example.com/application"));
        assert_false(rk_trust_prefix_covers("example.com/app", "example.com/ap"));
        assert_false(rk_trust_prefix_covers("example.com/app", "example.com"));
        assert_false(rk_trust_prefix_covers("example.co", "example.com"));
        assert_true(rk_trust_prefix_covers(NULL, "anything"));
        assert_true(rk_trust_prefix_covers("", "anything"));
}

static void test_fpr_normalize(void **state)
{
        char out[RK_FPR_LEN + 1];
        assert_int_equal(
            rk_fpr_normalize("0B45 0A70 5260 ABAB EF27  224F D946 27D0 D572 8376", out, NULL), 0);
        assert_string_equal(out, "0b450a705260ababef27224fd94627d0d5728376");
        assert_int_equal(rk_fpr_normalize("0x0B450A705260ABABEF27224FD94627D0D5728376", out, NULL),
                         0);
        assert_int_equal(rk_fpr_normalize("D94627D0D5728376", out, NULL), -EINVAL); /* key ID */
        assert_int_equal(rk_fpr_normalize("0b450a705260ababef27224fd94627d0d572837g", out, NULL),
                         -EINVAL);
        assert_int_equal(rk_fpr_normalize("0b450a705260ababef27224fd94627d0d57283761", out, NULL),
                         -EINVAL);
        assert_int_equal(rk_fpr_validate("0B450A705260ABABEF27224FD94627D0D5728376", NULL),
                         -EINVAL);
}

/* ---- add / layout ---- */

static void add_file(struct fx *f, const char *prefix, const char *file, int want,
                     struct rk_key_info *info)
{
        size_t n = 0;
        char *k = slurp(file, &n);
        rk_error e = RK_ERROR_INIT;
        struct rk_key_info tmp = {0};
        int r = rk_trust_add(&f->c, prefix, k, n, info ? info : &tmp, &e);
        if (r != want)
                fail_msg("add %s: got %d (%s), want %d", file, r, e.msg, want);
        rk_key_info_clear(&tmp);
        free(k);
        reap();
}

static void assert_mode(const char *path, mode_t want)
{
        struct stat st;
        assert_int_equal(lstat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, want);
}

static void test_add_layout_and_modes(void **state)
{
        struct fx *f = *state;
        char fpr[RK_FPR_LEN + 1], path[512];
        struct rk_key_info info = {0};
        fpr_of("good-rsa", fpr);
        mode_t old = umask(077); /* must not narrow the store (rkt #3780) */
        add_file(f, "example.com/app", KEYS "test-good-rsa.pub.asc", 0, &info);
        umask(old);
        snprintf(path, sizeof(path), "%s/trustedkeys/prefix.d/example.com/app/%s", f->local, fpr);
        assert_string_equal(info.path, path);
        assert_string_equal(info.fpr, fpr);
        assert_int_equal(info.n_uids, 1);
        assert_non_null(strstr(info.uids[0], "good-rsa@test.invalid"));
        assert_true(info.can_sign);
        assert_mode(path, 0644);
        snprintf(path, sizeof(path), "%s/trustedkeys/prefix.d/example.com/app", f->local);
        assert_mode(path, 0755);
        snprintf(path, sizeof(path), "%s/trustedkeys/prefix.d/example.com", f->local);
        assert_mode(path, 0755);
        snprintf(path, sizeof(path), "%s/trustedkeys", f->local);
        assert_mode(path, 0755);
        /* What is stored is one armored public key. */
        char *stored = slurp(info.path, NULL);
        assert_non_null(strstr(stored, "-----BEGIN PGP PUBLIC KEY BLOCK-----"));
        assert_null(strstr(stored, "PRIVATE"));
        free(stored);
        rk_key_info_clear(&info);

        add_file(f, NULL, KEYS "test-good-ed25519.pub.asc", 0, &info);
        fpr_of("good-ed25519", fpr);
        snprintf(path, sizeof(path), "%s/trustedkeys/root.d/%s", f->local, fpr);
        assert_string_equal(info.path, path);
        assert_mode(path, 0644);
        rk_key_info_clear(&info);
        /* Nothing is ever written to the vendor store. */
        struct stat st;
        assert_int_equal(stat(f->sys, &st), -1);
}

static void assert_no_store(struct fx *f)
{
        struct stat st;
        char path[256];
        snprintf(path, sizeof(path), "%s/trustedkeys", f->local);
        assert_int_equal(lstat(path, &st), -1);
}

static void test_add_refuses_bad_key_files(void **state)
{
        struct fx *f = *state;
        add_file(f, "example.com/app", KEYS "test-multi.pub.asc", -EBADMSG, NULL);
        add_file(f, "example.com/app", KEYS "test-good-rsa.sec.asc", -EBADMSG, NULL);
        add_file(f, "example.com/app", IMAGES "test.aci.good-rsa.asc", -EBADMSG, NULL);
        add_file(f, "example.com/app", IMAGES "test.aci", -EBADMSG, NULL); /* binary */
        add_file(f, "example.com/app", KEYS "test-revoked.pub.asc", -EKEYREVOKED, NULL);
        add_file(f, "example.com/app", KEYS "test-expired.pub.asc", -EKEYEXPIRED, NULL);
        assert_no_store(f);
}

static void test_add_refuses_secret_even_with_public(void **state)
{
        struct fx *f = *state;
        size_t a = 0, b = 0;
        char *pub = slurp(KEYS "test-good-rsa.pub.asc", &a);
        char *sec = slurp(KEYS "test-good-rsa.sec.asc", &b);
        char *both = malloc(a + b);
        memcpy(both, pub, a);
        memcpy(both + a, sec, b);
        rk_error e = RK_ERROR_INIT;
        assert_int_equal(rk_trust_add(&f->c, "example.com", both, a + b, NULL, &e), -EBADMSG);
        assert_non_null(strstr(e.msg, "secret"));
        free(pub);
        free(sec);
        free(both);
        assert_no_store(f);
        reap();
}

static void test_add_refuses_bad_prefix(void **state)
{
        struct fx *f = *state;
        static const char *bad[] = {"../evil", "example.com/../../x", "example.com/", "/abs",
                                    "https://example.com/app"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                add_file(f, bad[i], KEYS "test-good-rsa.pub.asc", -EINVAL, NULL);
        assert_no_store(f);
}

static void test_inspect_subkey(void **state)
{
        size_t n = 0;
        char *k = slurp(KEYS "test-subkey.pub.asc", &n);
        struct rk_key_info info = {0};
        char fpr[RK_FPR_LEN + 1];
        fpr_of("subkey", fpr);
        assert_int_equal(rk_key_inspect(k, n, &info, NULL), 0);
        assert_string_equal(info.fpr, fpr);
        assert_int_equal(info.n_subkeys, 1);
        assert_true(info.subkeys[0].can_sign);
        assert_false(info.subkeys[0].can_certify);
        assert_string_not_equal(info.subkeys[0].fpr, fpr);
        assert_true(info.can_sign);
        assert_string_equal(info.subkeys[0].algo, "ed25519");
        rk_key_info_clear(&info);
        free(k);
        reap();
}

static void test_inspect_escapes_uids(void **state)
{
        char *s = rk_escape_untrusted("evil\x1b[2J\x07 name\\ <a@b>\xc3\xa9", 200);
        assert_string_equal(s, "evil\\x1b[2J\\x07 name\\x5c <a@b>\\xc3\\xa9");
        free(s);
}

/* ---- the fixture matrix ---- */

struct sig_case {
        const char *sig;
        const char *key1, *key2; /* trusted for "example.com" */
        int want;
        const char *msg; /* substring of the message */
};

static const struct sig_case cases[] = {
    {"good-rsa", "good-rsa", NULL, 0, NULL},
    {"good-ed25519", "good-ed25519", NULL, 0, NULL},
    {"subkey", "subkey", NULL, 0, NULL},
    {"wrong-usage", "wrong-usage", NULL, -EKEYREJECTED, "not allowed to sign"},
    {"expired", "expired", NULL, -EKEYEXPIRED, "expired"},
    {"revoked", "revoked", NULL, -EKEYREVOKED, "revoked"},
    {"sha1", "sha1", NULL, -EKEYREJECTED, "hash"},
    {"sig-expired", "good-rsa", NULL, -EKEYEXPIRED, "signature"},
    {"critical-notation", "good-rsa", NULL, -EKEYREJECTED, "does not match"},
    {"future", "good-rsa", NULL, -EKEYREJECTED, "future"},
    {"other-image", "good-rsa", NULL, -EKEYREJECTED, "does not match"},
    {"two-sigs", "good-rsa", "good-ed25519", -EKEYREJECTED, "exactly one"},
    {"garbage", "good-rsa", NULL, -EBADMSG, "not an OpenPGP signature"},
    /* Good signature, key not trusted for the name: rkt's "unknown entity". */
    {"good-rsa", "good-ed25519", NULL, -EKEYREJECTED, "rkt trust --prefix " NAME},
};

static void test_fixture_matrix(void **state)
{
        struct fx *f = *state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const struct sig_case *c = &cases[i];
                (void)rk_rm_rf_at(AT_FDCWD, f->sys, NULL);
                install_key(f->sys, "example.com", c->key1);
                if (c->key2)
                        install_key(f->sys, "example.com", c->key2);
                rk_error e = RK_ERROR_INIT;
                struct rk_verify_result res = {0};
                int r = verify_as(f, NAME, "test.aci", c->sig, &res, &e);
                if (r != c->want)
                        fail_msg("%s: got %d (%s), want %d", c->sig, r, e.msg, c->want);
                if (c->msg && !strstr(e.msg, c->msg))
                        fail_msg("%s: message '%s' lacks '%s'", c->sig, e.msg, c->msg);
                if (r == 0) {
                        char fpr[RK_FPR_LEN + 1];
                        fpr_of(c->key1, fpr);
                        /* The signer is the primary, also for a subkey signature. */
                        assert_string_equal(res.signer, fpr);
                        assert_string_equal(res.prefix, "example.com");
                        assert_true(res.hash_algo == 8 || res.hash_algo == 10);
                        assert_true(res.sig_time > 0);
                        assert_non_null(res.signer_uid);
                } else
                        assert_null(res.prefix); /* untouched on failure */
                rk_verify_result_clear(&res);
        }
}

static void test_no_key_for_prefix(void **state)
{
        struct fx *f = *state;
        rk_error e = RK_ERROR_INIT;
        assert_int_equal(verify(f, NAME, "good-rsa", &e), -ENOKEY);
        assert_non_null(strstr(e.msg, "rkt trust --prefix " NAME));
}

/* rkt's TestTrust, without fetch: wrong prefix, right prefix wrong key, right key, unrelated
 * prefixes do not widen trust, root covers everything. */
static void test_rkt_trust_matrix(void **state)
{
        struct fx *f = *state;
        install_key(f->local, "example.com/other", "good-rsa");
        assert_int_equal(verify(f, NAME, "good-rsa", NULL), -ENOKEY);
        install_key(f->local, NAME, "good-ed25519");
        assert_int_equal(verify(f, NAME, "good-rsa", NULL), -EKEYREJECTED);
        install_key(f->local, NAME, "good-rsa");
        assert_int_equal(verify(f, NAME, "good-rsa", NULL), 0);
        assert_int_equal(verify(f, "example.com/other", "good-rsa", NULL), 0);
        assert_int_equal(verify(f, "example.com/third", "good-rsa", NULL), -ENOKEY);
        install_key(f->local, NULL, "good-ed25519");
        assert_int_equal(verify(f, "example.com/third", "good-ed25519", NULL), 0);
        assert_int_equal(verify(f, "other.org/x", "good-ed25519", NULL), 0);
        assert_int_equal(verify(f, "other.org/x", "good-rsa", NULL), -EKEYREJECTED);
}

static void test_prefix_components_both_ways(void **state)
{
        struct fx *f = *state;
        struct rk_verify_result res = {0};
        /* A key for "example.com/te" must not cover "example.com/test" (rkt loaded it). */
        install_key(f->local, "example.com/te", "good-rsa");
        assert_int_equal(verify(f, NAME, "good-rsa", NULL), -ENOKEY);
        /* A key for a longer name does not cover the shorter one. */
        install_key(f->local, NAME "/sub", "good-rsa");
        assert_int_equal(verify(f, NAME, "good-rsa", NULL), -ENOKEY);
        /* A key for the name covers the name and the names below it. */
        install_key(f->local, NAME, "good-rsa");
        assert_int_equal(verify(f, NAME, "good-rsa", NULL), 0);
        assert_int_equal(verify_as(f, NAME "/sub/deeper", "test.aci", "good-rsa", &res, NULL), 0);
        assert_string_equal(res.prefix, NAME "/sub"); /* the most specific level */
        rk_verify_result_clear(&res);
        assert_int_equal(verify(f, NAME "ing", "good-rsa", NULL), -ENOKEY);
}

static void test_masks(void **state)
{
        struct fx *f = *state;
        char fpr[RK_FPR_LEN + 1];
        fpr_of("good-rsa", fpr);
        install_key(f->sys, "example.com", "good-rsa");
        assert_int_equal(verify(f, NAME, "good-rsa", NULL), 0);
        /* A mask for a sibling prefix does not apply. */
        install(f->local, "example.com/other", fpr, NULL);
        assert_int_equal(verify(f, NAME, "good-rsa", NULL), 0);
        /* An empty vendor file is no mask. */
        install(f->sys, NAME, fpr, NULL);
        assert_int_equal(verify(f, NAME, "good-rsa", NULL), 0);
        /* The empty local file at the same location masks the vendor key. */
        install(f->local, "example.com", fpr, NULL);
        assert_int_equal(verify(f, NAME, "good-rsa", NULL), -ENOKEY);
        /* A mask wins even over a local copy at a deeper level. */
        install_key(f->local, NAME, "good-rsa");
        assert_int_equal(verify(f, NAME, "good-rsa", NULL), -ENOKEY);
        (void)rk_rm_rf_at(AT_FDCWD, f->local, NULL);
        /* A local root.d mask masks the key at every prefix. */
        install(f->local, NULL, fpr, NULL);
        assert_int_equal(verify(f, NAME, "good-rsa", NULL), -ENOKEY);
}

static void test_store_file_hygiene(void **state)
{
        struct fx *f = *state;
        char rsa[RK_FPR_LEN + 1], ed[RK_FPR_LEN + 1];
        rk_error e = RK_ERROR_INIT;
        fpr_of("good-rsa", rsa);
        fpr_of("good-ed25519", ed);
        /* The file name must be the key's fingerprint. */
        install(f->sys, "example.com", ed, KEYS "test-good-rsa.pub.asc");
        assert_int_equal(verify(f, NAME, "good-rsa", &e), -EBADMSG);
        assert_non_null(strstr(e.msg, "not the key its name says"));
        (void)rk_rm_rf_at(AT_FDCWD, f->sys, NULL);
        /* One key per file. */
        install(f->sys, "example.com", rsa, KEYS "test-multi.pub.asc");
        assert_int_equal(verify(f, NAME, "good-rsa", &e), -EBADMSG);
        assert_non_null(strstr(e.msg, "2 keys"));
        (void)rk_rm_rf_at(AT_FDCWD, f->sys, NULL);
        /* No secret keys. */
        install(f->sys, "example.com", rsa, KEYS "test-good-rsa.sec.asc");
        assert_int_equal(verify(f, NAME, "good-rsa", &e), -EBADMSG);
        (void)rk_rm_rf_at(AT_FDCWD, f->sys, NULL);
        /* Names that are not fingerprints are not keys; dot files (interrupted writes) too. */
        install(f->sys, "example.com", "README", KEYS "test-good-rsa.pub.asc");
        install(f->sys, "example.com", ".#tmp", KEYS "test-good-rsa.pub.asc");
        assert_int_equal(verify(f, NAME, "good-rsa", NULL), -ENOKEY);
}

static void test_store_symlink_refused(void **state)
{
        struct fx *f = *state;
        char other[256], link[256];
        install_key(f->sys, "elsewhere.org", "good-rsa");
        assert_int_equal(rk_mkdir_p(f->local, 0755, NULL), 0);
        snprintf(other, sizeof(other), "%s/trustedkeys/prefix.d/elsewhere.org", f->sys);
        snprintf(link, sizeof(link), "%s/trustedkeys/prefix.d/example.com", f->sys);
        assert_int_equal(symlink(other, link), 0);
        rk_error e = RK_ERROR_INIT;
        assert_int_equal(verify(f, NAME, "good-rsa", &e), -ELOOP);
        assert_non_null(strstr(e.msg, "symlink"));
}

static void test_verify_input_checks(void **state)
{
        struct fx *f = *state;
        install_key(f->sys, NULL, "good-rsa");
        int fd = open(IMAGES "test.aci", O_RDONLY | O_CLOEXEC);
        struct rk_verify_result res = {0};
        static char big[RK_TRUST_SIG_MAX + 1];
        assert_int_equal(rk_trust_verify(&f->c, NAME, fd, big, sizeof(big), &res, NULL), -EFBIG);
        assert_int_equal(rk_trust_verify(&f->c, NAME, fd, "", 0, &res, NULL), -EBADMSG);
        assert_int_equal(rk_trust_verify(&f->c, "../x", fd, "x", 1, &res, NULL), -EINVAL);
        assert_int_equal(rk_trust_verify(&f->c, "Example.com", fd, "x", 1, &res, NULL), -EINVAL);
        close(fd);
}

/* The image is read through its fd from offset 0 whatever the fd's position, and never
 * reopened by path: swapping the file under the path changes nothing. */
static void test_verify_reads_the_fd(void **state)
{
        struct fx *f = *state;
        install_key(f->sys, NULL, "good-rsa");
        char path[128], other[128];
        snprintf(path, sizeof(path), "%s/img.aci", f->dir);
        snprintf(other, sizeof(other), "%s/other.aci", f->dir);
        size_t n = 0, sn = 0;
        char *img = slurp(IMAGES "test.aci", &n);
        int dfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_int_equal(rk_write_file_atomic_at(dfd, "img.aci", img, n, 0644, NULL), 0);
        free(img);
        img = slurp(IMAGES "other.aci", &n);
        assert_int_equal(rk_write_file_atomic_at(dfd, "other.aci", img, n, 0644, NULL), 0);
        close(dfd);
        free(img);
        char *sig = slurp(IMAGES "test.aci.good-rsa.asc", &sn);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(rename(other, path), 0);
        assert_true(lseek(fd, 0, SEEK_END) > 0);
        struct rk_verify_result res = {0};
        assert_int_equal(rk_trust_verify(&f->c, NAME, fd, sig, sn, &res, NULL), 0);
        rk_verify_result_clear(&res);
        close(fd);
        /* And the swapped-in file does not verify. */
        fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_int_equal(rk_trust_verify(&f->c, NAME, fd, sig, sn, &res, NULL), -EKEYREJECTED);
        close(fd);
        free(sig);
        reap();
}

/* ---- no daemons, no leftovers ---- */

/* Live (not zombie) GnuPG daemons whose command line mentions needle. */
static int daemons_mentioning(const char *needle)
{
        static const char *names[] = {"gpg-agent", "dirmngr", "keyboxd", "scdaemon"};
        int found = 0;
        DIR *d = opendir("/proc");
        struct dirent *de;
        while (d && (de = readdir(d))) {
                char p[300], buf[4096] = {0};
                if (de->d_name[0] < '0' || de->d_name[0] > '9')
                        continue;
                snprintf(p, sizeof(p), "/proc/%s/stat", de->d_name);
                FILE *fp = fopen(p, "re");
                if (!fp)
                        continue;
                char comm[64] = {0}, st = 0;
                int ok = fscanf(fp, "%*d (%63[^)]) %c", comm, &st) == 2;
                fclose(fp);
                if (!ok || st == 'Z')
                        continue;
                bool daemon = false;
                for (size_t i = 0; i < ELEMENTSOF(names); i++)
                        daemon |= strcmp(comm, names[i]) == 0;
                if (!daemon)
                        continue;
                snprintf(p, sizeof(p), "/proc/%s/cmdline", de->d_name);
                int fd = open(p, O_RDONLY | O_CLOEXEC);
                ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
                if (fd >= 0)
                        close(fd);
                for (ssize_t i = 0; i < n; i++)
                        if (!buf[i])
                                buf[i] = ' ';
                if (n > 0 && strstr(buf, needle))
                        found++;
        }
        if (d)
                closedir(d);
        return found;
}

static bool dir_is_empty(const char *path)
{
        DIR *d = opendir(path);
        struct dirent *de;
        bool empty = true;
        while (d && (de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        empty = false;
        if (d)
                closedir(d);
        return empty;
}

static void test_no_daemon_left_and_home_removed(void **state)
{
        struct fx *f = *state;
        install_key(f->sys, "example.com", "good-rsa");
        install_key(f->sys, "example.com", "good-ed25519");
        assert_int_equal(verify(f, NAME, "good-rsa", NULL), 0);
        assert_int_equal(verify(f, NAME, "two-sigs", NULL), -EKEYREJECTED);
        assert_int_equal(verify(f, NAME, "garbage", NULL), -EBADMSG);
        char tmp[128];
        snprintf(tmp, sizeof(tmp), "%s/tmp", f->data);
        /* The private homes went under <data>/tmp (0700), and are gone. */
        assert_mode(tmp, 040700 & 07777);
        assert_true(dir_is_empty(tmp));
        assert_int_equal(daemons_mentioning(f->dir), 0);
}

/* First layer: the home's gpg.conf keeps GnuPG from starting an agent at all (GnuPG 2.2.40
 * starts one for a plain public-key import otherwise). */
static void test_home_starts_no_agent(void **state)
{
        struct fx *f = *state;
        struct rk_gpg_home h;
        char fpr[RK_FPR_LEN + 1];
        size_t n = 0;
        char *k = slurp(KEYS "test-good-rsa.pub.asc", &n);
        assert_int_equal(rk_gpg_home_open(f->data, &h, NULL), 0);
        assert_true(strlen(h.path) <= RK_GPG_HOME_MAX);
        assert_mode(h.path, 0700);
        assert_int_equal(rk_gpg_import_key(&h, "k", k, n, fpr, NULL), 0);
        DIR *d = opendir(h.path);
        struct dirent *de;
        while ((de = readdir(d)))
                if (strncmp(de->d_name, "S.", 2) == 0)
                        fail_msg("agent socket %s appeared in the home", de->d_name);
        closedir(d);
        assert_int_equal(daemons_mentioning(h.path), 0);
        rk_gpg_home_close(&h);
        free(k);
        reap();
}

/* Second layer: an agent that does appear in a home is gone once the home is closed
 * ("gpgconf --kill all", and gpg-agent also exits when it sees its socket removed). */
static void test_home_close_kills_agent(void **state)
{
        struct fx *f = *state;
        struct rk_gpg_home h;
        char cmd[512], home[PATH_MAX];
        assert_int_equal(rk_gpg_home_open(f->data, &h, NULL), 0);
        snprintf(home, sizeof(home), "%s", h.path);
        snprintf(cmd, sizeof(cmd), "gpgconf --homedir %s --launch gpg-agent >/dev/null 2>&1", home);
        assert_int_equal(system(cmd), 0);
        reap();
        assert_int_equal(daemons_mentioning(home), 1);
        rk_gpg_home_close(&h);
        for (int i = 0; i < 50 && daemons_mentioning(home); i++) {
                reap();
                usleep(20000);
        }
        assert_int_equal(daemons_mentioning(home), 0);
        struct stat st;
        assert_int_equal(lstat(home, &st), -1);
}

/* ---- the verdict function, with values GnuPG would not give us ---- */

static struct rk_sig_facts good_facts(void)
{
        struct rk_sig_facts f = {
            .n_sigs = 1,
            .hash_algo = GPGME_MD_SHA256,
            .timestamp = 1700000000,
            .subkey_can_sign = true,
        };
        strcpy(f.sig_fpr, "3d93d6343b1f30bffa23feba83f44f5f17693758");
        strcpy(f.raw_fpr, f.sig_fpr);
        strcpy(f.primary_fpr, "771b1e1557df9857c89032f7613e765f27768d3f");
        return f;
}

static int judge(const struct rk_sig_facts *f)
{
        static const char *allowed[] = {"0b450a705260ababef27224fd94627d0d5728376",
                                        "771b1e1557df9857c89032f7613e765f27768d3f"};
        size_t idx = 99;
        rk_error e = RK_ERROR_INIT;
        int r = rk_trust_judge(f, NAME, allowed, 2, 1700000100, &idx, &e);
        if (r == 0)
                assert_int_equal(idx, 1);
        else
                assert_true(e.msg[0]);
        return r;
}

static void test_judge(void **state)
{
        struct rk_sig_facts f = good_facts();
        assert_int_equal(judge(&f), 0);
#define EXPECT(field_stmt, want)                                                                   \
        do {                                                                                       \
                f = good_facts();                                                                  \
                field_stmt;                                                                        \
                assert_int_equal(judge(&f), want);                                                 \
        } while (0)
        EXPECT(f.n_sigs = 0, -EBADMSG);
        EXPECT(f.n_sigs = 2, -EKEYREJECTED);
        EXPECT(f.status = GPG_ERR_BAD_SIGNATURE, -EKEYREJECTED);
        EXPECT(f.status = GPG_ERR_NO_PUBKEY, -EKEYREJECTED);
        EXPECT(f.status = GPG_ERR_KEY_EXPIRED, -EKEYEXPIRED);
        EXPECT(f.status = GPG_ERR_SIG_EXPIRED, -EKEYEXPIRED);
        EXPECT(f.status = GPG_ERR_CERT_REVOKED, -EKEYREVOKED);
        EXPECT(f.status = GPG_ERR_DIGEST_ALGO, -EKEYREJECTED);
        EXPECT(f.status = GPG_ERR_WRONG_KEY_USAGE, -EKEYREJECTED);
        EXPECT(f.status = GPG_ERR_GENERAL, -EKEYREJECTED);
        /* gpgme's own wrong_key_usage flag, and a signer subkey without the sign flag. */
        EXPECT(f.wrong_key_usage = true, -EKEYREJECTED);
        EXPECT(f.subkey_can_sign = false, -EKEYREJECTED);
        EXPECT(f.validity = GPGME_VALIDITY_NEVER, -EKEYREJECTED);
        EXPECT(f.validity_reason = GPG_ERR_GENERAL, -EKEYREJECTED);
        /* Weak hashes with a good status: the weak-digest layer removed. */
        EXPECT(f.hash_algo = GPGME_MD_SHA1, -EKEYREJECTED);
        EXPECT(f.hash_algo = GPGME_MD_MD5, -EKEYREJECTED);
        EXPECT(f.hash_algo = GPGME_MD_RMD160, -EKEYREJECTED);
        EXPECT(f.hash_algo = GPGME_MD_SHA224, -EKEYREJECTED);
        EXPECT(f.hash_algo = GPGME_MD_SHA384, 0);
        EXPECT(f.hash_algo = GPGME_MD_SHA512, 0);
        EXPECT(f.critical_notation = true, -EKEYREJECTED);
        EXPECT(f.timestamp = 0, -EKEYREJECTED);
        EXPECT(f.timestamp = 1700000100 + RK_SIG_CLOCK_SKEW + 1, -EKEYREJECTED);
        EXPECT(f.timestamp = 1700000100 + RK_SIG_CLOCK_SKEW, 0);
        EXPECT(f.exp_timestamp = 1700000050, -EKEYEXPIRED);
        EXPECT(f.exp_timestamp = 1800000000, 0);
        /* Key state with a good status (GnuPG would have said so; we check anyway). */
        EXPECT(f.key_revoked = true, -EKEYREVOKED);
        EXPECT(f.subkey_revoked = true, -EKEYREVOKED);
        EXPECT(f.summary = GPGME_SIGSUM_KEY_REVOKED, -EKEYREVOKED);
        EXPECT(f.key_expired = true, -EKEYEXPIRED);
        EXPECT(f.subkey_expired = true, -EKEYEXPIRED);
        EXPECT(f.summary = GPGME_SIGSUM_SIG_EXPIRED, -EKEYEXPIRED);
        EXPECT(f.summary = GPGME_SIGSUM_RED, -EKEYREJECTED);
        EXPECT(f.key_invalid = true, -EKEYREJECTED);
        EXPECT(f.key_disabled = true, -EKEYREJECTED);
        /* The primary decides: a subkey fingerprint in the allowed set is not enough. */
        EXPECT(f.primary_fpr[0] = 0, -EKEYREJECTED);
        EXPECT(strcpy(f.primary_fpr, f.sig_fpr), -EKEYREJECTED);
        EXPECT(strcpy(f.primary_fpr, "0000000000000000000000000000000000000000"), -EKEYREJECTED);
#undef EXPECT
}

/* ---- list / remove / undo ---- */

static const struct rk_trust_entry *find_entry(const struct rk_trust_entry *v, size_t n,
                                               const char *fpr, enum rk_trust_source src,
                                               const char *prefix)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(v[i].fpr, fpr) == 0 && v[i].source == src &&
                    ((!prefix && !v[i].prefix) ||
                     (prefix && v[i].prefix && strcmp(prefix, v[i].prefix) == 0)))
                        return &v[i];
        return NULL;
}

static void test_list(void **state)
{
        struct fx *f = *state;
        char rsa[RK_FPR_LEN + 1], ed[RK_FPR_LEN + 1];
        fpr_of("good-rsa", rsa);
        fpr_of("good-ed25519", ed);
        install_key(f->sys, NULL, "good-rsa");
        install_key(f->sys, "example.com/app", "good-ed25519");
        install(f->local, NULL, rsa, NULL);                                       /* mask */
        install(f->local, "example.com/app/x", ed, KEYS "test-good-rsa.pub.asc"); /* wrong */
        install_key(f->local, "example.com", "expired");
        struct rk_trust_entry *v = NULL;
        size_t n = 0;
        assert_int_equal(rk_trust_list(&f->c, &v, &n, NULL), 0);
        reap();
        assert_int_equal(n, 5);
        const struct rk_trust_entry *e = find_entry(v, n, rsa, RK_TRUST_SYSTEM, NULL);
        assert_non_null(e);
        assert_false(e->mask);
        assert_null(e->error);
        assert_non_null(strstr(e->info.uids[0], "good-rsa"));
        e = find_entry(v, n, rsa, RK_TRUST_LOCAL, NULL);
        assert_non_null(e);
        assert_true(e->mask);
        e = find_entry(v, n, ed, RK_TRUST_SYSTEM, "example.com/app");
        assert_non_null(e);
        assert_null(e->error);
        e = find_entry(v, n, ed, RK_TRUST_LOCAL, "example.com/app/x");
        assert_non_null(e);
        assert_non_null(e->error);
        char exp[RK_FPR_LEN + 1];
        fpr_of("expired", exp);
        e = find_entry(v, n, exp, RK_TRUST_LOCAL, "example.com");
        assert_non_null(e);
        assert_true(e->info.expired);
        assert_true(e->info.expires > 0);
        rk_trust_entries_free(v, n);
}

static void test_remove(void **state)
{
        struct fx *f = *state;
        char rsa[RK_FPR_LEN + 1], ed[RK_FPR_LEN + 1], path[512];
        fpr_of("good-rsa", rsa);
        fpr_of("good-ed25519", ed);
        install_key(f->local, NAME, "good-rsa");
        rk_error e = RK_ERROR_INIT;
        assert_int_equal(rk_trust_remove(&f->c, rsa, NAME, &e), RK_TRUST_REMOVED);
        snprintf(path, sizeof(path), "%s/trustedkeys/prefix.d/%s/%s", f->local, NAME, rsa);
        struct stat st;
        assert_int_equal(lstat(path, &st), -1);
        assert_int_equal(rk_trust_remove(&f->c, rsa, NAME, &e), -ENOENT);
        assert_non_null(strstr(e.msg, "rkt trust --list"));
        /* A vendor key is masked, not deleted. */
        install_key(f->sys, NAME, "good-ed25519");
        assert_int_equal(verify(f, NAME, "good-ed25519", NULL), 0);
        assert_int_equal(rk_trust_remove(&f->c, ed, NAME, NULL), RK_TRUST_MASKED);
        snprintf(path, sizeof(path), "%s/trustedkeys/prefix.d/%s/%s", f->local, NAME, ed);
        assert_int_equal(lstat(path, &st), 0);
        assert_int_equal(st.st_size, 0);
        assert_mode(path, 0644);
        assert_int_equal(verify(f, NAME, "good-ed25519", NULL), -ENOKEY);
        snprintf(path, sizeof(path), "%s/trustedkeys/prefix.d/%s/%s", f->sys, NAME, ed);
        assert_int_equal(lstat(path, &st), 0);
        assert_true(st.st_size > 0);
        /* Removing it again: already not trusted. */
        assert_int_equal(rk_trust_remove(&f->c, ed, NAME, NULL), -ENOENT);
        /* Bad input. */
        assert_int_equal(rk_trust_remove(&f->c, "D94627D0D5728376", NAME, NULL), -EINVAL);
        assert_int_equal(rk_trust_remove(&f->c, rsa, "../x", NULL), -EINVAL);
        /* Re-adding replaces the mask. */
        add_file(f, NAME, KEYS "test-good-ed25519.pub.asc", 0, NULL);
        assert_int_equal(verify(f, NAME, "good-ed25519", NULL), 0);
}

static void test_snapshot_restore(void **state)
{
        struct fx *f = *state;
        char rsa[RK_FPR_LEN + 1], path[512];
        fpr_of("good-rsa", rsa);
        snprintf(path, sizeof(path), "%s/trustedkeys/root.d/%s", f->local, rsa);
        struct rk_trust_snapshot s = {0};
        struct stat st;
        /* Undo an add. */
        assert_int_equal(rk_trust_snapshot_take(&f->c, rsa, NULL, &s, NULL), 0);
        assert_false(s.existed);
        add_file(f, NULL, KEYS "test-good-rsa.pub.asc", 0, NULL);
        assert_int_equal(lstat(path, &st), 0);
        assert_int_equal(rk_trust_snapshot_restore(&f->c, &s, NULL), 0);
        assert_int_equal(lstat(path, &st), -1);
        rk_trust_snapshot_clear(&s);
        /* Undo a remove. */
        add_file(f, NULL, KEYS "test-good-rsa.pub.asc", 0, NULL);
        size_t n1 = 0, n2 = 0;
        char *before = slurp(path, &n1);
        assert_int_equal(rk_trust_snapshot_take(&f->c, rsa, NULL, &s, NULL), 0);
        assert_true(s.existed);
        assert_int_equal(rk_trust_remove(&f->c, rsa, NULL, NULL), RK_TRUST_REMOVED);
        assert_int_equal(rk_trust_snapshot_restore(&f->c, &s, NULL), 0);
        char *after = slurp(path, &n2);
        assert_int_equal(n1, n2);
        assert_memory_equal(before, after, n1);
        free(before);
        free(after);
        rk_trust_snapshot_clear(&s);
}

/* ---- name known only after verification (fetch of a file or URL) ---- */

static int verify_any(struct fx *f, const char *sig, struct rk_verify_result *res, rk_error *e)
{
        char spath[128];
        snprintf(spath, sizeof(spath), IMAGES "test.aci.%s.asc", sig);
        size_t n = 0;
        char *s = slurp(spath, &n);
        int fd = open(IMAGES "test.aci", O_RDONLY | O_CLOEXEC);
        struct rk_verify_result tmp = {0};
        int r = rk_trust_verify_any(&f->c, fd, s, n, res ? res : &tmp, e);
        close(fd);
        free(s);
        rk_verify_result_clear(&tmp);
        reap();
        return r;
}

static void test_verify_any_and_bind(void **state)
{
        struct fx *f = *state;
        char rsa[RK_FPR_LEN + 1];
        fpr_of("good-rsa", rsa);
        rk_error e = RK_ERROR_INIT;
        assert_int_equal(verify_any(f, "good-rsa", NULL, &e), -ENOKEY);
        install_key(f->sys, "example.com/app", "good-rsa");
        install_key(f->sys, "example.com/app", "sha1");
        struct rk_verify_result res = {0};
        assert_int_equal(verify_any(f, "good-rsa", &res, &e), 0);
        assert_string_equal(res.signer, rsa);
        /* No prefix until the name is bound: policy refuses such a result. */
        assert_null(res.prefix);
        struct rk_policy *p = NULL;
        struct rk_policy_decision d;
        const char *json = "{\"default\": {\"type\": \"signed\"}}";
        assert_int_equal(rk_policy_parse("t", json, strlen(json), &p, NULL), 0);
        assert_int_equal(rk_policy_decide(p, "example.com/app", &res, false, &d, NULL),
                         -EKEYREJECTED);
        char *prefix = NULL;
        assert_int_equal(rk_trust_signer_prefix(&f->c, rsa, "example.com/app/x", &prefix, NULL), 0);
        assert_string_equal(prefix, "example.com/app");
        res.prefix = prefix;
        assert_int_equal(rk_policy_decide(p, "example.com/app/x", &res, false, &d, NULL), 0);
        rk_policy_free(p);
        rk_verify_result_clear(&res);
        /* A key for example.com/app does not bind to example.com/application. */
        assert_int_equal(rk_trust_signer_prefix(&f->c, rsa, "example.com/application", &prefix, &e),
                         -EKEYREJECTED);
        assert_non_null(strstr(e.msg, "rkt trust --prefix example.com/application"));
        /* Every refusal of the normal verifier applies. */
        assert_int_equal(verify_any(f, "sha1", NULL, NULL), -EKEYREJECTED);
        assert_int_equal(verify_any(f, "other-image", NULL, NULL), -EKEYREJECTED);
        assert_int_equal(verify_any(f, "good-ed25519", NULL, &e), -EKEYREJECTED);
        assert_non_null(strstr(e.msg, "not trusted for any image name"));
        /* A mask below the key's location leaves it trusted elsewhere, not there. */
        install(f->local, "example.com/app/x", rsa, NULL);
        assert_int_equal(verify_any(f, "good-rsa", NULL, NULL), 0);
        assert_int_equal(rk_trust_signer_prefix(&f->c, rsa, "example.com/app/x", &prefix, NULL),
                         -EKEYREJECTED);
        /* A mask at the key's location or above removes it from the keyring. */
        install(f->local, "example.com", rsa, NULL);
        assert_int_equal(verify_any(f, "good-rsa", NULL, NULL), -EKEYREJECTED);
}

static void test_signer_known(void **state)
{
        struct fx *f = *state;
        static const struct {
                const char *sig;
                int want;
        } v[] = {
            {"good-rsa", 0},
            {"subkey", 0},
            {"good-ed25519", -EKEYREJECTED},
            {"sha1", -EKEYREJECTED},
            {"garbage", -EBADMSG},
            /* GnuPG stops at the first bad signature over the empty data, so the pre-check
             * cannot count them; the verification proper refuses this file. */
            {"two-sigs", 0},
        };
        size_t n = 0;
        char *s = slurp(IMAGES "test.aci.good-rsa.asc", &n);
        assert_int_equal(rk_trust_signer_known(&f->c, s, n, NULL), -ENOKEY);
        free(s);
        install_key(f->sys, "example.com", "good-rsa");
        install_key(f->local, NULL, "subkey");
        install_key(f->local, "x.org", "sha1");
        for (size_t i = 0; i < ELEMENTSOF(v); i++) {
                char path[128];
                rk_error e = RK_ERROR_INIT;
                snprintf(path, sizeof(path), IMAGES "test.aci.%s.asc", v[i].sig);
                s = slurp(path, &n);
                int r = rk_trust_signer_known(&f->c, s, n, &e);
                if (r != v[i].want)
                        fail_msg("%s: got %d (%s), want %d", v[i].sig, r, e.msg, v[i].want);
                free(s);
                reap();
        }
}

/* ---- verify, then policy ---- */

static void test_verify_then_policy(void **state)
{
        struct fx *f = *state;
        char rsa[RK_FPR_LEN + 1], ed[RK_FPR_LEN + 1], json[512];
        fpr_of("good-rsa", rsa);
        fpr_of("good-ed25519", ed);
        install_key(f->sys, "example.com", "good-rsa");
        install_key(f->sys, "example.com", "good-ed25519");
        snprintf(json, sizeof(json),
                 "{\"default\": {\"type\": \"signed\"}, \"prefixes\": {\"%s\": "
                 "{\"type\": \"signedBy\", \"keys\": [\"%s\"]}}}",
                 NAME, ed);
        struct rk_policy *p = NULL;
        assert_int_equal(rk_policy_parse("test", json, strlen(json), &p, NULL), 0);
        struct rk_verify_result res = {0};
        struct rk_policy_decision d;
        rk_error e = RK_ERROR_INIT;
        assert_int_equal(verify_as(f, NAME, "test.aci", "good-rsa", &res, NULL), 0);
        assert_int_equal(rk_policy_decide(p, NAME, &res, false, &d, &e), -EKEYREJECTED);
        assert_string_equal(d.rule, NAME);
        assert_non_null(strstr(e.msg, rsa));
        rk_verify_result_clear(&res);
        assert_int_equal(verify_as(f, NAME, "test.aci", "good-ed25519", &res, NULL), 0);
        assert_int_equal(rk_policy_decide(p, NAME, &res, false, &d, NULL), 0);
        assert_int_equal(d.verdict, RK_POLICY_VERIFIED);
        rk_verify_result_clear(&res);
        rk_policy_free(p);
}

int main(void)
{
        /* Orphaned GnuPG grandchildren are reparented to us and reaped (see reap()). */
        (void)prctl(PR_SET_CHILD_SUBREAPER, 1);
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
        const struct CMUnitTest tests[] = {
            T(test_prefix_validate),
            T(test_prefix_covers_whole_components),
            T(test_fpr_normalize),
            T(test_add_layout_and_modes),
            T(test_add_refuses_bad_key_files),
            T(test_add_refuses_secret_even_with_public),
            T(test_add_refuses_bad_prefix),
            T(test_inspect_subkey),
            T(test_inspect_escapes_uids),
            T(test_fixture_matrix),
            T(test_no_key_for_prefix),
            T(test_rkt_trust_matrix),
            T(test_prefix_components_both_ways),
            T(test_masks),
            T(test_store_file_hygiene),
            T(test_store_symlink_refused),
            T(test_verify_input_checks),
            T(test_verify_reads_the_fd),
            T(test_no_daemon_left_and_home_removed),
            T(test_home_starts_no_agent),
            T(test_home_close_kills_agent),
            T(test_judge),
            T(test_list),
            T(test_remove),
            T(test_snapshot_restore),
            T(test_verify_any_and_bind),
            T(test_signer_known),
            T(test_verify_then_policy),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
