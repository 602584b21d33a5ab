/*
 * json: writing JSON text directly into a qg_buf.
 *
 * Result rows are written through these, never through a tree: a 1M-row
 * result costs one pass over the values and no allocation per value.
 * Everything here is pure and any thread may call it.
 */
#ifndef QG_JSON_H
#define QG_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Appends s[0..n) as a JSON string literal, quotes included. The output is
 * always valid UTF-8 JSON whatever the input: '"' and '\\' are escaped,
 * control characters (including NUL) become \n, \r, \t, \b, \f or \u00XX,
 * and each maximal invalid UTF-8 subsequence (bad lead byte, truncated
 * sequence, overlong form, surrogate, > U+10FFFF) becomes U+FFFD.
 * '/' and non-ASCII characters are written as they are. */
void qg_json_string(qg_buf *b, const char *s, size_t n);
/* The same without the surrounding quotes. */
void qg_json_escape(qg_buf *b, const char *s, size_t n);

void qg_json_int64(qg_buf *b, int64_t v);
void qg_json_uint64(qg_buf *b, uint64_t v);

/* Appends a finite double as the shortest decimal text that strtod() reads
 * back to exactly the same value, always with a '.' or an exponent so that
 * it reads as a real: 3.0 -> "3.0", 0.1 -> "0.1", 1e300 -> "1e+300",
 * -0.0 -> "-0.0", 5e-324 -> "5e-324". NaN and infinities are not JSON
 * numbers: they are written as the strings "NaN", "Infinity", "-Infinity"
 * (quotes included). */
void qg_json_double(qg_buf *b, double v);

/* The text qg_json_double writes for a finite v, without quotes for the
 * non-finite ones ("NaN", "Infinity", "-Infinity"); NUL-terminated.
 * out must hold 32 bytes. Returns the length. */
size_t qg_fmt_double(double v, char *out);

/* Decimal text of v into out (at least 21 bytes), NUL-terminated; returns
 * the length. */
size_t qg_fmt_int64(int64_t v, char *out);
size_t qg_fmt_uint64(uint64_t v, char *out);
/* Reads s[0..n) as plain decimal digits (no sign, space, fraction or
 * exponent) of a value up to max into *out. Returns false for anything
 * else, and for an empty text. */
bool qg_parse_uint64(const char *s, size_t n, uint64_t max, uint64_t *out);

/* Length of the well-formed UTF-8 sequence starting at s[0..n) (1 for any
 * ASCII byte), or 0 when none starts there (a bad lead byte, a truncated
 * sequence, an overlong form, a surrogate, above U+10FFFF). */
size_t qg_utf8_seq(const char *s, size_t n);
/* Appends s[0..n), each maximal invalid subsequence replaced by U+FFFD as
 * qg_json_string does, and nothing else changed (no escaping). */
void qg_utf8_repair(qg_buf *b, const char *s, size_t n);

/* 1 when s[0..n) is well-formed UTF-8 (no overlong forms, no surrogates,
 * nothing above U+10FFFF), else 0. */
int qg_utf8_valid(const char *s, size_t n);

/* 1 when p[0..n) is exactly a JSON number:
 * -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, else 0. */
int qg_json_number_valid(const char *p, size_t n);

#endif
