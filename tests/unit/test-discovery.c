/* SPDX-License-Identifier: Apache-2.0 */
/* appc meta discovery, the parsing half: app strings (appc parse_test facts), the <meta> tag
 * scanner (quoting, case, entities, hostile pages), prefix matching, discovery URLs, template
 * rendering and the endpoints and keys of a page (appc discovery_test scenarios, appc.md 9). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "discovery/discovery.h"

static void check_fail_(int r, rk_error *err, int code, const char *sub, const char *file, int line)
{
        if (r != code || err->code != code || !strstr(err->msg, sub) || strchr(err->msg, '\n')) {
                print_error("%s:%d: got %d (code %d) \"%s\", want %d with \"%s\"\n", file, line, r,
                            err->code, err->msg, code, sub);
                _fail(file, line);
        }
        rk_err_clear(err);
}
#define assert_fail(call, err, code, sub)                                                          \
        check_fail_((call), (err), (code), (sub), __FILE__, __LINE__)

static void check_ok_(int r, rk_error *err, const char *file, int line)
{
        if (r < 0) {
                print_error("%s:%d: got %d \"%s\", want success\n", file, line, r, err->msg);
                _fail(file, line);
        }
}
#define assert_ok(call, err) check_ok_((call), (err), __FILE__, __LINE__)

/* ---- app strings ---- */

static void assert_label(const struct rk_app_string *a, size_t i, const char *name,
                         const char *value)
{
        assert_true(i < a->labels.n);
        assert_string_equal(a->labels.v[i].name, name);
        assert_string_equal(a->labels.v[i].value, value);
}

static void test_app_string_ok(void **state)
{
        struct rk_app_string a = {0};
        rk_error err = RK_ERROR_INIT;
        const char *arch = rk_appc_arch();

        assert_ok(rk_app_string_parse("example.com/reduce-worker:1.0.0", &a, &err), &err);
        assert_string_equal(a.name, "example.com/reduce-worker");
        assert_int_equal(a.labels.n, 3);
        assert_label(&a, 0, "version", "1.0.0");
        assert_label(&a, 1, "os", "linux");
        assert_label(&a, 2, "arch", arch);
        rk_app_string_clear(&a);
        rk_app_string_clear(&a); /* idempotent */

        assert_ok(
            rk_app_string_parse("example.com/reduce-worker,channel=alpha,label=value", &a, &err),
            &err);
        assert_int_equal(a.labels.n, 4);
        assert_label(&a, 0, "channel", "alpha");
        assert_label(&a, 1, "label", "value");
        assert_null(rk_labels_get(&a.labels, "version")); /* "latest" is a template default */
        rk_app_string_clear(&a);

        /* appc parse_test: special characters in a value are kept as given */
        assert_ok(rk_app_string_parse("example.com/app:1.2.3,special=!*'();@&+$/?#[],channel=beta",
                                      &a, &err),
                  &err);
        assert_label(&a, 0, "version", "1.2.3");
        assert_label(&a, 1, "special", "!*'();@&+$/?#[]");
        assert_label(&a, 2, "channel", "beta");
        rk_app_string_clear(&a);

        /* given os/arch are kept, in place; version= is the same as :version; '=' in a value */
        assert_ok(rk_app_string_parse("example.com/app,arch=aarch64,version=2.0,os=linux,x=a=b", &a,
                                      &err),
                  &err);
        assert_int_equal(a.labels.n, 4);
        assert_label(&a, 0, "arch", "aarch64");
        assert_label(&a, 1, "version", "2.0");
        assert_label(&a, 2, "os", "linux");
        assert_label(&a, 3, "x", "a=b");
        rk_app_string_clear(&a);

        assert_ok(rk_app_string_parse("example.com/~user/app_v1", &a, &err), &err);
        assert_string_equal(a.name, "example.com/~user/app_v1");
        rk_app_string_clear(&a);

        /* exactly at the cap */
        char max[RK_APP_STRING_MAX + 1];
        memset(max, 'a', 400);
        memcpy(max + 400, ",x=", 3);
        memset(max + 403, 'b', 300);
        memcpy(max + 703, ",y=", 3);
        memset(max + 706, 'c', RK_APP_STRING_MAX - 706);
        max[RK_APP_STRING_MAX] = 0;
        assert_ok(rk_app_string_parse(max, &a, &err), &err);
        assert_int_equal(strlen(rk_labels_get(&a.labels, "y")), RK_APP_STRING_MAX - 706);
        rk_app_string_clear(&a);
}

static void test_app_string_errors(void **state)
{
        static const struct {
                const char *s, *sub;
        } bad[] = {
            {"", "empty"},
            {"not an app name", "space"},
            {"example.com/garbage%8 939", "space"},
            {"example.com/garbage%8", "not a valid"},
            {"foo.com/bar,channel=alpha,dog=woof,channel=beta", "duplicate label 'channel'"},
            {"a:1,version=2", "version is given twice"},
            {"a,version=1,version=2", "version is given twice"},
            {"a:1:2", "at most once"},
            {"a,b=c:d", "right after the app name"},
            {"a,b=c,d:e", "right after the app name"},
            {"a:", "empty value"},
            {":1", "name is empty"},
            {",b=c", "name is empty"},
            {"a,,b=c", "empty label"},
            {"a,", "empty label"},
            {"a,=x", "empty name"},
            {"a,b=", "empty value"},
            {"a,b", "has no value"},
            {"A", "not a valid"},
            {"a--b", "two separators"},
            {"a,B=c", "not a valid"},
            {"a,name=x", "'name' is not a label"},
            {"a,os=windows", "bad os"},
            {"a,arch=arm64", "bad arch"}, /* Go's name; appc says aarch64 */
            {"a\tb", "space"},
            {"a,b=c\x01", "space"},
            {"a,b=\xc3\xa9", "space"},
        };
        rk_error err = RK_ERROR_INIT;
        struct rk_app_string a = {0};

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                int r = rk_app_string_parse(bad[i].s, &a, &err);
                if (r != -EINVAL || err.code != r || !strstr(err.msg, bad[i].sub)) {
                        print_error("%s: got %d \"%s\", want \"%s\"\n", bad[i].s, r, err.msg,
                                    bad[i].sub);
                        fail();
                }
                assert_null(a.name);
                rk_err_clear(&err);
        }
        assert_fail(rk_app_string_parse(NULL, &a, &err), &err, -EINVAL, "empty");

        char *big = malloc(RK_APP_STRING_MAX + 2);
        assert_non_null(big);
        memset(big, 'a', RK_APP_STRING_MAX + 1);
        big[RK_APP_STRING_MAX + 1] = 0;
        assert_fail(rk_app_string_parse(big, &a, &err), &err, -EINVAL, "longer than 1024");
        free(big);
}

static void test_appc_os_arch(void **state)
{
        struct utsname u;
        assert_string_equal(rk_appc_os(), "linux");
        assert_int_equal(uname(&u), 0);
        const char *arch = rk_appc_arch();
        if (strcmp(u.machine, "x86_64") == 0)
                assert_string_equal(arch, "amd64");
        else if (strcmp(u.machine, "aarch64") == 0)
                assert_string_equal(arch, "aarch64");
        else if (strcmp(u.machine, "i686") == 0)
                assert_string_equal(arch, "i386");
        assert_int_equal(rk_os_arch_validate(rk_appc_os(), arch, NULL, NULL), 0);
}

/* ---- pages ---- */

/* Pages in the shape of appc's discovery/testdata (meta01..meta07). */
static const char meta01[] = "<!DOCTYPE html>\n<html>\n<head>\n\t<title>My app</title>\n"
                             "\t<meta name=\"ac-discovery\" content=\"example.com "
                             "https://storage.example.com/{name}-{version}-{os}-{arch}.{ext}\">\n"
                             "\t<meta name=\"ac-discovery-pubkeys\" content=\"example.com "
                             "https://example.com/pubkeys.gpg\">\n"
                             "</head>\n<body>\n\t<h1>My App</h1>\n</body>\n</html>\n";
static const char meta02[] = "<html><head><meta name=\"ac-discovery\" content=\"example.com "
                             "https://storage.example.com/{name}-{version}-{os}-{arch}.{ext}\">"
                             "</head></html>";
static const char meta03[] = "<html><head><meta name=\"ac-discovery-pubkeys\" "
                             "content=\"example.com https://example.com/pubkeys.gpg\"></head>"
                             "</html>";
static const char meta05[] =
    "<html><head>"
    "<meta name=\"ac-discovery\" content=\"example.com "
    "https://storage.example.com/{name}-{version}-{os}-{arch}.{ext}\">"
    "<meta name=\"ac-discovery\" content=\"example.com "
    "https://storage.example.com/{name}-{version}.{ext}\">"
    "<meta name=\"ac-discovery-pubkeys\" content=\"example.com https://example.com/pubkeys.gpg\">"
    "</head></html>";
static const char meta06[] =
    "<!DOCTYPE html>\n<html>\n<head>\n\t<title>My app</title>\n"
    "\t<!-- ACIs with specific version -->\n"
    "\t<meta name=\"ac-discovery\" content=\"example.com "
    "https://storage.example.com/{name}-{version}-{os}-{arch}.{ext}\">\n"
    "\t<meta name=\"ac-discovery\" content=\"example.com "
    "https://mirror.storage.example.com/{name}-{version}-{os}-{arch}.{ext}\">\n"
    "\t<!-- noarch ACIs -->\n"
    "\t<meta name=\"ac-discovery\" content=\"example.com "
    "https://storage.example.com/{name}-{version}-noarch.{ext}\">\n"
    "\t<meta name=\"ac-discovery\" content=\"example.com "
    "https://mirror.storage.example.com/{name}-{version}-noarch.{ext}\">\n"
    "\t<!-- Latest ACIs -->\n"
    "\t<meta name=\"ac-discovery\" content=\"example.com "
    "https://storage.example.com/{name}-latest-{os}-{arch}.{ext}\">\n"
    "\t<meta name=\"ac-discovery\" content=\"example.com "
    "https://mirror.storage.example.com/{name}-latest-{os}-{arch}.{ext}\">\n"
    "\t<!-- Latest noarch ACIs -->\n"
    "\t<meta name=\"ac-discovery\" content=\"example.com "
    "https://storage.example.com/{name}-latest-noarch.{ext}\">\n"
    "\t<meta name=\"ac-discovery\" content=\"example.com "
    "https://mirror.storage.example.com/{name}-latest-noarch.{ext}\">\n"
    "\t<meta name=\"ac-discovery\" content=\"example.com "
    "hdfs://storage.example.com/{name}-{version}-{os}-{arch}.{ext}\">\n"
    "\t<meta name=\"ac-discovery-pubkeys\" content=\"example.com "
    "https://example.com/pubkeys.gpg\">\n"
    "</head>\n<body>\n\t<h1>My App</h1>\n</body>\n</html>\n";
static const char meta07[] = "<html><head><meta name=\"ac-discovery\" "
                             "content=\"example.com/myapp "
                             "https://storage.example.com/myapp-{version}-{os}-{arch}.{ext}\">"
                             "<meta name=\"ac-discovery-pubkeys\" content=\"example.com "
                             "https://example.com/pubkeys.gpg\"></head></html>";

static void parse(const char *html, size_t len, struct rk_meta_list *l)
{
        rk_error err = RK_ERROR_INIT;
        assert_ok(rk_meta_parse(html, len, l, &err), &err);
}
#define PARSE(s, l) parse((s), strlen(s), (l))

static void assert_meta(const struct rk_meta_list *l, size_t i, enum rk_meta_kind kind,
                        const char *prefix, const char *value)
{
        assert_true(i < l->n);
        assert_int_equal(l->v[i].kind, kind);
        assert_string_equal(l->v[i].prefix, prefix);
        assert_string_equal(l->v[i].value, value);
}

static void test_meta_spec_pages(void **state)
{
        struct rk_meta_list l = {0};

        PARSE(meta01, &l);
        assert_int_equal(l.n, 2);
        assert_int_equal(l.skipped, 0);
        assert_meta(&l, 0, RK_META_DISCOVERY, "example.com",
                    "https://storage.example.com/{name}-{version}-{os}-{arch}.{ext}");
        assert_meta(&l, 1, RK_META_PUBKEYS, "example.com", "https://example.com/pubkeys.gpg");
        rk_meta_list_clear(&l);

        PARSE(meta06, &l);
        assert_int_equal(l.n, 10);
        assert_int_equal(l.skipped, 0);
        assert_meta(&l, 8, RK_META_DISCOVERY, "example.com",
                    "hdfs://storage.example.com/{name}-{version}-{os}-{arch}.{ext}");
        assert_meta(&l, 9, RK_META_PUBKEYS, "example.com", "https://example.com/pubkeys.gpg");
        rk_meta_list_clear(&l);
        rk_meta_list_clear(&l);

        parse("", 0, &l);
        assert_int_equal(l.n, 0);
        parse(NULL, 0, &l);
        assert_int_equal(l.n, 0);
}

static void test_meta_variants(void **state)
{
        struct rk_meta_list l = {0};

        /* case, quoting, attribute order, self-closing, whitespace inside content */
        PARSE("<HEAD><META NAME='AC-Discovery' CONTENT='example.com https://a.example/{name}.{ext}'"
              "/><Meta content=\"\texample.com\n  https://b.example/k.gpg \" "
              "nAmE=ac-discovery-pubkeys>"
              "<meta name=ac-discovery content=example.com/x>"
              "<meta\nname = \"ac-discovery\"\ncontent = \"p https://c.example/{name}\" >",
              &l);
        assert_int_equal(l.n, 3);
        assert_meta(&l, 0, RK_META_DISCOVERY, "example.com", "https://a.example/{name}.{ext}");
        assert_meta(&l, 1, RK_META_PUBKEYS, "example.com", "https://b.example/k.gpg");
        assert_meta(&l, 2, RK_META_DISCOVERY, "p", "https://c.example/{name}");
        assert_int_equal(l.skipped, 1); /* the unquoted one-field content */
        rk_meta_list_clear(&l);

        /* entities: named, decimal, hex; unknown and unterminated ones stay */
        PARSE("<meta name=\"ac-discovery\" content=\"example.com "
              "https://a.example/{name}.{ext}?a=1&amp;b=2&#38;c=&#x33;&#X34;&lt;&gt;&quot;&apos;"
              "&#39;&nbsp;&amp\">",
              &l);
        assert_int_equal(l.n, 1);
        assert_meta(&l, 0, RK_META_DISCOVERY, "example.com",
                    "https://a.example/{name}.{ext}?a=1&b=2&c=34<>\"''&nbsp;&amp");
        rk_meta_list_clear(&l);
        /* a decoded space splits fields; a decoded control character or NUL drops the tag */
        PARSE("<meta name=ac-discovery content='a&#32;https://x.example/{ext}'>"
              "<meta name=ac-discovery content='a https://x.example/&#0;{ext}'>"
              "<meta name=ac-discovery content='a https://x.example/&#x1b;{ext}'>"
              "<meta name=ac-discovery content='a https://x.example/&#xd800;{ext}'>"
              "<meta name=ac-discovery content='a https://x.example/&#99999999;{ext}'>",
              &l);
        assert_int_equal(l.n, 1);
        assert_meta(&l, 0, RK_META_DISCOVERY, "a", "https://x.example/{ext}");
        assert_int_equal(l.skipped, 4);
        rk_meta_list_clear(&l);

        /* comments, script and style bodies, other tags' attributes hide nothing else */
        PARSE("<!-- <meta name=ac-discovery content='a https://no.example/1'> -->"
              "<script>var s = \"<meta name=ac-discovery content='a https://no.example/2'>\";"
              "</SCRIPT >"
              "<style>/* <meta name=ac-discovery content='a https://no.example/3'> */</style>"
              "<a title=\"<meta name=ac-discovery content='a https://no.example/4'>\">x</a>"
              "<!---->"
              "<!-->"
              "<meta name=ac-discovery content='a https://yes.example/{ext}'>"
              "</meta name=ac-discovery content='a https://no.example/5'>"
              "<metadata name=ac-discovery content='a https://no.example/6'>"
              "<meta name=ac-discoveryx content='a https://no.example/7'>"
              "<meta name=\"ac-discovery\" name=\"other\" content='a https://yes.example/2' "
              "content='a https://no.example/8'>",
              &l);
        assert_int_equal(l.n, 2);
        assert_meta(&l, 0, RK_META_DISCOVERY, "a", "https://yes.example/{ext}");
        assert_meta(&l, 1, RK_META_DISCOVERY, "a", "https://yes.example/2");
        assert_int_equal(l.skipped, 0);
        rk_meta_list_clear(&l);

        /* malformed tags: no content, three fields, empty content */
        PARSE("<meta name=ac-discovery>"
              "<meta name=ac-discovery content=\"a b c\">"
              "<meta name=ac-discovery content=\"\">"
              "<meta name=ac-discovery content>",
              &l);
        assert_int_equal(l.n, 0);
        assert_int_equal(l.skipped, 4);
        rk_meta_list_clear(&l);
}

static void test_meta_hostile(void **state)
{
        struct rk_meta_list l = {0};
        rk_error err = RK_ERROR_INIT;
        const char tag[] = "<meta name=ac-discovery content='e.com https://s.x/{ext}'>"
                           "<meta name=ac-discovery-pubkeys content='e.com https://s.x/k'>\n";
        size_t tl = strlen(tag), n = 5000;

        /* 10000 tags, 5000 of each kind: 64 of each kept, the rest counted */
        char *page = malloc(tl * n + 1);
        assert_non_null(page);
        for (size_t i = 0; i < n; i++)
                memcpy(page + i * tl, tag, tl);
        page[tl * n] = 0;
        assert_true(tl * n <= RK_DISCOVERY_PAGE_MAX);
        parse(page, tl * n, &l);
        assert_int_equal(l.n, 2 * RK_DISCOVERY_TAGS_MAX);
        assert_int_equal(l.skipped, 2 * (n - RK_DISCOVERY_TAGS_MAX));
        rk_meta_list_clear(&l);
        free(page);

        /* over the page cap */
        page = calloc(1, RK_DISCOVERY_PAGE_MAX + 1);
        assert_non_null(page);
        assert_fail(rk_meta_parse(page, RK_DISCOVERY_PAGE_MAX + 1, &l, &err), &err, -EFBIG,
                    "limit");
        /* a page of NULs, of '<', of "<meta", of "<!--" */
        parse(page, RK_DISCOVERY_PAGE_MAX, &l);
        assert_int_equal(l.n, 0);
        memset(page, '<', RK_DISCOVERY_PAGE_MAX);
        parse(page, RK_DISCOVERY_PAGE_MAX, &l);
        assert_int_equal(l.n, 0);
        for (size_t i = 0; i + 5 <= RK_DISCOVERY_PAGE_MAX; i += 5)
                memcpy(page + i, "<meta", 5);
        parse(page, RK_DISCOVERY_PAGE_MAX, &l);
        assert_int_equal(l.n, 0);
        for (size_t i = 0; i + 4 <= RK_DISCOVERY_PAGE_MAX; i += 4)
                memcpy(page + i, "<!--", 4);
        parse(page, RK_DISCOVERY_PAGE_MAX, &l);
        assert_int_equal(l.n, 0);
        /* one huge attribute: over the value cap, skipped, nothing copied */
        memset(page, 'a', RK_DISCOVERY_PAGE_MAX);
        const char head[] = "<meta name=ac-discovery content=\"x https://";
        memcpy(page, head, strlen(head));
        memcpy(page + RK_DISCOVERY_PAGE_MAX - 2, "\">", 2);
        parse(page, RK_DISCOVERY_PAGE_MAX, &l);
        assert_int_equal(l.n, 0);
        assert_int_equal(l.skipped, 1);
        rk_meta_list_clear(&l);
        free(page);

        /* unterminated quote, tag, comment, script: what follows is not a tag */
        const char *const unterminated[] = {
            "<meta name=ac-discovery content='a https://x.example/{ext}",
            "<meta name=ac-discovery content='a https://x.example/{ext}'",
            "<meta name=\"ac-discovery\" content=\"a https://x.example/{ext}'>"
            "<meta name=ac-discovery content='a https://y.example/{ext}'>",
            "<!-- <meta name=ac-discovery content='a https://x.example/{ext}'>",
            "<script><meta name=ac-discovery content='a https://x.example/{ext}'>",
        };
        for (size_t i = 0; i < ELEMENTSOF(unterminated); i++) {
                PARSE(unterminated[i], &l);
                assert_int_equal(l.n, 0);
                rk_meta_list_clear(&l);
        }
        /* NULs inside a page are bytes like others; inside a value they drop the tag */
        const char nul[] = "<meta name=ac-discovery content='a https://x.example/\0{ext}'>\0"
                           "<meta name=ac-discovery content='a https://y.example/{ext}'>";
        parse(nul, sizeof(nul) - 1, &l);
        assert_int_equal(l.n, 1);
        assert_int_equal(l.skipped, 1);
        assert_meta(&l, 0, RK_META_DISCOVERY, "a", "https://y.example/{ext}");
        rk_meta_list_clear(&l);
}

/* ---- prefixes, URLs, templates ---- */

static void test_prefix_match(void **state)
{
        assert_true(rk_discovery_prefix_match("example.com", "example.com"));
        assert_true(rk_discovery_prefix_match("example.com", "example.com/app"));
        assert_true(rk_discovery_prefix_match("example.com/app", "example.com/app"));
        assert_true(rk_discovery_prefix_match("example.com/app", "example.com/app/x"));
        assert_true(rk_discovery_prefix_match("example.com/", "example.com/app"));
        assert_false(rk_discovery_prefix_match("example.com/app", "example.com/application"));
        assert_false(rk_discovery_prefix_match("example.com", "example.community/app"));
        assert_false(rk_discovery_prefix_match("example.com/app/x", "example.com/app"));
        assert_false(rk_discovery_prefix_match("", "example.com"));
        assert_false(rk_discovery_prefix_match(NULL, "example.com"));
        assert_false(rk_discovery_prefix_match("Example.com", "example.com"));
}

static void free_strv(char **v)
{
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

static void test_discovery_urls(void **state)
{
        rk_error err = RK_ERROR_INIT;
        char **v = NULL;

        assert_int_equal(rk_discovery_urls("example.com/a/b", false, &v, &err), 3);
        assert_string_equal(v[0], "https://example.com/a/b?ac-discovery=1");
        assert_string_equal(v[1], "https://example.com/a?ac-discovery=1");
        assert_string_equal(v[2], "https://example.com?ac-discovery=1");
        assert_null(v[3]);
        free_strv(v);

        assert_int_equal(rk_discovery_urls("example.com/~user/app", true, &v, &err), 3);
        assert_string_equal(v[0], "http://example.com/~user/app?ac-discovery=1");
        assert_string_equal(v[1], "http://example.com/~user?ac-discovery=1");
        assert_string_equal(v[2], "http://example.com?ac-discovery=1");
        free_strv(v);

        assert_int_equal(rk_discovery_urls("example.com", false, &v, &err), 1);
        assert_string_equal(v[0], "https://example.com?ac-discovery=1");
        free_strv(v);

        v = NULL;
        assert_fail(rk_discovery_urls("example.com/A", false, &v, &err), &err, -EINVAL,
                    "not a valid");
        assert_fail(rk_discovery_urls("", false, &v, &err), &err, -EINVAL, "empty");
        char deep[80] = "h";
        for (int i = 0; i < 32; i++)
                strcat(deep, "/a");
        assert_fail(rk_discovery_urls(deep, false, &v, &err), &err, -EINVAL, "path components");
        deep[strlen(deep) - 2] = 0; /* 32 components */
        assert_int_equal(rk_discovery_urls(deep, false, &v, &err), 32);
        assert_string_equal(v[31], "https://h?ac-discovery=1");
        free_strv(v);
}

/* An app with exactly the labels given (NULL-terminated name/value pairs), no defaults. */
static struct rk_app_string *mkapp(const char *name, ...)
{
        static struct rk_label lv[16][8];
        static struct rk_app_string apps[16];
        static size_t next;
        struct rk_app_string *a = &apps[next % 16];
        struct rk_label *l = lv[next++ % 16];
        va_list ap;
        size_t n = 0;

        va_start(ap, name);
        for (const char *k; n < 8 && (k = va_arg(ap, const char *)); n++) {
                l[n].name = (char *)k;
                l[n].value = va_arg(ap, char *);
        }
        va_end(ap);
        a->name = (char *)name;
        a->labels.v = l;
        a->labels.n = n;
        return a;
}

static void render_eq(const char *tpl, const struct rk_app_string *app, bool http, const char *want)
{
        rk_error err = RK_ERROR_INIT;
        char *out = NULL;
        int r = rk_template_render(tpl, app, "aci", http, &out, &err);
        if (r != 1 || strcmp(out, want) != 0) {
                print_error("%s: got %d %s (%s), want %s\n", tpl, r, out ? out : "-", err.msg,
                            want);
                fail();
        }
        free(out);
}

static void render_dropped(const char *tpl, const struct rk_app_string *app, bool http,
                           const char *sub)
{
        rk_error err = RK_ERROR_INIT;
        char *out = NULL;
        int r = rk_template_render(tpl, app, "aci", http, &out, &err);
        if (r != 0 || out || !strstr(err.msg, sub) || err.code >= 0) {
                print_error("%s: got %d %s (%s), want dropped with \"%s\"\n", tpl, r,
                            out ? out : "-", err.msg, sub);
                fail();
        }
}

static void test_template(void **state)
{
        rk_error err = RK_ERROR_INIT;
        char *out = NULL;
        const struct rk_app_string *a = mkapp("example.com/reduce-worker", "version", "1.0.0", "os",
                                              "linux", "arch", "amd64", NULL);

        /* appc.md 9 */
        render_eq("https://storage.example.com/{os}/{arch}/{name}-{version}.{ext}", a, false,
                  "https://storage.example.com/linux/amd64/example.com/reduce-worker-1.0.0.aci");
        assert_int_equal(
            rk_template_render("https://s.example/{name}.{ext}", a, "aci.asc", false, &out, &err),
            1);
        assert_string_equal(out, "https://s.example/example.com/reduce-worker.aci.asc");
        free(out);
        out = NULL;

        /* default version, other labels, placeholders in the host */
        a = mkapp("example.com/app", "channel", "beta", NULL);
        render_eq("https://{channel}.example.com/{name}-{version}.{ext}", a, false,
                  "https://beta.example.com/example.com/app-latest.aci");
        render_eq("HTTPS://s.example:8443/{name}?c={channel}", a, false,
                  "HTTPS://s.example:8443/example.com/app?c=beta");
        render_dropped("https://s.example/{name}-{os}.{ext}", a, false, "no value for {'os'}");

        /* schemes */
        render_dropped("http://s.example/{name}.{ext}", a, false, "needs --insecure-options=http");
        render_eq("http://s.example/{name}.{ext}", a, true, "http://s.example/example.com/app.aci");
        render_dropped("hdfs://s.example/{name}.{ext}", a, true, "not an https");
        render_dropped("//s.example/{name}.{ext}", a, false, "not an https");
        render_dropped("https//s.example/{name}.{ext}", a, false, "not an https");
        render_dropped("https:///{name}.{ext}", a, false, "empty host");
        render_dropped("https://user:pw@s.example/{name}.{ext}", a, false, "user info");
        render_dropped("https://s.example/{name} x.{ext}", a, false, "not allowed");

        /* malformed */
        assert_fail(rk_template_render("https://s.example/{name", a, "aci", false, &out, &err),
                    &err, -EBADMSG, "unbalanced");
        assert_fail(rk_template_render("https://s.example/{na{me}}", a, "aci", false, &out, &err),
                    &err, -EBADMSG, "unbalanced");
        assert_fail(rk_template_render("https://s.example/name}", a, "aci", false, &out, &err),
                    &err, -EBADMSG, "without");
        assert_fail(rk_template_render("https://s.example/{}", a, "aci", false, &out, &err), &err,
                    -EBADMSG, "bad placeholder");
        assert_null(out);

        /* injection: a label value cannot move the host, nor add a query or fragment */
        a = mkapp("example.com/app", "version", "x@evil.example", "v2", "evil.example/", "v3",
                  "evil.example#", "v4", "1.0?x=1#f%41[]{}", "v5", "good-1.2", NULL);
        render_dropped("https://{version}.s.example/{name}.{ext}", a, false, "not a host name");
        render_dropped("https://{v2}s.example/{name}.{ext}", a, false, "not a host name");
        render_dropped("https://s.{v3}/{name}.{ext}", a, false, "not a host name");
        render_dropped("https://s.example:{v4}/{name}.{ext}", a, false, "not a host name");
        render_dropped("{v5}://s.example/{name}.{ext}", a, false, "not an https");
        render_dropped("https://{name}/{ext}", a, false, "not a host name");
        render_eq("https://{v5}.s.example/{name}.{ext}", a, false,
                  "https://good-1.2.s.example/example.com/app.aci");
        render_eq("https://s.example/{name}-{v4}.{ext}", a, false,
                  "https://s.example/example.com/app-1.0%3Fx=1%23f%2541%5B%5D%7B%7D.aci");
        render_eq("https://s.example/{name}-{version}.{ext}", a, false,
                  "https://s.example/example.com/app-x@evil.example.aci");
        render_eq("https://s.example/x?v={v4}", a, false,
                  "https://s.example/x?v=1.0%3Fx=1%23f%2541%5B%5D%7B%7D");

        /* length */
        char big[RK_URL_MAX + 2];
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        memcpy(big, "https://s.example/", 18);
        assert_fail(rk_template_render(big, a, "aci", false, &out, &err), &err, -EBADMSG,
                    "longer than");
        big[RK_URL_MAX - 4] = 0;
        memcpy(big + RK_URL_MAX - 10, "{name}", 6);
        render_dropped(big, a, false, "longer than");
}

/* ---- endpoints and keys (appc discovery_test scenarios) ---- */

static void endpoints(const char *page, const struct rk_app_string *app, bool http,
                      struct rk_endpoints *e, size_t *dropped)
{
        struct rk_meta_list l = {0};
        rk_error err = RK_ERROR_INIT;
        PARSE(page, &l);
        int r = rk_endpoints_from_meta(&l, app, http, e, dropped, &err);
        assert_ok(r, &err);
        assert_int_equal((size_t)r, e->n);
        rk_meta_list_clear(&l);
}

static void assert_endpoint(const struct rk_endpoints *e, size_t i, const char *aci)
{
        char asc[512];
        assert_true(i < e->n);
        snprintf(asc, sizeof(asc), "%s.asc", aci);
        assert_string_equal(e->v[i].aci, aci);
        assert_string_equal(e->v[i].asc, asc);
}

static void keys(const char *page, const char *name, bool http, size_t want_n, const char *want0)
{
        struct rk_meta_list l = {0};
        rk_error err = RK_ERROR_INIT;
        char **v = NULL;
        size_t n = 99;
        PARSE(page, &l);
        int r = rk_pubkeys_from_meta(&l, name, http, &v, &n, &err);
        assert_ok(r, &err);
        assert_int_equal(r, want_n);
        assert_int_equal(n, want_n);
        if (want0)
                assert_string_equal(v[0], want0);
        assert_null(v[n]);
        free_strv(v);
        rk_meta_list_clear(&l);
}

static void test_endpoints_spec(void **state)
{
        struct rk_endpoints e = {0};
        size_t dropped = 99;
        const struct rk_app_string *a =
            mkapp("example.com/myapp", "version", "1.0.0", "os", "linux", "arch", "amd64", NULL);

        /* meta01 at /myapp: both */
        endpoints(meta01, a, false, &e, &dropped);
        assert_int_equal(e.n, 1);
        assert_int_equal(dropped, 0);
        assert_endpoint(&e, 0,
                        "https://storage.example.com/example.com/myapp-1.0.0-linux-amd64.aci");
        rk_endpoints_clear(&e);
        rk_endpoints_clear(&e);
        keys(meta01, "example.com/myapp", false, 1, "https://example.com/pubkeys.gpg");

        /* walking up: the page at example.com answers for example.com/myapp/foobar */
        const struct rk_app_string *b = mkapp("example.com/myapp/foobar", "version", "1.0.0", "os",
                                              "linux", "arch", "amd64", NULL);
        endpoints(meta01, b, false, &e, NULL);
        assert_int_equal(e.n, 1);
        assert_endpoint(
            &e, 0, "https://storage.example.com/example.com/myapp/foobar-1.0.0-linux-amd64.aci");
        rk_endpoints_clear(&e);

        /* templates and keys at different levels: meta02 has no keys, meta03 no templates */
        endpoints(meta02, a, false, &e, &dropped);
        assert_int_equal(e.n, 1);
        rk_endpoints_clear(&e);
        keys(meta02, "example.com/myapp", false, 0, NULL);
        endpoints(meta03, a, false, &e, &dropped);
        assert_int_equal(e.n, 0);
        assert_null(e.v);
        assert_int_equal(dropped, 0);
        keys(meta03, "example.com/myapp", false, 1, "https://example.com/pubkeys.gpg");

        /* missing labels: the os/arch template is dropped, the other one renders */
        const struct rk_app_string *v = mkapp("example.com/myapp", "version", "1.0.0", NULL);
        endpoints(meta05, v, false, &e, &dropped);
        assert_int_equal(e.n, 1);
        assert_int_equal(dropped, 1);
        assert_endpoint(&e, 0, "https://storage.example.com/example.com/myapp-1.0.0.aci");
        rk_endpoints_clear(&e);
        /* no labels at all: version defaults to latest */
        const struct rk_app_string *none = mkapp("example.com/myapp", NULL);
        endpoints(meta05, none, false, &e, &dropped);
        assert_int_equal(e.n, 1);
        assert_int_equal(dropped, 1);
        assert_endpoint(&e, 0, "https://storage.example.com/example.com/myapp-latest.aci");
        rk_endpoints_clear(&e);

        /* meta06, several templates: more substituted labels first, page order otherwise, the
         * hdfs:// one dropped. (appc's master keeps only the best-ranked ones and has no
         * "latest" default; the first entries are the ones it returns.) */
        endpoints(meta06, a, false, &e, &dropped);
        assert_int_equal(e.n, 8);
        assert_int_equal(dropped, 1);
        assert_endpoint(&e, 0,
                        "https://storage.example.com/example.com/myapp-1.0.0-linux-amd64.aci");
        assert_endpoint(
            &e, 1, "https://mirror.storage.example.com/example.com/myapp-1.0.0-linux-amd64.aci");
        assert_endpoint(&e, 2,
                        "https://storage.example.com/example.com/myapp-latest-linux-amd64.aci");
        assert_endpoint(
            &e, 3, "https://mirror.storage.example.com/example.com/myapp-latest-linux-amd64.aci");
        assert_endpoint(&e, 4, "https://storage.example.com/example.com/myapp-1.0.0-noarch.aci");
        assert_endpoint(&e, 5,
                        "https://mirror.storage.example.com/example.com/myapp-1.0.0-noarch.aci");
        assert_endpoint(&e, 6, "https://storage.example.com/example.com/myapp-latest-noarch.aci");
        assert_endpoint(&e, 7,
                        "https://mirror.storage.example.com/example.com/myapp-latest-noarch.aci");
        rk_endpoints_clear(&e);

        endpoints(meta06, v, false, &e, &dropped); /* version only: noarch versioned first */
        assert_int_equal(e.n, 4);
        assert_int_equal(dropped, 5);
        assert_endpoint(&e, 0, "https://storage.example.com/example.com/myapp-1.0.0-noarch.aci");
        assert_endpoint(&e, 1,
                        "https://mirror.storage.example.com/example.com/myapp-1.0.0-noarch.aci");
        assert_endpoint(&e, 2, "https://storage.example.com/example.com/myapp-latest-noarch.aci");
        rk_endpoints_clear(&e);

        /* os/arch only: "latest" from the default and spelled out are the same URL, kept once */
        const struct rk_app_string *oa =
            mkapp("example.com/myapp", "os", "linux", "arch", "amd64", NULL);
        endpoints(meta06, oa, false, &e, &dropped);
        assert_int_equal(e.n, 4);
        assert_endpoint(&e, 0,
                        "https://storage.example.com/example.com/myapp-latest-linux-amd64.aci");
        assert_endpoint(
            &e, 1, "https://mirror.storage.example.com/example.com/myapp-latest-linux-amd64.aci");
        assert_endpoint(&e, 2, "https://storage.example.com/example.com/myapp-latest-noarch.aci");
        assert_endpoint(&e, 3,
                        "https://mirror.storage.example.com/example.com/myapp-latest-noarch.aci");
        rk_endpoints_clear(&e);

        endpoints(meta06, none, false, &e, &dropped); /* nothing: the latest noarch ones */
        assert_int_equal(e.n, 2);
        assert_endpoint(&e, 0, "https://storage.example.com/example.com/myapp-latest-noarch.aci");
        rk_endpoints_clear(&e);

        /* meta07: a hard-coded app name, prefix example.com/myapp */
        endpoints(meta07, a, false, &e, &dropped);
        assert_int_equal(e.n, 1);
        assert_endpoint(&e, 0, "https://storage.example.com/myapp-1.0.0-linux-amd64.aci");
        rk_endpoints_clear(&e);
        /* ... which does not cover example.com/myapplication */
        endpoints(meta07,
                  mkapp("example.com/myapplication", "version", "1", "os", "linux", "arch", "amd64",
                        NULL),
                  false, &e, &dropped);
        assert_int_equal(e.n, 0);
        assert_int_equal(dropped, 0);
        keys(meta07, "example.com/myapplication", false, 1, "https://example.com/pubkeys.gpg");
        keys(meta07, "other.example/x", false, 0, NULL);
}

static void test_endpoints_http(void **state)
{
        struct rk_endpoints e = {0};
        size_t dropped = 0;
        const char page[] =
            "<meta name=ac-discovery content='example.com http://s.example/{name}.{ext}'>"
            "<meta name=ac-discovery content='example.com https://s.example/{name}.{ext}'>"
            "<meta name=ac-discovery content='example.com https://s.example/{name}.aci'>"
            "<meta name=ac-discovery content='example.com https://s.example/{name'>"
            "<meta name=ac-discovery-pubkeys content='example.com http://s.example/k.gpg'>"
            "<meta name=ac-discovery-pubkeys content='example.com ftp://s.example/k.gpg'>"
            "<meta name=ac-discovery-pubkeys content='example.com https://u@s.example/k.gpg'>"
            "<meta name=ac-discovery-pubkeys content='example.com https://s.example/{x}.gpg'>"
            "<meta name=ac-discovery-pubkeys content='example.com https://s.example/k.gpg'>";
        const struct rk_app_string *a = mkapp("example.com/app", NULL);

        endpoints(page, a, false, &e, &dropped);
        assert_int_equal(e.n, 1);
        assert_int_equal(dropped, 3); /* http, no {ext}, malformed */
        assert_endpoint(&e, 0, "https://s.example/example.com/app.aci");
        rk_endpoints_clear(&e);
        endpoints(page, a, true, &e, &dropped);
        assert_int_equal(e.n, 2);
        assert_int_equal(dropped, 2);
        assert_endpoint(&e, 0, "http://s.example/example.com/app.aci");
        rk_endpoints_clear(&e);

        keys(page, "example.com/app", false, 1, "https://s.example/k.gpg");
        keys(page, "example.com/app", true, 2, "http://s.example/k.gpg");
}

/* The whole path: app string -> page -> endpoints, with the host's os/arch. */
static void test_app_string_to_endpoints(void **state)
{
        struct rk_app_string a = {0};
        struct rk_endpoints e = {0};
        rk_error err = RK_ERROR_INIT;
        char want[256];

        assert_ok(rk_app_string_parse("example.com/myapp:1.0.0", &a, &err), &err);
        endpoints(meta01, &a, false, &e, NULL);
        assert_int_equal(e.n, 1);
        snprintf(want, sizeof(want),
                 "https://storage.example.com/example.com/myapp-1.0.0-%s-%s.aci", rk_appc_os(),
                 rk_appc_arch());
        assert_endpoint(&e, 0, want);
        rk_endpoints_clear(&e);
        rk_app_string_clear(&a);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_app_string_ok),  cmocka_unit_test(test_app_string_errors),
            cmocka_unit_test(test_appc_os_arch),   cmocka_unit_test(test_meta_spec_pages),
            cmocka_unit_test(test_meta_variants),  cmocka_unit_test(test_meta_hostile),
            cmocka_unit_test(test_prefix_match),   cmocka_unit_test(test_discovery_urls),
            cmocka_unit_test(test_template),       cmocka_unit_test(test_endpoints_spec),
            cmocka_unit_test(test_endpoints_http), cmocka_unit_test(test_app_string_to_endpoints),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
