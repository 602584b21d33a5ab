/* sched: lanes and fair queues (see sched.h). */
#include "exec/sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "exec/pool.h"

const uint64_t exec_sched_bucket_ns[EXEC_SCHED_BUCKETS - 1] = {
    1000000u,    5000000u,    10000000u,    50000000u,    100000000u,   500000000u,
    1000000000u, 5000000000u, 10000000000u, 30000000000u, 60000000000u,
};

const char *
exec_lane_name(exec_lane l)
{
    return l == EXEC_LANE_BATCH ? "batch" : "interactive";
}

const char *
exec_reject_name(exec_reject r)
{
    static const char *const names[EXEC_REJECTS] = {
        [EXEC_REJECT_SERVER_QUEUED] = "server_queued",
        [EXEC_REJECT_PRINCIPAL_QUEUED] = "principal_queued",
        [EXEC_REJECT_TIMEOUT] = "timeout",
        [EXEC_REJECT_RESULT_TTL] = "result_ttl",
        [EXEC_REJECT_RESULT_READS] = "max_result_reads",
        [EXEC_REJECT_QUOTA] = "result_quota",
    };
    return (unsigned)r < EXEC_REJECTS ? names[r] : "other";
}

void
exec_sched_init(exec_sched *s, int batch_max)
{
    memset(s, 0, sizeof(*s));
    s->batch_max = batch_max > 0 ? batch_max : 1;
}

void
exec_sched_free(exec_sched *s)
{
    for (exec_flow *f = s->flows, *next; f; f = next) {
        next = f->next;
        free(f);
    }
    memset(s, 0, sizeof(*s));
}

exec_flow *
exec_sched_flow(exec_sched *s, const char *principal)
{
    if (!principal)
        principal = "";
    if (s->last && strcmp(s->last->name, principal) == 0)
        return s->last;
    exec_flow *f = s->flows;
    while (f && strcmp(f->name, principal) != 0)
        f = f->next;
    if (!f) {
        f = qg_calloc(1, sizeof(*f));
        snprintf(f->name, sizeof(f->name), "%s", principal);
        f->weight = 1;
        f->next = s->flows;
        s->flows = f;
    }
    s->last = f;
    return f;
}

/* --- the lists ----------------------------------------------------------- */

static void
list_append(exec_task **head, exec_task **tail, exec_task *t)
{
    t->q_next = NULL;
    t->q_prev = *tail;
    if (*tail)
        (*tail)->q_next = t;
    else
        *head = t;
    *tail = t;
}

static void
list_unlink(exec_task **head, exec_task **tail, exec_task *t)
{
    if (t->q_prev)
        t->q_prev->q_next = t->q_next;
    else
        *head = t->q_next;
    if (t->q_next)
        t->q_next->q_prev = t->q_prev;
    else
        *tail = t->q_prev;
    t->q_next = t->q_prev = NULL;
}

/* The ring of flows with batch work: a circular list through ring_next;
 * s->ring is the flow whose turn it is. */
static void
ring_add(exec_sched *s, exec_flow *f)
{
    if (f->in_ring)
        return;
    f->in_ring = true;
    if (!s->ring) {
        f->ring_next = f;
        s->ring = f;
        s->credit = f->weight;
        return;
    }
    /* last in the round: just before the flow whose turn it is */
    exec_flow *prev = s->ring;
    while (prev->ring_next != s->ring)
        prev = prev->ring_next;
    prev->ring_next = f;
    f->ring_next = s->ring;
}

static void
ring_remove(exec_sched *s, exec_flow *f)
{
    if (!f->in_ring)
        return;
    f->in_ring = false;
    if (f->ring_next == f) {
        s->ring = NULL;
        f->ring_next = NULL;
        return;
    }
    exec_flow *prev = f;
    while (prev->ring_next != f)
        prev = prev->ring_next;
    prev->ring_next = f->ring_next;
    if (s->ring == f) {
        s->ring = f->ring_next;
        s->credit = s->ring->weight;
    }
    f->ring_next = NULL;
}

/* --- pushing and taking -------------------------------------------------- */

void
exec_sched_push(exec_sched *s, exec_task *t, const exec_sched_in *in)
{
    exec_lane lane = in && in->lane == EXEC_LANE_BATCH ? EXEC_LANE_BATCH : EXEC_LANE_INTERACTIVE;
    exec_flow *f = exec_sched_flow(s, in ? in->principal : NULL);
    t->lane = lane;
    t->flow = f;
    t->queued = true;
    if (lane == EXEC_LANE_BATCH) {
        f->weight = in->weight ? in->weight : 1;
        f->max_running = in->max_running;
        list_append(&f->bhead, &f->btail, t);
        ring_add(s, f);
    } else {
        list_append(&s->ihead, &s->itail, t);
    }
    f->queued[lane]++;
    s->queued[lane]++;
}

static bool
flow_may_run(const exec_flow *f)
{
    return f->bhead && (!f->max_running || f->running[EXEC_LANE_BATCH] < f->max_running);
}

/* The flow whose batch task runs next, its turn's credit taken; NULL when
 * none may run. Passes the turn on when the flow used its weight or is at
 * its limit. */
static exec_flow *
batch_pick(exec_sched *s, bool commit)
{
    if (!s->ring || s->running[EXEC_LANE_BATCH] >= (size_t)s->batch_max)
        return NULL;
    exec_flow *f = s->ring;
    unsigned credit = s->credit;
    for (exec_flow *start = f;;) {
        if (credit > 0 && flow_may_run(f))
            break;
        f = f->ring_next;
        credit = f->weight;
        if (f == start) {
            if (!flow_may_run(f))
                return NULL;
            break;
        }
    }
    if (commit) {
        /* a flow that used its turn stays current with no credit: the turn
         * passes at the next take, so a flow that arrives meanwhile (put
         * last in the round, just before it) comes next */
        s->ring = f;
        s->credit = credit - 1;
    }
    return f;
}

static void
record_wait(exec_flow *f, exec_lane lane, uint64_t wait)
{
    int b = 0;
    while (b < EXEC_SCHED_BUCKETS - 1 && wait > exec_sched_bucket_ns[b])
        b++;
    f->wait_hist[lane][b]++;
    f->wait_sum_ns[lane] += wait;
}

exec_task *
exec_sched_take(exec_sched *s, uint64_t now_ns)
{
    exec_flow *bf = batch_pick(s, false);
    exec_task *t;
    if (s->ihead && (!bf || s->skipped < EXEC_SCHED_BATCH_EVERY)) {
        if (bf)
            s->skipped++;
        t = s->ihead;
        list_unlink(&s->ihead, &s->itail, t);
    } else if (bf) {
        s->skipped = 0;
        bf = batch_pick(s, true);
        t = bf->bhead;
        list_unlink(&bf->bhead, &bf->btail, t);
        if (!bf->bhead)
            ring_remove(s, bf);
    } else {
        return NULL;
    }
    exec_flow *f = t->flow;
    exec_lane lane = (exec_lane)t->lane;
    t->queued = false;
    f->queued[lane]--;
    s->queued[lane]--;
    f->running[lane]++;
    s->running[lane]++;
    record_wait(f, lane, now_ns > t->submit_ns ? now_ns - t->submit_ns : 0);
    return t;
}

void
exec_sched_done(exec_sched *s, exec_flow *f, exec_lane lane)
{
    f->running[lane]--;
    s->running[lane]--;
}

bool
exec_sched_remove(exec_sched *s, exec_task *t)
{
    if (!t->queued)
        return false;
    exec_flow *f = t->flow;
    exec_lane lane = (exec_lane)t->lane;
    if (lane == EXEC_LANE_BATCH) {
        list_unlink(&f->bhead, &f->btail, t);
        if (!f->bhead)
            ring_remove(s, f);
    } else {
        list_unlink(&s->ihead, &s->itail, t);
    }
    t->queued = false;
    f->queued[lane]--;
    s->queued[lane]--;
    return true;
}

size_t
exec_sched_ready(const exec_sched *s)
{
    size_t n = s->queued[EXEC_LANE_INTERACTIVE];
    size_t room = s->running[EXEC_LANE_BATCH] < (size_t)s->batch_max
                      ? (size_t)s->batch_max - s->running[EXEC_LANE_BATCH]
                      : 0;
    return n + (s->queued[EXEC_LANE_BATCH] < room ? s->queued[EXEC_LANE_BATCH] : room);
}
