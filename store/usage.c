/*
 * usage: the result bytes each principal has in the store, for its quota
 * (see store/results.h, store_usage_bytes).
 *
 * Every page written or deleted passes through store__page_put or
 * store__pages_drop, which report the value's size here against the job's
 * principal (looked up in the same transaction, cached for the job last
 * seen: pages come in runs). The changes of a write transaction wait in
 * `pend` and reach the counts only when it commits, so an abandoned or
 * redone transaction counts nothing. The counts live in memory only: at
 * start-up, after recovery, they are rebuilt by walking the page keys (a
 * value's size is in its leaf node; its overflow pages are not read), so a
 * kill -9 at any moment leaves nothing to repair.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "store/internal.h"
#include "store/record.h"
#include "store/results.h"

struct store__use {
    char who[64];
    int64_t bytes;
};

static void
add(struct store__use **v, size_t *n, size_t *cap, const char *who, int64_t delta)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i].who, who) == 0) {
            (*v)[i].bytes += delta;
            return;
        }
    if (*n == *cap)
        *v = qg_realloc(*v, sizeof(**v) * (*cap = *cap ? *cap * 2 : 8));
    snprintf((*v)[*n].who, sizeof((*v)[*n].who), "%s", who);
    (*v)[(*n)++].bytes = delta;
}

/* The principal of job in txn ("" when none, or when the job is gone). */
static const char *
principal_of(store_env *e, MDB_txn *txn, uint64_t job)
{
    if (e->use_job == job)
        return e->use_who;
    store_job j;
    store_job_init(&j);
    e->use_who[0] = '\0';
    if (store__job_get(e, txn, job, &j, NULL, NULL) == 0)
        snprintf(e->use_who, sizeof(e->use_who), "%s", j.principal);
    store_job_free(&j);
    e->use_job = job;
    return e->use_who;
}

void
store__usage_delta(store_env *e, MDB_txn *txn, uint64_t job, int64_t delta)
{
    if (!delta)
        return;
    const char *who = principal_of(e, txn, job);
    pthread_mutex_lock(&e->use_mu);
    add(&e->pend, &e->npend, &e->cap_pend, who, delta);
    pthread_mutex_unlock(&e->use_mu);
}

void
store__usage_commit(store_env *e)
{
    pthread_mutex_lock(&e->use_mu);
    for (size_t i = 0; i < e->npend; i++)
        add(&e->use, &e->nuse, &e->cap_use, e->pend[i].who, e->pend[i].bytes);
    e->npend = 0;
    pthread_mutex_unlock(&e->use_mu);
}

void
store__usage_abort(store_env *e)
{
    pthread_mutex_lock(&e->use_mu);
    e->npend = 0;
    pthread_mutex_unlock(&e->use_mu);
    e->use_job = 0; /* a job created in it is gone */
}

int
store__usage_rebuild(store_env *e)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(e->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return rc;
    MDB_cursor *c;
    rc = mdb_cursor_open(txn, e->pages, &c);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    struct store__use *v = NULL;
    size_t n = 0, cap = 0;
    uint64_t job = 0;
    int64_t sum = 0;
    e->use_job = 0;
    MDB_val k, d;
    for (rc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
        if (k.mv_size != STORE_PAGE_KEY_LEN)
            continue;
        uint64_t id = store__get_be64(k.mv_data);
        if (id != job && sum)
            add(&v, &n, &cap, principal_of(e, txn, job), sum);
        if (id != job)
            sum = 0;
        job = id;
        sum += (int64_t)d.mv_size;
    }
    if (sum)
        add(&v, &n, &cap, principal_of(e, txn, job), sum);
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
    e->use_job = 0;
    pthread_mutex_lock(&e->use_mu);
    free(e->use);
    e->use = v;
    e->nuse = n;
    e->cap_use = cap;
    e->npend = 0;
    pthread_mutex_unlock(&e->use_mu);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

void
store__usage_free(store_env *e)
{
    free(e->use);
    free(e->pend);
    e->use = e->pend = NULL;
}

uint64_t
store_usage_bytes(store_env *e, const char *principal)
{
    if (!principal)
        principal = "";
    uint64_t n = 0;
    pthread_mutex_lock(&e->use_mu);
    for (size_t i = 0; i < e->nuse; i++)
        if (strcmp(e->use[i].who, principal) == 0)
            n = e->use[i].bytes > 0 ? (uint64_t)e->use[i].bytes : 0;
    pthread_mutex_unlock(&e->use_mu);
    return n;
}
