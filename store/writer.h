/*
 * writer: the one thread that writes the job store.
 *
 * DESIGN. LMDB allows one write transaction at a time and a durable commit
 * costs an fsync, so every write is a store_op handed to this thread. It
 * drains its queue into one transaction (group commit: whatever queued up
 * during the previous fsync shares the next), commits it with sync on, and
 * only then completes each op:
 *   - ops that carry a store_flow (from a worker) complete on the writer
 *     thread: the flow's counters drop and its waiter wakes;
 *   - the others complete on the loop thread: the writer appends them to a
 *     mutex-guarded list and activates a libevent event (libevent's pthread
 *     support is on), and the loop calls op->done there, as exec/pool does.
 * So an async submission is answered only once its record is on disk.
 *
 * A transaction takes at most STORE_TXN_PAGE_BYTES of result pages (and at
 * most STORE_TXN_MAX_OPS ops): big results commit in steps of up to ~4 MiB,
 * so the writer's memory and each commit stay small. A batch of nothing but
 * result pages waits up to STORE_PAGE_LINGER_MS for more pages before it
 * commits (a page needs no fsync of its own: its job's end state commits
 * after it), which turns a 64 KiB-per-commit trickle into fewer, bigger
 * commits; any other op ends the wait at once. A worker storing pages waits
 * (store_flow_wait) while its job has more than STORE_FLOW_MAX_BYTES queued
 * here, so memory stays flat whatever the result size.
 *
 * Room (store/space.c): the writer counts what the next transaction can
 * allocate (never-used pages the disk can hold, free pages LMDB may reuse
 * now) and keeps back a reserve plus the room promised to every queued or
 * running job for its end state: result pages are refused below the
 * reserve and the promises, new jobs below half the reserve, the promises
 * and their own. Ends, reads and deletes are never refused for room. An
 * op that finds no room where freed pages not yet reusable would do is
 * put off: the batch commits before it (with a nudge when that is
 * nothing) and it is tried again; so is one LMDB refuses with
 * MDB_MAP_FULL; a commit that does not fit is redone one op at a time.
 * Any other op LMDB refuses fails alone: the transaction is aborted and
 * the batch redone without it. A failed op carries QG_E_STORE_FULL or
 * QG_E_STORE in op->err; nothing is ever half-written.
 */
#ifndef QG_STORE_WRITER_H
#define QG_STORE_WRITER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/query.h"
#include "store/env.h"
#include "store/record.h"

struct event_base;

#define STORE_TXN_PAGE_BYTES (4u * 1024 * 1024)
/* About the most one transaction writes (its pages, the copies of the
 * trees it touches). */
#define STORE_TXN_BYTES      (2 * STORE_TXN_PAGE_BYTES)
#define STORE_TXN_MAX_OPS    4096
#define STORE_FLOW_MAX_BYTES (4u * 1024 * 1024)
#define STORE_PAGE_LINGER_MS 20

typedef struct store_writer store_writer;
typedef struct store_op store_op;

typedef enum store_op_kind {
    /* A new job from job + q; job.id gets its number. */
    STORE_OP_CREATE,
    /* Replace job.id's header with job (state transitions); drop_pages also
     * deletes its result pages. */
    STORE_OP_UPDATE,
    /* One result page: job_id, set, page, data[0..len). */
    STORE_OP_PAGE,
    /* Take one read of (job_id, set) for a result GET: found tells whether
     * the result was there (success, set exists, reads left, not expired at
     * now_ns); job gets the header as committed (reads already taken). */
    STORE_OP_CONSUME,
    /* Discard (job_id, set)'s result (DELETE): found as for CONSUME; the
     * set's reads drop to 0 and its pages are deleted. */
    STORE_OP_DISCARD,
    /* Delete (job_id, set)'s pages if its reads are used up (after the last
     * GET has streamed them). */
    STORE_OP_RELEASE,
    /* Delete jobs that expired by now_ns, a small batch (STORE_SWEEP_*),
     * and idempotency keys that expired; more tells whether expired ones
     * remain, swept how many jobs went. */
    STORE_OP_SWEEP,
    /* Record a callback delivery's progress on job_id: the header's cb_*
     * fields as committed are replaced by job.cb_* (the rest of the header
     * stays as stored: reads taken meanwhile are not lost); found tells
     * whether the job was there. */
    STORE_OP_CALLBACK,
} store_op_kind;

/* A worker's account with the writer: how much of its job is queued, and
 * the first failure among its result pages. Lives as long as the job; used
 * by one worker and the writer (fields under mu). */
typedef struct store_flow {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t pending_ops;
    size_t pending_bytes;
    bool failed;
    qg_error err;        /* the first failed page's error */
    uint32_t failed_set; /* the lowest set with a page refused; UINT32_MAX: none */
} store_flow;

struct store_op {
    store_op *next; /* private to the writer */
    store_op_kind kind;

    /* in */
    store_job job;      /* CREATE, UPDATE, CALLBACK; out for CONSUME/DISCARD, CREATE */
    const qg_query *q;  /* CREATE: borrowed until completion */
    bool drop_pages;    /* UPDATE: drop the pages of sets >= job.nsets */
    uint64_t job_id;    /* PAGE, CONSUME, DISCARD, RELEASE, CALLBACK */
    uint32_t set, page; /* PAGE, CONSUME, DISCARD, RELEASE */
    uint64_t first_row; /* PAGE: the set's row number of its first row */
    uint32_t nrows;     /* PAGE: rows in it */
    char *data;         /* PAGE: malloc'd, owned by the op */
    size_t len;
    uint64_t now_ns; /* CONSUME, DISCARD, SWEEP, CREATE: wall clock */
    /* CREATE, UPDATE: the job's statements, malloc'd, owned by the op.
     * CREATE writes them; UPDATE replaces the stored ones when set_stmts. */
    store_stmt *stmts;
    size_t nstmts;
    bool set_stmts;
    /* UPDATE: statements still in state fill_from (when not 0) go to
     * fill_to, in the same transaction (a job ended without running them). */
    int fill_from, fill_to;
    /* CREATE with an idempotency key: idem_key = sha256(principal, key),
     * idem_fp = sha256 of what the request asks for. A live entry for the
     * key with the same fingerprint creates nothing: existing is set and job
     * is the first job's header (job.id its number; existing_gone when
     * the job itself was deleted meanwhile). Another fingerprint fails the
     * op with QG_E_CONFLICT. Otherwise the job is created and the key
     * points at it until idem_expires_ns. */
    bool idem;
    unsigned char idem_key[32];
    unsigned char idem_fp[32];
    uint64_t idem_expires_ns;

    /* out */
    int status; /* 0, or -1 with err */
    qg_error err;
    bool found;
    bool more;
    bool existing, existing_gone;
    uint64_t swept;

    /* completion: a flow (writer thread), else done (loop thread) */
    store_flow *flow;
    void (*done)(store_op *op);
    void *arg;

    bool skip; /* private: failed, left out of the batch's retry */
    int tries; /* private: how often it was put off for room */
};

/* A zeroed op of kind (job init'ed). The caller owns it until it submits. */
store_op *store_op_new(store_op_kind kind);
/* Frees op, its job's sets and its data. */
void store_op_free(store_op *op);

/* Starts the writer thread on env. base: where loop completions are
 * delivered (NULL: done is called on the writer thread, for tests). */
store_writer *store_writer_new(store_env *env, struct event_base *base);
/* Queues op. Any thread. From then on the writer owns op until it completes:
 *   op->flow set: the flow's counters include op until it completes; a PAGE
 *     op is then freed by the writer, any other stays the submitter's (read
 *     its outputs after store_flow_drain);
 *   else op->done(op) runs on the loop thread and owns op (store_op_free). */
void store_writer_submit(store_writer *w, store_op *op);
/* Finishes every queued op (and any an op's done queues), delivers their
 * completions on the calling thread, stops the thread, frees w. The loop
 * no longer runs; call before store_env_close. Main thread. */
void store_writer_free(store_writer *w);

typedef struct store_writer_stats {
    uint64_t commits;        /* transactions committed */
    uint64_t ops;            /* ops in them */
    uint64_t creates;        /* jobs created */
    uint64_t create_commits; /* commits that created jobs: creates / this = jobs per fsync */
    uint64_t failed;         /* ops that failed */
    uint64_t full;           /* of them, for lack of room (QG_E_STORE_FULL) */
    uint64_t max_batch;      /* most ops in one commit */
} store_writer_stats;
/* A snapshot of the counters. Any thread. */
void store_writer_stats_get(store_writer *w, store_writer_stats *out);

void store_flow_init(store_flow *f);
void store_flow_destroy(store_flow *f);
/* Worker: waits until at most max_bytes of the flow's ops are queued.
 * Returns 0, or -1 with err (the flow's first failure) when an op failed.
 * The wait ends as soon as the writer commits; it is not cancellable (the
 * writer always makes progress). */
int store_flow_wait(store_flow *f, size_t max_bytes, qg_error *err);
/* Worker: waits until every op of the flow has completed; as
 * store_flow_wait otherwise. */
int store_flow_drain(store_flow *f, qg_error *err);
/* Worker, after store_flow_drain: the lowest set with a page that was
 * not stored (UINT32_MAX: every page was). That set and every later one
 * are incomplete: a page may be missing anywhere in them. */
uint32_t store_flow_failed_set(store_flow *f);
/* Worker: submits op on flow f and waits for it (store_flow_drain). Returns
 * op->status (with err = op->err when -1). */
int store_writer_run(store_writer *w, store_flow *f, store_op *op, qg_error *err);

#endif
