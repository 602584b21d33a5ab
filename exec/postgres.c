/*
 * postgres: the PostgreSQL backend (exec/backend.h), on libpq.
 *
 * Connections. Each worker owns one PGconn, opened at start (the pool fails
 * fast when the server cannot be reached; the message names the server and
 * libpq's reason) and re-opened whenever it is found broken. Before each
 * statement the connection is checked without a round trip: an idle
 * connection has nothing to read, so a readable socket means the server
 * said goodbye (pg_terminate_backend, restart, idle timeout) and the
 * connection is replaced before anything is sent. A statement whose
 * sending fails is sent again, once, on a fresh connection, but only while
 * nothing of the request has reached the server: a later statement may
 * depend on what an earlier one did to the session (a transaction, a temp
 * table), and a statement the server may have seen is never repeated.
 *
 * Waiting. libpq runs non-blocking; the worker waits in poll() on the
 * connection's socket and on an eventfd, with the task's deadline as the
 * poll timeout. interrupt() (any thread: /admin, a client that went away)
 * writes the eventfd. When the task is stopped while a statement runs, the
 * worker itself calls PQcancel (it blocks for a round trip to the server,
 * which must never happen on the loop thread), then reads what is left of
 * the statement's results (the 57014 the cancel causes) so the connection
 * stays usable; if the server does not answer within a grace period the
 * connection is dropped. A server-side statement_timeout, set a little past
 * the deadline, stops the query even if qgate itself dies.
 *
 * Statements. The text is split and classified by words (pgsql_split,
 * pgsql_kind), placeholders are renumbered (pgsql_params), and each
 * statement goes alone over the extended protocol (PQsendQueryParams) with
 * its values as text parameters, in single-row mode so rows stream at flat
 * memory. Results are asked for as text and rendered by type (pgsql_value).
 *
 * Read-only requests: besides exec/run's check of every statement's words,
 * each statement runs inside BEGIN READ ONLY (ended by the next statement's
 * ROLLBACK or by the reset), so a write hidden in a function is refused by
 * the server. A single extended-protocol statement cannot end that
 * transaction: `COMMIT; INSERT` is two commands, which the server refuses.
 * ROLLBACK, BEGIN READ ONLY and the statement travel in one pipeline.
 *
 * Between requests the session is put back as it was (the reset: roll back
 * an open transaction, close cursors, RESET ALL, drop temp tables, prepared
 * statements, listeners and advisory locks, then the session settings this
 * file depends on). It is sent when a request ends and its answer is read
 * when the next one starts, so it costs no latency; but it costs the server
 * more than a small query, so it is sent only after a request that may have
 * left state behind: a statement whose words are not read-only, or one that
 * names a function that changes the session (set_config, session advisory
 * locks, dblink, setseed). After a request of plain queries only an open
 * transaction is rolled back.
 *
 * Threads: a be_conn belongs to its worker; only interrupt() is called from
 * elsewhere, and it touches nothing but the eventfd.
 */
#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "exec/backend.h"
#include "exec/internal.h"
#include "exec/pgsql_kind.h"
#include "exec/pgsql_params.h"
#include "exec/pgsql_split.h"
#include "exec/pgsql_value.h"
#include "exec/pool.h"

#define TEXTOID 25

/* What the rendering of values depends on (pgsql_value.h, pgsql_lex.h). */
#define SESSION_INIT                                                                               \
    "SET DateStyle = ISO; SET extra_float_digits = 3; SET bytea_output = hex; "                    \
    "SET standard_conforming_strings = on; SET client_encoding = 'UTF8'"

/* DISCARD ALL, spelled out: DISCARD ALL refuses to run in the implicit
 * transaction of a multi-statement query, and this must be one message. */
#define SESSION_RESET                                                                              \
    "ABORT; CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; DEALLOCATE ALL; "             \
    "UNLISTEN *; SELECT pg_advisory_unlock_all(); DISCARD PLANS; DISCARD TEMP; "                   \
    "DISCARD SEQUENCES; " SESSION_INIT

/* How long a cancelled statement may take to end before the connection is
 * dropped instead. */
#define CANCEL_GRACE_NS (5ull * 1000000000u)
/* Without connect_timeout in the connection string. */
#define CONNECT_TIMEOUT_NS (10ull * 1000000000u)
/* statement_timeout is set this much past the request's deadline: the
 * worker's own cancel comes first, the server's is the fallback. */
#define SERVER_TIMEOUT_SLACK_MS 1000
/* Rows between two looks at the task's flag while rows arrive faster than
 * the worker ever needs to wait. */
#define CHECK_EVERY 256

struct be_conn {
    char *uri;
    char who[256]; /* "host:port, database d, user u" for messages */
    uint64_t connect_timeout_ns;
    int efd; /* written by interrupt() */

    PGconn *pg; /* NULL: not connected */
    PGcancel *cancel;

    unsigned connects; /* connections opened so far */

    /* per request */
    bool touched;    /* something of this request went to the server */
    bool sent;       /* a statement of this request went to the server */
    bool setup;      /* the request's statement_timeout is set */
    bool ro_open;    /* our READ ONLY transaction may be open */
    bool reset_sent; /* the reset's answer is still to be read */
    bool dirty;      /* this request may have changed the session */

    qg_buf scratch;
};

struct be_stmt {
    pgsql_params p;
    pgsql_kind k;
    const char **values; /* per $k; NULL is SQL NULL */
    Oid *types;          /* per $k; 0 lets the server infer it */
};

/* How a statement went, for the retry rule. */
enum { SENT_OK, SENT_FAILED, NOT_SENT };

/* --- small helpers ---------------------------------------------------------- */

/* Copies libpq's text into out, its line breaks and tabs folded into
 * single spaces, trailing blanks cut. */
static void
fold(char *out, size_t size, const char *msg)
{
    size_t k = 0;
    bool space = false;
    for (const char *p = msg ? msg : ""; *p && k + 1 < size; p++) {
        if (*p == '\n' || *p == '\t' || *p == '\r' || *p == ' ') {
            space = k > 0;
            continue;
        }
        if (space && k + 2 < size)
            out[k++] = ' ';
        space = false;
        out[k++] = *p;
    }
    out[k] = '\0';
}

static void
notice(void *arg, const PGresult *r)
{
    /* Notices (RAISE NOTICE, the reset's "no transaction in progress")
     * have no place in the envelope yet; keep them out of the log too. */
    (void)arg;
    (void)r;
}

static void
drop(be_conn *c)
{
    if (c->cancel)
        PQfreeCancel(c->cancel);
    if (c->pg)
        PQfinish(c->pg);
    c->pg = NULL;
    c->cancel = NULL;
    c->ro_open = false;
    c->reset_sent = false;
    c->setup = false;
}

static uint64_t
deadline_of(const exec_ctx *ctx)
{
    return ctx && ctx->task ? ctx->task->deadline_ns : 0;
}

static qg_code
stopped(const exec_ctx *ctx)
{
    return ctx && ctx->task ? exec_task_check(ctx->task) : QG_OK;
}

/* --- waiting ---------------------------------------------------------------- */

enum { W_SOCKET, W_TIMEOUT, W_WAKE };

/* Waits for events on fd, the eventfd (when wake) or until limit_ns (0:
 * none). */
static int
wait_fd(be_conn *c, int fd, short events, uint64_t limit_ns, bool wake)
{
    struct pollfd fds[2] = {{fd, events, 0}, {c->efd, POLLIN, 0}};
    for (;;) {
        int timeout = -1;
        if (limit_ns) {
            uint64_t now = qg_now_ns();
            if (now >= limit_ns)
                return W_TIMEOUT;
            timeout = (int)((limit_ns - now + 999999) / 1000000);
        }
        int r = poll(fds, wake ? 2 : 1, timeout);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return W_SOCKET; /* let libpq find out what is wrong */
        if (wake && fds[1].revents) {
            uint64_t v;
            ssize_t got = read(c->efd, &v, sizeof(v));
            (void)got;
            return W_WAKE;
        }
        if (r == 0)
            continue; /* the limit is checked above */
        return W_SOCKET;
    }
}

enum { R_READY, R_STOP, R_LOST };

/* Reads until a result can be taken without blocking. With ctx, a stopped
 * task or its deadline ends the wait (R_STOP); without, limit_ns does. */
static int
await_result(be_conn *c, exec_ctx *ctx, uint64_t limit_ns)
{
    while (PQisBusy(c->pg)) {
        if (PQsocket(c->pg) < 0)
            return R_LOST;
        if (ctx && stopped(ctx))
            return R_STOP;
        int w = wait_fd(c, PQsocket(c->pg), POLLIN, ctx ? deadline_of(ctx) : limit_ns, ctx != NULL);
        if (w == W_TIMEOUT && !ctx)
            return R_STOP;
        if (w != W_SOCKET)
            continue;
        if (!PQconsumeInput(c->pg))
            return R_LOST;
    }
    return R_READY;
}

/* Sends what libpq holds. Returns 0, or -1 when the connection broke. */
static int
flush_out(be_conn *c, exec_ctx *ctx)
{
    for (;;) {
        int f = PQflush(c->pg);
        if (f <= 0)
            return f;
        /* the server may be writing to us meanwhile: read too, or both
         * sides wait on full buffers */
        int w = wait_fd(c, PQsocket(c->pg), POLLIN | POLLOUT, 0, false);
        if (w == W_SOCKET && !PQconsumeInput(c->pg))
            return -1;
    }
}

/* Reads and discards the rest of a COPY TO STDOUT. */
static void
drain_copy(be_conn *c, uint64_t limit_ns)
{
    for (;;) {
        char *buf = NULL;
        int n = PQgetCopyData(c->pg, &buf, 1);
        if (buf)
            PQfreemem(buf);
        if (n > 0)
            continue;
        if (n < 0)
            return;
        if (wait_fd(c, PQsocket(c->pg), POLLIN, limit_ns, false) == W_TIMEOUT ||
            !PQconsumeInput(c->pg))
            return;
    }
}

/* Stops the statement running on the server and reads its remaining
 * results, so the connection can take the next one. Worker thread (PQcancel
 * blocks for a round trip). Drops the connection when that fails. */
static void
stop_statement(be_conn *c)
{
    char why[256];
    if (!c->cancel || !PQcancel(c->cancel, why, sizeof(why))) {
        qg_warn("postgresql: cannot cancel a statement on %s: %s; dropping the connection", c->who,
                c->cancel ? why : "no cancel handle");
        drop(c);
        return;
    }
    uint64_t limit = qg_now_ns() + CANCEL_GRACE_NS;
    for (;;) {
        int a = await_result(c, NULL, limit);
        if (a != R_READY) {
            qg_warn("postgresql: a cancelled statement did not end on %s; dropping the connection",
                    c->who);
            drop(c);
            return;
        }
        PGresult *r = PQgetResult(c->pg);
        if (!r)
            return;
        if (PQresultStatus(r) == PGRES_COPY_OUT)
            drain_copy(c, limit);
        else if (PQresultStatus(r) == PGRES_COPY_IN)
            PQputCopyEnd(c->pg, "cancelled");
        PQclear(r);
    }
}

/* --- connecting ------------------------------------------------------------- */

static int
connect_error(be_conn *c, PGconn *pg, const char *reason, qg_error *err)
{
    char why[600], msg[900];
    fold(why, sizeof(why), reason ? reason : pg ? PQerrorMessage(pg) : "out of memory");
    snprintf(msg, sizeof(msg), "postgresql: cannot connect to %s: %s", c->who, why);
    if (pg)
        PQfinish(pg);
    return qg_error_set(err, QG_E_BACKEND, msg);
}

static int run_simple(be_conn *c, exec_ctx *ctx, const char *sql, qg_error *err);

/* Opens c->pg without blocking: the task (ctx, may be NULL at start-up)
 * can stop it, and the connect timeout bounds it. */
static int
connect_pg(be_conn *c, exec_ctx *ctx, qg_error *err)
{
    static const char *const kw[] = {"dbname", "fallback_application_name", "client_encoding",
                                     NULL};
    const char *val[] = {c->uri, "qgate", "UTF8", NULL};
    PGconn *pg = PQconnectStartParams(kw, val, 1);
    if (!pg || PQstatus(pg) == CONNECTION_BAD)
        return connect_error(c, pg, NULL, err);
    uint64_t limit = qg_now_ns() + c->connect_timeout_ns;
    uint64_t dl = deadline_of(ctx);
    if (dl && dl < limit)
        limit = dl;
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (st != PGRES_POLLING_OK) {
        if (st == PGRES_POLLING_FAILED)
            return connect_error(c, pg, NULL, err);
        qg_code why = stopped(ctx);
        if (why) {
            PQfinish(pg);
            return qg_error_set(err, why, "-");
        }
        int w = wait_fd(c, PQsocket(pg), st == PGRES_POLLING_READING ? POLLIN : POLLOUT, limit,
                        ctx != NULL);
        if (w == W_TIMEOUT) {
            if ((why = stopped(ctx)) != QG_OK) {
                PQfinish(pg);
                return qg_error_set(err, why, "-");
            }
            return connect_error(c, pg, "timeout expired", err);
        }
        if (w == W_SOCKET)
            st = PQconnectPoll(pg);
    }
    PQsetnonblocking(pg, 1);
    PQsetNoticeReceiver(pg, notice, NULL);
    c->pg = pg;
    c->cancel = PQgetCancel(pg);
    c->connects++;
    if (run_simple(c, ctx, SESSION_INIT, err) != 0) {
        /* the message without its "ASXnnnn: " */
        const char *text = strstr(err->msg, ": ");
        text = text ? text + 2 : err->msg;
        char msg[QG_ERRMSG_MAX];
        snprintf(msg, sizeof(msg), "%s", text);
        drop(c);
        if (err->code == QG_E_TIMEOUT || err->code == QG_E_CANCELLED || err->code == QG_E_DRAINING)
            return -1;
        return connect_error(c, NULL, msg, err);
    }
    return 0;
}

/* True when an idle connection still looks alive: a healthy one has
 * nothing to read, so readable means the server closed it (or sent its
 * last words, "terminating connection due to administrator command", just
 * before the end). */
static bool
alive(be_conn *c)
{
    for (int round = 0; round < 4; round++) {
        if (PQstatus(c->pg) != CONNECTION_OK || PQsocket(c->pg) < 0)
            return false;
        struct pollfd p = {PQsocket(c->pg), POLLIN | POLLRDHUP, 0};
        if (poll(&p, 1, 0) <= 0)
            return true;
        if (p.revents & (POLLRDHUP | POLLHUP | POLLERR))
            return false;
        /* something else (a notification): let libpq take it */
        if (!PQconsumeInput(c->pg))
            return false;
    }
    return PQstatus(c->pg) == CONNECTION_OK;
}

/* Reads the answer to the reset sent when the last request ended. */
static int
finish_reset(be_conn *c, exec_ctx *ctx, qg_error *err)
{
    c->reset_sent = false;
    bool ok = flush_out(c, ctx) == 0;
    while (ok) {
        int a = await_result(c, ctx, 0);
        if (a == R_STOP) {
            /* the reset is ours and short; rather than cancel it, start
             * the next request on a new connection */
            drop(c);
            return qg_error_set(err, stopped(ctx), "-");
        }
        if (a == R_LOST) {
            ok = false;
            break;
        }
        PGresult *r = PQgetResult(c->pg);
        if (!r)
            break;
        ExecStatusType st = PQresultStatus(r);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            char why[300];
            fold(why, sizeof(why), PQresultErrorMessage(r));
            qg_warn("postgresql: resetting the session on %s failed: %s", c->who, why);
            ok = false;
        }
        PQclear(r);
    }
    if (!ok)
        drop(c);
    return 0;
}

/* Makes c->pg a live connection with the request's settings. */
static int
ready(be_conn *c, exec_ctx *ctx, qg_error *err)
{
    if (c->pg && c->reset_sent && finish_reset(c, ctx, err) != 0)
        return -1;
    if (c->pg && !alive(c)) {
        qg_warn("postgresql: the connection to %s was closed by the server; reconnecting", c->who);
        drop(c);
    }
    if (!c->pg) {
        if (c->sent) {
            /* what the request did so far lived in that session */
            return qg_error_set(err, QG_E_RUNTIME,
                                "the connection to the database was lost between statements");
        }
        if (connect_pg(c, ctx, err) != 0)
            return -1;
    }
    if (!c->setup) {
        uint64_t dl = deadline_of(ctx);
        if (dl) {
            uint64_t now = qg_now_ns();
            if (now >= dl)
                return qg_error_set(err, stopped(ctx) ? stopped(ctx) : QG_E_TIMEOUT, "-");
            char sql[64];
            snprintf(sql, sizeof(sql), "SET statement_timeout = %llu",
                     (unsigned long long)((dl - now) / 1000000 + SERVER_TIMEOUT_SLACK_MS));
            c->touched = true;
            c->dirty = true; /* the next request must not inherit it */
            if (run_simple(c, ctx, sql, err) != 0)
                return -1;
        }
        c->setup = true;
    }
    return 0;
}

/* --- results ---------------------------------------------------------------- */

/* The kind PostgreSQL names in "cannot execute INSERT in a read-only
 * transaction", or the statement's own. */
static void
readonly_kind(const char *msg, const be_stmt *s, char out[32])
{
    static const char pre[] = "cannot execute ", post[] = " in a read-only transaction";
    const char *end = msg ? strstr(msg, post) : NULL;
    if (msg && end && strncmp(msg, pre, sizeof(pre) - 1) == 0 &&
        (size_t)(end - msg) - (sizeof(pre) - 1) < 32) {
        size_t n = (size_t)(end - msg) - (sizeof(pre) - 1);
        memcpy(out, msg + sizeof(pre) - 1, n);
        out[n] = '\0';
        return;
    }
    snprintf(out, 32, "%s", s ? s->k.kind : "UNKNOWN");
}

/* Translates a failed result by its SQLSTATE (see docs/design.md). */
static int
server_error(be_conn *c, const be_stmt *s, exec_ctx *ctx, const PGresult *r, qg_error *err)
{
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char *primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
    char text[900], msg[1210];
    fold(text, sizeof(text), primary ? primary : PQresultErrorMessage(r));
    if (!text[0])
        fold(text, sizeof(text), c->pg ? PQerrorMessage(c->pg) : "unknown error");
    if (detail) {
        char d[300];
        fold(d, sizeof(d), detail);
        snprintf(msg, sizeof(msg), "%s (%s)", text, d);
    } else {
        snprintf(msg, sizeof(msg), "%s", text);
    }
    if (!state)
        state = "";
    if (strcmp(state, "57014") == 0) {
        /* query_canceled: ours when the task was stopped; anyone else's
         * (their statement_timeout, pg_cancel_backend) is a failure */
        qg_code why = stopped(ctx);
        if (why)
            return qg_error_set(err, why, "-");
    }
    if (strncmp(state, "42", 2) == 0) {
        if (strcmp(state, "42601") == 0)
            return qg_error_set(err, QG_E_SYNTAX, msg);
        if (strcmp(state, "42P01") == 0 || strcmp(state, "42703") == 0 ||
            strcmp(state, "42883") == 0)
            return qg_error_set(err, QG_E_UNKNOWN_OBJECT, msg);
        return qg_error_set(err, QG_E_COMPILE, msg);
    }
    if (strcmp(state, "25006") == 0 && ctx && ctx->readonly) {
        char kind[32];
        readonly_kind(primary, s, kind);
        return qg_error_set(err, QG_E_READONLY, kind);
    }
    return qg_error_set(err, QG_E_RUNTIME, msg);
}

typedef struct collect {
    const be_stmt *s; /* NULL: one of ours, rows ignored */
    rows_writer *w;
    pgsql_vtype *types; /* per column of the current set */
    int ncols;
    bool in_set;
    bool copy;        /* a COPY FROM STDIN was refused */
    PGresult *failed; /* the first error */
} collect;

static int
set_begin(collect *k, const PGresult *r, qg_error *err)
{
    int n = PQnfields(r);
    const char **names = qg_malloc(sizeof(char *) * (size_t)(n ? n : 1));
    const char **tnames = qg_malloc(sizeof(char *) * (size_t)(n ? n : 1));
    size_t *lens = qg_malloc(sizeof(size_t) * (size_t)(n ? n : 1));
    k->types = qg_realloc(k->types, sizeof(pgsql_vtype) * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++) {
        names[i] = PQfname(r, i);
        lens[i] = strlen(names[i]);
        k->types[i] = pgsql_vtype_of(PQftype(r, i));
        tnames[i] = pgsql_type_name(PQftype(r, i));
    }
    k->ncols = n;
    k->in_set = true;
    int rc = rows_set_begin_typed(k->w, (size_t)n, names, lens, tnames, err);
    free(names);
    free(tnames);
    free(lens);
    return rc;
}

/* Writes the rows of r; -1 when the writer stopped the job. */
static int
write_rows(be_conn *c, collect *k, exec_ctx *ctx, const PGresult *r, qg_error *err)
{
    int nrows = PQntuples(r);
    for (int row = 0; row < nrows; row++) {
        rows_row_begin(k->w);
        for (int i = 0; i < k->ncols; i++) {
            if (PQgetisnull(r, row, i))
                rows_null(k->w);
            else
                pgsql_value_write(k->w, k->types[i], PQgetvalue(r, row, i),
                                  (size_t)PQgetlength(r, row, i), &c->scratch);
        }
        ctx->processed++;
        if (rows_row_end(k->w, err) != 0)
            return -1;
    }
    return 0;
}

/* Reads every result of the command in flight. Rows of a user statement
 * go to k->w. Returns 0 (k->failed may hold the server's error), or -1
 * with err set: the task stopped, the writer stopped, the connection was
 * lost. */
static int
collect_results(be_conn *c, exec_ctx *ctx, collect *k, qg_error *err)
{
    unsigned tick = 0;
    for (;;) {
        int a = await_result(c, ctx, 0);
        if (a == R_LOST)
            return -2;
        if (a == R_STOP || (++tick % CHECK_EVERY == 0 && stopped(ctx))) {
            qg_code why = stopped(ctx);
            stop_statement(c);
            return qg_error_set(err, why ? why : QG_E_CANCELLED, "-");
        }
        PGresult *r = PQgetResult(c->pg);
        if (!r)
            return 0;
        switch (PQresultStatus(r)) {
        case PGRES_SINGLE_TUPLE:
        case PGRES_TUPLES_OK:
            if (!k->s || k->failed)
                break;
            if (!k->in_set && set_begin(k, r, err) != 0) {
                PQclear(r);
                stop_statement(c);
                return -1;
            }
            if (write_rows(c, k, ctx, r, err) != 0) {
                PQclear(r);
                stop_statement(c);
                return -1;
            }
            break;
        case PGRES_COMMAND_OK: {
            /* INSERT 0 3, UPDATE 2, DELETE 1: the rows the statement
             * changed ("" for other commands, and for the session's own
             * BEGIN, COMMIT, ... around it, which leave the count alone) */
            const char *n = PQcmdTuples(r);
            if (ctx && n && n[0])
                ctx->changed = strtoll(n, NULL, 10);
            break;
        }
        case PGRES_EMPTY_QUERY:
            break;
        case PGRES_COPY_IN:
            k->copy = true;
            PQputCopyEnd(c->pg, "qgate does not support COPY FROM STDIN");
            flush_out(c, ctx);
            break;
        case PGRES_COPY_OUT:
            /* stop it rather than read a whole table to throw it away */
            PQclear(r);
            stop_statement(c);
            return qg_error_set(err, QG_E_NOT_IMPLEMENTED, "COPY TO STDOUT; use SELECT");
        default:
            if (!k->failed) {
                k->failed = r;
                r = NULL;
            }
            break;
        }
        PQclear(r);
    }
}

/* Finishes a command after collect_results: translates what went wrong. */
static int
conclude(be_conn *c, exec_ctx *ctx, collect *k, int rc, qg_error *err)
{
    free(k->types);
    k->types = NULL;
    if (rc == -1) {
        /* err says why: the task or the writer stopped */
        if (c->pg && PQstatus(c->pg) == CONNECTION_BAD)
            drop(c);
        PQclear(k->failed);
        return -1;
    }
    if (rc == -2 || (c->pg && PQstatus(c->pg) == CONNECTION_BAD)) {
        char why[600], msg[700];
        fold(why, sizeof(why),
             k->failed ? PQresultErrorMessage(k->failed)
             : c->pg   ? PQerrorMessage(c->pg)
                       : "");
        snprintf(msg, sizeof(msg), "the connection to the database was lost: %s", why);
        PQclear(k->failed);
        drop(c);
        return qg_error_set(err, QG_E_RUNTIME, msg);
    }
    if (k->copy) {
        PQclear(k->failed);
        return qg_error_set(err, QG_E_NOT_IMPLEMENTED, "COPY FROM STDIN; use INSERT");
    }
    if (k->failed) {
        server_error(c, k->s, ctx, k->failed, err);
        PQclear(k->failed);
        return -1;
    }
    if (k->in_set)
        return rows_set_end(k->w, err);
    return 0;
}

/* Runs one of our own commands (fixed text, simple protocol, results
 * discarded). */
static int
run_simple(be_conn *c, exec_ctx *ctx, const char *sql, qg_error *err)
{
    if (!PQsendQuery(c->pg, sql) || flush_out(c, ctx) != 0) {
        char why[600];
        fold(why, sizeof(why), PQerrorMessage(c->pg));
        drop(c);
        return qg_error_set(err, QG_E_BACKEND, why);
    }
    collect k = {0};
    int rc = collect_results(c, ctx, &k, err);
    return conclude(c, ctx, &k, rc, err);
}

/* --- the backend ------------------------------------------------------------- */

static int
pg_open(const char *uri, be_conn **out, qg_error *err)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(uri, &perr);
    if (!opts) {
        char why[600], msg[900], shown[256];
        fold(why, sizeof(why), perr ? perr : "out of memory");
        PQfreemem(perr);
        /* libpq quotes the string, password and all */
        const char *at = strstr(why, uri);
        exec_backend_redact(uri, shown, sizeof(shown));
        if (at)
            snprintf(msg, sizeof(msg), "postgresql: invalid connection string: %.*s%s%s",
                     (int)(at - why), why, shown, at + strlen(uri));
        else
            snprintf(msg, sizeof(msg), "postgresql: invalid connection string: %s", why);
        return qg_error_set(err, QG_E_BACKEND, msg);
    }
    be_conn *c = qg_calloc(1, sizeof(*c));
    c->uri = qg_strdup(uri);
    c->connect_timeout_ns = CONNECT_TIMEOUT_NS;
    const char *host = NULL, *port = NULL, *db = NULL, *user = NULL;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val || !o->val[0])
            continue;
        if (strcmp(o->keyword, "host") == 0 || (strcmp(o->keyword, "hostaddr") == 0 && !host))
            host = o->val;
        else if (strcmp(o->keyword, "port") == 0)
            port = o->val;
        else if (strcmp(o->keyword, "dbname") == 0)
            db = o->val;
        else if (strcmp(o->keyword, "user") == 0)
            user = o->val;
        else if (strcmp(o->keyword, "connect_timeout") == 0 && atoi(o->val) > 0)
            c->connect_timeout_ns = (uint64_t)atoi(o->val) * 1000000000u;
    }
    snprintf(c->who, sizeof(c->who), "PostgreSQL server %s%s%s%s%s%s%s",
             host ? host : "(default host)", port ? ":" : "", port ? port : "",
             db ? ", database " : "", db ? db : "", user ? ", user " : "", user ? user : "");
    PQconninfoFree(opts);
    c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (c->efd < 0) {
        free(c->uri);
        free(c);
        return qg_error_set(err, QG_E_BACKEND, "postgresql: eventfd failed");
    }
    if (connect_pg(c, NULL, err) != 0) {
        close(c->efd);
        free(c->uri);
        free(c);
        return -1;
    }
    *out = c;
    return 0;
}

static void
pg_close(be_conn *c)
{
    if (!c)
        return;
    drop(c);
    close(c->efd);
    qg_buf_free(&c->scratch);
    free(c->uri);
    free(c);
}

static int
pg_prepare(be_conn *c, exec_ctx *ctx, const char *sql, size_t len, size_t *used, be_stmt **out,
           qg_error *err)
{
    uint64_t t0 = qg_now_ns();
    pgsql_span sp;
    *out = NULL;
    if (!pgsql_split(sql, len, &sp)) {
        *used = len;
        return 0;
    }
    be_stmt *s = qg_calloc(1, sizeof(*s));
    if (pgsql_params_rewrite(sql + sp.start, sp.len, &s->p) != 0) {
        free(s);
        return qg_error_set(err, QG_E_COMPILE, "a statement takes at most 65535 parameters");
    }
    pgsql_kind_of(sql + sp.start, sp.len, &s->k);
    *used = sp.used;
    *out = s;
    ctx->compile_ns += qg_now_ns() - t0;
    return 0;
}

static bool
pg_split(const char *sql, size_t len, exec_span *sp)
{
    pgsql_span p;
    bool found = pgsql_split(sql, len, &p);
    *sp = (exec_span){p.start, p.len, p.used};
    return found;
}

static bool
pg_returns_rows(be_stmt *s)
{
    return s->k.rows;
}

static bool
pg_is_readonly(be_stmt *s)
{
    return s->k.readonly;
}

static void
pg_kind(be_stmt *s, char out[32])
{
    memcpy(out, s->k.kind, 32);
}

static const qg_value *
named_value(const qg_query *q, const char *name, size_t len)
{
    /* the last one given wins: params already applied the precedence */
    for (size_t k = q->nnamed; k-- > 0;)
        if (strlen(q->named[k].name) == len && memcmp(q->named[k].name, name, len) == 0)
            return &q->named[k].val;
    return NULL;
}

static int
pg_bind(be_stmt *s, const qg_query *q, qg_error *err)
{
    size_t n = s->p.n;
    s->values = qg_calloc(n ? n : 1, sizeof(char *));
    s->types = qg_calloc(n ? n : 1, sizeof(Oid));
    for (size_t k = 0; k < n; k++) {
        const pgsql_param *pp = &s->p.p[k];
        const qg_value *v = NULL;
        char label[128];
        switch (pp->src) {
        case PGSQL_P_UNUSED:
            s->types[k] = TEXTOID;
            continue;
        case PGSQL_P_ARG:
            if (pp->arg < q->nargs)
                v = &q->args[pp->arg];
            if (pp->qmark)
                snprintf(label, sizeof(label),
                         "%zu (each ? is a placeholder; write ?? for the operator)", pp->arg + 1);
            else
                snprintf(label, sizeof(label), "$%zu", pp->arg + 1);
            break;
        case PGSQL_P_NAMED:
            v = named_value(q, pp->name, pp->name_len);
            snprintf(label, sizeof(label), "$%.*s", (int)(pp->name_len > 100 ? 100 : pp->name_len),
                     pp->name);
            break;
        }
        if (!v)
            return qg_error_set(err, QG_E_NO_VALUE, label);
        if (v->type == QG_VAL_NULL)
            continue;
        if (v->type == QG_VAL_TEXT && memchr(v->text, '\0', v->len))
            return qg_error_set(err, QG_E_PARAM, label,
                                "PostgreSQL text cannot hold a NUL character");
        /* text with the client's own digits ("true"/"false" for booleans,
         * the JSON source of arrays and objects): the statement's context
         * gives the type, as for a quoted literal */
        s->values[k] = v->text;
    }
    return 0;
}

/* Reads the rest of a pipeline, up to and including its sync, and leaves
 * pipeline mode. When the task was stopped, what is left may be the user's
 * statement still running: it is cancelled too. Drops the connection when
 * that fails. */
static int
pipeline_end(be_conn *c, exec_ctx *ctx)
{
    uint64_t limit = qg_now_ns() + CANCEL_GRACE_NS;
    bool cancelled = false;
    char why[256] = "no answer";
    while (!PQexitPipelineMode(c->pg)) {
        if (qg_now_ns() >= limit)
            goto fail;
        if (!cancelled && stopped(ctx) && PQisBusy(c->pg)) {
            if (!c->cancel || !PQcancel(c->cancel, why, sizeof(why)))
                goto fail;
            cancelled = true;
        }
        if (await_result(c, NULL, limit) != R_READY)
            goto fail;
        PQclear(PQgetResult(c->pg));
    }
    return 0;
fail:
    qg_warn("postgresql: cannot finish a pipeline on %s (%s); dropping the connection", c->who,
            why);
    drop(c);
    return -1;
}

/* Sends s and reads its results. A read-only request's statement goes in
 * one pipeline with the end of the previous statement's transaction and
 * the start of its own (ROLLBACK, BEGIN READ ONLY, the statement, sync): one
 * round trip, each part its own extended-protocol message. */
static int
send_statement(be_conn *c, be_stmt *s, exec_ctx *ctx, rows_writer *w, qg_error *err)
{
    bool ro = ctx->readonly, rollback = ro && c->ro_open;
    c->touched = true;
    bool ok = !ro || PQenterPipelineMode(c->pg);
    if (ok && rollback)
        ok = PQsendQueryParams(c->pg, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0);
    if (ok && ro)
        ok = PQsendQueryParams(c->pg, "BEGIN READ ONLY", 0, NULL, NULL, NULL, NULL, 0);
    if (ok)
        ok = PQsendQueryParams(c->pg, s->p.sql, (int)s->p.n, s->types, s->values, NULL, NULL, 0);
    if (ok && ro)
        ok = PQpipelineSync(c->pg);
    if (!ok) {
        if (PQstatus(c->pg) == CONNECTION_BAD)
            return NOT_SENT;
        char why[600];
        fold(why, sizeof(why), PQerrorMessage(c->pg));
        drop(c); /* in whatever state libpq left it */
        qg_error_set(err, QG_E_INTERNAL, why);
        return SENT_FAILED;
    }
    if (!ro)
        PQsetSingleRowMode(c->pg);
    if (flush_out(c, ctx) != 0)
        return NOT_SENT;
    c->sent = true;
    c->ro_open |= ro;
    int rc = 0;
    for (int i = 0; ro && rc == 0 && i < (rollback ? 2 : 1); i++) {
        collect k = {0};
        rc = conclude(c, ctx, &k, collect_results(c, ctx, &k, err), err);
    }
    if (rc == 0 && c->pg) {
        /* the statement is at the head of the pipeline now, before any of
         * its results is read: the moment single-row mode can be set */
        if (ro)
            PQsetSingleRowMode(c->pg);
        collect k = {.s = s, .w = w};
        rc = conclude(c, ctx, &k, collect_results(c, ctx, &k, err), err);
    }
    if (ro && c->pg && pipeline_end(c, ctx) != 0 && rc == 0)
        rc = qg_error_set(err, QG_E_RUNTIME, "the connection to the database was lost");
    return rc == 0 ? SENT_OK : SENT_FAILED;
}

/* Whether a statement may leave session state behind that the next
 * request must not see (see the top of this file). Over-reporting only
 * costs a reset. */
static bool
changes_session(const be_stmt *s)
{
    static const char *const calls[] = {"set_config", "advisory_lock", "dblink", "setseed"};
    if (!s->k.readonly)
        return true;
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
        if (strcasestr(s->p.sql, calls[i]))
            return true;
    return false;
}

static int
pg_run(be_conn *c, be_stmt *s, exec_ctx *ctx, rows_writer *w, qg_error *err)
{
    if (changes_session(s))
        c->dirty = true;
    for (int attempt = 0;; attempt++) {
        unsigned before = c->connects;
        if (ready(c, ctx, err) != 0)
            return -1;
        bool fresh = attempt > 0 || c->connects != before;
        int st = send_statement(c, s, ctx, w, err);
        if (st == SENT_OK)
            return 0;
        if (st == SENT_FAILED)
            return -1;
        /* nothing of the statement reached the server */
        char why[300];
        fold(why, sizeof(why), c->pg ? PQerrorMessage(c->pg) : "connection closed");
        drop(c);
        if (c->sent || fresh) {
            char msg[600];
            snprintf(msg, sizeof(msg), "cannot send the statement to %s: %s", c->who, why);
            return qg_error_set(err, c->sent ? QG_E_RUNTIME : QG_E_BACKEND, msg);
        }
        qg_warn("postgresql: sending to %s failed (%s); retrying on a new connection", c->who, why);
    }
}

/* Parse without execute (an unnamed statement): the server checks the
 * syntax and resolves every name, and runs nothing. */
static int
pg_compile(be_conn *c, be_stmt *s, exec_ctx *ctx, qg_error *err)
{
    if (ready(c, ctx, err) != 0)
        return -1;
    c->touched = true;
    if (!PQsendPrepare(c->pg, "", s->p.sql, (int)s->p.n, s->types) || flush_out(c, ctx) != 0) {
        char why[600];
        fold(why, sizeof(why), PQerrorMessage(c->pg));
        drop(c);
        return qg_error_set(err, QG_E_BACKEND, why);
    }
    collect k = {0};
    return conclude(c, ctx, &k, collect_results(c, ctx, &k, err), err);
}

static void
pg_finalize(be_stmt *s)
{
    if (!s)
        return;
    pgsql_params_free(&s->p);
    free(s->values);
    free(s->types);
    free(s);
}

static void
pg_end(be_conn *c)
{
    const char *reset = NULL;
    if (c->pg && c->dirty)
        reset = SESSION_RESET;
    else if (c->pg && (c->ro_open || PQtransactionStatus(c->pg) != PQTRANS_IDLE))
        reset = "ROLLBACK";
    if (reset) {
        if (!PQsendQuery(c->pg, reset) || PQflush(c->pg) < 0)
            drop(c);
        else
            c->reset_sent = true;
    }
    c->dirty = false;
    c->touched = false;
    c->sent = false;
    c->setup = false;
    c->ro_open = false;
}

static void
pg_interrupt(be_conn *c)
{
    uint64_t one = 1;
    ssize_t n = write(c->efd, &one, sizeof(one));
    (void)n; /* a full counter already wakes the worker */
}

const exec_backend exec__postgres = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .prepare = pg_prepare,
    .compile = pg_compile,
    .returns_rows = pg_returns_rows,
    .is_readonly = pg_is_readonly,
    .kind = pg_kind,
    .bind = pg_bind,
    .run = pg_run,
    .finalize = pg_finalize,
    .end = pg_end,
    .interrupt = pg_interrupt,
    .split = pg_split,
};
