/*
 * fuzz_params: gateway/params, a /query/service request -> qg_query.
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
 *   rest     the body, after the first line's LF; none without one
 *
 * e.g. "P100\nstatement=SELECT+1" is a form POST, "G000?statement=..." a
 * GET. Every part is handed over in a block of its own size and destroyed
 * before the query is looked at, so a read past a part or a pointer kept
 * into one is an ASan report.
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
#include "gateway/params.h"

#include "fuzz.h"

#define FROM_INPUT ((const char *)1)

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
check_query(const qg_query *q, const gw_params_in *in)
{
    FUZZ_CHECK(q->statement != NULL && q->statement_len > 0);
    FUZZ_CHECK(strlen(q->statement) == q->statement_len);
    FUZZ_CHECK(fuzz_utf8_valid(q->statement, q->statement_len));
    FUZZ_CHECK(!blank(q->statement, q->statement_len));
    FUZZ_CHECK(!in->max_statement || q->statement_len <= in->max_statement);
    FUZZ_CHECK(q->mode == QG_MODE_IMMEDIATE || q->mode == QG_MODE_DEFERRED ||
               q->mode == QG_MODE_ASYNC);
    if (q->client_context_id) {
        size_t n = strlen(q->client_context_id);
        FUZZ_CHECK(n > 0 && fuzz_utf8_valid(q->client_context_id, n));
    }
    FUZZ_CHECK(!in->is_get || q->readonly);
    FUZZ_CHECK(q->max_result_reads >= 1);
    FUZZ_CHECK(q->format == QG_FORMAT_JSON || q->format == QG_FORMAT_CSV);
    FUZZ_CHECK(q->format == QG_FORMAT_CSV || !q->csv_header);
    FUZZ_CHECK(!in->max_params || q->nargs + q->nnamed <= in->max_params);
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t sel[4] = {'0', '0', '0', '0'};
    memcpy(sel, data, size < 4 ? size : 4);
    const uint8_t *p = data + (size < 4 ? size : 4), *end = data + size;

    gw_params_in in;
    memset(&in, 0, sizeof(in));
    in.is_get = sel[0] & 1;
    in.max_statement = limits[sel[3] % 4].max_statement;
    in.max_params = limits[sel[3] % 4].max_params;

    const uint8_t *line;
    size_t len;
    bool more;
    next_line(&p, end, &line, &len, &more);
    if (len > 0 && line[0] == '?') {
        line++, len--;
        in.query = fuzz_dup(line, len);
        in.query_len = len;
    } else if (len > 0) {
        in.query = fuzz_dup(line, len);
        in.query_len = len;
    }

    const char *ct = content_types[sel[1] % 8];
    const char *accept = accepts[sel[2] % 8];
    if (ct == FROM_INPUT) {
        next_line(&p, end, &line, &len, &more);
        ct = header_value(line, len);
    } else if (ct) {
        ct = header_value((const uint8_t *)ct, strlen(ct));
    }
    if (accept == FROM_INPUT) {
        next_line(&p, end, &line, &len, &more);
        accept = header_value(line, len);
    } else if (accept) {
        accept = header_value((const uint8_t *)accept, strlen(accept));
    }
    in.content_type = ct;
    in.accept = accept;
    if (more) {
        in.body = fuzz_dup(p, (size_t)(end - p));
        in.body_len = (size_t)(end - p);
    }

    qg_query q;
    qg_query_init(&q);
    qg_error err;
    memset(&err, 0x5A, sizeof(err));
    int rc = gw_params_parse(&in, &q, &err);
    destroy(in.content_type, in.content_type ? strlen(in.content_type) : 0);
    destroy(in.accept, in.accept ? strlen(in.accept) : 0);
    destroy(in.query, in.query_len);
    destroy(in.body, in.body_len);

    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc == 0) {
        FUZZ_CHECK(err.code == QG_OK);
        check_query(&q, &in);
    } else {
        FUZZ_CHECK(err.code == QG_E_PARAM || err.code == QG_E_BAD_JSON ||
                   err.code == QG_E_NO_STATEMENT);
        FUZZ_CHECK(strncmp(err.msg, "ASX00", 5) == 0);
        FUZZ_CHECK(fuzz_utf8_valid(err.msg, strlen(err.msg)));
    }
    qg_query_free(&q);
    return 0;
}
