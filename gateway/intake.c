/*
 * intake: HTTP/1.x request framing (RFC 9112), checked before evhtp sees a
 * byte (see intake.h for why).
 *
 * The head is examined afresh from its first byte each time more bytes
 * arrive. That keeps gw_intake_head stateless and allocation-free, and heads
 * are bounded by max_head, so a rescan is cheap. Every verdict depends only
 * on bytes already seen, judged left to right: a prefix that fails fails the
 * same way once more bytes arrive, and a head that trickles in gives the
 * same answer as the head in one piece. Bytes past max_head are never
 * looked at, since no acceptable head reaches them.
 *
 * A chunked body is de-framed by a byte-driven state machine whose whole
 * state lives in gw_chunked, so any split of the stream gives the same
 * payload and the same verdict.
 */
#include "gateway/intake.h"
#include "core/hex.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

/* RFC 9112 2.2 lets a server skip empty lines before the request line; a
 * few cover the CRLF some clients add after a body, more is abuse. */
#define MAX_EMPTY_LINES 8
/* Longest chunk-size or trailer line, without its line ending. */
#define MAX_CHUNK_LINE 4096

/* Outcome of checking one part of the head. */
enum { R_ERR = -1, R_MORE = 0, R_OK = 1 };

void
gw_intake_limits_default(gw_intake_limits *lim)
{
    lim->max_request_line = 4000;
    lim->max_head = 32 * 1024;
    lim->max_headers = 100;
    lim->max_body = 16 * 1024 * 1024;
}

/* tchar of RFC 9110 5.6.2: the bytes of a method or a field name. */
static bool
is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

static bool
is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool
is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* field-value bytes (RFC 9110 5.5): HTAB, SP, visible ASCII and obs-text.
 * A CR here is a bare CR, since line ends were cut off before. */
static bool
is_value_byte(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7F);
}

static unsigned char
lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* Whether p[0..n) equals the lower-case literal lit, ignoring ASCII case. */
static bool
ci_eq(const char *p, size_t n, const char *lit)
{
    size_t i = 0;
    for (; i < n; i++) {
        if (lit[i] == '\0' || lower((unsigned char)p[i]) != (unsigned char)lit[i])
            return false;
    }
    return lit[i] == '\0';
}

static int
bad(qg_error *err, const char *why)
{
    qg_error_set(err, QG_E_BAD_REQUEST, why);
    return R_ERR;
}

static int
too_large(qg_error *err, const char *fmt, size_t n)
{
    char why[64];
    snprintf(why, sizeof(why), fmt, n);
    qg_error_set(err, QG_E_HEADERS_TOO_LARGE, why);
    return R_ERR;
}

static void
set_body_too_large(qg_error *err, uint64_t limit)
{
    char num[24];
    snprintf(num, sizeof(num), "%" PRIu64, limit);
    qg_error_set(err, QG_E_BODY_TOO_LARGE, num);
}

/* One line of the head: content [start, end) without its line ending, the
 * next line at next. A partial line (no LF yet) runs to the end of the
 * data, less a final CR, which may be the first half of a CRLF. */
struct line {
    size_t start, end, next;
    bool complete;
};

static void
find_line(const char *data, size_t len, size_t pos, struct line *ln)
{
    const char *nl = pos < len ? memchr(data + pos, '\n', len - pos) : NULL;
    ln->start = pos;
    if (nl) {
        size_t i = (size_t)(nl - data);
        ln->end = i > pos && data[i - 1] == '\r' ? i - 1 : i;
        ln->next = i + 1;
        ln->complete = true;
    } else {
        ln->end = len > pos && data[len - 1] == '\r' ? len - 1 : len;
        ln->next = len;
        ln->complete = false;
    }
}

static gw_method
method_of(const char *p, size_t n)
{
    static const struct {
        const char *name;
        gw_method m;
    } known[] = {
        {"GET", GW_M_GET},     {"HEAD", GW_M_HEAD},     {"POST", GW_M_POST},
        {"PUT", GW_M_PUT},     {"DELETE", GW_M_DELETE}, {"OPTIONS", GW_M_OPTIONS},
        {"PATCH", GW_M_PATCH},
    };
    /* Methods are case-sensitive (RFC 9110 9.1): "get" is some other one. */
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strlen(known[i].name) == n && memcmp(known[i].name, p, n) == 0)
            return known[i].m;
    }
    return GW_M_OTHER;
}

/* Checks p[0..n) against the start of an absolute-form target with the
 * given scheme prefix ("http://"); complete says whether the target ends at
 * n or may still grow. */
static int
match_scheme(const char *p, size_t n, const char *prefix, bool complete)
{
    size_t k = strlen(prefix);
    for (size_t i = 0; i < k && i < n; i++) {
        if (lower((unsigned char)p[i]) != (unsigned char)prefix[i])
            return R_ERR;
    }
    if (n <= k)
        return complete ? R_ERR : R_MORE;
    /* An http(s) URI with an empty host is invalid (RFC 9110 4.2.1). */
    return p[k] == '/' || p[k] == '?' || p[k] == '#' ? R_ERR : R_OK;
}

/* The forms of request-target a server sees (RFC 9112 3.2), CONNECT's
 * authority-form excepted: qgate is no proxy. */
static int
target_form(const char *p, size_t n, bool complete)
{
    if (p[0] == '/')
        return R_OK;
    if (p[0] == '*') {
        if (n > 1)
            return R_ERR;
        return complete ? R_OK : R_MORE;
    }
    int a = match_scheme(p, n, "http://", complete);
    int b = match_scheme(p, n, "https://", complete);
    if (a == R_OK || b == R_OK)
        return R_OK;
    return a == R_MORE || b == R_MORE ? R_MORE : R_ERR;
}

/* Checks the request line in data[s..end). whole says that is the entire
 * line; otherwise more of it may follow (or lies past the length limit) and
 * R_MORE means nothing is wrong so far. */
static int
check_request_line(const char *data, size_t s, size_t end, bool whole, gw_head *h, qg_error *err)
{
    size_t p = s;
    while (p < end && is_tchar((unsigned char)data[p]))
        p++;
    if (p == end)
        return whole ? bad(err, "request line without a target") : R_MORE;
    if (data[p] != ' ')
        return bad(err, "invalid method");
    if (p == s)
        return bad(err, "request line starts with a space");
    h->method_off = s;
    h->method_len = p - s;
    h->method = method_of(data + s, p - s);

    size_t t = ++p;
    while (p < end && data[p] != ' ') {
        unsigned char c = (unsigned char)data[p];
        if (c < 0x21 || c > 0x7E) {
            /* Left to right: a target whose start already rules out every
             * form fails as such, as it did before this byte arrived. */
            if (p > t && target_form(data + t, p - t, false) == R_ERR)
                break;
            return bad(err, "invalid byte in the request target");
        }
        p++;
    }
    bool ended = p < end || whole; /* the target cannot grow any more */
    if (p == t) {
        if (p < end)
            return bad(err, "more than one space in the request line");
        return whole ? bad(err, "request line without a target") : R_MORE;
    }
    int form = target_form(data + t, p - t, ended);
    if (form == R_ERR)
        return bad(err, "request target is not a path, an absolute URI or *");
    if (p == end)
        return whole ? bad(err, "request line without an HTTP version") : R_MORE;
    h->target_off = t;
    h->target_len = p - t;

    size_t v = ++p;
    if (v < end && data[v] == ' ')
        return bad(err, "more than one space in the request line");
    /* HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 2.3). */
    static const char pattern[] = "HTTP/#.#";
    size_t plen = sizeof(pattern) - 1;
    for (size_t i = 0; v + i < end; i++) {
        unsigned char c = (unsigned char)data[v + i];
        if (i >= plen || (pattern[i] == '#' ? !is_digit(c) : c != (unsigned char)pattern[i]))
            return bad(err, "invalid HTTP version");
    }
    if (!whole)
        return R_MORE;
    if (end - v != plen)
        return bad(err, "invalid HTTP version");
    int major = data[v + 5] - '0';
    int minor = data[v + 7] - '0';
    if (major != 1 || minor > 1) {
        qg_error_set(err, QG_E_HTTP_VERSION);
        return R_ERR;
    }
    h->http_minor = minor;
    return R_OK;
}

/* The request line, complete or not. Bytes past max_line are not examined:
 * whatever they hold, the line is too long. */
static int
request_line(const char *data, const struct line *ln, size_t max_line, gw_head *h, qg_error *err)
{
    bool over = ln->end - ln->start > max_line;
    size_t end = over ? ln->start + max_line : ln->end;
    bool whole = ln->complete && !over;
    int r = check_request_line(data, ln->start, end, whole, h, err);
    if (r != R_MORE || !over)
        return r;
    char num[24];
    snprintf(num, sizeof(num), "%zu", max_line);
    qg_error_set(err, QG_E_URI_TOO_LONG, num);
    return R_ERR;
}

/* What the fields say about framing and the connection, judged once the
 * head is complete. */
struct fields {
    bool conn_close, conn_keep_alive;
    bool expect_continue;
    bool te_present, te_other; /* te_other: anything but one "chunked" */
    size_t te_off, te_len;     /* the value that is not "chunked", for the message */
};

static int
content_length(const char *v, size_t n, gw_head *h, qg_error *err)
{
    /* A list of identical values ("5, 5") is what some intermediaries make of
     * repeated fields; RFC 9110 8.6 allows taking it as one value. */
    size_t i = 0;
    for (;;) {
        size_t first = i;
        uint64_t x = 0;
        while (i < n && is_digit((unsigned char)v[i])) {
            unsigned d = (unsigned)(v[i] - '0');
            if (x > (UINT64_MAX - d) / 10)
                return bad(err, "Content-Length does not fit 64 bits");
            x = x * 10 + d;
            i++;
        }
        if (i == first)
            return bad(err, "Content-Length is not a number");
        if (h->has_length && h->content_length != x)
            return bad(err, "conflicting Content-Length values");
        h->has_length = true;
        h->content_length = x;
        while (i < n && is_ows((unsigned char)v[i]))
            i++;
        if (i == n)
            return R_OK;
        if (v[i] != ',')
            return bad(err, "Content-Length is not a number");
        i++;
        while (i < n && is_ows((unsigned char)v[i]))
            i++;
    }
}

static void
connection(const char *v, size_t n, struct fields *f)
{
    size_t i = 0;
    while (i < n) {
        size_t a = i;
        while (i < n && v[i] != ',')
            i++;
        size_t b = i++;
        while (a < b && is_ows((unsigned char)v[a]))
            a++;
        while (b > a && is_ows((unsigned char)v[b - 1]))
            b--;
        if (ci_eq(v + a, b - a, "close"))
            f->conn_close = true;
        else if (ci_eq(v + a, b - a, "keep-alive"))
            f->conn_keep_alive = true;
    }
}

/* One header field line, data[s..e), e > s. */
static int
field(const char *data, size_t s, size_t e, gw_head *h, struct fields *f, qg_error *err)
{
    if (is_ows((unsigned char)data[s]))
        return bad(err, "obsolete line folding");
    size_t p = s;
    while (p < e && is_tchar((unsigned char)data[p]))
        p++;
    if (p == e)
        return bad(err, "header field without a colon");
    if (is_ows((unsigned char)data[p]))
        return bad(err, "whitespace in or after a header name");
    if (data[p] != ':' || p == s)
        return bad(err, "invalid header name");
    size_t name = s, name_len = p - s;

    for (size_t i = ++p; i < e; i++) {
        if (!is_value_byte((unsigned char)data[i]))
            return bad(err, "control byte in a header value");
    }
    while (p < e && is_ows((unsigned char)data[p]))
        p++;
    while (e > p && is_ows((unsigned char)data[e - 1]))
        e--;
    const char *v = data + p;
    size_t n = e - p;

    if (ci_eq(data + name, name_len, "content-length"))
        return content_length(v, n, h, err);
    if (ci_eq(data + name, name_len, "transfer-encoding")) {
        /* Only a single "chunked" is supported: any other coding, or
         * chunked applied twice, would need decoding qgate does not do. */
        if (!f->te_other && (f->te_present || !ci_eq(v, n, "chunked"))) {
            f->te_other = true;
            f->te_off = p;
            f->te_len = n;
        }
        f->te_present = true;
    } else if (ci_eq(data + name, name_len, "connection")) {
        connection(v, n, f);
    } else if (ci_eq(data + name, name_len, "expect")) {
        /* Other expectations are ignored: RFC 9110 10.1.1 makes 417 a MAY,
         * and refusing would only break clients that send them. */
        if (ci_eq(v, n, "100-continue"))
            f->expect_continue = true;
    }
    return R_OK;
}

/* Walks the head in data[0..len), len already cut to max_head. */
static int
walk_head(const char *data, size_t len, const gw_intake_limits *lim, gw_head *h, struct fields *f,
          qg_error *err)
{
    struct line ln;
    size_t pos = 0;
    for (;;) {
        find_line(data, len, pos, &ln);
        if (!ln.complete || ln.end > ln.start)
            break;
        if (++h->skip > MAX_EMPTY_LINES)
            return bad(err, "too many empty lines before the request line");
        pos = ln.next;
    }
    int r = request_line(data, &ln, lim->max_request_line, h, err);
    if (r != R_OK)
        return r;
    for (;;) {
        pos = ln.next;
        find_line(data, len, pos, &ln);
        if (!ln.complete)
            return R_MORE;
        if (ln.end == ln.start) {
            h->head_len = ln.next;
            return R_OK;
        }
        if (++h->nheaders > lim->max_headers)
            return too_large(err, "more than %zu header fields", lim->max_headers);
        r = field(data, ln.start, ln.end, h, f, err);
        if (r != R_OK)
            return r;
    }
}

/* Framing and connection rules that need the whole head. */
static int
judge_fields(const char *data, const gw_intake_limits *lim, const struct fields *f, gw_head *h,
             qg_error *err)
{
    if (f->te_present) {
        /* RFC 9112 6.1: HTTP/1.0 has no chunked coding, and a message with
         * both framings is the classic request-smuggling vector. */
        if (h->http_minor == 0)
            return bad(err, "Transfer-Encoding in an HTTP/1.0 request");
        if (h->has_length)
            return bad(err, "both Content-Length and Transfer-Encoding");
        if (f->te_other) {
            /* The value goes back to the client: keep it short and printable. */
            char why[64] = "Transfer-Encoding ";
            size_t n = strlen(why);
            size_t shown = f->te_len < 40 ? f->te_len : 40;
            for (size_t i = 0; i < shown; i++) {
                unsigned char c = (unsigned char)data[f->te_off + i];
                why[n++] = c >= 0x20 && c < 0x7F ? (char)c : '?';
            }
            why[n] = '\0';
            if (shown < f->te_len)
                strcat(why, "...");
            qg_error_set(err, QG_E_NOT_IMPLEMENTED, why);
            return R_ERR;
        }
        h->chunked = true;
    }
    if (h->has_length && h->content_length > lim->max_body) {
        set_body_too_large(err, lim->max_body);
        return R_ERR;
    }
    if (f->conn_close)
        h->keep_alive = false;
    else
        h->keep_alive = h->http_minor == 1 || f->conn_keep_alive;
    /* RFC 9110 10.1.1: a 100-continue expectation in HTTP/1.0 is ignored. */
    h->expect_continue = f->expect_continue && h->http_minor == 1;
    return R_OK;
}

int
gw_intake_head(const char *data, size_t len, const gw_intake_limits *lim, gw_head *head,
               qg_error *err)
{
    gw_intake_limits deflim;
    if (!lim) {
        gw_intake_limits_default(&deflim);
        lim = &deflim;
    }
    if (!data)
        len = 0;
    /* A head must end within max_head bytes; once that many are here without
     * one, no further byte can help. */
    size_t n = len < lim->max_head ? len : lim->max_head;
    gw_head h;
    memset(&h, 0, sizeof(h));
    struct fields f;
    memset(&f, 0, sizeof(f));
    int r = walk_head(data, n, lim, &h, &f, err);
    if (r == R_MORE && len >= lim->max_head)
        r = too_large(err, "head over %zu bytes", lim->max_head);
    if (r == R_OK)
        r = judge_fields(data, lim, &f, &h, err);
    if (r == R_ERR)
        return GW_INTAKE_ERROR;
    if (r == R_MORE)
        return GW_INTAKE_NEED_MORE;
    if (head)
        *head = h;
    return GW_INTAKE_OK;
}

int
gw_intake_find(const char *data, const gw_head *head, const char *name, const char **val,
               size_t *val_len)
{
    if (!data || !head || !name)
        return 0;
    size_t name_len = strlen(name);
    struct line ln;
    /* The head was checked: its request line is the first non-empty line
     * and every later line up to the blank one is a well-formed field. */
    size_t pos = head->method_off;
    find_line(data, head->head_len, pos, &ln);
    for (;;) {
        pos = ln.next;
        find_line(data, head->head_len, pos, &ln);
        if (!ln.complete || ln.end == ln.start)
            return 0;
        const char *colon = memchr(data + ln.start, ':', ln.end - ln.start);
        if (!colon)
            return 0;
        size_t n = (size_t)(colon - (data + ln.start));
        if (n != name_len)
            continue;
        bool same = true;
        for (size_t i = 0; i < n && same; i++)
            same = lower((unsigned char)data[ln.start + i]) == lower((unsigned char)name[i]);
        if (!same)
            continue;
        size_t a = ln.start + n + 1, b = ln.end;
        while (a < b && is_ows((unsigned char)data[a]))
            a++;
        while (b > a && is_ows((unsigned char)data[b - 1]))
            b--;
        if (val)
            *val = data + a;
        if (val_len)
            *val_len = b - a;
        return 1;
    }
}

/* States of the chunked de-framer: the size line's and the payload's,
 * then from CH_TRAILER on the trailer section's. */
enum {
    CH_SIZE,     /* hex digits of a chunk-size; line_len counts them so far */
    CH_SIZE_BWS, /* whitespace after the size: only an extension may follow */
    CH_EXT,      /* a chunk extension, skipped to the end of the line */
    CH_SIZE_LF,  /* CR ending the size line seen */
    CH_DATA,     /* chunk_left bytes of payload to come */
    CH_DATA_CR,  /* the line ending after the payload */
    CH_DATA_LF,  /* CR after the payload seen */
    CH_TRAILER,  /* start of a trailer field, or of the final blank line */
    CH_TR_NAME,  /* in a trailer field name */
    CH_TR_VALUE, /* in a trailer field value */
    CH_TR_LF,    /* CR ending a trailer field seen */
    CH_END_LF,   /* CR of the final blank line seen */
    CH_DONE,
    CH_FAILED
};

void
gw_chunked_init(gw_chunked *c, uint64_t max_body)
{
    memset(c, 0, sizeof(*c));
    c->state = CH_SIZE;
    c->max_body = max_body;
}

static ssize_t
chunk_fail(gw_chunked *c, qg_error *err, const char *why)
{
    c->state = CH_FAILED;
    qg_error_set(err, QG_E_BAD_REQUEST, why);
    return -1;
}

/* Counts one more byte of a size or trailer line against its bound. */
static bool
line_byte(gw_chunked *c)
{
    return ++c->line_len <= MAX_CHUNK_LINE;
}

/* The size line ended: the next chunk's payload, or the trailer section. */
static bool
size_line_done(gw_chunked *c)
{
    c->line_len = 0;
    if (c->chunk_left == 0) {
        c->state = CH_TRAILER;
        return true;
    }
    /* Refuse on the declared size, before the payload costs anything. */
    if (c->chunk_left > c->max_body - c->total)
        return false;
    c->state = CH_DATA;
    return true;
}

/* chunk_size_byte's and chunk_trailer_byte's answer for a chunk that is
 * larger than what is left of the body's limit (else: NULL, fine, or the
 * reason the body is malformed). */
static const char CHUNK_TOO_LARGE[] = "chunk too large";

/* One byte of a chunk size line, or of the CRLF after a chunk's data. */
static const char *
chunk_size_byte(gw_chunked *c, unsigned char b)
{
    switch (c->state) {
    case CH_SIZE: {
        int d = qg_hex_value(b);
        if (d >= 0) {
            if (c->chunk_left > (UINT64_MAX >> 4))
                return "chunk size does not fit 64 bits";
            c->chunk_left = c->chunk_left << 4 | (uint64_t)d;
            return line_byte(c) ? NULL : "chunk size line over 4096 bytes";
        }
        if (c->line_len == 0)
            return "chunk size is not hexadecimal";
        if (b == ';' || is_ows(b)) {
            c->state = b == ';' ? CH_EXT : CH_SIZE_BWS;
            return line_byte(c) ? NULL : "chunk size line over 4096 bytes";
        }
        if (b == '\r') {
            c->state = CH_SIZE_LF;
            return NULL;
        }
        if (b == '\n')
            return size_line_done(c) ? NULL : CHUNK_TOO_LARGE;
        return "chunk size is not hexadecimal";
    }
    case CH_SIZE_BWS:
        /* RFC 9112 7.1.1 allows whitespace only before an extension. */
        if (b == ';')
            c->state = CH_EXT;
        else if (!is_ows(b))
            return "whitespace after a chunk size";
        return line_byte(c) ? NULL : "chunk size line over 4096 bytes";
    case CH_EXT:
        if (b == '\r') {
            c->state = CH_SIZE_LF;
            return NULL;
        }
        if (b == '\n')
            return size_line_done(c) ? NULL : CHUNK_TOO_LARGE;
        if (!is_value_byte(b))
            return "control byte in a chunk extension";
        return line_byte(c) ? NULL : "chunk size line over 4096 bytes";
    case CH_SIZE_LF:
        if (b != '\n')
            return "bare CR in a chunk size line";
        return size_line_done(c) ? NULL : CHUNK_TOO_LARGE;
    case CH_DATA_CR:
        if (b == '\r')
            c->state = CH_DATA_LF;
        else if (b == '\n')
            c->state = CH_SIZE;
        else
            return "chunk data not followed by CRLF";
        return NULL;
    case CH_DATA_LF:
        if (b != '\n')
            return "chunk data not followed by CRLF";
        c->state = CH_SIZE;
        return NULL;
    default:
        return "invalid chunked decoder state";
    }
}

/* One byte of the trailer section, and of the empty line that ends it. */
static const char *
chunk_trailer_byte(gw_chunked *c, unsigned char b)
{
    switch (c->state) {
    case CH_TRAILER:
        if (b == '\r') {
            c->state = CH_END_LF;
        } else if (b == '\n') {
            c->state = CH_DONE;
        } else if (is_tchar(b)) {
            c->state = CH_TR_NAME;
            c->line_len = 1;
        } else if (is_ows(b)) {
            return "obsolete line folding in the trailer";
        } else {
            return "invalid trailer field";
        }
        return NULL;
    case CH_TR_NAME:
        if (b == ':')
            c->state = CH_TR_VALUE;
        else if (!is_tchar(b))
            return "invalid trailer field";
        return line_byte(c) ? NULL : "trailer line over 4096 bytes";
    case CH_TR_VALUE:
        if (b == '\r') {
            c->state = CH_TR_LF;
        } else if (b == '\n') {
            c->state = CH_TRAILER;
            c->line_len = 0;
        } else if (!is_value_byte(b)) {
            return "control byte in a trailer field";
        } else if (!line_byte(c)) {
            return "trailer line over 4096 bytes";
        }
        return NULL;
    case CH_TR_LF:
        if (b != '\n')
            return "bare CR in the trailer";
        c->state = CH_TRAILER;
        c->line_len = 0;
        return NULL;
    case CH_END_LF:
        if (b != '\n')
            return "bare CR after the trailer";
        c->state = CH_DONE;
        return NULL;
    default:
        return "invalid chunked decoder state";
    }
}

ssize_t
gw_chunked_feed(gw_chunked *c, const char *data, size_t len, qg_buf *out, bool *done, qg_error *err)
{
    if (done)
        *done = false;
    if (c->state == CH_FAILED)
        return chunk_fail(c, err, "chunked body already rejected");
    if (!data)
        len = 0;
    if (len > (size_t)SSIZE_MAX)
        len = (size_t)SSIZE_MAX;
    size_t i = 0;
    while (i < len && c->state != CH_DONE) {
        if (c->state == CH_DATA) {
            size_t n = len - i;
            if (n > c->chunk_left)
                n = (size_t)c->chunk_left;
            if (out)
                qg_buf_add(out, data + i, n);
            c->chunk_left -= n;
            c->total += n;
            i += n;
            if (c->chunk_left == 0)
                c->state = CH_DATA_CR;
            continue;
        }
        unsigned char b = (unsigned char)data[i++];
        const char *why = c->state >= CH_TRAILER ? chunk_trailer_byte(c, b) : chunk_size_byte(c, b);
        if (why == CHUNK_TOO_LARGE) {
            c->state = CH_FAILED;
            set_body_too_large(err, c->max_body);
            return -1;
        }
        if (why)
            return chunk_fail(c, err, why);
    }
    if (done)
        *done = c->state == CH_DONE;
    return (ssize_t)i;
}
