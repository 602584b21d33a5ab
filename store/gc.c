/*
 * gc: reads, discards and the TTL sweep (see gc.h).
 */
#include "store/gc.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/internal.h"
#include "store/jobs.h"

/* --- writer side ------------------------------------------------------------ */

int
store__gc_consume(store_env *e, MDB_txn *txn, struct store_op *op)
{
    store_job j;
    store_job_init(&j);
    int rc = store__job_get(e, txn, op->job_id, &j, NULL, NULL);
    op->found = false;
    if (rc == 0 && store_job_readable(&j, op->set, op->now_ns)) {
        j.sets[op->set].reads_left--;
        rc = store__job_update(e, txn, &j, false, NULL);
        if (rc == 0) {
            op->found = true;
            store_job_free(&op->job);
            op->job = j;
            return 0;
        }
    }
    store_job_free(&j);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store__gc_discard(store_env *e, MDB_txn *txn, struct store_op *op)
{
    store_job j;
    store_job_init(&j);
    int rc = store__job_get(e, txn, op->job_id, &j, NULL, NULL);
    op->found = false;
    if (rc == 0 && store_job_readable(&j, op->set, op->now_ns)) {
        j.sets[op->set].reads_left = 0;
        rc = store__job_update(e, txn, &j, false, NULL);
        bool more = true;
        while (rc == 0 && more)
            rc = store__pages_drop(e, txn, op->job_id, op->set, 0, SIZE_MAX, &more, NULL);
        op->found = rc == 0;
    }
    store_job_free(&j);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store__gc_release(store_env *e, MDB_txn *txn, struct store_op *op)
{
    store_job j;
    store_job_init(&j);
    int rc = store__job_get(e, txn, op->job_id, &j, NULL, NULL);
    /* a read still streaming keeps the pages; its end asks again */
    if (rc == 0 && op->set < j.nsets && j.sets[op->set].reads_left == 0 &&
        !store__pinned(e, op->job_id, op->set)) {
        bool more = true;
        while (rc == 0 && more)
            rc = store__pages_drop(e, txn, op->job_id, op->set, 0, SIZE_MAX, &more, NULL);
    }
    store_job_free(&j);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store__gc_sweep(store_env *e, MDB_txn *txn, struct store_op *op)
{
    /* Collect first: deleting under a cursor of the same tree is where
     * LMDB's old cursor bugs lived. */
    unsigned char keys[STORE_SWEEP_JOBS][STORE_EXPIRY_KEY_LEN];
    size_t n = 0;
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, e->expiry, &c);
    if (rc != 0)
        return rc;
    MDB_val k, v;
    op->more = false;
    rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
    while (rc == 0 && k.mv_size == STORE_EXPIRY_KEY_LEN &&
           store__get_be64(k.mv_data) <= op->now_ns) {
        if (n == STORE_SWEEP_JOBS) {
            op->more = true;
            break;
        }
        memcpy(keys[n++], k.mv_data, STORE_EXPIRY_KEY_LEN);
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(c);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;

    size_t budget = STORE_SWEEP_PAGES;
    op->swept = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t id = store__get_be64(keys[i] + 8);
        bool more = false;
        /* expired, so no new read starts; one still streaming ends first */
        if (store__pinned(e, id, STORE_ALL_SETS))
            continue;
        size_t dropped = 0;
        rc = store__pages_drop(e, txn, id, STORE_ALL_SETS, 0, budget, &more, &dropped);
        if (rc != 0)
            return rc;
        budget -= dropped;
        if (more) {
            /* the rest of this job's pages next time, then the job */
            op->more = true;
            break;
        }
        rc = store__job_delete(e, txn, id);
        if (rc == MDB_NOTFOUND) {
            /* an index entry whose job is gone already */
            MDB_val ek = {STORE_EXPIRY_KEY_LEN, keys[i]};
            rc = mdb_del(txn, e->expiry, &ek, NULL);
            if (rc == MDB_NOTFOUND)
                rc = 0;
        }
        if (rc != 0)
            return rc;
        op->swept++;
        if (budget == 0 && i + 1 < n) {
            op->more = true;
            break;
        }
    }
    /* only pinned jobs due (nothing went): the next tick, not at once */
    if (budget == STORE_SWEEP_PAGES && op->swept == 0)
        op->more = false;
    bool more = false;
    size_t nkeys = 0;
    rc = store__idem_sweep(e, txn, op->now_ns, STORE_SWEEP_JOBS, &more, &nkeys);
    op->more = op->more || more;
    return rc;
}

/* --- loop side: the sweep timer ------------------------------------------------ */

struct store_gc {
    store_env *env;
    store_writer *w;
    struct event *timer;
    bool inflight;
    bool stopped;
    uint64_t swept;
};

static void
arm(store_gc *g, uint64_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    event_add(g->timer, &tv);
}

/* Whether the first entry of an expiry index (keys starting with be64
 * expires_at) is due. */
static bool
first_due(MDB_txn *txn, MDB_dbi dbi, uint64_t now)
{
    bool yes = false;
    MDB_cursor *c;
    if (mdb_cursor_open(txn, dbi, &c) == 0) {
        MDB_val k, v;
        if (mdb_cursor_get(c, &k, &v, MDB_FIRST) == 0 && k.mv_size >= 8)
            yes = store__get_be64(k.mv_data) <= now;
        mdb_cursor_close(c);
    }
    return yes;
}

/* Whether a job or an idempotency key is due for the sweep. */
static bool
due(store_gc *g, uint64_t now)
{
    qg_error err;
    MDB_txn *txn = store__read_begin(g->env, &err);
    if (!txn)
        return false;
    bool yes = first_due(txn, g->env->expiry, now) || first_due(txn, g->env->idem_exp, now);
    store__read_end(g->env);
    return yes;
}

static void
swept(store_op *op)
{
    store_gc *g = op->arg;
    g->inflight = false;
    if (op->status != 0)
        qg_warn("store: sweep failed: %s", op->err.msg);
    else
        g->swept += op->swept;
    bool more = op->status == 0 && op->more;
    store_op_free(op);
    if (g->stopped) {
        event_free(g->timer);
        free(g);
        return;
    }
    arm(g, more ? 0 : STORE_SWEEP_INTERVAL_MS);
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
    store_gc *g = arg;
    uint64_t now = qg_wall_ns();
    if (g->inflight)
        return;
    if (!due(g, now)) {
        arm(g, STORE_SWEEP_INTERVAL_MS);
        return;
    }
    store_op *op = store_op_new(STORE_OP_SWEEP);
    op->now_ns = now;
    op->done = swept;
    op->arg = g;
    g->inflight = true;
    store_writer_submit(g->w, op);
}

store_gc *
store_gc_start(store_env *env, store_writer *w, struct event_base *base)
{
    store_gc *g = qg_calloc(1, sizeof(*g));
    g->env = env;
    g->w = w;
    g->timer = evtimer_new(base, tick, g);
    arm(g, 0);
    return g;
}

void
store_gc_stop(store_gc *g)
{
    if (!g)
        return;
    event_del(g->timer);
    if (g->inflight) {
        g->stopped = true; /* swept() frees it */
        return;
    }
    event_free(g->timer);
    free(g);
}

uint64_t
store_gc_swept(const store_gc *g)
{
    return g->swept;
}
