/* health: GET /health, for load balancers and supervisors. */
#include "gateway/reply.h"
#include "gateway/routes.h"

void
gw_health(gw_req *req, qg_app *app)
{
    static const char ok[] = "{\"status\":\"ok\"}\n";
    static const char draining[] = "{\"status\":\"draining\"}\n";
    if (app->draining)
        gw_reply(req, 503, GW_JSON, draining, sizeof(draining) - 1, NULL, 0);
    else
        gw_reply(req, 200, GW_JSON, ok, sizeof(ok) - 1, NULL, 0);
}
