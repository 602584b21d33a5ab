/*
 * fuzz_intake: gateway/intake, request heads and chunked bodies.
 *
 * The input is what a client sends on a connection: a head, perhaps a
 * body. The input's hash picks a split point and, one time in four, small
 * limits (so the 414/431/413 paths are reached without huge inputs).
 *
 * gw_intake_head promises that its verdict depends only on the bytes seen,
 * judged left to right. Checking every prefix is too slow per input, so one
 * prefix stands for them all:
 *   - a prefix that is OK gives the full input the same head;
 *   - a prefix that fails makes the full input fail with the same error;
 *   - when the full input needs more, so does the prefix; when it is OK, a
 *     prefix shorter than the head needs more and a longer one is OK;
 *   - bytes past max_head make no difference.
 * An accepted head lies inside the data and within the limits; its method,
 * target and fields are where it says; gw_intake_find finds what the head
 * declared.
 *
 * gw_chunked_feed de-frames what follows an accepted head (or the whole
 * input when there is none, so the de-framer sees every input): fed whole,
 * in two pieces at the split point and byte by byte, it must consume the
 * same bytes, produce the same payload and give the same verdict.
 */
#include "core/buf.h"
#include "core/err.h"
#include "gateway/intake.h"

#include "fuzz.h"

static int
head_of(const uint8_t *data, size_t len, const gw_intake_limits *lim, gw_head *h, qg_error *err)
{
    char *copy = fuzz_dup(data, len);
    memset(h, 0xA5, sizeof(*h));
    qg_error_clear(err);
    int r = gw_intake_head(copy, len, lim, h, err);
    free(copy);
    FUZZ_CHECK(r == GW_INTAKE_OK || r == GW_INTAKE_NEED_MORE || r == GW_INTAKE_ERROR);
    if (r == GW_INTAKE_ERROR) {
        FUZZ_CHECK(err->code == QG_E_URI_TOO_LONG || err->code == QG_E_HEADERS_TOO_LARGE ||
                   err->code == QG_E_BODY_TOO_LARGE || err->code == QG_E_HTTP_VERSION ||
                   err->code == QG_E_NOT_IMPLEMENTED || err->code == QG_E_BAD_REQUEST);
        /* The message goes back to the client inside a JSON envelope. */
        FUZZ_CHECK(fuzz_utf8_valid(err->msg, strlen(err->msg)));
    } else {
        FUZZ_CHECK(err->code == QG_OK);
    }
    return r;
}

static bool
same_head(const gw_head *a, const gw_head *b)
{
    return a->skip == b->skip && a->head_len == b->head_len && a->method == b->method &&
           a->method_off == b->method_off && a->method_len == b->method_len &&
           a->target_off == b->target_off && a->target_len == b->target_len &&
           a->http_minor == b->http_minor && a->keep_alive == b->keep_alive &&
           a->expect_continue == b->expect_continue && a->chunked == b->chunked &&
           a->has_length == b->has_length && a->content_length == b->content_length &&
           a->nheaders == b->nheaders;
}

static bool
same_error(const qg_error *a, const qg_error *b)
{
    return a->code == b->code && strcmp(a->msg, b->msg) == 0;
}

static bool
tchar(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* An accepted head, checked against the bytes it came from. */
static void
check_head(const uint8_t *data, size_t len, const gw_intake_limits *lim, const gw_head *h)
{
    FUZZ_CHECK(h->head_len > 0 && h->head_len <= len && h->head_len <= lim->max_head);
    FUZZ_CHECK(data[h->head_len - 1] == '\n');
    FUZZ_CHECK(h->nheaders <= lim->max_headers);
    /* One line per field between the request line and the blank one. */
    size_t lines = 0;
    for (size_t i = h->method_off; i < h->head_len; i++)
        lines += data[i] == '\n';
    FUZZ_CHECK(lines == h->nheaders + 2);
    FUZZ_CHECK(h->http_minor == 0 || h->http_minor == 1);
    FUZZ_CHECK(!(h->chunked && h->has_length));
    FUZZ_CHECK(!h->chunked || h->http_minor == 1);
    FUZZ_CHECK(!h->has_length || h->content_length <= lim->max_body);
    FUZZ_CHECK(!h->expect_continue || h->http_minor == 1);

    /* Only empty lines before the request line. */
    FUZZ_CHECK(h->method_off <= h->head_len);
    for (size_t i = 0; i < h->method_off; i++)
        FUZZ_CHECK(data[i] == '\r' || data[i] == '\n');
    FUZZ_CHECK(h->method_len > 0);
    FUZZ_CHECK(h->method_off + h->method_len < h->target_off);
    for (size_t i = 0; i < h->method_len; i++)
        FUZZ_CHECK(tchar(data[h->method_off + i]));
    FUZZ_CHECK(data[h->method_off + h->method_len] == ' ');
    FUZZ_CHECK(h->target_off == h->method_off + h->method_len + 1);
    FUZZ_CHECK(h->target_len > 0 && h->target_off + h->target_len < h->head_len);
    for (size_t i = 0; i < h->target_len; i++)
        FUZZ_CHECK(data[h->target_off + i] > 0x20 && data[h->target_off + i] < 0x7F);
    size_t line_end = h->target_off + h->target_len;
    FUZZ_CHECK(line_end + 9 <= h->head_len);
    FUZZ_CHECK(line_end + 9 - h->method_off <= lim->max_request_line);
    FUZZ_CHECK(memcmp(data + line_end, " HTTP/1.", 8) == 0);
    FUZZ_CHECK(data[line_end + 8] == '0' + h->http_minor);
    const char *t = (const char *)data + h->target_off;
    FUZZ_CHECK(t[0] == '/' || t[0] == '*' || t[0] == 'h' || t[0] == 'H');

    /* gw_intake_find sees what the head declared. */
    char *copy = fuzz_dup(data, len);
    const char *v;
    size_t vn;
    static const char *const names[] = {
        "Content-Length", "transfer-encoding", "HOST", "content-type", "Accept",
        "Expect",         "Connection"};
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        if (!gw_intake_find(copy, h, names[k], &v, &vn))
            continue;
        FUZZ_CHECK(v >= copy + h->target_off && v + vn <= copy + h->head_len);
        FUZZ_CHECK(vn == 0 || (v[0] != ' ' && v[0] != '\t'));
        FUZZ_CHECK(vn == 0 || (v[vn - 1] != ' ' && v[vn - 1] != '\t'));
        for (size_t i = 0; i < vn; i++)
            FUZZ_CHECK(v[i] == '\t' || ((unsigned char)v[i] >= 0x20 && v[i] != 0x7F));
    }
    if (h->has_length) {
        FUZZ_CHECK(gw_intake_find(copy, h, "content-length", &v, &vn) == 1);
        FUZZ_CHECK(vn > 0 && v[0] >= '0' && v[0] <= '9');
    }
    if (h->chunked)
        FUZZ_CHECK(gw_intake_find(copy, h, "Transfer-Encoding", &v, &vn) == 1);
    free(copy);
}

/* Every byte of data[0..len) has been seen by the time the prefix k is. */
static void
check_head_split(const uint8_t *data, size_t len, size_t k, const gw_intake_limits *lim,
                 gw_head *full_head, int *full_r)
{
    gw_head hf, hp;
    qg_error ef, ep;
    int rf = head_of(data, len, lim, &hf, &ef);
    int rp = head_of(data, k, lim, &hp, &ep);

    if (rp == GW_INTAKE_OK)
        FUZZ_CHECK(rf == GW_INTAKE_OK && same_head(&hp, &hf));
    if (rp == GW_INTAKE_ERROR)
        FUZZ_CHECK(rf == GW_INTAKE_ERROR && same_error(&ep, &ef));
    if (rf == GW_INTAKE_NEED_MORE) {
        FUZZ_CHECK(rp == GW_INTAKE_NEED_MORE);
        /* No head may grow past max_head, no request line past its limit
         * even before it is complete. */
        FUZZ_CHECK(len < lim->max_head);
        size_t a = 0;
        for (;;) {
            if (a < len && data[a] == '\n')
                a++;
            else if (a + 1 < len && data[a] == '\r' && data[a + 1] == '\n')
                a += 2;
            else
                break;
        }
        if (!memchr(data + a, '\n', len - a)) {
            size_t partial = len - a;
            if (partial > 0 && data[len - 1] == '\r')
                partial--;
            FUZZ_CHECK(partial <= lim->max_request_line);
        }
    }
    if (rf == GW_INTAKE_OK) {
        check_head(data, len, lim, &hf);
        FUZZ_CHECK(rp == (k < hf.head_len ? GW_INTAKE_NEED_MORE : GW_INTAKE_OK));
    }
    if (rf == GW_INTAKE_ERROR)
        FUZZ_CHECK(rp == GW_INTAKE_NEED_MORE || rp == GW_INTAKE_ERROR);

    /* Bytes past max_head are never looked at: changing them all changes
     * nothing. */
    if (len > lim->max_head) {
        uint8_t *other = (uint8_t *)fuzz_dup(data, len);
        for (size_t i = lim->max_head; i < len; i++)
            other[i] ^= 0x5A;
        gw_head ho;
        qg_error eo;
        int ro = head_of(other, len, lim, &ho, &eo);
        FUZZ_CHECK(ro == rf);
        FUZZ_CHECK(ro != GW_INTAKE_OK || same_head(&ho, &hf));
        FUZZ_CHECK(ro != GW_INTAKE_ERROR || same_error(&eo, &ef));
        free(other);
    }
    *full_head = hf;
    *full_r = rf;
}

/* The outcome of de-framing some bytes. */
struct deframe {
    ssize_t used; /* bytes consumed, -1 on error */
    bool done;
    qg_code code;
    qg_buf payload;
};

static void
feed_whole(const uint8_t *p, size_t n, uint64_t max, struct deframe *o)
{
    gw_chunked c;
    gw_chunked_init(&c, max);
    qg_error err;
    qg_error_clear(&err);
    char *copy = fuzz_dup(p, n);
    bool done = true;
    o->used = gw_chunked_feed(&c, copy, n, &o->payload, &done, &err);
    o->done = done;
    o->code = err.code;
    free(copy);
    FUZZ_CHECK(o->used >= -1 && o->used <= (ssize_t)n);
    if (o->used < 0) {
        FUZZ_CHECK(!o->done);
        FUZZ_CHECK(err.code == QG_E_BAD_REQUEST || err.code == QG_E_BODY_TOO_LARGE);
        FUZZ_CHECK(fuzz_utf8_valid(err.msg, strlen(err.msg)));
        /* An error sticks. */
        FUZZ_CHECK(gw_chunked_feed(&c, "0\r\n\r\n", 5, NULL, &done, &err) == -1);
    } else {
        FUZZ_CHECK(err.code == QG_OK);
        FUZZ_CHECK(c.total == o->payload.len && o->payload.len <= max);
        /* Short of the whole input only when the body ended. */
        FUZZ_CHECK(o->done || (size_t)o->used == n);
    }
}

/* The same bytes in pieces: the first piece ends at each cut in turn. */
static void
feed_pieces(const uint8_t *p, size_t n, const size_t *cuts, size_t ncuts, uint64_t max,
            struct deframe *o)
{
    gw_chunked c;
    gw_chunked_init(&c, max);
    qg_error err;
    qg_error_clear(&err);
    size_t at = 0;
    o->used = 0;
    o->done = false;
    o->code = QG_OK;
    for (size_t i = 0; i <= ncuts && !o->done; i++) {
        size_t end = i < ncuts ? cuts[i] : n;
        if (end < at)
            continue;
        char *copy = fuzz_dup(p + at, end - at);
        bool done = false;
        ssize_t r = gw_chunked_feed(&c, copy, end - at, &o->payload, &done, &err);
        free(copy);
        if (r < 0) {
            o->used = -1;
            o->code = err.code;
            return;
        }
        FUZZ_CHECK((size_t)r <= end - at);
        FUZZ_CHECK(done || (size_t)r == end - at);
        o->used += r;
        o->done = done;
        at = end;
    }
}

static void
check_chunked(const uint8_t *p, size_t n, size_t split, uint64_t max)
{
    struct deframe whole = {0, false, QG_OK, QG_BUF_INIT};
    struct deframe two = {0, false, QG_OK, QG_BUF_INIT};
    struct deframe bytes = {0, false, QG_OK, QG_BUF_INIT};
    feed_whole(p, n, max, &whole);
    feed_pieces(p, n, &split, 1, max, &two);

    /* Byte by byte: a cut after every byte. Inputs are small, so this
     * stays linear and cheap. */
    size_t *cuts = malloc((n ? n : 1) * sizeof(*cuts));
    if (!cuts)
        abort();
    for (size_t i = 0; i < n; i++)
        cuts[i] = i + 1;
    feed_pieces(p, n, cuts, n, max, &bytes);
    free(cuts);

    const struct deframe *alt[2] = {&two, &bytes};
    for (size_t i = 0; i < 2; i++) {
        FUZZ_CHECK(alt[i]->used == whole.used);
        FUZZ_CHECK(alt[i]->done == whole.done);
        FUZZ_CHECK(alt[i]->code == whole.code);
        if (whole.used >= 0)
            FUZZ_CHECK(alt[i]->payload.len == whole.payload.len &&
                       (whole.payload.len == 0 ||
                        memcmp(alt[i]->payload.data, whole.payload.data, whole.payload.len) == 0));
    }
    qg_buf_free(&whole.payload);
    qg_buf_free(&two.payload);
    qg_buf_free(&bytes.payload);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t h = fuzz_hash(data, size);
    gw_intake_limits lim;
    gw_intake_limits_default(&lim);
    if ((h & 3) == 0) {
        lim.max_request_line = 8 + (h >> 8) % 64;
        lim.max_head = 16 + (h >> 16) % 256;
        lim.max_headers = (h >> 24) % 6;
        lim.max_body = (h >> 32) % 64;
    }
    size_t split = size ? (size_t)((h >> 40) % (size + 1)) : 0;

    gw_head head;
    int r;
    check_head_split(data, size, split, &lim, &head, &r);

    size_t body_off = r == GW_INTAKE_OK ? head.head_len : 0;
    size_t body_split = split > body_off ? split - body_off : 0;
    check_chunked(data + body_off, size - body_off, body_split, lim.max_body);
    return 0;
}
