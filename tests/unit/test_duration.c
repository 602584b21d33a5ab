/* Unit tests for core/duration: Go-style parsing, AsterixDB printing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/duration.h"

static void
want_ns(const char *s, uint64_t want)
{
    uint64_t ns = 12345;
    if (qg_duration_parse(s, strlen(s), &ns) != 0)
        fail_msg("\"%s\" rejected, want %llu", s, (unsigned long long)want);
    if (ns != want)
        fail_msg("\"%s\" gave %llu, want %llu", s, (unsigned long long)ns,
                 (unsigned long long)want);
}

static void
want_invalid(const char *s, size_t n)
{
    uint64_t ns = 12345;
    if (qg_duration_parse(s, n, &ns) != -1)
        fail_msg("\"%.*s\" accepted as %llu", (int)n, s, (unsigned long long)ns);
}

#define BAD(lit) want_invalid((lit), sizeof(lit) - 1)

static void
test_parse_valid(void **state)
{
    want_ns("0", 0);
    want_ns("0s", 0);
    want_ns("0h0m", 0);
    want_ns("10s", 10000000000u);
    want_ns("300ms", 300000000u);
    want_ns("2h45m", 9900000000000u);
    want_ns("1.5h", 5400000000000u);
    want_ns("0.1h", 360000000000u);
    want_ns("1.5m", 90000000000u);
    want_ns("1ns", 1);
    want_ns("1us", 1000);
    want_ns("1\xC2\xB5s", 1000);
    want_ns("1\xCE\xBCs", 1000);
    want_ns("1ms", 1000000);
    want_ns("1s", 1000000000);
    want_ns("1m", 60000000000u);
    want_ns("1h", 3600000000000u);
}

static void
test_parse_fractions(void **state)
{
    want_ns("1.s", 1000000000);
    want_ns(".5s", 500000000);
    want_ns("1.000000001s", 1000000001);
    want_ns("0.0000000001s", 0);
    want_ns("1.9999999999s", 1999999999);
    want_ns("1.5ns", 1);
    want_ns("0.5us", 500);
    want_ns("2.0005ms", 2000500);
    /* 1/3600 h is 1 s; digits past the nanosecond still count exactly when
     * they add up to one. */
    want_ns("0.000277777777777h", 999999999);
    want_ns("0.0002777777777777777777777777h", 999999999);
    want_ns("0.0002777777777778h", 1000000000);
    want_ns("0.00000000001666666666666666666m", 0);
    want_ns("0.00000000001666666666666666667m", 1);
    want_ns("1.00000000000000000000000000000000000001s", 1000000000);
    want_ns("000000000000000000000000000001s", 1000000000);
    want_ns("1h1m1s1ms1us1ns", 3661001001001u);
    want_ns("1s1s", 2000000000);
    want_ns("1.5s.5s", 2000000000);
    want_ns("18446744073709551615ns", UINT64_MAX);
    want_ns("18446744073.709551615s", UINT64_MAX);
    want_ns("5124095h", 5124095ull * 3600000000000ull);
}

static void
test_parse_invalid(void **state)
{
    BAD("");
    BAD("-1s");
    BAD("+1s");
    BAD(" 1s");
    BAD("1s ");
    BAD("1");
    BAD("1.5");
    BAD("1.");
    BAD(".5");
    BAD("00");
    BAD("1x");
    BAD("1hh");
    BAD("1sm");
    BAD("h");
    BAD("s1");
    BAD(".s");
    BAD(".");
    BAD("1..5s");
    BAD("1.5.s");
    BAD("1h30");
    BAD("1e3s");
    BAD("1S");
    BAD("1 s");
    BAD("1\xC2s");
    BAD("1\xB5s");
    BAD("1\xC2\xB5");
    BAD("1s\0");
    BAD("1\0s");
    BAD("99999999999999999999ns");
    BAD("18446744073709551616ns");
    BAD("18446744073.709551616s");
    BAD("18446744073709551615ns1ns");
    BAD("5124096h");
    BAD("307445734561m");
    BAD("99999999999999999999.5s");
}

static void
want_text(uint64_t ns, const char *want)
{
    char out[QG_DURATION_MAX_TEXT];
    size_t n = qg_duration_format(ns, out);
    if (n != strlen(want) || strcmp(out, want) != 0)
        fail_msg("%llu: got [%s], want [%s]", (unsigned long long)ns, out, want);
}

static void
test_format(void **state)
{
    want_text(0, "0ns");
    want_text(1, "1ns");
    want_text(999, "999ns");
    want_text(1000, "1\xC2\xB5s");
    want_text(1001, "1.001\xC2\xB5s");
    want_text(1010, "1.01\xC2\xB5s");
    want_text(999999, "999.999\xC2\xB5s");
    want_text(1000000, "1ms");
    want_text(20263371, "20.263371ms");
    want_text(999999999, "999.999999ms");
    want_text(1000000000, "1s");
    want_text(1500000000, "1.5s");
    want_text(1000000001, "1.000000001s");
    want_text(90000000000u, "90s");
    want_text(123456789012u, "123.456789012s");
    want_text(3600000000000u, "3600s");
    want_text(UINT64_MAX, "18446744073.709551615s");
}

/* Printing is exact, so parsing the text gives the number back. */
static void
test_format_parse_round_trip(void **state)
{
    uint64_t x = 88172645463325252u;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t v = x >> (x % 64);
        char out[QG_DURATION_MAX_TEXT];
        size_t n = qg_duration_format(v, out);
        assert_true(n < QG_DURATION_MAX_TEXT);
        uint64_t back;
        assert_int_equal(qg_duration_parse(out, n, &back), 0);
        assert_true(back == v);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid),
        cmocka_unit_test(test_parse_fractions),
        cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_format_parse_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
