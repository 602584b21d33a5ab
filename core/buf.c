/* buf: growable byte buffer (see buf.h). */
#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/mem.h"

void
qg_buf_init(qg_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void
qg_buf_free(qg_buf *b)
{
    free(b->data);
    qg_buf_init(b);
}

void
qg_buf_reserve(qg_buf *b, size_t n)
{
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->data = qg_realloc(b->data, cap);
    b->cap = cap;
}

void
qg_buf_add_slow(qg_buf *b, const void *p, size_t n)
{
    qg_buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void
qg_buf_vprintf(qg_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    qg_buf_reserve(b, 64);
    int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    if ((size_t)n >= b->cap - b->len) {
        qg_buf_reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
    }
    va_end(ap2);
    b->len += (size_t)n;
}

void
qg_buf_printf(qg_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    qg_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

char *
qg_buf_detach(qg_buf *b, size_t *len)
{
    if (!b->data)
        qg_buf_reserve(b, 0), b->data[0] = '\0';
    char *p = b->data;
    if (len)
        *len = b->len;
    qg_buf_init(b);
    return p;
}
