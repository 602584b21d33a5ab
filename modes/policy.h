/*
 * policy: what a principal may ask of the server, and its share of it.
 *
 * Every limit has a server value (a flag, mode_settings) that a line of
 * the auth file may override for one principal (gateway/auth.h). Anonymous
 * clients (no --auth-file) are one principal, "", with the server's values.
 * A request above a maximum is refused with a message that names the limit
 * and says what to do (docs/api.md, "Limits"). Loop thread.
 */
#ifndef QG_MODES_POLICY_H
#define QG_MODES_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/query.h"
#include "exec/sched.h"
#include "modes/env.h"

typedef struct mode_policy {
    const char *principal;   /* "" anonymous; lives as long as env */
    unsigned weight;         /* >= 1 */
    size_t max_queued;       /* async jobs not started; 0: none */
    unsigned max_running;    /* async jobs running at once; 0: none */
    uint64_t result_quota;   /* stored result bytes; 0: none */
    uint64_t timeout_ns;     /* default timeout; 0: none */
    uint64_t max_timeout_ns; /* 0: none */
} mode_policy;

/* The limits of principal (NULL or "": anonymous; a name the auth file
 * does not list counts as anonymous too). */
void mode_policy_of(const mode_env *env, const char *principal, mode_policy *out);
/* Gives q the default timeout when it has none (else the maximum, when
 * there is one); refuses a stored job (deferred, async) of a principal at
 * its result quota (429 ASX0925); and refuses (400 ASX0923,
 * counted in /metrics) a timeout, result-ttl or max-result-reads above
 * the maxima. Returns 0, or -1 with err. */
int mode_policy_check(const mode_env *env, const mode_policy *p, qg_query *q, qg_error *err);
/* 0 while a job of p that has written `own` bytes of pages not yet
 * committed may store more; else -1 with err (ASX0925): over the quota.
 * Any thread (a job's worker asks before each page). */
int mode_policy_quota(const mode_env *env, const mode_policy *p, uint64_t own, qg_error *err);
/* How a task of p is scheduled in lane. */
exec_sched_in mode_policy_sched(const mode_policy *p, exec_lane lane);

#endif
