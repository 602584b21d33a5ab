/*
 * pgsql_split: where the statements of a PostgreSQL text begin and end.
 *
 * A statement ends at a ';' that is outside quotes, dollar quotes and
 * comments (pgsql_lex), outside parentheses (a rule's action list is
 * `(INSERT ...; INSERT ...)`), and outside the BEGIN ... END body of a
 * SQL-standard function (`CREATE [OR REPLACE] FUNCTION|PROCEDURE ...
 * BEGIN ATOMIC ...; ...; END`, where CASE ... END nests inside). That is
 * the rule psql follows, so a script that runs in psql splits the same way.
 *
 * A wrong split can never run more than the client sent: each piece goes to
 * the server as one extended-protocol statement, which refuses text holding
 * two commands.
 *
 * Pure: no allocation, never reads past n, any thread. Written to be fuzzed.
 */
#ifndef QG_EXEC_PGSQL_SPLIT_H
#define QG_EXEC_PGSQL_SPLIT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct pgsql_span {
    size_t start; /* the statement's first byte (blanks, comments and empty
                   * statements before it are skipped) */
    size_t len;   /* up to, not including, its ';' (or the end), trailing
                   * whitespace cut */
    size_t used;  /* bytes consumed: the statement, its ';', and every blank,
                   * comment and empty statement after it, so that
                   * s[used..n) is empty or starts a statement */
} pgsql_span;

/* Finds the first statement of s[0..n). Returns false, with span->used =
 * n, when the text holds nothing but blanks, comments and ';'. */
bool pgsql_split(const char *s, size_t n, pgsql_span *span);

#endif
