/*
 * writer: the store writer thread, group commit and completions (see
 * writer.h).
 */
#include "store/writer.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/wake.h"
#include "store/gc.h"
#include "store/internal.h"
#include "store/results.h"

struct store_writer {
    store_env *env;
    pthread_t thread;

    pthread_mutex_t mu; /* guards the queue and stopping */
    pthread_cond_t cv;
    store_op *head, *tail;
    bool stopping;

    pthread_mutex_t cmu; /* guards the loop's completion list */
    store_op *chead, *ctail;
    qg_wake *cev; /* NULL: no loop (unit tests); completions run on the writer */

    /* writer thread only */
    store__space sp;     /* what this transaction may still allocate */
    uint64_t promised;   /* room promised to queued and running jobs' end states */
    bool promised_known; /* promised was counted (at the first batch) */

    _Atomic uint64_t commits, ops, creates, create_commits, failed, full, max_batch;
};

/* --- ops -------------------------------------------------------------------- */

store_op *
store_op_new(store_op_kind kind)
{
    store_op *op = qg_calloc(1, sizeof(*op));
    op->kind = kind;
    store_job_init(&op->job);
    qg_error_clear(&op->err);
    return op;
}

void
store_op_free(store_op *op)
{
    if (!op)
        return;
    store_job_free(&op->job);
    store_stmts_free(op->stmts, op->nstmts);
    free(op->data);
    free(op);
}

/* --- flows -------------------------------------------------------------------- */

void
store_flow_init(store_flow *f)
{
    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    qg_error_clear(&f->err);
    f->failed_set = UINT32_MAX;
}

void
store_flow_destroy(store_flow *f)
{
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
}

static int
flow_wait(store_flow *f, size_t max_bytes, bool all, qg_error *err)
{
    pthread_mutex_lock(&f->mu);
    while (all ? f->pending_ops > 0 : f->pending_bytes > max_bytes)
        pthread_cond_wait(&f->cv, &f->mu);
    int rc = 0;
    if (f->failed) {
        rc = -1;
        if (err)
            *err = f->err;
    }
    pthread_mutex_unlock(&f->mu);
    return rc;
}

int
store_flow_wait(store_flow *f, size_t max_bytes, qg_error *err)
{
    return flow_wait(f, max_bytes, false, err);
}

int
store_flow_drain(store_flow *f, qg_error *err)
{
    return flow_wait(f, 0, true, err);
}

uint32_t
store_flow_failed_set(store_flow *f)
{
    pthread_mutex_lock(&f->mu);
    uint32_t s = f->failed_set;
    pthread_mutex_unlock(&f->mu);
    return s;
}

/* --- submission ------------------------------------------------------------------ */

void
store_writer_submit(store_writer *w, store_op *op)
{
    op->next = NULL;
    op->status = 0;
    op->skip = false;
    op->tries = 0;
    if (op->flow) {
        pthread_mutex_lock(&op->flow->mu);
        op->flow->pending_ops++;
        op->flow->pending_bytes += op->len;
        pthread_mutex_unlock(&op->flow->mu);
    }
    pthread_mutex_lock(&w->mu);
    if (w->tail)
        w->tail->next = op;
    else
        w->head = op;
    w->tail = op;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

int
store_writer_run(store_writer *w, store_flow *f, store_op *op, qg_error *err)
{
    op->flow = f;
    store_writer_submit(w, op);
    store_flow_drain(f, NULL);
    if (op->status != 0 && err)
        *err = op->err;
    return op->status;
}

/* --- applying ops ------------------------------------------------------------------- */

/* apply's answer for an op that found no room now but may find it after
 * a commit: pages freed by the last commit (or still seen by a reader)
 * become reusable only then. Nothing of the op was written. */
#define AGAIN (-29999)
/* How often an op may be put off that way, each time after a commit;
 * ops that end, change or delete jobs (they need little and promised
 * room) more often than new jobs and result pages. */
#define TRIES_GROW 4
#define TRIES_KEEP 8

/* Fails op without touching the transaction. */
static void
refuse(store_op *op, qg_code code, const char *what)
{
    op->status = -1;
    op->skip = true;
    qg_error_set(&op->err, code, what);
}

/* Refuses op for lack of room, or puts it off (AGAIN) when room that is
 * freed but not yet reusable would be enough (need: bytes it must find). */
static int
no_room(store_writer *w, store_op *op, uint64_t need, const char *map_msg, const char *disk_msg)
{
    if (op->tries < TRIES_GROW && w->sp.pending > 0 && w->sp.small + w->sp.pending >= need) {
        op->tries++;
        return AGAIN;
    }
    refuse(op, QG_E_STORE_FULL, w->sp.disk ? disk_msg : map_msg);
    return 0;
}

static int
apply_create(store_writer *w, MDB_txn *txn, store_op *op)
{
    store_env *e = w->env;
    int rc;
    if (op->idem) {
        /* a retry finds its job whatever the room */
        uint64_t id, expires;
        unsigned char fp[32];
        rc = store__idem_get(e, txn, op->idem_key, &id, &expires, fp);
        if (rc == 0 && expires > op->now_ns) {
            if (memcmp(fp, op->idem_fp, sizeof(fp)) != 0) {
                refuse(op, QG_E_CONFLICT,
                       "Idempotency key already used for a different request (another "
                       "statement, parameters or options)");
                return 0;
            }
            /* a retry: nothing is created, the first job answers */
            op->existing = true;
            rc = store__job_get(e, txn, id, &op->job, NULL, NULL);
            if (rc == MDB_NOTFOUND) {
                op->existing_gone = true;
                op->job.id = id;
                rc = 0;
            }
            return rc;
        }
        if (rc != 0 && rc != MDB_NOTFOUND)
            return rc;
    }
    /* its record and statements, and its end state later: new jobs stop
     * while what is left would not cover half the reserve beyond every
     * end state promised */
    uint64_t cost =
        store__cost(e, 1024 + (op->q ? op->q->statement_len : 0)) + op->nstmts * store__cost(e, 64);
    uint64_t promise = store__promise(op->nstmts);
    uint64_t need = cost + promise + store__reserve(e) / 2 + w->promised;
    if (w->sp.small < need)
        return no_room(w, op, need,
                       "no room for a new job; raise --store-size, or lower result-ttl so that "
                       "results leave sooner",
                       "no room for a new job: the disk holding the job store is full");
    rc = store__job_create(e, txn, &op->job, op->q);
    if (rc == 0 && op->nstmts)
        rc = store__stmts_put(e, txn, op->job.id, op->stmts, op->nstmts);
    if (rc == 0 && op->idem)
        rc = store__idem_put(e, txn, op->idem_key, op->job.id, op->idem_expires_ns, op->idem_fp);
    if (rc == 0) {
        w->sp.small -= cost;
        w->promised += promise;
    }
    return rc;
}

static int
apply_page(store_writer *w, MDB_txn *txn, store_op *op)
{
    store_env *e = w->env;
    uint64_t cost = store__cost(e, STORE_PAGE_HEADER_LEN + op->len);
    uint64_t floor = store__reserve(e) + w->promised;
    if (w->sp.small < cost + floor)
        return no_room(w, op, cost + floor,
                       "no room for more result pages; raise --store-size, or lower "
                       "result-ttl so that results leave sooner",
                       "no room for more result pages: the disk holding the job store is full");
    int rc = store__page_put(e, txn, op->job_id, op->set, op->page, op->first_row, op->nrows,
                             op->data, op->len);
    if (rc == 0)
        w->sp.small -= cost;
    return rc;
}

static int
apply_update(store_writer *w, MDB_txn *txn, store_op *op)
{
    store_env *e = w->env;
    bool ended = false;
    int rc = store__job_update(e, txn, &op->job, op->drop_pages, &ended);
    if (rc == MDB_NOTFOUND) {
        refuse(op, QG_E_NOT_FOUND, "");
        return 0;
    }
    if (rc == 0 && op->set_stmts)
        rc = store__stmts_put(e, txn, op->job.id, op->stmts, op->nstmts);
    if (rc == 0 && op->fill_from)
        rc = store__stmts_fill(e, txn, op->job.id, op->fill_from, op->fill_to, op->job.finished_ns);
    if (rc == 0 && ended) {
        uint64_t p = store__promise(op->nstmts);
        w->promised -= p < w->promised ? p : w->promised;
    }
    return rc;
}

/* Applies op in txn. Returns 0 (op->status tells how it went; a refused op
 * wrote nothing), AGAIN (nothing written: try after a commit), or an LMDB
 * code: the transaction must be aborted. */
static int
apply(store_writer *w, MDB_txn *txn, store_op *op)
{
    store_env *e = w->env;
    int rc = 0;
    switch (op->kind) {
    case STORE_OP_CREATE:
        return apply_create(w, txn, op);
    case STORE_OP_UPDATE:
        return apply_update(w, txn, op);
    case STORE_OP_PAGE:
        return apply_page(w, txn, op);
    case STORE_OP_CALLBACK: {
        store_job j;
        store_job_init(&j);
        rc = store__job_get(e, txn, op->job_id, &j, NULL, NULL);
        op->found = rc == 0;
        if (rc == 0) {
            j.cb_state = op->job.cb_state;
            j.cb_attempts = op->job.cb_attempts;
            j.cb_next_ns = op->job.cb_next_ns;
            j.cb_last_ns = op->job.cb_last_ns;
            memcpy(j.cb_error, op->job.cb_error, sizeof(j.cb_error));
            rc = store__job_update(e, txn, &j, false, NULL);
        }
        store_job_free(&j);
        return rc == MDB_NOTFOUND ? 0 : rc;
    }
    case STORE_OP_CONSUME:
        return store__gc_consume(e, txn, op);
    case STORE_OP_DISCARD:
        return store__gc_discard(e, txn, op);
    case STORE_OP_RELEASE:
        return store__gc_release(e, txn, op);
    case STORE_OP_SWEEP:
        return store__gc_sweep(e, txn, op);
    }
    return 0;
}

static const char *
kind_name(store_op_kind k)
{
    switch (k) {
    case STORE_OP_CREATE:
        return "create job";
    case STORE_OP_UPDATE:
        return "update job";
    case STORE_OP_PAGE:
        return "store result page";
    case STORE_OP_CONSUME:
        return "take a result read";
    case STORE_OP_DISCARD:
        return "discard result";
    case STORE_OP_RELEASE:
        return "release result";
    case STORE_OP_SWEEP:
        return "sweep";
    case STORE_OP_CALLBACK:
        return "record callback delivery";
    }
    return "?";
}

/* Whether rc says the map or the disk was full. */
static bool
full_rc(store_writer *w, int rc)
{
    return rc == MDB_MAP_FULL || rc == ENOSPC || rc == EDQUOT ||
           (rc == EIO && store__disk_full(w->env));
}

/* Whether LMDB's refusal rc of op may go away after a commit: the map or
 * the disk was full, and the op has tries left. */
static bool
retry_later(store_writer *w, store_op *op, int rc)
{
    bool full = full_rc(w, rc);
    bool grows = op->kind == STORE_OP_CREATE || op->kind == STORE_OP_PAGE;
    if (!full || op->tries >= (grows ? TRIES_GROW : TRIES_KEEP))
        return false;
    op->tries++;
    return true;
}

/* Makes the transaction write something, so that its commit moves the
 * transaction id on and the pages freed before become reusable. */
static int
nudge(store_env *e, MDB_txn *txn)
{
    static const char K_NUDGE[] = "nudge";
    unsigned char v[8];
    store__put_be64(v, e->next_id);
    MDB_val k = {sizeof(K_NUDGE) - 1, (void *)K_NUDGE}, val = {sizeof(v), v};
    return mdb_put(txn, e->meta, &k, &val, 0);
}

/* Fails every op from first up to (not including) stop with err. */
static void
fail_ops(store_op *first, store_op *stop, const qg_error *err)
{
    for (store_op *op = first; op != stop; op = op->next)
        if (!op->skip) {
            op->status = -1;
            op->err = *err;
        }
}

/* Runs the ops of batch in as few transactions as it can, in order:
 *   - an op LMDB refuses for another reason fails alone: abort, and redo
 *     the transaction without it;
 *   - an op that finds no room, where a commit may make some (AGAIN, or
 *     LMDB's MDB_MAP_FULL while tries are left), ends the transaction
 *     before it: what came before is committed (with a nudge when that is
 *     nothing), and the op is tried again in the next one.
 * Each round fails an op or commits, so this ends. */
static void
run_batch(store_writer *w, store_op *batch)
{
    store_env *e = w->env;
    if (!w->promised_known) {
        w->promised = store__promised(e);
        w->promised_known = true;
    }
    store_op *rest = batch; /* ops not committed yet */
    store_op *limit = NULL; /* this round applies the ops before it only */
    while (rest) {
        uint64_t next_id = e->next_id, promised = w->promised;
        /* the free list matters once new pages alone may not cover what
         * is kept back and what one transaction takes */
        store__space_get(e, 2 * (store__reserve(e) + w->promised) + 4 * STORE_TXN_PAGE_BYTES,
                         &w->sp);
        MDB_txn *txn;
        int rc = mdb_txn_begin(e->env, NULL, 0, &txn);
        if (rc != 0) {
            qg_error berr;
            store__error(e, &berr, rc, "begin a write");
            fail_ops(rest, NULL, &berr);
            return;
        }
        bool dead = false;
        store_op *stop = NULL, *op;
        uint64_t n = 0, creates = 0;
        for (op = rest; op && op != limit; op = op->next) {
            if (op->skip)
                continue;
            op->status = 0;
            rc = apply(w, txn, op);
            if (rc == AGAIN) {
                stop = op;
                break;
            }
            if (rc != 0) {
                dead = true;
                if (retry_later(w, op, rc)) {
                    stop = op;
                    break;
                }
                op->status = -1;
                op->skip = true;
                store__error(e, &op->err, rc, kind_name(op->kind));
                if (op->err.code != QG_E_STORE_FULL)
                    qg_warn("store: %s failed: %s", kind_name(op->kind), op->err.msg);
                break;
            }
            if (op->status == 0) {
                n++;
                creates += op->kind == STORE_OP_CREATE;
            }
        }
        if (dead) {
            /* redo: without the failed op, or only up to the one put off */
            mdb_txn_abort(txn);
            store__usage_abort(e);
            e->next_id = next_id;
            w->promised = promised;
            limit = stop;
            continue;
        }
        if (!stop)
            stop = op; /* the limit, or the end */
        if (stop && n == 0 && (rc = nudge(e, txn)) != 0) {
            mdb_txn_abort(txn);
            store__usage_abort(e);
            e->next_id = next_id;
            w->promised = promised;
            qg_error nerr;
            store__error(e, &nerr, rc, kind_name(stop->kind));
            fail_ops(rest, NULL, &nerr);
            return;
        }
        rc = mdb_txn_commit(txn);
        if (rc != 0)
            store__usage_abort(e);
        if (rc != 0 && n > 1 && full_rc(w, rc)) {
            /* the commit's own pages (the free list) did not fit: one op
             * a transaction until this passes */
            e->next_id = next_id;
            w->promised = promised;
            store_op *one = rest;
            while (one->skip)
                one = one->next;
            limit = one->next;
            continue;
        }
        if (rc != 0) {
            e->next_id = next_id;
            w->promised = promised;
            qg_error cerr;
            store__error(e, &cerr, rc, "commit");
            qg_warn("store: %s", cerr.msg);
            fail_ops(rest, stop, &cerr);
        } else {
            store__usage_commit(e);
            atomic_fetch_add(&w->commits, 1);
            atomic_fetch_add(&w->ops, n);
            if (creates)
                atomic_fetch_add(&w->create_commits, 1);
            uint64_t max = atomic_load(&w->max_batch);
            if (n > max)
                atomic_store(&w->max_batch, n);
            store__space_prealloc(e);
        }
        rest = stop;
        limit = NULL;
    }
}

/* Hands each op of batch back: flows on this thread, the rest to the loop. */
static void
complete(store_writer *w, store_op *batch, bool inline_done)
{
    store_op *lhead = NULL, *ltail = NULL;
    for (store_op *op = batch, *next; op; op = next) {
        next = op->next;
        if (op->status != 0) {
            atomic_fetch_add(&w->failed, 1);
            if (op->err.code == QG_E_STORE_FULL)
                atomic_fetch_add(&w->full, 1);
        } else if (op->kind == STORE_OP_CREATE)
            atomic_fetch_add(&w->creates, 1);
        if (op->flow) {
            store_flow *f = op->flow;
            bool page = op->kind == STORE_OP_PAGE;
            pthread_mutex_lock(&f->mu);
            if (op->status != 0 && page) {
                if (!f->failed) {
                    f->failed = true;
                    f->err = op->err;
                }
                if (op->set < f->failed_set)
                    f->failed_set = op->set;
            }
            f->pending_ops--;
            f->pending_bytes -= op->len;
            pthread_cond_broadcast(&f->cv);
            pthread_mutex_unlock(&f->mu);
            /* any other flow op is its submitter's again from here */
            if (page)
                store_op_free(op);
            continue;
        }
        if (inline_done) {
            op->done(op);
            continue;
        }
        op->next = NULL;
        if (ltail)
            ltail->next = op;
        else
            lhead = op;
        ltail = op;
    }
    if (!lhead)
        return;
    pthread_mutex_lock(&w->cmu);
    bool wake = w->chead == NULL;
    if (w->ctail)
        w->ctail->next = lhead;
    else
        w->chead = lhead;
    w->ctail = ltail;
    pthread_mutex_unlock(&w->cmu);
    if (wake)
        qg_wake_signal(w->cev);
}

/* Moves ops from the queue to the batch (head/tail) while it is under
 * STORE_TXN_PAGE_BYTES and STORE_TXN_MAX_OPS (w->mu held). Returns whether
 * it took anything but result pages. */
static bool
take_more(store_writer *w, store_op **head, store_op **tail, size_t *bytes, size_t *n)
{
    bool other = false;
    while (w->head && *n < STORE_TXN_MAX_OPS && *bytes < STORE_TXN_PAGE_BYTES) {
        store_op *op = w->head;
        w->head = op->next;
        if (!w->head)
            w->tail = NULL;
        op->next = NULL;
        if (*tail)
            (*tail)->next = op;
        else
            *head = op;
        *tail = op;
        *bytes += op->len;
        (*n)++;
        other = other || op->kind != STORE_OP_PAGE;
    }
    return other;
}

/* Takes the next batch off the queue (w->mu held). A batch of result pages
 * alone waits up to STORE_PAGE_LINGER_MS for more of them (pages need no
 * durability of their own until their job's end state commits, so fewer,
 * bigger transactions cost less); anything else that arrives ends the wait
 * and joins the batch, so submissions are never held up by it. */
static store_op *
take_batch(store_writer *w, bool linger)
{
    store_op *head = NULL, *tail = NULL;
    size_t bytes = 0, n = 0;
    bool other = take_more(w, &head, &tail, &bytes, &n);
    if (!head || other || !linger)
        return head;
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_nsec += STORE_PAGE_LINGER_MS * 1000000L;
    dl.tv_sec += dl.tv_nsec / 1000000000L;
    dl.tv_nsec %= 1000000000L;
    while (!w->stopping && bytes < STORE_TXN_PAGE_BYTES && n < STORE_TXN_MAX_OPS) {
        if (!w->head) {
            if (pthread_cond_timedwait(&w->cv, &w->mu, &dl) == ETIMEDOUT)
                break;
            continue;
        }
        if (take_more(w, &head, &tail, &bytes, &n))
            break;
    }
    return head;
}

static void *
writer_main(void *arg)
{
    store_writer *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (!w->head && !w->stopping)
            pthread_cond_wait(&w->cv, &w->mu);
        store_op *batch = take_batch(w, true);
        pthread_mutex_unlock(&w->mu);
        if (!batch)
            break;
        run_batch(w, batch);
        complete(w, batch, w->cev == NULL);
    }
    return NULL;
}

/* Loop thread: the done of every completed op. */
static void
completions_cb(void *arg)
{
    store_writer *w = arg;
    pthread_mutex_lock(&w->cmu);
    store_op *op = w->chead;
    w->chead = w->ctail = NULL;
    pthread_mutex_unlock(&w->cmu);
    while (op) {
        store_op *next = op->next;
        op->done(op);
        op = next;
    }
}

store_writer *
store_writer_new(store_env *env, struct event_base *base)
{
    store_writer *w = qg_calloc(1, sizeof(*w));
    w->env = env;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&w->cmu, NULL);
    if (base)
        w->cev = qg_wake_new(base, completions_cb, w);
    /* The writer never takes signals: the loop thread handles them. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pthread_create(&w->thread, NULL, writer_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return w;
}

void
store_writer_free(store_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    /* Deliver what the loop did not get to; a done may queue more ops
     * (a result released after its stream ended): run them here. */
    for (;;) {
        if (w->cev)
            completions_cb(w);
        pthread_mutex_lock(&w->mu);
        store_op *batch = take_batch(w, false);
        pthread_mutex_unlock(&w->mu);
        if (!batch)
            break;
        run_batch(w, batch);
        complete(w, batch, w->cev == NULL);
    }
    qg_wake_free(w->cev);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->cmu);
    free(w);
}

void
store_writer_stats_get(store_writer *w, store_writer_stats *out)
{
    out->commits = atomic_load(&w->commits);
    out->ops = atomic_load(&w->ops);
    out->creates = atomic_load(&w->creates);
    out->create_commits = atomic_load(&w->create_commits);
    out->failed = atomic_load(&w->failed);
    out->full = atomic_load(&w->full);
    out->max_batch = atomic_load(&w->max_batch);
}
