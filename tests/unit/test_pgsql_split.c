/* Unit tests for exec/pgsql_split: where PostgreSQL statements end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "exec/pgsql_split.h"

/* Splits s completely; the statements are joined with " | " into out.
 * Each call works on an exact-size heap copy (ASan sees over-reads). */
static void
split_all(const char *s, char *out, size_t size)
{
    size_t n = strlen(s);
    char *copy = malloc(n ? n : 1);
    memcpy(copy, s, n);
    size_t off = 0, k = 0;
    out[0] = '\0';
    for (int guard = 0; guard < 100; guard++) {
        pgsql_span sp;
        bool found = pgsql_split(copy + off, n - off, &sp);
        assert_true(sp.used <= n - off);
        if (!found) {
            assert_int_equal(sp.used, n - off);
            break;
        }
        assert_true(sp.len > 0);
        assert_true(sp.start + sp.len <= sp.used);
        k += (size_t)snprintf(out + k, size - k, "%s%.*s", k ? " | " : "", (int)sp.len,
                              copy + off + sp.start);
        off += sp.used;
    }
    free(copy);
}

#define assert_split(s, want)                                                                      \
    do {                                                                                           \
        char got_[1024];                                                                           \
        split_all((s), got_, sizeof(got_));                                                        \
        assert_string_equal(got_, (want));                                                         \
    } while (0)

static void
test_simple(void **state)
{
    assert_split("SELECT 1", "SELECT 1");
    assert_split("SELECT 1; SELECT 2;", "SELECT 1 | SELECT 2");
    assert_split("  ;; SELECT 1 ;;; ", "SELECT 1");
    assert_split("", "");
    assert_split(" ; -- nothing\n /* at all */ ;", "");
    assert_split("-- lead\nSELECT 1 -- trail\n; x", "SELECT 1 -- trail | x");
}

static void
test_quotes_hide_semicolons(void **state)
{
    assert_split("SELECT 'a;b'; SELECT 2", "SELECT 'a;b' | SELECT 2");
    assert_split("SELECT 'it''s;'; x", "SELECT 'it''s;' | x");
    assert_split("SELECT E'\\';'; x", "SELECT E'\\';' | x");
    assert_split("SELECT '\\'; x", "SELECT '\\' | x");
    assert_split("SELECT \"a;\"\"b\" FROM t; x", "SELECT \"a;\"\"b\" FROM t | x");
    assert_split("SELECT 1 /* ; /* ; */ ; */; x", "SELECT 1 /* ; /* ; */ ; */ | x");
    assert_split("SELECT 1 -- ;\n; x", "SELECT 1 -- ; | x");
}

static void
test_dollar_quoted_bodies(void **state)
{
    assert_split("CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql; SELECT f()",
                 "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql | SELECT f()");
    assert_split("DO $body$ BEGIN PERFORM 1; END $body$; SELECT 2",
                 "DO $body$ BEGIN PERFORM 1; END $body$ | SELECT 2");
    assert_split("SELECT $a$ $b$ ; $b$ $a$; x", "SELECT $a$ $b$ ; $b$ $a$ | x");
}

static void
test_parentheses(void **state)
{
    assert_split("CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); "
                 "INSERT INTO b VALUES (2)); SELECT 1",
                 "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); "
                 "INSERT INTO b VALUES (2)) | SELECT 1");
    /* a stray ')' does not make depth negative */
    assert_split("SELECT 1); SELECT 2", "SELECT 1) | SELECT 2");
}

static void
test_begin_atomic(void **state)
{
    assert_split("CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC "
                 "SELECT CASE WHEN a > 0 THEN 1 ELSE 0 END; SELECT 2; END; SELECT f(1)",
                 "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC "
                 "SELECT CASE WHEN a > 0 THEN 1 ELSE 0 END; SELECT 2; END | SELECT f(1)");
    assert_split("create or replace procedure p() begin atomic insert into t values (1); end; "
                 "call p()",
                 "create or replace procedure p() begin atomic insert into t values (1); end | "
                 "call p()");
    /* BEGIN elsewhere is a transaction */
    assert_split("BEGIN; SELECT 1; COMMIT", "BEGIN | SELECT 1 | COMMIT");
    assert_split("CREATE TABLE begin_t(a int); BEGIN; END", "CREATE TABLE begin_t(a int) | "
                                                            "BEGIN | END");
}

static void
test_unterminated_runs_to_the_end(void **state)
{
    assert_split("SELECT 'open; SELECT 2", "SELECT 'open; SELECT 2");
    assert_split("SELECT 1; /* open; SELECT 2", "SELECT 1");
    assert_split("SELECT $$ open; x", "SELECT $$ open; x");
}

static void
test_used_skips_what_follows(void **state)
{
    const char *s = "SELECT 1; /* a */ ; -- b\n SELECT 2";
    pgsql_span sp;
    assert_true(pgsql_split(s, strlen(s), &sp));
    assert_int_equal(sp.start, 0);
    assert_int_equal(sp.len, 8);
    assert_string_equal(s + sp.used, "SELECT 2");
    s = "SELECT 1 ;  /* tail */ ";
    assert_true(pgsql_split(s, strlen(s), &sp));
    assert_int_equal(sp.used, strlen(s));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple),
        cmocka_unit_test(test_quotes_hide_semicolons),
        cmocka_unit_test(test_dollar_quoted_bodies),
        cmocka_unit_test(test_parentheses),
        cmocka_unit_test(test_begin_atomic),
        cmocka_unit_test(test_unterminated_runs_to_the_end),
        cmocka_unit_test(test_used_skips_what_follows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
