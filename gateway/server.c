/*
 * server: connections and requests on top of libevhtp (see server.h).
 *
 * DESIGN. evhtp accepts each connection and creates its bufferevent; we then
 * take the bufferevent's callbacks over (post_accept) and keep evhtp's own
 * read callback to call ourselves. Every byte read goes to the connection's
 * `hold` buffer, never into evhtp's input, so evhtp's parser cannot see a
 * partial request line (#128: it reads one byte past its buffer and inserts
 * it into the URI) nor any body (it parses url-encoded bodies into stack
 * arrays the size of the body). A request moves through phases:
 *
 *   IDLE -> HEAD: bytes arrive; gateway/intake checks the head as it grows
 *                 and we answer 400/413/414/431/501/505 ourselves;
 *   HEAD -> BODY: a valid head; the body is de-framed into req->body
 *                 (Content-Length or chunked), "100 Continue" sent if asked;
 *   BODY -> BUSY: we hand evhtp a rewritten head (method, path, headers; no
 *                 query, no framing headers), call its read callback, and its
 *                 parser calls gencb synchronously; gencb pauses the evhtp
 *                 request and runs our handler;
 *   BUSY -> IDLE: the handler's response is in the output buffer
 *                 (gw__req_done); we mark the evhtp request finished, clear
 *                 its pause flag, and look at the next pipelined request
 *                 from a deferred step (so a burst of pipelined requests
 *                 never recurses);
 *   any  -> CLOSING: an error reply, Connection: close, or draining: read
 *                 no more, free the connection once the output is flushed.
 *
 * evhtp's write and event callbacks are never called: we free connections
 * ourselves (evhtp_connection_free), which also avoids its writecb freeing
 * a connection that has no current request. A client going away (EOF,
 * error, send timeout) while a handler owns the request calls on_gone first.
 *
 * Threads: loop thread only.
 */
#include "gateway/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <evhtp/evhtp.h>

#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/stats.h"
#include "gateway/internal.h"
#include "gateway/reply.h"

enum phase { P_IDLE, P_HEAD, P_BODY, P_BUSY, P_CLOSING };

enum { STEP_PROCESS = 1, STEP_DRAIN = 2, STEP_FREE = 4 };

struct gw_conn {
    gw_server *srv;
    evhtp_connection_t *ec;
    struct bufferevent *bev;
    bufferevent_data_cb ev_read; /* evhtp's read callback and its argument */
    void *ev_arg;

    struct evbuffer *hold; /* received, not yet consumed */
    enum phase phase;
    gw_req *req;            /* the request being received or handled */
    uint64_t body_left;     /* Content-Length bytes still to read */
    gw_chunked chunked;     /* chunked body state */
    bool want_drain;        /* call req->_on_drain when output is low */
    bool freeing;           /* conn_free running: ignore evhtp's fini hook */
    bool in_feed;           /* evhtp's parser running on our head */
    bool evhtp_freed;       /* evhtp freed the connection during a feed */
    bool reading_paused;    /* hold too full while busy */
    bool out_blocked;       /* a pipelined request waits for the output to drain */
    bool send_deadline;     /* the timer is the busy request's send deadline */
    uint64_t stall_since;   /* the response has waited for its client since (0: not) */
    uint64_t stalled_ns;    /* how long it waited before, in all */
    uint64_t body_start_ns; /* when the body began (its deadline) */
    bool lingering;         /* closing: our side shut, draining theirs */
    void *ev_done;          /* evhtp request answered during the feed */
    int steps;              /* STEP_* pending on step_ev */
    bool trusted;           /* the peer is a trusted proxy */
    uint64_t served;        /* requests answered on this connection */
    struct event *step_ev;
    struct event *timer;
    char peer[64];
    gw_conn *prev, *next;
};

struct gw_server {
    struct event_base *base;
    evhtp_t *htp;
    gw_server_opts opts;
    int port;
    bool accepting;
    size_t nconns;
    size_t nbusy;
    uint64_t next_req_id;
    gw_conn *feeding; /* the connection whose head evhtp is parsing */
    gw_conn *conns;
    struct event *relisten_ev;
};

/* Hold at most this much while a request is busy (pipelined requests);
 * beyond it stop reading so TCP pushes back. */
#define HOLD_MAX_BUSY (1024 * 1024)

static void conn_process(gw_conn *c);
static void conn_free(gw_conn *c);
static void conn_close(gw_conn *c);
static void linger(gw_conn *c);

/* --- small helpers --------------------------------------------------- */

static void
conn_step(gw_conn *c, int step)
{
    c->steps |= step;
    event_active(c->step_ev, EV_TIMEOUT, 1);
}

static void
timer_arm(gw_conn *c, uint64_t ms)
{
    if (ms == 0) {
        event_del(c->timer);
        return;
    }
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    event_add(c->timer, &tv);
}

static void
peer_text(const struct sockaddr *sa, char *out, size_t n)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        port = ntohs(in->sin_port);
        snprintf(out, n, "%s:%d", host, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const void *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        port = ntohs(in6->sin6_port);
        snprintf(out, n, "[%s]:%d", host, port);
    } else {
        snprintf(out, n, "unix");
    }
}

/* --- requests -------------------------------------------------------- */

static gw_req *
req_new(gw_conn *c)
{
    gw_req *r = qg_calloc(1, sizeof(*r));
    r->_conn = c;
    r->id = ++c->srv->next_req_id;
    r->start_ns = qg_now_ns();
    r->method = GW_M_OTHER;
    r->method_name = "-";
    r->path = "-";
    r->route_rest = "";
    r->_keep_alive = false;
    r->http_minor = 1;
    memcpy(r->peer, c->peer, sizeof(r->peer));
    memcpy(r->client, c->peer, sizeof(r->client));
    r->from_trusted_proxy = c->trusted;
    return r;
}

static void
req_free(gw_req *r)
{
    gw__reply_release(r);
    qg_buf_free(&r->body);
    free(r->_fields);
    free(r->_head_text);
    free(r);
}

/* One header field of a request: offsets into head_text. */
struct gw_field {
    size_t name_off, name_len;
    size_t val_off; /* the value, NUL-terminated in head_text */
};

/* Indexes the header fields of r's head (intake checked their syntax) and
 * NUL-terminates each value where its line ends, so lookups are a scan of
 * names with no copy. */
static void
index_fields(gw_req *r)
{
    char *t = r->_head_text;
    size_t end = r->_head.head_len;
    char *nl = memchr(t + r->_head.method_off, '\n', end - r->_head.method_off);
    size_t p = nl ? (size_t)(nl - t) + 1 : end;
    r->_fields = qg_malloc((r->_head.nheaders ? r->_head.nheaders : 1) * sizeof(struct gw_field));
    r->_nfields = 0;
    while (p < end && r->_nfields < r->_head.nheaders) {
        char *e = memchr(t + p, '\n', end - p);
        size_t line_end = e ? (size_t)(e - t) : end;
        size_t n = line_end - p;
        if (n && t[p + n - 1] == '\r')
            n--;
        if (n == 0)
            break;
        char *colon = memchr(t + p, ':', n);
        if (colon) {
            struct gw_field *f = &r->_fields[r->_nfields++];
            f->name_off = p;
            f->name_len = (size_t)(colon - (t + p));
            size_t v = (size_t)(colon - t) + 1, ve = p + n;
            while (v < ve && (t[v] == ' ' || t[v] == '\t'))
                v++;
            while (ve > v && (t[ve - 1] == ' ' || t[ve - 1] == '\t'))
                ve--;
            f->val_off = v;
            t[ve] = '\0'; /* a space, a tab, CR or LF: the line is indexed already */
        }
        p = line_end + 1;
    }
}

/* Fills r from a head intake accepted. The head bytes are copied: the hold
 * buffer they live in is drained next. */
static void
req_set_head(gw_req *r, const char *data, const gw_head *h)
{
    r->_head = *h;
    r->_head_text = qg_memdup0(data, h->head_len);
    char *t = r->_head_text;
    /* (index_fields works on the lines below; these terminators are all on
     * the request line) */
    t[h->method_off + h->method_len] = '\0';
    r->method_name = t + h->method_off;
    r->method = h->method;
    /* Split the target at '?': path and raw query, both NUL-terminated in
     * place (the SP after the target becomes the terminator). */
    char *target = t + h->target_off;
    target[h->target_len] = '\0';
    char *q = memchr(target, '?', h->target_len);
    if (q) {
        *q = '\0';
        r->query = q + 1;
        r->query_len = h->target_len - (size_t)(q + 1 - target);
    }
    r->path = target;
    r->path_len = strlen(target);
    /* absolute-form: route on the path part only */
    if (r->path[0] != '/' && r->path[0] != '*') {
        const char *p = strstr(r->path, "://");
        p = p ? strchr(p + 3, '/') : NULL;
        r->path = p ? p : "/";
        r->path_len = strlen(r->path);
    }
    r->http_minor = h->http_minor;
    r->_keep_alive = h->keep_alive && r->_conn->srv->accepting;
    index_fields(r);
}

const char *
gw_req_header(gw_req *req, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < req->_nfields; i++) {
        const struct gw_field *f = &req->_fields[i];
        if (f->name_len == n && strncasecmp(req->_head_text + f->name_off, name, n) == 0)
            return req->_head_text + f->val_off;
    }
    return NULL;
}

void
gw_req_on_gone(gw_req *req, void (*gone)(gw_req *req), void *data)
{
    req->_on_gone = gone;
    req->_data = data;
}

void *
gw_req_data(const gw_req *req)
{
    return req->_data;
}

void
gw_req_on_drain(gw_req *req, void (*drain)(gw_req *req))
{
    req->_on_drain = drain;
}

void
gw_req_log(gw_req *req, const char *mode, const char *request_id, const char *client_context_id)
{
    req->_log_mode = mode;
    if (request_id)
        snprintf(req->_log_rid, sizeof(req->_log_rid), "%s", request_id);
    /* the access log makes it safe for one field (log_field) */
    if (client_context_id)
        snprintf(req->_log_ctx, sizeof(req->_log_ctx), "%s", client_context_id);
}

/* --- output primitives for gateway/reply ------------------------------- */

struct evbuffer *
gw__req_output(gw_req *req)
{
    if (!req->_conn)
        return NULL;
    return bufferevent_get_output(req->_conn->bev);
}

void
gw__req_writev(gw_req *req, const struct iovec *iov, int n)
{
    struct evbuffer *out = gw__req_output(req);
    if (!out)
        return;
    size_t sent = 0;
    if (evbuffer_get_length(out) == 0) {
        /* an error (EAGAIN, a reset) leaves everything to the bufferevent,
         * which reports a dead peer through event_cb as usual */
        ssize_t w = writev(bufferevent_getfd(req->_conn->bev), iov, n);
        if (w > 0)
            sent = (size_t)w;
    }
    for (int i = 0; i < n; i++) {
        if (sent >= iov[i].iov_len) {
            sent -= iov[i].iov_len;
            continue;
        }
        evbuffer_add(out, (const char *)iov[i].iov_base + sent, iov[i].iov_len - sent);
        sent = 0;
    }
}

size_t
gw_req_output_pending(gw_req *req)
{
    if (!req->_conn)
        return 0;
    return evbuffer_get_length(bufferevent_get_output(req->_conn->bev));
}

/* The response waits for its client. Once it has waited --send-deadline
 * in all (the pauses added up, so reading a trickle does not reset it), the
 * client is cut off: the connection closes and the handler hears on_gone
 * (a worker waiting for that client is cancelled and freed). While it
 * waits, the timer is armed for what is left; a response whose client
 * keeps up waits next to nothing and is never cut. */
static void
send_deadline_check(gw_conn *c)
{
    uint64_t limit = c->srv->opts.send_deadline_ms * 1000000u;
    if (!limit || c->phase != P_BUSY || c->send_deadline || !c->stall_since)
        return;
    uint64_t now = qg_now_ns();
    uint64_t waited = c->stalled_ns + (now - c->stall_since);
    if (waited >= limit) {
        qg_warn("conn %s: response cut: it waited %llu ms in all for its client to read "
                "(--send-deadline)",
                c->peer, (unsigned long long)(waited / 1000000u));
        conn_step(c, STEP_FREE);
        return;
    }
    c->send_deadline = true;
    timer_arm(c, (limit - waited + 999999u) / 1000000u);
}

/* The client caught up: the wait ends (and counts). */
static void
stall_end(gw_conn *c)
{
    if (c->stall_since) {
        c->stalled_ns += qg_now_ns() - c->stall_since;
        c->stall_since = 0;
    }
    if (c->send_deadline) {
        c->send_deadline = false;
        timer_arm(c, 0);
    }
}

void
gw_req_want_drain(gw_req *req)
{
    gw_conn *c = req->_conn;
    if (!c)
        return;
    c->want_drain = true;
    if (!c->stall_since)
        c->stall_since = qg_now_ns();
    send_deadline_check(c);
    if (gw_req_output_pending(req) <= GW_OUTPUT_LOW)
        conn_step(c, STEP_DRAIN);
}

/* A field of the access log line: spaces and control bytes would break
 * the line into fields, so they never get in (client-chosen values). */
static void
log_field(qg_buf *b, const char *name, const char *v)
{
    qg_buf_addc(b, ' ');
    qg_buf_adds(b, name);
    qg_buf_addc(b, '=');
    if (!v || !*v) {
        qg_buf_addc(b, '-');
        return;
    }
    for (; *v; v++)
        qg_buf_addc(b, ((unsigned char)*v <= ' ' || *v == 0x7f) ? '_' : *v);
}

static void
log_num(qg_buf *b, uint64_t v)
{
    char num[24];
    qg_buf_add(b, num, qg_fmt_uint64(v, num));
}

/* `req 12 POST /query/service 200 301b 0.269ms id=... ctx=... mode=...
 * client=...`, built by hand: it is written for every request. */
static void
access_log(gw_req *r)
{
    uint64_t ns = qg_now_ns() - r->start_ns;
    qg_stats_request(r->_log_mode, r->_status, ns);
    if (!qg_log_enabled(QG_LOG_INFO))
        return;
    static qg_buf line; /* loop thread only; kept, so no allocation per line */
    qg_buf *b = &line;
    qg_buf_reset(b);
    qg_buf_addlit(b, "req ");
    log_num(b, r->id);
    qg_buf_addc(b, ' ');
    qg_buf_adds(b, r->method_name);
    qg_buf_addc(b, ' ');
    qg_buf_adds(b, r->path);
    qg_buf_addc(b, ' ');
    log_num(b, (uint64_t)r->_status);
    qg_buf_addc(b, ' ');
    log_num(b, r->_bytes_out);
    qg_buf_addlit(b, "b ");
    uint64_t us = ns / 1000;
    log_num(b, us / 1000);
    char frac[5] = {'.', (char)('0' + us % 1000 / 100), (char)('0' + us % 100 / 10),
                    (char)('0' + us % 10), 0};
    qg_buf_adds(b, frac);
    qg_buf_addlit(b, "ms");
    log_field(b, "id", r->_log_rid);
    log_field(b, "ctx", r->_log_ctx);
    log_field(b, "mode", r->_log_mode);
    log_field(b, "client", r->client);
    qg_log_line(QG_LOG_INFO, b->data, b->len);
}

/* Lets evhtp free its request when it parses the next head, and lifts
 * the pause set in gencb. evhtp_request_resume would do the latter through
 * an event that can run after we fed the next head, unpausing *that*
 * request; clearing the flag is synchronous. Never called inside evhtp's
 * parser: on the way out it re-pauses a request whose status says paused. */
static void
evhtp_finish(gw_conn *c, void *ev_request)
{
    evhtp_send_reply_end(ev_request);
    evhtp_connection_disable_flag(c->ec, EVHTP_CONN_FLAG_PAUSED);
}

void
gw__req_done(gw_req *req)
{
    gw_conn *c = req->_conn;
    access_log(req);
    if (!c) {
        req_free(req);
        return;
    }
    gw_server *s = c->srv;
    if (req->_ev_request) {
        s->nbusy--;
        if (c->in_feed)
            c->ev_done = req->_ev_request; /* finished by dispatch, below */
        else
            evhtp_finish(c, req->_ev_request);
    }
    bool keep = req->_keep_alive && !req->_eof_body && s->accepting;
    stall_end(c);
    c->stalled_ns = 0;
    c->req = NULL;
    c->served++;
    req_free(req);
    if (!keep) {
        conn_close(c);
        return;
    }
    c->phase = P_IDLE;
    if (c->reading_paused) {
        c->reading_paused = false;
        bufferevent_enable(c->bev, EV_READ);
    }
    conn_step(c, STEP_PROCESS);
}

/* --- handing a head to evhtp ------------------------------------------ */

static bool
evhtp_method_ok(const char *m)
{
    /* evhtp's parser only takes [A-Z_] in a method. */
    for (; *m; m++)
        if (!((*m >= 'A' && *m <= 'Z') || *m == '_'))
            return false;
    return true;
}

/* The head evhtp gets: the method (or OTHER when evhtp could not parse
 * it), the path without query, the version, and nothing else. evhtp keeps
 * the connection's request state; intake has checked the head, and the
 * server reads the header fields from its own copy (index_fields), so
 * evhtp parsing them again would only cost (it was a quarter of the
 * instructions of a small request). */
static void
build_evhtp_head(const gw_req *r, qg_buf *out)
{
    const char *m = evhtp_method_ok(r->method_name) ? r->method_name : "OTHER";
    qg_buf_adds(out, m);
    qg_buf_addc(out, ' ');
    if (r->path[0] == '/')
        qg_buf_adds(out, r->path);
    else
        qg_buf_addc(out, '/');
    qg_buf_addlit(out, " HTTP/1.");
    qg_buf_addc(out, (char)('0' + r->http_minor));
    qg_buf_addlit(out, "\r\n\r\n");
}

static void
dispatch(gw_conn *c)
{
    gw_server *s = c->srv;
    gw_req *r = c->req;
    c->phase = P_BUSY;
    timer_arm(c, 0);

    qg_buf head = QG_BUF_INIT;
    build_evhtp_head(r, &head);
    /* libevent freezes the end of a bufferevent's input so only its reads
     * add to it; we are the read now. */
    struct evbuffer *in = bufferevent_get_input(c->bev);
    /* Client bytes read from the socket whose read_cb has not run yet
     * (bufferevent callbacks can be deferred) belong after this request,
     * in hold: evhtp must see only the rewritten head, or it parses the
     * client's raw pipelined head first and refuses the connection. */
    if (evbuffer_get_length(in))
        evbuffer_add_buffer(c->hold, in);
    evbuffer_unfreeze(in, 0);
    evbuffer_add(in, head.data, head.len);
    evbuffer_freeze(in, 0);
    qg_buf_free(&head);

    unsigned long long id = (unsigned long long)r->id;
    c->in_feed = true;
    s->feeding = c;
    c->ev_read(c->bev, c->ev_arg);
    s->feeding = NULL;
    c->in_feed = false;
    if (c->evhtp_freed) {
        /* evhtp refused a head intake had accepted and freed the
         * connection; the socket is gone with it. */
        qg_warn("req %llu: evhtp rejected a checked head; connection closed", id);
        conn_free(c);
        return;
    }
    /* evhtp drained what it parsed; anything left means its parser stopped
     * early, which gencb not running also shows. */
    evbuffer_drain(bufferevent_get_input(c->bev), (size_t)-1);
    if (c->ev_done) {
        /* The handler answered inside gencb: r is gone already. */
        evhtp_finish(c, c->ev_done);
        c->ev_done = NULL;
        return;
    }
    if (!r->_ev_request) {
        qg_warn("req %llu: evhtp did not complete a checked head (%s)", (unsigned long long)r->id,
                htparser_get_strerror(c->ec->parser));
        qg_error err;
        qg_error_set(&err, QG_E_BAD_REQUEST, "unparseable request head");
        r->_keep_alive = false;
        gw_reply_error(r, &err, NULL);
    }
}

/* evhtp's request callback: runs inside dispatch's call into evhtp. */
static void
gencb(evhtp_request_t *er, void *arg)
{
    gw_server *s = arg;
    gw_conn *c = s->feeding;
    if (!c || !c->req || c->ec != evhtp_request_get_connection(er)) {
        /* Not a head we fed: cannot happen, but never answer through
         * evhtp's reply path. */
        evhtp_request_pause(er);
        return;
    }
    gw_req *r = c->req;
    r->_ev_request = er;
    if (r->from_trusted_proxy)
        gw_forwarded_client(s->opts.trusted, gw_req_header(r, "X-Forwarded-For"), r->client,
                            sizeof(r->client));
    /* Paused, evhtp parses nothing more on this connection until
     * gw__req_done; pipelined bytes stay in our hold buffer. Keep reading
     * the socket so a client that goes away is seen at once. This is
     * evhtp_request_pause (1.2.18: the request's status, the connection's
     * flag, then reading disabled) without the last step, which we would
     * undo at once: disabling and enabling reading cost one or two
     * epoll_ctl calls a request. */
    er->status = EVHTP_RES_PAUSE;
    evhtp_connection_enable_flag(c->ec, EVHTP_CONN_FLAG_PAUSED);
    if (!(bufferevent_get_enabled(c->bev) & EV_READ))
        bufferevent_enable(c->bev, EV_READ);
    s->nbusy++;
    s->opts.handler(r, s->opts.handler_arg);
}

/* --- intake ------------------------------------------------------------ */

static void
early_error(gw_conn *c, const qg_error *err)
{
    if (!c->req)
        c->req = req_new(c);
    gw_req *r = c->req;
    r->_keep_alive = false;
    c->phase = P_BUSY;
    timer_arm(c, 0);
    gw_reply_error(r, err, NULL);
}

/* Moves body bytes from hold into req->body; returns true when the body is
 * complete, false when more must arrive or the connection failed. */
static bool
read_body(gw_conn *c)
{
    gw_req *r = c->req;
    if (!r->_head.chunked) {
        size_t have = evbuffer_get_length(c->hold);
        size_t take = have < c->body_left ? have : (size_t)c->body_left;
        if (take) {
            qg_buf_reserve(&r->body, take);
            int got = evbuffer_remove(c->hold, r->body.data + r->body.len, take);
            if (got > 0) {
                r->body.len += (size_t)got;
                r->body.data[r->body.len] = '\0';
                c->body_left -= (uint64_t)got;
            }
        }
        return c->body_left == 0;
    }
    while (evbuffer_get_length(c->hold) > 0) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(c->hold, -1, NULL, &v, 1) < 1)
            break;
        bool done = false;
        qg_error err;
        ssize_t used = gw_chunked_feed(&c->chunked, v.iov_base, v.iov_len, &r->body, &done, &err);
        if (used < 0) {
            early_error(c, &err);
            return false;
        }
        evbuffer_drain(c->hold, (size_t)used);
        if (done)
            return true;
    }
    return false;
}

/* The body's timer: the pause allowed (--body-timeout, from the last
 * progress), but never past the whole body's deadline (--body-deadline):
 * a body trickled a byte at a time does not hold its slot for ever. */
static void
body_timer(gw_conn *c)
{
    const gw_server_opts *o = &c->srv->opts;
    uint64_t ms = o->body_timeout_ms;
    if (o->body_deadline_ms) {
        uint64_t spent = (qg_now_ns() - c->body_start_ns) / 1000000u;
        uint64_t left = spent < o->body_deadline_ms ? o->body_deadline_ms - spent : 1;
        if (!ms || left < ms)
            ms = left;
    }
    timer_arm(c, ms);
}

static void
conn_process(gw_conn *c)
{
    gw_server *s = c->srv;
    for (;;) {
        switch (c->phase) {
        case P_BUSY:
        case P_CLOSING:
            return;
        case P_IDLE:
        case P_HEAD: {
            size_t len = evbuffer_get_length(c->hold);
            if (len == 0) {
                if (c->phase == P_IDLE)
                    timer_arm(c, s->opts.idle_timeout_ms);
                return;
            }
            if (c->phase == P_IDLE &&
                evbuffer_get_length(bufferevent_get_output(c->bev)) > GW_OUTPUT_HIGH) {
                /* pipelined requests wait while the client does not read
                 * its answers (write_cb resumes); the write timeout
                 * closes a client that reads nothing */
                c->out_blocked = true;
                timer_arm(c, 0);
                if (len > HOLD_MAX_BUSY && !c->reading_paused) {
                    c->reading_paused = true;
                    bufferevent_disable(c->bev, EV_READ);
                }
                return;
            }
            if (c->phase == P_IDLE) {
                c->phase = P_HEAD;
                timer_arm(c, s->opts.header_timeout_ms);
            }
            size_t n = len;
            if (n > s->opts.limits.max_head + 1)
                n = s->opts.limits.max_head + 1;
            const char *data = (const char *)evbuffer_pullup(c->hold, (ssize_t)n);
            gw_head h;
            qg_error err;
            int rc = gw_intake_head(data, n, &s->opts.limits, &h, &err);
            if (rc == GW_INTAKE_NEED_MORE)
                return;
            if (rc == GW_INTAKE_ERROR) {
                early_error(c, &err);
                return;
            }
            gw_req *r = req_new(c);
            c->req = r;
            req_set_head(r, data, &h);
            evbuffer_drain(c->hold, h.head_len);
            if (h.chunked || (h.has_length && h.content_length > 0)) {
                c->phase = P_BODY;
                c->body_left = h.chunked ? 0 : h.content_length;
                if (h.chunked)
                    gw_chunked_init(&c->chunked, s->opts.limits.max_body);
                if (!h.chunked && h.content_length < (1u << 20))
                    qg_buf_reserve(&r->body, (size_t)h.content_length);
                c->body_start_ns = qg_now_ns();
                body_timer(c);
                if (h.expect_continue && h.http_minor == 1 && evbuffer_get_length(c->hold) == 0)
                    gw_reply_continue(r);
                continue;
            }
            dispatch(c);
            return;
        }
        case P_BODY:
            if (read_body(c)) {
                dispatch(c);
                return;
            }
            if (c->phase == P_BODY)
                body_timer(c);
            return;
        }
    }
}

/* --- bufferevent callbacks (ours, replacing evhtp's) ------------------- */

static void
read_cb(struct bufferevent *bev, void *arg)
{
    gw_conn *c = arg;
    evbuffer_add_buffer(c->hold, bufferevent_get_input(bev));
    if (c->phase == P_CLOSING) {
        /* An error reply is on its way; what the client still sends is
         * not read (and a flood of it must not grow memory). */
        evbuffer_drain(c->hold, (size_t)-1);
        return;
    }
    if (c->phase == P_BUSY || c->out_blocked) {
        if (evbuffer_get_length(c->hold) > HOLD_MAX_BUSY) {
            c->reading_paused = true;
            bufferevent_disable(bev, EV_READ);
        }
        return;
    }
    conn_process(c);
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
    gw_conn *c = arg;
    size_t pending = evbuffer_get_length(bufferevent_get_output(bev));
    if (c->phase == P_CLOSING) {
        if (pending == 0)
            linger(c);
        return;
    }
    if (c->want_drain && pending <= GW_OUTPUT_LOW && c->req && c->req->_on_drain) {
        c->want_drain = false;
        stall_end(c);
        c->req->_on_drain(c->req);
    }
    if (c->out_blocked && pending <= GW_OUTPUT_LOW) {
        c->out_blocked = false;
        if (c->reading_paused) {
            c->reading_paused = false;
            bufferevent_enable(c->bev, EV_READ);
        }
        conn_step(c, STEP_PROCESS);
    }
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
    gw_conn *c = arg;
    if (what & BEV_EVENT_TIMEOUT)
        qg_debug("conn %s: send timeout", c->peer);
    conn_free(c);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
    gw_conn *c = arg;
    switch (c->phase) {
    case P_HEAD:
    case P_BODY: {
        qg_error err;
        qg_error_set(&err, QG_E_REQUEST_TIMEOUT);
        early_error(c, &err);
        break;
    }
    case P_BUSY:
        /* the send deadline passed: cut a client that is still behind */
        c->send_deadline = false;
        if (c->want_drain && c->req)
            send_deadline_check(c);
        break;
    default:
        conn_free(c);
        break;
    }
}

static void
step_cb(evutil_socket_t fd, short what, void *arg)
{
    gw_conn *c = arg;
    int steps = c->steps;
    c->steps = 0;
    if (steps & STEP_FREE) {
        conn_free(c);
        return;
    }
    if ((steps & STEP_DRAIN) && c->want_drain && c->req && c->req->_on_drain) {
        c->want_drain = false;
        stall_end(c);
        c->req->_on_drain(c->req);
    }
    if (steps & STEP_PROCESS)
        conn_process(c);
}

/* --- connection lifetime ---------------------------------------------- */

/* Lingering close (as nginx does): once the response is out, shut our
 * side and read and drop what the client still sends for a moment. Closing
 * a socket with unread input makes the kernel send a reset, which can
 * destroy the response before the client reads it: the 413 for a client
 * still uploading its 300 MB would be lost. */
#define LINGER_MS 2000

static void
linger(gw_conn *c)
{
    if (c->lingering)
        return;
    c->lingering = true;
    shutdown(bufferevent_getfd(c->bev), SHUT_WR);
    timer_arm(c, LINGER_MS);
}

static void
conn_close(gw_conn *c)
{
    c->phase = P_CLOSING;
    timer_arm(c, 0);
    evbuffer_drain(c->hold, (size_t)-1);
    if (c->reading_paused) {
        c->reading_paused = false;
        bufferevent_enable(c->bev, EV_READ);
    }
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        linger(c);
}

/* Releases our side; evhtp's side is freed by the caller (or already). */
static void
conn_release(gw_conn *c)
{
    gw_server *s = c->srv;
    gw_req *r = c->req;
    c->req = NULL;
    if (r) {
        r->_conn = NULL;
        if (r->_ev_request)
            s->nbusy--;
        r->_ev_request = NULL;
        if (r->_on_gone && !r->_finished) {
            /* The handler owns it: it detaches, then we free. */
            r->_on_gone(r);
        }
        req_free(r);
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    event_free(c->timer);
    event_free(c->step_ev);
    evbuffer_free(c->hold);
    free(c);
}

static void
conn_free(gw_conn *c)
{
    if (c->freeing)
        return;
    c->freeing = true;
    evhtp_connection_t *ec = c->ec;
    if (c->in_feed) {
        /* Inside evhtp's parser: it still uses the connection. Free from
         * the loop once dispatch has returned. */
        c->freeing = false;
        conn_step(c, STEP_FREE);
        return;
    }
    /* evhtp first (its fini hook sees freeing and returns), then ours. */
    if (ec)
        evhtp_connection_free(ec);
    conn_release(c);
}

/* evhtp's connection-fini hook: runs for every evhtp_connection_free, ours
 * included (then freeing is set and there is nothing to do). */
static evhtp_res
conn_fini_hook(evhtp_connection_t *ec, void *arg)
{
    gw_conn *c = arg;
    if (c->freeing)
        return EVHTP_RES_OK;
    c->freeing = true;
    c->ec = NULL;
    if (c->in_feed) {
        c->evhtp_freed = true;
        c->freeing = false;
        return EVHTP_RES_OK;
    }
    conn_release(c);
    return EVHTP_RES_OK;
}

static evhtp_res
post_accept(evhtp_connection_t *ec, void *arg)
{
    gw_server *s = arg;
    gw_conn *c = qg_calloc(1, sizeof(*c));
    c->srv = s;
    c->ec = ec;
    c->bev = evhtp_connection_get_bev(ec);
    c->hold = evbuffer_new();
    c->timer = evtimer_new(s->base, timer_cb, c);
    c->step_ev = event_new(s->base, -1, 0, step_cb, c);
    if (ec->saddr) {
        peer_text(ec->saddr, c->peer, sizeof(c->peer));
        c->trusted = gw_proxies_trust(s->opts.trusted, ec->saddr);
    } else {
        snprintf(c->peer, sizeof(c->peer), "?");
    }

    bufferevent_data_cb wcb;
    bufferevent_event_cb ecb;
    bufferevent_getcb(c->bev, &c->ev_read, &wcb, &ecb, &c->ev_arg);
    bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
    bufferevent_setwatermark(c->bev, EV_WRITE, GW_OUTPUT_LOW, 0);
    if (s->opts.send_timeout_ms) {
        struct timeval tv = {(time_t)(s->opts.send_timeout_ms / 1000),
                             (suseconds_t)(s->opts.send_timeout_ms % 1000) * 1000};
        bufferevent_set_timeouts(c->bev, NULL, &tv);
    }
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    evhtp_connection_set_hook(ec, evhtp_hook_on_connection_fini, (evhtp_hook)conn_fini_hook, c);

    int one = 1;
    setsockopt(bufferevent_getfd(c->bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;

    if (s->opts.max_connections > 0 && s->nconns > (size_t)s->opts.max_connections) {
        char lim[24];
        snprintf(lim, sizeof(lim), "%d", s->opts.max_connections);
        qg_error err;
        qg_error_set(&err, QG_E_TOO_MANY_CONNECTIONS, lim);
        early_error(c, &err);
        return EVHTP_RES_OK;
    }
    c->phase = P_IDLE;
    timer_arm(c, s->opts.idle_timeout_ms);
    return EVHTP_RES_OK;
}

/* --- listener ---------------------------------------------------------- */

static void
relisten_cb(evutil_socket_t fd, short what, void *arg)
{
    gw_server *s = arg;
    if (s->accepting && s->htp->server)
        evconnlistener_enable(s->htp->server);
}

static void
listener_error(struct evconnlistener *l, void *arg)
{
    gw_server *s = ((evhtp_t *)arg)->arg;
    int e = EVUTIL_SOCKET_ERROR();
    /* Out of descriptors: stop accepting for a moment instead of spinning
     * on a listener that stays readable. */
    qg_warn("accept: %s; pausing accepts for 100ms", strerror(e));
    evconnlistener_disable(l);
    struct timeval tv = {0, 100000};
    event_add(s->relisten_ev, &tv);
}

static int
listen_socket(const char *host, int port, qg_error *err)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        char msg[300];
        snprintf(msg, sizeof(msg), "cannot resolve listen address %s: %s", host, gai_strerror(rc));
        qg_error_set(err, QG_E_INTERNAL, msg);
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        freeaddrinfo(res);
        qg_error_set(err, QG_E_INTERNAL, strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 1024) < 0) {
        char msg[300];
        snprintf(msg, sizeof(msg), "cannot listen on %s:%d: %s", host, port, strerror(errno));
        qg_error_set(err, QG_E_INTERNAL, msg);
        close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    return fd;
}

gw_server *
gw_server_new(struct event_base *base, const gw_server_opts *opts, qg_error *err)
{
    int fd = listen_socket(opts->host, opts->port, err);
    if (fd < 0)
        return NULL;
    gw_server *s = qg_calloc(1, sizeof(*s));
    s->base = base;
    s->opts = *opts;
    s->accepting = true;

    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                             : ((struct sockaddr_in *)&ss)->sin_port);

    s->htp = evhtp_new(base, s);
    /* We answer 100-continue ourselves (we read bodies, evhtp never does). */
    evhtp_disable_flag(s->htp, EVHTP_FLAG_ENABLE_100_CONT);
    evhtp_set_gencb(s->htp, gencb, s);
    evhtp_set_post_accept_cb(s->htp, post_accept, s);
    if (evhtp_accept_socket(s->htp, fd, 1024) != 0) {
        qg_error_set(err, QG_E_INTERNAL, "evhtp could not accept on the listening socket");
        close(fd);
        evhtp_free(s->htp);
        free(s);
        return NULL;
    }
    s->relisten_ev = evtimer_new(base, relisten_cb, s);
    evconnlistener_set_error_cb(s->htp->server, listener_error);
    return s;
}

int
gw_server_port(const gw_server *s)
{
    return s->port;
}

size_t
gw_server_busy(const gw_server *s)
{
    return s->nbusy;
}

size_t
gw_server_flushing(const gw_server *s)
{
    size_t n = 0;
    for (const gw_conn *c = s->conns; c; c = c->next)
        if (c->phase == P_CLOSING && evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
            n++;
    return n;
}

size_t
gw_server_connections(const gw_server *s)
{
    return s->nconns;
}

void
gw_server_drain(gw_server *s)
{
    if (!s->accepting)
        return;
    s->accepting = false;
    /* Idle connections go now; busy ones close after their response (which
     * says so), and ones that are receiving a request get it answered
     * first. */
    for (gw_conn *c = s->conns, *next; c; c = next) {
        next = c->next;
        if (c->req)
            c->req->_keep_alive = false;
        /* a connection accepted a moment ago is not idle: its first request
         * is on the way, and gets an answer (and then the close) */
        if (c->phase == P_IDLE && c->served > 0 && evbuffer_get_length(c->hold) == 0)
            conn_close(c);
    }
}

void
gw_server_free(gw_server *s)
{
    if (s->nconns)
        qg_debug("closing %zu open connection(s)", s->nconns);
    while (s->conns)
        conn_free(s->conns);
    evhtp_unbind_socket(s->htp);
    evhtp_free(s->htp);
    event_free(s->relisten_ev);
    free(s);
}
