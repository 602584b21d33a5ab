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

struct event_base;
struct gw_server;
struct exec_pool;
struct exec_backend;
struct mode_registry;
struct mode_jobs;
struct store_env;
struct store_writer;
struct store_gc;
struct gw_proxies;
struct gw_auth;
struct gw_allow;
struct gw_cors;
struct gw_base_conf;
struct evdns_base;
struct mode_callbacks;

typedef struct qg_app {
    const qg_config *cfg;
    struct event_base *base;
    struct gw_server *server;
    struct exec_pool *pool;
    struct exec_pool *checker; /* compiles async submissions before they are accepted */
    const struct exec_backend *backend;
    const char *backend_uri;
    struct mode_registry *running;      /* requests in flight, for /admin */
    struct store_env *store;            /* the job store (LMDB) */
    struct store_writer *writer;        /* its one writer thread */
    struct store_gc *gc;                /* its TTL sweep */
    struct mode_jobs *jobs;             /* deferred and async jobs */
    const struct gw_proxies *trusted;   /* --trusted-proxies */
    const struct gw_base_conf *handles; /* how handle URLs are built (gateway/base) */
    const struct gw_auth *auth;         /* --auth-file; NULL: no authentication */
    const struct gw_cors *cors;         /* --cors-origins; NULL or empty: no page but qgate's own */
    const struct gw_allow *callback_allow; /* --callback-allow; empty: callbacks off */
    struct evdns_base *dns;                /* name lookups for callbacks, on the loop */
    struct mode_callbacks *callbacks;      /* callback deliveries */
    bool draining;                         /* SIGTERM received */
    uint64_t start_wall_ns;
} qg_app;

#endif
