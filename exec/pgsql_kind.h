/*
 * pgsql_kind: what a PostgreSQL statement is, read from its words.
 *
 * exec/run refuses a read-only request before anything runs when one of
 * its statements is not a query; for SQLite the engine says so, for
 * PostgreSQL nothing can without running the statement, so this module
 * reads the words (outside quotes and comments, see pgsql_lex):
 *
 *   SELECT, VALUES, TABLE, WITH, SHOW   read-only, unless a word INSERT,
 *                 UPDATE, DELETE or MERGE appears (a data-modifying WITH),
 *                 or SELECT ... INTO, or FOR UPDATE / FOR SHARE (row locks)
 *   EXPLAIN       read-only unless it has ANALYZE and what it explains is
 *                 not read-only (EXPLAIN ANALYZE runs the statement)
 *   anything else not read-only (SET, BEGIN, COMMIT, CALL, COPY, DDL, ...)
 *
 * This is the first of two guards and errs on the side of refusing (a
 * column named "update" makes a SELECT look like a write; quote it). The
 * second is the server: each statement of a read-only request runs in a
 * READ ONLY transaction, which refuses the writes words cannot show (a
 * function that inserts, nextval()).
 *
 * Pure, any thread.
 */
#ifndef QG_EXEC_PGSQL_KIND_H
#define QG_EXEC_PGSQL_KIND_H

#include <stdbool.h>
#include <stddef.h>

typedef struct pgsql_kind {
    /* For messages: the first word upper-cased ("INSERT", "CREATE"), or
     * for a query that writes, what makes it write ("DELETE", "SELECT
     * INTO", "SELECT FOR UPDATE"); "UNKNOWN" when there is no word. */
    char kind[32];
    bool readonly;
    bool rows; /* probably returns rows (a query, or RETURNING); a guess */
} pgsql_kind;

/* Classifies the one statement s[0..n) (as pgsql_split delimits it). */
void pgsql_kind_of(const char *s, size_t n, pgsql_kind *out);

#endif
