/* Unit tests for gateway/allow: the callback host allow-list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gateway/allow.h"

static void
test_matching(void **state)
{
    gw_allow a;
    char err[300];
    assert_int_equal(gw_allow_parse(" hooks.example.com , *.internal:*, 127.0.0.1:*, "
                                    "[::1]:9000,Api.Example.org:8443,,",
                                    &a, err, sizeof(err)),
                     0);
    assert_int_equal(a.n, 5);
    struct {
        const char *host;
        int port;
        bool ok;
    } cases[] = {
        {"hooks.example.com", 80, true},
        {"HOOKS.example.com", 80, true},
        {"hooks.example.com", 8080, false}, /* no port in the pattern: 80 only */
        {"x.hooks.example.com", 80, false},
        {"a.internal", 1, true},
        {"a.b.internal", 65535, true},
        {"internal", 80, false}, /* *.x is the subdomains, not x */
        {"evilinternal", 80, false},
        {"127.0.0.1", 9, true},
        {"127.0.0.2", 9, false},
        {"::1", 9000, true},
        {"0:0:0:0:0:0:0:1", 9000, true}, /* addresses compare as addresses */
        {"::1", 9001, false},
        {"api.example.org", 8443, true},
        {"api.example.org", 443, false},
        {"example.com", 80, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (gw_allow_match(&a, cases[i].host, cases[i].port) != cases[i].ok)
            fail_msg("%s:%d should %s", cases[i].host, cases[i].port,
                     cases[i].ok ? "match" : "not match");
    gw_allow_free(&a);

    /* empty: nothing is allowed; "*:*": everything */
    assert_int_equal(gw_allow_parse("", &a, err, sizeof(err)), 0);
    assert_int_equal(a.n, 0);
    assert_false(gw_allow_match(&a, "127.0.0.1", 80));
    gw_allow_free(&a);
    assert_int_equal(gw_allow_parse("*:*", &a, err, sizeof(err)), 0);
    assert_true(gw_allow_match(&a, "anything.example", 1));
    assert_true(gw_allow_match(&a, "10.1.2.3", 8080));
    gw_allow_free(&a);
    assert_int_equal(gw_allow_parse("*", &a, err, sizeof(err)), 0);
    assert_true(gw_allow_match(&a, "h", 80));
    assert_false(gw_allow_match(&a, "h", 81));
    gw_allow_free(&a);
}

static void
test_refused_patterns(void **state)
{
    static const char *bad[] = {
        "http://h", "h/x",  "h:0",  "h:65536",    "h:x",          "h:",  "*.",
        "*.h:",     "**.h", "h*.x", "[::1",       "[zz]:80",      "::1", "[::1]x:80",
        "a..b",     "-:80", "h_h",  "1.2.3.4:*x", "[1.2.3.4]:80",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        gw_allow a;
        char err[300];
        if (gw_allow_parse(bad[i], &a, err, sizeof(err)) == 0)
            fail_msg("accepted: %s", bad[i]);
        assert_non_null(strstr(err, "--callback-allow"));
        assert_int_equal(a.n, 0);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matching),
        cmocka_unit_test(test_refused_patterns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
