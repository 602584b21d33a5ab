/* Unit tests for gateway/cors: the --cors-origins list and the verdicts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "gateway/cors.h"

static void
test_parse(void **state)
{
    gw_cors c;
    char err[256];
    assert_int_equal(gw_cors_parse("", &c, err, sizeof(err)), 0);
    assert_int_equal(c.n, 0);
    gw_cors_free(&c);
    assert_int_equal(
        gw_cors_parse(" HTTPS://App.Example , http://localhost:8080,,", &c, err, sizeof(err)), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.v[0], "https://app.example");
    assert_string_equal(c.v[1], "http://localhost:8080");
    gw_cors_free(&c);
    assert_int_equal(gw_cors_parse("http://[::1]:3000", &c, err, sizeof(err)), 0);
    gw_cors_free(&c);

    const char *bad[] = {"null",
                         "*",
                         "https://a.example/",
                         "https://a.example/x",
                         "a.example",
                         "ftp://a.example",
                         "https://",
                         "https://a b",
                         "https://a.example:123456",
                         "https://ok.example, null"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(gw_cors_parse(bad[i], &c, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "--cors-origins"));
        assert_int_equal(c.n, 0);
    }
}

static void
test_check(void **state)
{
    gw_cors c;
    char err[256];
    assert_int_equal(gw_cors_parse("https://app.example", &c, err, sizeof(err)), 0);
    assert_int_equal(gw_cors_check(&c, NULL, "h"), GW_CORS_NONE);
    assert_int_equal(gw_cors_check(&c, "https://app.example", "qgate:19002"), GW_CORS_LISTED);
    /* exact: case, port, path and suffixes matter */
    assert_int_equal(gw_cors_check(&c, "https://APP.example", "q"), GW_CORS_REFUSED);
    assert_int_equal(gw_cors_check(&c, "https://app.example:443", "q"), GW_CORS_REFUSED);
    assert_int_equal(gw_cors_check(&c, "https://app.example.evil", "q"), GW_CORS_REFUSED);
    assert_int_equal(gw_cors_check(&c, "http://app.example", "q"), GW_CORS_REFUSED);
    assert_int_equal(gw_cors_check(&c, "null", "q"), GW_CORS_REFUSED);
    assert_int_equal(gw_cors_check(&c, "", "q"), GW_CORS_REFUSED);
    /* a page qgate serves itself */
    assert_int_equal(gw_cors_check(&c, "http://qgate:19002", "qgate:19002"), GW_CORS_SAME);
    assert_int_equal(gw_cors_check(&c, "https://QGATE:19002", "qgate:19002"), GW_CORS_SAME);
    assert_int_equal(gw_cors_check(&c, "http://qgate:19003", "qgate:19002"), GW_CORS_REFUSED);
    assert_int_equal(gw_cors_check(&c, "null", "null"), GW_CORS_REFUSED);
    assert_int_equal(gw_cors_check(&c, "http://qgate", NULL), GW_CORS_REFUSED);
    gw_cors_free(&c);
    /* no list at all */
    assert_int_equal(gw_cors_check(NULL, "https://app.example", "q"), GW_CORS_REFUSED);
    assert_int_equal(gw_cors_check(NULL, NULL, "q"), GW_CORS_NONE);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
