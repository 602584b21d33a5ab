/*
 * pgsql_value: PostgreSQL values (in the server's text output) as JSON.
 *
 * The backend asks for text results, so every value arrives as the text
 * the type's output function writes under the session settings the
 * backend pins (DateStyle ISO, extra_float_digits 3, bytea_output hex).
 * The column's type OID chooses the rendering:
 *
 *   int2, int4, int8, oid      JSON integers, the server's digits as they are
 *   numeric                    JSON numbers, the server's digits as they are
 *                              (never through a double); NaN, Infinity and
 *                              -Infinity as strings
 *   float4, float8             JSON numbers through a double (the text is the
 *                              shortest that round-trips); NaN, Infinity as
 *                              strings
 *   bool                       true / false
 *   json, jsonb                embedded as JSON
 *   date, time, timetz,        ISO 8601 strings: 'T' between date and time,
 *   timestamp, timestamptz     a whole-hour offset written +hh:00
 *   bytea                      base64 strings
 *   arrays of the above        JSON arrays, nested per dimension, elements
 *   (and of text-like types)   rendered like scalars, NULL as null
 *   text, varchar, char, name, JSON strings
 *   and everything else        (uuid, inet, interval, money, enums, ...)
 *
 * Pure, any thread.
 */
#ifndef QG_EXEC_PGSQL_VALUE_H
#define QG_EXEC_PGSQL_VALUE_H

#include <stddef.h>

#include "core/buf.h"
#include "exec/rows.h"

typedef enum pgsql_vkind {
    PGSQL_V_TEXT,
    PGSQL_V_INT,
    PGSQL_V_NUMERIC,
    PGSQL_V_FLOAT,
    PGSQL_V_BOOL,
    PGSQL_V_JSON,
    PGSQL_V_DATETIME,
    PGSQL_V_BYTEA,
    PGSQL_V_ARRAY,
} pgsql_vkind;

typedef struct pgsql_vtype {
    pgsql_vkind kind;
    pgsql_vkind elem; /* PGSQL_V_ARRAY: the elements' rendering */
} pgsql_vtype;

/* The rendering of a column of type oid. */
pgsql_vtype pgsql_vtype_of(unsigned oid);

/* The name of built-in type oid as the catalog has it (pg_type.typname:
 * "int4", "text", "timestamptz"), arrays as the element's name and "[]"
 * ("int4[]"); NULL for any other type (user-defined types, enums, domains
 * do not reach here: the server describes a domain by its base type).
 * The names are static. */
const char *pgsql_type_name(unsigned oid);

/* Writes the non-NULL value p[0..n) of type t into w as the next column.
 * scratch is the caller's working buffer (its contents are replaced). */
void pgsql_value_write(rows_writer *w, pgsql_vtype t, const char *p, size_t n, qg_buf *scratch);

/* Appends the JSON of the scalar (kind is not PGSQL_V_ARRAY) p[0..n). */
void pgsql_value_json(qg_buf *out, pgsql_vkind kind, const char *p, size_t n);

/* Appends the ISO 8601 form of a date/time text in DateStyle ISO:
 * "2025-01-02 03:04:05+02" -> "2025-01-02T03:04:05+02:00". Text of any
 * other shape ("infinity") is appended unchanged. */
void pgsql_datetime_iso(qg_buf *out, const char *p, size_t n);

/* Appends the bytes of a bytea text: hex ("\x00ff") or the older escape
 * format ("a\\000b"). Returns 0, or -1 when the text is neither. */
int pgsql_bytea_decode(qg_buf *out, const char *p, size_t n);

#endif
