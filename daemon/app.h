/*
 * app: the composition root. The daemon's parts, created from the settings
 * and wired together: the policy parts (trusted proxies, principals,
 * callback hosts, CORS origins), the loop, the job store and its writer,
 * the executor pools, the modes' environment (modes/env.h), the job
 * engine, callbacks, the endpoints' environment (api/api.h), the router
 * with the endpoints' routes, and the HTTP server.
 *
 * Main thread: daemon_app_open and daemon_app_start before the loop runs,
 * daemon_app_stop and daemon_app_close after it stopped; the loop thread
 * (the same thread) reads the parts in between.
 */
#ifndef QG_DAEMON_APP_H
#define QG_DAEMON_APP_H

#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"
#include "core/config.h"
#include "gateway/allow.h"
#include "gateway/auth.h"
#include "gateway/base.h"
#include "gateway/cors.h"
#include "gateway/proxy.h"
#include "gateway/router.h"
#include "modes/env.h"

struct event_base;
struct gw_server;
struct store_gc;

typedef struct daemon_app {
    const qg_config *cfg;
    char *backend_uri; /* --backend, or the demo database's */
    char *store_dir;   /* DATA/store */

    /* the policy parts, from the settings */
    gw_proxies trusted;   /* --trusted-proxies */
    gw_auth auth;         /* --auth-file (empty: off) */
    gw_allow allow;       /* --callback-allow */
    gw_cors cors;         /* --cors-origins */
    gw_base_conf handles; /* how handle URLs are built */

    struct event_base *base;
    mode_env modes; /* pools, store, writer, registry, jobs, callbacks ... */
    api_env api;    /* the endpoints' environment */
    struct store_gc *gc;
    gw_router *router;
    struct gw_server *server;
} daemon_app;

/* Reads what the settings name (the backend, the data directory, the
 * trusted proxies, principals, callback hosts and CORS origins) into app.
 * Returns 0, or the exit status (1: the data directory or the demo
 * database; 2: a setting) after logging why. daemon_app_close undoes it,
 * either way. */
int daemon_app_open(daemon_app *app, const qg_config *cfg);
/* Starts every part, in order: the loop, the job store and its writer, the
 * pools (failing fast when the database cannot be reached), the job
 * engine (recovery of the stored jobs), callbacks, the sweep, the router
 * and the HTTP server. Returns 0, or -1 after logging why (call
 * daemon_app_stop to undo what did start). */
int daemon_app_start(daemon_app *app);
/* Stops what started, in the reverse order: jobs not started stay queued
 * in the store, running ones are stopped (a rerunnable one goes back to
 * queued), the workers finish, the writer commits what they left, and the
 * store closes. */
void daemon_app_stop(daemon_app *app);
void daemon_app_close(daemon_app *app);

#endif
