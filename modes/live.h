/*
 * live: what the two modes that answer on the request's own connection
 * (immediate and stream) share: the task and its request, the registry
 * entry for /admin, the request's timeout, and stopping a request — a
 * cancel, a timeout, a client that went away — whether it is still queued
 * (answered at once, on the loop, so a busy pool never delays it) or
 * running (the worker is stopped and answers itself).
 *
 * A mode embeds mode_live first in its own object; its exec_task_ops get
 * &l->t. Loop thread, but for the fields the worker reads (q, rid,
 * recv_ns, env->set), which are fixed before the task is submitted.
 *
 * Ownership: the task holds one reference for the loop side, dropped by
 * mode_live_detach (when the response is finished or the client is gone);
 * the pool holds its own for the worker.
 */
#ifndef QG_MODES_LIVE_H
#define QG_MODES_LIVE_H

#include "core/envelope.h"
#include "core/query.h"
#include "core/uuid.h"
#include "exec/pool.h"
#include "gateway/server.h"
#include "modes/env.h"
#include "modes/registry.h"

struct event;
typedef struct mode_live mode_live;

typedef struct mode_live_ops {
    exec_task_ops task;
    /* Loop: answer a request whose task never reached a worker (taken
     * back out of the queue), then mode_live_detach it. */
    void (*unstarted)(mode_live *l, const qg_error *err);
    /* Loop, may be NULL: the mode's own loop-side resources (timers) go,
     * as the request is detached. */
    void (*detached)(mode_live *l);
} mode_live_ops;

struct mode_live {
    exec_task t; /* first: the pool hands the mode &t */
    const mode_live_ops *ops;
    mode_env *env;
    gw_req *req; /* loop only; NULL once detached */
    qg_query q;  /* the worker reads it; freed with the task */
    char rid[QG_UUID_LEN + 1];
    uint64_t recv_ns;
    mode_entry entry;          /* loop only */
    struct event *deadline_ev; /* loop only */
};

/* Takes over req and q (q is left empty): the request id, the deadline
 * (timer and task), the registry entry, req->on_gone and handler_data. The
 * mode sets req->on_drain and calls mode_live_submit when it is ready. */
void mode_live_init(mode_live *l, const mode_live_ops *ops, mode_env *env, gw_req *req, qg_query *q,
                    const char *request_id);
void mode_live_submit(mode_live *l);
/* Stops the request for why (QG_E_CANCELLED, QG_E_TIMEOUT): still queued,
 * it is answered now (ops->unstarted); running, its worker is stopped. */
void mode_live_stop(mode_live *l, qg_code why);
/* The loop is done with the request: it leaves the registry, its timers
 * go, and the loop's reference is dropped (which may free the object). */
void mode_live_detach(mode_live *l);
/* Worker: waits, with l->t.mu released meanwhile, until *queued (guarded
 * by l->t.mu, lowered by the loop as it writes) is at most max: the
 * backpressure of a slow client. Returns 0, or -1 with err when the
 * request was stopped meanwhile. */
int mode_live_wait_room(mode_live *l, const size_t *queued, size_t max, qg_error *err);
/* For the mode's destroy: frees what mode_live owns (not the object). */
void mode_live_free(mode_live *l);

/* Metrics of a request its worker ran (worker thread, at its end): rc is
 * exec_run's answer. */
void mode_live_metrics(const mode_live *l, const exec_ctx *ctx, const rows_writer *w, int rc,
                       qg_metrics *mt);
/* Metrics of a request stopped before a worker took it (loop). */
void mode_live_unstarted_metrics(const mode_live *l, qg_metrics *mt);

#endif
