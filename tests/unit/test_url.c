/* Unit tests for gateway/url: callback URLs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gateway/url.h"

static gw_url
parse_ok(const char *s)
{
    gw_url u;
    /* an exact-size copy: ASan sees any read past the end */
    size_t n = strlen(s);
    char *p = malloc(n);
    memcpy(p, s, n);
    if (gw_url_parse(p, n, &u) != 0)
        fail_msg("refused: %s", s);
    /* the target points into the text: check it before the copy dies */
    static char target[GW_URL_MAX + 1];
    memcpy(target, u.target, u.target_len);
    target[u.target_len] = '\0';
    u.target = target;
    free(p);
    return u;
}

static void
test_accepted(void **state)
{
    gw_url u = parse_ok("http://127.0.0.1:8080/hook?x=1&y=%20");
    assert_false(u.https);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 8080);
    assert_true(u.port_given);
    assert_string_equal(u.target, "/hook?x=1&y=%20");
    u = parse_ok("HTTPS://Hooks.Example.COM");
    assert_true(u.https);
    assert_string_equal(u.host, "hooks.example.com");
    assert_int_equal(u.port, 443);
    assert_false(u.port_given);
    assert_string_equal(u.target, "/");
    u = parse_ok("http://[::1]:9000?q");
    assert_true(u.ipv6);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 9000);
    assert_string_equal(u.target, "?q");
    char host[300];
    gw_url_host_header(&u, host, sizeof(host));
    assert_string_equal(host, "[::1]:9000");
    u = parse_ok("http://h");
    gw_url_host_header(&u, host, sizeof(host));
    assert_string_equal(host, "h");
    assert_int_equal(u.port, 80);
}

static void
test_refused(void **state)
{
    static const char *bad[] = {
        "",
        "127.0.0.1/x",
        "ftp://h/x",
        "http:/h/x",
        "http://",
        "http:///x",
        "http://u@h/x",
        "http://u:p@h/x",
        "http://h/a b",
        "http://h/a#frag",
        "http://h/\x01",
        "http://h/\xc3\xa9",
        "http://h:0/",
        "http://h:65536/",
        "http://h:123456/",
        "http://h:/",
        "http://h:x/",
        "http://[::1/",
        "http://[zz]/",
        "http://-h/",
        "http://h_h/",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        gw_url u;
        if (gw_url_parse(bad[i], strlen(bad[i]), &u) == 0)
            fail_msg("accepted: %s", bad[i]);
    }
    char *big = malloc(GW_URL_MAX + 2);
    memcpy(big, "http://h/", 9);
    memset(big + 9, 'a', GW_URL_MAX + 1 - 9);
    gw_url u;
    assert_int_equal(gw_url_parse(big, GW_URL_MAX, &u), 0);
    assert_int_equal(gw_url_parse(big, GW_URL_MAX + 1, &u), -1);
    free(big);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
