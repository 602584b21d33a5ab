/*
 * dtoa: the shortest decimal form of a double.
 *
 * For a finite v > 0, qg_dtoa finds the decimal d * 10^e with the fewest
 * significant digits that reads back (round to nearest, ties to even, as
 * strtod does) as exactly v; among several of that length, the one closest
 * to v, and on a tie the one with an even last digit. d has no trailing
 * zeros. This is the digit string %.17g + strtod searches find, at a small
 * fraction of their cost; core/json lays it out as JSON text.
 *
 * Pure and thread-safe: the table of powers of ten it needs is computed
 * once, on the first call, under pthread_once.
 */
#ifndef QG_DTOA_H
#define QG_DTOA_H

#include <stdint.h>

typedef struct qg_decimal {
    uint64_t digits; /* d: 1 to 17 digits, no trailing zeros */
    int exp;         /* e: v reads as d * 10^e */
    int ndigits;     /* number of decimal digits of d */
} qg_decimal;

/* The shortest decimal of v; v must be finite and > 0 (callers handle the
 * sign, zero, NaN and infinities). */
qg_decimal qg_dtoa(double v);

#endif
