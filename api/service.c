/*
 * service: /query/service. Reads the parameters (api/params), gives the
 * request its requestID and passes it to its delivery mode.
 */
#include <string.h>

#include "api/api.h"
#include "api/params.h"
#include "core/uuid.h"
#include "gateway/reply.h"
#include "modes/mode.h"

void
api_service(gw_req *req, void *arg)
{
    api_env *env = arg;
    qg_error err;
    if (env->draining) {
        qg_error_set(&err, QG_E_DRAINING);
        gw_reply_error(req, &err, NULL);
        return;
    }
    api_params_in in = {
        .is_get = req->method == GW_M_GET,
        .content_type = gw_req_header(req, "Content-Type"),
        .accept = gw_req_header(req, "Accept"),
        .query = req->query,
        .query_len = req->query_len,
        .body = req->body.data,
        .body_len = req->body.len,
        .max_statement = (size_t)env->max_statement,
        .max_params = (size_t)env->max_params,
        .max_wait_ns = env->max_wait_ns,
        .idempotency_key = gw_req_header(req, "Idempotency-Key"),
    };
    qg_query q;
    qg_query_init(&q);
    if (api_params_parse(&in, &q, &err) != 0) {
        qg_query_free(&q);
        gw_reply_error(req, &err, NULL);
        return;
    }
    if (q.callback_url && q.mode != QG_MODE_ASYNC) {
        qg_query_free(&q);
        qg_error_set(&err, QG_E_CALLBACK_REFUSED, "callback_url needs mode=async");
        gw_reply_error(req, &err, NULL);
        return;
    }
    if (req->principal_readonly)
        q.readonly = true; /* a read-only principal: queries only (ASX0044) */
    char rid[QG_UUID_LEN + 1];
    qg_uuid_v4(rid);
    gw_req_log(req, q.stream ? "stream" : qg_mode_name(q.mode), rid, q.client_context_id);
    mode_start(env->modes, req, &q, rid);
}
