/*
 * async: accept the statement, store it as a queued job, answer at once
 * with a status handle; a worker runs it later (modes/job.c).
 *
 * DESIGN. AsterixDB compiles an async statement before it accepts it, so a
 * syntax error is a 400 with no handle. The loop never runs queries, so the
 * check is a task on the checker pool (env->checker: its own thread and
 * database connection, so a pool busy with long jobs cannot hold up
 * submissions): exec_check compiles and binds every statement and runs none.
 * Then the job record is committed (state queued) through the store writer,
 * which groups the submissions that arrive together into one fsync, and only
 * after that commit does the client get
 *   {"requestID", ["clientContextID"], "handle": "<base>/query/service/status/N-0",
 *    "plans": {}, "status": "running", "metrics": {...}}
 * and the job go to the pool. A submission that cannot be stored gets an
 * error and no handle. --max-queued bounds the jobs accepted and not yet
 * started (including those being checked or committed): beyond it, 503 with
 * Retry-After, before anything is done. The timeout of an async job counts
 * from when a worker starts it.
 *
 * wait=D holds the request after the commit until the job ends (then it is
 * answered as deferred mode would answer: the result handle, or the
 * failure, with the statusHandle) or D passes (then the answer above, or
 * with on_wait_timeout=cancel the job is stopped as timed out and the
 * request gets that). A submission with an Idempotency-Key that names a
 * stored job with the same fingerprint is answered from that job and runs
 * nothing; the key is written with the job's record (store/idem.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/envelope.h"
#include "core/json.h"
#include "core/mem.h"
#include "exec/run.h"
#include "gateway/allow.h"
#include "gateway/base.h"
#include "gateway/handle.h"
#include "gateway/reply.h"
#include "gateway/url.h"
#include "modes/job.h"
#include "modes/mode.h"

/* The compile-only check of a submission, on the checker pool. */
typedef struct check {
    exec_task t;   /* first */
    mode_job *job; /* the loop's until the check reports */
    int rc;
    qg_error err;
    uint64_t compile_ns;
    store_stmt *plan; /* the statements, stored queued with the job */
    size_t nplan;
} check;

static void
check_run(exec_task *t, exec_worker *wk)
{
    check *c = (check *)t;
    exec_ctx ctx = {.task = t, .readonly = c->job->q.readonly};
    exec_check_result res;
    qg_error_clear(&c->err);
    c->rc = exec_check(wk, &c->job->q, &ctx, &res, &c->err);
    c->compile_ns = ctx.compile_ns;
    if (c->rc == 0)
        c->plan = mode__job_plan(wk->be, &c->job->q, &c->nplan);
    exec_task_notify(t);
}

static void
check_destroy(exec_task *t)
{
    check *c = (check *)t;
    store_stmts_free(c->plan, c->nplan);
    free(c);
}

static qg_metrics
metrics_now(const mode_job *j, uint64_t compile_ns)
{
    qg_metrics m = {0};
    m.elapsed_ns = qg_now_ns() - j->recv_ns;
    m.compile_ns = compile_ns;
    return m;
}

/* Answers a refused submission and forgets the job. */
static void
refuse(mode_job *j, const qg_error *err, uint64_t compile_ns)
{
    gw_req *req = j->req;
    mode__jobs_unreserve(j->env->jobs);
    if (req) {
        j->req = NULL;
        gw_req_on_gone(req, NULL, NULL);
        qg_buf b = QG_BUF_INIT;
        qg_metrics m = metrics_now(j, compile_ns);
        mode__job_error_doc(&b, j, err, &m, 0);
        mode__job_reply(req, qg_err_http(err->code), &b);
        qg_buf_free(&b);
    }
    mode__job_drop(j);
}

static void
accepted(mode_job *j, uint64_t compile_ns)
{
    gw_req *req = j->req;
    if (!req)
        return;
    qg_buf b = QG_BUF_INIT;
    mode__job_accepted_doc(&b, j, compile_ns);
    j->req = NULL;
    gw_req_on_gone(req, NULL, NULL);
    gw_reply_json(req, 200, &b);
    qg_buf_free(&b);
}

/* Loop: the record is committed (or not). */
static void
created(store_op *op)
{
    mode_job *j = op->arg;
    uint64_t compile_ns = j->check_ns;
    if (op->status != 0) {
        refuse(j, &op->err, compile_ns);
        store_op_free(op);
        return;
    }
    if (op->existing) {
        /* a retry raced its first try: the first job answers, nothing runs */
        mode__jobs_unreserve(j->env->jobs);
        if (j->req) {
            gw_req *req = j->req;
            j->req = NULL;
            gw_req_on_gone(req, NULL, NULL);
            mode__job_replay(req, &op->job, &j->q, j->base);
        }
        store_op_free(op);
        mode__job_drop(j);
        return;
    }
    j->rec.id = op->job.id;
    store_op_free(op);
    bool parked = mode__jobs_parked(j->env->jobs);
    /* wait=: the request stays for the job's end, up to the wait */
    if (!j->req || !j->q.wait_ns || parked)
        accepted(j, compile_ns);
    if (parked) {
        /* draining: it stays queued in the store and runs after the restart */
        mode__jobs_unreserve(j->env->jobs);
        mode__job_drop(j);
        return;
    }
    mode__job_submit(j);
    if (j->req)
        mode__job_hold(j, j->q.wait_ns);
}

/* Loop: the check is done. */
static void
check_notify(exec_task *t)
{
    check *c = (check *)t;
    mode_job *j = c->job;
    c->job = NULL;
    if (!j)
        return;
    if (!j->req) {
        /* the client left before anything was accepted */
        mode__jobs_unreserve(j->env->jobs);
        mode__job_drop(j);
    } else if (c->rc != 0) {
        refuse(j, &c->err, c->compile_ns);
    } else {
        store_op *op = store_op_new(STORE_OP_CREATE);
        store_job_copy(&op->job, &j->rec);
        op->job.state = STORE_QUEUED;
        op->q = &j->q;
        if (j->q.idempotency_key)
            mode__job_idem(j->env, &j->q, j->rec.principal, op);
        op->stmts = c->plan;
        op->nstmts = c->nplan;
        c->plan = NULL;
        c->nplan = 0;
        j->check_ns = c->compile_ns;
        op->done = created;
        op->arg = j;
        store_writer_submit(j->env->writer, op);
    }
    exec_task_unref(t); /* the loop's */
}

static const exec_task_ops check_ops = {
    .run = check_run,
    .notify = check_notify,
    .destroy = check_destroy,
};

static void
on_gone(gw_req *req)
{
    mode_job *j = gw_req_data(req);
    j->req = NULL;
}

/* Whether a callback to url may not be made (err says why): callbacks
 * off, https, or a host --callback-allow does not list. */
static bool
callback_refused(mode_env *env, const char *url, qg_error *err)
{
    gw_url u;
    char why[400];
    if (!env->callback_allow || env->callback_allow->n == 0) {
        qg_error_set(err, QG_E_CALLBACK_REFUSED, "callbacks are off (--callback-allow is empty)");
        return true;
    }
    if (gw_url_parse(url, strlen(url), &u) != 0) {
        qg_error_set(err, QG_E_PARAM, "callback_url", "?");
        return true;
    }
    if (u.https) {
        qg_error_set(err, QG_E_CALLBACK_REFUSED, "only http:// callback URLs are supported");
        return true;
    }
    if (!gw_allow_match(env->callback_allow, u.host, u.port)) {
        snprintf(why, sizeof(why), "%s%s%s port %d is not allowed by --callback-allow",
                 u.ipv6 ? "[" : "", u.host, u.ipv6 ? "]" : "", u.port);
        qg_error_set(err, QG_E_CALLBACK_REFUSED, why);
        return true;
    }
    return false;
}

void
mode_async_start(mode_env *env, gw_req *req, qg_query *q, const char *request_id)
{
    qg_buf base = QG_BUF_INIT;
    qg_error err;
    if (gw_base_url(req, env->handles, &base, &err) != 0) {
        qg_buf_free(&base);
        qg_query_free(q);
        gw_reply_error(req, &err, request_id);
        return;
    }
    if (q->callback_url && callback_refused(env, q->callback_url, &err)) {
        qg_buf_free(&base);
        qg_query_free(q);
        gw_reply_error(req, &err, request_id);
        return;
    }
    /* a retry of a submission that was stored: its job answers */
    if (mode__job_idem_check(env, req, q, base.data) != 0) {
        qg_buf_free(&base);
        qg_query_free(q);
        return;
    }
    size_t limit = env->set.max_queued;
    if (!mode__jobs_reserve(env->jobs, limit)) {
        char lim[24];
        snprintf(lim, sizeof(lim), "%zu", limit);
        qg_error_set(&err, QG_E_OVERLOADED, lim);
        qg_buf_free(&base);
        qg_query_free(q);
        gw_reply_error(req, &err, request_id);
        return;
    }
    q->handle_base = qg_arena_memdup0(&q->arena, base.data, base.len);
    mode_job *j = mode__job_new(env, q, request_id, base.data, req->start_ns);
    qg_buf_free(&base);
    snprintf(j->rec.principal, sizeof(j->rec.principal), "%s",
             req->principal ? req->principal : "");
    j->req = req;
    gw_req_on_gone(req, on_gone, j);

    check *c = qg_calloc(1, sizeof(*c));
    exec_task_init(&c->t, &check_ops);
    c->job = j;
    exec_pool_submit(env->checker, &c->t);
}
