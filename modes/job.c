/*
 * job: a stored job's life on the loop thread (see job.h and internal.h):
 * created, listed (the registry, for /admin and cancels; the jobs list,
 * for the drain) and handed to the pool; its worker's news (job_notify:
 * its number once created, a pause while the database is away, its end);
 * the answer of the request that waits for it; stopped; freed.
 *
 * Ownership: the loop holds one reference (dropped when the job finished,
 * or the loop took it back), the pool one while it is queued or runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/clock.h"
#include "core/mem.h"
#include "gateway/reply.h"
#include "modes/callback.h"
#include "modes/internal.h"

/* --- answers ------------------------------------------------------------------------ */

void
mode__send(gw_req *req, mode_answer_kind kind, int http, const qg_buf *body)
{
    if (kind == MODE_ANSWER_REPLAY) {
        const gw_header replayed = {"Idempotent-Replayed", "true"};
        gw_reply(req, http, GW_JSON, body->data, body->len, &replayed, 1);
    } else if (http == 503) {
        const gw_header retry = {"Retry-After", "1"};
        gw_reply(req, http, GW_JSON, body->data, body->len, &retry, 1);
    } else {
        gw_reply(req, http, GW_JSON, body->data, body->len, NULL, 0);
    }
}

void
mode__answer_of(const mode_job *j, mode_answer_kind kind, mode_answer *a)
{
    memset(a, 0, sizeof(*a));
    a->kind = kind;
    a->request_id = j->rid;
    a->q = &j->q;
    a->base = j->base;
    a->job = j->rec.id;
}

void
mode__job_answer(mode_job *j, gw_req *req, mode_answer *a)
{
    qg_buf b = QG_BUF_INIT;
    int http = 200;
    j->answer(a, &b, &http);
    mode__send(req, a->kind, http, &b);
    qg_buf_free(&b);
}

/* The lane j goes to the pool in now (see mode_lane). */
static exec_lane
lane_now(const mode_job *j)
{
    if (j->lane_want != MODE_LANE_AUTO)
        return j->lane_want == MODE_LANE_BATCH ? EXEC_LANE_BATCH : EXEC_LANE_INTERACTIVE;
    return j->answers || j->req ? EXEC_LANE_INTERACTIVE : EXEC_LANE_BATCH;
}

/* Hands j to the pool in the lane it belongs in now. */
static void
pool_submit(mode_job *j)
{
    j->lane = lane_now(j);
    exec_sched_in in = mode_policy_sched(&j->pol, j->lane);
    exec_pool_submit_as(j->env->pool, &j->t, &in);
}

/* Nobody waits for j any longer: a job still queued in the interactive
 * lane moves to the batch lane (it keeps its turn among nobody's). */
static void
demote(mode_job *j)
{
    if (!j->listed || j->lane != EXEC_LANE_INTERACTIVE || lane_now(j) != EXEC_LANE_BATCH ||
        atomic_load(&j->claim) != MODE__WAITING)
        return;
    if (exec_pool_unqueue(j->env->pool, &j->t))
        pool_submit(j);
}

static void
req_gone(gw_req *req)
{
    mode_job *j = gw_req_data(req);
    j->req = NULL;
    demote(j);
}

gw_req *
mode__job_take_req(mode_job *j)
{
    gw_req *req = j->req;
    j->req = NULL;
    if (req)
        gw_req_on_gone(req, NULL, NULL);
    return req;
}

/* --- the loop's reference ----------------------------------------------------------- */

static void
unlist(mode_job *j)
{
    if (!j->listed)
        return;
    mode_registry_remove(j->env->running, &j->entry);
    mode__jobs_unlink(j->env->jobs, j);
    j->listed = false;
}

void
mode__job_stop_timers(mode_job *j)
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

static void
drop_loop_ref(mode_job *j)
{
    mode__job_stop_timers(j);
    if (!j->loop_ref)
        return;
    j->loop_ref = false;
    mode__job_take_req(j);
    exec_task_unref(&j->t);
}

void
mode__job_drop(mode_job *j)
{
    unlist(j);
    drop_loop_ref(j);
}

/* --- the worker's news -------------------------------------------------------------- */

/* A job that waits for the database goes back to the pool, unless it was
 * taken back meanwhile (cancelled, parked by a drain). */
static void
requeue_cb(evutil_socket_t fd, short what, void *arg)
{
    mode_job *j = arg;
    if (atomic_load(&j->claim) == MODE__WAITING && j->loop_ref)
        pool_submit(j);
}

static void
requeue_at(mode_job *j, uint64_t at)
{
    if (!j->requeue_ev)
        j->requeue_ev = evtimer_new(j->env->base, requeue_cb, j);
    uint64_t now = qg_now_ns(), d = at > now ? at - now : 0;
    struct timeval tv = {(time_t)(d / 1000000000u), (suseconds_t)(d % 1000000000u / 1000)};
    evtimer_add(j->requeue_ev, &tv);
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
    if (requeue && j->loop_ref)
        requeue_at(j, requeue);
    if (j->listed)
        j->entry.job_id = id;
    if (stored_end && j->q.callback_url)
        mode_callbacks_due(j->env->callbacks, j->rec.id);
    if (!finished || !j->loop_ref) {
        qg_buf_free(&reply);
        return;
    }
    unlist(j);
    gw_req *req = mode__job_take_req(j);
    drop_loop_ref(j); /* the pool still holds one: j lives on */
    mode__jobs_trim(j->env->jobs);
    if (req && reply.len)
        mode__send(req, replayed ? MODE_ANSWER_REPLAY : MODE_ANSWER_DONE, http, &reply);
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
    .run = mode__job_run,
    .notify = job_notify,
    .destroy = job_destroy,
};

/* --- stopping ----------------------------------------------------------------------- */

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

/* A queued job failed by the loop is on disk; its callback is due and its
 * waiting request gets the outcome. */
static void
cancel_stored(store_op *op)
{
    cancel_answer *ca = op->arg;
    if (op->status == 0 && op->job.cb_state == STORE_CB_PENDING)
        mode_callbacks_due(ca->env->callbacks, op->job.id);
    if (ca->req) {
        gw_req_on_gone(ca->req, NULL, NULL);
        mode__send(ca->req, MODE_ANSWER_FAILED, ca->http, &ca->body);
    }
    qg_buf_free(&ca->body);
    free(ca);
    store_op_free(op);
}

/* The end state of a queued job no worker took, failed by the loop for
 * reason: timeout, or cancelled. */
static store_op *
unstarted_end(const mode_job *j, qg_code reason)
{
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
    return op;
}

bool
mode__job_cancel(mode_job *j, qg_code reason)
{
    int expect = MODE__WAITING;
    if (j->answers || !atomic_compare_exchange_strong(&j->claim, &expect, MODE__CANCELLED)) {
        /* started: the cancel decides its end unless the worker already
         * does (it is committing its own) */
        int open = 0;
        if (!atomic_compare_exchange_strong(&j->end, &open, (int)reason))
            return open > 0;
        exec_task_cancel(&j->t, reason);
        return true;
    }
    /* no worker took it (it may wait behind long jobs): failed at once */
    mode__jobs_unreserve(j->env->jobs, j);
    store_op *op = unstarted_end(j, reason);
    cancel_answer *ca = qg_calloc(1, sizeof(*ca));
    ca->env = j->env;
    gw_req *req = mode__job_take_req(j);
    if (req) {
        mode_answer a;
        mode__answer_of(j, MODE_ANSWER_FAILED, &a);
        a.err = &op->job.error;
        a.metrics.elapsed_ns = qg_now_ns() - j->recv_ns;
        j->answer(&a, &ca->body, &ca->http);
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

int
mode_job_cancel(mode_env *env, uint64_t id, const char *principal)
{
    return mode_registry_cancel_job(env->running, principal, id);
}

void
mode__job_give_handle(mode_job *j)
{
    mode__job_stop_timers(j);
    gw_req *req = mode__job_take_req(j);
    demote(j);
    if (!req)
        return;
    mode_answer a;
    mode__answer_of(j, MODE_ANSWER_ACCEPTED, &a);
    a.metrics.elapsed_ns = qg_now_ns() - j->recv_ns;
    a.metrics.compile_ns = j->check_ns;
    mode__job_answer(j, req, &a);
}

/* --- a new job ---------------------------------------------------------------------- */

mode_job *
mode_job_new(mode_env *env, qg_query *q, const mode_job_init *in)
{
    mode_job *j = qg_calloc(1, sizeof(*j));
    exec_task_init(&j->t, &job_ops);
    j->env = env;
    j->q = *q;
    qg_query_init(q); /* moved */
    snprintf(j->rid, sizeof(j->rid), "%s", in->request_id);
    /* the query keeps the base of its handles with it, for a callback
     * and a recovered job; a recovered job's handles point where its
     * request's did */
    const char *base = in->base;
    if (base)
        j->q.handle_base = qg_arena_memdup0(&j->q.arena, base, strlen(base));
    else
        base = j->q.handle_base;
    j->base = base ? qg_strdup(base) : NULL;
    j->recv_ns = in->recv_ns;
    j->answer = in->answer;
    j->lane_want = in->lane;
    mode_policy_of(env, in->principal, &j->pol);
    j->loop_ref = true;
    atomic_init(&j->claim, MODE__WAITING);
    atomic_init(&j->end, 0);
    atomic_init(&j->rows_now, 0);
    j->cur_stmt = SIZE_MAX;
    store_job_init(&j->rec);
    store_job_from_query(&j->rec, &j->q, in->request_id, env->set.result_ttl_ns);
    j->rec.created_ns = qg_wall_ns();
    snprintf(j->rec.principal, sizeof(j->rec.principal), "%s", in->principal ? in->principal : "");
    if (in->req) {
        j->req = in->req;
        gw_req_on_gone(in->req, req_gone, j);
    }
    return j;
}

void
mode__job_submit(mode_job *j)
{
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
    mode__jobs_link(j->env->jobs, j);
    j->listed = true;
    pool_submit(j);
}

void
mode_job_run_now(mode_job *j)
{
    j->answers = true;
    if (j->q.timeout_ns)
        j->t.deadline_ns = j->recv_ns + j->q.timeout_ns;
    mode__job_submit(j);
}
