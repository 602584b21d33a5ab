/*
 * main: qgate's start-up, its loop, and its orderly end.
 *
 * Start: settings (core/config), the data directory, the demo database when
 * no --backend is given, the job store (DATA/store: locked, opened, format
 * checked, stale readers cleared) and its writer thread, the executor pool
 * and the checker (fail fast when the database cannot be reached), recovery
 * of the jobs the store holds, the HTTP server. Then the libevent loop runs
 * until a signal ends it.
 *
 * SIGTERM/SIGINT drain: new work is refused with 503 + Retry-After and
 * /health answers 503 (the listener stays open, so a balancer sees it),
 * idle keep-alive connections close, async jobs that have
 * not started queued in the store (they run after the restart), let running
 * requests and jobs finish for up to --drain-timeout, then cancel what is
 * left (a cancelled rerunnable job goes back to queued), and exit 0. A
 * second signal cuts the drain short.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "daemon/app.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "exec/backend.h"
#include "exec/demo.h"
#include "exec/pool.h"
#include "gateway/allow.h"
#include "gateway/auth.h"
#include "gateway/base.h"
#include "gateway/cors.h"
#include "gateway/proxy.h"
#include "gateway/routes.h"
#include "gateway/server.h"
#include "modes/callback.h"
#include "modes/job.h"
#include "modes/registry.h"
#include "store/env.h"
#include "store/gc.h"
#include "store/writer.h"

typedef struct drain {
    qg_app *app;
    struct event *tick;
    uint64_t deadline_ns;
    bool cancelled;
    int signals;
} drain;

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

static void
drain_tick(evutil_socket_t fd, short what, void *arg)
{
    drain *d = arg;
    qg_app *app = d->app;
    size_t busy = gw_server_busy(app->server) + gw_server_flushing(app->server) +
                  mode_jobs_running(app->modes.jobs);
    if (busy == 0) {
        event_base_loopbreak(app->base);
        return;
    }
    if (!d->cancelled && qg_now_ns() >= d->deadline_ns) {
        qg_warn("drain timeout: cancelling %zu running request(s) and job(s)", busy);
        mode_jobs_cancel_running(app->modes.jobs, QG_E_DRAINING);
        mode_registry_cancel_all(app->modes.running);
        d->cancelled = true;
        d->deadline_ns = qg_now_ns() + 2000000000u; /* then give up */
    } else if (d->cancelled && qg_now_ns() >= d->deadline_ns) {
        qg_warn("drain: %zu request(s) did not stop; exiting", busy);
        event_base_loopbreak(app->base);
        return;
    }
    struct timeval tv = {0, 20000};
    event_add(d->tick, &tv);
}

/* Writes out the buffered log lines (qg_log_buffered) every 50 ms. */
static void
log_tick(evutil_socket_t fd, short what, void *arg)
{
    qg_log_flush();
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
    drain *d = arg;
    qg_app *app = d->app;
    d->signals++;
    if (d->signals > 1) {
        qg_warn("second signal: cancelling everything and exiting");
        mode_jobs_cancel_running(app->modes.jobs, QG_E_DRAINING);
        mode_registry_cancel_all(app->modes.running);
        d->cancelled = true;
        d->deadline_ns = qg_now_ns();
        return;
    }
    qg_info("%s: draining (up to %llums)", sig == SIGTERM ? "SIGTERM" : "SIGINT",
            (unsigned long long)(app->cfg->drain_timeout_ns / 1000000));
    app->draining = true;
    gw_server_drain(app->server);
    mode_jobs_park(app->modes.jobs);
    d->deadline_ns = qg_now_ns() + app->cfg->drain_timeout_ns;
    struct timeval tv = {0, 0};
    event_add(d->tick, &tv);
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

/* Runs the loop until a signal has drained it. */
static void
serve(qg_app *app)
{
    struct event_base *base = app->base;
    drain d = {.app = app};
    d.tick = evtimer_new(base, drain_tick, &d);
    struct event *sigterm = evsignal_new(base, SIGTERM, on_signal, &d);
    struct event *sigint = evsignal_new(base, SIGINT, on_signal, &d);
    event_add(sigterm, NULL);
    event_add(sigint, NULL);

    /* Only now: whoever waits for this line may signal us at once. */
    const qg_config *cfg = app->cfg;
    char shown[512]; /* no password in the log */
    exec_backend_redact(app->backend_uri, shown, sizeof(shown));
    qg_info("backend %s (%s), %d worker(s), data %s", shown, app->modes.backend->name, cfg->workers,
            cfg->data_dir);
    qg_info("job store: map %llu MiB, next job %llu",
            (unsigned long long)(store_env_map_size(app->modes.store) >> 20),
            (unsigned long long)store_env_next_id(app->modes.store));
    qg_info("qgate %s pid %d listening on http://%s%s%s:%d", QGATE_VERSION, (int)getpid(),
            strchr(cfg->host, ':') ? "[" : "", cfg->host, strchr(cfg->host, ':') ? "]" : "",
            gw_server_port(app->server));

    /* from here on the access log is written in batches */
    struct event *flush = event_new(base, -1, EV_PERSIST, log_tick, NULL);
    struct timeval every = {0, 50000};
    event_add(flush, &every);
    qg_log_buffered(1);

    event_base_dispatch(base);

    qg_log_buffered(0);
    event_free(flush);

    qg_info("stopping");
    event_free(sigterm);
    event_free(sigint);
    event_free(d.tick);
    /* The drain is over; a late signal must not cut the clean-up short. */
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
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

/* Everything after the settings: returns the exit status. */
static int
run(const qg_config *cfg)
{
    if (mkdir_p(cfg->data_dir) != 0) {
        qg_err("cannot create data directory %s: %s", cfg->data_dir, strerror(errno));
        return 1;
    }
    exec_limits lim = {.max_value = cfg->max_value, .max_statement = cfg->max_statement};
    exec_backends_init(&lim);
    char *uri = resolve_backend(cfg);
    if (!uri)
        return 1;
    const exec_backend *be = exec_backend_for(uri);
    if (!be) {
        char shown[512];
        exec_backend_redact(uri, shown, sizeof(shown));
        qg_err(
            "unknown --backend '%s': use sqlite:PATH, postgresql://... or \"host=... dbname=...\"",
            shown);
        free(uri);
        return 2;
    }

    gw_proxies trusted;
    char perr[512];
    if (gw_proxies_parse(cfg->trusted_proxies, &trusted, perr, sizeof(perr)) != 0) {
        qg_err("%s", perr);
        free(uri);
        return 2;
    }

    gw_auth auth = {0};
    if (cfg->auth_file[0] && gw_auth_load(cfg->auth_file, &auth, perr, sizeof(perr)) != 0) {
        qg_err("%s", perr);
        gw_proxies_free(&trusted);
        free(uri);
        return 2;
    }
    gw_allow allow;
    if (gw_allow_parse(cfg->callback_allow, &allow, perr, sizeof(perr)) != 0) {
        qg_err("%s", perr);
        gw_auth_free(&auth);
        gw_proxies_free(&trusted);
        free(uri);
        return 2;
    }
    gw_cors cors;
    if (gw_cors_parse(cfg->cors_origins, &cors, perr, sizeof(perr)) != 0) {
        qg_err("%s", perr);
        gw_allow_free(&allow);
        gw_auth_free(&auth);
        gw_proxies_free(&trusted);
        free(uri);
        return 2;
    }
    warn_exposure(cfg);

    raise_fd_limit();
    evthread_use_pthreads();
    gw_base_conf handles = {
        .public_url = cfg->public_url,
        .host = cfg->host,
        .trusted = &trusted,
    };
    qg_app app = {
        .cfg = cfg,
        .base = event_base_new(),
        .backend_uri = uri,
        .trusted = &trusted,
        .auth = cfg->auth_file[0] ? &auth : NULL,
        .cors = &cors,
        .start_wall_ns = qg_wall_ns(),
    };
    app.modes = (mode_env){
        .base = app.base,
        .backend = be,
        .running = mode_registry_new(),
        .handles = &handles,
        .callback_allow = &allow,
        .set =
            {
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
            },
    };
    int rc = 1;
    qg_error err;
    size_t sn = strlen(cfg->data_dir) + 16;
    char *store_dir = qg_malloc(sn);
    snprintf(store_dir, sn, "%s/store", cfg->data_dir);
    if (!app.base) {
        qg_err("cannot create the event loop");
        goto out;
    }
    if (store_env_open(store_dir, cfg->store_size, &app.modes.store, &err) != 0) {
        qg_err("cannot start: %s", err.msg);
        goto out;
    }
    if (store_env_stale_readers(app.modes.store))
        qg_warn("job store: cleared %d reader slot(s) left by dead processes",
                store_env_stale_readers(app.modes.store));
    app.modes.writer = store_writer_new(app.modes.store, app.base);
    app.modes.pool = exec_pool_new(app.base, be, uri, cfg->workers, &err);
    if (!app.modes.pool) {
        qg_err("cannot start: %s", err.msg);
        goto out;
    }
    app.modes.checker = exec_pool_new(app.base, be, uri, 1, &err);
    if (!app.modes.checker) {
        qg_err("cannot start: %s", err.msg);
        goto out;
    }
    /* names in callback URLs are looked up without blocking the loop;
     * without a resolver configuration, only addresses work */
    app.modes.dns = evdns_base_new(app.base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
    if (!app.modes.dns)
        app.modes.dns = evdns_base_new(app.base, 0);
    app.modes.callbacks = mode_callbacks_new(&app.modes);
    app.modes.jobs = mode_jobs_new(&app.modes);
    if (mode_jobs_recover(app.modes.jobs, &err) != 0) {
        qg_err("cannot start: job store recovery: %s", err.msg);
        goto out;
    }
    if (mode_callbacks_start(app.modes.callbacks, &err) != 0) {
        qg_err("cannot start: callbacks: %s", err.msg);
        goto out;
    }
    if (allow.n)
        qg_info("callbacks to %zu host pattern(s)%s", allow.n,
                cfg->callback_secret[0] ? ", signed" : ", unsigned (no --callback-secret)");
    app.gc = store_gc_start(app.modes.store, app.modes.writer, app.base);
    gw_server_opts so = {
        .host = cfg->host,
        .port = cfg->port,
        .idle_timeout_ms = cfg->idle_timeout_ns / 1000000,
        .header_timeout_ms = cfg->header_timeout_ns / 1000000,
        .body_timeout_ms = cfg->body_timeout_ns / 1000000,
        .send_timeout_ms = cfg->send_timeout_ns / 1000000,
        .max_connections = cfg->max_connections,
        .trusted = &trusted,
        .handler = gw_routes_dispatch,
        .handler_arg = &app,
    };
    gw_intake_limits_default(&so.limits);
    so.limits.max_body = cfg->max_body;
    app.server = gw_server_new(app.base, &so, &err);
    if (!app.server) {
        qg_err("cannot start: %s", err.msg);
        goto out;
    }
    handles.server = app.server;

    serve(&app);
    rc = 0;

    app.draining = true;
    gw_server_free(app.server);
    app.server = NULL;
    /* deliveries in flight stay pending in the store for the next start */
    mode_callbacks_stop(app.modes.callbacks);
    /* libevent finalizes freed bufferevents from the loop: let it. */
    event_base_loop(app.base, EVLOOP_NONBLOCK);
out:
    /* In the reverse order of start-up, from wherever it got to: jobs not
     * started stay queued in the store, running ones are stopped (a
     * rerunnable one goes back to queued), the workers finish, then the
     * writer commits what they left and the store closes. */
    if (app.server)
        gw_server_free(app.server);
    if (app.modes.jobs) {
        mode_jobs_park(app.modes.jobs);
        mode_jobs_cancel_running(app.modes.jobs, QG_E_DRAINING);
    }
    if (app.modes.pool) {
        mode_registry_cancel_all(app.modes.running);
        exec_pool_free(app.modes.pool);
    }
    if (app.modes.checker)
        exec_pool_free(app.modes.checker);
    if (app.gc)
        store_gc_stop(app.gc);
    mode_callbacks_stop(app.modes.callbacks);
    if (app.modes.writer) {
        store_writer_stats ws;
        store_writer_stats_get(app.modes.writer, &ws);
        store_writer_free(app.modes.writer);
        if (ws.commits)
            qg_info("job store: %llu commit(s) of %llu op(s) (%.1f per commit, at most %llu); "
                    "%llu job(s) created in %llu commit(s) (%.1f per commit); %llu op(s) failed",
                    (unsigned long long)ws.commits, (unsigned long long)ws.ops,
                    (double)ws.ops / (double)ws.commits, (unsigned long long)ws.max_batch,
                    (unsigned long long)ws.creates, (unsigned long long)ws.create_commits,
                    ws.create_commits ? (double)ws.creates / (double)ws.create_commits : 0.0,
                    (unsigned long long)ws.failed);
    }
    if (app.modes.jobs)
        mode_jobs_free(app.modes.jobs);
    mode_callbacks_free(app.modes.callbacks);
    if (app.modes.dns)
        evdns_base_free(app.modes.dns, 1);
    if (app.modes.store)
        store_env_close(app.modes.store);
    mode_registry_free(app.modes.running);
    if (app.base)
        event_base_free(app.base);
    free(store_dir);
    free(uri);
    gw_proxies_free(&trusted);
    gw_auth_free(&auth);
    gw_allow_free(&allow);
    gw_cors_free(&cors);
    if (rc == 0)
        qg_info("stopped");
    return rc;
}

int
main(int argc, char **argv, char **envp)
{
    qg_config cfg;
    qg_error err;
    signal(SIGPIPE, SIG_IGN);
    int rc = 0;
    int loaded = qg_config_load(&cfg, argc, argv, envp, &err);
    qg_config_scrub_argv(argc, argv);
    if (loaded != 0) {
        fprintf(stderr, "qgate: %s\n", err.msg);
        rc = 2;
    } else if (cfg.help) {
        qg_config_usage(stdout);
    } else if (cfg.version) {
        printf("qgate %s\n", QGATE_VERSION);
    } else if (qg_log_parse_level(cfg.log_level) < 0) {
        fprintf(stderr, "qgate: --log-level must be debug, info, warn or error\n");
        rc = 2;
    } else {
        qg_log_set_level(qg_log_parse_level(cfg.log_level));
        rc = run(&cfg);
    }
    qg_config_free(&cfg);
    return rc;
}
