/* pool: worker threads, the task queue and the wake-up of the loop (see pool.h). */
#include "exec/pool.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/wake.h"

struct exec_pool {
    struct event_base *base;
    const exec_backend *be;

    pthread_mutex_t qmu; /* guards the queue (sched) and stopping */
    pthread_cond_t qcv;
    exec_sched sched;
    bool stopping;
    int nwaiting;  /* workers blocked on qcv */
    int nsignaled; /* of those, signalled and not yet awake */
    int ntaking;   /* workers taking tasks: awake and not running one */
    atomic_size_t nrunning;

    /* Loop thread: tasks submitted in one round of the loop wake workers
     * once, at the end of the round (kick_cb), not one by one. */
    struct event *kick;
    bool kick_pending;

    pthread_mutex_t nmu; /* guards the notify list */
    exec_task *nhead, *ntail;
    qg_wake *wake;

    int nworkers;
    exec_worker *workers;
};

/* --- tasks --------------------------------------------------------------- */

void
exec_task_init(exec_task *t, const exec_task_ops *ops)
{
    memset(t, 0, sizeof(*t));
    t->ops = ops;
    pthread_mutex_init(&t->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->cv, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&t->refs, 1);
    atomic_init(&t->cancel, 0);
    atomic_init(&t->worker, NULL);
}

void
exec_task_ref(exec_task *t)
{
    atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
}

void
exec_task_unref(exec_task *t)
{
    if (atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) == 1) {
        pthread_mutex_destroy(&t->mu);
        pthread_cond_destroy(&t->cv);
        t->ops->destroy(t);
    }
}

void
exec_task_cancel(exec_task *t, qg_code reason)
{
    int expected = 0;
    if (!atomic_compare_exchange_strong(&t->cancel, &expected, (int)reason))
        return;
    pthread_mutex_lock(&t->mu);
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
    exec_worker *w = atomic_load(&t->worker);
    if (w && w->be->interrupt)
        w->be->interrupt(w->conn);
}

qg_code
exec_task_check(exec_task *t)
{
    int c = atomic_load_explicit(&t->cancel, memory_order_relaxed);
    if (c)
        return (qg_code)c;
    if (t->deadline_ns && qg_now_ns() >= t->deadline_ns) {
        int expected = 0;
        atomic_compare_exchange_strong(&t->cancel, &expected, (int)QG_E_TIMEOUT);
        return (qg_code)atomic_load(&t->cancel);
    }
    return QG_OK;
}

qg_code
exec_task_wait(exec_task *t)
{
    qg_code c = exec_task_check(t);
    if (c)
        return c;
    if (t->deadline_ns) {
        struct timespec ts = {(time_t)(t->deadline_ns / 1000000000u),
                              (long)(t->deadline_ns % 1000000000u)};
        pthread_cond_timedwait(&t->cv, &t->mu, &ts);
    } else {
        pthread_cond_wait(&t->cv, &t->mu);
    }
    return exec_task_check(t);
}

void
exec_task_notify(exec_task *t)
{
    exec_pool *p = t->pool;
    bool wake = false;
    pthread_mutex_lock(&p->nmu);
    if (!t->n_posted) {
        t->n_posted = true;
        exec_task_ref(t);
        t->n_next = NULL;
        if (p->ntail)
            p->ntail->n_next = t;
        else
            p->nhead = t;
        p->ntail = t;
        wake = p->nhead == t;
    }
    pthread_mutex_unlock(&p->nmu);
    if (wake)
        qg_wake_signal(p->wake);
}

/* Loop thread: run ops->notify for every posted task. */
static void
notify_cb(void *arg)
{
    exec_pool *p = arg;
    pthread_mutex_lock(&p->nmu);
    exec_task *t = p->nhead;
    p->nhead = p->ntail = NULL;
    pthread_mutex_unlock(&p->nmu);
    while (t) {
        /* A task stays posted until its link is read: a worker posting it
         * again would rewrite n_next and cut this list short, and the tasks
         * after it would miss this round. A post skipped meanwhile loses
         * nothing: notify runs after it and reads the task's state under
         * the task's own lock. */
        pthread_mutex_lock(&p->nmu);
        exec_task *next = t->n_next;
        t->n_posted = false;
        pthread_mutex_unlock(&p->nmu);
        t->ops->notify(t);
        exec_task_unref(t);
        t = next;
    }
}

/* --- workers ------------------------------------------------------------- */

static void *
worker_main(void *arg)
{
    exec_worker *w = arg;
    exec_pool *p = w->pool;
    pthread_mutex_lock(&p->qmu);
    for (;;) {
        exec_task *t;
        while (!(t = exec_sched_take(&p->sched, qg_now_ns())) && !p->stopping) {
            p->ntaking--;
            p->nwaiting++;
            pthread_cond_wait(&p->qcv, &p->qmu);
            p->nwaiting--;
            if (p->nsignaled > 0)
                p->nsignaled--;
            p->ntaking++;
        }
        if (!t)
            break;
        p->ntaking--;
        atomic_fetch_add(&p->nrunning, 1);
        pthread_mutex_unlock(&p->qmu);

        /* read before it runs: once it has run, the loop may queue it again */
        exec_flow *flow = t->flow;
        exec_lane lane = (exec_lane)t->lane;
        t->start_ns = qg_now_ns();
        atomic_store(&t->worker, w);
        atomic_store(&w->busy, true);
        t->ops->run(t, w);
        atomic_fetch_add(&w->busy_ns, qg_now_ns() - t->start_ns);
        atomic_store(&w->busy, false);
        atomic_store(&t->worker, NULL);
        exec_task_unref(t);

        pthread_mutex_lock(&p->qmu);
        exec_sched_done(&p->sched, flow, lane);
        atomic_fetch_sub(&p->nrunning, 1);
        p->ntaking++;
    }
    pthread_mutex_unlock(&p->qmu);
    return NULL;
}

/* Loop thread, once at the end of a round of the loop that submitted tasks:
 * wakes as many sleeping workers as there are queued tasks that no awake
 * worker is about to take. A burst of submissions thus costs one wake-up
 * per worker rather than one per task, and a worker woken for the first
 * task of a burst finds the rest queued; yet no task waits behind a running
 * one while a worker sleeps. */
static void
kick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    exec_pool *p = arg;
    p->kick_pending = false;
    pthread_mutex_lock(&p->qmu);
    int idle = p->nwaiting - p->nsignaled;
    int ready = p->ntaking + p->nsignaled;
    size_t n = exec_sched_ready(&p->sched);
    int want = (int)(n < (size_t)p->nworkers ? n : (size_t)p->nworkers) - ready;
    for (; want > 0 && idle > 0; want--, idle--) {
        p->nsignaled++;
        pthread_cond_signal(&p->qcv);
    }
    pthread_mutex_unlock(&p->qmu);
}

exec_pool *
exec_pool_new(struct event_base *base, const exec_backend *be, const char *uri, int nworkers,
              int batch_max, qg_error *err)
{
    exec_pool *p = qg_calloc(1, sizeof(*p));
    p->base = base;
    p->be = be;
    p->nworkers = nworkers;
    pthread_mutex_init(&p->qmu, NULL);
    pthread_cond_init(&p->qcv, NULL);
    exec_sched_init(&p->sched, batch_max > 0 && batch_max < nworkers ? batch_max : nworkers);
    pthread_mutex_init(&p->nmu, NULL);
    atomic_init(&p->nrunning, 0);
    p->wake = qg_wake_new(base, notify_cb, p);
    p->kick = event_new(base, -1, 0, kick_cb, p);
    p->ntaking = nworkers;
    p->workers = qg_calloc((size_t)nworkers, sizeof(exec_worker));
    for (int i = 0; i < nworkers; i++) {
        exec_worker *w = &p->workers[i];
        w->pool = p;
        w->id = i;
        w->be = be;
        atomic_init(&w->busy, false);
        atomic_init(&w->busy_ns, 0);
        if (be->open(uri, &w->conn, err) != 0) {
            for (int j = 0; j < i; j++)
                be->close(p->workers[j].conn);
            event_free(p->kick);
            qg_wake_free(p->wake);
            exec_sched_free(&p->sched);
            free(p->workers);
            free(p);
            return NULL;
        }
    }
    /* Workers never take signals: the loop thread handles them. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (int i = 0; i < nworkers; i++)
        pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i]);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return p;
}

void
exec_pool_submit(exec_pool *p, exec_task *t)
{
    exec_pool_submit_as(p, t, NULL);
}

void
exec_pool_submit_as(exec_pool *p, exec_task *t, const exec_sched_in *in)
{
    t->pool = p;
    t->submit_ns = qg_now_ns();
    exec_task_ref(t);
    pthread_mutex_lock(&p->qmu);
    exec_sched_push(&p->sched, t, in);
    pthread_mutex_unlock(&p->qmu);
    if (!p->kick_pending) {
        p->kick_pending = true;
        event_active(p->kick, 0, 0);
    }
}

bool
exec_pool_unqueue(exec_pool *p, exec_task *t)
{
    pthread_mutex_lock(&p->qmu);
    bool found = t->pool == p && exec_sched_remove(&p->sched, t);
    pthread_mutex_unlock(&p->qmu);
    if (found)
        exec_task_unref(t);
    return found;
}

size_t
exec_pool_queued(exec_pool *p)
{
    pthread_mutex_lock(&p->qmu);
    size_t n = p->sched.queued[EXEC_LANE_INTERACTIVE] + p->sched.queued[EXEC_LANE_BATCH];
    pthread_mutex_unlock(&p->qmu);
    return n;
}

void
exec_pool_reject(exec_pool *p, const char *principal, exec_reject reason)
{
    pthread_mutex_lock(&p->qmu);
    exec_sched_flow(&p->sched, principal)->rejected[reason]++;
    pthread_mutex_unlock(&p->qmu);
}

size_t
exec_pool_flows(exec_pool *p, exec_flow **out)
{
    pthread_mutex_lock(&p->qmu);
    size_t n = 0;
    for (exec_flow *f = p->sched.flows; f; f = f->next)
        n++;
    exec_flow *v = qg_calloc(n ? n : 1, sizeof(*v));
    size_t i = 0;
    for (exec_flow *f = p->sched.flows; f; f = f->next, i++) {
        v[i] = *f;
        v[i].bhead = v[i].btail = NULL;
        v[i].ring_next = v[i].next = NULL;
    }
    pthread_mutex_unlock(&p->qmu);
    *out = v;
    return n;
}

size_t
exec_pool_running(exec_pool *p)
{
    return atomic_load(&p->nrunning);
}

int
exec_pool_workers(exec_pool *p)
{
    return p->nworkers;
}

int
exec_pool_busy_workers(exec_pool *p)
{
    int n = 0;
    for (int i = 0; i < p->nworkers; i++)
        n += atomic_load(&p->workers[i].busy);
    return n;
}

uint64_t
exec_pool_busy_ns(exec_pool *p)
{
    uint64_t ns = 0;
    for (int i = 0; i < p->nworkers; i++)
        ns += atomic_load(&p->workers[i].busy_ns);
    return ns;
}

void
exec_pool_free(exec_pool *p)
{
    pthread_mutex_lock(&p->qmu);
    p->stopping = true;
    pthread_cond_broadcast(&p->qcv);
    pthread_mutex_unlock(&p->qmu);
    for (int i = 0; i < p->nworkers; i++)
        pthread_join(p->workers[i].thread, NULL);
    /* Notifications posted by the last tasks: deliver them so their owners
     * release what they hold. */
    notify_cb(p);
    for (int i = 0; i < p->nworkers; i++)
        p->be->close(p->workers[i].conn);
    event_free(p->kick);
    qg_wake_free(p->wake);
    exec_sched_free(&p->sched);
    pthread_mutex_destroy(&p->qmu);
    pthread_cond_destroy(&p->qcv);
    pthread_mutex_destroy(&p->nmu);
    free(p->workers);
    free(p);
}
