/* Unit tests for modes/doc: the timestamps of status documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "modes/doc.h"

/* What the formatter must equal: strftime and printf, done slowly. */
static void
reference(uint64_t wall_ns, char out[40])
{
    time_t s = (time_t)(wall_ns / 1000000000u);
    struct tm tm;
    gmtime_r(&s, &tm);
    size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 40 - n, ".%03uZ", (unsigned)(wall_ns / 1000000u % 1000u));
}

static void
test_known_values(void **state)
{
    (void)state;
    char t[40];
    mode_doc_time(0, t);
    assert_string_equal(t, "1970-01-01T00:00:00.000Z");
    mode_doc_time(1795000000123456789ull, t);
    assert_string_equal(t, "2026-11-18T11:06:40.123Z");
    mode_doc_time(951782400999000000ull, t); /* a leap day */
    assert_string_equal(t, "2000-02-29T00:00:00.999Z");
    mode_doc_time(UINT64_MAX, t); /* the last instant it can be given */
    assert_string_equal(t, "2554-07-21T23:34:33.709Z");
}

static void
test_matches_strftime(void **state)
{
    (void)state;
    char got[40], want[40];
    /* every few hours across 1970..2554 (the last second a uint64_t of
     * nanoseconds holds; 2100 and 2500 are not leap years, 2400 is), with
     * varying milliseconds */
    for (uint64_t s = 0; s <= UINT64_MAX / 1000000000u; s += 7919) {
        uint64_t ns = s * 1000000000ull + (s % 1000) * 1000000ull + 424242;
        mode_doc_time(ns, got);
        reference(ns, want);
        assert_string_equal(got, want);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_matches_strftime),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
