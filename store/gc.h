/*
 * gc: how stored results go away: reads used up (max-result-reads), a
 * result discarded, and the TTL sweep.
 *
 * Reads: each set of a successful job starts with max-result-reads reads.
 * A result GET takes one (STORE_OP_CONSUME, committed before the first byte
 * is streamed); the pages go (STORE_OP_RELEASE) once the last GET streaming
 * them has ended (store_results_pin), so every read that started
 * completes. A set with no reads left answers 404 at once. DELETE discards
 * a set (STORE_OP_DISCARD), also under reads streaming it. The sweep leaves
 * a job with a read streaming for a later round.
 *
 * TTL: a job gets expires_at = its end + its result-ttl and an entry in the
 * expiry index be64(expires_at) be64(job). Reads check expires_at, so an
 * expired result is 404 the moment it expires; the sweep then deletes it for
 * good: a loop timer (every STORE_SWEEP_INTERVAL_MS, or at once while
 * there is more) submits STORE_OP_SWEEP, which takes the index in order and
 * deletes at most STORE_SWEEP_JOBS jobs and STORE_SWEEP_PAGES pages per
 * transaction, so a sweep never holds the writer for long.
 */
#ifndef QG_STORE_GC_H
#define QG_STORE_GC_H

#include <stdint.h>

#include "store/env.h"
#include "store/writer.h"

struct event_base;

#define STORE_SWEEP_INTERVAL_MS 1000
#define STORE_SWEEP_JOBS        64
#define STORE_SWEEP_PAGES       1024

typedef struct store_gc store_gc;

/* Starts the sweep timer on base. Loop thread. */
store_gc *store_gc_start(store_env *env, store_writer *w, struct event_base *base);
/* Stops the timer; a sweep still in the writer finishes on its own. Loop
 * thread, before the writer is freed. */
void store_gc_stop(store_gc *g);
/* Jobs the sweep deleted so far. Loop thread. */
uint64_t store_gc_swept(const store_gc *g);

#endif
