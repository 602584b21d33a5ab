/*
 * job: the job engine, for any protocol. A stored job runs its statements
 * on a worker, its result sets go to the job store as pages (one set per
 * query statement: N-0, N-1, ...), and its states are committed through
 * the store writer; it survives a restart (recovery) and is never run
 * twice where it may have written (docs/design.md, "A job's life").
 *
 * What a protocol does with it:
 *   submit   mode_job_new, then mode_job_run_now (run at once, the request
 *            waits: AsterixDB's deferred mode) or mode_job_accept (checked,
 *            stored queued, answered, run later: async); mode_job_replayed
 *            first answers a retry (the same idempotency key) from the
 *            stored job;
 *   read     mode_job_view: its record, query, statements and, while it is
 *            queued or running here, its progress; mode_job_list: a
 *            principal's newest jobs; modes/result.h reads its result sets;
 *   cancel   mode_job_cancel.
 * What the request that waits is answered with is the protocol's: it gives
 * a mode_answer_fn that renders each answer (accepted, done, failed, a
 * replay) from the facts the engine hands it; modes/doc.c renders
 * AsterixDB's documents.
 *
 * mode_jobs is the loop's view of the jobs: counters (queued, running) for
 * --max-queued, /metrics and the drain, and the list of jobs handed to the
 * pool, so a drain can leave the ones not started queued in the store.
 *
 * Threads: every call here is a loop-thread call (the daemon's start-up and
 * shutdown count as the loop), but for the counters (any thread) and the
 * answer function (any thread: a deferred job's is rendered by its worker).
 */
#ifndef QG_MODES_JOB_H
#define QG_MODES_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/envelope.h"
#include "core/err.h"
#include "core/query.h"
#include "gateway/server.h"
#include "modes/env.h"
#include "store/owners.h"
#include "store/record.h"

typedef struct mode_jobs mode_jobs;
typedef struct mode_job mode_job;

/* --- answers ------------------------------------------------------------------------ */

typedef enum mode_answer_kind {
    MODE_ANSWER_ACCEPTED, /* stored, runs later: its status handle */
    MODE_ANSWER_DONE,     /* it ended with success: its result handle */
    MODE_ANSWER_FAILED,   /* refused, failed or stopped */
    MODE_ANSWER_REPLAY,   /* a retry: the first job, as it stands */
} mode_answer_kind;

/* The facts an answer is rendered from. Valid during the call. */
typedef struct mode_answer {
    mode_answer_kind kind;
    const char *request_id;  /* the job's requestID */
    const qg_query *q;       /* the request's query: client context id, format, options */
    const char *base;        /* the handles' base URL; may be NULL */
    uint64_t job;            /* its number; FAILED: 0 when nothing was stored */
    const store_job *record; /* DONE: the end state; REPLAY: the first job's record */
    const qg_error *err;     /* FAILED: why */
    qg_metrics metrics;      /* ACCEPTED: elapsed and compile time; DONE, FAILED: the job's */
} mode_answer;

/* Renders answer a into body and says its HTTP status. Pure; any thread. */
typedef void (*mode_answer_fn)(const mode_answer *a, qg_buf *body, int *http);

/* --- submitting --------------------------------------------------------------------- */

typedef struct mode_job_init {
    const char *request_id; /* copied */
    const char *base;       /* the handles' base URL (copied; NULL: none) */
    uint64_t recv_ns;       /* monotonic: the request's arrival */
    const char *principal;  /* who submits it (NULL: no authentication) */
    gw_req *req;            /* the request waiting for an answer (NULL: none) */
    mode_answer_fn answer;  /* how req's answers are rendered */
} mode_job_init;

/* A new job for q (moved in; q is left empty). It takes req over
 * (gw_req_on_gone): a client that leaves does not stop it. */
mode_job *mode_job_new(mode_env *env, qg_query *q, const mode_job_init *in);
/* Runs j at once (deferred): a worker creates its record as running (with
 * its idempotency key: a retry that raced its first try answers from the
 * first job and runs nothing), runs it and commits its end; the request
 * gets DONE or FAILED. q's timeout counts from the request's arrival. */
void mode_job_run_now(mode_job *j);
/* Accepts j for later (async). Beyond --max-queued jobs accepted and not
 * started, the request gets 503 and j is dropped. Otherwise the checker
 * pool compiles its statements (a statement that does not compile: FAILED,
 * nothing stored), its record is committed as queued (with its key), and
 * only then is the request answered (ACCEPTED) and the job handed to the
 * pool. With q's wait, the request is held until the job ends (then DONE
 * or FAILED) or the wait passes (then ACCEPTED, or with q's wait_cancel
 * the job is stopped as timed out and the request gets that). A drain
 * answers ACCEPTED. q's timeout counts from when a worker starts it. */
void mode_job_accept(mode_job *j);
/* Before submitting: when q has an idempotency key that names a stored job
 * of principal with the same request, answers req from that job (REPLAY,
 * rendered by answer) and returns 1; another request under the key, or a
 * store error: answers the error, returns -1; else 0: submit. */
int mode_job_replayed(mode_env *env, gw_req *req, const qg_query *q, const char *base,
                      mode_answer_fn answer);

/* --- reading and cancelling ---------------------------------------------------------- */

/* What a stored job that is queued or running here is doing now. */
typedef struct mode_progress {
    bool started;      /* a worker took it (else: queued) */
    uint64_t rows;     /* rows rendered so far */
    size_t statement;  /* the statement running (SIZE_MAX: none yet) */
    store_stmt *stmts; /* a copy of its statements as they stand */
    size_t nstmts;
} mode_progress;

/* A job as a status reads it: from one state of the store, plus what its
 * worker is doing. */
typedef struct mode_job_view {
    store_job job;
    qg_query q;        /* its query part: statement, client context id, callback URL */
    store_stmt *stmts; /* its statements as stored */
    size_t nstmts;
    bool live; /* queued or running here: progress holds what it does */
    mode_progress progress;
} mode_job_view;

/* Reads job id for principal (NULL: no authentication, any job) at now
 * (wall ns). Returns 1 and fills v (mode_job_view_free it); 0 when there
 * is no such job for principal (unknown, another principal's, expired);
 * -1 with err on a store error. */
int mode_job_view_read(mode_env *env, uint64_t id, const char *principal, uint64_t now,
                       mode_job_view *v, qg_error *err);
void mode_job_view_free(mode_job_view *v);

/* A principal's newest stored jobs: their records' headers and the first
 * bytes of their statements and client context ids (store/owners.h), and
 * what the worker of each one queued or running here is doing. */
typedef struct mode_listing {
    store_listed *jobs; /* newest first */
    size_t n;
    uint64_t next; /* 0: the principal has no older job; else `before` for them */
    struct mode_listed_live {
        bool live; /* jobs[i] is queued or running here: progress holds what it does */
        mode_progress progress;
    } * live; /* n of them */
} mode_listing;

/* The newest stored jobs of o->principal into l (mode_listing_free it),
 * by the store's owners index (store_jobs_list: its bounds, and its rules:
 * NULL or "" is the anonymous principal, expired jobs are left out).
 * Returns 0, or -1 with err (l is then empty). */
int mode_job_list(mode_env *env, const store_list_opts *o, mode_listing *l, qg_error *err);
void mode_listing_free(mode_listing *l);
/* Cancels job id (principal as above). Returns 1 when it will end
 * cancelled (one no worker took is failed in the store at once), 0 when
 * there is no such job queued or running here, -1 when it was already
 * committing its own end (its status tells the outcome). */
int mode_job_cancel(mode_env *env, uint64_t id, const char *principal);

/* --- the jobs ------------------------------------------------------------------------ */

/* Creates the jobs' state for env (env->store, writer and pools are set). */
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

/* Fills p (free with mode_progress_free) when job id is queued or running
 * here; returns false when it is not. Reads the worker's shared state
 * under the task's lock, never the store. */
bool mode_jobs_progress(mode_jobs *js, uint64_t id, mode_progress *p);
void mode_progress_free(mode_progress *p);

#endif
