/*
 * trino_type: the engines' column types as Trino's client protocol names
 * them, and how the row writer encodes their values for it
 * (QG_FORMAT_TRINO, exec/rows.c). docs/trino.md has the table.
 *
 * A column's engine type is what the backend reports: SQLite's declared
 * type (sqlite3_column_decltype: "INTEGER", "DECIMAL(10,2)", ...; none for
 * an expression) or PostgreSQL's type name ("int4", "numeric", "text[]").
 * SQLite's are read by its affinity rules (a name containing INT is an
 * integer, CHAR/CLOB/TEXT text, REAL/FLOA/DOUB a double, ...), with the
 * few names whose values Trino encodes differently (BOOLEAN, DECIMAL,
 * DATE, TIMESTAMP, JSON) first. A column whose engine type is unknown is
 * named from its values once they are known (trino_type_of_values).
 *
 * Pure; any thread.
 */
#ifndef QG_EXEC_TRINO_TYPE_H
#define QG_EXEC_TRINO_TYPE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* How a column's values are written in Trino's JSON encoding. */
typedef enum trino_enc {
    TRINO_ENC_PLAIN,  /* as the value is: numbers, strings, base64 blobs, arrays */
    TRINO_ENC_STRING, /* numbers and JSON text as JSON strings (decimal, json) */
    TRINO_ENC_BOOL,   /* integers as true/false (SQLite BOOLEAN columns) */
} trino_enc;

#define TRINO_TYPE_MAX 96

typedef struct trino_type {
    char name[TRINO_TYPE_MAX]; /* "bigint", "decimal(10,2)", "array(integer)" */
    trino_enc enc;
} trino_type;

/* Maps engine type name engine (NULL or "": unknown) to out. Returns false
 * when the name says nothing (out is then varchar, plain). */
bool trino_type_of(const char *engine, trino_type *out);

/* The type of a column of unknown engine type from what its values were:
 * kind is the store's value kind of its minimum (0 none, 1 bool, 2 number,
 * 3 text, 4 blob), min/max their digits for numbers (may be NULL). */
void trino_type_of_values(int kind, const char *min, const char *max, trino_type *out);

/* Appends the typeSignature object of Trino type name (as trino_type_of
 * makes them) to b: {"rawType":...,"arguments":[...]}. */
void trino_type_signature(qg_buf *b, const char *name);

/* PostgreSQL's text of a date/time value (ISO DateStyle) in Trino's text
 * form, appended to b: a time zone offset "+02" or "+05:30" after a
 * timestamp becomes " +02:00" / " +05:30"; other values are kept. */
void trino_datetime(qg_buf *b, const char *p, size_t n);

#endif
