/*
 * metrics: GET /metrics, the Prometheus text exposition of qgate's state:
 * request counters and latency (core/stats), connections, the executor
 * queue and worker use, requests in flight, the scheduler's lanes and
 * principals (queue depth, running, wait time, refusals).
 */
#include <stdio.h>
#include <stdlib.h>

#include "api/api.h"
#include "core/clock.h"
#include "core/stats.h"
#include "exec/pool.h"
#include "gateway/reply.h"
#include "modes/job.h"
#include "modes/registry.h"
#include "store/env.h"
#include "store/gc.h"
#include "store/writer.h"

static void
gauge(qg_buf *b, const char *name, const char *help, double v)
{
    qg_stats_head(b, name, "gauge", help);
    qg_stats_sample(b, name, "", v);
}

static void
counter(qg_buf *b, const char *name, const char *help, uint64_t v)
{
    qg_stats_head(b, name, "counter", help);
    qg_stats_sample_u64(b, name, "", v);
}

/* Stored jobs and the job store. */
static void
jobs(qg_buf *b, api_env *env)
{
    gauge(b, "qgate_jobs_queued", "Async jobs accepted and not started yet.",
          (double)mode_jobs_queued(env->modes->jobs));
    gauge(b, "qgate_jobs_running", "Deferred and async jobs on a worker now.",
          (double)mode_jobs_running(env->modes->jobs));
    store_writer_stats ws;
    store_writer_stats_get(env->modes->writer, &ws);
    counter(b, "qgate_store_commits_total", "Job store transactions committed (each an fsync).",
            ws.commits);
    counter(b, "qgate_store_ops_total", "Writes committed to the job store.", ws.ops);
    counter(b, "qgate_store_jobs_created_total", "Jobs stored.", ws.creates);
    counter(b, "qgate_store_ops_failed_total", "Job store writes that failed.", ws.failed);
    counter(b, "qgate_store_full_total",
            "Job store writes refused for lack of room (--store-size).", ws.full);
    counter(b, "qgate_store_swept_total", "Expired jobs deleted by the sweep.",
            store_gc_swept(env->gc));
    uint64_t map, used;
    store_env_usage(env->modes->store, &map, &used);
    gauge(b, "qgate_store_map_bytes", "The job store's map size (--store-size).", (double)map);
    gauge(b, "qgate_store_file_bytes", "How much of the map the store file has used so far.",
          (double)used);
}

/* The principal's label value: its name, or "(anonymous)" (auth-file names
 * cannot hold parentheses, so the two never meet). */
static const char *
who(const exec_flow *f)
{
    return f->name[0] ? f->name : "(anonymous)";
}

/* One pool's lanes, per principal. */
static void
sched_samples(qg_buf *b, const char *pool, const exec_flow *v, size_t n, int part)
{
    char labels[256];
    for (size_t i = 0; i < n; i++)
        for (int lane = 0; lane < EXEC_LANES; lane++) {
            snprintf(labels, sizeof(labels), "pool=\"%s\",lane=\"%s\",principal=\"%s\"", pool,
                     exec_lane_name((exec_lane)lane), who(&v[i]));
            if (part == 0) {
                qg_stats_sample_u64(b, "qgate_sched_queued", labels, v[i].queued[lane]);
            } else if (part == 1) {
                qg_stats_sample_u64(b, "qgate_sched_running", labels, v[i].running[lane]);
            } else {
                uint64_t cum = 0;
                char lb[300];
                for (int k = 0; k < EXEC_SCHED_BUCKETS; k++) {
                    cum += v[i].wait_hist[lane][k];
                    if (k < EXEC_SCHED_BUCKETS - 1)
                        snprintf(lb, sizeof(lb), "%s,le=\"%.3f\"", labels,
                                 (double)exec_sched_bucket_ns[k] / 1e9);
                    else
                        snprintf(lb, sizeof(lb), "%s,le=\"+Inf\"", labels);
                    qg_stats_sample_u64(b, "qgate_sched_wait_seconds_bucket", lb, cum);
                }
                qg_stats_sample(b, "qgate_sched_wait_seconds_sum", labels,
                                (double)v[i].wait_sum_ns[lane] / 1e9);
                qg_stats_sample_u64(b, "qgate_sched_wait_seconds_count", labels, cum);
            }
        }
}

/* The scheduler (exec/sched.h): both pools, per lane and principal. The
 * principals are the auth file's, plus "(anonymous)": bounded labels. */
static void
sched(qg_buf *b, api_env *env)
{
    exec_flow *w, *c;
    size_t nw = exec_pool_flows(env->modes->pool, &w);
    size_t nc = exec_pool_flows(env->modes->checker, &c);
    static const char *const names[3] = {"qgate_sched_queued", "qgate_sched_running",
                                         "qgate_sched_wait_seconds"};
    static const char *const helps[3] = {
        "Tasks waiting for a thread, per pool (checker: async submissions), lane and principal.",
        "Tasks running, per pool, lane and principal.",
        "Time tasks waited for a thread, per pool, lane and principal."};
    for (int part = 0; part < 3; part++) {
        qg_stats_head(b, names[part], part == 2 ? "histogram" : "gauge", helps[part]);
        sched_samples(b, "workers", w, nw, part);
        sched_samples(b, "checker", c, nc, part);
    }
    qg_stats_head(b, "qgate_sched_rejected_total", "counter",
                  "Submissions refused by a limit, per principal and reason (docs/api.md, "
                  "\"Limits\").");
    char labels[200];
    for (size_t i = 0; i < nw; i++)
        for (int r = 0; r < EXEC_REJECTS; r++) {
            snprintf(labels, sizeof(labels), "principal=\"%s\",reason=\"%s\"", who(&w[i]),
                     exec_reject_name((exec_reject)r));
            qg_stats_sample_u64(b, "qgate_sched_rejected_total", labels, w[i].rejected[r]);
        }
    free(w);
    free(c);
}

void
api_metrics(gw_req *req, void *arg)
{
    api_env *env = arg;
    qg_buf b = QG_BUF_INIT;
    qg_stats_head(&b, "qgate_build_info", "gauge", "qgate's version.");
    qg_stats_sample(&b, "qgate_build_info", "version=\"" QGATE_VERSION "\"", 1);
    gauge(&b, "qgate_start_time_seconds", "When this qgate started, in seconds since the epoch.",
          (double)(env->start_wall_ns / 1000000000u));
    gauge(&b, "qgate_draining", "1 after SIGTERM while running requests finish.",
          env->draining ? 1 : 0);
    qg_stats_render_requests(&b);
    gauge(&b, "qgate_connections", "Open client connections.",
          (double)gw_server_connections(env->server));
    gauge(&b, "qgate_requests_in_flight", "Requests being handled now.",
          (double)gw_server_busy(env->server));
    gauge(&b, "qgate_running_requests", "Queries queued or running (what /admin lists).",
          (double)mode_registry_count(env->modes->running));
    gauge(&b, "qgate_queue_depth", "Tasks waiting for an executor thread.",
          (double)exec_pool_queued(env->modes->pool));
    gauge(&b, "qgate_workers", "Executor threads.", exec_pool_workers(env->modes->pool));
    gauge(&b, "qgate_workers_busy", "Executor threads running a task now.",
          exec_pool_busy_workers(env->modes->pool));
    qg_stats_head(&b, "qgate_worker_busy_seconds_total", "counter",
                  "Time executor threads spent running tasks (utilisation = rate / workers).");
    qg_stats_sample(&b, "qgate_worker_busy_seconds_total", "",
                    (double)exec_pool_busy_ns(env->modes->pool) / 1e9);
    jobs(&b, env);
    sched(&b, env);
    gw_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len, NULL, 0);
    qg_buf_free(&b);
}
