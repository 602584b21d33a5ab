/*
 * job: a stored job (deferred or async) and the jobs of the daemon.
 *
 * A mode_job is an exec_task that runs its query on a worker with a
 * rows_sink that writes result pages to the store, one stored set per query
 * statement (N-0, N-1, ...), and commits its states through the store writer
 * (modes/job.c has the sequence). deferred.c and async.c create them;
 * recovery creates them for the queued jobs found at start-up.
 *
 * mode_jobs is the loop's view of them: counters (queued, running) for
 * --max-queued and the drain, and the list of jobs handed to the pool, so a
 * drain can leave the ones not started queued in the store.
 *
 * Threads: mode_jobs_* and mode__job_* are loop-thread calls (main's before
 * the loop runs and after it stopped count as the loop).
 */
#ifndef QG_MODES_JOB_H
#define QG_MODES_JOB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modes/env.h"
#include "core/buf.h"
#include "core/query.h"
#include "exec/pool.h"
#include "exec/rows.h"
#include "gateway/server.h"
#include "modes/registry.h"
#include "store/record.h"
#include "store/writer.h"

/* Who owns a job that was handed to the pool: still waiting, taken by a
 * worker, or taken back by the loop (cancelled, or parked by a drain). */
enum { MODE_JOB_WAITING, MODE_JOB_STARTED, MODE_JOB_CANCELLED, MODE_JOB_PARKED };

typedef struct mode_jobs mode_jobs;
typedef struct mode_job mode_job;

struct mode_job {
    exec_task t; /* first: the pool hands us &t */
    mode_env *env;
    qg_query q;    /* read by the worker; freed with the job */
    store_job rec; /* the record as created (loop); the worker builds on a copy */
    char rid[QG_UUID_LEN + 1];
    char *base;       /* handle base URL; NULL for recovered jobs */
    uint64_t recv_ns; /* monotonic: the request's arrival */
    /* A fresh deferred job: its client waits for the answer, its record is
     * created as it starts, its deadline counts from the arrival. Every
     * other job (async, or recovered from the store) runs from a queued
     * record nobody waits on. */
    bool answers;

    /* loop only */
    gw_req *req;              /* the request still waiting for its answer */
    struct event *wait_ev;    /* async wait=: when the request stops waiting */
    struct event *requeue_ev; /* when it goes back to the pool (database away) */
    mode_entry entry;
    bool listed; /* in the registry and the jobs list */
    mode_job *prev, *next;
    bool loop_ref;     /* the loop still holds its reference */
    uint64_t check_ns; /* async: compile time of the submission's check */

    atomic_int claim; /* MODE_JOB_* */
    /* Who decides how a started job ends: 0 nobody yet; a qg_code, a
     * cancel that got there first (the job ends cancelled, whatever it
     * did); -1 the worker, committing the end it reached (a cancel then
     * does nothing). */
    atomic_int end;

    /* under t.mu: worker -> loop */
    uint64_t id;   /* known job number (deferred: once created) */
    bool finished; /* the worker is done with it */
    int http;      /* deferred: the answer's status */
    qg_buf reply;  /* deferred: the answer's body */
    bool replayed; /* the answer is a retry's (Idempotent-Replayed) */
    /* The statements: the plan (split from the text, all queued) until the
     * worker fills them in as they run; the loop reads them for a running
     * job's status. */
    store_stmt *stmts;
    size_t nstmts, cap_stmts;
    size_t cur_stmt; /* the one running; SIZE_MAX: none */
    bool stored_end; /* the end state is committed (callback due when pending) */

    uint64_t requeue_ns; /* async: back in the queue at this time (monotonic); 0: no */

    /* worker -> loop, read without the lock (progress) */
    _Atomic uint64_t rows_now; /* rows rendered so far, all statements */

    /* worker only */
    uint64_t first_start_ns; /* monotonic: when a worker first took it */
    unsigned db_waits;       /* times it went back to the queue for the database */
    qg_error *db_err;        /* why, the last time (malloc'd; NULL: never) */
    store_flow *flow;        /* while it runs: its account with the writer */
    rows_writer w;
    rows_sink sink;
    uint32_t page;
    uint64_t page_first_row; /* the set's row number the next page starts with */
    store_set *sets;
    uint32_t nsets, cap;
    size_t ran;        /* statements begun */
    size_t begin_set;  /* the set index when the current statement began */
    size_t resume_off; /* where the text after the last statement begun starts */
    bool resume_known; /* resume_off is known (the statement compiled) */
};

/* Creates the jobs' state for env (env->store, writer and pool are set). */
mode_jobs *mode_jobs_new(mode_env *env);
/* Applies the store's recovery rules and queues the jobs they leave queued;
 * logs what it did. Before serving. Returns 0, or -1 with err. */
int mode_jobs_recover(mode_jobs *js, qg_error *err);
/* Async jobs accepted (or being accepted) and not started. Any thread. */
size_t mode_jobs_queued(mode_jobs *js);
/* Stored jobs on a worker now. Any thread. */
size_t mode_jobs_running(mode_jobs *js);
/* Drain: every async job not started stays queued in the store (it runs
 * after the restart) and is dropped here; jobs accepted from now on too. */
void mode_jobs_park(mode_jobs *js);
/* Cancels every running job with reason (QG_E_DRAINING at the end of a
 * drain: a rerunnable async job is then queued again in the store). */
void mode_jobs_cancel_running(mode_jobs *js, qg_code reason);
/* Frees js; the pool has been stopped. */
void mode_jobs_free(mode_jobs *js);

/* What a stored job that is queued or running here is doing now. */
typedef struct mode_progress {
    bool started;      /* a worker took it (else: queued) */
    uint64_t rows;     /* rows rendered so far */
    size_t statement;  /* the statement running (SIZE_MAX: none yet) */
    store_stmt *stmts; /* a copy of its statements as they stand */
    size_t nstmts;
} mode_progress;

/* Fills p (free with mode_progress_free) when job id is queued or running
 * here; returns false when it is not. Loop thread: reads the worker's
 * shared state under the task's lock, never the store. */
bool mode_jobs_progress(mode_jobs *js, uint64_t id, mode_progress *p);
void mode_progress_free(mode_progress *p);

/* --- for modes/deferred.c and modes/async.c ---------------------------------- */

/* A new job for q (moved in; q is left empty) with its request id and
 * handle base (copied; may be NULL). One reference, the loop's. */
mode_job *mode__job_new(mode_env *env, qg_query *q, const char *rid, const char *base,
                        uint64_t recv_ns);
/* Registers j (registry, jobs list) and hands it to the pool. */
void mode__job_submit(mode_job *j);
/* Drops the loop's reference of a job that was never submitted. */
void mode__job_drop(mode_job *j);
/* The answer to a request whose job failed: requestID, [clientContextID],
 * [type], errors, status, metrics, and, when the job was stored
 * (status_id > 0), statusHandle: its status (which lists its statements and
 * any result sets they completed). */
void mode__job_error_doc(qg_buf *b, const mode_job *j, const qg_error *err, const qg_metrics *m,
                         uint64_t status_id);
/* The job's statements as planned from q's text by be: all queued, with
 * their spans (a malloc'd array of *n). */
store_stmt *mode__job_plan(const exec_backend *be, const qg_query *q, size_t *n);
/* requestID, [clientContextID] and, for CSV, type: the envelope's head. */
void mode__job_doc_head(qg_buf *b, const mode_job *j);
/* The answer of an accepted async job: requestID, [clientContextID],
 * handle (its status), plans, status "running", metrics. */
void mode__job_accepted_doc(qg_buf *b, const mode_job *j, uint64_t compile_ns);
/* Async wait=: after mode__job_submit, keeps the request until the job
 * ends (it is then answered as deferred mode answers: the result handle,
 * or the failure) or wait_ns pass: then it gets the accepted answer, or,
 * with q.wait_cancel, the job is stopped as timed out and the request
 * gets that outcome. A drain answers it as accepted. */
void mode__job_hold(mode_job *j, uint64_t wait_ns);
/* Stops job j for reason: one no worker took yet is failed in the store at
 * once (STORE_TIMEOUT for QG_E_TIMEOUT, else failed with reason); a
 * running one is interrupted and ends with reason. Returns false when the
 * job was already committing the end it reached on its own: it ends as it
 * would have. Loop thread. */
bool mode__job_cancel(mode_job *j, qg_code reason);

/* A retried submission: key and fingerprint of q by its principal
 * (store/idem.h), into op's idem fields, with the key's expiry. */
void mode__job_idem(mode_env *env, const qg_query *q, const char *principal, store_op *op);
/* Answers a retried submission (the same idempotency key, the same
 * request) with the first job r as it stands now: its requestID; for
 * async, the accepted answer; for deferred, the success (result handle)
 * or failure answer of an ended job, the accepted answer of one still
 * running. Carries Idempotent-Replayed: true. q is the retry's query (its
 * client context id is echoed). */
void mode__job_replay(gw_req *req, const store_job *r, const qg_query *q, const char *base);
/* The loop's look-up of q's idempotency key: 1 when it names a job that
 * matches (answered by replay: nothing else to do), 0 when the submission
 * goes on, -1 when it was answered with an error (another request under
 * the key: 409; a store error). */
int mode__job_idem_check(mode_env *env, gw_req *req, const qg_query *q, const char *base);
/* Answers req with a whole JSON document (503s get Retry-After). */
void mode__job_reply(gw_req *req, int status, const qg_buf *body);
/* Takes a place among the queued async jobs: false when limit (0: none)
 * are queued already. mode__jobs_unreserve gives it back (the job was
 * refused, parked, or started). */
bool mode__jobs_reserve(mode_jobs *js, size_t limit);
void mode__jobs_unreserve(mode_jobs *js);
/* Whether a drain has begun: accepted jobs stay queued in the store. */
bool mode__jobs_parked(const mode_jobs *js);

#endif
