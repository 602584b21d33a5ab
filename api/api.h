/*
 * api: the protocols' endpoints, on top of the job engine and the delivery
 * modes (modes/) and the HTTP transport (gateway/).
 *
 * AsterixDB's: /query/service (service.c, its parameters params.c),
 * /query/service/status/N-M (status.c), /query/service/result/N-M
 * (result.c); qgate's own: /admin/requests/running (admin.c), /health
 * (health.c), /metrics (metrics.c), /query/service/jobs (jobs.c), and the
 * page for people, /console (console.c, its files assets.h). routes.c is
 * their table, which daemon/ registers with the transport's router
 * (gateway/router.h); each handler gets the api_env it was registered
 * with. Loop thread.
 */
#ifndef QG_API_H
#define QG_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/router.h"
#include "gateway/server.h"
#include "modes/env.h"

struct store_gc;

/* What the endpoints work with. Filled by daemon/ at start-up; afterwards
 * only `draining` changes (the daemon's signal handler, loop thread). */
typedef struct api_env {
    mode_env *modes;          /* the job engine's and the modes' environment */
    struct gw_server *server; /* for /metrics: connections, requests in flight */
    struct store_gc *gc;      /* for /metrics: jobs swept */
    uint64_t max_statement;   /* --max-statement: bytes; 0: no limit */
    int max_params;           /* --max-params; 0: no limit */
    uint64_t max_wait_ns;     /* --max-wait; 0: no limit */
    uint64_t start_wall_ns;   /* when the daemon started */
    bool draining;            /* SIGTERM received: new work is refused */
} api_env;

/* The endpoints' table, for gw_router_add with an api_env. */
extern const gw_route api_routes[];
extern const size_t api_nroutes;

/* The handlers (one file each); arg is the api_env. */
void api_service(gw_req *req, void *arg);
void api_status(gw_req *req, void *arg);
void api_result(gw_req *req, void *arg);
void api_admin_running(gw_req *req, void *arg);
void api_health(gw_req *req, void *arg);
void api_metrics(gw_req *req, void *arg);
void api_jobs(gw_req *req, void *arg);
void api_console(gw_req *req, void *arg);

#endif
