/*
 * rows: rendering result rows as text (see rows.h).
 *
 * JSON rows are objects whose keys are rendered once per result set, so a
 * row costs one memcpy per key plus the values. CSV rows are built in a line
 * buffer (RFC 4180 quoting, CRLF) and then either appended raw (stored CSV)
 * or as one JSON string per line (the envelope's results array).
 */
#include "exec/rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/json.h"
#include "core/mem.h"

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

/* Appends p[0..n) with invalid UTF-8 replaced by U+FFFD. */
static void
utf8_repaired(qg_buf *b, const char *p, size_t n)
{
    if (qg_utf8_valid(p, n)) {
        qg_buf_add(b, p, n);
        return;
    }
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)p[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (len && i + len <= n && qg_utf8_valid(p + i, len)) {
            qg_buf_add(b, p + i, len);
            i += len;
        } else {
            qg_buf_addlit(b, "\xEF\xBF\xBD");
            i++;
        }
    }
}

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
        utf8_repaired(line, p, n);
        return;
    }
    qg_buf_addc(line, '"');
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '"') {
            utf8_repaired(line, p + start, i + 1 - start);
            qg_buf_addc(line, '"');
            start = i + 1;
        }
    }
    utf8_repaired(line, p + start, n - start);
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
    qg_buf_addc(&w->out, '{');
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
    if (i < w->ncols)
        qg_buf_add(&w->out, w->cols[i].key, w->cols[i].key_len);
    else
        qg_buf_addlit(&w->out, "\"?\":");
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
}

void
rows_bool(rows_writer *w, bool v)
{
    value_start(w);
    if (v)
        qg_buf_addlit(target(w), "true");
    else
        qg_buf_addlit(target(w), "false");
}

void
rows_int(rows_writer *w, int64_t v)
{
    value_start(w);
    qg_json_int64(target(w), v);
}

void
rows_real(rows_writer *w, double v)
{
    value_start(w);
    if (w->format == QG_FORMAT_CSV) {
        char text[32];
        size_t n = qg_fmt_double(v, text);
        qg_buf_add(&w->line, text, n);
        return;
    }
    qg_json_double(&w->out, v);
}

void
rows_text(rows_writer *w, const char *p, size_t n)
{
    value_start(w);
    if (w->format == QG_FORMAT_CSV)
        csv_field(&w->line, p, n, true);
    else
        qg_json_string(&w->out, p, n);
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
}

void
rows_number_text(rows_writer *w, const char *p, size_t n)
{
    value_start(w);
    if (w->format == QG_FORMAT_CSV)
        csv_field(&w->line, p, n, false);
    else if (qg_json_number_valid(p, n))
        qg_buf_add(&w->out, p, n);
    else
        qg_json_string(&w->out, p, n);
}

void
rows_json(rows_writer *w, const char *p, size_t n)
{
    value_start(w);
    if (w->format == QG_FORMAT_CSV)
        csv_field(&w->line, p, n, true);
    else
        qg_buf_add(&w->out, p, n);
}

int
rows_row_end(rows_writer *w, qg_error *err)
{
    if (w->format == QG_FORMAT_CSV) {
        csv_emit_line(w);
    } else {
        if (pretty_rows(w))
            qg_buf_addlit(&w->out, "\n}");
        else
            qg_buf_addc(&w->out, '}');
        w->set_bytes += w->out.len - w->row_mark;
    }
    w->set_rows++;
    w->total_rows++;
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
