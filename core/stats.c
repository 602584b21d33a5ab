/* stats: request counters and the Prometheus text format (see stats.h). */
#include "core/stats.h"

#include <stdio.h>
#include <string.h>


#define NMODES 5
static const char *const mode_names[NMODES] = {"immediate", "deferred", "async", "stream", "none"};

/* Status codes are counted per class of code actually used; 32 distinct
 * codes is far more than qgate answers with. */
#define NCODES 32

static struct {
    int code;
    uint64_t count[NMODES];
} codes[NCODES];

/* Latency histogram buckets, in seconds (le), per mode. */
static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                0.25,   0.5,   1,      2.5,   5,    10,    30,    60};
#define NBOUNDS (sizeof(bounds) / sizeof(bounds[0]))

static struct {
    uint64_t bucket[NBOUNDS];
    uint64_t count;
    double sum;
} lat[NMODES];

static int
mode_index(const char *mode)
{
    for (int i = 0; i < NMODES - 1; i++)
        if (mode && strcmp(mode, mode_names[i]) == 0)
            return i;
    return NMODES - 1;
}

void
qg_stats_request(const char *mode, int http_status, uint64_t duration_ns)
{
    int m = mode_index(mode);
    for (int i = 0; i < NCODES; i++) {
        if (codes[i].code == 0)
            codes[i].code = http_status;
        if (codes[i].code == http_status) {
            codes[i].count[m]++;
            break;
        }
    }
    double s = (double)duration_ns / 1e9;
    for (size_t b = 0; b < NBOUNDS; b++)
        if (s <= bounds[b])
            lat[m].bucket[b]++;
    lat[m].count++;
    lat[m].sum += s;
}

void
qg_stats_head(qg_buf *out, const char *name, const char *type, const char *help)
{
    qg_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void
qg_stats_sample(qg_buf *out, const char *name, const char *labels, double value)
{
    char num[32];
    snprintf(num, sizeof(num), "%.10g", value);
    qg_buf_printf(out, "%s%s%s%s %s\n", name, *labels ? "{" : "", labels, *labels ? "}" : "",
                  num);
}

void
qg_stats_sample_u64(qg_buf *out, const char *name, const char *labels, uint64_t value)
{
    qg_buf_printf(out, "%s%s%s%s %llu\n", name, *labels ? "{" : "", labels, *labels ? "}" : "",
                  (unsigned long long)value);
}

void
qg_stats_render_requests(qg_buf *out)
{
    char labels[96];
    qg_stats_head(out, "qgate_requests_total", "counter",
                  "HTTP requests answered, by delivery mode and status code.");
    for (int i = 0; i < NCODES && codes[i].code; i++)
        for (int m = 0; m < NMODES; m++)
            if (codes[i].count[m]) {
                snprintf(labels, sizeof(labels), "mode=\"%s\",code=\"%d\"", mode_names[m],
                         codes[i].code);
                qg_stats_sample_u64(out, "qgate_requests_total", labels, codes[i].count[m]);
            }
    qg_stats_head(out, "qgate_request_duration_seconds", "histogram",
                  "Time from a request's arrival to its last byte queued, by mode.");
    for (int m = 0; m < NMODES; m++) {
        if (!lat[m].count)
            continue;
        for (size_t b = 0; b < NBOUNDS; b++) {
            snprintf(labels, sizeof(labels), "mode=\"%s\",le=\"%g\"", mode_names[m], bounds[b]);
            qg_stats_sample_u64(out, "qgate_request_duration_seconds_bucket", labels,
                                lat[m].bucket[b]);
        }
        snprintf(labels, sizeof(labels), "mode=\"%s\",le=\"+Inf\"", mode_names[m]);
        qg_stats_sample_u64(out, "qgate_request_duration_seconds_bucket", labels, lat[m].count);
        snprintf(labels, sizeof(labels), "mode=\"%s\"", mode_names[m]);
        qg_stats_sample(out, "qgate_request_duration_seconds_sum", labels, lat[m].sum);
        qg_stats_sample_u64(out, "qgate_request_duration_seconds_count", labels, lat[m].count);
    }
}
