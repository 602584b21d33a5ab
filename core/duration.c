/*
 * duration: Go-style duration text in, AsterixDB metric text out (see
 * duration.h).
 *
 * Both directions use integers only. A parsed fraction must be truncated to
 * the nanosecond exactly, and floating point cannot do that for inputs like
 * "0.1h" (360000000000 ns, not 359999999999.99994). Every unit is c * 10^z
 * ns with c in {1, 6, 36}, so a fraction's first z digits scale exactly, and
 * the digits after them only add floor(c * 0.ddd...) < c, which a carry
 * taken from the last digit backwards gives exactly however many digits
 * there are.
 */
#include "core/duration.h"

#include <string.h>

struct unit {
    const char *name;
    unsigned char len;
    unsigned char c; /* the unit is c * 10^z ns */
    unsigned char z;
};

static const struct unit units[] = {
    {"ns", 2, 1, 0}, {"us", 2, 1, 3}, {"\xC2\xB5s", 3, 1, 3}, {"\xCE\xBCs", 3, 1, 3},
    {"ms", 2, 1, 6}, {"s", 1, 1, 9},  {"m", 1, 6, 10},        {"h", 1, 36, 11},
};

static const uint64_t pow10_u64[] = {
    1u,        10u,        100u,        1000u,        10000u,        100000u,        1000000u,
    10000000u, 100000000u, 1000000000u, 10000000000u, 100000000000u, 1000000000000u,
};

static inline int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* a += b, or -1 when the sum does not fit. */
static inline int
add_u64(uint64_t *a, uint64_t b)
{
    if (*a > UINT64_MAX - b)
        return -1;
    *a += b;
    return 0;
}

/* The ns of int_part.frac[0..fk) units, truncated; -1 on overflow. */
static int
group_ns(uint64_t int_part, const char *frac, size_t fk, const struct unit *u, uint64_t *out)
{
    uint64_t unit_ns = u->c * pow10_u64[u->z];
    if (int_part > UINT64_MAX / unit_ns)
        return -1;
    uint64_t v = int_part * unit_ns;

    /* The first z fraction digits, as a count of c ns (below unit_ns). */
    size_t head = fk < u->z ? fk : u->z;
    uint64_t f = 0;
    for (size_t i = 0; i < head; i++)
        f = f * 10 + (uint64_t)(frac[i] - '0');
    f *= pow10_u64[u->z - head];
    if (add_u64(&v, u->c * f) < 0)
        return -1;

    /* floor(c * 0.ddd...) for the digits below c ns. */
    unsigned carry = 0;
    for (size_t i = fk; i > head; i--)
        carry = (u->c * (unsigned)(frac[i - 1] - '0') + carry) / 10;
    if (add_u64(&v, carry) < 0)
        return -1;
    *out = v;
    return 0;
}

int
qg_duration_parse(const char *s, size_t n, uint64_t *ns)
{
    if (n == 1 && s[0] == '0') {
        *ns = 0;
        return 0;
    }
    if (n == 0)
        return -1;

    uint64_t total = 0;
    size_t i = 0;
    while (i < n) {
        uint64_t int_part = 0;
        size_t int_digits = 0;
        for (; i < n && is_digit(s[i]); i++, int_digits++) {
            unsigned d = (unsigned)(s[i] - '0');
            if (int_part > (UINT64_MAX - d) / 10)
                return -1;
            int_part = int_part * 10 + d;
        }
        const char *frac = NULL;
        size_t fk = 0;
        if (i < n && s[i] == '.') {
            frac = s + ++i;
            while (i < n && is_digit(s[i]))
                i++, fk++;
        }
        if (int_digits == 0 && fk == 0)
            return -1;

        /* The unit runs up to the next number, as in Go: "1hh" has the
         * unit "hh", not "h" and junk. */
        size_t ustart = i;
        while (i < n && !is_digit(s[i]) && s[i] != '.')
            i++;
        size_t ulen = i - ustart;
        const struct unit *u = NULL;
        for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
            if (units[k].len == ulen && memcmp(units[k].name, s + ustart, ulen) == 0) {
                u = &units[k];
                break;
            }
        }
        if (!u)
            return -1;

        uint64_t v;
        if (group_ns(int_part, frac, fk, u, &v) < 0 || add_u64(&total, v) < 0)
            return -1;
    }
    *ns = total;
    return 0;
}

size_t
qg_duration_format(uint64_t ns, char *out)
{
    static const struct {
        uint64_t div;
        unsigned frac_digits;
        const char *name;
    } scales[] = {
        {1000000000u, 9, "s"},
        {1000000u, 6, "ms"},
        {1000u, 3, "\xC2\xB5s"},
        {1u, 0, "ns"},
    };
    size_t k = 0;
    while (k < 3 && ns < scales[k].div)
        k++;

    uint64_t ip = ns / scales[k].div, fp = ns % scales[k].div;
    char tmp[20];
    size_t n = 0;

    size_t t = 0;
    do {
        tmp[t++] = (char)('0' + ip % 10);
        ip /= 10;
    } while (ip);
    while (t)
        out[n++] = tmp[--t];

    if (fp) {
        unsigned fd = scales[k].frac_digits;
        /* Trailing zeros are cut, not rounded away: only zeros go. */
        while (fp % 10 == 0)
            fp /= 10, fd--;
        out[n++] = '.';
        for (unsigned d = fd; d > 0; d--) {
            out[n + d - 1] = (char)('0' + fp % 10);
            fp /= 10;
        }
        n += fd;
    }
    size_t ul = strlen(scales[k].name);
    memcpy(out + n, scales[k].name, ul + 1);
    return n + ul;
}
