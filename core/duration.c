/*
 * duration: Go-style duration texts (see duration.h).
 *
 * Provisional: only the parser, which gateway/params needs; the complete
 * module (with qg_duration_format) replaces this file.
 *
 * Integer arithmetic only, so "1.1s" is exactly 1100000000 ns and never
 * 1099999999 through a double.
 */
#include "core/duration.h"

#include <stdbool.h>
#include <string.h>

#define NS_US 1000ull
#define NS_MS 1000000ull
#define NS_S 1000000000ull
#define NS_M (60ull * NS_S)
#define NS_H (60ull * NS_M)

/* Reads a unit at s[*i..n); returns its size in ns, or 0 if none. */
static uint64_t
read_unit(const unsigned char *s, size_t n, size_t *i)
{
    size_t k = *i;
    size_t left = n - k;
    if (left >= 2 && s[k + 1] == 's') {
        switch (s[k]) {
        case 'n':
            *i += 2;
            return 1;
        case 'u':
            *i += 2;
            return NS_US;
        case 'm':
            *i += 2;
            return NS_MS;
        default:
            break;
        }
    }
    /* The micro sign: U+00B5 or U+03BC, then 's'. */
    if (left >= 3 && s[k + 2] == 's' &&
        ((s[k] == 0xC2 && s[k + 1] == 0xB5) || (s[k] == 0xCE && s[k + 1] == 0xBC))) {
        *i += 3;
        return NS_US;
    }
    if (left >= 1) {
        switch (s[k]) {
        case 's':
            *i += 1;
            return NS_S;
        case 'm':
            *i += 1;
            return NS_M;
        case 'h':
            *i += 1;
            return NS_H;
        default:
            break;
        }
    }
    return 0;
}

int
qg_duration_parse(const char *text, size_t n, uint64_t *ns)
{
    const unsigned char *s = (const unsigned char *)text;
    if (n == 0 || !s)
        return -1;
    if (n == 1 && s[0] == '0') {
        *ns = 0;
        return 0;
    }
    uint64_t total = 0;
    size_t i = 0;
    while (i < n) {
        size_t int_start = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        size_t int_end = i;
        size_t frac_start = i, frac_end = i;
        if (i < n && s[i] == '.') {
            i++;
            frac_start = i;
            while (i < n && s[i] >= '0' && s[i] <= '9')
                i++;
            frac_end = i;
        }
        if (int_end == int_start && frac_end == frac_start)
            return -1; /* no digits at all */
        uint64_t unit = read_unit(s, n, &i);
        if (unit == 0)
            return -1;

        uint64_t v = 0;
        for (size_t k = int_start; k < int_end; k++) {
            uint64_t d = (uint64_t)(s[k] - '0');
            if (v > (UINT64_MAX - d) / 10)
                return -1;
            v = v * 10 + d;
        }
        if (v != 0 && v > UINT64_MAX / unit)
            return -1;
        v *= unit;

        /* floor(0.d1d2...dk * unit), from the last digit to the first:
         * y = floor((d * unit + y) / 10) loses nothing, because adding a
         * value below 1 to an integer numerator cannot change the floor of
         * its tenth. Every digit counts, however many there are. */
        uint64_t frac = 0;
        for (size_t k = frac_end; k > frac_start; k--)
            frac = ((uint64_t)(s[k - 1] - '0') * unit + frac) / 10;
        if (v > UINT64_MAX - frac)
            return -1;
        v += frac;
        if (total > UINT64_MAX - v)
            return -1;
        total += v;
    }
    *ns = total;
    return 0;
}
