/*
 * fuzz.h: what every fuzz target shares.
 *
 * Each target is one LLVMFuzzerTestOneInput, linked either with libFuzzer
 * (the QGATE_FUZZ build) or with replay.c (every other build, where ctest
 * runs the target over its corpus). Invariants are checked with
 * FUZZ_CHECK, which aborts: libFuzzer reports an abort as a crash and
 * saves the input, and a replay test fails on it.
 *
 * The helpers here are written independently of the code under test, so a
 * bug shared by a parser and its checker cannot hide itself.
 */
#ifndef QG_FUZZ_H
#define QG_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reports the broken invariant and aborts. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A copy of p[0..n) in a block of exactly n bytes (one byte for n == 0),
 * so that ASan sees any read past the end of the part a parser was given,
 * even when the fuzzer's input goes on after it. */
static inline char *
fuzz_dup(const void *p, size_t n)
{
    char *c = malloc(n ? n : 1);
    if (!c)
        abort();
    if (n)
        memcpy(c, p, n);
    else
        c[0] = '\0'; /* never read: only keeps gcc's -Wmaybe-uninitialized quiet */
    return c;
}

/* FNV-1a of the input: a deterministic "random" choice (a split point, a
 * set of limits) that does not take bytes away from the input's format, so
 * seeds stay plain requests, JSON texts or durations. */
static inline uint64_t
fuzz_hash(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603u;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211u;
    }
    return h;
}

/* Length of the well-formed UTF-8 sequence at p[0..n) (n > 0), or 0.
 * Decodes the code point and judges it by value (overlong, surrogate, out
 * of range), unlike the table-driven checks in core/. */
static inline size_t
fuzz_utf8_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint32_t cp, min;
    if ((c & 0xE0) == 0xC0) {
        len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

static inline bool
fuzz_utf8_valid(const void *s, size_t n)
{
    const unsigned char *p = s;
    size_t i = 0;
    while (i < n) {
        size_t k = fuzz_utf8_len(p + i, n - i);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

#endif
