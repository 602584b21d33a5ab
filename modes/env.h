/*
 * env: what the modes and the job engine work with, and nothing more: the
 * loop, the two executor pools, the backend, the job store and its writer,
 * the registry of running requests, the jobs, the callbacks, how handle
 * URLs are built, and the few settings they read.
 *
 * daemon/ fills it at start-up (the parts are created in order: the store,
 * the pools, then the registry, jobs and callbacks, which get a pointer to
 * this env), and it is then read-only: the loop thread reads it; a worker
 * reads only `backend` and `set`, which are fixed before any task runs.
 */
#ifndef QG_MODES_ENV_H
#define QG_MODES_ENV_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct evdns_base;
struct exec_backend;
struct exec_pool;
struct store_env;
struct store_writer;
struct gw_allow;
struct gw_auth;
struct gw_base_conf;
struct mode_registry;
struct mode_jobs;
struct mode_callbacks;

/* The settings the modes read (from core/config's qg_config). */
typedef struct mode_settings {
    uint64_t max_result_bytes;    /* --max-result-bytes: result text of one request; 0: no limit */
    uint64_t result_ttl_ns;       /* --result-ttl: a stored result's default lifetime */
    uint64_t idempotency_ttl_ns;  /* --idempotency-ttl */
    size_t max_queued;            /* --max-queued: async jobs accepted and not started; 0: none */
    uint64_t stream_heartbeat_ns; /* mode=stream's default HEARTBEAT interval; 0: none */
    const char *callback_secret;  /* HMAC key of callback deliveries; "": unsigned */
    int callback_retries;         /* attempts before a delivery fails */
    uint64_t callback_backoff_ns; /* wait after the first failed attempt, doubling */
    uint64_t callback_backoff_max_ns;
    uint64_t callback_timeout_ns; /* one attempt */
    /* per principal, unless the auth file says otherwise (modes/policy.h) */
    size_t principal_max_queued;     /* async jobs not started; 0: none */
    unsigned principal_max_running;  /* async jobs running; 0: none */
    uint64_t principal_result_quota; /* stored result bytes; 0: none */
    uint64_t default_timeout_ns;     /* a request's timeout when it gives none; 0: none */
    uint64_t max_timeout_ns;         /* 0: no limit */
    uint64_t max_result_ttl_ns;      /* 0: no limit */
    uint32_t max_result_reads;       /* 0: no limit */
} mode_settings;

typedef struct mode_env {
    struct event_base *base;
    struct exec_pool *pool;                /* runs requests and jobs */
    struct exec_pool *checker;             /* compiles async submissions before they are accepted */
    const struct exec_backend *backend;    /* the database's: splits a job's text into statements */
    struct store_env *store;               /* the job store */
    struct store_writer *writer;           /* its one writer thread */
    struct mode_registry *running;         /* requests in flight, for /admin and cancels */
    struct mode_jobs *jobs;                /* deferred and async jobs */
    struct mode_callbacks *callbacks;      /* callback deliveries */
    const struct gw_base_conf *handles;    /* how the base URL of handles is built */
    const struct gw_allow *callback_allow; /* hosts a callback_url may name; empty: off */
    const struct gw_auth *auth;            /* the principals and their limits; NULL: off */
    struct evdns_base *dns;                /* name look-ups of callbacks, on the loop */
    mode_settings set;
} mode_env;

#endif
