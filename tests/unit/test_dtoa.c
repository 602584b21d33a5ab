/* Unit tests for core/dtoa: shortest round-trip digits, against the C
 * library (correctly rounded %.*e and strtod) as the oracle. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/dtoa.h"

/* A fixed-seed generator (splitmix64) so failures reproduce. */
static uint64_t
next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static double
from_bits(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof(v));
    return v;
}

static bool
reads_back(uint64_t m, int e, double v)
{
    char text[48];
    snprintf(text, sizeof(text), "%llue%d", (unsigned long long)m, e);
    double back = strtod(text, NULL);
    return memcmp(&back, &v, sizeof(v)) == 0;
}

/* The p-digit decimal of v that reads back, if any: glibc's correctly
 * rounded %.{p-1}e, or failing that the decimal one unit in the last place
 * above or below it (next to a power of two the interval of reals that
 * read as v is narrower below v than above, so the nearest p-digit decimal
 * can be outside while the next one is inside). Any decimal inside the
 * interval is one of these three, and the nearest inside is the first of
 * them that is. Returns false when none is. */
static bool
with_digits(double v, int p, uint64_t *m, int *e)
{
    char text[48];
    snprintf(text, sizeof(text), "%.*e", p - 1, v);
    uint64_t c = 0;
    const char *s = text;
    for (; *s != 'e'; s++)
        if (*s >= '0' && *s <= '9')
            c = c * 10 + (uint64_t)(*s - '0');
    int x = atoi(s + 1) - (p - 1);
    const uint64_t tries[3] = {c, c + 1, c - 1};
    for (int i = 0; i < 3; i++) {
        if (tries[i] != 0 && reads_back(tries[i], x, v)) {
            *m = tries[i];
            *e = x;
            return true;
        }
    }
    return false;
}

/* The oracle: the fewest digits that read back (a binary search: if p
 * digits can, p + 1 can), trailing zeros stripped. */
static qg_decimal
oracle(double v)
{
    int lo = 1, hi = 17;
    uint64_t m = 0;
    int e = 0;
    assert_true(with_digits(v, 17, &m, &e));
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        uint64_t mm;
        int ee;
        if (with_digits(v, mid, &mm, &ee)) {
            hi = mid;
            m = mm;
            e = ee;
        } else {
            lo = mid + 1;
        }
    }
    while (m % 10 == 0) {
        m /= 10;
        e++;
    }
    int n = 0;
    for (uint64_t t = m; t; t /= 10)
        n++;
    return (qg_decimal){m, e, n};
}

static void
check(double v)
{
    if (!isfinite(v) || v == 0)
        return;
    v = fabs(v);
    qg_decimal got = qg_dtoa(v), want = oracle(v);
    if (got.digits != want.digits || got.exp != want.exp || got.ndigits != want.ndigits)
        fail_msg("%a (%.17g): got %llue%d (%d digits), want %llue%d (%d digits)", v, v,
                 (unsigned long long)got.digits, got.exp, got.ndigits,
                 (unsigned long long)want.digits, want.exp, want.ndigits);
    assert_true(reads_back(got.digits, got.exp, v));
}

static void
check_around(double v)
{
    check(v);
    check(nextafter(v, 0));
    check(nextafter(v, INFINITY));
}

static void
test_known(void **state)
{
    static const struct {
        double v;
        uint64_t digits;
        int exp;
    } cases[] = {
        {0.1, 1, -1},
        {0.3, 3, -1},
        {1.0 / 3.0, 3333333333333333, -16},
        {2.0 / 3.0, 6666666666666666, -16},
        {0.1 + 0.2, 30000000000000004, -17},
        {1e300, 1, 300},
        {1e23, 1, 23},
        {123456.789, 123456789, -3},
        {5e-324, 5, -324},
        {1e-323, 1, -323},
        {DBL_MIN, 22250738585072014, -324},
        {DBL_MAX, 17976931348623157, 292},
        {2.225073858507201e-308, 2225073858507201, -323},
        {9007199254740993.0, 9007199254740992, 0},
        {18014398509481984.0, 18014398509481984, 0},
        {1152921504606846976.0, 1152921504606847, 3},
        /* a power of two where %.16g is one unit too low to read back, and
         * the 16 digits above it do: 17 digits are not the shortest */
        {0x1p-1017, 7120236347223045, -322},
        {0x1p-509, 5966672584960166, -169},
        {3.0, 3, 0},
        {1e15, 1, 15},
        {4.35, 435, -2},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        qg_decimal d = qg_dtoa(cases[i].v);
        if (d.digits != cases[i].digits || d.exp != cases[i].exp)
            fail_msg("%.17g: got %llue%d, want %llue%d", cases[i].v, (unsigned long long)d.digits,
                     d.exp, (unsigned long long)cases[i].digits, cases[i].exp);
        check(cases[i].v);
    }
}

/* Every power of two and of ten a double can hold, and their neighbours;
 * the ends of the subnormal and normal ranges. */
static void
test_edges(void **state)
{
    for (int e = -1074; e <= 1023; e++)
        check_around(ldexp(1.0, e));
    for (int e = -323; e <= 308; e++) {
        char text[16];
        snprintf(text, sizeof(text), "1e%d", e);
        check_around(strtod(text, NULL));
    }
    check_around(DBL_MIN);
    check_around(DBL_MAX);
    check(from_bits(1));
    check(from_bits(0x000FFFFFFFFFFFFFu)); /* the largest subnormal */
    check_around(9007199254740992.0);      /* 2^53 */
    check_around(18446744073709551616.0);  /* 2^64 */
    for (int i = 1; i <= 1000; i++) {
        check_around(i / 10.0);
        check_around(i / 3.0);
        check_around(i * 1e-3);
    }
}

/* The smallest subnormals, every one: the fewest bits, where the interval
 * is widest in digits. */
static void
test_small_subnormals(void **state)
{
    for (uint64_t t = 1; t <= 20000; t++)
        check(from_bits(t));
}

static void
test_random(void **state)
{
    uint64_t seed = 20240611;
    for (int i = 0; i < 200000; i++) {
        uint64_t bits = next_rand(&seed);
        switch (i % 5) {
        case 0: /* subnormal */
            bits &= 0x000FFFFFFFFFFFFFu;
            break;
        case 1: /* a power of two and a few low bits: the narrow intervals */
            bits &= 0x7FF000000000000Fu;
            break;
        case 2: /* few significant bits: short decimals are likely */
            bits &= 0x7FFFFFF000000000u;
            break;
        default: /* any bit pattern */
            break;
        }
        check(from_bits(bits & 0x7FFFFFFFFFFFFFFFu));
    }
    /* Decimals as data looks: short ones, divisions, products. */
    for (int i = 0; i < 20000; i++) {
        int64_t k = (int64_t)(next_rand(&seed) % 2000000) - 1000000;
        check((double)k / 100.0);
        check((double)k / 3.0);
        check((double)k * 0.1);
        check((double)k * 1e-9);
        check((double)k * 1e20);
    }
}

/* --- qg_atod: decimal text to double, against strtod --------------------------- */

static int atod_undecided;

/* Checks qg_atod(text) against strtod when it decides; returns whether it
 * did. */
static bool
check_atod(const char *text)
{
    size_t n = strlen(text);
    char *copy = malloc(n ? n : 1); /* no NUL after it: qg_atod must not need one */
    memcpy(copy, text, n);
    double got;
    bool ok = qg_atod(copy, n, &got);
    free(copy);
    char *end;
    double want = strtod(text, &end);
    if (!ok) {
        atod_undecided++;
        return false;
    }
    if (*end != '\0' || end == text)
        fail_msg("qg_atod read [%s], which strtod does not", text);
    if (memcmp(&got, &want, sizeof(got)) != 0)
        fail_msg("[%s]: qg_atod %a, strtod %a", text, got, want);
    return true;
}

static void
test_atod(void **state)
{
    uint64_t seed = 99;
    char text[64];
    int tries = 0;
    /* the texts of doubles, as shortest, %.15g, %.16g, %.17g, %.19e */
    for (int i = 0; i < 100000; i++) {
        uint64_t bits = next_rand(&seed);
        if (i % 3 == 0) /* from 1e-30 to 1e30, where most data lies */
            bits = (bits & 0x800FFFFFFFFFFFFFu) |
                   ((uint64_t)(1023 - 100 + (int)((bits >> 52) % 200)) << 52);
        double v = from_bits(bits);
        if (!isfinite(v))
            continue;
        /* in the middle of the range, the texts of at most 19 digits are
         * always decided */
        bool must = i % 3 == 0;
        static const char *const fmts[] = {"%.15g", "%.16g", "%.17g", "%.18e", "%.3f"};
        for (int f = 0; f < 5; f++) {
            snprintf(text, sizeof(text), fmts[f], v);
            if (!check_atod(text) && must && f < 4)
                fail_msg("qg_atod left [%s] to strtod", text);
            tries++;
        }
        if (v == 0)
            continue;
        qg_decimal d = qg_dtoa(fabs(v));
        snprintf(text, sizeof(text), "%s%llue%d", v < 0 ? "-" : "", (unsigned long long)d.digits,
                 d.exp);
        if (!check_atod(text) && must)
            fail_msg("qg_atod left [%s] to strtod", text);
        tries++;
    }
    /* random digits and exponents, 1 to 19 digits, point anywhere */
    for (int i = 0; i < 100000; i++) {
        int nd = 1 + (int)(next_rand(&seed) % 19), point = (int)(next_rand(&seed) % (nd + 1));
        size_t k = 0;
        if (next_rand(&seed) % 2)
            text[k++] = '-';
        for (int j = 0; j < nd; j++) {
            if (j == point && j > 0)
                text[k++] = '.';
            text[k++] = (char)('0' + next_rand(&seed) % 10);
        }
        if (next_rand(&seed) % 2)
            k += (size_t)snprintf(text + k, sizeof(text) - k, "e%d",
                                  (int)(next_rand(&seed) % 700) - 350);
        text[k] = '\0';
        check_atod(text);
        tries++;
    }
    /* halfway between two doubles: 2^53 + 1, 2^54 + 2, ... and near them */
    for (int i = 0; i < 1000; i++) {
        uint64_t m = ((uint64_t)1 << 53) + 1 + 2 * (next_rand(&seed) % 1000000);
        snprintf(text, sizeof(text), "%llu", (unsigned long long)m);
        check_atod(text);
        snprintf(text, sizeof(text), "%llu", (unsigned long long)(2 * m));
        check_atod(text);
        snprintf(text, sizeof(text), "%llu.5e-3", (unsigned long long)m);
        check_atod(text);
        tries += 3;
    }
    static const char *const fixed[] = {
        "0",
        "-0",
        "0.0",
        "-0.0",
        "1",
        "0.1",
        ".5",
        "5e-324",
        "2.2250738585072014e-308",
        "1.7976931348623157e308",
        "1.7976931348623159e308",
        "1e23",
        "8.98846567431158e307",
        "9007199254740993",
        "4.35",
        "1e-7",
        "123456.789",
        "0.30000000000000004",
        "00000000000000000000000000000001.5",
        "0.000000000000000000000000000001",
        "1e0",
        "1E+2",
        "1e-0",
        "12345678901234567890",
        "1234567890123456789",
        "1.",
        "1e",
        "-",
        "",
        "+1",
        " 1",
        "1 ",
        "NaN",
        "Infinity",
        "-Infinity",
        "0x10",
        "1..2",
        "1e5x",
        "e5",
        "--1",
    };
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        check_atod(fixed[i]);
    /* strtod is needed rarely: beyond 19 digits, ties, the ends of the
     * range (a fifth of these texts are there on purpose) */
    if (atod_undecided * 5 > tries)
        fail_msg("qg_atod left %d of %d texts to strtod", atod_undecided, tries);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_small_subnormals),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_atod),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
