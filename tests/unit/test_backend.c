/* Unit tests for exec/backend: choosing a backend, redacting passwords. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "exec/backend.h"

static void
test_routing(void **state)
{
    assert_ptr_equal(exec_backend_for("sqlite:/tmp/x.db"), &be_sqlite);
    assert_ptr_equal(exec_backend_for("postgresql://u@127.0.0.1:5432/db"), &be_postgres);
    assert_ptr_equal(exec_backend_for("postgres://h/db"), &be_postgres);
    assert_ptr_equal(exec_backend_for("host=127.0.0.1 dbname=x"), &be_postgres);
    assert_ptr_equal(exec_backend_for("  dbname = x"), &be_postgres);
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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routing),
        cmocka_unit_test(test_redact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
