/*
 * lmdb_commit: the reference for durable async submissions.
 *
 * Commits one small record per LMDB write transaction, with LMDB's default
 * durability (every commit is synced to disk before mdb_txn_commit returns),
 * for a bounded time, and reports the rate:
 *
 *   lmdb_commit DIR SECONDS [VALUE_BYTES]
 *   -> "commits N seconds S per_second R" on stdout
 *
 * DIR must exist; the environment's files are created in it. This is the
 * most a store can do when each submission is its own durable transaction;
 * a store that groups submissions into one commit can do more.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lmdb.h>

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
fail(const char *what, int rc)
{
    fprintf(stderr, "lmdb_commit: %s: %s\n", what, mdb_strerror(rc));
    return 1;
}

int
main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: lmdb_commit DIR SECONDS [VALUE_BYTES]\n");
        return 2;
    }
    double seconds = strtod(argv[2], NULL);
    long vbytes = argc == 4 ? strtol(argv[3], NULL, 10) : 128;
    if (!(seconds > 0 && seconds <= 600) || vbytes < 1 || vbytes > 65536) {
        fprintf(stderr, "lmdb_commit: SECONDS in (0, 600], VALUE_BYTES in [1, 65536]\n");
        return 2;
    }

    MDB_env *env;
    int rc = mdb_env_create(&env);
    if (rc)
        return fail("mdb_env_create", rc);
    mdb_env_set_mapsize(env, (size_t)1 << 30);
    rc = mdb_env_open(env, argv[1], 0, 0600); /* no MDB_NOSYNC: durable commits */
    if (rc)
        return fail("mdb_env_open", rc);

    MDB_dbi dbi;
    MDB_txn *txn;
    rc = mdb_txn_begin(env, NULL, 0, &txn);
    if (rc == 0)
        rc = mdb_dbi_open(txn, NULL, 0, &dbi);
    if (rc == 0)
        rc = mdb_txn_commit(txn);
    if (rc)
        return fail("open the database", rc);

    char *value = malloc((size_t)vbytes);
    if (!value)
        return fail("malloc", ENOMEM);
    memset(value, 'j', (size_t)vbytes);

    uint64_t n = 0;
    double start = now_s(), stop = start + seconds, t = start;
    while (t < stop) {
        unsigned char key[8];
        for (int i = 0; i < 8; i++) /* big-endian: appends in key order */
            key[i] = (unsigned char)(n >> (56 - 8 * i));
        MDB_val k = {sizeof(key), key}, v = {(size_t)vbytes, value};
        rc = mdb_txn_begin(env, NULL, 0, &txn);
        if (rc)
            return fail("mdb_txn_begin", rc);
        rc = mdb_put(txn, dbi, &k, &v, 0);
        if (rc) {
            mdb_txn_abort(txn);
            return fail("mdb_put", rc);
        }
        rc = mdb_txn_commit(txn);
        if (rc)
            return fail("mdb_txn_commit", rc);
        n++;
        t = now_s();
    }
    double elapsed = t - start;
    printf("commits %" PRIu64 " seconds %.3f per_second %.1f\n", n, elapsed, (double)n / elapsed);
    free(value);
    mdb_env_close(env);
    return 0;
}
