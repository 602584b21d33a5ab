/*
 * trino_doc: Trino's QueryResults documents (see trino.h). Pure.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "api/trino.h"
#include "core/json.h"
#include "exec/trino_type.h"

/* qgate's errors as Trino's StandardErrorCode names them: code, name; the
 * type follows from the code's range. */
static void
error_of(qg_code c, int *code, const char **name)
{
    switch (c) {
    case QG_E_SYNTAX:
        *code = 1, *name = "SYNTAX_ERROR";
        return;
    case QG_E_CANCELLED:
        *code = 3, *name = "USER_CANCELED";
        return;
    case QG_E_READONLY:
    case QG_E_FORBIDDEN:
    case QG_E_UNAUTHORIZED:
        *code = 4, *name = "PERMISSION_DENIED";
        return;
    case QG_E_UNKNOWN_OBJECT:
    case QG_E_NOT_FOUND:
        *code = 5, *name = "NOT_FOUND";
        return;
    case QG_E_MULTI:
    case QG_E_NOT_IMPLEMENTED:
        *code = 13, *name = "NOT_SUPPORTED";
        return;
    case QG_E_DRAINING:
        *code = 65545, *name = "SERVER_SHUTTING_DOWN";
        return;
    case QG_E_INTERNAL:
    case QG_E_STORE:
    case QG_E_OUTCOME_UNKNOWN:
        *code = 65536, *name = "GENERIC_INTERNAL_ERROR";
        return;
    case QG_E_STORE_FULL:
    case QG_E_RESULT_TOO_LARGE:
        *code = 131073, *name = "EXCEEDED_MEMORY_LIMIT";
        return;
    case QG_E_OVERLOADED:
    case QG_E_TOO_MANY_CONNECTIONS:
        *code = 131074, *name = "QUERY_QUEUE_FULL";
        return;
    case QG_E_TIMEOUT:
        *code = 131075, *name = "EXCEEDED_TIME_LIMIT";
        return;
    case QG_E_BACKEND:
        *code = 16777216, *name = "GENERIC_EXTERNAL";
        return;
    default:
        *code = 0, *name = "GENERIC_USER_ERROR";
        return;
    }
}

static const char *
error_type(int code)
{
    if (code < 65536)
        return "USER_ERROR";
    if (code < 131072)
        return "INTERNAL_ERROR";
    if (code < 16777216)
        return "INSUFFICIENT_RESOURCES";
    return "EXTERNAL";
}

static void
error_obj(qg_buf *b, const qg_error *err)
{
    int code;
    const char *name;
    error_of(err->code, &code, &name);
    /* the message keeps qgate's code, so the one error table stays the
     * reference (docs/api.md lists what each means and how to fix it) */
    const char *msg = err->msg; /* it begins with the code (core/err.c) */
    qg_buf_addlit(b, "\"error\":{\"message\":");
    qg_json_string(b, msg, strlen(msg));
    qg_buf_printf(b, ",\"errorCode\":%d,\"errorName\":\"%s\",\"errorType\":\"%s\"", code, name,
                  error_type(code));
    qg_buf_addlit(b, ",\"failureInfo\":{\"type\":\"io.qgate.");
    qg_buf_adds(b, qg_err_name(err->code));
    qg_buf_addlit(b, "\",\"message\":");
    qg_json_string(b, msg, strlen(msg));
    qg_buf_addlit(b, ",\"suppressed\":[],\"stack\":[]}}");
}

static void
columns(qg_buf *b, const store_stmt *s)
{
    qg_buf_addlit(b, ",\"columns\":[");
    for (uint32_t i = 0; i < s->ncols; i++) {
        const store_col *c = &s->cols[i];
        trino_type t;
        if (!trino_type_of(c->type, &t))
            trino_type_of_values((int)c->min.kind, c->min.text, c->max.text, &t);
        if (i)
            qg_buf_addc(b, ',');
        qg_buf_addlit(b, "{\"name\":");
        qg_json_string(b, c->name ? c->name : "", c->name ? strlen(c->name) : 0);
        qg_buf_addlit(b, ",\"type\":");
        qg_json_string(b, t.name, strlen(t.name));
        qg_buf_addlit(b, ",\"typeSignature\":");
        trino_type_signature(b, t.name);
        qg_buf_addc(b, '}');
    }
    qg_buf_addc(b, ']');
}

static void
stats(qg_buf *b, const api_trino_doc *d)
{
    bool queued = strcmp(d->state, "QUEUED") == 0;
    bool done = strcmp(d->state, "FINISHED") == 0 || strcmp(d->state, "FAILED") == 0;
    qg_buf_printf(b,
                  ",\"stats\":{\"state\":\"%s\",\"queued\":%s,\"scheduled\":%s,\"nodes\":1,"
                  "\"totalSplits\":1,\"queuedSplits\":%d,\"runningSplits\":%d,"
                  "\"completedSplits\":%d,\"cpuTimeMillis\":%llu,\"wallTimeMillis\":%llu,"
                  "\"queuedTimeMillis\":%llu,\"elapsedTimeMillis\":%llu,\"processedRows\":%llu,"
                  "\"processedBytes\":%llu,\"physicalInputBytes\":0,\"peakMemoryBytes\":0,"
                  "\"spilledBytes\":0",
                  d->state, queued ? "true" : "false", queued ? "false" : "true", queued,
                  !queued && !done, done, (unsigned long long)d->cpu_ms,
                  (unsigned long long)d->cpu_ms, (unsigned long long)d->queued_ms,
                  (unsigned long long)d->elapsed_ms, (unsigned long long)d->processed_rows,
                  (unsigned long long)d->processed_bytes);
    if (d->progress >= 0)
        qg_buf_printf(b, ",\"progressPercentage\":%d", d->progress);
    qg_buf_addc(b, '}');
}

void
api_trino_doc_write(qg_buf *b, const api_trino_doc *d)
{
    char id[64];
    snprintf(id, sizeof(id), "%llu_%s", (unsigned long long)d->job, d->node);
    qg_buf_printf(b, "{\"id\":\"%s\",\"infoUri\":", id);
    qg_buf_addc(b, '"');
    qg_json_escape(b, d->base, strlen(d->base));
    qg_buf_printf(b, "/v1/query/%s\"", id);
    if (d->has_next) {
        qg_buf_addlit(b, ",\"partialCancelUri\":\"");
        qg_json_escape(b, d->base, strlen(d->base));
        qg_buf_printf(b, "/v1/statement/executing/%s/%u\"", id, d->next_token);
        qg_buf_addlit(b, ",\"nextUri\":\"");
        qg_json_escape(b, d->base, strlen(d->base));
        qg_buf_printf(b, "/v1/statement/executing/%s/%u\"", id, d->next_token);
    }
    if (d->stmt && d->stmt->ncols && !d->update_type)
        columns(b, d->stmt);
    if (d->data) {
        qg_buf_addlit(b, ",\"data\":[");
        qg_buf_add(b, d->data, d->data_len);
        qg_buf_addc(b, ']');
    }
    stats(b, d);
    if (d->err) {
        qg_buf_addc(b, ',');
        error_obj(b, d->err);
    }
    qg_buf_addlit(b, ",\"warnings\":[]");
    if (d->update_type) {
        qg_buf_addlit(b, ",\"updateType\":");
        qg_json_string(b, d->update_type, strlen(d->update_type));
        if (d->update_count >= 0)
            qg_buf_printf(b, ",\"updateCount\":%lld", (long long)d->update_count);
    }
    qg_buf_addc(b, '}');
}

void
api_trino_node(const char *base, char out[40])
{
    /* past "scheme://host[:port]" */
    const char *p = strstr(base, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    const char *last = NULL;
    for (; p && *p; p++)
        if (*p == '/' && p[1])
            last = p + 1;
    size_t n = 0;
    for (; last && *last && *last != '/' && n < 32; last++)
        if (isalnum((unsigned char)*last))
            out[n++] = (char)tolower((unsigned char)*last);
    if (n == 0)
        n = (size_t)snprintf(out, 40, "qgate");
    out[n] = '\0';
}

int
api_trino_error_doc(qg_buf *b, const qg_error *err)
{
    qg_buf_addlit(b, "{\"id\":\"\",\"stats\":{\"state\":\"FAILED\",\"queued\":false,"
                     "\"scheduled\":false,\"nodes\":0,\"totalSplits\":0,\"queuedSplits\":0,"
                     "\"runningSplits\":0,\"completedSplits\":0,\"cpuTimeMillis\":0,"
                     "\"wallTimeMillis\":0,\"queuedTimeMillis\":0,\"elapsedTimeMillis\":0,"
                     "\"processedRows\":0,\"processedBytes\":0,\"physicalInputBytes\":0,"
                     "\"peakMemoryBytes\":0,\"spilledBytes\":0},");
    error_obj(b, err);
    qg_buf_addlit(b, ",\"warnings\":[]}");
    return qg_err_http(err->code);
}

/* A submission refused before it was stored (a syntax error, an unknown
 * table): Trino clients read a query's failure from the document after the
 * first, so the first is QUEUED with a nextUri that carries the error
 * itself (its code's name and its message in hex), and nothing is kept. */
void
api_trino_refused(const char *base, const qg_error *err, qg_buf *body)
{
    char node[40];
    api_trino_node(base ? base : "", node);
    static const char hex[] = "0123456789abcdef";
    qg_buf uri = QG_BUF_INIT;
    qg_buf_adds(&uri, base ? base : "");
    qg_buf_addlit(&uri, "/v1/statement/failed/");
    qg_buf_adds(&uri, qg_err_name(err->code));
    qg_buf_addc(&uri, '/');
    for (const char *p = err->msg; *p; p++) {
        qg_buf_addc(&uri, hex[(unsigned char)*p >> 4]);
        qg_buf_addc(&uri, hex[(unsigned char)*p & 15]);
    }
    qg_buf_printf(body, "{\"id\":\"0_%s\",\"nextUri\":", node);
    qg_json_string(body, uri.data, uri.len);
    qg_buf_addlit(body, ",\"stats\":{\"state\":\"QUEUED\",\"queued\":true,\"scheduled\":false,"
                        "\"nodes\":0,\"totalSplits\":0,\"queuedSplits\":0,\"runningSplits\":0,"
                        "\"completedSplits\":0,\"cpuTimeMillis\":0,\"wallTimeMillis\":0,"
                        "\"queuedTimeMillis\":0,\"elapsedTimeMillis\":0,\"processedRows\":0,"
                        "\"processedBytes\":0,\"physicalInputBytes\":0,\"peakMemoryBytes\":0,"
                        "\"spilledBytes\":0},\"warnings\":[]}");
    qg_buf_free(&uri);
}

int
api_trino_refused_doc(qg_buf *b, const char *name, size_t name_len, const char *hexmsg,
                      size_t hex_len)
{
    qg_error err;
    qg_error_clear(&err);
    bool known = false;
    for (int c = 1; c < QG_E__COUNT; c++) {
        const char *n = qg_err_name((qg_code)c);
        if (strlen(n) == name_len && memcmp(n, name, name_len) == 0) {
            err.code = (qg_code)c;
            known = true;
        }
    }
    if (!known || hex_len % 2 || hex_len / 2 >= sizeof(err.msg))
        return -1;
    for (size_t i = 0; i < hex_len; i += 2) {
        int hi = hexmsg[i], lo = hexmsg[i + 1];
        hi = isdigit(hi) ? hi - '0' : hi >= 'a' && hi <= 'f' ? hi - 'a' + 10 : -1;
        lo = isdigit(lo) ? lo - '0' : lo >= 'a' && lo <= 'f' ? lo - 'a' + 10 : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
            return -1;
        err.msg[i / 2] = (char)(hi << 4 | lo);
    }
    err.msg[hex_len / 2] = '\0';
    if (!qg_utf8_valid(err.msg, hex_len / 2))
        return -1;
    api_trino_error_doc(b, &err);
    return 0;
}

void
api_trino_answer(const mode_answer *a, qg_buf *body, int *http)
{
    char node[40];
    api_trino_node(a->base ? a->base : "", node);
    if (a->kind == MODE_ANSWER_FAILED && a->job == 0) {
        if (qg_err_http(a->err->code) == 503) {
            /* overload and a drain are the client's to retry */
            *http = api_trino_error_doc(body, a->err);
            return;
        }
        api_trino_refused(a->base, a->err, body);
        *http = 200;
        return;
    }
    api_trino_doc d = {
        .base = a->base ? a->base : "",
        .job = a->job,
        .node = node,
        .state = a->kind == MODE_ANSWER_FAILED ? "FAILED" : "QUEUED",
        .has_next = a->kind != MODE_ANSWER_FAILED,
        .err = a->kind == MODE_ANSWER_FAILED ? a->err : NULL,
        .update_count = -1,
        .elapsed_ms = a->metrics.elapsed_ns / 1000000,
        .progress = -1,
    };
    api_trino_doc_write(body, &d);
    *http = 200;
}

bool
api_trino_update_type(const char *sql, size_t n, char out[32])
{
    size_t i = 0, k = 0;
    /* blanks and comments before the first keyword */
    for (;;) {
        while (i < n && isspace((unsigned char)sql[i]))
            i++;
        if (i + 1 < n && sql[i] == '-' && sql[i + 1] == '-') {
            while (i < n && sql[i] != '\n')
                i++;
        } else if (i + 1 < n && sql[i] == '/' && sql[i + 1] == '*') {
            const char *e = strstr(sql + i + 2, "*/");
            i = e ? (size_t)(e - sql) + 2 : n;
        } else {
            break;
        }
    }
    while (i < n && k < 31 && isalpha((unsigned char)sql[i]))
        out[k++] = (char)toupper((unsigned char)sql[i++]);
    out[k] = '\0';
    static const char *const queries[] = {"SELECT",  "WITH",   "VALUES", "SHOW", "DESCRIBE",
                                          "EXPLAIN", "PRAGMA", "TABLE",  ""};
    for (size_t q = 0; q < sizeof(queries) / sizeof(queries[0]); q++)
        if (strcmp(out, queries[q]) == 0)
            return false;
    if (strcmp(out, "CREATE") == 0 || strcmp(out, "DROP") == 0 || strcmp(out, "ALTER") == 0) {
        /* CREATE TABLE, DROP VIEW, ...: the object's kind too */
        while (i < n && isspace((unsigned char)sql[i]))
            i++;
        out[k++] = ' ';
        size_t mark = k;
        while (i < n && k < 31 && isalpha((unsigned char)sql[i]))
            out[k++] = (char)toupper((unsigned char)sql[i++]);
        if (k == mark)
            k--;
        out[k] = '\0';
    }
    return true;
}
