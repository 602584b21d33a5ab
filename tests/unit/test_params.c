/* Unit tests for api/params: request bytes -> validated qg_query. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/query.h"
#include "api/params.h"

#define FORM "application/x-www-form-urlencoded"
#define JSON "application/json"

typedef struct req {
    bool get;
    const char *ct;
    const char *accept;
    const char *query;
    const char *body;
    size_t body_len; /* 0: strlen(body) */
    size_t max_statement;
    size_t max_params;
    uint64_t max_wait_ns;
    const char *idem_header; /* Idempotency-Key */
} req;

/* Heap copy of exactly n bytes (no terminator), so ASan sees any overread
 * and the copy can die before the query is inspected. */
static char *
dup_exact(const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *p = malloc(n ? n : 1);
    memcpy(p, s, n);
    return p;
}

static void
scrub(char *p, size_t n)
{
    if (p) {
        memset(p, 'Z', n);
        free(p);
    }
}

/* Runs api_params_parse on copies of the request, then destroys the copies:
 * whatever q keeps must live in its own arena. */
static int
run(const req *r, qg_query *q, qg_error *e)
{
    size_t qn = r->query ? strlen(r->query) : 0;
    size_t bn = r->body ? (r->body_len ? r->body_len : strlen(r->body)) : 0;
    size_t cn = r->ct ? strlen(r->ct) + 1 : 0;
    size_t an = r->accept ? strlen(r->accept) + 1 : 0;
    api_params_in in;
    memset(&in, 0, sizeof(in));
    in.is_get = r->get;
    in.content_type = dup_exact(r->ct, cn);
    in.accept = dup_exact(r->accept, an);
    in.query = dup_exact(r->query, qn);
    in.query_len = qn;
    in.body = dup_exact(r->body, bn);
    in.body_len = bn;
    in.max_statement = r->max_statement;
    in.max_params = r->max_params;
    in.max_wait_ns = r->max_wait_ns;
    in.idempotency_key = r->idem_header;
    qg_query_init(q);
    int rc = api_params_parse(&in, q, e);
    scrub((char *)in.content_type, cn);
    scrub((char *)in.accept, an);
    scrub((char *)in.query, qn);
    scrub((char *)in.body, bn);
    return rc;
}

static void
ok(const req *r, qg_query *q)
{
    qg_error e;
    int rc = run(r, q, &e);
    if (rc != 0)
        fail_msg("unexpected error: %s", e.msg);
    assert_int_equal(e.code, QG_OK);
}

/* Expects failure with code and, when msg is not NULL, exactly msg. */
static void
bad(const req *r, qg_code code, const char *msg)
{
    qg_query q;
    qg_error e;
    int rc = run(r, &q, &e);
    qg_query_free(&q);
    if (rc != -1)
        fail_msg("accepted: query=%s body=%s", r->query ? r->query : "-", r->body ? r->body : "-");
    if (e.code != code)
        fail_msg("code %s, message %s", qg_err_name(e.code), e.msg);
    if (msg) {
        /* AsterixDB's text first, then at most a hint at the fix */
        size_t n = strlen(msg);
        if (strncmp(e.msg, msg, n) != 0)
            assert_string_equal(e.msg, msg);
        if (e.msg[n] != '\0' && !strchr(".:;(, ", e.msg[n]))
            fail_msg("no hint after the text: %s", e.msg);
    }
}

/* As bad, but msg need only begin the message. */
static void
bad_prefix(const req *r, qg_code code, const char *msg)
{
    qg_query q;
    qg_error e;
    int rc = run(r, &q, &e);
    qg_query_free(&q);
    if (rc != -1)
        fail_msg("accepted: body=%s", r->body ? r->body : "-");
    if (e.code != code || strncmp(e.msg, msg, strlen(msg)) != 0)
        fail_msg("code %s, message %s", qg_err_name(e.code), e.msg);
}

/* GET with a query string. */
static void
get_ok(const char *qs, qg_query *q)
{
    req r = {.get = true, .query = qs};
    ok(&r, q);
}

static void
get_bad(const char *qs, qg_code code, const char *msg)
{
    req r = {.get = true, .query = qs};
    bad(&r, code, msg);
}

static void
post_form_bad(const char *body, qg_code code, const char *msg)
{
    req r = {.ct = FORM, .body = body};
    bad(&r, code, msg);
}

static void
json_ok(const char *body, qg_query *q)
{
    req r = {.ct = JSON, .body = body};
    ok(&r, q);
}

static void
json_bad(const char *body, qg_code code, const char *msg)
{
    req r = {.ct = JSON, .body = body};
    bad(&r, code, msg);
}

/* ---- sources and precedence ---- */

static void
test_get_defaults_and_readonly(void **state)
{
    qg_query q;
    get_ok("statement=SELECT+1", &q);
    assert_string_equal(q.statement, "SELECT 1");
    assert_int_equal(q.statement_len, 8);
    assert_int_equal(q.mode, QG_MODE_IMMEDIATE);
    assert_null(q.client_context_id);
    assert_true(q.readonly); /* GET forces it */
    assert_false(q.pretty);
    assert_true(q.signature);
    assert_true(q.multi_statement);
    assert_int_equal(q.format, QG_FORMAT_JSON);
    assert_false(q.csv_header);
    assert_int_equal(q.timeout_ns, 0);
    assert_int_equal(q.max_result_reads, 1);
    assert_int_equal(q.result_ttl_ns, 0);
    assert_null(q.args);
    assert_int_equal(q.nargs, 0);
    assert_null(q.named);
    assert_int_equal(q.nnamed, 0);
    assert_false(q.stream);
    assert_false(q.stream_sse);
    assert_int_equal(q.stats_ns, 0);
    assert_false(q.heartbeat_given);
    qg_query_free(&q);

    get_ok("statement=x&readonly=false", &q);
    assert_true(q.readonly);
    qg_query_free(&q);

    /* Forced after validation: a bad value is still an error. */
    get_bad("statement=x&readonly=maybe", QG_E_PARAM,
            "ASX0047: Invalid value for parameter 'readonly': maybe");

    /* GET ignores a body, whatever its Content-Type. */
    req r = {.get = true, .ct = FORM, .body = "statement=x"};
    bad(&r, QG_E_NO_STATEMENT, "ASX0040: No statement provided");
    req r2 = {.get = true, .ct = JSON, .body = "{\"statement\":\"x\"}", .query = "statement=y"};
    ok(&r2, &q);
    assert_string_equal(q.statement, "y");
    qg_query_free(&q);
}

static void
test_post_readonly_not_forced(void **state)
{
    qg_query q;
    req r = {.ct = FORM, .body = "statement=x"};
    ok(&r, &q);
    assert_false(q.readonly);
    qg_query_free(&q);
    req r2 = {.ct = FORM, .body = "statement=x&readonly=TRUE"};
    ok(&r2, &q);
    assert_true(q.readonly);
    qg_query_free(&q);
}

static void
test_form_then_query_first_wins(void **state)
{
    qg_query q;
    req r = {.ct = FORM,
             .body = "statement=a&mode=deferred&mode=async",
             .query = "statement=b&mode=immediate&pretty=true&client_context_id=c1"};
    ok(&r, &q);
    assert_string_equal(q.statement, "a");
    assert_int_equal(q.mode, QG_MODE_DEFERRED);
    assert_true(q.pretty); /* only in the query string */
    assert_string_equal(q.client_context_id, "c1");
    qg_query_free(&q);

    /* A shadowed duplicate is not validated... */
    req r2 = {.ct = FORM, .body = "statement=a&mode=async", .query = "mode=sideways"};
    ok(&r2, &q);
    assert_int_equal(q.mode, QG_MODE_ASYNC);
    qg_query_free(&q);
    /* ...but the winner is. */
    req r3 = {.ct = FORM, .body = "statement=a&mode=sideways", .query = "mode=async"};
    bad(&r3, QG_E_PARAM, "ASX0047: Invalid value for parameter 'mode': sideways");

    /* Query string alone, with a form Content-Type and no body. */
    req r4 = {.ct = FORM, .query = "statement=q"};
    ok(&r4, &q);
    assert_string_equal(q.statement, "q");
    qg_query_free(&q);

    /* Content-Type parameters and case. */
    req r5 = {.ct = "Application/X-WWW-Form-URLencoded ; charset=UTF-8", .body = "statement=f"};
    ok(&r5, &q);
    assert_string_equal(q.statement, "f");
    qg_query_free(&q);
}

static void
test_json_body_last_wins(void **state)
{
    qg_query q;
    req r = {.ct = JSON,
             .body = "{\"statement\":\"first\",\"mode\":\"async\",\"statement\":\"last\","
                     "\"mode\":\"deferred\",\"unknown\":[1,{}],\"Mode\":\"bogus\"}",
             .query = "statement=ignored&pretty=maybe"};
    ok(&r, &q);
    assert_string_equal(q.statement, "last");
    assert_int_equal(q.mode, QG_MODE_DEFERRED);
    assert_false(q.pretty); /* the query string is ignored */
    qg_query_free(&q);

    /* Scalars as text: booleans, numbers, strings all work. */
    json_ok("{\"statement\":\"s\",\"pretty\":true,\"readonly\":\"TRUE\",\"signature\":false,"
            "\"multi-statement\":\"false\",\"max-result-reads\":5,\"timeout\":\"10s\","
            "\"client_context_id\":\"ctx\",\"max-warnings\":3,\"job\":false}",
            &q);
    assert_true(q.pretty);
    assert_true(q.readonly);
    assert_false(q.signature);
    assert_false(q.multi_statement);
    assert_int_equal(q.max_result_reads, 5);
    assert_int_equal(q.timeout_ns, 10000000000ull);
    assert_string_equal(q.client_context_id, "ctx");
    qg_query_free(&q);

    /* null means absent, also as the last occurrence. */
    json_ok("{\"statement\":\"s\",\"mode\":\"async\",\"mode\":null,\"client_context_id\":null}",
            &q);
    assert_int_equal(q.mode, QG_MODE_IMMEDIATE);
    assert_null(q.client_context_id);
    qg_query_free(&q);

    /* A number keeps its source text: 5.0 is not an integer. */
    json_bad("{\"statement\":\"s\",\"max-result-reads\":5.0}", QG_E_PARAM,
             "ASX0047: Invalid value for parameter 'max-result-reads': 5.0");
    json_bad("{\"statement\":\"s\",\"max-result-reads\":true}", QG_E_PARAM,
             "ASX0047: Invalid value for parameter 'max-result-reads': true");
    /* Arrays and objects are never scalars; shown as their source. */
    json_bad("{\"statement\":\"s\",\"mode\":[\"async\"]}", QG_E_PARAM,
             "ASX0047: Invalid value for parameter 'mode': [\"async\"]");
    json_bad("{\"statement\":{\"a\": 1}}", QG_E_PARAM,
             "ASX0047: Invalid value for parameter 'statement': {\"a\": 1}");
    /* Content-Type with charset and odd case. */
    req r2 = {.ct = "APPLICATION/JSON; charset=utf-8", .body = "{\"statement\":\"s\"}"};
    ok(&r2, &q);
    qg_query_free(&q);
    /* A number statement is text like any other. */
    json_ok("{\"statement\":42}", &q);
    assert_string_equal(q.statement, "42");
    qg_query_free(&q);
}

static void
test_other_content_types(void **state)
{
    qg_query q;
    const char *types[] = {"text/plain",
                           "application/jsonx",
                           "application/json-seq",
                           "application/x-www-form-urlencodedx",
                           "multipart/form-data",
                           "json",
                           "",
                           NULL};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        /* The body is ignored, only the query string counts. */
        req r = {.ct = types[i], .body = "statement=body", .query = "statement=query"};
        ok(&r, &q);
        assert_string_equal(q.statement, "query");
        assert_false(q.readonly);
        qg_query_free(&q);
        req r2 = {.ct = types[i], .body = "{\"statement\":\"body\"}"};
        bad(&r2, QG_E_NO_STATEMENT, NULL);
    }
}

static void
test_form_splitting(void **state)
{
    qg_query q;
    /* Empty pairs are skipped; ';' is data, not a separator. */
    get_ok("&&statement=a;mode=async&&", &q);
    assert_string_equal(q.statement, "a;mode=async");
    assert_int_equal(q.mode, QG_MODE_IMMEDIATE);
    qg_query_free(&q);
    /* Only the first '=' splits. */
    get_ok("statement=a=b", &q);
    assert_string_equal(q.statement, "a=b");
    qg_query_free(&q);
    /* A name without '=' has an empty value. */
    get_bad("statement=x&pretty", QG_E_PARAM, "ASX0047: Invalid value for parameter 'pretty': ");
    /* An empty name is just unknown. */
    get_ok("=x&statement=y", &q);
    qg_query_free(&q);
    /* Encoded names. */
    get_ok("%73tatement=enc&%6Dode=async", &q);
    assert_string_equal(q.statement, "enc");
    assert_int_equal(q.mode, QG_MODE_ASYNC);
    qg_query_free(&q);
}

/* ---- decoding ---- */

static void
test_form_decode(void **state)
{
    qg_arena a = QG_ARENA_INIT;
    char *out;
    size_t n;
    assert_int_equal(api_form_decode(&a, "a+b%2Bc%41%6a%6A", 16, &out, &n), 0);
    assert_string_equal(out, "a b+cAjj");
    assert_int_equal(n, 8);
    assert_int_equal(api_form_decode(&a, "", 0, &out, &n), 0);
    assert_int_equal(n, 0);
    assert_string_equal(out, "");
    assert_int_equal(api_form_decode(&a, "x%00y", 5, &out, &n), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(out, "x\0y", 4);
    /* %2B is a plus, and decoding is one pass: %2541 is "%41". */
    assert_int_equal(api_form_decode(&a, "%2B+%2541", 9, &out, &n), 0);
    assert_string_equal(out, "+ %41");
    const char *badones[] = {"%", "%4", "%zz", "%4g", "%g4", "a%", "a%2", "%%41", "% 41"};
    for (size_t i = 0; i < sizeof(badones) / sizeof(badones[0]); i++)
        assert_int_equal(api_form_decode(&a, badones[i], strlen(badones[i]), &out, &n), -1);
    /* Only n bytes are read. */
    assert_int_equal(api_form_decode(&a, "ab%4", 2, &out, &n), 0);
    assert_string_equal(out, "ab");
    qg_arena_free(&a);
}

static void
test_plus_and_percent(void **state)
{
    qg_query q;
    get_ok("statement=SELECT+1+%2B+2", &q);
    assert_string_equal(q.statement, "SELECT 1 + 2");
    qg_query_free(&q);
    get_ok("statement=%C3%A9t%C3%A9&client_context_id=a+b%2bc", &q);
    assert_string_equal(q.statement, "\xC3\xA9t\xC3\xA9");
    assert_string_equal(q.client_context_id, "a b+c");
    qg_query_free(&q);
}

static void
test_bad_escapes(void **state)
{
    /* Where the bad escape is, not the whole value (a statement may be
     * megabytes), and how to write a literal % */
#define ESC(name, what) "ASX0047: Invalid value for parameter '" name "': malformed %-escape " what
    get_bad("statement=%", QG_E_PARAM, ESC("statement", "'%' at byte 0"));
    get_bad("statement=%4", QG_E_PARAM, ESC("statement", "'%4' at byte 0"));
    get_bad("statement=%zz", QG_E_PARAM, ESC("statement", "'%zz' at byte 0"));
    get_bad("statement=abc%zz", QG_E_PARAM,
            ESC("statement", "'%zz' at byte 3. A % starts an escape of two hex digits (%20 is "
                             "a space); write a literal % as %25"));
    /* A bad name is reported by its raw text. */
    get_bad("statement=x&%zz=1", QG_E_PARAM, ESC("%zz", "'%zz' at byte 0"));
    get_bad("statement=x&a%4", QG_E_PARAM, ESC("a%4", "'%4' at byte 1"));
    /* Also in an unknown name's value, and in a shadowed duplicate. */
    get_bad("foo=%4&statement=x", QG_E_PARAM, ESC("foo", "'%4' at byte 0"));
    get_bad("statement=x&statement=%", QG_E_PARAM, ESC("statement", "'%' at byte 0"));
    /* In the form body as well as the query string. */
    req r = {.ct = FORM, .body = "statement=x&mode=%G0", .query = "mode=async"};
    bad(&r, QG_E_PARAM, ESC("mode", "'%G0' at byte 0"));
    req r2 = {.ct = FORM, .body = "statement=x", .query = "mode=%"};
    bad(&r2, QG_E_PARAM, ESC("mode", "'%' at byte 0"));
    /* A JSON body ignores the query string, escapes and all. */
    req r3 = {.ct = JSON, .body = "{\"statement\":\"x\"}", .query = "%zz=%"};
    qg_query q;
    ok(&r3, &q);
    qg_query_free(&q);
    /* Raw invalid UTF-8 in a bad name is shown as '?'. */
    get_bad("statement=x&\xFF%=1", QG_E_PARAM, ESC("?%", "'%' at byte 1"));
    /* Deep in a 200 KB statement: the position, whatever comes before. */
    qg_buf b = QG_BUF_INIT;
    qg_buf_addlit(&b, "statement=");
    for (int i = 0; i < 200000; i++)
        qg_buf_addc(&b, 'a');
    qg_buf_addlit(&b, "%G1");
    get_bad(b.data, QG_E_PARAM, ESC("statement", "'%G1' at byte 200000"));
    qg_buf_free(&b);
#undef ESC
}

static void
test_nul_and_invalid_utf8(void **state)
{
    get_bad("statement=a%00b", QG_E_PARAM, "ASX0047: Invalid value for parameter 'statement': a?b");
    get_bad("statement=%FFabc", QG_E_PARAM,
            "ASX0047: Invalid value for parameter 'statement': ?abc");
    /* Overlong, surrogate, truncated: one '?' per bad byte. */
    get_bad("statement=x%C0%80y", QG_E_PARAM,
            "ASX0047: Invalid value for parameter 'statement': x??y");
    get_bad("statement=%ED%A0%80", QG_E_PARAM,
            "ASX0047: Invalid value for parameter 'statement': ???");
    get_bad("statement=%C3%A9%E2%82", QG_E_PARAM,
            "ASX0047: Invalid value for parameter 'statement': \xC3\xA9??");
    get_bad("statement=x&client_context_id=%00", QG_E_PARAM,
            "ASX0047: Invalid value for parameter 'client_context_id': ?");
    get_bad("statement=x&client_context_id=x%FF", QG_E_PARAM,
            "ASX0047: Invalid value for parameter 'client_context_id': x?");
    get_bad("statement=x&mode=async%00", QG_E_PARAM,
            "ASX0047: Invalid value for parameter 'mode': async?");
    get_bad("statement=x&timeout=1s%FF", QG_E_PARAM,
            "ASX0047: Invalid value for parameter 'timeout': 1s?");
    /* Raw bytes in a form body are checked the same way. */
    req r = {.ct = FORM, .body = "statement=\xC3\x28"};
    bad(&r, QG_E_PARAM, "ASX0047: Invalid value for parameter 'statement': ?(");
    /* A JSON \u0000 decodes to a NUL: not allowed in a statement. */
    json_bad("{\"statement\":\"a\\u0000b\"}", QG_E_PARAM,
             "ASX0047: Invalid value for parameter 'statement': a?b");
    json_bad("{\"statement\":\"s\",\"client_context_id\":\"\\u0000\"}", QG_E_PARAM,
             "ASX0047: Invalid value for parameter 'client_context_id': ?");
    /* A long bad statement gives a message that is cut but valid UTF-8. */
    qg_buf b = QG_BUF_INIT;
    qg_buf_addlit(&b, "statement=");
    for (int i = 0; i < 3000; i++)
        qg_buf_addlit(&b, "%C3%A9");
    qg_buf_addlit(&b, "%FF");
    req r2 = {.get = true, .query = b.data};
    qg_query q;
    qg_error e;
    assert_int_equal(run(&r2, &q, &e), -1);
    qg_query_free(&q);
    assert_int_equal(e.code, QG_E_PARAM);
    size_t n = strlen(e.msg);
    assert_true(n < QG_ERRMSG_MAX);
    const char *prefix = "ASX0047: Invalid value for parameter 'statement': \xC3\xA9";
    assert_memory_equal(e.msg, prefix, strlen(prefix));
    /* cut at 200 bytes on a character's boundary, its length said, the hint kept */
    assert_non_null(strstr(e.msg, "\xC3\xA9... (6001 bytes). Expected UTF-8 text without NUL"));
    qg_buf_free(&b);
}

/* Well-formed UTF-8, checked independently of the code under test. */
static bool
utf8_ok(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        int n = *u < 0x80             ? 1
                : (*u & 0xE0) == 0xC0 ? 2
                : (*u & 0xF0) == 0xE0 ? 3
                : (*u & 0xF8) == 0xF0 ? 4
                                      : 0;
        if (n == 0)
            return false;
        for (int i = 1; i < n; i++)
            if ((u[i] & 0xC0) != 0x80)
                return false;
        u += n;
    }
    return true;
}

static void
test_long_messages_stay_utf8(void **state)
{
    /* Shift a run of 2-, 3- and 4-byte characters so that the message's
     * cut falls at every offset inside a sequence. */
    const char *chars[] = {"%C3%A9", "%E2%82%AC", "%F0%9F%98%80"};
    for (size_t c = 0; c < 3; c++) {
        for (int pad = 0; pad < 4; pad++) {
            qg_buf b = QG_BUF_INIT;
            qg_buf_addlit(&b, "statement=");
            for (int i = 0; i < pad; i++)
                qg_buf_addc(&b, 'p');
            for (int i = 0; i < 600; i++)
                qg_buf_adds(&b, chars[c]);
            qg_buf_addlit(&b, "%00");
            req r = {.get = true, .query = b.data};
            qg_query q;
            qg_error e;
            assert_int_equal(run(&r, &q, &e), -1);
            qg_query_free(&q);
            assert_int_equal(e.code, QG_E_PARAM);
            /* the value is shown cut (on a character's boundary) with its
             * length, so that the hint after it fits */
            assert_non_null(strstr(e.msg, " bytes). Expected UTF-8 text"));
            assert_true(utf8_ok(e.msg));
            qg_buf_free(&b);
        }
    }
}

/* ---- values ---- */

static void
test_case_insensitive_values(void **state)
{
    qg_query q;
    get_ok("statement=x&mode=ASYNC&pretty=True&signature=FALSE&multi-statement=fAlSe"
           "&format=CSV&profile=Counts&plan-format=STRING&job=TRUE&logical-plan=False",
           &q);
    assert_int_equal(q.mode, QG_MODE_ASYNC);
    assert_true(q.pretty);
    assert_false(q.signature);
    assert_false(q.multi_statement);
    assert_int_equal(q.format, QG_FORMAT_CSV);
    qg_query_free(&q);
    get_ok("statement=x&mode=Deferred", &q);
    assert_int_equal(q.mode, QG_MODE_DEFERRED);
    qg_query_free(&q);
    get_ok("statement=x&mode=immediate", &q);
    assert_int_equal(q.mode, QG_MODE_IMMEDIATE);
    qg_query_free(&q);
    /* Names are case-sensitive: these are unknown and ignored. */
    get_ok("statement=x&MODE=bogus&Pretty=bogus", &q);
    qg_query_free(&q);
    get_bad("Statement=x", QG_E_NO_STATEMENT, "ASX0040: No statement provided");
}

static void
test_invalid_values(void **state)
{
    static const struct {
        const char *qs;
        const char *name;
        const char *shown;
    } cases[] = {
        {"mode=sideways", "mode", "sideways"},
        {"mode=", "mode", ""},
        {"mode=+async", "mode", " async"},
        {"readonly=yes", "readonly", "yes"},
        {"readonly=1", "readonly", "1"},
        {"pretty=", "pretty", ""},
        {"pretty=truee", "pretty", "truee"},
        {"signature=0", "signature", "0"},
        {"multi-statement=no", "multi-statement", "no"},
        {"logical-plan=on", "logical-plan", "on"},
        {"optimized-logical-plan=x", "optimized-logical-plan", "x"},
        {"expression-tree=x", "expression-tree", "x"},
        {"rewritten-expression-tree=x", "rewritten-expression-tree", "x"},
        {"job=x", "job", "x"},
        {"plan-format=xml", "plan-format", "xml"},
        {"max-warnings=-1", "max-warnings", "-1"},
        {"max-warnings=1.5", "max-warnings", "1.5"},
        {"max-warnings=abc", "max-warnings", "abc"},
        {"max-warnings=", "max-warnings", ""},
        {"max-warnings=99999999999999999999", "max-warnings", "99999999999999999999"},
        {"profile=maybe", "profile", "maybe"},
        {"timeout=10", "timeout", "10"},
        {"timeout=10x", "timeout", "10x"},
        {"timeout=-1s", "timeout", "-1s"},
        {"timeout=", "timeout", ""},
        {"timeout=1+s", "timeout", "1 s"},
        {"timeout=10S", "timeout", "10S"},
        {"result-ttl=abc", "result-ttl", "abc"},
        {"result-ttl=1d", "result-ttl", "1d"},
        {"max-result-reads=0", "max-result-reads", "0"},
        {"max-result-reads=-1", "max-result-reads", "-1"},
        {"max-result-reads=%2B1", "max-result-reads", "+1"},
        {"max-result-reads=1.5", "max-result-reads", "1.5"},
        {"max-result-reads=1e3", "max-result-reads", "1e3"},
        {"max-result-reads=", "max-result-reads", ""},
        {"max-result-reads=+1", "max-result-reads", " 1"},
        {"max-result-reads=4294967296", "max-result-reads", "4294967296"},
        {"max-result-reads=99999999999999999999999", "max-result-reads", "99999999999999999999999"},
        {"format=xml", "format", "xml"},
        {"format=", "format", ""},
        {"format=text/csv;+header=maybe", "format", "text/csv; header=maybe"},
        {"format=csv;header=present", "format", "csv;header=present"},
        {"format=text/csv;header=present;x=y", "format", "text/csv;header=present;x=y"},
        {"format=application/json;charset=utf-8", "format", "application/json;charset=utf-8"},
        {"format=text/csv;header+=+present", "format", "text/csv;header = present"},
        {"format=+csv", "format", " csv"},
        {"args=5", "args", "5"},
        {"args={\"a\":1}", "args", "{\"a\":1}"},
        {"args=\"[1]\"", "args", "\"[1]\""},
        {"args=null", "args", "null"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char qs[256], msg[512];
        snprintf(qs, sizeof(qs), "statement=x&%s", cases[i].qs);
        snprintf(msg, sizeof(msg), "ASX0047: Invalid value for parameter '%s': %s", cases[i].name,
                 cases[i].shown);
        get_bad(qs, QG_E_PARAM, msg);
    }
}

static void
test_valid_values(void **state)
{
    qg_query q;
    get_ok("statement=x&timeout=0&result-ttl=2h45m&max-result-reads=4294967295"
           "&max-warnings=0&plan-format=json&profile=timings",
           &q);
    assert_int_equal(q.timeout_ns, 0);
    assert_int_equal(q.result_ttl_ns, (2 * 3600 + 45 * 60) * 1000000000ull);
    assert_int_equal(q.max_result_reads, 4294967295u);
    qg_query_free(&q);
    get_ok("statement=x&timeout=1.5s&result-ttl=300ms&max-result-reads=007", &q);
    assert_int_equal(q.timeout_ns, 1500000000ull);
    assert_int_equal(q.result_ttl_ns, 300000000ull);
    assert_int_equal(q.max_result_reads, 7);
    qg_query_free(&q);
    get_ok("statement=x&timeout=1h0m0.5s&result-ttl=10%C2%B5s", &q);
    assert_int_equal(q.timeout_ns, 3600500000000ull);
    assert_int_equal(q.result_ttl_ns, 10000);
    qg_query_free(&q);
    get_ok("statement=x&timeout=.5us&result-ttl=1.ns", &q);
    assert_int_equal(q.timeout_ns, 500);
    assert_int_equal(q.result_ttl_ns, 1);
    qg_query_free(&q);
    const char *profiles[] = {"true", "false", "counts", "timings", "off"};
    for (size_t i = 0; i < 5; i++) {
        char qs[64];
        snprintf(qs, sizeof(qs), "statement=x&profile=%s", profiles[i]);
        get_ok(qs, &q);
        qg_query_free(&q);
    }
    /* Validated only: they change nothing. */
    get_ok("statement=x&logical-plan=true&optimized-logical-plan=true&expression-tree=true"
           "&rewritten-expression-tree=true&job=true&max-warnings=9223372036854775807"
           "&plan-format=string",
           &q);
    qg_query_free(&q);
}

static void
test_client_context_id(void **state)
{
    qg_query q;
    get_ok("statement=x&client_context_id=", &q);
    assert_null(q.client_context_id);
    qg_query_free(&q);
    get_ok("statement=x&client_context_id=%E2%82%AC+id", &q);
    assert_string_equal(q.client_context_id, "\xE2\x82\xAC id");
    qg_query_free(&q);
    json_ok("{\"statement\":\"x\",\"client_context_id\":\"\"}", &q);
    assert_null(q.client_context_id);
    qg_query_free(&q);
    json_ok("{\"statement\":\"x\",\"client_context_id\":17}", &q);
    assert_string_equal(q.client_context_id, "17");
    qg_query_free(&q);
}

static void
test_no_statement(void **state)
{
    const char *msg = "ASX0040: No statement provided";
    get_bad(NULL, QG_E_NO_STATEMENT, msg);
    get_bad("", QG_E_NO_STATEMENT, msg);
    get_bad("mode=async", QG_E_NO_STATEMENT, msg);
    get_bad("statement=", QG_E_NO_STATEMENT, msg);
    get_bad("statement", QG_E_NO_STATEMENT, msg);
    get_bad("statement=+%09%0A%0D++", QG_E_NO_STATEMENT, msg);
    post_form_bad("", QG_E_NO_STATEMENT, msg);
    json_bad("{}", QG_E_NO_STATEMENT, msg);
    json_bad("{\"statement\":null}", QG_E_NO_STATEMENT, msg);
    json_bad("{\"statement\":\"\"}", QG_E_NO_STATEMENT, msg);
    json_bad("{\"statement\":\" \\n\\t \"}", QG_E_NO_STATEMENT, msg);
    json_bad("{\"statement\":\"x\",\"statement\":null}", QG_E_NO_STATEMENT, msg);
    /* Statement presence is checked before anything else. */
    get_bad("mode=sideways&readonly=maybe", QG_E_NO_STATEMENT, msg);
    /* POST without a Content-Type and without a query string. */
    req r = {.body = "statement=x"};
    bad(&r, QG_E_NO_STATEMENT, msg);
}

static void
test_statement_limits(void **state)
{
    qg_query q;
    req r = {.get = true, .query = "statement=12345", .max_statement = 5};
    ok(&r, &q);
    assert_string_equal(q.statement, "12345");
    qg_query_free(&q);
    req r2 = {.get = true, .query = "statement=123456", .max_statement = 5};
    bad(&r2, QG_E_PARAM, "ASX0047: Invalid value for parameter 'statement': <6 bytes>");
    /* Counted after decoding. */
    req r3 = {.get = true, .query = "statement=%41%41%41%41%41", .max_statement = 5};
    ok(&r3, &q);
    qg_query_free(&q);
    /* The size is reported before the bytes are judged. */
    req r4 = {.get = true, .query = "statement=%FF%FF%FF%FF%FF%FF", .max_statement = 5};
    bad(&r4, QG_E_PARAM, "ASX0047: Invalid value for parameter 'statement': <6 bytes>");
    /* Leading whitespace is kept. */
    get_ok("statement=+SELECT+1+", &q);
    assert_string_equal(q.statement, " SELECT 1 ");
    qg_query_free(&q);
}

static void
test_validation_order(void **state)
{
    get_bad("statement=x&profile=bad&mode=bad", QG_E_PARAM,
            "ASX0047: Invalid value for parameter 'mode': bad");
    get_bad("statement=x&readonly=bad&client_context_id=%00", QG_E_PARAM,
            "ASX0047: Invalid value for parameter 'client_context_id': ?");
    get_bad("statement=x&args=bad&pretty=bad", QG_E_PARAM,
            "ASX0047: Invalid value for parameter 'pretty': bad");
    get_bad("statement=x&timeout=bad&$a=bad&args=bad", QG_E_BAD_JSON,
            "ASX0048: Unable to process JSON content in request: parameter 'args' is not "
            "valid JSON (unexpected character)");
    get_bad("statement=x&timeout=bad&$a=bad", QG_E_BAD_JSON,
            "ASX0048: Unable to process JSON content in request: parameter '$a' is not "
            "valid JSON (unexpected character)");
    get_bad("statement=x&format=bad&max-result-reads=0&timeout=bad", QG_E_PARAM,
            "ASX0047: Invalid value for parameter 'timeout': bad");
    get_bad("statement=x&format=bad&result-ttl=bad&max-result-reads=0", QG_E_PARAM,
            "ASX0047: Invalid value for parameter 'max-result-reads': 0");
    get_bad("statement=x&format=bad&multi-statement=bad&signature=bad", QG_E_PARAM,
            "ASX0047: Invalid value for parameter 'signature': bad");
    get_bad("statement=x&profile=bad&plan-format=bad&format=bad", QG_E_PARAM,
            "ASX0047: Invalid value for parameter 'format': bad");
    get_bad("statement=x&profile=bad&max-warnings=bad&job=bad", QG_E_PARAM,
            "ASX0047: Invalid value for parameter 'job': bad");
    get_bad("statement=x&plan-format=bad&heartbeat=bad&stats=bad&format=bad", QG_E_PARAM,
            "ASX0047: Invalid value for parameter 'format': bad");
    get_bad("statement=x&plan-format=bad&heartbeat=bad&stats=bad", QG_E_PARAM,
            "ASX0047: Invalid value for parameter 'stats': bad");
    get_bad("statement=x&plan-format=bad&heartbeat=bad", QG_E_PARAM,
            "ASX0047: Invalid value for parameter 'heartbeat': bad");
    /* A bad escape is a malformed request: it comes before validation. */
    get_bad("mode=bad&x=%", QG_E_PARAM,
            "ASX0047: Invalid value for parameter 'x': malformed %-escape '%' at byte 0");
}

/* ---- JSON bodies that are not one object ---- */

static void
test_bad_json_body(void **state)
{
    const char *msg = "ASX0048: Unable to process JSON content in request";
    const char *bodies[] = {"{",
                            "[1]",
                            "\"statement\"",
                            "null",
                            "42",
                            "{} x",
                            "{\"statement\":\"x\",}",
                            "{'statement':'x'}",
                            "{\"statement\":\"\xFF\"}",
                            "statement=x",
                            " ",
                            "{}{}"};
    /* The reason follows AsterixDB's text. */
    json_bad("[1]", QG_E_BAD_JSON,
             "ASX0048: Unable to process JSON content in request: the body must be a JSON "
             "object with one member per parameter, e.g. {\"statement\": \"SELECT 1\"}");
    json_bad("{", QG_E_BAD_JSON,
             "ASX0048: Unable to process JSON content in request: the body is not valid JSON "
             "(unexpected end of input in object)");
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
        bad_prefix(&(req){.ct = JSON, .body = bodies[i]}, QG_E_BAD_JSON, msg);
    /* Empty and absent bodies. */
    req r = {.ct = JSON, .body = NULL, .query = "statement=x"};
    bad_prefix(&r, QG_E_BAD_JSON, msg);
    req r2 = {.ct = JSON, .body = "", .query = "statement=x"};
    bad_prefix(&r2, QG_E_BAD_JSON, msg);
    /* An embedded NUL after the object. */
    req r3 = {.ct = JSON, .body = "{\"statement\":\"x\"}\0", .body_len = 18};
    bad_prefix(&r3, QG_E_BAD_JSON, msg);
    /* Nesting limit (64) inside the body. */
    qg_buf b = QG_BUF_INIT;
    qg_buf_addlit(&b, "{\"statement\":\"x\",\"u\":");
    for (int i = 0; i < 64; i++)
        qg_buf_addc(&b, '[');
    for (int i = 0; i < 64; i++)
        qg_buf_addc(&b, ']');
    qg_buf_addc(&b, '}');
    bad_prefix(&(req){.ct = JSON, .body = b.data}, QG_E_BAD_JSON, msg);
    /* One less is fine. */
    qg_buf_reset(&b);
    qg_buf_addlit(&b, "{\"statement\":\"x\",\"u\":");
    for (int i = 0; i < 63; i++)
        qg_buf_addc(&b, '[');
    for (int i = 0; i < 63; i++)
        qg_buf_addc(&b, ']');
    qg_buf_addc(&b, '}');
    qg_query q;
    json_ok(b.data, &q);
    qg_query_free(&q);
    qg_buf_free(&b);
}

static void
test_depth_bomb(void **state)
{
    size_t n = 100000;
    qg_buf b = QG_BUF_INIT;
    /* In a JSON body: the whole body is bad JSON. */
    qg_buf_addlit(&b, "{\"statement\":\"x\",\"args\":");
    for (size_t i = 0; i < n; i++)
        qg_buf_addc(&b, '[');
    json_bad(b.data, QG_E_BAD_JSON, NULL);
    for (size_t i = 0; i < n; i++)
        qg_buf_addc(&b, ']');
    qg_buf_addc(&b, '}');
    json_bad(b.data, QG_E_BAD_JSON, NULL);
    /* The body itself as the bomb. */
    qg_buf_reset(&b);
    for (size_t i = 0; i < n; i++)
        qg_buf_addlit(&b, "{\"a\":");
    json_bad(b.data, QG_E_BAD_JSON, NULL);

    /* In a form: args and $name are JSON text, and bad. */
    qg_buf_reset(&b);
    qg_buf_addlit(&b, "statement=x&args=");
    for (size_t i = 0; i < n; i++)
        qg_buf_addc(&b, '[');
    for (size_t i = 0; i < n; i++)
        qg_buf_addc(&b, ']');
    req r = {.ct = FORM, .body = b.data};
    bad(&r, QG_E_BAD_JSON,
        "ASX0048: Unable to process JSON content in request: parameter 'args' is not valid "
        "JSON (nesting too deep)");
    qg_query q;
    qg_error e;

    qg_buf_reset(&b);
    qg_buf_addlit(&b, "statement=x&$deep=");
    for (size_t i = 0; i < n; i++)
        qg_buf_addlit(&b, "%5B");
    req r2 = {.get = true, .query = b.data};
    assert_int_equal(run(&r2, &q, &e), -1);
    qg_query_free(&q);
    assert_int_equal(e.code, QG_E_BAD_JSON);
    assert_string_equal(e.msg, "ASX0048: Unable to process JSON content in request: parameter "
                               "'$deep' is not valid JSON (nesting too deep). A $name value is "
                               "JSON: a string goes in double quotes, e.g. $deep=\"GB\"; "
                               "numbers, true, false and null as they are");
    qg_buf_free(&b);
}

/* ---- args and $name ---- */

/* A value that must be JSON and is not JSON at all is AsterixDB's ASX0048
 * (its own test suite sends args=[12,,1]); JSON of the wrong kind stays
 * ASX0047. Both in a form and in a query string. */
static void
test_invalid_json_values(void **state)
{
    static const struct {
        const char *qs, *name, *why;
    } cases[] = {
        {"args=%5B12,,1%5D", "args", "unexpected character"},
        {"$x=%7B%22a%22:%7D", "$x", "unexpected character"},
        {"args=[1", "args", "unexpected end of input in array"},
        {"args=", "args", "unexpected end of input"},
        {"$c=GB", "$c", "unexpected character"},
        {"$s='x'", "$s", "unexpected character"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char qs[256], msg[512];
        snprintf(qs, sizeof(qs), "statement=x&%s", cases[i].qs);
        snprintf(msg, sizeof(msg),
                 "ASX0048: Unable to process JSON content in request: parameter '%s' is not "
                 "valid JSON (%s)",
                 cases[i].name, cases[i].why);
        get_bad(qs, QG_E_BAD_JSON, msg);
        req r = {.ct = FORM, .body = qs};
        bad(&r, QG_E_BAD_JSON, msg);
    }
    /* Valid JSON of the wrong kind. */
    get_bad("statement=x&args=%7B%22a%22:1%7D", QG_E_PARAM,
            "ASX0047: Invalid value for parameter 'args': {\"a\":1}");
    get_bad("statement=x&args=7", QG_E_PARAM, "ASX0047: Invalid value for parameter 'args': 7");
    /* In a JSON body the value is already JSON: a body that does not
     * parse is the body's ASX0048. */
    json_bad("{\"statement\":\"x\",\"args\":[12,,1]}", QG_E_BAD_JSON,
             "ASX0048: Unable to process JSON content in request: the body is not valid JSON "
             "(unexpected character)");
}

static void
check_args_mapping(const qg_query *q)
{
    assert_int_equal(q->nargs, 15);
    const qg_value *a = q->args;
    for (size_t i = 0; i < q->nargs; i++) {
        assert_non_null(a[i].text);
        assert_int_equal(a[i].text[a[i].len], '\0');
    }
    assert_int_equal(a[0].type, QG_VAL_NULL);
    assert_string_equal(a[0].text, "null");
    assert_int_equal(a[1].type, QG_VAL_BOOL);
    assert_int_equal(a[1].i, 1);
    assert_string_equal(a[1].text, "true");
    assert_int_equal(a[2].type, QG_VAL_BOOL);
    assert_int_equal(a[2].i, 0);
    assert_string_equal(a[2].text, "false");
    assert_int_equal(a[3].type, QG_VAL_INT);
    assert_int_equal(a[3].i, 42);
    assert_string_equal(a[3].text, "42");
    assert_int_equal(a[4].type, QG_VAL_INT);
    assert_int_equal(a[4].i, -7);
    /* Beyond a double's 53 bits, and still exact. */
    assert_int_equal(a[5].type, QG_VAL_INT);
    assert_true(a[5].i == 9007199254740993LL);
    assert_string_equal(a[5].text, "9007199254740993");
    assert_int_equal(a[6].type, QG_VAL_REAL);
    assert_true(a[6].d == 1.5);
    assert_string_equal(a[6].text, "1.5");
    assert_int_equal(a[7].type, QG_VAL_REAL);
    assert_true(a[7].d > 1e308); /* overflows to infinity */
    assert_string_equal(a[7].text, "1e400");
    assert_int_equal(a[8].type, QG_VAL_TEXT);
    assert_int_equal(a[8].len, 3);
    assert_memory_equal(a[8].text, "x\0y", 4);
    /* Nested JSON kept as its source. */
    assert_int_equal(a[9].type, QG_VAL_JSON);
    assert_string_equal(a[9].text, "[1, {\"a\": [2.50]}]");
    assert_int_equal(a[10].type, QG_VAL_JSON);
    assert_string_equal(a[10].text, "{\"b\":\"\\u00e9\"}");
    assert_int_equal(a[11].type, QG_VAL_INT);
    assert_true(a[11].i == INT64_MIN);
    assert_string_equal(a[11].text, "-9223372036854775808");
    assert_int_equal(a[12].type, QG_VAL_REAL);
    assert_true(a[12].d == 9223372036854775808.0);
    assert_string_equal(a[12].text, "9223372036854775808");
    assert_int_equal(a[13].type, QG_VAL_REAL);
    assert_string_equal(a[13].text, "1E2");
    assert_true(a[13].d == 100.0);
    assert_int_equal(a[14].type, QG_VAL_INT);
    assert_int_equal(a[14].i, 0);
    assert_string_equal(a[14].text, "-0");
}

#define ARGS_JSON                                                                                  \
    "[null, true, false, 42, -7, 9007199254740993, 1.5, 1e400, \"x\\u0000y\","                     \
    " [1, {\"a\": [2.50]}], {\"b\":\"\\u00e9\"}, -9223372036854775808, 9223372036854775808,"       \
    " 1E2, -0]"

static void
test_args_mapping(void **state)
{
    qg_query q;
    json_ok("{\"statement\":\"x\",\"args\":" ARGS_JSON "}", &q);
    check_args_mapping(&q);
    qg_query_free(&q);

    /* The same array as form text (encoded in the body). */
    qg_buf b = QG_BUF_INIT;
    qg_buf_addlit(&b, "statement=x&args=");
    const char *j = ARGS_JSON;
    for (const char *p = j; *p; p++) {
        if (*p == ' ')
            qg_buf_addc(&b, '+');
        else if (*p == '&' || *p == '+' || *p == '%' || *p == '=')
            qg_buf_printf(&b, "%%%02X", (unsigned char)*p);
        else
            qg_buf_addc(&b, *p);
    }
    req r = {.ct = FORM, .body = b.data};
    ok(&r, &q);
    check_args_mapping(&q);
    qg_query_free(&q);
    qg_buf_free(&b);

    /* An empty array is no args. */
    get_ok("statement=x&args=[]", &q);
    assert_int_equal(q.nargs, 0);
    qg_query_free(&q);
    get_ok("statement=x&args=+[+1+]+", &q);
    assert_int_equal(q.nargs, 1);
    qg_query_free(&q);

    /* JSON body: the member must be an array; shown as its source. */
    json_bad("{\"statement\":\"x\",\"args\":{\"a\":1}}", QG_E_PARAM,
             "ASX0047: Invalid value for parameter 'args': {\"a\":1}");
    json_bad("{\"statement\":\"x\",\"args\":\"[1]\"}", QG_E_PARAM,
             "ASX0047: Invalid value for parameter 'args': \"[1]\"");
    json_bad("{\"statement\":\"x\",\"args\":null}", QG_E_PARAM,
             "ASX0047: Invalid value for parameter 'args': null");
    json_bad("{\"statement\":\"x\",\"args\":7}", QG_E_PARAM,
             "ASX0047: Invalid value for parameter 'args': 7");
    /* Last args wins in JSON, first in a form. */
    json_ok("{\"statement\":\"x\",\"args\":5,\"args\":[5]}", &q);
    assert_int_equal(q.nargs, 1);
    qg_query_free(&q);
    get_ok("statement=x&args=[1,2]&args=bad", &q);
    assert_int_equal(q.nargs, 2);
    qg_query_free(&q);
}

static void
test_named_params(void **state)
{
    qg_query q;
    /* Form: the value is JSON text; first wins; order of first appearance. */
    req r = {.ct = FORM,
             .body = "statement=x&$x=1&$y=%22s%22&$x=2&$=ignored",
             .query = "$z=[1,2]&$y=3&$x=4"};
    ok(&r, &q);
    assert_int_equal(q.nnamed, 3);
    assert_string_equal(q.named[0].name, "x");
    assert_int_equal(q.named[0].val.type, QG_VAL_INT);
    assert_int_equal(q.named[0].val.i, 1);
    assert_string_equal(q.named[1].name, "y");
    assert_int_equal(q.named[1].val.type, QG_VAL_TEXT);
    assert_string_equal(q.named[1].val.text, "s");
    assert_string_equal(q.named[2].name, "z");
    assert_int_equal(q.named[2].val.type, QG_VAL_JSON);
    assert_string_equal(q.named[2].val.text, "[1,2]");
    qg_query_free(&q);

    /* JSON: the member's value; last wins; any JSON, null included. */
    json_ok("{\"$b\":1,\"statement\":\"x\",\"$a\":{\"k\":[true]},\"$b\":\"two\",\"$c\":null,"
            "\"$\":1,\"$b\":2.5}",
            &q);
    assert_int_equal(q.nnamed, 3);
    assert_string_equal(q.named[0].name, "b");
    assert_int_equal(q.named[0].val.type, QG_VAL_REAL);
    assert_string_equal(q.named[0].val.text, "2.5");
    assert_string_equal(q.named[1].name, "a");
    assert_int_equal(q.named[1].val.type, QG_VAL_JSON);
    assert_string_equal(q.named[1].val.text, "{\"k\":[true]}");
    assert_string_equal(q.named[2].name, "c");
    assert_int_equal(q.named[2].val.type, QG_VAL_NULL);
    qg_query_free(&q);

    /* Form text that is not JSON. */
    /* Not JSON: ASX0048 (test_invalid_json_values has more). */
    get_bad("statement=x&$n=abc", QG_E_BAD_JSON,
            "ASX0048: Unable to process JSON content in request: parameter '$n' is not valid "
            "JSON (unexpected character)");
    /* Shadowed duplicates are not parsed. */
    get_ok("statement=x&$n=1&$n=bad", &q);
    assert_int_equal(q.nnamed, 1);
    qg_query_free(&q);
    /* Names are case-sensitive. */
    get_ok("statement=x&$N=1&$n=2", &q);
    assert_int_equal(q.nnamed, 2);
    assert_string_equal(q.named[0].name, "N");
    assert_string_equal(q.named[1].name, "n");
    qg_query_free(&q);
    /* A name that cannot be bound: NUL or invalid UTF-8. */
    get_bad("statement=x&$a%00b=1", QG_E_PARAM, "ASX0047: Invalid value for parameter '$a?b': 1");
    get_bad("statement=x&$%FF=1", QG_E_PARAM, "ASX0047: Invalid value for parameter '$?': 1");
    json_bad("{\"statement\":\"x\",\"$a\\u0000\":[1]}", QG_E_PARAM,
             "ASX0047: Invalid value for parameter '$a?': [1]");
    /* Many distinct names. */
    qg_buf b = QG_BUF_INIT;
    qg_buf_addlit(&b, "statement=x");
    for (int i = 999; i >= 0; i--)
        qg_buf_printf(&b, "&$p%d=%d&$p%d=0", i, i, i);
    get_ok(b.data, &q);
    assert_int_equal(q.nnamed, 1000);
    for (int i = 0; i < 1000; i++) {
        char name[16];
        snprintf(name, sizeof(name), "p%d", 999 - i);
        assert_string_equal(q.named[i].name, name);
        assert_int_equal(q.named[i].val.i, 999 - i);
    }
    qg_query_free(&q);
    qg_buf_free(&b);
}

static void
test_max_params(void **state)
{
    qg_query q;
    /* A huge args array against max_params, in a JSON body and a form. */
    qg_buf b = QG_BUF_INIT;
    qg_buf_addlit(&b, "{\"statement\":\"x\",\"args\":[0");
    for (int i = 1; i < 5000; i++)
        qg_buf_printf(&b, ",%d", i);
    qg_buf_addlit(&b, "]}");
    req r = {.ct = JSON, .body = b.data, .max_params = 1000};
    bad(&r, QG_E_PARAM, "ASX0047: Invalid value for parameter 'args': <5000 parameters>");
    r.max_params = 5000;
    ok(&r, &q);
    assert_int_equal(q.nargs, 5000);
    assert_int_equal(q.args[4999].i, 4999);
    qg_query_free(&q);
    r.max_params = 0; /* no limit */
    ok(&r, &q);
    qg_query_free(&q);

    qg_buf_reset(&b);
    qg_buf_addlit(&b, "statement=x&args=[0");
    for (int i = 1; i < 5000; i++)
        qg_buf_printf(&b, ",%d", i);
    qg_buf_addlit(&b, "]");
    req r2 = {.ct = FORM, .body = b.data, .max_params = 4999};
    bad(&r2, QG_E_PARAM, "ASX0047: Invalid value for parameter 'args': <5000 parameters>");

    /* args and $name count together. */
    req r3 = {.get = true, .query = "statement=x&args=[1,2]&$a=1&$b=2&$a=3", .max_params = 3};
    bad(&r3, QG_E_PARAM, "ASX0047: Invalid value for parameter 'args': <4 parameters>");
    r3.max_params = 4;
    ok(&r3, &q);
    assert_int_equal(q.nargs, 2);
    assert_int_equal(q.nnamed, 2);
    qg_query_free(&q);

    /* Beyond what a JSON body may hold at all: bad JSON. */
    qg_buf_reset(&b);
    qg_buf_addlit(&b, "{\"statement\":\"x\",\"args\":[0");
    for (int i = 1; i < 120000; i++)
        qg_buf_addlit(&b, ",0");
    qg_buf_addlit(&b, "]}");
    req r4 = {.ct = JSON, .body = b.data, .max_params = 1000};
    bad(&r4, QG_E_BAD_JSON, NULL);
    /* A large max_params raises that bound. */
    r4.max_params = 200000;
    ok(&r4, &q);
    assert_int_equal(q.nargs, 120000);
    qg_query_free(&q);

    /* A form with more $name occurrences than any body could carry. */
    qg_buf_reset(&b);
    qg_buf_addlit(&b, "statement=x");
    for (int i = 0; i < 100011; i++)
        qg_buf_addlit(&b, "&$a=1");
    req r5 = {.ct = FORM, .body = b.data, .max_params = 10};
    bad(&r5, QG_E_PARAM,
        "ASX0047: Invalid value for parameter 'args': <more than 100010 parameters>");
    qg_buf_free(&b);
}

/* ---- format and Accept ---- */

static void
fmt_case(const char *qs, const char *accept, qg_format fmt, bool header)
{
    qg_query q;
    req r = {.get = true, .query = qs, .accept = accept};
    ok(&r, &q);
    if (q.format != fmt || q.csv_header != header)
        fail_msg("%s / Accept %s: format %d header %d", qs, accept ? accept : "-", q.format,
                 q.csv_header);
    qg_query_free(&q);
}

static void
test_format_and_accept(void **state)
{
    const qg_format J = QG_FORMAT_JSON, C = QG_FORMAT_CSV;
    /* format alone. */
    fmt_case("statement=x", NULL, J, false);
    fmt_case("statement=x&format=json", NULL, J, false);
    fmt_case("statement=x&format=application/json", NULL, J, false);
    fmt_case("statement=x&format=APPLICATION/JSON", NULL, J, false);
    fmt_case("statement=x&format=csv", NULL, C, false);
    fmt_case("statement=x&format=text/csv", NULL, C, false);
    fmt_case("statement=x&format=text/csv;header=present", NULL, C, true);
    fmt_case("statement=x&format=text/csv%3B+header=present", NULL, C, true);
    fmt_case("statement=x&format=text/csv+;+header=present", NULL, C, true);
    fmt_case("statement=x&format=TEXT/CSV;HEADER=PRESENT", NULL, C, true);
    fmt_case("statement=x&format=text/csv;header=absent", NULL, C, false);
    /* Accept alone. */
    fmt_case("statement=x", "text/csv", C, false);
    fmt_case("statement=x", "TEXT/CSV", C, false);
    fmt_case("statement=x", "text/csv; header=present", C, true);
    fmt_case("statement=x", "text/csv;header=\"present\"", C, true);
    fmt_case("statement=x", "text/csv; charset=utf-8; Header=Present", C, true);
    fmt_case("statement=x", "text/csv; header=absent", C, false);
    fmt_case("statement=x", "application/json, text/csv;q=0.5;header=present", C, true);
    fmt_case("statement=x", " application/json ,  text/csv ", C, false);
    fmt_case("statement=x", "application/json", J, false);
    fmt_case("statement=x", "*/*", J, false);
    fmt_case("statement=x", "text/*", J, false);
    fmt_case("statement=x", "text/csvx", J, false);
    fmt_case("statement=x", "text/plain; x=text/csv", J, false);
    fmt_case("statement=x", "", J, false);
    fmt_case("statement=x", ";;,,=;", J, false);
    /* The first text/csv range is the one that counts. */
    fmt_case("statement=x", "text/csv, text/csv;header=present", C, false);
    /* format wins over Accept. */
    fmt_case("statement=x&format=json", "text/csv; header=present", J, false);
    fmt_case("statement=x&format=csv", "text/csv; header=present", C, true);
    fmt_case("statement=x&format=csv", "application/json", C, false);
    fmt_case("statement=x&format=text/csv", "text/csv;header=present", C, true);
    fmt_case("statement=x&format=text/csv;header=absent", "text/csv;header=present", C, false);
    fmt_case("statement=x&format=text/csv;header=present", "text/csv;header=absent", C, true);
    /* From a JSON body too. */
    qg_query q;
    req r = {.ct = JSON,
             .body = "{\"statement\":\"x\",\"format\":\"CSV\"}",
             .accept = "text/csv;header=present"};
    ok(&r, &q);
    assert_int_equal(q.format, C);
    assert_true(q.csv_header);
    qg_query_free(&q);
    /* A bad Accept is never an error, a bad format always is. */
    req r2 = {.get = true, .query = "statement=x&format=tsv", .accept = "text/csv"};
    bad(&r2, QG_E_PARAM, "ASX0047: Invalid value for parameter 'format': tsv");
}

/* ---- callbacks, waiting, retry keys ---- */

static void
test_callback_url(void **state)
{
    qg_query q;
    get_ok("statement=x&callback_url=http%3A%2F%2F127.0.0.1%3A8080%2Fhook%3Fa%3D1", &q);
    assert_string_equal(q.callback_url, "http://127.0.0.1:8080/hook?a=1");
    qg_query_free(&q);
    json_ok("{\"statement\":\"x\",\"callback_url\":\"HTTPS://Hooks.Example.com\"}", &q);
    assert_string_equal(q.callback_url, "HTTPS://Hooks.Example.com");
    qg_query_free(&q);
    get_ok("statement=x", &q);
    assert_null(q.callback_url);
    qg_query_free(&q);
    get_bad("statement=x&callback_url=ftp%3A%2F%2Fh%2Fx", QG_E_PARAM,
            "ASX0047: Invalid value for parameter 'callback_url': ftp://h/x");
    get_bad("statement=x&callback_url=http%3A%2F%2Fu%40h%2Fx", QG_E_PARAM, NULL);
    get_bad("statement=x&callback_url=http%3A%2F%2Fh%2Fa+b", QG_E_PARAM, NULL);
    get_bad("statement=x&callback_url=http%3A%2F%2Fh%2Fa%23frag", QG_E_PARAM, NULL);
    get_bad("statement=x&callback_url=http%3A%2F%2Fh%3A0%2F", QG_E_PARAM, NULL);
    get_bad("statement=x&callback_url=http%3A%2F%2F%2Fx", QG_E_PARAM, NULL);
    get_bad("statement=x&callback_url=", QG_E_PARAM, NULL);
    json_bad("{\"statement\":\"x\",\"callback_url\":[\"http://h/\"]}", QG_E_PARAM, NULL);
}

static void
test_wait_and_on_wait_timeout(void **state)
{
    qg_query q;
    req r = {.get = true,
             .query = "statement=x&wait=1.5s&on_wait_timeout=CANCEL",
             .max_wait_ns = 60000000000ull};
    ok(&r, &q);
    assert_true(q.wait_ns == 1500000000ull);
    assert_true(q.wait_cancel);
    qg_query_free(&q);
    get_ok("statement=x&on_wait_timeout=continue", &q);
    assert_true(q.wait_ns == 0 && !q.wait_cancel);
    qg_query_free(&q);
    get_ok("statement=x&wait=0", &q);
    assert_true(q.wait_ns == 0);
    qg_query_free(&q);
    /* over the server's maximum, and bad values */
    req over = {.get = true, .query = "statement=x&wait=61s", .max_wait_ns = 60000000000ull};
    bad(&over, QG_E_PARAM, "ASX0047: Invalid value for parameter 'wait': 61s");
    req at = {.get = true, .query = "statement=x&wait=1m", .max_wait_ns = 60000000000ull};
    ok(&at, &q);
    qg_query_free(&q);
    get_bad("statement=x&wait=5", QG_E_PARAM, "ASX0047: Invalid value for parameter 'wait': 5");
    get_bad("statement=x&wait=-1s", QG_E_PARAM, NULL);
    get_bad("statement=x&on_wait_timeout=stop", QG_E_PARAM,
            "ASX0047: Invalid value for parameter 'on_wait_timeout': stop");
}

static void
test_idempotency_key(void **state)
{
    qg_query q;
    get_ok("statement=x&idempotency_key=req-42", &q);
    assert_string_equal(q.idempotency_key, "req-42");
    qg_query_free(&q);
    /* the header, and the parameter winning over it */
    req h = {.get = true, .query = "statement=x", .idem_header = "a1b2 c3"};
    ok(&h, &q);
    assert_string_equal(q.idempotency_key, "a1b2 c3");
    qg_query_free(&q);
    req both = {.get = true, .query = "statement=x&idempotency_key=p", .idem_header = "h"};
    ok(&both, &q);
    assert_string_equal(q.idempotency_key, "p");
    qg_query_free(&q);
    char longk[300];
    memset(longk, 'k', sizeof(longk));
    snprintf(longk, sizeof(longk), "statement=x&idempotency_key=");
    memset(longk + strlen(longk), 'k', 255);
    longk[28 + 255] = '\0';
    get_ok(longk, &q);
    assert_int_equal(strlen(q.idempotency_key), 255);
    qg_query_free(&q);
    longk[28 + 255] = 'k';
    longk[28 + 256] = '\0';
    get_bad(longk, QG_E_PARAM, NULL);
    get_bad("statement=x&idempotency_key=", QG_E_PARAM, NULL);
    get_bad("statement=x&idempotency_key=+++", QG_E_PARAM, NULL);
    get_bad("statement=x&idempotency_key=a%0Ab", QG_E_PARAM, NULL);
    get_bad("statement=x&idempotency_key=%C3%A9", QG_E_PARAM, NULL);
    req badh = {.get = true, .query = "statement=x", .idem_header = "tab\there"};
    bad(&badh, QG_E_PARAM, "ASX0047: Invalid value for parameter 'Idempotency-Key': tab\there");
}

static void
result_ok(const char *qs, api_result_params *p)
{
    qg_error e;
    if (api_result_params_parse(qs, qs ? strlen(qs) : 0, p, &e) != 0)
        fail_msg("%s: %s", qs, e.msg);
}

static void
result_bad(const char *qs, const char *msg)
{
    api_result_params p;
    qg_error e;
    assert_int_equal(api_result_params_parse(qs, strlen(qs), &p, &e), -1);
    assert_int_equal(e.code, QG_E_PARAM);
    assert_memory_equal(e.msg, msg, strlen(msg));
    assert_true(e.msg[strlen(msg)] == '\0' || e.msg[strlen(msg)] == '.');
}

static void
test_result_params(void **state)
{
    api_result_params p;
    result_ok(NULL, &p);
    assert_false(p.arrays || p.has_offset || p.has_limit);
    result_ok("", &p);
    assert_false(p.arrays || p.has_offset || p.has_limit);
    result_ok("rows=arrays&offset=10&limit=0", &p);
    assert_true(p.arrays && p.has_offset && p.has_limit);
    assert_true(p.offset == 10 && p.limit == 0);
    result_ok("rows=Objects&offset=9223372036854775807", &p);
    assert_false(p.arrays);
    assert_true(p.offset == INT64_MAX && !p.has_limit);
    /* first wins, unknown and differently-cased names ignored */
    result_ok("limit=5&limit=x&Offset=q&other=1&&rows=arrays&rows=bad", &p);
    assert_true(p.limit == 5 && !p.has_offset && p.arrays);
    result_ok("%6Cimit=3", &p);
    assert_true(p.has_limit && p.limit == 3);
    result_bad("rows=tables", "ASX0047: Invalid value for parameter 'rows': tables");
    result_bad("offset=-1", "ASX0047: Invalid value for parameter 'offset': -1");
    result_bad("offset=9223372036854775808",
               "ASX0047: Invalid value for parameter 'offset': 9223372036854775808");
    result_bad("limit=", "ASX0047: Invalid value for parameter 'limit': ");
    result_bad("limit=1.5", "ASX0047: Invalid value for parameter 'limit': 1.5");
    result_bad("limit=%zz",
               "ASX0047: Invalid value for parameter '<query string>': <malformed %-escape>");
}

/* ---- mode=stream ---- */

static void
stream_case(const char *qs, const char *accept, bool stream, bool sse)
{
    qg_query q;
    req r = {.get = true, .query = qs, .accept = accept};
    ok(&r, &q);
    if (q.stream != stream || q.stream_sse != sse || q.mode != QG_MODE_IMMEDIATE)
        fail_msg("%s / Accept %s: stream %d sse %d mode %d", qs, accept ? accept : "-", q.stream,
                 q.stream_sse, q.mode);
    /* a stream's records are JSON, whatever Accept asked */
    assert_int_equal(q.format, QG_FORMAT_JSON);
    qg_query_free(&q);
}

static void
test_stream_mode_and_framing(void **state)
{
    stream_case("statement=x&mode=stream", NULL, true, false);
    stream_case("statement=x&mode=STREAM", NULL, true, false);
    stream_case("statement=x&mode=stream", "application/x-ndjson", true, false);
    stream_case("statement=x&mode=stream", "text/event-stream", true, true);
    stream_case("statement=x&mode=stream", "TEXT/Event-Stream", true, true);
    stream_case("statement=x&mode=stream", "application/x-ndjson, text/event-stream;q=0.5", true,
                true);
    stream_case("statement=x&mode=stream", " text/event-stream ; charset=utf-8", true, true);
    stream_case("statement=x&mode=stream", "text/event-stream;q=0", true, false);
    stream_case("statement=x&mode=stream", "text/event-stream; q=0.000", true, false);
    stream_case("statement=x&mode=stream", "text/event-stream;q=0.001", true, true);
    stream_case("statement=x&mode=stream", "text/event-stream;q=0, text/event-stream", true, true);
    stream_case("statement=x&mode=stream", "text/event-streams", true, false);
    stream_case("statement=x&mode=stream", "text/*", true, false);
    stream_case("statement=x&mode=stream", "*/*", true, false);
    stream_case("statement=x&mode=stream", ";;,,=;", true, false);
    /* Accept: text/csv is advice a stream does not take */
    stream_case("statement=x&mode=stream", "text/csv; header=present", true, false);
    stream_case("statement=x&mode=stream&format=json", "text/csv", true, false);
    /* only a stream has SSE framing */
    stream_case("statement=x", "text/event-stream", false, false);
    stream_case("statement=x&mode=immediate", "text/event-stream", false, false);

    /* an explicit CSV format is not one a stream has */
    get_bad("statement=x&mode=stream&format=csv", QG_E_PARAM,
            "ASX0047: Invalid value for parameter 'format': csv");
    get_bad("statement=x&mode=stream&format=text/csv;header=present", QG_E_PARAM,
            "ASX0047: Invalid value for parameter 'format': text/csv;header=present");
    /* ... in any mode order */
    get_bad("statement=x&format=csv&mode=stream", QG_E_PARAM,
            "ASX0047: Invalid value for parameter 'format': csv");

    /* other modes are unchanged */
    qg_query q;
    get_ok("statement=x&mode=deferred", &q);
    assert_int_equal(q.mode, QG_MODE_DEFERRED);
    assert_false(q.stream);
    qg_query_free(&q);
    get_ok("statement=x&mode=async", &q);
    assert_int_equal(q.mode, QG_MODE_ASYNC);
    assert_false(q.stream);
    qg_query_free(&q);

    /* from a JSON body */
    req r = {.ct = JSON,
             .body = "{\"statement\":\"x\",\"mode\":\"stream\"}",
             .accept = "text/event-stream"};
    ok(&r, &q);
    assert_true(q.stream);
    assert_true(q.stream_sse);
    qg_query_free(&q);
}

static void
interval_ok(const char *param, const char *value, uint64_t want_ns)
{
    char qs[128];
    snprintf(qs, sizeof(qs), "statement=x&mode=stream&%s=%s", param, value);
    qg_query q;
    get_ok(qs, &q);
    uint64_t got = strcmp(param, "stats") == 0 ? q.stats_ns : q.heartbeat_ns;
    if (got != want_ns)
        fail_msg("%s: %llu ns, want %llu", qs, (unsigned long long)got,
                 (unsigned long long)want_ns);
    if (strcmp(param, "heartbeat") == 0)
        assert_true(q.heartbeat_given);
    else
        assert_false(q.heartbeat_given);
    qg_query_free(&q);
}

static void
test_stream_intervals(void **state)
{
    static const char *const names[] = {"stats", "heartbeat"};
    for (size_t k = 0; k < 2; k++) {
        const char *p = names[k];
        /* plain digits are milliseconds, anything else a duration */
        interval_ok(p, "500", 500000000ull);
        interval_ok(p, "10", 10000000ull);
        interval_ok(p, "0010", 10000000ull);
        interval_ok(p, "1.5s", 1500000000ull);
        interval_ok(p, "250ms", 250000000ull);
        interval_ok(p, "1m30s", 90000000000ull);
        interval_ok(p, "10000us", 10000000ull);
        /* 0 turns the message off */
        interval_ok(p, "0", 0);
        interval_ok(p, "0s", 0);
        interval_ok(p, "0ms", 0);
        /* the largest number of milliseconds that fits in nanoseconds */
        interval_ok(p, "18446744073709", 18446744073709000000ull);

        static const char *const badv[] = {
            "9",
            "9ms",
            "9999us",
            "1ns",
            "-1",
            "+5",
            "1.5",
            "1e3",
            "",
            "5x",
            "s",
            "ms",
            "1 s",
            "0x1",
            "abc",
            "10MS",
            "18446744073710",
            "99999999999999999999999",
        };
        for (size_t i = 0; i < sizeof(badv) / sizeof(badv[0]); i++) {
            char qs[128], raw[64], msg[256];
            /* form-encoded: a space travels as '+', a '+' as %2B */
            size_t j = 0;
            for (const char *c = badv[i]; *c; c++) {
                if (*c == '+') {
                    memcpy(raw + j, "%2B", 3);
                    j += 3;
                } else {
                    raw[j++] = *c == ' ' ? '+' : *c;
                }
            }
            raw[j] = '\0';
            snprintf(qs, sizeof(qs), "statement=x&mode=stream&%s=%s", p, raw);
            snprintf(msg, sizeof(msg), "ASX0047: Invalid value for parameter '%s': %s", p, badv[i]);
            get_bad(qs, QG_E_PARAM, msg);
        }
        /* validated in every mode, like the plan parameters */
        char qs[96], msg[128];
        snprintf(qs, sizeof(qs), "statement=x&mode=async&%s=5", p);
        snprintf(msg, sizeof(msg), "ASX0047: Invalid value for parameter '%s': 5", p);
        get_bad(qs, QG_E_PARAM, msg);
    }

    /* JSON numbers keep their digits: milliseconds */
    qg_query q;
    json_ok("{\"statement\":\"x\",\"mode\":\"stream\",\"stats\":200,\"heartbeat\":\"1s\"}", &q);
    assert_int_equal(q.stats_ns, 200000000ull);
    assert_int_equal(q.heartbeat_ns, 1000000000ull);
    assert_true(q.heartbeat_given);
    qg_query_free(&q);
    json_ok("{\"statement\":\"x\",\"mode\":\"stream\",\"heartbeat\":null}", &q);
    assert_false(q.heartbeat_given);
    qg_query_free(&q);
    json_bad("{\"statement\":\"x\",\"stats\":0.5}", QG_E_PARAM,
             "ASX0047: Invalid value for parameter 'stats': 0.5");
    json_bad("{\"statement\":\"x\",\"stats\":true}", QG_E_PARAM,
             "ASX0047: Invalid value for parameter 'stats': true");
}

/* ---- hints at the fix, warnings ---- */

/* The whole message of a request that fails. */
static void
msg_of(const req *r, char *out, size_t n)
{
    qg_query q;
    qg_error e;
    assert_int_equal(run(r, &q, &e), -1);
    qg_query_free(&q);
    snprintf(out, n, "%s", e.msg);
}

static void
has(const char *msg, const char *part)
{
    if (!strstr(msg, part))
        fail_msg("'%s' lacks '%s'", msg, part);
}

static void
test_hints(void **state)
{
    char m[QG_ERRMSG_MAX];
    req r = {.get = true, .query = "statement=x&timeout=10"};
    msg_of(&r, m, sizeof(m));
    has(m, "ASX0047: Invalid value for parameter 'timeout': 10. Expected a duration with a unit");
    has(m, "did you mean 10s?");
    req r2 = {.get = true, .query = "statement=x&mode=asnyc"};
    msg_of(&r2, m, sizeof(m));
    has(m, "immediate, deferred, async, stream (did you mean async?)");
    req r3 = {.get = true, .query = "statement=x&wait=5m", .max_wait_ns = 60000000000ull};
    msg_of(&r3, m, sizeof(m));
    has(m, "'wait': 5m. wait may be at most 60s (the server's --max-wait)");
    req r4 = {.get = true, .query = "statement=SELECT+$c&$c=GB"};
    msg_of(&r4, m, sizeof(m));
    has(m, "ASX0048: Unable to process JSON content in request: parameter '$c' is not valid JSON");
    has(m, "e.g. $c=\"GB\"");
    req r5 = {.get = true, .query = "statement=123456", .max_statement = 5};
    msg_of(&r5, m, sizeof(m));
    has(m, "at most 5 bytes (the server's --max-statement)");
    req r6 = {.get = true, .query = "statement=x&args=[1,2,3]", .max_params = 2};
    msg_of(&r6, m, sizeof(m));
    has(m, "At most 2 args elements and $name parameters together (the server's --max-params)");
    req r7 = {.get = true, .query = "statement=x&mode=stream&format=csv"};
    msg_of(&r7, m, sizeof(m));
    has(m, "mode=stream sends JSON only");
    req r8 = {.get = true, .query = "statement=x&callback_url=ftp://x"};
    msg_of(&r8, m, sizeof(m));
    has(m, "e.g. http://hooks.example.com/qgate/done");
    req r9 = {.get = true, .query = "statement=x&max-result-reads=0"};
    msg_of(&r9, m, sizeof(m));
    has(m, "at least 1, e.g. 3");
    req r10 = {.get = true, .query = "statement=x&stats=5"};
    msg_of(&r10, m, sizeof(m));
    has(m, "of at least 10ms");
}

static void
test_no_statement_says_why(void **state)
{
    char m[QG_ERRMSG_MAX];
    req r = {.ct = FORM, .body = "statment=SELECT+1"};
    msg_of(&r, m, sizeof(m));
    assert_string_equal(m, "ASX0040: No statement provided: parameter 'statment' is not known; "
                           "did you mean 'statement'?");
    /* a JSON body as a form (curl -d's default), or as text/plain */
    req r2 = {.ct = FORM, .body = " {\"statement\": \"SELECT 1\"}"};
    msg_of(&r2, m, sizeof(m));
    has(m, "ASX0040: No statement provided: the body looks like JSON but was sent as a form");
    has(m, "send it with Content-Type: application/json");
    req r3 = {.ct = "text/plain", .body = "{\"statement\": \"SELECT 1\"}"};
    msg_of(&r3, m, sizeof(m));
    has(m, "the body looks like JSON; send it with Content-Type: application/json");
    req r4 = {.body = "statement=SELECT+1"};
    msg_of(&r4, m, sizeof(m));
    has(m, "it has no Content-Type, so only the query string was read");
    /* a GET's body */
    req r5 = {.get = true, .ct = FORM, .body = "statement=SELECT+1"};
    msg_of(&r5, m, sizeof(m));
    has(m, "a GET's body is ignored; put the parameters in the query string, or POST the body");
    req r6 = {.get = true, .query = "statement=++"};
    msg_of(&r6, m, sizeof(m));
    has(m, "'statement' is empty");
}

static void
test_warnings(void **state)
{
    qg_query q;
    /* unknown names, each once, with the closest known one */
    req r = {.ct = FORM, .body = "statement=x&statment=y&prety=true&zzz=1&zzz=2"};
    ok(&r, &q);
    assert_int_equal(q.nwarnings, 3);
    assert_string_equal(q.warnings,
                        "{\"code\":1,\"msg\":\"ASX0931: Unknown parameter 'statment' ignored; did "
                        "you mean 'statement'?\"},{\"code\":1,\"msg\":\"ASX0931: Unknown "
                        "parameter 'prety' ignored; did you mean 'pretty'?\"},{\"code\":1,"
                        "\"msg\":\"ASX0931: Unknown parameter 'zzz' ignored\"}");
    qg_query_free(&q);
    /* in a JSON body too */
    req r2 = {.ct = JSON, .body = "{\"statement\":\"x\",\"Mode\":\"async\"}"};
    ok(&r2, &q);
    assert_int_equal(q.nwarnings, 1);
    has(q.warnings, "Unknown parameter 'Mode' ignored; did you mean 'mode'?");
    qg_query_free(&q);
    /* a GET's body, read nowhere */
    req r3 = {.get = true, .query = "statement=x", .ct = FORM, .body = "mode=async"};
    ok(&r3, &q);
    assert_int_equal(q.nwarnings, 1);
    has(q.warnings, "ASX0932: Request body ignored: a GET's body is ignored");
    assert_true(q.readonly && q.readonly_get);
    qg_query_free(&q);
    /* none: no field */
    req r4 = {.get = true, .query = "statement=x&$a=1"};
    ok(&r4, &q);
    assert_null(q.warnings);
    assert_int_equal(q.nwarnings, 0);
    assert_true(q.readonly_get);
    qg_query_free(&q);
    /* at most 8 names are listed, whatever a client sends */
    qg_buf b = QG_BUF_INIT;
    qg_buf_addlit(&b, "statement=x");
    for (int i = 0; i < 1000; i++) {
        char part[32];
        snprintf(part, sizeof(part), "&u%d=1", i);
        qg_buf_adds(&b, part);
    }
    req r5 = {.get = true, .query = b.data};
    ok(&r5, &q);
    assert_int_equal(q.nwarnings, 8);
    qg_query_free(&q);
    qg_buf_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_defaults_and_readonly),
        cmocka_unit_test(test_post_readonly_not_forced),
        cmocka_unit_test(test_form_then_query_first_wins),
        cmocka_unit_test(test_json_body_last_wins),
        cmocka_unit_test(test_other_content_types),
        cmocka_unit_test(test_form_splitting),
        cmocka_unit_test(test_form_decode),
        cmocka_unit_test(test_plus_and_percent),
        cmocka_unit_test(test_bad_escapes),
        cmocka_unit_test(test_hints),
        cmocka_unit_test(test_no_statement_says_why),
        cmocka_unit_test(test_warnings),
        cmocka_unit_test(test_nul_and_invalid_utf8),
        cmocka_unit_test(test_long_messages_stay_utf8),
        cmocka_unit_test(test_case_insensitive_values),
        cmocka_unit_test(test_invalid_values),
        cmocka_unit_test(test_valid_values),
        cmocka_unit_test(test_invalid_json_values),
        cmocka_unit_test(test_client_context_id),
        cmocka_unit_test(test_no_statement),
        cmocka_unit_test(test_statement_limits),
        cmocka_unit_test(test_validation_order),
        cmocka_unit_test(test_bad_json_body),
        cmocka_unit_test(test_depth_bomb),
        cmocka_unit_test(test_args_mapping),
        cmocka_unit_test(test_named_params),
        cmocka_unit_test(test_max_params),
        cmocka_unit_test(test_format_and_accept),
        cmocka_unit_test(test_callback_url),
        cmocka_unit_test(test_wait_and_on_wait_timeout),
        cmocka_unit_test(test_idempotency_key),
        cmocka_unit_test(test_result_params),
        cmocka_unit_test(test_stream_mode_and_framing),
        cmocka_unit_test(test_stream_intervals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
