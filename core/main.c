/*
 * main: qgate's start-up, its loop, and its orderly end.
 *
 * Start: settings (core/config), the data directory, the demo database when
 * no --backend is given, the executor pool (fails fast when the database
 * cannot be reached), the HTTP server. Then the libevent loop runs until a
 * signal ends it.
 *
 * SIGTERM/SIGINT drain: stop accepting, answer new requests on open
 * connections with 503 (/health turns 503 too), let running requests finish
 * for up to --drain-timeout, then cancel what is left, and exit 0. A second
 * signal cuts the drain short.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "core/app.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "core/mem.h"
#include "exec/backend.h"
#include "exec/demo.h"
#include "exec/pool.h"
#include "gateway/routes.h"
#include "gateway/server.h"
#include "modes/registry.h"

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
    size_t busy = gw_server_busy(app->server);
    if (busy == 0) {
        event_base_loopbreak(app->base);
        return;
    }
    if (!d->cancelled && qg_now_ns() >= d->deadline_ns) {
        qg_warn("drain timeout: cancelling %zu running request(s)", busy);
        mode_registry_cancel_all(app->running);
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

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
    drain *d = arg;
    qg_app *app = d->app;
    d->signals++;
    if (d->signals > 1) {
        qg_warn("second signal: cancelling everything and exiting");
        mode_registry_cancel_all(app->running);
        d->cancelled = true;
        d->deadline_ns = qg_now_ns();
        return;
    }
    qg_info("%s: draining (up to %llums)", sig == SIGTERM ? "SIGTERM" : "SIGINT",
            (unsigned long long)(app->cfg->drain_timeout_ns / 1000000));
    app->draining = true;
    gw_server_stop_accepting(app->server);
    d->deadline_ns = qg_now_ns() + app->cfg->drain_timeout_ns;
    struct timeval tv = {0, 0};
    event_add(d->tick, &tv);
}

int
main(int argc, char **argv, char **envp)
{
    qg_config cfg;
    qg_error err;
    signal(SIGPIPE, SIG_IGN);
    if (qg_config_load(&cfg, argc, argv, envp, &err) != 0) {
        fprintf(stderr, "qgate: %s\n", err.msg);
        return 2;
    }
    if (cfg.help) {
        qg_config_usage(stdout);
        qg_config_free(&cfg);
        return 0;
    }
    if (cfg.version) {
        printf("qgate %s\n", QGATE_VERSION);
        qg_config_free(&cfg);
        return 0;
    }
    int level = qg_log_parse_level(cfg.log_level);
    if (level < 0) {
        fprintf(stderr, "qgate: --log-level must be debug, info, warn or error\n");
        return 2;
    }
    qg_log_set_level(level);

    if (mkdir_p(cfg.data_dir) != 0) {
        qg_err("cannot create data directory %s: %s", cfg.data_dir, strerror(errno));
        return 1;
    }
    char *uri = NULL;
    if (cfg.backend[0]) {
        uri = qg_strdup(cfg.backend);
    } else {
        size_t n = strlen(cfg.data_dir) + 32;
        char *path = qg_malloc(n);
        snprintf(path, n, "%s/demo.db", cfg.data_dir);
        if (exec_demo_ensure(path, &err) != 0) {
            qg_err("%s", err.msg);
            return 1;
        }
        uri = qg_malloc(n + 8);
        snprintf(uri, n + 8, "sqlite:%s", path);
        free(path);
    }
    char shown[512];
    exec_backend_redact(uri, shown, sizeof(shown));
    const exec_backend *be = exec_backend_for(uri);
    if (!be) {
        qg_err("unknown --backend '%s': use sqlite:PATH, postgresql://... or \"host=... dbname=...\"",
               shown);
        return 2;
    }

    raise_fd_limit();
    evthread_use_pthreads();
    struct event_base *base = event_base_new();
    if (!base) {
        qg_err("cannot create the event loop");
        return 1;
    }
    qg_app app = {
        .cfg = &cfg,
        .base = base,
        .backend = be,
        .backend_uri = uri,
        .running = mode_registry_new(),
        .start_wall_ns = qg_wall_ns(),
    };

    app.pool = exec_pool_new(base, be, uri, cfg.workers, &err);
    if (!app.pool) {
        qg_err("cannot start: %s", err.msg);
        return 1;
    }

    gw_server_opts so = {
        .host = cfg.host,
        .port = cfg.port,
        .idle_timeout_ms = cfg.idle_timeout_ns / 1000000,
        .header_timeout_ms = cfg.header_timeout_ns / 1000000,
        .body_timeout_ms = cfg.body_timeout_ns / 1000000,
        .send_timeout_ms = cfg.send_timeout_ns / 1000000,
        .max_connections = cfg.max_connections,
        .handler = gw_routes_dispatch,
        .handler_arg = &app,
    };
    gw_intake_limits_default(&so.limits);
    so.limits.max_body = cfg.max_body;
    app.server = gw_server_new(base, &so, &err);
    if (!app.server) {
        qg_err("cannot start: %s", err.msg);
        exec_pool_free(app.pool);
        return 1;
    }
    /* The handlers go in before the "listening" line: whoever waits for it
     * may signal at once, and must get a drain, not the default action. */
    drain d = {.app = &app};
    d.tick = evtimer_new(base, drain_tick, &d);
    struct event *sigterm = evsignal_new(base, SIGTERM, on_signal, &d);
    struct event *sigint = evsignal_new(base, SIGINT, on_signal, &d);
    event_add(sigterm, NULL);
    event_add(sigint, NULL);

    qg_info("qgate %s pid %d listening on http://%s%s%s:%d", QGATE_VERSION, (int)getpid(),
            strchr(cfg.host, ':') ? "[" : "", cfg.host, strchr(cfg.host, ':') ? "]" : "",
            gw_server_port(app.server));
    qg_info("backend %s (%s), %d worker(s), data %s", shown, be->name, cfg.workers,
            cfg.data_dir);

    event_base_dispatch(base);

    qg_info("stopping");
    gw_server_free(app.server);
    mode_registry_cancel_all(app.running);
    exec_pool_free(app.pool);
    event_free(sigterm);
    event_free(sigint);
    event_free(d.tick);
    mode_registry_free(app.running);
    event_base_free(base);
    free(uri);
    qg_config_free(&cfg);
    qg_info("stopped");
    return 0;
}
