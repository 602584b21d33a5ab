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
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "daemon/app.h"
#include "exec/backend.h"
#include "gateway/server.h"
#include "modes/job.h"
#include "modes/registry.h"
#include "store/env.h"

typedef struct drain {
    daemon_app *app;
    struct event *tick;
    uint64_t deadline_ns;
    bool cancelled;
    int signals;
} drain;

static void
drain_tick(evutil_socket_t fd, short what, void *arg)
{
    drain *d = arg;
    daemon_app *app = d->app;
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
    daemon_app *app = d->app;
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
    app->api.draining = true;
    gw_server_drain(app->server);
    mode_jobs_park(app->modes.jobs);
    d->deadline_ns = qg_now_ns() + app->cfg->drain_timeout_ns;
    struct timeval tv = {0, 0};
    event_add(d->tick, &tv);
}

/* Runs the loop until a signal has drained it. */
static void
serve(daemon_app *app)
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

/* Everything after the settings: returns the exit status. */
static int
run(const qg_config *cfg)
{
    daemon_app app;
    int rc = daemon_app_open(&app, cfg);
    if (rc == 0) {
        rc = 1;
        if (daemon_app_start(&app) == 0) {
            serve(&app);
            rc = 0;
        }
        daemon_app_stop(&app);
    }
    daemon_app_close(&app);
    if (rc == 0)
        qg_info("stopped");
    return rc;
}

/* Memory a worker allocates and the loop frees (a response's chunks) goes
 * back to the worker's malloc arena, and glibc returns an arena's top to
 * the kernel (madvise) once it exceeds 128 KiB, which the worker faults
 * back in at its next request: under `SELECT 1` at 64 connections, one
 * madvise (a TLB shootdown on every CPU) every 50 requests and a tenth of
 * the CPU in growing heaps and page faults (docs/performance.md). Each
 * arena keeps up to 1 MiB at its top instead; setting the trim threshold
 * stops glibc's moving mmap threshold, so that is set to the same 1 MiB
 * (blocks below it come from the arenas, as they would once the moving
 * threshold had grown). glibc's own settings in the environment win. */
static void
keep_arena_tops(void)
{
    if (getenv("GLIBC_TUNABLES") || getenv("MALLOC_TRIM_THRESHOLD_") ||
        getenv("MALLOC_MMAP_THRESHOLD_"))
        return;
    mallopt(M_TRIM_THRESHOLD, 1 << 20);
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
}

int
main(int argc, char **argv, char **envp)
{
    qg_config cfg;
    qg_error err;
    signal(SIGPIPE, SIG_IGN);
    keep_arena_tops();
    int rc = 0;
    int loaded = qg_config_load(&cfg, argc, argv, envp, &err);
    qg_config_scrub_argv(argc, argv);
    if (cfg.warnings) {
        /* each line ends with its newline */
        for (const char *l = cfg.warnings; *l;) {
            const char *nl = strchr(l, '\n');
            int n = nl ? (int)(nl - l) : (int)strlen(l);
            fprintf(stderr, "qgate: warning: %.*s\n", n, l);
            l += n + (nl ? 1 : 0);
        }
    }
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
