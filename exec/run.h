/*
 * run: executing a request's statement text, statement by statement.
 *
 * The rules every backend shares live here: with multi-statement=false a
 * second statement is refused (ASX0035) before anything runs; with readonly
 * every statement is compiled and checked (ASX0044) before the first one
 * runs; otherwise statements are compiled and run one at a time, so later
 * ones may use what earlier ones created. The first error stops the run.
 * Worker thread.
 */
#ifndef QG_EXEC_RUN_H
#define QG_EXEC_RUN_H

#include "core/err.h"
#include "core/query.h"
#include "exec/pool.h"
#include "exec/rows.h"

/* Runs q on worker wk's connection, rows into w. ctx->task and
 * ctx->readonly are set by the caller. Returns 0, or -1 with err. */
int exec_run(exec_worker *wk, const qg_query *q, exec_ctx *ctx, rows_writer *w, qg_error *err);

/* What compiling a statement text without running it showed. */
typedef struct exec_check_result {
    size_t statements; /* compiled (all of them when complete) */
    bool complete;     /* every statement compiled */
    bool all_readonly; /* complete, and every statement reports read-only */
    size_t failed_at;  /* on an error: the index of the statement at fault */
} exec_check_result;

/* Compiles and binds every statement of q on wk's connection, in order,
 * and runs none of them. Returns -1 with err when q is certainly wrong
 * whatever runs before it: a syntax error anywhere it can see, a compile
 * error in a statement that only read-only statements precede (nothing
 * before it can have created what it misses), a parameter without a value,
 * a second statement with multi-statement=false, a write with readonly. A
 * later statement that fails to compile after one that may write (CREATE
 * TABLE t; INSERT INTO t ...) is not an error: it may compile once the
 * earlier ones ran; the check stops there and returns 0 with !complete.
 * Otherwise 0. Worker thread (any pool's). */
int exec_check(exec_worker *wk, const qg_query *q, exec_ctx *ctx, exec_check_result *out,
               qg_error *err);

/* The statements of sql[0..len) by be's split: a malloc'd array *out of *n
 * spans with offsets from the start of sql (none: *out NULL, *n 0). Pure;
 * any thread. */
void exec_split_all(const exec_backend *be, const char *sql, size_t len, exec_span **out,
                    size_t *n);
/* The text of the statement compiled from sql[off, off+used): blanks and
 * comments before it, blanks and ';' after it cut; into *start, *len. */
void exec_span_trim(const char *sql, size_t off, size_t used, size_t *start, size_t *len);

#endif
