/*
 * pool: executor threads and the hand-off between them and the loop.
 *
 * DESIGN. The loop thread never runs a query. It submits an exec_task to the
 * pool's FIFO queue; one of N worker threads takes it and calls ops->run with
 * its own backend connection. Whenever a worker has news for the loop (output
 * ready, job finished) it calls exec_task_notify: the task is appended to the
 * pool's notify list (once, however often it is notified before the loop gets
 * to it) and the loop is woken through a libevent event made active from the
 * worker (libevent's pthread support is on). The loop then calls ops->notify.
 * Workers are woken once at the end of the loop round that submitted tasks,
 * as many as the queued tasks need beyond the workers already awake: a
 * burst of small requests costs a wake-up per worker, not per request.
 * A task is reference-counted: the queue/worker holds one reference, the
 * notify list one per posting, and the owner (a mode) its own.
 *
 * Cancellation: exec_task_cancel sets the task's flag (first reason wins),
 * wakes a worker waiting on the task's condition variable, and asks the
 * backend to interrupt the connection the task runs on. Deadlines are
 * checked by whoever waits (exec_task_check) and by the backend.
 */
#ifndef QG_EXEC_POOL_H
#define QG_EXEC_POOL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "exec/backend.h"
#include "exec/sched.h"

struct event_base;

typedef struct exec_pool exec_pool;
typedef struct exec_worker exec_worker;

typedef struct exec_task_ops {
    /* Worker thread: do the work. */
    void (*run)(exec_task *t, exec_worker *w);
    /* Loop thread: the task called exec_task_notify. */
    void (*notify)(exec_task *t);
    /* Any thread: the last reference was dropped; free the task. */
    void (*destroy)(exec_task *t);
} exec_task_ops;

struct exec_task {
    const exec_task_ops *ops;
    exec_pool *pool;
    /* Guards the owner's shared fields (output queues and the like); cv
     * wakes a worker waiting on them, and is broadcast on cancel. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_int refs;
    atomic_int cancel;    /* 0, or the qg_code that stopped it */
    uint64_t deadline_ns; /* monotonic; 0: none. Set before submit. */
    uint64_t submit_ns;
    uint64_t start_ns; /* set by the worker */
    _Atomic(exec_worker *) worker;
    /* pool-private (the queue lock guards the q_ fields, lane, flow, queued) */
    exec_task *q_next, *q_prev;
    exec_flow *flow;
    unsigned char lane; /* exec_lane */
    bool queued;
    exec_task *n_next;
    bool n_posted;
};

struct exec_worker {
    exec_pool *pool;
    int id;
    pthread_t thread;
    const exec_backend *be;
    be_conn *conn;
    atomic_bool busy;
    atomic_uint_fast64_t busy_ns; /* time spent running tasks, for /metrics */
};

/* Initialises t with one reference (the caller's). */
void exec_task_init(exec_task *t, const exec_task_ops *ops);
void exec_task_ref(exec_task *t);
/* Drops a reference; the last one calls ops->destroy. Any thread. */
void exec_task_unref(exec_task *t);
/* Stops t for reason (QG_E_CANCELLED, QG_E_TIMEOUT, QG_E_DRAINING ...).
 * The first reason sticks. Any thread. */
void exec_task_cancel(exec_task *t, qg_code reason);
/* 0 while t may go on; else the reason it must stop (a passed deadline
 * counts as QG_E_TIMEOUT and is recorded). Any thread. */
qg_code exec_task_check(exec_task *t);
/* Waits on t->cv (t->mu held by the caller) until signalled, cancelled or
 * the deadline. Returns exec_task_check's answer. Worker thread. */
qg_code exec_task_wait(exec_task *t);
/* Worker: asks the loop to call ops->notify soon. */
void exec_task_notify(exec_task *t);

/* Opens nworkers backend connections (failing fast with err when the
 * database cannot be reached) and starts the threads. At most batch_max
 * of them run batch-lane tasks at once (exec/sched.h). Loop thread. */
exec_pool *exec_pool_new(struct event_base *base, const exec_backend *be, const char *uri,
                         int nworkers, int batch_max, qg_error *err);
/* Queues t (the pool takes a reference) in the interactive lane,
 * anonymous. Loop thread. */
void exec_pool_submit(exec_pool *p, exec_task *t);
/* Queues t as in says (lane, principal, weight, limit; see exec/sched.h).
 * Loop thread. */
void exec_pool_submit_as(exec_pool *p, exec_task *t, const exec_sched_in *in);
/* Takes t back out of the queue if no worker has started it: returns true
 * and drops the pool's reference (the task never runs), or false when it
 * already runs or ran. Loop thread. */
bool exec_pool_unqueue(exec_pool *p, exec_task *t);
size_t exec_pool_queued(exec_pool *p);
size_t exec_pool_running(exec_pool *p);
/* Counts a submission refused for reason, for principal (NULL:
 * anonymous), in /metrics. Loop thread. */
void exec_pool_reject(exec_pool *p, const char *principal, exec_reject reason);
/* A copy of every flow's counters (links cleared) in *out (free() it);
 * returns how many. Also the lanes' totals, queued and running. Any
 * thread. */
size_t exec_pool_flows(exec_pool *p, exec_flow **out);
int exec_pool_workers(exec_pool *p);
/* Workers running a task now, and the total time all workers have spent
 * running tasks (nanoseconds). Any thread. */
int exec_pool_busy_workers(exec_pool *p);
uint64_t exec_pool_busy_ns(exec_pool *p);
/* Stops the workers once the queue is empty and the running tasks are
 * done (cancel them first for a quick stop), closes the connections. */
void exec_pool_free(exec_pool *p);

#endif
