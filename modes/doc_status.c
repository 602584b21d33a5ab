/*
 * doc_status: the status document of a stored job (see doc.h).
 */
#include <string.h>

#include "core/base64.h"
#include "core/json.h"
#include "modes/doc.h"

/* ,"name": */
static void
add_key(qg_buf *b, const char *name)
{
    qg_buf_addlit(b, ",\"");
    qg_buf_adds(b, name);
    qg_buf_addlit(b, "\":");
}

/* ,"name":"text" (text needs no escaping) */
static void
add_plain(qg_buf *b, const char *name, const char *text)
{
    add_key(b, name);
    qg_buf_addc(b, '"');
    qg_buf_adds(b, text);
    qg_buf_addc(b, '"');
}

/* ,"name":v */
static void
add_uint(qg_buf *b, const char *name, uint64_t v)
{
    add_key(b, name);
    qg_json_uint64(b, v);
}

static void
add_duration(qg_buf *b, const char *name, uint64_t ns)
{
    qg_buf_addc(b, ',');
    qg_env_duration(b, name, ns);
}

static void
add_time(qg_buf *b, const char *name, uint64_t wall_ns)
{
    char t[40];
    mode_doc_time(wall_ns, t);
    add_plain(b, name, t);
}

static void
add_handle(qg_buf *b, const mode_doc_status *d, const char *kind, uint32_t set)
{
    mode_doc_handle(b, d->base, d->base_len, kind, d->job->id, set);
}

static void
add_bound(qg_buf *b, const char *name, const store_bound *v)
{
    if (v->kind == STORE_V_NONE)
        return;
    add_key(b, name);
    switch (v->kind) {
    case STORE_V_BOOL:
    case STORE_V_NUMBER:
        /* digits as the writer rendered them; anything else as text */
        if (qg_json_number_valid(v->text, v->len) || strcmp(v->text, "true") == 0 ||
            strcmp(v->text, "false") == 0)
            qg_buf_add(b, v->text, v->len);
        else
            qg_json_string(b, v->text, v->len);
        break;
    case STORE_V_TEXT:
        qg_json_string(b, v->text, v->len);
        break;
    case STORE_V_BLOB:
        qg_buf_addc(b, '"');
        qg_base64_encode(b, v->text, v->len);
        qg_buf_addc(b, '"');
        break;
    case STORE_V_NONE:
        break;
    }
    if (v->cut) {
        qg_buf_addlit(b, ",\"");
        qg_buf_adds(b, name);
        qg_buf_addlit(b, "Truncated\":true");
    }
}

static void
add_columns(qg_buf *b, const store_stmt *s)
{
    qg_buf_addlit(b, ",\"columns\":[");
    for (uint32_t i = 0; i < s->ncols; i++) {
        const store_col *c = &s->cols[i];
        if (i)
            qg_buf_addc(b, ',');
        qg_buf_addlit(b, "{\"name\":");
        qg_json_string(b, c->name ? c->name : "", c->name ? strlen(c->name) : 0);
        if (c->type) {
            qg_buf_addlit(b, ",\"type\":");
            qg_json_string(b, c->type, strlen(c->type));
        }
        add_bound(b, "min", &c->min);
        add_bound(b, "max", &c->max);
        add_uint(b, "maxLength", c->max_len);
        add_uint(b, "nulls", c->nulls);
        qg_buf_addc(b, '}');
    }
    qg_buf_addc(b, ']');
}

static void
add_statements(qg_buf *b, const mode_doc_status *d)
{
    const store_stmt *v = d->stmts;
    size_t n = d->nstmts;
    if (d->live && d->live->stmts) {
        v = d->live->stmts;
        n = d->live->nstmts;
    }
    const store_job *j = d->job;
    bool ended = !store_state_active(j->state);
    const char *text = d->q ? d->q->statement : NULL;
    size_t tlen = d->q ? d->q->statement_len : 0;
    qg_buf_addlit(b, ",\"statements\":[");
    for (size_t i = 0; i < n; i++) {
        const store_stmt *s = &v[i];
        if (i)
            qg_buf_addc(b, ',');
        qg_buf_addlit(b, "{\"sequence\":");
        qg_json_uint64(b, i);
        qg_buf_addlit(b, ",\"statement\":");
        if (text && (size_t)s->off + s->len <= tlen)
            qg_json_string(b, text + s->off, s->len);
        else
            qg_buf_addlit(b, "null");
        add_plain(b, "state", store_stmt_state_name(s->state));
        if (s->start_ns)
            add_time(b, "startTime", s->start_ns);
        if (s->stop_ns)
            add_time(b, "stopTime", s->stop_ns);
        if (s->start_ns) {
            uint64_t stop = s->stop_ns ? s->stop_ns : d->now_wall;
            add_duration(b, "duration", stop > s->start_ns ? stop - s->start_ns : 0);
        }
        add_uint(b, "rows", s->rows);
        /* a set is there to read once the job has ended with it */
        if (s->set >= 0 && ended && (uint64_t)s->set < j->nsets) {
            qg_buf_addlit(b, ",\"handle\":");
            add_handle(b, d, "result", (uint32_t)s->set);
        }
        if (s->ncols)
            add_columns(b, s);
        if (s->state == STORE_STMT_ERROR || s->state == STORE_STMT_UNKNOWN) {
            if (s->error.code != QG_OK) {
                qg_buf_addc(b, ',');
                qg_env_errors(b, &s->error);
            }
        }
        qg_buf_addc(b, '}');
    }
    qg_buf_addc(b, ']');
}

static void
add_progress(qg_buf *b, const mode_doc_status *d)
{
    const store_job *j = d->job;
    const mode_progress *p = d->live;
    bool started = p ? p->started : j->state == STORE_RUNNING;
    uint64_t now = d->now_wall, created = j->created_ns;
    /* a started job's own record says when; the live view is ahead of it */
    uint64_t started_at = j->started_ns;
    if (started && !started_at)
        started_at = now;
    qg_buf_addlit(b, ",\"progress\":{\"state\":");
    qg_buf_adds(b, started ? "\"running\"" : "\"queued\"");
    add_duration(b, "elapsedTime", now > created ? now - created : 0);
    if (started) {
        add_duration(b, "queueWaitTime", started_at > created ? started_at - created : 0);
        add_duration(b, "executionTime", now > started_at ? now - started_at : 0);
    } else {
        add_duration(b, "queueWaitTime", now > created ? now - created : 0);
        add_duration(b, "executionTime", 0);
    }
    add_uint(b, "resultCount", p ? p->rows : 0);
    if (p && p->statement != SIZE_MAX)
        add_uint(b, "statement", p->statement);
    qg_buf_addc(b, '}');
}

void
mode_doc_progress(qg_buf *b, const mode_doc_status *d)
{
    add_progress(b, d);
}

static void
add_callback(qg_buf *b, const mode_doc_status *d)
{
    const store_job *j = d->job;
    qg_buf_addlit(b, ",\"callback\":{\"url\":");
    const char *url = d->q ? d->q->callback_url : NULL;
    if (url)
        qg_json_string(b, url, strlen(url));
    else
        qg_buf_addlit(b, "null");
    qg_buf_printf(b, ",\"state\":\"%s\",\"attempts\":%u", store_cb_state_name(j->cb_state),
                  j->cb_attempts);
    if (j->cb_last_ns)
        add_time(b, "lastAttempt", j->cb_last_ns);
    if (j->cb_state == STORE_CB_PENDING && j->cb_next_ns && !store_state_active(j->state))
        add_time(b, "nextAttempt", j->cb_next_ns);
    if (j->cb_error[0]) {
        qg_buf_addlit(b, ",\"lastError\":");
        qg_json_string(b, j->cb_error, strlen(j->cb_error));
    }
    qg_buf_addc(b, '}');
}

void
mode_doc_status_write(qg_buf *b, const mode_doc_status *d)
{
    const store_job *j = d->job;
    switch (j->state) {
    case STORE_QUEUED:
    case STORE_RUNNING:
        qg_buf_addlit(b, "{\"status\":\"running\"");
        break;
    case STORE_SUCCESS:
        qg_buf_addlit(b, "{\"status\":\"success\",\"handle\":");
        add_handle(b, d, "result", d->set);
        break;
    case STORE_FAILED:
    case STORE_TIMEOUT:
        qg_buf_printf(b, "{\"status\":\"%s\",", store_state_name(j->state));
        qg_env_errors(b, &j->error);
        break;
    }
    add_plain(b, "requestID", j->request_id);
    if (d->q && d->q->client_context_id) {
        qg_buf_addlit(b, ",\"clientContextID\":");
        qg_json_string(b, d->q->client_context_id, strlen(d->q->client_context_id));
    }
    if (store_state_active(j->state))
        add_progress(b, d);
    add_statements(b, d);
    if (j->cb_state != STORE_CB_NONE)
        add_callback(b, d);
    qg_buf_addlit(b, "}\n");
}
