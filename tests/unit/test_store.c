/* Unit tests for store/: the environment, the writer, jobs, pages, reads,
 * the sweep, a full map and stale reader slots. Each test has its own
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
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "store/env.h"
#include "store/idem.h"
#include "store/jobs.h"
#include "store/owners.h"
#include "store/record.h"
#include "store/results.h"
#include "store/writer.h"

#define MiB (1024ull * 1024)

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
    snprintf(f->dir, sizeof(f->dir), "%s/qgate-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir))
        return -1;
    store_flow_init(&f->flow);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    if (f->w)
        store_writer_free(f->w);
    if (f->env)
        store_env_close(f->env);
    store_flow_destroy(&f->flow);
    nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void
open_store(fixture *f, uint64_t map_size)
{
    qg_error err;
    char path[300];
    snprintf(path, sizeof(path), "%s/store", f->dir);
    int rc = store_env_open(path, map_size, &f->env, &err);
    if (rc != 0)
        fail_msg("open: %s", err.msg);
    f->w = store_writer_new(f->env, NULL);
}

static void
close_store(fixture *f)
{
    store_writer_free(f->w);
    f->w = NULL;
    store_env_close(f->env);
    f->env = NULL;
}

/* Creates a job in state st running statement stmt; returns its id, or 0
 * with err. */
static uint64_t
create(fixture *f, const char *stmt, store_state st, qg_error *err)
{
    qg_query q;
    qg_query_init(&q);
    q.statement = stmt;
    q.statement_len = strlen(stmt);
    q.mode = QG_MODE_ASYNC;
    store_op *op = store_op_new(STORE_OP_CREATE);
    store_job_from_query(&op->job, &q, "00000000-0000-4000-8000-000000000000", 3600000000000ull);
    op->job.state = st;
    op->job.created_ns = qg_wall_ns();
    op->q = &q;
    uint64_t id = 0;
    if (store_writer_run(f->w, &f->flow, op, err) == 0)
        id = op->job.id;
    store_op_free(op);
    return id;
}

/* Finishes job id: state st, one set per entry of pages[] (its page count),
 * reads each, expiring at expires (0: now + 1h). */
static int
finish(fixture *f, uint64_t id, store_state st, uint32_t nsets, const uint32_t *pages,
       uint32_t reads, uint64_t expires, bool drop)
{
    qg_error err;
    store_job j;
    store_job_init(&j);
    if (store_jobs_read(f->env, id, &j, &err) != 1)
        return -1;
    store_op *op = store_op_new(STORE_OP_UPDATE);
    store_job_copy(&op->job, &j);
    store_job_free(&j);
    op->job.state = st;
    op->job.finished_ns = qg_wall_ns();
    op->job.expires_ns = expires ? expires : qg_wall_ns() + 3600000000000ull;
    store_set sets[8];
    for (uint32_t i = 0; i < nsets; i++)
        sets[i] = (store_set){i + 1, 100, pages[i], reads};
    store_job_set_sets(&op->job, sets, nsets);
    op->drop_pages = drop;
    int rc = store_writer_run(f->w, &f->flow, op, &err);
    store_op_free(op);
    return rc;
}

/* Queues one page whose bytes are a pattern of (job, set, page). */
static void
put_page(fixture *f, uint64_t job, uint32_t set, uint32_t page, size_t len)
{
    store_op *op = store_op_new(STORE_OP_PAGE);
    op->job_id = job;
    op->set = set;
    op->page = page;
    op->first_row = (uint64_t)page * 10;
    op->nrows = 10;
    op->len = len;
    op->data = malloc(len ? len : 1);
    for (size_t i = 0; i < len; i++)
        op->data[i] = (char)(job * 31 + set * 7 + page + i);
    op->flow = &f->flow;
    store_writer_submit(f->w, op);
}

typedef struct got {
    qg_buf b;
    uint64_t first_row;
    uint32_t nrows;
} got;

static void
collect(const store_page *pg, void *arg)
{
    got *g = arg;
    qg_buf_add(&g->b, pg->text, pg->len);
    g->first_row = pg->first_row;
    g->nrows = pg->nrows;
}

static void
assert_page(fixture *f, uint64_t job, uint32_t set, uint32_t page, size_t len)
{
    qg_error err;
    got g = {QG_BUF_INIT, 0, 0};
    assert_int_equal(store_results_read(f->env, job, set, page, collect, &g, &err), 1);
    assert_int_equal(g.b.len, len);
    /* the page header comes back as written */
    assert_true(g.first_row == (uint64_t)page * 10);
    assert_int_equal(g.nrows, 10);
    for (size_t i = 0; i < len; i++)
        if (g.b.data[i] != (char)(job * 31 + set * 7 + page + i))
            fail_msg("page %llu/%u/%u differs at byte %zu", (unsigned long long)job, set, page, i);
    qg_buf_free(&g.b);
}

static long long
count_pages(fixture *f, uint64_t job)
{
    qg_error err;
    return store_results_count(f->env, job, &err);
}

/* --- tests ------------------------------------------------------------- */

static void
test_counter_survives_reopen(void **state)
{
    fixture *f = *state;
    qg_error err;
    /* a store numbers from the wall clock in microseconds, plus a second */
    uint64_t now_us = qg_wall_ns() / 1000;
    open_store(f, 64 * MiB);
    uint64_t first = store_env_next_id(f->env);
    assert_true(first >= now_us + 1000000 && first < now_us + 60000000);
    assert_true(create(f, "SELECT 1", STORE_QUEUED, &err) == first);
    assert_true(create(f, "SELECT 2", STORE_QUEUED, &err) == first + 1);
    assert_true(create(f, "SELECT 3", STORE_QUEUED, &err) == first + 2);
    close_store(f);
    uint64_t before_us = qg_wall_ns() / 1000;
    open_store(f, 64 * MiB);
    /* never back: at least where it was, and at least the clock's floor */
    uint64_t next = store_env_next_id(f->env);
    assert_true(next >= first + 3 && next >= before_us + 1000000);
    assert_true(create(f, "SELECT 4", STORE_QUEUED, &err) == next);
    store_job j;
    qg_query q;
    store_job_init(&j);
    qg_query_init(&q);
    assert_int_equal(store_jobs_read_query(f->env, first + 1, &j, &q, &err), 1);
    assert_string_equal(q.statement, "SELECT 2");
    assert_int_equal(j.state, STORE_QUEUED);
    assert_int_equal(store_jobs_read(f->env, 99, &j, &err), 0);
    qg_query_free(&q);
    store_job_free(&j);
}

static void
test_format_version_checked(void **state)
{
    fixture *f = *state;
    open_store(f, 16 * MiB);
    close_store(f);
    /* rewrite the version as a future qgate would */
    char path[300];
    snprintf(path, sizeof(path), "%s/store", f->dir);
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi meta;
    assert_int_equal(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 8);
    assert_int_equal(mdb_env_open(env, path, 0, 0640), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    unsigned char v[4] = {0, 0, 3, 0xe7};
    MDB_val k = {6, "format"}, d = {4, v};
    assert_int_equal(mdb_put(txn, meta, &k, &d, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    qg_error err;
    assert_int_equal(store_env_open(path, 16 * MiB, &f->env, &err), -1);
    assert_non_null(strstr(err.msg, "format version 999"));
    assert_null(f->env);
}

static void
test_group_commit_unique_numbers(void **state)
{
    fixture *f = *state;
    open_store(f, 64 * MiB);
    enum { N = 2000 };
    static store_op *ops[N];
    uint64_t first = store_env_next_id(f->env);
    qg_query q;
    qg_query_init(&q);
    q.statement = "SELECT 1";
    q.statement_len = 8;
    for (int i = 0; i < N; i++) {
        ops[i] = store_op_new(STORE_OP_CREATE);
        store_job_from_query(&ops[i]->job, &q, "r", 1);
        ops[i]->q = &q;
        ops[i]->flow = &f->flow;
        store_writer_submit(f->w, ops[i]);
    }
    qg_error err;
    assert_int_equal(store_flow_drain(&f->flow, &err), 0);
    char *seen = calloc(N + 1, 1);
    uint64_t prev = 0;
    for (int i = 0; i < N; i++) {
        assert_int_equal(ops[i]->status, 0);
        uint64_t id = ops[i]->job.id;
        assert_true(id >= first && id < first + N);
        assert_false(seen[id - first]);
        seen[id - first] = 1;
        /* submission order is commit order */
        if (i)
            assert_true(id == prev + 1);
        prev = id;
        store_op_free(ops[i]);
    }
    free(seen);
    store_writer_stats st;
    store_writer_stats_get(f->w, &st);
    assert_true(st.creates == N);
    assert_true(st.commits >= 1 && st.commits <= N);
    print_message("  %d creates in %llu commits (largest %llu)\n", N,
                  (unsigned long long)st.commits, (unsigned long long)st.max_batch);
}

static void
test_pages_round_trip_and_drop(void **state)
{
    fixture *f = *state;
    qg_error err;
    open_store(f, 256 * MiB);
    uint64_t a = create(f, "SELECT a", STORE_RUNNING, &err);
    uint64_t b = create(f, "SELECT b", STORE_RUNNING, &err);
    /* interleaved, enough pages to span several leaves of the pages tree */
    for (uint32_t p = 0; p < 300; p++) {
        put_page(f, a, 0, p, 65536 + p);
        put_page(f, b, 0, p, 100 + p);
        if (p < 5)
            put_page(f, a, 1, p, 10 + p);
    }
    put_page(f, a, 2, 0, 0); /* an empty page is a page too */
    assert_int_equal(store_flow_drain(&f->flow, &err), 0);
    assert_page(f, a, 0, 0, 65536);
    assert_page(f, a, 0, 299, 65536 + 299);
    assert_page(f, a, 1, 4, 14);
    assert_page(f, a, 2, 0, 0);
    assert_page(f, b, 0, 150, 250);
    got g = {QG_BUF_INIT, 0, 0};
    assert_int_equal(store_results_read(f->env, a, 1, 5, collect, &g, &err), 0);
    assert_int_equal(store_results_read(f->env, a, 3, 0, collect, &g, &err), 0);
    assert_int_equal(count_pages(f, a), 306);
    assert_int_equal(count_pages(f, b), 300);

    /* failing a with drop_pages removes its pages and nothing else */
    assert_int_equal(finish(f, a, STORE_FAILED, 0, NULL, 1, 0, true), 0);
    assert_int_equal(count_pages(f, a), 0);
    assert_int_equal(count_pages(f, b), 300);
    assert_page(f, b, 0, 0, 100);
    assert_page(f, b, 0, 299, 399);
    qg_buf_free(&g.b);
}

static int
run_op(fixture *f, store_op_kind kind, uint64_t job, uint32_t set, uint64_t now, store_op **out)
{
    qg_error err;
    store_op *op = store_op_new(kind);
    op->job_id = job;
    op->set = set;
    op->now_ns = now;
    int rc = store_writer_run(f->w, &f->flow, op, &err);
    if (out)
        *out = op;
    else
        store_op_free(op);
    return rc;
}

static bool
consume(fixture *f, uint64_t job, uint32_t set)
{
    store_op *op;
    assert_int_equal(run_op(f, STORE_OP_CONSUME, job, set, qg_wall_ns(), &op), 0);
    bool found = op->found;
    store_op_free(op);
    return found;
}

static void
test_reads_are_counted_and_released(void **state)
{
    fixture *f = *state;
    qg_error err;
    open_store(f, 64 * MiB);
    uint64_t id = create(f, "SELECT x", STORE_RUNNING, &err);
    put_page(f, id, 0, 0, 1000);
    put_page(f, id, 1, 0, 1000);
    put_page(f, id, 1, 1, 1000);
    uint32_t pages[2] = {1, 2};
    assert_int_equal(finish(f, id, STORE_SUCCESS, 2, pages, 2, 0, false), 0);

    assert_false(consume(f, id, 2)); /* no such set */
    store_op *op;
    assert_int_equal(run_op(f, STORE_OP_CONSUME, id, 1, qg_wall_ns(), &op), 0);
    assert_true(op->found);
    assert_int_equal(op->job.sets[1].reads_left, 1);
    assert_int_equal(op->job.sets[1].pages, 2);
    store_op_free(op);
    /* releasing while reads are left keeps the pages */
    assert_int_equal(run_op(f, STORE_OP_RELEASE, id, 1, 0, NULL), 0);
    assert_int_equal(count_pages(f, id), 3);
    assert_true(consume(f, id, 1));
    assert_false(consume(f, id, 1));
    assert_int_equal(run_op(f, STORE_OP_RELEASE, id, 1, 0, NULL), 0);
    assert_int_equal(count_pages(f, id), 1);
    assert_page(f, id, 0, 0, 1000);

    /* discard: found once, then gone */
    assert_int_equal(run_op(f, STORE_OP_DISCARD, id, 0, qg_wall_ns(), &op), 0);
    assert_true(op->found);
    store_op_free(op);
    assert_int_equal(count_pages(f, id), 0);
    assert_int_equal(run_op(f, STORE_OP_DISCARD, id, 0, qg_wall_ns(), &op), 0);
    assert_false(op->found);
    store_op_free(op);
    assert_false(consume(f, id, 0));

    /* an unfinished or failed job has nothing to read */
    uint64_t r = create(f, "SELECT y", STORE_RUNNING, &err);
    assert_false(consume(f, r, 0));
    assert_int_equal(finish(f, r, STORE_FAILED, 0, NULL, 1, 0, true), 0);
    assert_false(consume(f, r, 0));
    /* and an expired one neither, even before the sweep */
    uint64_t x = create(f, "SELECT z", STORE_RUNNING, &err);
    uint32_t one = 0;
    assert_int_equal(finish(f, x, STORE_SUCCESS, 1, &one, 5, qg_wall_ns() - 1, false), 0);
    assert_false(consume(f, x, 0));
}

static void
test_sweep_deletes_expired_in_batches(void **state)
{
    fixture *f = *state;
    qg_error err;
    open_store(f, 256 * MiB);
    uint64_t now = qg_wall_ns();
    enum { OLD = 100 };
    uint64_t ids[OLD];
    for (int i = 0; i < OLD; i++) {
        ids[i] = create(f, "SELECT old", STORE_RUNNING, &err);
        put_page(f, ids[i], 0, 0, 500);
        put_page(f, ids[i], 0, 1, 500);
        uint32_t pages = 2;
        assert_int_equal(finish(f, ids[i], STORE_SUCCESS, 1, &pages, 1, now - 1000 + i, false), 0);
    }
    uint64_t keep = create(f, "SELECT new", STORE_RUNNING, &err);
    put_page(f, keep, 0, 0, 500);
    uint32_t one = 1;
    assert_int_equal(finish(f, keep, STORE_SUCCESS, 1, &one, 1, now + 3600000000000ull, false), 0);
    uint64_t queued = create(f, "SELECT queued", STORE_QUEUED, &err);
    /* a big expired job whose pages take more than one sweep */
    uint64_t big = create(f, "SELECT big", STORE_RUNNING, &err);
    for (uint32_t p = 0; p < 1500; p++)
        put_page(f, big, 0, p, 64);
    uint32_t bp = 1500;
    assert_int_equal(finish(f, big, STORE_SUCCESS, 1, &bp, 1, now + 1, false), 0);
    assert_int_equal(store_flow_drain(&f->flow, &err), 0);

    store_op *op;
    assert_int_equal(run_op(f, STORE_OP_SWEEP, 0, 0, now + 2, &op), 0);
    assert_int_equal(op->swept, 64);
    assert_true(op->more);
    store_op_free(op);
    store_job j;
    store_job_init(&j);
    assert_int_equal(store_jobs_read(f->env, ids[0], &j, &err), 0); /* oldest first */
    assert_int_equal(store_jobs_read(f->env, ids[64], &j, &err), 1);
    int rounds = 0;
    uint64_t total = 64;
    do {
        assert_int_equal(run_op(f, STORE_OP_SWEEP, 0, 0, now + 2, &op), 0);
        total += op->swept;
        bool more = op->more;
        store_op_free(op);
        rounds++;
        if (!more)
            break;
    } while (rounds < 20);
    assert_true(rounds >= 2); /* the big job's 1500 pages took two */
    assert_true(total == OLD + 1);
    for (int i = 0; i < OLD; i++) {
        assert_int_equal(store_jobs_read(f->env, ids[i], &j, &err), 0);
        assert_int_equal(count_pages(f, ids[i]), 0);
    }
    assert_int_equal(store_jobs_read(f->env, big, &j, &err), 0);
    assert_int_equal(count_pages(f, big), 0);
    assert_int_equal(store_jobs_read(f->env, keep, &j, &err), 1);
    assert_int_equal(count_pages(f, keep), 1);
    assert_int_equal(store_jobs_read(f->env, queued, &j, &err), 1);
    assert_int_equal(run_op(f, STORE_OP_SWEEP, 0, 0, now + 2, &op), 0);
    assert_int_equal(op->swept, 0);
    assert_false(op->more);
    store_op_free(op);
    store_job_free(&j);
}

static void
test_map_full_is_an_error_not_a_crash(void **state)
{
    fixture *f = *state;
    qg_error err;
    open_store(f, 1 * MiB);
    uint64_t id = create(f, "SELECT fill", STORE_RUNNING, &err);
    assert_true(id > 0);
    uint32_t p = 0;
    int rc = 0;
    for (; p < 100 && rc == 0; p++) {
        put_page(f, id, 0, p, 64 * 1024);
        rc = store_flow_wait(&f->flow, 0, &err);
    }
    assert_int_equal(rc, -1);
    assert_int_equal(err.code, QG_E_STORE_FULL);
    assert_non_null(strstr(err.msg, "ASX0904"));
    assert_true(p > 3 && p < 16);
    assert_true(count_pages(f, id) > 0);

    /* the job can still be failed, its pages go, and the store works */
    assert_int_equal(finish(f, id, STORE_FAILED, 0, NULL, 1, 0, true), 0);
    assert_int_equal(count_pages(f, id), 0);
    store_flow_destroy(&f->flow);
    store_flow_init(&f->flow);
    uint64_t id2 = create(f, "SELECT again", STORE_RUNNING, &err);
    assert_true(id2 == id + 1);
    for (uint32_t i = 0; i < 3; i++)
        put_page(f, id2, 0, i, 64 * 1024);
    assert_int_equal(store_flow_drain(&f->flow, &err), 0);
    assert_page(f, id2, 0, 2, 64 * 1024);

    /* new jobs too are refused before LMDB runs out */
    char *big = malloc(100 * 1024);
    memset(big, 'x', 100 * 1024 - 1);
    big[100 * 1024 - 1] = '\0';
    memcpy(big, "SELECT '", 8);
    uint64_t made = 0;
    for (int i = 0; i < 40; i++) {
        if (create(f, big, STORE_QUEUED, &err) == 0)
            break;
        made++;
    }
    assert_true(made < 40);
    assert_int_equal(err.code, QG_E_STORE_FULL);
    free(big);
    /* and a state change still commits */
    assert_int_equal(finish(f, id2, STORE_SUCCESS, 1, (uint32_t[]){3}, 1, 0, false), 0);
}

/* An op LMDB itself refuses (a header too big for the map) fails alone. */
static void
test_refused_op_fails_alone(void **state)
{
    fixture *f = *state;
    qg_error err;
    open_store(f, 1 * MiB);
    uint64_t id = create(f, "SELECT 1", STORE_RUNNING, &err);
    store_op *ops[3];
    ops[0] = store_op_new(STORE_OP_CREATE);
    ops[1] = store_op_new(STORE_OP_UPDATE);
    ops[2] = store_op_new(STORE_OP_CREATE);
    qg_query q;
    qg_query_init(&q);
    q.statement = "SELECT 2";
    q.statement_len = 8;
    ops[0]->q = ops[2]->q = &q;
    assert_int_equal(store_jobs_read(f->env, id, &ops[1]->job, &err), 1);
    enum { NSETS = 100000 }; /* a 2.4 MB header in a 1 MiB map */
    store_set *sets = calloc(NSETS, sizeof(store_set));
    store_job_set_sets(&ops[1]->job, sets, NSETS);
    free(sets);
    ops[1]->job.state = STORE_SUCCESS;
    for (int i = 0; i < 3; i++) {
        ops[i]->flow = &f->flow;
        store_writer_submit(f->w, ops[i]);
    }
    store_flow_drain(&f->flow, &err);
    assert_int_equal(ops[0]->status, 0);
    assert_int_equal(ops[1]->status, -1);
    assert_int_equal(ops[1]->err.code, QG_E_STORE_FULL);
    assert_int_equal(ops[2]->status, 0);
    assert_true(ops[0]->job.id == id + 1 && ops[2]->job.id == id + 2);
    store_job j;
    store_job_init(&j);
    assert_int_equal(store_jobs_read(f->env, id, &j, &err), 1);
    assert_int_equal(j.state, STORE_RUNNING);
    assert_int_equal(store_jobs_read(f->env, id + 2, &j, &err), 1);
    store_job_free(&j);
    for (int i = 0; i < 3; i++)
        store_op_free(ops[i]);
}

static store_stmt *
some_stmts(size_t n, store_stmt_state st)
{
    store_stmt *v = calloc(n, sizeof(store_stmt));
    for (size_t i = 0; i < n; i++) {
        store_stmt_init(&v[i]);
        v[i].state = st;
        v[i].off = (uint32_t)i * 10;
        v[i].len = 8;
    }
    return v;
}

typedef struct seen {
    uint64_t ids[8];
    char stmts[8][32];
    int n;
} seen_t;

static void
recovered(store_job *jj, qg_query *q, void *arg)
{
    seen_t *s = arg;
    s->ids[s->n] = jj->id;
    snprintf(s->stmts[s->n], 32, "%s", q->statement);
    s->n++;
}

static void
test_recovery_rules(void **state)
{
    fixture *f = *state;
    qg_error err;
    open_store(f, 64 * MiB);
    uint64_t queued = create(f, "SELECT queued", STORE_QUEUED, &err);
    uint64_t ro = create(f, "SELECT ro", STORE_RUNNING, &err);
    uint64_t rw = create(f, "INSERT rw", STORE_RUNNING, &err);
    uint64_t done = create(f, "SELECT done", STORE_RUNNING, &err);
    uint32_t one = 1;
    put_page(f, done, 0, 0, 10);
    assert_int_equal(finish(f, done, STORE_SUCCESS, 1, &one, 1, 0, false), 0);
    put_page(f, ro, 0, 0, 10);
    put_page(f, rw, 0, 0, 10);
    store_job j;
    store_job_init(&j);
    /* rw's statements, as stored when it was created */
    assert_int_equal(store_jobs_read(f->env, rw, &j, &err), 1);
    store_op *sop = store_op_new(STORE_OP_UPDATE);
    store_job_copy(&sop->job, &j);
    sop->stmts = some_stmts(2, STORE_STMT_QUEUED);
    sop->nstmts = 2;
    sop->set_stmts = true;
    assert_int_equal(store_writer_run(f->w, &f->flow, sop, &err), 0);
    store_op_free(sop);
    assert_int_equal(store_jobs_read(f->env, ro, &j, &err), 1);
    store_op *op = store_op_new(STORE_OP_UPDATE);
    store_job_copy(&op->job, &j);
    op->job.rerunnable = true;
    assert_int_equal(store_writer_run(f->w, &f->flow, op, &err), 0);
    store_op_free(op);
    close_store(f);

    open_store(f, 64 * MiB);
    seen_t seen = {0};
    store_recovery st;
    assert_int_equal(store_jobs_recover(f->env, qg_wall_ns(), recovered, &seen, &st, &err), 0);
    assert_int_equal(seen.n, 2);
    assert_true(seen.ids[0] == queued && seen.ids[1] == ro);
    assert_string_equal(seen.stmts[0], "SELECT queued");
    assert_string_equal(seen.stmts[1], "SELECT ro");
    assert_true(st.queued == 2 && st.rerun == 1 && st.failed == 1);
    assert_int_equal(count_pages(f, ro), 0);
    assert_int_equal(count_pages(f, rw), 0);
    assert_int_equal(store_jobs_read(f->env, rw, &j, &err), 1);
    assert_int_equal(j.state, STORE_FAILED);
    assert_int_equal(j.error.code, QG_E_OUTCOME_UNKNOWN);
    assert_non_null(strstr(j.error.msg, "ASX0921"));
    assert_true(j.expires_ns > qg_wall_ns());
    /* which of its statements ran is not known either */
    store_stmt *v;
    size_t n;
    assert_int_equal(store_jobs_read_stmts(f->env, rw, &v, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].state, STORE_STMT_UNKNOWN);
    assert_int_equal(v[1].state, STORE_STMT_UNKNOWN);
    store_stmts_free(v, n);
    assert_int_equal(store_jobs_read(f->env, done, &j, &err), 1);
    assert_int_equal(j.state, STORE_SUCCESS);
    assert_int_equal(count_pages(f, done), 1);
    store_job_free(&j);
    /* numbering goes on after the highest */
    assert_true(create(f, "SELECT next", STORE_QUEUED, &err) > done);
}

/* A process that dies with a read transaction open leaves its reader slot
 * behind while others keep the environment open (the first process to open
 * it alone resets the reader table anyway); mdb_reader_check clears it. */
static void
test_stale_reader_slot_cleared(void **state)
{
    fixture *f = *state;
    open_store(f, 16 * MiB);
    char path[300];
    snprintf(path, sizeof(path), "%s/store", f->dir);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        /* a fresh environment of its own: never the parent's across fork */
        MDB_env *env;
        MDB_txn *txn;
        if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 8) ||
            mdb_env_open(env, path, MDB_NOTLS, 0640) || mdb_txn_begin(env, NULL, MDB_RDONLY, &txn))
            _exit(1);
        if (write(fds[1], "r", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    char c;
    assert_int_equal(read(fds[0], &c, 1), 1);
    assert_int_equal(store_env_reader_check(f->env), 0); /* alive: kept */
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    close(fds[0]);
    close(fds[1]);
    assert_int_equal(store_env_reader_check(f->env), 1);
    assert_int_equal(store_env_reader_check(f->env), 0);
    /* the store goes on working */
    qg_error err;
    assert_true(create(f, "SELECT 1", STORE_QUEUED, &err) == store_env_next_id(f->env) - 1);
}

/* A window's first page is found from the page headers alone. */
static void
test_find_page_of_a_row(void **state)
{
    fixture *f = *state;
    qg_error err;
    open_store(f, 64 * MiB);
    uint64_t id = create(f, "SELECT r", STORE_RUNNING, &err);
    for (uint32_t p = 0; p < 300; p++)
        put_page(f, id, 0, p, 100); /* page p holds rows 10p .. 10p+9 */
    assert_int_equal(store_flow_drain(&f->flow, &err), 0);
    uint32_t page = 12345;
    struct {
        uint64_t row;
        uint32_t page;
    } cases[] = {{0, 0},      {9, 0},      {10, 1},     {11, 1},
                 {1234, 123}, {2990, 299}, {2999, 299}, {5000, 299}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(store_results_find(f->env, id, 0, 300, cases[i].row, &page, &err), 1);
        assert_int_equal(page, cases[i].page);
    }
    for (uint32_t n = 1; n < 40; n++) { /* every count of pages, every row */
        for (uint64_t row = 0; row < 10 * n; row += 3) {
            assert_int_equal(store_results_find(f->env, id, 0, n, row, &page, &err), 1);
            assert_int_equal(page, row / 10);
        }
    }
    assert_int_equal(store_results_find(f->env, id, 0, 0, 0, &page, &err), 0);
    /* a page missing on the way is reported, not skipped */
    assert_int_equal(store_results_find(f->env, id, 1, 300, 1234, &page, &err), 0);
}

/* A failed batch keeps the sets its statements completed; the set cut
 * short loses its pages. */
static void
test_failed_job_keeps_completed_sets(void **state)
{
    fixture *f = *state;
    qg_error err;
    open_store(f, 64 * MiB);
    uint64_t id = create(f, "SELECT 1; SELECT 2; SELECT x", STORE_RUNNING, &err);
    put_page(f, id, 0, 0, 100);
    put_page(f, id, 1, 0, 100);
    put_page(f, id, 1, 1, 100);
    put_page(f, id, 2, 0, 100); /* the set its error cut short */
    uint32_t pages[2] = {1, 2};
    assert_int_equal(finish(f, id, STORE_FAILED, 2, pages, 1, 0, true), 0);
    assert_int_equal(count_pages(f, id), 3);
    assert_page(f, id, 1, 1, 100);
    assert_true(consume(f, id, 1));
    assert_false(consume(f, id, 1));
    assert_false(consume(f, id, 2));
    assert_true(consume(f, id, 0));
}

static void
test_statements_stored_replaced_and_deleted(void **state)
{
    fixture *f = *state;
    qg_error err;
    open_store(f, 64 * MiB);
    qg_query q;
    qg_query_init(&q);
    q.statement = "SELECT 1; SELECT 2; SELECT 3";
    q.statement_len = strlen(q.statement);
    store_op *op = store_op_new(STORE_OP_CREATE);
    store_job_from_query(&op->job, &q, "r", 3600000000000ull);
    op->q = &q;
    op->stmts = some_stmts(3, STORE_STMT_QUEUED);
    op->nstmts = 3;
    assert_int_equal(store_writer_run(f->w, &f->flow, op, &err), 0);
    uint64_t id = op->job.id;
    store_op_free(op);
    uint64_t other = create(f, "SELECT other", STORE_QUEUED, &err);

    store_stmt *v;
    size_t n;
    assert_int_equal(store_jobs_read_stmts(f->env, id, &v, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(v[2].off, 20);
    assert_int_equal(v[1].state, STORE_STMT_QUEUED);
    store_stmts_free(v, n);
    assert_int_equal(store_jobs_read_stmts(f->env, other, &v, &n, &err), 0);
    assert_int_equal(n, 0);
    store_stmts_free(v, n);

    /* the end: two ran (one with columns), the third never did */
    store_job j;
    store_job_init(&j);
    assert_int_equal(store_jobs_read(f->env, id, &j, &err), 1);
    op = store_op_new(STORE_OP_UPDATE);
    store_job_copy(&op->job, &j);
    op->job.state = STORE_FAILED;
    op->job.finished_ns = qg_wall_ns();
    op->stmts = some_stmts(2, STORE_STMT_FINISHED);
    op->nstmts = 2;
    op->stmts[1].state = STORE_STMT_ERROR;
    qg_error_set(&op->stmts[1].error, QG_E_RUNTIME, "boom");
    op->stmts[0].set = 0;
    op->stmts[0].rows = 7;
    op->stmts[0].ncols = 1;
    op->stmts[0].cols = calloc(1, sizeof(store_col));
    op->stmts[0].cols[0].name = strdup("a");
    store_bound_set(&op->stmts[0].cols[0].min, STORE_V_NUMBER, "1", 1);
    op->set_stmts = true;
    assert_int_equal(store_writer_run(f->w, &f->flow, op, &err), 0);
    store_op_free(op);
    assert_int_equal(store_jobs_read_stmts(f->env, id, &v, &n, &err), 0);
    assert_int_equal(n, 2); /* replaced whole: the third record is gone */
    assert_int_equal(v[0].state, STORE_STMT_FINISHED);
    assert_true(v[0].rows == 7 && v[0].set == 0 && v[0].ncols == 1);
    assert_string_equal(v[0].cols[0].min.text, "1");
    assert_int_equal(v[1].state, STORE_STMT_ERROR);
    assert_non_null(strstr(v[1].error.msg, "boom"));
    store_stmts_free(v, n);

    /* the sweep takes the statements with the job */
    op = store_op_new(STORE_OP_UPDATE);
    store_job_copy(&op->job, &j);
    op->job.state = STORE_SUCCESS;
    op->job.expires_ns = 1;
    assert_int_equal(store_writer_run(f->w, &f->flow, op, &err), 0);
    store_op_free(op);
    assert_int_equal(run_op(f, STORE_OP_SWEEP, 0, 0, qg_wall_ns(), &op), 0);
    assert_int_equal(op->swept, 1);
    store_op_free(op);
    assert_int_equal(store_jobs_read_stmts(f->env, id, &v, &n, &err), 0);
    assert_int_equal(n, 0);
    store_stmts_free(v, n);
    store_job_free(&j);
}

static void
test_fill_marks_unrun_statements(void **state)
{
    fixture *f = *state;
    qg_error err;
    open_store(f, 64 * MiB);
    qg_query q;
    qg_query_init(&q);
    q.statement = "SELECT 1; SELECT 2";
    q.statement_len = strlen(q.statement);
    store_op *op = store_op_new(STORE_OP_CREATE);
    store_job_from_query(&op->job, &q, "r", 3600000000000ull);
    op->q = &q;
    op->stmts = some_stmts(2, STORE_STMT_QUEUED);
    op->nstmts = 2;
    op->stmts[0].state = STORE_STMT_FINISHED;
    assert_int_equal(store_writer_run(f->w, &f->flow, op, &err), 0);
    uint64_t id = op->job.id;
    store_op_free(op);
    op = store_op_new(STORE_OP_UPDATE);
    assert_int_equal(store_jobs_read(f->env, id, &op->job, &err), 1);
    op->job.state = STORE_FAILED;
    op->job.finished_ns = 42;
    op->fill_from = STORE_STMT_QUEUED;
    op->fill_to = STORE_STMT_CANCELLED;
    assert_int_equal(store_writer_run(f->w, &f->flow, op, &err), 0);
    store_op_free(op);
    store_stmt *v;
    size_t n;
    assert_int_equal(store_jobs_read_stmts(f->env, id, &v, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].state, STORE_STMT_FINISHED);
    assert_int_equal(v[1].state, STORE_STMT_CANCELLED);
    store_stmts_free(v, n);
}

/* One create through the writer with an idempotency key. */
static store_op *
create_idem(fixture *f, const char *stmt, const char *principal, const char *key, uint64_t now,
            uint64_t expires)
{
    qg_error err;
    static qg_query q; /* borrowed by the op until it completes */
    qg_query_init(&q);
    q.statement = stmt;
    q.statement_len = strlen(stmt);
    q.mode = QG_MODE_ASYNC;
    store_op *op = store_op_new(STORE_OP_CREATE);
    store_job_from_query(&op->job, &q, "r", 3600000000000ull);
    op->q = &q;
    op->now_ns = now;
    op->idem = true;
    store_idem_key(principal, key, op->idem_key);
    store_idem_fingerprint(&q, op->idem_fp);
    op->idem_expires_ns = expires;
    store_writer_run(f->w, &f->flow, op, &err);
    return op;
}

static void
test_idempotency_keys(void **state)
{
    fixture *f = *state;
    qg_error err;
    open_store(f, 64 * MiB);
    uint64_t now = qg_wall_ns(), hour = 3600000000000ull;
    store_op *a = create_idem(f, "INSERT 1", "alice", "k1", now, now + hour);
    assert_int_equal(a->status, 0);
    assert_false(a->existing);
    uint64_t first = a->job.id;
    store_op_free(a);

    /* the same again: nothing new, the first job answers */
    a = create_idem(f, "INSERT 1", "alice", "k1", now + 1, now + hour);
    assert_int_equal(a->status, 0);
    assert_true(a->existing && !a->existing_gone);
    assert_true(a->job.id == first);
    assert_string_equal(a->job.request_id, "r");
    store_op_free(a);
    assert_true(store_env_next_id(f->env) == first + 1);

    /* the same key for something else: a conflict */
    a = create_idem(f, "INSERT 2", "alice", "k1", now + 2, now + hour);
    assert_int_equal(a->status, -1);
    assert_int_equal(a->err.code, QG_E_CONFLICT);
    assert_non_null(strstr(a->err.msg, "ASX0917"));
    store_op_free(a);

    /* keys are per principal */
    a = create_idem(f, "INSERT 2", "bob", "k1", now + 3, now + hour);
    assert_int_equal(a->status, 0);
    assert_false(a->existing);
    store_op_free(a);

    /* the loop's look-up, also after a restart */
    close_store(f);
    open_store(f, 64 * MiB);
    unsigned char key[32], fp[32], want[32];
    uint64_t job = 0;
    store_idem_key("alice", "k1", key);
    assert_int_equal(store_idem_lookup(f->env, key, now + 4, &job, fp, &err), 1);
    assert_true(job == first);
    qg_query q;
    qg_query_init(&q);
    q.statement = "INSERT 1";
    q.statement_len = 8;
    q.mode = QG_MODE_ASYNC;
    store_idem_fingerprint(&q, want);
    assert_memory_equal(fp, want, 32);
    /* fingerprints tell requests apart */
    q.args = (qg_value[]){{QG_VAL_INT, 1, 0, "1", 1}};
    q.nargs = 1;
    store_idem_fingerprint(&q, fp);
    assert_memory_not_equal(fp, want, 32);

    /* expired: a new job, and the sweep takes the old key's entries */
    a = create_idem(f, "INSERT 1", "alice", "k1", now + 2 * hour, now + 3 * hour);
    assert_int_equal(a->status, 0);
    assert_false(a->existing);
    uint64_t second = a->job.id;
    store_op_free(a);
    assert_int_equal(store_idem_lookup(f->env, key, now + 2 * hour, &job, fp, &err), 1);
    assert_true(job == second);
    store_op *op;
    /* the first key's expiry entry was replaced: a sweep between the two
     * expiries keeps the new entry */
    assert_int_equal(run_op(f, STORE_OP_SWEEP, 0, 0, now + 2 * hour, &op), 0);
    store_op_free(op);
    assert_int_equal(store_idem_lookup(f->env, key, now + 2 * hour, &job, fp, &err), 1);
    assert_int_equal(run_op(f, STORE_OP_SWEEP, 0, 0, now + 4 * hour, &op), 0);
    store_op_free(op);
    assert_int_equal(store_idem_lookup(f->env, key, 0, &job, fp, &err), 0);
    store_idem_key("bob", "k1", key);
    assert_int_equal(store_idem_lookup(f->env, key, 0, &job, fp, &err), 0);
}

static void
test_callback_index_and_delivery_state(void **state)
{
    fixture *f = *state;
    qg_error err;
    open_store(f, 64 * MiB);
    qg_query q;
    qg_query_init(&q);
    q.statement = "SELECT cb";
    q.statement_len = 9;
    q.callback_url = "http://127.0.0.1:9/hook";
    store_op *op = store_op_new(STORE_OP_CREATE);
    store_job_from_query(&op->job, &q, "r", 3600000000000ull);
    assert_int_equal(op->job.cb_state, STORE_CB_PENDING);
    op->q = &q;
    assert_int_equal(store_writer_run(f->w, &f->flow, op, &err), 0);
    uint64_t id = op->job.id;
    store_op_free(op);
    uint64_t *ids;
    size_t n;
    assert_int_equal(store_jobs_pending_callbacks(f->env, &ids, &n, &err), 0);
    assert_int_equal(n, 0); /* not ended yet */
    free(ids);
    uint32_t one = 1;
    put_page(f, id, 0, 0, 10);
    assert_int_equal(finish(f, id, STORE_SUCCESS, 1, &one, 2, 0, false), 0);
    assert_int_equal(store_jobs_pending_callbacks(f->env, &ids, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_true(ids[0] == id);
    free(ids);

    /* a read meanwhile is kept by the delivery's update */
    assert_true(consume(f, id, 0));
    op = store_op_new(STORE_OP_CALLBACK);
    op->job_id = id;
    op->job.cb_state = STORE_CB_PENDING;
    op->job.cb_attempts = 1;
    op->job.cb_next_ns = 77;
    snprintf(op->job.cb_error, sizeof(op->job.cb_error), "HTTP 500");
    assert_int_equal(store_writer_run(f->w, &f->flow, op, &err), 0);
    assert_true(op->found);
    store_op_free(op);
    store_job j;
    store_job_init(&j);
    assert_int_equal(store_jobs_read_query(f->env, id, &j, &q, &err), 1);
    assert_string_equal(q.callback_url, "http://127.0.0.1:9/hook");
    assert_int_equal(j.sets[0].reads_left, 1);
    assert_true(j.cb_attempts == 1 && j.cb_next_ns == 77);
    assert_string_equal(j.cb_error, "HTTP 500");
    qg_query_free(&q);

    op = store_op_new(STORE_OP_CALLBACK);
    op->job_id = id;
    op->job.cb_state = STORE_CB_DELIVERED;
    op->job.cb_attempts = 2;
    assert_int_equal(store_writer_run(f->w, &f->flow, op, &err), 0);
    store_op_free(op);
    assert_int_equal(store_jobs_pending_callbacks(f->env, &ids, &n, &err), 0);
    assert_int_equal(n, 0);
    free(ids);
    assert_int_equal(store_jobs_read(f->env, id, &j, &err), 1);
    assert_int_equal(j.cb_state, STORE_CB_DELIVERED);
    assert_string_equal(j.cb_error, "");
    store_job_free(&j);

    /* a job that is gone: not found, nothing written */
    op = store_op_new(STORE_OP_CALLBACK);
    op->job_id = 9999;
    assert_int_equal(store_writer_run(f->w, &f->flow, op, &err), 0);
    assert_false(op->found);
    store_op_free(op);
}

static const char *
path_of_store(fixture *f)
{
    static char path[300];
    snprintf(path, sizeof(path), "%s/store", f->dir);
    return path;
}

/* A raw LMDB handle on the closed store's file, as another program (or a
 * format-2 qgate) would have. */
static MDB_env *
raw_open(fixture *f, MDB_txn **txn)
{
    char path[300];
    snprintf(path, sizeof(path), "%s/store", f->dir);
    MDB_env *env;
    assert_int_equal(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 16);
    mdb_env_set_mapsize(env, 64 * MiB);
    assert_int_equal(mdb_env_open(env, path, 0, 0640), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, txn), 0);
    return env;
}

/* A byte changed under a seal: the read is an error (the store is then
 * damaged), never the bytes; a damaged record is found at open. */
static void
test_seals_catch_changed_bytes(void **state)
{
    fixture *f = *state;
    qg_error err;
    open_store(f, 64 * MiB);
    uint64_t id = create(f, "SELECT sealed", STORE_RUNNING, &err);
    put_page(f, id, 0, 0, 3000);
    put_page(f, id, 0, 1, 70000);
    assert_int_equal(store_flow_drain(&f->flow, &err), 0);
    uint32_t pages[] = {2};
    assert_int_equal(finish(f, id, STORE_SUCCESS, 1, pages, 1, 0, false), 0);
    assert_page(f, id, 0, 1, 70000);
    close_store(f);

    MDB_txn *txn;
    MDB_env *env = raw_open(f, &txn);
    MDB_dbi pages_dbi, jobs_dbi;
    assert_int_equal(mdb_dbi_open(txn, "pages", 0, &pages_dbi), 0);
    assert_int_equal(mdb_dbi_open(txn, "jobs", 0, &jobs_dbi), 0);
    unsigned char kb[16];
    for (int i = 0; i < 8; i++)
        kb[i] = (unsigned char)(id >> (56 - 8 * i));
    memset(kb + 8, 0, 8);
    kb[15] = 1;
    MDB_val k = {16, kb}, v;
    assert_int_equal(mdb_get(txn, pages_dbi, &k, &v), 0);
    char *copy = malloc(v.mv_size);
    memcpy(copy, v.mv_data, v.mv_size);
    copy[40000] ^= 0x20;
    MDB_val nv = {v.mv_size, copy};
    assert_int_equal(mdb_put(txn, pages_dbi, &k, &nv, 0), 0);
    free(copy);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    open_store(f, 64 * MiB);
    assert_false(store_env_damaged(f->env));
    assert_page(f, id, 0, 0, 3000); /* its neighbour is fine */
    got g = {QG_BUF_INIT, 0, 0};
    assert_int_equal(store_results_read(f->env, id, 0, 1, collect, &g, &err), -1);
    assert_int_equal(g.b.len, 0); /* nothing handed out */
    assert_int_equal(err.code, QG_E_STORE);
    assert_non_null(strstr(err.msg, "checksum"));
    assert_true(store_env_damaged(f->env));
    qg_buf_free(&g.b);
    close_store(f);

    /* a job record: its status is an error too */
    env = raw_open(f, &txn);
    assert_int_equal(mdb_dbi_open(txn, "jobs", 0, &jobs_dbi), 0);
    MDB_val jk = {8, kb};
    assert_int_equal(mdb_get(txn, jobs_dbi, &jk, &v), 0);
    copy = malloc(v.mv_size);
    memcpy(copy, v.mv_data, v.mv_size);
    copy[2] ^= 1;
    nv = (MDB_val){v.mv_size, copy};
    assert_int_equal(mdb_put(txn, jobs_dbi, &jk, &nv, 0), 0);
    free(copy);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    /* records are checked at open: the store is refused */
    assert_int_equal(store_env_open(path_of_store(f), 64 * MiB, &f->env, &err), -1);
    assert_null(f->env);
    assert_non_null(strstr(err.msg, "damaged"));
    assert_non_null(strstr(err.msg, "checksum"));
}

/* A format-2 store (values without seals, numbers from 1) opens as it is:
 * its jobs read back, new ones are sealed and numbered from the clock. */
static void
test_format_2_store_is_upgraded_in_place(void **state)
{
    fixture *f = *state;
    char path[300];
    snprintf(path, sizeof(path), "%s/store", f->dir);
    mkdir(path, 0750);
    MDB_txn *txn;
    MDB_env *env = raw_open(f, &txn);
    MDB_dbi meta, jobs, active, pages;
    assert_int_equal(mdb_dbi_open(txn, "meta", MDB_CREATE, &meta), 0);
    assert_int_equal(mdb_dbi_open(txn, "jobs", MDB_CREATE, &jobs), 0);
    assert_int_equal(mdb_dbi_open(txn, "active", MDB_CREATE, &active), 0);
    assert_int_equal(mdb_dbi_open(txn, "pages", MDB_CREATE, &pages), 0);
    unsigned char ver[4] = {0, 0, 0, 2}, next[8] = {0, 0, 0, 0, 0, 0, 0, 8};
    MDB_val k = {6, "format"}, v = {4, ver};
    assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
    k = (MDB_val){8, "next_job"};
    v = (MDB_val){8, next};
    assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
    /* job 7, success, one set of one page, as format 2 wrote them */
    qg_query q;
    qg_query_init(&q);
    q.statement = "SELECT old";
    q.statement_len = 10;
    store_job j;
    store_job_init(&j);
    store_job_from_query(&j, &q, "00000000-0000-4000-8000-000000000000", 3600000000000ull);
    j.id = 7;
    j.state = STORE_SUCCESS;
    j.expires_ns = qg_wall_ns() + 3600000000000ull;
    store_set set = {1, 5, 1, 1};
    store_job_set_sets(&j, &set, 1);
    qg_buf b = QG_BUF_INIT;
    store_record_encode(&j, &q, &b);
    unsigned char jk[8] = {0, 0, 0, 0, 0, 0, 0, 7};
    k = (MDB_val){8, jk};
    v = (MDB_val){b.len, b.data};
    assert_int_equal(mdb_put(txn, jobs, &k, &v, 0), 0);
    unsigned char pk[16] = {0, 0, 0, 0, 0, 0, 0, 7};
    unsigned char pv[12 + 5] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, '{', '"', 'a', '"', '}'};
    k = (MDB_val){16, pk};
    v = (MDB_val){sizeof(pv), pv};
    assert_int_equal(mdb_put(txn, pages, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    qg_buf_free(&b);
    store_job_free(&j);

    open_store(f, 64 * MiB);
    qg_error err;
    store_job_init(&j);
    assert_int_equal(store_jobs_read(f->env, 7, &j, &err), 1);
    assert_int_equal(j.state, STORE_SUCCESS);
    store_job_free(&j);
    got g = {QG_BUF_INIT, 0, 0};
    assert_int_equal(store_results_read(f->env, 7, 0, 0, collect, &g, &err), 1);
    assert_int_equal(g.b.len, 5);
    assert_memory_equal(g.b.data, "{\"a\"}", 5);
    qg_buf_free(&g.b);
    /* and is indexed by its principal (format 4) */
    store_list_opts lo = {.limit = 10, .examine = 10, .text_max = 100, .now_ns = qg_wall_ns()};
    store_listed *lv;
    size_t ln;
    uint64_t lnext;
    assert_int_equal(store_jobs_list(f->env, &lo, &lv, &ln, &lnext, &err), 0);
    assert_int_equal(ln, 1);
    assert_int_equal(lv[0].job.id, 7);
    assert_string_equal(lv[0].statement, "SELECT old");
    store_listed_free(lv, ln);
    uint64_t id = create(f, "SELECT new", STORE_QUEUED, &err);
    assert_true(id > 1000000000000000ull);
    store_job_init(&j);
    assert_int_equal(store_jobs_read(f->env, id, &j, &err), 1);
    store_job_free(&j);
    close_store(f);
    /* and opens again as format 4 */
    open_store(f, 64 * MiB);
    store_job_init(&j);
    assert_int_equal(store_jobs_read(f->env, 7, &j, &err), 1);
    assert_int_equal(store_jobs_read(f->env, id, &j, &err), 1);
    store_job_free(&j);
}

/* A store that replaces another (its data.mdb emptied) never hands out a
 * number the other one did. */
static void
test_a_new_store_never_reuses_numbers(void **state)
{
    fixture *f = *state;
    qg_error err;
    open_store(f, 64 * MiB);
    uint64_t last = 0;
    for (int i = 0; i < 50; i++)
        last = create(f, "SELECT 1", STORE_QUEUED, &err);
    close_store(f);
    char path[300];
    snprintf(path, sizeof(path), "%s/store/data.mdb", f->dir);
    assert_int_equal(truncate(path, 0), 0);
    open_store(f, 64 * MiB);
    assert_true(create(f, "SELECT 2", STORE_QUEUED, &err) > last);
    store_job j;
    store_job_init(&j);
    assert_int_equal(store_jobs_read(f->env, last, &j, &err), 0);
    store_job_free(&j);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_counter_survives_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format_version_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_commit_unique_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pages_round_trip_and_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reads_are_counted_and_released, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sweep_deletes_expired_in_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_full_is_an_error_not_a_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_op_fails_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovery_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_reader_slot_cleared, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find_page_of_a_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_job_keeps_completed_sets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statements_stored_replaced_and_deleted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fill_marks_unrun_statements, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotency_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_callback_index_and_delivery_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seals_catch_changed_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format_2_store_is_upgraded_in_place, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_new_store_never_reuses_numbers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
