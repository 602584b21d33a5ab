/*
 * jsonparse: a strict RFC 8259 reader (see jsonparse.h).
 *
 * Recursive descent over the source text. Recursion is safe because the
 * depth is checked before descending into an array or object, so the stack
 * never holds more than max_depth + 1 frames. Items and members are first
 * gathered on two shared scratch stacks (heap, freed before returning) and
 * then copied into the arena in one piece, so the arena holds exactly what
 * the caller keeps. A child is parsed into a local and pushed afterwards:
 * the scratch stack may move while the child grows it.
 */
#include "core/jsonparse.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/mem.h"
#include "core/hex.h"

typedef struct jstack {
    void *data;
    size_t len; /* elements */
    size_t cap;
    size_t elem;
} jstack;

typedef struct jparser {
    const unsigned char *s;
    size_t len;
    size_t pos;
    qg_arena *a;
    int max_depth;
    size_t max_values;
    size_t nvalues;
    const char *why;
    jstack items;   /* qg_jval */
    jstack members; /* qg_jmember */
} jparser;

static void
jstack_push(jstack *st, const void *elem)
{
    if (st->len == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 16;
        st->data = qg_realloc(st->data, cap * st->elem);
        st->cap = cap;
    }
    memcpy((char *)st->data + st->len * st->elem, elem, st->elem);
    st->len++;
}

/* Moves the top (len - from) elements into the arena and pops them. */
static void *
jstack_take(jstack *st, size_t from, qg_arena *a)
{
    size_t n = st->len - from;
    if (n == 0)
        return NULL;
    void *p = qg_arena_alloc(a, n * st->elem);
    memcpy(p, (char *)st->data + from * st->elem, n * st->elem);
    st->len = from;
    return p;
}

static int
fail(jparser *p, const char *why)
{
    if (!p->why)
        p->why = why;
    return -1;
}

static void
skip_ws(jparser *p)
{
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static int
hex4(const unsigned char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = s[i];
        int d = qg_hex_value(c);
        if (d < 0)
            return -1;
        v = v * 16 + (unsigned)d;
    }
    *out = v;
    return 0;
}

static size_t
put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Parses the string starting at the opening quote. The decoded text is
 * never longer than the source between the quotes (an escape of n bytes
 * yields at most n bytes), so one arena allocation of that size suffices. */
static int
parse_string(jparser *p, const char **str, size_t *str_len)
{
    const unsigned char *s = p->s;
    size_t start = p->pos + 1;
    size_t end = start;
    while (end < p->len && s[end] != '"') {
        if (s[end] == '\\')
            end++;
        end++;
    }
    if (end >= p->len)
        return fail(p, "unterminated string");

    char *o = qg_arena_alloc(p->a, end - start + 1);
    size_t n = 0;
    size_t i = start;
    while (i < end) {
        unsigned char c = s[i];
        if (c == '\\') {
            unsigned char e = s[i + 1];
            i += 2;
            switch (e) {
            case '"':
            case '\\':
            case '/':
                o[n++] = (char)e;
                break;
            case 'b':
                o[n++] = '\b';
                break;
            case 'f':
                o[n++] = '\f';
                break;
            case 'n':
                o[n++] = '\n';
                break;
            case 'r':
                o[n++] = '\r';
                break;
            case 't':
                o[n++] = '\t';
                break;
            case 'u': {
                unsigned cp;
                if (end - i < 4 || hex4(s + i, &cp) < 0)
                    return fail(p, "invalid \\u escape");
                i += 4;
                if (cp >= 0xDC00 && cp <= 0xDFFF)
                    return fail(p, "lone surrogate in \\u escape");
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    unsigned lo;
                    if (end - i < 6 || s[i] != '\\' || s[i + 1] != 'u' ||
                        hex4(s + i + 2, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
                        return fail(p, "lone surrogate in \\u escape");
                    i += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                n += put_utf8(o + n, cp);
                break;
            }
            default:
                return fail(p, "invalid escape in string");
            }
        } else if (c < 0x20) {
            return fail(p, "control character in string");
        } else if (c < 0x80) {
            o[n++] = (char)c;
            i++;
        } else {
            size_t k = qg_utf8_seq((const char *)s + i, end - i);
            if (k == 0)
                return fail(p, "invalid UTF-8 in string");
            memcpy(o + n, s + i, k);
            n += k;
            i += k;
        }
    }
    o[n] = '\0';
    *str = o;
    *str_len = n;
    p->pos = end + 1;
    return 0;
}

static bool
is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* number = [ '-' ] int [ frac ] [ exp ]; int = '0' / [1-9] *DIGIT */
static int
parse_number(jparser *p)
{
    const unsigned char *s = p->s;
    size_t i = p->pos;
    if (i < p->len && s[i] == '-')
        i++;
    if (i >= p->len || !is_digit(s[i]))
        return fail(p, "invalid number");
    if (s[i] == '0') {
        i++;
    } else {
        while (i < p->len && is_digit(s[i]))
            i++;
    }
    if (i < p->len && s[i] == '.') {
        i++;
        if (i >= p->len || !is_digit(s[i]))
            return fail(p, "invalid number");
        while (i < p->len && is_digit(s[i]))
            i++;
    }
    if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < p->len && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= p->len || !is_digit(s[i]))
            return fail(p, "invalid number");
        while (i < p->len && is_digit(s[i]))
            i++;
    }
    p->pos = i;
    return 0;
}

static int
parse_literal(jparser *p, const char *word, size_t n)
{
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return fail(p, "unexpected character");
    p->pos += n;
    return 0;
}

static int parse_value(jparser *p, int depth, qg_jval *out);

static int
parse_array(jparser *p, int depth, qg_jval *out)
{
    size_t base = p->items.len;
    p->pos++; /* '[' */
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == ']') {
        p->pos++;
        return 0;
    }
    for (;;) {
        qg_jval item;
        if (parse_value(p, depth + 1, &item) < 0)
            return -1;
        jstack_push(&p->items, &item);
        skip_ws(p);
        if (p->pos >= p->len)
            return fail(p, "unexpected end of input in array");
        unsigned char c = p->s[p->pos++];
        if (c == ']')
            break;
        if (c != ',')
            return fail(p, "expected ',' or ']' in array");
        skip_ws(p);
    }
    out->count = p->items.len - base;
    out->items = jstack_take(&p->items, base, p->a);
    return 0;
}

static int
parse_object(jparser *p, int depth, qg_jval *out)
{
    size_t base = p->members.len;
    p->pos++; /* '{' */
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == '}') {
        p->pos++;
        return 0;
    }
    for (;;) {
        qg_jmember m;
        if (p->pos >= p->len)
            return fail(p, "unexpected end of input in object");
        if (p->s[p->pos] != '"')
            return fail(p, "expected a string key in object");
        if (parse_string(p, &m.key, &m.key_len) < 0)
            return -1;
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != ':')
            return fail(p, "expected ':' in object");
        p->pos++;
        skip_ws(p);
        if (parse_value(p, depth + 1, &m.val) < 0)
            return -1;
        jstack_push(&p->members, &m);
        skip_ws(p);
        if (p->pos >= p->len)
            return fail(p, "unexpected end of input in object");
        unsigned char c = p->s[p->pos++];
        if (c == '}')
            break;
        if (c != ',')
            return fail(p, "expected ',' or '}' in object");
        skip_ws(p);
    }
    out->count = p->members.len - base;
    out->members = jstack_take(&p->members, base, p->a);
    return 0;
}

/* Parses one value at p->pos (no leading whitespace); depth is the value's
 * own depth, the top value being 1. */
static int
parse_value(jparser *p, int depth, qg_jval *out)
{
    memset(out, 0, sizeof(*out));
    if (p->pos >= p->len)
        return fail(p, "unexpected end of input");
    if (p->nvalues >= p->max_values)
        return fail(p, "too many values");
    p->nvalues++;

    size_t start = p->pos;
    int rc;
    unsigned char c = p->s[p->pos];
    switch (c) {
    case '{':
    case '[':
        /* Checked before descending: this is what bounds the recursion. */
        if (depth > p->max_depth)
            return fail(p, "nesting too deep");
        if (c == '{') {
            out->type = QG_J_OBJECT;
            rc = parse_object(p, depth, out);
        } else {
            out->type = QG_J_ARRAY;
            rc = parse_array(p, depth, out);
        }
        break;
    case '"':
        out->type = QG_J_STRING;
        rc = parse_string(p, &out->str, &out->str_len);
        break;
    case 't':
        out->type = QG_J_TRUE;
        rc = parse_literal(p, "true", 4);
        break;
    case 'f':
        out->type = QG_J_FALSE;
        rc = parse_literal(p, "false", 5);
        break;
    case 'n':
        out->type = QG_J_NULL;
        rc = parse_literal(p, "null", 4);
        break;
    default:
        if (c == '-' || is_digit(c)) {
            out->type = QG_J_NUMBER;
            rc = parse_number(p);
        } else {
            rc = fail(p, "unexpected character");
        }
        break;
    }
    if (rc < 0)
        return -1;
    out->raw = (const char *)p->s + start;
    out->raw_len = p->pos - start;
    return 0;
}

int
qg_json_parse(const char *text, size_t len, qg_arena *a, const qg_json_limits *lim, qg_jval *out,
              const char **why)
{
    jparser p;
    memset(&p, 0, sizeof(p));
    p.s = (const unsigned char *)(text ? text : "");
    p.len = text ? len : 0;
    p.a = a;
    /* Without limits, be conservative rather than unbounded. */
    p.max_depth = lim ? lim->max_depth : 64;
    p.max_values = lim ? lim->max_values : SIZE_MAX;
    p.items.elem = sizeof(qg_jval);
    p.members.elem = sizeof(qg_jmember);

    int rc;
    skip_ws(&p);
    rc = parse_value(&p, 1, out);
    if (rc == 0) {
        skip_ws(&p);
        if (p.pos != p.len)
            rc = fail(&p, "trailing characters after the value");
    }
    free(p.items.data);
    free(p.members.data);
    if (rc < 0) {
        memset(out, 0, sizeof(*out));
        if (why)
            *why = p.why ? p.why : "invalid JSON";
        return -1;
    }
    if (why)
        *why = NULL;
    return 0;
}
