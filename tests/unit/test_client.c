/* Unit tests for gateway/client's response parsing and modes/callback's
 * retry schedule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gateway/client.h"
#include "modes/callback.h"

static int
status_of(const char *s)
{
    return gw_client_status_line(s, strlen(s));
}

static void
test_status_line(void **state)
{
    assert_int_equal(status_of("HTTP/1.1 200 OK\r\n"), 200);
    assert_int_equal(status_of("HTTP/1.0 503 Service Unavailable\r\n"), 503);
    assert_int_equal(status_of("HTTP/1.1 302\r\n"), 302);
    assert_int_equal(status_of("HTTP/1.1 204"), 204);
    assert_int_equal(status_of("HTTP/1.1 20 OK\r\n"), -1);
    assert_int_equal(status_of("HTTP/1.1 2000 OK\r\n"), -1);
    assert_int_equal(status_of("HTTP/2 200 OK\r\n"), -1);
    assert_int_equal(status_of("HTTP/1.1 099 x\r\n"), -1);
    assert_int_equal(status_of("SMTP ready\r\n"), -1);
    assert_int_equal(status_of(""), -1);
}

static void
test_backoff_doubles_up_to_the_cap(void **state)
{
    uint64_t s = 1000000000ull;
    assert_true(mode_callback_backoff(s, 600 * s, 1) == s);
    assert_true(mode_callback_backoff(s, 600 * s, 2) == 2 * s);
    assert_true(mode_callback_backoff(s, 600 * s, 3) == 4 * s);
    assert_true(mode_callback_backoff(s, 600 * s, 10) == 512 * s);
    assert_true(mode_callback_backoff(s, 600 * s, 11) == 600 * s);
    assert_true(mode_callback_backoff(s, 600 * s, 4000000000u) == 600 * s);
    assert_true(mode_callback_backoff(s, s / 2, 1) == s / 2);
    assert_true(mode_callback_backoff(0, s, 5) == 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_line),
        cmocka_unit_test(test_backoff_doubles_up_to_the_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
