/*
 * routes: path + method -> handler. Unknown path: 404. Known path, method
 * not listed: 405 with AsterixDB's text.
 */
#include "gateway/routes.h"

#include <string.h>

#include "gateway/auth.h"
#include "gateway/reply.h"

#define M(m) (1u << (m))

static const struct route {
    const char *path;
    bool prefix; /* path is a prefix; the rest is the handler's */
    unsigned methods;
    void (*handler)(gw_req *req, qg_app *app);
} routes[] = {
    {"/query/service", false, M(GW_M_GET) | M(GW_M_POST) | M(GW_M_OPTIONS), gw_service},
    {"/query/service/status/", true, M(GW_M_GET) | M(GW_M_DELETE), gw_status},
    {"/query/service/result/", true, M(GW_M_GET) | M(GW_M_DELETE), gw_result},
    {"/admin/requests/running", false, M(GW_M_GET) | M(GW_M_DELETE), gw_admin_running},
    {"/health", false, M(GW_M_GET), gw_health},
    {"/metrics", false, M(GW_M_GET), gw_metrics},
};

void
gw_routes_dispatch(gw_req *req, void *arg)
{
    qg_app *app = arg;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct route *r = &routes[i];
        size_t n = strlen(r->path);
        bool match = r->prefix ? strncmp(req->path, r->path, n) == 0
                               : strcmp(req->path, r->path) == 0;
        if (!match)
            continue;
        if (!(r->methods & M(req->method))) {
            gw_reply_not_allowed(req);
            return;
        }
        /* Authentication, when on, for everything but the health check and
         * CORS preflights (browsers send those without credentials). */
        if (app->auth && r->handler != gw_health && req->method != GW_M_OPTIONS) {
            const gw_principal *p = gw_auth_check(app->auth, gw_req_header(req, "Authorization"));
            if (!p) {
                qg_error err;
                qg_error_set(&err, QG_E_UNAUTHORIZED, "send Authorization: Bearer <token>");
                gw_reply_error(req, &err, NULL);
                return;
            }
            req->principal = p->name;
            req->principal_readonly = p->readonly;
        }
        r->handler(req, app);
        return;
    }
    qg_error err;
    qg_error_set(&err, QG_E_NOT_FOUND);
    gw_reply_error(req, &err, NULL);
}
