/*
 * owners: each principal's jobs, newest first, for the listing of a
 * principal's recent jobs (GET /query/service/jobs).
 *
 * The `owners` database holds one entry per stored job, keyed by
 * sha256(principal) then be64(job), with an empty value: a principal's
 * entries are adjacent and in job-number order, so its newest jobs are
 * found by one seek and a walk backwards, whatever the other principals
 * hold. The writer puts the entry in the transaction that creates the job
 * and deletes it in the one that deletes the job (store/jobs.c), so the
 * index and the jobs never disagree. Without --auth-file every client is
 * the principal "" (one principal, as jobs stored then say).
 *
 * A listing reads at most a bounded number of entries and one record per
 * job it shows (docs/design.md, "Job store"), never the whole store.
 * Stores of format 2 and 3 had no index: it is built once, at the first
 * open (store__owners_upgrade).
 */
#ifndef QG_STORE_OWNERS_H
#define QG_STORE_OWNERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/env.h"
#include "store/record.h"

/* Key: sha256(principal), be64(job). */
#define STORE_OWNERS_KEY_LEN 40

/* One job of a listing. */
typedef struct store_listed {
    store_job job;        /* its header (state, times, sets, error, ...) */
    char *statement;      /* its first bytes, cut on a UTF-8 boundary; malloc'd, NUL-terminated */
    size_t statement_len; /* bytes kept */
    bool statement_cut;   /* the statement is longer than what is kept */
    char *ctx;            /* the client context id, cut likewise; NULL when none */
    size_t ctx_len;
    bool ctx_cut;
} store_listed;

typedef struct store_list_opts {
    const char *principal; /* whose jobs; NULL or "": the anonymous principal */
    uint64_t before;       /* only jobs numbered below this (0: the newest) */
    size_t limit;          /* at most this many jobs */
    size_t examine;        /* at most this many index entries looked at */
    size_t text_max;       /* bytes kept of the statement and the context id */
    uint64_t now_ns;       /* wall clock: jobs expired by then are left out */
} store_list_opts;

/* The principal's jobs, newest first: *out, a malloc'd array of *n (free
 * it with store_listed_free). *next is 0 when the walk reached the
 * principal's oldest job, else the number to pass as `before` for the
 * jobs that follow (it stopped at limit, or at examine entries). A record
 * that is damaged is left out (logged, and /health says so). Returns 0,
 * or -1 with err. Loop thread (one read transaction). */
int store_jobs_list(store_env *e, const store_list_opts *o, store_listed **out, size_t *n,
                    uint64_t *next, qg_error *err);
void store_listed_free(store_listed *v, size_t n);

#endif
