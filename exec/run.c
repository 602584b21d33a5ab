/* run: the statement driver shared by every mode (see run.h). */
#include "exec/run.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "exec/sqltext.h"

static void
hook_begin(exec_ctx *ctx, size_t i, size_t off, size_t used)
{
    if (ctx->stmt_begin)
        ctx->stmt_begin(ctx, i, off, used);
}

/* A statement refused by readonly: say how to run it after all. */
static void
readonly_hint(const qg_query *q, int rc, qg_error *err)
{
    if (rc == 0 || err->code != QG_E_READONLY || strstr(err->msg, "; "))
        return;
    if (q->readonly_get)
        qg_error_append(err, "; a GET is always read-only: POST the statement to run it");
    else
        qg_error_append(err, "; the request asked for readonly=true (or the token's principal "
                             "is read-only)");
}

static int
hook_end(exec_ctx *ctx, const qg_query *q, size_t i, int rc, qg_error *err)
{
    readonly_hint(q, rc, err);
    if (ctx->stmt_end)
        ctx->stmt_end(ctx, i, rc, err);
    return rc;
}

/* Runs one prepared statement: bind, run, finalize. */
static int
run_one(exec_worker *wk, be_stmt *st, const qg_query *q, exec_ctx *ctx, rows_writer *w,
        qg_error *err)
{
    const exec_backend *be = wk->be;
    int rc = be->bind(st, q, err);
    ctx->changed = -1;
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
    size_t *offs = qg_malloc(cap * 2 * sizeof(*offs)); /* off, used of each */
    int rc = 0;
    while (off < len) {
        if (exec_task_check(ctx->task)) {
            rc = qg_error_set(err, exec_task_check(ctx->task), "-");
            break;
        }
        size_t used = 0;
        be_stmt *st = NULL;
        if (be->prepare(wk->conn, ctx, sql + off, len - off, &used, &st, err) != 0) {
            hook_begin(ctx, n, off, 0);
            rc = hook_end(ctx, q, n, -1, err);
            break;
        }
        if (!st)
            break;
        if (n == cap) {
            stmts = qg_realloc(stmts, (cap *= 2) * sizeof(*stmts));
            offs = qg_realloc(offs, cap * 2 * sizeof(*offs));
        }
        offs[2 * n] = off;
        offs[2 * n + 1] = used;
        off += used;
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
            hook_begin(ctx, i, offs[2 * i], offs[2 * i + 1]);
            hook_end(ctx, q, i, rc, err);
        }
    }
    size_t i = 0;
    for (; rc == 0 && i < n; i++) {
        hook_begin(ctx, i, offs[2 * i], offs[2 * i + 1]);
        rc = hook_end(ctx, q, i, run_one(wk, stmts[i], q, ctx, w, err), err);
    }
    for (; i < n; i++)
        be->finalize(stmts[i]);
    free(stmts);
    free(offs);
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
    for (size_t i = 0; off < len; i++) {
        size_t used = 0;
        be_stmt *st = NULL;
        if (be->prepare(wk->conn, ctx, sql + off, len - off, &used, &st, err) != 0) {
            hook_begin(ctx, i, off, 0);
            return hook_end(ctx, q, i, -1, err);
        }
        if (!st)
            break;
        hook_begin(ctx, i, off, used);
        off += used;
        if (hook_end(ctx, q, i, run_one(wk, st, q, ctx, w, err), err) != 0)
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
    readonly_hint(q, rc, err);
    if (wk->be->end)
        wk->be->end(wk->conn);
    return rc;
}

static int
check_all(exec_worker *wk, const qg_query *q, exec_ctx *ctx, exec_check_result *out, qg_error *err)
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
        out->failed_at = out->statements;
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
            if (!sqltext_blank(sql + off, len - off)) {
                out->failed_at = out->statements;
                return qg_error_set(err, QG_E_MULTI);
            }
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
exec_check(exec_worker *wk, const qg_query *q, exec_ctx *ctx, exec_check_result *out, qg_error *err)
{
    int rc = check_all(wk, q, ctx, out, err);
    readonly_hint(q, rc, err);
    if (wk->be->end)
        wk->be->end(wk->conn);
    return rc;
}

void
exec_split_all(const exec_backend *be, const char *sql, size_t len, exec_span **out, size_t *n)
{
    size_t off = 0, cap = 0;
    *out = NULL;
    *n = 0;
    while (off < len) {
        exec_span sp;
        if (!be->split(sql + off, len - off, &sp))
            break;
        if (*n == cap)
            *out = qg_realloc(*out, sizeof(exec_span) * (cap = cap ? cap * 2 : 8));
        (*out)[(*n)++] = (exec_span){off + sp.start, sp.len, sp.used};
        if (sp.used == 0)
            break;
        off += sp.used;
    }
}

void
exec_span_trim(const char *sql, size_t off, size_t used, size_t *start, size_t *len)
{
    size_t a = off + sqltext_skip_blank(sql + off, used);
    size_t b = off + used;
    while (b > a &&
           (sql[b - 1] == ';' || sql[b - 1] == ' ' || sql[b - 1] == '\t' || sql[b - 1] == '\n' ||
            sql[b - 1] == '\r' || sql[b - 1] == '\f' || sql[b - 1] == '\v'))
        b--;
    *start = a;
    *len = b - a;
}
