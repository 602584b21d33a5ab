/*
 * intake: HTTP/1.x request framing, checked before evhtp sees a byte.
 *
 * evhtp's parser closes the socket without an answer on oversized or
 * malformed input, inserts a junk byte into any request line that arrives in
 * more than one read (upstream issue #128), and parses url-encoded bodies
 * into stack arrays the size of the body. gateway/server therefore holds each
 * request's bytes until intake has seen a complete, valid head (and, for
 * bodies, de-framed the whole body itself), answers 4xx/5xx for anything
 * else, and only then hands evhtp the head.
 *
 * Pure: no I/O, no globals; unit-tested and fuzzed as it is. Any thread.
 */
#ifndef QG_GW_INTAKE_H
#define QG_GW_INTAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/err.h"

typedef struct gw_intake_limits {
    size_t max_request_line; /* bytes of the request line without CRLF; over -> 414 */
    size_t max_head;         /* bytes of the whole head; over -> 431 */
    size_t max_headers;      /* header fields; over -> 431 */
    uint64_t max_body;       /* declared or de-chunked body bytes; over -> 413 */
} gw_intake_limits;

/* Defaults: 4000-byte request line, 32 KiB head, 100 headers, 16 MiB body. */
void gw_intake_limits_default(gw_intake_limits *lim);

enum { GW_INTAKE_ERROR = -1, GW_INTAKE_NEED_MORE = 0, GW_INTAKE_OK = 1 };

typedef enum gw_method {
    GW_M_GET,
    GW_M_HEAD,
    GW_M_POST,
    GW_M_PUT,
    GW_M_DELETE,
    GW_M_OPTIONS,
    GW_M_PATCH,
    GW_M_OTHER /* any other token; routes answer 405 (known path) or 404 */
} gw_method;

/* What intake learned from a complete, valid head. Offsets are into the
 * data passed to gw_intake_head. */
typedef struct gw_head {
    size_t skip;     /* empty lines before the request line (RFC 9112 2.2) */
    size_t head_len; /* bytes from data[0] through the blank line, skip included */
    gw_method method;
    size_t method_off, method_len;
    size_t target_off, target_len; /* the request-target as sent */
    int http_minor;                 /* HTTP/1.0 -> 0, HTTP/1.1 -> 1 */
    bool keep_alive;       /* 1.1 unless "Connection: close"; 1.0 only with keep-alive */
    bool expect_continue;  /* "Expect: 100-continue" present */
    bool chunked;          /* Transfer-Encoding: chunked */
    bool has_length;       /* Content-Length present */
    uint64_t content_length;
    size_t nheaders;
} gw_head;

/* Examines data[0..len), the start of a request. Returns:
 *   GW_INTAKE_NEED_MORE  head not complete yet, and no limit passed so far;
 *   GW_INTAKE_OK         *head describes a complete, valid head;
 *   GW_INTAKE_ERROR      err set, and the connection must be closed after
 *                        the error reply:
 *     QG_E_URI_TOO_LONG      request line over max_request_line (also while
 *                            still incomplete);
 *     QG_E_HEADERS_TOO_LARGE head over max_head, or more than max_headers;
 *     QG_E_BODY_TOO_LARGE    Content-Length over max_body;
 *     QG_E_HTTP_VERSION      HTTP/x.y other than 1.0 and 1.1;
 *     QG_E_NOT_IMPLEMENTED   a Transfer-Encoding other than chunked;
 *     QG_E_BAD_REQUEST       anything else malformed: not a request line,
 *                            bad method token, target not origin-form /
 *                            absolute-form / "*", control or non-ASCII bytes
 *                            in the target, bad header name, no colon,
 *                            whitespace before the colon, obsolete line
 *                            folding, NUL or other control bytes in a value,
 *                            Content-Length that is not plain digits or does
 *                            not fit 64 bits, conflicting Content-Lengths,
 *                            both Content-Length and Transfer-Encoding.
 * Lines may end in CRLF or a bare LF. */
int gw_intake_head(const char *data, size_t len, const gw_intake_limits *lim, gw_head *head,
                   qg_error *err);

/* Finds a header field in a head checked by gw_intake_head: the value of
 * the first field named name (case-insensitive), with surrounding
 * whitespace trimmed. Returns 1 and sets *val and *val_len, or 0 when absent. */
int gw_intake_find(const char *data, const gw_head *head, const char *name, const char **val,
                   size_t *val_len);

/* De-framing of a chunked body (RFC 9112 7.1): chunk-size in hex with
 * optional extensions, CRLF (or LF), data, CRLF, ..., a zero-size chunk,
 * optional trailer fields, a blank line. */
typedef struct gw_chunked {
    int state;
    uint64_t chunk_left; /* bytes left in the current chunk */
    uint64_t total;      /* payload bytes so far */
    uint64_t max_body;
    size_t line_len; /* bytes of the current size/trailer line so far */
} gw_chunked;

void gw_chunked_init(gw_chunked *c, uint64_t max_body);

/* Consumes data[0..len) of a chunked body, appending the payload to out.
 * Returns the bytes consumed (which may be less than len when the body ends
 * inside data: the rest belongs to the next request) and sets *done when
 * the body is complete; or -1 with err set: QG_E_BODY_TOO_LARGE when the
 * payload passes max_body, QG_E_BAD_REQUEST when the framing is malformed
 * (bad hex, size overflow, missing CRLF after data, a size or trailer line
 * over 4 KiB). */
ssize_t gw_chunked_feed(gw_chunked *c, const char *data, size_t len, qg_buf *out, bool *done,
                        qg_error *err);

#endif
