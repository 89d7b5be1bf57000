/* SPDX-License-Identifier: Apache-2.0 */
/* rkt trust: add keys to the local trust store after a fingerprint review, list both stores,
 * remove (or mask) a key. Every change is written to the audit log; a change whose record
 * cannot be written is undone. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "audit/audit.h"
#include "base/fileio.h"
#include "base/json.h"
#include "base/log.h"
#include "cli/cli.h"
#include "fetch/discover.h"
#include "trust/trust.h"

#define VERB "trust"

void rk_help_trust(void)
{
        printf("Usage: rkt trust --prefix=PREFIX [--skip-fingerprint-review]\n"
               "       rkt trust [--prefix=PREFIX | --root] [--skip-fingerprint-review] "
               "KEY_FILE...\n"
               "       rkt trust --list [--no-legend]\n"
               "       rkt trust --remove=FINGERPRINT [--prefix=PREFIX | --root]\n"
               "\n"
               "Trust OpenPGP public keys to sign images whose name is PREFIX or below it\n"
               "(whole path components: example.com/app covers example.com/app/x, not\n"
               "example.com/application), or every image with --root. Each KEY_FILE holds\n"
               "exactly one ASCII-armored public key; it is stored in\n"
               "<local-config>/trustedkeys/. Before a key is added its prefix, fingerprint,\n"
               "subkeys and user IDs are shown and you must answer 'yes'; without a\n"
               "terminal, compare the fingerprint yourself and pass --skip-fingerprint-review.\n"
               "\n"
               "Flags:\n"
               "  --prefix=PREFIX             trust for image names under PREFIX\n"
               "  --root                      trust for every image (must be explicit)\n"
               "  --skip-fingerprint-review   add without the interactive review\n"
               "  --list                      list keys and masks of both stores\n"
               "                              (--format=json for JSON)\n"
               "  --no-legend                 no header line in the list\n"
               "  --remove=FINGERPRINT        stop trusting a key at that prefix (or root);\n"
               "                              a vendor key is masked with an empty local file\n"
               "\n"
               "Without KEY_FILE, the keys are discovered: the ac-discovery-pubkeys tags of\n"
               "https://PREFIX?ac-discovery=1 (then each parent path) name them; each is\n"
               "downloaded over https and shown for review. With --trust-keys-from-https an\n"
               "https-served key is added without the prompt (audited). Plain http needs\n"
               "--insecure-options=http.\n"
               "See rkt-trust(1).\n");
}

struct opts {
        const char *prefix;
        const char *remove;
        bool root, skip_review, list, no_legend;
};

static struct rk_trust_config config_of(const struct rk_global *g)
{
        return (struct rk_trust_config){.local_config = g->local_config,
                                        .system_config = g->system_config,
                                        .user_config = g->user_config,
                                        .data_dir = g->dir};
}

static const char *date_or(int64_t t, const char *none, char buf[40])
{
        if (!t)
                return none;
        struct tm tm;
        time_t tt = (time_t)t;
        if (!gmtime_r(&tt, &tm) || !strftime(buf, 40, "%Y-%m-%dT%H:%M:%SZ", &tm))
                return "invalid";
        return buf;
}

/* "0B45 0A70 5260 ABAB EF27  224F D946 27D0 D572 8376", as gpg and rkt print it. */
static void print_grouped(FILE *f, const char *fpr)
{
        for (size_t i = 0; fpr[i]; i++) {
                if (i && i % 4 == 0)
                        fputs(i == 20 ? "  " : " ", f);
                fputc(fpr[i] >= 'a' && fpr[i] <= 'f' ? fpr[i] - 'a' + 'A' : fpr[i], f);
        }
}

static void usages(const struct rk_subkey_info *s, char out[8])
{
        char *p = out;
        if (s->can_sign)
                *p++ = 'S';
        if (s->can_certify)
                *p++ = 'C';
        if (s->can_encrypt)
                *p++ = 'E';
        if (s->can_authenticate)
                *p++ = 'A';
        *p = 0;
}

static void show_key(const char *file, const char *prefix, const struct rk_key_info *k)
{
        char d[40], u[8];
        if (prefix)
                fprintf(stderr, "Prefix: \"%s\"\n", prefix);
        else
                fprintf(stderr, "Prefix: none: trusted for EVERY image (--root)\n");
        fprintf(stderr, "Key: \"%s\"\n", file);
        fputs("GPG key fingerprint is: ", stderr);
        print_grouped(stderr, k->fpr);
        fprintf(stderr, "\n\t%s, created %s, expires %s%s\n", k->algo, date_or(k->created, "?", d),
                date_or(k->expires, "never", d), k->can_sign ? "" : ", CANNOT SIGN");
        for (size_t i = 0; i < k->n_subkeys; i++) {
                const struct rk_subkey_info *s = &k->subkeys[i];
                usages(s, u);
                fputs("\tSubkey fingerprint: ", stderr);
                print_grouped(stderr, s->fpr);
                fprintf(stderr, " [%s] %s%s%s\n", u, s->algo, s->expired ? " expired" : "",
                        s->revoked ? " revoked" : "");
        }
        for (size_t i = 0; i < k->n_uids; i++)
                fprintf(stderr, "\t%s\n", k->uids[i]);
}

/* Exactly "yes" or "no"; anything else is asked again, three times at most. */
static bool ask_yes(void)
{
        char *line = NULL;
        size_t cap = 0;
        bool yes = false;
        for (int tries = 0; tries < 3; tries++) {
                fputs(tries ? "Please enter 'yes' or 'no': "
                            : "Are you sure you want to trust this key (yes/no)? ",
                      stderr);
                fflush(stderr);
                ssize_t n = getline(&line, &cap, stdin);
                if (n < 0)
                        break;
                if (n > 0 && line[n - 1] == '\n')
                        line[--n] = 0;
                if (strcmp(line, "yes") == 0) {
                        yes = true;
                        break;
                }
                if (strcmp(line, "no") == 0)
                        break;
        }
        free(line);
        return yes;
}

int rk_cli_review_key(void *userdata, const char *prefix, const char *url,
                      const struct rk_key_info *k)
{
        (void)userdata;
        if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO))
                return 0;
        show_key(url, prefix, k);
        return ask_yes() ? 1 : 0;
}

static int read_key(const char *file, char **ret, size_t *ret_len, rk_error *err)
{
        if (strstr(file, "://"))
                return rk_err(err, -EPROTONOSUPPORT,
                              "trust: '%s' is a URL; fetching keys from URLs is not supported "
                              "yet: download the key, check it, and pass the file",
                              file);
        _cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        struct stat st;
        if (fd < 0)
                return rk_err_errno(err, negative_errno(), "trust: key file '%s'", file);
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return rk_err(err, -EINVAL, "trust: key file '%s' is not a regular file", file);
        return rk_read_fd_capped(fd, file, RK_TRUST_KEY_MAX, ret, ret_len, err);
}

static json_t *where_json(const char *prefix)
{
        return prefix ? json_pack("{s:s}", "prefix", prefix) : json_pack("{s:b}", "root", 1);
}

/* Appends the record; if that fails, puts the store back as it was. */
static int audit_or_undo(const struct rk_trust_config *c, struct rk_audit *a, const char *event,
                         json_t *fields, const struct rk_trust_snapshot *snap, rk_error *err)
{
        int r = fields ? rk_audit_append(a, event, fields, err) : -ENOMEM;
        if (r >= 0)
                return 0;
        rk_error e2 = RK_ERROR_INIT;
        if (rk_trust_snapshot_restore(c, snap, &e2) < 0)
                return rk_err(err, r, "trust: the change could not be audited and not undone: %s",
                              e2.msg);
        return rk_err_prefix(err, r, "trust: change undone, the audit log could not be written");
}

/* How a key gets past the review: "prompt", "skip-fingerprint-review" or
 * "trust-keys-from-https" (a discovered key served over verified https). */
static int add_data(const struct rk_global *g, const struct opts *o, struct rk_audit *a,
                    const char *file, const char *data, size_t len, bool from_https, json_t *out,
                    rk_error *err)
{
        struct rk_trust_config c = config_of(g);
        struct rk_key_info k = {0}, stored = {0};
        struct rk_trust_snapshot snap = {0};
        const char *how = o->skip_review ? "skip-fingerprint-review" : "prompt";
        int r = rk_key_inspect(data, len, &k, err);
        if (r < 0)
                rk_err_prefix(err, r, "trust: '%s'", file);
        if (r >= 0 && !o->skip_review && from_https && g->trust_keys_from_https) {
                how = "trust-keys-from-https";
                show_key(file, o->prefix, &k);
                rk_log_warning("trusting key %s from %s without review (--trust-keys-from-https)",
                               k.fpr, file);
        } else if (r >= 0 && !o->skip_review) {
                if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO))
                        r = rk_err(err, -EPERM,
                                   "trust: cannot review key %s from '%s' without a terminal; "
                                   "check its fingerprint another way and rerun with "
                                   "--skip-fingerprint-review%s",
                                   k.fpr, file, from_https ? " (or --trust-keys-from-https)" : "");
                else {
                        show_key(file, o->prefix, &k);
                        if (!ask_yes())
                                r = rk_err(err, -ECANCELED, "trust: key %s from '%s' not trusted",
                                           k.fpr, file);
                }
        }
        if (r >= 0)
                r = rk_trust_snapshot_take(&c, k.fpr, o->prefix, &snap, err);
        if (r >= 0 && (r = rk_trust_add(&c, o->prefix, data, len, &stored, err)) < 0)
                rk_err_prefix(err, r, "trust: '%s'", file);
        if (r >= 0 && strcmp(stored.fpr, k.fpr) != 0)
                r = rk_err(err, -EIO, "trust: '%s' changed while it was added", file);
        if (r >= 0) {
                json_t *f = where_json(o->prefix);
                json_object_set_new(f, "fingerprint", json_string(k.fpr));
                json_object_set_new(f, "source", json_string(file));
                json_object_set_new(f, "path", json_string(stored.path));
                json_object_set_new(f, "review", json_string(how));
                r = audit_or_undo(&c, a, "trust-add", f, &snap, err);
                if (r >= 0)
                        json_array_append(out, f);
                json_decref(f);
        }
        if (r >= 0 && g->format == RK_FORMAT_TABLE) {
                if (o->prefix)
                        printf("Added key %s for prefix \"%s\" at \"%s\"\n", k.fpr, o->prefix,
                               stored.path);
                else
                        printf("Added root key %s at \"%s\"\n", k.fpr, stored.path);
        }
        rk_trust_snapshot_clear(&snap);
        rk_key_info_clear(&k);
        rk_key_info_clear(&stored);
        return r;
}

static int add_one(const struct rk_global *g, const struct opts *o, struct rk_audit *a,
                   const char *file, json_t *out, rk_error *err)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        /* The review shows the very bytes that are then added: the file is read once. */
        int r = read_key(file, &data, &len, err);
        return r < 0 ? r : add_data(g, o, a, file, data, len, false, out, err);
}

/* rkt trust --prefix P without keys: the keys published for P by meta discovery. */
static int add_discovered(const struct rk_global *g, const struct opts *o, struct rk_audit *a,
                          json_t *out, rk_error *err)
{
        struct rk_auth *auth = NULL;
        int r = rk_auth_load(g->system_config, g->local_config, g->user_config, &auth, err);
        if (r < 0)
                return rk_err_prefix(err, r, "trust");
        struct rk_discover_opts dop = {
            .allow_http = g->insecure & RK_INSECURE_HTTP,
            .insecure_tls = g->insecure & RK_INSECURE_TLS,
            .auth = auth,
        };
        struct rk_discovered_key *keys = NULL;
        size_t n = 0;
        _cleanup_free_ char *page = NULL;
        r = rk_discover_keys(o->prefix, &dop, &keys, &n, &page, err);
        if (r < 0) {
                rk_auth_free(auth);
                return rk_err_prefix(err, r, "trust --prefix %s", o->prefix);
        }
        rk_log_debug("trust: %zu keys for %s from %s", n, o->prefix, page);
        for (size_t i = 0; i < n && r >= 0; i++) {
                bool https = !strncmp(keys[i].url, "https://", 8) && !dop.insecure_tls;
                r = add_data(g, o, a, keys[i].url, keys[i].data, keys[i].len, https, out, err);
        }
        rk_discovered_keys_free(keys, n);
        rk_auth_free(auth);
        return r;
}

static void print_json(const struct rk_global *g, json_t *v)
{
        char *s = json_dumps(v, g->format == RK_FORMAT_JSON ? JSON_COMPACT : JSON_INDENT(2));
        printf("%s\n", s ? s : "null");
        free(s);
}

static int cmd_add(const struct rk_global *g, const struct opts *o, int n, char **files)
{
        if (g->insecure & RK_INSECURE_HTTP)
                rk_log_warning("plain HTTP key discovery is allowed (--insecure-options=http)");
        if (g->insecure & RK_INSECURE_TLS)
                rk_log_warning("TLS verification has been disabled (--insecure-options=tls)");
        rk_error err = RK_ERROR_INIT;
        struct rk_audit *a = NULL;
        /* Opened first: if the log cannot be written, nothing is changed. */
        if (rk_audit_open(g->dir, &a, &err) < 0) {
                rk_err_prefix(&err, err.code, "trust");
                return rk_fail(&err);
        }
        _cleanup_json_ json_t *out = json_array();
        int ret = RK_EXIT_OK;
        if (n == 0 && add_discovered(g, o, a, out, &err) < 0)
                ret = rk_fail(&err);
        for (int i = 0; i < n && ret == RK_EXIT_OK; i++)
                if (add_one(g, o, a, files[i], out, &err) < 0)
                        ret = rk_fail(&err);
        rk_audit_close(a);
        if (g->format != RK_FORMAT_TABLE)
                print_json(g, out);
        return ret;
}

static int cmd_remove(const struct rk_global *g, const struct opts *o, const char *fpr)
{
        struct rk_trust_config c = config_of(g);
        rk_error err = RK_ERROR_INIT;
        struct rk_audit *a = NULL;
        struct rk_trust_snapshot snap = {0};
        int r = rk_audit_open(g->dir, &a, &err);
        if (r >= 0)
                r = rk_trust_snapshot_take(&c, fpr, o->prefix, &snap, &err);
        int flags = r >= 0 ? rk_trust_remove(&c, fpr, o->prefix, &err) : r;
        if (flags >= 0) {
                json_t *f = where_json(o->prefix);
                json_object_set_new(f, "fingerprint", json_string(fpr));
                json_object_set_new(f, "result",
                                    json_string(flags & RK_TRUST_MASKED ? "masked" : "removed"));
                char *path = rk_trust_key_path(&c, RK_TRUST_LOCAL, o->prefix, fpr);
                json_object_set_new(f, "path", path ? json_string(path) : json_null());
                free(path);
                r = audit_or_undo(&c, a, "trust-remove", f, &snap, &err);
                json_decref(f);
        } else
                r = flags;
        rk_trust_snapshot_clear(&snap);
        rk_audit_close(a);
        if (r < 0) {
                rk_err_prefix(&err, r, "trust --remove");
                return rk_fail(&err);
        }
        const char *where = o->prefix ? o->prefix : "(root)";
        if (flags & RK_TRUST_REMOVED)
                printf("Removed key %s for %s\n", fpr, where);
        if (flags & RK_TRUST_MASKED)
                printf("Masked vendor key %s for %s with an empty file in %s\n", fpr, where,
                       g->local_config);
        return RK_EXIT_OK;
}

/* ---- list ---- */

static const char *first_uid(const struct rk_trust_entry *e)
{
        if (e->mask)
                return "(mask: not trusted)";
        if (e->error)
                return "(invalid key file)";
        return e->info.n_uids ? e->info.uids[0] : "";
}

static const char *expiry(const struct rk_trust_entry *e, char buf[40])
{
        if (e->mask || e->error)
                return "-";
        if (e->info.revoked)
                return "revoked";
        if (e->info.expired)
                return "expired";
        return date_or(e->info.expires, "never", buf);
}

static void print_table(const struct rk_trust_entry *v, size_t n, bool legend)
{
        int wp = (int)strlen("PREFIX");
        char d[40];
        for (size_t i = 0; i < n; i++) {
                int l = v[i].prefix ? (int)strlen(v[i].prefix) : (int)strlen("(root)");
                wp = l > wp ? l : wp;
        }
        if (legend)
                printf("%-40s  %-*s  %-6s  %-20s  %s\n", "FINGERPRINT", wp, "PREFIX", "SOURCE",
                       "EXPIRES", "USER ID");
        for (size_t i = 0; i < n; i++)
                printf("%-40s  %-*s  %-6s  %-20s  %s\n", v[i].fpr, wp,
                       v[i].prefix ? v[i].prefix : "(root)", rk_trust_source_to_string(v[i].source),
                       expiry(&v[i], d), first_uid(&v[i]));
}

static json_t *entry_json(const struct rk_trust_entry *e)
{
        char d[40];
        json_t *o = json_pack("{s:s}", "fingerprint", e->fpr);
        if (e->prefix)
                json_object_set_new(o, "prefix", json_string(e->prefix));
        else
                json_object_set_new(o, "root", json_true());
        json_object_set_new(o, "source", json_string(rk_trust_source_to_string(e->source)));
        json_t *uids = json_array();
        for (size_t i = 0; i < e->info.n_uids; i++)
                json_array_append_new(uids, json_string(e->info.uids[i]));
        json_object_set_new(o, "uids", uids);
        json_object_set_new(o, "expires",
                            e->info.expires && !e->mask && !e->error
                                ? json_string(date_or(e->info.expires, "", d))
                                : json_null());
        json_object_set_new(o, "path", json_string(e->path));
        if (e->mask)
                json_object_set_new(o, "mask", json_true());
        if (!e->mask && !e->error) {
                json_object_set_new(o, "expired", json_boolean(e->info.expired));
                json_object_set_new(o, "revoked", json_boolean(e->info.revoked));
        }
        if (e->error)
                json_object_set_new(o, "error", json_string(e->error));
        return o;
}

static int cmd_list(const struct rk_global *g, const struct opts *o)
{
        struct rk_trust_config c = config_of(g);
        struct rk_trust_entry *v = NULL;
        size_t n = 0;
        rk_error err = RK_ERROR_INIT;
        if (rk_trust_list(&c, &v, &n, &err) < 0) {
                rk_err_prefix(&err, err.code, "trust --list");
                return rk_fail(&err);
        }
        if (g->format == RK_FORMAT_TABLE)
                print_table(v, n, !o->no_legend);
        else {
                _cleanup_json_ json_t *arr = json_array();
                for (size_t i = 0; i < n; i++)
                        json_array_append_new(arr, entry_json(&v[i]));
                print_json(g, arr);
        }
        rk_trust_entries_free(v, n);
        return RK_EXIT_OK;
}

/* ---- flags ---- */

/* 0: go on; 1: help printed; < 0: minus the exit status of a usage error. */
static int parse(int argc, char **argv, struct opts *o)
{
        static const struct option longopts[] = {
            {"prefix", required_argument, NULL, 'p'},
            {"root", no_argument, NULL, 'r'},
            {"skip-fingerprint-review", no_argument, NULL, 's'},
            {"list", no_argument, NULL, 'l'},
            {"no-legend", no_argument, NULL, 'n'},
            {"remove", required_argument, NULL, 'R'},
            {"help", no_argument, NULL, 'h'},
            {},
        };
        int c;
        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) >= 0) {
                switch (c) {
                case 'p':
                        o->prefix = optarg;
                        break;
                case 'r':
                        o->root = true;
                        break;
                case 's':
                        o->skip_review = true;
                        break;
                case 'l':
                        o->list = true;
                        break;
                case 'n':
                        o->no_legend = true;
                        break;
                case 'R':
                        o->remove = optarg;
                        break;
                case 'h':
                        rk_help_trust();
                        return 1;
                default:
                        return -rk_bad_option(VERB, c, argv[optind - 1]);
                }
        }
        return 0;
}

static int check_scope(const struct opts *o)
{
        rk_error err = RK_ERROR_INIT;
        if (o->prefix && o->root)
                return rk_usage_error(VERB, "--prefix and --root cannot be used together");
        /* rkt's rail, kept: no implicit trust for every image. */
        if (!o->prefix && !o->root)
                return rk_usage_error(VERB, "aborting due to implicit unbounded trust (root "
                                            "domain): give --prefix=PREFIX, or --root to trust "
                                            "the key for every image");
        if (o->prefix && rk_trust_prefix_validate(o->prefix, &err) < 0)
                return rk_usage_error(VERB, "--prefix: %s", err.msg);
        return 0;
}

int rk_cmd_trust(const struct rk_global *g, int argc, char **argv)
{
        struct opts o = {0};
        int r = parse(argc, argv, &o);
        if (r == 1)
                return RK_EXIT_OK;
        if (r < 0)
                return -r;
        int nargs = argc - optind;
        char **args = argv + optind;
        if (o.list) {
                if (nargs || o.remove || o.prefix || o.root || o.skip_review)
                        return rk_usage_error(VERB, "--list takes no other flags or arguments");
                return cmd_list(g, &o);
        }
        if (o.no_legend)
                return rk_usage_error(VERB, "--no-legend applies to --list only");
        if (o.remove) {
                char fpr[RK_FPR_LEN + 1];
                rk_error err = RK_ERROR_INIT;
                if (nargs || o.skip_review)
                        return rk_usage_error(VERB, "--remove takes no key files");
                if ((r = check_scope(&o)))
                        return r;
                if (rk_fpr_normalize(o.remove, fpr, &err) < 0)
                        return rk_usage_error(VERB, "--remove: %s", err.msg);
                return cmd_remove(g, &o, fpr);
        }
        if (nargs == 0 && o.root)
                return rk_usage_error(VERB, "--root needs an explicit KEY_FILE (no key discovery "
                                            "for every image)");
        if (nargs == 0 && !o.prefix)
                return rk_usage_error(VERB, "expected --prefix=PREFIX (key discovery) or "
                                            "KEY_FILE...");
        if ((r = check_scope(&o)))
                return r;
        return cmd_add(g, &o, nargs, args);
}
