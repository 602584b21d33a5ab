/*
 * stmts: a job's statement records, one per statement under
 * be64(job) be32(index) in the `stmts` database (see record.h).
 *
 * They are written with the job (all queued) and replaced when it ends
 * (its outcome statement by statement), so a batch of any size costs its
 * header nothing, and the loop reads them with one cursor walk.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/internal.h"
#include "store/jobs.h"

int
store__stmts_drop(store_env *e, MDB_txn *txn, uint64_t job)
{
    unsigned char kb[STORE_STMT_KEY_LEN];
    store__stmt_key(kb, job, 0);
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, e->stmts, &c);
    if (rc != 0)
        return rc;
    /* seek again after each delete, as store__pages_drop does: stepping a
     * cursor after mdb_cursor_del is where LMDB's old bugs lived */
    for (;;) {
        MDB_val k = {STORE_STMT_KEY_LEN, kb}, v;
        rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
        if (rc != 0 || k.mv_size != STORE_STMT_KEY_LEN || memcmp(k.mv_data, kb, 8) != 0)
            break;
        rc = mdb_cursor_del(c, 0);
        if (rc != 0)
            break;
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
}

int
store__stmts_put(store_env *e, MDB_txn *txn, uint64_t job, const store_stmt *v, size_t n)
{
    int rc = store__stmts_drop(e, txn, job);
    qg_buf b = QG_BUF_INIT;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        unsigned char kb[STORE_STMT_KEY_LEN];
        store__stmt_key(kb, job, (uint32_t)i);
        qg_buf_reset(&b);
        store_stmt_encode(&v[i], &b);
        store__seal(&b, kb, sizeof(kb));
        MDB_val k = {STORE_STMT_KEY_LEN, kb}, val = {b.len, b.data};
        rc = mdb_put(txn, e->stmts, &k, &val, 0);
    }
    qg_buf_free(&b);
    return rc;
}

int
store__stmts_fill(store_env *e, MDB_txn *txn, uint64_t job, int from, int to, uint64_t now_ns)
{
    unsigned char kb[STORE_STMT_KEY_LEN];
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, e->stmts, &c);
    if (rc != 0)
        return rc;
    store_stmt s;
    store_stmt_init(&s);
    qg_buf b = QG_BUF_INIT;
    /* one key at a time, found again by seeking: writing under a cursor
     * that keeps walking is avoided for the same reason as above */
    for (uint32_t i = 0;; i++) {
        store__stmt_key(kb, job, i);
        MDB_val k = {STORE_STMT_KEY_LEN, kb}, v;
        rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
        if (rc != 0 || k.mv_size != STORE_STMT_KEY_LEN || memcmp(k.mv_data, kb, 8) != 0)
            break;
        i = store__get_be32((const unsigned char *)k.mv_data + 8);
        if ((rc = store__unseal(e, &k, &v, job, "a statement record")) != 0)
            break;
        if (store_stmt_decode(v.mv_data, v.mv_size, &s) != 0 || (int)s.state != from)
            continue;
        s.state = (store_stmt_state)to;
        if (s.start_ns && !s.stop_ns)
            s.stop_ns = now_ns;
        qg_buf_reset(&b);
        store_stmt_encode(&s, &b);
        store__stmt_key(kb, job, i);
        store__seal(&b, kb, sizeof(kb));
        MDB_val nk = {STORE_STMT_KEY_LEN, kb}, nv = {b.len, b.data};
        rc = mdb_put(txn, e->stmts, &nk, &nv, 0);
        if (rc != 0)
            break;
    }
    store_stmt_free(&s);
    qg_buf_free(&b);
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
}

int
store_jobs_read_stmts(store_env *e, uint64_t id, store_stmt **out, size_t *n, qg_error *err)
{
    *out = NULL;
    *n = 0;
    MDB_txn *txn = store__read_begin(e, err);
    if (!txn)
        return -1;
    unsigned char kb[STORE_STMT_KEY_LEN];
    store__stmt_key(kb, id, 0);
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, e->stmts, &c);
    size_t cap = 0;
    if (rc == 0) {
        MDB_val k = {STORE_STMT_KEY_LEN, kb}, v;
        rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
        while (rc == 0 && k.mv_size == STORE_STMT_KEY_LEN && memcmp(k.mv_data, kb, 8) == 0) {
            if (*n == cap) /* most jobs have one statement */
                *out = qg_realloc(*out, sizeof(store_stmt) * (cap = cap ? cap * 2 : 1));
            store_stmt *s = &(*out)[*n];
            store_stmt_init(s);
            if ((rc = store__unseal(e, &k, &v, id, "a statement record")) != 0) {
                store_stmt_free(s);
                break;
            }
            if (store_stmt_decode(v.mv_data, v.mv_size, s) == 0) {
                (*n)++;
            } else {
                store_stmt_free(s);
                qg_warn("store: job %llu has a statement record that does not decode; skipped",
                        (unsigned long long)id);
            }
            rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
        }
        mdb_cursor_close(c);
    }
    store__read_end(e);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        store_stmts_free(*out, *n);
        *out = NULL;
        *n = 0;
        return store__error(e, err, rc, "read statements");
    }
    return 0;
}
