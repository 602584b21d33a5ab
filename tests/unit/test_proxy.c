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
    char proto[8], host[256], err[128];
    const char *po, *ho;
    gw_proxies p;
    assert_int_equal(gw_proxies_parse("10.0.0.0/8, 127.0.0.1", &p, err, sizeof(err)), 0);
    /* the element the nearest proxy wrote: the last one */
    gw_forwarded_parse("for=192.0.2.60;proto=https;host=\"db.example.com:8443\"", &p, proto, host,
                       &po, &ho);
    assert_string_equal(po, "https");
    assert_string_equal(ho, "db.example.com:8443");
    /* a client's own element on the left is never read */
    gw_forwarded_parse("host=evil.example;proto=https, for=192.0.2.60;host=front.example", &p,
                       proto, host, &po, &ho);
    assert_null(po);
    assert_string_equal(ho, "front.example");
    /* for= a trusted proxy: that proxy's proxy wrote the element before */
    gw_forwarded_parse("host=evil.example, for=198.51.100.7;host=public.example;proto=https, "
                       "for=\"10.1.2.3:5555\";host=internal:8080;proto=http",
                       &p, proto, host, &po, &ho);
    assert_string_equal(po, "https");
    assert_string_equal(ho, "public.example");
    gw_forwarded_parse("for=127.0.0.1;host=a.example, for=\"[2001:db8::1]\";host=b.example", &p,
                       proto, host, &po, &ho);
    assert_string_equal(ho, "b.example");
    /* every element from a trusted proxy: the first is all there is */
    gw_forwarded_parse("for=10.0.0.1;host=first.example, for=10.0.0.2;host=second.example", &p,
                       proto, host, &po, &ho);
    assert_string_equal(ho, "first.example");
    /* commas and semicolons inside quotes are not separators */
    gw_forwarded_parse("host=\"x,y\", for=\"10.0.0.1;x\";host=q.example", &p, proto, host, &po,
                       &ho);
    assert_string_equal(ho, "q.example");
    gw_forwarded_parse("Proto=HTTP ; Host=evil.com/x", &p, proto, host, &po, &ho);
    assert_string_equal(po, "HTTP");
    assert_null(ho); /* '/' is not a host character */
    gw_forwarded_parse("proto=ftp", &p, proto, host, &po, &ho);
    assert_null(po);
    gw_forwarded_parse(NULL, &p, proto, host, &po, &ho);
    assert_null(po);
    assert_null(ho);
    gw_proxies_free(&p);
}

static void
test_loopback(void **state)
{
    const char *yes[] = {"127.0.0.1", "127.1.2.3", "::1",
                         "localhost", "LOCALHOST", "::ffff:127.0.0.1"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        assert_true(gw_host_is_loopback(yes[i]));
    const char *no[] = {"0.0.0.0",     "::",         "10.0.0.1", "192.168.1.2",
                        "2001:db8::1", "db.example", "",         "128.0.0.1"};
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        assert_false(gw_host_is_loopback(no[i]));
    assert_false(gw_host_is_loopback(NULL));
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
        cmocka_unit_test(test_parse_and_trust),  cmocka_unit_test(test_forwarded_for),
        cmocka_unit_test(test_forwarded_header), cmocka_unit_test(test_hosts),
        cmocka_unit_test(test_loopback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
