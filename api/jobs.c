/*
 * jobs: GET /query/service/jobs, the caller's recent stored jobs.
 *
 * Lists the deferred and async jobs of the request's principal (with
 * --auth-file; without it every client is one principal), newest first,
 * by the job engine's mode_job_list (the store's owners index,
 * store/owners.h, and each live job's progress): never another
 * principal's, never a walk of the whole store. Query string: `limit`
 * (1 to API_JOBS_MAX, default API_JOBS_DEFAULT) and `before` (a job number:
 * only older jobs; the answer's `nextBefore`). Bad values: 400 ASX0047
 * with the expected form. Each job: jobId, handle (its status), mode,
 * status (AsterixDB's word), state, requestID, clientContextID,
 * statement (cut to API_JOBS_TEXT bytes, flagged), submitTime, startTime,
 * stopTime, expireTime, progress (queued or running: as GET /status
 * shows it), resultCount and results (each set's rows, reads left and
 * handle) once ended, errors when it failed. docs/api.md has the
 * document. Loop thread.
 */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/params.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/envelope.h"
#include "core/json.h"
#include "gateway/base.h"
#include "gateway/reply.h"
#include "modes/doc.h"
#include "modes/job.h"

#define API_JOBS_DEFAULT 20
#define API_JOBS_MAX     100
/* bytes of a statement (and a client context id) a listing shows */
#define API_JOBS_TEXT 256

typedef struct jobs_params {
    uint64_t limit, before;
} jobs_params;

/* The value as a client may see it again: printable ASCII, else "?". */
static const char *
shown(const char *v, size_t n)
{
    if (n > 64)
        return "?";
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
            return "?";
    return v;
}

static int
bad(qg_error *err, const char *name, const char *v, size_t n, const char *want)
{
    char text[160];
    snprintf(text, sizeof(text), "%s (%s)", shown(v, n), want);
    return qg_error_set(err, QG_E_PARAM, name, text);
}

/* limit and before from the query string: first value wins, unknown
 * names are ignored. Returns 0, or -1 with err (ASX0047). */
static int
parse(const char *s, size_t len, jobs_params *p, qg_error *err)
{
    p->limit = API_JOBS_DEFAULT;
    p->before = 0;
    bool seen_limit = false, seen_before = false;
    qg_arena a = QG_ARENA_INIT;
    int rc = 0;
    size_t i = 0;
    while (s && rc == 0 && i < len) {
        const char *amp = memchr(s + i, '&', len - i);
        size_t end = amp ? (size_t)(amp - s) : len;
        const char *eq = memchr(s + i, '=', end - i);
        size_t kend = eq ? (size_t)(eq - s) : end;
        char *key, *val = "";
        size_t kl, vl = 0;
        if (api_form_decode(&a, s + i, kend - i, &key, &kl) != 0 ||
            (eq && api_form_decode(&a, eq + 1, end - kend - 1, &val, &vl) != 0)) {
            rc = qg_error_set(err, QG_E_PARAM, "<query string>",
                              "<bad escape> (a % must be followed by two hex digits)");
            break;
        }
        uint64_t u;
        if (kl == 5 && memcmp(key, "limit", 5) == 0 && !seen_limit) {
            seen_limit = true;
            if (!qg_parse_uint64(val, vl, API_JOBS_MAX, &u) || u == 0)
                rc = bad(err, "limit", val, vl, "an integer from 1 to 100, e.g. limit=20");
            else
                p->limit = u;
        } else if (kl == 6 && memcmp(key, "before", 6) == 0 && !seen_before) {
            seen_before = true;
            if (!qg_parse_uint64(val, vl, INT64_MAX, &u) || u == 0)
                rc = bad(err, "before", val, vl,
                         "a job number, as nextBefore of the previous answer gives it");
            else
                p->before = u;
        }
        i = end + 1;
    }
    qg_arena_free(&a);
    return rc;
}

/* ,"name":"handle" of job's set (kind "status" or "result") */
static void
add_handle(qg_buf *b, const char *name, const qg_buf *base, const char *kind, uint64_t job,
           uint32_t set)
{
    qg_buf_printf(b, ",\"%s\":", name);
    mode_doc_handle(b, base->data, base->len, kind, job, set);
}

static void
add_time(qg_buf *b, const char *name, uint64_t wall_ns)
{
    if (!wall_ns)
        return;
    char t[40];
    mode_doc_time(wall_ns, t);
    qg_buf_printf(b, ",\"%s\":\"%s\"", name, t);
}

static void
add_text(qg_buf *b, const char *name, const char *s, size_t n, bool cut)
{
    qg_buf_printf(b, ",\"%s\":", name);
    qg_json_string(b, s, n);
    if (cut)
        qg_buf_printf(b, ",\"%sTruncated\":true", name);
}

/* The sets of an ended job: results, resultCount. */
static void
add_sets(qg_buf *b, const store_job *j, const qg_buf *base)
{
    uint64_t rows = 0;
    qg_buf_addlit(b, ",\"results\":[");
    for (uint32_t s = 0; s < j->nsets; s++) {
        const store_set *set = &j->sets[s];
        rows += set->rows;
        qg_buf_printf(b, "%s{\"set\":%u,\"rows\":", s ? "," : "", s);
        qg_json_uint64(b, set->rows);
        qg_buf_printf(b, ",\"readsLeft\":%u", set->reads_left);
        if (set->reads_left)
            add_handle(b, "handle", base, "result", j->id, s);
        qg_buf_addc(b, '}');
    }
    qg_buf_addlit(b, "],\"resultCount\":");
    qg_json_uint64(b, rows);
}

/* One job; live is what its worker is doing, or NULL. */
static void
add_job(qg_buf *b, const store_listed *l, const mode_progress *live, const qg_buf *base,
        uint64_t now)
{
    const store_job *j = &l->job;
    bool active = store_state_active(j->state);
    const char *state = store_state_name(j->state);
    if (j->state == STORE_QUEUED && live && live->started)
        state = "running";
    qg_buf_addlit(b, "{\"jobId\":");
    qg_json_uint64(b, j->id);
    add_handle(b, "handle", base, "status", j->id, 0);
    qg_buf_printf(b, ",\"mode\":\"%s\",\"status\":\"%s\",\"state\":\"%s\",\"requestID\":\"%s\"",
                  qg_mode_name(j->mode), active ? "running" : store_state_name(j->state), state,
                  j->request_id);
    if (l->ctx)
        add_text(b, "clientContextID", l->ctx, l->ctx_len, l->ctx_cut);
    add_text(b, "statement", l->statement, l->statement_len, l->statement_cut);
    add_time(b, "submitTime", j->created_ns);
    add_time(b, "startTime", j->started_ns);
    add_time(b, "stopTime", j->finished_ns);
    add_time(b, "expireTime", j->expires_ns);
    if (active) {
        mode_doc_status d = {.job = j, .live = live, .now_wall = now};
        mode_doc_progress(b, &d);
    } else {
        add_sets(b, j, base);
    }
    if (j->state == STORE_FAILED || j->state == STORE_TIMEOUT) {
        qg_buf_addc(b, ',');
        qg_env_errors(b, &j->error);
    }
    qg_buf_addc(b, '}');
}

void
api_jobs(gw_req *req, void *arg)
{
    api_env *env = arg;
    qg_error err;
    jobs_params p;
    if (parse(req->query, req->query_len, &p, &err) != 0) {
        gw_reply_error(req, &err, NULL);
        return;
    }
    qg_buf base = QG_BUF_INIT, b = QG_BUF_INIT;
    if (gw_base_url(req, env->modes->handles, &base, &err) != 0) {
        gw_reply_error(req, &err, NULL);
        qg_buf_free(&base);
        return;
    }
    uint64_t now = qg_wall_ns();
    store_list_opts o = {
        .principal = req->principal,
        .before = p.before,
        .limit = p.limit,
        /* room for jobs that expired but are not swept yet (the sweep
         * runs every second), never more than this */
        .examine = p.limit * 2 + 64,
        .text_max = API_JOBS_TEXT,
        .now_ns = now,
    };
    mode_listing l;
    if (mode_job_list(env->modes, &o, &l, &err) != 0) {
        gw_reply_error(req, &err, NULL);
        qg_buf_free(&base);
        return;
    }
    qg_buf_addlit(&b, "{\"jobs\":[");
    for (size_t i = 0; i < l.n; i++) {
        if (i)
            qg_buf_addc(&b, ',');
        add_job(&b, &l.jobs[i], l.live[i].live ? &l.live[i].progress : NULL, &base, now);
    }
    qg_buf_addlit(&b, "],\"limit\":");
    qg_json_uint64(&b, p.limit);
    if (l.next) {
        qg_buf_addlit(&b, ",\"nextBefore\":");
        qg_json_uint64(&b, l.next);
    }
    qg_buf_addlit(&b, "}\n");
    gw_reply_json(req, 200, &b);
    mode_listing_free(&l);
    qg_buf_free(&base);
    qg_buf_free(&b);
}
