/*
 * router: path + method -> handler, and what every route shares: CORS
 * (preflights, foreign pages refused), authentication, 404 and 405.
 *
 * The transport holds the mechanism; the routes are given from above (the
 * endpoints' table, api/routes.c, registered by daemon/), so gateway/
 * never includes what sits on it. Loop thread.
 */
#ifndef QG_GW_ROUTER_H
#define QG_GW_ROUTER_H

#include <stddef.h>

#include "gateway/auth.h"
#include "gateway/cors.h"
#include "gateway/server.h"

/* A method's bit in gw_route.methods. */
#define GW_M(m) (1u << (m))

enum {
    GW_ROUTE_PREFIX = 1, /* path is a prefix: the rest goes to req->route_rest */
    GW_ROUTE_OPEN = 2,   /* no token needed, also with --auth-file (health checks) */
};

/* A handler: answers req (gateway/reply) now or later; arg is what the
 * route was registered with. */
typedef void (*gw_route_fn)(gw_req *req, void *arg);

typedef struct gw_route {
    const char *path;
    unsigned flags;   /* GW_ROUTE_* */
    unsigned methods; /* GW_M(GW_M_GET) | ...: the others get 405 */
    gw_route_fn handler;
} gw_route;

typedef struct gw_router gw_router;

/* A router with no routes. auth NULL: no authentication; cors NULL or
 * empty: no page but qgate's own may use it from a browser. Both live as
 * long as the router. */
gw_router *gw_router_new(const gw_auth *auth, const gw_cors *cors);
/* Adds n routes (the array lives as long as the router), tried in order
 * after the ones added before; their handlers get arg. */
void gw_router_add(gw_router *r, const gw_route *routes, size_t n, void *arg);
void gw_router_free(gw_router *r);
/* The server's request handler (gw_server_opts.handler): arg is the
 * router. */
void gw_router_dispatch(gw_req *req, void *arg);

#endif
