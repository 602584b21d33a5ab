/*
 * suggest: "did you mean ...?" for a mistyped name (a parameter, a flag, a
 * config key, an environment variable), by edit distance.
 *
 * Pure; any thread.
 */
#ifndef QG_SUGGEST_H
#define QG_SUGGEST_H

#include <stddef.h>

/* The edit distance between a[0..an) and b[0..bn): insertions, deletions,
 * substitutions and swaps of two neighbours count one each, ASCII case
 * differences nothing. Names longer than QG_SUGGEST_MAX_LEN bytes are
 * "far" (returns QG_SUGGEST_MAX_LEN + 1). */
#define QG_SUGGEST_MAX_LEN 64
size_t qg_edit_distance(const char *a, size_t an, const char *b, size_t bn);

/* The candidate closest to word[0..n), when it is close enough to be what
 * was meant: at most 1 edit for names up to 4 bytes, 2 up to 8, else 3,
 * and fewer edits than the word is long. The first of equally close ones
 * wins. NULL when none is close. cands has ncands NUL-terminated names. */
const char *qg_suggest(const char *word, size_t n, const char *const *cands, size_t ncands);

#endif
