/* Unit tests for modes/message: the messages of mode=stream, as NDJSON lines
 * and as Server-Sent Events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/jsonparse.h"
#include "modes/message.h"

/* Every message in both framings, as the renderers write it. */
typedef void (*render_fn)(qg_buf *b, mode_msg_framing f);

static rows_col cols2[] = {
    {.name = "id", .name_len = 2, .type = "INTEGER"},
    {.name = "n", .name_len = 1, .type = NULL},
};

static void
r_metadata(qg_buf *b, mode_msg_framing f)
{
    mode_msg_metadata(b, f, 2, "rid-1", "ctx", cols2, 2);
}

static void
r_metadata_no_ctx(qg_buf *b, mode_msg_framing f)
{
    mode_msg_metadata(b, f, 0, "rid-1", NULL, cols2, 0);
}

static void
r_record(qg_buf *b, mode_msg_framing f)
{
    mode_msg_record_open(b, f, 1);
    qg_buf_addlit(b, "{\"id\":7,\"n\":null}");
    mode_msg_record_close(b, f);
}

static void
r_stats(qg_buf *b, mode_msg_framing f)
{
    mode_msg_stats(b, f, 1234, 56789, 1500000000ull);
}

static void
r_heartbeat(qg_buf *b, mode_msg_framing f)
{
    mode_msg_heartbeat(b, f, 5000123ull);
}

static void
r_error(qg_buf *b, mode_msg_framing f)
{
    qg_error e;
    qg_error_set(&e, QG_E_RUNTIME, "division by \"zero\"");
    mode_msg_error(b, f, &e);
}

static void
r_end(qg_buf *b, mode_msg_framing f)
{
    qg_metrics m = {.elapsed_ns = 20263371,
                    .execution_ns = 1000,
                    .compile_ns = 0,
                    .queue_wait_ns = 2,
                    .result_count = 3,
                    .result_size = 42,
                    .processed_objects = 3};
    mode_msg_end(b, f, "rid-1", "ctx", QG_OK, &m);
}

static const struct {
    const char *type;
    render_fn fn;
    const char *ndjson;
} cases[] = {
    {"METADATA", r_metadata,
     "{\"type\":\"METADATA\",\"set\":2,\"data\":{\"requestID\":\"rid-1\",\"clientContextID\":"
     "\"ctx\","
     "\"columns\":[{\"name\":\"id\",\"type\":\"INTEGER\"},{\"name\":\"n\",\"type\":null}]}}\n"},
    {"METADATA", r_metadata_no_ctx,
     "{\"type\":\"METADATA\",\"set\":0,\"data\":{\"requestID\":\"rid-1\",\"columns\":[]}}\n"},
    {"RECORD", r_record, "{\"type\":\"RECORD\",\"set\":1,\"data\":{\"id\":7,\"n\":null}}\n"},
    {"STATS", r_stats,
     "{\"type\":\"STATS\",\"data\":{\"resultCount\":1234,\"resultSize\":56789,"
     "\"elapsedTime\":\"1.5s\"}}\n"},
    {"HEARTBEAT", r_heartbeat,
     "{\"type\":\"HEARTBEAT\",\"data\":{\"elapsedTime\":\"5.000123ms\"}}\n"},
    {"ERROR", r_error,
     "{\"type\":\"ERROR\",\"data\":{\"code\":\"ASX0901\",\"msg\":\"ASX0901: Query failed: "
     "division by \\\"zero\\\"\"}}\n"},
    {"END", r_end,
     "{\"type\":\"END\",\"data\":{\"requestID\":\"rid-1\",\"clientContextID\":\"ctx\","
     "\"status\":\"success\",\"metrics\":{\"elapsedTime\":\"20.263371ms\",\"executionTime\":"
     "\"1µs\",\"compileTime\":\"0ns\",\"queueWaitTime\":\"2ns\",\"resultCount\":3,"
     "\"resultSize\":42,\"processedObjects\":3}}}\n"},
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* Parses one message object; fails the test unless it is a JSON object
 * whose first member is "type" with the given value. */
static void
check_object(const char *text, size_t len, const char *type)
{
    qg_arena a = QG_ARENA_INIT;
    qg_json_limits lim = {.max_depth = 16, .max_values = 1000};
    qg_jval v;
    const char *why = NULL;
    if (qg_json_parse(text, len, &a, &lim, &v, &why) != 0)
        fail_msg("not JSON (%s): %.*s", why, (int)len, text);
    assert_int_equal(v.type, QG_J_OBJECT);
    assert_true(v.count >= 1);
    assert_string_equal(v.members[0].key, "type");
    assert_int_equal(v.members[0].val.type, QG_J_STRING);
    assert_string_equal(v.members[0].val.str, type);
    qg_arena_free(&a);
}

static void
test_ndjson_exact(void **state)
{
    for (size_t i = 0; i < NCASES; i++) {
        qg_buf b = QG_BUF_INIT;
        cases[i].fn(&b, MODE_MSG_NDJSON);
        assert_string_equal(b.data, cases[i].ndjson);
        /* one line: the only newline ends it */
        assert_ptr_equal(memchr(b.data, '\n', b.len), b.data + b.len - 1);
        check_object(b.data, b.len - 1, cases[i].type);
        qg_buf_free(&b);
    }
}

static void
test_sse_frames_the_same_object(void **state)
{
    for (size_t i = 0; i < NCASES; i++) {
        qg_buf b = QG_BUF_INIT;
        cases[i].fn(&b, MODE_MSG_SSE);
        qg_buf want = QG_BUF_INIT;
        qg_buf_printf(&want, "event: %s\ndata: ", cases[i].type);
        qg_buf_adds(&want, cases[i].ndjson);
        qg_buf_addc(&want, '\n');
        assert_string_equal(b.data, want.data);
        /* exactly three line ends: the event line, the data line, the blank line */
        int nl = 0;
        for (size_t k = 0; k < b.len; k++)
            nl += b.data[k] == '\n';
        assert_int_equal(nl, 3);
        assert_null(memchr(b.data, '\r', b.len));
        qg_buf_free(&want);
        qg_buf_free(&b);
    }
}

static void
test_messages_concatenate(void **state)
{
    /* A stream is the messages one after another: each line parses alone. */
    qg_buf b = QG_BUF_INIT;
    for (size_t i = 0; i < NCASES; i++)
        cases[i].fn(&b, MODE_MSG_NDJSON);
    size_t start = 0, n = 0;
    for (size_t k = 0; k < b.len; k++) {
        if (b.data[k] != '\n')
            continue;
        check_object(b.data + start, k - start, cases[n].type);
        n++;
        start = k + 1;
    }
    assert_int_equal(n, NCASES);
    assert_int_equal(start, b.len);
    qg_buf_free(&b);
}

/* Whatever the names, types, ids and messages hold, a message stays one
 * line of valid JSON (control characters escaped, invalid UTF-8 repaired). */
static void
test_hostile_text_stays_one_line(void **state)
{
    static char nasty_name[] = "a\nb\r\"c\\\x01\xff\xfe";
    rows_col c[] = {
        {.name = nasty_name, .name_len = sizeof(nasty_name) - 1, .type = "VARCHAR(\"x\")\n"}};
    qg_error e;
    qg_error_set(&e, QG_E_SYNTAX, "near \"\n\r\t\x02\": syntax error \xc3");
    for (int f = 0; f < 2; f++) {
        qg_buf b = QG_BUF_INIT;
        mode_msg_metadata(&b, (mode_msg_framing)f, 0, "r", "ctx\nwith\"newline", c, 1);
        mode_msg_error(&b, (mode_msg_framing)f, &e);
        qg_metrics m = {0};
        mode_msg_end(&b, (mode_msg_framing)f, "r", "ctx\nwith\"newline", QG_E_SYNTAX, &m);
        assert_true(qg_utf8_valid(b.data, b.len));
        assert_null(memchr(b.data, '\r', b.len));
        int lines = 0;
        size_t start = 0;
        for (size_t k = 0; k < b.len; k++) {
            if (b.data[k] != '\n')
                continue;
            const char *line = b.data + start;
            size_t len = k - start;
            start = k + 1;
            if (len == 0 || strncmp(line, "event: ", 7) == 0)
                continue; /* SSE framing */
            if (strncmp(line, "data: ", 6) == 0)
                line += 6, len -= 6;
            static const char *const types[] = {"METADATA", "ERROR", "END"};
            check_object(line, len, types[lines]);
            lines++;
        }
        assert_int_equal(lines, 3);
        qg_buf_free(&b);
    }
}

static void
test_end_status_and_error_code(void **state)
{
    qg_metrics m = {.error_count = 1};
    const struct {
        qg_code code;
        const char *status;
    } ends[] = {{QG_E_TIMEOUT, "\"status\":\"timeout\""},
                {QG_E_CANCELLED, "\"status\":\"fatal\""},
                {QG_E_RUNTIME, "\"status\":\"fatal\""},
                {QG_OK, "\"status\":\"success\""}};
    for (size_t i = 0; i < 4; i++) {
        qg_buf b = QG_BUF_INIT;
        mode_msg_end(&b, MODE_MSG_NDJSON, "r", NULL, ends[i].code, &m);
        assert_non_null(strstr(b.data, ends[i].status));
        assert_null(strstr(b.data, "clientContextID"));
        assert_non_null(strstr(b.data, "\"errorCount\":1}"));
        qg_buf_free(&b);
    }
    qg_error e;
    qg_error_set(&e, QG_E_CANCELLED, "abc");
    qg_buf b = QG_BUF_INIT;
    mode_msg_error(&b, MODE_MSG_NDJSON, &e);
    assert_string_equal(b.data, "{\"type\":\"ERROR\",\"data\":{\"code\":\"ASX0041\",\"msg\":"
                                "\"ASX0041: Request abc has been cancelled\"}}\n");
    qg_buf_free(&b);
}

static void
test_content_types(void **state)
{
    assert_string_equal(mode_msg_content_type(MODE_MSG_NDJSON), "application/x-ndjson");
    assert_string_equal(mode_msg_content_type(MODE_MSG_SSE), "text/event-stream; charset=utf-8");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ndjson_exact),
        cmocka_unit_test(test_sse_frames_the_same_object),
        cmocka_unit_test(test_messages_concatenate),
        cmocka_unit_test(test_hostile_text_stays_one_line),
        cmocka_unit_test(test_end_status_and_error_code),
        cmocka_unit_test(test_content_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
