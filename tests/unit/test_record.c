/* Unit tests for store/record: the on-disk encoding of job records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>

#include "core/buf.h"
#include "store/record.h"

/* A query with every kind of value, extremes and NULs in text. */
static void
full_query(qg_query *q)
{
    qg_query_init(q);
    static const char stmt[] = "SELECT ? AS a, $name AS b; SELECT 'x'";
    q->statement = qg_arena_memdup0(&q->arena, stmt, sizeof(stmt) - 1);
    q->statement_len = sizeof(stmt) - 1;
    q->mode = QG_MODE_ASYNC;
    q->client_context_id = qg_arena_strdup(&q->arena, "ctx \xc3\xa9 1");
    q->nargs = 7;
    q->args = qg_arena_alloc(&q->arena, sizeof(qg_value) * q->nargs);
    memset(q->args, 0, sizeof(qg_value) * q->nargs);
    q->args[0] = (qg_value){QG_VAL_INT, INT64_MIN, 0, "-9223372036854775808", 20};
    q->args[1] = (qg_value){QG_VAL_INT, 9007199254740993LL, 0, "9007199254740993", 16};
    q->args[2] = (qg_value){QG_VAL_REAL, 0, -0.0, "-0.0", 4};
    q->args[3] = (qg_value){QG_VAL_REAL, 0, INFINITY, "1e400", 5};
    static const char nul[] = "a\0b\0";
    q->args[4] = (qg_value){QG_VAL_TEXT, 0, 0, qg_arena_memdup0(&q->arena, nul, 4), 4};
    q->args[5] = (qg_value){QG_VAL_NULL, 0, 0, "null", 4};
    q->args[6] = (qg_value){QG_VAL_JSON, 0, 0, "[1,{\"x\":2}]", 11};
    q->nnamed = 2;
    q->named = qg_arena_alloc(&q->arena, sizeof(qg_named) * 2);
    q->named[0].name = "name";
    q->named[0].val = (qg_value){QG_VAL_BOOL, 1, 0, "true", 4};
    q->named[1].name = "empty";
    q->named[1].val = (qg_value){QG_VAL_TEXT, 0, 0, "", 0};
    q->callback_url = "http://hooks.example:8080/done?x=1";
    q->handle_base = "https://front.example/n2";
}

static void
full_job(store_job *j, const qg_query *q)
{
    store_job_init(j);
    store_job_from_query(j, q, "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9", 86400000000000ull);
    j->id = UINT64_MAX;
    snprintf(j->principal, sizeof(j->principal), "%s", "alice");
    j->state = STORE_TIMEOUT;
    j->rerunnable = true;
    j->queries = true;
    j->readonly = true;
    j->pretty = true;
    j->signature = false;
    j->multi_statement = false;
    j->csv_header = true;
    j->format = QG_FORMAT_CSV;
    j->timeout_ns = 1;
    j->max_result_reads = UINT32_MAX;
    j->created_ns = 1;
    j->started_ns = UINT64_MAX - 1;
    j->finished_ns = 0x0102030405060708ull;
    j->expires_ns = UINT64_MAX;
    qg_error_set(&j->error, QG_E_TIMEOUT);
    j->metrics = (qg_metrics){UINT64_MAX, 2, 3, 4, 5, 6, 7, 8, 9};
    store_set sets[3] = {{0, 0, 0, 0}, {UINT64_MAX, 12345, 7, 2}, {1, 2, UINT32_MAX, 1}};
    store_job_set_sets(j, sets, 3);
    j->cb_state = STORE_CB_FAILED;
    j->cb_attempts = UINT32_MAX;
    j->cb_next_ns = UINT64_MAX;
    j->cb_last_ns = 3;
    snprintf(j->cb_error, sizeof(j->cb_error), "connect: Connection refused \xc3\xa9");
}

static void
assert_value_equal(const qg_value *a, const qg_value *b)
{
    assert_int_equal(a->type, b->type);
    assert_true(a->i == b->i);
    assert_memory_equal(&a->d, &b->d, sizeof(double)); /* bits, -0.0 included */
    assert_int_equal(a->len, b->len);
    assert_memory_equal(a->text, b->text, a->len);
    assert_int_equal(b->text[b->len], '\0');
}

static void
assert_jobs_equal(const store_job *a, const store_job *b)
{
    assert_true(a->id == b->id);
    assert_int_equal(a->state, b->state);
    assert_int_equal(a->mode, b->mode);
    assert_int_equal(a->rerunnable, b->rerunnable);
    assert_int_equal(a->queries, b->queries);
    assert_int_equal(a->readonly, b->readonly);
    assert_int_equal(a->pretty, b->pretty);
    assert_int_equal(a->signature, b->signature);
    assert_int_equal(a->multi_statement, b->multi_statement);
    assert_int_equal(a->csv_header, b->csv_header);
    assert_int_equal(a->format, b->format);
    assert_true(a->timeout_ns == b->timeout_ns);
    assert_int_equal(a->max_result_reads, b->max_result_reads);
    assert_true(a->ttl_ns == b->ttl_ns);
    assert_string_equal(a->request_id, b->request_id);
    assert_string_equal(a->principal, b->principal);
    assert_true(a->created_ns == b->created_ns);
    assert_true(a->started_ns == b->started_ns);
    assert_true(a->finished_ns == b->finished_ns);
    assert_true(a->expires_ns == b->expires_ns);
    assert_int_equal(a->error.code, b->error.code);
    assert_string_equal(a->error.msg, b->error.msg);
    assert_memory_equal(&a->metrics, &b->metrics, sizeof(qg_metrics));
    assert_int_equal(a->cb_state, b->cb_state);
    assert_int_equal(a->cb_attempts, b->cb_attempts);
    assert_true(a->cb_next_ns == b->cb_next_ns);
    assert_true(a->cb_last_ns == b->cb_last_ns);
    assert_string_equal(a->cb_error, b->cb_error);
    assert_int_equal(a->nsets, b->nsets);
    if (a->nsets)
        assert_memory_equal(a->sets, b->sets, sizeof(store_set) * a->nsets);
}

static void
test_round_trip_every_field(void **state)
{
    qg_query q, back;
    store_job j, d;
    full_query(&q);
    full_job(&j, &q);
    qg_buf b = QG_BUF_INIT;
    store_record_encode(&j, &q, &b);

    store_job_init(&d);
    size_t qoff;
    assert_int_equal(store_record_decode(b.data, b.len, &d, &qoff), 0);
    assert_jobs_equal(&j, &d);
    assert_string_equal(d.error.msg, "ASX0030: Request timed out and will be cancelled");

    qg_query_init(&back);
    assert_int_equal(store_record_decode_query(b.data + qoff, b.len - qoff, &d, &back), 0);
    assert_int_equal(back.statement_len, q.statement_len);
    assert_string_equal(back.statement, q.statement);
    assert_string_equal(back.client_context_id, q.client_context_id);
    assert_int_equal(back.mode, QG_MODE_ASYNC);
    assert_true(back.readonly && back.pretty && !back.signature && !back.multi_statement);
    assert_int_equal(back.format, QG_FORMAT_CSV);
    assert_true(back.csv_header);
    assert_int_equal(back.nargs, q.nargs);
    for (size_t i = 0; i < q.nargs; i++)
        assert_value_equal(&q.args[i], &back.args[i]);
    assert_string_equal(back.args[1].text, "9007199254740993");
    assert_true(signbit(back.args[2].d));
    assert_int_equal(back.nnamed, 2);
    for (size_t i = 0; i < q.nnamed; i++) {
        assert_string_equal(back.named[i].name, q.named[i].name);
        assert_value_equal(&q.named[i].val, &back.named[i].val);
    }
    assert_string_equal(back.callback_url, q.callback_url);
    assert_string_equal(back.handle_base, q.handle_base);
    qg_query_free(&back);
    store_job_free(&d);
    store_job_free(&j);
    qg_query_free(&q);
    qg_buf_free(&b);
}

static void
test_round_trip_minimal(void **state)
{
    /* all flags off, no error, no sets, no context id, no parameters */
    qg_query q, back;
    qg_query_init(&q);
    q.statement = "";
    q.statement_len = 0;
    q.signature = false;
    q.multi_statement = false;
    q.mode = QG_MODE_DEFERRED;
    store_job j, d;
    store_job_init(&j);
    store_job_from_query(&j, &q, "", 5);
    qg_buf b = QG_BUF_INIT;
    store_record_encode(&j, &q, &b);
    store_job_init(&d);
    size_t qoff;
    assert_int_equal(store_record_decode(b.data, b.len, &d, &qoff), 0);
    assert_jobs_equal(&j, &d);
    assert_int_equal(d.error.code, QG_OK);
    assert_true(d.ttl_ns == 5);
    qg_query_init(&back);
    assert_int_equal(store_record_decode_query(b.data + qoff, b.len - qoff, &d, &back), 0);
    assert_null(back.client_context_id);
    assert_null(back.callback_url);
    assert_null(back.handle_base);
    assert_int_equal(d.cb_state, STORE_CB_NONE);
    assert_int_equal(back.nargs, 0);
    assert_int_equal(back.nnamed, 0);
    assert_int_equal(back.mode, QG_MODE_DEFERRED);
    qg_query_free(&back);
    store_job_free(&d);
    store_job_free(&j);
    qg_buf_free(&b);
}

/* Every strict prefix of a record is refused, by one decoder or the other. */
static void
test_truncated_records_refused(void **state)
{
    qg_query q;
    store_job j, d;
    full_query(&q);
    full_job(&j, &q);
    qg_buf b = QG_BUF_INIT;
    store_record_encode(&j, &q, &b);
    store_job_init(&d);
    for (size_t n = 0; n < b.len; n++) {
        char *copy = malloc(n ? n : 1); /* exact size: ASan sees any overread */
        memcpy(copy, b.data, n);
        size_t qoff;
        int rc = store_record_decode(copy, n, &d, &qoff);
        if (rc == 0) {
            qg_query back;
            qg_query_init(&back);
            rc = store_record_decode_query(copy + qoff, n - qoff, &d, &back);
            qg_query_free(&back);
        }
        assert_int_equal(rc, -1);
        free(copy);
    }
    /* trailing bytes are refused too */
    qg_buf_addc(&b, 'x');
    size_t qoff;
    assert_int_equal(store_record_decode(b.data, b.len, &d, &qoff), 0);
    qg_query back;
    qg_query_init(&back);
    assert_int_equal(store_record_decode_query(b.data + qoff, b.len - qoff, &d, &back), -1);
    qg_query_free(&back);
    store_job_free(&d);
    store_job_free(&j);
    qg_query_free(&q);
    qg_buf_free(&b);
}

static void
test_other_version_and_bad_values_refused(void **state)
{
    qg_query q;
    store_job j, d;
    full_query(&q);
    full_job(&j, &q);
    qg_buf b = QG_BUF_INIT;
    store_record_encode(&j, &q, &b);
    store_job_init(&d);
    size_t qoff;
    b.data[0] = STORE_RECORD_VERSION + 1;
    assert_int_equal(store_record_decode(b.data, b.len, &d, &qoff), -1);
    b.data[0] = STORE_RECORD_VERSION;
    b.data[1] = 9; /* state */
    assert_int_equal(store_record_decode(b.data, b.len, &d, &qoff), -1);
    b.data[1] = STORE_SUCCESS;
    b.data[2] = 7; /* mode */
    assert_int_equal(store_record_decode(b.data, b.len, &d, &qoff), -1);
    b.data[2] = 2;
    assert_int_equal(store_record_decode(b.data, b.len, &d, &qoff), 0);
    assert_int_equal(d.state, STORE_SUCCESS);
    /* a version 1 record (the format before batches and callbacks) */
    b.data[0] = 1;
    assert_int_equal(store_record_decode(b.data, b.len, &d, &qoff), -1);
    store_job_free(&d);
    store_job_free(&j);
    qg_query_free(&q);
    qg_buf_free(&b);
}

/* A new header in front of the old query part is a whole record. */
static void
test_header_rewrite_keeps_query(void **state)
{
    qg_query q, back;
    store_job j, d;
    full_query(&q);
    full_job(&j, &q);
    qg_buf b = QG_BUF_INIT;
    store_record_encode(&j, &q, &b);
    store_job_init(&d);
    size_t qoff;
    assert_int_equal(store_record_decode(b.data, b.len, &d, &qoff), 0);

    d.state = STORE_SUCCESS;
    qg_error_clear(&d.error);
    store_set one = {10, 20, 1, 1};
    store_job_set_sets(&d, &one, 1);
    qg_buf nb = QG_BUF_INIT;
    store_record_encode_header(&d, &nb);
    qg_buf_add(&nb, b.data + qoff, b.len - qoff);

    store_job d2;
    store_job_init(&d2);
    size_t qoff2;
    assert_int_equal(store_record_decode(nb.data, nb.len, &d2, &qoff2), 0);
    assert_jobs_equal(&d, &d2);
    qg_query_init(&back);
    assert_int_equal(store_record_decode_query(nb.data + qoff2, nb.len - qoff2, &d2, &back), 0);
    assert_int_equal(back.nargs, 7);
    assert_memory_equal(back.args[4].text, "a\0b\0", 4);
    qg_query_free(&back);
    store_job_free(&d2);
    store_job_free(&d);
    store_job_free(&j);
    qg_query_free(&q);
    qg_buf_free(&b);
    qg_buf_free(&nb);
}

/* Damaged bytes never crash the decoder (ASan watches). */
static void
test_random_damage(void **state)
{
    qg_query q;
    store_job j, d;
    full_query(&q);
    full_job(&j, &q);
    qg_buf b = QG_BUF_INIT;
    store_record_encode(&j, &q, &b);
    store_job_init(&d);
    srand(7);
    for (int round = 0; round < 5000; round++) {
        char *copy = malloc(b.len);
        memcpy(copy, b.data, b.len);
        int flips = 1 + rand() % 4;
        for (int f = 0; f < flips; f++)
            copy[rand() % b.len] = (char)rand();
        size_t qoff;
        if (store_record_decode(copy, b.len, &d, &qoff) == 0) {
            assert_true(qoff <= b.len);
            qg_query back;
            qg_query_init(&back);
            store_record_decode_query(copy + qoff, b.len - qoff, &d, &back);
            qg_query_free(&back);
        }
        free(copy);
    }
    store_job_free(&d);
    store_job_free(&j);
    qg_query_free(&q);
    qg_buf_free(&b);
}

/* --- statement records ----------------------------------------------------- */

static void
full_stmt(store_stmt *s)
{
    store_stmt_init(s);
    s->state = STORE_STMT_ERROR;
    s->off = 7;
    s->len = UINT32_MAX;
    s->start_ns = 1;
    s->stop_ns = UINT64_MAX;
    s->rows = 12345678901ull;
    s->set = 3;
    qg_error_set(&s->error, QG_E_RUNTIME, "division by zero");
    s->ncols = 3;
    s->cols = calloc(3, sizeof(store_col));
    s->cols[0].name = strdup("n");
    s->cols[0].type = strdup("INTEGER");
    store_bound_set(&s->cols[0].min, STORE_V_NUMBER, "-9223372036854775808", 20);
    store_bound_set(&s->cols[0].max, STORE_V_NUMBER, "42", 2);
    s->cols[0].max_len = 20;
    s->cols[0].nulls = 2;
    s->cols[1].name = strdup("");
    store_bound_set(&s->cols[1].min, STORE_V_BLOB, "\0\1", 2);
    store_bound_set(&s->cols[1].max, STORE_V_BOOL, "true", 4);
    s->cols[2].name = strdup("t \xc3\xa9");
    s->cols[2].type = strdup("text");
    char big[600];
    memset(big, 'a', sizeof(big));
    memcpy(big + STORE_BOUND_MAX - 1, "\xc3\xa9", 2); /* a character across the cut */
    store_bound_set(&s->cols[2].max, STORE_V_TEXT, big, sizeof(big));
}

static void
test_stmt_round_trip(void **state)
{
    store_stmt s, d;
    full_stmt(&s);
    /* the cut falls before the character it would split */
    assert_true(s.cols[2].max.cut);
    assert_int_equal(s.cols[2].max.len, STORE_BOUND_MAX - 1);
    qg_buf b = QG_BUF_INIT;
    store_stmt_encode(&s, &b);
    store_stmt_init(&d);
    assert_int_equal(store_stmt_decode(b.data, b.len, &d), 0);
    assert_int_equal(d.state, STORE_STMT_ERROR);
    assert_true(d.off == 7 && d.len == UINT32_MAX);
    assert_true(d.start_ns == 1 && d.stop_ns == UINT64_MAX && d.rows == 12345678901ull);
    assert_true(d.set == 3);
    assert_int_equal(d.error.code, QG_E_RUNTIME);
    assert_string_equal(d.error.msg, s.error.msg);
    assert_int_equal(d.ncols, 3);
    assert_string_equal(d.cols[0].name, "n");
    assert_string_equal(d.cols[0].type, "INTEGER");
    assert_int_equal(d.cols[0].min.kind, STORE_V_NUMBER);
    assert_string_equal(d.cols[0].min.text, "-9223372036854775808");
    assert_string_equal(d.cols[0].max.text, "42");
    assert_true(d.cols[0].max_len == 20 && d.cols[0].nulls == 2);
    assert_string_equal(d.cols[1].name, "");
    assert_null(d.cols[1].type);
    assert_int_equal(d.cols[1].min.kind, STORE_V_BLOB);
    assert_memory_equal(d.cols[1].min.text, "\0\1", 2);
    assert_int_equal(d.cols[1].max.kind, STORE_V_BOOL);
    assert_int_equal(d.cols[2].min.kind, STORE_V_NONE);
    assert_null(d.cols[2].min.text);
    assert_true(d.cols[2].max.cut);
    assert_int_equal(d.cols[2].max.len, STORE_BOUND_MAX - 1);
    /* a copy is deep */
    store_stmt c;
    store_stmt_copy(&c, &d);
    store_stmt_free(&d);
    assert_string_equal(c.cols[2].name, "t \xc3\xa9");
    store_stmt_free(&c);

    /* a statement without columns or error: the set's absence is -1 */
    store_stmt m;
    store_stmt_init(&m);
    qg_buf_reset(&b);
    store_stmt_encode(&m, &b);
    store_stmt_init(&d);
    assert_int_equal(store_stmt_decode(b.data, b.len, &d), 0);
    assert_true(d.set == -1 && d.ncols == 0 && d.state == STORE_STMT_QUEUED);
    assert_int_equal(d.error.code, QG_OK);
    store_stmt_free(&d);
    store_stmt_free(&s);
    qg_buf_free(&b);
}

static void
test_stmt_truncation_and_damage_refused(void **state)
{
    store_stmt s, d;
    full_stmt(&s);
    qg_buf b = QG_BUF_INIT;
    store_stmt_encode(&s, &b);
    store_stmt_init(&d);
    for (size_t n = 0; n < b.len; n++) {
        char *copy = malloc(n ? n : 1);
        memcpy(copy, b.data, n);
        assert_int_equal(store_stmt_decode(copy, n, &d), -1);
        free(copy);
    }
    qg_buf_addc(&b, 'x');
    assert_int_equal(store_stmt_decode(b.data, b.len, &d), -1);
    b.len--;
    b.data[1] = 9; /* no such state */
    assert_int_equal(store_stmt_decode(b.data, b.len, &d), -1);
    b.data[1] = STORE_STMT_FINISHED;
    assert_int_equal(store_stmt_decode(b.data, b.len, &d), 0);
    srand(11);
    for (int round = 0; round < 5000; round++) {
        char *copy = malloc(b.len);
        memcpy(copy, b.data, b.len);
        for (int f = 0; f < 1 + rand() % 4; f++)
            copy[rand() % b.len] = (char)rand();
        store_stmt_decode(copy, b.len, &d);
        free(copy);
    }
    store_stmt_free(&d);
    store_stmt_free(&s);
    qg_buf_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_field),
        cmocka_unit_test(test_round_trip_minimal),
        cmocka_unit_test(test_truncated_records_refused),
        cmocka_unit_test(test_other_version_and_bad_values_refused),
        cmocka_unit_test(test_header_rewrite_keeps_query),
        cmocka_unit_test(test_random_damage),
        cmocka_unit_test(test_stmt_round_trip),
        cmocka_unit_test(test_stmt_truncation_and_damage_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
