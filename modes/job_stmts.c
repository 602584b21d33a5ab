/*
 * job_stmts: a stored job's statements. The job's text is planned with
 * the backend's lexical rules (all queued, with their spans) and stored
 * with it; on the worker, exec_run's hooks mark each statement started,
 * then finished or error, with its times, its rows, its result set and
 * its columns. The loop reads that array under the task's lock for a
 * running job's status; the store gets it once, with the end state. After
 * an error the statements that did not run are cancelled (the text after
 * the last one begun is split again, so the list follows what the engine
 * actually ran).
 */
#include <stdlib.h>

#include "core/clock.h"
#include "core/mem.h"
#include "exec/run.h"
#include "modes/internal.h"

store_stmt *
mode__stmts_plan(const exec_backend *be, const qg_query *q, size_t *n)
{
    exec_span *sp;
    exec_split_all(be, q->statement, q->statement_len, &sp, n);
    store_stmt *v = qg_calloc(*n ? *n : 1, sizeof(store_stmt));
    for (size_t i = 0; i < *n; i++) {
        store_stmt_init(&v[i]);
        v[i].off = (uint32_t)sp[i].start;
        v[i].len = (uint32_t)sp[i].len;
    }
    free(sp);
    return v;
}

void
mode__stmts_reset(mode_job *j)
{
    size_t nplan;
    store_stmt *plan = mode__stmts_plan(j->env->backend, &j->q, &nplan);
    pthread_mutex_lock(&j->t.mu);
    store_stmts_free(j->stmts, j->nstmts);
    j->stmts = plan;
    j->nstmts = j->cap_stmts = nplan;
    if (j->cap_stmts == 0) {
        j->cap_stmts = 1;
        store_stmt_init(&j->stmts[0]);
    }
    j->cur_stmt = SIZE_MAX;
    pthread_mutex_unlock(&j->t.mu);
    j->nsets = 0;
    j->ran = 0;
    j->resume_known = false;
    j->resume_off = 0;
}

/* Makes stmts[i] exist (t.mu held): a statement the plan did not foresee
 * (the engine split the text differently) is added. */
static void
stmt_slot(mode_job *j, size_t i)
{
    if (i < j->nstmts)
        return;
    if (i >= j->cap_stmts) {
        j->cap_stmts = i + 8;
        j->stmts = qg_realloc(j->stmts, sizeof(store_stmt) * j->cap_stmts);
    }
    while (j->nstmts <= i)
        store_stmt_init(&j->stmts[j->nstmts++]);
}

void
mode__stmt_begin(exec_ctx *ctx, size_t i, size_t off, size_t used)
{
    mode_job *j = ctx->hook_arg;
    const char *sql = j->q.statement;
    size_t n = j->q.statement_len, start, len;
    exec_span sp;
    if (used) {
        /* the statement's own text inside what the engine consumed (which
         * may run on into a comment after its ';') */
        if (j->env->backend->split(sql + off, used, &sp)) {
            start = off + sp.start;
            len = sp.len;
        } else {
            exec_span_trim(sql, off, used, &start, &len);
        }
        j->resume_off = off + used;
    } else {
        /* it did not compile: its extent by the lexical rules */
        if (j->env->backend->split(sql + off, n - off, &sp)) {
            start = off + sp.start;
            len = sp.len;
            j->resume_off = off + sp.used;
        } else {
            start = off;
            len = 0;
            j->resume_off = n;
        }
    }
    j->resume_known = true;
    j->begin_set = j->w.set_index;
    j->ran = i + 1;
    pthread_mutex_lock(&j->t.mu);
    stmt_slot(j, i);
    store_stmt *s = &j->stmts[i];
    store_stmt_free(s);
    store_stmt_init(s);
    s->off = (uint32_t)start;
    s->len = (uint32_t)len;
    s->state = STORE_STMT_STARTED;
    s->start_ns = qg_wall_ns();
    j->cur_stmt = i;
    pthread_mutex_unlock(&j->t.mu);
}

void
mode__stmt_end(exec_ctx *ctx, size_t i, int rc, const qg_error *err)
{
    mode_job *j = ctx->hook_arg;
    atomic_store(&j->rows_now, j->w.total_rows);
    pthread_mutex_lock(&j->t.mu);
    if (i < j->nstmts) {
        store_stmt *s = &j->stmts[i];
        s->stop_ns = qg_wall_ns();
        if (rc == 0) {
            s->state = STORE_STMT_FINISHED;
            /* a write's rows are those it changed (its set's, for a query,
             * the sink attaches) */
            if (ctx->changed > 0)
                s->rows = (uint64_t)ctx->changed;
        } else {
            s->state = STORE_STMT_ERROR;
            s->error = *err;
        }
    }
    j->cur_stmt = SIZE_MAX;
    pthread_mutex_unlock(&j->t.mu);
}

/* The statements as they ended, for the store: on success those that ran;
 * on failure the one that failed carries the job's error (err_at: its
 * index when no statement began, e.g. a compile error found by the check;
 * SIZE_MAX: none), and every statement that did not run is cancelled (the
 * text after the last one begun is split again, so the list follows what
 * the engine actually ran). */
void
mode__stmts_final(mode_job *j, int rc, const qg_error *err, size_t err_at)
{
    pthread_mutex_lock(&j->t.mu);
    if (rc == 0 || j->resume_known) {
        for (size_t i = j->ran; i < j->nstmts; i++)
            store_stmt_free(&j->stmts[i]);
        j->nstmts = j->ran < j->nstmts ? j->ran : j->nstmts;
    }
    if (rc != 0 && j->resume_known) {
        exec_span *sp;
        size_t n;
        const char *sql = j->q.statement + j->resume_off;
        exec_split_all(j->env->backend, sql, j->q.statement_len - j->resume_off, &sp, &n);
        for (size_t k = 0; k < n; k++) {
            stmt_slot(j, j->nstmts);
            store_stmt *s = &j->stmts[j->nstmts - 1];
            s->off = (uint32_t)(j->resume_off + sp[k].start);
            s->len = (uint32_t)sp[k].len;
        }
        free(sp);
    }
    if (rc != 0) {
        bool unknown = err->code == QG_E_OUTCOME_UNKNOWN;
        for (size_t i = 0; i < j->nstmts; i++) {
            store_stmt *s = &j->stmts[i];
            if (i == err_at && s->state == STORE_STMT_QUEUED) {
                s->state = STORE_STMT_ERROR;
                s->error = *err;
            } else if (s->state == STORE_STMT_QUEUED || s->state == STORE_STMT_STARTED) {
                s->state = STORE_STMT_CANCELLED;
            } else if (s->state == STORE_STMT_ERROR) {
                /* the job's error as the client sees it (the request id of
                 * a cancel, the outcome of a cut) */
                s->error = *err;
                if (unknown)
                    s->state = STORE_STMT_UNKNOWN;
            }
        }
    }
    j->cur_stmt = SIZE_MAX;
    pthread_mutex_unlock(&j->t.mu);
}

/* Sets from cut on lost a page to the store (why): they are dropped, and
 * the statements that produced them end in error, with no set and no rows
 * (what they returned was not kept). A set still open when the page was
 * refused (cut == nsets) is not among the sets: its statement failed with
 * the refusal already. */
void
mode__sets_cut(mode_job *j, uint32_t cut, const qg_error *why)
{
    if (cut >= j->nsets)
        return;
    pthread_mutex_lock(&j->t.mu);
    for (size_t i = 0; i < j->nstmts; i++) {
        store_stmt *s = &j->stmts[i];
        if (s->set < (int64_t)cut)
            continue;
        s->state = STORE_STMT_ERROR;
        s->error = *why;
        s->set = -1;
        s->rows = 0;
    }
    pthread_mutex_unlock(&j->t.mu);
    j->nsets = cut;
}

store_stmt *
mode__stmts_copy(const store_stmt *v, size_t n)
{
    store_stmt *c = qg_calloc(n ? n : 1, sizeof(store_stmt));
    for (size_t i = 0; i < n; i++)
        store_stmt_copy(&c[i], &v[i]);
    return c;
}

store_stmt *
mode__stmts_lean(const store_stmt *v, size_t n)
{
    store_stmt *c = mode__stmts_copy(v, n);
    for (size_t i = 0; i < n; i++) {
        store_stmt tmp;
        store_stmt_init(&tmp);
        tmp.cols = c[i].cols;
        tmp.ncols = c[i].ncols;
        store_stmt_free(&tmp);
        c[i].cols = NULL;
        c[i].ncols = 0;
    }
    return c;
}
