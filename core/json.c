/*
 * json: JSON text straight into a qg_buf (see json.h).
 *
 * String escaping runs on every value of every result row, so it is built
 * around one observation: almost all bytes are copied unchanged. Output is
 * produced in runs; a run grows over safe ASCII (eight bytes at a time when
 * possible) and over well-formed multi-byte UTF-8, and is written with one
 * memcpy when a byte that must change ends it. Space is reserved once for
 * the optimistic size (output == input); only an escape or a U+FFFD, which
 * lengthen the text, checks for room again.
 *
 * Invalid UTF-8 is repaired by the "maximal subpart" practice of Unicode
 * (chapter 3.9, U+FFFD substitution): the longest prefix of a well-formed
 * sequence is replaced by one U+FFFD, and a byte that cannot start or
 * continue anything is replaced by one U+FFFD of its own. Browsers and ICU
 * do the same, so clients see the same text whatever decoder they use.
 *
 * Doubles: core/dtoa finds the shortest digits that read back to the same
 * bits; they are laid out here as printf's %g would lay them out with as
 * many significant digits as they have (at least 15: fixed notation from
 * 1e-4 up to 1e15), which is what qgate has always written: 0.1, 1e-07,
 * 1e+300, 0.30000000000000004. Integral values print as integers with
 * ".0" (below 2^53, and up to 1e17 where that is shorter than an exponent)
 * so that they read as reals. No locale is involved.
 */
#include "core/json.h"

#include <math.h>
#include <string.h>

#include "core/dtoa.h"

/* Byte classes. SAFE bytes are copied as they are; ESC bytes are ASCII that
 * JSON requires escaped; the rest are the possible first bytes of UTF-8
 * sequences, named after the range their second byte must fall in (Unicode
 * table 3-7), and BAD for bytes that never start a sequence. */
enum {
    C_SAFE = 0,
    C_ESC,
    C_L2,  /* C2..DF: 80..BF */
    C_E0,  /* E0: A0..BF 80..BF */
    C_L3,  /* E1..EC, EE..EF: 80..BF 80..BF */
    C_ED,  /* ED: 80..9F 80..BF (no surrogates) */
    C_F0,  /* F0: 90..BF 80..BF 80..BF */
    C_L4,  /* F1..F3: 80..BF 80..BF 80..BF */
    C_F4,  /* F4: 80..8F 80..BF 80..BF (nothing above U+10FFFF) */
    C_BAD, /* 80..C1, F5..FF */
};

#define R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v

/* clang-format off */
static const unsigned char byte_class[256] = {
    /* 00..1F: control characters */
    R16(C_ESC), R16(C_ESC),
    /* 20..7F, with '"' and '\\' escaped; DEL is legal in JSON as it is */
    C_SAFE, C_SAFE, C_ESC, C_SAFE, C_SAFE, C_SAFE, C_SAFE, C_SAFE,
    C_SAFE, C_SAFE, C_SAFE, C_SAFE, C_SAFE, C_SAFE, C_SAFE, C_SAFE,
    R16(C_SAFE), R16(C_SAFE),
    C_SAFE, C_SAFE, C_SAFE, C_SAFE, C_SAFE, C_SAFE, C_SAFE, C_SAFE,
    C_SAFE, C_SAFE, C_SAFE, C_SAFE, C_ESC, C_SAFE, C_SAFE, C_SAFE,
    R16(C_SAFE), R16(C_SAFE),
    /* 80..BF: continuation bytes, never a start */
    R16(C_BAD), R16(C_BAD), R16(C_BAD), R16(C_BAD),
    /* C0..DF: C0 and C1 could only start overlong forms */
    C_BAD, C_BAD, C_L2, C_L2, C_L2, C_L2, C_L2, C_L2,
    C_L2, C_L2, C_L2, C_L2, C_L2, C_L2, C_L2, C_L2,
    R16(C_L2),
    /* E0..EF */
    C_E0, C_L3, C_L3, C_L3, C_L3, C_L3, C_L3, C_L3,
    C_L3, C_L3, C_L3, C_L3, C_L3, C_ED, C_L3, C_L3,
    /* F0..FF */
    C_F0, C_L4, C_L4, C_L4, C_F4, C_BAD, C_BAD, C_BAD,
    C_BAD, C_BAD, C_BAD, C_BAD, C_BAD, C_BAD, C_BAD, C_BAD,
};
/* clang-format on */

/* Per lead class: sequence length and the range of the second byte. */
static const struct {
    unsigned char len, lo, hi;
} lead_info[] = {
    [C_L2] = {2, 0x80, 0xBF}, [C_E0] = {3, 0xA0, 0xBF}, [C_L3] = {3, 0x80, 0xBF},
    [C_ED] = {3, 0x80, 0x9F}, [C_F0] = {4, 0x90, 0xBF}, [C_L4] = {4, 0x80, 0xBF},
    [C_F4] = {4, 0x80, 0x8F},
};

/* Looks at the sequence starting with lead class cls at p (p < end).
 * Returns its length when it is well-formed, or minus the length of the
 * maximal subpart to replace by one U+FFFD. Only the second byte has a
 * range that depends on the lead; the rest are plain continuation bytes.
 * Two-byte sequences, the most common in European text, go first. */
static inline int
utf8_seq(const unsigned char *p, const unsigned char *end, unsigned cls)
{
    size_t avail = (size_t)(end - p);
    if (cls == C_L2)
        return avail >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : -1;
    if (cls == C_BAD)
        return -1;
    if (avail < 2 || p[1] < lead_info[cls].lo || p[1] > lead_info[cls].hi)
        return -1;
    if (avail < 3 || (p[2] & 0xC0) != 0x80)
        return -2;
    if (lead_info[cls].len == 3)
        return 3;
    if (avail < 4 || (p[3] & 0xC0) != 0x80)
        return -3;
    return 4;
}

/* Eight bytes at once: nonzero when any of them is not C_SAFE. Each test is
 * the classic "some byte is zero / below n" trick; they may misplace which
 * byte it is but never miss one, and the caller rescans bytewise anyway. */
static inline uint64_t
word_unsafe(const unsigned char *p)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    uint64_t w;
    memcpy(&w, p, 8);
    uint64_t quote = w ^ (ones * '"');
    uint64_t bslash = w ^ (ones * '\\');
    return (w | ((w - ones * 0x20) & ~w) | ((quote - ones) & ~quote) |
            ((bslash - ones) & ~bslash)) &
           highs;
}

/* JSON's two-character escapes, indexed by the C_ESC byte (all below
 * 0x5D); the other control bytes are written as \u00XX. */
static const char short_escape[0x5D] = {
    ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n',  ['\f'] = 'f',
    ['\r'] = 'r', ['"'] = '"',  ['\\'] = '\\',
};

static inline void
room(qg_buf *b, size_t n)
{
    if (b->cap - b->len < n + 1)
        qg_buf_reserve(b, n);
}

static inline void
put(qg_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

/* Escapes [p, end) into b. The caller has made room for (end - p) + tail
 * bytes; room is kept for what is still to come plus tail. */
static void
escape_run(qg_buf *b, const unsigned char *p, const unsigned char *end, size_t tail)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *run = p;

    for (;;) {
        while (end - p >= 8 && !word_unsafe(p))
            p += 8;
        while (p < end && byte_class[*p] == C_SAFE)
            p++;
        if (p == end)
            break;
        unsigned cls = byte_class[*p];
        int consumed = 1;
        if (cls != C_ESC) {
            int r = utf8_seq(p, end, cls);
            if (r > 0) {
                /* Well-formed: it stays in the run. */
                p += r;
                continue;
            }
            consumed = -r;
        }
        put(b, run, (size_t)(p - run));
        room(b, (size_t)(end - p) + 6 + tail);
        if (cls == C_ESC) {
            char e[6] = {'\\', short_escape[*p], '0', '0', hex[*p >> 4], hex[*p & 15]};
            if (e[1]) {
                put(b, e, 2);
            } else {
                e[1] = 'u';
                put(b, e, 6);
            }
        } else {
            put(b, "\xEF\xBF\xBD", 3);
        }
        p += consumed;
        run = p;
    }
    put(b, run, (size_t)(p - run));
}

void
qg_json_string(qg_buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    room(b, n + 2);
    b->data[b->len++] = '"';
    if (n)
        escape_run(b, p, p + n, 1);
    b->data[b->len++] = '"';
    b->data[b->len] = '\0';
}

void
qg_json_escape(qg_buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    room(b, n);
    if (n)
        escape_run(b, p, p + n, 0);
    b->data[b->len] = '\0';
}

int
qg_utf8_valid(const char *s, size_t n)
{
    if (n == 0)
        return 1;
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    const uint64_t highs = 0x8080808080808080u;
    uint64_t w;
    while (p < end) {
        while (end - p >= 8) {
            memcpy(&w, p, 8);
            if (w & highs)
                break;
            p += 8;
        }
        while (p < end && *p < 0x80)
            p++;
        if (p == end)
            break;
        int r = utf8_seq(p, end, byte_class[*p]);
        if (r < 0)
            return 0;
        p += r;
    }
    return 1;
}

size_t
qg_utf8_seq(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    if (n == 0)
        return 0;
    if (*p < 0x80)
        return 1;
    int r = utf8_seq(p, p + n, byte_class[*p]);
    return r > 0 ? (size_t)r : 0;
}

void
qg_utf8_repair(qg_buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n, *run = p;
    while (p < end) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        int r = utf8_seq(p, end, byte_class[*p]);
        if (r > 0) {
            p += r;
            continue;
        }
        qg_buf_add(b, run, (size_t)(p - run));
        qg_buf_addlit(b, "\xEF\xBF\xBD");
        p += -r;
        run = p;
    }
    qg_buf_add(b, run, (size_t)(end - run));
}

/* Two digits per step: the division count is what costs. */
static const char digits2[200] = "00010203040506070809101112131415161718192021222324"
                                 "25262728293031323334353637383940414243444546474849"
                                 "50515253545556575859606162636465666768697071727374"
                                 "75767778798081828384858687888990919293949596979899";

size_t
qg_fmt_uint64(uint64_t v, char *out)
{
    char tmp[20];
    char *q = tmp + sizeof(tmp);
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        q -= 2;
        memcpy(q, digits2 + 2 * r, 2);
    }
    if (v >= 10) {
        q -= 2;
        memcpy(q, digits2 + 2 * v, 2);
    } else {
        *--q = (char)('0' + v);
    }
    size_t n = (size_t)(tmp + sizeof(tmp) - q);
    memcpy(out, q, n);
    out[n] = '\0';
    return n;
}

size_t
qg_fmt_int64(int64_t v, char *out)
{
    if (v >= 0)
        return qg_fmt_uint64((uint64_t)v, out);
    /* Negating in unsigned arithmetic is defined for INT64_MIN too. */
    out[0] = '-';
    return 1 + qg_fmt_uint64(0 - (uint64_t)v, out + 1);
}

void
qg_json_int64(qg_buf *b, int64_t v)
{
    room(b, 21);
    b->len += qg_fmt_int64(v, b->data + b->len);
}

void
qg_json_uint64(qg_buf *b, uint64_t v)
{
    room(b, 21);
    b->len += qg_fmt_uint64(v, b->data + b->len);
}

/* The n decimal digits of d into out[0..n). */
static void
put_digits(char *out, uint64_t d, int n)
{
    char *q = out + n;
    while (d >= 100) {
        unsigned r = (unsigned)(d % 100);
        d /= 100;
        q -= 2;
        memcpy(q, digits2 + 2 * r, 2);
    }
    if (d >= 10) {
        q -= 2;
        memcpy(q, digits2 + 2 * d, 2);
    } else {
        *--q = (char)('0' + d);
    }
}

/* dig[0..k) as d.ddd followed by the exponent x: e+XX or e-XX, at least
 * two exponent digits, as %g writes them. */
static char *
put_exponent_form(char *p, const char *dig, int k, int x)
{
    *p++ = dig[0];
    if (k > 1) {
        *p++ = '.';
        memcpy(p, dig + 1, (size_t)k - 1);
        p += k - 1;
    }
    *p++ = 'e';
    *p++ = x < 0 ? '-' : '+';
    unsigned ax = (unsigned)(x < 0 ? -x : x);
    if (ax >= 100)
        *p++ = (char)('0' + ax / 100);
    memcpy(p, digits2 + 2 * (ax % 100), 2);
    return p + 2;
}

/* dig[0..k) with the decimal point after the digit of exponent x (-4 <= x),
 * never ending on the point: 0.00123, 12.5, 120.0. */
static char *
put_fixed_form(char *p, const char *dig, int k, int x)
{
    if (x < 0) {
        memcpy(p, "0.0000", (size_t)(1 - x));
        p += 1 - x;
        memcpy(p, dig, (size_t)k);
        return p + k;
    }
    if (k > x + 1) {
        memcpy(p, dig, (size_t)x + 1);
        p += x + 1;
        *p++ = '.';
        memcpy(p, dig + x + 1, (size_t)(k - x - 1));
        return p + (k - x - 1);
    }
    memcpy(p, dig, (size_t)k);
    p += k;
    memset(p, '0', (size_t)(x + 1 - k));
    p += x + 1 - k;
    memcpy(p, ".0", 2);
    return p + 2;
}

size_t
qg_fmt_double(double v, char *out)
{
    if (isnan(v)) {
        memcpy(out, "NaN", 4);
        return 3;
    }
    if (isinf(v)) {
        if (v > 0) {
            memcpy(out, "Infinity", 9);
            return 8;
        }
        memcpy(out, "-Infinity", 10);
        return 9;
    }
    if (v == 0) {
        if (signbit(v)) {
            memcpy(out, "-0.0", 5);
            return 4;
        }
        memcpy(out, "0.0", 4);
        return 3;
    }

    /* 2^53: below it every integral double is an exact int64, and its
     * digits are the text Python's repr() gives too. */
    if (v > -9007199254740992.0 && v < 9007199254740992.0 && v == (double)(int64_t)v) {
        size_t n = qg_fmt_int64((int64_t)v, out);
        memcpy(out + n, ".0", 3);
        return n + 2;
    }

    char *p = out;
    if (v < 0) {
        *p++ = '-';
        v = -v;
    }
    qg_decimal d = qg_dtoa(v);
    int k = d.ndigits, x = d.exp + k - 1; /* x: the exponent of the first digit */
    char dig[20];
    put_digits(dig, d.digits, k);
    /* The layout %.<prec>g gives, prec being the digits the text needs but
     * at least 15: an exponent when x < -4 or x >= prec. */
    int prec = k > 15 ? k : 15;
    if (x < -4 || x >= prec) {
        /* Integers from 1e15 to 1e17 read shorter in full than with an
         * exponent when they have many digits: 57580517785914920.0 rather
         * than 5.758051778591492e+16. */
        if (x >= 15 && x <= 16 && x + 3 < k + (k > 1) + 4) {
            p += qg_fmt_uint64((uint64_t)v, p);
            memcpy(p, ".0", 2);
            p += 2;
        } else {
            p = put_exponent_form(p, dig, k, x);
        }
    } else {
        p = put_fixed_form(p, dig, k, x);
    }
    *p = '\0';
    return (size_t)(p - out);
}

void
qg_json_double(qg_buf *b, double v)
{
    if (isnan(v)) {
        qg_buf_addlit(b, "\"NaN\"");
    } else if (isinf(v)) {
        if (v > 0)
            qg_buf_addlit(b, "\"Infinity\"");
        else
            qg_buf_addlit(b, "\"-Infinity\"");
    } else {
        room(b, 32);
        b->len += qg_fmt_double(v, b->data + b->len);
    }
}

/* JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
int
qg_json_number_valid(const char *p, size_t n)
{
    size_t i = 0;
    if (i < n && p[i] == '-')
        i++;
    if (i >= n)
        return 0;
    if (p[i] == '0') {
        i++;
    } else if (p[i] >= '1' && p[i] <= '9') {
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
    } else {
        return 0;
    }
    if (i < n && p[i] == '.') {
        i++;
        size_t d = i;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
        if (i == d)
            return 0;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        size_t d = i;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
        if (i == d)
            return 0;
    }
    return i == n;
}

bool
qg_parse_uint64(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    if (n == 0)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}
