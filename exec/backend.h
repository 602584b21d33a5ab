/*
 * backend: what a database engine must provide to run qgate's statements.
 *
 * One be_conn per worker thread, opened at start and used only by that
 * worker (never shared; SQLite connections are opened NOMUTEX, libpq
 * connections are not thread-safe). A statement text is consumed one
 * statement at a time: prepare (compile or split off the next statement),
 * facts (returns rows? read-only?), bind the request's parameters, run it
 * into a rows_writer, finalize; when the request is over, end. Errors come
 * back translated into the error table (core/err.h); no engine code leaks
 * upward.
 */
#ifndef QG_EXEC_BACKEND_H
#define QG_EXEC_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/query.h"
#include "exec/rows.h"

typedef struct be_conn be_conn;
typedef struct be_stmt be_stmt;
typedef struct exec_task exec_task;

/* Where one statement lies in a statement text. */
typedef struct exec_span {
    size_t start; /* its first byte (blanks, comments, empty statements skipped) */
    size_t len;   /* up to, not including, its ';' (or the end), trailing blanks cut */
    size_t used;  /* bytes consumed from the text: the statement, its ';' and more */
} exec_span;

/* Per-run controls: the worker checks them while a statement runs. */
typedef struct exec_ctx {
    exec_task *task;     /* cancellation flag and deadline live here */
    bool readonly;       /* the request asked for read-only execution */
    uint64_t compile_ns; /* added to by prepare */
    uint64_t processed;  /* rows the engine produced */
    /* Rows the statement that ran last inserted, updated or deleted, set
     * by the backend's run when it knows (SQLite's changes, PostgreSQL's
     * command tag); -1 before each statement and for one that returns
     * rows. */
    int64_t changed;
    /* Optional, for those who follow a run statement by statement (stored
     * jobs): exec_run calls stmt_begin before statement index (0, 1, ...)
     * runs, with the bytes [off, off+used) of the text it was compiled
     * from (used 0: it did not compile, its extent is unknown), and
     * stmt_end after it, with its outcome (rc 0, or -1 and err). A
     * statement refused before anything ran (read-only, compile error)
     * gets both, with its error. Worker thread. */
    void (*stmt_begin)(struct exec_ctx *ctx, size_t index, size_t off, size_t used);
    void (*stmt_end)(struct exec_ctx *ctx, size_t index, int rc, const qg_error *err);
    void *hook_arg;
} exec_ctx;

typedef struct exec_backend {
    const char *name; /* "sqlite", "postgresql" */

    /* Opens a connection for one worker. uri is the --backend value.
     * Errors: QG_E_BACKEND with the engine's reason. */
    int (*open)(const char *uri, be_conn **out, qg_error *err);
    void (*close)(be_conn *c);

    /* Prepares the next statement of sql[0..len). Sets *used to the bytes
     * consumed and *st to the statement, or *st = NULL when only blanks and
     * comments remain. Errors: QG_E_SYNTAX, QG_E_UNKNOWN_OBJECT,
     * QG_E_COMPILE. */
    int (*prepare)(be_conn *c, exec_ctx *ctx, const char *sql, size_t len, size_t *used,
                   be_stmt **st, qg_error *err);
    /* Whether the statement produces a result set (a "query statement"). */
    bool (*returns_rows)(be_stmt *st);
    /* Whether the statement cannot change the database. */
    bool (*is_readonly)(be_stmt *st);
    /* The statement's kind for messages: "INSERT", "CREATE", ... */
    void (*kind)(be_stmt *st, char out[32]);
    /* Binds args ($1/? positional) and $name parameters. Errors:
     * QG_E_NO_VALUE, QG_E_PARAM. */
    int (*bind)(be_stmt *st, const qg_query *q, qg_error *err);
    /* Runs the statement to its end, writing its rows into w (a result set
     * for each statement that returns rows). Honors ctx->task's cancel flag
     * and deadline. Errors: QG_E_RUNTIME, QG_E_TIMEOUT, QG_E_CANCELLED,
     * QG_E_RESULT_TOO_LARGE, and whatever the writer's sink returns. */
    int (*run)(be_conn *c, be_stmt *st, exec_ctx *ctx, rows_writer *w, qg_error *err);
    void (*finalize)(be_stmt *st);
    /* The request is over (its statements ran, or one failed): leave the
     * connection as a new request expects it (PostgreSQL: no open
     * transaction, no session state left behind). Called by exec_run on
     * every path, on the worker thread. May be NULL. */
    void (*end)(be_conn *c);
    /* Optional: asks the engine to compile a bound statement without
     * running it, for checks made before a job is accepted (an async
     * submission's syntax). NULL when prepare already compiles (SQLite).
     * Errors as prepare's. */
    int (*compile)(be_conn *c, be_stmt *st, exec_ctx *ctx, qg_error *err);
    /* Any thread: the task running on c was cancelled; wake the worker if
     * it is blocked in the engine. Spurious calls must be harmless. May be
     * NULL when the backend polls the flag itself. */
    void (*interrupt)(be_conn *c);
    /* Pure, any thread: where the first statement of sql[0..len) lies, by
     * the engine's lexical rules, without compiling it (a batch's plan and
     * the statements an error left unrun). Returns false, with used = len,
     * when nothing but blanks, comments and ';' remain. */
    bool (*split)(const char *sql, size_t len, exec_span *sp);
} exec_backend;

/* Limits a backend applies to its connections where the engine has them
 * (SQLite: sqlite3_limit). */
typedef struct exec_limits {
    uint64_t max_value;     /* longest string or blob a statement may read or build */
    uint64_t max_statement; /* longest statement text */
} exec_limits;

/* Process-wide engine settings, before any connection is opened (main
 * thread, at start). lim NULL: the defaults (16 MiB values, 4 MiB
 * statements, as --max-value and --max-statement). */
void exec_backends_init(const exec_limits *lim);

/* The backend for a --backend value, or NULL when none handles it:
 * "sqlite:PATH"; a libpq URI ("postgresql://...", "postgres://...") or
 * keyword string ("host=... dbname=..."). */
const exec_backend *exec_backend_for(const char *uri);

/* The --backend value fit for a log line: a password in it (URI userinfo,
 * a password= keyword or query parameter) is replaced by "***". Writes at
 * most size bytes (NUL included) to out. Pure. */
void exec_backend_redact(const char *uri, char *out, size_t size);

#endif
