/* Unit tests for store/owners.c: the index of each principal's jobs and
 * the listing it serves (own jobs only, newest first, bounded, paged),
 * kept in step with the jobs by the writer (create, sweep), and the
 * upgrade that builds it for a store of format 3. Each test has its own
 * temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <ftw.h>
#include <lmdb.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "store/env.h"
#include "store/jobs.h"
#include "store/owners.h"
#include "store/writer.h"

#define MiB  (1024ull * 1024)
#define HOUR 3600000000000ull

typedef struct fixture {
    char dir[256];
    store_env *env;
    store_writer *w;
    store_flow flow;
} fixture;

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(p);
}

static int
setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof(f->dir), "%s/qgate-owners-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir))
        return -1;
    store_flow_init(&f->flow);
    *state = f;
    return 0;
}

static void
close_store(fixture *f)
{
    if (f->w)
        store_writer_free(f->w);
    if (f->env)
        store_env_close(f->env);
    f->w = NULL;
    f->env = NULL;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    close_store(f);
    store_flow_destroy(&f->flow);
    nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void
open_store(fixture *f)
{
    qg_error err;
    char path[300];
    snprintf(path, sizeof(path), "%s/store", f->dir);
    if (store_env_open(path, 64 * MiB, &f->env, &err) != 0)
        fail_msg("open: %s", err.msg);
    f->w = store_writer_new(f->env, NULL);
}

/* A job of principal who ("" without auth) with statement stmt and context
 * id ctx (may be NULL), ended successfully, expiring at expires. */
static uint64_t
create(fixture *f, const char *who, const char *stmt, const char *ctx, uint64_t expires)
{
    qg_error err;
    qg_query q;
    qg_query_init(&q);
    q.statement = stmt;
    q.statement_len = strlen(stmt);
    q.client_context_id = ctx;
    q.mode = QG_MODE_ASYNC;
    store_op *op = store_op_new(STORE_OP_CREATE);
    store_job_from_query(&op->job, &q, "00000000-0000-4000-8000-000000000000", HOUR);
    snprintf(op->job.principal, sizeof(op->job.principal), "%s", who);
    op->job.state = STORE_SUCCESS;
    op->job.created_ns = qg_wall_ns();
    op->job.finished_ns = qg_wall_ns();
    op->job.expires_ns = expires;
    op->q = &q;
    if (store_writer_run(f->w, &f->flow, op, &err) != 0)
        fail_msg("create: %s", err.msg);
    uint64_t id = op->job.id;
    store_op_free(op);
    return id;
}

typedef struct listing {
    store_listed *v;
    size_t n;
    uint64_t next;
} listing;

static listing
list(fixture *f, const char *who, uint64_t before, size_t limit, size_t examine)
{
    qg_error err;
    listing l;
    store_list_opts o = {.principal = who,
                         .before = before,
                         .limit = limit,
                         .examine = examine,
                         .text_max = 8,
                         .now_ns = qg_wall_ns()};
    if (store_jobs_list(f->env, &o, &l.v, &l.n, &l.next, &err) != 0)
        fail_msg("list: %s", err.msg);
    return l;
}

static void
test_own_jobs_newest_first_paged(void **state)
{
    fixture *f = *state;
    open_store(f);
    uint64_t later = qg_wall_ns() + HOUR;
    uint64_t a[5], b[3];
    for (int i = 0; i < 5; i++) {
        a[i] = create(f, "alice", "SELECT alice", "ctx-a", later);
        if (i < 3)
            b[i] = create(f, "bob", "SELECT bob", NULL, later);
    }
    uint64_t anon = create(f, "", "SELECT anonymous", NULL, later);

    listing l = list(f, "alice", 0, 3, 100);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.v[0].job.id, a[4]);
    assert_int_equal(l.v[1].job.id, a[3]);
    assert_int_equal(l.v[2].job.id, a[2]);
    assert_int_equal(l.next, a[2]);
    /* cut to 8 bytes, flagged; the context id kept whole when it fits */
    assert_string_equal(l.v[0].statement, "SELECT a");
    assert_true(l.v[0].statement_cut);
    assert_string_equal(l.v[0].ctx, "ctx-a");
    assert_false(l.v[0].ctx_cut);
    store_listed_free(l.v, l.n);

    l = list(f, "alice", a[2], 3, 100);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.v[0].job.id, a[1]);
    assert_int_equal(l.v[1].job.id, a[0]);
    assert_int_equal(l.next, 0); /* her oldest: nothing follows */
    store_listed_free(l.v, l.n);

    l = list(f, "bob", 0, 10, 100);
    assert_int_equal(l.n, 3);
    for (size_t i = 0; i < l.n; i++) {
        assert_string_equal(l.v[i].job.principal, "bob");
        assert_int_equal(l.v[i].job.id, b[2 - i]);
        assert_null(l.v[i].ctx);
    }
    store_listed_free(l.v, l.n);

    /* without auth every client is "" (NULL means the same) */
    l = list(f, NULL, 0, 10, 100);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.v[0].job.id, anon);
    store_listed_free(l.v, l.n);
    l = list(f, "carol", 0, 10, 100);
    assert_int_equal(l.n, 0);
    assert_int_equal(l.next, 0);
    store_listed_free(l.v, l.n);
}

/* The walk stops at its bound, however many entries the principal has:
 * next says where to go on. */
static void
test_listing_is_bounded(void **state)
{
    fixture *f = *state;
    open_store(f);
    uint64_t now = qg_wall_ns();
    uint64_t live = create(f, "alice", "SELECT live", NULL, now + HOUR);
    uint64_t gone[10];
    for (int i = 0; i < 10; i++)
        gone[i] = create(f, "alice", "SELECT gone", NULL, now + 1); /* expired by the listing */
    listing l = list(f, "alice", 0, 5, 6);
    assert_int_equal(l.n, 0);          /* six entries looked at, all expired */
    assert_int_equal(l.next, gone[4]); /* the sixth from the newest */
    store_listed_free(l.v, l.n);
    l = list(f, "alice", 0, 5, 100);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.v[0].job.id, live);
    assert_int_equal(l.next, 0);
    store_listed_free(l.v, l.n);
}

static size_t
owner_entries(fixture *f)
{
    char path[300];
    snprintf(path, sizeof(path), "%s/store", f->dir);
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_stat st;
    assert_int_equal(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 16);
    assert_int_equal(mdb_env_open(env, path, MDB_RDONLY, 0640), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "owners", 0, &dbi), 0);
    assert_int_equal(mdb_stat(txn, dbi, &st), 0);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return st.ms_entries;
}

/* The sweep that deletes a job deletes its entry. */
static void
test_sweep_deletes_the_entry(void **state)
{
    fixture *f = *state;
    open_store(f);
    uint64_t now = qg_wall_ns();
    create(f, "alice", "SELECT keep", NULL, now + HOUR);
    create(f, "alice", "SELECT old", NULL, now - 1000);
    qg_error err;
    store_op *op = store_op_new(STORE_OP_SWEEP);
    op->now_ns = now;
    assert_int_equal(store_writer_run(f->w, &f->flow, op, &err), 0);
    assert_int_equal(op->swept, 1);
    store_op_free(op);
    close_store(f);
    assert_int_equal(owner_entries(f), 1);
}

/* A store of format 3 has no owners index: the first open builds it and
 * makes the store format 4. */
static void
test_format_3_store_gets_its_index(void **state)
{
    fixture *f = *state;
    open_store(f);
    uint64_t later = qg_wall_ns() + HOUR;
    uint64_t a = create(f, "alice", "SELECT a", NULL, later);
    uint64_t b = create(f, "bob", "SELECT b", NULL, later);
    uint64_t a2 = create(f, "alice", "SELECT a2", NULL, later);
    close_store(f);

    /* what a format-3 qgate leaves: no owners database, format 3 */
    char path[300];
    snprintf(path, sizeof(path), "%s/store", f->dir);
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi owners, meta;
    assert_int_equal(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 16);
    mdb_env_set_mapsize(env, 64 * MiB);
    assert_int_equal(mdb_env_open(env, path, 0, 0640), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "owners", 0, &owners), 0);
    assert_int_equal(mdb_drop(txn, owners, 1), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    unsigned char v3[4] = {0, 0, 0, 3};
    MDB_val k = {6, "format"}, v = {4, v3};
    assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    open_store(f);
    listing l = list(f, "alice", 0, 10, 100);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.v[0].job.id, a2);
    assert_int_equal(l.v[1].job.id, a);
    store_listed_free(l.v, l.n);
    l = list(f, "bob", 0, 10, 100);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.v[0].job.id, b);
    store_listed_free(l.v, l.n);
    /* new jobs go on being indexed, and the store says format 4 */
    uint64_t a3 = create(f, "alice", "SELECT a3", NULL, later);
    l = list(f, "alice", 0, 1, 100);
    assert_int_equal(l.v[0].job.id, a3);
    store_listed_free(l.v, l.n);
    close_store(f);
    assert_int_equal(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 16);
    assert_int_equal(mdb_env_open(env, path, MDB_RDONLY, 0640), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    assert_int_equal(mdb_get(txn, meta, &k, &v), 0);
    assert_int_equal(v.mv_size, 4);
    assert_int_equal(((unsigned char *)v.mv_data)[3], STORE_FORMAT_VERSION);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    assert_int_equal(owner_entries(f), 4);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_own_jobs_newest_first_paged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listing_is_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sweep_deletes_the_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format_3_store_gets_its_index, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
