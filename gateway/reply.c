/* reply: response heads and bodies onto the connection (see reply.h). */
#include "gateway/internal.h"
#include "gateway/reply.h"

#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include <event2/buffer.h>

#include "core/envelope.h"
#include "core/json.h"
#include "gateway/cors.h"

const char *
gw_status_text(int status)
{
    /* a table reads best as one */
    /* clang-format off */
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 507: return "Insufficient Storage";
    default: return "Unknown";
    }
    /* clang-format on */
}

/* The Date header changes once a second: format it once a second. */
static const char *
http_date(void)
{
    static time_t cached_at;
    static char text[40];
    time_t now = time(NULL);
    if (now != cached_at) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        cached_at = now;
    }
    return text;
}

static bool
is_head(const gw_req *req)
{
    return req->method == GW_M_HEAD;
}

/* Renders the status line and headers into h. length < 0: streamed body. */
static void
render_head(gw_req *req, qg_buf *h, int status, const char *ctype, long long length,
            const gw_header *extra, size_t nextra)
{
    req->_status = status;
    req->_headers_sent = true;
    /* built by appends, not printf: every answer has one */
    char num[24];
    qg_buf_reserve(h, 256);
    qg_buf_addlit(h, "HTTP/1.");
    qg_buf_addc(h, (char)('0' + req->http_minor));
    qg_buf_addc(h, ' ');
    qg_buf_add(h, num, qg_fmt_uint64((uint64_t)status, num));
    qg_buf_addc(h, ' ');
    qg_buf_adds(h, gw_status_text(status));
    qg_buf_addlit(h, "\r\nDate: ");
    qg_buf_adds(h, http_date());
    qg_buf_addlit(h, "\r\nServer: qgate/" QGATE_VERSION "\r\n");
    if (ctype) {
        qg_buf_addlit(h, "Content-Type: ");
        qg_buf_adds(h, ctype);
        qg_buf_addlit(h, "\r\n");
    }
    if (length >= 0) {
        qg_buf_addlit(h, "Content-Length: ");
        qg_buf_add(h, num, qg_fmt_uint64((uint64_t)length, num));
        qg_buf_addlit(h, "\r\n");
    } else if (req->http_minor >= 1) {
        qg_buf_addlit(h, "Transfer-Encoding: chunked\r\n");
        req->_chunked = true;
    } else {
        req->_eof_body = true; /* HTTP/1.0: the close ends the body */
        req->_keep_alive = false;
    }
    if (!req->_keep_alive)
        qg_buf_addlit(h, "Connection: close\r\n");
    else if (req->http_minor == 0)
        qg_buf_addlit(h, "Connection: keep-alive\r\n");
    if (req->cors_origin) {
        /* one of --cors-origins, matched exactly (gateway/cors) */
        qg_buf_addlit(h, "Access-Control-Allow-Origin: ");
        qg_buf_adds(h, req->cors_origin);
        qg_buf_addlit(h, "\r\nAccess-Control-Expose-Headers: " GW_CORS_EXPOSE_HEADERS "\r\n");
    }
    if (req->cors_vary)
        qg_buf_addlit(h, "Vary: Origin\r\n");
    for (size_t i = 0; i < nextra; i++) {
        qg_buf_adds(h, extra[i].name);
        qg_buf_addlit(h, ": ");
        qg_buf_adds(h, extra[i].value);
        qg_buf_addlit(h, "\r\n");
    }
    qg_buf_addlit(h, "\r\n");
}

/* Heads are rendered into one buffer that lives as long as the process
 * (loop thread only; gw__req_writev copies what it does not send at once),
 * so an answer costs no allocation for its head. A head rendered while that
 * buffer is in use gets a buffer of its own. */
static qg_buf head_buf;
static bool head_busy;

static qg_buf *
head_take(qg_buf *own)
{
    if (head_busy)
        return own;
    head_busy = true;
    qg_buf_reset(&head_buf);
    return &head_buf;
}

static void
head_give(qg_buf *h)
{
    if (h == &head_buf)
        head_busy = false;
    else
        qg_buf_free(h);
}

/* Writes the head of a streamed response. */
static void
write_head(gw_req *req, int status, const char *ctype, const gw_header *extra, size_t nextra)
{
    qg_buf own = QG_BUF_INIT, *h = head_take(&own);
    render_head(req, h, status, ctype, -1, extra, nextra);
    struct iovec iov = {h->data, h->len};
    gw__req_writev(req, &iov, 1);
    head_give(h);
}

static void
finish(gw_req *req)
{
    req->_finished = true;
    gw__req_done(req);
}

void
gw_reply(gw_req *req, int status, const char *ctype, const void *body, size_t len,
         const gw_header *extra, size_t nextra)
{
    qg_buf own = QG_BUF_INIT, *h = head_take(&own);
    render_head(req, h, status, ctype, (long long)len, extra, nextra);
    struct iovec iov[2] = {{h->data, h->len}, {(void *)body, len}};
    int n = len && !is_head(req) ? 2 : 1;
    gw__req_writev(req, iov, n);
    if (n == 2)
        req->_bytes_out += len;
    head_give(h);
    finish(req);
}

void
gw_reply_json(gw_req *req, int status, const qg_buf *body)
{
    gw_reply(req, status, GW_JSON, body->data, body->len, NULL, 0);
}

void
gw_reply_empty(gw_req *req, int status)
{
    gw_reply(req, status, NULL, NULL, 0, NULL, 0);
}

void
gw_reply_error(gw_req *req, const qg_error *err, const char *request_id)
{
    (void)request_id;
    qg_buf b = QG_BUF_INIT;
    qg_env_error_doc(&b, err, NULL);
    int status = qg_err_http(err->code);
    if (status == 503) {
        const gw_header retry = {"Retry-After", "1"};
        gw_reply(req, status, GW_JSON, b.data, b.len, &retry, 1);
    } else if (status == 401) {
        const gw_header challenge = {"WWW-Authenticate", "Bearer realm=\"qgate\""};
        gw_reply(req, status, GW_JSON, b.data, b.len, &challenge, 1);
    } else {
        gw_reply(req, status, GW_JSON, b.data, b.len, NULL, 0);
    }
    qg_buf_free(&b);
}

void
gw_reply_not_allowed(gw_req *req)
{
    char text[128];
    int n = snprintf(text, sizeof(text), "Method %.40s not allowed for the requested resource.",
                     req->method_name);
    gw_reply(req, 405, "text/plain", text, (size_t)n, NULL, 0);
}

void
gw_reply_continue(gw_req *req)
{
    struct evbuffer *out = gw__req_output(req);
    if (out)
        evbuffer_add(out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
}

void
gw_reply_start(gw_req *req, int status, const char *ctype, const gw_header *extra, size_t nextra)
{
    write_head(req, status, ctype, extra, nextra);
}

static void
chunk_prefix(struct evbuffer *out, size_t len)
{
    char size[24];
    int n = snprintf(size, sizeof(size), "%zx\r\n", len);
    evbuffer_add(out, size, (size_t)n);
}

void
gw_reply_chunk(gw_req *req, const void *data, size_t len)
{
    struct evbuffer *out = gw__req_output(req);
    if (!out || len == 0 || is_head(req))
        return;
    if (req->_chunked)
        chunk_prefix(out, len);
    evbuffer_add(out, data, len);
    if (req->_chunked)
        evbuffer_add(out, "\r\n", 2);
    req->_bytes_out += len;
}

void
gw_reply_chunk_ref(gw_req *req, const void *data, size_t len,
                   void (*free_fn)(const void *data, size_t len, void *arg), void *arg)
{
    struct evbuffer *out = gw__req_output(req);
    if (!out || len == 0 || is_head(req)) {
        free_fn(data, len, arg);
        return;
    }
    if (req->_chunked)
        chunk_prefix(out, len);
    evbuffer_add_reference(out, data, len, free_fn, arg);
    if (req->_chunked)
        evbuffer_add(out, "\r\n", 2);
    req->_bytes_out += len;
}

void
gw_reply_end(gw_req *req)
{
    struct evbuffer *out = gw__req_output(req);
    if (out && req->_chunked && !is_head(req))
        evbuffer_add(out, "0\r\n\r\n", 5);
    finish(req);
}

void
gw_reply_abort(gw_req *req)
{
    req->_keep_alive = false;
    req->_chunked = false; /* no last chunk: the close ends the body, short */
    finish(req);
}
