/*
 * trino: Trino's client protocol's endpoints (see trino.h; docs/trino.md).
 *
 * Principal: with --auth-file, the bearer token's (the router checked it);
 * without, X-Trino-User's. A query is visible, pollable and cancellable
 * only by its principal: the job engine's reads and cancels take it, and
 * anyone else's GET or DELETE is a 404.
 *
 * Long poll: a GET of a query that is queued or running here waits up to
 * API_TRINO_WAIT_MS for it to end, looking again every
 * API_TRINO_TICK_MS (a read of its record), then answers with its state
 * and the same nextUri. A client that leaves ends the wait.
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/trino.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/mem.h"
#include "exec/backend.h"
#include "gateway/base.h"
#include "gateway/reply.h"
#include "modes/policy.h"
#include "modes/result.h"

#define API_TRINO_WAIT_MS 1000
#define API_TRINO_TICK_MS 10

static void
reply_doc(gw_req *req, int status, qg_buf *b)
{
    if (status == 503) {
        const gw_header retry = {"Retry-After", "1"};
        gw_reply(req, status, GW_JSON, b->data, b->len, &retry, 1);
    } else {
        gw_reply(req, status, GW_JSON, b->data, b->len, NULL, 0);
    }
}

static void
reply_error(gw_req *req, const qg_error *err)
{
    qg_buf b = QG_BUF_INIT;
    int st = api_trino_error_doc(&b, err);
    reply_doc(req, st, &b);
    qg_buf_free(&b);
}

/* The principal of req (see above), or NULL after answering 400. */
static const char *
principal_of(gw_req *req)
{
    if (req->principal)
        return req->principal;
    const char *user = gw_req_header(req, "X-Trino-User");
    qg_error err;
    if (!user || !user[0]) {
        qg_error_set(&err, QG_E_PARAM, "X-Trino-User",
                     "the header is required: send X-Trino-User: <your name> (Trino clients "
                     "send it from their user setting)");
        reply_error(req, &err);
        return NULL;
    }
    if (strlen(user) >= sizeof(((store_job *)0)->principal) || !qg_utf8_valid(user, strlen(user))) {
        qg_error_set(&err, QG_E_PARAM, "X-Trino-User", "at most 63 bytes of UTF-8");
        reply_error(req, &err);
        return NULL;
    }
    return user;
}

/* "N_NODE[/TOKEN]" of s into *job (and *token). 0, or -1. */
static int
parse_id(const char *s, uint64_t *job, uint32_t *token, bool want_token)
{
    const char *us = strchr(s, '_');
    if (!us || !qg_parse_uint64(s, (size_t)(us - s), INT64_MAX, job) || *job == 0)
        return -1;
    const char *slash = strchr(us, '/');
    if (!want_token)
        return slash ? -1 : 0;
    uint64_t t;
    if (!slash || !qg_parse_uint64(slash + 1, strlen(slash + 1), UINT32_MAX, &t))
        return -1;
    *token = (uint32_t)t;
    return 0;
}

/* --- POST /v1/statement ---------------------------------------------------------- */

static api_trino_dialect
dialect_of(const api_env *env)
{
    const char *n = env->modes->backend ? env->modes->backend->name : "sqlite";
    return strcmp(n, "postgresql") == 0 ? API_TRINO_POSTGRES : API_TRINO_SQLITE;
}

/* The statement of req's body into q, a catalog statement rewritten. 0;
 * -1 with err when the body is not a statement; -2 with err when it is a
 * statement in error (a catalog statement naming something impossible). */
static int
statement_of(api_env *env, gw_req *req, qg_query *q, qg_error *err)
{
    const char *p = req->body.data ? req->body.data : "";
    size_t n = req->body.len;
    if (env->max_statement && n > env->max_statement) {
        char lim[24];
        snprintf(lim, sizeof(lim), "%llu", (unsigned long long)env->max_statement);
        return qg_error_set(err, QG_E_BODY_TOO_LARGE, lim);
    }
    if (memchr(p, '\0', n) || !qg_utf8_valid(p, n))
        return qg_error_set(err, QG_E_PARAM, "statement",
                            "the body must be UTF-8 text without NULs");
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    if (i == n)
        return qg_error_set(err, QG_E_NO_STATEMENT);
    qg_buf show = QG_BUF_INIT;
    int r = api_trino_show(p, n, dialect_of(env), &show, err);
    if (r < 0) {
        qg_buf_free(&show);
        return -2;
    }
    if (r > 0) {
        q->statement = qg_arena_memdup0(&q->arena, show.data, show.len);
        q->statement_len = show.len;
    } else {
        q->statement = qg_arena_memdup0(&q->arena, p, n);
        q->statement_len = n;
    }
    qg_buf_free(&show);
    return 0;
}

void
api_trino_statement(gw_req *req, void *arg)
{
    api_env *env = arg;
    qg_error err;
    if (env->draining) {
        qg_error_set(&err, QG_E_DRAINING);
        reply_error(req, &err);
        return;
    }
    const char *who = principal_of(req);
    if (!who)
        return;
    size_t limit = env->modes->set.max_queued;
    if (limit && mode_jobs_queued(env->modes->jobs) >= limit) {
        /* the engine checks again (and answers AsterixDB's way); this one
         * answers a Trino client in its own terms */
        char lim[24];
        snprintf(lim, sizeof(lim), "%zu", limit);
        qg_error_set(&err, QG_E_OVERLOADED, lim);
        reply_error(req, &err);
        return;
    }
    qg_query q;
    qg_query_init(&q);
    q.mode = QG_MODE_ASYNC;
    q.format = QG_FORMAT_TRINO;
    q.multi_statement = false; /* one statement a query, as in Trino */
    q.readonly = req->principal_readonly;
    qg_buf base = QG_BUF_INIT;
    int rc = gw_base_url(req, env->modes->handles, &base, &err);
    if (rc == 0)
        rc = statement_of(env, req, &q, &err);
    if (rc == 0) {
        /* the principal's limits, as on /query/service: its default and
         * largest timeout, its result quota */
        mode_policy pol;
        mode_policy_of(env->modes, who, &pol);
        rc = mode_policy_check(env->modes, &pol, &q, &err);
    }
    if (rc != 0) {
        qg_buf b = QG_BUF_INIT;
        if (rc == -2) /* as the engine's refusals: the client reads it next */
            api_trino_refused(base.data, &err, &b), reply_doc(req, 200, &b);
        else
            reply_error(req, &err);
        qg_buf_free(&b);
        qg_buf_free(&base);
        qg_query_free(&q);
        return;
    }
    char rid[QG_UUID_LEN + 1];
    qg_uuid_v4(rid);
    gw_req_log(req, "trino", rid, NULL);
    mode_job_init in = {
        .request_id = rid,
        .base = base.data,
        .recv_ns = req->start_ns,
        .principal = who,
        .req = req,
        .answer = api_trino_answer,
        /* a person's client polls it: it never queues behind batch work */
        .lane = MODE_LANE_INTERACTIVE,
    };
    mode_job *j = mode_job_new(env->modes, &q, &in);
    qg_buf_free(&base);
    mode_job_accept(j);
}

/* --- GET nextUri ----------------------------------------------------------------- */

typedef struct poll {
    api_env *env;
    gw_req *req;
    uint64_t job;
    uint32_t token;
    char principal[64];
    uint64_t deadline_ns; /* monotonic: the long poll ends */
    struct event *tick;
} poll;

/* The columns' statement: the one that stored set 0. */
static const store_stmt *
set_stmt(const mode_job_view *v)
{
    for (size_t i = 0; i < v->nstmts; i++)
        if (v->stmts[i].set == 0)
            return &v->stmts[i];
    return v->nstmts ? &v->stmts[v->nstmts - 1] : NULL;
}

typedef struct page_out {
    qg_buf text;
} page_out;

static void
take_page(const store_page *pg, void *arg)
{
    page_out *o = arg;
    size_t i = 0;
    /* a page after the first begins with the separator of its first row */
    while (i < pg->len && (pg->text[i] == ',' || pg->text[i] == '\n' || pg->text[i] == ' '))
        i++;
    qg_buf_add(&o->text, pg->text + i, pg->len - i);
}

/* Page token of the job's set 0 into o. 1, 0 gone, -1 err. */
static int
read_page(poll *p, uint64_t now, page_out *o, qg_error *err)
{
    store_job j;
    store_job_init(&j);
    int rc = mode_result_check(p->env->modes, p->job, 0, p->principal, now, &j, err);
    store_job_free(&j);
    if (rc <= 0)
        return rc;
    mode_read *r = mode_read_begin(p->env->modes, p->job, 0, now, false, NULL, NULL);
    rc = mode_read_page(r, p->token, take_page, o, err);
    mode_read_end(r);
    return rc;
}

static const char *
state_of(const mode_job_view *v)
{
    switch (v->job.state) {
    case STORE_QUEUED:
        /* a worker may have taken it, but until its running state is
         * committed nothing of it ran (a restart queues it again) */
        return "QUEUED";
    case STORE_RUNNING:
        return "RUNNING";
    case STORE_SUCCESS:
        return "FINISHED";
    default:
        return "FAILED";
    }
}

static uint64_t
ms_between(uint64_t a, uint64_t b)
{
    return b > a && a ? (b - a) / 1000000 : 0;
}

/* Answers p's GET from v (an ended job, or the long poll is over). */
static void
answer(poll *p, const mode_job_view *v, uint64_t now)
{
    qg_buf base = QG_BUF_INIT, b = QG_BUF_INIT;
    page_out o = {QG_BUF_INIT};
    qg_error err;
    char node[40], utype[32];
    if (gw_base_url(p->req, p->env->modes->handles, &base, &err) != 0) {
        reply_error(p->req, &err);
        goto out;
    }
    api_trino_node(base.data, node);
    const store_job *j = &v->job;
    bool ended = j->state != STORE_QUEUED && j->state != STORE_RUNNING;
    api_trino_doc d = {
        .base = base.data,
        .job = p->job,
        .node = node,
        .state = state_of(v),
        .next_token = p->token,
        .has_next = !ended,
        .stmt = set_stmt(v),
        .update_count = -1,
        .elapsed_ms = ms_between(j->created_ns, j->finished_ns ? j->finished_ns : now),
        .queued_ms = ms_between(j->created_ns, j->started_ns ? j->started_ns : now),
        .cpu_ms = j->metrics.execution_ns / 1000000,
        .processed_rows = v->live ? v->progress.rows : j->metrics.result_count,
        .processed_bytes = j->metrics.result_size,
        .progress = ended ? 100 : -1,
    };
    if (j->state == STORE_SUCCESS && !j->queries) {
        const char *sql = v->q.statement ? v->q.statement : "";
        if (!api_trino_update_type(sql, strlen(sql), utype))
            snprintf(utype, sizeof(utype), "UNKNOWN");
        d.update_type = utype;
        /* the rows a write changed; other statements have no count */
        bool counted = strcmp(utype, "INSERT") == 0 || strcmp(utype, "UPDATE") == 0 ||
                       strcmp(utype, "DELETE") == 0 || strcmp(utype, "MERGE") == 0;
        d.update_count = counted && d.stmt ? (int64_t)d.stmt->rows : -1;
    } else if (j->state == STORE_SUCCESS && j->nsets > 0 && j->sets[0].pages > 0) {
        uint32_t pages = j->sets[0].pages;
        if (p->token >= pages) {
            gw_reply_empty(p->req, 404);
            goto out;
        }
        int rc = read_page(p, now, &o, &err);
        if (rc < 0) {
            reply_error(p->req, &err);
            goto out;
        }
        if (rc == 0) {
            gw_reply_empty(p->req, 404); /* the result went (expired, discarded) */
            goto out;
        }
        d.data = o.text.data ? o.text.data : "";
        d.data_len = o.text.len;
        d.has_next = p->token + 1 < pages;
        d.next_token = p->token + 1;
    } else if (j->state != STORE_SUCCESS && ended) {
        d.err = &j->error;
    }
    qg_buf_reserve(&b, 1024 + o.text.len);
    api_trino_doc_write(&b, &d);
    gw_reply_json(p->req, 200, &b);
out:
    qg_buf_free(&base);
    qg_buf_free(&b);
    qg_buf_free(&o.text);
}

/* Whether job v is a query of this protocol (an AsterixDB job's pages are
 * not Trino's rows: to these endpoints it does not exist). */
static bool
is_query(const mode_job_view *v)
{
    return v->job.format == QG_FORMAT_TRINO;
}

/* Frees p. The request is not touched: it was answered (after its on_gone
 * was cleared) or it is gone. */
static void
poll_free(poll *p)
{
    event_free(p->tick);
    free(p);
}

/* Looks at p's query: answers (and frees p) unless it should wait on. */
static void
serve(poll *p)
{
    mode_job_view v;
    qg_error err;
    uint64_t now = qg_wall_ns();
    /* v is freed whatever the read found (it may hold what it read of
     * another principal's job) */
    int found = mode_job_view_read(p->env->modes, p->job, p->principal, now, &v, &err);
    if (found > 0 && !is_query(&v))
        found = 0;
    if (found > 0) {
        bool waiting = v.job.state == STORE_QUEUED || v.job.state == STORE_RUNNING;
        if (waiting && v.live && qg_now_ns() < p->deadline_ns && !p->env->draining) {
            mode_job_view_free(&v);
            struct timeval tv = {0, API_TRINO_TICK_MS * 1000};
            evtimer_add(p->tick, &tv);
            return;
        }
    }
    /* answering: the request is ours to finish, and gone afterwards */
    gw_req_on_gone(p->req, NULL, NULL);
    if (found < 0)
        reply_error(p->req, &err);
    else if (found == 0)
        gw_reply_empty(p->req, 404);
    else
        answer(p, &v, now);
    mode_job_view_free(&v);
    poll_free(p);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    serve(arg);
}

static void
on_gone(gw_req *req)
{
    poll_free(gw_req_data(req));
}

/* DELETE: cancels who's query job. 204 when it will end cancelled or had
 * ended already; 404 when who has no such query. */
static void
cancel(api_env *env, gw_req *req, uint64_t job, const char *who)
{
    mode_job_view v;
    qg_error err;
    int found = mode_job_view_read(env->modes, job, who, qg_wall_ns(), &v, &err);
    bool query = found > 0 && is_query(&v);
    mode_job_view_free(&v); /* whatever the read found */
    if (found < 0) {
        reply_error(req, &err);
        return;
    }
    if (!query) {
        gw_reply_empty(req, 404);
        return;
    }
    /* 1: it will end cancelled; 0: not queued or running here (it ended);
     * -1: it was committing its own end. Either way there is nothing
     * left to stop. */
    mode_job_cancel(env->modes, job, who);
    gw_reply_empty(req, 204);
}

void
api_trino_executing(gw_req *req, void *arg)
{
    api_env *env = arg;
    uint64_t job;
    uint32_t token;
    const char *who = principal_of(req);
    if (!who)
        return;
    if (parse_id(req->route_rest, &job, &token, true) != 0) {
        gw_reply_empty(req, 404);
        return;
    }
    if (req->method == GW_M_DELETE) {
        cancel(env, req, job, who);
        return;
    }
    poll *p = qg_calloc(1, sizeof(*p));
    p->env = env;
    p->req = req;
    p->job = job;
    p->token = token;
    snprintf(p->principal, sizeof(p->principal), "%s", who);
    p->deadline_ns = qg_now_ns() + (uint64_t)API_TRINO_WAIT_MS * 1000000;
    p->tick = evtimer_new(env->modes->base, on_tick, p);
    gw_req_on_gone(req, on_gone, p);
    serve(p);
}

/* --- /v1/query/ID and /v1/info ----------------------------------------------- */

void
api_trino_query(gw_req *req, void *arg)
{
    api_env *env = arg;
    uint64_t job;
    uint32_t token = 0;
    const char *who = principal_of(req);
    if (!who)
        return;
    if (parse_id(req->route_rest, &job, &token, false) != 0) {
        gw_reply_empty(req, 404);
        return;
    }
    if (req->method == GW_M_DELETE) {
        cancel(env, req, job, who);
        return;
    }
    mode_job_view v;
    qg_error err;
    int found = mode_job_view_read(env->modes, job, who, qg_wall_ns(), &v, &err);
    if (found > 0 && !is_query(&v))
        found = 0;
    if (found <= 0) {
        mode_job_view_free(&v); /* whatever the read found */
        if (found < 0)
            reply_error(req, &err);
        else
            gw_reply_empty(req, 404);
        return;
    }
    qg_buf b = QG_BUF_INIT, base = QG_BUF_INIT;
    char node[40];
    if (gw_base_url(req, env->modes->handles, &base, &err) != 0) {
        reply_error(req, &err);
        goto out;
    }
    api_trino_node(base.data, node);
    qg_buf_printf(&b,
                  "{\"queryId\":\"%llu_%s\",\"state\":\"%s\",\"query\":", (unsigned long long)job,
                  node, state_of(&v));
    qg_json_string(&b, v.q.statement ? v.q.statement : "",
                   v.q.statement ? strlen(v.q.statement) : 0);
    qg_buf_addlit(&b, ",\"session\":{\"user\":");
    qg_json_string(&b, who, strlen(who));
    qg_buf_printf(&b, "},\"self\":\"%s/v1/query/%llu_%s\",\"scheduled\":%s", base.data,
                  (unsigned long long)job, node, v.job.started_ns ? "true" : "false");
    if (v.job.state != STORE_SUCCESS && v.job.state != STORE_QUEUED &&
        v.job.state != STORE_RUNNING) {
        qg_buf_addlit(&b, ",\"failureInfo\":{\"message\":");
        qg_json_string(&b, v.job.error.msg, strlen(v.job.error.msg));
        qg_buf_addc(&b, '}');
    }
    qg_buf_addc(&b, '}');
    gw_reply_json(req, 200, &b);
out:
    qg_buf_free(&b);
    qg_buf_free(&base);
    mode_job_view_free(&v);
}

void
api_trino_failed(gw_req *req, void *arg)
{
    (void)arg;
    if (!principal_of(req))
        return;
    if (req->method == GW_M_DELETE) {
        gw_reply_empty(req, 204); /* nothing runs, nothing is kept */
        return;
    }
    const char *rest = req->route_rest, *slash = strchr(rest, '/');
    qg_buf b = QG_BUF_INIT;
    if (!slash ||
        api_trino_refused_doc(&b, rest, (size_t)(slash - rest), slash + 1, strlen(slash + 1)) != 0)
        gw_reply_empty(req, 404);
    else
        gw_reply_json(req, 200, &b);
    qg_buf_free(&b);
}

void
api_trino_info(gw_req *req, void *arg)
{
    api_env *env = arg;
    qg_buf b = QG_BUF_INIT;
    uint64_t up = (qg_wall_ns() - env->start_wall_ns) / 1000000;
    qg_buf_printf(&b,
                  "{\"nodeVersion\":{\"version\":\"qgate-%s\"},\"environment\":\"qgate\","
                  "\"coordinator\":true,\"starting\":%s,\"uptime\":\"%llu.%03llus\"}",
                  QGATE_VERSION, env->draining ? "true" : "false", (unsigned long long)(up / 1000),
                  (unsigned long long)(up % 1000));
    gw_reply_json(req, env->draining ? 503 : 200, &b);
    qg_buf_free(&b);
}
