/*
 * callback: delivering an async job's final status to its callback_url.
 *
 * When a job that has a callback ends, its record says cb_state pending
 * and the store's callbacks index lists it (in the same transaction as the
 * end state, so a crash cannot lose it). This module, on the loop thread,
 * keeps one timer per pending delivery; when it fires it renders the job's
 * status document (modes/doc_status.c) from the store, signs it, and POSTs it
 * with gateway/client (non-blocking; plain http). The outcome of each
 * attempt is committed through the store writer (STORE_OP_CALLBACK:
 * attempts, last error, next attempt, state) before the next one is
 * scheduled: a 2xx makes it delivered; anything else waits
 * --callback-backoff, doubled after each failure up to
 * --callback-backoff-max, until --callback-retries attempts have failed.
 * At start-up the index is read and every pending delivery resumes at its
 * stored next attempt. Delivery is at least once: an attempt cut by a
 * crash after the receiver answered is made again.
 *
 * Threads: the loop thread only.
 */
#ifndef QG_MODES_CALLBACK_H
#define QG_MODES_CALLBACK_H

#include <stdint.h>

#include "core/err.h"
#include "modes/env.h"

typedef struct mode_callbacks mode_callbacks;

/* At most this many deliveries are in flight at once; the others wait. */
#define MODE_CALLBACK_INFLIGHT 32

mode_callbacks *mode_callbacks_new(mode_env *env);
/* Schedules every pending delivery the store holds (after recovery).
 * Returns 0, or -1 with err. */
int mode_callbacks_start(mode_callbacks *cb, qg_error *err);
/* Job id ended and may have a pending callback: deliver it now. */
void mode_callbacks_due(mode_callbacks *cb, uint64_t id);
/* Stops every delivery (in-flight attempts are dropped; they stay pending
 * in the store for the next start). Before the writer stops. */
void mode_callbacks_stop(mode_callbacks *cb);
void mode_callbacks_free(mode_callbacks *cb);

/* The delay before attempt number attempts+1 after attempts failed ones:
 * base * 2^(attempts-1), at most max. Pure. */
uint64_t mode_callback_backoff(uint64_t base_ns, uint64_t max_ns, uint32_t attempts);

#endif
