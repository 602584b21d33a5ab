/*
 * idem: the idempotency index (see idem.h), its keys, fingerprints, and
 * the writer's and the loop's access to it.
 */
#include "store/idem.h"

#include <openssl/evp.h>
#include <string.h>

#include "store/internal.h"

void
store_idem_key(const char *principal, const char *key, unsigned char out[32])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    if (principal)
        EVP_DigestUpdate(c, principal, strlen(principal));
    EVP_DigestUpdate(c, "", 1);
    EVP_DigestUpdate(c, key, strlen(key));
    EVP_DigestFinal_ex(c, out, NULL);
    EVP_MD_CTX_free(c);
}

static void
fp_bytes(EVP_MD_CTX *c, const void *p, size_t n)
{
    unsigned char len[8];
    store__put_be64(len, n);
    EVP_DigestUpdate(c, len, sizeof(len));
    if (n)
        EVP_DigestUpdate(c, p, n);
}

static void
fp_u64(EVP_MD_CTX *c, uint64_t v)
{
    unsigned char b[8];
    store__put_be64(b, v);
    EVP_DigestUpdate(c, b, sizeof(b));
}

static void
fp_str(EVP_MD_CTX *c, const char *s)
{
    /* absent and empty differ: absent is one byte 0, present 1 + bytes */
    EVP_DigestUpdate(c, s ? "\1" : "\0", 1);
    if (s)
        fp_bytes(c, s, strlen(s));
}

static void
fp_value(EVP_MD_CTX *c, const qg_value *v)
{
    fp_u64(c, (uint64_t)v->type);
    fp_bytes(c, v->text, v->text ? v->len : 0);
}

void
store_idem_fingerprint(const qg_query *q, unsigned char out[32])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    EVP_DigestUpdate(c, "qgate-idem-1", 12);
    fp_u64(c, (uint64_t)q->mode);
    fp_bytes(c, q->statement, q->statement ? q->statement_len : 0);
    fp_u64(c, q->nargs);
    for (size_t i = 0; i < q->nargs; i++)
        fp_value(c, &q->args[i]);
    fp_u64(c, q->nnamed);
    for (size_t i = 0; i < q->nnamed; i++) {
        fp_str(c, q->named[i].name);
        fp_value(c, &q->named[i].val);
    }
    unsigned flags = (q->readonly ? 1 : 0) | (q->pretty ? 2 : 0) | (q->signature ? 4 : 0) |
                     (q->multi_statement ? 8 : 0) | (q->csv_header ? 16 : 0) |
                     (q->format == QG_FORMAT_CSV ? 32 : 0);
    fp_u64(c, flags);
    fp_u64(c, q->timeout_ns);
    fp_u64(c, q->max_result_reads);
    fp_u64(c, q->result_ttl_ns);
    fp_str(c, q->callback_url);
    EVP_DigestFinal_ex(c, out, NULL);
    EVP_MD_CTX_free(c);
}

int
store__idem_get(store_env *e, MDB_txn *txn, const unsigned char key[32], uint64_t *job,
                uint64_t *expires, unsigned char fp[32])
{
    MDB_val k = {STORE_IDEM_KEY_LEN, (void *)key}, v;
    int rc = mdb_get(txn, e->idem, &k, &v);
    if (rc != 0)
        return rc;
    /* a format-2 entry (no seal) names a job of that format */
    bool legacy = e->legacy_below && v.mv_size == STORE_IDEM_VAL_LEN &&
                  store__get_be64(v.mv_data) < e->legacy_below;
    if (!legacy && (rc = store__unseal(e, &k, &v, UINT64_MAX, "an idempotency key")) != 0)
        return rc;
    if (v.mv_size != STORE_IDEM_VAL_LEN)
        return STORE__BAD_SEAL;
    const unsigned char *p = v.mv_data;
    *job = store__get_be64(p);
    *expires = store__get_be64(p + 8);
    memcpy(fp, p + 16, 32);
    return 0;
}

static void
exp_key(unsigned char k[STORE_IDEM_EXP_KEY_LEN], uint64_t expires, const unsigned char key[32])
{
    store__put_be64(k, expires);
    memcpy(k + 8, key, 32);
}

int
store__idem_put(store_env *e, MDB_txn *txn, const unsigned char key[32], uint64_t job,
                uint64_t expires, const unsigned char fp[32])
{
    uint64_t ojob, oexp;
    unsigned char ofp[32], ek[STORE_IDEM_EXP_KEY_LEN];
    int rc = store__idem_get(e, txn, key, &ojob, &oexp, ofp);
    if (rc == 0) {
        /* an expired entry being replaced: its expiry entry goes too, or
         * the sweep would later take the new one for it */
        exp_key(ek, oexp, key);
        MDB_val k = {STORE_IDEM_EXP_KEY_LEN, ek};
        rc = mdb_del(txn, e->idem_exp, &k, NULL);
    }
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    unsigned char val[STORE_IDEM_VAL_LEN + STORE_SEAL_LEN];
    store__put_be64(val, job);
    store__put_be64(val + 8, expires);
    memcpy(val + 16, fp, 32);
    store__put_be32(val + STORE_IDEM_VAL_LEN,
                    store__seal_crc(key, STORE_IDEM_KEY_LEN, val, STORE_IDEM_VAL_LEN));
    MDB_val k = {STORE_IDEM_KEY_LEN, (void *)key}, v = {sizeof(val), val}, empty = {0, NULL};
    rc = mdb_put(txn, e->idem, &k, &v, 0);
    if (rc != 0)
        return rc;
    exp_key(ek, expires, key);
    MDB_val xk = {STORE_IDEM_EXP_KEY_LEN, ek};
    return mdb_put(txn, e->idem_exp, &xk, &empty, 0);
}

int
store__idem_sweep(store_env *e, MDB_txn *txn, uint64_t now, size_t budget, bool *more, size_t *n)
{
    /* collect first, then delete (no deleting under a walking cursor) */
    unsigned char keys[64][STORE_IDEM_EXP_KEY_LEN];
    size_t cnt = 0;
    if (budget > 64)
        budget = 64;
    *more = false;
    *n = 0;
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, e->idem_exp, &c);
    if (rc != 0)
        return rc;
    MDB_val k, v;
    rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
    while (rc == 0 && k.mv_size == STORE_IDEM_EXP_KEY_LEN && store__get_be64(k.mv_data) <= now) {
        if (cnt == budget) {
            *more = true;
            break;
        }
        memcpy(keys[cnt++], k.mv_data, STORE_IDEM_EXP_KEY_LEN);
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(c);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    for (size_t i = 0; i < cnt; i++) {
        const unsigned char *key = keys[i] + 8;
        uint64_t job, expires;
        unsigned char fp[32];
        rc = store__idem_get(e, txn, key, &job, &expires, fp);
        /* only the entry this expiry belongs to */
        if (rc == 0 && expires == store__get_be64(keys[i])) {
            MDB_val ik = {STORE_IDEM_KEY_LEN, (void *)key};
            rc = mdb_del(txn, e->idem, &ik, NULL);
        }
        if (rc != 0 && rc != MDB_NOTFOUND)
            return rc;
        MDB_val xk = {STORE_IDEM_EXP_KEY_LEN, keys[i]};
        rc = mdb_del(txn, e->idem_exp, &xk, NULL);
        if (rc != 0 && rc != MDB_NOTFOUND)
            return rc;
        (*n)++;
    }
    return 0;
}

int
store_idem_lookup(store_env *e, const unsigned char key[32], uint64_t now_ns, uint64_t *job,
                  unsigned char fp[32], qg_error *err)
{
    MDB_txn *txn = store__read_begin(e, err);
    if (!txn)
        return -1;
    uint64_t expires;
    int rc = store__idem_get(e, txn, key, job, &expires, fp);
    store__read_end(e);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return store__error(e, err, rc, "read idempotency key");
    return expires > now_ns;
}
