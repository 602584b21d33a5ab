/*
 * fuzz_duration: core/duration, Go-style text in, AsterixDB text out.
 *
 * The input is a duration parameter's value ("1.5h", "2h45m", "300ms").
 * Checked:
 *   - the parser agrees with a reference written here (validity, and the
 *     exact number of nanoseconds);
 *   - format(parse(x)) is short, NUL-terminated, valid UTF-8 and parses
 *     back to the same number of nanoseconds;
 *   - groups add up: split x at a point the input picks, where one group
 *     ends and the next begins, and parse(x) == parse(left) + parse(right)
 *     (both valid, or x invalid; an overflowing sum is invalid);
 *   - the input's first 8 bytes as a number of nanoseconds format and
 *     parse back to themselves, so the printer sees every magnitude.
 */
#include "core/duration.h"

#include "fuzz.h"

static int
parse_copy(const uint8_t *p, size_t n, uint64_t *ns)
{
    char *s = fuzz_dup(p, n);
    int r = qg_duration_parse(s, n, ns);
    free(s);
    FUZZ_CHECK(r == 0 || r == -1);
    return r;
}

/* format(ns) must parse back to ns. */
static void
check_round_trip(uint64_t ns)
{
    char out[QG_DURATION_MAX_TEXT + 8];
    memset(out, 0x7F, sizeof(out));
    size_t n = qg_duration_format(ns, out);
    FUZZ_CHECK(n > 0 && n < QG_DURATION_MAX_TEXT);
    FUZZ_CHECK(out[n] == '\0' && strlen(out) == n);
    FUZZ_CHECK(fuzz_utf8_valid(out, n));
    uint64_t back = ~ns;
    FUZZ_CHECK(parse_copy((const uint8_t *)out, n, &back) == 0);
    FUZZ_CHECK(back == ns);
}

static bool
is_num_byte(uint8_t c)
{
    return (c >= '0' && c <= '9') || c == '.';
}

static void
check_additive(const uint8_t *data, size_t size, uint64_t whole, int r_whole)
{
    if (size < 2)
        return;
    size_t k = 1 + (size_t)(fuzz_hash(data, size) % (size - 1));
    /* Only a boundary between groups: a unit byte, then a number byte. A
     * lone "0" is valid as a whole text but not as a group, so a right
     * part of just "0" proves nothing. */
    if (is_num_byte(data[k - 1]) || !is_num_byte(data[k]))
        return;
    if (size - k == 1 && data[k] == '0')
        return;
    uint64_t a = 0, b = 0;
    int ra = parse_copy(data, k, &a);
    int rb = parse_copy(data + k, size - k, &b);
    if (ra == 0 && rb == 0) {
        if (a > UINT64_MAX - b) {
            FUZZ_CHECK(r_whole == -1);
        } else {
            FUZZ_CHECK(r_whole == 0);
            FUZZ_CHECK(whole == a + b);
        }
    } else {
        FUZZ_CHECK(r_whole == -1);
    }
}

/* ---- a reference parser ----
 * Written from the grammar in duration.h, with another algorithm for
 * fractions: floor(unit * 0.ddd) by long multiplication of the digits by
 * the unit from the last digit up, the carry being the answer. */

static uint64_t
unit_ns(const uint8_t *u, size_t n)
{
    static const struct {
        const char *name;
        uint64_t ns;
    } units[] = {{"ns", 1},       {"us", 1000},      {"\xC2\xB5s", 1000}, {"\xCE\xBCs", 1000},
                 {"ms", 1000000}, {"s", 1000000000}, {"m", 60000000000u}, {"h", 3600000000000u}};
    for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++)
        if (strlen(units[k].name) == n && memcmp(units[k].name, u, n) == 0)
            return units[k].ns;
    return 0;
}

static int
reference_parse(const uint8_t *s, size_t n, uint64_t *out)
{
    if (n == 1 && s[0] == '0') {
        *out = 0;
        return 0;
    }
    if (n == 0)
        return -1;
    uint64_t total = 0;
    size_t i = 0;
    while (i < n) {
        size_t a = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        size_t int_end = i, f = i, f_end = i;
        if (i < n && s[i] == '.') {
            f = ++i;
            while (i < n && s[i] >= '0' && s[i] <= '9')
                i++;
            f_end = i;
        }
        if (int_end == a && f_end == f)
            return -1;
        size_t u = i;
        while (i < n && !is_num_byte(s[i]))
            i++;
        uint64_t unit = unit_ns(s + u, i - u);
        if (unit == 0)
            return -1;
        uint64_t v = 0;
        for (size_t k = a; k < int_end; k++) {
            uint64_t d = (uint64_t)(s[k] - '0');
            if (v > (UINT64_MAX - d) / 10)
                return -1;
            v = v * 10 + d;
        }
        if (v > UINT64_MAX / unit)
            return -1;
        v *= unit;
        /* unit < 2^42, so digit * unit + carry never overflows. */
        uint64_t carry = 0;
        for (size_t k = f_end; k > f; k--)
            carry = ((uint64_t)(s[k - 1] - '0') * unit + carry) / 10;
        if (v > UINT64_MAX - carry || v + carry > UINT64_MAX - total)
            return -1;
        total += v + carry;
    }
    *out = total;
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t ns = 0;
    int r = parse_copy(data, size, &ns);
    uint64_t want = 0;
    int rr = reference_parse(data, size, &want);
    FUZZ_CHECK(r == rr);
    FUZZ_CHECK(r != 0 || ns == want);
    if (r == 0)
        check_round_trip(ns);
    check_additive(data, size, ns, r);

    if (size >= 8) {
        uint64_t v;
        memcpy(&v, data, sizeof(v));
        check_round_trip(v);
    }
    return 0;
}
