/* run: the statement driver shared by every mode (see run.h). */
#include "exec/run.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "exec/sqltext.h"

/* Runs one prepared statement: bind, run, finalize. */
static int
run_one(exec_worker *wk, be_stmt *st, const qg_query *q, exec_ctx *ctx, rows_writer *w,
        qg_error *err)
{
    const exec_backend *be = wk->be;
    int rc = be->bind(st, q, err);
    if (rc == 0)
        rc = be->run(wk->conn, st, ctx, w, err);
    be->finalize(st);
    return rc;
}

/* Compiles every statement first, checks them, then runs them. */
static int
run_checked(exec_worker *wk, const qg_query *q, exec_ctx *ctx, rows_writer *w, qg_error *err)
{
    const exec_backend *be = wk->be;
    const char *sql = q->statement;
    size_t len = q->statement_len, off = 0, n = 0, cap = 8;
    be_stmt **stmts = qg_malloc(cap * sizeof(*stmts));
    int rc = 0;
    while (off < len) {
        if (exec_task_check(ctx->task)) {
            rc = qg_error_set(err, exec_task_check(ctx->task), "-");
            break;
        }
        size_t used = 0;
        be_stmt *st = NULL;
        if (be->prepare(wk->conn, ctx, sql + off, len - off, &used, &st, err) != 0) {
            rc = -1;
            break;
        }
        off += used;
        if (!st)
            break;
        if (n == cap)
            stmts = qg_realloc(stmts, (cap *= 2) * sizeof(*stmts));
        stmts[n++] = st;
        if (!q->multi_statement) {
            if (!sqltext_blank(sql + off, len - off)) {
                rc = qg_error_set(err, QG_E_MULTI);
                break;
            }
            break;
        }
        if (used == 0)
            break;
    }
    for (size_t i = 0; rc == 0 && i < n && q->readonly; i++) {
        if (!be->is_readonly(stmts[i])) {
            char kind[32];
            be->kind(stmts[i], kind);
            rc = qg_error_set(err, QG_E_READONLY, kind);
        }
    }
    size_t i = 0;
    for (; rc == 0 && i < n; i++)
        rc = run_one(wk, stmts[i], q, ctx, w, err);
    for (; i < n; i++)
        be->finalize(stmts[i]);
    free(stmts);
    return rc;
}

static int
run_all(exec_worker *wk, const qg_query *q, exec_ctx *ctx, rows_writer *w, qg_error *err)
{
    qg_code why = exec_task_check(ctx->task);
    if (why)
        return qg_error_set(err, why, "-");
    if (q->readonly || !q->multi_statement)
        return run_checked(wk, q, ctx, w, err);

    const exec_backend *be = wk->be;
    const char *sql = q->statement;
    size_t len = q->statement_len, off = 0;
    while (off < len) {
        size_t used = 0;
        be_stmt *st = NULL;
        if (be->prepare(wk->conn, ctx, sql + off, len - off, &used, &st, err) != 0)
            return -1;
        off += used;
        if (!st)
            break;
        if (run_one(wk, st, q, ctx, w, err) != 0)
            return -1;
        if (used == 0)
            break;
        why = exec_task_check(ctx->task);
        if (why)
            return qg_error_set(err, why, "-");
    }
    return 0;
}

int
exec_run(exec_worker *wk, const qg_query *q, exec_ctx *ctx, rows_writer *w, qg_error *err)
{
    int rc = run_all(wk, q, ctx, w, err);
    if (wk->be->end)
        wk->be->end(wk->conn);
    return rc;
}

static int
check_all(exec_worker *wk, const qg_query *q, exec_ctx *ctx, exec_check_result *out,
          qg_error *err)
{
    const exec_backend *be = wk->be;
    const char *sql = q->statement;
    size_t len = q->statement_len, off = 0;
    bool all_ro = true;
    memset(out, 0, sizeof(*out));
    while (off < len) {
        qg_code why = exec_task_check(ctx->task);
        if (why)
            return qg_error_set(err, why, "-");
        size_t used = 0;
        be_stmt *st = NULL;
        if (be->prepare(wk->conn, ctx, sql + off, len - off, &used, &st, err) != 0) {
            /* only a missing object or a compile error can be the doing
             * of an earlier statement that writes */
            if ((err->code != QG_E_UNKNOWN_OBJECT && err->code != QG_E_COMPILE) || all_ro)
                return -1;
            return 0;
        }
        off += used;
        if (!st)
            break;
        out->statements++;
        bool ro = be->is_readonly(st);
        int rc = 0;
        if (q->readonly && !ro) {
            char kind[32];
            be->kind(st, kind);
            rc = qg_error_set(err, QG_E_READONLY, kind);
        }
        if (rc == 0)
            rc = be->bind(st, q, err);
        if (rc == 0 && be->compile)
            rc = be->compile(wk->conn, st, ctx, err);
        be->finalize(st);
        /* as for prepare: a missing object may be an earlier writer's */
        if (rc != 0 && !all_ro && (err->code == QG_E_UNKNOWN_OBJECT || err->code == QG_E_COMPILE))
            return 0;
        if (rc != 0)
            return -1;
        all_ro = all_ro && ro;
        if (!q->multi_statement) {
            if (!sqltext_blank(sql + off, len - off))
                return qg_error_set(err, QG_E_MULTI);
            break;
        }
        if (used == 0)
            break;
    }
    out->complete = true;
    out->all_readonly = all_ro;
    return 0;
}

int
exec_check(exec_worker *wk, const qg_query *q, exec_ctx *ctx, exec_check_result *out,
           qg_error *err)
{
    int rc = check_all(wk, q, ctx, out, err);
    if (wk->be->end)
        wk->be->end(wk->conn);
    return rc;
}
