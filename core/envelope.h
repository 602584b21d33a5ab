/*
 * envelope: the pieces of AsterixDB's response document that more than one
 * place writes: metrics, errors, and the whole error document of a request
 * that failed before it ran. Pure text writers; any thread.
 */
#ifndef QG_ENVELOPE_H
#define QG_ENVELOPE_H

#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

typedef struct qg_metrics {
    uint64_t elapsed_ns;   /* request received -> response complete */
    uint64_t execution_ns; /* worker started -> finished */
    uint64_t compile_ns;   /* preparing statements */
    uint64_t queue_wait_ns;
    uint64_t result_count; /* rows in all result sets */
    uint64_t result_size;  /* bytes of result text */
    uint64_t processed_objects;
    uint64_t warning_count;
    uint64_t error_count;
} qg_metrics;

/* "name":"<ns in AsterixDB's duration text>" (no comma before it). */
void qg_env_duration(qg_buf *b, const char *name, uint64_t ns);
/* "metrics":{...} in AsterixDB's field order; warningCount only when > 0,
 * errorCount only when > 0. */
void qg_env_metrics(qg_buf *b, const qg_metrics *m);
/* "errors":[{"code":1,"msg":"<e->msg>"}] */
void qg_env_errors(qg_buf *b, const qg_error *e);
/* {"errors":[...],"status":"<status of e>","metrics":{...}}: the body of a
 * request refused before it ran (bad parameter, malformed request). m may
 * be NULL (all zero); errorCount is 1 either way. */
void qg_env_error_doc(qg_buf *b, const qg_error *e, const qg_metrics *m);

#endif
