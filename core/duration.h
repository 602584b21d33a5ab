/*
 * duration: the two duration texts of the protocol.
 *
 * Parameters (timeout, result-ttl, ...) are Go-style durations; metrics are
 * printed the way AsterixDB prints them. Pure; any thread.
 */
#ifndef QG_DURATION_H
#define QG_DURATION_H

#include <stddef.h>
#include <stdint.h>

#define QG_DURATION_MAX_TEXT 32

/* Parses s[0..n): one or more groups of <number><unit>, where number is
 * digits with an optional fraction ("1", "1.5", "1.", ".5") and unit is one of
 * ns, us, µs (U+00B5 or U+03BC), ms, s, m, h; or exactly "0". Examples: "10s",
 * "1.5h", "2h45m", "300ms". No sign, no spaces, no empty input. Fractions
 * below a nanosecond are dropped; a total above UINT64_MAX ns is invalid.
 * Returns 0 and sets *ns, or -1 when the text is invalid. */
int qg_duration_parse(const char *s, size_t n, uint64_t *ns);

/* Prints ns the way AsterixDB prints metrics: in the largest of s, ms, µs,
 * ns that keeps at least one integer digit, with the fraction's trailing
 * zeros cut and no rounding: 20263371 -> "20.263371ms", 1500000000 ->
 * "1.5s", 999 -> "999ns", 0 -> "0ns", 90000000000 -> "90s". The micro sign is
 * U+00B5. out holds QG_DURATION_MAX_TEXT bytes; returns the length. */
size_t qg_duration_format(uint64_t ns, char *out);

#endif
