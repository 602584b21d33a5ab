/* Unit tests for exec/rows (JSON rows, CSV lines, set framing, limits),
 * exec/sqltext and core/envelope. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/envelope.h"
#include "core/query.h"
#include "exec/rows.h"
#include "exec/sqltext.h"

/* A sink that collects everything into one buffer and counts flushes. */
typedef struct {
    rows_sink sink;
    qg_buf all;
    int flushes;
} collect;

static int
c_flush(rows_sink *s, rows_writer *w, qg_error *err)
{
    collect *c = (collect *)s;
    qg_buf_add(&c->all, w->out.data, w->out.len);
    qg_buf_reset(&w->out);
    c->flushes++;
    return 0;
}

static int
c_begin(rows_sink *s, rows_writer *w, qg_error *err)
{
    qg_buf_addc(&w->out, '[');
    return 0;
}

static int
c_end(rows_sink *s, rows_writer *w, qg_error *err)
{
    qg_buf_addc(&w->out, ']');
    return 0;
}

static void
setup(collect *c, rows_writer *w, qg_query *q, size_t chunk, bool in_json)
{
    memset(c, 0, sizeof(*c));
    c->sink.flush = c_flush;
    c->sink.set_begin = c_begin;
    c->sink.set_end = c_end;
    rows_init(w, &c->sink, q, chunk, in_json);
}

static const char *cols[] = {"id", "name", "score"};
static const size_t lens[] = {2, 4, 5};

static void
two_rows(rows_writer *w)
{
    qg_error err;
    assert_int_equal(rows_set_begin(w, 3, cols, lens, &err), 0);
    rows_row_begin(w);
    rows_int(w, INT64_MIN);
    rows_text(w, "a\"b", 3);
    rows_real(w, 0.5);
    assert_int_equal(rows_row_end(w, &err), 0);
    rows_row_begin(w);
    rows_int(w, 2);
    rows_null(w);
    rows_bool(w, true);
    assert_int_equal(rows_row_end(w, &err), 0);
    assert_int_equal(rows_set_end(w, &err), 0);
    assert_int_equal(rows_flush(w, &err), 0);
}

static void
test_json_rows(void **state)
{
    qg_query q;
    qg_query_init(&q);
    collect c;
    rows_writer w;
    setup(&c, &w, &q, 1 << 16, true);
    two_rows(&w);
    assert_string_equal(c.all.data, "[{\"id\":-9223372036854775808,\"name\":\"a\\\"b\",\"score\":0.5},"
                                    "{\"id\":2,\"name\":null,\"score\":true}]");
    assert_int_equal(w.total_rows, 2);
    assert_int_equal(w.set_index, 1);
    assert_int_equal(w.total_bytes, c.all.len - 2); /* rows only, not brackets */
    rows_free(&w);
    qg_buf_free(&c.all);
}

static void
test_pretty_rows(void **state)
{
    qg_query q;
    qg_query_init(&q);
    q.pretty = true;
    collect c;
    rows_writer w;
    setup(&c, &w, &q, 1 << 16, true);
    two_rows(&w);
    assert_non_null(strstr(c.all.data, "{\n  \"id\": -9223372036854775808,\n  \"name\": "));
    assert_non_null(strstr(c.all.data, "\n},\n{"));
    rows_free(&w);
    qg_buf_free(&c.all);
}

static void
test_csv_in_json_and_raw(void **state)
{
    qg_query q;
    qg_query_init(&q);
    q.format = QG_FORMAT_CSV;
    q.csv_header = true;
    collect c;
    rows_writer w;
    setup(&c, &w, &q, 1 << 16, true);
    two_rows(&w);
    assert_string_equal(c.all.data, "[\"id,name,score\\r\\n\",\"-9223372036854775808,\\\"a\\\"\\\"b"
                                    "\\\",0.5\\r\\n\",\"2,,true\\r\\n\"]");
    rows_free(&w);
    qg_buf_free(&c.all);

    q.csv_header = false;
    setup(&c, &w, &q, 1 << 16, false);
    two_rows(&w);
    assert_string_equal(c.all.data, "[-9223372036854775808,\"a\"\"b\",0.5\r\n2,,true\r\n]");
    rows_free(&w);
    qg_buf_free(&c.all);
}

static void
test_csv_quoting(void **state)
{
    qg_query q;
    qg_query_init(&q);
    q.format = QG_FORMAT_CSV;
    collect c;
    rows_writer w;
    setup(&c, &w, &q, 1 << 16, false);
    qg_error err;
    const char *one[] = {"v"};
    size_t onelen[] = {1};
    assert_int_equal(rows_set_begin(&w, 1, one, onelen, &err), 0);
    const char *vals[] = {"", " lead", "a,b", "line\nbreak", "plain", "\xff"};
    for (size_t i = 0; i < 6; i++) {
        rows_row_begin(&w);
        rows_text(&w, vals[i], strlen(vals[i]));
        assert_int_equal(rows_row_end(&w, &err), 0);
    }
    rows_set_end(&w, &err);
    rows_flush(&w, &err);
    assert_string_equal(c.all.data, "[\"\"\r\n\" lead\"\r\n\"a,b\"\r\n\"line\nbreak\"\r\nplain\r\n"
                                    "\xEF\xBF\xBD\r\n]");
    rows_free(&w);
    qg_buf_free(&c.all);
}

static void
test_values(void **state)
{
    qg_query q;
    qg_query_init(&q);
    collect c;
    rows_writer w;
    setup(&c, &w, &q, 1 << 16, true);
    qg_error err;
    const char *n[] = {"b", "x", "j", "bad", "u"};
    size_t nl[] = {1, 1, 1, 3, 1};
    assert_int_equal(rows_set_begin(&w, 5, n, nl, &err), 0);
    rows_row_begin(&w);
    rows_blob(&w, "\x00\xff\x10", 3);
    rows_number_text(&w, "12345678901234567890.000000001", 30);
    rows_json(&w, "[1,{\"a\":null}]", 14);
    rows_number_text(&w, "NaN", 3);
    rows_text(&w, "A\xffZ", 3);
    rows_row_end(&w, &err);
    rows_set_end(&w, &err);
    rows_flush(&w, &err);
    assert_string_equal(c.all.data,
                        "[{\"b\":\"AP8Q\",\"x\":12345678901234567890.000000001,\"j\":[1,{\"a\":null}],"
                        "\"bad\":\"NaN\",\"u\":\"A\xEF\xBF\xBDZ\"}]");
    rows_free(&w);
    qg_buf_free(&c.all);
}

static void
test_chunks_and_limit(void **state)
{
    qg_query q;
    qg_query_init(&q);
    collect c;
    rows_writer w;
    setup(&c, &w, &q, 100, true);
    w.max_bytes = 5000;
    qg_error err;
    const char *one[] = {"v"};
    size_t onelen[] = {1};
    assert_int_equal(rows_set_begin(&w, 1, one, onelen, &err), 0);
    int rc = 0, i;
    for (i = 0; i < 10000 && rc == 0; i++) {
        rows_row_begin(&w);
        rows_int(&w, i);
        rc = rows_row_end(&w, &err);
    }
    assert_int_equal(rc, -1);
    assert_int_equal(err.code, QG_E_RESULT_TOO_LARGE);
    assert_true(c.flushes > 10);
    assert_true(w.out.len < 200); /* flushed as it went */
    rows_free(&w);
    qg_buf_free(&c.all);
}

/* A sink with a row hook (as modes/stream has): each row alone. */
typedef struct {
    rows_sink sink;
    qg_buf rows;   /* each row's text followed by '|' */
    qg_buf begins; /* per set: each column's name:type, ';' after the set */
    int flushes;
    int nrows;
    int stop_at; /* the hook fails on this row (1-based); 0: never */
} hooked;

static int
h_flush(rows_sink *s, rows_writer *w, qg_error *err)
{
    hooked *h = (hooked *)s;
    h->flushes++;
    qg_buf_reset(&w->out);
    return 0;
}

static int
h_begin(rows_sink *s, rows_writer *w, qg_error *err)
{
    hooked *h = (hooked *)s;
    for (size_t i = 0; i < w->ncols; i++)
        qg_buf_printf(&h->begins, "%s:%s,", w->cols[i].name,
                      w->cols[i].type ? w->cols[i].type : "?");
    qg_buf_addc(&h->begins, ';');
    /* the writer's buffer holds nothing the sink did not put there */
    assert_int_equal(w->out.len, 0);
    return 0;
}

static int
h_row(rows_sink *s, rows_writer *w, const char *text, size_t len, qg_error *err)
{
    hooked *h = (hooked *)s;
    h->nrows++;
    if (h->nrows == h->stop_at)
        return qg_error_set(err, QG_E_CANCELLED, "r");
    qg_buf_add(&h->rows, text, len);
    qg_buf_addc(&h->rows, '|');
    return 0;
}

static void
test_row_hook(void **state)
{
    qg_query q;
    qg_query_init(&q);
    q.pretty = true; /* a sink that frames rows gets them on one line anyway */
    hooked h;
    memset(&h, 0, sizeof(h));
    h.sink.flush = h_flush;
    h.sink.set_begin = h_begin;
    h.sink.row = h_row;
    rows_writer w;
    rows_init(&w, &h.sink, &q, 16, true); /* a tiny chunk: rows never flush */
    qg_error err;

    /* the types are copied: the backend's strings may die after the call */
    char t0[] = "INTEGER";
    const char *types[] = {t0, NULL, "int4[]"};
    assert_int_equal(rows_set_begin_typed(&w, 3, cols, lens, types, &err), 0);
    memset(t0, 'X', sizeof(t0) - 1);
    assert_string_equal(w.cols[0].type, "INTEGER");
    assert_null(w.cols[1].type);
    assert_string_equal(w.cols[2].type, "int4[]");
    for (int i = 0; i < 3; i++) {
        rows_row_begin(&w);
        rows_int(&w, i);
        rows_text(&w, "x\"y", 3);
        rows_null(&w);
        assert_int_equal(rows_row_end(&w, &err), 0);
        assert_int_equal(w.out.len, 0);
    }
    assert_int_equal(rows_set_end(&w, &err), 0);
    assert_string_equal(h.rows.data, "{\"id\":0,\"name\":\"x\\\"y\",\"score\":null}|"
                                     "{\"id\":1,\"name\":\"x\\\"y\",\"score\":null}|"
                                     "{\"id\":2,\"name\":\"x\\\"y\",\"score\":null}|");
    assert_int_equal(h.flushes, 0);
    assert_int_equal(w.total_rows, 3);
    /* resultSize counts the row objects, nothing between them */
    assert_int_equal(w.total_bytes, h.rows.len - 3);

    /* a set without types; the hook stopping the job stops the writer */
    h.stop_at = 5;
    assert_int_equal(rows_set_begin(&w, 1, cols, lens, &err), 0);
    rows_row_begin(&w);
    rows_int(&w, 3);
    assert_int_equal(rows_row_end(&w, &err), 0);
    rows_row_begin(&w);
    rows_int(&w, 4);
    assert_int_equal(rows_row_end(&w, &err), -1);
    assert_int_equal(err.code, QG_E_CANCELLED);
    assert_string_equal(h.begins.data, "id:INTEGER,name:?,score:int4[],;id:?,;");
    assert_string_equal(h.rows.data + h.rows.len - 9, "{\"id\":3}|");
    rows_free(&w);
    qg_buf_free(&h.rows);
    qg_buf_free(&h.begins);
}

static void
test_set_names(void **state)
{
    char n[32];
    rows_set_name(0, n);
    assert_string_equal(n, "results");
    rows_set_name(1, n);
    assert_string_equal(n, "results-0");
    rows_set_name(12, n);
    assert_string_equal(n, "results-11");
}

static void
test_sqltext(void **state)
{
    char k[32];
    sqltext_kind("  -- hi\n /* c */ insert into t", 30, k);
    assert_string_equal(k, "INSERT");
    sqltext_kind("", 0, k);
    assert_string_equal(k, "UNKNOWN");
    assert_true(sqltext_blank(" ; -- x\n /* y */ ;", 18));
    assert_false(sqltext_blank(" ; select 1", 11));
    assert_true(sqltext_blank("/* unterminated", 15));
    assert_int_equal(sqltext_skip_blank("--\nx", 4), 3);
}

static void
test_envelope(void **state)
{
    qg_buf b = QG_BUF_INIT;
    qg_metrics m = {.elapsed_ns = 20263371, .execution_ns = 1500000000, .result_count = 3,
                    .result_size = 10, .processed_objects = 3};
    qg_env_metrics(&b, &m);
    assert_string_equal(b.data, "\"metrics\":{\"elapsedTime\":\"20.263371ms\",\"executionTime\":"
                                "\"1.5s\",\"compileTime\":\"0ns\",\"queueWaitTime\":\"0ns\","
                                "\"resultCount\":3,\"resultSize\":10,\"processedObjects\":3}");
    qg_buf_reset(&b);
    qg_error e;
    qg_error_set(&e, QG_E_NO_STATEMENT);
    qg_env_error_doc(&b, &e, NULL);
    assert_string_equal(b.data, "{\"errors\":[{\"code\":1,\"msg\":\"ASX0040: No statement provided\"}],"
                                "\"status\":\"fatal\",\"metrics\":{\"elapsedTime\":\"0ns\","
                                "\"executionTime\":\"0ns\",\"compileTime\":\"0ns\",\"queueWaitTime\":"
                                "\"0ns\",\"resultCount\":0,\"resultSize\":0,\"processedObjects\":0,"
                                "\"errorCount\":1}}\n");
    qg_buf_free(&b);
}


/* --- column statistics -------------------------------------------------- */

/* A sink that keeps nothing: the statistics are what is looked at. */
static int
drop_flush(rows_sink *s, rows_writer *w, qg_error *err)
{
    qg_buf_reset(&w->out);
    return 0;
}

static void
bound_is(const rows_bound *b, int kind, const char *text)
{
    qg_buf t = QG_BUF_INIT;
    rows_bound_text(b, &t);
    assert_int_equal(b->kind, kind);
    assert_int_equal(t.len, strlen(text));
    if (t.len)
        assert_memory_equal(t.data, text, t.len);
    qg_buf_free(&t);
}

static void
test_column_statistics(void **state)
{
    qg_query q;
    qg_query_init(&q);
    rows_sink sink = {.flush = drop_flush};
    rows_writer w;
    rows_init(&w, &sink, &q, 1 << 16, false);
    w.stats = true;
    qg_error err;
    static const char *names[] = {"n", "t", "mixed", "big", "j"};
    static const size_t nl[] = {1, 1, 5, 3, 1};
    static const char *types[] = {"INTEGER", NULL, NULL, NULL, NULL};
    assert_int_equal(rows_set_begin_typed(&w, 5, names, nl, types, &err), 0);
    struct {
        int64_t n;
        const char *t;
        double m;
        const char *big;
    } v[] = {{5, "pear", 2.5, "9223372036854775807"},
             {-3, "apple", -0.25, "9223372036854775806"},
             {12, "zebra\xc3\xa9", 1e300, "12345678901234567890123.5"},
             {7, "", 0.0, "-1"}};
    for (size_t i = 0; i < 4; i++) {
        rows_row_begin(&w);
        rows_int(&w, v[i].n);
        rows_text(&w, v[i].t, strlen(v[i].t));
        if (i == 3)
            rows_text(&w, "str", 3); /* text sorts after numbers */
        else
            rows_real(&w, v[i].m);
        rows_number_text(&w, v[i].big, strlen(v[i].big));
        rows_json(&w, "[1,2,3]", 7);
        assert_int_equal(rows_row_end(&w, &err), 0);
    }
    rows_row_begin(&w);
    rows_null(&w);
    rows_null(&w);
    rows_real(&w, 0.0 / 0.0); /* NaN takes no place in the order */
    rows_null(&w);
    rows_null(&w);
    assert_int_equal(rows_row_end(&w, &err), 0);
    const rows_col *c = w.cols;
    assert_string_equal(c[0].type, "INTEGER");
    assert_null(c[1].type);
    bound_is(&c[0].stat.min, ROWS_K_NUMBER, "-3");
    bound_is(&c[0].stat.max, ROWS_K_NUMBER, "12");
    assert_int_equal(c[0].stat.max_len, 2);
    assert_int_equal(c[0].stat.nulls, 1);
    bound_is(&c[1].stat.min, ROWS_K_TEXT, "");
    bound_is(&c[1].stat.max, ROWS_K_TEXT, "zebra\xc3\xa9");
    assert_int_equal(c[1].stat.max_len, 7); /* bytes */
    bound_is(&c[2].stat.min, ROWS_K_NUMBER, "-0.25");
    bound_is(&c[2].stat.max, ROWS_K_TEXT, "str");
    assert_int_equal(c[2].stat.max_len, 6); /* "1e+300" */
    /* exact integers beyond a double's precision keep their order */
    bound_is(&c[3].stat.min, ROWS_K_NUMBER, "-1");
    bound_is(&c[3].stat.max, ROWS_K_NUMBER, "12345678901234567890123.5");
    assert_int_equal(c[4].stat.min.kind, ROWS_K_NONE);
    assert_int_equal(c[4].stat.max_len, 7);
    assert_int_equal(c[4].stat.nulls, 1);
    rows_free(&w);

    /* off: nothing is kept */
    rows_init(&w, &sink, &q, 1 << 16, false);
    assert_int_equal(rows_set_begin(&w, 1, names, nl, &err), 0);
    rows_row_begin(&w);
    rows_int(&w, 1);
    assert_int_equal(rows_row_end(&w, &err), 0);
    assert_int_equal(w.cols[0].stat.min.kind, ROWS_K_NONE);
    assert_int_equal(w.cols[0].stat.max_len, 0);
    rows_free(&w);
}

/* --- reading stored rows back ---------------------------------------------- */

static void
test_json_scanner(void **state)
{
    /* rows as pages hold them: separators, nested JSON, tricky strings */
    const char *p = ",{\"a\":1,\"b\":\"x},{\\\"y\\\\\"},\n{\"a\":[1,{\"z\":\"]\"}],\"b\":null}"
                    ",{}  ,{\"k\":-1.5e3}";
    size_t n = strlen(p), pos = 0, a, b;
    const char *want[] = {"{\"a\":1,\"b\":\"x},{\\\"y\\\\\"}",
                          "{\"a\":[1,{\"z\":\"]\"}],\"b\":null}", "{}", "{\"k\":-1.5e3}"};
    for (size_t i = 0; i < 4; i++) {
        assert_true(rows_json_next(p, n, &pos, &a, &b));
        assert_int_equal(b - a, strlen(want[i]));
        assert_memory_equal(p + a, want[i], b - a);
    }
    assert_false(rows_json_next(p, n, &pos, &a, &b));
    /* a cut row is not a row */
    const char *cut = "{\"a\":\"b";
    pos = 0;
    assert_false(rows_json_next(cut, strlen(cut), &pos, &a, &b));
    const char *cut2 = "{\"a\":[1,2}";
    pos = 0;
    assert_false(rows_json_next(cut2, strlen(cut2), &pos, &a, &b));
}

static void
array_is(const char *row, bool pretty, const char *want)
{
    qg_buf out = QG_BUF_INIT;
    qg_buf_addlit(&out, "<");
    size_t used;
    assert_int_equal(rows_object_to_array(row, strlen(row), pretty, &out, &used), 0);
    assert_int_equal(used, strlen(row));
    assert_string_equal(out.data + 1, want);
    qg_buf_free(&out);
}

static void
test_objects_to_arrays(void **state)
{
    array_is("{\"a\":1,\"b\":\"x\\\",y\",\"c\":null}", false, "[1,\"x\\\",y\",null]");
    array_is("{\"a\":{\"n\":[1,2]},\"a\":true}", false, "[{\"n\":[1,2]},true]");
    array_is("{}", false, "[]");
    array_is("{\n  \"a\": 1,\n  \"b\": \"x\"\n}", true, "[\n  1,\n  \"x\"\n]");
    array_is("{\n}", true, "[]");
    array_is("{\"a\":\"\\\\\",\"b\":\"x\\\\\\\"y\"}", false, "[\"\\\\\",\"x\\\\\\\"y\"]");
    /* what the writer renders, turned around */
    qg_query q;
    qg_query_init(&q);
    collect c;
    rows_writer w;
    setup(&c, &w, &q, 1 << 16, true);
    two_rows(&w);
    size_t pos = 1, a, b; /* past the '[' framing of the test sink */
    qg_buf out = QG_BUF_INIT;
    assert_true(rows_json_next(c.all.data, c.all.len - 1, &pos, &a, &b));
    size_t used;
    /* the rest of the text follows the row: only the row is taken */
    assert_int_equal(rows_object_to_array(c.all.data + a, c.all.len - a, false, &out, &used), 0);
    assert_int_equal(used, b - a);
    assert_string_equal(out.data, "[-9223372036854775808,\"a\\\"b\",0.5]");
    rows_free(&w);
    qg_buf_free(&c.all);
    /* not objects: refused, nothing appended */
    qg_buf_reset(&out);
    qg_buf_addlit(&out, "keep");
    static const char *bad[] = {"[1]", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\":1", "{1:2}",
                                "x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(rows_object_to_array(bad[i], strlen(bad[i]), false, &out, NULL), -1);
        assert_string_equal(out.data, "keep");
    }
    qg_buf_free(&out);
}

static void
test_csv_lines(void **state)
{
    const char *p = "a,b\r\n1,\"x\r\ny\"\r\n2,\"q\"\"\"\r\nlast";
    size_t n = strlen(p), pos = 0, a, b;
    const char *want[] = {"a,b\r\n", "1,\"x\r\ny\"\r\n", "2,\"q\"\"\"\r\n", "last"};
    for (size_t i = 0; i < 4; i++) {
        assert_true(rows_csv_next(p, n, &pos, &a, &b));
        assert_int_equal(b - a, strlen(want[i]));
        assert_memory_equal(p + a, want[i], b - a);
    }
    assert_false(rows_csv_next(p, n, &pos, &a, &b));
    qg_buf out = QG_BUF_INIT;
    const char *f[] = {"id", "a,b", " sp", "q\""};
    size_t fl[] = {2, 3, 3, 2};
    rows_csv_line(&out, f, fl, 4);
    assert_string_equal(out.data, "id,\"a,b\",\" sp\",\"q\"\"\"\r\n");
    qg_buf_free(&out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_rows),     cmocka_unit_test(test_pretty_rows),
        cmocka_unit_test(test_csv_in_json_and_raw), cmocka_unit_test(test_csv_quoting),
        cmocka_unit_test(test_values),        cmocka_unit_test(test_chunks_and_limit),
        cmocka_unit_test(test_set_names),     cmocka_unit_test(test_sqltext),
        cmocka_unit_test(test_envelope),      cmocka_unit_test(test_row_hook),
        cmocka_unit_test(test_column_statistics),
        cmocka_unit_test(test_json_scanner),
        cmocka_unit_test(test_objects_to_arrays),
        cmocka_unit_test(test_csv_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
