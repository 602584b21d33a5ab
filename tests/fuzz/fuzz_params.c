/*
 * fuzz_params: api/params, a /query/service request -> qg_query.
 *
 * The input describes a whole request, readable on purpose so that seeds
 * are real requests:
 *
 *   byte 0   method: odd is GET ('G'), even is POST ('P')
 *   byte 1   Content-Type, byte % 8 (so '0'..'7'): see content_types[];
 *            7 takes it from a line of the input
 *   byte 2   Accept, byte % 8, likewise (accepts[])
 *   byte 3   limits, byte % 4: see limits[]
 *   ...      the rest of the first line is the query string (a leading
 *            '?' is dropped); none when the line ends after byte 3
 *   lines    the Content-Type, then the Accept, when bytes 1/2 said 7
 *   rest     the body, after the LF that ended the last of those lines;
 *            none when that line had no LF
 *
 * e.g. "P100\nstatement=SELECT+1" is a form POST, "G000?statement=..." a
 * GET. Every part is handed over in a block of its own size and destroyed
 * before the query is looked at, so a read past a part or a pointer kept
 * into one is an ASan report.
 *
 * The request is then parsed again with its form text percent-escaped
 * byte by byte (delimiters, '+' and existing escapes excepted): form
 * decoding must make that the same request, same query or same error.
 *
 * Checked on success: the statement is present, within max_statement,
 * valid UTF-8 without NULs, not blank; client_context_id likewise; GET is
 * read-only; the counts of args and $names respect max_params; every bound
 * value is consistent with its type (an INT's digits read back to it, a
 * JSON value's text parses, text is valid UTF-8); names are distinct text.
 * On failure: one of the three documented errors, its message valid UTF-8.
 */
#include "core/arena.h"
#include "core/err.h"
#include "core/jsonparse.h"
#include "core/query.h"
#include "api/params.h"

#include "fuzz.h"

#define FROM_INPUT ((const char *)1)

/* Index 1 and 4 are the form types: the escaping check relies on it. */
static const char *const content_types[8] = {
    NULL,
    "application/x-www-form-urlencoded",
    "application/json",
    "application/json; charset=utf-8",
    " Application/X-WWW-Form-Urlencoded ; charset=UTF-8",
    "text/plain",
    "application/jsonx",
    FROM_INPUT,
};

static const char *const accepts[8] = {
    NULL,
    "text/csv",
    "text/csv; header=present",
    "application/json, text/csv;q=0.9;header=\"present\"",
    "*/*",
    "TEXT/CSV;HEADER=absent",
    "application/json",
    FROM_INPUT,
};

static const struct {
    size_t max_statement, max_params;
} limits[4] = {{0, 0}, {64, 4}, {1, 1}, {4096, 100}};

/* Takes the next line (without its LF) off [*p, end). */
static void
next_line(const uint8_t **p, const uint8_t *end, const uint8_t **line, size_t *len, bool *had_lf)
{
    const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
    *line = *p;
    *len = (size_t)((nl ? nl : end) - *p);
    *had_lf = nl != NULL;
    *p = nl ? nl + 1 : end;
}

/* A header value as the server gives it: NUL-terminated, so an embedded
 * NUL just ends it. */
static char *
header_value(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        abort();
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static void
destroy(const char *p, size_t n)
{
    if (p) {
        memset((char *)p, 'Z', n);
        free((char *)p);
    }
}

static bool
blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strchr(" \t\n\r\f\v", s[i]))
            return false;
    return true;
}

static void
check_value(const qg_value *v)
{
    FUZZ_CHECK(v->text != NULL && v->text[v->len] == '\0');
    switch (v->type) {
    case QG_VAL_NULL:
        FUZZ_CHECK(v->len == 4 && strcmp(v->text, "null") == 0);
        break;
    case QG_VAL_BOOL:
        FUZZ_CHECK(v->i == 0 || v->i == 1);
        FUZZ_CHECK(strcmp(v->text, v->i ? "true" : "false") == 0);
        break;
    case QG_VAL_INT: {
        /* The exact digits, and the value they say. */
        FUZZ_CHECK(strlen(v->text) == v->len);
        char *end;
        long long x = strtoll(v->text, &end, 10);
        FUZZ_CHECK(*end == '\0' && x == v->i);
        FUZZ_CHECK(v->text[0] == '-' || (v->text[0] >= '0' && v->text[0] <= '9'));
        break;
    }
    case QG_VAL_REAL: {
        FUZZ_CHECK(strlen(v->text) == v->len && v->len > 0);
        char *end;
        double d = strtod(v->text, &end);
        FUZZ_CHECK(*end == '\0');
        FUZZ_CHECK(memcmp(&d, &v->d, sizeof(d)) == 0);
        break;
    }
    case QG_VAL_TEXT:
        FUZZ_CHECK(fuzz_utf8_valid(v->text, v->len));
        break;
    case QG_VAL_JSON: {
        qg_arena a = QG_ARENA_INIT;
        qg_jval j;
        const char *why;
        FUZZ_CHECK(qg_json_parse(v->text, v->len, &a, NULL, &j, &why) == 0);
        FUZZ_CHECK(j.type == QG_J_ARRAY || j.type == QG_J_OBJECT);
        qg_arena_free(&a);
        break;
    }
    default:
        FUZZ_CHECK(!"unknown value type");
    }
}

static void
check_query(const qg_query *q, bool is_get, size_t max_statement, size_t max_params)
{
    FUZZ_CHECK(q->statement != NULL && q->statement_len > 0);
    FUZZ_CHECK(strlen(q->statement) == q->statement_len);
    FUZZ_CHECK(fuzz_utf8_valid(q->statement, q->statement_len));
    FUZZ_CHECK(!blank(q->statement, q->statement_len));
    FUZZ_CHECK(!max_statement || q->statement_len <= max_statement);
    FUZZ_CHECK(q->mode == QG_MODE_IMMEDIATE || q->mode == QG_MODE_DEFERRED ||
               q->mode == QG_MODE_ASYNC);
    if (q->client_context_id) {
        size_t n = strlen(q->client_context_id);
        FUZZ_CHECK(n > 0 && fuzz_utf8_valid(q->client_context_id, n));
    }
    FUZZ_CHECK(!is_get || q->readonly);
    FUZZ_CHECK(q->max_result_reads >= 1);
    FUZZ_CHECK(q->format == QG_FORMAT_JSON || q->format == QG_FORMAT_CSV);
    FUZZ_CHECK(q->format == QG_FORMAT_CSV || !q->csv_header);
    FUZZ_CHECK(!max_params || q->nargs + q->nnamed <= max_params);
    FUZZ_CHECK((q->nargs == 0) == (q->args == NULL));
    FUZZ_CHECK((q->nnamed == 0) == (q->named == NULL));
    for (size_t i = 0; i < q->nargs; i++)
        check_value(&q->args[i]);
    for (size_t i = 0; i < q->nnamed; i++) {
        const char *name = q->named[i].name;
        FUZZ_CHECK(name != NULL);
        size_t n = strlen(name);
        FUZZ_CHECK(n > 0 && fuzz_utf8_valid(name, n));
        for (size_t k = 0; k < i; k++)
            FUZZ_CHECK(strcmp(q->named[k].name, name) != 0);
        check_value(&q->named[i].val);
    }
}

/* A request as the input describes it; the parts point into the input. */
struct req {
    bool is_get;
    const char *ct, *accept; /* NUL-terminated header values, or NULL */
    const uint8_t *query, *body;
    size_t query_len, body_len;
    size_t max_statement, max_params;
};

/* Parses r from copies of its parts, destroyed before returning. */
static int
run(const struct req *r, qg_query *q, qg_error *err)
{
    api_params_in in;
    memset(&in, 0, sizeof(in));
    in.is_get = r->is_get;
    in.max_statement = r->max_statement;
    in.max_params = r->max_params;
    in.content_type = r->ct ? header_value((const uint8_t *)r->ct, strlen(r->ct)) : NULL;
    in.accept = r->accept ? header_value((const uint8_t *)r->accept, strlen(r->accept)) : NULL;
    if (r->query) {
        in.query = fuzz_dup(r->query, r->query_len);
        in.query_len = r->query_len;
    }
    if (r->body) {
        in.body = fuzz_dup(r->body, r->body_len);
        in.body_len = r->body_len;
    }
    qg_query_init(q);
    memset(err, 0x5A, sizeof(*err));
    int rc = api_params_parse(&in, q, err);
    destroy(in.content_type, in.content_type ? strlen(in.content_type) : 0);
    destroy(in.accept, in.accept ? strlen(in.accept) : 0);
    destroy(in.query, in.query_len);
    destroy(in.body, in.body_len);
    FUZZ_CHECK(rc == 0 || rc == -1);
    return rc;
}

/* The form text with every byte but the delimiters '&' '=', '+' and the
 * escapes already there written as a %XX escape: it must mean the same. */
static uint8_t *
escape_form(const uint8_t *p, size_t n, bool upper, size_t *out_len)
{
    const char *hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    uint8_t *o = malloc(3 * n + 1);
    if (!o)
        abort();
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '%') {
            /* An escape (or a malformed one) stays exactly as it was. */
            for (size_t j = 0; j < 3 && i < n; j++)
                o[k++] = p[i++];
            i--;
        } else if (p[i] == '&' || p[i] == '=' || p[i] == '+') {
            o[k++] = p[i];
        } else {
            o[k++] = '%';
            o[k++] = (uint8_t)hex[p[i] >> 4];
            o[k++] = (uint8_t)hex[p[i] & 15];
        }
    }
    *out_len = k;
    return o;
}

static bool
same_value(const qg_value *a, const qg_value *b)
{
    return a->type == b->type && a->i == b->i && memcmp(&a->d, &b->d, sizeof(a->d)) == 0 &&
           a->len == b->len && memcmp(a->text, b->text, a->len) == 0;
}

static bool
same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool
same_query(const qg_query *a, const qg_query *b)
{
    if (a->statement_len != b->statement_len || !same_text(a->statement, b->statement) ||
        a->mode != b->mode || !same_text(a->client_context_id, b->client_context_id) ||
        a->readonly != b->readonly || a->pretty != b->pretty || a->signature != b->signature ||
        a->multi_statement != b->multi_statement || a->format != b->format ||
        a->csv_header != b->csv_header || a->timeout_ns != b->timeout_ns ||
        a->max_result_reads != b->max_result_reads || a->result_ttl_ns != b->result_ttl_ns ||
        a->nargs != b->nargs || a->nnamed != b->nnamed)
        return false;
    for (size_t i = 0; i < a->nargs; i++)
        if (!same_value(&a->args[i], &b->args[i]))
            return false;
    for (size_t i = 0; i < a->nnamed; i++)
        if (strcmp(a->named[i].name, b->named[i].name) != 0 ||
            !same_value(&a->named[i].val, &b->named[i].val))
            return false;
    return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t sel[4] = {'0', '0', '0', '0'};
    memcpy(sel, data, size < 4 ? size : 4);
    const uint8_t *p = data + (size < 4 ? size : 4), *end = data + size;

    struct req r;
    memset(&r, 0, sizeof(r));
    r.is_get = sel[0] & 1;
    r.max_statement = limits[sel[3] % 4].max_statement;
    r.max_params = limits[sel[3] % 4].max_params;

    const uint8_t *line;
    size_t len;
    bool more;
    next_line(&p, end, &line, &len, &more);
    if (len > 0) {
        if (line[0] == '?')
            line++, len--;
        r.query = line;
        r.query_len = len;
    }

    char *ct = NULL, *accept = NULL;
    r.ct = content_types[sel[1] % 8];
    r.accept = accepts[sel[2] % 8];
    if (r.ct == FROM_INPUT) {
        next_line(&p, end, &line, &len, &more);
        r.ct = ct = header_value(line, len);
    }
    if (r.accept == FROM_INPUT) {
        next_line(&p, end, &line, &len, &more);
        r.accept = accept = header_value(line, len);
    }
    if (more) {
        r.body = p;
        r.body_len = (size_t)(end - p);
    }

    qg_query q;
    qg_error err;
    int rc = run(&r, &q, &err);
    if (rc == 0) {
        FUZZ_CHECK(err.code == QG_OK);
        check_query(&q, r.is_get, r.max_statement, r.max_params);
    } else {
        FUZZ_CHECK(err.code == QG_E_PARAM || err.code == QG_E_BAD_JSON ||
                   err.code == QG_E_NO_STATEMENT);
        FUZZ_CHECK(strncmp(err.msg, "ASX00", 5) == 0);
        FUZZ_CHECK(fuzz_utf8_valid(err.msg, strlen(err.msg)));
    }

    /* The same request with its form text percent-escaped: the query
     * string always (it is form-encoded whenever it is read), the body
     * when the Content-Type is one of the form types. Messages may differ
     * (a bad escape is shown as sent), the outcome may not. */
    bool upper = fuzz_hash(data, size) & 1;
    struct req e = r;
    uint8_t *eq = NULL, *eb = NULL;
    if (r.query)
        e.query = eq = escape_form(r.query, r.query_len, upper, &e.query_len);
    if (r.body && (sel[1] % 8 == 1 || sel[1] % 8 == 4))
        e.body = eb = escape_form(r.body, r.body_len, upper, &e.body_len);
    if (eq || eb) {
        qg_query q2;
        qg_error err2;
        int rc2 = run(&e, &q2, &err2);
        FUZZ_CHECK(rc2 == rc);
        if (rc == 0)
            FUZZ_CHECK(same_query(&q, &q2));
        else
            FUZZ_CHECK(err2.code == err.code);
        qg_query_free(&q2);
    }
    free(eq);
    free(eb);
    free(ct);
    free(accept);
    qg_query_free(&q);
    return 0;
}
