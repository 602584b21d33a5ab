/*
 * sqlite: the embedded SQLite backend (exec/backend.h).
 *
 * One connection per worker, opened NOMUTEX (never shared), WAL, a busy
 * timeout for writers meeting writers. Statements are compiled one at a time
 * from the text with the tail pointer, so a request's later statements may
 * use tables its earlier ones created.
 *
 * Many principals share these connections, so each is hardened when it
 * opens and judged on every action by exec/sqlite_guard: no way into the
 * process's memory or the file system (fts3_tokenizer, ATTACH, extension
 * loading), functions, pragmas and modules by allow-list. Nothing a request
 * leaves on its connection reaches the next one: an open transaction is
 * rolled back, last_insert_rowid() and the changes() count are cleared,
 * and when the guard said the request left state behind (a TEMP table,
 * view or trigger, a connection setting), the connection is closed and
 * opened anew when the request ends. Requests that leave nothing (nearly
 * all) pay nothing for it; docs/security.md has the measurements.
 *
 * Read-only requests are refused three ways, because each alone leaks:
 * sqlite3_stmt_readonly per statement (checked by exec/run), the guard's
 * authorizer, which refuses every action that writes (it says "read-only"
 * for ATTACH, writing PRAGMAs and BEGIN), and PRAGMA query_only while the
 * request runs.
 *
 * Timeouts and cancellation: a progress handler checks the task's flag and
 * deadline every few thousand VM steps (stops a CPU-bound query within a
 * millisecond, at no measurable cost), so no other thread ever calls
 * sqlite3_interrupt on a connection that might be closing.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "exec/backend.h"
#include "exec/internal.h"
#include "exec/pool.h"
#include "exec/sqlite_guard.h"
#include "exec/sqlite_split.h"
#include "exec/sqltext.h"

/* Compiled statements kept for reuse, keyed by the text they were compiled
 * from (the rest of the request's text at that point, so a multi-statement
 * text caches each of its statements) and by read-only mode: the authorizer
 * judges a statement when it is compiled, so one compiled for a read-write
 * request must never serve a read-only one. Compiling SELECT 1 costs more
 * than running it. */
#define CACHE_SLOTS    32
#define CACHE_MAX_TEXT 4096

typedef struct cache_slot {
    char *text; /* NULL: empty */
    size_t len;
    size_t used; /* bytes of text the statement took */
    bool readonly;
    bool busy; /* handed out to a request now */
    uint64_t stamp;
    sqlite3_stmt *st;
} cache_slot;

struct be_conn {
    sqlite3 *db;   /* NULL after a reset failed to open it again */
    char *path;    /* what it was opened from, to open it again */
    exec_ctx *ctx; /* the run in progress, for the authorizer and progress handler */
    bool query_only;
    bool own;    /* qgate's own statement: the authorizer lets it pass */
    bool resets; /* the request left state on the connection: reset it at its end */
    bool denied; /* the authorizer refused something since the last prepare */
    sqlite_guard_verdict refusal; /* the first thing it refused */
    sqlite_guard_conn guard;
    cache_slot cache[CACHE_SLOTS];
    uint64_t clock;
};

struct be_stmt {
    be_conn *c;
    sqlite3_stmt *st;
    cache_slot *slot; /* where it goes back to, or NULL */
};

/* The progress handler runs every this many VM instructions. */
#define PROGRESS_STEPS 4096

static int
progress(void *arg)
{
    be_conn *c = arg;
    return c->ctx && c->ctx->task && exec_task_check(c->ctx->task) != QG_OK;
}

static int
authorize(void *arg, int action, const char *a, const char *b, const char *db, const char *trig)
{
    be_conn *c = arg;
    (void)trig;
    if (c->own)
        return SQLITE_OK;
    sqlite_guard_verdict v;
    sqlite_guard_decide(action, a, b, db, c->ctx && c->ctx->readonly, &v);
    if (v.allow) {
        c->resets = c->resets || v.resets;
        return SQLITE_OK;
    }
    if (!c->denied) {
        c->denied = true;
        c->refusal = v;
    }
    return SQLITE_DENY;
}

/* Runs one of qgate's own statements on the connection, past the
 * authorizer. */
static int
own_exec(be_conn *c, const char *sql)
{
    c->own = true;
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
    c->own = false;
    return rc;
}

/* Opens c->path into c->db, hardened. */
static int
connect_db(be_conn *c, qg_error *err)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(c->path, &c->db, flags, NULL);
    char msg[512];
    if (rc != SQLITE_OK) {
        snprintf(msg, sizeof(msg), "sqlite: cannot open %s: %s", c->path,
                 c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        sqlite3_close(c->db);
        c->db = NULL;
        return qg_error_set(err, QG_E_BACKEND, msg);
    }
    const exec_limits *lim = exec__limits();
    sqlite_guard_limits gl = {
        .max_value = lim->max_value > 1000000000 ? 1000000000 : (int)lim->max_value,
        .max_sql = lim->max_statement > 1000000000 ? 1000000000 : (int)lim->max_statement,
    };
    if (sqlite_guard_harden(c->db, &gl, &c->guard, msg, sizeof(msg)) != 0) {
        sqlite3_close(c->db);
        c->db = NULL;
        return qg_error_set(err, QG_E_BACKEND, msg);
    }
    sqlite3_busy_timeout(c->db, 5000);
    sqlite3_exec(c->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
    sqlite3_progress_handler(c->db, PROGRESS_STEPS, progress, c);
    sqlite3_set_authorizer(c->db, authorize, c);
    c->query_only = false;
    c->resets = false;
    return 0;
}

static int
sq_open(const char *uri, be_conn **out, qg_error *err)
{
    const char *path = uri;
    if (strncmp(path, "sqlite:", 7) == 0)
        path += 7;
    if (*path == '\0')
        return qg_error_set(err, QG_E_BACKEND, "sqlite: empty database path");
    be_conn *c = qg_calloc(1, sizeof(*c));
    c->path = qg_strdup(path);
    if (connect_db(c, err) != 0) {
        free(c->path);
        free(c);
        return -1;
    }
    *out = c;
    return 0;
}

/* Closes c->db and forgets its compiled statements (none is handed out:
 * requests finalize theirs before they end). */
static void
disconnect_db(be_conn *c)
{
    for (int i = 0; i < CACHE_SLOTS; i++) {
        sqlite3_finalize(c->cache[i].st);
        free(c->cache[i].text);
        c->cache[i] = (cache_slot){0};
    }
    sqlite3_close_v2(c->db);
    c->db = NULL;
}

static void
sq_close(be_conn *c)
{
    if (!c)
        return;
    disconnect_db(c);
    free(c->path);
    free(c);
}

/* The request is over: nothing it did may reach the next one. */
static void
sq_end(be_conn *c)
{
    if (!c->db)
        return;
    if (!sqlite3_get_autocommit(c->db))
        own_exec(c, "ROLLBACK"); /* a transaction it left open */
    sqlite_guard_request_end(c->db, &c->guard);
    if (!c->resets)
        return;
    /* TEMP objects or settings: a new connection has none of them (an
     * in-memory database, a toy here, starts empty again) */
    disconnect_db(c);
    qg_error err;
    if (connect_db(c, &err) != 0)
        qg_warn("%s (the next request tries again)", err.msg);
}

/* Switches PRAGMA query_only to match the run. */
static void
set_query_only(be_conn *c, bool on)
{
    if (c->query_only == on)
        return;
    own_exec(c, on ? "PRAGMA query_only=1" : "PRAGMA query_only=0");
    c->query_only = on;
}

/* Translates an action the guard refused: a write in a read-only request,
 * or something no request may do. */
static int
refusal_error(be_conn *c, const char *sql, size_t len, qg_error *err)
{
    if (c->refusal.readonly) {
        char kind[32];
        sqltext_kind(sql, len, kind);
        return qg_error_set(err, QG_E_READONLY, kind);
    }
    return qg_error_set(err, QG_E_COMPILE, c->refusal.why);
}

/* Translates a failed prepare. */
static int
prepare_error(be_conn *c, int rc, const char *sql, size_t len, qg_error *err)
{
    const char *msg = sqlite3_errmsg(c->db);
    if (c->denied)
        return refusal_error(c, sql, len, err);
    if (rc == SQLITE_AUTH && c->ctx && c->ctx->readonly) {
        char kind[32];
        sqltext_kind(sql, len, kind);
        return qg_error_set(err, QG_E_READONLY, kind);
    }
    if (rc == SQLITE_INTERRUPT && c->ctx && c->ctx->task) {
        qg_code why = exec_task_check(c->ctx->task);
        if (why)
            return qg_error_set(err, why, "-");
    }
    if (strstr(msg, "syntax error") || strstr(msg, "incomplete input") ||
        strstr(msg, "unrecognized token"))
        return qg_error_set(err, QG_E_SYNTAX, msg);
    if (strncmp(msg, "no such ", 8) == 0)
        return qg_error_set(err, QG_E_UNKNOWN_OBJECT, msg);
    return qg_error_set(err, QG_E_COMPILE, msg);
}

static int
sq_prepare(be_conn *c, exec_ctx *ctx, const char *sql, size_t len, size_t *used, be_stmt **out,
           qg_error *err)
{
    c->ctx = ctx;
    if (!c->db && connect_db(c, err) != 0)
        return -1; /* a reset could not open it again, nor can we now */
    c->denied = false;
    set_query_only(c, ctx->readonly);
    uint64_t t0 = qg_now_ns();
    bool cacheable = len <= CACHE_MAX_TEXT;
    cache_slot *hit = NULL, *victim = NULL;
    for (int i = 0; cacheable && i < CACHE_SLOTS; i++) {
        cache_slot *e = &c->cache[i];
        if (e->text && !e->busy && e->len == len && e->readonly == ctx->readonly &&
            memcmp(e->text, sql, len) == 0) {
            hit = e;
            break;
        }
        if (!e->busy && (!victim || !e->text || (victim->text && e->stamp < victim->stamp)))
            victim = e;
    }
    sqlite3_stmt *st = NULL;
    if (hit) {
        st = hit->st;
        *used = hit->used;
    } else {
        const char *tail = NULL;
        int rc = sqlite3_prepare_v3(c->db, sql, (int)len, cacheable ? SQLITE_PREPARE_PERSISTENT : 0,
                                    &st, &tail);
        if (rc != SQLITE_OK) {
            ctx->compile_ns += qg_now_ns() - t0;
            return prepare_error(c, rc, sql, len, err);
        }
        *used = tail ? (size_t)(tail - sql) : len;
        if (st && cacheable && victim) {
            sqlite3_finalize(victim->st);
            free(victim->text);
            victim->text = qg_memdup0(sql, len);
            victim->len = len;
            victim->used = *used;
            victim->readonly = ctx->readonly;
            victim->st = st;
            hit = victim;
        }
    }
    ctx->compile_ns += qg_now_ns() - t0;
    if (!st) {
        *out = NULL;
        return 0;
    }
    be_stmt *s = qg_malloc(sizeof(*s));
    s->c = c;
    s->st = st;
    s->slot = hit;
    if (hit) {
        hit->busy = true;
        hit->stamp = ++c->clock;
    }
    *out = s;
    return 0;
}

static bool
sq_returns_rows(be_stmt *s)
{
    return sqlite3_column_count(s->st) > 0;
}

static bool
sq_is_readonly(be_stmt *s)
{
    return sqlite3_stmt_readonly(s->st) != 0;
}

static void
sq_kind(be_stmt *s, char out[32])
{
    const char *sql = sqlite3_sql(s->st);
    sqltext_kind(sql, strlen(sql), out);
}

static int
bind_value(sqlite3_stmt *st, int i, const qg_value *v)
{
    switch (v->type) {
    case QG_VAL_NULL:
        return sqlite3_bind_null(st, i);
    case QG_VAL_BOOL:
    case QG_VAL_INT:
        return sqlite3_bind_int64(st, i, v->i);
    case QG_VAL_REAL:
        return sqlite3_bind_double(st, i, v->d);
    case QG_VAL_TEXT:
    case QG_VAL_JSON:
        /* the query outlives the statement: no copy */
        return sqlite3_bind_text(st, i, v->text, (int)v->len, SQLITE_STATIC);
    }
    return SQLITE_MISUSE;
}

static const qg_value *
named_value(const qg_query *q, const char *name)
{
    /* the last one given wins: params already applied the precedence */
    for (size_t k = q->nnamed; k-- > 0;)
        if (strcmp(q->named[k].name, name) == 0)
            return &q->named[k].val;
    return NULL;
}

static bool
all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static int
sq_bind(be_stmt *s, const qg_query *q, qg_error *err)
{
    int n = sqlite3_bind_parameter_count(s->st);
    int next_positional = 0;
    for (int i = 1; i <= n; i++) {
        const char *name = sqlite3_bind_parameter_name(s->st, i);
        const qg_value *v = NULL;
        char label[64];
        if (!name || (name[0] == '?')) {
            /* "?" takes the next argument; "?NNN" its own index, which
             * is i itself (SQLite numbers it so) */
            size_t k = name ? (size_t)i - 1 : (size_t)next_positional;
            next_positional = (int)k + 1;
            if (k < q->nargs)
                v = &q->args[k];
            snprintf(label, sizeof(label), "%zu", k + 1);
        } else if (name[0] == '$' && all_digits(name + 1)) {
            /* $1..$n take args, as in PostgreSQL */
            size_t k = (size_t)strtoull(name + 1, NULL, 10);
            if (k >= 1 && k <= q->nargs)
                v = &q->args[k - 1];
            snprintf(label, sizeof(label), "%s", name);
        } else {
            v = named_value(q, name + 1);
            snprintf(label, sizeof(label), "%s", name);
        }
        if (!v)
            return qg_error_set(err, QG_E_NO_VALUE, label);
        if (bind_value(s->st, i, v) != SQLITE_OK)
            return qg_error_set(err, QG_E_PARAM, label, sqlite3_errmsg(s->c->db));
    }
    return 0;
}

static void sq_kind(be_stmt *s, char out[32]);

static int
run_error(be_conn *c, be_stmt *s, exec_ctx *ctx, int rc, qg_error *err)
{
    if (rc == SQLITE_INTERRUPT && ctx->task) {
        qg_code why = exec_task_check(ctx->task);
        if (why)
            return qg_error_set(err, why, "-");
    }
    if (c->denied) {
        /* refused while it ran: a pragma table's pragma, a module's own
         * statements */
        const char *sql = sqlite3_sql(s->st);
        return refusal_error(c, sql, strlen(sql), err);
    }
    if ((rc == SQLITE_AUTH || rc == SQLITE_READONLY) && ctx->readonly) {
        /* query_only caught a write the other checks let through */
        char kind[32];
        sq_kind(s, kind);
        return qg_error_set(err, QG_E_READONLY, kind);
    }
    if (rc == SQLITE_TOOBIG)
        return qg_error_set(err, QG_E_RUNTIME,
                            "string or blob too big (the limit is --max-value bytes)");
    return qg_error_set(err, QG_E_RUNTIME, sqlite3_errmsg(c->db));
}

static int
sq_run(be_conn *c, be_stmt *s, exec_ctx *ctx, rows_writer *w, qg_error *err)
{
    sqlite3_stmt *st = s->st;
    c->ctx = ctx;
    c->denied = false;
    set_query_only(c, ctx->readonly);
    int ncols = sqlite3_column_count(st);
    if (ncols > 0) {
        const char **names = qg_malloc(sizeof(char *) * (size_t)ncols);
        const char **types = qg_malloc(sizeof(char *) * (size_t)ncols);
        size_t *lens = qg_malloc(sizeof(size_t) * (size_t)ncols);
        for (int i = 0; i < ncols; i++) {
            names[i] = sqlite3_column_name(st, i);
            if (!names[i])
                names[i] = "?";
            lens[i] = strlen(names[i]);
            /* the declared type of a table column; NULL for expressions
             * (SQLite types values, not columns) */
            types[i] = sqlite3_column_decltype(st, i);
        }
        int rc = rows_set_begin_typed(w, (size_t)ncols, names, lens, types, err);
        free(names);
        free(types);
        free(lens);
        if (rc != 0)
            return -1;
    }
    int rc;
    sqlite3_int64 total = sqlite3_total_changes64(c->db);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rows_row_begin(w);
        for (int i = 0; i < ncols; i++) {
            switch (sqlite3_column_type(st, i)) {
            case SQLITE_INTEGER:
                rows_int(w, sqlite3_column_int64(st, i));
                break;
            case SQLITE_FLOAT:
                rows_real(w, sqlite3_column_double(st, i));
                break;
            case SQLITE_TEXT: {
                const char *p = (const char *)sqlite3_column_text(st, i);
                rows_text(w, p, (size_t)sqlite3_column_bytes(st, i));
                break;
            }
            case SQLITE_BLOB: {
                const void *p = sqlite3_column_blob(st, i);
                rows_blob(w, p, (size_t)sqlite3_column_bytes(st, i));
                break;
            }
            default:
                rows_null(w);
                break;
            }
        }
        ctx->processed++;
        if (rows_row_end(w, err) != 0) {
            sqlite3_reset(st);
            return -1;
        }
    }
    if (rc != SQLITE_DONE) {
        run_error(c, s, ctx, rc, err);
        sqlite3_reset(st);
        return -1;
    }
    sqlite3_reset(st);
    if (ncols > 0)
        return rows_set_end(w, err);
    /* sqlite3_changes64 keeps the last INSERT, UPDATE or DELETE's count
     * through other statements (and earlier requests): it counts only when
     * this one changed something */
    ctx->changed = sqlite3_total_changes64(c->db) != total ? sqlite3_changes64(c->db) : 0;
    return 0;
}

static void
sq_finalize(be_stmt *s)
{
    if (!s)
        return;
    if (s->slot) {
        /* back into the cache, ready to run again */
        sqlite3_reset(s->st);
        sqlite3_clear_bindings(s->st);
        s->slot->busy = false;
    } else {
        sqlite3_finalize(s->st);
    }
    free(s);
}

/* The statement ends where sqlite3_complete's rule says (the ';'s inside
 * a CREATE TRIGGER ... BEGIN ... END body do not end it), found in one
 * linear pass by exec/sqlite_split. */
static bool
sq_split(const char *sql, size_t len, exec_span *sp)
{
    sqlite_span s;
    bool found = sqlite_split(sql, len, &s);
    *sp = (exec_span){s.start, s.len, s.used};
    return found;
}

const exec_backend exec__sqlite = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .prepare = sq_prepare,
    .returns_rows = sq_returns_rows,
    .is_readonly = sq_is_readonly,
    .kind = sq_kind,
    .bind = sq_bind,
    .run = sq_run,
    .finalize = sq_finalize,
    .end = sq_end,
    .interrupt = NULL,
    .split = sq_split,
};
