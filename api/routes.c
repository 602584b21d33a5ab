/*
 * routes: the whole HTTP surface of qgate on one screen. The transport's
 * router (gateway/router.c) matches them in this order and answers OPTIONS,
 * 404, 405, foreign origins and missing tokens for all of them.
 */
#include "api/api.h"

#include <string.h>

#include "api/internal.h"
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
};

const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);

int
api__handle_of(gw_req *req, uint64_t *job, uint32_t *set)
{
    if (mode_handle_parse(req->route_rest, strlen(req->route_rest), job, set) == 0)
        return 0;
    gw_reply_empty(req, 400);
    return -1;
}
