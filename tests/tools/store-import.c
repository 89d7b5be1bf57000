/* SPDX-License-Identifier: Apache-2.0 */
/* TEST-ONLY driver that puts images into a store without rkt fetch (which verifies them):
 *
 *   store-import --dir DIR [--insecure] [--signer FPR [--prefix P] [--rule R]]
 *                [--sig FILE] [--tmpfile] [--render] FILE.aci...
 *
 * --insecure (the default) records the admission "insecure: image"; --signer records a
 * verified one without checking anything (tests of list/verify output only). --tmpfile copies
 * the file into rk_store_tmpfile() first (the no-copy path the fetch code uses). --render
 * renders each image into the tree store after importing it (what fetch and run will do).
 * Prints each image ID (and with --render its tree ID on the next line); "store-import:
 * <message>" and exit 1 on failure. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fileio.h"
#include "store/store.h"

static int fail(const char *msg)
{
        fprintf(stderr, "store-import: %s\n", msg);
        return 1;
}

static int import_one(struct rk_store *s, const char *path, bool tmpfile, bool render,
                      const char *sig, size_t sig_len, const struct rk_admission *adm)
{
        rk_error err = RK_ERROR_INIT;
        struct rk_image_info info = {0};
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "store-import: '%s': %s\n", path, strerror(errno));
                return 1;
        }
        if (tmpfile) {
                int t = rk_store_tmpfile_copy(s, fd, path, &err);
                close(fd);
                if (t < 0)
                        return fail(err.msg);
                fd = t;
        }
        int r = rk_store_import(s, fd, sig, sig_len, adm, &info, &err);
        close(fd);
        if (r < 0)
                return fail(err.msg);
        printf("%s\n", info.id);
        if (render) {
                struct rk_tree_info t = {0};
                r = rk_store_render(s, info.id, &t, &err);
                if (r >= 0)
                        printf("%s\n", t.id);
                rk_tree_info_clear(&t);
        }
        rk_image_info_clear(&info);
        return r < 0 ? fail(err.msg) : 0;
}

int main(int argc, char **argv)
{
        const char *dir = NULL, *sigfile = NULL;
        struct rk_admission adm = {0};
        bool tmpfile = false, render = false;
        int i;
        for (i = 1; i < argc && argv[i][0] == '-'; i++) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
                if (!strcmp(a, "--insecure"))
                        adm.insecure = "image";
                else if (!strcmp(a, "--tmpfile"))
                        tmpfile = true;
                else if (!strcmp(a, "--render"))
                        render = true;
                else if (v && !strcmp(a, "--dir"))
                        dir = argv[++i];
                else if (v && !strcmp(a, "--signer"))
                        adm.signer = argv[++i];
                else if (v && !strcmp(a, "--prefix"))
                        adm.prefix = argv[++i];
                else if (v && !strcmp(a, "--rule"))
                        adm.rule = argv[++i];
                else if (v && !strcmp(a, "--sig"))
                        sigfile = argv[++i];
                else
                        return fail("unknown option (see the comment at the top of "
                                    "store-import.c)");
        }
        if (!dir || i >= argc)
                return fail("usage: store-import --dir DIR [--insecure] FILE.aci...");
        if (!adm.signer)
                adm.insecure = "image";
        rk_error err = RK_ERROR_INIT;
        _cleanup_free_ char *sig = NULL;
        size_t sig_len = 0;
        if (sigfile && rk_read_file_at(AT_FDCWD, sigfile, 1 << 20, &sig, &sig_len, &err) < 0)
                return fail(err.msg);
        struct rk_store *s = NULL;
        if (rk_store_open(dir, &s, &err) < 0)
                return fail(err.msg);
        int ret = 0;
        for (; i < argc; i++)
                ret |= import_one(s, argv[i], tmpfile, render, sig, sig_len, &adm);
        rk_store_close(s);
        return ret;
}
