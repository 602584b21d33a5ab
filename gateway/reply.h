/*
 * reply: every byte qgate sends to a client goes through here.
 *
 * A response is either whole (gw_reply, gw_reply_json, gw_reply_error,
 * gw_reply_empty, gw_reply_not_allowed) or streamed (gw_reply_start, then
 * gw_reply_chunk / gw_reply_chunk_ref, then gw_reply_end): chunked for
 * HTTP/1.1 clients, ended by closing the connection for HTTP/1.0 ones.
 * Finishing a response hands the request back to the server
 * (gw__req_done): the caller must not touch it afterwards.
 *
 * Common headers: Date, Server, Content-Type, Content-Length or
 * Transfer-Encoding, Connection when closing; Access-Control-Allow-Origin
 * and -Expose-Headers when the request's Origin is one of --cors-origins
 * (req->cors_origin), Vary: Origin whenever that list is set. HEAD
 * requests get the head only (the router answers HEAD wherever GET is
 * served: the same head, Content-Length included where it is known).
 *
 * gzip: a client whose Accept-Encoding takes gzip gets text, JSON and
 * NDJSON bodies compressed (zlib, level GW_GZIP_LEVEL): a whole response of
 * at least GW_GZIP_MIN bytes at once, with its compressed Content-Length; a
 * streamed one as it goes, each gw_reply_chunk call deflated with a sync
 * flush, so that a stream's messages reach the client when they are handed
 * over. Such bodies carry Vary: Accept-Encoding whether compressed or not.
 *
 * Threads: loop thread only.
 */
#ifndef QG_GW_REPLY_H
#define QG_GW_REPLY_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "gateway/server.h"

typedef struct gw_header {
    const char *name;
    const char *value;
} gw_header;

#define GW_JSON "application/json; charset=UTF-8"

/* zlib's level: 1, measured against 3 and 6 on a large result
 * (docs/performance.md, "gzip"). Bodies below GW_GZIP_MIN bytes go out
 * as they are: their few bytes saved cost more than they save. */
#define GW_GZIP_LEVEL 1
#define GW_GZIP_MIN   1024
/* zlib's window (2^13 bytes) and memLevel: 64 KiB of state a stream. */
#define GW_GZIP_WBITS    13
#define GW_GZIP_MEMLEVEL 6

/* A whole response. extra (n headers) may be NULL. */
void gw_reply(gw_req *req, int status, const char *ctype, const void *body, size_t len,
              const gw_header *extra, size_t nextra);
void gw_reply_json(gw_req *req, int status, const qg_buf *body);
/* Status with an empty body (Content-Length: 0). */
void gw_reply_empty(gw_req *req, int status);
/* The error document of err (qg_env_error_doc) with err's HTTP status;
 * 503s carry Retry-After. request_id is unused for now (errors before a
 * request runs carry none). */
void gw_reply_error(gw_req *req, const qg_error *err, const char *request_id);
/* The same with extra headers (then no Retry-After or WWW-Authenticate of
 * its own). */
void gw_reply_error_h(gw_req *req, const qg_error *err, const gw_header *extra, size_t nextra);
/* 405 ASX0930 "Method PUT not allowed for the requested resource." (AsterixDB's
 * text) as a JSON error document, with Allow: allow (the path's methods). */
void gw_reply_not_allowed(gw_req *req, const char *allow);
/* "HTTP/1.1 100 Continue": the client may send its body. Not a response:
 * the request stays open. */
void gw_reply_continue(gw_req *req);

/* Streaming. */
void gw_reply_start(gw_req *req, int status, const char *ctype, const gw_header *extra,
                    size_t nextra);
void gw_reply_chunk(gw_req *req, const void *data, size_t len);
/* Sends data without copying it; free_fn(data, len, arg) runs once the
 * bytes are written or dropped. */
void gw_reply_chunk_ref(gw_req *req, const void *data, size_t len,
                        void (*free_fn)(const void *data, size_t len, void *arg), void *arg);
void gw_reply_end(gw_req *req);
/* Ends a streamed response so that the client sees it cut: no last chunk,
 * and the connection closes after what was sent (a body that stops short
 * must never read as a whole one). */
void gw_reply_abort(gw_req *req);

/* Reason phrase of an HTTP status ("Not Found"). */
const char *gw_status_text(int status);

#endif
