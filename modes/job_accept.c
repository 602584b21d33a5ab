/*
 * job_accept: a job accepted now and run later (async; see job.h).
 *
 * DESIGN. A statement that cannot compile must be refused with no job
 * stored, as AsterixDB does. The loop never runs queries, so the check is
 * a task on the checker pool (env->checker: its own thread and database
 * connection, so a pool busy with long jobs cannot hold up submissions):
 * exec_check compiles and binds every statement and runs none. Then the
 * job record is committed (state queued, its statements planned, its
 * idempotency key) through the store writer, which groups the submissions
 * that arrive together into one fsync, and only after that commit is the
 * request answered (ACCEPTED) and the job handed to the pool. A submission
 * that cannot be stored gets the error and no handle. --max-queued bounds
 * the jobs accepted and not yet started (including those being checked or
 * committed): beyond it, 503 before anything is done.
 *
 * wait=D holds the request after the commit until the job ends (its worker
 * renders the outcome; job_notify sends it) or D passes (then ACCEPTED, or
 * with on_wait_timeout=cancel the job is stopped as timed out and the
 * request gets that outcome once it is stored). A drain answers waiting
 * requests with ACCEPTED.
 */
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "core/clock.h"
#include "core/mem.h"
#include "exec/run.h"
#include "gateway/reply.h"
#include "modes/internal.h"

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
        c->plan = mode__stmts_plan(wk->be, &c->job->q, &c->nplan);
    exec_task_notify(t);
}

static void
check_destroy(exec_task *t)
{
    check *c = (check *)t;
    store_stmts_free(c->plan, c->nplan);
    free(c);
}

/* Answers a refused submission (FAILED, nothing stored) and forgets the
 * job. */
static void
refuse(mode_job *j, const qg_error *err, uint64_t compile_ns)
{
    mode__jobs_unreserve(j->env->jobs, j);
    gw_req *req = mode__job_take_req(j);
    if (req) {
        mode_answer a;
        mode__answer_of(j, MODE_ANSWER_FAILED, &a);
        a.job = 0;
        a.err = err;
        a.metrics.elapsed_ns = qg_now_ns() - j->recv_ns;
        a.metrics.compile_ns = compile_ns;
        mode__job_answer(j, req, &a);
    }
    mode__job_drop(j);
}

static void
wait_expired(evutil_socket_t fd, short what, void *arg)
{
    mode_job *j = arg;
    if (!j->req || !j->q.wait_cancel) {
        mode__job_give_handle(j);
        return;
    }
    /* on_wait_timeout=cancel: the request gets the job's outcome, a
     * timeout, once it has stopped */
    mode__job_stop_timers(j);
    mode__job_cancel(j, QG_E_TIMEOUT);
}

/* Keeps the request until the job ends or wait_ns pass. */
static void
hold(mode_job *j, uint64_t wait_ns)
{
    j->wait_ev = evtimer_new(j->env->base, wait_expired, j);
    struct timeval tv = {(time_t)(wait_ns / 1000000000u),
                         (suseconds_t)(wait_ns % 1000000000u / 1000)};
    evtimer_add(j->wait_ev, &tv);
}

/* The record is committed (or not). */
static void
created(store_op *op)
{
    mode_job *j = op->arg;
    if (op->status != 0) {
        refuse(j, &op->err, j->check_ns);
        store_op_free(op);
        return;
    }
    if (op->existing) {
        /* a retry raced its first try: the first job answers, nothing runs */
        mode__jobs_unreserve(j->env->jobs, j);
        gw_req *req = mode__job_take_req(j);
        if (req) {
            mode_answer a;
            mode__answer_of(j, MODE_ANSWER_REPLAY, &a);
            a.request_id = op->job.request_id;
            a.job = op->job.id;
            a.record = &op->job;
            mode__job_answer(j, req, &a);
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
        mode__job_give_handle(j);
    if (parked) {
        /* draining: it stays queued in the store and runs after the restart */
        mode__jobs_unreserve(j->env->jobs, j);
        mode__job_drop(j);
        return;
    }
    mode__job_submit(j);
    if (j->req)
        hold(j, j->q.wait_ns);
}

/* The check is done. */
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
        mode__jobs_unreserve(j->env->jobs, j);
        mode__job_drop(j);
    } else if (c->rc != 0) {
        refuse(j, &c->err, c->compile_ns);
    } else {
        store_op *op = store_op_new(STORE_OP_CREATE);
        store_job_copy(&op->job, &j->rec);
        op->job.state = STORE_QUEUED;
        op->q = &j->q;
        if (j->q.idempotency_key)
            mode__idem_op(j->env, &j->q, j->rec.principal, op);
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

/* The refusal of a submission over a queue limit, counted in /metrics. */
static void
over_limit(const mode_job *j, mode__reserve r, size_t limit, qg_error *err)
{
    char msg[400];
    if (r == MODE__RESERVE_SERVER_FULL) {
        snprintf(msg, sizeof(msg), "%zu", limit);
        qg_error_set(err, QG_E_OVERLOADED, msg);
        exec_pool_reject(j->env->pool, j->pol.principal, EXEC_REJECT_SERVER_QUEUED);
        return;
    }
    snprintf(msg, sizeof(msg),
             "%s%s%s has %zu async jobs waiting to start, its limit (max-queued: %s); retry "
             "once some have started, or ask the operator to raise max-queued= for it in the "
             "auth file",
             j->pol.principal[0] ? "principal '" : "anonymous clients", j->pol.principal,
             j->pol.principal[0] ? "'" : "", j->pol.max_queued,
             j->env->auth && j->pol.principal[0] ? "auth file or --principal-max-queued"
                                                 : "--principal-max-queued");
    qg_error_set(err, QG_E_PRINCIPAL_OVERLOADED, msg);
    exec_pool_reject(j->env->pool, j->pol.principal, EXEC_REJECT_PRINCIPAL_QUEUED);
}

void
mode_job_accept(mode_job *j)
{
    mode_env *env = j->env;
    size_t limit = env->set.max_queued;
    mode__reserve r = mode__jobs_reserve(env->jobs, j, limit);
    if (r != MODE__RESERVE_OK) {
        qg_error err;
        over_limit(j, r, limit, &err);
        gw_req *req = mode__job_take_req(j);
        if (req)
            gw_reply_error(req, &err, NULL);
        mode__job_drop(j);
        return;
    }
    check *c = qg_calloc(1, sizeof(*c));
    exec_task_init(&c->t, &check_ops);
    c->job = j;
    /* the check is in the job's lane: one that waits for a person first */
    exec_sched_in in =
        mode_policy_sched(&j->pol, j->lane_want == MODE_LANE_BATCH ||
                                           (j->lane_want == MODE_LANE_AUTO && !j->q.wait_ns)
                                       ? EXEC_LANE_BATCH
                                       : EXEC_LANE_INTERACTIVE);
    exec_pool_submit_as(env->checker, &c->t, &in);
}
