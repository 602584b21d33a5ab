/*
 * internal: the job engine's own header (modes/job*.c, jobs.c): the stored
 * job's object and the calls its files make to each other. Nothing outside
 * modes/ includes it (the layering check says so); the engine's public
 * face is modes/job.h.
 *
 * The engine's files, one responsibility each:
 *   job.c         a job's life on the loop: created, listed and handed to
 *                 the pool, its worker's news (job_notify), answers sent,
 *                 stopped, freed
 *   job_accept.c  accepting a job for later (async): the compile check on
 *                 the checker pool, the queued record, wait=
 *   job_run.c     the worker's steps: claim, check, running state, run,
 *                 the end state committed (job_run)
 *   job_end.c     the end-state decision, a pure function (mode__job_end)
 *   job_sink.c    the row writer's sink: result pages to the writer
 *   job_stmts.c   the statements: plan, progress, their outcome
 *   job_idem.c    retried submissions (idempotency keys)
 *   jobs.c        the jobs of the daemon: counters, list, recovery, drain,
 *                 progress, reading a job's state
 *
 * Threads: as in job.h; each field group below says who touches it.
 */
#ifndef QG_MODES_INTERNAL_H
#define QG_MODES_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/query.h"
#include "core/uuid.h"
#include "exec/pool.h"
#include "exec/rows.h"
#include "gateway/server.h"
#include "modes/env.h"
#include "modes/job.h"
#include "modes/policy.h"
#include "modes/registry.h"
#include "store/record.h"
#include "store/results.h"
#include "store/writer.h"

/* The size result pages are cut at. */
#define MODE__PAGE_SIZE STORE_PAGE_TARGET

/* Who owns a job that was handed to the pool: still waiting, taken by a
 * worker, or taken back by the loop (cancelled, or parked by a drain). */
enum { MODE__WAITING, MODE__STARTED, MODE__CANCELLED, MODE__PARKED };

struct mode_job {
    exec_task t; /* first: the pool hands us &t */
    mode_env *env;
    qg_query q;    /* read by the worker; freed with the job */
    store_job rec; /* the record as created (loop); the worker builds on a copy */
    char rid[QG_UUID_LEN + 1];
    char *base;            /* handle base URL; NULL for recovered jobs */
    uint64_t recv_ns;      /* monotonic: the request's arrival */
    mode_answer_fn answer; /* renders the answers of its request (NULL: none waits) */
    /* A fresh deferred job: its client waits for the answer, its record is
     * created as it starts, its deadline counts from the arrival. Every
     * other job (async, or recovered from the store) runs from a queued
     * record nobody waits on. */
    bool answers;
    mode_policy pol;     /* its principal's share and limits */
    mode_lane lane_want; /* as submitted (MODE_LANE_AUTO: chosen by mode) */
    exec_lane lane;      /* the lane it was last handed to the pool in */

    /* loop only */
    gw_req *req;              /* the request still waiting for its answer */
    struct event *wait_ev;    /* async wait=: when the request stops waiting */
    struct event *requeue_ev; /* when it goes back to the pool (database away) */
    mode_entry entry;
    bool listed; /* in the registry and the jobs list */
    mode_job *prev, *next;
    bool loop_ref;     /* the loop still holds its reference */
    uint64_t check_ns; /* async: compile time of the submission's check */

    atomic_int claim; /* MODE__WAITING ... */
    /* Who decides how a started job ends: 0 nobody yet; a qg_code, a
     * cancel that got there first (the job ends cancelled, whatever it
     * did); -1 the worker, committing the end it reached (a cancel then
     * does nothing). */
    atomic_int end;

    /* under t.mu: worker -> loop */
    uint64_t id;   /* known job number (deferred: once created) */
    bool finished; /* the worker is done with it */
    int http;      /* the answer's status (deferred, async wait=) */
    qg_buf reply;  /* the answer's body */
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

/* --- job.c: a job's life on the loop ---------------------------------------------- */

/* Registers j (registry, jobs list) and hands it to the pool. */
void mode__job_submit(mode_job *j);
/* Leaves the registry and the jobs list, and drops the loop's reference
 * (the request, if one still waits, is no longer the job's). */
void mode__job_drop(mode_job *j);
/* Takes j's waiting request (NULL when none): it is the caller's to
 * answer; the job no longer hears of it. */
gw_req *mode__job_take_req(mode_job *j);
/* Answers req with an answer of kind (j->answer renders it; a as filled
 * by the caller, the rest from j). 503s carry Retry-After; a replay
 * carries Idempotent-Replayed: true. */
void mode__job_answer(mode_job *j, gw_req *req, mode_answer *a);
/* Sends body with http as kind's answer (the headers as above). */
void mode__send(gw_req *req, mode_answer_kind kind, int http, const qg_buf *body);
/* The answer's fields that come from j: request id, query, base, number. */
void mode__answer_of(const mode_job *j, mode_answer_kind kind, mode_answer *a);
/* Stops job j for reason: one no worker took yet is failed in the store at
 * once (STORE_TIMEOUT for QG_E_TIMEOUT, else failed with reason), and its
 * waiting request answered once that is on disk; a running one is
 * interrupted and ends with reason. Returns false when the job was already
 * committing the end it reached on its own: it ends as it would have. */
bool mode__job_cancel(mode_job *j, qg_code reason);
/* The request of a job that waits (wait=) gets the accepted answer now;
 * the job goes on. */
void mode__job_give_handle(mode_job *j);
/* Stops the wait= and requeue timers. */
void mode__job_stop_timers(mode_job *j);

/* --- job_run.c: the worker -------------------------------------------------------- */

void mode__job_run(exec_task *t, exec_worker *wk);

/* --- job_end.c: how a job ends (pure) ----------------------------------------------- */

/* What the worker knows when a run of a job is over. */
typedef struct mode__end_in {
    bool async;      /* it runs from a queued record (async or recovered), nobody waits */
    bool wait;       /* async wait=: a request may still wait for the end */
    bool ran;        /* its running state was committed (or, deferred, it was created) */
    bool retry;      /* a deferred retry: its key named a stored job, which answers */
    bool rerunnable; /* it cannot write (read-only, enforced) */
    qg_code run;     /* how its statements ended: QG_OK, or the error's code */
    qg_code pages;   /* QG_OK, or the error of a result page the store refused */
    qg_code cancel;  /* 0: the worker decides the end; else a cancel's reason that did first */
    uint32_t nsets;  /* result sets kept (after those cut by a refused page) */
} mode__end_in;

/* Whose message the job's error carries. */
typedef enum mode__err_from {
    MODE__ERR_NONE,  /* success */
    MODE__ERR_RUN,   /* the run's error, as it is */
    MODE__ERR_PAGES, /* the refused page's */
    MODE__ERR_NEW,   /* a new one of the code (a cancel's reason, outcome unknown) */
} mode__err_from;

/* The answer a waiting request gets. */
typedef enum mode__answer {
    MODE__ANSWER_NONE,     /* nobody waits (async without wait=, recovered jobs) */
    MODE__ANSWER_REPLAY,   /* the first job of a retry */
    MODE__ANSWER_ACCEPTED, /* still queued (put back by a drain): its status handle */
    MODE__ANSWER_OUTCOME,  /* its outcome: the result handle, or the failure */
} mode__answer;

typedef struct mode__end_out {
    store_state state;   /* the end state; STORE_QUEUED: queued again (rerun after a restart) */
    qg_code code;        /* the job's error (QG_OK: success) */
    mode__err_from from; /* where the error's message comes from */
    bool store;          /* the end state is committed */
    bool stmts;          /* with the statements' outcome */
    bool sets;           /* it keeps its result sets (else it has none) */
    bool empty_set;      /* a success without a query statement: one empty set 0 */
    mode__answer answer;
} mode__end_out;

/* Decides how a run of a job ends (docs/design.md, "A job's life"): the
 * rules of success, failure, timeout, cancel, drain and retry in one
 * place. Pure: tests/unit/test_job_end.c enumerates it. */
void mode__job_end(const mode__end_in *in, mode__end_out *out);
/* Whether a run that failed goes back to the queue instead of ending: an
 * async job whose database was away (QG_E_BACKEND) before anything of it
 * reached the server (not marked running). (One whose wait for the
 * database ran out ends, saying so: job_run.c.) Pure. */
bool mode__job_requeue_due(const mode__end_in *in);

/* --- job_sink.c: result pages ----------------------------------------------------- */

/* Sets j's row writer up to write result pages through its flow. */
void mode__sink_init(mode_job *j);

/* --- job_stmts.c: statements ------------------------------------------------------- */

/* The job's statements as planned from q's text by be: all queued, with
 * their spans (a malloc'd array of *n). */
store_stmt *mode__stmts_plan(const exec_backend *be, const qg_query *q, size_t *n);
/* Back to the plan (all queued), no sets: a first run, or another after
 * the database was away. Worker thread. */
void mode__stmts_reset(mode_job *j);
/* exec_run's statement hooks (ctx->hook_arg is the job). */
void mode__stmt_begin(exec_ctx *ctx, size_t i, size_t off, size_t used);
void mode__stmt_end(exec_ctx *ctx, size_t i, int rc, const qg_error *err);
/* The statements as they ended (rc, err: the job's outcome; err_at: the
 * statement a compile error is in, or SIZE_MAX). */
void mode__stmts_final(mode_job *j, int rc, const qg_error *err, size_t err_at);
/* Sets from cut on lost a page to the store (why): dropped, and the
 * statements that produced them end in error. */
void mode__sets_cut(mode_job *j, uint32_t cut, const qg_error *why);
/* Copies of the statements, whole or without their columns (t.mu held by
 * the caller, or the worker's own array before anyone else reads it). */
store_stmt *mode__stmts_copy(const store_stmt *v, size_t n);
store_stmt *mode__stmts_lean(const store_stmt *v, size_t n);

/* --- job_idem.c: retried submissions ----------------------------------------------- */

/* Key and fingerprint of q by principal, into op's idem fields, with the
 * key's expiry. */
void mode__idem_op(mode_env *env, const qg_query *q, const char *principal, store_op *op);

/* --- jobs.c: the jobs --------------------------------------------------------------- */

/* Takes a place among the queued async jobs, for j's principal: refused
 * when limit (0: none) are queued already, or j's principal has its
 * max-queued. mode__jobs_unreserve gives it back (the job was refused,
 * parked, or started). Any thread. */
typedef enum mode__reserve {
    MODE__RESERVE_OK,
    MODE__RESERVE_SERVER_FULL,    /* --max-queued */
    MODE__RESERVE_PRINCIPAL_FULL, /* j's principal's max-queued */
} mode__reserve;
mode__reserve mode__jobs_reserve(mode_jobs *js, const mode_job *j, size_t limit);
void mode__jobs_unreserve(mode_jobs *js, const mode_job *j);
/* j, started, is queued again (the database was away): counted as queued
 * again, limits aside. Any thread. */
void mode__jobs_requeue(mode_jobs *js, const mode_job *j);
/* Whether a drain has begun: accepted jobs stay queued in the store. */
bool mode__jobs_parked(const mode_jobs *js);
/* Adds to the counters of queued and running jobs. Any thread. */
void mode__jobs_count(mode_jobs *js, int queued, int running);
/* Gives the allocator's free memory back once a long queue has drained.
 * Loop thread. */
void mode__jobs_trim(mode_jobs *js);
/* Links j into / out of the list of jobs handed to the pool. */
void mode__jobs_link(mode_jobs *js, mode_job *j);
void mode__jobs_unlink(mode_jobs *js, mode_job *j);

#endif
