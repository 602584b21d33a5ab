/*
 * jsonparse: reading JSON request bodies and parameter values.
 *
 * A strict RFC 8259 reader that keeps what cJSON loses: the exact source text
 * of every value (so a number keeps its digits: 9007199254740993 stays
 * exact), strings with NULs in them, and every member of an object in order
 * (duplicates included, so callers choose which one wins). Depth and size are
 * bounded, so hostile input cannot exhaust the stack or memory. Pure; any
 * thread; allocations come from the caller's arena.
 */
#ifndef QG_JSONPARSE_H
#define QG_JSONPARSE_H

#include <stddef.h>

#include "core/arena.h"

typedef enum qg_jtype {
    QG_J_NULL,
    QG_J_FALSE,
    QG_J_TRUE,
    QG_J_NUMBER,
    QG_J_STRING,
    QG_J_ARRAY,
    QG_J_OBJECT
} qg_jtype;

typedef struct qg_jmember qg_jmember;

typedef struct qg_jval {
    qg_jtype type;
    /* The value's exact source text: for a number its digits, for a string
     * its quoted form with escapes, for an array or object all of it. */
    const char *raw;
    size_t raw_len;
    /* STRING: the decoded text, NUL-terminated, may contain NULs (str_len
     * is the truth). Always valid UTF-8. */
    const char *str;
    size_t str_len;
    /* ARRAY: items[0..count); OBJECT: members[0..count) in source order. */
    struct qg_jval *items;
    qg_jmember *members;
    size_t count;
} qg_jval;

struct qg_jmember {
    const char *key; /* decoded, NUL-terminated, may contain NULs */
    size_t key_len;
    qg_jval val;
};

typedef struct qg_json_limits {
    int max_depth;     /* nesting of arrays/objects; the top value is depth 1 */
    size_t max_values; /* values in the whole document, members' values included */
} qg_json_limits;

/* Parses text[0..len) as exactly one JSON value with optional surrounding
 * whitespace. Strings must be valid UTF-8; \u escapes are decoded, surrogate
 * pairs joined, lone surrogates rejected. Numbers follow the JSON grammar
 * (no leading zeros, no '+', no NaN). Returns 0 and fills *out, or -1 with
 * *why set to a short static reason (e.g. "nesting too deep"). Memory comes
 * from a and lives as long as it. */
int qg_json_parse(const char *text, size_t len, qg_arena *a, const qg_json_limits *lim,
                  qg_jval *out, const char **why);

#endif
