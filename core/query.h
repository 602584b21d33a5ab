/*
 * query: one request's statement and options, as validated from the client.
 *
 * Produced on the loop thread by api/params, then handed whole to an
 * executor (immediate, deferred) or encoded into the job store (async). After
 * the hand-over only the new owner touches it. Every pointer inside points
 * into the query's own arena, so qg_query_free releases everything.
 */
#ifndef QG_QUERY_H
#define QG_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"

typedef enum qg_mode { QG_MODE_IMMEDIATE, QG_MODE_DEFERRED, QG_MODE_ASYNC } qg_mode;

/* TRINO: rows as JSON arrays of values in Trino's client-protocol encoding
 * (exec/trino_type.h), for jobs submitted through /v1/statement. */
typedef enum qg_format { QG_FORMAT_JSON, QG_FORMAT_CSV, QG_FORMAT_TRINO } qg_format;

typedef enum qg_vtype {
    QG_VAL_NULL,
    QG_VAL_BOOL,
    QG_VAL_INT,  /* fits int64: i is exact, text holds the original digits */
    QG_VAL_REAL, /* fraction, exponent or beyond int64: d, and text the digits */
    QG_VAL_TEXT, /* a JSON string, decoded: text/len (may contain NULs) */
    QG_VAL_JSON  /* an array or object: text is its JSON source */
} qg_vtype;

/* A bound parameter value, as the client wrote it in JSON. */
typedef struct qg_value {
    qg_vtype type;
    int64_t i; /* BOOL (0 or 1), INT */
    double d;  /* REAL */
    /* TEXT: the decoded string. INT, REAL: the number exactly as sent.
     * JSON: the source text. BOOL: "true"/"false". NULL: "null". */
    const char *text;
    size_t len;
} qg_value;

/* A named parameter: `$name` in the request binds `$name` in the statement. */
typedef struct qg_named {
    const char *name; /* without the '$' */
    qg_value val;
} qg_named;

typedef struct qg_query {
    qg_arena arena; /* owns every pointer below */

    const char *statement; /* NUL-terminated, valid UTF-8, no NULs inside */
    size_t statement_len;
    qg_mode mode;
    const char *client_context_id; /* NULL when absent or empty */

    bool readonly;
    bool pretty;
    bool signature;       /* default true */
    bool multi_statement; /* default true */
    qg_format format;
    bool csv_header; /* CSV: header line first */

    /* mode=stream (modes/stream.c): runs now like immediate, and mode stays
     * QG_MODE_IMMEDIATE (stored jobs never stream, and the job store's
     * record encodes qg_mode), but the answer is a stream of typed
     * messages instead of the envelope. */
    bool stream;
    bool stream_sse;       /* as Server-Sent Events (Accept: text/event-stream), else NDJSON */
    uint64_t stats_ns;     /* stream: a STATS message every stats_ns; 0: none */
    uint64_t heartbeat_ns; /* stream: HEARTBEAT after this long without output; 0: none */
    bool heartbeat_given;  /* false: heartbeat_ns is unset, the server's default applies */

    uint64_t timeout_ns;       /* 0: no limit */
    uint32_t max_result_reads; /* >= 1, default 1 */
    uint64_t result_ttl_ns;    /* 0: the server's default */

    qg_value *args; /* positional: args[i] binds the (i+1)-th parameter */
    size_t nargs;
    qg_named *named;
    size_t nnamed;

    /* async: where the job's final status is POSTed when it ends
     * (http://host[:port]/path); NULL: no callback. */
    const char *callback_url;
    /* async: hold the request up to this long for the job to end (0: answer
     * at once), and what to do when it does not (cancel it, or answer with
     * the status handle as usual). */
    uint64_t wait_ns;
    bool wait_cancel;
    /* deferred, async: the client's retry key (Idempotency-Key header or
     * idempotency_key parameter); NULL: none. */
    const char *idempotency_key;
    /* Not a client parameter: the base URL of this request's handles, set
     * by the mode before the job is stored (callbacks and recovered jobs
     * have no request to build it from). NULL: unknown. */
    const char *handle_base;

    /* Not client parameters either: what api/params noticed for the answer.
     * warnings: the members of the answer's "warnings" array, rendered
     * ({"code":1,"msg":"ASX0931: ..."},...; unknown parameters, an ignored
     * body), nwarnings of them; NULL: none. readonly_get: readonly was
     * forced because the request is a GET (the ASX0044 message says so). */
    const char *warnings;
    uint32_t nwarnings;
    bool readonly_get;
} qg_query;

/* Sets every field to its default (mode immediate, signature and
 * multi-statement on, max_result_reads 1, no statement) with an empty arena. */
void qg_query_init(qg_query *q);
/* Frees the arena and everything in it. */
void qg_query_free(qg_query *q);

const char *qg_mode_name(qg_mode m);

#endif
