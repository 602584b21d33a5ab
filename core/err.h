/*
 * err: the one error table of qgate.
 *
 * Every failure a client can see is one row here: its HTTP status, its
 * AsterixDB-style code (ASXnnnn), the envelope status it puts in the body
 * and its message text. Library errors (SQLite, libpq, LMDB, evhtp) are
 * translated into a row at the backend, store and server boundaries and
 * never leak upward as raw codes; their own text is kept inside the message.
 *
 * AsterixDB's codes are used where AsterixDB has one; qgate's own failures
 * (overload, limits, store) take ASX09xx, a range AsterixDB leaves unused.
 * Rows named W_* are warnings: they go in an answer's "warnings" array
 * (AsterixDB's shape, {"code":1,"msg":"ASXnnnn: ..."}) and fail nothing.
 *
 * A message says what was wrong and how to fix it: the table's text (kept
 * as AsterixDB words it, where AsterixDB has the code), then, where the
 * raiser knows one, a hint appended with qg_error_append (the expected form
 * with an example, the limit that applies).
 */
#ifndef QG_ERR_H
#define QG_ERR_H

#include <stdarg.h>

/* X(name, http, asx, status, format): format takes only %s arguments. */
#define QG_ERRORS(X)                                                                               \
    X(OK, 200, "", "success", "")                                                                  \
    X(PARAM, 400, "ASX0047", "fatal", "Invalid value for parameter '%s': %s")                      \
    X(BAD_JSON, 400, "ASX0048", "fatal", "Unable to process JSON content in request%s")            \
    X(NO_STATEMENT, 400, "ASX0040", "fatal", "No statement provided")                              \
    X(MULTI, 400, "ASX0035", "fatal", "Unsupported multiple statements.")                          \
    X(READONLY, 400, "ASX0044", "fatal", "%s statement is not supported in read-only mode")        \
    X(SYNTAX, 400, "ASX1001", "fatal", "Syntax error: %s")                                         \
    X(UNKNOWN_OBJECT, 400, "ASX1077", "fatal", "%s")                                               \
    X(COMPILE, 400, "ASX1079", "fatal", "Compilation error: %s")                                   \
    X(NO_VALUE, 400, "ASX1086", "fatal", "No value for parameter: %s")                             \
    X(METHOD, 405, "ASX0930", "fatal", "Method %s not allowed for the requested resource.")        \
    X(W_UNKNOWN_PARAM, 200, "ASX0931", "success", "Unknown parameter '%s' ignored%s")              \
    X(W_BODY_IGNORED, 200, "ASX0932", "success", "Request body ignored: %s")                       \
    X(RUNTIME, 500, "ASX0901", "fatal", "Query failed: %s")                                        \
    X(TIMEOUT, 200, "ASX0030", "timeout", "Request timed out and will be cancelled")               \
    X(CANCELLED, 500, "ASX0041", "fatal", "Request %s has been cancelled")                         \
    X(DRAINING, 503, "ASX0902", "fatal",                                                           \
      "Server is shutting down; retry on another node or later")                                   \
    X(OVERLOADED, 503, "ASX0903", "fatal", "Too many queued jobs (limit %s); retry later")         \
    X(STORE_FULL, 500, "ASX0904", "fatal", "Job store is full: %s")                                \
    X(STORE, 500, "ASX0905", "fatal", "Job store error: %s")                                       \
    X(BODY_TOO_LARGE, 413, "ASX0906", "fatal", "Request body too large (limit %s bytes)")          \
    X(HEADERS_TOO_LARGE, 431, "ASX0907", "fatal", "Request headers too large: %s")                 \
    X(URI_TOO_LONG, 414, "ASX0908", "fatal",                                                       \
      "Request line longer than %s bytes; send long statements in a POST body")                    \
    X(BAD_REQUEST, 400, "ASX0909", "fatal", "Malformed HTTP request: %s")                          \
    X(UNAUTHORIZED, 401, "ASX0910", "fatal", "Authentication required: %s")                        \
    X(RESULT_TOO_LARGE, 500, "ASX0911", "fatal", "Result exceeds the limit of %s bytes")           \
    X(BACKEND, 503, "ASX0912", "fatal", "Database unavailable: %s")                                \
    X(INTERNAL, 500, "ASX0913", "fatal", "Internal error: %s")                                     \
    X(REQUEST_TIMEOUT, 408, "ASX0914", "fatal", "Request not received in time")                    \
    X(NOT_IMPLEMENTED, 501, "ASX0915", "fatal", "Not implemented: %s")                             \
    X(HTTP_VERSION, 505, "ASX0916", "fatal", "HTTP version not supported")                         \
    X(CONFLICT, 409, "ASX0917", "fatal", "%s")                                                     \
    X(TOO_MANY_CONNECTIONS, 503, "ASX0918", "fatal", "Too many connections (limit %s)")            \
    X(NOT_FOUND, 404, "ASX0919", "fatal", "Not found")                                             \
    X(FORBIDDEN, 403, "ASX0920", "fatal", "%s")                                                    \
    X(OUTCOME_UNKNOWN, 500, "ASX0921", "fatal",                                                    \
      "The server stopped while this job was running; whether its writes took effect is unknown")  \
    X(CALLBACK_REFUSED, 400, "ASX0922", "fatal", "Callback refused: %s")                           \
    X(OVER_LIMIT, 400, "ASX0923", "fatal", "%s")                                                   \
    X(PRINCIPAL_OVERLOADED, 429, "ASX0924", "fatal", "%s")                                         \
    X(QUOTA, 429, "ASX0925", "fatal", "Stored results over quota: %s")

typedef enum qg_code {
#define QG_ERR_ENUM(name, http, asx, status, fmt) QG_E_##name,
    QG_ERRORS(QG_ERR_ENUM)
#undef QG_ERR_ENUM
        QG_E__COUNT
} qg_code;

#define QG_OK QG_E_OK

/* Longest message kept; backend text past it is cut (on a UTF-8 boundary). */
#define QG_ERRMSG_MAX 1024

/* An error as a client will see it: code plus the whole message, which
 * starts with the ASX code ("ASX1001: Syntax error: ..."). Plain data:
 * copy it freely between threads. */
typedef struct qg_error {
    qg_code code;
    char msg[QG_ERRMSG_MAX];
} qg_error;

/* The table row of a code. */
int qg_err_http(qg_code code);
const char *qg_err_asx(qg_code code);
/* "fatal", "timeout" or "success": the envelope's status for the code. */
const char *qg_err_status(qg_code code);
/* The code's symbolic name ("SYNTAX"), for logs and metrics. */
const char *qg_err_name(qg_code code);

/* Fills e with code and the table's message, formatted with the (const
 * char *) arguments the row's format names. Returns -1, so callers can write
 * `return qg_error_set(err, QG_E_SYNTAX, msg);`. e may be NULL. */
int qg_error_set(qg_error *e, qg_code code, ...);
int qg_error_vset(qg_error *e, qg_code code, va_list ap);
/* Appends printf-formatted text to e's message (a hint at the fix after
 * the table's text), cut like the message itself. Returns -1. */
int qg_error_append(qg_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Clears e to QG_OK. */
void qg_error_clear(qg_error *e);

#endif
