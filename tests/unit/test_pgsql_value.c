/* Unit tests for exec/pgsql_value: PostgreSQL text output -> JSON/CSV. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/query.h"
#include "exec/pgsql_value.h"

/* A sink that keeps everything the writer produces. */
typedef struct capture {
    rows_sink sink;
    qg_buf text;
} capture;

static int
cap_flush(rows_sink *s, rows_writer *w, qg_error *err)
{
    capture *c = (capture *)s;
    qg_buf_add(&c->text, w->out.data, w->out.len);
    qg_buf_reset(&w->out);
    return 0;
}

/* The text one value of type oid renders to, as one row of one column v
 * ("{"v":...}" in JSON, the line in CSV). */
static char *
render(unsigned oid, const char *value, qg_format format)
{
    capture c = {{cap_flush, NULL, NULL, NULL}, QG_BUF_INIT};
    qg_query q;
    qg_query_init(&q);
    q.format = format;
    rows_writer w;
    rows_init(&w, &c.sink, &q, 4096, false);
    const char *names[] = {"v"};
    size_t lens[] = {1};
    qg_error err;
    assert_int_equal(rows_set_begin(&w, 1, names, lens, &err), 0);
    rows_row_begin(&w);
    size_t n = strlen(value);
    char *copy = malloc(n ? n : 1);
    memcpy(copy, value, n);
    qg_buf scratch = QG_BUF_INIT;
    pgsql_value_write(&w, pgsql_vtype_of(oid), copy, n, &scratch);
    free(copy);
    qg_buf_free(&scratch);
    assert_int_equal(rows_row_end(&w, &err), 0);
    assert_int_equal(rows_set_end(&w, &err), 0);
    assert_int_equal(rows_flush(&w, &err), 0);
    rows_free(&w);
    qg_query_free(&q);
    char *out = qg_buf_detach(&c.text, &n);
    return out ? out : calloc(1, 1);
}

#define assert_json(oid, value, want)                                                              \
    do {                                                                                           \
        char *got_ = render((oid), (value), QG_FORMAT_JSON);                                       \
        assert_string_equal(got_, "{\"v\":" want "}");                                             \
        free(got_);                                                                                \
    } while (0)

#define assert_csv(oid, value, want)                                                               \
    do {                                                                                           \
        char *got_ = render((oid), (value), QG_FORMAT_CSV);                                        \
        assert_string_equal(got_, want "\r\n");                                                    \
        free(got_);                                                                                \
    } while (0)

enum {
    BOOL = 16,
    BYTEA = 17,
    INT8 = 20,
    INT2 = 21,
    INT4 = 23,
    TEXT = 25,
    OID = 26,
    JSON = 114,
    FLOAT4 = 700,
    FLOAT8 = 701,
    VARCHAR = 1043,
    DATE = 1082,
    TIME = 1083,
    TIMESTAMP = 1114,
    TIMESTAMPTZ = 1184,
    INTERVAL = 1186,
    TIMETZ = 1266,
    NUMERIC = 1700,
    UUID = 2950,
    JSONB = 3802,
    INT4ARR = 1007,
    TEXTARR = 1009,
    FLOAT8ARR = 1022,
    NUMERICARR = 1231,
    BOOLARR = 1000,
    TSTZARR = 1185,
    BYTEAARR = 1001,
    JSONBARR = 3807,
    UUIDARR = 2951,
};

static void
test_integers_and_numeric(void **state)
{
    assert_json(INT2, "-32768", "-32768");
    assert_json(INT4, "2147483647", "2147483647");
    assert_json(INT8, "9007199254740993", "9007199254740993");
    assert_json(INT8, "-9223372036854775808", "-9223372036854775808");
    assert_json(OID, "4294967295", "4294967295");
    assert_json(NUMERIC, "12345678901234567890.000000000000000001",
                "12345678901234567890.000000000000000001");
    assert_json(NUMERIC, "-0.50", "-0.50");
    assert_json(NUMERIC, "NaN", "\"NaN\"");
    assert_json(NUMERIC, "Infinity", "\"Infinity\"");
    assert_json(NUMERIC, "-Infinity", "\"-Infinity\"");
}

static void
test_floats(void **state)
{
    assert_json(FLOAT8, "0.1", "0.1");
    assert_json(FLOAT8, "0.30000000000000004", "0.30000000000000004");
    assert_json(FLOAT8, "3", "3.0");
    assert_json(FLOAT8, "-0", "-0.0");
    assert_json(FLOAT8, "1e+300", "1e+300");
    assert_json(FLOAT8, "2.5e-310", "2.5e-310");
    assert_json(FLOAT4, "0.1", "0.1");
    assert_json(FLOAT4, "3.4028235e+38", "3.4028235e+38");
    assert_json(FLOAT8, "NaN", "\"NaN\"");
    assert_json(FLOAT8, "Infinity", "\"Infinity\"");
    assert_json(FLOAT8, "-Infinity", "\"-Infinity\"");
}

static void
test_bool_text_json(void **state)
{
    assert_json(BOOL, "t", "true");
    assert_json(BOOL, "f", "false");
    assert_json(TEXT, "a \"b\"\n", "\"a \\\"b\\\"\\n\"");
    assert_json(VARCHAR, "", "\"\"");
    assert_json(JSONB, "{\"a\": [1, 2.50, null]}", "{\"a\": [1, 2.50, null]}");
    assert_json(JSON, "  [1,\n 2]", "  [1,\n 2]");
    /* not valid UTF-8 (a SQL_ASCII database): a string, repaired */
    assert_json(JSON, "\"\xff\"", "\"\\\"\xef\xbf\xbd\\\"\"");
    assert_json(UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"");
    assert_json(INTERVAL, "1 day 02:00:00", "\"1 day 02:00:00\"");
    assert_json(999999, "whatever", "\"whatever\"");
}

static void
test_dates_and_times(void **state)
{
    assert_json(DATE, "2025-01-02", "\"2025-01-02\"");
    assert_json(TIMESTAMP, "2025-01-02 03:04:05", "\"2025-01-02T03:04:05\"");
    assert_json(TIMESTAMP, "2025-01-02 03:04:05.123456", "\"2025-01-02T03:04:05.123456\"");
    assert_json(TIMESTAMPTZ, "2025-01-02 03:04:05+00", "\"2025-01-02T03:04:05+00:00\"");
    assert_json(TIMESTAMPTZ, "2025-01-02 03:04:05.5-03:30", "\"2025-01-02T03:04:05.5-03:30\"");
    assert_json(TIMESTAMPTZ, "1900-01-01 00:00:00+00:09:21", "\"1900-01-01T00:00:00+00:09:21\"");
    assert_json(TIMESTAMPTZ, "0044-03-15 12:00:00+00 BC", "\"0044-03-15T12:00:00+00:00 BC\"");
    assert_json(TIMESTAMP, "12345-01-02 03:04:05", "\"12345-01-02T03:04:05\"");
    assert_json(TIMESTAMPTZ, "infinity", "\"infinity\"");
    assert_json(TIMESTAMP, "-infinity", "\"-infinity\"");
    assert_json(TIME, "03:04:05", "\"03:04:05\"");
    assert_json(TIMETZ, "03:04:05+02", "\"03:04:05+02:00\"");
    assert_json(TIMETZ, "03:04:05.25-11:30", "\"03:04:05.25-11:30\"");
    assert_json(DATE, "2025-01-02 BC", "\"2025-01-02 BC\"");
}

static void
test_bytea(void **state)
{
    assert_json(BYTEA, "\\x00ff10", "\"AP8Q\"");
    assert_json(BYTEA, "\\x", "\"\"");
    assert_json(BYTEA, "a\\000\\\\b", "\"YQBcYg==\"");
    /* not bytea text: the text itself */
    assert_json(BYTEA, "\\x0", "\"\\\\x0\"");
    assert_json(BYTEA, "\\xzz", "\"\\\\xzz\"");
}

static void
test_arrays(void **state)
{
    assert_json(INT4ARR, "{1,NULL,3}", "[1,null,3]");
    assert_json(INT4ARR, "{{1,2},{3,4}}", "[[1,2],[3,4]]");
    assert_json(TEXTARR, "{\"a b\",\"c\\\"d\",NULL,plain}", "[\"a b\",\"c\\\"d\",null,\"plain\"]");
    assert_json(FLOAT8ARR, "{0.1,3,NaN,-Infinity}", "[0.1,3.0,\"NaN\",\"-Infinity\"]");
    assert_json(NUMERICARR, "{1.50,NaN}", "[1.50,\"NaN\"]");
    assert_json(BOOLARR, "{t,f,NULL}", "[true,false,null]");
    assert_json(TSTZARR, "{\"2025-01-02 03:04:05+00\"}", "[\"2025-01-02T03:04:05+00:00\"]");
    assert_json(BYTEAARR, "{\"\\\\x00ff10\",NULL}", "[\"AP8Q\",null]");
    assert_json(JSONBARR, "{\"{\\\"a\\\": 1}\",\"[1, 2]\"}", "[{\"a\": 1},[1, 2]]");
    assert_json(UUIDARR, "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
                "[\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"]");
    assert_json(INT4ARR, "[0:1]={7,8}", "[7,8]");
    assert_json(INT4ARR, "{}", "[]");
    /* not array text: the text itself */
    assert_json(INT4ARR, "{1,2", "\"{1,2\"");
}

static void
test_csv(void **state)
{
    assert_csv(INT8, "42", "42");
    assert_csv(NUMERIC, "NaN", "NaN");
    assert_csv(BOOL, "t", "true");
    assert_csv(TIMESTAMPTZ, "2025-01-02 03:04:05+00", "2025-01-02T03:04:05+00:00");
    assert_csv(INT4ARR, "{1,2}", "\"[1,2]\"");
    assert_csv(BYTEA, "\\x00ff10", "AP8Q");
}

static void
test_iso_helper(void **state)
{
    qg_buf b = QG_BUF_INIT;
    pgsql_datetime_iso(&b, "2025-01-02 03:04:05-08", 22);
    assert_string_equal(b.data, "2025-01-02T03:04:05-08:00");
    qg_buf_reset(&b);
    /* only the length given is read */
    pgsql_datetime_iso(&b, "2025-01-02 03:04:05+02xyz", 22);
    assert_string_equal(b.data, "2025-01-02T03:04:05+02:00");
    qg_buf_reset(&b);
    pgsql_datetime_iso(&b, "2025-01-02 x", 12);
    assert_string_equal(b.data, "2025-01-02 x");
    qg_buf_free(&b);
}

static void
test_type_names(void **state)
{
    /* a few built-ins, by their fixed OIDs, and arrays of them */
    assert_string_equal(pgsql_type_name(16), "bool");
    assert_string_equal(pgsql_type_name(20), "int8");
    assert_string_equal(pgsql_type_name(23), "int4");
    assert_string_equal(pgsql_type_name(25), "text");
    assert_string_equal(pgsql_type_name(1043), "varchar");
    assert_string_equal(pgsql_type_name(1184), "timestamptz");
    assert_string_equal(pgsql_type_name(1700), "numeric");
    assert_string_equal(pgsql_type_name(2278), "void");
    assert_string_equal(pgsql_type_name(3802), "jsonb");
    assert_string_equal(pgsql_type_name(1007), "int4[]");
    assert_string_equal(pgsql_type_name(3807), "jsonb[]");
    /* user-defined types have OIDs past the built-in range: unknown */
    assert_null(pgsql_type_name(0));
    assert_null(pgsql_type_name(16384));
    assert_null(pgsql_type_name(4294967295u));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers_and_numeric),
        cmocka_unit_test(test_floats),
        cmocka_unit_test(test_bool_text_json),
        cmocka_unit_test(test_dates_and_times),
        cmocka_unit_test(test_bytea),
        cmocka_unit_test(test_arrays),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_iso_helper),
        cmocka_unit_test(test_type_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
