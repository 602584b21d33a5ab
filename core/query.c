/* query: defaults and lifetime of qg_query (see query.h). */
#include "core/query.h"

#include <string.h>

void
qg_query_init(qg_query *q)
{
    memset(q, 0, sizeof(*q));
    q->mode = QG_MODE_IMMEDIATE;
    q->signature = true;
    q->multi_statement = true;
    q->format = QG_FORMAT_JSON;
    q->max_result_reads = 1;
}

void
qg_query_free(qg_query *q)
{
    qg_arena_free(&q->arena);
    memset(q, 0, sizeof(*q));
}

const char *
qg_mode_name(qg_mode m)
{
    switch (m) {
    case QG_MODE_IMMEDIATE:
        return "immediate";
    case QG_MODE_DEFERRED:
        return "deferred";
    case QG_MODE_ASYNC:
        return "async";
    }
    return "?";
}
