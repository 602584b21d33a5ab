/*
 * routes: path + method -> handler. Unknown path: 404. Known path, method
 * not listed: 405 with AsterixDB's text. OPTIONS on a known path is a CORS
 * preflight (or a plain OPTIONS), answered here for every route. A request
 * whose Origin is a foreign web page's is refused here too (gateway/cors).
 */
#include "gateway/routes.h"

#include <stdio.h>
#include <string.h>

#include "gateway/auth.h"
#include "gateway/cors.h"
#include "gateway/reply.h"

#define M(m) (1u << (m))

static const struct route {
    const char *path;
    bool prefix; /* path is a prefix; the rest is the handler's */
    unsigned methods;
    void (*handler)(gw_req *req, qg_app *app);
} routes[] = {
    {"/query/service", false, M(GW_M_GET) | M(GW_M_POST), gw_service},
    {"/query/service/status/", true, M(GW_M_GET) | M(GW_M_DELETE), gw_status},
    {"/query/service/result/", true, M(GW_M_GET) | M(GW_M_DELETE), gw_result},
    {"/admin/requests/running", false, M(GW_M_GET) | M(GW_M_DELETE), gw_admin_running},
    {"/health", false, M(GW_M_GET), gw_health},
    {"/metrics", false, M(GW_M_GET), gw_metrics},
    {"/query/service/jobs", false, M(GW_M_GET), gw_jobs},
    {"/console", true, M(GW_M_GET), gw_console},
};

/* "GET, POST, OPTIONS": the route's methods, for Allow and preflights. */
static void
method_list(unsigned methods, char *out, size_t n)
{
    static const struct {
        gw_method m;
        const char *name;
    } names[] = {{GW_M_GET, "GET"}, {GW_M_HEAD, "HEAD"},     {GW_M_POST, "POST"},
                 {GW_M_PUT, "PUT"}, {GW_M_DELETE, "DELETE"}, {GW_M_PATCH, "PATCH"}};
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (methods & M(names[i].m))
            k += (size_t)snprintf(out + k, n - k, "%s, ", names[i].name);
    snprintf(out + k, n - k, "OPTIONS");
}

/* OPTIONS on a known path. A listed origin's preflight gets what its page
 * may send; a foreign one 403 (a browser then refuses the request); a
 * client that is no page the route's methods. No token needed: browsers
 * send preflights without credentials. */
static void
options(gw_req *req, const struct route *r, gw_cors_verdict cv)
{
    char methods[64];
    method_list(r->methods, methods, sizeof(methods));
    if (cv == GW_CORS_LISTED) {
        const gw_header h[] = {
            {"Access-Control-Allow-Methods", methods},
            {"Access-Control-Allow-Headers", GW_CORS_ALLOW_HEADERS},
            {"Access-Control-Max-Age", GW_CORS_MAX_AGE},
            {"Allow", methods},
        };
        gw_reply(req, 200, NULL, NULL, 0, h, sizeof(h) / sizeof(h[0]));
        return;
    }
    if (cv == GW_CORS_REFUSED) {
        qg_error err;
        qg_error_set(&err, QG_E_FORBIDDEN,
                     "this origin may not use qgate from a browser (see --cors-origins)");
        gw_reply_error(req, &err, NULL);
        return;
    }
    const gw_header allow = {"Allow", methods};
    gw_reply(req, 200, NULL, NULL, 0, &allow, 1);
}

void
gw_routes_dispatch(gw_req *req, void *arg)
{
    qg_app *app = arg;
    const char *origin = gw_req_header(req, "Origin");
    gw_cors_verdict cv =
        origin ? gw_cors_check(app->cors, origin, gw_req_header(req, "Host")) : GW_CORS_NONE;
    if (cv == GW_CORS_LISTED)
        req->cors_origin = origin;
    req->cors_vary = app->cors && app->cors->n > 0;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct route *r = &routes[i];
        size_t n = strlen(r->path);
        bool match = r->prefix ? strncmp(req->path, r->path, n) == 0
                               : strcmp(req->path, r->path) == 0;
        if (!match)
            continue;
        if (req->method == GW_M_OPTIONS) {
            options(req, r, cv);
            return;
        }
        if (!(r->methods & M(req->method))) {
            gw_reply_not_allowed(req);
            return;
        }
        if (cv == GW_CORS_REFUSED) {
            /* a foreign page's request (a form POST needs no preflight):
             * nothing runs */
            qg_error err;
            qg_error_set(&err, QG_E_FORBIDDEN,
                         "this origin may not use qgate from a browser (see --cors-origins)");
            gw_reply_error(req, &err, NULL);
            return;
        }
        /* Authentication, when on, for everything but the health check and
         * the console's page (it holds no data; the token it asks for goes
         * with each call it makes). */
        if (app->auth && r->handler != gw_health && r->handler != gw_console) {
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
