/* SPDX-License-Identifier: Apache-2.0 */
/* rkt image build | validate | cat-manifest. The store-backed sub-verbs (list, rm, export,
 * extract, render, gc, verify) arrive with the image store. */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aci/archive.h"
#include "aci/build.h"
#include "aci/manifest.h"
#include "base/fileio.h"
#include "base/json.h"
#include "base/log.h"
#include "cli/cli.h"

static void help_build(void)
{
        printf("Usage: rkt image build [flags] DIR OUT.aci\n"
               "\n"
               "Build an ACI from an image layout: DIR holds 'manifest' and 'rootfs/'. The\n"
               "manifest is validated and stored canonically; entries are sorted and owners\n"
               "and times normalised, so the same DIR always gives the same image ID.\n"
               "Prints the image ID.\n"
               "\n"
               "Flags:\n"
               "  --manifest=FILE       take the manifest from FILE instead of DIR/manifest\n"
               "  --compression=C       gzip (default), none, bzip2, xz, zstd\n"
               "  --preserve-owners     keep numeric owners (default: everything 0:0)\n"
               "  --preserve-times      keep mtimes (default: $SOURCE_DATE_EPOCH, or 0)\n"
               "  --overwrite           replace OUT.aci if it exists\n"
               "  --full                print the full image ID\n");
}

static void help_validate(void)
{
        printf("Usage: rkt image validate [--full] FILE.aci...\n"
               "\n"
               "Check each image exactly as extraction would: the manifest against the appc\n"
               "schema, the archive layout, and every entry (paths, links, types, sizes,\n"
               "xattrs). Nothing is written. Prints each valid image's ID; exit status 1 if\n"
               "any image is invalid. --format=json prints one object per file.\n");
}

static void help_cat_manifest(void)
{
        printf("Usage: rkt image cat-manifest FILE.aci\n"
               "\n"
               "Validate the image and print its manifest as indented JSON.\n");
}

void rk_help_image(void)
{
        printf("Usage: rkt image COMMAND [flags] [args]\n"
               "\n"
               "Commands:\n"
               "  build         build a deterministic ACI from a manifest and rootfs/\n"
               "  validate      check ACI files as extraction would; print their image IDs\n"
               "  cat-manifest  print the manifest of an ACI file\n"
               "\n"
               "Run 'rkt image COMMAND --help' for a command's flags.\n");
}

static int source_date_epoch(int64_t *ret)
{
        const char *s = secure_getenv("SOURCE_DATE_EPOCH");
        *ret = 0;
        if (!s || !*s)
                return 0;
        char *end = NULL;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || *end || v < 0)
                return rk_usage_error("image build", "SOURCE_DATE_EPOCH='%s' is not a time", s);
        *ret = v;
        return 0;
}

/* OUT is created through an O_TMPFILE in its directory and linked in only when the build has
 * succeeded: a failed or killed build never leaves a partial OUT behind. */
static int open_output(const char *out, int *ret_dirfd, char **ret_leaf, rk_error *err)
{
        _cleanup_free_ char *copy = strdup(out);
        if (!copy)
                return rk_err(err, -ENOMEM, "out of memory");
        char *slash = strrchr(copy, '/');
        const char *dir = ".", *leaf = copy;
        if (slash) {
                *slash = 0;
                dir = slash == copy ? "/" : copy;
                leaf = slash + 1;
        }
        if (!*leaf)
                return rk_err(err, -EINVAL, "'%s': output must name a file", out);
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return rk_err_errno(err, negative_errno(), "'%s': cannot open directory", dir);
        int fd = openat(dfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
        if (fd < 0) {
                int r = negative_errno();
                (void)close(dfd);
                return rk_err_errno(err, r, "'%s': cannot create a temporary file", dir);
        }
        *ret_dirfd = dfd;
        *ret_leaf = strdup(leaf);
        return fd;
}

static int link_output(int fd, int dirfd, const char *leaf, bool overwrite, const char *out,
                       rk_error *err)
{
        char proc[64];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        if (fchmod(fd, 0644) < 0 || fsync(fd) < 0)
                return rk_err_errno(err, negative_errno(), "'%s': cannot write", out);
        if (!overwrite) {
                if (linkat(AT_FDCWD, proc, dirfd, leaf, AT_SYMLINK_FOLLOW) < 0) {
                        if (errno == EEXIST)
                                return rk_err(err, -EEXIST,
                                              "'%s' already exists; use --overwrite to replace it",
                                              out);
                        return rk_err_errno(err, negative_errno(), "'%s': cannot create", out);
                }
                return 0;
        }
        char tmp[NAME_MAX + 1];
        snprintf(tmp, sizeof(tmp), ".#%.200s.%d", leaf, (int)getpid());
        (void)unlinkat(dirfd, tmp, 0);
        if (linkat(AT_FDCWD, proc, dirfd, tmp, AT_SYMLINK_FOLLOW) < 0 ||
            renameat(dirfd, tmp, dirfd, leaf) < 0) {
                int r = negative_errno();
                (void)unlinkat(dirfd, tmp, 0);
                return rk_err_errno(err, r, "'%s': cannot replace", out);
        }
        return 0;
}

static int cmd_build(const struct rk_global *g, int argc, char **argv)
{
        static const struct option longopts[] = {
                {"manifest", required_argument, NULL, 'm'},
                {"compression", required_argument, NULL, 'c'},
                {"preserve-owners", no_argument, NULL, 'o'},
                {"preserve-times", no_argument, NULL, 't'},
                {"overwrite", no_argument, NULL, 'w'},
                {"full", no_argument, NULL, 'f'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        struct rk_build_opts opts = {0};
        const char *manifest = NULL;
        bool overwrite = false, full = false;
        int c;
        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) >= 0) {
                switch (c) {
                case 'm':
                        manifest = optarg;
                        break;
                case 'c':
                        if (rk_compression_from_string(optarg, &opts.compression) < 0)
                                return rk_usage_error("image build",
                                                      "--compression: unknown '%s' (gzip, none, "
                                                      "bzip2, xz, zstd)",
                                                      optarg);
                        break;
                case 'o':
                        opts.preserve_owners = true;
                        break;
                case 't':
                        opts.preserve_times = true;
                        break;
                case 'w':
                        overwrite = true;
                        break;
                case 'f':
                        full = true;
                        break;
                case 'h':
                        help_build();
                        return RK_EXIT_OK;
                default:
                        return rk_bad_option("image build", c, argv[optind - 1]);
                }
        }
        if (argc - optind != 2)
                return rk_usage_error("image build", "expected DIR and OUT.aci");
        if (source_date_epoch(&opts.mtime))
                return RK_EXIT_USAGE;
        const char *dir = argv[optind], *out = argv[optind + 1];
        rk_error err = RK_ERROR_INIT;

        _cleanup_close_ int layout = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (layout < 0) {
                rk_err_errno(&err, negative_errno(), "image build: '%s'", dir);
                return rk_fail(&err);
        }
        _cleanup_close_ int mfd = -EBADF;
        if (manifest) {
                mfd = open(manifest, O_RDONLY | O_CLOEXEC);
                if (mfd < 0) {
                        rk_err_errno(&err, negative_errno(), "image build: manifest '%s'",
                                     manifest);
                        return rk_fail(&err);
                }
        }
        _cleanup_close_ int outdir = -EBADF;
        _cleanup_free_ char *leaf = NULL;
        _cleanup_close_ int ofd = open_output(out, &outdir, &leaf, &err);
        if (ofd < 0) {
                rk_err_prefix(&err, ofd, "image build");
                return rk_fail(&err);
        }
        char id[RK_IMAGE_ID_LEN + 1];
        struct rk_build_stats st = {0};
        int r = rk_aci_build(layout, mfd, ofd, &opts, id, &st, &err);
        if (r >= 0)
                r = link_output(ofd, outdir, leaf, overwrite, out, &err);
        if (r < 0) {
                rk_err_prefix(&err, r, "image build '%s'", dir);
                return rk_fail(&err);
        }
        rk_log_debug("built '%s': %" PRIu64 " entries, %" PRIu64 " files, %" PRIu64
                     " bytes of file data",
                     out, st.entries, st.files, st.bytes);
        if (g->format != RK_FORMAT_TABLE) {
                _cleanup_json_ json_t *o = json_pack("{s:s, s:s, s:I, s:I}", "file", out, "id",
                                                     id, "entries", (json_int_t)st.entries,
                                                     "bytes", (json_int_t)st.bytes);
                char *s = json_dumps(o, g->format == RK_FORMAT_JSON ? JSON_COMPACT
                                                                    : JSON_INDENT(2));
                printf("%s\n", s ? s : "null");
                free(s);
                return RK_EXIT_OK;
        }
        rk_print_id(id, full);
        return RK_EXIT_OK;
}

/* Runs the full check-only extraction and parses the manifest. */
static int check_image(const char *path, struct rk_aci_result *res,
                       struct rk_image_manifest **ret_m, rk_error *err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "'%s'", path);
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return rk_err(err, -EINVAL, "'%s': not a regular file", path);
        struct rk_aci_layer layer = {.fd = fd, .what = path};
        struct rk_aci_opts opts = {.dest_fd = -1};
        int r = rk_aci_extract(&layer, 1, &opts, res, err);
        if (r < 0)
                return r;
        char what[PATH_MAX + 32];
        snprintf(what, sizeof(what), "'%s': manifest", path);
        return rk_image_manifest_parse(what, res->manifest, res->manifest_len, ret_m, err);
}

static void warn_image(const char *path, const struct rk_aci_result *res,
                       const struct rk_image_manifest *m)
{
        for (size_t i = 0; i < m->n_unknown_isolators; i++)
                rk_log_warning("'%s': isolator '%s' is not known to this runtime and will be "
                               "ignored",
                               path, m->unknown_isolators[i]);
        if (res->stats.setid_stripped)
                rk_log_warning("'%s': %" PRIu64 " setuid/setgid bits will be stripped at "
                               "extraction",
                               path, res->stats.setid_stripped);
        if (res->stats.xattrs_dropped)
                rk_log_warning("'%s': %" PRIu64 " extended attributes outside the allow-list "
                               "(user.*) will be dropped",
                               path, res->stats.xattrs_dropped);
}

static json_t *labels_json(const struct rk_labels *l)
{
        json_t *o = json_object();
        for (size_t i = 0; o && i < l->n; i++)
                json_object_set_new(o, l->v[i].name, json_string(l->v[i].value));
        return o;
}

static int cmd_validate(const struct rk_global *g, int argc, char **argv)
{
        static const struct option longopts[] = {
                {"full", no_argument, NULL, 'f'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        bool full = false;
        int c;
        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) >= 0) {
                switch (c) {
                case 'f':
                        full = true;
                        break;
                case 'h':
                        help_validate();
                        return RK_EXIT_OK;
                default:
                        return rk_bad_option("image validate", c, argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return rk_usage_error("image validate", "expected at least one FILE.aci");
        int ret = RK_EXIT_OK;
        _cleanup_json_ json_t *arr = json_array();
        for (int i = optind; i < argc; i++) {
                rk_error err = RK_ERROR_INIT;
                struct rk_aci_result res = {0};
                struct rk_image_manifest *m = NULL;
                int r = check_image(argv[i], &res, &m, &err);
                if (r < 0) {
                        rk_fail(&err);
                        ret = RK_EXIT_FAILURE;
                        json_array_append_new(arr, json_pack("{s:s, s:b, s:s}", "file", argv[i],
                                                             "valid", 0, "error", err.msg));
                } else {
                        warn_image(argv[i], &res, m);
                        if (g->format == RK_FORMAT_TABLE)
                                rk_print_id(res.id, full);
                        json_array_append_new(
                                arr, json_pack("{s:s, s:b, s:s, s:s, s:o, s:I, s:I}", "file",
                                               argv[i], "valid", 1, "id", res.id, "name", m->name,
                                               "labels", labels_json(&m->labels), "entries",
                                               (json_int_t)res.stats.entries, "bytes",
                                               (json_int_t)res.stats.bytes));
                }
                m = rk_image_manifest_free(m);
                rk_aci_result_clear(&res);
        }
        if (g->format != RK_FORMAT_TABLE) {
                char *s = json_dumps(arr, g->format == RK_FORMAT_JSON ? JSON_COMPACT
                                                                      : JSON_INDENT(2));
                printf("%s\n", s ? s : "[]");
                free(s);
        }
        return ret;
}

static int cmd_cat_manifest(const struct rk_global *g, int argc, char **argv)
{
        static const struct option longopts[] = {
                {"help", no_argument, NULL, 'h'},
                {},
        };
        int c;
        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) >= 0) {
                if (c == 'h') {
                        help_cat_manifest();
                        return RK_EXIT_OK;
                }
                return rk_bad_option("image cat-manifest", c, argv[optind - 1]);
        }
        if (argc - optind != 1)
                return rk_usage_error("image cat-manifest", "expected one FILE.aci");
        rk_error err = RK_ERROR_INIT;
        struct rk_aci_result res = {0};
        struct rk_image_manifest *m = NULL;
        int r = check_image(argv[optind], &res, &m, &err);
        if (r < 0) {
                rk_aci_result_clear(&res);
                return rk_fail(&err);
        }
        _cleanup_json_ json_t *doc = rk_image_manifest_to_json(m);
        m = rk_image_manifest_free(m);
        rk_aci_result_clear(&res);
        _cleanup_free_ char *s = NULL;
        r = g->format == RK_FORMAT_JSON ? rk_json_dump(doc, &s, NULL, &err)
                                        : rk_json_dump_pretty(doc, &s, NULL, &err);
        if (r < 0)
                return rk_fail(&err);
        fputs(s, stdout);
        if (g->format == RK_FORMAT_JSON)
                putchar('\n');
        return RK_EXIT_OK;
}

int rk_cmd_image(const struct rk_global *g, int argc, char **argv)
{
        static const struct {
                const char *name;
                int (*run)(const struct rk_global *, int, char **);
        } sub[] = {
                {"build", cmd_build},
                {"validate", cmd_validate},
                {"cat-manifest", cmd_cat_manifest},
        };
        if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                rk_help_image();
                return argc < 2 ? RK_EXIT_USAGE : RK_EXIT_OK;
        }
        for (size_t i = 0; i < ELEMENTSOF(sub); i++)
                if (strcmp(argv[1], sub[i].name) == 0)
                        return sub[i].run(g, argc - 1, argv + 1);
        return rk_usage_error("image", "unknown command '%s'", argv[1]);
}
