/*
 * fuzz_json: core/jsonparse, the reader of JSON bodies and of args/$name.
 *
 * The input is a whole JSON text, parsed with the limits params.c uses.
 * On success:
 *   - every raw span lies inside the input, inside its parent's span and
 *     after its previous sibling's; its first byte says its type;
 *   - every string and key is valid UTF-8 and NUL-terminated at its
 *     length; a number's raw text is JSON number grammar; literals are
 *     exactly true/false/null;
 *   - the limits hold: no array or object deeper than max_depth, no more
 *     than max_values values;
 *   - writing the tree back out (strings through core/json's
 *     qg_json_string, numbers as their raw digits) and parsing that gives
 *     the same tree.
 *   - cJSON, a second opinion, accepts the text too and sees the same
 *     types and counts (cJSON is laxer, so not the other way round).
 * Monotonic limits: the input is also parsed under tight limits the input
 * picks; a text accepted under them is accepted, identically, under the
 * loose ones.
 */
#include <cjson/cJSON.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/jsonparse.h"

#include "fuzz.h"

struct walk {
    size_t values;
    int depth; /* of the deepest array or object */
};

static bool
digit(char c)
{
    return c >= '0' && c <= '9';
}

/* RFC 8259's number rule, written as a sequence of optional parts. */
static bool
number_grammar(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i == n || !digit(s[i]))
        return false;
    if (s[i++] != '0')
        while (i < n && digit(s[i]))
            i++;
    if (i < n && s[i] == '.') {
        if (++i == n || !digit(s[i]))
            return false;
        while (i < n && digit(s[i]))
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i == n || !digit(s[i]))
            return false;
        while (i < n && digit(s[i]))
            i++;
    }
    return i == n;
}

static void
check_text(const char *s, size_t n)
{
    FUZZ_CHECK(s != NULL);
    FUZZ_CHECK(s[n] == '\0');
    FUZZ_CHECK(fuzz_utf8_valid(s, n));
}

/* Checks v (at nesting depth d, the top being 1) and everything in it;
 * lo is where v may start at the earliest, hi where it must end by. */
static void
check_value(struct walk *w, const qg_jval *v, int d, const char *lo, const char *hi)
{
    w->values++;
    if ((v->type == QG_J_ARRAY || v->type == QG_J_OBJECT) && d > w->depth)
        w->depth = d;
    FUZZ_CHECK(v->raw != NULL && v->raw_len > 0);
    FUZZ_CHECK(v->raw >= lo && v->raw + v->raw_len <= hi);
    const char *r = v->raw, *end = v->raw + v->raw_len;
    switch (v->type) {
    case QG_J_NULL:
        FUZZ_CHECK(v->raw_len == 4 && memcmp(r, "null", 4) == 0);
        break;
    case QG_J_TRUE:
        FUZZ_CHECK(v->raw_len == 4 && memcmp(r, "true", 4) == 0);
        break;
    case QG_J_FALSE:
        FUZZ_CHECK(v->raw_len == 5 && memcmp(r, "false", 5) == 0);
        break;
    case QG_J_NUMBER:
        FUZZ_CHECK(number_grammar(r, v->raw_len));
        break;
    case QG_J_STRING:
        FUZZ_CHECK(v->raw_len >= 2 && r[0] == '"' && end[-1] == '"');
        /* Decoding never lengthens: an escape is at least as long as what
         * it stands for, other bytes are copied. */
        FUZZ_CHECK(v->str_len <= v->raw_len - 2);
        check_text(v->str, v->str_len);
        break;
    case QG_J_ARRAY: {
        FUZZ_CHECK(r[0] == '[' && end[-1] == ']');
        FUZZ_CHECK((v->count == 0) == (v->items == NULL));
        const char *at = r + 1;
        for (size_t i = 0; i < v->count; i++) {
            check_value(w, &v->items[i], d + 1, at, end - 1);
            at = v->items[i].raw + v->items[i].raw_len;
        }
        break;
    }
    case QG_J_OBJECT: {
        FUZZ_CHECK(r[0] == '{' && end[-1] == '}');
        FUZZ_CHECK((v->count == 0) == (v->members == NULL));
        const char *at = r + 1;
        for (size_t i = 0; i < v->count; i++) {
            check_text(v->members[i].key, v->members[i].key_len);
            /* The key, a colon and the value come before the end. */
            check_value(w, &v->members[i].val, d + 1, at + 3, end - 1);
            at = v->members[i].val.raw + v->members[i].val.raw_len;
        }
        break;
    }
    default:
        FUZZ_CHECK(!"unknown value type");
    }
}

/* Writes v as JSON text: strings and keys re-escaped by core/json. */
static void
write_value(qg_buf *b, const qg_jval *v)
{
    switch (v->type) {
    case QG_J_NULL:
        qg_buf_addlit(b, "null");
        break;
    case QG_J_TRUE:
        qg_buf_addlit(b, "true");
        break;
    case QG_J_FALSE:
        qg_buf_addlit(b, "false");
        break;
    case QG_J_NUMBER:
        qg_buf_add(b, v->raw, v->raw_len);
        break;
    case QG_J_STRING:
        qg_json_string(b, v->str, v->str_len);
        break;
    case QG_J_ARRAY:
        qg_buf_addc(b, '[');
        for (size_t i = 0; i < v->count; i++) {
            if (i)
                qg_buf_addc(b, ',');
            write_value(b, &v->items[i]);
        }
        qg_buf_addc(b, ']');
        break;
    case QG_J_OBJECT:
        qg_buf_addc(b, '{');
        for (size_t i = 0; i < v->count; i++) {
            if (i)
                qg_buf_addc(b, ',');
            qg_json_string(b, v->members[i].key, v->members[i].key_len);
            qg_buf_addc(b, ':');
            write_value(b, &v->members[i].val);
        }
        qg_buf_addc(b, '}');
        break;
    }
}

/* The same tree: types, counts, keys, decoded strings, number digits. */
static bool
same_value(const qg_jval *a, const qg_jval *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case QG_J_NUMBER:
        return a->raw_len == b->raw_len && memcmp(a->raw, b->raw, a->raw_len) == 0;
    case QG_J_STRING:
        return a->str_len == b->str_len && memcmp(a->str, b->str, a->str_len) == 0;
    case QG_J_ARRAY:
        if (a->count != b->count)
            return false;
        for (size_t i = 0; i < a->count; i++)
            if (!same_value(&a->items[i], &b->items[i]))
                return false;
        return true;
    case QG_J_OBJECT:
        if (a->count != b->count)
            return false;
        for (size_t i = 0; i < a->count; i++) {
            const qg_jmember *x = &a->members[i], *y = &b->members[i];
            if (x->key_len != y->key_len || memcmp(x->key, y->key, x->key_len) != 0 ||
                !same_value(&x->val, &y->val))
                return false;
        }
        return true;
    default:
        return true;
    }
}

/* Whether a number's digits are too many for cJSON, which reads at most
 * 63 bytes of a number and then trips over the rest. */
static bool
long_number(const qg_jval *v)
{
    if (v->type == QG_J_NUMBER)
        return v->raw_len > 60;
    for (size_t i = 0; i < v->count; i++)
        if (long_number(v->type == QG_J_ARRAY ? &v->items[i] : &v->members[i].val))
            return true;
    return false;
}

/* The same types and counts in cJSON's tree; keys and strings too unless
 * they hold a NUL, which cJSON cuts at. */
static bool
cjson_agrees(const qg_jval *v, const cJSON *c)
{
    switch (v->type) {
    case QG_J_NULL:
        return cJSON_IsNull(c);
    case QG_J_TRUE:
        return cJSON_IsTrue(c);
    case QG_J_FALSE:
        return cJSON_IsFalse(c);
    case QG_J_NUMBER:
        return cJSON_IsNumber(c);
    case QG_J_STRING:
        return cJSON_IsString(c) &&
               (memchr(v->str, 0, v->str_len) || (strlen(c->valuestring) == v->str_len &&
                                                  memcmp(c->valuestring, v->str, v->str_len) == 0));
    case QG_J_ARRAY:
    case QG_J_OBJECT: {
        if (v->type == QG_J_ARRAY ? !cJSON_IsArray(c) : !cJSON_IsObject(c))
            return false;
        if ((size_t)cJSON_GetArraySize(c) != v->count)
            return false;
        const cJSON *item = c->child;
        for (size_t i = 0; i < v->count; i++, item = item->next) {
            const qg_jval *x = v->type == QG_J_ARRAY ? &v->items[i] : &v->members[i].val;
            if (v->type == QG_J_OBJECT) {
                const qg_jmember *m = &v->members[i];
                if (!memchr(m->key, 0, m->key_len) &&
                    (strlen(item->string) != m->key_len ||
                     memcmp(item->string, m->key, m->key_len) != 0))
                    return false;
            }
            if (!cjson_agrees(x, item))
                return false;
        }
        return true;
    }
    }
    return false;
}

static int
parse(const char *text, size_t len, qg_arena *a, int depth, size_t values, qg_jval *out)
{
    qg_json_limits lim = {depth, values};
    const char *why = NULL;
    memset(out, 0x5A, sizeof(*out));
    int r = qg_json_parse(text, len, a, &lim, out, &why);
    FUZZ_CHECK(r == 0 || r == -1);
    if (r == 0)
        FUZZ_CHECK(why == NULL);
    else
        FUZZ_CHECK(why != NULL && why[0] != '\0');
    return r;
}

/* The limits params.c gives the reader. */
#define MAX_DEPTH  64
#define MAX_VALUES 100000

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    qg_arena a = QG_ARENA_INIT;
    qg_jval doc;
    int r = parse(text, size, &a, MAX_DEPTH, MAX_VALUES, &doc);
    if (r == 0) {
        struct walk w = {0, 0};
        check_value(&w, &doc, 1, text, text + size);
        FUZZ_CHECK(w.depth <= MAX_DEPTH);
        FUZZ_CHECK(w.values <= MAX_VALUES);
        /* Only whitespace around the value. */
        for (const char *p = text; p < doc.raw; p++)
            FUZZ_CHECK(*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r');
        for (const char *p = doc.raw + doc.raw_len; p < text + size; p++)
            FUZZ_CHECK(*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r');

        qg_buf out = QG_BUF_INIT;
        write_value(&out, &doc);
        FUZZ_CHECK(fuzz_utf8_valid(out.data, out.len));
        char *copy = fuzz_dup(out.data, out.len);
        qg_jval again;
        FUZZ_CHECK(parse(copy, out.len, &a, MAX_DEPTH, MAX_VALUES, &again) == 0);
        FUZZ_CHECK(same_value(&doc, &again));
        free(copy);
        qg_buf_free(&out);

        if (!long_number(&doc)) {
            cJSON *c = cJSON_ParseWithLength(text, size);
            FUZZ_CHECK(c != NULL);
            FUZZ_CHECK(cjson_agrees(&doc, c));
            cJSON_Delete(c);
        }
    }

    /* Tight limits: anything they accept, the loose ones accept too. */
    uint64_t h = fuzz_hash(data, size);
    int depth = 1 + (int)(h % 8);
    size_t values = 1 + (size_t)((h >> 8) % 64);
    qg_jval tight;
    if (parse(text, size, &a, depth, values, &tight) == 0) {
        FUZZ_CHECK(r == 0);
        FUZZ_CHECK(same_value(&tight, &doc));
        struct walk w = {0, 0};
        check_value(&w, &tight, 1, text, text + size);
        FUZZ_CHECK(w.values <= values);
        FUZZ_CHECK(w.depth <= depth);
    }
    qg_arena_free(&a);
    return 0;
}
