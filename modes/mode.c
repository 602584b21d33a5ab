/* mode: dispatch by delivery mode (see mode.h). */
#include "modes/mode.h"

#include "gateway/reply.h"
#include "modes/policy.h"

void
mode_start(mode_env *env, gw_req *req, qg_query *q, const char *request_id)
{
    mode_policy pol;
    qg_error err;
    mode_policy_of(env, req->principal, &pol);
    if (mode_policy_check(env, &pol, q, &err) != 0) {
        gw_reply_error(req, &err, request_id);
        qg_query_free(q);
        return;
    }
    switch (q->mode) {
    case QG_MODE_IMMEDIATE:
        /* a stream runs like immediate (see query.h) and answers differently */
        if (q->stream)
            mode_stream_start(env, req, q, request_id);
        else
            mode_immediate_start(env, req, q, request_id);
        return;
    case QG_MODE_DEFERRED:
        mode_deferred_start(env, req, q, request_id);
        return;
    case QG_MODE_ASYNC:
        mode_async_start(env, req, q, request_id);
        return;
    }
    qg_error_set(&err, QG_E_INTERNAL, "unknown mode");
    gw_reply_error(req, &err, request_id);
    qg_query_free(q);
}
