/* Unit tests for exec/sqlite_guard: the authorizer's decisions, and a
 * hardened connection's behaviour. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "exec/sqlite_guard.h"

static sqlite_guard_verdict
decide(int action, const char *a, const char *b, const char *db, bool readonly)
{
    sqlite_guard_verdict v;
    sqlite_guard_decide(action, a, b, db, readonly, &v);
    return v;
}

static void
test_functions(void **state)
{
    for (int ro = 0; ro < 2; ro++) {
        assert_true(decide(SQLITE_FUNCTION, NULL, "upper", NULL, ro).allow);
        assert_true(decide(SQLITE_FUNCTION, NULL, "->>", NULL, ro).allow);
        assert_true(decide(SQLITE_FUNCTION, NULL, "json_extract", NULL, ro).allow);
        sqlite_guard_verdict v = decide(SQLITE_FUNCTION, NULL, "fts3_tokenizer", NULL, ro);
        assert_false(v.allow);
        assert_false(v.readonly);
        assert_non_null(strstr(v.why, "fts3_tokenizer() is not allowed: it reads and writes"));
        assert_false(decide(SQLITE_FUNCTION, NULL, "load_extension", NULL, ro).allow);
        assert_false(decide(SQLITE_FUNCTION, NULL, "sqlite_log", NULL, ro).allow);
        v = decide(SQLITE_FUNCTION, NULL, "readfile", NULL, ro);
        assert_false(v.allow);
        assert_non_null(strstr(v.why, "not on qgate's list of functions"));
        assert_false(decide(SQLITE_FUNCTION, NULL, NULL, NULL, ro).allow);
    }
}

static void
test_pragmas(void **state)
{
    /* any request, any argument */
    assert_true(decide(SQLITE_PRAGMA, "table_info", "orders", NULL, true).allow);
    assert_true(decide(SQLITE_PRAGMA, "TABLE_INFO", "orders", NULL, true).allow);
    /* settings: read by all, set by writers for their request only */
    assert_true(decide(SQLITE_PRAGMA, "foreign_keys", NULL, NULL, true).allow);
    sqlite_guard_verdict v = decide(SQLITE_PRAGMA, "foreign_keys", "1", NULL, false);
    assert_true(v.allow && v.resets);
    v = decide(SQLITE_PRAGMA, "foreign_keys", "1", NULL, true);
    assert_true(!v.allow && v.readonly);
    /* never set */
    assert_true(decide(SQLITE_PRAGMA, "journal_mode", NULL, NULL, false).allow);
    v = decide(SQLITE_PRAGMA, "journal_mode", "delete", NULL, false);
    assert_true(!v.allow && !v.readonly);
    assert_non_null(strstr(v.why, "setting PRAGMA journal_mode is not allowed"));
    assert_false(decide(SQLITE_PRAGMA, "hard_heap_limit", "1", NULL, false).allow);
    assert_false(decide(SQLITE_PRAGMA, "writable_schema", "1", NULL, false).allow);
    /* a value in the file, actions on it */
    v = decide(SQLITE_PRAGMA, "user_version", "3", NULL, false);
    assert_true(v.allow && !v.resets);
    assert_true(decide(SQLITE_PRAGMA, "user_version", NULL, NULL, true).allow);
    assert_false(decide(SQLITE_PRAGMA, "user_version", "3", NULL, true).allow);
    assert_true(decide(SQLITE_PRAGMA, "optimize", NULL, NULL, false).allow);
    assert_false(decide(SQLITE_PRAGMA, "optimize", NULL, NULL, true).allow);
    /* refused outright, and the unknown */
    v = decide(SQLITE_PRAGMA, "database_list", NULL, NULL, false);
    assert_true(!v.allow && strstr(v.why, "file paths"));
    assert_false(decide(SQLITE_PRAGMA, "temp_store_directory", NULL, NULL, false).allow);
    assert_false(decide(SQLITE_PRAGMA, "no_such_pragma", NULL, NULL, false).allow);
    assert_false(decide(SQLITE_PRAGMA, NULL, NULL, NULL, false).allow);
}

static void
test_objects(void **state)
{
    /* files: never */
    for (int ro = 0; ro < 2; ro++) {
        assert_false(decide(SQLITE_ATTACH, "/tmp/x.db", NULL, NULL, ro).allow);
        assert_false(decide(SQLITE_DETACH, "x", NULL, NULL, ro).allow);
        assert_false(decide(SQLITE_CREATE_VTABLE, "t", "sqlite_stmt", "main", ro).allow);
        assert_false(decide(SQLITE_CREATE_VTABLE, "t", "zipfile", "main", ro).allow);
        assert_false(decide(12345, NULL, NULL, NULL, ro).allow);
    }
    /* TEMP objects: writers, and the connection is reset after them */
    sqlite_guard_verdict v = decide(SQLITE_CREATE_TEMP_VIEW, "v", NULL, "temp", false);
    assert_true(v.allow && v.resets);
    v = decide(SQLITE_CREATE_TABLE, "t", NULL, "temp", false);
    assert_true(v.allow && v.resets);
    v = decide(SQLITE_CREATE_TEMP_TRIGGER, "t", "orders", "temp", false);
    assert_true(v.allow && v.resets);
    v = decide(SQLITE_CREATE_VTABLE, "f", "fts3", "temp", false);
    assert_true(v.allow && v.resets);
    v = decide(SQLITE_CREATE_TABLE, "t", NULL, "main", false);
    assert_true(v.allow && !v.resets);
    v = decide(SQLITE_CREATE_VTABLE, "f", "fts5", "main", false);
    assert_true(v.allow && !v.resets);
    v = decide(SQLITE_CREATE_TEMP_TABLE, "t", NULL, "temp", true);
    assert_true(!v.allow && v.readonly);
    /* reads and writes */
    assert_true(decide(SQLITE_READ, "orders", "id", "main", true).allow);
    assert_true(decide(SQLITE_SELECT, NULL, NULL, NULL, true).allow);
    assert_true(decide(SQLITE_TRANSACTION, "BEGIN", NULL, NULL, true).allow);
    assert_true(decide(SQLITE_INSERT, "orders", NULL, "main", false).allow);
    v = decide(SQLITE_INSERT, "orders", NULL, "main", true);
    assert_true(!v.allow && v.readonly);
    assert_false(decide(SQLITE_UPDATE, "orders", "status", "main", true).allow);
    /* declaring a pragma or JSON table asks about the schema table */
    assert_true(decide(SQLITE_UPDATE, "sqlite_master", "sql", "main", true).allow);
    assert_false(decide(SQLITE_ALTER_TABLE, "main", "orders", NULL, true).allow);
}

/* A hardened in-memory connection: what a client meets. */
static void
test_harden(void **state)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    sqlite_guard_conn g;
    sqlite_guard_limits lim = {.max_value = 1 << 20, .max_sql = 1 << 16};
    char why[256];
    assert_int_equal(sqlite_guard_harden(db, &lim, &g, why, sizeof(why)), 0);
    assert_int_equal(sqlite3_limit(db, SQLITE_LIMIT_LENGTH, -1), 1 << 20);
    assert_int_equal(sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, -1), 1 << 16);
    int on = -1;
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, -1, &on);
    assert_int_equal(on, 0);
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, -1, &on);
    assert_int_equal(on, 1);
    /* the two-argument fts3_tokenizer() is off even without the authorizer */
    char *msg = NULL;
    assert_int_not_equal(
        sqlite3_exec(db, "SELECT fts3_tokenizer('x', x'4141414141414141')", NULL, NULL, &msg),
        SQLITE_OK);
    sqlite3_free(msg);
    /* sqlite_stmt is gone */
    assert_int_not_equal(sqlite3_exec(db, "SELECT * FROM sqlite_stmt", NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "SELECT * FROM json_each('[1]')", NULL, NULL, NULL),
                     SQLITE_OK);
    /* changes() and total_changes() count from the request's start */
    assert_int_equal(
        sqlite3_exec(db, "CREATE TABLE t(a); INSERT INTO t VALUES (1), (2)", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT changes(), total_changes(), last_insert_rowid()",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 2);
    assert_int_equal(sqlite3_column_int(st, 1), 2);
    assert_int_equal(sqlite3_column_int(st, 2), 2);
    sqlite3_reset(st);
    sqlite_guard_request_end(db, &g);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    assert_int_equal(sqlite3_column_int(st, 1), 0);
    assert_int_equal(sqlite3_column_int(st, 2), 0);
    sqlite3_finalize(st);
    /* a value past the limit is refused, not allocated */
    assert_int_equal(sqlite3_exec(db, "SELECT randomblob(2000000)", NULL, NULL, NULL),
                     SQLITE_TOOBIG);
    sqlite3_close(db);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_functions),
        cmocka_unit_test(test_pragmas),
        cmocka_unit_test(test_objects),
        cmocka_unit_test(test_harden),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
