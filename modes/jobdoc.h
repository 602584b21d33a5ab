/*
 * jobdoc: a stored job's status document, as GET /query/service/status/N-M
 * answers it and as a callback delivers it.
 *
 * AsterixDB's fields come first and as AsterixDB has them:
 *   {"status":"running"} | {"status":"success","handle":".../result/N-M"}
 *   | {"status":"failed"|"timeout","errors":[...]}
 * then qgate's extras, in this order: requestID, clientContextID (when
 * given), progress (queued or running jobs), statements (one object per
 * statement: sequence, statement, state, times, rows, its result handle,
 * columns), callback (when the job has one). Pure text; loop thread (it
 * only reads what it is given).
 */
#ifndef QG_MODES_JOBDOC_H
#define QG_MODES_JOBDOC_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/query.h"
#include "modes/job.h"
#include "store/record.h"

typedef struct mode_jobdoc {
    const store_job *job;
    const qg_query *q;       /* the job's query part: texts, context id, callback URL */
    const store_stmt *stmts; /* as stored */
    size_t nstmts;
    const mode_progress *live; /* NULL unless queued or running here */
    const char *base;          /* handle base URL */
    size_t base_len;
    uint32_t set;      /* M of the handle asked for */
    uint64_t now_wall; /* wall clock ns, for a running job's times */
} mode_jobdoc;

/* Appends the status document described by d, ending in "}\n". */
void mode_jobdoc_status(qg_buf *b, const mode_jobdoc *d);

/* Appends ,"progress":{...} of a queued or running job as the status
 * document has it (d->live may be NULL: no worker's view of it here). */
void mode_jobdoc_progress(qg_buf *b, const mode_jobdoc *d);

/* ISO 8601 UTC with milliseconds ("2025-01-02T03:04:05.678Z") of wall ns;
 * out holds 40 bytes. */
void mode_jobdoc_time(uint64_t wall_ns, char out[40]);

#endif
