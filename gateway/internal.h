/*
 * internal: what gateway/'s files share and nothing above them uses (the
 * layering check keeps gw__ names inside the folder): the server's output
 * primitives, which gateway/reply (the one module that emits bytes) writes
 * every response with. Loop thread.
 */
#ifndef QG_GW_INTERNAL_H
#define QG_GW_INTERNAL_H

#include "gateway/server.h"

struct evbuffer;
struct iovec;

/* The connection's output buffer, or NULL when the client is gone. */
struct evbuffer *gw__req_output(gw_req *req);
/* Sends the iovecs: straight to the socket while nothing else is queued
 * (most answers leave in this one writev, with no event added for them),
 * the rest through the output buffer. */
void gw__req_writev(gw_req *req, const struct iovec *iov, int n);
/* The response is complete in the output buffer: log it, then either read
 * the next request or close after the output is flushed. The request is
 * freed; the caller must not touch it again. */
void gw__req_done(gw_req *req);
/* Frees what gateway/reply keeps on a request (a gzip stream); the server
 * calls it when it frees the request. */
void gw__reply_release(gw_req *req);

#endif
