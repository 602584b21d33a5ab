/*
 * record: encoding and decoding of job records (see record.h).
 *
 * Integers are big-endian and fixed width; byte strings are a be32 length
 * and the bytes; an absent string has the length 0xFFFFFFFF. The decoder is
 * a bounds-checked cursor that turns any short read into a failure, so a
 * damaged record is refused instead of read past its end.
 */
#include "store/record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

#define ABSENT 0xFFFFFFFFu

/* Flag bits of the header's options byte. */
enum {
    F_READONLY = 1,
    F_PRETTY = 2,
    F_SIGNATURE = 4,
    F_MULTI = 8,
    F_CSV_HEADER = 16,
    F_RERUNNABLE = 32,
    F_QUERIES = 64,
};

/* On-disk spellings of the enums that are not ours to number. */
enum { DISK_IMMEDIATE = 0, DISK_DEFERRED = 1, DISK_ASYNC = 2 };
enum { DISK_JSON = 0, DISK_CSV = 1 };
enum { DISK_NULL = 0, DISK_BOOL, DISK_INT, DISK_REAL, DISK_TEXT, DISK_JSONV };

/* --- jobs ---------------------------------------------------------------- */

void
store_job_init(store_job *j)
{
    memset(j, 0, sizeof(*j));
    j->state = STORE_QUEUED;
    j->mode = QG_MODE_ASYNC;
    j->signature = true;
    j->multi_statement = true;
    j->max_result_reads = 1;
    qg_error_clear(&j->error);
}

void
store_job_free(store_job *j)
{
    free(j->sets);
    j->sets = NULL;
    j->nsets = 0;
}

void
store_job_set_sets(store_job *j, const store_set *sets, uint32_t n)
{
    free(j->sets);
    j->sets = NULL;
    j->nsets = n;
    if (n) {
        j->sets = qg_malloc(sizeof(store_set) * n);
        memcpy(j->sets, sets, sizeof(store_set) * n);
    }
}

void
store_job_copy(store_job *dst, const store_job *src)
{
    *dst = *src;
    dst->sets = NULL;
    dst->nsets = 0;
    store_job_set_sets(dst, src->sets, src->nsets);
}

void
store_job_from_query(store_job *j, const qg_query *q, const char *request_id,
                     uint64_t default_ttl_ns)
{
    j->mode = q->mode;
    j->readonly = q->readonly;
    j->pretty = q->pretty;
    j->signature = q->signature;
    j->multi_statement = q->multi_statement;
    j->csv_header = q->csv_header;
    j->format = q->format;
    j->timeout_ns = q->timeout_ns;
    j->max_result_reads = q->max_result_reads ? q->max_result_reads : 1;
    j->ttl_ns = q->result_ttl_ns ? q->result_ttl_ns : default_ttl_ns;
    j->cb_state = q->callback_url ? STORE_CB_PENDING : STORE_CB_NONE;
    snprintf(j->request_id, sizeof(j->request_id), "%s", request_id ? request_id : "");
}

const char *
store_cb_state_name(store_cb_state s)
{
    switch (s) {
    case STORE_CB_NONE:
        return "none";
    case STORE_CB_PENDING:
        return "pending";
    case STORE_CB_DELIVERED:
        return "delivered";
    case STORE_CB_FAILED:
        return "failed";
    }
    return "?";
}

bool
store_state_active(store_state s)
{
    return s == STORE_QUEUED || s == STORE_RUNNING;
}

const char *
store_state_name(store_state s)
{
    switch (s) {
    case STORE_QUEUED:
        return "queued";
    case STORE_RUNNING:
        return "running";
    case STORE_SUCCESS:
        return "success";
    case STORE_FAILED:
        return "failed";
    case STORE_TIMEOUT:
        return "timeout";
    }
    return "?";
}

/* --- writing ------------------------------------------------------------- */

static void
put_u8(qg_buf *b, unsigned v)
{
    qg_buf_addc(b, (char)(unsigned char)v);
}

static void
put_be32(qg_buf *b, uint32_t v)
{
    unsigned char p[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    qg_buf_add(b, p, 4);
}

static void
put_be64(qg_buf *b, uint64_t v)
{
    put_be32(b, (uint32_t)(v >> 32));
    put_be32(b, (uint32_t)v);
}

static void
put_bytes(qg_buf *b, const void *p, size_t n)
{
    put_be32(b, (uint32_t)n);
    qg_buf_add(b, p, n);
}

static void
put_str(qg_buf *b, const char *s)
{
    if (!s)
        put_be32(b, ABSENT);
    else
        put_bytes(b, s, strlen(s));
}

static unsigned
mode_disk(qg_mode m)
{
    switch (m) {
    case QG_MODE_IMMEDIATE:
        return DISK_IMMEDIATE;
    case QG_MODE_DEFERRED:
        return DISK_DEFERRED;
    case QG_MODE_ASYNC:
        return DISK_ASYNC;
    }
    return DISK_ASYNC;
}

static unsigned
vtype_disk(qg_vtype t)
{
    switch (t) {
    case QG_VAL_NULL:
        return DISK_NULL;
    case QG_VAL_BOOL:
        return DISK_BOOL;
    case QG_VAL_INT:
        return DISK_INT;
    case QG_VAL_REAL:
        return DISK_REAL;
    case QG_VAL_TEXT:
        return DISK_TEXT;
    case QG_VAL_JSON:
        return DISK_JSONV;
    }
    return DISK_NULL;
}

static void
put_value(qg_buf *b, const qg_value *v)
{
    uint64_t bits;
    memcpy(&bits, &v->d, sizeof(bits));
    put_u8(b, vtype_disk(v->type));
    put_be64(b, (uint64_t)v->i);
    put_be64(b, bits);
    if (v->text)
        put_bytes(b, v->text, v->len);
    else
        put_be32(b, ABSENT);
}

/* An error by its row's name and its message; absent for QG_OK. */
static void
put_error(qg_buf *b, const qg_error *e)
{
    if (e->code == QG_OK) {
        put_be32(b, ABSENT);
    } else {
        put_str(b, qg_err_name(e->code));
        put_str(b, e->msg);
    }
}

void
store_record_encode_header(const store_job *j, qg_buf *out)
{
    unsigned flags = (j->readonly ? F_READONLY : 0) | (j->pretty ? F_PRETTY : 0) |
                     (j->signature ? F_SIGNATURE : 0) | (j->multi_statement ? F_MULTI : 0) |
                     (j->csv_header ? F_CSV_HEADER : 0) | (j->rerunnable ? F_RERUNNABLE : 0) |
                     (j->queries ? F_QUERIES : 0);
    put_u8(out, STORE_RECORD_VERSION);
    put_u8(out, (unsigned)j->state);
    put_u8(out, mode_disk(j->mode));
    put_u8(out, flags);
    put_u8(out, j->format == QG_FORMAT_CSV ? DISK_CSV : DISK_JSON);
    put_be64(out, j->id);
    put_be64(out, j->created_ns);
    put_be64(out, j->started_ns);
    put_be64(out, j->finished_ns);
    put_be64(out, j->expires_ns);
    put_be64(out, j->ttl_ns);
    put_be64(out, j->timeout_ns);
    put_be32(out, j->max_result_reads);
    put_str(out, j->request_id);
    put_str(out, j->principal[0] ? j->principal : NULL);
    put_error(out, &j->error);
    const qg_metrics *m = &j->metrics;
    const uint64_t mv[] = {m->elapsed_ns,        m->execution_ns,  m->compile_ns,
                           m->queue_wait_ns,     m->result_count,  m->result_size,
                           m->processed_objects, m->warning_count, m->error_count};
    for (size_t i = 0; i < sizeof(mv) / sizeof(mv[0]); i++)
        put_be64(out, mv[i]);
    put_u8(out, (unsigned)j->cb_state);
    put_be32(out, j->cb_attempts);
    put_be64(out, j->cb_next_ns);
    put_be64(out, j->cb_last_ns);
    put_str(out, j->cb_error[0] ? j->cb_error : NULL);
    put_be32(out, j->nsets);
    for (uint32_t i = 0; i < j->nsets; i++) {
        put_be64(out, j->sets[i].rows);
        put_be64(out, j->sets[i].bytes);
        put_be32(out, j->sets[i].pages);
        put_be32(out, j->sets[i].reads_left);
    }
}

void
store_record_encode(const store_job *j, const qg_query *q, qg_buf *out)
{
    store_record_encode_header(j, out);
    put_bytes(out, q->statement ? q->statement : "", q->statement ? q->statement_len : 0);
    put_str(out, q->client_context_id);
    put_be32(out, (uint32_t)q->nargs);
    for (size_t i = 0; i < q->nargs; i++)
        put_value(out, &q->args[i]);
    put_be32(out, (uint32_t)q->nnamed);
    for (size_t i = 0; i < q->nnamed; i++) {
        put_str(out, q->named[i].name);
        put_value(out, &q->named[i].val);
    }
    put_str(out, q->callback_url);
    put_str(out, q->handle_base);
}

/* --- reading ------------------------------------------------------------- */

typedef struct cur {
    const unsigned char *p;
    size_t n, off;
    bool bad;
} cur;

static bool
need(cur *c, size_t k)
{
    if (c->bad || c->n - c->off < k) {
        c->bad = true;
        return false;
    }
    return true;
}

static unsigned
get_u8(cur *c)
{
    if (!need(c, 1))
        return 0;
    return c->p[c->off++];
}

static uint32_t
get_be32(cur *c)
{
    if (!need(c, 4))
        return 0;
    const unsigned char *p = c->p + c->off;
    c->off += 4;
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
get_be64(cur *c)
{
    uint64_t hi = get_be32(c);
    return hi << 32 | get_be32(c);
}

/* A byte string: sets *p (into the record) and *n; *absent for the absent
 * marker. */
static bool
get_bytes(cur *c, const char **p, size_t *n, bool *absent)
{
    uint32_t len = get_be32(c);
    if (c->bad)
        return false;
    if (len == ABSENT) {
        if (!absent) {
            c->bad = true;
            return false;
        }
        *absent = true;
        *p = NULL;
        *n = 0;
        return true;
    }
    if (absent)
        *absent = false;
    if (!need(c, len))
        return false;
    *p = (const char *)c->p + c->off;
    *n = len;
    c->off += len;
    return true;
}

static bool
state_ok(unsigned s)
{
    return s >= STORE_QUEUED && s <= STORE_TIMEOUT;
}

/* The error table row called name, or -1. */
static int
code_by_name(const char *name, size_t n)
{
    for (int c = 0; c < QG_E__COUNT; c++) {
        const char *cn = qg_err_name((qg_code)c);
        if (strlen(cn) == n && memcmp(cn, name, n) == 0)
            return c;
    }
    return -1;
}

static bool
get_error(cur *c, qg_error *e)
{
    const char *s;
    size_t sn;
    bool absent;
    qg_error_clear(e);
    if (!get_bytes(c, &s, &sn, &absent))
        return false;
    if (absent)
        return true;
    int code = code_by_name(s, sn);
    const char *msg;
    size_t mn;
    if (!get_bytes(c, &msg, &mn, NULL) || mn >= sizeof(e->msg))
        return false;
    /* A row renamed or removed since the record was written: keep the
     * message (it carries the ASX code) under a generic row. */
    e->code = code > 0 ? (qg_code)code : QG_E_INTERNAL;
    memcpy(e->msg, msg, mn);
    e->msg[mn] = '\0';
    return true;
}

int
store_record_decode(const void *p, size_t n, store_job *j, size_t *query_off)
{
    cur c = {p, n, 0, false};
    store_job_free(j);
    store_job_init(j);
    if (get_u8(&c) != STORE_RECORD_VERSION || c.bad)
        return -1;
    unsigned state = get_u8(&c), mode = get_u8(&c), flags = get_u8(&c), format = get_u8(&c);
    if (c.bad || !state_ok(state) || mode > DISK_ASYNC || format > DISK_CSV || flags >= 128)
        return -1;
    j->state = (store_state)state;
    j->mode = mode == DISK_IMMEDIATE  ? QG_MODE_IMMEDIATE
              : mode == DISK_DEFERRED ? QG_MODE_DEFERRED
                                      : QG_MODE_ASYNC;
    j->format = format == DISK_CSV ? QG_FORMAT_CSV : QG_FORMAT_JSON;
    j->readonly = flags & F_READONLY;
    j->pretty = flags & F_PRETTY;
    j->signature = flags & F_SIGNATURE;
    j->multi_statement = flags & F_MULTI;
    j->csv_header = flags & F_CSV_HEADER;
    j->rerunnable = flags & F_RERUNNABLE;
    j->queries = flags & F_QUERIES;
    j->id = get_be64(&c);
    j->created_ns = get_be64(&c);
    j->started_ns = get_be64(&c);
    j->finished_ns = get_be64(&c);
    j->expires_ns = get_be64(&c);
    j->ttl_ns = get_be64(&c);
    j->timeout_ns = get_be64(&c);
    j->max_result_reads = get_be32(&c);

    const char *s;
    size_t sn;
    bool absent;
    if (!get_bytes(&c, &s, &sn, NULL) || sn > QG_UUID_LEN)
        return -1;
    memcpy(j->request_id, s, sn);
    j->request_id[sn] = '\0';
    if (!get_bytes(&c, &s, &sn, &absent) || sn >= sizeof(j->principal))
        return -1;
    if (!absent)
        memcpy(j->principal, s, sn);
    j->principal[absent ? 0 : sn] = '\0';
    if (!get_error(&c, &j->error))
        return -1;
    qg_metrics *m = &j->metrics;
    uint64_t *mv[] = {&m->elapsed_ns,        &m->execution_ns,  &m->compile_ns,
                      &m->queue_wait_ns,     &m->result_count,  &m->result_size,
                      &m->processed_objects, &m->warning_count, &m->error_count};
    for (size_t i = 0; i < sizeof(mv) / sizeof(mv[0]); i++)
        *mv[i] = get_be64(&c);
    unsigned cb = get_u8(&c);
    if (cb > STORE_CB_FAILED)
        return -1;
    j->cb_state = (store_cb_state)cb;
    j->cb_attempts = get_be32(&c);
    j->cb_next_ns = get_be64(&c);
    j->cb_last_ns = get_be64(&c);
    if (!get_bytes(&c, &s, &sn, &absent) || sn >= sizeof(j->cb_error))
        return -1;
    if (!absent)
        memcpy(j->cb_error, s, sn);
    j->cb_error[absent ? 0 : sn] = '\0';
    uint32_t nsets = get_be32(&c);
    /* each set takes 24 bytes: a count beyond what is left is damage */
    if (c.bad || nsets > (c.n - c.off) / 24)
        return -1;
    if (nsets) {
        j->sets = qg_malloc(sizeof(store_set) * nsets);
        j->nsets = nsets;
        for (uint32_t i = 0; i < nsets; i++) {
            j->sets[i].rows = get_be64(&c);
            j->sets[i].bytes = get_be64(&c);
            j->sets[i].pages = get_be32(&c);
            j->sets[i].reads_left = get_be32(&c);
        }
    }
    if (c.bad)
        return -1;
    *query_off = c.off;
    return 0;
}

static bool
get_value(cur *c, qg_arena *a, qg_value *v)
{
    unsigned t = get_u8(c);
    v->i = (int64_t)get_be64(c);
    uint64_t bits = get_be64(c);
    memcpy(&v->d, &bits, sizeof(bits));
    const char *s;
    size_t n;
    bool absent;
    if (!get_bytes(c, &s, &n, &absent) || t > DISK_JSONV)
        return false;
    static const qg_vtype types[] = {QG_VAL_NULL, QG_VAL_BOOL, QG_VAL_INT,
                                     QG_VAL_REAL, QG_VAL_TEXT, QG_VAL_JSON};
    v->type = types[t];
    v->text = absent ? NULL : qg_arena_memdup0(a, s, n);
    v->len = n;
    return true;
}

int
store_record_decode_query(const void *p, size_t n, const store_job *j, qg_query *q)
{
    cur c = {p, n, 0, false};
    q->mode = j->mode;
    q->readonly = j->readonly;
    q->pretty = j->pretty;
    q->signature = j->signature;
    q->multi_statement = j->multi_statement;
    q->format = j->format;
    q->csv_header = j->csv_header;
    q->timeout_ns = j->timeout_ns;
    q->max_result_reads = j->max_result_reads;
    q->result_ttl_ns = j->ttl_ns;

    const char *s;
    size_t sn;
    bool absent;
    if (!get_bytes(&c, &s, &sn, NULL))
        return -1;
    q->statement = qg_arena_memdup0(&q->arena, s, sn);
    q->statement_len = sn;
    if (!get_bytes(&c, &s, &sn, &absent))
        return -1;
    q->client_context_id = absent ? NULL : qg_arena_memdup0(&q->arena, s, sn);

    /* a value takes at least 21 bytes, a named one 25 */
    uint32_t nargs = get_be32(&c);
    if (c.bad || nargs > (c.n - c.off) / 21)
        return -1;
    q->nargs = nargs;
    q->args = nargs ? qg_arena_alloc(&q->arena, sizeof(qg_value) * nargs) : NULL;
    for (uint32_t i = 0; i < nargs; i++)
        if (!get_value(&c, &q->arena, &q->args[i]))
            return -1;
    uint32_t nnamed = get_be32(&c);
    if (c.bad || nnamed > (c.n - c.off) / 25)
        return -1;
    q->nnamed = nnamed;
    q->named = nnamed ? qg_arena_alloc(&q->arena, sizeof(qg_named) * nnamed) : NULL;
    for (uint32_t i = 0; i < nnamed; i++) {
        if (!get_bytes(&c, &s, &sn, NULL))
            return -1;
        q->named[i].name = qg_arena_memdup0(&q->arena, s, sn);
        if (!get_value(&c, &q->arena, &q->named[i].val))
            return -1;
    }
    if (!get_bytes(&c, &s, &sn, &absent))
        return -1;
    q->callback_url = absent ? NULL : qg_arena_memdup0(&q->arena, s, sn);
    if (!get_bytes(&c, &s, &sn, &absent))
        return -1;
    q->handle_base = absent ? NULL : qg_arena_memdup0(&q->arena, s, sn);
    if (c.bad || c.off != c.n)
        return -1;
    return 0;
}

int
store_record_texts(const void *p, size_t n, const char **stmt, size_t *stmt_len, const char **ctx,
                   size_t *ctx_len)
{
    cur c = {p, n, 0, false};
    bool absent;
    if (!get_bytes(&c, stmt, stmt_len, NULL) || !get_bytes(&c, ctx, ctx_len, &absent))
        return -1;
    if (absent)
        *ctx = NULL;
    return 0;
}

/* --- statements ------------------------------------------------------------ */

void
store_stmt_init(store_stmt *s)
{
    memset(s, 0, sizeof(*s));
    s->state = STORE_STMT_QUEUED;
    s->set = -1;
    qg_error_clear(&s->error);
}

static void
bound_free(store_bound *b)
{
    free(b->text);
    memset(b, 0, sizeof(*b));
}

void
store_stmt_free(store_stmt *s)
{
    for (uint32_t i = 0; i < s->ncols; i++) {
        free(s->cols[i].name);
        free(s->cols[i].type);
        bound_free(&s->cols[i].min);
        bound_free(&s->cols[i].max);
    }
    free(s->cols);
    s->cols = NULL;
    s->ncols = 0;
}

void
store_stmts_free(store_stmt *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        store_stmt_free(&v[i]);
    free(v);
}

static void
bound_copy(store_bound *dst, const store_bound *src)
{
    *dst = *src;
    dst->text = src->text ? qg_memdup0(src->text, src->len) : NULL;
}

void
store_stmt_copy(store_stmt *dst, const store_stmt *src)
{
    *dst = *src;
    dst->cols = NULL;
    if (src->ncols) {
        dst->cols = qg_calloc(src->ncols, sizeof(store_col));
        for (uint32_t i = 0; i < src->ncols; i++) {
            const store_col *a = &src->cols[i];
            store_col *b = &dst->cols[i];
            *b = *a;
            b->name = qg_strdup(a->name ? a->name : "");
            b->type = a->type ? qg_strdup(a->type) : NULL;
            bound_copy(&b->min, &a->min);
            bound_copy(&b->max, &a->max);
        }
    }
}

const char *
store_stmt_state_name(store_stmt_state s)
{
    switch (s) {
    case STORE_STMT_QUEUED:
        return "queued";
    case STORE_STMT_STARTED:
        return "started";
    case STORE_STMT_FINISHED:
        return "finished";
    case STORE_STMT_ERROR:
        return "error";
    case STORE_STMT_CANCELLED:
        return "cancelled";
    case STORE_STMT_UNKNOWN:
        return "unknown";
    }
    return "?";
}

void
store_bound_set(store_bound *b, store_vkind k, const char *p, size_t n)
{
    free(b->text);
    b->kind = k;
    b->cut = false;
    if (k == STORE_V_NONE) {
        b->text = NULL;
        b->len = 0;
        return;
    }
    if (n > STORE_BOUND_MAX) {
        b->cut = true;
        n = STORE_BOUND_MAX;
        /* text: never end inside a character */
        if (k == STORE_V_TEXT) {
            size_t i = n;
            while (i > 0 && ((unsigned char)p[i] & 0xC0) == 0x80)
                i--;
            n = i;
        }
    }
    b->text = qg_memdup0(p, n);
    b->len = n;
}

static void
put_bound(qg_buf *out, const store_bound *b)
{
    put_u8(out, (unsigned)b->kind | (b->cut ? 0x80 : 0));
    if (b->kind != STORE_V_NONE)
        put_bytes(out, b->text, b->len);
}

void
store_stmt_encode(const store_stmt *s, qg_buf *out)
{
    put_u8(out, STORE_RECORD_VERSION);
    put_u8(out, (unsigned)s->state);
    put_be32(out, s->off);
    put_be32(out, s->len);
    put_be64(out, s->start_ns);
    put_be64(out, s->stop_ns);
    put_be64(out, s->rows);
    put_be64(out, (uint64_t)s->set);
    put_error(out, &s->error);
    put_be32(out, s->ncols);
    for (uint32_t i = 0; i < s->ncols; i++) {
        const store_col *c = &s->cols[i];
        put_str(out, c->name ? c->name : "");
        put_str(out, c->type);
        put_bound(out, &c->min);
        put_bound(out, &c->max);
        put_be64(out, c->max_len);
        put_be64(out, c->nulls);
    }
}

static bool
get_bound(cur *c, store_bound *b)
{
    unsigned k = get_u8(c);
    if (c->bad || (k & 0x7F) > STORE_V_BLOB)
        return false;
    b->kind = (store_vkind)(k & 0x7F);
    b->cut = (k & 0x80) != 0;
    if (b->kind == STORE_V_NONE)
        return !b->cut;
    const char *p;
    size_t n;
    if (!get_bytes(c, &p, &n, NULL) || n > STORE_BOUND_MAX)
        return false;
    b->text = qg_memdup0(p, n);
    b->len = n;
    return true;
}

int
store_stmt_decode(const void *p, size_t n, store_stmt *s)
{
    cur c = {p, n, 0, false};
    store_stmt_free(s);
    store_stmt_init(s);
    if (get_u8(&c) != STORE_RECORD_VERSION)
        return -1;
    unsigned st = get_u8(&c);
    if (c.bad || st < STORE_STMT_QUEUED || st > STORE_STMT_UNKNOWN)
        return -1;
    s->state = (store_stmt_state)st;
    s->off = get_be32(&c);
    s->len = get_be32(&c);
    s->start_ns = get_be64(&c);
    s->stop_ns = get_be64(&c);
    s->rows = get_be64(&c);
    s->set = (int64_t)get_be64(&c);
    if (c.bad || s->set < -1 || !get_error(&c, &s->error))
        return -1;
    uint32_t ncols = get_be32(&c);
    /* a column takes at least 26 bytes: a count beyond what is left is damage */
    if (c.bad || ncols > (c.n - c.off) / 26)
        return -1;
    if (ncols) {
        s->cols = qg_calloc(ncols, sizeof(store_col));
        s->ncols = ncols;
    }
    for (uint32_t i = 0; i < ncols; i++) {
        store_col *col = &s->cols[i];
        const char *t;
        size_t tn;
        bool absent;
        if (!get_bytes(&c, &t, &tn, NULL))
            return -1;
        col->name = qg_memdup0(t, tn);
        if (!get_bytes(&c, &t, &tn, &absent))
            return -1;
        col->type = absent ? NULL : qg_memdup0(t, tn);
        if (!get_bound(&c, &col->min) || !get_bound(&c, &col->max))
            return -1;
        col->max_len = get_be64(&c);
        col->nulls = get_be64(&c);
    }
    if (c.bad || c.off != c.n)
        return -1;
    return 0;
}
