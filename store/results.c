/*
 * results: result pages (see results.h).
 */
#include "store/results.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/mem.h"
#include "store/internal.h"

int
store__page_put(store_env *e, MDB_txn *txn, uint64_t job, uint32_t set, uint32_t page,
                uint64_t first_row, uint32_t nrows, const void *data, size_t len)
{
    unsigned char kb[STORE_PAGE_KEY_LEN];
    store__page_key(kb, job, set, page);
    size_t n = STORE_PAGE_HEADER_LEN + len;
    MDB_val k = {STORE_PAGE_KEY_LEN, kb}, v = {n + STORE_SEAL_LEN, NULL};
    /* written in place: the header goes in front and the seal after the
     * text without another copy */
    int rc = mdb_put(txn, e->pages, &k, &v, MDB_RESERVE);
    if (rc != 0)
        return rc;
    store__usage_delta(e, txn, job, (int64_t)(n + STORE_SEAL_LEN));
    unsigned char *p = v.mv_data;
    store__put_be64(p, first_row);
    store__put_be32(p + 8, nrows);
    if (len)
        memcpy(p + STORE_PAGE_HEADER_LEN, data, len);
    store__put_be32(p + n, store__seal_crc(kb, sizeof(kb), p, n));
    return 0;
}

/* Drops the process's mapping of the map pages a value lies on, once its
 * bytes are copied out. LMDB maps the file read-only and shared (no
 * MDB_WRITEMAP), so this only unmaps them: the next touch of any of them,
 * this value's or a neighbour's, maps them again from the page cache. It
 * keeps the daemon's RSS from growing by every result it streams out. */
static void
forget(const store_env *e, const void *data, size_t len)
{
    /* only what lies in the map: a value written in the current write
     * transaction sits in a page of the heap, which this would wipe */
    const char *p = data;
    if (!e->map_addr || p < e->map_addr || p + len > e->map_end)
        return;
    static long pg;
    if (!pg)
        pg = sysconf(_SC_PAGESIZE);
    uintptr_t mask = ~(uintptr_t)(pg - 1);
    uintptr_t a = (uintptr_t)data & mask;
    uintptr_t b = ((uintptr_t)data + len + (uintptr_t)pg - 1) & mask;
    if (b > a)
        madvise((void *)a, b - a, MADV_DONTNEED);
}

int
store__pages_drop(store_env *e, MDB_txn *txn, uint64_t job, uint32_t set, uint32_t from_set,
                  size_t budget, bool *more, size_t *dropped)
{
    unsigned char kb[STORE_PAGE_KEY_LEN];
    store__page_key(kb, job, set == STORE_ALL_SETS ? from_set : set, 0);
    /* the prefix that must match: the job, or the job and the set */
    size_t prefix = set == STORE_ALL_SETS ? 8 : 12;
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, e->pages, &c);
    if (rc != 0)
        return rc;
    MDB_val k, v;
    size_t n = 0;
    int64_t freed = 0;
    *more = false;
    /* Each round seeks from the first possible key again: the page just
     * deleted is gone, so the seek lands on the next one. (Stepping the
     * cursor after mdb_cursor_del leaves it uninitialised when a leaf
     * empties.) */
    for (;;) {
        k.mv_size = STORE_PAGE_KEY_LEN;
        k.mv_data = kb;
        rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
        if (rc != 0)
            break;
        if (k.mv_size != STORE_PAGE_KEY_LEN || memcmp(k.mv_data, kb, prefix) != 0)
            break;
        if (n == budget) {
            *more = true;
            break;
        }
        const void *data = v.mv_data;
        size_t len = v.mv_size;
        rc = mdb_cursor_del(c, 0);
        if (rc != 0)
            break;
        freed += (int64_t)len;
        /* freeing a value's overflow pages reads its first page, and the
         * kernel maps its neighbours with it (fault-around): without this
         * a discarded result ends up mapped whole */
        forget(e, data, len);
        n++;
    }
    mdb_cursor_close(c);
    if (dropped)
        *dropped = n;
    if (rc == 0 || rc == MDB_NOTFOUND)
        store__usage_delta(e, txn, job, -freed);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int
store_results_read(store_env *e, uint64_t job, uint32_t set, uint32_t page, store_page_fn fn,
                   void *arg, qg_error *err)
{
    MDB_txn *txn = store__read_begin(e, err);
    if (!txn)
        return -1;
    unsigned char kb[STORE_PAGE_KEY_LEN];
    store__page_key(kb, job, set, page);
    MDB_val k = {STORE_PAGE_KEY_LEN, kb}, v;
    int rc = mdb_get(txn, e->pages, &k, &v);
    MDB_val whole = v;
    if (rc == 0)
        rc = store__unseal(e, &k, &v, job, "a result page");
    int out = 1;
    if (rc == 0 && v.mv_size >= STORE_PAGE_HEADER_LEN) {
        const unsigned char *p = v.mv_data;
        store_page pg = {store__get_be64(p), store__get_be32(p + 8),
                         (const char *)p + STORE_PAGE_HEADER_LEN,
                         v.mv_size - STORE_PAGE_HEADER_LEN};
        fn(&pg, arg);
        forget(e, whole.mv_data, whole.mv_size);
    } else if (rc == 0 || rc == MDB_NOTFOUND)
        out = 0;
    else
        out = store__error(e, err, rc, "read result page");
    store__read_end(e);
    return out;
}

int
store_results_find(store_env *e, uint64_t job, uint32_t set, uint32_t npages, uint64_t row,
                   uint32_t *page, qg_error *err)
{
    MDB_txn *txn = store__read_begin(e, err);
    if (!txn)
        return -1;
    /* invariant: first_row(lo) <= row, first_row(hi) > row (hi may be npages) */
    uint32_t lo = 0, hi = npages;
    int out = npages > 0;
    while (out == 1 && hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        unsigned char kb[STORE_PAGE_KEY_LEN];
        store__page_key(kb, job, set, mid);
        MDB_val k = {STORE_PAGE_KEY_LEN, kb}, v;
        int rc = mdb_get(txn, e->pages, &k, &v);
        if (rc == MDB_NOTFOUND || (rc == 0 && v.mv_size < STORE_PAGE_HEADER_LEN)) {
            out = 0;
        } else if (rc != 0) {
            out = store__error(e, err, rc, "find result page");
        } else if (store__get_be64(v.mv_data) <= row) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    store__read_end(e);
    if (out == 1)
        *page = lo;
    return out;
}

long long
store_results_count(store_env *e, uint64_t job, qg_error *err)
{
    MDB_txn *txn = store__read_begin(e, err);
    if (!txn)
        return -1;
    unsigned char kb[STORE_PAGE_KEY_LEN];
    store__page_key(kb, job, 0, 0);
    MDB_cursor *c;
    long long n = 0;
    int rc = mdb_cursor_open(txn, e->pages, &c);
    if (rc == 0) {
        MDB_val k = {STORE_PAGE_KEY_LEN, kb}, v;
        rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
        while (rc == 0 && k.mv_size == STORE_PAGE_KEY_LEN && memcmp(k.mv_data, kb, 8) == 0) {
            n++;
            rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
        }
        mdb_cursor_close(c);
    }
    store__read_end(e);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return store__error(e, err, rc, "count result pages");
    return n;
}

/* --- reads in progress ------------------------------------------------------ */

struct store__pin {
    uint64_t job;
    uint32_t set;
    uint32_t count;
    bool used_up; /* one of its reads took the last one */
};

void
store_results_pin(store_env *e, uint64_t job, uint32_t set)
{
    pthread_mutex_lock(&e->pin_mu);
    for (size_t i = 0; i < e->npins; i++)
        if (e->pins[i].job == job && e->pins[i].set == set) {
            e->pins[i].count++;
            pthread_mutex_unlock(&e->pin_mu);
            return;
        }
    if (e->npins == e->cap_pins)
        e->pins = qg_realloc(e->pins,
                             sizeof(*e->pins) * (e->cap_pins = e->cap_pins ? e->cap_pins * 2 : 8));
    e->pins[e->npins++] = (struct store__pin){job, set, 1, false};
    pthread_mutex_unlock(&e->pin_mu);
}

bool
store_results_unpin(store_env *e, uint64_t job, uint32_t set, bool used_up)
{
    bool release = false;
    pthread_mutex_lock(&e->pin_mu);
    for (size_t i = 0; i < e->npins; i++) {
        struct store__pin *p = &e->pins[i];
        if (p->job != job || p->set != set)
            continue;
        p->used_up = p->used_up || used_up;
        if (--p->count == 0) {
            release = p->used_up;
            *p = e->pins[--e->npins];
        }
        break;
    }
    pthread_mutex_unlock(&e->pin_mu);
    return release;
}

bool
store__pinned(store_env *e, uint64_t job, uint32_t set)
{
    bool yes = false;
    pthread_mutex_lock(&e->pin_mu);
    for (size_t i = 0; i < e->npins && !yes; i++)
        yes = e->pins[i].job == job && (set == STORE_ALL_SETS || e->pins[i].set == set);
    pthread_mutex_unlock(&e->pin_mu);
    return yes;
}
