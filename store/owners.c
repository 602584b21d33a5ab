/*
 * owners: the index of each principal's jobs and the listing it serves
 * (see owners.h).
 */
#include "store/owners.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "store/internal.h"

static const char K_FORMAT[] = "format";

/* sha256 of the principal ("" when none): the first 32 bytes of its keys. */
static void
owner_prefix(const char *principal, unsigned char out[32])
{
    const char *p = principal ? principal : "";
    EVP_Digest(p, strlen(p), out, NULL, EVP_sha256(), NULL);
}

static MDB_val
owner_key(unsigned char k[STORE_OWNERS_KEY_LEN], const char *principal, uint64_t job)
{
    owner_prefix(principal, k);
    store__put_be64(k + 32, job);
    MDB_val v = {STORE_OWNERS_KEY_LEN, k};
    return v;
}

int
store__owner_put(store_env *e, MDB_txn *txn, const store_job *j)
{
    unsigned char kb[STORE_OWNERS_KEY_LEN];
    MDB_val k = owner_key(kb, j->principal, j->id), empty = {0, NULL};
    return mdb_put(txn, e->owners, &k, &empty, 0);
}

int
store__owner_del(store_env *e, MDB_txn *txn, const store_job *j)
{
    unsigned char kb[STORE_OWNERS_KEY_LEN];
    MDB_val k = owner_key(kb, j->principal, j->id);
    int rc = mdb_del(txn, e->owners, &k, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* --- the upgrade ------------------------------------------------------------ */

/* One pass over the jobs, putting each one's entry, then format 4. *n
 * gets how many jobs were indexed. Returns 0 or an LMDB code (the
 * transaction is then aborted). */
static int
build(store_env *e, uint64_t *n)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(e->env, NULL, 0, &txn);
    if (rc != 0)
        return rc;
    MDB_cursor *c;
    rc = mdb_cursor_open(txn, e->jobs, &c);
    store_job j;
    store_job_init(&j);
    *n = 0;
    if (rc == 0) {
        MDB_val k, v;
        int r = mdb_cursor_get(c, &k, &v, MDB_FIRST);
        while (r == 0 && rc == 0) {
            uint64_t id = k.mv_size == STORE_JOB_KEY_LEN ? store__get_be64(k.mv_data) : 0;
            size_t qoff;
            /* the check at open has read every record: one that does not
             * decode now is left out, as a read would leave it out */
            if (id && store__unseal(e, &k, &v, id, "the record") == 0 &&
                store_record_decode(v.mv_data, v.mv_size, &j, &qoff) == 0) {
                j.id = id;
                rc = store__owner_put(e, txn, &j);
                ++*n;
            }
            if (rc == 0)
                r = mdb_cursor_get(c, &k, &v, MDB_NEXT);
        }
        if (rc == 0 && r != MDB_NOTFOUND)
            rc = r;
        mdb_cursor_close(c);
    }
    store_job_free(&j);
    if (rc == 0) {
        unsigned char vb[4];
        store__put_be32(vb, STORE_FORMAT_VERSION);
        MDB_val fk = {sizeof(K_FORMAT) - 1, (void *)K_FORMAT}, fv = {4, vb};
        rc = mdb_put(txn, e->meta, &fk, &fv, 0);
    }
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn);
}

int
store__owners_upgrade(store_env *e, qg_error *err)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(e->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return store__error(e, err, rc, "read format version");
    MDB_val k = {sizeof(K_FORMAT) - 1, (void *)K_FORMAT}, v;
    uint32_t ver = mdb_get(txn, e->meta, &k, &v) == 0 && v.mv_size == 4 ? store__get_be32(v.mv_data)
                                                                        : STORE_FORMAT_VERSION;
    MDB_stat st;
    mdb_stat(txn, e->jobs, &st);
    mdb_txn_abort(txn);
    if (ver == STORE_FORMAT_VERSION)
        return 0;

    uint64_t t0 = qg_now_ns(), n = 0;
    rc = build(e, &n);
    if (rc == MDB_MAP_FULL) {
        /* qgate always starts on its own store: a map too full for the
         * index grows by what the entries take (a 40-byte key and its
         * node, twice over for the branch pages and the copies a
         * transaction makes) and the reserve */
        uint64_t more = e->map_size + (uint64_t)st.ms_entries * 160 + store__reserve(e);
        qg_warn("job store: the map is too full to index its jobs by principal; it grows to "
                "%llu bytes for this start (raise --store-size to keep it)",
                (unsigned long long)more);
        rc = store__resize(e, more);
        if (rc == 0)
            rc = build(e, &n);
    }
    if (rc != 0)
        return store__error(e, err, rc, "upgrade the format (index the jobs by principal)");
    qg_info("job store %s: upgraded from format %u to %u: %llu jobs indexed by principal in "
            "%.1f ms",
            e->dir, (unsigned)ver, (unsigned)STORE_FORMAT_VERSION, (unsigned long long)n,
            (double)(qg_now_ns() - t0) / 1e6);
    return 0;
}

/* --- the listing ------------------------------------------------------------- */

/* s[0..n) cut to at most max bytes, on a UTF-8 boundary: *len, *cut. */
static char *
cut_text(const char *s, size_t n, size_t max, size_t *len, bool *cut)
{
    size_t k = n;
    *cut = false;
    if (k > max) {
        k = max;
        /* back off continuation bytes (10xxxxxx) to a character's start */
        while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
            k--;
        *cut = true;
    }
    *len = k;
    return qg_memdup0(s, k);
}

/* Fills one listed job from job id's record; returns 1 when it is listed,
 * 0 when it is left out (gone, expired, another principal's: a hash
 * collision), or an LMDB code. */
static int
list_one(store_env *e, MDB_txn *txn, const store_list_opts *o, uint64_t id, store_listed *l)
{
    MDB_val raw;
    size_t qoff;
    store_job_init(&l->job);
    int rc = store__job_get(e, txn, id, &l->job, &raw, &qoff);
    const char *who = o->principal ? o->principal : "";
    const char *stmt = NULL, *ctx = NULL;
    size_t sn = 0, cn = 0;
    if (rc == 0 && (strcmp(l->job.principal, who) != 0 ||
                    (l->job.expires_ns && l->job.expires_ns <= o->now_ns) ||
                    store_record_texts((const char *)raw.mv_data + qoff, raw.mv_size - qoff, &stmt,
                                       &sn, &ctx, &cn) != 0))
        rc = MDB_NOTFOUND;
    if (rc != 0) {
        store_job_free(&l->job);
        if (rc == STORE__BAD_SEAL) {
            /* logged by the unseal; the store is marked damaged, and the
             * other jobs are still listed */
            qg_error ignored;
            store__error(e, &ignored, rc, "list jobs");
            rc = MDB_NOTFOUND;
        }
        return rc == MDB_NOTFOUND ? 0 : rc;
    }
    l->job.id = id;
    l->statement = cut_text(stmt, sn, o->text_max, &l->statement_len, &l->statement_cut);
    l->ctx = ctx ? cut_text(ctx, cn, o->text_max, &l->ctx_len, &l->ctx_cut) : NULL;
    if (!ctx) {
        l->ctx_len = 0;
        l->ctx_cut = false;
    }
    return 1;
}

/* Positions c on the principal's newest entry below before (0: none):
 * 0, or MDB_NOTFOUND when it has none. k then points into the map. */
static int
seek(MDB_cursor *c, const unsigned char prefix[32], uint64_t before, MDB_val *k)
{
    /* the last key below (prefix, before); no job is numbered UINT64_MAX */
    unsigned char kb[STORE_OWNERS_KEY_LEN];
    memcpy(kb, prefix, 32);
    store__put_be64(kb + 32, before ? before : UINT64_MAX);
    *k = (MDB_val){sizeof(kb), kb};
    MDB_val v;
    int rc = mdb_cursor_get(c, k, &v, MDB_SET_RANGE);
    if (rc == MDB_NOTFOUND)
        rc = mdb_cursor_get(c, k, &v, MDB_LAST);
    else if (rc == 0)
        rc = mdb_cursor_get(c, k, &v, MDB_PREV);
    if (rc != 0)
        return rc;
    /* below the seek key, so ours exactly when it has our prefix */
    if (k->mv_size != STORE_OWNERS_KEY_LEN || memcmp(k->mv_data, prefix, 32) != 0)
        return MDB_NOTFOUND;
    return 0;
}

int
store_jobs_list(store_env *e, const store_list_opts *o, store_listed **out, size_t *n,
                uint64_t *next, qg_error *err)
{
    *out = NULL;
    *n = 0;
    *next = 0;
    unsigned char prefix[32];
    owner_prefix(o->principal, prefix);
    MDB_txn *txn = store__read_begin(e, err);
    if (!txn)
        return -1;
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, e->owners, &c);
    if (rc != 0) {
        store__read_end(e);
        return store__error(e, err, rc, "list jobs");
    }
    store_listed *v = qg_calloc(o->limit ? o->limit : 1, sizeof(*v));
    MDB_val k, val;
    rc = seek(c, prefix, o->before, &k);
    size_t looked = 0;
    uint64_t last = 0;
    while (rc == 0 && *n < o->limit && looked < o->examine) {
        last = store__get_be64((const unsigned char *)k.mv_data + 32);
        looked++;
        int got = list_one(e, txn, o, last, &v[*n]);
        if (got < 0 || got > 1) {
            rc = got;
            break;
        }
        *n += (size_t)got;
        rc = mdb_cursor_get(c, &k, &val, MDB_PREV);
        if (rc == 0 && (k.mv_size != STORE_OWNERS_KEY_LEN || memcmp(k.mv_data, prefix, 32) != 0))
            rc = MDB_NOTFOUND;
    }
    /* stopped by a bound with entries of ours left: they follow `last` */
    if (rc == 0)
        *next = last;
    mdb_cursor_close(c);
    store__read_end(e);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        store_listed_free(v, *n);
        *out = NULL;
        *n = 0;
        *next = 0;
        return store__error(e, err, rc, "list jobs");
    }
    *out = v;
    return 0;
}

void
store_listed_free(store_listed *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        store_job_free(&v[i].job);
        free(v[i].statement);
        free(v[i].ctx);
    }
    free(v);
}
