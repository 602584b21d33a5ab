/* Unit tests for Trino's protocol's pure parts: exec/trino_type (type
 * names, signatures, date/time text, the row writer's Trino flavour) and
 * api/trino_doc, api/trino_show (catalog statements, update types, the
 * refused submission's URI). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/trino.h"
#include "core/buf.h"
#include "core/query.h"
#include "exec/rows.h"
#include "exec/trino_type.h"

static void
expect_type(const char *engine, const char *name, trino_enc enc)
{
    trino_type t;
    trino_type_of(engine, &t);
    if (strcmp(t.name, name) != 0 || t.enc != enc)
        fail_msg("%s: %s/%d, want %s/%d", engine, t.name, t.enc, name, enc);
}

static void
test_sqlite_types(void **state)
{
    expect_type("INTEGER", "bigint", TRINO_ENC_PLAIN);
    expect_type("int", "bigint", TRINO_ENC_PLAIN);
    expect_type("BOOLEAN", "boolean", TRINO_ENC_BOOL);
    expect_type("DECIMAL(10, 2)", "decimal(10,2)", TRINO_ENC_STRING);
    expect_type("NUMERIC(5)", "decimal(5,0)", TRINO_ENC_STRING);
    expect_type("NUMERIC", "double", TRINO_ENC_PLAIN);
    expect_type("DECIMAL(99,2)", "double", TRINO_ENC_PLAIN); /* beyond Trino's 38 */
    expect_type("JSON", "json", TRINO_ENC_STRING);
    expect_type("DATETIME", "timestamp(3)", TRINO_ENC_PLAIN);
    expect_type("DATE", "date", TRINO_ENC_PLAIN);
    expect_type("VARCHAR(20)", "varchar", TRINO_ENC_PLAIN);
    expect_type("TEXT", "varchar", TRINO_ENC_PLAIN);
    expect_type("BLOB", "varbinary", TRINO_ENC_PLAIN);
    expect_type("REAL", "double", TRINO_ENC_PLAIN);
    trino_type t;
    assert_false(trino_type_of(NULL, &t));
    assert_false(trino_type_of("", &t));
}

static void
test_postgres_types(void **state)
{
    expect_type("int4", "integer", TRINO_ENC_PLAIN);
    expect_type("int8", "bigint", TRINO_ENC_PLAIN);
    expect_type("numeric", "decimal(38,10)", TRINO_ENC_STRING);
    expect_type("jsonb", "json", TRINO_ENC_STRING);
    expect_type("timestamptz", "timestamp(6) with time zone", TRINO_ENC_PLAIN);
    expect_type("int4[]", "array(integer)", TRINO_ENC_PLAIN);
    expect_type("bytea", "varbinary", TRINO_ENC_PLAIN);
}

static void
test_types_of_values(void **state)
{
    trino_type t;
    trino_type_of_values(2, "1", "20", &t);
    assert_string_equal(t.name, "bigint");
    trino_type_of_values(2, "1", "2.5", &t);
    assert_string_equal(t.name, "double");
    trino_type_of_values(4, NULL, NULL, &t);
    assert_string_equal(t.name, "varbinary");
    trino_type_of_values(0, NULL, NULL, &t);
    assert_string_equal(t.name, "varchar");
}

static void
expect_sig(const char *name, const char *want)
{
    qg_buf b = QG_BUF_INIT;
    trino_type_signature(&b, name);
    if (strcmp(b.data, want) != 0)
        fail_msg("%s: %s", name, b.data);
    qg_buf_free(&b);
}

static void
test_signatures(void **state)
{
    expect_sig("bigint", "{\"rawType\":\"bigint\",\"arguments\":[]}");
    expect_sig(
        "varchar",
        "{\"rawType\":\"varchar\",\"arguments\":[{\"kind\":\"LONG\",\"value\":2147483647}]}");
    expect_sig("decimal(10,2)", "{\"rawType\":\"decimal\",\"arguments\":[{\"kind\":\"LONG\","
                                "\"value\":10},{\"kind\":\"LONG\",\"value\":2}]}");
    expect_sig("timestamp(6) with time zone",
               "{\"rawType\":\"timestamp with time zone\",\"arguments\":[{\"kind\":\"LONG\","
               "\"value\":6}]}");
    expect_sig("array(decimal(5,1))",
               "{\"rawType\":\"array\",\"arguments\":[{\"kind\":\"TYPE\",\"value\":{\"rawType\":"
               "\"decimal\",\"arguments\":[{\"kind\":\"LONG\",\"value\":5},{\"kind\":\"LONG\","
               "\"value\":1}]}}]}");
}

static void
expect_dt(const char *in, const char *want)
{
    qg_buf b = QG_BUF_INIT;
    trino_datetime(&b, in, strlen(in));
    assert_string_equal(b.data, want);
    qg_buf_free(&b);
}

static void
test_datetimes(void **state)
{
    expect_dt("2024-01-02", "2024-01-02");
    expect_dt("2024-01-02 03:04:05.123", "2024-01-02 03:04:05.123");
    expect_dt("2024-01-02 03:04:05+00", "2024-01-02 03:04:05 +00:00");
    expect_dt("2024-01-02 03:04:05.5-05:30", "2024-01-02 03:04:05.5 -05:30");
    expect_dt("12:00:00+02", "12:00:00+02");
}

/* --- the row writer's Trino flavour --------------------------------------------- */

typedef struct sink_buf {
    rows_sink s;
    qg_buf out;
} sink_buf;

static int
flush_to(rows_sink *s, rows_writer *w, qg_error *err)
{
    sink_buf *sb = (sink_buf *)s;
    qg_buf_add(&sb->out, w->out.data, w->out.len);
    qg_buf_reset(&w->out);
    return 0;
}

static void
test_row_writer(void **state)
{
    sink_buf sb = {.s = {.flush = flush_to}};
    qg_query q;
    qg_query_init(&q);
    q.format = QG_FORMAT_TRINO;
    rows_writer w;
    rows_init(&w, &sb.s, &q, 1 << 16, false);
    const char *names[] = {"i", "d", "r", "j", "b", "bo"};
    const size_t lens[] = {1, 1, 1, 1, 1, 2};
    const char *types[] = {"int8", "numeric", "float8", "jsonb", "bytea", "BOOLEAN"};
    qg_error err;
    assert_int_equal(rows_set_begin_typed(&w, 6, names, lens, types, &err), 0);
    for (int k = 0; k < 2; k++) {
        rows_row_begin(&w);
        rows_number_text(&w, "42", 2);
        rows_number_text(&w, "12.50", 5);
        rows_real(&w, k ? 1.5 : 1.0 / 0.0);
        rows_json(&w, "{\"a\":1}", 7);
        rows_blob(&w, "\x00\xff", 2);
        rows_int(&w, k);
        assert_int_equal(rows_row_end(&w, &err), 0);
    }
    assert_int_equal(rows_set_end(&w, &err), 0);
    assert_int_equal(rows_flush(&w, &err), 0);
    assert_string_equal(sb.out.data, "[42,\"12.50\",\"Infinity\",\"{\\\"a\\\":1}\",\"AP8=\",false],"
                                     "[42,\"12.50\",1.5,\"{\\\"a\\\":1}\",\"AP8=\",true]");
    rows_free(&w);
    qg_buf_free(&sb.out);
    qg_query_free(&q);
}

/* --- catalog statements, update types, refused submissions ------------------- */

static char *
show(const char *sql, api_trino_dialect d, int want)
{
    qg_buf b = QG_BUF_INIT;
    qg_error err;
    int r = api_trino_show(sql, strlen(sql), d, &b, &err);
    if (r != want)
        fail_msg("%s: %d, want %d", sql, r, want);
    return b.data ? b.data : strdup("");
}

static void
test_show(void **state)
{
    char *s = show("show tables", API_TRINO_SQLITE, 1);
    assert_non_null(strstr(s, "FROM sqlite_schema"));
    free(s);
    s = show("SHOW TABLES FROM qgate.public;", API_TRINO_POSTGRES, 1);
    assert_non_null(strstr(s, "table_schema = 'public'"));
    free(s);
    s = show("DESCRIBE \"My Table\"", API_TRINO_SQLITE, 1);
    assert_non_null(strstr(s, "pragma_table_info('My Table')"));
    free(s);
    s = show("SHOW COLUMNS IN s.T", API_TRINO_POSTGRES, 1);
    assert_non_null(strstr(s, "table_name = 't'")); /* plain names are lower-cased */
    assert_non_null(strstr(s, "table_schema = 's'"));
    free(s);
    s = show("SHOW CATALOGS", API_TRINO_POSTGRES, 1);
    free(s);
    /* not catalog statements: to the backend as they are */
    free(show("SHOW search_path", API_TRINO_POSTGRES, 0));
    free(show("SELECT 1", API_TRINO_SQLITE, 0));
    free(show("SHOW TABLES LIKE 'x'", API_TRINO_SQLITE, 0));
    /* names that could leave the literal are refused */
    free(show("DESCRIBE \"a'b\"", API_TRINO_SQLITE, -1));
    free(show("DESCRIBE \"a\\\\b\"", API_TRINO_POSTGRES, -1));
    free(show("DESCRIBE x; DROP TABLE y", API_TRINO_SQLITE, -1));
    free(show("SHOW COLUMNS FROM", API_TRINO_SQLITE, -1));
}

static void
test_update_types(void **state)
{
    char t[32];
    assert_false(api_trino_update_type("  select 1", 10, t));
    assert_false(api_trino_update_type("WITH x AS (SELECT 1) SELECT * FROM x", 36, t));
    assert_true(api_trino_update_type("-- c\ninsert into t values (1)", 29, t));
    assert_string_equal(t, "INSERT");
    assert_true(api_trino_update_type("/* c */ CREATE  TABLE t(a int)", 30, t));
    assert_string_equal(t, "CREATE TABLE");
}

static void
test_refused_round_trip(void **state)
{
    qg_error err;
    qg_error_set(&err, QG_E_SYNTAX, "near \"SELEC\": syntax error");
    mode_answer a = {.kind = MODE_ANSWER_FAILED, .base = "http://h/n1", .err = &err};
    qg_buf b = QG_BUF_INIT;
    int http = 0;
    api_trino_answer(&a, &b, &http);
    assert_int_equal(http, 200);
    assert_non_null(strstr(b.data, "\"id\":\"0_n1\""));
    const char *u = strstr(b.data, "/v1/statement/failed/");
    assert_non_null(u);
    u += strlen("/v1/statement/failed/");
    const char *slash = strchr(u, '/'), *end = strchr(slash, '"');
    qg_buf doc = QG_BUF_INIT;
    assert_int_equal(
        api_trino_refused_doc(&doc, u, (size_t)(slash - u), slash + 1, (size_t)(end - slash - 1)),
        0);
    assert_non_null(strstr(doc.data, "\"errorName\":\"SYNTAX_ERROR\""));
    assert_non_null(strstr(doc.data, "near \\\"SELEC\\\": syntax error"));
    qg_buf_reset(&doc);
    assert_int_equal(api_trino_refused_doc(&doc, "SYNTAX", 6, "00", 2), -1); /* a NUL */
    assert_int_equal(api_trino_refused_doc(&doc, "NOPE", 4, "41", 2), -1);
    assert_int_equal(api_trino_refused_doc(&doc, "SYNTAX", 6, "4", 1), -1);
    qg_buf_free(&doc);
    qg_buf_free(&b);
    /* overload: 503, no nextUri */
    qg_error_set(&err, QG_E_OVERLOADED, "10");
    qg_buf_reset(&b);
    api_trino_answer(&a, &b, &http);
    assert_int_equal(http, 503);
    assert_null(strstr(b.data, "nextUri"));
    qg_buf_free(&b);
}

static void
test_node_names(void **state)
{
    char n[40];
    api_trino_node("http://h:8080", n);
    assert_string_equal(n, "qgate");
    api_trino_node("https://front.example/n2", n);
    assert_string_equal(n, "n2");
    api_trino_node("http://h/a/Node_3/", n);
    assert_string_equal(n, "node3");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sqlite_types),
        cmocka_unit_test(test_postgres_types),
        cmocka_unit_test(test_types_of_values),
        cmocka_unit_test(test_signatures),
        cmocka_unit_test(test_datetimes),
        cmocka_unit_test(test_row_writer),
        cmocka_unit_test(test_show),
        cmocka_unit_test(test_update_types),
        cmocka_unit_test(test_refused_round_trip),
        cmocka_unit_test(test_node_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
