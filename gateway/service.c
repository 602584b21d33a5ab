/*
 * service: /query/service. Reads the parameters (gateway/params), gives the
 * request its requestID and passes it to its delivery mode.
 */
#include <string.h>

#include "core/uuid.h"
#include "gateway/params.h"
#include "gateway/reply.h"
#include "gateway/routes.h"
#include "modes/mode.h"

void
gw_service(gw_req *req, qg_app *app)
{
    qg_error err;
    if (app->draining) {
        qg_error_set(&err, QG_E_DRAINING);
        gw_reply_error(req, &err, NULL);
        return;
    }
    const qg_config *cfg = app->cfg;
    gw_params_in in = {
        .is_get = req->method == GW_M_GET,
        .content_type = gw_req_header(req, "Content-Type"),
        .accept = gw_req_header(req, "Accept"),
        .query = req->query,
        .query_len = req->query_len,
        .body = req->body.data,
        .body_len = req->body.len,
        .max_statement = (size_t)cfg->max_statement,
        .max_params = (size_t)cfg->max_params,
        .max_wait_ns = cfg->max_wait_ns,
        .idempotency_key = gw_req_header(req, "Idempotency-Key"),
    };
    qg_query q;
    qg_query_init(&q);
    if (gw_params_parse(&in, &q, &err) != 0) {
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
    mode_start(&app->modes, req, &q, rid);
}
