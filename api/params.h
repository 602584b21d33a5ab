/*
 * params: the bytes of a /query/service request -> a validated qg_query.
 *
 * Implements "Where parameters come from" and "Parameters" of docs/api.md:
 * GET takes the query string only and forces readonly; a form POST takes the
 * form body, then the query string (first value wins); a JSON POST takes the
 * body's top-level object only (last key wins, scalars read as text); any
 * other POST takes the query string only. Names are case-sensitive; enum and
 * boolean values are compared lower-cased; unknown names are ignored and
 * named in q->warnings (with the known name they are closest to), as is a
 * body that was not read (a GET's, a JSON document sent as a form).
 * Every error's message ends with a hint at the fix: what the parameter
 * takes, with an example, and the limit that applies.
 *
 * Pure: no I/O, no globals, so it is unit-tested and fuzzed as it is.
 * Any thread.
 */
#ifndef QG_API_PARAMS_H
#define QG_API_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/query.h"

/* The longest idempotency key accepted, in bytes. */
#define API_IDEM_KEY_MAX 255

typedef struct api_params_in {
    bool is_get;              /* GET (else POST) */
    const char *content_type; /* Content-Type header value, NULL if none */
    const char *accept;       /* Accept header value, NULL if none */
    const char *query;        /* raw query string after '?', NULL if none */
    size_t query_len;
    const char *body; /* request body (already de-chunked), may be NULL */
    size_t body_len;
    /* Limits: exceeding one is ASX0047 for the parameter concerned. */
    size_t max_statement; /* bytes; 0: no limit */
    size_t max_params;    /* args elements + $name parameters; 0: no limit */
    uint64_t max_wait_ns; /* the longest `wait` (--max-wait); 0: no limit */
    /* The Idempotency-Key header's value, NULL if none; the
     * idempotency_key parameter wins over it. */
    const char *idempotency_key;
} api_params_in;

/* Fills q (which the caller has qg_query_init'ed) from in. Returns 0, or -1
 * with err set:
 *   QG_E_PARAM (ASX0047) a value that is invalid for its parameter, a
 *     malformed percent-escape, a NUL byte or invalid UTF-8 in a value
 *     (message: "Invalid value for parameter '<name>': <value>");
 *   QG_E_BAD_JSON (ASX0048) a JSON body that is not one valid JSON object;
 *   QG_E_NO_STATEMENT (ASX0040) statement missing or only whitespace.
 * On error q may hold partial data; qg_query_free it either way. */
int api_params_parse(const api_params_in *in, qg_query *q, qg_error *err);

/* The parameters of a stored result read (GET /query/service/result/N-M),
 * from its query string: rows=objects|arrays, offset (rows to skip, plain
 * digits), limit (most rows to return, plain digits). First value wins,
 * unknown names are ignored, values are compared lower-cased. */
typedef struct api_result_params {
    bool arrays;
    bool has_offset, has_limit;
    uint64_t offset, limit;
} api_result_params;

/* Fills out from query[0..len) (NULL: none). Returns 0, or -1 with err
 * QG_E_PARAM (ASX0047) naming the bad parameter. */
int api_result_params_parse(const char *query, size_t len, api_result_params *out, qg_error *err);

/* Decodes one application/x-www-form-urlencoded component: '+' is a space,
 * then %XX escapes (hex digits either case). Appends to out (arena memory,
 * NUL-terminated, may contain NULs) and returns 0, or -1 on a malformed
 * escape ('%' not followed by two hex digits). */
int api_form_decode(qg_arena *a, const char *s, size_t n, char **out, size_t *out_len);

#endif
