/* SPDX-License-Identifier: Apache-2.0 */
/* The signature verifier, fed arbitrary bytes as the detached signature over the fixed test
 * image (tests/data/images/test.aci). Oracle: nothing ever verifies. The trusted set is the
 * test keys whose every signature must be refused for what the key is (wrong usage, expired,
 * revoked, SHA-1), so a mutation of their signatures cannot legitimately pass; the good keys
 * are deliberately not trusted, so a copy of a good signature must fail as "unknown signer".
 * Any success is a forgery or a broken refusal: abort().
 *
 * GnuPG runs as a subprocess for every input (tens of milliseconds), so run this target with a
 * low -runs or a time limit. Fixtures are found relative to the working directory, or to the
 * binary (build-fuzz/ or build/fuzz/), or under $RKT_SRCDIR. */
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fileio.h"
#include "trust/trust.h"

#define NAME "example.com/test"

static const char *const trusted[] = {"wrong-usage", "expired", "revoked", "sha1"};

static char tmp[64], sys[96], local[96], data_dir[96];
static struct rk_trust_config cfg;
static int image_fd = -1;

static void cleanup(void)
{
        if (image_fd >= 0)
                close(image_fd);
        if (tmp[0])
                (void)rk_rm_rf_at(AT_FDCWD, tmp, NULL);
}

static bool have_fixtures(const char *root)
{
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/tests/data/images/test.aci", root);
        return access(p, R_OK) == 0;
}

static void find_root(const char *argv0, char *out, size_t size)
{
        const char *env = getenv("RKT_SRCDIR");
        char buf[PATH_MAX];
        if (env && have_fixtures(env)) {
                snprintf(out, size, "%s", env);
                return;
        }
        if (have_fixtures(".")) {
                snprintf(out, size, ".");
                return;
        }
        snprintf(buf, sizeof(buf), "%s", argv0 ? argv0 : ".");
        const char *d = dirname(buf);
        for (int up = 1; up <= 2; up++) {
                snprintf(out, size, "%s%s", d, up == 1 ? "/.." : "/../..");
                if (have_fixtures(out))
                        return;
        }
        fprintf(stderr, "fuzz-signature: cannot find tests/data/images/test.aci; run from the "
                        "repository root or set RKT_SRCDIR\n");
        abort();
}

static char *slurp(const char *path, size_t *len)
{
        char *buf = NULL;
        rk_error e = RK_ERROR_INIT;
        if (rk_read_file_at(AT_FDCWD, path, 1 << 20, &buf, len, &e) < 0) {
                fprintf(stderr, "fuzz-signature: %s\n", e.msg);
                abort();
        }
        return buf;
}

/* root.d/<fpr> in the system store, for each trusted test key. */
static void install_keys(const char *root)
{
        char dir[128], path[PATH_MAX], fpr[64];
        snprintf(dir, sizeof(dir), "%s/sys/trustedkeys/root.d", tmp);
        if (rk_mkdir_p(dir, 0755, NULL) < 0)
                abort();
        for (size_t i = 0; i < sizeof(trusted) / sizeof(*trusted); i++) {
                size_t n = 0;
                snprintf(path, sizeof(path), "%s/keys/test-%s.fpr", root, trusted[i]);
                char *f = slurp(path, &n);
                snprintf(fpr, sizeof(fpr), "%.40s", f);
                free(f);
                snprintf(path, sizeof(path), "%s/keys/test-%s.pub.asc", root, trusted[i]);
                char *key = slurp(path, &n);
                int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd < 0 || rk_write_file_atomic_at(dfd, fpr, key, n, 0644, NULL) < 0)
                        abort();
                close(dfd);
                free(key);
        }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        char root[PATH_MAX], path[PATH_MAX + 64];
        /* GnuPG double-forks: its orphans come back to us and are reaped after each input. */
        (void)prctl(PR_SET_CHILD_SUBREAPER, 1);
        find_root(argc && *argc > 0 ? (*argv)[0] : NULL, root, sizeof(root));
        snprintf(tmp, sizeof(tmp), "/tmp/rk-fuzz-sig-XXXXXX");
        if (!mkdtemp(tmp))
                abort();
        atexit(cleanup);
        install_keys(root);
        snprintf(sys, sizeof(sys), "%s/sys", tmp);
        snprintf(local, sizeof(local), "%s/local", tmp);
        snprintf(data_dir, sizeof(data_dir), "%s/data", tmp);
        if (mkdir(data_dir, 0700) < 0)
                abort();
        cfg = (struct rk_trust_config){
            .system_config = sys, .local_config = local, .data_dir = data_dir};
        snprintf(path, sizeof(path), "%s/tests/data/images/test.aci", root);
        image_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (image_fd < 0)
                abort();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > RK_TRUST_SIG_MAX)
                return 0;
        if (image_fd < 0)
                LLVMFuzzerInitialize(NULL, NULL);
        struct rk_verify_result res = {0};
        rk_error err = RK_ERROR_INIT;
        int r = rk_trust_verify(&cfg, NAME, image_fd, data, size, &res, &err);
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
        if (r == 0) {
                fprintf(stderr, "fuzz-signature: a signature verified: signer %s prefix '%s'\n",
                        res.signer, res.prefix ? res.prefix : "");
                abort();
        }
        /* Refusals carry their code and one line, and leave the result untouched. */
        if (err.code != r || !err.msg[0] || strchr(err.msg, '\n') || res.prefix || res.signer[0])
                abort();
        if (r != -EBADMSG && r != -EKEYREJECTED && r != -EKEYEXPIRED && r != -EKEYREVOKED &&
            r != -EFBIG) {
                fprintf(stderr, "fuzz-signature: unexpected error %d: %s\n", r, err.msg);
                abort();
        }
        return 0;
}
