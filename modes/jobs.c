/*
 * jobs: the jobs of the daemon, as the loop sees them (see job.h): the
 * counters of queued and running jobs, the list of jobs handed to the
 * pool, recovery at start, the drain, a running job's progress, and a
 * job's state as a status reads it.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "modes/internal.h"
#include "store/env.h"
#include "store/jobs.h"
#include "store/owners.h"

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

/* --- counters ----------------------------------------------------------------------- */

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

void
mode__jobs_count(mode_jobs *js, int queued, int running)
{
    if (queued)
        atomic_fetch_add(&js->queued, (size_t)(ptrdiff_t)queued);
    if (running)
        atomic_fetch_add(&js->running, (size_t)(ptrdiff_t)running);
}

void
mode__jobs_trim(mode_jobs *js)
{
    if (atomic_load(&js->peak) < TRIM_AFTER_QUEUED || atomic_load(&js->queued) ||
        atomic_load(&js->running))
        return;
    atomic_store(&js->peak, 0);
    malloc_trim(0);
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

/* --- the list ----------------------------------------------------------------------- */

void
mode__jobs_link(mode_jobs *js, mode_job *j)
{
    j->prev = NULL;
    j->next = js->head;
    if (js->head)
        js->head->prev = j;
    js->head = j;
}

void
mode__jobs_unlink(mode_jobs *js, mode_job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        js->head = j->next;
    if (j->next)
        j->next->prev = j->prev;
    j->prev = j->next = NULL;
}

/* --- recovery, drain, shutdown -------------------------------------------------------- */

typedef struct recovered {
    mode_job **jobs;
    size_t n, cap;
    mode_env *env;
} recovered;

static void
recover_one(store_job *jj, qg_query *q, void *arg)
{
    recovered *rc = arg;
    mode_job_init in = {.request_id = jj->request_id, .recv_ns = qg_now_ns()};
    mode_job *j = mode_job_new(rc->env, q, &in);
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
        int expect = MODE__WAITING;
        if (!j->answers && atomic_compare_exchange_strong(&j->claim, &expect, MODE__PARKED)) {
            mode__jobs_unreserve(js);
            mode__job_give_handle(j); /* it runs after the restart */
            mode__job_drop(j);
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
        if (atomic_load(&j->claim) == MODE__STARTED)
            mode__job_cancel(j, reason);
    }
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

/* --- reading ------------------------------------------------------------------------ */

bool
mode_jobs_progress(mode_jobs *js, uint64_t id, mode_progress *p)
{
    memset(p, 0, sizeof(*p));
    for (mode_job *j = js->head; j; j = j->next) {
        if (j->entry.job_id != id || !j->listed)
            continue;
        p->started = atomic_load(&j->claim) == MODE__STARTED;
        p->rows = atomic_load(&j->rows_now);
        pthread_mutex_lock(&j->t.mu);
        p->statement = j->cur_stmt;
        if (p->started && j->nstmts) {
            p->stmts = mode__stmts_copy(j->stmts, j->nstmts);
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

int
mode_job_view_read(mode_env *env, uint64_t id, const char *principal, uint64_t now,
                   mode_job_view *v, qg_error *err)
{
    memset(v, 0, sizeof(*v));
    store_job_init(&v->job);
    qg_query_init(&v->q);
    /* the job and its statements from one state of the store */
    if (store_env_snapshot_begin(env->store, err) != 0)
        return -1;
    int found = store_jobs_read_query(env->store, id, &v->job, &v->q, err);
    bool absent = found == 0 || !mode_visible(principal, v->job.principal) ||
                  (v->job.expires_ns && v->job.expires_ns <= now);
    int srd = found > 0 && !absent
                  ? store_jobs_read_stmts(env->store, id, &v->stmts, &v->nstmts, err)
                  : 0;
    store_env_snapshot_end(env->store);
    if (found < 0 || srd < 0)
        return -1;
    if (absent)
        return 0;
    if (store_state_active(v->job.state))
        v->live = mode_jobs_progress(env->jobs, id, &v->progress);
    return 1;
}

int
mode_job_list(mode_env *env, const store_list_opts *o, mode_listing *l, qg_error *err)
{
    memset(l, 0, sizeof(*l));
    if (store_jobs_list(env->store, o, &l->jobs, &l->n, &l->next, err) != 0)
        return -1;
    l->live = qg_calloc(l->n ? l->n : 1, sizeof(*l->live));
    for (size_t i = 0; i < l->n; i++)
        if (store_state_active(l->jobs[i].job.state))
            l->live[i].live =
                mode_jobs_progress(env->jobs, l->jobs[i].job.id, &l->live[i].progress);
    return 0;
}

void
mode_listing_free(mode_listing *l)
{
    for (size_t i = 0; l->live && i < l->n; i++)
        if (l->live[i].live)
            mode_progress_free(&l->live[i].progress);
    free(l->live);
    store_listed_free(l->jobs, l->n);
    memset(l, 0, sizeof(*l));
}

void
mode_job_view_free(mode_job_view *v)
{
    if (v->live)
        mode_progress_free(&v->progress);
    store_stmts_free(v->stmts, v->nstmts);
    qg_query_free(&v->q);
    store_job_free(&v->job);
    memset(v, 0, sizeof(*v));
}
