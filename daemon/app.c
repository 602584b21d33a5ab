/*
 * app: the daemon's parts, created and wired in order, stopped in the
 * reverse order (see app.h).
 */
#include "daemon/app.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "exec/backend.h"
#include "exec/demo.h"
#include "exec/pool.h"
#include "gateway/server.h"
#include "modes/callback.h"
#include "modes/job.h"
#include "modes/registry.h"
#include "store/env.h"
#include "store/gc.h"
#include "store/writer.h"

static int
mkdir_p(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0750) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    if (mkdir(buf, 0750) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static void
raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* The --backend URI, or the demo database's (created on first start).
 * NULL after logging why not. The caller frees it. */
static char *
resolve_backend(const qg_config *cfg)
{
    if (cfg->backend[0])
        return qg_strdup(cfg->backend);
    size_t n = strlen(cfg->data_dir) + 32;
    char *path = qg_malloc(n);
    snprintf(path, n, "%s/demo.db", cfg->data_dir);
    qg_error err;
    char *uri = NULL;
    if (exec_demo_ensure(path, &err) == 0) {
        uri = qg_malloc(n + 8);
        snprintf(uri, n + 8, "sqlite:%s", path);
    } else {
        qg_err("%s", err.msg);
    }
    free(path);
    return uri;
}

/* What an operator should hear before anything listens: a port that
 * others can reach with nobody asked for a token, a secret that ps shows. */
static void
warn_exposure(const qg_config *cfg)
{
    if (!cfg->auth_file[0] && !gw_host_is_loopback(cfg->host))
        qg_warn("WARNING: --listen %s is reachable from other machines and --auth-file is not "
                "set: anyone who can reach this port can run any statement the database allows. "
                "Set --auth-file, or listen on 127.0.0.1 behind a proxy that authenticates",
                cfg->listen);
    if (cfg->callback_secret_in_argv)
        qg_warn("--callback-secret on the command line was visible to every user of this "
                "machine (ps) until now; use --callback-secret-file or QGATE_CALLBACK_SECRET");
}

/* The policy parts: trusted proxies, principals, callback hosts, CORS
 * origins. Returns 0, or -1 after logging why. */
static int
open_policy(daemon_app *app)
{
    const qg_config *cfg = app->cfg;
    char perr[512];
    if (gw_proxies_parse(cfg->trusted_proxies, &app->trusted, perr, sizeof(perr)) != 0 ||
        (cfg->auth_file[0] && gw_auth_load(cfg->auth_file, &app->auth, perr, sizeof(perr)) != 0) ||
        gw_allow_parse(cfg->callback_allow, &app->allow, perr, sizeof(perr)) != 0 ||
        gw_cors_parse(cfg->cors_origins, &app->cors, perr, sizeof(perr)) != 0) {
        qg_err("%s", perr);
        return -1;
    }
    return 0;
}

int
daemon_app_open(daemon_app *app, const qg_config *cfg)
{
    memset(app, 0, sizeof(*app));
    app->cfg = cfg;
    if (mkdir_p(cfg->data_dir) != 0) {
        qg_err("cannot create data directory %s: %s", cfg->data_dir, strerror(errno));
        return 1;
    }
    exec_limits lim = {.max_value = cfg->max_value, .max_statement = cfg->max_statement};
    exec_backends_init(&lim);
    app->backend_uri = resolve_backend(cfg);
    if (!app->backend_uri)
        return 1;
    app->modes.backend = exec_backend_for(app->backend_uri);
    if (!app->modes.backend) {
        char shown[512];
        exec_backend_redact(app->backend_uri, shown, sizeof(shown));
        qg_err(
            "unknown --backend '%s': use sqlite:PATH, postgresql://... or \"host=... dbname=...\"",
            shown);
        return 2;
    }
    if (open_policy(app) != 0)
        return 2;
    warn_exposure(cfg);
    size_t sn = strlen(cfg->data_dir) + 16;
    app->store_dir = qg_malloc(sn);
    snprintf(app->store_dir, sn, "%s/store", cfg->data_dir);
    return 0;
}

/* The modes' environment and the endpoints', before their parts exist. */
static void
envs_init(daemon_app *app)
{
    const qg_config *cfg = app->cfg;
    app->handles = (gw_base_conf){
        .public_url = cfg->public_url,
        .host = cfg->host,
        .trusted = &app->trusted,
    };
    mode_env *m = &app->modes;
    m->base = app->base;
    m->running = mode_registry_new();
    m->handles = &app->handles;
    m->callback_allow = &app->allow;
    m->set = (mode_settings){
        .max_result_bytes = cfg->max_result_bytes,
        .result_ttl_ns = cfg->result_ttl_ns,
        .idempotency_ttl_ns = cfg->idempotency_ttl_ns,
        .max_queued = (size_t)cfg->max_queued,
        .stream_heartbeat_ns = cfg->stream_heartbeat_ns,
        .callback_secret = cfg->callback_secret,
        .callback_retries = cfg->callback_retries,
        .callback_backoff_ns = cfg->callback_backoff_ns,
        .callback_backoff_max_ns = cfg->callback_backoff_max_ns,
        .callback_timeout_ns = cfg->callback_timeout_ns,
        .principal_max_queued = (size_t)cfg->principal_max_queued,
        .principal_max_running = (unsigned)cfg->principal_max_running,
        .principal_result_quota = cfg->principal_result_quota,
        .default_timeout_ns = cfg->default_timeout_ns,
        .max_timeout_ns = cfg->max_timeout_ns,
        .max_result_ttl_ns = cfg->max_result_ttl_ns,
        .max_result_reads = (uint32_t)cfg->max_result_reads,
    };
    m->auth = app->auth.n ? &app->auth : NULL;
    app->api = (api_env){
        .modes = m,
        .max_statement = cfg->max_statement,
        .max_params = cfg->max_params,
        .max_wait_ns = cfg->max_wait_ns,
        .start_wall_ns = qg_wall_ns(),
    };
}

/* The job store, its writer and the executor pools. */
static int
start_store_and_pools(daemon_app *app)
{
    const qg_config *cfg = app->cfg;
    mode_env *m = &app->modes;
    qg_error err;
    if (store_env_open(app->store_dir, cfg->store_size, &m->store, &err) != 0) {
        qg_err("cannot start: %s", err.msg);
        return -1;
    }
    if (store_env_stale_readers(m->store))
        qg_warn("job store: cleared %d reader slot(s) left by dead processes",
                store_env_stale_readers(m->store));
    m->writer = store_writer_new(m->store, app->base);
    /* async jobs may hold all workers but one (at least one): the rest
     * are for the requests somebody waits for (exec/sched.h) */
    int batch = cfg->batch_workers ? cfg->batch_workers : cfg->workers - 1;
    m->pool = exec_pool_new(app->base, m->backend, app->backend_uri, cfg->workers,
                            batch < 1 ? 1 : batch, &err);
    if (m->pool)
        m->checker = exec_pool_new(app->base, m->backend, app->backend_uri, 1, 1, &err);
    if (!m->pool || !m->checker) {
        qg_err("cannot start: %s", err.msg);
        return -1;
    }
    return 0;
}

/* The job engine (with the recovery of the stored jobs) and callbacks. */
static int
start_jobs(daemon_app *app)
{
    mode_env *m = &app->modes;
    qg_error err;
    /* names in callback URLs are looked up without blocking the loop;
     * without a resolver configuration, only addresses work */
    m->dns = evdns_base_new(app->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
    if (!m->dns)
        m->dns = evdns_base_new(app->base, 0);
    m->callbacks = mode_callbacks_new(m);
    m->jobs = mode_jobs_new(m);
    if (mode_jobs_recover(m->jobs, &err) != 0) {
        qg_err("cannot start: job store recovery: %s", err.msg);
        return -1;
    }
    if (mode_callbacks_start(m->callbacks, &err) != 0) {
        qg_err("cannot start: callbacks: %s", err.msg);
        return -1;
    }
    if (app->allow.n)
        qg_info("callbacks to %zu host pattern(s)%s", app->allow.n,
                app->cfg->callback_secret[0] ? ", signed" : ", unsigned (no --callback-secret)");
    app->gc = store_gc_start(m->store, m->writer, app->base);
    app->api.gc = app->gc;
    return 0;
}

/* The router with the endpoints' routes, and the HTTP server. */
static int
start_server(daemon_app *app)
{
    const qg_config *cfg = app->cfg;
    app->router = gw_router_new(cfg->auth_file[0] ? &app->auth : NULL, &app->cors);
    gw_router_add(app->router, api_routes, api_nroutes, &app->api);
    gw_server_opts so = {
        .host = cfg->host,
        .port = cfg->port,
        .idle_timeout_ms = cfg->idle_timeout_ns / 1000000,
        .header_timeout_ms = cfg->header_timeout_ns / 1000000,
        .body_timeout_ms = cfg->body_timeout_ns / 1000000,
        .send_timeout_ms = cfg->send_timeout_ns / 1000000,
        .send_deadline_ms = cfg->send_deadline_ns / 1000000,
        .body_deadline_ms = cfg->body_deadline_ns / 1000000,
        .max_connections = cfg->max_connections,
        .trusted = &app->trusted,
        .handler = gw_router_dispatch,
        .handler_arg = app->router,
    };
    gw_intake_limits_default(&so.limits);
    so.limits.max_body = cfg->max_body;
    qg_error err;
    app->server = gw_server_new(app->base, &so, &err);
    if (!app->server) {
        qg_err("cannot start: %s", err.msg);
        return -1;
    }
    app->handles.server = app->server;
    app->api.server = app->server;
    return 0;
}

int
daemon_app_start(daemon_app *app)
{
    raise_fd_limit();
    evthread_use_pthreads();
    app->base = event_base_new();
    envs_init(app);
    if (!app->base) {
        qg_err("cannot create the event loop");
        return -1;
    }
    if (start_store_and_pools(app) != 0 || start_jobs(app) != 0 || start_server(app) != 0)
        return -1;
    return 0;
}

static void
log_writer_stats(const store_writer_stats *st)
{
    store_writer_stats ws = *st;
    if (!ws.commits)
        return;
    qg_info("job store: %llu commit(s) of %llu op(s) (%.1f per commit, at most %llu); "
            "%llu job(s) created in %llu commit(s) (%.1f per commit); %llu op(s) failed",
            (unsigned long long)ws.commits, (unsigned long long)ws.ops,
            (double)ws.ops / (double)ws.commits, (unsigned long long)ws.max_batch,
            (unsigned long long)ws.creates, (unsigned long long)ws.create_commits,
            ws.create_commits ? (double)ws.creates / (double)ws.create_commits : 0.0,
            (unsigned long long)ws.failed);
}

void
daemon_app_stop(daemon_app *app)
{
    mode_env *m = &app->modes;
    app->api.draining = true;
    if (app->server) {
        gw_server_free(app->server);
        app->server = NULL;
        /* deliveries in flight stay pending in the store for the next start */
        mode_callbacks_stop(m->callbacks);
        /* libevent finalizes freed bufferevents from the loop: let it. */
        event_base_loop(app->base, EVLOOP_NONBLOCK);
    }
    if (m->jobs) {
        mode_jobs_park(m->jobs);
        mode_jobs_cancel_running(m->jobs, QG_E_DRAINING);
    }
    if (m->pool) {
        mode_registry_cancel_all(m->running);
        exec_pool_free(m->pool);
        m->pool = NULL;
    }
    if (m->checker) {
        exec_pool_free(m->checker);
        m->checker = NULL;
    }
    if (app->gc) {
        store_gc_stop(app->gc);
        app->gc = NULL;
    }
    mode_callbacks_stop(m->callbacks);
    if (m->writer) {
        store_writer_stats ws;
        store_writer_stats_get(m->writer, &ws);
        store_writer_free(m->writer);
        m->writer = NULL;
        log_writer_stats(&ws);
    }
    if (m->jobs) {
        mode_jobs_free(m->jobs);
        m->jobs = NULL;
    }
    mode_callbacks_free(m->callbacks);
    m->callbacks = NULL;
    if (m->dns) {
        evdns_base_free(m->dns, 1);
        m->dns = NULL;
    }
    if (m->store) {
        store_env_close(m->store);
        m->store = NULL;
    }
    mode_registry_free(m->running);
    m->running = NULL;
    gw_router_free(app->router);
    app->router = NULL;
    if (app->base) {
        event_base_free(app->base);
        app->base = NULL;
    }
}

void
daemon_app_close(daemon_app *app)
{
    free(app->store_dir);
    free(app->backend_uri);
    gw_proxies_free(&app->trusted);
    gw_auth_free(&app->auth);
    gw_allow_free(&app->allow);
    gw_cors_free(&app->cors);
}
