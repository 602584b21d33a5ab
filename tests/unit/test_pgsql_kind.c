/* Unit tests for exec/pgsql_kind: statement kinds and read-only-ness. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "exec/pgsql_kind.h"

static pgsql_kind
kind_of(const char *s)
{
    size_t n = strlen(s);
    char *copy = malloc(n ? n : 1);
    memcpy(copy, s, n);
    pgsql_kind k;
    pgsql_kind_of(copy, n, &k);
    free(copy);
    return k;
}

#define assert_kind(s, want_kind, want_ro)                                                         \
    do {                                                                                           \
        pgsql_kind k_ = kind_of(s);                                                                \
        assert_string_equal(k_.kind, (want_kind));                                                 \
        assert_int_equal(k_.readonly, (want_ro));                                                  \
    } while (0)

static void
test_queries_are_readonly(void **state)
{
    assert_kind("SELECT 1", "SELECT", true);
    assert_kind("  -- c\n select * from t where a = 'insert'", "SELECT", true);
    assert_kind("VALUES (1), (2)", "VALUES", true);
    assert_kind("TABLE customers", "TABLE", true);
    assert_kind("WITH x AS (SELECT 1) SELECT * FROM x", "WITH", true);
    assert_kind("(SELECT 1) UNION (SELECT 2)", "SELECT", true);
    assert_kind("SHOW search_path", "SHOW", true);
    assert_kind("SELECT \"update\", \"delete\" FROM t", "SELECT", true);
    assert_kind("SELECT $$INSERT$$", "SELECT", true);
}

static void
test_queries_that_write(void **state)
{
    assert_kind("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", "DELETE", false);
    assert_kind("with u as (update t set a = 1 returning a) select 1", "UPDATE", false);
    assert_kind("WITH i AS (INSERT INTO t VALUES (1) RETURNING 1) SELECT 1", "INSERT", false);
    assert_kind("SELECT * INTO newt FROM t", "SELECT INTO", false);
    assert_kind("SELECT * FROM t FOR UPDATE", "SELECT FOR UPDATE", false);
    assert_kind("SELECT * FROM t FOR NO KEY UPDATE", "SELECT FOR NO KEY UPDATE", false);
    assert_kind("SELECT * FROM t FOR SHARE", "SELECT FOR SHARE", false);
    assert_kind("SELECT * FROM t FOR KEY SHARE", "SELECT FOR KEY SHARE", false);
}

static void
test_other_statements(void **state)
{
    assert_kind("INSERT INTO t VALUES (1)", "INSERT", false);
    assert_kind("update t set a = 1", "UPDATE", false);
    assert_kind("DELETE FROM t", "DELETE", false);
    assert_kind("CREATE TABLE t(a int)", "CREATE", false);
    assert_kind("DROP TABLE t", "DROP", false);
    assert_kind("COMMIT", "COMMIT", false);
    assert_kind("SET default_transaction_read_only = off", "SET", false);
    assert_kind("COPY t TO STDOUT", "COPY", false);
    assert_kind("CALL p()", "CALL", false);
    assert_kind("", "UNKNOWN", false);
    assert_kind("-- only a comment", "UNKNOWN", false);
}

static void
test_explain(void **state)
{
    assert_kind("EXPLAIN SELECT 1", "EXPLAIN", true);
    assert_kind("EXPLAIN ANALYZE SELECT 1", "EXPLAIN", true);
    assert_kind("EXPLAIN (ANALYZE, BUFFERS) SELECT 1", "EXPLAIN", true);
    assert_kind("EXPLAIN DELETE FROM t", "EXPLAIN", true); /* not run */
    assert_kind("EXPLAIN ANALYZE DELETE FROM t", "DELETE", false);
    assert_kind("EXPLAIN (FORMAT JSON, ANALYZE) INSERT INTO t VALUES (1)", "INSERT", false);
    assert_kind("EXPLAIN VERBOSE ANALYZE UPDATE t SET a = 1", "UPDATE", false);
}

static void
test_rows(void **state)
{
    assert_true(kind_of("SELECT 1").rows);
    assert_true(kind_of("INSERT INTO t VALUES (1) RETURNING id").rows);
    assert_true(kind_of("FETCH 10 FROM c").rows);
    assert_false(kind_of("INSERT INTO t VALUES (1)").rows);
    assert_false(kind_of("CREATE TABLE t(a int)").rows);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queries_are_readonly),
        cmocka_unit_test(test_queries_that_write),
        cmocka_unit_test(test_other_statements),
        cmocka_unit_test(test_explain),
        cmocka_unit_test(test_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
