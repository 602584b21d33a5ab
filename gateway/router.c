/*
 * router: path + method -> handler (see router.h). Unknown path: 404.
 * Known path, method not listed: 405 with AsterixDB's text (a JSON error
 * document, with Allow). HEAD goes wherever GET does: the handler sees a
 * GET, and gateway/reply sends the head alone. OPTIONS on a
 * known path is a CORS preflight (or a plain OPTIONS), answered here for
 * every route. A request whose Origin is a foreign web page's is refused
 * here too (gateway/cors).
 */
#include "gateway/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "gateway/reply.h"

#define M(m) GW_M(m)

struct gw_router {
    const gw_auth *auth;
    const gw_cors *cors;
    struct entry {
        const gw_route *route;
        void *arg;
    } * v;
    size_t n;
};

gw_router *
gw_router_new(const gw_auth *auth, const gw_cors *cors)
{
    gw_router *r = qg_calloc(1, sizeof(*r));
    r->auth = auth;
    r->cors = cors;
    return r;
}

void
gw_router_add(gw_router *r, const gw_route *routes, size_t n, void *arg)
{
    r->v = qg_realloc(r->v, sizeof(*r->v) * (r->n + n));
    for (size_t i = 0; i < n; i++)
        r->v[r->n++] = (struct entry){&routes[i], arg};
}

void
gw_router_free(gw_router *r)
{
    if (!r)
        return;
    free(r->v);
    free(r);
}

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
    if (methods & M(GW_M_GET))
        methods |= M(GW_M_HEAD);
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
options(gw_req *req, const gw_route *r, gw_cors_verdict cv)
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
gw_router_dispatch(gw_req *req, void *arg)
{
    gw_router *rt = arg;
    const char *origin = gw_req_header(req, "Origin");
    gw_cors_verdict cv =
        origin ? gw_cors_check(rt->cors, origin, gw_req_header(req, "Host")) : GW_CORS_NONE;
    if (cv == GW_CORS_LISTED)
        req->cors_origin = origin;
    req->cors_vary = rt->cors && rt->cors->n > 0;
    for (size_t i = 0; i < rt->n; i++) {
        const gw_route *r = rt->v[i].route;
        size_t n = strlen(r->path);
        bool prefix = r->flags & GW_ROUTE_PREFIX;
        bool match = prefix ? strncmp(req->path, r->path, n) == 0 : strcmp(req->path, r->path) == 0;
        if (!match)
            continue;
        if (req->method == GW_M_OPTIONS) {
            options(req, r, cv);
            return;
        }
        unsigned want = req->method == GW_M_HEAD ? M(GW_M_GET) : M(req->method);
        if (!(r->methods & want)) {
            char methods[64];
            method_list(r->methods, methods, sizeof(methods));
            gw_reply_not_allowed(req, methods);
            return;
        }
        if (req->method == GW_M_HEAD) {
            req->_is_head = true;
            req->method = GW_M_GET;
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
        /* Authentication, when on, for every route but the open ones. */
        if (rt->auth && !(r->flags & GW_ROUTE_OPEN)) {
            const gw_principal *p = gw_auth_check(rt->auth, gw_req_header(req, "Authorization"));
            if (!p) {
                qg_error err;
                qg_error_set(&err, QG_E_UNAUTHORIZED, "send Authorization: Bearer <token>");
                gw_reply_error(req, &err, NULL);
                return;
            }
            req->principal = p->name;
            req->principal_readonly = p->readonly;
        }
        if (prefix)
            req->route_rest = req->path + n;
        r->handler(req, rt->v[i].arg);
        return;
    }
    qg_error err;
    qg_error_set(&err, QG_E_NOT_FOUND);
    qg_error_append(&err, ": no endpoint at this path; the endpoints are");
    for (size_t i = 0; i < rt->n; i++)
        qg_error_append(&err, "%s %s%s", i ? "," : "", rt->v[i].route->path,
                        rt->v[i].route->flags & GW_ROUTE_PREFIX ? "..." : "");
    gw_reply_error(req, &err, NULL);
}
