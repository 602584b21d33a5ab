/* Unit tests for gateway/base: which Host values may go into a handle. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "gateway/base.h"

static int
valid(const char *s)
{
    return gw_host_valid(s, strlen(s));
}

static void
test_hosts_accepted(void **state)
{
    const char *ok[] = {"localhost",      "localhost:19002", "127.0.0.1",
                        "127.0.0.1:8080", "db.example.com",  "db-1.example_x.com:443",
                        "[::1]",          "[::1]:19002",     "[2001:db8::10]:1",
                        "A.B.C:65535"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (!valid(ok[i]))
            fail_msg("refused %s", ok[i]);
}

static void
test_hosts_refused(void **state)
{
    const char *bad[] = {"",       ":80",    "host:", "host:abc", "host:123456", "a b", "evil\"",
                         "a/b",    "x@y",    "h?q",   "h#f",      "[::1",        "[]",  "[::1]x",
                         "[::1]:", "[g::1]", "h:1:2", "h\\x",     "h%20",        "<h>"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (valid(bad[i]))
            fail_msg("accepted %s", bad[i]);
    char longname[300];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_false(valid(longname));
    /* only n bytes count, and a NUL inside is refused */
    assert_true(gw_host_valid("abc:80/x", 6));
    assert_false(gw_host_valid("ab\0c", 4));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hosts_accepted),
        cmocka_unit_test(test_hosts_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
