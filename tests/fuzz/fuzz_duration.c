/*
 * fuzz_duration: core/duration, Go-style text in, AsterixDB text out.
 *
 * The input is a duration parameter's value ("1.5h", "2h45m", "300ms").
 * Checked:
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t ns = 0;
    int r = parse_copy(data, size, &ns);
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
