/*
 * jobs: job records in the store, their state transitions, and recovery.
 *
 * A job moves queued -> running -> success | failed | timeout (deferred jobs
 * are created running; a job can also fail from queued, when cancelled or
 * refused before it ran). Every transition is one record update through the
 * writer (store/writer.h), which keeps two indexes in step: `active` holds the
 * queued and running jobs (what recovery reads), `expiry` the finished ones
 * by expiry time (what the sweep reads).
 *
 * Recovery, at start-up before anything is served (store_jobs_recover):
 *   queued  -> stays queued and is handed back to run;
 *   running -> if rerunnable (it asked for readonly, or all its statements
 *              were verified read-only by the backend and it ran with
 *              read-only enforcement; see record.h) it is queued again, its
 *              partial pages deleted, and run again; otherwise it is failed
 *              with QG_E_OUTCOME_UNKNOWN (a write may or may not have
 *              committed, so it is never silently repeated);
 *   finished jobs are left as they are (status and result until the TTL).
 * The running state is committed before a job executes anything that may
 * write (modes/job_run.c), which is what makes this rule sound. Recovery finds
 * room for its ends: the writer promised it when the jobs were accepted,
 * and a map still too full grows by the reserve for that start.
 */
#ifndef QG_STORE_JOBS_H
#define QG_STORE_JOBS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/query.h"
#include "store/env.h"
#include "store/record.h"

/* Whether set of job j may still be read at now (wall ns): j ended with
 * that set (a failed batch keeps the sets its statements completed), it
 * has reads left, and it has not expired. Pure. */
bool store_job_readable(const store_job *j, uint32_t set, uint64_t now);

/* Reads job id's header into j (store_job_init'ed or freed by the caller;
 * its sets are replaced). Returns 1 when found, 0 when there is no such
 * job, -1 with err on a store error. Loop thread (one short read
 * transaction). */
int store_jobs_read(store_env *e, uint64_t id, store_job *j, qg_error *err);
/* The same, and the job's query into q (qg_query_init'ed by the caller;
 * free it either way). */
int store_jobs_read_query(store_env *e, uint64_t id, store_job *j, qg_query *q, qg_error *err);

/* Reads job id's statement records, in order, into a malloc'd array *out
 * of *n (free with store_stmts_free); none is an empty array. Returns 0, or
 * -1 with err. Loop thread. */
int store_jobs_read_stmts(store_env *e, uint64_t id, store_stmt **out, size_t *n, qg_error *err);

/* Ended jobs whose callback delivery is pending (the callbacks index), in
 * job number order: a malloc'd array *out of *n. Returns 0, or -1 with
 * err. Loop thread. */
int store_jobs_pending_callbacks(store_env *e, uint64_t **out, size_t *n, qg_error *err);

typedef struct store_recovery {
    uint64_t queued; /* queued jobs handed back (including reruns) */
    uint64_t rerun;  /* running rerunnable jobs queued again */
    uint64_t failed; /* running jobs failed as outcome unknown */
} store_recovery;

/* Called for each job that is queued after recovery, in job number order.
 * The callee may take the contents of j and q (moving the structs and
 * re-initialising them); whatever is left in them is freed after it
 * returns. */
typedef void (*store_recover_fn)(store_job *j, qg_query *q, void *arg);

/* Applies the recovery rules above in one transaction, then calls fn for
 * every queued job. now_ns (wall clock) stamps jobs it fails. Main thread,
 * before the writer starts. Returns 0, or -1 with err (the store is then
 * unchanged). */
int store_jobs_recover(store_env *e, uint64_t now_ns, store_recover_fn fn, void *arg,
                       store_recovery *st, qg_error *err);

#endif
