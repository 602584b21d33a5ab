/*
 * routes: the whole HTTP surface of qgate on one screen. The transport's
 * router (gateway/router.c) matches them in this order and answers OPTIONS,
 * 404, 405, foreign origins and missing tokens for all of them.
 */
#include "api/api.h"

#include <string.h>

#include "api/internal.h"
#include "api/trino.h"
#include "gateway/reply.h"
#include "modes/handle.h"

#define GET    GW_M(GW_M_GET)
#define POST   GW_M(GW_M_POST)
#define DELETE GW_M(GW_M_DELETE)

const gw_route api_routes[] = {
    {"/query/service", 0, GET | POST, api_service},
    {"/query/service/status/", GW_ROUTE_PREFIX, GET | DELETE, api_status},
    {"/query/service/result/", GW_ROUTE_PREFIX, GET | DELETE, api_result},
    {"/admin/requests/running", 0, GET | DELETE, api_admin_running},
    {"/health", GW_ROUTE_OPEN, GET, api_health},
    {"/metrics", 0, GET, api_metrics},
    {"/query/service/jobs", 0, GET, api_jobs},
    /* the page holds no data: the token the person types goes with each
     * call it makes */
    {"/console", GW_ROUTE_PREFIX | GW_ROUTE_OPEN, GET, api_console},
    /* Trino's client protocol (api/trino.c, docs/trino.md) */
    {"/v1/statement", 0, POST, api_trino_statement},
    {"/v1/statement/executing/", GW_ROUTE_PREFIX, GET | DELETE, api_trino_executing},
    {"/v1/statement/failed/", GW_ROUTE_PREFIX, GET | DELETE, api_trino_failed},
    {"/v1/query/", GW_ROUTE_PREFIX, GET | DELETE, api_trino_query},
    {"/v1/info", GW_ROUTE_OPEN, GET, api_trino_info},
};

const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);

int
api__handle_of(gw_req *req, uint64_t *job, uint32_t *set)
{
    if (mode_handle_parse(req->route_rest, strlen(req->route_rest), job, set) == 0)
        return 0;
    qg_error err;
    qg_error_set(&err, QG_E_BAD_REQUEST, "not a job handle");
    qg_error_append(&err,
                    ": '%.80s' should be N-M, as in the handle an answer gave "
                    "(e.g. /query/service/result/12-0)",
                    req->route_rest);
    gw_reply_error(req, &err, NULL);
    return -1;
}

void
api__not_found(gw_req *req, const char *why)
{
    qg_error err;
    qg_error_set(&err, QG_E_NOT_FOUND);
    qg_error_append(&err, ": %s", why);
    gw_reply_error(req, &err, NULL);
}
