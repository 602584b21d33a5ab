/*
 * config: qgate's settings, from defaults, a config file, QGATE_*
 * environment variables and command-line flags, in that order of rising
 * precedence. One table (config.c) names every setting once: its flag, its
 * environment variable (QGATE_ + upper-cased, '-' -> '_'), its config-file
 * key (the flag without "--"), its type, default and help line.
 *
 * Loaded once by main before any thread starts; read-only afterwards, so
 * any thread may read it.
 */
#ifndef QG_CONFIG_H
#define QG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"

typedef struct qg_config {
    char *listen; /* HOST:PORT */
    char *host;   /* parsed from listen */
    int port;
    char *data_dir;
    char *backend; /* "" until resolved: the demo database under data_dir */
    int workers;
    char *public_url;
    char *config_file;
    char *log_level;

    uint64_t result_ttl_ns;
    uint64_t store_size;
    int max_queued;
    uint64_t drain_timeout_ns;

    uint64_t max_body;
    uint64_t max_statement;
    int max_params;
    uint64_t max_result_bytes;
    uint64_t max_value; /* SQLite: longest string or blob a statement may read or build */
    int max_connections;
    uint64_t idle_timeout_ns;
    uint64_t header_timeout_ns;
    uint64_t body_timeout_ns;
    uint64_t send_timeout_ns;
    uint64_t stream_heartbeat_ns; /* mode=stream: default HEARTBEAT interval; 0: none */

    char *trusted_proxies;
    char *auth_file;
    char *cors_origins; /* origins whose pages may use qgate (gateway/cors); "": none */

    char *callback_allow;             /* host patterns (gateway/allow.h); "": callbacks off */
    char *callback_secret;            /* HMAC key of callback signatures; "": unsigned */
    char *callback_secret_file;       /* where callback_secret was read from, or "" */
    bool callback_secret_in_argv;     /* given as a flag: visible in ps (main warns) */
    int callback_retries;             /* attempts before a delivery fails */
    uint64_t callback_backoff_ns;     /* wait after the first failed attempt, doubling */
    uint64_t callback_backoff_max_ns; /* the longest wait between attempts */
    uint64_t callback_timeout_ns;     /* one attempt: connect, send, response head */
    uint64_t max_wait_ns;             /* the longest `wait` of an async submission */
    uint64_t idempotency_ttl_ns;      /* how long an idempotency key names its job */

    /* Scheduling and per-principal limits (auth-file entries override the
     * per-principal ones); 0: no limit, unless said otherwise. */
    int batch_workers;             /* workers async jobs may hold at once; 0: workers - 1 */
    int principal_max_queued;      /* async jobs not started, per principal */
    int principal_max_running;     /* async jobs running, per principal */
    uint64_t principal_result_quota; /* stored result bytes, per principal */
    uint64_t default_timeout_ns;   /* a request's timeout when it gives none */
    uint64_t max_timeout_ns;       /* the longest timeout a request may ask for */
    uint64_t max_result_ttl_ns;    /* the longest result-ttl */
    int max_result_reads;          /* the most max-result-reads */
    uint64_t send_deadline_ns;     /* a response's whole send, once the client stalls */
    uint64_t body_deadline_ns;     /* a request body's whole upload */

    bool help;    /* --help, -h */
    bool version; /* --version, -v */
    /* What the operator should hear of but that stops nothing: each line a
     * QGATE_ variable that names no setting (with the closest one). NULL:
     * none. main logs them. */
    char *warnings;
} qg_config;

/* Fills c from defaults, the config file (--config or QGATE_CONFIG), envp
 * and argv. Returns 0, or -1 with err (QG_E_PARAM-free: QG_E_INTERNAL with
 * a message naming the flag, variable or file line at fault). */
int qg_config_load(qg_config *c, int argc, char **argv, char **envp, qg_error *err);
void qg_config_free(qg_config *c);
/* Overwrites the value of --callback-secret in argv with 'x's, so that ps
 * and /proc/PID/cmdline show it no longer (they did until now: main warns).
 * Call after qg_config_load. */
void qg_config_scrub_argv(int argc, char **argv);
/* The --help text. */
void qg_config_usage(FILE *out);
/* Parses "64MiB", "16M", "1GiB", "4096" (binary multiples); -1 if invalid. */
int qg_parse_size(const char *s, uint64_t *out);

#endif
