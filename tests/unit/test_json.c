/* Unit tests for core/json: escaping, UTF-8 repair, integers, doubles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/json.h"

#define FFFD "\xEF\xBF\xBD"

/* A fixed-seed generator (splitmix64) so failures reproduce. */
static uint64_t
next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static void
want_string(const char *in, size_t n, const char *want)
{
    qg_buf b = QG_BUF_INIT;
    qg_json_string(&b, in, n);
    if (b.len != strlen(want) || memcmp(b.data, want, b.len) != 0)
        fail_msg("json string of %zu bytes: got [%s], want [%s]", n, b.data, want);
    assert_int_equal(b.data[b.len], '\0');
    qg_buf_free(&b);
}

#define EXPECT(lit, want) want_string((lit), sizeof(lit) - 1, (want))

/* Reference repair, written differently from the code under test: it
 * decodes code points arithmetically and finds the maximal subpart by
 * asking whether a prefix can still be completed into a valid sequence. */
static int
seq_len_for(unsigned char c)
{
    return c < 0x80                ? 1
           : c >= 0xC0 && c < 0xE0 ? 2
           : c >= 0xE0 && c < 0xF0 ? 3
           : c >= 0xF0 && c < 0xF8 ? 4
                                   : 0;
}

static int
complete_ok(const unsigned char *p, int have, int len, unsigned char pad)
{
    uint32_t cp;
    static const uint32_t lead_mask[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
    static const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
    cp = p[0] & lead_mask[len];
    for (int i = 1; i < len; i++) {
        unsigned char c = i < have ? p[i] : pad;
        if ((c & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (c & 0x3F);
    }
    return cp >= min_cp[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
}

static int
prefix_ok(const unsigned char *p, int have, int len)
{
    return complete_ok(p, have, len, 0x80) || complete_ok(p, have, len, 0xBF);
}

/* Returns how many U+FFFD it wrote. */
static int
ref_escape(qg_buf *b, const unsigned char *p, size_t n)
{
    size_t i = 0;
    int replaced = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c < 0x80) {
            if (c == '"')
                qg_buf_addlit(b, "\\\"");
            else if (c == '\\')
                qg_buf_addlit(b, "\\\\");
            else if (c == '\n')
                qg_buf_addlit(b, "\\n");
            else if (c == '\r')
                qg_buf_addlit(b, "\\r");
            else if (c == '\t')
                qg_buf_addlit(b, "\\t");
            else if (c == '\b')
                qg_buf_addlit(b, "\\b");
            else if (c == '\f')
                qg_buf_addlit(b, "\\f");
            else if (c < 0x20)
                qg_buf_printf(b, "\\u%04x", c);
            else
                qg_buf_addc(b, (char)c);
            i++;
            continue;
        }
        int len = seq_len_for(c);
        int have = 1;
        if (len == 0 || !prefix_ok(p + i, 1, len)) {
            qg_buf_addlit(b, FFFD);
            replaced++;
            i++;
            continue;
        }
        while (have < len && i + (size_t)have < n && prefix_ok(p + i, have + 1, len))
            have++;
        if (have == len)
            qg_buf_add(b, p + i, (size_t)len);
        else
            qg_buf_addlit(b, FFFD), replaced++;
        i += (size_t)have;
    }
    return replaced;
}

static void
test_escape_basic(void **state)
{
    EXPECT("", "\"\"");
    EXPECT("abc", "\"abc\"");
    EXPECT("a\"b\\c/d", "\"a\\\"b\\\\c/d\"");
    EXPECT("\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\"");
    EXPECT("\x01\x1f\x7f", "\"\\u0001\\u001f\x7f\"");
    EXPECT("a\0b", "\"a\\u0000b\"");
    EXPECT("0123456789abcdef\"0123456789abcdef", "\"0123456789abcdef\\\"0123456789abcdef\"");
    EXPECT("\xC3\xA9t\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80",
           "\"\xC3\xA9t\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
    /* Boundaries of each sequence length, and around the surrogates. */
    EXPECT("\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF",
           "\"\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF\"");
    EXPECT("\xF0\x90\x80\x80\xF4\x8F\xBF\xBF", "\"\xF0\x90\x80\x80\xF4\x8F\xBF\xBF\"");

    /* qg_json_escape appends without quotes and keeps what was there. */
    qg_buf b = QG_BUF_INIT;
    qg_buf_addlit(&b, "x=");
    qg_json_escape(&b, "a\"\xFF", 3);
    assert_string_equal(b.data, "x=a\\\"" FFFD);
    qg_json_escape(&b, NULL, 0);
    assert_string_equal(b.data, "x=a\\\"" FFFD);
    qg_buf_free(&b);

    qg_buf e = QG_BUF_INIT;
    qg_json_escape(&e, "", 0);
    assert_int_equal(e.len, 0);
    assert_non_null(e.data);
    assert_int_equal(e.data[0], '\0');
    qg_buf_free(&e);
}

static void
test_escape_invalid_utf8(void **state)
{
    /* The brief's examples of maximal subparts. */
    EXPECT("\xE2\x82\x41", "\"" FFFD "A\""); /* \x41 is 'A' */
    EXPECT("\xC0\xAF", "\"" FFFD FFFD "\"");
    EXPECT("\xED\xA0\x80", "\"" FFFD FFFD FFFD "\"");
    EXPECT("\xF4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\"");
    /* Unicode 15, table 3-8. */
    EXPECT("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64",
           "\"a" FFFD FFFD FFFD "b" FFFD "c" FFFD FFFD "d\"");
    /* Truncated at the very end. */
    EXPECT("ab\xF0\x9F\x98", "\"ab" FFFD "\"");
    EXPECT("\xC3", "\"" FFFD "\"");
    EXPECT("\xE2\x82", "\"" FFFD "\"");
    /* Overlong, out of range, never-valid bytes, lone continuations. */
    EXPECT("\xE0\x80\x80", "\"" FFFD FFFD FFFD "\"");
    EXPECT("\xF0\x80\x80\x80", "\"" FFFD FFFD FFFD FFFD "\"");
    EXPECT("\xF5\x80", "\"" FFFD FFFD "\"");
    EXPECT("\xF8\x88\x80\x80\x80", "\"" FFFD FFFD FFFD FFFD FFFD "\"");
    EXPECT("\xFE\xFF", "\"" FFFD FFFD "\"");
    EXPECT("\x80\xBF", "\"" FFFD FFFD "\"");
    /* A bad byte inside a long ASCII run, and an escape right after one. */
    EXPECT("abcdefgh\xFFijklmnop\"", "\"abcdefgh" FFFD "ijklmnop\\\"\"");
    EXPECT("\xF0\x9F\x98\n", "\"" FFFD "\\n\"");
}

/* Every single byte on its own, which checks the whole class table. */
static void
test_escape_every_byte(void **state)
{
    for (int c = 0; c < 256; c++) {
        unsigned char in[3] = {'x', (unsigned char)c, 'y'};
        qg_buf got = QG_BUF_INIT, want = QG_BUF_INIT;
        qg_json_escape(&got, (const char *)in, sizeof(in));
        ref_escape(&want, in, sizeof(in));
        if (got.len != want.len || memcmp(got.data, want.data, got.len) != 0)
            fail_msg("byte 0x%02x: got [%s], want [%s]", c, got.data, want.data);
        qg_buf_free(&got);
        qg_buf_free(&want);
    }
}

/* Random strings, biased to the interesting bytes, against the reference;
 * lengths and offsets cover the eight-byte fast path's edges. */
static void
test_escape_random_vs_reference(void **state)
{
    static const unsigned char pick[] = {
        'a',  'b',  ' ',  '"',  '\\', '\n', 0x00, 0x1F, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0,
        0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xED, 0xEF, 0xF0, 0xF1, 0xF4, 0xF5, 0xFF,
    };
    uint64_t seed = 42;
    unsigned char s[80];
    for (int iter = 0; iter < 50000; iter++) {
        size_t n = (size_t)(next_rand(&seed) % sizeof(s));
        int mode = (int)(next_rand(&seed) % 3);
        for (size_t i = 0; i < n; i++) {
            uint64_t r = next_rand(&seed);
            if (mode == 0 || r % 4 == 0)
                s[i] = pick[(r >> 8) % sizeof(pick)];
            else if (mode == 1)
                s[i] = (unsigned char)(r >> 16);
            else
                s[i] = (unsigned char)('a' + (r >> 16) % 26);
        }
        qg_buf got = QG_BUF_INIT, want = QG_BUF_INIT;
        qg_buf_addlit(&want, "\"");
        int replaced = ref_escape(&want, s, n);
        qg_buf_addlit(&want, "\"");
        qg_json_string(&got, (const char *)s, n);
        assert_int_equal(got.len, want.len);
        assert_memory_equal(got.data, want.data, got.len);
        assert_int_equal(got.data[got.len], '\0');
        assert_true(qg_utf8_valid(got.data, got.len));

        /* Valid input is input in which nothing needs replacing. */
        assert_int_equal(qg_utf8_valid((const char *)s, n), replaced == 0);
        qg_buf_free(&got);
        qg_buf_free(&want);
    }
}

static void
test_escape_long_and_growing(void **state)
{
    /* A buffer that starts small must grow correctly under many escapes
     * and replacements. */
    size_t n = 70000;
    char *s = malloc(n);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        s[i] = (char)(i % 3 == 0 ? '\x01' : i % 3 == 1 ? '\xFF' : 'z');
    qg_buf b = QG_BUF_INIT;
    qg_json_string(&b, s, n);
    /* \u0001 is six bytes, U+FFFD three, 'z' one. */
    assert_int_equal(b.len, 2 + (n + 2) / 3 * 6 + (n + 1) / 3 * 3 + n / 3);
    assert_true(qg_utf8_valid(b.data, b.len));
    qg_buf_free(&b);

    memset(s, 'q', n);
    qg_json_string(&b, s, n);
    assert_int_equal(b.len, n + 2);
    assert_int_equal(b.data[n + 1], '"');
    qg_buf_free(&b);
    free(s);
}

static void
test_utf8_valid(void **state)
{
#define V(lit) qg_utf8_valid((lit), sizeof(lit) - 1)
    assert_true(V(""));
    assert_true(V("plain ascii, longer than eight bytes"));
    assert_true(V("a\0b"));
    assert_true(V("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF\xED\x9F\xBF"));
    assert_false(V("\xC0\xAF"));
    assert_false(V("\xE0\x9F\xBF"));
    assert_false(V("\xED\xA0\x80"));
    assert_false(V("\xF4\x90\x80\x80"));
    assert_false(V("\xF0\x8F\xBF\xBF"));
    assert_false(V("abcdefghijklmnop\xE2\x82"));
    assert_false(V("\x80"));
    assert_false(V("\xFF"));
#undef V
}

static void
test_integers(void **state)
{
    char out[21];
    static const int64_t cases[] = {
        0,   1,     -1,     9,         10,        -10,           99,
        100, 12345, -99999, INT64_MAX, INT64_MIN, INT64_MIN + 1, 1000000000000000000};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char want[32];
        snprintf(want, sizeof(want), "%lld", (long long)cases[i]);
        assert_int_equal(qg_fmt_int64(cases[i], out), strlen(want));
        assert_string_equal(out, want);
    }
    assert_int_equal(qg_fmt_uint64(UINT64_MAX, out), 20);
    assert_string_equal(out, "18446744073709551615");
    assert_int_equal(qg_fmt_uint64(0, out), 1);
    assert_string_equal(out, "0");
    assert_int_equal(qg_fmt_int64(INT64_MIN, out), 20);
    assert_string_equal(out, "-9223372036854775808");

    uint64_t seed = 7;
    for (int i = 0; i < 100000; i++) {
        uint64_t u = next_rand(&seed) >> (next_rand(&seed) % 64);
        char want[32];
        snprintf(want, sizeof(want), "%llu", (unsigned long long)u);
        qg_fmt_uint64(u, out);
        assert_string_equal(out, want);
        int64_t v = (int64_t)u * ((i & 1) ? -1 : 1);
        snprintf(want, sizeof(want), "%lld", (long long)v);
        qg_fmt_int64(v, out);
        assert_string_equal(out, want);
    }

    qg_buf b = QG_BUF_INIT;
    qg_json_int64(&b, INT64_MIN);
    qg_buf_addc(&b, ',');
    qg_json_uint64(&b, UINT64_MAX);
    qg_buf_addc(&b, ',');
    qg_json_int64(&b, 0);
    assert_string_equal(b.data, "-9223372036854775808,18446744073709551615,0");
    assert_int_equal(b.len, strlen(b.data));
    qg_buf_free(&b);
}

static void
want_double(double v, const char *want)
{
    char out[32];
    size_t n = qg_fmt_double(v, out);
    if (n != strlen(want) || strcmp(out, want) != 0)
        fail_msg("%.17g: got [%s], want [%s]", v, out, want);
}

static void
test_double_cases(void **state)
{
    want_double(3.0, "3.0");
    want_double(-3.0, "-3.0");
    want_double(0.1, "0.1");
    want_double(0.3, "0.3");
    want_double(1.5, "1.5");
    want_double(-2.5e-3, "-0.0025");
    want_double(1.0 / 3.0, "0.3333333333333333");
    want_double(2.0 / 3.0, "0.6666666666666666");
    want_double(0.1 + 0.2, "0.30000000000000004");
    want_double(1e300, "1e+300");
    want_double(1e-7, "1e-07");
    want_double(123456.789, "123456.789");
    want_double(0.0, "0.0");
    want_double(-0.0, "-0.0");
    want_double(100.0, "100.0");
    want_double(1e15, "1000000000000000.0");
    want_double(9007199254740991.0, "9007199254740991.0");
    want_double(9007199254740992.0, "9007199254740992.0");
    want_double(9007199254740994.0, "9007199254740994.0");
    want_double(-9007199254740992.0, "-9007199254740992.0");
    want_double(1e16, "1e+16");
    /* Where more digits read shorter than an exponent. */
    want_double(57580517785914920.0, "57580517785914920.0");
    want_double(12345678901234500.0, "12345678901234500.0");
    want_double(1e22, "1e+22");
    want_double(DBL_MAX, "1.7976931348623157e+308");
    want_double(-DBL_MAX, "-1.7976931348623157e+308");
    want_double(DBL_MIN, "2.2250738585072014e-308");
    want_double(5e-324, "5e-324");
    want_double(-5e-324, "-5e-324");
    want_double(1e-323, "1e-323");
    want_double(2.225073858507201e-308, "2.225073858507201e-308");
    want_double(NAN, "NaN");
    want_double(INFINITY, "Infinity");
    want_double(-INFINITY, "-Infinity");

    qg_buf b = QG_BUF_INIT;
    qg_json_double(&b, 3.0);
    qg_buf_addc(&b, ',');
    qg_json_double(&b, NAN);
    qg_buf_addc(&b, ',');
    qg_json_double(&b, INFINITY);
    qg_buf_addc(&b, ',');
    qg_json_double(&b, -INFINITY);
    qg_buf_addc(&b, ',');
    qg_json_double(&b, -0.0);
    assert_string_equal(b.data, "3.0,\"NaN\",\"Infinity\",\"-Infinity\",-0.0");
    assert_int_equal(b.len, strlen(b.data));
    qg_buf_free(&b);
}

/* A JSON number with a fraction or an exponent (RFC 8259 grammar). */
static int
is_json_real(const char *s)
{
    const char *p = s;
    int real = 0;
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (*p >= '0' && *p <= '9')
            p++;
    else
        return 0;
    if (*p == '.') {
        p++, real = 1;
        if (!(*p >= '0' && *p <= '9'))
            return 0;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++, real = 1;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return 0;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return real && *p == '\0';
}

static size_t
significant_digits(const char *s)
{
    size_t n = 0;
    int leading = 1;
    for (const char *p = s; *p && *p != 'e'; p++) {
        if (*p < '0' || *p > '9')
            continue;
        if (*p == '0' && leading)
            continue;
        leading = 0;
        n++;
    }
    return n;
}

static void
check_double(double v, int check_shortest)
{
    char out[32], g17[40];
    size_t n = qg_fmt_double(v, out);
    assert_int_equal(n, strlen(out));
    double back = strtod(out, NULL);
    if (memcmp(&back, &v, sizeof(v)) != 0)
        fail_msg("%.17g printed as %s reads back as %.17g", v, out, back);
    if (!is_json_real(out))
        fail_msg("%.17g printed as %s: not a JSON real", v, out);
    int g = snprintf(g17, sizeof(g17), "%.17g", v);
    /* Our text only adds ".0" where %g has neither '.' nor exponent. */
    size_t extra = strpbrk(g17, ".e") ? 0 : 2;
    if (n > (size_t)g + extra)
        fail_msg("%.17g printed as %s, longer than %s", v, out, g17);
    /* Integral values are written as integers, not the shortest way. */
    if (check_shortest && !(n > 2 && strcmp(out + n - 2, ".0") == 0)) {
        size_t digits = significant_digits(out);
        if (digits > 1) {
            char shorter[40];
            int len = snprintf(shorter, sizeof(shorter), "%.*g", (int)digits - 1, v);
            assert_true(len > 0 && (size_t)len < sizeof(shorter));
            back = strtod(shorter, NULL);
            if (memcmp(&back, &v, sizeof(v)) == 0)
                fail_msg("%.17g printed as %s but %s is shorter", v, out, shorter);
        }
    }
}

static void
test_double_round_trip(void **state)
{
    uint64_t seed = 12345;
    int checked = 0;
    for (int i = 0; i < 300000; i++) {
        uint64_t bits = next_rand(&seed);
        switch (i % 8) {
        case 0: /* subnormal */
            bits &= 0x800FFFFFFFFFFFFFu;
            break;
        case 1: /* few mantissa bits: short decimal forms are likely */
            bits &= 0xFFFFFF0000000000u;
            break;
        case 2: /* around 1 */
            bits = (bits & 0x800FFFFFFFFFFFFFu) |
                   ((uint64_t)(1023 + (int)(bits >> 52 & 63) - 32) << 52);
            break;
        default:
            break;
        }
        double v;
        memcpy(&v, &bits, sizeof(v));
        if (!isfinite(v))
            continue;
        check_double(v, i % 10 == 0);
        checked++;
    }
    for (int i = 0; i < 20000; i++) {
        /* Integers and short decimals as real data looks. */
        int64_t k = (int64_t)(next_rand(&seed) % 2000000) - 1000000;
        check_double((double)k, 1);
        check_double((double)k / 100.0, 1);
        check_double((double)k * 1e-9, 1);
        check_double((double)k * 1e20, 1);
    }
    assert_true(checked > 250000);
}

/* The text qgate wrote before it had a shortest-digits printer, as the
 * oracle of the layout: %.15g, %.16g, %.17g, the first that strtod reads
 * back (from one digit up for subnormals), ".0" when it reads as an
 * integer, integers below 2^53 in full, and from 1e15 to 1e17 a longer
 * precision when that makes the text shorter. */
static size_t
legacy_try(double v, int prec, char *out)
{
    int n = snprintf(out, 40, "%.*g", prec, v);
    double back = strtod(out, NULL);
    if (prec < 17 && memcmp(&back, &v, sizeof(v)) != 0)
        return 0;
    if (!strpbrk(out, ".e")) {
        memcpy(out + n, ".0", 3);
        n += 2;
    }
    return (size_t)n;
}

static size_t
legacy_fmt(double v, char *out)
{
    if (v > -9007199254740992.0 && v < 9007199254740992.0 && v == (double)(int64_t)v && v != 0)
        return (size_t)sprintf(out, "%lld.0", (long long)v);
    int prec = fabs(v) < DBL_MIN ? 1 : 15;
    size_t n;
    while (!(n = legacy_try(v, prec, out)))
        prec++;
    if (prec < 17 && fabs(v) >= 1e15 && fabs(v) < 1e17) {
        char alt[40];
        for (int p = prec + 1; p <= 17; p++) {
            size_t m = legacy_try(v, p, alt);
            if (m && m < n) {
                memcpy(out, alt, m + 1);
                n = m;
            }
        }
    }
    return n;
}

/* The same text as before, or, where the old search settled for 17 digits
 * next to a power of two, fewer digits that read back. */
static void
check_layout(double v)
{
    char got[40], old[40];
    qg_fmt_double(v, got);
    legacy_fmt(v, old);
    if (strcmp(got, old) == 0)
        return;
    double back = strtod(got, NULL);
    if (memcmp(&back, &v, sizeof(v)) != 0 || significant_digits(got) >= significant_digits(old))
        fail_msg("%a: got [%s], the old layout [%s]", v, got, old);
    /* only the digits differ: the same form (fixed or exponent) */
    if ((strchr(got, 'e') == NULL) != (strchr(old, 'e') == NULL))
        fail_msg("%a: got [%s], the old layout [%s]", v, got, old);
}

static void
test_double_layout(void **state)
{
    uint64_t seed = 777;
    for (int i = 0; i < 200000; i++) {
        uint64_t bits = next_rand(&seed);
        switch (i % 4) {
        case 0: /* near powers of two */
            bits &= 0xFFF000000000000Fu;
            break;
        case 1: /* from 1e-6 to 1e18: both layouts and the integer ranges */
            bits =
                (bits & 0x800FFFFFFFFFFFFFu) | ((uint64_t)(1003 + (int)((bits >> 52) % 80)) << 52);
            break;
        default:
            break;
        }
        double v;
        memcpy(&v, &bits, sizeof(v));
        if (isfinite(v) && v != 0)
            check_layout(v);
    }
    for (int e = -1074; e <= 1023; e++)
        check_layout(ldexp(1.0, e));
    for (int i = 0; i < 100000; i++) {
        /* integers from 1e15 to 1e18, where either layout can win */
        double v = (double)(next_rand(&seed) % 1000000000000000000u);
        if (v >= 1e15)
            check_layout(v);
        check_layout((double)(int64_t)(next_rand(&seed) % 2000000) / 3.0);
    }
    char out[40];
    qg_fmt_double(0x1p-1017, out);
    assert_string_equal(out, "7.120236347223045e-307");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_basic),
        cmocka_unit_test(test_escape_invalid_utf8),
        cmocka_unit_test(test_escape_every_byte),
        cmocka_unit_test(test_escape_random_vs_reference),
        cmocka_unit_test(test_escape_long_and_growing),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_double_cases),
        cmocka_unit_test(test_double_round_trip),
        cmocka_unit_test(test_double_layout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
