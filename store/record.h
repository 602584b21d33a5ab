/*
 * record: a stored job as bytes, and back. Pure; any thread.
 *
 * A record has two parts. The header holds everything that changes while a
 * job lives (state, timestamps, error, metrics, result sets and their reads
 * left, the callback delivery) and the request's options; the query part
 * holds the statement, the client context id and the parameters exactly as
 * the client sent them (text with NULs, the original digits of numbers), the
 * callback URL and the handles' base URL. State changes rewrite only the
 * header and copy the query part's bytes as they are, so a job's statement is
 * encoded once, at submission.
 *
 * A job's statements have records of their own (store_stmt, below), kept
 * apart from the job's so that the header every read rewrites stays small
 * however many statements a batch has.
 *
 * Everything on disk is spelled with explicit values (state, mode, format,
 * value types) or names (error codes, by their row name in core/err.h), never
 * with C enum values, so reordering an enum cannot change what an old record
 * means. The first byte is STORE_RECORD_VERSION; a record of another version
 * does not decode. docs/design.md ("Job store") lists the layout.
 */
#ifndef QG_STORE_RECORD_H
#define QG_STORE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/envelope.h"
#include "core/err.h"
#include "core/query.h"
#include "core/uuid.h"

#define STORE_RECORD_VERSION 2

/* A job's state. The values are written to disk: never renumber them. */
typedef enum store_state {
    STORE_QUEUED = 1,  /* accepted, not started */
    STORE_RUNNING = 2, /* committed as running before it could write */
    STORE_SUCCESS = 3,
    STORE_FAILED = 4,
    STORE_TIMEOUT = 5,
} store_state;

/* Where a job's callback delivery stands (the values are written to disk:
 * never renumber them). A job without callback_url has NONE; one with it is
 * PENDING from its creation, and once it has ended the delivery runs until
 * DELIVERED (the receiver answered 2xx) or FAILED (retries used up). */
typedef enum store_cb_state {
    STORE_CB_NONE = 0,
    STORE_CB_PENDING = 1,
    STORE_CB_DELIVERED = 2,
    STORE_CB_FAILED = 3,
} store_cb_state;

#define STORE_CB_ERROR_MAX 256

/* One stored result set: pages 0 .. pages-1 under (job, set, page). */
typedef struct store_set {
    uint64_t rows;
    uint64_t bytes; /* rendered text, all pages */
    uint32_t pages;
    uint32_t reads_left; /* GETs still allowed; 0: gone */
} store_set;

typedef struct store_job {
    uint64_t id; /* 0 until the store assigns one */
    store_state state;
    qg_mode mode;
    /* Set before the running state is committed when the job cannot write:
     * it asked for readonly, or every statement compiled and reported
     * read-only, and it then runs with read-only enforcement. Such a job is
     * run again after a crash; any other running job is failed. */
    bool rerunnable;
    /* It ran statements that return rows: its sets are theirs (a job with
     * none has one empty set 0), and a deferred answer has a signature. */
    bool queries;

    /* The request's options, copied from its qg_query. */
    bool readonly, pretty, signature, multi_statement, csv_header;
    qg_format format;
    uint64_t timeout_ns;
    uint32_t max_result_reads;
    uint64_t ttl_ns; /* result lifetime after the job ends (default resolved) */
    char request_id[QG_UUID_LEN + 1];
    /* Who submitted it (--auth-file): only they may see and cancel it.
     * "" when authentication was off. */
    char principal[64];

    /* Wall-clock nanoseconds since the epoch; 0: not yet. */
    uint64_t created_ns, started_ns, finished_ns, expires_ns;

    qg_error error; /* QG_OK unless failed or timed out */
    qg_metrics metrics;

    /* The callback delivery (modes/callback.c). */
    store_cb_state cb_state;
    uint32_t cb_attempts;
    uint64_t cb_next_ns;               /* wall: when the next attempt is due */
    uint64_t cb_last_ns;               /* wall: when the last attempt ended; 0: none yet */
    char cb_error[STORE_CB_ERROR_MAX]; /* the last attempt's failure, or "" */

    /* Sets 0 .. nsets-1. A successful job has one per query statement; a
     * failed one keeps those its statements completed before the error. */
    uint32_t nsets;
    store_set *sets; /* malloc'd, owned by the job (store_job_free) */
} store_job;

/* An empty job (state queued, no sets). */
void store_job_init(store_job *j);
/* Frees the sets; j is empty afterwards. */
void store_job_free(store_job *j);
/* dst = a deep copy of src (dst is overwritten, not freed first). */
void store_job_copy(store_job *dst, const store_job *src);
/* Replaces j's sets with a copy of sets[0..n). */
void store_job_set_sets(store_job *j, const store_set *sets, uint32_t n);
/* Fills j's options from q (mode, flags, format, timeout, reads, ttl;
 * q->result_ttl_ns of 0 means default_ttl_ns; a callback pending when q
 * has a callback URL) and its request id. */
void store_job_from_query(store_job *j, const qg_query *q, const char *request_id,
                          uint64_t default_ttl_ns);
/* "none", "pending", "delivered", "failed". */
const char *store_cb_state_name(store_cb_state s);
/* True for the states a job has before it ends (queued, running). */
bool store_state_active(store_state s);
/* "queued", "running", "success", "failed", "timeout". */
const char *store_state_name(store_state s);

/* Appends the whole record of j with the query q. */
void store_record_encode(const store_job *j, const qg_query *q, qg_buf *out);
/* Appends the header of j only: a new header for an existing record is
 * this followed by the old record's bytes from its query_off on. */
void store_record_encode_header(const store_job *j, qg_buf *out);

/* Decodes the header of the record p[0..n) into j (which the caller has
 * store_job_init'ed or freed; its sets are replaced) and sets *query_off to
 * where the query part starts. Returns 0, or -1 when the bytes are not a
 * record of this version (truncated, unknown values, trailing garbage is
 * checked by store_record_decode_query). Never reads outside p[0..n). */
int store_record_decode(const void *p, size_t n, store_job *j, size_t *query_off);
/* Decodes the query part q[0..n) (the record's bytes from query_off) into
 * q, which the caller has qg_query_init'ed; strings go into q's arena. The
 * options come from the already decoded header j. Returns 0, or -1 when
 * malformed (q may then hold partial data: qg_query_free it). */
int store_record_decode_query(const void *p, size_t n, const store_job *j, qg_query *q);

/* The statement and the client context id of the query part q[0..n),
 * without decoding the rest: pointers into the bytes (*ctx NULL when the
 * job had none). Returns 0, or -1 when they do not decode. For listings,
 * which show a few of their bytes and need nothing else of the query. */
int store_record_texts(const void *p, size_t n, const char **stmt, size_t *stmt_len,
                       const char **ctx, size_t *ctx_len);

/* --- statements ------------------------------------------------------------
 * A job's statements, one record each under (job, index) in the `stmts`
 * database: written as queued with the job, and with their outcome when it
 * ends. The values of the enums are written to disk: never renumber them. */

typedef enum store_stmt_state {
    STORE_STMT_QUEUED = 1,    /* not started (yet) */
    STORE_STMT_STARTED = 2,   /* running (only seen live, never stored) */
    STORE_STMT_FINISHED = 3,  /* ran to its end */
    STORE_STMT_ERROR = 4,     /* failed, timed out or was cancelled while running */
    STORE_STMT_CANCELLED = 5, /* never ran: an earlier statement failed, or the job was stopped */
    STORE_STMT_UNKNOWN = 6,   /* the server stopped during the job: it may or may not have run */
} store_stmt_state;

/* What kind of value a column's minimum or maximum is; they compare in this
 * order first (as SQLite orders values), then by value. */
typedef enum store_vkind {
    STORE_V_NONE = 0, /* no value seen (every value was NULL or JSON) */
    STORE_V_BOOL = 1,
    STORE_V_NUMBER = 2,
    STORE_V_TEXT = 3,
    STORE_V_BLOB = 4,
} store_vkind;

/* Longest minimum or maximum kept, in bytes; a longer one is cut (on a UTF-8
 * boundary for text) and flagged. */
#define STORE_BOUND_MAX 256

/* A minimum or maximum: a number's JSON digits, "true"/"false", text bytes
 * (UTF-8) or blob bytes. */
typedef struct store_bound {
    store_vkind kind;
    char *text; /* malloc'd, NUL-terminated; NULL when kind is NONE */
    size_t len;
    bool cut; /* the value was longer than what is kept */
} store_bound;

typedef struct store_col {
    char *name; /* malloc'd */
    char *type; /* malloc'd; NULL when the engine did not say */
    store_bound min, max;
    uint64_t max_len; /* the longest value: text/blob bytes, a number's digits */
    uint64_t nulls;
} store_col;

typedef struct store_stmt {
    store_stmt_state state;
    uint32_t off, len;          /* its text: bytes [off, off+len) of the job's statement */
    uint64_t start_ns, stop_ns; /* wall clock; 0: not yet */
    uint64_t rows;              /* rows it returned */
    int64_t set;                /* the result set it stored, or -1 */
    qg_error error;             /* STORE_STMT_ERROR: why */
    uint32_t ncols;
    store_col *cols; /* malloc'd, owned (store_stmt_free) */
} store_stmt;

void store_stmt_init(store_stmt *s);
void store_stmt_free(store_stmt *s);
/* dst = a deep copy of src (dst is overwritten, not freed first). */
void store_stmt_copy(store_stmt *dst, const store_stmt *src);
/* Frees the n statements of v and v itself. */
void store_stmts_free(store_stmt *v, size_t n);
/* "queued", "started", "finished", "error", "cancelled", "unknown". */
const char *store_stmt_state_name(store_stmt_state s);
/* Sets b to the bytes p[0..n) of kind k, cut to STORE_BOUND_MAX bytes (on
 * a UTF-8 boundary for text). */
void store_bound_set(store_bound *b, store_vkind k, const char *p, size_t n);

/* Appends the record of s. */
void store_stmt_encode(const store_stmt *s, qg_buf *out);
/* Decodes p[0..n) into s (store_stmt_init'ed or freed by the caller).
 * Returns 0, or -1 when the bytes are not a statement record of this
 * version. Never reads outside p[0..n). */
int store_stmt_decode(const void *p, size_t n, store_stmt *s);

#endif
