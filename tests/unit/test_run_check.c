/* Unit tests for exec_check (exec/run): what an async submission's
 * compile-only check refuses, accepts and learns, on a real SQLite
 * connection, and that it runs nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "exec/backend.h"
#include "exec/internal.h"
#include "exec/pool.h"
#include "exec/run.h"

typedef struct fx {
    exec_worker wk;
    exec_task task;
} fx;

static void
nop_run(exec_task *t, exec_worker *w)
{
}

static void
nop_notify(exec_task *t)
{
}

static void
nop_destroy(exec_task *t)
{
}

static const exec_task_ops nops = {nop_run, nop_notify, nop_destroy};

static int
setup(void **state)
{
    static fx f;
    memset(&f, 0, sizeof(f));
    qg_error err;
    f.wk.be = &exec__sqlite;
    if (exec__sqlite.open("sqlite::memory:", &f.wk.conn, &err) != 0)
        return -1;
    exec_task_init(&f.task, &nops);
    *state = &f;
    return 0;
}

static int
teardown(void **state)
{
    fx *f = *state;
    exec__sqlite.close(f->wk.conn);
    return 0;
}

/* Runs exec_check on stmt; returns its rc and fills res and err. */
static int
check(fx *f, const char *stmt, bool readonly, bool multi, exec_check_result *res, qg_error *err)
{
    qg_query q;
    qg_query_init(&q);
    q.statement = stmt;
    q.statement_len = strlen(stmt);
    q.readonly = readonly;
    q.multi_statement = multi;
    exec_ctx ctx = {.task = &f->task, .readonly = readonly};
    qg_error_clear(err);
    return exec_check(&f->wk, &q, &ctx, res, err);
}

static void
expect_refused(fx *f, const char *stmt, bool readonly, bool multi, qg_code code)
{
    exec_check_result res;
    qg_error err;
    if (check(f, stmt, readonly, multi, &res, &err) != -1)
        fail_msg("accepted: %s", stmt);
    if (err.code != code)
        fail_msg("%s: got %s (%s)", stmt, qg_err_name(err.code), err.msg);
}

static void
test_refused(void **state)
{
    fx *f = *state;
    expect_refused(f, "SELEC 1", false, true, QG_E_SYNTAX);
    expect_refused(f, "SELECT * FROM nosuch", false, true, QG_E_UNKNOWN_OBJECT);
    /* a later syntax error is found too */
    expect_refused(f, "SELECT 1; SELEC 2", false, true, QG_E_SYNTAX);
    /* only read-only statements before it: the missing table is missing */
    expect_refused(f, "SELECT 1; SELECT * FROM nosuch", false, true, QG_E_UNKNOWN_OBJECT);
    expect_refused(f, "SELECT 1; SELECT 2", false, false, QG_E_MULTI);
    expect_refused(f, "SELECT $nope", false, true, QG_E_NO_VALUE);
    expect_refused(f, "CREATE TABLE ro(a)", true, true, QG_E_READONLY);
    expect_refused(f, "SELECT 1; CREATE TABLE y(a)", true, true, QG_E_READONLY);
}

static void
test_accepted_and_classified(void **state)
{
    fx *f = *state;
    exec_check_result res;
    qg_error err;
    assert_int_equal(check(f, "SELECT 1; SELECT 2 -- end", false, true, &res, &err), 0);
    assert_true(res.complete && res.all_readonly);
    assert_int_equal(res.statements, 2);
    assert_int_equal(check(f, "SELECT 1;  -- only a comment after", false, false, &res, &err), 0);
    assert_int_equal(res.statements, 1);
    assert_int_equal(check(f, "CREATE TABLE IF NOT EXISTS u(a); SELECT 1", false, true, &res, &err),
                     0);
    assert_true(res.complete);
    assert_false(res.all_readonly);
    /* the INSERT cannot compile before the CREATE ran: accepted, unfinished */
    assert_int_equal(check(f, "CREATE TABLE later(a); INSERT INTO later VALUES (1); SELEC x", false,
                           true, &res, &err),
                     0);
    assert_false(res.complete);
    assert_false(res.all_readonly);
    assert_int_equal(res.statements, 1);
    /* and nothing ran */
    assert_int_equal(check(f, "SELECT * FROM later", false, true, &res, &err), -1);
    assert_int_equal(err.code, QG_E_UNKNOWN_OBJECT);
    assert_int_equal(check(f, "SELECT * FROM u", false, true, &res, &err), -1);
}

static void
test_cancelled_task_stops(void **state)
{
    fx *f = *state;
    exec_check_result res;
    qg_error err;
    exec_task_cancel(&f->task, QG_E_CANCELLED);
    assert_int_equal(check(f, "SELECT 1", false, true, &res, &err), -1);
    assert_int_equal(err.code, QG_E_CANCELLED);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accepted_and_classified, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancelled_task_stops, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
