/* SPDX-License-Identifier: Apache-2.0 */
/* The <meta name="ac-discovery..."> tags of a discovery page.
 *
 * The page comes from the network, so this is not an HTML parser: it is a single forward scan
 * that recognises comments, <script>/<style> bodies, and tags with their attributes (quoted
 * '"' / '\'' or unquoted), enough to find meta tags where a browser would. Every byte is
 * looked at a bounded number of times, nothing recurses, and nothing is copied except the
 * name and content of an ac-discovery tag, each capped at META_VALUE_MAX, at most
 * RK_DISCOVERY_TAGS_MAX per kind: work is linear in the page and memory is bounded whatever
 * the page holds (thousands of tags, unterminated quotes or comments, NULs). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "discovery/discovery.h"

#define META_VALUE_MAX (2 * RK_URL_MAX) /* bytes of a content attribute kept */

struct span {
        const char *p;
        size_t n;
        bool set;
};

static bool is_space(unsigned char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static bool is_alpha(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* First case-insensitive occurrence of needle (lowercase, short) in h[0..n): O(n * |needle|). */
static const char *find_ci(const char *h, size_t n, const char *needle)
{
        size_t k = strlen(needle);
        for (size_t i = 0; i + k <= n; i++)
                if (strncasecmp(h + i, needle, k) == 0)
                        return h + i;
        return NULL;
}

static void append_utf8(char *out, size_t *o, unsigned long cp)
{
        if (cp < 0x80) {
                out[(*o)++] = (char)cp;
        } else if (cp < 0x800) {
                out[(*o)++] = (char)(0xc0 | (cp >> 6));
                out[(*o)++] = (char)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
                out[(*o)++] = (char)(0xe0 | (cp >> 12));
                out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
                out[(*o)++] = (char)(0x80 | (cp & 0x3f));
        } else {
                out[(*o)++] = (char)(0xf0 | (cp >> 18));
                out[(*o)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
                out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
                out[(*o)++] = (char)(0x80 | (cp & 0x3f));
        }
}

/* Decode &amp; &lt; &gt; &quot; &apos; &#N; &#xH; into out (at least n + 1 bytes: no entity
 * decodes longer than it is written). Unknown or unterminated entities stay as they are. A
 * NUL, a control character other than HTML whitespace (which separates the content's
 * fields), a surrogate or an out-of-range code point, literal or decoded, makes the value bad
 * (-EBADMSG): nothing downstream wants one and a NUL would cut the string. */
static int decode(const char *p, size_t n, char *out)
{
        static const struct {
                const char *name;
                char c;
        } named[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}};
        size_t o = 0;

        for (size_t i = 0; i < n;) {
                unsigned char c = (unsigned char)p[i];
                if (c != '&') {
                        if ((c < 0x20 && !is_space(c)) || c == 0x7f)
                                return -EBADMSG;
                        out[o++] = (char)c;
                        i++;
                        continue;
                }
                bool done = false;
                for (size_t k = 0; k < ELEMENTSOF(named) && !done; k++) {
                        size_t kl = strlen(named[k].name);
                        if (n - i - 1 >= kl && strncmp(p + i + 1, named[k].name, kl) == 0) {
                                out[o++] = named[k].c;
                                i += 1 + kl;
                                done = true;
                        }
                }
                if (done)
                        continue;
                if (i + 2 < n && p[i + 1] == '#') {
                        bool hex = p[i + 2] == 'x' || p[i + 2] == 'X';
                        size_t j = i + 2 + hex, digits = 0;
                        unsigned long cp = 0;
                        for (; j < n && digits < 8; j++, digits++) {
                                char d = p[j];
                                int v = d >= '0' && d <= '9'   ? d - '0'
                                        : !hex                 ? -1
                                        : d >= 'a' && d <= 'f' ? d - 'a' + 10
                                        : d >= 'A' && d <= 'F' ? d - 'A' + 10
                                                               : -1;
                                if (v < 0)
                                        break;
                                cp = cp * (hex ? 16 : 10) + (unsigned long)v;
                        }
                        if (digits > 0 && j < n && p[j] == ';') {
                                if ((cp < 0x20 && !is_space((unsigned char)cp)) || cp == 0x7f ||
                                    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
                                        return -EBADMSG;
                                append_utf8(out, &o, cp);
                                i = j + 1;
                                continue;
                        }
                }
                out[o++] = '&';
                i++;
        }
        out[o] = 0;
        return (int)o;
}

/* The decoded value of an attribute in *ret: 1, 0 if bad or over the cap, -ENOMEM. */
static int decode_span(const struct span *s, char **ret)
{
        if (!s->set || s->n > META_VALUE_MAX)
                return 0;
        char *out = malloc(s->n + 1);
        if (!out)
                return -ENOMEM;
        if (decode(s->p, s->n, out) < 0) {
                free(out);
                return 0;
        }
        *ret = out;
        return 1;
}

static bool trimmed_eq_ci(const struct span *s, const char *want)
{
        size_t a = 0, b = s->n, k = strlen(want);
        while (a < b && is_space((unsigned char)s->p[a]))
                a++;
        while (b > a && is_space((unsigned char)s->p[b - 1]))
                b--;
        return b - a == k && strncasecmp(s->p + a, want, k) == 0;
}

/* Which ac- tag a name attribute names (-1: none). Compared after trimming, case-insensitively
 * (HTML treats meta names so); entities are not decoded here: no real page spells
 * "ac-discovery" with them. */
static int meta_kind(const struct span *name)
{
        if (!name->set || name->n > 64)
                return -1;
        if (trimmed_eq_ci(name, "ac-discovery"))
                return RK_META_DISCOVERY;
        if (trimmed_eq_ci(name, "ac-discovery-pubkeys"))
                return RK_META_PUBKEYS;
        return -1;
}

struct scan {
        struct rk_meta_list *l;
        size_t count[2];
};

/* Keep one tag: content must be exactly two whitespace-separated fields. 1 kept, 0 skipped,
 * -ENOMEM. */
static int keep(struct scan *sc, int kind, const struct span *content)
{
        if (sc->count[kind] >= RK_DISCOVERY_TAGS_MAX) {
                sc->l->skipped++;
                return 0;
        }
        _cleanup_free_ char *c = NULL;
        int r = decode_span(content, &c);
        if (r <= 0) {
                if (r == 0)
                        sc->l->skipped++;
                return r;
        }
        const char *f[3];
        size_t fn[3], nf = 0;
        for (const char *p = c; *p && nf < 3;) {
                while (*p && is_space((unsigned char)*p))
                        p++;
                if (!*p)
                        break;
                const char *st = p;
                while (*p && !is_space((unsigned char)*p))
                        p++;
                f[nf] = st;
                fn[nf++] = (size_t)(p - st);
        }
        if (nf != 2) {
                sc->l->skipped++;
                return 0;
        }
        struct rk_meta m = {.kind = (enum rk_meta_kind)kind};
        m.prefix = strndup(f[0], fn[0]);
        m.value = strndup(f[1], fn[1]);
        struct rk_meta *v =
            m.prefix && m.value ? realloc(sc->l->v, (sc->l->n + 1) * sizeof(*v)) : NULL;
        if (!v) {
                free(m.prefix);
                free(m.value);
                return -ENOMEM;
        }
        sc->l->v = v;
        sc->l->v[sc->l->n++] = m;
        sc->count[kind]++;
        return 1;
}

/* Parse the attributes of a tag from p (just after its name) to its '>'. Returns the offset
 * just past the '>', or len if the tag runs to the end of the page (then *complete is false). */
static size_t scan_attrs(const char *h, size_t len, size_t i, struct span *name,
                         struct span *content, bool *complete)
{
        *complete = false;
        while (i < len) {
                unsigned char c = (unsigned char)h[i];
                if (is_space(c) || c == '/') {
                        i++;
                        continue;
                }
                if (c == '>') {
                        *complete = true;
                        return i + 1;
                }
                /* attribute name (a leading '=' belongs to it, as in HTML) */
                size_t an = i++;
                while (i < len && !is_space((unsigned char)h[i]) && h[i] != '/' && h[i] != '>' &&
                       h[i] != '=')
                        i++;
                size_t an_n = i - an;
                while (i < len && is_space((unsigned char)h[i]))
                        i++;
                struct span val = {NULL, 0, true};
                if (i < len && h[i] == '=') {
                        i++;
                        while (i < len && is_space((unsigned char)h[i]))
                                i++;
                        if (i < len && (h[i] == '"' || h[i] == '\'')) {
                                const char *q = memchr(h + i + 1, h[i], len - i - 1);
                                if (!q)
                                        return len; /* unterminated quote: the tag is lost */
                                val.p = h + i + 1;
                                val.n = (size_t)(q - val.p);
                                i = (size_t)(q - h) + 1;
                        } else {
                                val.p = h + i;
                                while (i < len && !is_space((unsigned char)h[i]) && h[i] != '>')
                                        i++;
                                val.n = (size_t)(h + i - val.p);
                        }
                } else {
                        val.p = h + an;
                        val.n = 0;
                }
                /* the first of duplicate attributes wins, as in HTML */
                if (an_n == 4 && strncasecmp(h + an, "name", 4) == 0 && !name->set)
                        *name = val;
                else if (an_n == 7 && strncasecmp(h + an, "content", 7) == 0 && !content->set)
                        *content = val;
        }
        return len;
}

int rk_meta_parse(const char *html, size_t len, struct rk_meta_list *ret, rk_error *err)
{
        struct rk_meta_list l = {0};
        struct scan sc = {.l = &l};
        size_t i = 0;

        if (len > RK_DISCOVERY_PAGE_MAX)
                return rk_err(err, -EFBIG, "discovery page: %zu bytes, limit %u", len,
                              RK_DISCOVERY_PAGE_MAX);
        if (!html)
                len = 0;
        while (i < len) {
                const char *lt = memchr(html + i, '<', len - i);
                if (!lt)
                        break;
                i = (size_t)(lt - html) + 1;
                if (len - i >= 3 && memcmp(html + i, "!--", 3) == 0) {
                        /* comment: "<!-->" and "<!--->" end at once, as in HTML */
                        size_t s = i + 3;
                        if (s < len && html[s] == '>') {
                                i = s + 1;
                                continue;
                        }
                        if (len - s >= 2 && html[s] == '-' && html[s + 1] == '>') {
                                i = s + 2;
                                continue;
                        }
                        const char *e = len - s >= 3 ? memmem(html + s, len - s, "-->", 3) : NULL;
                        if (!e)
                                break; /* unterminated: the rest of the page is a comment */
                        i = (size_t)(e - html) + 3;
                        continue;
                }
                if (i < len && (html[i] == '!' || html[i] == '?')) {
                        /* doctype, processing instruction, bogus comment: up to '>' */
                        const char *gt = memchr(html + i, '>', len - i);
                        if (!gt)
                                break;
                        i = (size_t)(gt - html) + 1;
                        continue;
                }
                bool end_tag = i < len && html[i] == '/';
                size_t tn = i + end_tag;
                if (tn >= len || !is_alpha((unsigned char)html[tn]))
                        continue; /* a '<' that starts no tag is text */
                size_t te = tn;
                while (te < len && !is_space((unsigned char)html[te]) && html[te] != '/' &&
                       html[te] != '>')
                        te++;
                struct span name = {0}, content = {0};
                bool complete;
                i = scan_attrs(html, len, te, &name, &content, &complete);
                if (end_tag)
                        continue;
                size_t tlen = te - tn;
                if (tlen == 4 && strncasecmp(html + tn, "meta", 4) == 0) {
                        int kind = meta_kind(&name);
                        if (kind < 0)
                                continue;
                        if (!complete) {
                                l.skipped++;
                                continue;
                        }
                        int r = keep(&sc, kind, &content);
                        if (r < 0) {
                                rk_meta_list_clear(&l);
                                return rk_err(err, r, "discovery page: out of memory");
                        }
                        continue;
                }
                /* raw text: no tags inside <script> or <style> until their end tag */
                const char *raw = NULL;
                if (tlen == 6 && strncasecmp(html + tn, "script", 6) == 0)
                        raw = "</script";
                else if (tlen == 5 && strncasecmp(html + tn, "style", 5) == 0)
                        raw = "</style";
                if (raw && complete) {
                        const char *e = find_ci(html + i, len - i, raw);
                        if (!e)
                                break;
                        i = (size_t)(e - html);
                }
        }
        *ret = l;
        return 0;
}

void rk_meta_list_clear(struct rk_meta_list *l)
{
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++) {
                free(l->v[i].prefix);
                free(l->v[i].value);
        }
        free(l->v);
        l->v = NULL;
        l->n = 0;
        l->skipped = 0;
}
