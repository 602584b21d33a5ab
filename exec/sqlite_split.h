/*
 * sqlite_split: where the statements of an SQLite text begin and end.
 *
 * A statement ends at the first ';' after which sqlite3_complete() would
 * call the text so far complete: a ';' outside quotes ('', "", ``),
 * brackets ([]) and comments (-- and block), except inside the body of a
 * CREATE [TEMP|TEMPORARY] TRIGGER, whose ';'s end only at ";END;". The
 * rules are sqlite3_complete's own, reproduced here as one pass of a small
 * state machine over the tokens, so splitting is linear in the text
 * (asking sqlite3_complete at every ';' of a long trigger body is
 * quadratic). Like sqlite3_complete, a NUL byte ends the text for these
 * rules, and only ' ', \t, \n, \r and \f are blanks between tokens (so
 * "CREATE\vTRIGGER" is not a trigger to it).
 *
 * Pure: no allocation, never reads past n, any thread. Written to be fuzzed
 * and tested against sqlite3_complete itself.
 */
#ifndef QG_EXEC_SQLITE_SPLIT_H
#define QG_EXEC_SQLITE_SPLIT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct sqlite_span {
    size_t start; /* the statement's first byte (blanks, comments and empty
                   * statements before it are skipped) */
    size_t len;   /* up to, not including, its ';' (or the end), trailing
                   * whitespace cut */
    size_t used;  /* bytes consumed: the statement, its ';', and every blank,
                   * comment and empty statement after it, so that
                   * s[used..n) is empty or starts a statement */
} sqlite_span;

/* Finds the first statement of s[0..n). Returns false, with span->used =
 * n, when the text holds nothing but blanks, comments and ';'. */
bool sqlite_split(const char *s, size_t n, sqlite_span *span);

/* What sqlite3_complete answers for s[0..n) (up to its first NUL, if
 * any): 1 when the text ends with a complete statement (its ';' followed
 * by nothing but blanks and comments), else 0. */
int sqlite_split_complete(const char *s, size_t n);

#endif
