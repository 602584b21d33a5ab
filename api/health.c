/*
 * health: GET /health, for load balancers and supervisors.
 *
 * 200 {"status":"ok"} while qgate serves; 503 while it drains, and 503
 * once the job store has found its file damaged (a page that does not
 * read back, a value that does not match its checksum, a read error): it
 * cannot be trusted to serve stored jobs until an operator has looked.
 * A full store is not unhealthy: it serves what it holds, and refuses new
 * jobs with ASX0904 until room is freed.
 */
#include "api/api.h"
#include "core/envelope.h"
#include "gateway/reply.h"
#include "store/env.h"

void
api_health(gw_req *req, void *arg)
{
    api_env *env = arg;
    static const char ok[] = "{\"status\":\"ok\"}\n";
    static const char draining[] = "{\"status\":\"draining\"}\n";
    if (env->draining) {
        gw_reply(req, 503, GW_JSON, draining, sizeof(draining) - 1, NULL, 0);
        return;
    }
    if (env->modes->store && store_env_damaged(env->modes->store)) {
        qg_error err;
        qg_error_set(&err, QG_E_STORE,
                     "the job store's file is damaged (the log says where); stop qgate, then "
                     "restore the store from a backup or move it away to start empty");
        qg_buf b = QG_BUF_INIT;
        qg_buf_addlit(&b, "{\"status\":\"store damaged\",");
        qg_env_errors(&b, &err);
        qg_buf_addlit(&b, "}\n");
        gw_reply_json(req, 503, &b);
        qg_buf_free(&b);
        return;
    }
    gw_reply(req, 200, GW_JSON, ok, sizeof(ok) - 1, NULL, 0);
}
