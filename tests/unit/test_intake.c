/* Unit tests for gateway/intake: request heads and chunked bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/err.h"
#include "gateway/intake.h"

/* ---- helpers ---------------------------------------------------------- */

static gw_intake_limits
limits(void)
{
    gw_intake_limits lim;
    gw_intake_limits_default(&lim);
    return lim;
}

static void
assert_same_head(const gw_head *a, const gw_head *b)
{
    assert_int_equal(a->skip, b->skip);
    assert_int_equal(a->head_len, b->head_len);
    assert_int_equal(a->method, b->method);
    assert_int_equal(a->method_off, b->method_off);
    assert_int_equal(a->method_len, b->method_len);
    assert_int_equal(a->target_off, b->target_off);
    assert_int_equal(a->target_len, b->target_len);
    assert_int_equal(a->http_minor, b->http_minor);
    assert_int_equal(a->keep_alive, b->keep_alive);
    assert_int_equal(a->expect_continue, b->expect_continue);
    assert_int_equal(a->chunked, b->chunked);
    assert_int_equal(a->has_length, b->has_length);
    assert_int_equal(a->content_length, b->content_length);
    assert_int_equal(a->nheaders, b->nheaders);
}

/* Each prefix is passed in a buffer of its own size, so ASan catches any
 * read past len. */
static int
head_prefix(const char *s, size_t k, const gw_intake_limits *lim, gw_head *h, qg_error *e)
{
    char *copy = malloc(k ? k : 1);
    assert_non_null(copy);
    memcpy(copy, s, k);
    int r = gw_intake_head(copy, k, lim, h, e);
    free(copy);
    return r;
}

/* The whole of s is a valid head (perhaps followed by more bytes): every
 * shorter prefix needs more, every prefix from the head's end on gives the
 * same answer. */
static gw_head
ok_n(const char *s, size_t n, const gw_intake_limits *lim)
{
    gw_head full;
    qg_error e;
    memset(&e, 0, sizeof(e));
    int r = head_prefix(s, n, lim, &full, &e);
    if (r != GW_INTAKE_OK)
        print_error("unexpected result %d: %s\n", r, e.msg);
    assert_int_equal(r, GW_INTAKE_OK);
    for (size_t k = 0; k <= n; k++) {
        gw_head h;
        r = head_prefix(s, k, lim, &h, &e);
        if (k < full.head_len) {
            assert_int_equal(r, GW_INTAKE_NEED_MORE);
        } else {
            assert_int_equal(r, GW_INTAKE_OK);
            assert_same_head(&h, &full);
        }
    }
    return full;
}

static gw_head
ok_lim(const char *s, const gw_intake_limits *lim)
{
    return ok_n(s, strlen(s), lim);
}

static gw_head
ok(const char *s)
{
    gw_intake_limits lim = limits();
    return ok_lim(s, &lim);
}

/* s fails with code; every prefix either needs more or fails the same way,
 * message included: a client sees the same answer however its bytes were
 * split into reads (prefixes are checked for short inputs only, to keep
 * the suite fast). */
static void
fails_n(const char *s, size_t n, const gw_intake_limits *lim, qg_code code)
{
    gw_head h;
    qg_error full, e;
    memset(&full, 0, sizeof(full));
    int r = head_prefix(s, n, lim, &h, &full);
    if (r != GW_INTAKE_ERROR)
        print_error("expected %s, got result %d\n", qg_err_name(code), r);
    assert_int_equal(r, GW_INTAKE_ERROR);
    if (full.code != code)
        print_error("expected %s, got %s: %s\n", qg_err_name(code), qg_err_name(full.code),
                    full.msg);
    assert_int_equal(full.code, code);
    if (n > 2000)
        return;
    bool failed = false;
    for (size_t k = 0; k <= n; k++) {
        memset(&e, 0, sizeof(e));
        r = head_prefix(s, k, lim, &h, &e);
        if (failed || r == GW_INTAKE_ERROR) {
            failed = true;
            assert_int_equal(r, GW_INTAKE_ERROR);
            assert_int_equal(e.code, code);
            assert_string_equal(e.msg, full.msg);
        } else {
            assert_int_equal(r, GW_INTAKE_NEED_MORE);
        }
    }
}

static void
fails_lim(const char *s, const gw_intake_limits *lim, qg_code code)
{
    fails_n(s, strlen(s), lim, code);
}

static void
fails(const char *s, qg_code code)
{
    gw_intake_limits lim = limits();
    fails_lim(s, &lim, code);
}

static int
needs_more(const char *s, size_t n, const gw_intake_limits *lim)
{
    gw_head h;
    qg_error e;
    return head_prefix(s, n, lim, &h, &e) == GW_INTAKE_NEED_MORE;
}

/* "GET <target> HTTP/1.1" exactly n bytes long, no line ending. */
static char *
request_line_of(size_t n)
{
    const char *v = " HTTP/1.1";
    char *s = malloc(n + 64);
    assert_non_null(s);
    memcpy(s, "GET /", 5);
    size_t tlen = n - 4 - strlen(v);
    memset(s + 5, 'a', tlen - 1);
    memcpy(s + 4 + tlen, v, strlen(v) + 1);
    assert_int_equal(strlen(s), n);
    return s;
}

/* ---- valid heads ------------------------------------------------------ */

static void
test_get_simple(void **state)
{
    const char *s = "GET /query/service?statement=SELECT+1 HTTP/1.1\r\nHost: db\r\n\r\n";
    gw_head h = ok(s);
    assert_int_equal(h.method, GW_M_GET);
    assert_int_equal(h.skip, 0);
    assert_int_equal(h.head_len, strlen(s));
    assert_int_equal(h.method_off, 0);
    assert_int_equal(h.method_len, 3);
    assert_int_equal(h.target_off, 4);
    assert_memory_equal(s + h.target_off, "/query/service?statement=SELECT+1", h.target_len);
    assert_int_equal(h.target_len, strlen("/query/service?statement=SELECT+1"));
    assert_int_equal(h.http_minor, 1);
    assert_true(h.keep_alive);
    assert_false(h.expect_continue);
    assert_false(h.chunked);
    assert_false(h.has_length);
    assert_int_equal(h.nheaders, 1);
}

static void
test_post_with_length(void **state)
{
    const char *s = "POST /query/service HTTP/1.1\r\nHost: db\r\n"
                    "Content-Type: application/json\r\nContent-Length: 13\r\n\r\n"
                    "{\"statement\"}";
    gw_head h = ok(s);
    assert_int_equal(h.method, GW_M_POST);
    assert_true(h.has_length);
    assert_int_equal(h.content_length, 13);
    assert_int_equal(h.nheaders, 3);
    assert_int_equal(h.head_len, strlen(s) - 13);
}

static void
test_options_star(void **state)
{
    gw_head h = ok("OPTIONS * HTTP/1.1\r\nHost: db\r\n\r\n");
    assert_int_equal(h.method, GW_M_OPTIONS);
    assert_int_equal(h.target_len, 1);
    assert_int_equal(h.target_off, 8);
    /* "*" is accepted with any method: the routes decide. */
    h = ok("GET * HTTP/1.1\r\n\r\n");
    assert_int_equal(h.method, GW_M_GET);
}

static void
test_methods(void **state)
{
    static const struct {
        const char *line;
        gw_method m;
    } cases[] = {
        {"GET / HTTP/1.1\r\n\r\n", GW_M_GET},
        {"HEAD / HTTP/1.1\r\n\r\n", GW_M_HEAD},
        {"POST / HTTP/1.1\r\n\r\n", GW_M_POST},
        {"PUT / HTTP/1.1\r\n\r\n", GW_M_PUT},
        {"DELETE / HTTP/1.1\r\n\r\n", GW_M_DELETE},
        {"OPTIONS / HTTP/1.1\r\n\r\n", GW_M_OPTIONS},
        {"PATCH / HTTP/1.1\r\n\r\n", GW_M_PATCH},
        {"get / HTTP/1.1\r\n\r\n", GW_M_OTHER},
        {"GETS / HTTP/1.1\r\n\r\n", GW_M_OTHER},
        {"PROPFIND / HTTP/1.1\r\n\r\n", GW_M_OTHER},
        {"X-Y!#$%&'*+.^_`|~ / HTTP/1.1\r\n\r\n", GW_M_OTHER},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gw_head h = ok(cases[i].line);
        assert_int_equal(h.method, cases[i].m);
        assert_int_equal(h.method_len, strcspn(cases[i].line, " "));
    }
}

static void
test_lf_endings(void **state)
{
    const char *s = "POST /q HTTP/1.1\nHost: db\nContent-Length: 2\n\nab";
    gw_head h = ok(s);
    assert_int_equal(h.head_len, strlen(s) - 2);
    assert_int_equal(h.nheaders, 2);
    assert_int_equal(h.content_length, 2);
}

static void
test_mixed_endings(void **state)
{
    const char *s = "GET / HTTP/1.1\nHost: db\r\nAccept: */*\n\r\n";
    gw_head h = ok(s);
    assert_int_equal(h.head_len, strlen(s));
    assert_int_equal(h.nheaders, 2);
}

static void
test_leading_empty_lines(void **state)
{
    const char *s = "\r\n\n\r\nGET /x HTTP/1.1\r\n\r\n";
    gw_head h = ok(s);
    assert_int_equal(h.skip, 3);
    assert_int_equal(h.method_off, 5);
    assert_int_equal(h.target_off, 9);
    assert_int_equal(h.head_len, strlen(s));
}

static void
test_leading_empty_lines_bound(void **state)
{
    gw_head h = ok("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n");
    assert_int_equal(h.skip, 8);
    fails("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n", QG_E_BAD_REQUEST);
    fails("\n\n\n\n\n\n\n\n\n", QG_E_BAD_REQUEST);
}

static void
test_absolute_form(void **state)
{
    gw_head h = ok("GET http://db:8080/query/service?x=1 HTTP/1.1\r\n\r\n");
    assert_int_equal(h.target_len, strlen("http://db:8080/query/service?x=1"));
    ok("GET HTTPS://db/ HTTP/1.1\r\n\r\n");
    ok("GET hTtP://db HTTP/1.1\r\n\r\n");
}

static void
test_http10_defaults(void **state)
{
    gw_head h = ok("GET / HTTP/1.0\r\n\r\n");
    assert_int_equal(h.http_minor, 0);
    assert_false(h.keep_alive);
    h = ok("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
    assert_true(h.keep_alive);
}

static void
test_connection_header(void **state)
{
    assert_false(ok("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").keep_alive);
    assert_false(ok("GET / HTTP/1.1\r\nConnection: Upgrade, CLOSE\r\n\r\n").keep_alive);
    assert_false(ok("GET / HTTP/1.1\r\nConnection:  TE ,close , x\r\n\r\n").keep_alive);
    /* A token that merely contains "close" is another token. */
    assert_true(ok("GET / HTTP/1.1\r\nConnection: closed\r\n\r\n").keep_alive);
    assert_true(ok("GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n").keep_alive);
    assert_true(ok("GET / HTTP/1.1\r\nConnection: ,,\r\n\r\n").keep_alive);
    assert_false(ok("GET / HTTP/1.0\r\nConnection: upgrade\r\n\r\n").keep_alive);
    assert_false(ok("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n").keep_alive);
}

static void
test_connection_headers_combine(void **state)
{
    assert_false(
        ok("GET / HTTP/1.1\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n").keep_alive);
    assert_true(
        ok("GET / HTTP/1.0\r\nConnection: upgrade\r\nConnection: keep-alive\r\n\r\n").keep_alive);
    assert_false(
        ok("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: Close\r\n\r\n").keep_alive);
}

static void
test_expect(void **state)
{
    assert_true(
        ok("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n").expect_continue);
    assert_true(ok("POST / HTTP/1.1\r\nexpect:  100-Continue \r\n\r\n").expect_continue);
    /* Other expectations are ignored, not refused. */
    assert_false(ok("POST / HTTP/1.1\r\nExpect: 200-ok\r\n\r\n").expect_continue);
    assert_false(ok("POST / HTTP/1.1\r\nExpect:\r\n\r\n").expect_continue);
    /* RFC 9110 10.1.1: ignored in HTTP/1.0. */
    assert_false(ok("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n").expect_continue);
}

static void
test_header_values_allowed(void **state)
{
    gw_head h = ok("GET / HTTP/1.1\r\nX-Name: caf\xc3\xa9 \xff\r\nX-Tab: a\tb\r\n"
                   "X-Empty:\r\nX-Punct: !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\r\n\r\n");
    assert_int_equal(h.nheaders, 4);
}

static void
test_target_bytes_allowed(void **state)
{
    gw_head h = ok("GET /a!$&'()*+,;=:@-._~%20?b=\"{}|\\^`[]<># HTTP/1.1\r\n\r\n");
    assert_int_equal(h.target_len, strlen("/a!$&'()*+,;=:@-._~%20?b=\"{}|\\^`[]<>#"));
}

static void
test_empty_input(void **state)
{
    gw_intake_limits lim = limits();
    gw_head h;
    qg_error e;
    assert_int_equal(gw_intake_head("", 0, &lim, &h, &e), GW_INTAKE_NEED_MORE);
    assert_int_equal(gw_intake_head(NULL, 0, &lim, &h, &e), GW_INTAKE_NEED_MORE);
    assert_int_equal(gw_intake_head("\r\n", 2, &lim, &h, &e), GW_INTAKE_NEED_MORE);
    assert_int_equal(gw_intake_head("\r", 1, &lim, &h, &e), GW_INTAKE_NEED_MORE);
    /* No limits given: the defaults. */
    assert_int_equal(gw_intake_head("GET / HTTP/1.1\r\n\r\n", 18, NULL, &h, &e), GW_INTAKE_OK);
}

static void
test_limits_default(void **state)
{
    gw_intake_limits lim;
    gw_intake_limits_default(&lim);
    assert_int_equal(lim.max_request_line, 4000);
    assert_int_equal(lim.max_head, 32 * 1024);
    assert_int_equal(lim.max_headers, 100);
    assert_int_equal(lim.max_body, 16 * 1024 * 1024);
}

/* ---- heads in pieces -------------------------------------------------- */

static void
test_splits_with_pipelined_bytes(void **state)
{
    /* ok() already checks every prefix; here bytes follow the head. */
    const char *s = "POST /q HTTP/1.1\r\nContent-Length: 4\r\n\r\nbodyGET / HTTP/1.1\r\n\r\n";
    gw_head h = ok(s);
    assert_int_equal(h.head_len, strlen("POST /q HTTP/1.1\r\nContent-Length: 4\r\n\r\n"));
    assert_int_equal(h.content_length, 4);
}

static void
test_splits_chunked_head(void **state)
{
    gw_head h = ok("\r\nPOST /query/service HTTP/1.1\r\nHost: db\r\nTransfer-Encoding: chunked\r\n"
                   "Expect: 100-continue\r\nConnection: keep-alive\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    assert_true(h.chunked);
    assert_true(h.expect_continue);
    assert_int_equal(h.skip, 1);
}

static void
test_splits_lf_head(void **state)
{
    gw_head h = ok("\nDELETE /query/service/42 HTTP/1.0\nConnection: keep-alive\nX:\n\n");
    assert_int_equal(h.method, GW_M_DELETE);
    assert_true(h.keep_alive);
    assert_int_equal(h.nheaders, 2);
}

static void
test_early_reject_garbage(void **state)
{
    /* A TLS ClientHello is refused on its first bytes, not after 4000. */
    gw_intake_limits lim = limits();
    gw_head h;
    qg_error e;
    assert_int_equal(gw_intake_head("\x16\x03\x01\x02\x00", 5, &lim, &h, &e), GW_INTAKE_ERROR);
    assert_int_equal(e.code, QG_E_BAD_REQUEST);
    assert_int_equal(gw_intake_head("GET  ", 5, &lim, &h, &e), GW_INTAKE_ERROR);
    assert_int_equal(gw_intake_head("GET x", 5, &lim, &h, &e), GW_INTAKE_ERROR);
    assert_int_equal(gw_intake_head("GET / HTTP/1.1x", 15, &lim, &h, &e), GW_INTAKE_ERROR);
    assert_int_equal(gw_intake_head("GET / HTTP/1.1", 14, &lim, &h, &e), GW_INTAKE_NEED_MORE);
    assert_int_equal(gw_intake_head("GET http:/", 10, &lim, &h, &e), GW_INTAKE_NEED_MORE);
}

/* ---- malformed request lines ------------------------------------------ */

static void
test_bare_cr(void **state)
{
    fails("\rGET / HTTP/1.1\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET /\r HTTP/1.1\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET / HTTP/1.1\r\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET / HTTP/1.1\r\nHost: a\r\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET / HTTP/1.1\r\n\r\r\n", QG_E_BAD_REQUEST);
    fails("GET / HTTP/1.1\r\n\rX: y\r\n\r\n", QG_E_BAD_REQUEST);
}

static void
test_bad_method(void **state)
{
    fails("G(T / HTTP/1.1\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET\t/ HTTP/1.1\r\n\r\n", QG_E_BAD_REQUEST);
    fails("G\xc3\x89T / HTTP/1.1\r\n\r\n", QG_E_BAD_REQUEST);
    fails(" GET / HTTP/1.1\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET\r\n\r\n", QG_E_BAD_REQUEST);
}

static void
test_multiple_spaces(void **state)
{
    fails("GET  / HTTP/1.1\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET /  HTTP/1.1\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET / HTTP/1.1 \r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET /a b HTTP/1.1\r\n\r\n", QG_E_BAD_REQUEST);
}

static void
test_no_version(void **state)
{
    fails("GET /\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET /\n", QG_E_BAD_REQUEST);
    fails("GET / \r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET \r\n\r\n", QG_E_BAD_REQUEST);
}

static void
test_version_unsupported(void **state)
{
    fails("GET / HTTP/2.0\r\n\r\n", QG_E_HTTP_VERSION);
    fails("GET / HTTP/1.2\r\n\r\n", QG_E_HTTP_VERSION);
    fails("GET / HTTP/0.9\r\n\r\n", QG_E_HTTP_VERSION);
    fails("GET / HTTP/3.1\r\nHost: x\r\n\r\n", QG_E_HTTP_VERSION);
    assert_int_equal(qg_err_http(QG_E_HTTP_VERSION), 505);
}

static void
test_version_garbage(void **state)
{
    fails("GET / http/1.1\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET / HTTP/1\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET / HTTP/10.0\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET / HTTP/1.10\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET / HTTP/1.x\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET / HTTP/2\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET / HTTPS/1.1\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET / HTTP/1.1/\r\n\r\n", QG_E_BAD_REQUEST);
}

static void
test_target_form(void **state)
{
    fails("GET x/y HTTP/1.1\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET ftp://db/ HTTP/1.1\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET http:/db HTTP/1.1\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET http:// HTTP/1.1\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET http:///x HTTP/1.1\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET https://?q HTTP/1.1\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET db:80 HTTP/1.1\r\n\r\n", QG_E_BAD_REQUEST);
    fails("OPTIONS *x HTTP/1.1\r\n\r\n", QG_E_BAD_REQUEST);
    fails("OPTIONS ** HTTP/1.1\r\n\r\n", QG_E_BAD_REQUEST);
}

static void
test_target_bytes(void **state)
{
    fails("GET /a\x01 HTTP/1.1\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET /a\tb HTTP/1.1\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET /\x7f HTTP/1.1\r\n\r\n", QG_E_BAD_REQUEST);
    fails_n("GET /a\0b HTTP/1.1\r\n\r\n", 21, &(gw_intake_limits){4000, 32768, 100, 1 << 24},
            QG_E_BAD_REQUEST);
}

/* Found by fuzz_intake: a target that no form can start ("P/O...") and
 * that later holds a byte outside 0x21..0x7E was refused as "invalid byte"
 * in one read, but as "not a path" when the bytes up to that byte came
 * first. The start is judged first now, so the answer does not depend on
 * how the bytes arrive (fails() compares every prefix's message). */
static void
test_target_form_before_bad_byte(void **state)
{
    fails("TT P/OPTPOST\xff HTTP/1.1\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET x\x01 HTTP/1.1\r\n\r\n", QG_E_BAD_REQUEST);
    fails("OPTIONS **\x7f HTTP/1.1\r\n\r\n", QG_E_BAD_REQUEST);
    /* Still a valid start: the byte is what is wrong. */
    fails("GET http:/\x01 HTTP/1.1\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET \x01 HTTP/1.1\r\n\r\n", QG_E_BAD_REQUEST);

    gw_intake_limits lim = limits();
    gw_head h;
    qg_error e;
    const char *s = "TT P/OPTPOST\xff HTTP/1.1\r\n\r\n";
    assert_int_equal(head_prefix(s, strlen(s), &lim, &h, &e), GW_INTAKE_ERROR);
    assert_non_null(strstr(e.msg, "not a path"));
    s = "GET /a\x01 HTTP/1.1\r\n\r\n";
    assert_int_equal(head_prefix(s, strlen(s), &lim, &h, &e), GW_INTAKE_ERROR);
    assert_non_null(strstr(e.msg, "invalid byte"));
}

/* ---- malformed fields ------------------------------------------------- */

static void
test_space_before_colon(void **state)
{
    fails("GET / HTTP/1.1\r\nHost : db\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET / HTTP/1.1\r\nHost\t: db\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET / HTTP/1.1\r\nContent-Length : 5\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET / HTTP/1.1\r\nX Y: z\r\n\r\n", QG_E_BAD_REQUEST);
}

static void
test_bad_field_name(void **state)
{
    fails("GET / HTTP/1.1\r\nHost\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET / HTTP/1.1\r\n: db\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET / HTTP/1.1\r\nX(y): z\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET / HTTP/1.1\r\nX\xc3\xa9: z\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET / HTTP/1.1\r\nX@: z\r\n\r\n", QG_E_BAD_REQUEST);
}

static void
test_obs_fold(void **state)
{
    fails("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", QG_E_BAD_REQUEST);
    /* Whitespace before the first field is folding too (RFC 9112 2.2). */
    fails("GET / HTTP/1.1\r\n Host: db\r\n\r\n", QG_E_BAD_REQUEST);
}

static void
test_value_controls(void **state)
{
    fails_n("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 26, &(gw_intake_limits){4000, 32768, 100, 1},
            QG_E_BAD_REQUEST);
    fails("GET / HTTP/1.1\r\nX: a\x01\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET / HTTP/1.1\r\nX: a\x1f\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET / HTTP/1.1\r\nX: \x7f\r\n\r\n", QG_E_BAD_REQUEST);
    fails("GET / HTTP/1.1\r\nX: \x1b[31m\r\n\r\n", QG_E_BAD_REQUEST);
}

/* ---- Content-Length ---------------------------------------------------- */

static uint64_t
length_of(const char *value, const gw_intake_limits *lim)
{
    char s[256];
    snprintf(s, sizeof(s), "POST / HTTP/1.1\r\nContent-Length:%s\r\n\r\n", value);
    gw_head h = ok_lim(s, lim);
    assert_true(h.has_length);
    return h.content_length;
}

static void
fails_length(const char *value, qg_code code)
{
    char s[256];
    snprintf(s, sizeof(s), "POST / HTTP/1.1\r\nContent-Length:%s\r\n\r\n", value);
    fails(s, code);
}

static void
test_length_plain(void **state)
{
    gw_intake_limits lim = limits();
    assert_int_equal(length_of(" 0", &lim), 0);
    assert_int_equal(length_of("42", &lim), 42);
    assert_int_equal(length_of(" \t 12 \t", &lim), 12);
}

static void
test_length_leading_zeros(void **state)
{
    gw_intake_limits lim = limits();
    assert_int_equal(length_of(" 007", &lim), 7);
    assert_int_equal(length_of(" 00000000000000000000000000000000000001", &lim), 1);
}

static void
test_length_not_digits(void **state)
{
    fails_length(" -1", QG_E_BAD_REQUEST);
    fails_length(" +1", QG_E_BAD_REQUEST);
    fails_length(" 1 2", QG_E_BAD_REQUEST);
    fails_length("", QG_E_BAD_REQUEST);
    fails_length("   ", QG_E_BAD_REQUEST);
    fails_length(" 0x10", QG_E_BAD_REQUEST);
    fails_length(" 1e3", QG_E_BAD_REQUEST);
    fails_length(" 1.0", QG_E_BAD_REQUEST);
    fails_length(" \xd9\xa3", QG_E_BAD_REQUEST); /* an Arabic-Indic digit */
}

static void
test_length_overflow(void **state)
{
    gw_intake_limits lim = limits();
    lim.max_body = UINT64_MAX;
    assert_true(length_of(" 18446744073709551615", &lim) == UINT64_MAX);
    fails_length(" 18446744073709551616", QG_E_BAD_REQUEST);
    fails_length(" 99999999999999999999", QG_E_BAD_REQUEST);
    fails_length(" 123456789012345678901234567890", QG_E_BAD_REQUEST);
}

static void
test_length_repeated(void **state)
{
    gw_intake_limits lim = limits();
    assert_int_equal(length_of(" 5, 5", &lim), 5);
    assert_int_equal(length_of(" 5,5 ,\t05", &lim), 5);
    gw_head h = ok("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n");
    assert_int_equal(h.content_length, 5);
    fails("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", QG_E_BAD_REQUEST);
    fails_length(" 5, 6", QG_E_BAD_REQUEST);
    fails_length(" 5,", QG_E_BAD_REQUEST);
    fails_length(" ,5", QG_E_BAD_REQUEST);
    fails_length(" 5,,5", QG_E_BAD_REQUEST);
}

static void
test_length_body_limit(void **state)
{
    gw_intake_limits lim = limits();
    lim.max_body = 100;
    assert_int_equal(length_of(" 100", &lim), 100);
    fails_lim("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", &lim, QG_E_BODY_TOO_LARGE);
    fails("POST / HTTP/1.1\r\nContent-Length: 16777217\r\n\r\n", QG_E_BODY_TOO_LARGE);
    ok("POST / HTTP/1.1\r\nContent-Length: 16777216\r\n\r\n");
}

/* ---- Transfer-Encoding ------------------------------------------------- */

static void
test_te_chunked(void **state)
{
    assert_true(ok("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").chunked);
    assert_true(ok("POST / HTTP/1.1\r\ntransfer-encoding:\tChunked \r\n\r\n").chunked);
    assert_false(ok("POST / HTTP/1.1\r\n\r\n").chunked);
}

static void
test_te_not_implemented(void **state)
{
    fails("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", QG_E_NOT_IMPLEMENTED);
    fails("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", QG_E_NOT_IMPLEMENTED);
    fails("POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n", QG_E_NOT_IMPLEMENTED);
    fails("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", QG_E_NOT_IMPLEMENTED);
    fails("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
          QG_E_NOT_IMPLEMENTED);
    fails("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
          QG_E_NOT_IMPLEMENTED);
    fails("POST / HTTP/1.1\r\nTransfer-Encoding: chunkedx\r\n\r\n", QG_E_NOT_IMPLEMENTED);
    fails("POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n", QG_E_NOT_IMPLEMENTED);
    assert_int_equal(qg_err_http(QG_E_NOT_IMPLEMENTED), 501);
}

static void
test_te_message(void **state)
{
    gw_intake_limits lim = limits();
    gw_head h;
    qg_error e;
    const char *s = "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n";
    assert_int_equal(gw_intake_head(s, strlen(s), &lim, &h, &e), GW_INTAKE_ERROR);
    assert_string_equal(e.msg, "ASX0915: Not implemented: Transfer-Encoding gzip");
    s = "POST / HTTP/1.1\r\nTransfer-Encoding: br\xff\xfe"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    assert_int_equal(gw_intake_head(s, strlen(s), &lim, &h, &e), GW_INTAKE_ERROR);
    /* Shown cut to 40 bytes, non-ASCII bytes masked. */
    char want[128] = "ASX0915: Not implemented: Transfer-Encoding br??";
    memset(want + strlen(want), 'a', 36);
    strcat(want, "...");
    assert_string_equal(e.msg, want);
}

static void
test_te_with_length(void **state)
{
    fails("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
          QG_E_BAD_REQUEST);
    fails("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
          QG_E_BAD_REQUEST);
    /* Smuggling is refused before the size is looked at. */
    fails("POST / HTTP/1.1\r\nContent-Length: 99999999999\r\nTransfer-Encoding: chunked\r\n\r\n",
          QG_E_BAD_REQUEST);
    fails("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: gzip\r\n\r\n",
          QG_E_BAD_REQUEST);
}

static void
test_te_http10(void **state)
{
    fails("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", QG_E_BAD_REQUEST);
    fails("POST / HTTP/1.0\r\nTransfer-Encoding: gzip\r\n\r\n", QG_E_BAD_REQUEST);
}

/* ---- limits ------------------------------------------------------------ */

static void
test_request_line_at_limit(void **state)
{
    gw_intake_limits lim = limits();
    char *line = request_line_of(4000);
    char *s = malloc(4100);
    snprintf(s, 4100, "%s\r\nHost: db\r\n\r\n", line);
    gw_head h;
    qg_error e;
    assert_int_equal(gw_intake_head(s, strlen(s), &lim, &h, &e), GW_INTAKE_OK);
    assert_int_equal(h.target_len, 4000 - 4 - 9);
    snprintf(s, 4100, "%s\n\n", line);
    assert_int_equal(gw_intake_head(s, strlen(s), &lim, &h, &e), GW_INTAKE_OK);
    free(line);
    free(s);
}

static void
test_request_line_over_limit(void **state)
{
    gw_intake_limits lim = limits();
    char *line = request_line_of(4001);
    char *s = malloc(4100);
    snprintf(s, 4100, "%s\r\nHost: db\r\n\r\n", line);
    fails(s, QG_E_URI_TOO_LONG);
    assert_int_equal(qg_err_http(QG_E_URI_TOO_LONG), 414);
    gw_head h;
    qg_error e;
    assert_int_equal(gw_intake_head(s, strlen(s), &lim, &h, &e), GW_INTAKE_ERROR);
    assert_string_equal(e.msg, "ASX0908: Request line longer than 4000 bytes; send long "
                               "statements in a POST body");
    free(line);
    free(s);
}

static void
test_request_line_over_limit_incomplete(void **state)
{
    gw_intake_limits lim = limits();
    char *s = request_line_of(4001);
    /* 4000 bytes and a CR may still be a line of 4000: wait. */
    assert_true(needs_more(s, 4000, &lim));
    s[4000] = '\r';
    assert_true(needs_more(s, 4001, &lim));
    /* The 4001st byte of the line settles it, with no line end in sight. */
    s[4000] = 'a';
    fails_n(s, 4001, &lim, QG_E_URI_TOO_LONG);
    s[4000] = '\r';
    s[4001] = 'a';
    fails_n(s, 4002, &lim, QG_E_URI_TOO_LONG);
    free(s);
}

static void
test_request_line_small_limit(void **state)
{
    gw_intake_limits lim = limits();
    lim.max_request_line = 20;
    ok_lim("GET /abcdef HTTP/1.1\r\n\r\n", &lim);
    fails_lim("GET /abcdefg HTTP/1.1\r\n\r\n", &lim, QG_E_URI_TOO_LONG);
    fails_lim("GET /abcdefghijklmnopqrstuvwxyz", &lim, QG_E_URI_TOO_LONG);
    /* Leading empty lines do not count against the request line. */
    ok_lim("\r\n\r\nGET /abcdef HTTP/1.1\r\n\r\n", &lim);
    /* A syntax error within the limit is reported as such... */
    fails_lim("GET /a\x01zzzzzzzzzzzzzzzzzzzzzzzzzzzz HTTP/1.1\r\n\r\n", &lim, QG_E_BAD_REQUEST);
    /* ...bytes past the limit are not examined. */
    fails_lim("GET /zzzzzzzzzzzzzzzzzzzzzzzzzzz\x01 HTTP/1.1\r\n\r\n", &lim, QG_E_URI_TOO_LONG);
}

static void
test_head_at_limit(void **state)
{
    gw_intake_limits lim = limits();
    size_t max = lim.max_head;
    char *s = malloc(max + 2);
    const char *start = "GET / HTTP/1.1\r\nX: ";
    memcpy(s, start, strlen(start));
    memset(s + strlen(start), 'v', max - strlen(start) - 4);
    memcpy(s + max - 4, "\r\n\r\n", 4);
    gw_head h;
    qg_error e;
    assert_int_equal(gw_intake_head(s, max, &lim, &h, &e), GW_INTAKE_OK);
    assert_int_equal(h.head_len, max);
    /* One byte more. */
    memset(s + strlen(start), 'v', max - strlen(start) - 3);
    memcpy(s + max - 3, "\r\n\r\n", 4);
    fails_n(s, max + 1, &lim, QG_E_HEADERS_TOO_LARGE);
    assert_int_equal(qg_err_http(QG_E_HEADERS_TOO_LARGE), 431);
    free(s);
}

static void
test_head_over_limit_incomplete(void **state)
{
    gw_intake_limits lim = limits();
    lim.max_head = 64;
    char s[200];
    memset(s, 0, sizeof(s));
    strcpy(s, "GET / HTTP/1.1\r\nX: ");
    memset(s + strlen(s), 'v', sizeof(s) - 1 - strlen(s));
    /* 63 bytes with no blank line could still end at 64: wait. */
    assert_true(needs_more(s, 63, &lim));
    /* 64 bytes with no end: any head would be longer. */
    fails_n(s, 64, &lim, QG_E_HEADERS_TOO_LARGE);
    fails_n(s, 150, &lim, QG_E_HEADERS_TOO_LARGE);
    /* The blank line is what ends the head, even if the bytes lack it. */
    memset(s, 0, sizeof(s));
    strcpy(s, "GET / HTTP/1.1\r\nX: ");
    memset(s + strlen(s), 'v', 64 - 3 - strlen(s));
    strcat(s, "\r\n\r");
    assert_int_equal(strlen(s), 64);
    fails_n(s, 64, &lim, QG_E_HEADERS_TOO_LARGE);
    /* Leading empty lines count. */
    lim.max_head = 20;
    ok_lim("\r\nGET / HTTP/1.1\r\n\r\n", &lim);
    fails_lim("\r\n\r\nGET / HTTP/1.1\r\n\r\n", &lim, QG_E_HEADERS_TOO_LARGE);
}

static void
test_header_count(void **state)
{
    gw_intake_limits lim = limits();
    char *s = malloc(8192);
    strcpy(s, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 100; i++)
        sprintf(s + strlen(s), "X-%d: v\r\n", i);
    strcat(s, "\r\n");
    gw_head h;
    qg_error e;
    assert_int_equal(gw_intake_head(s, strlen(s), &lim, &h, &e), GW_INTAKE_OK);
    assert_int_equal(h.nheaders, 100);
    s[strlen(s) - 2] = '\0';
    strcat(s, "X-100: v\r\n\r\n");
    assert_int_equal(gw_intake_head(s, strlen(s), &lim, &h, &e), GW_INTAKE_ERROR);
    assert_int_equal(e.code, QG_E_HEADERS_TOO_LARGE);
    free(s);
}

static void
test_header_count_small(void **state)
{
    gw_intake_limits lim = limits();
    lim.max_headers = 2;
    ok_lim("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n", &lim);
    fails_lim("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", &lim, QG_E_HEADERS_TOO_LARGE);
    /* Counted before the third field is judged. */
    fails_lim("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n : 3\r\n\r\n", &lim, QG_E_HEADERS_TOO_LARGE);
    lim.max_headers = 0;
    ok_lim("GET / HTTP/1.1\r\n\r\n", &lim);
    fails_lim("GET / HTTP/1.1\r\nA: 1\r\n\r\n", &lim, QG_E_HEADERS_TOO_LARGE);
}

/* ---- gw_intake_find ---------------------------------------------------- */

static void
test_find(void **state)
{
    const char *s = "GET /host: HTTP/1.1\r\nHost:  db:8080 \t\r\nX-A: 1\r\nx-a: 2\r\n"
                    "Empty:\r\n\r\nHidden: after\r\n";
    gw_head h = ok_n(s, strlen(s), &(gw_intake_limits){4000, 32768, 100, 1});
    const char *v;
    size_t n;
    assert_int_equal(gw_intake_find(s, &h, "host", &v, &n), 1);
    assert_int_equal(n, 7);
    assert_memory_equal(v, "db:8080", 7);
    assert_int_equal(gw_intake_find(s, &h, "X-a", &v, &n), 1);
    assert_memory_equal(v, "1", n);
    assert_int_equal(gw_intake_find(s, &h, "EMPTY", &v, &n), 1);
    assert_int_equal(n, 0);
    assert_int_equal(gw_intake_find(s, &h, "Hos", &v, &n), 0);
    assert_int_equal(gw_intake_find(s, &h, "Hostx", &v, &n), 0);
    assert_int_equal(gw_intake_find(s, &h, "Hidden", &v, &n), 0);
    assert_int_equal(gw_intake_find(s, &h, "GET /host", &v, &n), 0);
    assert_int_equal(gw_intake_find(s, &h, "", &v, &n), 0);
}

static void
test_find_lf_and_skip(void **state)
{
    const char *s = "\n\r\nPOST / HTTP/1.1\nContent-Type:application/json\nA:\tb c\t\n\n";
    gw_head h = ok(s);
    const char *v;
    size_t n;
    assert_int_equal(gw_intake_find(s, &h, "content-type", &v, &n), 1);
    assert_int_equal(n, strlen("application/json"));
    assert_memory_equal(v, "application/json", n);
    assert_int_equal(gw_intake_find(s, &h, "a", &v, &n), 1);
    assert_int_equal(n, 3);
    assert_memory_equal(v, "b c", 3);
}

/* ---- chunked bodies ---------------------------------------------------- */

struct dechunk {
    ssize_t consumed; /* -1: failed */
    bool done;
    qg_code code;
    qg_buf out;
};

/* Feeds s[0..n) in pieces of step bytes (each in a buffer of its own, so
 * ASan sees reads past it), stopping at the end of the body. */
static struct dechunk
dechunk_steps(const char *s, size_t n, uint64_t max_body, size_t step)
{
    struct dechunk d = {0, false, QG_OK, QG_BUF_INIT};
    gw_chunked c;
    gw_chunked_init(&c, max_body);
    size_t i = 0;
    while (i < n) {
        size_t m = n - i < step ? n - i : step;
        char *piece = malloc(m);
        assert_non_null(piece);
        memcpy(piece, s + i, m);
        bool done = true;
        qg_error e;
        ssize_t k = gw_chunked_feed(&c, piece, m, &d.out, &done, &e);
        free(piece);
        if (k < 0) {
            d.consumed = -1;
            d.code = e.code;
            return d;
        }
        assert_true((size_t)k <= m);
        d.consumed += k;
        i += (size_t)k;
        if (done) {
            d.done = true;
            return d;
        }
        assert_int_equal(k, m);
    }
    return d;
}

/* De-chunks s whole, one byte at a time, and in every two-piece split;
 * all must agree. */
static struct dechunk
dechunk(const char *s, size_t n, uint64_t max_body)
{
    struct dechunk whole = dechunk_steps(s, n, max_body, n ? n : 1);
    struct dechunk one = dechunk_steps(s, n, max_body, 1);
    assert_int_equal(one.consumed, whole.consumed);
    assert_int_equal(one.done, whole.done);
    assert_int_equal(one.code, whole.code);
    if (whole.consumed >= 0) {
        assert_int_equal(one.out.len, whole.out.len);
        if (whole.out.len)
            assert_memory_equal(one.out.data, whole.out.data, whole.out.len);
    }
    qg_buf_free(&one.out);
    for (size_t cut = 0; cut <= n; cut++) {
        struct dechunk d = {0, false, QG_OK, QG_BUF_INIT};
        gw_chunked c;
        gw_chunked_init(&c, max_body);
        bool done = false;
        qg_error e;
        ssize_t k1 = gw_chunked_feed(&c, s, cut, &d.out, &done, &e);
        if (k1 >= 0 && !done) {
            assert_int_equal(k1, cut);
            ssize_t k2 = gw_chunked_feed(&c, s + cut, n - cut, &d.out, &done, &e);
            k1 = k2 < 0 ? -1 : k1 + k2;
        }
        if (whole.consumed < 0) {
            assert_int_equal(k1, -1);
            assert_int_equal(e.code, whole.code);
        } else {
            assert_int_equal(k1, whole.consumed);
            assert_int_equal(done, whole.done);
            assert_int_equal(d.out.len, whole.out.len);
            if (whole.out.len)
                assert_memory_equal(d.out.data, whole.out.data, whole.out.len);
        }
        qg_buf_free(&d.out);
    }
    return whole;
}

static void
dechunk_ok(const char *s, const char *payload, size_t body_len)
{
    struct dechunk d = dechunk(s, strlen(s), 1 << 20);
    if (d.consumed < 0)
        print_error("failed with %s\n", qg_err_name(d.code));
    assert_int_equal(d.consumed, body_len);
    assert_true(d.done);
    assert_int_equal(d.out.len, strlen(payload));
    if (d.out.len)
        assert_memory_equal(d.out.data, payload, d.out.len);
    qg_buf_free(&d.out);
}

static void
dechunk_fails(const char *s, uint64_t max_body, qg_code code)
{
    struct dechunk d = dechunk(s, strlen(s), max_body);
    assert_int_equal(d.consumed, -1);
    assert_int_equal(d.code, code);
    qg_buf_free(&d.out);
}

static void
test_chunked_simple(void **state)
{
    const char *s = "5\r\nhello\r\n0\r\n\r\n";
    dechunk_ok(s, "hello", strlen(s));
}

static void
test_chunked_several(void **state)
{
    const char *s = "3\r\nabc\r\na\r\n0123456789\r\nA\r\nABCDEFGHIJ\r\n1\r\nz\r\n0\r\n\r\n";
    dechunk_ok(s, "abc0123456789ABCDEFGHIJz", strlen(s));
}

static void
test_chunked_hex_case(void **state)
{
    char s[200];
    char payload[64];
    memset(payload, 'p', 0x2f);
    payload[0x2f] = '\0';
    snprintf(s, sizeof(s), "2F\r\n%s\r\n0\r\n\r\n", payload);
    dechunk_ok(s, payload, strlen(s));
    snprintf(s, sizeof(s), "2f\r\n%s\r\n0\r\n\r\n", payload);
    dechunk_ok(s, payload, strlen(s));
    snprintf(s, sizeof(s), "00002f\r\n%s\r\n000\r\n\r\n", payload);
    dechunk_ok(s, payload, strlen(s));
}

static void
test_chunked_empty_body(void **state)
{
    dechunk_ok("0\r\n\r\n", "", 5);
    dechunk_ok("0\n\n", "", 3);
}

static void
test_chunked_lf_only(void **state)
{
    const char *s = "4\nwiki\n5\npedia\n0\n\n";
    dechunk_ok(s, "wikipedia", strlen(s));
}

static void
test_chunked_binary_payload(void **state)
{
    const char s[] = "6\r\n\r\n\0\n0\r\r\n0\r\n\r\n";
    struct dechunk d = dechunk(s, sizeof(s) - 1, 100);
    assert_int_equal(d.consumed, sizeof(s) - 1);
    assert_true(d.done);
    assert_int_equal(d.out.len, 6);
    assert_memory_equal(d.out.data, "\r\n\0\n0\r", 6);
    qg_buf_free(&d.out);
}

static void
test_chunked_extensions(void **state)
{
    const char *s = "5;name=value\r\nhello\r\n6;a;b=\"x;y\\\"z\"\r\n world\r\n0;last\r\n\r\n";
    dechunk_ok(s, "hello world", strlen(s));
    /* Whitespace is allowed before an extension (BWS), not alone. */
    s = "5 ;x\r\nhello\r\n0\t ; y\r\n\r\n";
    dechunk_ok(s, "hello", strlen(s));
    dechunk_fails("5 \r\nhello\r\n0\r\n\r\n", 100, QG_E_BAD_REQUEST);
    dechunk_fails("5\t\r\nhello\r\n0\r\n\r\n", 100, QG_E_BAD_REQUEST);
    dechunk_fails("5;a\x01\r\nhello\r\n0\r\n\r\n", 100, QG_E_BAD_REQUEST);
}

static void
test_chunked_trailers(void **state)
{
    const char *s = "5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-Other:\tv w\r\n\r\n";
    dechunk_ok(s, "hello", strlen(s));
    s = "5\nhello\n0\nX-Checksum: abc\n\n";
    dechunk_ok(s, "hello", strlen(s));
}

static void
test_chunked_bad_trailers(void **state)
{
    dechunk_fails("0\r\nX: a\r\n b\r\n\r\n", 100, QG_E_BAD_REQUEST);
    dechunk_fails("0\r\n\tb\r\n\r\n", 100, QG_E_BAD_REQUEST);
    dechunk_fails("0\r\nX y: a\r\n\r\n", 100, QG_E_BAD_REQUEST);
    dechunk_fails("0\r\n: a\r\n\r\n", 100, QG_E_BAD_REQUEST);
    dechunk_fails("0\r\nX: a\x01"
                  "b\r\n\r\n",
                  100, QG_E_BAD_REQUEST);
    dechunk_fails("0\r\nX: a\rb\r\n\r\n", 100, QG_E_BAD_REQUEST);
    dechunk_fails("0\r\nX: a\r\n\rx", 100, QG_E_BAD_REQUEST);
    dechunk_fails("0\r\n\rx", 100, QG_E_BAD_REQUEST);
}

static void
test_chunked_pipelined(void **state)
{
    const char *body = "5\r\nhello\r\n0\r\nT: 1\r\n\r\n";
    char s[200];
    snprintf(s, sizeof(s), "%sGET / HTTP/1.1\r\n\r\n", body);
    dechunk_ok(s, "hello", strlen(body));
    /* Also when the next request arrives in the same read as the end. */
    gw_chunked c;
    gw_chunked_init(&c, 100);
    qg_buf out = QG_BUF_INIT;
    bool done = false;
    qg_error e;
    assert_int_equal(gw_chunked_feed(&c, s, 10, &out, &done, &e), 10);
    assert_false(done);
    assert_int_equal(gw_chunked_feed(&c, s + 10, strlen(s) - 10, &out, &done, &e),
                     strlen(body) - 10);
    assert_true(done);
    /* A finished body takes nothing more. */
    assert_int_equal(gw_chunked_feed(&c, "x", 1, &out, &done, &e), 0);
    assert_true(done);
    assert_int_equal(out.len, 5);
    qg_buf_free(&out);
}

static void
test_chunked_incomplete(void **state)
{
    const char *s = "5\r\nhello\r\n0\r\n\r";
    struct dechunk d = dechunk(s, strlen(s), 100);
    assert_int_equal(d.consumed, strlen(s));
    assert_false(d.done);
    assert_int_equal(d.out.len, 5);
    qg_buf_free(&d.out);
    gw_chunked c;
    gw_chunked_init(&c, 100);
    bool done = true;
    qg_error e;
    assert_int_equal(gw_chunked_feed(&c, "", 0, NULL, &done, &e), 0);
    assert_false(done);
}

static void
test_chunked_over_limit_declared(void **state)
{
    /* Refused on the size line: the 11 bytes never need to arrive. */
    dechunk_fails("b\r\n", 10, QG_E_BODY_TOO_LARGE);
    dechunk_fails("b;ext\r\n", 10, QG_E_BODY_TOO_LARGE);
    dechunk_fails("ffffffffffffffff\r\n", 1 << 20, QG_E_BODY_TOO_LARGE);
    dechunk_fails("6\r\nabcdef\r\n5\r\n", 10, QG_E_BODY_TOO_LARGE);
    dechunk_fails("1\r\na\r\n1\r\nb\r\n1\r\nc\r\n", 2, QG_E_BODY_TOO_LARGE);
    gw_chunked c;
    gw_chunked_init(&c, 10);
    qg_error e;
    bool done;
    assert_int_equal(gw_chunked_feed(&c, "b\r\n", 3, NULL, &done, &e), -1);
    assert_string_equal(e.msg, "ASX0906: Request body too large (limit 10 bytes)");
}

static void
test_chunked_at_limit(void **state)
{
    const char *s = "6\r\nabcdef\r\n4\r\nghij\r\n0\r\n\r\n";
    struct dechunk d = dechunk(s, strlen(s), 10);
    assert_int_equal(d.consumed, strlen(s));
    assert_true(d.done);
    assert_int_equal(d.out.len, 10);
    qg_buf_free(&d.out);
    d = dechunk("0\r\n\r\n", 5, 0);
    assert_true(d.done);
    qg_buf_free(&d.out);
}

static void
test_chunked_bad_size(void **state)
{
    dechunk_fails("g\r\n", 100, QG_E_BAD_REQUEST);
    dechunk_fails("0x5\r\nhello\r\n0\r\n\r\n", 100, QG_E_BAD_REQUEST);
    dechunk_fails("\r\n", 100, QG_E_BAD_REQUEST);
    dechunk_fails(";ext\r\n", 100, QG_E_BAD_REQUEST);
    dechunk_fails(" 5\r\nhello\r\n", 100, QG_E_BAD_REQUEST);
    dechunk_fails("-5\r\n", 100, QG_E_BAD_REQUEST);
    dechunk_fails("+5\r\n", 100, QG_E_BAD_REQUEST);
    dechunk_fails("5\rX", 100, QG_E_BAD_REQUEST);
    dechunk_fails("5\r\r\n", 100, QG_E_BAD_REQUEST);
}

static void
test_chunked_size_overflow(void **state)
{
    dechunk_fails("10000000000000000\r\n", UINT64_MAX, QG_E_BAD_REQUEST);
    dechunk_fails("fffffffffffffffff\r\n", UINT64_MAX, QG_E_BAD_REQUEST);
    /* Leading zeros do not overflow. */
    const char *s = "00000000000000000000000000000001\r\nx\r\n0\r\n\r\n";
    dechunk_ok(s, "x", strlen(s));
}

static void
test_chunked_missing_crlf(void **state)
{
    dechunk_fails("5\r\nhelloX\r\n0\r\n\r\n", 100, QG_E_BAD_REQUEST);
    dechunk_fails("5\r\nhello\rX0\r\n\r\n", 100, QG_E_BAD_REQUEST);
    dechunk_fails("5\r\nhello0\r\n\r\n", 100, QG_E_BAD_REQUEST);
    dechunk_fails("5\r\nhello\r\n0\r\nX\r\n\r\n", 100, QG_E_BAD_REQUEST);
}

static void
test_chunked_line_bounds(void **state)
{
    /* A size line of exactly 4096 bytes passes, 4097 does not. */
    size_t cap = 4096 + 64;
    char *s = malloc(cap);
    memcpy(s, "5;", 2);
    memset(s + 2, 'e', 4094);
    strcpy(s + 4096, "\r\nhello\r\n0\r\n\r\n");
    dechunk_ok(s, "hello", strlen(s));
    memcpy(s, "5;", 2);
    memset(s + 2, 'e', 4095);
    strcpy(s + 4097, "\r\nhello\r\n0\r\n\r\n");
    dechunk_fails(s, 100, QG_E_BAD_REQUEST);
    /* So is a size of 4097 digits, even if all zeros. */
    memset(s, '0', 4096);
    strcpy(s + 4096, "\r\n\r\n");
    dechunk_ok(s, "", strlen(s));
    memset(s, '0', 4097);
    strcpy(s + 4097, "\r\n\r\n");
    dechunk_fails(s, 100, QG_E_BAD_REQUEST);
    free(s);
}

static void
test_chunked_trailer_bound(void **state)
{
    size_t cap = 4096 + 64;
    char *s = malloc(cap);
    strcpy(s, "0\r\nX: ");
    size_t pre = strlen(s);
    memset(s + pre, 't', 4096 - 3);
    strcpy(s + pre + 4096 - 3, "\r\n\r\n");
    dechunk_ok(s, "", strlen(s));
    memset(s + pre, 't', 4096 - 2);
    strcpy(s + pre + 4096 - 2, "\r\n\r\n");
    dechunk_fails(s, 100, QG_E_BAD_REQUEST);
    free(s);
}

static void
test_chunked_error_sticks(void **state)
{
    gw_chunked c;
    gw_chunked_init(&c, 100);
    qg_error e;
    bool done = true;
    assert_int_equal(gw_chunked_feed(&c, "z", 1, NULL, &done, &e), -1);
    assert_int_equal(e.code, QG_E_BAD_REQUEST);
    assert_false(done);
    assert_int_equal(gw_chunked_feed(&c, "0\r\n\r\n", 5, NULL, &done, &e), -1);
    assert_int_equal(e.code, QG_E_BAD_REQUEST);
}

static void
test_chunked_large_payload(void **state)
{
    /* Payload crosses many reads of odd sizes; ends exactly at max_body. */
    size_t n = 100000;
    qg_buf s = QG_BUF_INIT;
    qg_buf_printf(&s, "%zx\r\n", n);
    for (size_t i = 0; i < n; i++)
        qg_buf_addc(&s, (char)('a' + i % 26));
    qg_buf_addlit(&s, "\r\n0\r\n\r\n");
    for (size_t step = 1; step < 5000; step = step * 3 + 1) {
        struct dechunk d = dechunk_steps(s.data, s.len, n, step);
        assert_int_equal(d.consumed, s.len);
        assert_true(d.done);
        assert_int_equal(d.out.len, n);
        assert_int_equal(d.out.data[n - 1], 'a' + (n - 1) % 26);
        qg_buf_free(&d.out);
    }
    struct dechunk d = dechunk_steps(s.data, s.len, n - 1, 7);
    assert_int_equal(d.consumed, -1);
    assert_int_equal(d.code, QG_E_BODY_TOO_LARGE);
    assert_int_equal(d.out.len, 0);
    qg_buf_free(&d.out);
    qg_buf_free(&s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_simple),
        cmocka_unit_test(test_post_with_length),
        cmocka_unit_test(test_options_star),
        cmocka_unit_test(test_methods),
        cmocka_unit_test(test_lf_endings),
        cmocka_unit_test(test_mixed_endings),
        cmocka_unit_test(test_leading_empty_lines),
        cmocka_unit_test(test_leading_empty_lines_bound),
        cmocka_unit_test(test_absolute_form),
        cmocka_unit_test(test_http10_defaults),
        cmocka_unit_test(test_connection_header),
        cmocka_unit_test(test_connection_headers_combine),
        cmocka_unit_test(test_expect),
        cmocka_unit_test(test_header_values_allowed),
        cmocka_unit_test(test_target_bytes_allowed),
        cmocka_unit_test(test_empty_input),
        cmocka_unit_test(test_limits_default),
        cmocka_unit_test(test_splits_with_pipelined_bytes),
        cmocka_unit_test(test_splits_chunked_head),
        cmocka_unit_test(test_splits_lf_head),
        cmocka_unit_test(test_early_reject_garbage),
        cmocka_unit_test(test_bare_cr),
        cmocka_unit_test(test_bad_method),
        cmocka_unit_test(test_multiple_spaces),
        cmocka_unit_test(test_no_version),
        cmocka_unit_test(test_version_unsupported),
        cmocka_unit_test(test_version_garbage),
        cmocka_unit_test(test_target_form),
        cmocka_unit_test(test_target_bytes),
        cmocka_unit_test(test_target_form_before_bad_byte),
        cmocka_unit_test(test_space_before_colon),
        cmocka_unit_test(test_bad_field_name),
        cmocka_unit_test(test_obs_fold),
        cmocka_unit_test(test_value_controls),
        cmocka_unit_test(test_length_plain),
        cmocka_unit_test(test_length_leading_zeros),
        cmocka_unit_test(test_length_not_digits),
        cmocka_unit_test(test_length_overflow),
        cmocka_unit_test(test_length_repeated),
        cmocka_unit_test(test_length_body_limit),
        cmocka_unit_test(test_te_chunked),
        cmocka_unit_test(test_te_not_implemented),
        cmocka_unit_test(test_te_message),
        cmocka_unit_test(test_te_with_length),
        cmocka_unit_test(test_te_http10),
        cmocka_unit_test(test_request_line_at_limit),
        cmocka_unit_test(test_request_line_over_limit),
        cmocka_unit_test(test_request_line_over_limit_incomplete),
        cmocka_unit_test(test_request_line_small_limit),
        cmocka_unit_test(test_head_at_limit),
        cmocka_unit_test(test_head_over_limit_incomplete),
        cmocka_unit_test(test_header_count),
        cmocka_unit_test(test_header_count_small),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_find_lf_and_skip),
        cmocka_unit_test(test_chunked_simple),
        cmocka_unit_test(test_chunked_several),
        cmocka_unit_test(test_chunked_hex_case),
        cmocka_unit_test(test_chunked_empty_body),
        cmocka_unit_test(test_chunked_lf_only),
        cmocka_unit_test(test_chunked_binary_payload),
        cmocka_unit_test(test_chunked_extensions),
        cmocka_unit_test(test_chunked_trailers),
        cmocka_unit_test(test_chunked_bad_trailers),
        cmocka_unit_test(test_chunked_pipelined),
        cmocka_unit_test(test_chunked_incomplete),
        cmocka_unit_test(test_chunked_over_limit_declared),
        cmocka_unit_test(test_chunked_at_limit),
        cmocka_unit_test(test_chunked_bad_size),
        cmocka_unit_test(test_chunked_size_overflow),
        cmocka_unit_test(test_chunked_missing_crlf),
        cmocka_unit_test(test_chunked_line_bounds),
        cmocka_unit_test(test_chunked_trailer_bound),
        cmocka_unit_test(test_chunked_error_sticks),
        cmocka_unit_test(test_chunked_large_payload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
