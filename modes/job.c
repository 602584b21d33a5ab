/*
 * job: running a stored job on a worker, and the jobs of the daemon (see
 * job.h).
 *
 * DESIGN. On a worker a job goes through these steps, each write a
 * store_op the worker waits for (its own store_flow):
 *   1. claim it (WAITING -> STARTED); a job the loop took back is skipped;
 *   2. compile every statement without running any (exec_check): a job
 *      that cannot run fails here without ever being marked running;
 *   3. commit the running state, with `rerunnable` set when the job cannot
 *      write: it asked for readonly, or every statement compiled read-only,
 *      and it then runs with read-only enforcement (ctx.readonly), so the
 *      flag is a guarantee, not a guess. A deferred job is created here,
 *      directly as running. Nothing runs before this commit, which is what
 *      lets recovery rerun rerunnable jobs and fail the others;
 *   4. run it: rows are rendered (JSON rows or raw CSV lines, pretty when
 *      asked) into ~64 KiB pages that go to the writer as they fill, one
 *      stored set per query statement; the worker waits while its job has
 *      more than STORE_FLOW_MAX_BYTES queued there;
 *   5. wait for every page to commit, then claim the end (mode_job.end: a
 *      cancel that claimed it first makes the job end cancelled) and
 *      commit the end state (success with its sets, failed, timeout) and
 *      the outcome of each statement in the same transaction; a job that
 *      failed keeps the sets its statements completed before the error;
 *      the set of a page the store refused (perhaps seen only now) and
 *      every later set are dropped, with their statements in error; an end
 *      state that does not fit is stored leaner (store_end), so it ends;
 *   6. deferred: build the answer (the result handle, or the error document
 *      as immediate mode would send it) and hand it to the loop.
 * Timeouts: a deferred job's deadline counts from the request's arrival
 * (the client waits for it), an async (or recovered) job's from when a
 * worker first starts it (queue time is not its fault).
 * Database away: an async job that fails with QG_E_BACKEND before it was
 * marked running (nothing of it reached the server) goes back to the queue
 * and is submitted again after a growing pause (job_requeue), until its
 * timeout.
 * Drain: a running async job cut by the drain (QG_E_DRAINING) goes back to
 * queued when it is rerunnable and is failed with QG_E_OUTCOME_UNKNOWN when
 * not; one cut before its running state was committed is left queued.
 *
 * Statements: the job's plan (its text split by the backend's lexical
 * rules, all queued) is stored with it; on the worker, exec_run's hooks
 * mark each statement started, then finished or error, with its times, its
 * rows, its result set and its columns (name, type, and from the row
 * writer's statistics their minimum, maximum and longest value). The loop
 * reads that array under the task's lock for a running job's status; the
 * store gets it once, with the end state. After an error the statements
 * that did not run are cancelled.
 *
 * Ownership: the loop holds one reference (dropped when the job finished,
 * or the loop took it back), the pool one while it is queued or runs.
 */
#include "modes/job.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/clock.h"
#include "core/envelope.h"
#include "core/json.h"
#include "core/log.h"
#include "core/mem.h"
#include "exec/run.h"
#include "gateway/handle.h"
#include "gateway/reply.h"
#include "modes/callback.h"
#include "store/idem.h"
#include "store/env.h"
#include "store/jobs.h"
#include "store/results.h"

#define PAGE_SIZE STORE_PAGE_TARGET

/* Queued jobs at their peak since the memory was last given back; once a
 * queue this long has drained, the allocator's free pages go back to the
 * system (malloc_trim): a burst of thousands of queued jobs must not keep
 * its memory for the life of the daemon. */
#define TRIM_AFTER_QUEUED 256

struct mode_jobs {
    mode_env *env;
    atomic_size_t queued;
    atomic_size_t running;
    atomic_size_t peak; /* most queued since the last trim */
    mode_job *head;     /* loop: listed jobs */
    bool parked;
};

/* --- documents ------------------------------------------------------------------ */

void
mode__job_doc_head(qg_buf *b, const mode_job *j)
{
    qg_buf_addlit(b, "{\"requestID\":\"");
    qg_buf_adds(b, j->rid);
    qg_buf_addc(b, '"');
    if (j->q.client_context_id) {
        qg_buf_addlit(b, ",\"clientContextID\":");
        qg_json_string(b, j->q.client_context_id, strlen(j->q.client_context_id));
    }
    if (j->q.format == QG_FORMAT_CSV) {
        if (j->q.csv_header)
            qg_buf_addlit(b, ",\"type\":\"text/csv; header=present\"");
        else
            qg_buf_addlit(b, ",\"type\":\"text/csv; header=absent\"");
    }
}

void
mode__job_error_doc(qg_buf *b, const mode_job *j, const qg_error *err, const qg_metrics *m,
                    uint64_t status_id)
{
    qg_metrics mm = *m;
    mm.error_count = 1;
    mode__job_doc_head(b, j);
    qg_buf_addc(b, ',');
    qg_env_errors(b, err);
    qg_buf_printf(b, ",\"status\":\"%s\",", qg_err_status(err->code));
    qg_env_metrics(b, &mm);
    if (status_id) {
        char h[GW_HANDLE_MAX_TEXT];
        gw_handle_format(status_id, 0, h);
        qg_buf_addlit(b, ",\"statusHandle\":\"");
        qg_json_escape(b, j->base ? j->base : "", j->base ? strlen(j->base) : 0);
        qg_buf_printf(b, "/query/service/status/%s\"", h);
    }
    qg_buf_addlit(b, "}\n");
}

void
mode__job_accepted_doc(qg_buf *b, const mode_job *j, uint64_t compile_ns)
{
    mode__job_doc_head(b, j);
    char h[GW_HANDLE_MAX_TEXT];
    gw_handle_format(j->rec.id, 0, h);
    qg_buf_addlit(b, ",\"handle\":\"");
    qg_json_escape(b, j->base ? j->base : "", j->base ? strlen(j->base) : 0);
    qg_buf_printf(b, "/query/service/status/%s\",\"plans\":{},\"status\":\"running\",", h);
    qg_metrics m = {0};
    m.elapsed_ns = qg_now_ns() - j->recv_ns;
    m.compile_ns = compile_ns;
    qg_env_metrics(b, &m);
    qg_buf_addlit(b, "}\n");
}

store_stmt *
mode__job_plan(const exec_backend *be, const qg_query *q, size_t *n)
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
mode__job_reply(gw_req *req, int status, const qg_buf *body)
{
    if (status == 503) {
        const gw_header retry = {"Retry-After", "1"};
        gw_reply(req, status, GW_JSON, body->data, body->len, &retry, 1);
    } else {
        gw_reply(req, status, GW_JSON, body->data, body->len, NULL, 0);
    }
}

/* --- retried submissions (idempotency keys) ---------------------------------- */

void
mode__job_idem(mode_env *env, const qg_query *q, const char *principal, store_op *op)
{
    op->idem = true;
    store_idem_key(principal, q->idempotency_key, op->idem_key);
    store_idem_fingerprint(q, op->idem_fp);
    op->now_ns = qg_wall_ns();
    op->idem_expires_ns = op->now_ns + env->set.idempotency_ttl_ns;
}

/* The answer to a retry: the first job r as it stands (see
 * mode__job_replay). Any thread. */
static void
replay_doc(qg_buf *b, const store_job *r, const qg_query *q, const char *base, int *http)
{
    char h[GW_HANDLE_MAX_TEXT];
    gw_handle_format(r->id, 0, h);
    const char *bs = base ? base : "";
    *http = 200;
    qg_buf_printf(b, "{\"requestID\":\"%s\"", r->request_id);
    if (q->client_context_id) {
        qg_buf_addlit(b, ",\"clientContextID\":");
        qg_json_string(b, q->client_context_id, strlen(q->client_context_id));
    }
    if (r->format == QG_FORMAT_CSV)
        qg_buf_printf(b, ",\"type\":\"text/csv; header=%s\"", r->csv_header ? "present" : "absent");
    qg_metrics m = r->metrics;
    m.result_count = 0;
    m.result_size = 0;
    if (r->mode == QG_MODE_DEFERRED && r->state == STORE_SUCCESS) {
        if (r->signature && r->queries)
            qg_buf_addlit(b, ",\"signature\":{\"*\":\"*\"}");
        qg_buf_addlit(b, ",\"handle\":\"");
        qg_json_escape(b, bs, strlen(bs));
        qg_buf_printf(b, "/query/service/result/%s\",\"plans\":{},\"status\":\"success\",", h);
        qg_env_metrics(b, &m);
    } else if (r->mode == QG_MODE_DEFERRED && !store_state_active(r->state)) {
        *http = qg_err_http(r->error.code);
        m.error_count = 1;
        qg_buf_addc(b, ',');
        qg_env_errors(b, &r->error);
        qg_buf_printf(b, ",\"status\":\"%s\",", qg_err_status(r->error.code));
        qg_env_metrics(b, &m);
        qg_buf_addlit(b, ",\"statusHandle\":\"");
        qg_json_escape(b, bs, strlen(bs));
        qg_buf_printf(b, "/query/service/status/%s\"", h);
    } else {
        /* async, or a deferred job still running: its status handle */
        memset(&m, 0, sizeof(m));
        qg_buf_addlit(b, ",\"handle\":\"");
        qg_json_escape(b, bs, strlen(bs));
        qg_buf_printf(b, "/query/service/status/%s\",\"plans\":{},\"status\":\"running\",", h);
        qg_env_metrics(b, &m);
    }
    qg_buf_addlit(b, "}\n");
}

static const gw_header replayed_header = {"Idempotent-Replayed", "true"};

void
mode__job_replay(gw_req *req, const store_job *r, const qg_query *q, const char *base)
{
    qg_buf b = QG_BUF_INIT;
    int http;
    replay_doc(&b, r, q, base, &http);
    gw_reply(req, http, GW_JSON, b.data, b.len, &replayed_header, 1);
    qg_buf_free(&b);
}

int
mode__job_idem_check(mode_env *env, gw_req *req, const qg_query *q, const char *base)
{
    if (!q->idempotency_key)
        return 0;
    unsigned char key[32], fp[32], mine[32];
    uint64_t job;
    qg_error err;
    store_idem_key(req->principal, q->idempotency_key, key);
    int found = store_idem_lookup(env->store, key, qg_wall_ns(), &job, fp, &err);
    if (found <= 0) {
        if (found < 0)
            gw_reply_error(req, &err, NULL);
        return found;
    }
    store_idem_fingerprint(q, mine);
    if (memcmp(fp, mine, sizeof(fp)) != 0) {
        qg_error_set(&err, QG_E_CONFLICT,
                     "Idempotency key already used for a different request (another statement, "
                     "parameters or options)");
        gw_reply_error(req, &err, NULL);
        return -1;
    }
    store_job r;
    store_job_init(&r);
    if (store_jobs_read(env->store, job, &r, &err) < 0) {
        store_job_free(&r);
        gw_reply_error(req, &err, NULL);
        return -1;
    }
    r.id = job; /* also when the job itself is gone (swept): its handle says so */
    mode__job_replay(req, &r, q, base);
    store_job_free(&r);
    return 1;
}

/* --- worker side: the page sink ------------------------------------------------- */

static mode_job *
of_sink(rows_sink *s)
{
    return (mode_job *)((char *)s - offsetof(mode_job, sink));
}

static int
sink_flush(rows_sink *s, rows_writer *w, qg_error *err)
{
    mode_job *j = of_sink(s);
    if (!w->in_set) {
        /* nothing is stored outside a result set */
        qg_buf_reset(&w->out);
        return 0;
    }
    store_op *op = store_op_new(STORE_OP_PAGE);
    op->job_id = j->rec.id;
    op->set = w->set_index;
    op->page = j->page++;
    /* pages end on row boundaries: this one holds the rows since the last */
    op->first_row = j->page_first_row;
    op->nrows = (uint32_t)(w->set_rows - j->page_first_row);
    j->page_first_row = w->set_rows;
    atomic_store(&j->rows_now, w->total_rows);
    op->data = qg_buf_detach(&w->out, &op->len);
    qg_buf_reserve(&w->out, PAGE_SIZE + 4096);
    op->flow = j->flow;
    store_writer_submit(j->env->writer, op);
    if (store_flow_wait(j->flow, STORE_FLOW_MAX_BYTES, err) != 0)
        return -1;
    qg_code why = exec_task_check(&j->t);
    if (why)
        return qg_error_set(err, why, "-");
    return 0;
}

static int
sink_set_begin(rows_sink *s, rows_writer *w, qg_error *err)
{
    mode_job *j = of_sink(s);
    j->page = 0;
    j->page_first_row = 0;
    return 0;
}

static store_vkind
vkind_of(int k)
{
    switch (k) {
    case ROWS_K_BOOL:
        return STORE_V_BOOL;
    case ROWS_K_NUMBER:
        return STORE_V_NUMBER;
    case ROWS_K_TEXT:
        return STORE_V_TEXT;
    case ROWS_K_BLOB:
        return STORE_V_BLOB;
    }
    return STORE_V_NONE;
}

/* The columns of the set w just ended, with what the writer saw of them. */
static store_col *
cols_snapshot(const rows_writer *w)
{
    store_col *cols = qg_calloc(w->ncols ? w->ncols : 1, sizeof(store_col));
    qg_buf t = QG_BUF_INIT;
    for (size_t i = 0; i < w->ncols; i++) {
        const rows_col *c = &w->cols[i];
        cols[i].name = qg_memdup0(c->name, c->name_len);
        cols[i].type = c->type ? qg_strdup(c->type) : NULL;
        cols[i].max_len = c->stat.max_len;
        cols[i].nulls = c->stat.nulls;
        const rows_bound *b[2] = {&c->stat.min, &c->stat.max};
        store_bound *out[2] = {&cols[i].min, &cols[i].max};
        for (int k = 0; k < 2; k++) {
            qg_buf_reset(&t);
            rows_bound_text(b[k], &t);
            store_bound_set(out[k], vkind_of(b[k]->kind), t.data ? t.data : "", t.len);
        }
    }
    qg_buf_free(&t);
    return cols;
}

static int
sink_set_end(rows_sink *s, rows_writer *w, qg_error *err)
{
    mode_job *j = of_sink(s);
    /* the set's last page: flush while in_set still says which set */
    w->in_set = true;
    int rc = w->out.len ? sink_flush(s, w, err) : 0;
    w->in_set = false;
    if (rc != 0)
        return -1;
    if (j->nsets == j->cap) {
        j->cap = j->cap ? j->cap * 2 : 4;
        j->sets = qg_realloc(j->sets, sizeof(store_set) * j->cap);
    }
    j->sets[j->nsets] = (store_set){w->set_rows, w->set_bytes, j->page, j->q.max_result_reads};
    store_col *cols = cols_snapshot(w);
    pthread_mutex_lock(&j->t.mu);
    if (j->cur_stmt < j->nstmts) {
        store_stmt *st = &j->stmts[j->cur_stmt];
        store_stmt_free(st);
        st->set = j->nsets;
        st->rows = w->set_rows;
        st->cols = cols;
        st->ncols = (uint32_t)w->ncols;
        cols = NULL;
    }
    pthread_mutex_unlock(&j->t.mu);
    if (cols) {
        store_stmt tmp;
        store_stmt_init(&tmp);
        tmp.cols = cols;
        tmp.ncols = (uint32_t)w->ncols;
        store_stmt_free(&tmp);
    }
    j->nsets++;
    return 0;
}

/* --- worker side: statements ---------------------------------------------------- */

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

static void
on_stmt_begin(exec_ctx *ctx, size_t i, size_t off, size_t used)
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

static void
on_stmt_end(exec_ctx *ctx, size_t i, int rc, const qg_error *err)
{
    mode_job *j = ctx->hook_arg;
    atomic_store(&j->rows_now, j->w.total_rows);
    pthread_mutex_lock(&j->t.mu);
    if (i < j->nstmts) {
        store_stmt *s = &j->stmts[i];
        s->stop_ns = qg_wall_ns();
        if (rc == 0) {
            s->state = STORE_STMT_FINISHED;
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
static void
stmts_final(mode_job *j, int rc, const qg_error *err, size_t err_at)
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
static void
cut_sets(mode_job *j, uint32_t cut, const qg_error *why)
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

/* A copy of the statements (t.mu held by the caller, or the worker's own
 * array before anyone else reads it). */
static store_stmt *
stmts_copy(const store_stmt *v, size_t n)
{
    store_stmt *c = qg_calloc(n ? n : 1, sizeof(store_stmt));
    for (size_t i = 0; i < n; i++)
        store_stmt_copy(&c[i], &v[i]);
    return c;
}

/* --- worker side: the run ----------------------------------------------------- */

/* Submits op (a CREATE or UPDATE of r, with the statements stmts[0..n)
 * when set_stmts, which the op takes) and waits for its commit. A CREATE
 * of a request with an idempotency key that names a job already (a
 * retry) creates nothing: *retry is set and *first gets that job. */
static int
commit(mode_job *j, store_op_kind kind, const store_job *r, bool drop, store_stmt *stmts, size_t n,
       bool set_stmts, store_job *first, bool *retry, qg_error *err)
{
    store_op *op = store_op_new(kind);
    store_job_copy(&op->job, r);
    op->q = &j->q;
    op->drop_pages = drop;
    op->stmts = stmts;
    op->nstmts = n;
    op->set_stmts = set_stmts;
    if (kind == STORE_OP_CREATE && j->q.idempotency_key)
        mode__job_idem(j->env, &j->q, r->principal, op);
    int rc = store_writer_run(j->env->writer, j->flow, op, err);
    if (rc == 0 && op->existing) {
        *retry = true;
        store_job_free(first);
        store_job_copy(first, &op->job);
        store_op_free(op);
        return 0;
    }
    if (rc == 0 && kind == STORE_OP_CREATE) {
        j->rec.id = op->job.id;
        pthread_mutex_lock(&j->t.mu);
        j->id = op->job.id;
        pthread_mutex_unlock(&j->t.mu);
        exec_task_notify(&j->t);
    }
    store_op_free(op);
    return rc;
}

/* Statement copies without their columns: the smallest end state of
 * them. */
static store_stmt *
stmts_lean(const store_stmt *v, size_t n)
{
    store_stmt *c = stmts_copy(v, n);
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

/* Commits the end state r (with the statements when set_stmts), dropping
 * the pages of any set cut short (sets >= r->nsets). The store keeps room
 * for every accepted job's end state, but a job's statements may carry
 * more columns than was kept for: when it is full, the statements go
 * without their columns, and last the job fails without its sets (which
 * frees their pages), so an accepted job always ends. On that failure,
 * *rc and *err become the store's error. Returns whether it was stored.
 * Worker thread. */
static bool
store_end(mode_job *j, store_job *r, bool set_stmts, int *rc, qg_error *err)
{
    qg_error cerr;
    for (int attempt = 0; attempt < 3; attempt++) {
        store_stmt *v = NULL;
        size_t n = 0;
        if (set_stmts) {
            pthread_mutex_lock(&j->t.mu);
            v = attempt == 0 ? stmts_copy(j->stmts, j->nstmts) : stmts_lean(j->stmts, j->nstmts);
            n = j->nstmts;
            pthread_mutex_unlock(&j->t.mu);
        }
        if (attempt == 2) {
            /* the last resort: failed, no sets */
            if (r->state == STORE_QUEUED) {
                store_stmts_free(v, n);
                break;
            }
            r->state = STORE_FAILED;
            r->error = cerr;
            store_job_set_sets(r, NULL, 0);
            r->metrics.error_count = 1;
        }
        if (commit(j, STORE_OP_UPDATE, r, true, v, n, set_stmts, NULL, NULL, &cerr) == 0) {
            if (attempt == 2) {
                *rc = -1;
                *err = r->error;
            }
            return true;
        }
        if (cerr.code != QG_E_STORE_FULL)
            break;
    }
    qg_warn("job %llu: its end state could not be stored: %s", (unsigned long long)r->id, cerr.msg);
    if (*rc == 0) {
        *rc = -1;
        *err = cerr;
    }
    return false;
}

/* The deferred answer of a job that ran to its end state. */
static void
deferred_answer(mode_job *j, const store_job *r, const qg_error *err, int rc, bool stored,
                qg_buf *b, int *http)
{
    qg_metrics m = r->metrics;
    if (rc != 0) {
        *http = qg_err_http(err->code);
        mode__job_error_doc(b, j, err, &m, stored ? r->id : 0);
        return;
    }
    *http = 200;
    mode__job_doc_head(b, j);
    if (j->q.signature && j->nsets > 0) /* it had query statements */
        qg_buf_addlit(b, ",\"signature\":{\"*\":\"*\"}");
    char h[GW_HANDLE_MAX_TEXT];
    gw_handle_format(r->id, 0, h);
    qg_buf_addlit(b, ",\"handle\":\"");
    qg_json_escape(b, j->base ? j->base : "", j->base ? strlen(j->base) : 0);
    qg_buf_printf(b, "/query/service/result/%s\",\"plans\":{},\"status\":\"success\",", h);
    m.result_count = 0;
    m.result_size = 0;
    qg_env_metrics(b, &m);
    qg_buf_addlit(b, "}\n");
}

/* The job's statements back to its plan (all queued), its sets none: a
 * first run, or another after the database was away. Worker thread. */
static void
job_reset(mode_job *j)
{
    size_t nplan;
    store_stmt *plan = mode__job_plan(j->env->backend, &j->q, &nplan);
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

/* What one run of a job's steps 1-4 leaves for the end. */
typedef struct job_attempt {
    store_job r; /* the record as it goes */
    exec_ctx ctx;
    qg_error err;
    bool ran;   /* its running state is committed */
    bool retry; /* a deferred retry: first is the job of the first try */
    store_job first;
    size_t err_at; /* the statement a compile error is in, or SIZE_MAX */
} job_attempt;

/* Steps 1-4: not cancelled meanwhile, it compiles, its running state is
 * committed (once), it runs. Returns 0 or -1 with a->err. */
static int
job_attempt_run(mode_job *j, exec_worker *wk, bool async, job_attempt *a)
{
    exec_task *t = &j->t;
    int rc = 0;
    qg_code why = exec_task_check(t);
    if (why)
        rc = qg_error_set(&a->err, why, "-");
    exec_check_result chk;
    if (rc == 0) {
        rc = exec_check(wk, &j->q, &a->ctx, &chk, &a->err);
        if (rc != 0)
            a->err_at = chk.failed_at;
    }

    /* 3: the running state, before anything may write */
    if (rc == 0 && !a->ran) {
        a->r.rerunnable = j->q.readonly || chk.all_readonly;
        a->r.state = STORE_RUNNING;
        a->r.started_ns = qg_wall_ns();
        /* a deferred job is created here, with its statements queued, and
         * its idempotency key in the same transaction */
        bool create = !async;
        rc = commit(j, create ? STORE_OP_CREATE : STORE_OP_UPDATE, &a->r, false,
                    create ? stmts_copy(j->stmts, j->nstmts) : NULL, create ? j->nstmts : 0, false,
                    create ? &a->first : NULL, &a->retry, &a->err);
        if (rc == 0 && !a->retry) {
            a->r.id = j->rec.id;
            a->ran = true;
        }
    }
    if (rc != 0 || a->retry)
        return rc;

    /* 4: run, pages */
    a->ctx.readonly = a->r.rerunnable;
    a->ctx.stmt_begin = on_stmt_begin;
    a->ctx.stmt_end = on_stmt_end;
    a->ctx.hook_arg = j;
    j->sink.flush = sink_flush;
    j->sink.set_begin = sink_set_begin;
    j->sink.set_end = sink_set_end;
    rows_init(&j->w, &j->sink, &j->q, PAGE_SIZE, false);
    j->w.max_bytes = j->env->set.max_result_bytes;
    j->w.stats = true;
    j->w.live_rows = &j->rows_now;
    rc = exec_run(wk, &j->q, &a->ctx, &j->w, &a->err);
    qg_error ferr;
    if (store_flow_drain(j->flow, &ferr) != 0) {
        /* a page was refused, perhaps only seen now that every statement
         * has ended: its set and the later ones are cut */
        cut_sets(j, store_flow_failed_set(j->flow), &ferr);
        if (rc == 0) {
            rc = -1;
            a->err = ferr;
        }
    }
    atomic_store(&j->rows_now, j->w.total_rows);
    rows_free(&j->w);
    return rc;
}

/* An async job found the database away before anything of it reached the
 * server (QG_E_BACKEND, and it was not marked running yet): rather than
 * fail, it goes back to the queue, as a queue would keep it, and is
 * submitted again after a pause that grows from 100 ms to 2 s, until its
 * timeout (counted from its first start) runs out or it is cancelled. Its
 * worker is free meanwhile for others (and for immediate requests, which
 * fail at once with ASX0912). Returns true when it was put back; false
 * when it must end now, with err saying why. Worker thread. */
static bool
job_requeue(mode_job *j, qg_error *err)
{
    exec_task *t = &j->t;
    qg_code why = exec_task_check(t);
    if (why == QG_E_TIMEOUT || (t->deadline_ns && qg_now_ns() >= t->deadline_ns)) {
        /* the database never came back in time: say so */
        qg_error head;
        qg_error_set(&head, QG_E_BACKEND, "");
        size_t hl = strlen(head.msg);
        const char *text = strncmp(err->msg, head.msg, hl) == 0 ? err->msg + hl : err->msg;
        char msg[QG_ERRMSG_MAX];
        snprintf(msg, sizeof(msg), "%.900s (the job waited for it until its timeout)", text);
        qg_error_set(err, QG_E_BACKEND, msg);
        return false;
    }
    if (why) {
        qg_error_set(err, why, "-");
        return false;
    }
    if (j->db_waits == 0)
        qg_warn("job %llu: %s; it waits in the queue for the database%s",
                (unsigned long long)j->rec.id, err->msg,
                j->q.timeout_ns ? ", until its timeout" : "");
    uint64_t pause = 100000000ull << (j->db_waits < 5 ? j->db_waits : 5);
    if (pause > 2000000000ull)
        pause = 2000000000ull;
    uint64_t now = qg_now_ns(), at = now + pause;
    /* not past the deadline, but not at once either: this worker lets go
     * of the task first */
    if (t->deadline_ns && at > t->deadline_ns)
        at = t->deadline_ns > now + 10000000 ? t->deadline_ns : now + 10000000;
    j->db_waits++;
    if (!j->db_err)
        j->db_err = qg_malloc(sizeof(*j->db_err));
    *j->db_err = *err;
    /* queued again: a cancel or a drain takes it back as any queued job */
    atomic_fetch_add(&j->env->jobs->queued, 1);
    atomic_store(&j->claim, MODE_JOB_WAITING);
    pthread_mutex_lock(&t->mu);
    j->requeue_ns = at;
    pthread_mutex_unlock(&t->mu);
    return true;
}

static void
job_run(exec_task *t, exec_worker *wk)
{
    mode_job *j = (mode_job *)t;
    mode_jobs *js = j->env->jobs;
    bool async = !j->answers; /* runs from a queued record */
    atomic_fetch_add(&js->running, 1);
    int expect = MODE_JOB_WAITING;
    if (!atomic_compare_exchange_strong(&j->claim, &expect, MODE_JOB_STARTED)) {
        atomic_fetch_sub(&js->running, 1);
        return; /* the loop took it back */
    }
    if (async) {
        mode__jobs_unreserve(js);
        /* from its first start, also when it waited for the database */
        if (!j->first_start_ns)
            j->first_start_ns = t->start_ns;
        if (j->q.timeout_ns)
            t->deadline_ns = j->first_start_ns + j->q.timeout_ns;
    }

    /* its account with the writer lives while it runs (a queued job is
     * kept small: thousands may wait) */
    store_flow flow;
    store_flow_init(&flow);
    j->flow = &flow;
    job_attempt a = {.ctx = {.task = t, .readonly = j->q.readonly}, .err_at = SIZE_MAX};
    store_job_copy(&a.r, &j->rec);
    store_job_init(&a.first);
    qg_error_clear(&a.err);
    /* the plan, again: a recovered job comes with none */
    job_reset(j);
    int rc = job_attempt_run(j, wk, async, &a);
    bool waited_out = rc != 0 && a.err.code == QG_E_TIMEOUT && j->db_err;
    if (waited_out) {
        /* its time ran out while it waited for the database: say so */
        a.err = *j->db_err;
        job_requeue(j, &a.err);
    }
    /* QG_E_BACKEND: nothing of it reached the server */
    if (rc != 0 && async && !waited_out && !a.ran && !a.retry && a.err.code == QG_E_BACKEND &&
        job_requeue(j, &a.err)) {
        store_job_free(&a.r);
        store_job_free(&a.first);
        j->flow = NULL;
        store_flow_destroy(&flow);
        atomic_fetch_sub(&js->running, 1);
        exec_task_notify(t);
        return;
    }
    store_job r = a.r;
    exec_ctx ctx = a.ctx;
    qg_error err = a.err;
    bool ran = a.ran, retry = a.retry;
    size_t err_at = a.err_at;
    store_job first = a.first;

    /* From here the worker decides the end, unless a cancel did first:
     * then it ends cancelled even if it ran to its end (a 200 to the
     * DELETE means cancelled). */
    int open = 0;
    if (!retry && !atomic_compare_exchange_strong(&j->end, &open, -1)) {
        rc = -1;
        if (open != QG_E_CANCELLED)
            qg_error_set(&err, (qg_code)open, "-");
        else
            err.code = QG_E_CANCELLED;
    }
    if (rc != 0 && err.code == QG_E_CANCELLED)
        qg_error_set(&err, QG_E_CANCELLED, j->rid);

    /* a failed job counts only the rows of the sets it keeps */
    uint64_t kept_rows = 0, kept_bytes = 0;
    for (uint32_t i = 0; i < j->nsets; i++) {
        kept_rows += j->sets[i].rows;
        kept_bytes += j->sets[i].bytes;
    }
    uint64_t now = qg_now_ns(), wall = qg_wall_ns();
    r.metrics = (qg_metrics){
        .elapsed_ns = async ? (wall > r.created_ns ? wall - r.created_ns : 0) : now - j->recv_ns,
        .execution_ns = now - t->start_ns,
        .compile_ns = ctx.compile_ns,
        .queue_wait_ns = async ? (r.started_ns > r.created_ns ? r.started_ns - r.created_ns : 0)
                               : t->start_ns - t->submit_ns,
        .result_count = ran ? (rc == 0 ? j->w.total_rows : kept_rows) : 0,
        .result_size = ran ? (rc == 0 ? j->w.total_bytes : kept_bytes) : 0,
        .processed_objects = ctx.processed,
        .error_count = rc != 0,
    };

    bool store_it = (ran || async) && !retry;
    bool set_stmts = true;
    r.queries = j->nsets > 0;
    if (rc == 0) {
        r.state = STORE_SUCCESS;
        if (j->nsets == 0) {
            /* no query statement: an empty set 0, so N-0 always answers */
            store_set empty = {0, 0, 0, j->q.max_result_reads};
            store_job_set_sets(&r, &empty, 1);
        } else {
            store_job_set_sets(&r, j->sets, j->nsets);
        }
    } else if (err.code == QG_E_DRAINING && async) {
        if (!ran) {
            store_it = false; /* still queued in the store: runs after the restart */
        } else if (r.rerunnable) {
            r.state = STORE_QUEUED;
            r.started_ns = 0;
            store_it = true;
            set_stmts = false; /* they stay queued, as stored */
        } else {
            r.state = STORE_FAILED;
            qg_error_set(&r.error, QG_E_OUTCOME_UNKNOWN);
            err = r.error;
        }
        store_job_set_sets(&r, NULL, 0);
    } else {
        r.state = err.code == QG_E_TIMEOUT ? STORE_TIMEOUT : STORE_FAILED;
        r.error = err;
        /* the sets its statements completed before the error stay */
        store_job_set_sets(&r, j->sets, j->nsets);
    }
    if (r.state != STORE_QUEUED) {
        r.finished_ns = wall;
        r.expires_ns = wall + r.ttl_ns;
    }
    if (set_stmts && !retry)
        stmts_final(j, rc, &err, err_at);
    bool stored = false;
    if (store_it && store_end(j, &r, set_stmts, &rc, &err))
        stored = r.state != STORE_QUEUED;

    /* 6: the answer, for a request that waits for one: deferred, or
     * async with wait= (the loop uses it if the request still waits) */
    qg_buf reply = QG_BUF_INIT;
    int http = 200;
    if (retry)
        replay_doc(&reply, &first, &j->q, j->base, &http);
    else if (async && r.state == STORE_QUEUED)
        mode__job_accepted_doc(&reply, j, j->check_ns); /* put back: it runs after a restart */
    else if (!async || j->q.wait_ns)
        deferred_answer(j, &r, &err, rc, ran || async, &reply, &http);
    store_job_free(&first);
    store_job_free(&r);
    j->flow = NULL;
    store_flow_destroy(&flow);
    atomic_fetch_sub(&js->running, 1);
    pthread_mutex_lock(&t->mu);
    j->finished = true;
    j->stored_end = stored;
    j->http = http;
    j->reply = reply;
    j->replayed = retry;
    pthread_mutex_unlock(&t->mu);
    exec_task_notify(t);
}

/* --- loop side ------------------------------------------------------------------ */

static void
unlist(mode_job *j)
{
    if (!j->listed)
        return;
    mode_jobs *js = j->env->jobs;
    mode_registry_remove(j->env->running, &j->entry);
    if (j->prev)
        j->prev->next = j->next;
    else
        js->head = j->next;
    if (j->next)
        j->next->prev = j->prev;
    j->prev = j->next = NULL;
    j->listed = false;
}

static void
stop_wait(mode_job *j)
{
    if (j->wait_ev) {
        event_free(j->wait_ev);
        j->wait_ev = NULL;
    }
    if (j->requeue_ev) {
        event_free(j->requeue_ev);
        j->requeue_ev = NULL;
    }
}

/* Loop: a job that waits for the database goes back to the pool, unless
 * it was taken back meanwhile (cancelled, parked by a drain). */
static void
requeue_cb(evutil_socket_t fd, short what, void *arg)
{
    mode_job *j = arg;
    if (atomic_load(&j->claim) == MODE_JOB_WAITING && j->loop_ref)
        exec_pool_submit(j->env->pool, &j->t);
}

static void
drop_loop_ref(mode_job *j)
{
    stop_wait(j);
    if (!j->loop_ref)
        return;
    j->loop_ref = false;
    if (j->req)
        gw_req_on_gone(j->req, NULL, NULL);
    j->req = NULL;
    exec_task_unref(&j->t);
}

/* Loop: gives the allocator's free memory back once a long queue has
 * drained (see TRIM_AFTER_QUEUED). */
static void
trim_when_idle(mode_jobs *js)
{
    if (atomic_load(&js->peak) < TRIM_AFTER_QUEUED || atomic_load(&js->queued) ||
        atomic_load(&js->running))
        return;
    atomic_store(&js->peak, 0);
    malloc_trim(0);
}

static void
job_notify(exec_task *t)
{
    mode_job *j = (mode_job *)t;
    pthread_mutex_lock(&t->mu);
    uint64_t id = j->id;
    bool finished = j->finished;
    bool stored_end = j->stored_end;
    bool replayed = j->replayed;
    int http = j->http;
    qg_buf reply = j->reply;
    qg_buf_init(&j->reply);
    j->stored_end = false; /* told once */
    uint64_t requeue = j->requeue_ns;
    j->requeue_ns = 0;
    pthread_mutex_unlock(&t->mu);
    if (requeue && j->loop_ref) {
        if (!j->requeue_ev)
            j->requeue_ev = evtimer_new(j->env->base, requeue_cb, j);
        uint64_t now = qg_now_ns(), d = requeue > now ? requeue - now : 0;
        struct timeval tv = {(time_t)(d / 1000000000u), (suseconds_t)(d % 1000000000u / 1000)};
        evtimer_add(j->requeue_ev, &tv);
    }
    if (j->listed)
        j->entry.job_id = id;
    if (stored_end && j->q.callback_url)
        mode_callbacks_due(j->env->callbacks, j->rec.id);
    if (!finished || !j->loop_ref) {
        qg_buf_free(&reply);
        return;
    }
    unlist(j);
    gw_req *req = j->req;
    drop_loop_ref(j); /* the pool still holds one: j lives on */
    trim_when_idle(j->env->jobs);
    if (req && reply.len && replayed)
        gw_reply(req, http, GW_JSON, reply.data, reply.len, &replayed_header, 1);
    else if (req && reply.len)
        mode__job_reply(req, http, &reply);
    qg_buf_free(&reply);
}

static void
job_destroy(exec_task *t)
{
    mode_job *j = (mode_job *)t;
    qg_query_free(&j->q);
    store_job_free(&j->rec);
    qg_buf_free(&j->reply);
    free(j->db_err);
    free(j->sets);
    store_stmts_free(j->stmts, j->nstmts);
    free(j->base);
    free(j);
}

static const exec_task_ops job_ops = {
    .run = job_run,
    .notify = job_notify,
    .destroy = job_destroy,
};

/* A queued job the loop failed: the request that waited for it (wait=)
 * is answered once that is on disk. */
typedef struct cancel_answer {
    mode_env *env;
    gw_req *req; /* NULL: nobody waits, or the client left */
    int http;
    qg_buf body;
} cancel_answer;

static void
cancel_answer_gone(gw_req *req)
{
    cancel_answer *ca = gw_req_data(req);
    ca->req = NULL;
}

/* Loop: a queued job failed by the loop is on disk; its callback is due
 * and its waiting request gets the outcome. */
static void
cancel_stored(store_op *op)
{
    cancel_answer *ca = op->arg;
    if (op->status == 0 && op->job.cb_state == STORE_CB_PENDING)
        mode_callbacks_due(ca->env->callbacks, op->job.id);
    if (ca->req) {
        gw_req_on_gone(ca->req, NULL, NULL);
        mode__job_reply(ca->req, ca->http, &ca->body);
    }
    qg_buf_free(&ca->body);
    free(ca);
    store_op_free(op);
}

bool
mode__job_cancel(mode_job *j, qg_code reason)
{
    int expect = MODE_JOB_WAITING;
    if (j->answers || !atomic_compare_exchange_strong(&j->claim, &expect, MODE_JOB_CANCELLED)) {
        /* started: the cancel decides its end unless the worker already
         * does (it is committing its own) */
        int open = 0;
        if (!atomic_compare_exchange_strong(&j->end, &open, (int)reason))
            return open > 0;
        exec_task_cancel(&j->t, reason);
        return true;
    }
    /* no worker took it (it may wait behind long jobs): failed at once */
    mode__jobs_unreserve(j->env->jobs);
    store_op *op = store_op_new(STORE_OP_UPDATE);
    store_job_copy(&op->job, &j->rec);
    uint64_t wall = qg_wall_ns();
    if (reason == QG_E_TIMEOUT) {
        op->job.state = STORE_TIMEOUT;
        qg_error_set(&op->job.error, QG_E_TIMEOUT);
    } else {
        op->job.state = STORE_FAILED;
        qg_error_set(&op->job.error, QG_E_CANCELLED, j->rid);
    }
    op->job.metrics.error_count = 1;
    op->job.finished_ns = wall;
    op->job.expires_ns = wall + op->job.ttl_ns;
    op->fill_from = STORE_STMT_QUEUED; /* none of them ran */
    op->fill_to = STORE_STMT_CANCELLED;
    cancel_answer *ca = qg_calloc(1, sizeof(*ca));
    ca->env = j->env;
    if (j->req) {
        gw_req *req = j->req;
        j->req = NULL;
        qg_metrics m = {0};
        m.elapsed_ns = qg_now_ns() - j->recv_ns;
        ca->http = qg_err_http(op->job.error.code);
        mode__job_error_doc(&ca->body, j, &op->job.error, &m, j->rec.id);
        ca->req = req;
        gw_req_on_gone(req, cancel_answer_gone, ca);
    }
    op->done = cancel_stored;
    op->arg = ca;
    store_writer_submit(j->env->writer, op);
    unlist(j);
    drop_loop_ref(j);
    return true;
}

/* Registry cancel (DELETE /status, /admin/requests/running, shutdown). */
static bool
job_cancel(mode_entry *e, qg_code reason)
{
    return mode__job_cancel((mode_job *)((char *)e - offsetof(mode_job, entry)), reason);
}

/* --- wait= ---------------------------------------------------------------------- */

/* Answers the waiting request with the accepted answer; the job goes on. */
static void
wait_give_handle(mode_job *j)
{
    gw_req *req = j->req;
    stop_wait(j);
    if (!req)
        return;
    j->req = NULL;
    gw_req_on_gone(req, NULL, NULL);
    qg_buf b = QG_BUF_INIT;
    mode__job_accepted_doc(&b, j, j->check_ns);
    gw_reply_json(req, 200, &b);
    qg_buf_free(&b);
}

static void
wait_expired(evutil_socket_t fd, short what, void *arg)
{
    mode_job *j = arg;
    if (!j->req || !j->q.wait_cancel) {
        wait_give_handle(j);
        return;
    }
    /* on_wait_timeout=cancel: the request gets the job's outcome, a
     * timeout, once it has stopped */
    stop_wait(j);
    mode__job_cancel(j, QG_E_TIMEOUT);
}

void
mode__job_hold(mode_job *j, uint64_t wait_ns)
{
    j->wait_ev = evtimer_new(j->env->base, wait_expired, j);
    struct timeval tv = {(time_t)(wait_ns / 1000000000u),
                         (suseconds_t)(wait_ns % 1000000000u / 1000)};
    evtimer_add(j->wait_ev, &tv);
}

mode_job *
mode__job_new(mode_env *env, qg_query *q, const char *rid, const char *base, uint64_t recv_ns)
{
    mode_job *j = qg_calloc(1, sizeof(*j));
    exec_task_init(&j->t, &job_ops);
    j->env = env;
    j->q = *q;
    qg_query_init(q); /* moved */
    snprintf(j->rid, sizeof(j->rid), "%s", rid);
    /* a recovered job's handles point where its request's did */
    if (!base)
        base = j->q.handle_base;
    j->base = base ? qg_strdup(base) : NULL;
    j->recv_ns = recv_ns;
    j->loop_ref = true;
    atomic_init(&j->claim, MODE_JOB_WAITING);
    atomic_init(&j->end, 0);
    atomic_init(&j->rows_now, 0);
    j->cur_stmt = SIZE_MAX;
    store_job_init(&j->rec);
    store_job_from_query(&j->rec, &j->q, rid, env->set.result_ttl_ns);
    j->rec.created_ns = qg_wall_ns();
    return j;
}

void
mode__job_submit(mode_job *j)
{
    mode_jobs *js = j->env->jobs;
    memcpy(j->entry.uuid, j->rid, sizeof(j->entry.uuid));
    j->entry.client_context_id = j->q.client_context_id;
    j->entry.statement = j->q.statement;
    j->entry.start_wall_ns = qg_wall_ns();
    j->entry.start_ns = qg_now_ns();
    j->entry.job_id = j->rec.id;
    j->entry.principal = j->rec.principal[0] ? j->rec.principal : NULL;
    j->entry.task = &j->t;
    j->entry.cancel = job_cancel;
    j->id = j->rec.id;
    mode_registry_add(j->env->running, &j->entry);
    j->prev = NULL;
    j->next = js->head;
    if (js->head)
        js->head->prev = j;
    js->head = j;
    j->listed = true;
    exec_pool_submit(j->env->pool, &j->t);
}

void
mode__job_drop(mode_job *j)
{
    unlist(j);
    drop_loop_ref(j);
}

/* --- the jobs ------------------------------------------------------------------- */

mode_jobs *
mode_jobs_new(mode_env *env)
{
    mode_jobs *js = qg_calloc(1, sizeof(*js));
    js->env = env;
    atomic_init(&js->queued, 0);
    atomic_init(&js->running, 0);
    atomic_init(&js->peak, 0);
    return js;
}

bool
mode__jobs_reserve(mode_jobs *js, size_t limit)
{
    size_t n = atomic_load(&js->queued);
    do {
        if (limit && n >= limit)
            return false;
    } while (!atomic_compare_exchange_weak(&js->queued, &n, n + 1));
    size_t p = atomic_load(&js->peak);
    while (n + 1 > p && !atomic_compare_exchange_weak(&js->peak, &p, n + 1))
        ;
    return true;
}

void
mode__jobs_unreserve(mode_jobs *js)
{
    atomic_fetch_sub(&js->queued, 1);
}

bool
mode__jobs_parked(const mode_jobs *js)
{
    return js->parked;
}

size_t
mode_jobs_queued(mode_jobs *js)
{
    return atomic_load(&js->queued);
}

size_t
mode_jobs_running(mode_jobs *js)
{
    return atomic_load(&js->running);
}

typedef struct recovered {
    mode_job **jobs;
    size_t n, cap;
    mode_env *env;
} recovered;

static void
recover_one(store_job *jj, qg_query *q, void *arg)
{
    recovered *rc = arg;
    mode_job *j = mode__job_new(rc->env, q, jj->request_id, NULL, qg_now_ns());
    store_job_free(&j->rec);
    j->rec = *jj; /* moved: the record as stored, with its id */
    jj->sets = NULL;
    jj->nsets = 0;
    if (rc->n == rc->cap)
        rc->jobs = qg_realloc(rc->jobs, sizeof(*rc->jobs) * (rc->cap = rc->cap ? rc->cap * 2 : 16));
    rc->jobs[rc->n++] = j;
}

int
mode_jobs_recover(mode_jobs *js, qg_error *err)
{
    recovered rc = {.env = js->env};
    store_recovery st;
    if (store_jobs_recover(js->env->store, qg_wall_ns(), recover_one, &rc, &st, err) != 0) {
        for (size_t i = 0; i < rc.n; i++)
            mode__job_drop(rc.jobs[i]);
        free(rc.jobs);
        return -1;
    }
    for (size_t i = 0; i < rc.n; i++) {
        atomic_fetch_add(&js->queued, 1);
        mode__job_submit(rc.jobs[i]);
    }
    free(rc.jobs);
    if (st.queued || st.failed)
        qg_info("recovery: %llu job(s) queued again (%llu of them were running and are "
                "rerun: read-only), %llu failed (running, may have written: outcome unknown)",
                (unsigned long long)st.queued, (unsigned long long)st.rerun,
                (unsigned long long)st.failed);
    return 0;
}

void
mode_jobs_park(mode_jobs *js)
{
    js->parked = true;
    size_t n = 0;
    for (mode_job *j = js->head, *next; j; j = next) {
        next = j->next;
        int expect = MODE_JOB_WAITING;
        if (!j->answers && atomic_compare_exchange_strong(&j->claim, &expect, MODE_JOB_PARKED)) {
            mode__jobs_unreserve(js);
            wait_give_handle(j); /* it runs after the restart */
            unlist(j);
            drop_loop_ref(j);
            n++;
        }
    }
    if (n)
        qg_info("drain: %zu queued job(s) stay queued in the store for the next start", n);
}

void
mode_jobs_cancel_running(mode_jobs *js, qg_code reason)
{
    /* through the end claim, so that a later cancel (the stop's) does not
     * turn this reason into another */
    for (mode_job *j = js->head, *next; j; j = next) {
        next = j->next;
        if (atomic_load(&j->claim) == MODE_JOB_STARTED)
            mode__job_cancel(j, reason);
    }
}

bool
mode_jobs_progress(mode_jobs *js, uint64_t id, mode_progress *p)
{
    memset(p, 0, sizeof(*p));
    for (mode_job *j = js->head; j; j = j->next) {
        if (j->entry.job_id != id || !j->listed)
            continue;
        p->started = atomic_load(&j->claim) == MODE_JOB_STARTED;
        p->rows = atomic_load(&j->rows_now);
        pthread_mutex_lock(&j->t.mu);
        p->statement = j->cur_stmt;
        if (p->started && j->nstmts) {
            p->stmts = stmts_copy(j->stmts, j->nstmts);
            p->nstmts = j->nstmts;
        }
        pthread_mutex_unlock(&j->t.mu);
        return true;
    }
    return false;
}

void
mode_progress_free(mode_progress *p)
{
    store_stmts_free(p->stmts, p->nstmts);
    memset(p, 0, sizeof(*p));
}

void
mode_jobs_free(mode_jobs *js)
{
    if (!js)
        return;
    /* Only jobs whose worker never reported back can be left here. */
    while (js->head)
        mode__job_drop(js->head);
    free(js);
}
