/*
 * pgsql_params: a statement's placeholders, renumbered for PostgreSQL.
 *
 * PostgreSQL knows only $1..$n. qgate's requests also bind `?` (AsterixDB
 * and SQLite style) and `$name`. Values never enter the SQL text: this
 * module rewrites the placeholders (outside quotes and comments, see
 * pgsql_lex) into $k and says which request value each $k takes; the
 * backend then sends the values as bound parameters.
 *
 *   $n     stays $n and takes args[n-1], as on SQLite
 *   ?      the i-th ? of the statement becomes $i and takes args[i-1]
 *   ??     becomes a literal ?, for PostgreSQL's operators that contain
 *          one (jsonb `??`, `??|`, `??&`; `@??` for jsonpath), as in JDBC
 *   $name  every occurrence of one name becomes the same $k, numbered
 *          after the positional ones, and takes the request's $name
 *
 * A $k that nothing refers to (the text uses $2 but not $1) is sent as a
 * NULL of type text, so the server need not guess its type.
 *
 * Pure except for allocation; any thread.
 */
#ifndef QG_EXEC_PGSQL_PARAMS_H
#define QG_EXEC_PGSQL_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

/* PostgreSQL's protocol carries at most this many parameters. */
#define PGSQL_MAX_PARAMS 65535

typedef enum pgsql_psrc {
    PGSQL_P_UNUSED, /* nothing refers to it */
    PGSQL_P_ARG,    /* args[arg] */
    PGSQL_P_NAMED,  /* the request's $name */
} pgsql_psrc;

typedef struct pgsql_param {
    pgsql_psrc src;
    size_t arg;       /* P_ARG: index into the request's args */
    bool qmark;       /* P_ARG: written as ? (for messages) */
    const char *name; /* P_NAMED: the name in the statement text, no '$' */
    size_t name_len;
} pgsql_param;

typedef struct pgsql_params {
    char *sql; /* the rewritten statement, NUL-terminated */
    size_t len;
    pgsql_param *p; /* p[k] describes $k+1 */
    size_t n;
} pgsql_params;

/* Rewrites the statement s[0..n) into out (which the caller releases with
 * pgsql_params_free; names in out->p point into s, which must outlive
 * out). Returns 0, or -1 when it needs more than PGSQL_MAX_PARAMS
 * parameters ($n beyond that is left to the server to refuse). */
int pgsql_params_rewrite(const char *s, size_t n, pgsql_params *out);
void pgsql_params_free(pgsql_params *p);

#endif
