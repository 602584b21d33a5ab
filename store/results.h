/*
 * results: stored result pages.
 *
 * A job's result set s is pages 0, 1, ... under the key
 * be64(job) be32(s) be32(page), each about 64 KiB of text already rendered
 * for the client (JSON rows with their separators, or CSV lines), so reading
 * a result back copies bytes to the socket and a result of any size streams
 * in and out one page at a time. Pages are written through the writer
 * (store/writer.h: STORE_OP_PAGE) and read here.
 */
#ifndef QG_STORE_RESULTS_H
#define QG_STORE_RESULTS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/env.h"

/* Receives a page's bytes; they are valid only during the call. */
typedef void (*store_bytes_fn)(const void *data, size_t len, void *arg);

/* Reads page (job, set, page) in one short read transaction and passes its
 * bytes to fn before the transaction ends. Returns 1 when the page was
 * there, 0 when not, -1 with err on a store error. Loop thread. */
int store_results_read(store_env *e, uint64_t job, uint32_t set, uint32_t page, store_bytes_fn fn,
                       void *arg, qg_error *err);

/* How many pages job has stored (all sets). Loop thread; for tests and
 * diagnostics (it walks the pages' keys). -1 with err on a store error. */
long long store_results_count(store_env *e, uint64_t job, qg_error *err);

#endif
