/* suggest: the closest name by edit distance (see suggest.h). */
#include "core/suggest.h"

#include <string.h>

static char
fold(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static size_t
min3(size_t a, size_t b, size_t c)
{
    size_t m = a < b ? a : b;
    return m < c ? m : c;
}

/* Optimal string alignment distance, three rows of the usual table. */
size_t
qg_edit_distance(const char *a, size_t an, const char *b, size_t bn)
{
    if (an > QG_SUGGEST_MAX_LEN || bn > QG_SUGGEST_MAX_LEN)
        return QG_SUGGEST_MAX_LEN + 1;
    size_t rows[3][QG_SUGGEST_MAX_LEN + 1];
    size_t *pp = rows[0], *p = rows[1], *c = rows[2];
    for (size_t j = 0; j <= bn; j++)
        p[j] = j;
    for (size_t i = 1; i <= an; i++) {
        c[0] = i;
        for (size_t j = 1; j <= bn; j++) {
            size_t cost = fold(a[i - 1]) == fold(b[j - 1]) ? 0 : 1;
            c[j] = min3(p[j] + 1, c[j - 1] + 1, p[j - 1] + cost);
            if (i > 1 && j > 1 && fold(a[i - 1]) == fold(b[j - 2]) &&
                fold(a[i - 2]) == fold(b[j - 1]) && pp[j - 2] + 1 < c[j])
                c[j] = pp[j - 2] + 1;
        }
        size_t *t = pp;
        pp = p;
        p = c;
        c = t;
    }
    return p[bn];
}

const char *
qg_suggest(const char *word, size_t n, const char *const *cands, size_t ncands)
{
    size_t limit = n <= 4 ? 1 : n <= 8 ? 2 : 3;
    if (limit >= n)
        limit = n - (n > 0);
    const char *best = NULL;
    size_t best_d = limit + 1;
    for (size_t i = 0; i < ncands; i++) {
        size_t d = qg_edit_distance(word, n, cands[i], strlen(cands[i]));
        if (d < best_d) {
            best_d = d;
            best = cands[i];
        }
    }
    return best;
}
