/* live: requests answered on their own connection (see live.h). */
#include "modes/live.h"

#include <string.h>

#include <event2/event.h>

#include "core/clock.h"
#include "core/json.h"

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    mode_live_stop(arg, QG_E_TIMEOUT);
}

static bool
entry_cancel(mode_entry *e, qg_code why)
{
    mode_live_stop((mode_live *)((char *)e - offsetof(mode_live, entry)), why);
    return true;
}

static void
on_gone(gw_req *req)
{
    mode_live *l = gw_req_data(req);
    l->req = NULL;
    if (!exec_pool_unqueue(l->env->pool, &l->t))
        exec_task_cancel(&l->t, QG_E_CANCELLED);
    mode_live_detach(l);
}

void
mode_live_init(mode_live *l, const mode_live_ops *ops, mode_env *env, gw_req *req, qg_query *q,
               const char *request_id)
{
    exec_task_init(&l->t, &ops->task);
    l->ops = ops;
    l->env = env;
    l->req = req;
    l->q = *q;
    qg_query_init(q); /* moved */
    memcpy(l->rid, request_id, sizeof(l->rid));
    l->recv_ns = req->start_ns;
    if (l->q.timeout_ns)
        l->t.deadline_ns = req->start_ns + l->q.timeout_ns;

    mode_entry *e = &l->entry;
    memcpy(e->uuid, l->rid, sizeof(e->uuid));
    e->client_context_id = l->q.client_context_id;
    e->statement = l->q.statement;
    e->start_wall_ns = qg_wall_ns();
    e->start_ns = req->start_ns;
    e->task = &l->t;
    e->cancel = entry_cancel;
    e->principal = req->principal; /* lives as long as the env */
    mode_registry_add(env->running, e);

    if (l->t.deadline_ns) {
        uint64_t now = qg_now_ns();
        uint64_t left = l->t.deadline_ns > now ? l->t.deadline_ns - now : 0;
        struct timeval tv = {(time_t)(left / 1000000000u),
                             (suseconds_t)(left % 1000000000u / 1000)};
        l->deadline_ev = evtimer_new(env->base, deadline_cb, l);
        evtimer_add(l->deadline_ev, &tv);
    }
    gw_req_on_gone(req, on_gone, l);
}

void
mode_live_submit(mode_live *l)
{
    /* somebody waits: the interactive lane, counted for its principal */
    exec_sched_in in = {.lane = EXEC_LANE_INTERACTIVE, .principal = l->entry.principal};
    exec_pool_submit_as(l->env->pool, &l->t, &in);
}

void
mode_live_stop(mode_live *l, qg_code why)
{
    if (l->req && exec_pool_unqueue(l->env->pool, &l->t)) {
        qg_error err;
        if (why == QG_E_CANCELLED)
            qg_error_set(&err, why, l->rid);
        else
            qg_error_set(&err, why);
        l->ops->unstarted(l, &err);
        return;
    }
    exec_task_cancel(&l->t, why);
}

void
mode_live_detach(mode_live *l)
{
    if (l->req)
        gw_req_on_gone(l->req, NULL, NULL);
    l->req = NULL;
    if (l->deadline_ev) {
        event_free(l->deadline_ev);
        l->deadline_ev = NULL;
    }
    if (l->ops->detached)
        l->ops->detached(l);
    mode_registry_remove(l->env->running, &l->entry);
    exec_task_unref(&l->t);
}

void
mode_live_free(mode_live *l)
{
    qg_query_free(&l->q);
}

void
mode_live_metrics(const mode_live *l, const exec_ctx *ctx, const rows_writer *w, int rc,
                  qg_metrics *mt)
{
    uint64_t now = qg_now_ns();
    memset(mt, 0, sizeof(*mt));
    mt->elapsed_ns = now - l->recv_ns;
    mt->execution_ns = now - l->t.start_ns;
    mt->compile_ns = ctx->compile_ns;
    mt->queue_wait_ns = l->t.start_ns - l->t.submit_ns;
    mt->result_count = w->total_rows;
    mt->result_size = w->total_bytes;
    mt->processed_objects = ctx->processed;
    mt->error_count = rc != 0;
}

void
mode_live_unstarted_metrics(const mode_live *l, qg_metrics *mt)
{
    uint64_t now = qg_now_ns();
    memset(mt, 0, sizeof(*mt));
    mt->elapsed_ns = now - l->recv_ns;
    mt->queue_wait_ns = now - l->t.submit_ns;
    mt->error_count = 1;
}

int
mode_live_wait_room(mode_live *l, const size_t *queued, size_t max, qg_error *err)
{
    int rc = 0;
    pthread_mutex_lock(&l->t.mu);
    while (*queued > max) {
        qg_code why = exec_task_wait(&l->t);
        if (why) {
            rc = qg_error_set(err, why, "-");
            break;
        }
    }
    pthread_mutex_unlock(&l->t.mu);
    return rc;
}
