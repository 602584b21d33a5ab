/*
 * wake: another thread asks the loop thread to run a callback.
 *
 * An eventfd watched by a persistent libevent event. qg_wake_signal writes
 * to it from any thread without taking libevent's base lock (event_active
 * from a worker does, and contends with the loop on every event it adds or
 * deletes); the loop reads it back and runs the callback once for however
 * many signals came. Callers coalesce: signal only when their own list of
 * news goes from empty to not empty.
 */
#ifndef QG_WAKE_H
#define QG_WAKE_H

struct event_base;

typedef struct qg_wake qg_wake;

/* Loop thread, at start. Aborts when no eventfd can be had (out of file
 * descriptors at start-up: nothing sensible can follow). */
qg_wake *qg_wake_new(struct event_base *base, void (*cb)(void *arg), void *arg);
/* Any thread. */
void qg_wake_signal(qg_wake *w);
/* Loop thread, once no other thread signals any more. */
void qg_wake_free(qg_wake *w);

#endif
