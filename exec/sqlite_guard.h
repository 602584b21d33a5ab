/*
 * sqlite_guard: what a client may do on qgate's SQLite connections.
 *
 * Every principal's requests run on the same few long-lived connections
 * (one per worker), so a connection must hand a request the database and
 * nothing else: no way into the process's memory or the file system, and
 * nothing an earlier request left behind. Two halves:
 *
 *   sqlite_guard_harden  settings made on each connection when it opens:
 *                        the two-argument fts3_tokenizer() off (it plants
 *                        a function table that FTS then calls), defensive
 *                        mode, an untrusted schema, no extension loading,
 *                        virtual table modules by allow-list, qgate's
 *                        limits, and changes() / total_changes() that count
 *                        the running request only.
 *   sqlite_guard_decide  the authorizer's decision on each action SQLite
 *                        asks about while it compiles a statement (and
 *                        while it runs one that reads a pragma table):
 *                        functions, pragmas and modules by allow-list,
 *                        ATTACH and DETACH never (they open files), writes
 *                        only in requests that may write. An action that
 *                        is allowed but leaves state on the connection (a
 *                        TEMP object, a connection setting) says so: the
 *                        backend resets the connection when that request
 *                        ends (exec/sqlite.c).
 *
 * The lists are what Debian's SQLite 3.40 offers, every entry judged
 * (docs/security.md has the reasons); a name that is on no list, such as
 * one a newer SQLite adds, is refused until someone judges it.
 * sqlite_guard_decide is pure: any thread.
 */
#ifndef QG_EXEC_SQLITE_GUARD_H
#define QG_EXEC_SQLITE_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

/* The authorizer's answer to one action. */
typedef struct sqlite_guard_verdict {
    bool allow;
    /* Allowed, but it leaves state on the connection that must not reach
     * the next request: reset the connection when this request ends. */
    bool resets;
    /* Refused because the request is read-only and the action would change
     * something (the client hears "not supported in read-only mode"). */
    bool readonly;
    /* Refused: what and why, for the client ("function fts3_tokenizer() is
     * not allowed: it reads and writes the server's memory"). */
    char why[192];
} sqlite_guard_verdict;

/* Decides one authorizer call: action and the four strings SQLite passes
 * with it (a, b, the database name and the innermost trigger or view; any
 * may be NULL), for a request that is read-only or not. */
void sqlite_guard_decide(int action, const char *a, const char *b, const char *db, bool readonly,
                         sqlite_guard_verdict *out);

/* The connection's own limits (sqlite3_limit), from qgate's settings. */
typedef struct sqlite_guard_limits {
    int max_value; /* longest string or blob a statement may read or build */
    int max_sql;   /* longest statement text */
} sqlite_guard_limits;

/* Per connection: where changes() and total_changes() start counting. Owned
 * by the backend's connection; must outlive db. */
typedef struct sqlite_guard_conn {
    int64_t total_at_start; /* sqlite3_total_changes64 when the request began */
} sqlite_guard_conn;

/* Hardens a freshly opened connection (before any statement). Returns 0,
 * or -1 with the reason in why (n bytes). Caller's thread, which owns db. */
int sqlite_guard_harden(sqlite3 *db, const sqlite_guard_limits *lim, sqlite_guard_conn *g,
                        char *why, size_t n);

/* A request is over: what it may leave on the connection without resetting
 * it is cleared (last_insert_rowid(), the changes() count). Call after
 * every request, on the thread that owns db. */
void sqlite_guard_request_end(sqlite3 *db, sqlite_guard_conn *g);

#endif
