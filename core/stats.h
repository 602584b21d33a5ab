/*
 * stats: the counters behind GET /metrics (Prometheus text format).
 *
 * Counters that only the loop thread changes (requests by mode and status,
 * the latency histogram) are plain integers; what other threads add to lives
 * with its owner (exec/pool's busy time, the store's pages) and is read when
 * /metrics is rendered. Rendering helpers are here so every owner writes the
 * same format.
 */
#ifndef QG_STATS_H
#define QG_STATS_H

#include <stdint.h>

#include "core/buf.h"

/* Records one finished request. mode is "immediate", "deferred", "async",
 * "stream" or NULL (not a /query/service request). Loop thread. */
void qg_stats_request(const char *mode, int http_status, uint64_t duration_ns);

/* Writes the request counters and the latency histogram. Loop thread. */
void qg_stats_render_requests(qg_buf *out);

/* Prometheus text helpers: "# HELP"/"# TYPE" lines, then samples. labels
 * is "" or `key="value",...` (already escaped). */
void qg_stats_head(qg_buf *out, const char *name, const char *type, const char *help);
void qg_stats_sample(qg_buf *out, const char *name, const char *labels, double value);
void qg_stats_sample_u64(qg_buf *out, const char *name, const char *labels, uint64_t value);

#endif
