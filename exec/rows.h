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

typedef struct rows_col {
    char *name;
    size_t name_len;
    char *key; /* "\"name\":" (or the pretty form), rendered once per set */
    size_t key_len;
    char *type; /* the column's type as the backend names it; NULL: unknown */
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

#endif
