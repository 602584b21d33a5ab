/*
 * callback: callback deliveries (see callback.h).
 *
 * DESIGN. A pending delivery is a cb_entry with a timer. Each attempt reads
 * the job from the store (so what is sent is what GET /status shows, and
 * nothing of a job is kept in memory between attempts), POSTs it, and
 * commits the outcome through the writer; only after that commit is the
 * next attempt armed, so the attempts counted on disk are never fewer
 * than the attempts that reached the receiver's answer. An entry whose
 * commit is still in the writer when deliveries stop is orphaned: the
 * commit's completion frees it.
 */
#include "modes/callback.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/hmac.h"
#include "core/log.h"
#include "core/mem.h"
#include "gateway/allow.h"
#include "gateway/client.h"
#include "gateway/url.h"
#include "modes/doc.h"
#include "store/jobs.h"
#include "store/writer.h"

typedef struct cb_entry {
    struct cb_entry *prev, *next;
    mode_callbacks *owner; /* NULL once orphaned */
    uint64_t id;
    struct event *timer;
    gw_client *client; /* the attempt in flight */
    bool committing;   /* its outcome is in the writer */
    uint32_t attempts; /* failed attempts before this one, as stored */
} cb_entry;

struct mode_callbacks {
    mode_env *env;
    cb_entry *head;
    size_t inflight;
    bool stopped;
};

uint64_t
mode_callback_backoff(uint64_t base_ns, uint64_t max_ns, uint32_t attempts)
{
    uint64_t d = base_ns;
    for (uint32_t i = 1; i < attempts && d < max_ns; i++)
        d = d > UINT64_MAX / 2 ? UINT64_MAX : d * 2;
    return d < max_ns ? d : max_ns;
}

static void
unlink_entry(mode_callbacks *cb, cb_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else if (cb->head == e)
        cb->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    e->prev = e->next = NULL;
}

static void
entry_free(cb_entry *e)
{
    if (e->timer)
        event_free(e->timer);
    free(e);
}

/* Done with a delivery (delivered, failed, or the job is gone). */
static void
drop(mode_callbacks *cb, cb_entry *e)
{
    unlink_entry(cb, e);
    entry_free(e);
}

static void
arm_at(cb_entry *e, uint64_t wall_ns)
{
    uint64_t now = qg_wall_ns();
    uint64_t d = wall_ns > now ? wall_ns - now : 0;
    struct timeval tv = {(time_t)(d / 1000000000u), (suseconds_t)(d % 1000000000u / 1000)};
    evtimer_add(e->timer, &tv);
}

static void
committed(store_op *op)
{
    cb_entry *e = op->arg;
    e->committing = false;
    mode_callbacks *cb = e->owner;
    if (!cb) {
        entry_free(e);
        store_op_free(op);
        return;
    }
    if (op->status != 0) {
        /* the outcome is not on disk: try again as if it had failed */
        qg_warn("callback of job %llu: cannot record the attempt: %s", (unsigned long long)e->id,
                op->err.msg);
        arm_at(e, qg_wall_ns() + cb->env->set.callback_backoff_ns);
    } else if (!op->found || op->job.cb_state != STORE_CB_PENDING) {
        drop(cb, e);
    } else {
        e->attempts = op->job.cb_attempts;
        arm_at(e, op->job.cb_next_ns);
    }
    store_op_free(op);
}

/* Commits the outcome of an attempt: state, attempts so far, error. */
static void
record(cb_entry *e, store_cb_state state, uint32_t attempts, const char *error)
{
    mode_callbacks *cb = e->owner;
    const mode_settings *cfg = &cb->env->set;
    uint64_t now = qg_wall_ns();
    store_op *op = store_op_new(STORE_OP_CALLBACK);
    op->job_id = e->id;
    op->job.cb_state = state;
    op->job.cb_attempts = attempts;
    op->job.cb_last_ns = now;
    if (state == STORE_CB_PENDING)
        op->job.cb_next_ns = now + mode_callback_backoff(cfg->callback_backoff_ns,
                                                         cfg->callback_backoff_max_ns, attempts);
    /* The record keeps the first 255 bytes (the status document repairs a
     * sequence this cuts). */
    snprintf(op->job.cb_error, sizeof(op->job.cb_error), "%.*s", (int)sizeof(op->job.cb_error) - 1,
             error ? error : "");
    op->done = committed;
    op->arg = e;
    e->committing = true;
    store_writer_submit(cb->env->writer, op);
}

static void
attempt_done(int status, const char *error, void *arg)
{
    cb_entry *e = arg;
    mode_callbacks *cb = e->owner;
    e->client = NULL;
    cb->inflight--;
    uint32_t attempts = e->attempts + 1;
    int max = cb->env->set.callback_retries;
    char why[300];
    if (status >= 200 && status < 300) {
        qg_info("callback of job %llu delivered (HTTP %d, attempt %u)", (unsigned long long)e->id,
                status, attempts);
        record(e, STORE_CB_DELIVERED, attempts, NULL);
        return;
    }
    if (status >= 300 && status < 400)
        snprintf(why, sizeof(why), "HTTP %d (redirects are not followed)", status);
    else if (status)
        snprintf(why, sizeof(why), "HTTP %d", status);
    else
        snprintf(why, sizeof(why), "%s", error);
    bool last = (int)attempts >= max;
    qg_warn("callback of job %llu: attempt %u of %d failed: %s%s", (unsigned long long)e->id,
            attempts, max, why, last ? "; giving up" : "");
    record(e, last ? STORE_CB_FAILED : STORE_CB_PENDING, attempts, why);
}

/* Gives up on a delivery that can never succeed. */
static void
refuse(cb_entry *e, uint32_t attempts, const char *why)
{
    qg_warn("callback of job %llu: %s; giving up", (unsigned long long)e->id, why);
    record(e, STORE_CB_FAILED, attempts, why);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
    cb_entry *e = arg;
    mode_callbacks *cb = e->owner;
    mode_env *env = cb->env;
    if (cb->inflight >= MODE_CALLBACK_INFLIGHT) {
        struct timeval tv = {0, 100000};
        evtimer_add(e->timer, &tv);
        return;
    }
    store_job j;
    qg_query q;
    store_job_init(&j);
    qg_query_init(&q);
    store_stmt *stmts = NULL;
    size_t n = 0;
    qg_buf body = QG_BUF_INIT;
    qg_error err;
    int found = store_jobs_read_query(env->store, e->id, &j, &q, &err);
    if (found < 0) {
        qg_warn("callback of job %llu: %s", (unsigned long long)e->id, err.msg);
        arm_at(e, qg_wall_ns() + env->set.callback_backoff_ns);
        goto out;
    }
    if (found == 0 || j.cb_state != STORE_CB_PENDING || store_state_active(j.state) ||
        !q.callback_url) {
        drop(cb, e);
        goto out;
    }
    e->attempts = j.cb_attempts;
    if (j.cb_next_ns > qg_wall_ns()) { /* resumed early (a restart): wait for it */
        arm_at(e, j.cb_next_ns);
        goto out;
    }
    gw_url u;
    if (gw_url_parse(q.callback_url, strlen(q.callback_url), &u) != 0) {
        refuse(e, j.cb_attempts, "the callback URL does not parse");
        goto out;
    }
    if (u.https) {
        refuse(e, j.cb_attempts, "https callbacks are not supported");
        goto out;
    }
    /* the list may have changed since the submission (a restart) */
    if (!env->callback_allow || !gw_allow_match(env->callback_allow, u.host, u.port)) {
        refuse(e, j.cb_attempts, "the host is not allowed by --callback-allow");
        goto out;
    }
    if (store_jobs_read_stmts(env->store, e->id, &stmts, &n, &err) != 0) {
        qg_warn("callback of job %llu: %s", (unsigned long long)e->id, err.msg);
        arm_at(e, qg_wall_ns() + env->set.callback_backoff_ns);
        goto out;
    }
    const char *base = q.handle_base ? q.handle_base : "";
    mode_doc_status d = {
        .job = &j,
        .q = &q,
        .stmts = stmts,
        .nstmts = n,
        .base = base,
        .base_len = strlen(base),
        .set = 0,
        .now_wall = qg_wall_ns(),
    };
    mode_doc_status_write(&body, &d);

    char job[24], attempt[16], ts[24], sig[80];
    snprintf(job, sizeof(job), "%llu", (unsigned long long)e->id);
    snprintf(attempt, sizeof(attempt), "%u", j.cb_attempts + 1);
    gw_header h[4] = {{"X-Qgate-Job", job}, {"X-Qgate-Attempt", attempt}};
    size_t nh = 2;
    const char *secret = env->set.callback_secret;
    if (secret && secret[0]) {
        snprintf(ts, sizeof(ts), "%llu", (unsigned long long)(qg_wall_ns() / 1000000000u));
        char hex[65];
        qg_hmac_sha256_hex(secret, strlen(secret), ts, strlen(ts), ".", 1, body.data, body.len,
                           hex);
        snprintf(sig, sizeof(sig), "sha256=%s", hex);
        h[nh++] = (gw_header){"X-Qgate-Timestamp", ts};
        h[nh++] = (gw_header){"X-Qgate-Signature", sig};
    }
    cb->inflight++;
    e->client = gw_client_post(env->base, env->dns, &u, h, nh, body.data, body.len,
                               env->set.callback_timeout_ns / 1000000, attempt_done, e);
out:
    store_stmts_free(stmts, n);
    qg_buf_free(&body);
    qg_query_free(&q);
    store_job_free(&j);
}

mode_callbacks *
mode_callbacks_new(mode_env *env)
{
    mode_callbacks *cb = qg_calloc(1, sizeof(*cb));
    cb->env = env;
    return cb;
}

void
mode_callbacks_due(mode_callbacks *cb, uint64_t id)
{
    if (!cb || cb->stopped)
        return;
    for (cb_entry *e = cb->head; e; e = e->next)
        if (e->id == id)
            return; /* already on its way */
    cb_entry *e = qg_calloc(1, sizeof(*e));
    e->owner = cb;
    e->id = id;
    e->timer = evtimer_new(cb->env->base, on_timer, e);
    e->next = cb->head;
    if (cb->head)
        cb->head->prev = e;
    cb->head = e;
    struct timeval now = {0, 0};
    evtimer_add(e->timer, &now);
}

int
mode_callbacks_start(mode_callbacks *cb, qg_error *err)
{
    uint64_t *ids;
    size_t n;
    if (store_jobs_pending_callbacks(cb->env->store, &ids, &n, err) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        mode_callbacks_due(cb, ids[i]);
    if (n)
        qg_info("callbacks: %zu pending deliver%s resumed", n, n == 1 ? "y" : "ies");
    free(ids);
    return 0;
}

void
mode_callbacks_stop(mode_callbacks *cb)
{
    if (!cb)
        return;
    cb->stopped = true;
    while (cb->head) {
        cb_entry *e = cb->head;
        unlink_entry(cb, e);
        if (e->client) {
            gw_client_cancel(e->client);
            e->client = NULL;
            cb->inflight--;
        }
        if (e->committing) {
            event_del(e->timer);
            e->owner = NULL; /* committed() frees it */
        } else {
            entry_free(e);
        }
    }
}

void
mode_callbacks_free(mode_callbacks *cb)
{
    if (!cb)
        return;
    mode_callbacks_stop(cb);
    free(cb);
}
