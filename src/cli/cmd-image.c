/* SPDX-License-Identifier: Apache-2.0 */
/* rkt image build | validate | cat-manifest | list | rm | export | extract | render | gc |
 * verify. Each sub-verb parses its flags, calls the library (aci/ for files, store/ for the
 * image store under --dir) and prints; IMAGE is a file (absolute, ./, ../ or *.aci) or a store
 * reference (ID prefix or name[:version][,label=value...]). */
#include <ctype.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "aci/archive.h"
#include "aci/build.h"
#include "aci/manifest.h"
#include "base/fileio.h"
#include "base/json.h"
#include "base/log.h"
#include "base/parse.h"
#include "cli/cli.h"
#include "fetch/fetch.h"
#include "pod/pod.h"
#include "store/store.h"

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
        printf("Usage: rkt image validate [--full] IMAGE...\n"
               "\n"
               "Check each image exactly as extraction would: the manifest against the appc\n"
               "schema, the archive layout, and every entry (paths, links, types, sizes,\n"
               "xattrs). Nothing is written. IMAGE is a file (/abs, ./rel or *.aci) or an\n"
               "image in the store. Prints each valid image's ID; exit status 1 if any image\n"
               "is invalid. --format=json prints one object per image.\n");
}

static void help_cat_manifest(void)
{
        printf("Usage: rkt image cat-manifest IMAGE\n"
               "\n"
               "Validate the image (a file, or an image in the store) and print its manifest\n"
               "as indented JSON (compact with --format=json).\n");
}

static void help_list(void)
{
        printf("Usage: rkt image list [--no-legend] [--full]\n"
               "\n"
               "List the images in the store: ID, NAME, IMPORT TIME, LAST USED, SIZE (blob and\n"
               "rendered trees) and VERIFIED-BY (the signing key, or 'insecure:OPTION' for an\n"
               "image stored without verification). --format=json prints an array.\n"
               "\n"
               "Flags:\n"
               "  --no-legend   no header line\n"
               "  --full        full image IDs and fingerprints\n");
}

static void help_rm(void)
{
        printf("Usage: rkt image rm IMAGE...\n"
               "\n"
               "Remove images from the store: blob, signature, rendered trees and index entry.\n"
               "Prints each removed image ID; exit status 1 if any could not be removed.\n");
}

static void help_export(void)
{
        printf("Usage: rkt image export [--overwrite] IMAGE OUT.aci\n"
               "\n"
               "Write the image exactly as it was distributed (so its signature still verifies)\n"
               "to OUT.aci, and its signature, if stored, to OUT.aci.asc. Both appear complete\n"
               "or not at all.\n"
               "\n"
               "Flags:\n"
               "  --overwrite   replace OUT.aci (and OUT.aci.asc) if they exist\n");
}

static void help_extract(void)
{
        printf("Usage: rkt image extract [--rootfs-only] IMAGE DIR\n"
               "\n"
               "Extract the image alone (no dependencies) into DIR, which must not exist or be\n"
               "empty, through the confined extractor.\n"
               "\n"
               "Flags:\n"
               "  --rootfs-only   DIR receives the contents of rootfs/, without the manifest\n");
}

static void help_render(void)
{
        printf("Usage: rkt image render [--rootfs-only] IMAGE DIR\n"
               "\n"
               "Render the image with its dependencies (which must be in the store), as an app\n"
               "sees it, into DIR, which must not exist or be empty.\n"
               "\n"
               "Flags:\n"
               "  --rootfs-only   DIR receives the contents of rootfs/, without the manifest\n");
}

static void help_gc(void)
{
        printf("Usage: rkt image gc [--grace-period=DURATION]\n"
               "\n"
               "Remove rendered trees not used for DURATION (default 24h; e.g. 0s, 90m, 1h30m)\n"
               "and repair what an interrupted command left: temporary files (older than\n"
               "DURATION and not locked), partial trees, index entries whose blob is missing,\n"
               "blobs without an index entry. Images are removed only by 'rkt image rm'.\n");
}

static void help_verify(void)
{
        printf("Usage: rkt image verify IMAGE...\n"
               "\n"
               "Re-check stored images: the blob must still hash to the image ID, its manifest\n"
               "must match the index, every rendered tree must match its digest, and the\n"
               "signature is re-verified when a verifier is available. Exit status 1 on the\n"
               "first mismatch of an image.\n");
}

void rk_help_image(void)
{
        printf("Usage: rkt image COMMAND [flags] [args]\n"
               "\n"
               "Commands:\n"
               "  build         build a deterministic ACI from a manifest and rootfs/\n"
               "  validate      check images as extraction would; print their image IDs\n"
               "  cat-manifest  print the manifest of an image\n"
               "  list          list the images in the store\n"
               "  rm            remove images from the store\n"
               "  export        write a stored image, as distributed, to a file\n"
               "  extract       extract a stored image (alone) into a directory\n"
               "  render        render a stored image with its dependencies into a directory\n"
               "  gc            remove unused rendered trees; repair the store\n"
               "  verify        re-check stored images, their trees and signatures\n"
               "\n"
               "IMAGE is a file (/abs, ./rel or *.aci; build, validate, cat-manifest) or an\n"
               "image in the store: an ID or unique ID prefix (sha512-ab...), or\n"
               "name[:version][,label=value...].\n"
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
                _cleanup_json_ json_t *o =
                    json_pack("{s:s, s:s, s:I, s:I}", "file", out, "id", id, "entries",
                              (json_int_t)st.entries, "bytes", (json_int_t)st.bytes);
                char *s =
                    json_dumps(o, g->format == RK_FORMAT_JSON ? JSON_COMPACT : JSON_INDENT(2));
                printf("%s\n", s ? s : "null");
                free(s);
                return RK_EXIT_OK;
        }
        rk_print_id(id, full);
        return RK_EXIT_OK;
}

/* ---- shared helpers ---- */

struct flag {
        const char *name;
        bool *set;          /* for flags without a value */
        const char **value; /* for flags with one */
};

/* getopt_long over a sub-verb's flags (and --help). Returns -1 to go on (optind at the first
 * operand), or the exit code to return. */
static int parse_flags(const char *verb, int argc, char **argv, const struct flag *f, size_t n,
                       void (*help)(void))
{
        struct option lo[16];
        size_t k = 0;
        for (; k < n && k < ELEMENTSOF(lo) - 2; k++)
                lo[k] = (struct option){f[k].name, f[k].value ? required_argument : no_argument,
                                        NULL, 256 + (int)k};
        lo[k++] = (struct option){"help", no_argument, NULL, 'h'};
        lo[k] = (struct option){0};
        opterr = 0;
        optind = 1;
        int c;
        while ((c = getopt_long(argc, argv, ":h", lo, NULL)) >= 0) {
                if (c == 'h') {
                        help();
                        return RK_EXIT_OK;
                }
                if (c < 256 || c >= 256 + (int)n)
                        return rk_bad_option(verb, c, argv[optind - 1]);
                if (f[c - 256].set)
                        *f[c - 256].set = true;
                if (f[c - 256].value)
                        *f[c - 256].value = optarg;
        }
        return -1;
}

static int print_json(const struct rk_global *g, const json_t *v)
{
        _cleanup_free_ char *s = NULL;
        rk_error err = RK_ERROR_INIT;
        int r = g->format == RK_FORMAT_JSON ? rk_json_dump(v, &s, NULL, &err)
                                            : rk_json_dump_pretty(v, &s, NULL, &err);
        if (r < 0)
                return rk_fail(&err);
        fputs(s, stdout);
        if (g->format == RK_FORMAT_JSON)
                putchar('\n');
        return RK_EXIT_OK;
}

/* A file, as CLI.md defines IMAGE: absolute, ./ or ../ relative, or named *.aci. */
static bool is_file_ref(const char *ref)
{
        size_t n = strlen(ref);
        return ref[0] == '/' || strncmp(ref, "./", 2) == 0 || strncmp(ref, "../", 3) == 0 ||
               (n > 4 && strcmp(ref + n - 4, ".aci") == 0);
}

static int store_open(const struct rk_global *g, const char *verb, struct rk_store **ret)
{
        rk_error err = RK_ERROR_INIT;
        int r = rk_store_open(g->dir, ret, &err);
        if (r < 0) {
                rk_err_prefix(&err, r, "%s", verb);
                return rk_fail(&err);
        }
        return 0;
}

static int store_resolve(struct rk_store *s, const char *ref, struct rk_image_info *ret,
                         rk_error *err)
{
        if (is_file_ref(ref))
                return rk_err(err, -EINVAL,
                              "'%s' is a file, not an image in the store; import it with 'rkt "
                              "fetch' first",
                              ref);
        return rk_store_resolve(s, ref, ret, err);
}

static int fail_verb(rk_error *err, int r, const char *verb)
{
        rk_err_prefix(err, r, "%s", verb);
        return rk_fail(err);
}

static json_t *labels_json(const struct rk_labels *l)
{
        json_t *o = json_object();
        for (size_t i = 0; o && i < l->n; i++)
                json_object_set_new(o, l->v[i].name, json_string(l->v[i].value));
        return o;
}

/* ---- validate, cat-manifest ---- */

/* Runs the full check-only extraction of fd and parses the manifest. */
static int check_fd(int fd, const char *what, struct rk_aci_result *res,
                    struct rk_image_manifest **ret_m, rk_error *err)
{
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return rk_err(err, -EINVAL, "'%s': not a regular file", what);
        struct rk_aci_layer layer = {.fd = fd, .what = what};
        struct rk_aci_opts opts = {.dest_fd = -1};
        int r = rk_aci_extract(&layer, 1, &opts, res, err);
        if (r < 0)
                return r;
        char mwhat[PATH_MAX + 32];
        snprintf(mwhat, sizeof(mwhat), "'%s': manifest", what);
        return rk_image_manifest_parse(mwhat, res->manifest, res->manifest_len, ret_m, err);
}

/* A file, or a stored image's blob (the store is opened on first use). */
static int check_ref(const struct rk_global *g, struct rk_store **s, const char *ref,
                     struct rk_aci_result *res, struct rk_image_manifest **ret_m, rk_error *err)
{
        _cleanup_close_ int fd = -EBADF;
        if (is_file_ref(ref)) {
                fd = open(ref, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return rk_err_errno(err, negative_errno(), "'%s'", ref);
                return check_fd(fd, ref, res, ret_m, err);
        }
        if (!*s) {
                int r = rk_store_open(g->dir, s, err);
                if (r < 0)
                        return r;
        }
        struct rk_image_info info = {0};
        int r = rk_store_resolve(*s, ref, &info, err);
        if (r >= 0)
                fd = rk_store_open_blob(*s, info.id, err);
        r = r < 0 ? r : fd < 0 ? fd : check_fd(fd, info.id, res, ret_m, err);
        rk_image_info_clear(&info);
        return r;
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

static int cmd_validate(const struct rk_global *g, int argc, char **argv)
{
        bool full = false;
        const struct flag flags[] = {{"full", &full, NULL}};
        int x = parse_flags("image validate", argc, argv, flags, ELEMENTSOF(flags), help_validate);
        if (x >= 0)
                return x;
        if (optind >= argc)
                return rk_usage_error("image validate", "expected at least one IMAGE");
        int ret = RK_EXIT_OK;
        _cleanup_store_ struct rk_store *s = NULL;
        _cleanup_json_ json_t *arr = json_array();
        for (int i = optind; i < argc; i++) {
                rk_error err = RK_ERROR_INIT;
                struct rk_aci_result res = {0};
                struct rk_image_manifest *m = NULL;
                const char *key = is_file_ref(argv[i]) ? "file" : "image";
                int r = check_ref(g, &s, argv[i], &res, &m, &err);
                if (r < 0) {
                        rk_fail(&err);
                        ret = RK_EXIT_FAILURE;
                        json_array_append_new(arr, json_pack("{s:s, s:b, s:s}", key, argv[i],
                                                             "valid", 0, "error", err.msg));
                } else {
                        warn_image(argv[i], &res, m);
                        if (g->format == RK_FORMAT_TABLE)
                                rk_print_id(res.id, full);
                        json_array_append_new(arr,
                                              json_pack("{s:s, s:b, s:s, s:s, s:o, s:I, s:I}", key,
                                                        argv[i], "valid", 1, "id", res.id, "name",
                                                        m->name, "labels", labels_json(&m->labels),
                                                        "entries", (json_int_t)res.stats.entries,
                                                        "bytes", (json_int_t)res.stats.bytes));
                }
                m = rk_image_manifest_free(m);
                rk_aci_result_clear(&res);
        }
        if (g->format != RK_FORMAT_TABLE && print_json(g, arr) != RK_EXIT_OK)
                return RK_EXIT_FAILURE;
        return ret;
}

static int cmd_cat_manifest(const struct rk_global *g, int argc, char **argv)
{
        int x = parse_flags("image cat-manifest", argc, argv, NULL, 0, help_cat_manifest);
        if (x >= 0)
                return x;
        if (argc - optind != 1)
                return rk_usage_error("image cat-manifest", "expected one IMAGE");
        const char *ref = argv[optind];
        rk_error err = RK_ERROR_INIT;
        struct rk_image_manifest *m = NULL;
        int r;
        _cleanup_store_ struct rk_store *s = NULL;
        if (is_file_ref(ref)) {
                struct rk_aci_result res = {0};
                r = check_ref(g, &s, ref, &res, &m, &err);
                rk_aci_result_clear(&res);
        } else {
                struct rk_image_info info = {0};
                r = rk_store_open(g->dir, &s, &err);
                if (r >= 0)
                        r = rk_store_resolve(s, ref, &info, &err);
                if (r >= 0)
                        r = rk_store_manifest(s, info.id, NULL, NULL, &m, &err);
                rk_image_info_clear(&info);
        }
        if (r < 0)
                return rk_fail(&err);
        _cleanup_json_ json_t *doc = rk_image_manifest_to_json(m);
        m = rk_image_manifest_free(m);
        if (!doc) {
                rk_err(&err, -ENOMEM, "out of memory");
                return rk_fail(&err);
        }
        return print_json(
            g->format == RK_FORMAT_TABLE ? &(struct rk_global){.format = RK_FORMAT_JSON_PRETTY} : g,
            doc);
}

/* ---- list ---- */

static void fmt_time(int64_t ns, bool frac, char out[40])
{
        struct timespec ts = {.tv_sec = ns / 1000000000, .tv_nsec = frac ? ns % 1000000000 : 0};
        rk_timestamp_format(&ts, out);
}

static void fmt_size(uint64_t n, char out[24])
{
        static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = (double)n;
        size_t u = 0;
        while (v >= 1024 && u + 1 < ELEMENTSOF(units)) {
                v /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(out, 24, "%" PRIu64 "B", n);
        else
                snprintf(out, 24, "%.1f%s", v, units[u]);
}

static json_t *verification_json(const struct rk_image_info *i)
{
        if (i->insecure)
                return json_pack("{s:s}", "insecure", i->insecure);
        json_t *o = json_pack("{s:s}", "signer", i->signer ? i->signer : "");
        if (o && i->prefix)
                json_object_set_new(o, "prefix", json_string(i->prefix));
        if (o && i->rule)
                json_object_set_new(o, "rule", json_string(i->rule));
        return o;
}

static json_t *image_json(const struct rk_image_info *i)
{
        char imp[40], used[40];
        fmt_time(i->import_time, true, imp);
        fmt_time(i->last_used, true, used);
        return json_pack("{s:s, s:s, s:o, s:s, s:s, s:I, s:I, s:I, s:o, s:b}", "id", i->id, "name",
                         i->name, "labels", labels_json(&i->labels), "importTime", imp, "lastUsed",
                         used, "size", (json_int_t)(i->size + i->tree_bytes), "blobSize",
                         (json_int_t)i->size, "treesSize", (json_int_t)i->tree_bytes,
                         "verification", verification_json(i), "signature", i->has_signature);
}

struct list_row {
        char id[RK_IMAGE_ID_LEN + 1];
        char name[RK_ACI_NAME_MAX + 160];
        char imp[40], used[40], size[24];
        char by[RK_FPR_MAX + 40];
};

static void list_row_fill(const struct rk_image_info *i, bool full, struct list_row *r)
{
        const char *version = rk_labels_get(&i->labels, "version");
        snprintf(r->id, sizeof(r->id), "%.*s", full ? RK_IMAGE_ID_LEN : 39, i->id);
        snprintf(r->name, sizeof(r->name), "%s%s%.128s", i->name, version ? ":" : "",
                 version ? version : "");
        fmt_time(i->import_time, false, r->imp);
        fmt_time(i->last_used, false, r->used);
        fmt_size(i->size + i->tree_bytes, r->size);
        if (i->insecure)
                snprintf(r->by, sizeof(r->by), "insecure:%.64s", i->insecure);
        else {
                size_t n = i->signer ? strlen(i->signer) : 0;
                snprintf(r->by, sizeof(r->by), "%s",
                         full || n <= 16 ? (i->signer ? i->signer : "") : i->signer + n - 16);
        }
}

static void print_list(const struct rk_image_info *v, size_t n, bool full, bool legend)
{
        struct list_row hdr = {.id = "ID",
                               .name = "NAME",
                               .imp = "IMPORT TIME",
                               .used = "LAST USED",
                               .size = "SIZE",
                               .by = "VERIFIED-BY"};
        struct list_row *rows = calloc(n + 1, sizeof(*rows));
        int w[5] = {0};
        if (!rows)
                return;
        rows[0] = hdr;
        for (size_t i = 0; i < n; i++)
                list_row_fill(&v[i], full, &rows[i + 1]);
        for (size_t i = legend ? 0 : 1; i <= n; i++) {
                const char *c[5] = {rows[i].id, rows[i].name, rows[i].imp, rows[i].used,
                                    rows[i].size};
                for (int k = 0; k < 5; k++)
                        if ((int)strlen(c[k]) > w[k])
                                w[k] = (int)strlen(c[k]);
        }
        for (size_t i = legend ? 0 : 1; i <= n; i++)
                printf("%-*s  %-*s  %-*s  %-*s  %-*s  %s\n", w[0], rows[i].id, w[1], rows[i].name,
                       w[2], rows[i].imp, w[3], rows[i].used, w[4], rows[i].size, rows[i].by);
        free(rows);
}

static int cmd_list(const struct rk_global *g, int argc, char **argv)
{
        bool no_legend = false, full = false;
        const struct flag flags[] = {{"no-legend", &no_legend, NULL}, {"full", &full, NULL}};
        int x = parse_flags("image list", argc, argv, flags, ELEMENTSOF(flags), help_list);
        if (x >= 0)
                return x;
        if (optind < argc)
                return rk_usage_error("image list", "unexpected argument '%s'", argv[optind]);
        _cleanup_store_ struct rk_store *s = NULL;
        if ((x = store_open(g, "image list", &s)))
                return x;
        rk_error err = RK_ERROR_INIT;
        struct rk_image_info *v = NULL;
        size_t n = 0;
        int r = rk_store_list(s, &v, &n, &err);
        if (r < 0)
                return fail_verb(&err, r, "image list");
        if (g->format == RK_FORMAT_TABLE) {
                print_list(v, n, full, !no_legend);
                rk_image_infos_free(v, n);
                return RK_EXIT_OK;
        }
        _cleanup_json_ json_t *arr = json_array();
        for (size_t i = 0; arr && i < n; i++)
                json_array_append_new(arr, image_json(&v[i]));
        rk_image_infos_free(v, n);
        return print_json(g, arr);
}

/* ---- rm ---- */

/* A tree a pod still references is its root file system: removing it under a running (or
 * exited but not yet collected) pod would pull the floor from under it. */
static int check_unused(struct rk_store *s, struct rk_pods *pods, const struct rk_image_info *i,
                        rk_error *err)
{
        struct rk_tree_info *t = NULL;
        size_t n = 0;
        int r = rk_store_trees(s, i->id, &t, &n, err);
        if (r < 0)
                return r;
        for (size_t k = 0; k < n && r >= 0; k++)
                if (rk_pods_tree_in_use(pods, t[k].id))
                        r = rk_err(err, -EBUSY,
                                   "%s: used by a pod (tree %s); remove the pod first ('rkt "
                                   "list', then 'rkt rm UUID' or 'rkt gc')",
                                   i->id, t[k].id);
        rk_tree_infos_free(t, n);
        return r;
}

static int cmd_rm(const struct rk_global *g, int argc, char **argv)
{
        int x = parse_flags("image rm", argc, argv, NULL, 0, help_rm);
        if (x >= 0)
                return x;
        if (optind >= argc)
                return rk_usage_error("image rm", "expected at least one IMAGE");
        _cleanup_store_ struct rk_store *s = NULL;
        if ((x = store_open(g, "image rm", &s)))
                return x;
        rk_error perr = RK_ERROR_INIT;
        struct rk_pods *pods = NULL;
        /* Exclusive prepare lock: no pod can pick up one of these trees while we check. */
        if (rk_pods_open(g->dir, &pods, &perr) < 0 ||
            rk_pods_lock_prepare(pods, LOCK_EX, &perr) < 0) {
                rk_pods_close(pods);
                return fail_verb(&perr, perr.code, "image rm");
        }
        int ret = RK_EXIT_OK;
        for (int i = optind; i < argc; i++) {
                rk_error err = RK_ERROR_INIT;
                struct rk_image_info info = {0};
                int r = store_resolve(s, argv[i], &info, &err);
                if (r >= 0)
                        r = check_unused(s, pods, &info, &err);
                if (r >= 0)
                        r = rk_store_remove(s, info.id, &err);
                if (r < 0)
                        ret = fail_verb(&err, r, "image rm");
                else
                        rk_print_id(info.id, true);
                rk_image_info_clear(&info);
        }
        rk_pods_unlock_prepare(pods);
        rk_pods_close(pods);
        return ret;
}

/* ---- export ---- */

static int export_file(const char *out, bool overwrite, int (*fill)(int fd, void *ud, rk_error *),
                       void *ud, rk_error *err)
{
        _cleanup_close_ int dirfd = -EBADF;
        _cleanup_free_ char *leaf = NULL;
        _cleanup_close_ int fd = open_output(out, &dirfd, &leaf, err);
        if (fd < 0)
                return fd;
        int r = fill(fd, ud, err);
        return r < 0 ? r : link_output(fd, dirfd, leaf, overwrite, out, err);
}

struct export_ctx {
        struct rk_store *s;
        const char *id;
        const char *sig;
        size_t sig_len;
};

static int fill_blob(int fd, void *ud, rk_error *err)
{
        struct export_ctx *c = ud;
        return rk_store_export(c->s, c->id, fd, err);
}

static int fill_sig(int fd, void *ud, rk_error *err)
{
        struct export_ctx *c = ud;
        int r = rk_write_all(fd, c->sig, c->sig_len);
        return r < 0 ? rk_err_errno(err, r, "cannot write the signature") : 0;
}

static int refuse_existing(const char *path, rk_error *err)
{
        struct stat st;
        if (lstat(path, &st) == 0)
                return rk_err(err, -EEXIST, "'%s' already exists; use --overwrite to replace it",
                              path);
        return 0;
}

static int export_image(struct rk_store *s, const char *ref, const char *out, bool overwrite,
                        rk_error *err)
{
        struct rk_image_info info = {0};
        _cleanup_free_ char *sig = NULL, *asc = NULL;
        size_t sig_len = 0;
        int r = store_resolve(s, ref, &info, err);
        if (r >= 0) {
                r = rk_store_signature(s, info.id, &sig, &sig_len, err);
                if (r == -ENOENT)
                        r = 0;
        }
        if (r >= 0 && asprintf(&asc, "%s.asc", out) < 0)
                r = rk_err(err, -ENOMEM, "out of memory");
        /* both names are checked first, so a refusal leaves nothing behind */
        if (r >= 0 && !overwrite)
                r = refuse_existing(out, err);
        if (r >= 0 && !overwrite && sig)
                r = refuse_existing(asc, err);
        struct export_ctx c = {s, info.id, sig, sig_len};
        if (r >= 0)
                r = export_file(out, overwrite, fill_blob, &c, err);
        if (r >= 0 && sig)
                r = export_file(asc, overwrite, fill_sig, &c, err);
        rk_image_info_clear(&info);
        return r;
}

static int cmd_export(const struct rk_global *g, int argc, char **argv)
{
        bool overwrite = false;
        const struct flag flags[] = {{"overwrite", &overwrite, NULL}};
        int x = parse_flags("image export", argc, argv, flags, ELEMENTSOF(flags), help_export);
        if (x >= 0)
                return x;
        if (argc - optind != 2)
                return rk_usage_error("image export", "expected IMAGE and OUT.aci");
        _cleanup_store_ struct rk_store *s = NULL;
        if ((x = store_open(g, "image export", &s)))
                return x;
        rk_error err = RK_ERROR_INIT;
        int r = export_image(s, argv[optind], argv[optind + 1], overwrite, &err);
        return r < 0 ? fail_verb(&err, r, "image export") : RK_EXIT_OK;
}

/* ---- extract, render ---- */

static int dir_is_empty(int dfd, const char *dir, rk_error *err)
{
        int d = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *dp = d >= 0 ? fdopendir(d) : NULL;
        if (!dp) {
                safe_close(d);
                return rk_err_errno(err, negative_errno(), "'%s'", dir);
        }
        struct dirent *de;
        int r = 0;
        while ((de = readdir(dp)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
                        r = rk_err(err, -ENOTEMPTY,
                                   "'%s': directory is not empty; give a new or empty directory",
                                   dir);
                        break;
                }
        closedir(dp);
        return r;
}

/* DIR must not exist (it is made 0755) or be an empty directory (not a symlink). */
static int open_dest(const char *dir, bool *created, rk_error *err)
{
        *created = mkdir(dir, 0755) == 0;
        if (!*created && errno != EEXIST)
                return rk_err_errno(err, negative_errno(), "'%s': cannot create", dir);
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "'%s'", dir);
        int r = *created ? 0 : dir_is_empty(fd, dir, err);
        return r < 0 ? r : TAKE_FD(fd);
}

/* After a failure: DIR as it was (removed if we made it, emptied otherwise). */
static void undo_dest(int fd, const char *dir, bool created)
{
        int d = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *dp = d >= 0 ? fdopendir(d) : NULL;
        struct dirent *de;
        while (dp && (de = readdir(dp)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        (void)rk_rm_rf_at(fd, de->d_name, NULL);
        if (dp)
                closedir(dp);
        else
                safe_close(d);
        if (created)
                (void)rmdir(dir);
}

static int cmd_unpack(const struct rk_global *g, int argc, char **argv, bool deps)
{
        const char *verb = deps ? "image render" : "image extract";
        bool rootfs_only = false;
        const struct flag flags[] = {{"rootfs-only", &rootfs_only, NULL}};
        int x = parse_flags(verb, argc, argv, flags, ELEMENTSOF(flags),
                            deps ? help_render : help_extract);
        if (x >= 0)
                return x;
        if (argc - optind != 2)
                return rk_usage_error(verb, "expected IMAGE and DIR");
        const char *dir = argv[optind + 1];
        _cleanup_store_ struct rk_store *s = NULL;
        if ((x = store_open(g, verb, &s)))
                return x;
        rk_error err = RK_ERROR_INIT;
        struct rk_image_info info = {0};
        bool created = false;
        int r = store_resolve(s, argv[optind], &info, &err);
        _cleanup_close_ int dfd = r < 0 ? -EBADF : open_dest(dir, &created, &err);
        if (r >= 0 && dfd < 0)
                r = dfd;
        unsigned fl =
            (deps ? RK_STORE_EXTRACT_DEPS : 0) | (rootfs_only ? RK_STORE_EXTRACT_ROOTFS_ONLY : 0);
        if (r >= 0) {
                r = rk_store_extract(s, info.id, dfd, fl, &err);
                if (r < 0)
                        undo_dest(dfd, dir, created);
        }
        rk_image_info_clear(&info);
        return r < 0 ? fail_verb(&err, r, verb) : RK_EXIT_OK;
}

static int cmd_extract(const struct rk_global *g, int argc, char **argv)
{
        return cmd_unpack(g, argc, argv, false);
}

static int cmd_render(const struct rk_global *g, int argc, char **argv)
{
        return cmd_unpack(g, argc, argv, true);
}

/* ---- gc ---- */

/* Go-style durations as rkt took them: "0", or a sequence of decimal numbers with units ns,
 * us, ms, s, m, h ("1h30m", "1.5h", "90s"). */
static int cmd_gc(const struct rk_global *g, int argc, char **argv)
{
        const char *grace = "24h";
        const struct flag flags[] = {{"grace-period", NULL, &grace}};
        int x = parse_flags("image gc", argc, argv, flags, ELEMENTSOF(flags), help_gc);
        if (x >= 0)
                return x;
        if (optind < argc)
                return rk_usage_error("image gc", "unexpected argument '%s'", argv[optind]);
        struct rk_store_gc_opts o = {0};
        if (rk_parse_duration(grace, &o.grace_ns) < 0)
                return rk_usage_error("image gc",
                                      "--grace-period: '%s' is not a duration (e.g. 0s, 30m, 24h)",
                                      grace);
        _cleanup_store_ struct rk_store *s = NULL;
        if ((x = store_open(g, "image gc", &s)))
                return x;
        rk_error err = RK_ERROR_INIT;
        struct rk_pods *pods = NULL;
        /* Trees of pods that exist (running, prepared, exited, not yet collected) stay; the
         * exclusive prepare lock keeps a pod being prepared from picking a tree we remove. */
        if (rk_pods_open(g->dir, &pods, &err) < 0 ||
            rk_pods_lock_prepare(pods, LOCK_EX, &err) < 0) {
                rk_pods_close(pods);
                return fail_verb(&err, err.code, "image gc");
        }
        o.tree_in_use = rk_pods_tree_in_use;
        o.userdata = pods;
        struct rk_store_gc_report p = {0};
        int r = rk_store_gc(s, &o, &p, &err);
        rk_pods_unlock_prepare(pods);
        rk_pods_close(pods);
        if (r < 0)
                return fail_verb(&err, r, "image gc");
        if (g->format != RK_FORMAT_TABLE) {
                _cleanup_json_ json_t *j = json_pack(
                    "{s:I, s:I, s:I, s:I, s:I, s:I}", "treesRemoved", (json_int_t)p.trees_removed,
                    "partialTreesRemoved", (json_int_t)p.partial_trees, "tmpFilesRemoved",
                    (json_int_t)p.tmp_removed, "indexEntriesRemoved", (json_int_t)p.rows_removed,
                    "blobsRemoved", (json_int_t)p.blobs_removed, "lockFilesRemoved",
                    (json_int_t)p.locks_removed);
                return print_json(g, j);
        }
        printf("removed %zu unused tree(s), %zu partial tree(s), %zu temporary file(s), %zu stale "
               "index entr%s, %zu orphaned blob(s)\n",
               p.trees_removed, p.partial_trees, p.tmp_removed, p.rows_removed,
               p.rows_removed == 1 ? "y" : "ies", p.blobs_removed);
        return RK_EXIT_OK;
}

/* ---- verify ---- */

static const char *sig_text(const struct rk_image_info *i, enum rk_sig_check c)
{
        switch (c) {
        case RK_SIG_CHECK_OK:
                return "verified";
        case RK_SIG_CHECK_NOT_CHECKED:
                return "not re-checked (no signature verifier available)";
        default:
                return i->insecure ? "none (stored without verification)" : "none";
        }
}

static int verify_one(struct rk_store *s, const char *ref, json_t *arr, bool table, rk_error *err)
{
        struct rk_image_info info = {0};
        struct rk_store_verify_report rep = {0};
        int r = store_resolve(s, ref, &info, err);
        if (r >= 0)
                r = rk_store_verify(s, info.id, &rep, err);
        if (r >= 0 && table)
                printf("%.39s: ok: blob, manifest, %zu tree(s); signature: %s\n", info.id,
                       rep.trees_checked, sig_text(&info, rep.sig));
        if (r >= 0)
                json_array_append_new(
                    arr, json_pack("{s:s, s:b, s:I, s:s}", "id", info.id, "ok", 1, "trees",
                                   (json_int_t)rep.trees_checked, "signature",
                                   rep.sig == RK_SIG_CHECK_OK            ? "verified"
                                   : rep.sig == RK_SIG_CHECK_NOT_CHECKED ? "not-checked"
                                                                         : "unsigned"));
        else
                json_array_append_new(
                    arr, json_pack("{s:s, s:b, s:s}", "image", ref, "ok", 0, "error", err->msg));
        rk_image_info_clear(&info);
        return r;
}

static int cmd_verify(const struct rk_global *g, int argc, char **argv)
{
        int x = parse_flags("image verify", argc, argv, NULL, 0, help_verify);
        if (x >= 0)
                return x;
        if (optind >= argc)
                return rk_usage_error("image verify", "expected at least one IMAGE");
        _cleanup_store_ struct rk_store *s = NULL;
        if ((x = store_open(g, "image verify", &s)))
                return x;
        /* Signatures are re-verified against the trust store as it is now: a key removed
         * since the fetch makes the image fail verification. */
        struct rk_trust_config tc = {g->local_config, g->system_config, g->user_config, g->dir};
        rk_store_set_sig_hook(s, rk_fetch_sig_hook, &tc);
        int ret = RK_EXIT_OK;
        _cleanup_json_ json_t *arr = json_array();
        for (int i = optind; i < argc; i++) {
                rk_error err = RK_ERROR_INIT;
                int r = verify_one(s, argv[i], arr, g->format == RK_FORMAT_TABLE, &err);
                if (r < 0)
                        ret = fail_verb(&err, r, "image verify");
        }
        if (g->format != RK_FORMAT_TABLE && print_json(g, arr) != RK_EXIT_OK)
                return RK_EXIT_FAILURE;
        return ret;
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
            {"list", cmd_list},
            {"rm", cmd_rm},
            {"export", cmd_export},
            {"extract", cmd_extract},
            {"render", cmd_render},
            {"gc", cmd_gc},
            {"verify", cmd_verify},
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
