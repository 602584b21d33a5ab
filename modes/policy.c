/* policy: a principal's limits and share (see policy.h). */
#include "modes/policy.h"

#include <stdio.h>

#include "core/duration.h"
#include "exec/pool.h"
#include "gateway/auth.h"
#include "store/results.h"

void
mode_policy_of(const mode_env *env, const char *principal, mode_policy *out)
{
    const mode_settings *s = &env->set;
    /* A name the auth file does not list (Trino's X-Trino-User without
     * --auth-file: the client names itself) is anonymous here: one flow,
     * one metrics label, one set of limits however many names it makes up;
     * and out never points into a request that may be freed first. */
    *out = (mode_policy){
        .principal = "",
        .weight = 1,
        .max_queued = s->principal_max_queued,
        .max_running = s->principal_max_running,
        .result_quota = s->principal_result_quota,
        .timeout_ns = s->default_timeout_ns,
        .max_timeout_ns = s->max_timeout_ns,
    };
    const gw_principal *p = principal && *principal ? gw_auth_find(env->auth, principal) : NULL;
    if (!p)
        return;
    out->principal = p->name;
    out->weight = p->weight ? p->weight : 1;
    if (p->max_queued >= 0)
        out->max_queued = (size_t)p->max_queued;
    if (p->max_running >= 0)
        out->max_running = (unsigned)p->max_running;
    if (p->result_quota >= 0)
        out->result_quota = (uint64_t)p->result_quota;
    if (p->timeout_ns >= 0)
        out->timeout_ns = (uint64_t)p->timeout_ns;
    if (p->max_timeout_ns >= 0)
        out->max_timeout_ns = (uint64_t)p->max_timeout_ns;
}

/* Refuses: "NAME VALUE is above the most this server allows, MAX (WHERE);
 * ask for at most MAX". */
static int
over(const mode_env *env, const mode_policy *p, exec_reject why, const char *name,
     const char *value, const char *max, const char *where, qg_error *err)
{
    char msg[512];
    snprintf(msg, sizeof(msg),
             "%s %s is above the most this server allows%s%s, %s (%s); ask for at most %s", name,
             value, p->principal[0] ? " principal " : "", p->principal, max, where, max);
    qg_error_set(err, QG_E_OVER_LIMIT, msg);
    exec_pool_reject(env->pool, p->principal, why);
    return -1;
}

int
mode_policy_quota(const mode_env *env, const mode_policy *p, uint64_t own, qg_error *err)
{
    if (!p->result_quota || !env->store)
        return 0;
    uint64_t used = store_usage_bytes(env->store, p->principal) + own;
    if (used < p->result_quota)
        return 0;
    char msg[512];
    snprintf(msg, sizeof(msg),
             "%s%s%s stores %llu bytes of results, its quota is %llu (%s); read or DELETE "
             "results it no longer needs (/query/service/result/N-M), or let them expire",
             p->principal[0] ? "principal '" : "anonymous clients", p->principal,
             p->principal[0] ? "'" : "", (unsigned long long)used,
             (unsigned long long)p->result_quota,
             p->principal[0] ? "result-quota= in the auth file, or --principal-result-quota"
                             : "--principal-result-quota");
    return qg_error_set(err, QG_E_QUOTA, msg);
}

int
mode_policy_check(const mode_env *env, const mode_policy *p, qg_query *q, qg_error *err)
{
    const mode_settings *s = &env->set;
    char v[QG_DURATION_MAX_TEXT], m[QG_DURATION_MAX_TEXT];
    if ((q->mode == QG_MODE_ASYNC || q->mode == QG_MODE_DEFERRED) &&
        mode_policy_quota(env, p, 0, err) != 0) {
        exec_pool_reject(env->pool, p->principal, EXEC_REJECT_QUOTA);
        return -1;
    }
    if (!q->timeout_ns)
        q->timeout_ns = p->timeout_ns ? p->timeout_ns : p->max_timeout_ns;
    if (p->max_timeout_ns && q->timeout_ns > p->max_timeout_ns) {
        qg_duration_format(q->timeout_ns, v);
        qg_duration_format(p->max_timeout_ns, m);
        return over(env, p, EXEC_REJECT_TIMEOUT, "timeout", v, m,
                    "--max-timeout, or max-timeout= of the principal in the auth file", err);
    }
    if (s->max_result_ttl_ns && q->result_ttl_ns > s->max_result_ttl_ns) {
        qg_duration_format(q->result_ttl_ns, v);
        qg_duration_format(s->max_result_ttl_ns, m);
        return over(env, p, EXEC_REJECT_RESULT_TTL, "result-ttl", v, m, "--max-result-ttl", err);
    }
    if (s->max_result_reads && q->max_result_reads > s->max_result_reads) {
        snprintf(v, sizeof(v), "%u", (unsigned)q->max_result_reads);
        snprintf(m, sizeof(m), "%u", (unsigned)s->max_result_reads);
        return over(env, p, EXEC_REJECT_RESULT_READS, "max-result-reads", v, m,
                    "--max-result-reads", err);
    }
    return 0;
}

exec_sched_in
mode_policy_sched(const mode_policy *p, exec_lane lane)
{
    return (exec_sched_in){
        .lane = lane,
        .principal = p->principal,
        .weight = p->weight,
        .max_running = p->max_running,
    };
}
