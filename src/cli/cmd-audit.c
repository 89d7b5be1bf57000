/* SPDX-License-Identifier: Apache-2.0 */
/* rkt audit list | verify: review the tamper-evident audit log. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "base/json.h"
#include "base/log.h"
#include "cli/cli.h"

void rk_help_audit(void)
{
        printf("Usage: rkt audit list [--since=TIME] [--pod=UUID] [--image=ID] [--event=KIND]\n"
               "                      [--no-legend]\n"
               "       rkt audit verify\n"
               "\n"
               "Every decision rkt makes (keys trusted or removed, images admitted or refused\n"
               "and why, insecure options used, images stored, rendered or removed) is one\n"
               "record of <dir>/audit/audit.log, chained to the one before it by SHA-512.\n"
               "\n"
               "  list    print records (table, or --format=json); filters combine:\n"
               "          --since=TIME   records at or after TIME (RFC 3339, e.g. 2026-11-27 or\n"
               "                         2026-11-27T10:00:00Z)\n"
               "          --pod=UUID, --image=ID (any prefix), --event=KIND (e.g. fetch)\n"
               "  verify  recompute the chain; exit 0 if intact, 1 naming the first bad record.\n"
               "          Prints the head hash: keep a copy off the host to detect a rewrite.\n");
}

struct filter {
        const char *since, *pod, *image, *event;
        json_t *out;
};

static const char *str(const json_t *rec, const char *key)
{
        const char *s = json_string_value(json_object_get(rec, key));
        return s ? s : "";
}

static int collect(const json_t *rec, void *ud)
{
        struct filter *f = ud;
        if (f->event && strcmp(str(rec, "event"), f->event) != 0)
                return 0;
        if (f->since && strcmp(str(rec, "time"), f->since) < 0)
                return 0;
        if (f->pod && strcmp(str(rec, "pod"), f->pod) != 0)
                return 0;
        if (f->image && strncmp(str(rec, "image"), f->image, strlen(f->image)) != 0)
                return 0;
        json_array_append(f->out, (json_t *)rec);
        return 0;
}

static void print_table(json_t *arr, bool legend)
{
        size_t i;
        json_t *rec;
        if (legend)
                printf("%-6s %-30s %-14s %-39s %-10s %s\n", "SEQ", "TIME", "EVENT", "OBJECT",
                       "DECISION", "DETAIL");
        json_array_foreach (arr, i, rec) {
                const char *obj = str(rec, "image");
                if (!*obj)
                        obj = str(rec, "pod");
                if (!*obj)
                        obj = str(rec, "fingerprint");
                if (!*obj)
                        obj = str(rec, "name");
                const char *detail = str(rec, "reason");
                if (!*detail)
                        detail = str(rec, "name");
                printf("%-6" JSON_INTEGER_FORMAT " %-30s %-14s %-39.39s %-10s %s\n",
                       json_integer_value(json_object_get(rec, "seq")), str(rec, "time"),
                       str(rec, "event"), *obj ? obj : "-",
                       *str(rec, "decision") ? str(rec, "decision") : "-", detail);
        }
}

static int cmd_list(const struct rk_global *g, int argc, char **argv)
{
        static const struct option longopts[] = {
            {"since", required_argument, NULL, 's'},
            {"pod", required_argument, NULL, 'p'},
            {"image", required_argument, NULL, 'i'},
            {"event", required_argument, NULL, 'e'},
            {"no-legend", no_argument, NULL, 'n'},
            {"help", no_argument, NULL, 'h'},
            {},
        };
        struct filter f = {0};
        bool legend = true;
        int c;
        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) >= 0) {
                switch (c) {
                case 's':
                        f.since = optarg;
                        break;
                case 'p':
                        f.pod = optarg;
                        break;
                case 'i':
                        f.image = optarg;
                        break;
                case 'e':
                        f.event = optarg;
                        break;
                case 'n':
                        legend = false;
                        break;
                case 'h':
                        rk_help_audit();
                        return RK_EXIT_OK;
                default:
                        return rk_bad_option("audit list", c, argv[optind - 1]);
                }
        }
        if (optind < argc)
                return rk_usage_error("audit list", "unexpected argument '%s'", argv[optind]);
        _cleanup_json_ json_t *arr = json_array();
        f.out = arr;
        rk_error err = RK_ERROR_INIT;
        int r = rk_audit_foreach(g->dir, collect, &f, &err);
        if (r == -ENOENT) {
                /* No log yet: nothing has been decided, which is not an error. */
                r = 0;
        } else if (r < 0)
                return rk_fail(&err);
        if (g->format == RK_FORMAT_TABLE) {
                print_table(arr, legend);
                return RK_EXIT_OK;
        }
        char *s = json_dumps(arr, g->format == RK_FORMAT_JSON ? JSON_COMPACT : JSON_INDENT(2));
        printf("%s\n", s ? s : "[]");
        free(s);
        return RK_EXIT_OK;
}

static int cmd_verify(const struct rk_global *g, int argc, char **argv)
{
        if (argc > 1) {
                if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                        rk_help_audit();
                        return RK_EXIT_OK;
                }
                return rk_usage_error("audit verify", "unexpected argument '%s'", argv[1]);
        }
        struct rk_audit_report rep = {0};
        rk_error err = RK_ERROR_INIT;
        int r = rk_audit_verify(g->dir, &rep, &err);
        if (r < 0) {
                if (r == -ENOENT)
                        /* Fail closed: a log that is gone may have been deleted. */
                        rk_err(&err, r,
                               "audit log: none under '%s/audit' (nothing recorded yet, or it "
                               "was deleted)",
                               g->dir);
                if (g->format != RK_FORMAT_TABLE) {
                        _cleanup_json_ json_t *o =
                            json_pack("{s:b, s:I, s:s}", "intact", 0, "badLine",
                                      (json_int_t)rep.bad_line, "error", err.msg);
                        char *s = json_dumps(o, JSON_COMPACT);
                        printf("%s\n", s ? s : "{}");
                        free(s);
                }
                return rk_fail(&err);
        }
        if (rep.torn)
                rk_log_warning("audit log: %" PRIu64 " torn record(s), left by an interrupted "
                               "write; the chain around them is intact",
                               rep.torn);
        if (rep.head_lagging)
                rk_log_warning("audit log: the head file is one record behind (interrupted "
                               "write); the chain is intact");
        if (g->format != RK_FORMAT_TABLE) {
                _cleanup_json_ json_t *o =
                    json_pack("{s:b, s:I, s:I, s:I, s:s}", "intact", 1, "records",
                              (json_int_t)rep.records, "torn", (json_int_t)rep.torn, "lastSeq",
                              (json_int_t)rep.last_seq, "head", rep.head);
                char *s =
                    json_dumps(o, g->format == RK_FORMAT_JSON ? JSON_COMPACT : JSON_INDENT(2));
                printf("%s\n", s ? s : "{}");
                free(s);
                return RK_EXIT_OK;
        }
        printf("audit log intact: %" PRIu64 " records, head sha512-%s\n", rep.records, rep.head);
        return RK_EXIT_OK;
}

int rk_cmd_audit(const struct rk_global *g, int argc, char **argv)
{
        if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                rk_help_audit();
                return argc < 2 ? RK_EXIT_USAGE : RK_EXIT_OK;
        }
        if (strcmp(argv[1], "list") == 0)
                return cmd_list(g, argc - 1, argv + 1);
        if (strcmp(argv[1], "verify") == 0)
                return cmd_verify(g, argc - 1, argv + 1);
        return rk_usage_error("audit", "unknown command '%s'", argv[1]);
}
