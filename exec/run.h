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

#endif
