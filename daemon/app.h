/*
 * app: the daemon's parts, wired together by main and handed to every
 * handler. Fields are set up before the loop runs; afterwards the loop
 * thread reads them (and flips draining). Workers see none of this.
 */
#ifndef QG_DAEMON_APP_H
#define QG_DAEMON_APP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "modes/env.h"

struct event_base;
struct gw_server;
struct store_gc;
struct gw_proxies;
struct gw_auth;
struct gw_cors;

typedef struct qg_app {
    const qg_config *cfg;
    struct event_base *base;
    struct gw_server *server;
    mode_env modes; /* what the modes work with: pools, store, writer, registry, jobs ... */
    const char *backend_uri;
    struct store_gc *gc;              /* the store's TTL sweep */
    const struct gw_proxies *trusted; /* --trusted-proxies */
    const struct gw_auth *auth;       /* --auth-file; NULL: no authentication */
    const struct gw_cors *cors;       /* --cors-origins; NULL or empty: no page but qgate's own */
    bool draining;                    /* SIGTERM received */
    uint64_t start_wall_ns;
} qg_app;

#endif
