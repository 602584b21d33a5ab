/*
 * pgsql_array: PostgreSQL's array text as a JSON array.
 *
 * The text form (array_out): `{1,2,3}`; one level of braces per dimension,
 * `{{1,2},{3,4}}`; an element is double-quoted when it is empty, holds the
 * delimiter, a brace, a quote, a backslash or white space, or reads NULL,
 * and inside quotes a backslash takes the next byte literally; an unquoted
 * NULL (any case) is SQL NULL; `[0:2]={...}` gives bounds other than 1,
 * which JSON has no place for and are dropped. Empty arrays are `{}`.
 *
 * Each non-NULL element's text (quotes and escapes removed) goes to a
 * callback that writes its JSON, so elements render like scalars of their
 * type (pgsql_value).
 *
 * Pure, any thread. Written to be fuzzed.
 */
#ifndef QG_EXEC_PGSQL_ARRAY_H
#define QG_EXEC_PGSQL_ARRAY_H

#include <stddef.h>

#include "core/buf.h"

/* Appends the JSON of the element p[0..n) to out. */
typedef void (*pgsql_elem_fn)(qg_buf *out, const char *p, size_t n, void *arg);

/* Maximum nesting accepted (PostgreSQL allows 6 dimensions). */
#define PGSQL_ARRAY_MAX_DEPTH 16

/* Appends the JSON array for the array text p[0..n), elements separated by
 * delim (',' for every built-in type but box). Returns 0, or -1 when the
 * text is not a well-formed array; out is then as it was. */
int pgsql_array_json(qg_buf *out, const char *p, size_t n, char delim, pgsql_elem_fn fn, void *arg);

#endif
