/*
 * fuzz_dtoa: core/dtoa's shortest digits, its decimal reader, and
 * core/json's text of doubles.
 *
 * Each input gives doubles two ways: its first 8 bytes as the bits of one
 * (any pattern: NaNs, infinities, subnormals), and its text read by strtod
 * (seeds are readable: "0.1", "5e-324", "0x1p-1017"). For each, checked:
 *   - qg_dtoa: digits without trailing zeros, ndigits right, and the
 *     decimal reads back (strtod) as exactly the value;
 *   - shortness: no decimal with one digit fewer reads back (tried here
 *     with the C library: the correctly rounded one and its neighbours in
 *     the last place, which covers every candidate);
 *   - qg_fmt_double: exactly strtod's value again (the sign and -0.0
 *     included), JSON number grammar with a '.' or an exponent, the same
 *     digits as qg_dtoa; NaN and the infinities as their names, and
 *     qg_json_double puts those in quotes;
 *   - qg_atod, on the input text (an exact-size copy, no NUL after it)
 *     and on the texts above: when it gives a value, strtod reads the
 *     whole text to the same bits (it may leave a text to strtod: 1e23
 *     lies too close to a tie between two doubles for it).
 */
#include <math.h>

#include "core/buf.h"
#include "core/dtoa.h"
#include "core/json.h"

#include "fuzz.h"

static bool
same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof(a)) == 0;
}

static bool
reads_back(uint64_t m, int e, double v)
{
    char text[48];
    snprintf(text, sizeof(text), "%llue%d", (unsigned long long)m, e);
    return same_bits(strtod(text, NULL), v);
}

/* Whether some decimal of p significant digits reads back as v: the
 * nearest one (glibc rounds %.*e correctly) or the next one on either
 * side, the only ones that can lie in v's rounding interval. */
static bool
p_digits_read_back(double v, int p)
{
    char text[48];
    snprintf(text, sizeof(text), "%.*e", p - 1, v);
    uint64_t c = 0;
    const char *s = text;
    for (; *s != 'e'; s++)
        if (*s >= '0' && *s <= '9')
            c = c * 10 + (uint64_t)(*s - '0');
    int x = atoi(s + 1) - (p - 1);
    return reads_back(c, x, v) || reads_back(c + 1, x, v) || (c > 1 && reads_back(c - 1, x, v));
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? with a fraction or an
 * exponent. */
static bool
json_real(const char *s)
{
    bool real = false;
    if (*s == '-')
        s++;
    if (*s == '0')
        s++;
    else if (*s >= '1' && *s <= '9')
        while (*s >= '0' && *s <= '9')
            s++;
    else
        return false;
    if (*s == '.') {
        s++;
        real = true;
        if (!(*s >= '0' && *s <= '9'))
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        real = true;
        if (*s == '+' || *s == '-')
            s++;
        if (!(*s >= '0' && *s <= '9'))
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return real && *s == '\0';
}

/* The significant digits of a JSON number's text, leading and trailing
 * zeros of the digit string dropped. */
static uint64_t
text_digits(const char *s, int *count)
{
    char d[40];
    int n = 0;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9' && (n > 0 || *s != '0'))
            d[n++] = *s;
    while (n > 0 && d[n - 1] == '0')
        n--;
    uint64_t m = 0;
    for (int i = 0; i < n; i++)
        m = m * 10 + (uint64_t)(d[i] - '0');
    *count = n;
    return m;
}

static void
check(double v)
{
    char out[40];
    size_t n = qg_fmt_double(v, out);
    FUZZ_CHECK(n < 32 && strlen(out) == n);
    qg_buf b = QG_BUF_INIT;
    qg_json_double(&b, v);
    if (isnan(v) || isinf(v)) {
        FUZZ_CHECK(strcmp(out, isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity") == 0);
        FUZZ_CHECK(b.len == n + 2 && b.data[0] == '"' && memcmp(b.data + 1, out, n) == 0 &&
                   b.data[n + 1] == '"');
        qg_buf_free(&b);
        return;
    }
    FUZZ_CHECK(b.len == n && memcmp(b.data, out, n) == 0);
    qg_buf_free(&b);
    FUZZ_CHECK(json_real(out));
    FUZZ_CHECK(same_bits(strtod(out, NULL), v));
    if (v == 0)
        return;

    double a = fabs(v);
    qg_decimal d = qg_dtoa(a);
    FUZZ_CHECK(d.digits > 0 && d.digits % 10 != 0);
    FUZZ_CHECK(d.ndigits >= 1 && d.ndigits <= 17);
    char dig[24];
    FUZZ_CHECK(snprintf(dig, sizeof(dig), "%llu", (unsigned long long)d.digits) == d.ndigits);
    FUZZ_CHECK(reads_back(d.digits, d.exp, a));
    if (d.ndigits > 1)
        FUZZ_CHECK(!p_digits_read_back(a, d.ndigits - 1));

    /* The text shows those digits, or (integers written in full) digits
     * that are the value itself. */
    /* qg_atod reads both texts back, or leaves them to strtod */
    double back;
    char sh[40];
    int sn = snprintf(sh, sizeof(sh), "%llue%d", (unsigned long long)d.digits, d.exp);
    if (qg_atod(sh, (size_t)sn, &back))
        FUZZ_CHECK(same_bits(back, a));
    if (qg_atod(out, n, &back))
        FUZZ_CHECK(same_bits(back, v));

    int tn;
    uint64_t tm = text_digits(out, &tn);
    bool integral = n > 2 && strcmp(out + n - 2, ".0") == 0;
    FUZZ_CHECK(integral || (tm == d.digits && tn == d.ndigits));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 8) {
        double v;
        memcpy(&v, data, sizeof(v));
        check(v);
    }
    if (size > 0 && size < 64) {
        char text[64];
        memcpy(text, data, size);
        text[size] = '\0';
        char *end = NULL;
        double v = strtod(text, &end);
        if (end != text)
            check(v);
        char *exact = fuzz_dup(data, size);
        double a;
        if (qg_atod(exact, size, &a))
            FUZZ_CHECK(end == text + size && same_bits(a, v));
        free(exact);
    }
    return 0;
}
