/*
 * job_run: a stored job on a worker.
 *
 * DESIGN. A job goes through these steps, each write a store_op the worker
 * waits for (its own store_flow):
 *   1. claim it (WAITING -> STARTED); a job the loop took back is skipped;
 *   2. compile every statement without running any (exec_check): a job
 *      that cannot run fails here without ever being marked running;
 *   3. commit the running state, with `rerunnable` set when the job cannot
 *      write: it asked for readonly, or every statement compiled read-only,
 *      and it then runs with read-only enforcement (ctx.readonly), so the
 *      flag is a guarantee, not a guess. A deferred job is created here,
 *      directly as running. Nothing runs before this commit, which is what
 *      lets recovery rerun rerunnable jobs and fail the others;
 *   4. run it: rows go to result pages (job_sink.c), one stored set per
 *      query statement; the statements' progress is kept (job_stmts.c);
 *   5. wait for every page to commit, then claim the end (mode_job.end: a
 *      cancel that claimed it first makes the job end cancelled), decide
 *      the end (job_end.c: mode__job_end, a pure function) and commit it
 *      with the outcome of each statement in one transaction; the set of a
 *      page the store refused (perhaps seen only now) and every later set
 *      are dropped, with their statements in error; an end state that does
 *      not fit is stored leaner (store_end), so it ends;
 *   6. the answer of a request that waits (deferred; async with wait=),
 *      rendered here by the job's answer function, handed to the loop.
 * Timeouts: a deferred job's deadline counts from the request's arrival
 * (the client waits for it), an async (or recovered) job's from when a
 * worker first starts it (queue time is not its fault).
 * Database away: an async job that fails with QG_E_BACKEND before it was
 * marked running (nothing of it reached the server) goes back to the queue
 * and is submitted again after a growing pause (job_requeue), until its
 * timeout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "exec/run.h"
#include "modes/internal.h"

/* A write of the job's record that the worker waits for. */
typedef struct job_commit {
    store_op_kind kind; /* STORE_OP_CREATE (deferred) or STORE_OP_UPDATE */
    const store_job *r; /* the record */
    bool drop_pages;    /* UPDATE: drop the pages of the sets >= r->nsets */
    store_stmt *stmts;  /* the statements to write (the op takes them), or NULL */
    size_t nstmts;
    bool set_stmts;   /* UPDATE: they replace the stored ones */
    store_job *first; /* CREATE: the first job of a retry goes here */
    bool *retry;      /* CREATE: set when the key named a stored job */
} job_commit;

/* Submits c's op and waits for its commit. A CREATE of a request with an
 * idempotency key that names a job already (a retry) creates nothing:
 * *c->retry is set and *c->first gets that job. Returns 0, or -1 with
 * err. */
static int
commit(mode_job *j, const job_commit *c, qg_error *err)
{
    store_op *op = store_op_new(c->kind);
    store_job_copy(&op->job, c->r);
    op->q = &j->q;
    op->drop_pages = c->drop_pages;
    op->stmts = c->stmts;
    op->nstmts = c->nstmts;
    op->set_stmts = c->set_stmts;
    if (c->kind == STORE_OP_CREATE && j->q.idempotency_key)
        mode__idem_op(j->env, &j->q, c->r->principal, op);
    int rc = store_writer_run(j->env->writer, j->flow, op, err);
    if (rc == 0 && op->existing) {
        *c->retry = true;
        store_job_free(c->first);
        store_job_copy(c->first, &op->job);
        store_op_free(op);
        return 0;
    }
    if (rc == 0 && c->kind == STORE_OP_CREATE) {
        j->rec.id = op->job.id;
        pthread_mutex_lock(&j->t.mu);
        j->id = op->job.id;
        pthread_mutex_unlock(&j->t.mu);
        exec_task_notify(&j->t);
    }
    store_op_free(op);
    return rc;
}

/* Commits the end state r (with the statements when set_stmts), dropping
 * the pages of any set cut short (sets >= r->nsets). The store keeps room
 * for every accepted job's end state, but a job's statements may carry
 * more columns than was kept for: when it is full, the statements go
 * without their columns, and last the job fails without its sets (which
 * frees their pages), so an accepted job always ends. On that failure,
 * *rc and *err become the store's error. Returns whether it was stored. */
static bool
store_end(mode_job *j, store_job *r, bool set_stmts, int *rc, qg_error *err)
{
    qg_error cerr;
    for (int attempt = 0; attempt < 3; attempt++) {
        job_commit c = {
            .kind = STORE_OP_UPDATE, .r = r, .drop_pages = true, .set_stmts = set_stmts};
        if (set_stmts) {
            pthread_mutex_lock(&j->t.mu);
            c.stmts = attempt == 0 ? mode__stmts_copy(j->stmts, j->nstmts)
                                   : mode__stmts_lean(j->stmts, j->nstmts);
            c.nstmts = j->nstmts;
            pthread_mutex_unlock(&j->t.mu);
        }
        if (attempt == 2) {
            /* the last resort: failed, no sets */
            if (r->state == STORE_QUEUED) {
                store_stmts_free(c.stmts, c.nstmts);
                break;
            }
            r->state = STORE_FAILED;
            r->error = cerr;
            store_job_set_sets(r, NULL, 0);
            r->metrics.error_count = 1;
        }
        if (commit(j, &c, &cerr) == 0) {
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

/* What one run of a job's steps 1-4 leaves for the end. */
typedef struct job_attempt {
    store_job r; /* the record as it goes */
    exec_ctx ctx;
    qg_error err; /* how the run failed */
    bool pages;   /* a result page was refused: pages_err says why */
    qg_error pages_err;
    bool ran;   /* its running state is committed */
    bool retry; /* a deferred retry: first is the job of the first try */
    store_job first;
    size_t err_at; /* the statement a compile error is in, or SIZE_MAX */
} job_attempt;

/* Steps 2-3: not cancelled meanwhile, it compiles, its running state is
 * committed (once; a deferred job is created). Returns 0 or -1 with
 * a->err. */
static int
attempt_start(mode_job *j, exec_worker *wk, bool async, job_attempt *a)
{
    int rc = 0;
    qg_code why = exec_task_check(&j->t);
    if (why)
        rc = qg_error_set(&a->err, why, "-");
    exec_check_result chk;
    if (rc == 0) {
        rc = exec_check(wk, &j->q, &a->ctx, &chk, &a->err);
        if (rc != 0)
            a->err_at = chk.failed_at;
    }
    if (rc != 0 || a->ran)
        return rc;
    /* the running state, before anything may write */
    a->r.rerunnable = j->q.readonly || chk.all_readonly;
    a->r.state = STORE_RUNNING;
    a->r.started_ns = qg_wall_ns();
    /* a deferred job is created here, with its statements queued, and its
     * idempotency key in the same transaction */
    job_commit c = {.kind = STORE_OP_UPDATE, .r = &a->r, .retry = &a->retry};
    if (!async) {
        c.kind = STORE_OP_CREATE;
        c.stmts = mode__stmts_copy(j->stmts, j->nstmts);
        c.nstmts = j->nstmts;
        c.first = &a->first;
    }
    rc = commit(j, &c, &a->err);
    if (rc == 0 && !a->retry) {
        a->r.id = j->rec.id;
        a->ran = true;
    }
    return rc;
}

/* Steps 2-4. Returns 0 or -1 with a->err; a->pages when a result page was
 * refused (its set and the later ones are cut). */
static int
attempt_run(mode_job *j, exec_worker *wk, bool async, job_attempt *a)
{
    int rc = attempt_start(j, wk, async, a);
    if (rc != 0 || a->retry)
        return rc;
    a->ctx.readonly = a->r.rerunnable;
    a->ctx.stmt_begin = mode__stmt_begin;
    a->ctx.stmt_end = mode__stmt_end;
    a->ctx.hook_arg = j;
    mode__sink_init(j);
    rc = exec_run(wk, &j->q, &a->ctx, &j->w, &a->err);
    if (store_flow_drain(j->flow, &a->pages_err) != 0) {
        /* a page was refused, perhaps only seen now that every statement
         * has ended: its set and the later ones are cut */
        mode__sets_cut(j, store_flow_failed_set(j->flow), &a->pages_err);
        a->pages = true;
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
 * when it must end now, with err saying why. */
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
    mode__jobs_requeue(j->env->jobs, j);
    atomic_store(&j->claim, MODE__WAITING);
    pthread_mutex_lock(&t->mu);
    j->requeue_ns = at;
    pthread_mutex_unlock(&t->mu);
    return true;
}

/* Whether the run a left goes back to the queue (then it is done here). A
 * job whose time ran out while it waited for the database ends, saying
 * so. */
static bool
requeued(mode_job *j, int rc, bool async, job_attempt *a)
{
    if (rc != 0 && a->err.code == QG_E_TIMEOUT && j->db_err) {
        a->err = *j->db_err;
        job_requeue(j, &a->err); /* its time is up: it only says so */
        return false;
    }
    mode__end_in in = {
        .async = async, .ran = a->ran, .retry = a->retry, .run = rc ? a->err.code : QG_OK};
    return mode__job_requeue_due(&in) && job_requeue(j, &a->err);
}

/* The job's error as decided (out), with its message. */
static void
end_error(const mode_job *j, const job_attempt *a, const mode__end_out *out, qg_error *err)
{
    switch (out->from) {
    case MODE__ERR_NONE:
        qg_error_clear(err);
        break;
    case MODE__ERR_RUN:
        *err = a->err;
        break;
    case MODE__ERR_PAGES:
        *err = a->pages_err;
        break;
    case MODE__ERR_NEW:
        if (out->code == QG_E_CANCELLED)
            qg_error_set(err, QG_E_CANCELLED, j->rid);
        else if (out->code == QG_E_OUTCOME_UNKNOWN)
            qg_error_set(err, QG_E_OUTCOME_UNKNOWN);
        else
            qg_error_set(err, out->code, "-");
        break;
    }
}

/* The end record r of a run decided as out: state, error, metrics, sets,
 * times. */
static void
end_record(mode_job *j, const job_attempt *a, const mode__end_out *out, const qg_error *err,
           bool async, store_job *r)
{
    exec_task *t = &j->t;
    bool ok = out->code == QG_OK;
    /* a failed job counts only the rows of the sets it keeps */
    uint64_t kept_rows = 0, kept_bytes = 0;
    for (uint32_t i = 0; i < j->nsets; i++) {
        kept_rows += j->sets[i].rows;
        kept_bytes += j->sets[i].bytes;
    }
    uint64_t now = qg_now_ns(), wall = qg_wall_ns();
    r->metrics = (qg_metrics){
        .elapsed_ns = async ? (wall > r->created_ns ? wall - r->created_ns : 0) : now - j->recv_ns,
        .execution_ns = now - t->start_ns,
        .compile_ns = a->ctx.compile_ns,
        .queue_wait_ns = async ? (r->started_ns > r->created_ns ? r->started_ns - r->created_ns : 0)
                               : t->start_ns - t->submit_ns,
        .result_count = a->ran ? (ok ? j->w.total_rows : kept_rows) : 0,
        .result_size = a->ran ? (ok ? j->w.total_bytes : kept_bytes) : 0,
        .processed_objects = a->ctx.processed,
        .error_count = !ok,
    };
    r->queries = j->nsets > 0;
    r->state = out->state;
    if (out->state == STORE_FAILED || out->state == STORE_TIMEOUT)
        r->error = *err;
    if (out->state == STORE_QUEUED && out->store)
        r->started_ns = 0; /* queued again, as stored */
    if (out->empty_set) {
        /* no query statement: an empty set 0, so N-0 always answers */
        store_set empty = {0, 0, 0, j->q.max_result_reads};
        store_job_set_sets(r, &empty, 1);
    } else {
        store_job_set_sets(r, out->sets ? j->sets : NULL, out->sets ? j->nsets : 0);
    }
    if (r->state != STORE_QUEUED) {
        r->finished_ns = wall;
        r->expires_ns = wall + r->ttl_ns;
    }
}

/* The answer of a request that may wait for the end (into reply). */
static void
end_answer(mode_job *j, const job_attempt *a, const mode__end_out *out, int rc, const qg_error *err,
           bool async, qg_buf *reply, int *http)
{
    *http = 200;
    if (out->answer == MODE__ANSWER_NONE || !j->answer)
        return;
    mode_answer ans;
    if (out->answer == MODE__ANSWER_REPLAY) {
        mode__answer_of(j, MODE_ANSWER_REPLAY, &ans);
        ans.request_id = a->first.request_id;
        ans.job = a->first.id;
        ans.record = &a->first;
    } else if (out->answer == MODE__ANSWER_ACCEPTED) {
        /* put back: it runs after a restart */
        mode__answer_of(j, MODE_ANSWER_ACCEPTED, &ans);
        ans.metrics.elapsed_ns = qg_now_ns() - j->recv_ns;
        ans.metrics.compile_ns = j->check_ns;
    } else if (rc == 0) {
        mode__answer_of(j, MODE_ANSWER_DONE, &ans);
        ans.job = a->r.id;
        ans.record = &a->r;
        ans.metrics = a->r.metrics;
    } else {
        mode__answer_of(j, MODE_ANSWER_FAILED, &ans);
        ans.job = a->ran || async ? a->r.id : 0; /* its status, when it was stored */
        ans.err = err;
        ans.metrics = a->r.metrics;
    }
    j->answer(&ans, reply, http);
}

/* Step 5 and 6: the end of a run that did not go back to the queue.
 * Returns whether the end state was stored; the answer (if any) into
 * reply. */
static bool
job_end(mode_job *j, int rc, bool async, job_attempt *a, qg_buf *reply, int *http)
{
    /* From here the worker decides the end, unless a cancel did first:
     * then it ends cancelled even if it ran to its end (a 200 to the
     * DELETE means cancelled). */
    qg_code cancel = QG_OK;
    int open = 0;
    if (!a->retry && !atomic_compare_exchange_strong(&j->end, &open, -1))
        cancel = (qg_code)open;
    mode__end_in in = {
        .async = async,
        .wait = j->q.wait_ns != 0,
        .ran = a->ran,
        .retry = a->retry,
        .rerunnable = a->r.rerunnable,
        .run = rc != 0 ? a->err.code : QG_OK,
        .pages = a->pages ? a->pages_err.code : QG_OK,
        .cancel = cancel,
        .nsets = j->nsets,
    };
    mode__end_out out;
    mode__job_end(&in, &out);
    qg_error err;
    end_error(j, a, &out, &err);
    rc = out.code == QG_OK ? 0 : -1;
    end_record(j, a, &out, &err, async, &a->r);
    if (out.stmts)
        mode__stmts_final(j, rc, &err, a->err_at);
    bool stored = false;
    if (out.store && store_end(j, &a->r, out.stmts, &rc, &err))
        stored = a->r.state != STORE_QUEUED;
    end_answer(j, a, &out, rc, &err, async, reply, http);
    return stored;
}

void
mode__job_run(exec_task *t, exec_worker *wk)
{
    mode_job *j = (mode_job *)t;
    mode_jobs *js = j->env->jobs;
    bool async = !j->answers; /* runs from a queued record */
    mode__jobs_count(js, 0, 1);
    int expect = MODE__WAITING;
    if (!atomic_compare_exchange_strong(&j->claim, &expect, MODE__STARTED)) {
        mode__jobs_count(js, 0, -1);
        return; /* the loop took it back */
    }
    if (async) {
        mode__jobs_unreserve(js, j);
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
    mode__stmts_reset(j);
    int rc = attempt_run(j, wk, async, &a);
    bool finished = !requeued(j, rc, async, &a);
    qg_buf reply = QG_BUF_INIT;
    int http = 200;
    bool stored = finished && job_end(j, rc, async, &a, &reply, &http);
    store_job_free(&a.first);
    store_job_free(&a.r);
    j->flow = NULL;
    store_flow_destroy(&flow);
    mode__jobs_count(js, 0, -1);
    if (finished) {
        pthread_mutex_lock(&t->mu);
        j->finished = true;
        j->stored_end = stored;
        j->http = http;
        j->reply = reply;
        j->replayed = a.retry;
        pthread_mutex_unlock(&t->mu);
    }
    exec_task_notify(t);
}
