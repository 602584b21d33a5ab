/*
 * result: reading and discarding stored result sets (see result.h).
 */
#include "modes/result.h"

#include <stdlib.h>

#include "core/log.h"
#include "core/mem.h"
#include "modes/registry.h"
#include "store/jobs.h"
#include "store/writer.h"

struct mode_read {
    mode_env *env;
    uint64_t job;
    uint32_t set;
    mode_read_ready ready;
    void *arg;
    bool inflight; /* its take (STORE_OP_CONSUME) is in the writer */
    bool ended;    /* mode_read_end came */
    bool release;  /* this read took the set's last read */
};

struct mode_discard {
    void (*done)(bool found, void *arg);
    void *arg;
};

int
mode_result_check(mode_env *env, uint64_t job, uint32_t set, const char *principal, uint64_t now,
                  store_job *j, qg_error *err)
{
    int found = store_jobs_read(env->store, job, j, err);
    if (found < 0)
        return -1;
    return found == 1 && store_job_readable(j, set, now) && mode_visible(principal, j->principal);
}

/* The read is over: the set is held no more, and the last read of a set
 * whose reads are used up has its pages deleted. */
static void
read_free(mode_read *r)
{
    if (store_results_unpin(r->env->store, r->job, r->set, r->release)) {
        store_op *op = store_op_new(STORE_OP_RELEASE);
        op->job_id = r->job;
        op->set = r->set;
        op->done = store_op_free;
        store_writer_submit(r->env->writer, op);
    }
    free(r);
}

/* Loop: the read is taken (or there was none to take). */
static void
consumed(store_op *op)
{
    mode_read *r = op->arg;
    r->inflight = false;
    bool found = op->status == 0 && op->found;
    if (found)
        r->release = op->job.sets[r->set].reads_left == 0;
    else if (op->status != 0)
        qg_warn("result %llu-%u: %s", (unsigned long long)r->job, r->set, op->err.msg);
    if (r->ended)
        read_free(r);
    else
        r->ready(r,
                 found             ? 1
                 : op->status != 0 ? -1
                                   : 0,
                 found ? &op->job : NULL, &op->err, r->arg);
    store_op_free(op);
}

/* Hands the writer an op of kind on job's set; done(op) runs on the loop
 * once it is committed, with arg. */
static void
submit_set_op(mode_env *env, store_op_kind kind, uint64_t job, uint32_t set, uint64_t now,
              void (*done)(store_op *), void *arg)
{
    store_op *op = store_op_new(kind);
    op->job_id = job;
    op->set = set;
    op->now_ns = now;
    op->done = done;
    op->arg = arg;
    store_writer_submit(env->writer, op);
}

mode_read *
mode_read_begin(mode_env *env, uint64_t job, uint32_t set, uint64_t now, bool take,
                mode_read_ready ready, void *arg)
{
    mode_read *r = qg_calloc(1, sizeof(*r));
    r->env = env;
    r->job = job;
    r->set = set;
    r->ready = ready;
    r->arg = arg;
    /* from here until it ends, the set's pages stay */
    store_results_pin(env->store, job, set);
    if (take) {
        r->inflight = true;
        submit_set_op(env, STORE_OP_CONSUME, job, set, now, consumed, r);
    }
    return r;
}

int
mode_read_page(mode_read *r, uint32_t page, store_page_fn fn, void *arg, qg_error *err)
{
    return store_results_read(r->env->store, r->job, r->set, page, fn, arg, err);
}

int
mode_read_find(mode_read *r, uint32_t npages, uint64_t row, uint32_t *page, qg_error *err)
{
    return store_results_find(r->env->store, r->job, r->set, npages, row, page, err);
}

void
mode_read_end(mode_read *r)
{
    r->ended = true;
    if (!r->inflight)
        read_free(r);
}

static void
discarded(store_op *op)
{
    mode_discard *d = op->arg;
    bool found = op->status == 0 && op->found;
    if (op->status != 0)
        qg_warn("discard %llu-%u: %s", (unsigned long long)op->job_id, op->set, op->err.msg);
    store_op_free(op);
    if (d->done)
        d->done(found, d->arg);
    free(d);
}

mode_discard *
mode_result_discard(mode_env *env, uint64_t job, uint32_t set, uint64_t now,
                    void (*done)(bool found, void *arg), void *arg)
{
    mode_discard *d = qg_calloc(1, sizeof(*d));
    d->done = done;
    d->arg = arg;
    submit_set_op(env, STORE_OP_DISCARD, job, set, now, discarded, d);
    return d;
}

void
mode_discard_forget(mode_discard *d)
{
    d->done = NULL;
}
