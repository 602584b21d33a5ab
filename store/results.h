/*
 * results: stored result pages.
 *
 * A job's result set s is pages 0, 1, ... under the key
 * be64(job) be32(s) be32(page). A page is a 12-byte header, be64 first_row
 * (the set's row number of its first row) and be32 nrows (rows in it),
 * then its text, then its seal (a CRC32C of key and bytes, checked on every
 * read: a page that fails it is an error, never its bytes). The text is
 * about 64 KiB already rendered for the client: JSON
 * rows with their separators (",", or ",\n" when pretty), or CSV lines (the
 * header line, when asked for, starts page 0 and is not a row). Pages end on
 * row boundaries. So a whole read copies each page's text to the socket, a
 * result of any size streams in and out one page at a time, and a read that
 * starts at row r finds its page by a binary search over the headers alone
 * (store_results_find) without touching the text of the pages before it.
 * Pages are written through the writer (store/writer.h: STORE_OP_PAGE) and
 * read here.
 */
#ifndef QG_STORE_RESULTS_H
#define QG_STORE_RESULTS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/env.h"

/* The bytes of result pages (headers and seals included) that jobs of
 * principal ("" or NULL: no authentication) have in the store, as of the
 * last commit; rebuilt from the pages at start-up (store/usage.c). Any
 * thread. */
uint64_t store_usage_bytes(store_env *e, const char *principal);

#define STORE_PAGE_HEADER_LEN 12
/* The text size result pages are cut at (a page ends at the first row
 * boundary past it). */
#define STORE_PAGE_TARGET (64 * 1024)

/* One page as read: valid only during the callback that receives it. */
typedef struct store_page {
    uint64_t first_row;
    uint32_t nrows;
    const char *text;
    size_t len;
} store_page;

typedef void (*store_page_fn)(const store_page *pg, void *arg);

/* Reads page (job, set, page) in one short read transaction, checks its
 * seal and passes it to fn before the transaction ends. Returns 1 when the
 * page was there, 0 when not, -1 with err on a store error or a page that
 * does not match its seal (QG_E_STORE; fn is not called). Loop thread. */
int store_results_read(store_env *e, uint64_t job, uint32_t set, uint32_t page, store_page_fn fn,
                       void *arg, qg_error *err);

/* The page of set (job, set), which has npages pages, that holds row:
 * *page gets the last page whose first row is at most row. A binary search
 * that reads only page headers (log2(npages) of them), in one short read
 * transaction. Returns 1, 0 when no page holds it, -1 with err. Loop
 * thread. */
int store_results_find(store_env *e, uint64_t job, uint32_t set, uint32_t npages, uint64_t row,
                       uint32_t *page, qg_error *err);

/* Reads that stream a set hold it while they run, so that its pages stay
 * until every read that started has ended: the read that takes the last
 * of max-result-reads does not delete them under another one still
 * streaming, and neither does the TTL sweep (an explicit DELETE does).
 * pin marks a read begun; unpin its end, and returns true when it was the
 * set's last running read and one of them took its last read (the caller
 * then submits STORE_OP_RELEASE). Loop thread. */
void store_results_pin(store_env *e, uint64_t job, uint32_t set);
bool store_results_unpin(store_env *e, uint64_t job, uint32_t set, bool used_up);

/* How many pages job has stored (all sets). Loop thread; for tests and
 * diagnostics (it walks the pages' keys). -1 with err on a store error. */
long long store_results_count(store_env *e, uint64_t job, qg_error *err);

#endif
