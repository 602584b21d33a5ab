/*
 * doc: AsterixDB's documents (see doc.h); the status document is in
 * doc_status.c.
 */
#include "modes/doc.h"

#include <string.h>

#include "core/json.h"
#include "exec/rows.h"
#include "modes/handle.h"

void
mode_doc_head(qg_buf *b, const char *request_id, const char *client_context_id, qg_format format,
              bool csv_header)
{
    qg_buf_addlit(b, "{\"requestID\":\"");
    qg_buf_adds(b, request_id);
    qg_buf_addc(b, '"');
    if (client_context_id) {
        qg_buf_addlit(b, ",\"clientContextID\":");
        qg_json_string(b, client_context_id, strlen(client_context_id));
    }
    if (format == QG_FORMAT_CSV) {
        if (csv_header)
            qg_buf_addlit(b, ",\"type\":\"text/csv; header=present\"");
        else
            qg_buf_addlit(b, ",\"type\":\"text/csv; header=absent\"");
    }
}

void
mode_doc_head_of(qg_buf *b, const char *request_id, const qg_query *q)
{
    mode_doc_head(b, request_id, q->client_context_id, q->format, q->csv_header);
}

void
mode_doc_signature(qg_buf *b)
{
    qg_buf_addlit(b, ",\"signature\":{\"*\":\"*\"}");
}

void
mode_doc_set_open(qg_buf *b, uint32_t set, bool signature, bool pretty)
{
    char name[32];
    rows_set_name(set, name);
    if (signature)
        mode_doc_signature(b);
    qg_buf_printf(b, ",\"%s\":[", name);
    if (pretty)
        qg_buf_addc(b, '\n');
}

void
mode_doc_set_close(qg_buf *b, bool pretty)
{
    if (pretty)
        qg_buf_addc(b, '\n');
    qg_buf_addc(b, ']');
}

/* ,"warnings":[...] when q has some (api/params' notes on the request). */
static void
warnings(qg_buf *b, const qg_query *q)
{
    if (!q || !q->warnings)
        return;
    qg_buf_addlit(b, ",\"warnings\":[");
    qg_buf_adds(b, q->warnings);
    qg_buf_addc(b, ']');
}

/* The metrics with q's warnings counted. */
static qg_metrics
counted(const qg_metrics *m, const qg_query *q)
{
    qg_metrics mm = *m;
    if (q)
        mm.warning_count += q->nwarnings;
    return mm;
}

/* ,["warnings",]"errors":[...],"status":"<err's>",metrics, or
 * ,"plans":{},["warnings",]"status":"success",metrics (err NULL): the tail
 * without its closing brace. */
static void
tail_fields(qg_buf *b, const qg_query *q, const qg_error *err, const qg_metrics *m)
{
    qg_metrics mm = counted(m, q);
    m = &mm;
    if (err) {
        warnings(b, q);
        qg_buf_addc(b, ',');
        qg_env_errors(b, err);
        qg_buf_addlit(b, ",\"status\":\"");
        qg_buf_adds(b, qg_err_status(err->code));
        qg_buf_addlit(b, "\",");
    } else {
        qg_buf_addlit(b, ",\"plans\":{}");
        warnings(b, q);
        qg_buf_addlit(b, ",\"status\":\"success\",");
    }
    qg_env_metrics(b, m);
}

void
mode_doc_tail(qg_buf *b, const qg_query *q, const qg_error *err, const qg_metrics *m)
{
    tail_fields(b, q, err, m);
    qg_buf_addlit(b, "}\n");
}

void
mode_doc_handle(qg_buf *b, const char *base, size_t base_len, const char *kind, uint64_t job,
                uint32_t set)
{
    char h[MODE_HANDLE_MAX_TEXT];
    mode_handle_format(job, set, h);
    qg_buf_addc(b, '"');
    qg_json_escape(b, base ? base : "", base ? base_len : 0);
    qg_buf_addlit(b, "/query/service/");
    qg_buf_adds(b, kind);
    qg_buf_addc(b, '/');
    qg_buf_adds(b, h);
    qg_buf_addc(b, '"');
}

/* ,"<name>":"<base>/query/service/<kind>/N-0" */
static void
handle_field(qg_buf *b, const char *name, const char *base, const char *kind, uint64_t job)
{
    qg_buf_addlit(b, ",\"");
    qg_buf_adds(b, name);
    qg_buf_addlit(b, "\":");
    mode_doc_handle(b, base, base ? strlen(base) : 0, kind, job, 0);
}

/* accepted: the status handle of a job that runs (or waits to run). */
static void
accepted(qg_buf *b, const mode_answer *a, const store_job *head_of, const qg_metrics *m)
{
    if (head_of)
        mode_doc_head(b, head_of->request_id, a->q->client_context_id, head_of->format,
                      head_of->csv_header);
    else
        mode_doc_head_of(b, a->request_id, a->q);
    handle_field(b, "handle", a->base, "status", a->job);
    qg_buf_addlit(b, ",\"plans\":{}");
    warnings(b, a->q);
    qg_buf_addlit(b, ",\"status\":\"running\",");
    qg_metrics mm = counted(m, a->q);
    qg_env_metrics(b, &mm);
    qg_buf_addlit(b, "}\n");
}

/* handle: the result handle of a job that ended with success (its record
 * r), with no rows and resultCount 0. */
static void
done(qg_buf *b, const mode_answer *a, const store_job *r, const char *request_id)
{
    qg_metrics m = r->metrics;
    m.result_count = 0;
    m.result_size = 0;
    mode_doc_head(b, request_id, a->q->client_context_id, r->format, r->csv_header);
    if (r->signature && r->queries) /* it had query statements */
        mode_doc_signature(b);
    handle_field(b, "handle", a->base, "result", r->id);
    qg_buf_addlit(b, ",\"plans\":{}");
    warnings(b, a->q);
    qg_buf_addlit(b, ",\"status\":\"success\",");
    m = counted(&m, a->q);
    qg_env_metrics(b, &m);
    qg_buf_addlit(b, "}\n");
}

/* failed: the error, and the status handle of a job that was stored
 * (job > 0: its status lists its statements and any result sets they
 * completed). */
static void
failed(qg_buf *b, const mode_answer *a, const store_job *head_of, const qg_error *err,
       const qg_metrics *m, uint64_t job)
{
    qg_metrics mm = *m;
    mm.error_count = 1;
    if (head_of)
        mode_doc_head(b, head_of->request_id, a->q->client_context_id, head_of->format,
                      head_of->csv_header);
    else
        mode_doc_head_of(b, a->request_id, a->q);
    tail_fields(b, a->q, err, &mm);
    if (job)
        handle_field(b, "statusHandle", a->base, "status", job);
    qg_buf_addlit(b, "}\n");
}

/* A retry's answer from the first job r as it stands: a deferred job that
 * ended answers as it answered (its result handle, or its failure with its
 * status handle); an async job, or a deferred one still running, with its
 * status handle. The retry's client context id is echoed. */
static void
replay(qg_buf *b, const mode_answer *a, int *http)
{
    const store_job *r = a->record;
    if (r->mode == QG_MODE_DEFERRED && r->state == STORE_SUCCESS) {
        done(b, a, r, r->request_id);
    } else if (r->mode == QG_MODE_DEFERRED && !store_state_active(r->state)) {
        qg_metrics m = r->metrics;
        m.result_count = 0;
        m.result_size = 0;
        *http = qg_err_http(r->error.code);
        failed(b, a, r, &r->error, &m, r->id);
    } else {
        qg_metrics zero = {0};
        accepted(b, a, r, &zero);
    }
}

void
mode_doc_answer(const mode_answer *a, qg_buf *body, int *http)
{
    *http = 200;
    switch (a->kind) {
    case MODE_ANSWER_ACCEPTED:
        accepted(body, a, NULL, &a->metrics);
        break;
    case MODE_ANSWER_DONE: {
        store_job r = *a->record; /* its sets are not read */
        r.metrics = a->metrics;
        done(body, a, &r, a->request_id);
        break;
    }
    case MODE_ANSWER_FAILED:
        *http = qg_err_http(a->err->code);
        failed(body, a, NULL, a->err, &a->metrics, a->job);
        break;
    case MODE_ANSWER_REPLAY:
        replay(body, a, http);
        break;
    }
}

void
mode_doc_result_open(qg_buf *b, bool pretty)
{
    if (pretty)
        qg_buf_addlit(b, "{\"results\":[\n");
    else
        qg_buf_addlit(b, "{\"results\":[");
}

void
mode_doc_result_close(qg_buf *b, const mode_doc_result_end *e)
{
    qg_metrics m = e->metrics;
    if (e->pretty)
        qg_buf_addc(b, '\n');
    qg_buf_addlit(b, "],");
    if (e->err) {
        m.error_count = 1;
        qg_env_errors(b, e->err);
        qg_buf_addlit(b, ",\"status\":\"fatal\",");
    }
    qg_env_metrics(b, &m);
    if (e->columns) {
        qg_buf_addlit(b, ",\"columns\":");
        qg_buf_add(b, e->columns, e->columns_len);
    }
    if (e->window) {
        qg_buf_printf(b, ",\"offset\":%llu", (unsigned long long)e->offset);
        if (e->has_limit)
            qg_buf_printf(b, ",\"limit\":%llu", (unsigned long long)e->limit);
        qg_buf_printf(b, ",\"total\":%llu,\"more\":%s", (unsigned long long)e->total,
                      e->more ? "true" : "false");
    }
    qg_buf_addlit(b, "}\n");
}

/* n digits of v, zero-padded, at out. */
static char *
put_digits(char *out, unsigned v, int n)
{
    for (int i = n - 1; i >= 0; i--, v /= 10)
        out[i] = (char)('0' + v % 10);
    return out + n;
}

void
mode_doc_time(uint64_t wall_ns, char out[40])
{
    /* status polls render several of these: no strftime or printf, and
     * no gmtime_r (its time zone lock and table walk cost more than all
     * the rest): the civil date of a day number by integer arithmetic
     * (the proleptic Gregorian calendar in eras of 400 years, after
     * H. Hinnant's civil_from_days) */
    uint64_t secs = wall_ns / 1000000000u;
    uint64_t z = secs / 86400u + 719468u; /* days since 0000-03-01 */
    unsigned sod = (unsigned)(secs % 86400u);
    uint64_t era = z / 146097u;
    unsigned doe = (unsigned)(z - era * 146097u);                             /* [0, 146096] */
    unsigned yoe = (doe - doe / 1460u + doe / 36524u - doe / 146096u) / 365u; /* [0, 399] */
    unsigned doy = doe - (365u * yoe + yoe / 4u - yoe / 100u);                /* [0, 365] */
    unsigned mp = (5u * doy + 2u) / 153u;                                     /* March = 0 */
    unsigned mday = doy - (153u * mp + 2u) / 5u + 1u;
    unsigned mon = mp < 10u ? mp + 3u : mp - 9u;
    unsigned year = (unsigned)(era * 400u) + yoe + (mon <= 2u);
    char *p = out;
    p = put_digits(p, year, year > 9999 ? 5 : 4);
    *p++ = '-';
    p = put_digits(p, mon, 2);
    *p++ = '-';
    p = put_digits(p, mday, 2);
    *p++ = 'T';
    p = put_digits(p, sod / 3600u, 2);
    *p++ = ':';
    p = put_digits(p, sod / 60u % 60u, 2);
    *p++ = ':';
    p = put_digits(p, sod % 60u, 2);
    *p++ = '.';
    p = put_digits(p, (unsigned)(wall_ns / 1000000u % 1000u), 3);
    *p++ = 'Z';
    *p = '\0';
}
