/*
 * base64: blobs as JSON text (see base64.h).
 *
 * Decoding is strict, because a blob that comes back from a client must be
 * the same bytes whatever text carried it: the length is a multiple of four,
 * '=' appears only as the last one or two characters, and the bits that the
 * padding leaves over must be zero (RFC 4648 3.5), so each byte string has
 * exactly one accepted text.
 */
#include "core/base64.h"

#include <stdint.h>

static const char enc[64] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

#define XX 0xFF
/* 0..63 for the alphabet, XX for everything else, '=' included. */
/* clang-format off */
static const unsigned char dec[256] = {
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, 62, XX, XX, XX, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, XX, XX, XX, XX, XX, XX,
    XX, 0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, XX, XX, XX, XX, XX,
    XX, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
};
/* clang-format on */

void
qg_base64_encode(qg_buf *b, const void *p, size_t n)
{
    const unsigned char *s = p;
    qg_buf_reserve(b, (n + 2) / 3 * 4);
    char *o = b->data + b->len;
    size_t i = 0;
    for (; n - i >= 3; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        o[0] = enc[v >> 18];
        o[1] = enc[(v >> 12) & 63];
        o[2] = enc[(v >> 6) & 63];
        o[3] = enc[v & 63];
        o += 4;
    }
    if (n - i == 1) {
        o[0] = enc[s[i] >> 2];
        o[1] = enc[(s[i] & 3) << 4];
        o[2] = '=';
        o[3] = '=';
        o += 4;
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)s[i] << 8 | s[i + 1];
        o[0] = enc[v >> 10];
        o[1] = enc[(v >> 4) & 63];
        o[2] = enc[(v & 15) << 2];
        o[3] = '=';
        o += 4;
    }
    *o = '\0';
    b->len = (size_t)(o - b->data);
}

int
qg_base64_decode(qg_buf *b, const char *text, size_t n)
{
    const unsigned char *t = (const unsigned char *)text;
    qg_buf_reserve(b, n / 4 * 3);
    b->data[b->len] = '\0';
    if (n % 4 != 0)
        return -1;
    if (n == 0)
        return 0;

    size_t pad = t[n - 1] != '=' ? 0 : t[n - 2] != '=' ? 1 : 2;
    size_t full = n - (pad ? 4 : 0);
    unsigned char *o = (unsigned char *)b->data + b->len;
    int rc = 0;
    for (size_t i = 0; i < full; i += 4) {
        unsigned a = dec[t[i]], c1 = dec[t[i + 1]], c2 = dec[t[i + 2]], c3 = dec[t[i + 3]];
        if ((a | c1 | c2 | c3) & 0x80) {
            rc = -1;
            goto out;
        }
        uint32_t v = (uint32_t)a << 18 | (uint32_t)c1 << 12 | (uint32_t)c2 << 6 | c3;
        o[0] = (unsigned char)(v >> 16);
        o[1] = (unsigned char)(v >> 8);
        o[2] = (unsigned char)v;
        o += 3;
    }
    if (pad) {
        const unsigned char *q = t + full;
        unsigned a = dec[q[0]], c1 = dec[q[1]];
        unsigned c2 = pad == 1 ? dec[q[2]] : 0;
        /* Leftover bits must be zero: "Zh==" is not another "Zg==". */
        if (((a | c1 | c2) & 0x80) || (pad == 2 ? c1 & 15 : c2 & 3)) {
            rc = -1;
            goto out;
        }
        *o++ = (unsigned char)(a << 2 | c1 >> 4);
        if (pad == 1)
            *o++ = (unsigned char)((c1 & 15) << 4 | c2 >> 2);
    }
out:
    *o = '\0';
    b->len = (size_t)((char *)o - b->data);
    return rc;
}
