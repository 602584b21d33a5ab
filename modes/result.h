/*
 * result: reading a stored job's result sets, for any protocol: who may
 * read a set and when (mode_result_check), a read in progress
 * (mode_read_*), and discarding a set (mode_result_discard). The protocol
 * renders the pages (api/result.c: AsterixDB's document, windows, arrays,
 * CSV).
 *
 * Reads: each set of a job starts with max-result-reads reads. A read that
 * reaches the set's last row takes one of them, committed through the
 * store writer (STORE_OP_CONSUME) before its first byte goes out; a window
 * that stops short of the end takes none, so a client can page through a
 * result and the read is counted once, when it reaches the end. Every read
 * holds the set while it runs (store_results_pin): the pages are deleted
 * (STORE_OP_RELEASE) when the last read holding them ends and one of the
 * reads took the last read, so every read that started completes. A
 * discard (STORE_OP_DISCARD) deletes the pages at once: reads streaming
 * them are cut (their next page is gone).
 *
 * Threads: the loop thread; each page is read in its own short read
 * transaction (never one held across a slow client).
 */
#ifndef QG_MODES_RESULT_H
#define QG_MODES_RESULT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "modes/env.h"
#include "store/record.h"
#include "store/results.h"

/* Whether principal (NULL: no authentication) may read set of job at now
 * (wall ns): 1 with j filled (the job's header, store_job_init'ed by the
 * caller), 0 when not (no such job for principal, not ended with that
 * set, no reads left, expired), -1 with err on a store error. */
int mode_result_check(mode_env *env, uint64_t job, uint32_t set, const char *principal,
                      uint64_t now, store_job *j, qg_error *err);

typedef struct mode_read mode_read;

/* A read's set is ready: rc 1 (j: the job's header as committed, with
 * this read taken), 0 (the result went meanwhile: swept, discarded, used
 * up), -1 (err: the store failed). */
typedef void (*mode_read_ready)(mode_read *r, int rc, const store_job *j, const qg_error *err,
                                void *arg);

/* Begins a read of job's set (which mode_result_check found readable at
 * now): the set's pages stay until mode_read_end. take: the read reaches
 * the set's end and takes one of its reads first; ready(arg) runs once
 * that is committed. Without take, ready is never called and the read may
 * start at once. */
mode_read *mode_read_begin(mode_env *env, uint64_t job, uint32_t set, uint64_t now, bool take,
                           mode_read_ready ready, void *arg);
/* Reads page of the set into fn (store_results_read: 1, 0 gone, -1 err). */
int mode_read_page(mode_read *r, uint32_t page, store_page_fn fn, void *arg, qg_error *err);
/* The page of the set (npages pages) that holds row (store_results_find). */
int mode_read_find(mode_read *r, uint32_t npages, uint64_t row, uint32_t *page, qg_error *err);
/* Ends the read (done, or its client left): the set is held no more; the
 * last read of a set whose reads are used up has its pages deleted. ready
 * is not called after this (a take still in the writer is finished
 * there). */
void mode_read_end(mode_read *r);

typedef struct mode_discard mode_discard;

/* Discards job's set (it was readable at now): its reads drop to 0 and its
 * pages are deleted. done(found, arg) runs on the loop once committed
 * (found: there was a result to discard), unless mode_discard_forget came
 * first. */
mode_discard *mode_result_discard(mode_env *env, uint64_t job, uint32_t set, uint64_t now,
                                  void (*done)(bool found, void *arg), void *arg);
/* done will not be called (its arg is going away). */
void mode_discard_forget(mode_discard *d);

#endif
