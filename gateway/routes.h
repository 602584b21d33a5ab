/*
 * routes: the whole HTTP surface of qgate on one screen (routes.c), and the
 * handlers it dispatches to. Loop thread.
 */
#ifndef QG_GW_ROUTES_H
#define QG_GW_ROUTES_H

#include "core/app.h"
#include "gateway/server.h"

/* The server's request handler: arg is the qg_app. */
void gw_routes_dispatch(gw_req *req, void *arg);

/* Handlers (one file each). */
void gw_service(gw_req *req, qg_app *app);
void gw_status(gw_req *req, qg_app *app);
void gw_result(gw_req *req, qg_app *app);
void gw_admin_running(gw_req *req, qg_app *app);
void gw_health(gw_req *req, qg_app *app);
void gw_metrics(gw_req *req, qg_app *app);
void gw_jobs(gw_req *req, qg_app *app);
void gw_console(gw_req *req, qg_app *app);

#endif
