/*
 * trino: Trino's client protocol (docs/trino.md), beside AsterixDB's, on
 * the same job engine and store.
 *
 *   POST   /v1/statement                       submit (trino.c)
 *   GET    /v1/statement/executing/ID/TOKEN    the query's next document
 *   DELETE /v1/statement/executing/ID/TOKEN    cancel
 *   GET    /v1/query/ID, DELETE /v1/query/ID   its info; cancel
 *   GET    /v1/statement/failed/NAME/HEX       a refused submission's error
 *   GET    /v1/info                            the server is up
 *
 * A query is a stored job (mode_job_accept) whose rows the row writer
 * renders in Trino's encoding (QG_FORMAT_TRINO) into the store's pages;
 * TOKEN is the page a GET answers with, so a nextUri is a pure function
 * of the store and keeps working across restarts. ID is "N_NODE": the job
 * number and the node's name (the last segment of the handles' base path,
 * else "qgate"), which a proxy can route DELETE /v1/query/ID by.
 *
 * The documents (trino_doc.c) and the catalog statements (trino_show.c)
 * are pure. Loop thread.
 */
#ifndef QG_API_TRINO_H
#define QG_API_TRINO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "modes/job.h"
#include "store/record.h"

/* --- the handlers (registered in routes.c; arg: the api_env) --------------------- */

void api_trino_statement(gw_req *req, void *arg);
void api_trino_executing(gw_req *req, void *arg);
void api_trino_query(gw_req *req, void *arg);
void api_trino_info(gw_req *req, void *arg);
void api_trino_failed(gw_req *req, void *arg);

/* --- documents (trino_doc.c) ------------------------------------------------------ */

/* What a QueryResults document is rendered from. */
typedef struct api_trino_doc {
    const char *base; /* the URIs' base (no trailing '/') */
    uint64_t job;
    const char *node;       /* the id's node part */
    const char *state;      /* QUEUED, RUNNING, FINISHED, FAILED */
    uint32_t next_token;    /* nextUri's token, when has_next */
    bool has_next;          /* a nextUri (absent once the client has everything) */
    const store_stmt *stmt; /* the query's statement as stored (columns); may be NULL */
    const char *data;       /* the rows (arrays, comma-separated), or NULL: none */
    size_t data_len;
    const qg_error *err;     /* FAILED: why */
    const char *update_type; /* a write: "INSERT", ...; NULL: a query */
    int64_t update_count;    /* -1: unknown */
    uint64_t elapsed_ms, queued_ms, cpu_ms;
    uint64_t processed_rows, processed_bytes;
    int progress; /* percent, or -1 when unknown */
} api_trino_doc;

/* The QueryResults document of d, appended to b. */
void api_trino_doc_write(qg_buf *b, const api_trino_doc *d);
/* The node name of base URL base: its path's last segment, lower case
 * letters and digits only, at most 32 of them; "qgate" when it has none. */
void api_trino_node(const char *base, char out[40]);
/* The answer to a submission (mode_answer_fn): ACCEPTED is the QUEUED
 * document with its nextUri; FAILED the FAILED one (503 for overload and a
 * drain, else 200 as Trino answers a failed query). */
void api_trino_answer(const mode_answer *a, qg_buf *body, int *http);
/* A failure before there is a query (no user, a bad body): the document
 * with err and no id, and its HTTP status. */
int api_trino_error_doc(qg_buf *b, const qg_error *err);
/* The first document of a submission refused before it was stored (a
 * syntax error): QUEUED, its nextUri carrying err (see below), into body. */
void api_trino_refused(const char *base, const qg_error *err, qg_buf *body);
/* The FAILED document of a refused submission's nextUri
 * (/v1/statement/failed/NAME/HEX: the error's name in core/err.h and its
 * message in lower-case hex) into b: 0, or -1 when they are malformed. */
int api_trino_refused_doc(qg_buf *b, const char *name, size_t name_len, const char *hexmsg,
                          size_t hex_len);
/* The update type of a statement's text (its first keyword, upper case:
 * INSERT, UPDATE, DELETE, CREATE TABLE, ...) into out; false for a query. */
bool api_trino_update_type(const char *sql, size_t n, char out[32]);

/* --- catalog statements (trino_show.c) ----------------------------------------- */

typedef enum api_trino_dialect { API_TRINO_SQLITE, API_TRINO_POSTGRES } api_trino_dialect;

/* When sql[0..n) is one of SHOW CATALOGS, SHOW SCHEMAS [FROM c], SHOW
 * TABLES [FROM [c.]s], SHOW COLUMNS FROM [[c.]s.]t, DESCRIBE [[c.]s.]t
 * (any case, an optional ';'), appends the backend's statement answering
 * it from its catalog to out and returns 1; 0 when it is none of them (it
 * goes to the backend as it is); -1 with err when it is one with a name
 * that is not a plain or double-quoted identifier. */
int api_trino_show(const char *sql, size_t n, api_trino_dialect d, qg_buf *out, qg_error *err);

#endif
