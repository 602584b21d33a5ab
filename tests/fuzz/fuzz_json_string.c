/*
 * fuzz_json_string: core/json's string escaping, and the row writer's
 * text values built on it (exec/rows, JSON and CSV).
 *
 * The input is any bytes a database may hand back as text. Checked:
 *   - qg_json_string appends (what was in the buffer stays) a valid UTF-8
 *     JSON string literal: quotes, no raw control byte, no raw '"', only
 *     JSON's escapes;
 *   - it decodes (with a decoder written here) to the input when the input
 *     is valid UTF-8, NULs included, and otherwise to the input with each
 *     maximal invalid subsequence replaced by one U+FFFD (a reference
 *     written here from the definition in Unicode chapter 3.9);
 *   - qg_json_escape is the same text without the quotes;
 *   - qg_utf8_valid agrees with the validator written here;
 *   - core/jsonparse reads the literal back to the same bytes;
 *   - a row holding the input as a text column, named by the input, is a
 *     JSON object that reads back to the repaired text under the repaired
 *     name; as CSV (raw, and as JSON strings) it is valid UTF-8, and when
 *     the input is valid UTF-8 its field unquotes back to the input.
 */
#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "core/jsonparse.h"
#include "core/query.h"
#include "exec/rows.h"

#include "fuzz.h"

/* Whether p[0..k) can be completed into a well-formed sequence. The second
 * byte's allowed range depends on the lead, but every such range contains
 * 0x80 or 0xBF, so trying those two in each missing place is enough. */
static bool
completable(const unsigned char *p, size_t k)
{
    for (size_t total = k + 1; total <= 4; total++) {
        size_t missing = total - k;
        for (unsigned mask = 0; mask < (1u << missing); mask++) {
            unsigned char seq[4];
            memcpy(seq, p, k);
            for (size_t j = 0; j < missing; j++)
                seq[k + j] = (mask >> j) & 1 ? 0xBF : 0x80;
            if (fuzz_utf8_len(seq, total) == total)
                return true;
        }
    }
    return false;
}

/* The input with each maximal subpart of an ill-formed sequence replaced
 * by U+FFFD: the longest prefix that could still become a well-formed
 * sequence, or else the single byte. */
static void
reference_repair(qg_buf *out, const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t k = fuzz_utf8_len(p + i, n - i);
        if (k) {
            qg_buf_add(out, p + i, k);
            i += k;
            continue;
        }
        size_t m = 1;
        for (size_t len = n - i < 3 ? n - i : 3; len >= 1; len--) {
            if (completable(p + i, len)) {
                m = len;
                break;
            }
        }
        qg_buf_addlit(out, "\xEF\xBF\xBD");
        i += m;
    }
}

static int
hexdigit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes the JSON string literal s[0..n), quotes included, into out;
 * false when it is not one. The escaper never writes \u above U+001F, so
 * a \u escape here must be one of those. */
static bool
decode_literal(const unsigned char *s, size_t n, qg_buf *out)
{
    if (n < 2 || s[0] != '"' || s[n - 1] != '"')
        return false;
    for (size_t i = 1; i < n - 1; i++) {
        unsigned char c = s[i];
        if (c < 0x20 || c == '"')
            return false;
        if (c != '\\') {
            qg_buf_addc(out, (char)c);
            continue;
        }
        if (++i >= n - 1)
            return false;
        char d;
        switch (s[i]) {
        case '"':
            d = '"';
            break;
        case '\\':
            d = '\\';
            break;
        case '/':
            d = '/';
            break;
        case 'b':
            d = '\b';
            break;
        case 'f':
            d = '\f';
            break;
        case 'n':
            d = '\n';
            break;
        case 'r':
            d = '\r';
            break;
        case 't':
            d = '\t';
            break;
        case 'u': {
            if (n - 1 - (i + 1) < 4)
                return false;
            int v = 0;
            for (int k = 1; k <= 4; k++) {
                int h = hexdigit(s[i + k]);
                if (h < 0)
                    return false;
                v = v * 16 + h;
            }
            if (v > 0x1F)
                return false;
            d = (char)v;
            i += 4;
            break;
        }
        default:
            return false;
        }
        qg_buf_addc(out, d);
    }
    return true;
}

static bool
same(const qg_buf *a, const void *p, size_t n)
{
    return a->len == n && (n == 0 || memcmp(a->data, p, n) == 0);
}

/* ---- the row writer ---- */

struct collect {
    rows_sink sink;
    qg_buf text;
};

static int
collect_flush(rows_sink *s, rows_writer *w, qg_error *err)
{
    struct collect *c = (struct collect *)s;
    qg_buf_add(&c->text, w->out.data, w->out.len);
    qg_buf_reset(&w->out);
    return 0;
}

/* One result set with one column named p, one row whose value is p. A
 * small chunk size makes the writer flush on the way. */
static void
render_row(qg_format fmt, bool header, bool csv_in_json, const char *p, size_t n, qg_buf *text)
{
    qg_query q;
    qg_query_init(&q);
    q.format = fmt;
    q.csv_header = header;
    struct collect c = {.sink = {.flush = collect_flush}, .text = QG_BUF_INIT};
    rows_writer w;
    rows_init(&w, &c.sink, &q, 256, csv_in_json);
    qg_error err;
    qg_error_clear(&err);
    const char *names[1] = {p};
    size_t lens[1] = {n};
    FUZZ_CHECK(rows_set_begin(&w, 1, names, lens, &err) == 0);
    rows_row_begin(&w);
    rows_text(&w, p, n);
    FUZZ_CHECK(rows_row_end(&w, &err) == 0);
    FUZZ_CHECK(rows_set_end(&w, &err) == 0);
    FUZZ_CHECK(rows_flush(&w, &err) == 0);
    rows_free(&w);
    qg_query_free(&q);
    *text = c.text;
}

/* Undoes RFC 4180 quoting of one field followed by CRLF. */
static bool
csv_unquote(const char *s, size_t n, qg_buf *out)
{
    if (n < 2 || s[n - 2] != '\r' || s[n - 1] != '\n')
        return false;
    n -= 2;
    if (n == 0 || s[0] != '"') {
        qg_buf_add(out, s, n);
        return true;
    }
    if (n < 2 || s[n - 1] != '"')
        return false;
    for (size_t i = 1; i < n - 1; i++) {
        if (s[i] == '"') {
            if (i + 1 >= n - 1 || s[i + 1] != '"')
                return false;
            i++;
        }
        qg_buf_addc(out, s[i]);
    }
    return true;
}

static void
check_rows(const char *p, size_t n, const qg_buf *repaired, bool valid)
{
    qg_arena a = QG_ARENA_INIT;
    const char *why;

    /* JSON: {"<name>":"<value>"} */
    qg_buf text = QG_BUF_INIT;
    render_row(QG_FORMAT_JSON, true, false, p, n, &text);
    FUZZ_CHECK(fuzz_utf8_valid(text.data, text.len));
    qg_jval row;
    FUZZ_CHECK(qg_json_parse(text.data, text.len, &a, NULL, &row, &why) == 0);
    FUZZ_CHECK(row.type == QG_J_OBJECT && row.count == 1);
    FUZZ_CHECK(same(repaired, row.members[0].key, row.members[0].key_len));
    FUZZ_CHECK(row.members[0].val.type == QG_J_STRING);
    FUZZ_CHECK(same(repaired, row.members[0].val.str, row.members[0].val.str_len));
    qg_buf_free(&text);

    /* CSV raw: with a header line only checked for UTF-8, since where it
     * ends is ambiguous; without one, the line is the quoted value. */
    render_row(QG_FORMAT_CSV, true, false, p, n, &text);
    FUZZ_CHECK(fuzz_utf8_valid(text.data, text.len));
    qg_buf_free(&text);
    render_row(QG_FORMAT_CSV, false, false, p, n, &text);
    FUZZ_CHECK(fuzz_utf8_valid(text.data, text.len));
    qg_buf field = QG_BUF_INIT;
    FUZZ_CHECK(csv_unquote(text.data, text.len, &field));
    if (valid)
        FUZZ_CHECK(same(&field, p, n));
    qg_buf_free(&field);
    qg_buf_free(&text);

    /* CSV in the envelope: "header\r\n","value\r\n" */
    render_row(QG_FORMAT_CSV, true, true, p, n, &text);
    FUZZ_CHECK(fuzz_utf8_valid(text.data, text.len));
    qg_buf arr = QG_BUF_INIT;
    qg_buf_addc(&arr, '[');
    qg_buf_add(&arr, text.data, text.len);
    qg_buf_addc(&arr, ']');
    qg_jval lines;
    FUZZ_CHECK(qg_json_parse(arr.data, arr.len, &a, NULL, &lines, &why) == 0);
    FUZZ_CHECK(lines.type == QG_J_ARRAY && lines.count == 2);
    for (size_t i = 0; i < 2; i++) {
        const qg_jval *l = &lines.items[i];
        FUZZ_CHECK(l->type == QG_J_STRING);
        qg_buf_reset(&field);
        FUZZ_CHECK(csv_unquote(l->str, l->str_len, &field));
        if (valid)
            FUZZ_CHECK(same(&field, p, n));
    }
    qg_buf_free(&field);
    qg_buf_free(&arr);
    qg_buf_free(&text);
    qg_arena_free(&a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = fuzz_dup(data, size);
    bool valid = fuzz_utf8_valid(data, size);
    FUZZ_CHECK(qg_utf8_valid(p, size) == (int)valid);

    /* Appended after what the buffer already holds. */
    qg_buf b = QG_BUF_INIT;
    qg_buf_addlit(&b, "[1,");
    qg_json_string(&b, p, size);
    FUZZ_CHECK(b.len >= 5 && memcmp(b.data, "[1,", 3) == 0);
    FUZZ_CHECK(b.data[b.len] == '\0');
    const unsigned char *lit = (const unsigned char *)b.data + 3;
    size_t lit_len = b.len - 3;
    FUZZ_CHECK(lit_len <= 2 + 6 * size);
    FUZZ_CHECK(fuzz_utf8_valid(lit, lit_len));

    qg_buf decoded = QG_BUF_INIT, repaired = QG_BUF_INIT;
    FUZZ_CHECK(decode_literal(lit, lit_len, &decoded));
    reference_repair(&repaired, data, size);
    FUZZ_CHECK(same(&decoded, repaired.data, repaired.len));
    if (valid)
        FUZZ_CHECK(same(&decoded, data, size));

    qg_buf esc = QG_BUF_INIT;
    qg_json_escape(&esc, p, size);
    FUZZ_CHECK(esc.len == lit_len - 2 && memcmp(esc.data, lit + 1, esc.len) == 0);

    qg_arena a = QG_ARENA_INIT;
    qg_jval v;
    const char *why;
    FUZZ_CHECK(qg_json_parse((const char *)lit, lit_len, &a, NULL, &v, &why) == 0);
    FUZZ_CHECK(v.type == QG_J_STRING && same(&decoded, v.str, v.str_len));

    check_rows(p, size, &repaired, valid);

    qg_arena_free(&a);
    qg_buf_free(&esc);
    qg_buf_free(&repaired);
    qg_buf_free(&decoded);
    qg_buf_free(&b);
    free((void *)p);
    return 0;
}
