/*
 * sched: the order in which a pool's workers take tasks: two lanes and,
 * in the batch lane, fair queues between principals.
 *
 * DESIGN. A person waiting for an answer (immediate, stream, deferred,
 * `wait=`) must never queue behind stored batch work, and batch work must
 * still progress under a flood of interactive requests. So:
 *   - the INTERACTIVE lane is one FIFO and is served first;
 *   - the BATCH lane may hold at most `batch_max` workers at once (the
 *     pool's others are left to interactive work), and after
 *     EXEC_SCHED_BATCH_EVERY interactive takes that passed over a batch
 *     task that could have run, the next take is a batch one: batch gets at
 *     least one take in EXEC_SCHED_BATCH_EVERY + 1 under any flood;
 *   - inside the batch lane every principal (a "flow", keyed by name; ""
 *     is every anonymous client together) has its own FIFO, and the flows
 *     with work take turns (weighted round robin: a flow takes up to its
 *     weight tasks in a row); a flow at its own limit of running batch
 *     tasks is passed over until one ends.
 * Flows are created on first use and kept (their counters feed /metrics):
 * their number is bounded by the principals of the auth file, plus one.
 *
 * Pure: no locks, no threads. exec/pool.c calls it under its queue lock.
 */
#ifndef QG_EXEC_SCHED_H
#define QG_EXEC_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct exec_task exec_task;

typedef enum exec_lane {
    EXEC_LANE_INTERACTIVE = 0, /* somebody waits: served first */
    EXEC_LANE_BATCH = 1,       /* stored work: a bounded share, fair between principals */
    EXEC_LANES
} exec_lane;

/* The lane's name in /metrics: "interactive", "batch". */
const char *exec_lane_name(exec_lane l);

/* How a task is to be scheduled (copied at submission). */
typedef struct exec_sched_in {
    exec_lane lane;
    const char *principal; /* NULL or "": anonymous */
    unsigned weight;       /* batch turns in a row; 0 counts as 1 */
    unsigned max_running;  /* batch tasks of this principal at once; 0: no limit */
} exec_sched_in;

/* Interactive takes that may pass over a waiting batch task in a row. */
#define EXEC_SCHED_BATCH_EVERY 8

/* Wait-time histogram bounds (ns, upper, inclusive); one more bucket for
 * everything above the last. */
#define EXEC_SCHED_BUCKETS 12
extern const uint64_t exec_sched_bucket_ns[EXEC_SCHED_BUCKETS - 1];

/* Reasons a submission is refused before it is queued, per principal. */
typedef enum exec_reject {
    EXEC_REJECT_SERVER_QUEUED,    /* --max-queued */
    EXEC_REJECT_PRINCIPAL_QUEUED, /* the principal's max-queued */
    EXEC_REJECT_TIMEOUT,          /* a timeout above the maximum */
    EXEC_REJECT_RESULT_TTL,       /* result-ttl above --max-result-ttl */
    EXEC_REJECT_RESULT_READS,     /* max-result-reads above the maximum */
    EXEC_REJECT_QUOTA,            /* stored result bytes above the quota */
    EXEC_REJECTS
} exec_reject;
/* Its name in /metrics ("server_queued", ...). */
const char *exec_reject_name(exec_reject r);

typedef struct exec_flow exec_flow;
struct exec_flow {
    char name[64]; /* "": anonymous */
    unsigned weight;
    unsigned max_running;
    size_t queued[EXEC_LANES];
    size_t running[EXEC_LANES];
    uint64_t wait_hist[EXEC_LANES][EXEC_SCHED_BUCKETS];
    uint64_t wait_sum_ns[EXEC_LANES];
    uint64_t rejected[EXEC_REJECTS];
    exec_task *bhead, *btail; /* its batch FIFO */
    exec_flow *ring_next;     /* in the ring of flows with batch work */
    bool in_ring;
    exec_flow *next; /* every flow */
};

typedef struct exec_sched {
    exec_task *ihead, *itail; /* the interactive FIFO */
    size_t queued[EXEC_LANES];
    size_t running[EXEC_LANES];
    int batch_max;    /* batch tasks running at once */
    unsigned skipped; /* interactive takes that passed over batch work */
    exec_flow *flows; /* every flow */
    exec_flow *ring;  /* the flow whose turn it is; NULL: no batch work */
    unsigned credit;  /* tasks ring may still take this turn */
    exec_flow *last;  /* the flow found last (a look-up cache) */
} exec_sched;

void exec_sched_init(exec_sched *s, int batch_max);
void exec_sched_free(exec_sched *s);
/* The flow of principal (NULL or "": anonymous), created when new. */
exec_flow *exec_sched_flow(exec_sched *s, const char *principal);
/* Appends t (its lane and flow from in). */
void exec_sched_push(exec_sched *s, exec_task *t, const exec_sched_in *in);
/* Takes the next task a free worker should run, or NULL when none may run
 * now (none queued, or the batch work waiting is over its limits). The
 * task is counted running and its wait (now_ns - its submit_ns) recorded. */
exec_task *exec_sched_take(exec_sched *s, uint64_t now_ns);
/* A task exec_sched_take gave out (of flow f, in lane) has ended. */
void exec_sched_done(exec_sched *s, exec_flow *f, exec_lane lane);
/* Removes t if it is queued; returns whether it was. */
bool exec_sched_remove(exec_sched *s, exec_task *t);
/* Tasks a free worker could take now, at most (for waking workers). */
size_t exec_sched_ready(const exec_sched *s);

#endif
