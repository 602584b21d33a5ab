/*
 * jobs: job records, their indexes and recovery (see jobs.h).
 */
#include "store/jobs.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/internal.h"

static const char K_NEXT[] = "next_job";

static MDB_val
job_key(unsigned char k[STORE_JOB_KEY_LEN], uint64_t id)
{
    store__put_be64(k, id);
    MDB_val v = {STORE_JOB_KEY_LEN, k};
    return v;
}

int
store__job_get(store_env *e, MDB_txn *txn, uint64_t id, store_job *j, MDB_val *raw,
               size_t *query_off)
{
    unsigned char kb[STORE_JOB_KEY_LEN];
    MDB_val k = job_key(kb, id), v;
    int rc = mdb_get(txn, e->jobs, &k, &v);
    if (rc == 0)
        rc = store__unseal(e, &k, &v, id, "the record");
    if (rc != 0)
        return rc;
    size_t qoff;
    if (store_record_decode(v.mv_data, v.mv_size, j, &qoff) != 0) {
        qg_warn("store: job %llu has a record that does not decode; treated as absent",
                (unsigned long long)id);
        return MDB_NOTFOUND;
    }
    if (raw)
        *raw = v;
    if (query_off)
        *query_off = qoff;
    return 0;
}

/* Whether job j belongs in the callbacks index: it ended and its
 * delivery has not finished. */
static bool
cb_due(const store_job *j)
{
    return j->cb_state == STORE_CB_PENDING && !store_state_active(j->state);
}

/* Puts id into (is) or takes it out of (!is) an index keyed by job id,
 * when that changes (was). */
static int
index_flip(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, bool was, bool is)
{
    MDB_val empty = {0, NULL};
    int rc = 0;
    if (was && !is) {
        rc = mdb_del(txn, dbi, k, NULL);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    } else if (is && !was) {
        rc = mdb_put(txn, dbi, k, &empty, 0);
    }
    return rc;
}

/* Moves job id between the indexes as its state, expiry and callback
 * delivery change. */
static int
reindex(store_env *e, MDB_txn *txn, uint64_t id, const store_job *old, const store_job *nj)
{
    unsigned char kb[STORE_JOB_KEY_LEN];
    MDB_val k = job_key(kb, id), empty = {0, NULL};
    int rc = index_flip(txn, e->active, &k, old && store_state_active(old->state),
                        store_state_active(nj->state));
    if (rc == 0)
        rc = index_flip(txn, e->callbacks, &k, old && cb_due(old), cb_due(nj));
    if (rc != 0)
        return rc;
    uint64_t oexp = old ? old->expires_ns : 0;
    if (oexp == nj->expires_ns)
        return 0;
    unsigned char eb[STORE_EXPIRY_KEY_LEN];
    MDB_val ek = {STORE_EXPIRY_KEY_LEN, eb};
    if (oexp) {
        store__expiry_key(eb, oexp, id);
        rc = mdb_del(txn, e->expiry, &ek, NULL);
        if (rc != 0 && rc != MDB_NOTFOUND)
            return rc;
        rc = 0;
    }
    if (nj->expires_ns) {
        store__expiry_key(eb, nj->expires_ns, id);
        rc = mdb_put(txn, e->expiry, &ek, &empty, 0);
    }
    return rc;
}

int
store__job_create(store_env *e, MDB_txn *txn, store_job *j, const qg_query *q)
{
    j->id = e->next_id;
    qg_buf b = QG_BUF_INIT;
    store_record_encode(j, q, &b);
    unsigned char kb[STORE_JOB_KEY_LEN], nb[8];
    MDB_val k = job_key(kb, j->id);
    store__seal(&b, kb, sizeof(kb));
    MDB_val v = {b.len, b.data};
    /* Job numbers only grow: appending skips the search and keeps the
     * jobs tree's pages full. */
    int rc = mdb_put(txn, e->jobs, &k, &v, MDB_APPEND);
    qg_buf_free(&b);
    if (rc == 0)
        rc = reindex(e, txn, j->id, NULL, j);
    if (rc == 0)
        rc = store__owner_put(e, txn, j);
    if (rc == 0) {
        store__put_be64(nb, j->id + 1);
        MDB_val nk = {sizeof(K_NEXT) - 1, (void *)K_NEXT}, nv = {8, nb};
        rc = mdb_put(txn, e->meta, &nk, &nv, 0);
    }
    if (rc == 0)
        e->next_id = j->id + 1;
    return rc;
}

int
store__job_update(store_env *e, MDB_txn *txn, const store_job *j, bool drop_pages, bool *ended)
{
    store_job old;
    store_job_init(&old);
    MDB_val raw;
    size_t qoff;
    int rc = store__job_get(e, txn, j->id, &old, &raw, &qoff);
    if (rc != 0) {
        store_job_free(&old);
        return rc;
    }

    qg_buf b = QG_BUF_INIT;
    store_record_encode_header(j, &b);
    qg_buf_add(&b, (const char *)raw.mv_data + qoff, raw.mv_size - qoff);
    unsigned char kb[STORE_JOB_KEY_LEN];
    MDB_val k = job_key(kb, j->id);
    store__seal(&b, kb, sizeof(kb));
    MDB_val v = {b.len, b.data};
    rc = mdb_put(txn, e->jobs, &k, &v, 0);
    qg_buf_free(&b);
    if (rc == 0)
        rc = reindex(e, txn, j->id, &old, j);
    if (ended)
        *ended = store_state_active(old.state) && !store_state_active(j->state);
    store_job_free(&old);
    if (rc == 0 && drop_pages) {
        bool more = true;
        while (rc == 0 && more)
            rc = store__pages_drop(e, txn, j->id, STORE_ALL_SETS, j->nsets, SIZE_MAX, &more, NULL);
    }
    return rc;
}

int
store__job_delete(store_env *e, MDB_txn *txn, uint64_t id)
{
    store_job old;
    store_job_init(&old);
    int rc = store__job_get(e, txn, id, &old, NULL, NULL);
    if (rc == 0) {
        store_job gone = old;
        gone.state = STORE_FAILED;
        gone.expires_ns = 0;
        gone.cb_state = STORE_CB_NONE;
        rc = reindex(e, txn, id, &old, &gone);
        if (rc == 0)
            rc = store__owner_del(e, txn, &old);
    }
    if (rc == 0 || rc == MDB_NOTFOUND) {
        int src = store__stmts_drop(e, txn, id);
        if (src != 0)
            rc = src;
    }
    unsigned char kb[STORE_JOB_KEY_LEN];
    MDB_val k = job_key(kb, id);
    if (rc == 0 || rc == MDB_NOTFOUND) {
        int drc = mdb_del(txn, e->jobs, &k, NULL);
        rc = drc == MDB_NOTFOUND ? rc : drc;
    }
    store_job_free(&old);
    return rc;
}

/* --- loop reads ---------------------------------------------------------- */

static int
read_job(store_env *e, uint64_t id, store_job *j, qg_query *q, qg_error *err)
{
    MDB_txn *txn = store__read_begin(e, err);
    if (!txn)
        return -1;
    MDB_val raw;
    size_t qoff;
    int rc = store__job_get(e, txn, id, j, &raw, &qoff);
    int out;
    if (rc == MDB_NOTFOUND) {
        out = 0;
    } else if (rc != 0) {
        out = store__error(e, err, rc, "read job");
    } else {
        out = 1;
        if (q) {
            if (store_record_decode_query((const char *)raw.mv_data + qoff, raw.mv_size - qoff, j,
                                          q) != 0) {
                qg_warn("store: job %llu has a query part that does not decode",
                        (unsigned long long)id);
                out = 0;
            }
        }
    }
    store__read_end(e);
    return out;
}

int
store_jobs_read(store_env *e, uint64_t id, store_job *j, qg_error *err)
{
    return read_job(e, id, j, NULL, err);
}

int
store_jobs_read_query(store_env *e, uint64_t id, store_job *j, qg_query *q, qg_error *err)
{
    return read_job(e, id, j, q, err);
}

int
store_jobs_pending_callbacks(store_env *e, uint64_t **out, size_t *n, qg_error *err)
{
    *out = NULL;
    *n = 0;
    MDB_txn *txn = store__read_begin(e, err);
    if (!txn)
        return -1;
    size_t cap = 0;
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, e->callbacks, &c);
    if (rc == 0) {
        MDB_val k, v;
        rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
        while (rc == 0) {
            if (k.mv_size == STORE_JOB_KEY_LEN) {
                if (*n == cap)
                    *out = qg_realloc(*out, sizeof(uint64_t) * (cap = cap ? cap * 2 : 16));
                (*out)[(*n)++] = store__get_be64(k.mv_data);
            }
            rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
        }
        mdb_cursor_close(c);
    }
    store__read_end(e);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        free(*out);
        *out = NULL;
        *n = 0;
        return store__error(e, err, rc, "read pending callbacks");
    }
    return 0;
}

/* --- recovery ------------------------------------------------------------ */

/* The ids in the active index, in order. */
static uint64_t *
active_ids(store_env *e, MDB_txn *txn, size_t *n, int *rc)
{
    size_t cap = 64;
    uint64_t *ids = qg_malloc(cap * sizeof(*ids));
    *n = 0;
    MDB_cursor *c;
    *rc = mdb_cursor_open(txn, e->active, &c);
    if (*rc != 0)
        return ids;
    MDB_val k, v;
    int r = mdb_cursor_get(c, &k, &v, MDB_FIRST);
    while (r == 0) {
        if (k.mv_size == STORE_JOB_KEY_LEN) {
            if (*n == cap)
                ids = qg_realloc(ids, (cap *= 2) * sizeof(*ids));
            ids[(*n)++] = store__get_be64(k.mv_data);
        }
        r = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(c);
    *rc = r == MDB_NOTFOUND ? 0 : r;
    return ids;
}

/* Applies the recovery rules to the jobs ids[0..n) in one transaction.
 * Returns 0 or an LMDB code (nothing written then). */
static int
recover_txn(store_env *e, const uint64_t *ids, size_t n, uint64_t now_ns, store_recovery *st)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(e->env, NULL, 0, &txn);
    if (rc != 0)
        return rc;
    store_recovery counts = {0};
    store_job j;
    store_job_init(&j);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = store__job_get(e, txn, ids[i], &j, NULL, NULL);
        if (rc == MDB_NOTFOUND) {
            /* an index entry without its record: drop it */
            unsigned char kb[STORE_JOB_KEY_LEN];
            MDB_val k = job_key(kb, ids[i]);
            rc = mdb_del(txn, e->active, &k, NULL);
            continue;
        }
        if (rc != 0 || j.state != STORE_RUNNING)
            continue;
        if (j.rerunnable) {
            j.state = STORE_QUEUED;
            j.started_ns = 0;
            store_job_set_sets(&j, NULL, 0);
            counts.rerun++;
        } else {
            j.state = STORE_FAILED;
            qg_error_set(&j.error, QG_E_OUTCOME_UNKNOWN);
            j.finished_ns = now_ns;
            j.expires_ns = now_ns + j.ttl_ns;
            j.metrics.error_count = 1;
            store_job_set_sets(&j, NULL, 0);
            counts.failed++;
        }
        rc = store__job_update(e, txn, &j, true, NULL);
        /* which of its statements ran is not known either */
        if (rc == 0 && j.state == STORE_FAILED)
            rc = store__stmts_fill(e, txn, j.id, STORE_STMT_QUEUED, STORE_STMT_UNKNOWN, now_ns);
    }
    store_job_free(&j);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    rc = mdb_txn_commit(txn);
    if (rc == 0) {
        st->rerun = counts.rerun;
        st->failed = counts.failed;
    }
    return rc;
}

int
store_jobs_recover(store_env *e, uint64_t now_ns, store_recover_fn fn, void *arg,
                   store_recovery *st, qg_error *err)
{
    memset(st, 0, sizeof(*st));
    MDB_txn *txn;
    int rc = mdb_txn_begin(e->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return store__error(e, err, rc, "recovery");
    size_t n;
    uint64_t *ids = active_ids(e, txn, &n, &rc);
    mdb_txn_abort(txn);
    if (rc == 0)
        rc = recover_txn(e, ids, n, now_ns, st);
    if (rc == MDB_MAP_FULL) {
        /* Room for these end states is kept; should the map still be too
         * full (a store filled by an older qgate), qgate must start on it
         * all the same: the map grows by the reserve for this start. No
         * transaction is open: the writer has nothing yet, the loop's is
         * reset. */
        uint64_t more = e->map_size + store__reserve(e);
        qg_warn("job store: recovery found the map full; it grows to %llu bytes for this start "
                "(raise --store-size to keep it)",
                (unsigned long long)more);
        rc = store__resize(e, more);
        if (rc == 0)
            rc = recover_txn(e, ids, n, now_ns, st);
    }
    if (rc != 0) {
        free(ids);
        return store__error(e, err, rc, "recovery");
    }

    /* Hand the queued ones back, in order. */
    int out = 0;
    for (size_t i = 0; i < n && out == 0; i++) {
        store_job jj;
        qg_query q;
        store_job_init(&jj);
        qg_query_init(&q);
        int found = store_jobs_read_query(e, ids[i], &jj, &q, err);
        if (found == 1 && jj.state == STORE_QUEUED) {
            st->queued++;
            fn(&jj, &q, arg);
        } else if (found < 0) {
            out = -1;
        }
        store_job_free(&jj);
        qg_query_free(&q);
    }
    free(ids);
    return out;
}

bool
store_job_readable(const store_job *j, uint32_t set, uint64_t now)
{
    return !store_state_active(j->state) && set < j->nsets && j->sets[set].reads_left > 0 &&
           (j->expires_ns == 0 || j->expires_ns > now);
}
