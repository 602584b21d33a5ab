/*
 * server: connections, requests and the only code that touches libevhtp.
 *
 * libevhtp 1.2.18 is old and has bugs we contain here (docs/design.md lists
 * each with the test that proves the workaround): the server keeps every
 * byte a client sends in its own buffer, checks the head and de-frames the
 * body with gateway/intake, answers bad requests itself, and hands evhtp a
 * rewritten head that has no body and no query string. evhtp then parses
 * that head, and its pause/resume machinery keeps pipelined requests in
 * order. Responses never go through evhtp's reply functions: gateway/reply
 * writes them to the connection's output buffer.
 *
 * Threads: everything here runs on the loop thread. Workers never see a
 * gw_req; they talk to the loop through exec/pool.
 */
#ifndef QG_GW_SERVER_H
#define QG_GW_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "gateway/intake.h"
#include "gateway/proxy.h"

struct event_base;
struct evbuffer;

typedef struct gw_server gw_server;
typedef struct gw_conn gw_conn;
typedef struct gw_req gw_req;

/* Called when a request is complete (head checked, body read). The handler
 * answers through gateway/reply, now or later; until it has answered it owns
 * the right to keep the gw_req pointer. */
typedef void (*gw_handler_fn)(gw_req *req, void *arg);

typedef struct gw_server_opts {
    const char *host; /* numeric IPv4/IPv6 address or "localhost" */
    int port;         /* 0: any free port (see gw_server_port) */
    gw_intake_limits limits;
    uint64_t idle_timeout_ms;   /* keep-alive connection with no request */
    uint64_t header_timeout_ms; /* first byte of a request to end of its head */
    uint64_t body_timeout_ms;   /* body bytes stop arriving for this long */
    uint64_t send_timeout_ms;   /* client stops reading a response for this long */
    uint64_t send_deadline_ms;  /* a response that waited this long in all for its
                                   client to read is cut (0: none) */
    uint64_t body_deadline_ms;  /* a whole request body (0: none) */
    int max_connections;        /* beyond: 503 and close */
    const gw_proxies *trusted;  /* peers whose X-Forwarded-* count (may be NULL) */
    gw_handler_fn handler;
    void *handler_arg;
} gw_server_opts;

/* One HTTP request. Created by the server when a head passed intake (or
 * failed it), handed to the handler once the body is in. Owned by the
 * server: valid until the handler's response is finished (gw_reply_*), or
 * until its on_gone has been called, whichever comes first.
 *
 * Handlers read the fields above the line; members whose names start with
 * '_' are the transport's own (gateway/ alone reads and writes them: the
 * layering check, scripts/check-layers.py, refuses any other use). A
 * handler sets what it needs through gw_req_on_gone, gw_req_on_drain and
 * gw_req_log, and answers through gateway/reply. */
struct gw_req {
    uint64_t id; /* process-wide request number, for logs */
    uint64_t start_ns;

    gw_method method;
    const char *method_name; /* NUL-terminated */
    const char *path;        /* target up to '?', NUL-terminated, raw */
    size_t path_len;
    const char *query; /* after '?', NUL-terminated; NULL when none */
    size_t query_len;
    int http_minor;
    qg_buf body;             /* de-chunked body */
    char peer[64];           /* TCP peer "ip:port" */
    char client[64];         /* the real client: X-Forwarded-For via a trusted proxy, else peer */
    bool from_trusted_proxy; /* the peer is in --trusted-proxies */

    /* Set by the router (gateway/router) before the handler runs. */
    const char *principal;   /* who sent it (--auth-file), NULL when off */
    bool principal_readonly; /* that principal may only run queries */
    const char *route_rest;  /* a prefix route: the path after the prefix; else "" */
    const char *cors_origin; /* its Origin, when --cors-origins lists it: answers allow it */
    bool cors_vary;          /* --cors-origins is set: answers vary by Origin */

    /* ---- the transport's own ------------------------------------------- */

    bool _keep_alive; /* cleared by the server (draining) and by gw_reply_abort */
    /* The handler's hooks (gw_req_on_gone, gw_req_on_drain) and its data. */
    void (*_on_gone)(gw_req *req);
    void (*_on_drain)(gw_req *req);
    void *_data;

    /* Response state, kept by gateway/reply. */
    int _status;
    bool _headers_sent;
    bool _chunked;  /* chunked transfer coding in use */
    bool _eof_body; /* HTTP/1.0 stream: body ends when the connection closes */
    bool _finished;
    bool _is_head;          /* a HEAD, routed as a GET: no body goes out */
    bool _gz_whole;         /* the whole body went out gzip-compressed */
    struct z_stream_s *_gz; /* a streamed body's gzip state (zlib), or NULL */
    uint64_t _bytes_out;

    /* For the access log (gw_req_log). */
    const char *_log_mode;
    char _log_ctx[64];
    char _log_rid[40];

    gw_conn *_conn;
    void *_ev_request;
    char *_head_text; /* the head as received; header values NUL-terminated in place */
    gw_head _head;
    struct gw_field *_fields; /* the head's header fields, indexed once */
    size_t _nfields;
};

/* Creates the server on base and starts listening. Returns NULL with err
 * set (QG_E_INTERNAL, with the reason) when the address cannot be bound. */
gw_server *gw_server_new(struct event_base *base, const gw_server_opts *opts, qg_error *err);
/* The port actually bound. */
int gw_server_port(const gw_server *s);
/* Draining: idle keep-alive connections are closed, and every response
 * from now on closes its connection. The listener stays open, so health
 * checks and new clients still get answers (503 for new work, decided by
 * the handlers) until the server is freed. */
void gw_server_drain(gw_server *s);
/* Requests that have a handler and have not finished. */
size_t gw_server_busy(const gw_server *s);
size_t gw_server_connections(const gw_server *s);
/* Connections whose last response is still being written before they
 * close: a drain waits for them too, or the answer it let finish would be
 * cut off with the connection. */
size_t gw_server_flushing(const gw_server *s);
/* Closes every connection (handlers get on_gone) and frees the server. */
void gw_server_free(gw_server *s);

/* A request header's value (first field of that name, case-insensitive),
 * NUL-terminated, or NULL. Valid as long as the request. */
const char *gw_req_header(gw_req *req, const char *name);

/* The handler keeps req past its callback: gone(req) is called (once, loop
 * thread) when the client went away before the response finished; the
 * handler must then drop every pointer to req, which the server frees when
 * gone returns. data is the handler's, for gw_req_data. gone NULL: the
 * handler no longer needs to hear of it (its response is about to finish,
 * or another owner takes over and sets its own). */
void gw_req_on_gone(gw_req *req, void (*gone)(gw_req *req), void *data);
/* What the last gw_req_on_gone gave as data. */
void *gw_req_data(const gw_req *req);
/* A streaming handler: drain(req) is called when the output drained below
 * the low watermark after gw_req_want_drain. */
void gw_req_on_drain(gw_req *req, void (*drain)(gw_req *req));
/* What the access log says of req beyond its HTTP facts: its mode (a
 * static string), request id and client context id (copied, cut to fit;
 * either may be NULL). */
void gw_req_log(gw_req *req, const char *mode, const char *request_id,
                const char *client_context_id);

/* Whether req is a HEAD (the router hands it to the GET handler; its
 * answer goes out as a head alone). A GET handler whose GET has an effect
 * (a stored result's read count) leaves the effect out for HEAD. */
bool gw_req_is_head(const gw_req *req);

/* Bytes queued in the output buffer, not yet sent. */
size_t gw_req_output_pending(gw_req *req);
/* Ask for one on_drain call once pending output falls below the low
 * watermark (immediately, from the loop, if it already is). */
void gw_req_want_drain(gw_req *req);

/* Output above this pauses producers (backpressure); below the low mark
 * they resume. */
#define GW_OUTPUT_HIGH (256 * 1024)
#define GW_OUTPUT_LOW  (64 * 1024)

#endif
