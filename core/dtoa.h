/*
 * dtoa: doubles to and from decimal text, exactly and fast.
 *
 * For a finite v > 0, qg_dtoa finds the decimal d * 10^e with the fewest
 * significant digits that reads back (round to nearest, ties to even, as
 * strtod does) as exactly v; among several of that length, the one closest
 * to v, and on a tie the one with an even last digit. d has no trailing
 * zeros. This is the digit string %.17g + strtod searches find, at a small
 * fraction of their cost; core/json lays it out as JSON text.
 *
 * qg_atod goes the other way for plain decimal text, as strtod does but
 * without its arbitrary-precision arithmetic (and without needing a NUL):
 * a database's float text is read at the cost of a few multiplications.
 *
 * Pure and thread-safe: the table of powers of ten both need is computed
 * once, on the first call, under pthread_once.
 */
#ifndef QG_DTOA_H
#define QG_DTOA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct qg_decimal {
    uint64_t digits; /* d: 1 to 17 digits, no trailing zeros */
    int exp;         /* e: v reads as d * 10^e */
    int ndigits;     /* number of decimal digits of d */
} qg_decimal;

/* The shortest decimal of v; v must be finite and > 0 (callers handle the
 * sign, zero, NaN and infinities). */
qg_decimal qg_dtoa(double v);

/* The double nearest to the decimal text s[0..n), ties to even, as strtod
 * reads it: [-]digits[.digits][(e|E)[+|-]digits], nothing before or after.
 * Returns false for any other text, and for the few values it does not
 * decide (more than 19 significant digits, a value within 2^-64 of its
 * units of a tie between two doubles, results that are subnormal, zero
 * from a nonzero digit, or infinite): the caller asks strtod then. */
bool qg_atod(const char *s, size_t n, double *out);

#endif
