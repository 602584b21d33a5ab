/*
 * rows: result rows -> text, shared by every backend and every mode.
 *
 * A backend reports a result set's columns, then each row's values, through
 * the rows_* calls; the writer renders them straight into its current chunk
 * (JSON objects, or CSV lines) and hands the chunk to its sink whenever it
 * passes the chunk size. The sink decides where text goes: to the client
 * (modes/immediate), into stored result pages (modes/deferred), and what
 * frames each set (the envelope's "results":[ ... ] or nothing).
 *
 * Threads: a writer belongs to the worker thread running the job.
 */
#ifndef QG_EXEC_ROWS_H
#define QG_EXEC_ROWS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/query.h"

typedef struct rows_writer rows_writer;

typedef struct rows_sink {
    /* The writer's chunk (w->out) holds at least chunk_size bytes, or the
     * job is ending: take the text (leaving w->out empty and usable). May
     * block (backpressure). Returns 0, or -1 with err set to stop the job
     * (cancelled, timed out, store full). */
    int (*flush)(struct rows_sink *s, rows_writer *w, qg_error *err);
    /* A result set starts / ends: write its framing into w->out. May be
     * NULL (no framing). Return 0 or -1 with err. */
    int (*set_begin)(struct rows_sink *s, rows_writer *w, qg_error *err);
    int (*set_end)(struct rows_sink *s, rows_writer *w, qg_error *err);
    /* Optional, JSON rows only: each row as it ends, text[0..len) being the
     * row object alone (no separator before it, never pretty), for a sink
     * that frames every row on its own (modes/stream). The writer drops the
     * row from w->out afterwards, so rows never accumulate there and flush
     * is not called for them. May block (backpressure). Returns 0, or -1
     * with err set to stop the job. */
    int (*row)(struct rows_sink *s, rows_writer *w, const char *text, size_t len, qg_error *err);
} rows_sink;

/* Kinds of values, in the order a column's minimum and maximum compare
 * them (SQLite's order); JSON values (PostgreSQL json, arrays) and NULL
 * have no order and take no part. */
enum { ROWS_K_NONE = 0, ROWS_K_BOOL, ROWS_K_NUMBER, ROWS_K_TEXT, ROWS_K_BLOB };

/* A column's smallest or largest value so far. Numbers compare as int64
 * when both are integers, else as doubles; text and blobs bytewise. */
typedef struct rows_bound {
    int kind;    /* ROWS_K_* */
    bool is_int; /* NUMBER: i is exact */
    int64_t i;   /* BOOL (0, 1), NUMBER */
    double d;    /* NUMBER */
    qg_buf bytes; /* TEXT, BLOB; NUMBER: the digits when the engine gave text */
} rows_bound;

/* What a stored result keeps about a column (rows_writer.stats on). */
typedef struct rows_stat {
    rows_bound min, max;
    uint64_t max_len; /* text/blob bytes, or the characters of a number's text */
    uint64_t nulls;
} rows_stat;

typedef struct rows_col {
    char *name;
    size_t name_len;
    char *key; /* "\"name\":" (or the pretty form), rendered once per set */
    size_t key_len;
    char *type; /* the engine's name for its type; NULL: unknown */
    int trino_enc; /* QG_FORMAT_TRINO: how its values are encoded (trino_enc) */
    rows_stat stat;
} rows_col;

struct rows_writer {
    qg_buf out;        /* the current chunk */
    size_t chunk_size; /* flush when out passes this */
    rows_sink *sink;
    qg_format format;
    bool csv_header;
    bool csv_in_json; /* CSV lines as JSON strings (the envelope), or raw */
    bool pretty;

    rows_col *cols;
    size_t ncols;
    size_t col;      /* value index within the current row */
    size_t row_mark; /* out.len where the current row began */
    qg_buf line; /* CSV line under construction */

    bool in_set;
    uint32_t set_index; /* index of the current (or next) set: 0, 1, ... */
    uint64_t set_rows;
    uint64_t total_rows;
    uint64_t set_bytes;   /* row text of the current set */
    uint64_t total_bytes; /* row text of all sets (metrics resultSize) */
    uint64_t max_bytes;   /* 0: no limit; over -> QG_E_RESULT_TOO_LARGE */
    bool stats;           /* keep each column's rows_stat (stored jobs) */
    /* When set, total_rows is published here after each row (relaxed), for
     * another thread to read while the job runs (a status's progress). */
    _Atomic uint64_t *live_rows;
};

/* Prepares w (chunk_size bytes per chunk) for a job in format q. */
void rows_init(rows_writer *w, rows_sink *sink, const qg_query *q, size_t chunk_size,
               bool csv_in_json);
void rows_free(rows_writer *w);

/* Starts a result set with these column names (n of them). */
int rows_set_begin(rows_writer *w, size_t n, const char *const *names, const size_t *lens,
                   qg_error *err);
/* The same with the columns' types (NUL-terminated names as the backend
 * knows them: "INTEGER", "int4", ...). types, and any element of it, may be
 * NULL when the backend does not know. The writer copies what it keeps. */
int rows_set_begin_typed(rows_writer *w, size_t n, const char *const *names, const size_t *lens,
                         const char *const *types, qg_error *err);
/* The text of a bound (a number's JSON digits, "true"/"false", text or
 * blob bytes) appended to out. */
void rows_bound_text(const rows_bound *b, qg_buf *out);
void rows_row_begin(rows_writer *w);
void rows_null(rows_writer *w);
void rows_bool(rows_writer *w, bool v);
void rows_int(rows_writer *w, int64_t v);
void rows_real(rows_writer *w, double v);
/* Text; invalid UTF-8 is repaired (U+FFFD), never emitted raw. */
void rows_text(rows_writer *w, const char *p, size_t n);
/* Bytes, as base64. */
void rows_blob(rows_writer *w, const void *p, size_t n);
/* A number exactly as the database printed it (PostgreSQL numeric): p must
 * be JSON number grammar; anything else is written as a string. */
void rows_number_text(rows_writer *w, const char *p, size_t n);
/* Valid JSON text written as it is (PostgreSQL json/jsonb, arrays). The
 * caller guarantees validity; CSV gets it as text. */
void rows_json(rows_writer *w, const char *p, size_t n);
/* Ends a row; flushes the chunk through the sink when it is full. */
int rows_row_end(rows_writer *w, qg_error *err);
int rows_set_end(rows_writer *w, qg_error *err);
/* Hands whatever is in the chunk to the sink. */
int rows_flush(rows_writer *w, qg_error *err);

/* The name of set i in the envelope: "results", "results-0", ... */
void rows_set_name(uint32_t i, char out[32]);

/* --- stored rows, read back (api/result) ---------------------------------
 * Pure functions of the text the writer rendered; any thread. */

/* The next JSON row of p[0..n) from *pos: separators (',' and blanks) are
 * skipped, then one JSON value (an object) is [*start, *end); *pos moves
 * past it. Returns false at the end of the text or when what follows is
 * not a whole JSON value. */
bool rows_json_next(const char *p, size_t n, size_t *pos, size_t *start, size_t *end);
/* The next CSV line of p[0..n) from *pos: [*start, *end) includes its
 * CRLF (a CR or LF inside a quoted field does not end it). False at the
 * end of the text. */
bool rows_csv_next(const char *p, size_t n, size_t *pos, size_t *start, size_t *end);
/* Appends the JSON object at the start of row[0..n) (as the writer renders
 * rows, pretty or not; blanks before it are skipped, bytes after it are
 * left alone) as an array of its values in order: [v1,v2] (pretty: one
 * value a line), and sets *used (when not NULL) to the bytes up to the
 * end of the object. Returns 0, or -1 when no whole object is there
 * (nothing appended). */
int rows_object_to_array(const char *row, size_t n, bool pretty, qg_buf *out, size_t *used);
/* Appends one CSV line of the n fields (quoted as the writer quotes
 * column names), CRLF included. */
void rows_csv_line(qg_buf *out, const char *const *fields, const size_t *lens, size_t n);

#endif
