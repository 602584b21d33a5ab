/*
 * params: request bytes -> validated qg_query (see params.h).
 *
 * Two phases. Collection reads the one source of parameters the request's
 * method and Content-Type select (query string, form + query string, or a
 * JSON object) into one slot per known name, applying the precedence rule of
 * that source (first wins in forms, last wins in JSON), and gathers every
 * `$name` occurrence. Validation then walks the known names in the order of
 * the API's parameter table, so that a request with several bad values
 * always reports the same one.
 *
 * Everything transient (the JSON tree, decoded form values) lives in a
 * scratch arena freed before returning; what the query keeps is copied into
 * q->arena, because the caller's buffers die after the call.
 *
 * Memory stays proportional to what is kept: a form's unknown names and
 * shadowed duplicates are decoded into one reused buffer and dropped, and
 * `$name` occurrences are capped like the values of a JSON body.
 */
#include "api/params.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/duration.h"
#include "core/hex.h"
#include "core/json.h"
#include "core/jsonparse.h"
#include "core/suggest.h"
#include "gateway/url.h"

/* The JSON reader's limits for bodies and for args/$name values in forms:
 * deep enough for any real parameter, shallow enough for the stack. */
#define JSON_MAX_DEPTH   64
#define JSON_BASE_VALUES 100000

/* Known parameters, in the order of the API's parameter table; validation
 * follows this order (`$name` is checked right after args). */
enum pid {
    P_STATEMENT,
    P_MODE,
    P_CLIENT_CONTEXT_ID,
    P_READONLY,
    P_PRETTY,
    P_ARGS,
    P_TIMEOUT,
    P_MAX_RESULT_READS,
    P_RESULT_TTL,
    P_SIGNATURE,
    P_MULTI_STATEMENT,
    P_FORMAT,
    P_STATS,
    P_HEARTBEAT,
    P_PLAN_FORMAT,
    P_LOGICAL_PLAN,
    P_OPTIMIZED_LOGICAL_PLAN,
    P_EXPRESSION_TREE,
    P_REWRITTEN_EXPRESSION_TREE,
    P_JOB,
    P_MAX_WARNINGS,
    P_PROFILE,
    P_CALLBACK_URL,
    P_WAIT,
    P_ON_WAIT_TIMEOUT,
    P_IDEMPOTENCY_KEY,
    P__COUNT
};

static const char *const pnames[P__COUNT] = {
    [P_STATEMENT] = "statement",
    [P_MODE] = "mode",
    [P_CLIENT_CONTEXT_ID] = "client_context_id",
    [P_READONLY] = "readonly",
    [P_PRETTY] = "pretty",
    [P_ARGS] = "args",
    [P_TIMEOUT] = "timeout",
    [P_MAX_RESULT_READS] = "max-result-reads",
    [P_RESULT_TTL] = "result-ttl",
    [P_SIGNATURE] = "signature",
    [P_MULTI_STATEMENT] = "multi-statement",
    [P_FORMAT] = "format",
    [P_STATS] = "stats",
    [P_HEARTBEAT] = "heartbeat",
    [P_PLAN_FORMAT] = "plan-format",
    [P_LOGICAL_PLAN] = "logical-plan",
    [P_OPTIMIZED_LOGICAL_PLAN] = "optimized-logical-plan",
    [P_EXPRESSION_TREE] = "expression-tree",
    [P_REWRITTEN_EXPRESSION_TREE] = "rewritten-expression-tree",
    [P_JOB] = "job",
    [P_MAX_WARNINGS] = "max-warnings",
    [P_PROFILE] = "profile",
    [P_CALLBACK_URL] = "callback_url",
    [P_WAIT] = "wait",
    [P_ON_WAIT_TIMEOUT] = "on_wait_timeout",
    [P_IDEMPOTENCY_KEY] = "idempotency_key",
};

#define DURATION_HINT                                                                              \
    "Expected a duration with a unit: 10s, 500ms, 2m, 1h30m (units ns, us, ms, s, m, h)"
#define BOOL_HINT "Expected true or false"

/* What each parameter takes, for the hint after a bad value. */
static const char *const phints[P__COUNT] = {
    [P_STATEMENT] = "Expected UTF-8 text without NUL bytes",
    [P_MODE] = "Expected one of immediate, deferred, async, stream",
    [P_CLIENT_CONTEXT_ID] = "Expected UTF-8 text without NUL bytes",
    [P_READONLY] = BOOL_HINT,
    [P_PRETTY] = BOOL_HINT,
    [P_ARGS] = "Expected a JSON array, one value per ?, e.g. args=[42,\"GB\"]",
    [P_TIMEOUT] = DURATION_HINT "; 0: no limit",
    [P_MAX_RESULT_READS] = "Expected a whole number of at least 1, e.g. 3",
    [P_RESULT_TTL] = DURATION_HINT,
    [P_SIGNATURE] = BOOL_HINT,
    [P_MULTI_STATEMENT] = BOOL_HINT,
    [P_FORMAT] = "Expected json, csv, application/json, text/csv, or text/csv; "
                 "header=present (or absent)",
    [P_STATS] = "Expected milliseconds (500) or a duration (500ms, 2s) of at least 10ms; "
                "0: none",
    [P_HEARTBEAT] = "Expected milliseconds (500) or a duration (500ms, 2s) of at least 10ms; "
                    "0: never",
    [P_PLAN_FORMAT] = "Expected json or string",
    [P_LOGICAL_PLAN] = BOOL_HINT,
    [P_OPTIMIZED_LOGICAL_PLAN] = BOOL_HINT,
    [P_EXPRESSION_TREE] = BOOL_HINT,
    [P_REWRITTEN_EXPRESSION_TREE] = BOOL_HINT,
    [P_JOB] = BOOL_HINT,
    [P_MAX_WARNINGS] = "Expected a whole number, e.g. 10",
    [P_PROFILE] = "Expected one of true, false, counts, timings, off",
    [P_CALLBACK_URL] = "Expected an absolute http:// or https:// URL with a host, "
                       "e.g. http://hooks.example.com/qgate/done",
    [P_WAIT] = DURATION_HINT,
    [P_ON_WAIT_TIMEOUT] = "Expected continue or cancel",
    [P_IDEMPOTENCY_KEY] = "Expected 1 to 255 printable ASCII characters, e.g. a UUID",
};

/* The most unknown names an answer's warnings list. */
#define MAX_UNKNOWN 8

/* One occurrence of a parameter: from a form (text, decoded) or from a
 * JSON body (jv, the member's value). */
typedef struct pentry {
    const char *name;
    size_t name_len;
    const char *text;
    size_t text_len;
    const qg_jval *jv;
    size_t pos;   /* occurrence number, for precedence */
    size_t first; /* $name: position of the name's first occurrence */
} pentry;

typedef struct pctx {
    const api_params_in *in;
    qg_query *q;
    qg_error *err;
    qg_arena tmp;
    qg_buf sname, sval; /* decoding of form parts that may not be kept */
    bool last_wins;     /* JSON body */
    qg_json_limits lim;
    size_t max_dollars; /* cap on $name occurrences in a form */
    bool have[P__COUNT];
    pentry slot[P__COUNT];
    const char *unknown[MAX_UNKNOWN]; /* unknown names, in the scratch arena */
    size_t nunknown;
    bool quiet_unknown;       /* collecting a body that is not what it claims to be */
    const char *body_ignored; /* why the body (or part of it) was not read, or NULL */
    qg_buf dollars;           /* pentry[], every $name occurrence */
    size_t npos;
} pctx;

/* ---- small text helpers ---- */

static char
lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* s[0..n) equals the lower-case literal lit, ignoring ASCII case. */
static bool
ieq(const char *s, size_t n, const char *lit)
{
    size_t m = strlen(lit);
    if (n != m)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(s[i]) != lit[i])
            return false;
    return true;
}

static bool
is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static void
trim_ows(const char **s, size_t *n)
{
    while (*n > 0 && is_ows(**s))
        (*s)++, (*n)--;
    while (*n > 0 && is_ows((*s)[*n - 1]))
        (*n)--;
}

/* Valid UTF-8 without NULs: what every text the query keeps must be, since
 * the backends take NUL-terminated UTF-8. */
static bool
text_ok(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (u[i] == 0)
            return false;
        size_t k = qg_utf8_seq((const char *)u + i, n - i);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

static bool
all_space(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v')
            return false;
    }
    return true;
}

/* ---- errors ---- */

/* A copy of s[0..n) fit for an error message, which must itself be valid
 * UTF-8 and cannot hold a NUL: each NUL and each byte that does not start a
 * well-formed sequence becomes '?'. Stops near QG_ERRMSG_MAX bytes, where
 * the message is cut anyway, so a huge value costs nothing. */
static const char *
shown(pctx *c, const char *s, size_t n)
{
    size_t cap = n < QG_ERRMSG_MAX ? n : QG_ERRMSG_MAX;
    char *o = qg_arena_alloc(&c->tmp, cap + 4);
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, len = 0;
    while (i < n && len < cap) {
        size_t k = u[i] ? qg_utf8_seq((const char *)u + i, n - i) : 0;
        if (k == 0) {
            o[len++] = '?';
            i++;
        } else {
            memcpy(o + len, u + i, k);
            len += k;
            i += k;
        }
    }
    o[len] = '\0';
    return o;
}

/* A value in an error message: itself, or its first SHOWN_MAX bytes and
 * its length, so that the hint after it always fits. */
#define SHOWN_MAX 200

static const char *
shown_value(pctx *c, const char *s, size_t n)
{
    if (n <= SHOWN_MAX)
        return shown(c, s, n);
    size_t k = SHOWN_MAX;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--; /* not inside a UTF-8 sequence */
    const char *head = shown(c, s, k);
    size_t m = strlen(head) + 48;
    char *o = qg_arena_alloc(&c->tmp, m);
    snprintf(o, m, "%s... (%zu bytes)", head, n);
    return o;
}

static int
param_error(pctx *c, const char *name, size_t name_len, const char *val, size_t val_len)
{
    return qg_error_set(c->err, QG_E_PARAM, shown(c, name, name_len > 100 ? 100 : name_len),
                        shown_value(c, val, val_len));
}

/* A bare number where a duration is expected: the unit is what is missing. */
static bool
all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return n > 0;
}

/* ASX0047 for a known parameter, with what it takes: AsterixDB's text, then
 * ". <hint>". */
static int
pid_error(pctx *c, int pid, const char *val, size_t val_len)
{
    param_error(c, pnames[pid], strlen(pnames[pid]), val, val_len);
    qg_error_append(c->err, ". %s", phints[pid]);
    bool duration = pid == P_TIMEOUT || pid == P_RESULT_TTL || pid == P_WAIT;
    if (duration && all_digits(val, val_len) && val_len < 20)
        qg_error_append(c->err, "; a bare number has no unit: did you mean %.*s%s?", (int)val_len,
                        val, pid == P_TIMEOUT || pid == P_WAIT ? "s" : "h");
    return -1;
}

/* ASX0047 for a malformed %-escape: where it is, not the whole value (a
 * statement may be megabytes, and the bad part would be cut away). raw is
 * the undecoded text, bad the offset of the '%'. */
static int
escape_error(pctx *c, const char *name, size_t name_len, const char *raw, size_t raw_len,
             size_t bad)
{
    size_t k = raw_len - bad < 3 ? raw_len - bad : 3;
    char what[200];
    snprintf(what, sizeof(what), "malformed %%-escape '%s' at byte %zu", shown(c, raw + bad, k),
             bad);
    qg_error_set(c->err, QG_E_PARAM, shown(c, name, name_len > 100 ? 100 : name_len), what);
    return qg_error_append(c->err, ". A %% starts an escape of two hex digits (%%20 is a space); "
                                   "write a literal %% as %%25, or let the client encode it "
                                   "(curl --data-urlencode)");
}

/* ---- form decoding ---- */

/* Decodes s[0..n) into o (room for n bytes, the output is never longer).
 * A malformed escape: -1, and *bad (when not NULL) is the offset of its '%'. */
static int
form_decode_bad(const char *s, size_t n, char *o, size_t *olen, size_t *bad)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '+') {
            o[len++] = ' ';
        } else if (ch == '%') {
            int h = n - i >= 3 ? qg_hex_value((unsigned char)s[i + 1]) : -1,
                l = n - i >= 3 ? qg_hex_value((unsigned char)s[i + 2]) : -1;
            if (h < 0 || l < 0) {
                if (bad)
                    *bad = i;
                return -1;
            }
            o[len++] = (char)(h * 16 + l);
            i += 2;
        } else {
            o[len++] = ch;
        }
    }
    *olen = len;
    return 0;
}

static int
form_decode_into(const char *s, size_t n, char *o, size_t *olen)
{
    return form_decode_bad(s, n, o, olen, NULL);
}

int
api_form_decode(qg_arena *a, const char *s, size_t n, char **out, size_t *out_len)
{
    char *o = qg_arena_alloc(a, n + 1);
    size_t len;
    if (form_decode_into(s, n, o, &len) < 0)
        return -1;
    o[len] = '\0';
    *out = o;
    *out_len = len;
    return 0;
}

/* Decodes into a reused scratch buffer: for parts that may not be kept, so
 * that a form full of unknown names costs no memory. */
static int
decode_scratch(qg_buf *b, const char *s, size_t n, const char **out, size_t *out_len, size_t *bad)
{
    qg_buf_reset(b);
    qg_buf_reserve(b, n);
    size_t len;
    if (form_decode_bad(s, n, b->data, &len, bad) < 0)
        return -1;
    b->data[len] = '\0';
    *out = b->data;
    *out_len = len;
    return 0;
}

/* ---- collection ---- */

static int
known_pid(const char *name, size_t n)
{
    for (int i = 0; i < P__COUNT; i++)
        if (strlen(pnames[i]) == n && memcmp(pnames[i], name, n) == 0)
            return i;
    return -1;
}

static bool
is_dollar(const char *name, size_t n)
{
    return n >= 2 && name[0] == '$';
}

/* An unknown name, for the answer's warnings (the first MAX_UNKNOWN
 * distinct ones). */
static void
note_unknown(pctx *c, const char *name, size_t n)
{
    if (c->nunknown >= MAX_UNKNOWN || c->quiet_unknown)
        return;
    for (size_t i = 0; i < c->nunknown; i++)
        if (strlen(c->unknown[i]) == n && memcmp(c->unknown[i], name, n) == 0)
            return;
    c->unknown[c->nunknown++] = shown(c, name, n > 100 ? 100 : n);
}

/* The known name closest to name, or NULL. */
static const char *
suggest_pid(const char *name, size_t n)
{
    return qg_suggest(name, n, pnames, P__COUNT);
}

static void
add_dollar(pctx *c, const pentry *e)
{
    qg_buf_add(&c->dollars, e, sizeof(*e));
}

static size_t
ndollars(const pctx *c)
{
    return c->dollars.len / sizeof(pentry);
}

/* One "name=value" (or "name") pair of a form or query string. A bad
 * escape anywhere is reported, also in a name that is then ignored: the
 * request is malformed either way. */
static int
form_pair(pctx *c, const char *s, size_t n)
{
    const char *eq = memchr(s, '=', n);
    size_t raw_name_len = eq ? (size_t)(eq - s) : n;
    const char *raw_val = eq ? eq + 1 : s + n;
    size_t raw_val_len = eq ? n - raw_name_len - 1 : 0;

    const char *name, *val;
    size_t name_len, val_len, bad = 0;
    if (decode_scratch(&c->sname, s, raw_name_len, &name, &name_len, &bad) < 0)
        return escape_error(c, s, raw_name_len, s, raw_name_len, bad);
    if (decode_scratch(&c->sval, raw_val, raw_val_len, &val, &val_len, &bad) < 0)
        return escape_error(c, name, name_len, raw_val, raw_val_len, bad);
    size_t pos = c->npos++;

    int pid = known_pid(name, name_len);
    if (pid < 0 && !is_dollar(name, name_len))
        note_unknown(c, name, name_len);
    if (pid >= 0 ? c->have[pid] : !is_dollar(name, name_len))
        return 0; /* shadowed by an earlier occurrence, or unknown */

    if (pid < 0 && ndollars(c) >= c->max_dollars) {
        char msg[64];
        snprintf(msg, sizeof(msg), "<more than %zu parameters>", c->max_dollars);
        param_error(c, pnames[P_ARGS], 4, msg, strlen(msg));
        return qg_error_append(c->err, ". Send fewer $name parameters");
    }
    pentry e;
    memset(&e, 0, sizeof(e));
    e.name = qg_arena_memdup0(&c->tmp, name, name_len);
    e.name_len = name_len;
    e.text = qg_arena_memdup0(&c->tmp, val, val_len);
    e.text_len = val_len;
    e.pos = pos;
    if (pid >= 0) {
        c->slot[pid] = e;
        c->have[pid] = true;
    } else {
        add_dollar(c, &e);
    }
    return 0;
}

/* Splits on '&' only (';' is data); empty pairs are skipped. */
static int
collect_form(pctx *c, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        const char *amp = memchr(s + i, '&', n - i);
        size_t j = amp ? (size_t)(amp - s) : n;
        if (j > i && form_pair(c, s + i, j - i) < 0)
            return -1;
        i = j + 1;
    }
    return 0;
}

/* ASX0048, saying what was not JSON and why (why: the parser's reason, or
 * NULL when the body is JSON but not an object). */
static int
bad_json(pctx *c, const char *what, const char *why)
{
    char detail[200];
    if (why)
        snprintf(detail, sizeof(detail), ": %s is not valid JSON (%s)", what, why);
    else
        snprintf(detail, sizeof(detail),
                 ": %s must be a JSON object with one member per parameter, "
                 "e.g. {\"statement\": \"SELECT 1\"}",
                 what);
    return qg_error_set(c->err, QG_E_BAD_JSON, detail);
}

static int
collect_json(pctx *c, const char *body, size_t len)
{
    qg_jval *doc = qg_arena_alloc(&c->tmp, sizeof(*doc));
    const char *why;
    if (qg_json_parse(body, len, &c->tmp, &c->lim, doc, &why) < 0)
        return bad_json(c, "the body", why);
    if (doc->type != QG_J_OBJECT)
        return bad_json(c, "the body", NULL);
    for (size_t k = 0; k < doc->count; k++) {
        const qg_jmember *m = &doc->members[k];
        pentry e;
        memset(&e, 0, sizeof(e));
        e.name = m->key;
        e.name_len = m->key_len;
        e.jv = &m->val;
        e.pos = c->npos++;
        int pid = known_pid(m->key, m->key_len);
        if (pid >= 0) {
            c->slot[pid] = e; /* the last occurrence wins */
            c->have[pid] = true;
        } else if (is_dollar(m->key, m->key_len)) {
            add_dollar(c, &e);
        } else {
            note_unknown(c, m->key, m->key_len);
        }
    }
    return 0;
}

typedef enum ctype { CT_OTHER, CT_JSON, CT_FORM } ctype;

/* The media type (before any ';'), compared exactly but case-insensitively,
 * so "application/jsonx" is neither. */
static ctype
classify(const char *ct)
{
    if (!ct)
        return CT_OTHER;
    const char *semi = strchr(ct, ';');
    const char *s = ct;
    size_t n = semi ? (size_t)(semi - ct) : strlen(ct);
    trim_ows(&s, &n);
    if (ieq(s, n, "application/json"))
        return CT_JSON;
    if (ieq(s, n, "application/x-www-form-urlencoded"))
        return CT_FORM;
    return CT_OTHER;
}

/* ---- scalar values ---- */

/* The value of a scalar parameter as text: 1 present, 0 absent, -1 error.
 * From JSON, strings give their decoded text, booleans "true"/"false",
 * numbers their source digits; null is absent; arrays and objects are
 * invalid (shown as their source). */
static int
scalar(pctx *c, int pid, const char **v, size_t *n)
{
    *v = NULL;
    *n = 0;
    if (!c->have[pid])
        return 0;
    const pentry *e = &c->slot[pid];
    if (!e->jv) {
        *v = e->text;
        *n = e->text_len;
        return 1;
    }
    switch (e->jv->type) {
    case QG_J_NULL:
        return 0;
    case QG_J_TRUE:
        *v = "true";
        *n = 4;
        return 1;
    case QG_J_FALSE:
        *v = "false";
        *n = 5;
        return 1;
    case QG_J_NUMBER:
        *v = e->jv->raw;
        *n = e->jv->raw_len;
        return 1;
    case QG_J_STRING:
        *v = e->jv->str;
        *n = e->jv->str_len;
        return 1;
    case QG_J_ARRAY:
    case QG_J_OBJECT:
        break;
    }
    return pid_error(c, pid, e->jv->raw, e->jv->raw_len);
}

/* A scalar that must also be valid UTF-8 without NULs. */
static int
scalar_text(pctx *c, int pid, const char **v, size_t *n)
{
    int r = scalar(c, pid, v, n);
    if (r > 0 && !text_ok(*v, *n))
        return pid_error(c, pid, *v, *n);
    return r;
}

/* Index of the value in choices (lower-case, NULL-terminated), compared
 * lower-cased: 1 found, 0 absent, -1 error. */
static int
get_enum(pctx *c, int pid, const char *const *choices, int *idx)
{
    const char *v;
    size_t n;
    int r = scalar_text(c, pid, &v, &n);
    if (r <= 0)
        return r;
    size_t nchoices = 0;
    for (int i = 0; choices[i]; i++, nchoices++) {
        if (ieq(v, n, choices[i])) {
            *idx = i;
            return 1;
        }
    }
    pid_error(c, pid, v, n);
    const char *near = qg_suggest(v, n, choices, nchoices);
    if (near)
        qg_error_append(c->err, " (did you mean %s?)", near);
    return -1;
}

static int
get_bool(pctx *c, int pid, bool *out)
{
    static const char *const tf[] = {"false", "true", NULL};
    int i;
    int r = get_enum(c, pid, tf, &i);
    if (r > 0)
        *out = i == 1;
    return r;
}

static int
get_duration(pctx *c, int pid, uint64_t *ns)
{
    const char *v;
    size_t n;
    int r = scalar_text(c, pid, &v, &n);
    if (r <= 0)
        return r;
    if (qg_duration_parse(v, n, ns) < 0)
        return pid_error(c, pid, v, n);
    return 1;
}

/* The shortest STATS or HEARTBEAT interval: below it a stream would be
 * mostly bookkeeping messages. */
#define STREAM_MIN_INTERVAL_NS (10 * 1000000ull)

/* stats and heartbeat: plain digits are milliseconds ("500"), anything else
 * a duration ("500ms", "2s"); 0 turns the message off, other values must be
 * at least STREAM_MIN_INTERVAL_NS. 1 present, 0 absent, -1 error. */
static int
get_interval(pctx *c, int pid, uint64_t *ns)
{
    const char *v;
    size_t n;
    int r = scalar_text(c, pid, &v, &n);
    if (r <= 0)
        return r;
    uint64_t ms, d;
    if (qg_parse_uint64(v, n, UINT64_MAX / 1000000, &ms))
        d = ms * 1000000;
    else if (qg_duration_parse(v, n, &d) < 0)
        return pid_error(c, pid, v, n);
    if (d != 0 && d < STREAM_MIN_INTERVAL_NS)
        return pid_error(c, pid, v, n);
    *ns = d;
    return 1;
}

/* ---- args and $name ---- */

/* The JSON value of args or a $name: the member's value in a JSON body, the
 * text parsed as JSON in a form. NULL (with the error set) if invalid. */
static const qg_jval *
json_of(pctx *c, const pentry *e)
{
    if (e->jv)
        return e->jv;
    qg_jval *v = qg_arena_alloc(&c->tmp, sizeof(*v));
    const char *why;
    if (qg_json_parse(e->text, e->text_len, &c->tmp, &c->lim, v, &why) < 0) {
        /* Not JSON at all is AsterixDB's ASX0048; JSON of the wrong kind
         * is left to the caller (ASX0047). */
        char what[80];
        snprintf(what, sizeof(what), "parameter '%.*s'", (int)(e->name_len > 60 ? 60 : e->name_len),
                 e->name);
        bad_json(c, what, why);
        if (e->name_len == 4 && memcmp(e->name, "args", 4) == 0)
            qg_error_append(c->err, ". args is a JSON array, e.g. args=[42,\"GB\"] (strings "
                                    "in double quotes)");
        else
            qg_error_append(c->err,
                            ". A $name value is JSON: a string goes in double quotes, "
                            "e.g. %.60s=\"GB\"; numbers, true, false and null as they are",
                            shown(c, e->name, e->name_len > 60 ? 60 : e->name_len));
        return NULL;
    }
    return v;
}

static bool
int_literal(const char *s, size_t n, int64_t *out)
{
    bool neg = n > 0 && s[0] == '-';
    size_t i = neg ? 1 : 0;
    uint64_t max = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v;
    if (!qg_parse_uint64(s + i, n - i, max, &v))
        return false;
    /* Two's complement: -(2^63) is reached through the unsigned value. */
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* Copies a JSON value into a qg_value in the query's arena. */
static void
to_value(qg_arena *qa, const qg_jval *j, qg_value *out)
{
    memset(out, 0, sizeof(*out));
    const char *src = j->raw;
    size_t len = j->raw_len;
    switch (j->type) {
    case QG_J_NULL:
        out->type = QG_VAL_NULL;
        break;
    case QG_J_TRUE:
    case QG_J_FALSE:
        out->type = QG_VAL_BOOL;
        out->i = j->type == QG_J_TRUE;
        break;
    case QG_J_NUMBER:
        /* Integers keep all 64 bits; only the rest goes through a double. */
        out->type = int_literal(src, len, &out->i) ? QG_VAL_INT : QG_VAL_REAL;
        break;
    case QG_J_STRING:
        out->type = QG_VAL_TEXT;
        src = j->str;
        len = j->str_len;
        break;
    case QG_J_ARRAY:
    case QG_J_OBJECT:
        out->type = QG_VAL_JSON;
        break;
    }
    out->text = qg_arena_memdup0(qa, src, len);
    out->len = len;
    if (out->type == QG_VAL_REAL)
        out->d = strtod(out->text, NULL);
}

static int
cmp_name_pos(const void *pa, const void *pb)
{
    const pentry *a = pa, *b = pb;
    size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
    int r = memcmp(a->name, b->name, n);
    if (r)
        return r;
    if (a->name_len != b->name_len)
        return a->name_len < b->name_len ? -1 : 1;
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

static int
cmp_first(const void *pa, const void *pb)
{
    const pentry *a = pa, *b = pb;
    return a->first < b->first ? -1 : a->first > b->first;
}

/* Reduces the $name occurrences to one per name, by the source's
 * precedence, in the order the names first appear. Sorting keeps this
 * O(n log n) whatever names a client sends. Returns the count. */
static size_t
dedup_dollars(pctx *c)
{
    pentry *d = (pentry *)c->dollars.data;
    size_t n = ndollars(c);
    if (n == 0)
        return 0;
    qsort(d, n, sizeof(*d), cmp_name_pos);
    size_t out = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && d[j].name_len == d[i].name_len &&
               memcmp(d[j].name, d[i].name, d[i].name_len) == 0)
            j++;
        pentry w = c->last_wins ? d[j - 1] : d[i];
        w.first = d[i].pos;
        d[out++] = w;
        i = j;
    }
    qsort(d, out, sizeof(*d), cmp_first);
    return out;
}

static int
check_args_and_named(pctx *c)
{
    qg_query *q = c->q;
    const qg_jval *args = NULL;
    if (c->have[P_ARGS]) {
        const pentry *e = &c->slot[P_ARGS];
        args = json_of(c, e);
        if (!args)
            return -1;
        if (args->type != QG_J_ARRAY)
            return e->jv ? pid_error(c, P_ARGS, e->jv->raw, e->jv->raw_len)
                         : pid_error(c, P_ARGS, e->text, e->text_len);
    }

    size_t nnamed = dedup_dollars(c);
    pentry *d = (pentry *)c->dollars.data;
    const qg_jval **vals = NULL;
    if (nnamed)
        vals = qg_arena_alloc(&c->tmp, nnamed * sizeof(*vals));
    for (size_t k = 0; k < nnamed; k++) {
        /* The name is bound by name in the statement: it must be text. */
        if (!text_ok(d[k].name, d[k].name_len)) {
            const char *v = d[k].jv ? d[k].jv->raw : d[k].text;
            size_t vn = d[k].jv ? d[k].jv->raw_len : d[k].text_len;
            return param_error(c, d[k].name, d[k].name_len, v, vn);
        }
        vals[k] = json_of(c, &d[k]);
        if (!vals[k])
            return -1;
    }

    size_t nargs = args ? args->count : 0;
    size_t total = nargs + nnamed;
    if (c->in->max_params && total > c->in->max_params) {
        char msg[64];
        snprintf(msg, sizeof(msg), "<%zu parameters>", total);
        param_error(c, pnames[P_ARGS], 4, msg, strlen(msg));
        return qg_error_append(c->err,
                               ". At most %zu args elements and $name parameters together "
                               "(the server's --max-params)",
                               c->in->max_params);
    }

    if (nargs) {
        q->args = qg_arena_alloc(&q->arena, nargs * sizeof(*q->args));
        for (size_t i = 0; i < nargs; i++)
            to_value(&q->arena, &args->items[i], &q->args[i]);
    }
    q->nargs = nargs;
    if (nnamed) {
        q->named = qg_arena_alloc(&q->arena, nnamed * sizeof(*q->named));
        for (size_t k = 0; k < nnamed; k++) {
            q->named[k].name = qg_arena_memdup0(&q->arena, d[k].name + 1, d[k].name_len - 1);
            to_value(&q->arena, vals[k], &q->named[k].val);
        }
    }
    q->nnamed = nnamed;
    return 0;
}

/* ---- format and Accept ---- */

/* format: json | csv | application/json | text/csv, or
 * "text/csv; header=present|absent" with optional spaces around ';'.
 * *header: 1 present, 0 absent, -1 not said. */
static bool
parse_format(const char *v, size_t n, qg_format *fmt, int *header)
{
    *header = -1;
    const char *semi = memchr(v, ';', n);
    if (!semi) {
        if (ieq(v, n, "json") || ieq(v, n, "application/json")) {
            *fmt = QG_FORMAT_JSON;
            return true;
        }
        if (ieq(v, n, "csv") || ieq(v, n, "text/csv")) {
            *fmt = QG_FORMAT_CSV;
            return true;
        }
        return false;
    }
    size_t tn = (size_t)(semi - v);
    while (tn > 0 && is_ows(v[tn - 1]))
        tn--;
    const char *p = semi + 1;
    size_t pn = n - (size_t)(p - v);
    while (pn > 0 && is_ows(*p))
        p++, pn--;
    if (!ieq(v, tn, "text/csv"))
        return false;
    if (ieq(p, pn, "header=present"))
        *header = 1;
    else if (ieq(p, pn, "header=absent"))
        *header = 0;
    else
        return false;
    *fmt = QG_FORMAT_CSV;
    return true;
}

/* One parameter of a media range in Accept: name and value, the value's
 * quotes removed. Returns false to refuse the range. */
typedef bool (*accept_param_fn)(const char *k, size_t kn, const char *v, size_t vn, void *arg);

/* Whether Accept lists the media type `type` in a range that fn, called for
 * each of the range's parameters, does not refuse. Accept is advice, never
 * an error: anything unreadable is just not that type. */
static bool
accept_has(const char *accept, const char *type, accept_param_fn fn, void *arg)
{
    if (!accept)
        return false;
    const char *s = accept;
    for (;;) {
        const char *comma = strchr(s, ',');
        const char *end = comma ? comma : s + strlen(s);
        const char *semi = memchr(s, ';', (size_t)(end - s));
        const char *t = s;
        size_t tn = (size_t)((semi ? semi : end) - s);
        trim_ows(&t, &tn);
        if (ieq(t, tn, type)) {
            bool refused = false;
            for (const char *p = semi; p && p < end && !refused;) {
                const char *q = p + 1;
                const char *next = memchr(q, ';', (size_t)(end - q));
                const char *pe = next ? next : end;
                const char *eq = memchr(q, '=', (size_t)(pe - q));
                if (eq) {
                    const char *k = q, *val = eq + 1;
                    size_t kn = (size_t)(eq - q), vn = (size_t)(pe - val);
                    trim_ows(&k, &kn);
                    trim_ows(&val, &vn);
                    if (vn >= 2 && val[0] == '"' && val[vn - 1] == '"')
                        val++, vn -= 2;
                    refused = !fn(k, kn, val, vn, arg);
                }
                p = next;
            }
            if (!refused)
                return true;
        }
        if (!comma)
            return false;
        s = comma + 1;
    }
}

/* text/csv: header=present asks for the header line. */
static bool
csv_param(const char *k, size_t kn, const char *v, size_t vn, void *arg)
{
    if (ieq(k, kn, "header") && ieq(v, vn, "present"))
        *(bool *)arg = true;
    return true;
}

/* Looks for text/csv in Accept; *header_present when that range has
 * header=present. */
static bool
accept_csv(const char *accept, bool *header_present)
{
    *header_present = false;
    return accept_has(accept, "text/csv", csv_param, header_present);
}

/* A q of zero (0, 0., 0.0, 0.00, 0.000) refuses the range. */
static bool
sse_param(const char *k, size_t kn, const char *v, size_t vn, void *arg)
{
    (void)arg;
    bool zero = vn >= 1 && v[0] == '0';
    for (size_t i = 1; zero && i < vn; i++)
        zero = (i == 1 && v[i] == '.') || (i > 1 && v[i] == '0');
    return !(ieq(k, kn, "q") && zero);
}

/* Whether Accept lists text/event-stream in a range it does not refuse. */
static bool
accept_sse(const char *accept)
{
    return accept_has(accept, "text/event-stream", sse_param, NULL);
}

/* ---- validation ---- */

/* An idempotency key: 1 to 255 bytes of printable ASCII, not only
 * spaces (what clients send as a UUID or a request number). */
static bool
idem_key_ok(const char *s, size_t n)
{
    if (n == 0 || n > API_IDEM_KEY_MAX)
        return false;
    bool seen = false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x20 || s[i] > 0x7e)
            return false;
        seen = seen || s[i] != ' ';
    }
    return seen;
}

/* ASX0040, and what the request seems to have meant: an empty statement,
 * a misspelt name, a body that was not read (body_ignored), or the forms
 * a statement can take. */
static int
no_statement(pctx *c, bool blank)
{
    qg_error_set(c->err, QG_E_NO_STATEMENT);
    if (blank)
        return qg_error_append(c->err, ": 'statement' is empty; send the SQL text, e.g. "
                                       "statement=SELECT 1");
    for (size_t i = 0; i < c->nunknown; i++) {
        const char *near = suggest_pid(c->unknown[i], strlen(c->unknown[i]));
        if (near && strcmp(near, "statement") == 0)
            return qg_error_append(
                c->err, ": parameter '%s' is not known; did you mean 'statement'?", c->unknown[i]);
    }
    if (c->body_ignored)
        return qg_error_append(c->err, ": %s", c->body_ignored);
    return qg_error_append(c->err, ": send the SQL text as the parameter 'statement', in the query "
                                   "string or a form body (statement=SELECT 1), or as "
                                   "application/json ({\"statement\": \"SELECT 1\"})");
}

/* statement, mode, client_context_id, readonly, pretty, args and $names. */
static int
validate_request(pctx *c)
{
    qg_query *q = c->q;
    const api_params_in *in = c->in;
    const char *v;
    size_t n;
    int r, idx;

    /* statement: presence first, then size (reported as a size: the text
     * may be megabytes), then its bytes. */
    r = scalar(c, P_STATEMENT, &v, &n);
    if (r < 0)
        return -1;
    if (r == 0 || all_space(v, n))
        return no_statement(c, r > 0);
    if (in->max_statement && n > in->max_statement) {
        char msg[48];
        snprintf(msg, sizeof(msg), "<%zu bytes>", n);
        param_error(c, pnames[P_STATEMENT], 9, msg, strlen(msg));
        return qg_error_append(c->err,
                               ". A statement may be at most %zu bytes (the server's "
                               "--max-statement)",
                               in->max_statement);
    }
    if (!text_ok(v, n))
        return pid_error(c, P_STATEMENT, v, n);
    q->statement = qg_arena_memdup0(&q->arena, v, n);
    q->statement_len = n;

    static const char *const modes[] = {"immediate", "deferred", "async", "stream", NULL};
    r = get_enum(c, P_MODE, modes, &idx);
    if (r < 0)
        return -1;
    if (r > 0) {
        static const qg_mode as_mode[] = {QG_MODE_IMMEDIATE, QG_MODE_DEFERRED, QG_MODE_ASYNC,
                                          QG_MODE_IMMEDIATE};
        q->mode = as_mode[idx];
        q->stream = idx == 3;
    }

    r = scalar_text(c, P_CLIENT_CONTEXT_ID, &v, &n);
    if (r < 0)
        return -1;
    if (r > 0 && n > 0)
        q->client_context_id = qg_arena_memdup0(&q->arena, v, n);

    if (get_bool(c, P_READONLY, &q->readonly) < 0 || get_bool(c, P_PRETTY, &q->pretty) < 0)
        return -1;
    return check_args_and_named(c);
}

/* timeout, max-result-reads, result-ttl, signature, multi-statement,
 * format (and Accept), the stream's intervals. */
static int
validate_options(pctx *c)
{
    qg_query *q = c->q;
    const api_params_in *in = c->in;
    const char *v;
    size_t n;
    int r;

    if (get_duration(c, P_TIMEOUT, &q->timeout_ns) < 0)
        return -1;

    r = scalar_text(c, P_MAX_RESULT_READS, &v, &n);
    if (r < 0)
        return -1;
    if (r > 0) {
        uint64_t reads;
        if (!qg_parse_uint64(v, n, UINT32_MAX, &reads) || reads < 1)
            return pid_error(c, P_MAX_RESULT_READS, v, n);
        q->max_result_reads = (uint32_t)reads;
    }

    if (get_duration(c, P_RESULT_TTL, &q->result_ttl_ns) < 0)
        return -1;

    if (get_bool(c, P_SIGNATURE, &q->signature) < 0 ||
        get_bool(c, P_MULTI_STATEMENT, &q->multi_statement) < 0)
        return -1;

    bool accept_header;
    bool accept_is_csv = accept_csv(in->accept, &accept_header);
    r = scalar_text(c, P_FORMAT, &v, &n);
    if (r < 0)
        return -1;
    if (r > 0) {
        int header;
        if (!parse_format(v, n, &q->format, &header))
            return pid_error(c, P_FORMAT, v, n);
        /* a stream's records are JSON objects: CSV is not one of its formats */
        if (q->stream && q->format == QG_FORMAT_CSV) {
            param_error(c, pnames[P_FORMAT], 6, v, n);
            return qg_error_append(c->err, ". mode=stream sends JSON only: use format=json, or "
                                           "mode=immediate for CSV");
        }
        if (q->format == QG_FORMAT_CSV)
            q->csv_header = header >= 0 ? header == 1 : (accept_is_csv && accept_header);
    } else if (accept_is_csv && !q->stream) {
        q->format = QG_FORMAT_CSV;
        q->csv_header = accept_header;
    }
    if (q->stream)
        q->stream_sse = accept_sse(in->accept);

    /* Stream intervals: validated in every mode, used by mode=stream. */
    if (get_interval(c, P_STATS, &q->stats_ns) < 0)
        return -1;
    r = get_interval(c, P_HEARTBEAT, &q->heartbeat_ns);
    if (r < 0)
        return -1;
    q->heartbeat_given = r > 0;
    return 0;
}

/* AsterixDB's plan and profile parameters: accepted for its clients,
 * validated, then without effect. */
static int
validate_ignored(pctx *c)
{
    const char *v;
    size_t n;
    int r, idx;
    static const char *const plan_formats[] = {"json", "string", NULL};
    static const char *const profiles[] = {"true", "false", "counts", "timings", "off", NULL};
    static const int plan_bools[] = {P_LOGICAL_PLAN, P_OPTIMIZED_LOGICAL_PLAN, P_EXPRESSION_TREE,
                                     P_REWRITTEN_EXPRESSION_TREE, P_JOB};
    if (get_enum(c, P_PLAN_FORMAT, plan_formats, &idx) < 0)
        return -1;
    for (size_t k = 0; k < sizeof(plan_bools) / sizeof(plan_bools[0]); k++) {
        bool ignored;
        if (get_bool(c, plan_bools[k], &ignored) < 0)
            return -1;
    }
    r = scalar_text(c, P_MAX_WARNINGS, &v, &n);
    if (r < 0)
        return -1;
    uint64_t warnings;
    if (r > 0 && !qg_parse_uint64(v, n, INT64_MAX, &warnings))
        return pid_error(c, P_MAX_WARNINGS, v, n);
    if (get_enum(c, P_PROFILE, profiles, &idx) < 0)
        return -1;
    return 0;
}

/* qgate's own: callback_url, wait, on_wait_timeout, the idempotency key
 * (parameter, else header). */
static int
validate_qgate(pctx *c)
{
    qg_query *q = c->q;
    const api_params_in *in = c->in;
    const char *v;
    size_t n;
    int r, idx;

    r = scalar_text(c, P_CALLBACK_URL, &v, &n);
    if (r < 0)
        return -1;
    if (r > 0) {
        gw_url u;
        if (gw_url_parse(v, n, &u) != 0)
            return pid_error(c, P_CALLBACK_URL, v, n);
        q->callback_url = qg_arena_memdup0(&q->arena, v, n);
    }
    r = get_duration(c, P_WAIT, &q->wait_ns);
    if (r < 0)
        return -1;
    if (r > 0 && in->max_wait_ns && q->wait_ns > in->max_wait_ns) {
        scalar_text(c, P_WAIT, &v, &n);
        param_error(c, pnames[P_WAIT], 4, v, n);
        char max[QG_DURATION_MAX_TEXT];
        max[qg_duration_format(in->max_wait_ns, max)] = '\0';
        return qg_error_append(c->err,
                               ". wait may be at most %s (the server's --max-wait); poll the "
                               "status handle for longer jobs",
                               max);
    }
    static const char *const on_timeout[] = {"continue", "cancel", NULL};
    r = get_enum(c, P_ON_WAIT_TIMEOUT, on_timeout, &idx);
    if (r < 0)
        return -1;
    q->wait_cancel = r > 0 && idx == 1;
    r = scalar_text(c, P_IDEMPOTENCY_KEY, &v, &n);
    if (r < 0)
        return -1;
    if (r > 0) {
        if (!idem_key_ok(v, n))
            return pid_error(c, P_IDEMPOTENCY_KEY, v, n);
        q->idempotency_key = qg_arena_memdup0(&q->arena, v, n);
    } else if (in->idempotency_key) {
        const char *h = in->idempotency_key;
        size_t hn = strlen(h);
        if (!idem_key_ok(h, hn)) {
            param_error(c, "Idempotency-Key", 15, h, hn);
            return qg_error_append(c->err, ". %s", phints[P_IDEMPOTENCY_KEY]);
        }
        q->idempotency_key = qg_arena_memdup0(&q->arena, h, hn);
    }
    return 0;
}

/* Every parameter, in this order (the first bad one is the error). */
static int
validate(pctx *c)
{
    if (validate_request(c) < 0 || validate_options(c) < 0 || validate_ignored(c) < 0 ||
        validate_qgate(c) < 0)
        return -1;
    if (c->in->is_get) {
        c->q->readonly = true;
        c->q->readonly_get = true;
    }
    return 0;
}

/* Whether a body looks like a JSON document (its first non-blank byte). */
static bool
looks_like_json(const char *b, size_t n)
{
    size_t i = 0;
    while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n'))
        i++;
    return i < n && (b[i] == '{' || b[i] == '[');
}

/* Why the body was not read as the client probably meant, or NULL: a GET's
 * body, a JSON document sent as a form or with another type, a body whose
 * type is neither of the two. */
static const char *
body_ignored_why(const api_params_in *in, ctype ct)
{
    if (!in->body || in->body_len == 0 || ct == CT_JSON)
        return NULL;
    if (in->is_get)
        return "a GET's body is ignored; put the parameters in the query string, or POST "
               "the body";
    if (looks_like_json(in->body, in->body_len))
        return ct == CT_FORM ? "the body looks like JSON but was sent as a form "
                               "(application/x-www-form-urlencoded, curl -d's default); send it "
                               "with Content-Type: application/json"
                             : "the body looks like JSON; send it with Content-Type: "
                               "application/json";
    if (ct == CT_OTHER)
        return in->content_type ? "its Content-Type is neither application/x-www-form-urlencoded "
                                  "nor application/json, so only the query string was read"
                                : "it has no Content-Type, so only the query string was read; "
                                  "send Content-Type: application/x-www-form-urlencoded or "
                                  "application/json";
    return NULL;
}

static void
add_warning(qg_buf *b, const qg_error *w)
{
    if (b->len)
        qg_buf_addc(b, ',');
    qg_buf_addlit(b, "{\"code\":1,\"msg\":");
    qg_json_string(b, w->msg, strlen(w->msg));
    qg_buf_addc(b, '}');
}

/* The answer's warnings: each unknown name (with the known one it is
 * closest to), and an ignored body. */
static void
make_warnings(pctx *c)
{
    qg_buf b = QG_BUF_INIT;
    qg_error w;
    uint32_t n = 0;
    for (size_t i = 0; i < c->nunknown; i++, n++) {
        const char *name = c->unknown[i];
        const char *near = suggest_pid(name, strlen(name));
        char hint[80] = "";
        if (near)
            snprintf(hint, sizeof(hint), "; did you mean '%s'?", near);
        qg_error_set(&w, QG_E_W_UNKNOWN_PARAM, name, hint);
        add_warning(&b, &w);
    }
    if (c->body_ignored) {
        qg_error_set(&w, QG_E_W_BODY_IGNORED, c->body_ignored);
        add_warning(&b, &w);
        n++;
    }
    if (n) {
        c->q->warnings = qg_arena_memdup0(&c->q->arena, b.data, b.len);
        c->q->nwarnings = n;
    }
    qg_buf_free(&b);
}

int
api_params_parse(const api_params_in *in, qg_query *q, qg_error *err)
{
    pctx c;
    memset(&c, 0, sizeof(c));
    c.in = in;
    c.q = q;
    c.err = err;
    c.lim.max_depth = JSON_MAX_DEPTH;
    c.lim.max_values = JSON_BASE_VALUES;
    if (in->max_params > SIZE_MAX - c.lim.max_values)
        c.lim.max_values = SIZE_MAX;
    else
        c.lim.max_values += in->max_params;
    /* A form's $name occurrences get the bound a JSON body's values have. */
    c.max_dollars = c.lim.max_values;
    qg_error_clear(err);

    int rc;
    ctype ct = in->is_get ? CT_OTHER : classify(in->content_type);
    c.body_ignored = body_ignored_why(in, ct);
    if (ct == CT_JSON) {
        c.last_wins = true;
        rc = collect_json(&c, in->body, in->body_len);
    } else {
        rc = 0;
        if (ct == CT_FORM && in->body) {
            /* a JSON document read as a form is one odd name: not worth a warning of its own */
            c.quiet_unknown = c.body_ignored != NULL;
            rc = collect_form(&c, in->body, in->body_len);
            c.quiet_unknown = false;
        }
        if (rc == 0 && in->query)
            rc = collect_form(&c, in->query, in->query_len);
    }
    if (rc == 0)
        rc = validate(&c);
    if (rc == 0)
        make_warnings(&c);

    qg_buf_free(&c.sname);
    qg_buf_free(&c.sval);
    qg_buf_free(&c.dollars);
    qg_arena_free(&c.tmp);
    return rc;
}

/* ---- result reads ---- */

int
api_result_params_parse(const char *query, size_t len, api_result_params *out, qg_error *err)
{
    memset(out, 0, sizeof(*out));
    qg_error_clear(err);
    if (!query)
        return 0;
    qg_arena a;
    memset(&a, 0, sizeof(a));
    bool seen_rows = false;
    int rc = 0;
    size_t i = 0;
    while (rc == 0 && i < len) {
        const char *amp = memchr(query + i, '&', len - i);
        size_t j = amp ? (size_t)(amp - query) : len;
        const char *s = query + i, *eq = memchr(s, '=', j - i);
        size_t rn = eq ? (size_t)(eq - s) : j - i;
        const char *rv = eq ? eq + 1 : s + rn;
        size_t rvn = eq ? j - i - rn - 1 : 0;
        char *name, *val;
        size_t nn, vn;
        i = j + 1;
        if (rn == 0)
            continue;
        if (api_form_decode(&a, s, rn, &name, &nn) != 0 ||
            api_form_decode(&a, rv, rvn, &val, &vn) != 0) {
            rc = qg_error_set(err, QG_E_PARAM, "<query string>", "<malformed %-escape>");
            qg_error_append(err, ". A %% starts an escape of two hex digits; write a literal %% "
                                 "as %%25");
            break;
        }
        uint64_t u;
        if (nn == 4 && memcmp(name, "rows", 4) == 0) {
            if (seen_rows)
                continue;
            seen_rows = true;
            if (ieq(val, vn, "arrays"))
                out->arrays = true;
            else if (!ieq(val, vn, "objects"))
                rc = qg_error_set(err, QG_E_PARAM, "rows", text_ok(val, vn) ? val : "?"),
                qg_error_append(err, ". Expected objects or arrays");
        } else if (nn == 6 && memcmp(name, "offset", 6) == 0) {
            if (out->has_offset)
                continue;
            if (!qg_parse_uint64(val, vn, INT64_MAX, &u))
                rc = qg_error_set(err, QG_E_PARAM, "offset", text_ok(val, vn) ? val : "?"),
                qg_error_append(err, ". Expected a whole number of rows to skip, e.g. "
                                     "offset=1000");
            else
                out->offset = u;
            out->has_offset = true;
        } else if (nn == 5 && memcmp(name, "limit", 5) == 0) {
            if (out->has_limit)
                continue;
            if (!qg_parse_uint64(val, vn, INT64_MAX, &u))
                rc = qg_error_set(err, QG_E_PARAM, "limit", text_ok(val, vn) ? val : "?"),
                qg_error_append(err, ". Expected a whole number of rows, e.g. limit=100");
            else
                out->limit = u;
            out->has_limit = true;
        }
    }
    qg_arena_free(&a);
    return rc;
}
