/*
 * rows: rendering result rows as text (see rows.h).
 *
 * JSON rows are objects whose keys are rendered once per result set, so a
 * row costs one memcpy per key plus the values. CSV rows are built in a line
 * buffer (RFC 4180 quoting, CRLF) and then either appended raw (stored CSV)
 * or as one JSON string per line (the envelope's results array).
 */
#include "exec/rows.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/json.h"
#include "core/mem.h"
#include "exec/trino_type.h"

void
rows_set_name(uint32_t i, char out[32])
{
    if (i == 0)
        snprintf(out, 32, "results");
    else
        snprintf(out, 32, "results-%u", i - 1);
}

void
rows_init(rows_writer *w, rows_sink *sink, const qg_query *q, size_t chunk_size, bool csv_in_json)
{
    memset(w, 0, sizeof(*w));
    w->sink = sink;
    w->chunk_size = chunk_size;
    w->format = q->format;
    w->csv_header = q->csv_header;
    w->pretty = q->pretty;
    w->csv_in_json = csv_in_json;
    /* small first: most results are small; a big one grows the buffer
     * once, and its sink keeps chunk-sized buffers after the first flush */
    qg_buf_reserve(&w->out, 4096);
}

static void
free_cols(rows_writer *w)
{
    for (size_t i = 0; i < w->ncols; i++) {
        free(w->cols[i].name);
        free(w->cols[i].key);
        free(w->cols[i].type);
        qg_buf_free(&w->cols[i].stat.min.bytes);
        qg_buf_free(&w->cols[i].stat.max.bytes);
    }
    free(w->cols);
    w->cols = NULL;
    w->ncols = 0;
}

void
rows_free(rows_writer *w)
{
    free_cols(w);
    qg_buf_free(&w->out);
    qg_buf_free(&w->line);
}

/* Whether JSON rows are laid out one field per line: a sink that frames
 * each row itself gets them on one line whatever the request asked. */
static bool
pretty_rows(const rows_writer *w)
{
    return w->pretty && !w->sink->row;
}

/* --- CSV --------------------------------------------------------------- */

static void
csv_field(qg_buf *line, const char *p, size_t n, bool is_text)
{
    bool quote = is_text && n == 0;
    for (size_t i = 0; i < n && !quote; i++)
        if (p[i] == ',' || p[i] == '"' || p[i] == '\r' || p[i] == '\n')
            quote = true;
    if (n && (p[0] == ' ' || p[n - 1] == ' '))
        quote = true;
    if (!quote) {
        qg_utf8_repair(line, p, n);
        return;
    }
    qg_buf_addc(line, '"');
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '"') {
            qg_utf8_repair(line, p + start, i + 1 - start);
            qg_buf_addc(line, '"');
            start = i + 1;
        }
    }
    qg_utf8_repair(line, p + start, n - start);
    qg_buf_addc(line, '"');
}

/* Ends the CSV line in w->line and appends it to the chunk. */
static void
csv_emit_line(rows_writer *w)
{
    qg_buf_addlit(&w->line, "\r\n");
    size_t before = w->out.len;
    if (w->csv_in_json) {
        if (w->set_rows > 0 || (w->csv_header && w->ncols))
            qg_buf_addc(&w->out, ',');
        qg_json_string(&w->out, w->line.data, w->line.len);
    } else {
        qg_buf_add(&w->out, w->line.data, w->line.len);
    }
    w->set_bytes += w->out.len - before;
    qg_buf_reset(&w->line);
}

/* --- sets ---------------------------------------------------------------- */

int
rows_set_begin(rows_writer *w, size_t n, const char *const *names, const size_t *lens,
               qg_error *err)
{
    return rows_set_begin_typed(w, n, names, lens, NULL, err);
}

int
rows_set_begin_typed(rows_writer *w, size_t n, const char *const *names, const size_t *lens,
                     const char *const *types, qg_error *err)
{
    free_cols(w);
    w->cols = qg_calloc(n ? n : 1, sizeof(rows_col));
    w->ncols = n;
    bool pretty = pretty_rows(w);
    qg_buf key = QG_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        rows_col *c = &w->cols[i];
        c->name = qg_memdup0(names[i], lens[i]);
        c->name_len = lens[i];
        if (types && types[i])
            c->type = qg_strdup(types[i]);
        if (w->format == QG_FORMAT_TRINO) {
            trino_type tt;
            trino_type_of(c->type, &tt);
            c->trino_enc = (int)tt.enc;
        }
        qg_buf_reset(&key);
        if (pretty)
            qg_buf_addlit(&key, "\n  ");
        qg_json_string(&key, names[i], lens[i]);
        if (pretty)
            qg_buf_addlit(&key, ": ");
        else
            qg_buf_addc(&key, ':');
        c->key_len = key.len;
        c->key = qg_memdup0(key.data, key.len);
    }
    qg_buf_free(&key);
    w->in_set = true;
    w->set_rows = 0;
    w->set_bytes = 0;
    if (w->sink->set_begin && w->sink->set_begin(w->sink, w, err) != 0)
        return -1;
    if (w->format == QG_FORMAT_CSV && w->csv_header && n) {
        for (size_t i = 0; i < n; i++) {
            if (i)
                qg_buf_addc(&w->line, ',');
            csv_field(&w->line, names[i], lens[i], false);
        }
        /* the header is the first element; csv_emit_line's comma logic
         * counts on set_rows being 0 for it */
        bool saved = w->csv_header;
        w->csv_header = false;
        csv_emit_line(w);
        w->csv_header = saved;
    }
    return 0;
}

int
rows_set_end(rows_writer *w, qg_error *err)
{
    if (!w->in_set)
        return 0;
    w->in_set = false;
    w->total_bytes += w->set_bytes;
    if (w->sink->set_end && w->sink->set_end(w->sink, w, err) != 0)
        return -1;
    w->set_index++;
    return 0;
}

/* --- column statistics ------------------------------------------------------ */

/* A value as the statistics see it. */
typedef struct sval {
    int kind;
    bool is_int;
    int64_t i;
    double d;
    const char *p; /* TEXT, BLOB; NUMBER given as text */
    size_t n;
} sval;

static int
cmp3(double a, double b)
{
    return a < b ? -1 : a > b;
}

/* <0, 0, >0 as v sorts before, with, after b (which holds a value). */
static int
scmp(const sval *v, const rows_bound *b)
{
    if (v->kind != b->kind)
        return v->kind < b->kind ? -1 : 1;
    switch (v->kind) {
    case ROWS_K_BOOL:
        return (v->i > b->i) - (v->i < b->i);
    case ROWS_K_NUMBER:
        if (v->is_int && b->is_int)
            return (v->i > b->i) - (v->i < b->i);
        return cmp3(v->d, b->d);
    default: {
        size_t m = v->n < b->bytes.len ? v->n : b->bytes.len;
        int r = m ? memcmp(v->p, b->bytes.data, m) : 0;
        if (r)
            return r;
        return (v->n > b->bytes.len) - (v->n < b->bytes.len);
    }
    }
}

static void
sset(rows_bound *b, const sval *v)
{
    b->kind = v->kind;
    b->is_int = v->is_int;
    b->i = v->i;
    b->d = v->d;
    qg_buf_reset(&b->bytes);
    if (v->p)
        qg_buf_add(&b->bytes, v->p, v->n);
}

/* Counts a value of the current column: len is its length, v its value
 * (kind NONE: no order, the length only). */
static void
stat_value(rows_writer *w, const sval *v, size_t len)
{
    if (!w->stats || w->col == 0 || w->col > w->ncols)
        return;
    rows_stat *st = &w->cols[w->col - 1].stat;
    if (len > st->max_len)
        st->max_len = len;
    if (v->kind == ROWS_K_NONE)
        return;
    if (st->min.kind == ROWS_K_NONE || scmp(v, &st->min) < 0)
        sset(&st->min, v);
    if (st->max.kind == ROWS_K_NONE || scmp(v, &st->max) > 0)
        sset(&st->max, v);
}

void
rows_bound_text(const rows_bound *b, qg_buf *out)
{
    char num[32];
    switch (b->kind) {
    case ROWS_K_BOOL:
        qg_buf_adds(out, b->i ? "true" : "false");
        return;
    case ROWS_K_NUMBER:
        if (b->bytes.len)
            qg_buf_add(out, b->bytes.data, b->bytes.len);
        else if (b->is_int)
            qg_buf_add(out, num, qg_fmt_int64(b->i, num));
        else
            qg_buf_add(out, num, qg_fmt_double(b->d, num));
        return;
    case ROWS_K_TEXT:
    case ROWS_K_BLOB:
        qg_buf_add(out, b->bytes.data, b->bytes.len);
        return;
    }
}

/* Whether p[0..n) is an integer that fits in 64 bits; its value in *v. */
static bool
int_text(const char *p, size_t n, int64_t *v)
{
    size_t i = n && p[0] == '-';
    if (i == n || n - i > 19)
        return false;
    uint64_t u = 0;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        u = u * 10 + (uint64_t)(p[i] - '0');
    }
    bool neg = p[0] == '-';
    if (u > (uint64_t)INT64_MAX + neg)
        return false;
    *v = neg ? (int64_t)(0 - u) : (int64_t)u;
    return true;
}

/* --- rows ---------------------------------------------------------------- */

void
rows_row_begin(rows_writer *w)
{
    w->col = 0;
    if (w->format == QG_FORMAT_CSV)
        return;
    w->row_mark = w->out.len;
    if (w->set_rows > 0 && !w->sink->row)
        qg_buf_addc(&w->out, ',');
    if (pretty_rows(w) && w->set_rows > 0)
        qg_buf_addc(&w->out, '\n');
    qg_buf_addc(&w->out, w->format == QG_FORMAT_TRINO ? '[' : '{');
}

/* Before each value: separator and key (JSON) or comma (CSV). */
static inline void
value_start(rows_writer *w)
{
    size_t i = w->col++;
    if (w->format == QG_FORMAT_CSV) {
        if (i)
            qg_buf_addc(&w->line, ',');
        return;
    }
    if (i)
        qg_buf_addc(&w->out, ',');
    if (w->format == QG_FORMAT_TRINO)
        return; /* arrays: values only */
    if (i < w->ncols)
        qg_buf_add(&w->out, w->cols[i].key, w->cols[i].key_len);
    else
        qg_buf_addlit(&w->out, "\"?\":");
}

/* Trino's encoding of the current column's values (after value_start). */
static inline trino_enc
enc_of(const rows_writer *w)
{
    if (w->format != QG_FORMAT_TRINO || w->col == 0 || w->col > w->ncols)
        return TRINO_ENC_PLAIN;
    return (trino_enc)w->cols[w->col - 1].trino_enc;
}

static inline qg_buf *
target(rows_writer *w)
{
    return w->format == QG_FORMAT_CSV ? &w->line : &w->out;
}

void
rows_null(rows_writer *w)
{
    value_start(w);
    if (w->format != QG_FORMAT_CSV)
        qg_buf_addlit(&w->out, "null");
    if (w->stats && w->col <= w->ncols)
        w->cols[w->col - 1].stat.nulls++;
}

void
rows_bool(rows_writer *w, bool v)
{
    value_start(w);
    if (v)
        qg_buf_addlit(target(w), "true");
    else
        qg_buf_addlit(target(w), "false");
    sval sv = {ROWS_K_BOOL, false, v, 0, NULL, 0};
    stat_value(w, &sv, v ? 4 : 5);
}

void
rows_int(rows_writer *w, int64_t v)
{
    value_start(w);
    qg_buf *b = target(w);
    size_t before = b->len;
    trino_enc e = enc_of(w);
    if (e == TRINO_ENC_BOOL) {
        qg_buf_adds(b, v ? "true" : "false");
    } else if (e == TRINO_ENC_STRING) {
        qg_buf_addc(b, '"');
        qg_json_int64(b, v);
        qg_buf_addc(b, '"');
    } else {
        qg_json_int64(b, v);
    }
    sval sv = {ROWS_K_NUMBER, true, v, (double)v, NULL, 0};
    stat_value(w, &sv, b->len - before);
}

void
rows_real(rows_writer *w, double v)
{
    value_start(w);
    qg_buf *b = target(w);
    size_t before = b->len;
    if (w->format == QG_FORMAT_CSV) {
        char text[32];
        size_t n = qg_fmt_double(v, text);
        qg_buf_add(&w->line, text, n);
    } else if (w->format == QG_FORMAT_TRINO && (!isfinite(v) || enc_of(w) == TRINO_ENC_STRING)) {
        /* Trino writes NaN and the infinities, and decimals, as strings */
        char text[32];
        size_t n = qg_fmt_double(v, text);
        qg_buf_addc(&w->out, '"');
        qg_buf_add(&w->out, text, n);
        qg_buf_addc(&w->out, '"');
    } else {
        qg_json_double(&w->out, v);
    }
    /* NaN and infinities have no place in an order of numbers */
    sval sv = {isfinite(v) ? ROWS_K_NUMBER : ROWS_K_NONE, false, 0, v, NULL, 0};
    stat_value(w, &sv, b->len - before);
}

void
rows_text(rows_writer *w, const char *p, size_t n)
{
    value_start(w);
    if (w->format == QG_FORMAT_CSV)
        csv_field(&w->line, p, n, true);
    else
        qg_json_string(&w->out, p, n);
    sval sv = {ROWS_K_TEXT, false, 0, 0, p, n};
    stat_value(w, &sv, n);
}

void
rows_blob(rows_writer *w, const void *p, size_t n)
{
    value_start(w);
    qg_buf *b = target(w);
    if (w->format != QG_FORMAT_CSV)
        qg_buf_addc(b, '"');
    qg_base64_encode(b, p, n);
    if (w->format != QG_FORMAT_CSV)
        qg_buf_addc(b, '"');
    sval sv = {ROWS_K_BLOB, false, 0, 0, p, n};
    stat_value(w, &sv, n);
}

void
rows_number_text(rows_writer *w, const char *p, size_t n)
{
    value_start(w);
    bool number = qg_json_number_valid(p, n);
    if (w->format == QG_FORMAT_CSV)
        csv_field(&w->line, p, n, false);
    else if (number && enc_of(w) != TRINO_ENC_STRING)
        qg_buf_add(&w->out, p, n);
    else
        qg_json_string(&w->out, p, n);
    if (!w->stats)
        return;
    sval sv = {ROWS_K_NONE, false, 0, 0, p, n};
    if (number) {
        sv.kind = ROWS_K_NUMBER;
        sv.is_int = int_text(p, n, &sv.i);
        /* the order needs a value; the text stays what is shown */
        if (sv.is_int) {
            sv.d = (double)sv.i;
        } else {
            char *tmp = qg_memdup0(p, n);
            sv.d = strtod(tmp, NULL);
            free(tmp);
        }
    }
    stat_value(w, &sv, n);
}

void
rows_json(rows_writer *w, const char *p, size_t n)
{
    value_start(w);
    if (w->format == QG_FORMAT_CSV)
        csv_field(&w->line, p, n, true);
    else if (enc_of(w) == TRINO_ENC_STRING)
        qg_json_string(&w->out, p, n); /* Trino's json: the text as a string */
    else
        qg_buf_add(&w->out, p, n);
    sval sv = {ROWS_K_NONE, false, 0, 0, NULL, 0};
    stat_value(w, &sv, n);
}

int
rows_row_end(rows_writer *w, qg_error *err)
{
    if (w->format == QG_FORMAT_CSV) {
        csv_emit_line(w);
    } else {
        if (w->format == QG_FORMAT_TRINO)
            qg_buf_addc(&w->out, ']');
        else if (pretty_rows(w))
            qg_buf_addlit(&w->out, "\n}");
        else
            qg_buf_addc(&w->out, '}');
        w->set_bytes += w->out.len - w->row_mark;
    }
    w->set_rows++;
    w->total_rows++;
    if (w->live_rows)
        atomic_store_explicit(w->live_rows, w->total_rows, memory_order_relaxed);
    if (w->max_bytes && w->total_bytes + w->set_bytes > w->max_bytes) {
        char lim[24];
        snprintf(lim, sizeof(lim), "%llu", (unsigned long long)w->max_bytes);
        return qg_error_set(err, QG_E_RESULT_TOO_LARGE, lim);
    }
    if (w->sink->row && w->format != QG_FORMAT_CSV) {
        size_t mark = w->row_mark;
        int rc = w->sink->row(w->sink, w, w->out.data + mark, w->out.len - mark, err);
        w->out.len = mark;
        w->out.data[mark] = '\0';
        return rc;
    }
    if (w->out.len >= w->chunk_size)
        return rows_flush(w, err);
    return 0;
}

int
rows_flush(rows_writer *w, qg_error *err)
{
    if (w->out.len == 0)
        return 0;
    return w->sink->flush(w->sink, w, err);
}

/* --- stored rows, read back ---------------------------------------------------- */

static bool
is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The index after the JSON value at p[i], or SIZE_MAX when it is cut or
 * not a value. Strings are skipped by their escapes, arrays and objects by
 * depth; a scalar runs to the next delimiter. */
static size_t
skip_value(const char *p, size_t n, size_t i)
{
    if (i >= n)
        return SIZE_MAX;
    if (p[i] == '"') {
        /* the next quote not escaped: one preceded by an even run of
         * backslashes (memchr finds candidates fast in long strings) */
        size_t start = i + 1;
        for (i = start; i < n;) {
            const char *q = memchr(p + i, '"', n - i);
            if (!q)
                return SIZE_MAX;
            size_t k = (size_t)(q - p), bs = 0;
            while (k - bs > start && p[k - bs - 1] == '\\')
                bs++;
            if (bs % 2 == 0)
                return k + 1;
            i = k + 1;
        }
        return SIZE_MAX;
    }
    if (p[i] == '{' || p[i] == '[') {
        size_t depth = 0;
        for (; i < n; i++) {
            char c = p[i];
            if (c == '"') {
                size_t e = skip_value(p, n, i);
                if (e == SIZE_MAX)
                    return SIZE_MAX;
                i = e - 1;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (--depth == 0)
                    return i + 1;
            }
        }
        return SIZE_MAX;
    }
    size_t s = i;
    while (i < n && p[i] != ',' && p[i] != '}' && p[i] != ']' && !is_blank(p[i]))
        i++;
    return i > s ? i : SIZE_MAX;
}

bool
rows_json_next(const char *p, size_t n, size_t *pos, size_t *start, size_t *end)
{
    size_t i = *pos;
    while (i < n && (p[i] == ',' || is_blank(p[i])))
        i++;
    if (i >= n)
        return false;
    size_t e = skip_value(p, n, i);
    if (e == SIZE_MAX)
        return false;
    *start = i;
    *end = e;
    *pos = e;
    return true;
}

bool
rows_csv_next(const char *p, size_t n, size_t *pos, size_t *start, size_t *end)
{
    size_t i = *pos;
    if (i >= n)
        return false;
    bool quoted = false;
    *start = i;
    for (; i < n; i++) {
        if (p[i] == '"')
            quoted = !quoted; /* a doubled quote flips twice */
        else if (!quoted && p[i] == '\n')
            break;
    }
    *end = i < n ? i + 1 : n;
    *pos = *end;
    return true;
}

int
rows_object_to_array(const char *row, size_t n, bool pretty, qg_buf *out, size_t *used)
{
    size_t i = 0;
    while (i < n && is_blank(row[i]))
        i++;
    if (i >= n || row[i] != '{')
        return -1;
    size_t mark = out->len;
    qg_buf_addc(out, '[');
    bool first = true;
    for (i++;;) {
        while (i < n && is_blank(row[i]))
            i++;
        if (first && i < n && row[i] == '}')
            break;                        /* {} */
        size_t k = skip_value(row, n, i); /* the key */
        if (k == SIZE_MAX || row[i] != '"')
            goto bad;
        i = k;
        while (i < n && is_blank(row[i]))
            i++;
        if (i >= n || row[i] != ':')
            goto bad;
        i++;
        while (i < n && is_blank(row[i]))
            i++;
        size_t v = skip_value(row, n, i);
        if (v == SIZE_MAX)
            goto bad;
        if (!first)
            qg_buf_addc(out, ',');
        if (pretty)
            qg_buf_addlit(out, "\n  ");
        qg_buf_add(out, row + i, v - i);
        first = false;
        i = v;
        while (i < n && is_blank(row[i]))
            i++;
        if (i < n && row[i] == ',') {
            i++;
            continue;
        }
        if (i < n && row[i] == '}')
            break;
        goto bad;
    }
    if (pretty && !first)
        qg_buf_addc(out, '\n');
    qg_buf_addc(out, ']');
    if (used)
        *used = i + 1;
    return 0;
bad:
    out->len = mark;
    if (out->data)
        out->data[mark] = '\0';
    return -1;
}

void
rows_csv_line(qg_buf *out, const char *const *fields, const size_t *lens, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            qg_buf_addc(out, ',');
        csv_field(out, fields[i], lens[i], false);
    }
    qg_buf_addlit(out, "\r\n");
}
