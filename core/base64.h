/* base64: blobs in JSON (RFC 4648 standard alphabet, padded). Pure. */
#ifndef QG_BASE64_H
#define QG_BASE64_H

#include <stddef.h>

#include "core/buf.h"

/* Appends the base64 text of p[0..n) (no quotes, no line breaks). */
void qg_base64_encode(qg_buf *b, const void *p, size_t n);
/* Decodes text[0..n) (padding required, no whitespace) and appends the bytes;
 * returns 0, or -1 on invalid input (b may hold part of the output then). */
int qg_base64_decode(qg_buf *b, const char *text, size_t n);

#endif
