/* Unit tests for exec/backend: choosing a backend, redacting passwords,
 * splitting statement texts (each backend's split, exec/run's helpers). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "exec/backend.h"
#include "exec/internal.h"
#include "exec/run.h"

static void
test_routing(void **state)
{
    assert_ptr_equal(exec_backend_for("sqlite:/tmp/x.db"), &exec__sqlite);
    assert_ptr_equal(exec_backend_for("postgresql://u@127.0.0.1:5432/db"), &exec__postgres);
    assert_ptr_equal(exec_backend_for("postgres://h/db"), &exec__postgres);
    assert_ptr_equal(exec_backend_for("host=127.0.0.1 dbname=x"), &exec__postgres);
    assert_ptr_equal(exec_backend_for("  dbname = x"), &exec__postgres);
    assert_null(exec_backend_for("mysql://h/db"));
    assert_null(exec_backend_for("/tmp/x.db"));
    assert_null(exec_backend_for(""));
    assert_null(exec_backend_for("=x"));
}

static void
assert_redacted(const char *uri, const char *want)
{
    char out[256];
    exec_backend_redact(uri, out, sizeof(out));
    assert_string_equal(out, want);
}

static void
test_redact(void **state)
{
    assert_redacted("postgresql://u:secret@h:5432/db", "postgresql://u:***@h:5432/db");
    assert_redacted("postgresql://u@h/db", "postgresql://u@h/db");
    assert_redacted("postgresql://h/db?user=u&password=s3&sslmode=require",
                    "postgresql://h/db?user=u&password=***&sslmode=require");
    assert_redacted("host=h password=s3 dbname=d", "host=h password=*** dbname=d");
    assert_redacted("host=h password = 'a b\\'c' dbname=d", "host=h password = *** dbname=d");
    assert_redacted("host=h passwordless=1 dbname=d", "host=h passwordless=1 dbname=d");
    assert_redacted("sqlite:/data/password=x.db", "sqlite:/data/password=***");
    char small[8];
    exec_backend_redact("postgresql://u:secret@h/db", small, sizeof(small));
    assert_string_equal(small, "postgre");
}

/* Splits text with be; checks the statements' texts and what was used. */
static void
split_is(const exec_backend *be, const char *sql, const char *const *want, size_t n)
{
    exec_span *sp;
    size_t got;
    exec_split_all(be, sql, strlen(sql), &sp, &got);
    if (got != n)
        fail_msg("%s: %zu statements, want %zu", sql, got, n);
    for (size_t i = 0; i < n; i++) {
        if (sp[i].len != strlen(want[i]) || memcmp(sql + sp[i].start, want[i], sp[i].len) != 0)
            fail_msg("%s: statement %zu is '%.*s', want '%s'", sql, i, (int)sp[i].len,
                     sql + sp[i].start, want[i]);
    }
    free(sp);
}

static void
test_sqlite_split(void **state)
{
    const char *a[] = {"SELECT 1", "SELECT ';' AS \"x;y\"", "SELECT [a;b] FROM `t;`"};
    split_is(&exec__sqlite, "SELECT 1; SELECT ';' AS \"x;y\";\n SELECT [a;b] FROM `t;`  ", a, 3);
    const char *b[] = {"SELECT 1 -- a; comment", "SELECT 2 /* ; */"};
    split_is(&exec__sqlite, "-- lead;\n;; SELECT 1 -- a; comment\n; SELECT 2 /* ; */;;", b, 2);
    /* a trigger's body holds ';'s that do not end it */
    const char *c[] = {"CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO u VALUES (1); "
                       "UPDATE u SET x = 2; END",
                       "SELECT 'it''s'"};
    split_is(&exec__sqlite,
             "CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO u VALUES (1); "
             "UPDATE u SET x = 2; END; SELECT 'it''s'",
             c, 2);
    split_is(&exec__sqlite, "  ;; -- only comments\n /* x */ ", NULL, 0);
    const char *d[] = {"SELECT 'unterminated;"};
    split_is(&exec__sqlite, "SELECT 'unterminated;", d, 1);
}

static void
test_postgres_split(void **state)
{
    const char *a[] = {"SELECT $$a;b$$", "CREATE RULE r AS ON INSERT TO t DO (INSERT INTO u "
                                         "VALUES (1); INSERT INTO u VALUES (2))"};
    split_is(&exec__postgres,
             "SELECT $$a;b$$; CREATE RULE r AS ON INSERT TO t DO (INSERT INTO u VALUES (1); "
             "INSERT INTO u VALUES (2));",
             a, 2);
}

static void
test_span_trim(void **state)
{
    const char *sql = "SELECT 1; /* c */ SELECT 2 ;\n\n";
    size_t start, len;
    exec_span_trim(sql, 0, 9, &start, &len);
    assert_int_equal(start, 0);
    assert_int_equal(len, 8);
    exec_span_trim(sql, 9, strlen(sql) - 9, &start, &len);
    assert_memory_equal(sql + start, "SELECT 2", len);
    assert_int_equal(len, 8);
    exec_span_trim(sql, 9, 0, &start, &len);
    assert_int_equal(len, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routing),      cmocka_unit_test(test_redact),
        cmocka_unit_test(test_sqlite_split), cmocka_unit_test(test_postgres_split),
        cmocka_unit_test(test_span_trim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
