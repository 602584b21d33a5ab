/* Unit tests for gateway/proxy: CIDRs, trust, forwarded headers, host checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "gateway/proxy.h"

static bool
trust(const gw_proxies *p, const char *ip)
{
    return gw_proxies_trust_text(p, ip, strlen(ip));
}

static void
test_parse_and_trust(void **state)
{
    gw_proxies p;
    char err[128];
    assert_int_equal(gw_proxies_parse(" 10.0.0.0/8, 127.0.0.1 ,::1, 2001:db8::/32,192.168.1.0/23", &p,
                                      err, sizeof(err)),
                     0);
    assert_int_equal(p.n, 5);
    assert_true(trust(&p, "10.255.1.2"));
    assert_false(trust(&p, "11.0.0.1"));
    assert_true(trust(&p, "127.0.0.1"));
    assert_false(trust(&p, "127.0.0.2"));
    assert_true(trust(&p, "::1"));
    assert_true(trust(&p, "::ffff:10.1.2.3")); /* mapped v4 */
    assert_true(trust(&p, "2001:db8:ffff::1"));
    assert_false(trust(&p, "2001:db9::1"));
    assert_true(trust(&p, "192.168.0.200")); /* /23 covers .0 and .1 */
    assert_true(trust(&p, "192.168.1.200"));
    assert_false(trust(&p, "192.168.2.1"));
    assert_false(trust(&p, "not-an-ip"));

    struct sockaddr_in sin = {.sin_family = AF_INET};
    inet_pton(AF_INET, "10.9.9.9", &sin.sin_addr);
    assert_true(gw_proxies_trust(&p, (struct sockaddr *)&sin));
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &s6.sin6_addr);
    assert_true(gw_proxies_trust(&p, (struct sockaddr *)&s6));
    gw_proxies_free(&p);

    assert_int_equal(gw_proxies_parse("", &p, err, sizeof(err)), 0);
    assert_int_equal(p.n, 0);
    assert_false(trust(&p, "127.0.0.1"));
    const char *bad[] = {"10.0.0.0/33", "::1/129", "1.2.3", "10.0.0.0/", "10.0.0.0/x", "host.local",
                         "10.0.0.0/-1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(gw_proxies_parse(bad[i], &p, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "--trusted-proxies"));
    }
}

static void
test_forwarded_for(void **state)
{
    gw_proxies p;
    char err[64], out[64];
    gw_proxies_parse("10.0.0.0/8", &p, err, sizeof(err));
    assert_true(gw_forwarded_client(&p, "203.0.113.7", out, sizeof(out)));
    assert_string_equal(out, "203.0.113.7");
    /* the rightmost untrusted address is the client; what is left of it
     * the client could have written itself */
    assert_true(gw_forwarded_client(&p, "1.1.1.1, 203.0.113.7, 10.0.0.5", out, sizeof(out)));
    assert_string_equal(out, "203.0.113.7");
    assert_true(gw_forwarded_client(&p, "[2001:db8::1]:4711, 10.1.1.1", out, sizeof(out)));
    assert_string_equal(out, "2001:db8::1");
    assert_true(gw_forwarded_client(&p, "198.51.100.2:5555", out, sizeof(out)));
    assert_string_equal(out, "198.51.100.2");
    assert_false(gw_forwarded_client(&p, "garbage", out, sizeof(out)));
    assert_false(gw_forwarded_client(&p, "", out, sizeof(out)));
    assert_true(gw_forwarded_client(&p, "junk, 10.0.0.9", out, sizeof(out)));
    assert_string_equal(out, "10.0.0.9"); /* all trusted, then junk: the last good one */
    gw_proxies_free(&p);
}

static void
test_forwarded_header(void **state)
{
    char proto[8], host[256];
    const char *po, *ho;
    gw_forwarded_parse("for=192.0.2.60;proto=https;host=\"db.example.com:8443\", for=1.2.3.4", proto,
                       host, &po, &ho);
    assert_string_equal(po, "https");
    assert_string_equal(ho, "db.example.com:8443");
    gw_forwarded_parse("Proto=HTTP ; Host=evil.com/x", proto, host, &po, &ho);
    assert_string_equal(po, "HTTP");
    assert_null(ho); /* '/' is not a host character */
    gw_forwarded_parse("proto=ftp", proto, host, &po, &ho);
    assert_null(po);
    gw_forwarded_parse(NULL, proto, host, &po, &ho);
    assert_null(po);
    assert_null(ho);
}

static void
test_hosts(void **state)
{
    const char *good[] = {"localhost", "db.example.com", "db.example.com:443", "127.0.0.1:19002",
                          "[::1]:8080", "[2001:db8::1]", "a-b.c"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(gw_valid_host(good[i], strlen(good[i])));
    const char *bad[] = {"", "evil.com/path", "a b", "x:", "x:123456", "[::1", "[1.2.3.4]:80",
                         "-lead", "host\r\nX: y", "user@host", "h:8o"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(gw_valid_host(bad[i], strlen(bad[i])));
    assert_true(gw_valid_proto("HTTPS", 5));
    assert_false(gw_valid_proto("httpx", 5));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_trust),
        cmocka_unit_test(test_forwarded_for),
        cmocka_unit_test(test_forwarded_header),
        cmocka_unit_test(test_hosts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
