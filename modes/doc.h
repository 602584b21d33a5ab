/*
 * doc: AsterixDB's response documents, all of them, with the protocol's
 * field order written once: the head every request document starts with
 * (requestID, clientContextID, type), its tail (errors or plans, status,
 * metrics), and the documents built from them: the answers of the job
 * engine (accepted, handle, failed, a retry's replay: mode_doc_answer, the
 * engine's mode_answer_fn for AsterixDB), the status document of a stored
 * job (doc_status.c), and the frame of a stored result read. The pieces
 * below every layer (metrics, errors, the bare error document the
 * transport answers with) are core/envelope's; the stream's typed
 * messages are modes/message's.
 *
 *   request  {"requestID", ["clientContextID"], ["type"], [signature,
 *            results...] , "errors" | "plans", "status", "metrics"}
 *   accepted {head, "handle": ".../status/N-0", "plans", "status":"running", metrics}
 *   handle   {head, ["signature"], "handle": ".../result/N-0", "plans",
 *            "status":"success", metrics (resultCount 0)}
 *   failed   {head, "errors", "status", metrics, ["statusHandle"]}
 *   status   {"status", ["handle" | "errors"], "requestID", ["clientContextID"],
 *            ["progress"], "statements", ["callback"]}
 *   result   {"results":[rows...], ["errors", "status":"fatal"], metrics,
 *            ["columns"], ["offset", "limit", "total", "more"]}
 *
 * Pure text writers appending to a qg_buf; any thread.
 */
#ifndef QG_MODES_DOC_H
#define QG_MODES_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/envelope.h"
#include "core/err.h"
#include "core/query.h"
#include "modes/job.h"
#include "store/record.h"

/* The head of a request's document: {"requestID":"<request_id>",
 * ["clientContextID":...], and for CSV "type":"text/csv; header=...". */
void mode_doc_head(qg_buf *b, const char *request_id, const char *client_context_id,
                   qg_format format, bool csv_header);
/* The same from q's client context id, format and header. */
void mode_doc_head_of(qg_buf *b, const char *request_id, const qg_query *q);
/* ,"signature":{"*":"*"}: before a result set (or its handle). */
void mode_doc_signature(qg_buf *b);
/* A result set in a request's document: [the signature,] "results":[ for
 * the first set (set 0), "results1":[ ... for the others (rows_set_name),
 * and a newline when pretty; then its rows; then the close: [newline]]. */
void mode_doc_set_open(qg_buf *b, uint32_t set, bool signature, bool pretty);
void mode_doc_set_close(qg_buf *b, bool pretty);
/* The tail of a request's document: errors and the status of err, or
 * plans and status success (err NULL), then metrics m, and "}\n". */
void mode_doc_tail(qg_buf *b, const qg_error *err, const qg_metrics *m);

/* A handle's URL, in quotes: "<base>/query/service/<kind>/N-M" (kind:
 * "status" or "result"; base[0..base_len), JSON-escaped; NULL: none). */
void mode_doc_handle(qg_buf *b, const char *base, size_t base_len, const char *kind, uint64_t job,
                     uint32_t set);

/* The job engine's answers (accepted, handle, failed, replay), as
 * AsterixDB writes them: a mode_answer_fn. */
void mode_doc_answer(const mode_answer *a, qg_buf *body, int *http);

/* A stored job's status document (GET /query/service/status/N-M, and a
 * callback's delivery). AsterixDB's fields come first and as AsterixDB has
 * them: {"status":"running"} | {"status":"success","handle":".../result/N-M"}
 * | {"status":"failed"|"timeout","errors":[...]}; then qgate's extras, in
 * this order: requestID, clientContextID (when given), progress (queued or
 * running jobs), statements (one object per statement: sequence, statement,
 * state, times, rows, its result handle, columns), callback (when the job
 * has one). */
typedef struct mode_doc_status {
    const store_job *job;
    const qg_query *q;       /* the job's query part: texts, context id, callback URL */
    const store_stmt *stmts; /* as stored */
    size_t nstmts;
    const mode_progress *live; /* NULL unless queued or running here */
    const char *base;          /* handle base URL */
    size_t base_len;
    uint32_t set;      /* M of the handle asked for */
    uint64_t now_wall; /* wall clock ns, for a running job's times */
} mode_doc_status;

/* Appends the status document described by d, ending in "}\n". */
void mode_doc_status_write(qg_buf *b, const mode_doc_status *d);
/* Appends ,"progress":{...} of a queued or running job as the status
 * document has it (only d->job, d->live and d->now_wall are read; d->live
 * may be NULL: no worker's view of it here). */
void mode_doc_progress(qg_buf *b, const mode_doc_status *d);

/* A stored result read: {"results":[ (and a newline when pretty). */
void mode_doc_result_open(qg_buf *b, bool pretty);

typedef struct mode_doc_result_end {
    bool pretty;
    const qg_error *err; /* the rows stop short: this page could not be read */
    qg_metrics metrics;
    const char *columns; /* rows=arrays: the column names (a JSON array), or NULL */
    size_t columns_len;
    bool window; /* offset or limit was given */
    uint64_t offset;
    bool has_limit;
    uint64_t limit;
    uint64_t total; /* rows in the set */
    bool more;      /* rows follow the window */
} mode_doc_result_end;

/* ],["errors","status":"fatal",]metrics[,"columns"][,"offset",["limit",]
 * "total","more"]}\n: the end of a stored result read. */
void mode_doc_result_close(qg_buf *b, const mode_doc_result_end *e);

/* ISO 8601 UTC with milliseconds ("2025-01-02T03:04:05.678Z") of wall ns;
 * out holds 40 bytes. */
void mode_doc_time(uint64_t wall_ns, char out[40]);

#endif
