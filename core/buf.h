/*
 * buf: a growable byte buffer, the unit in which qgate builds text.
 *
 * Result rows, envelopes, store records and log lines are all written into a
 * qg_buf. The data is always NUL-terminated (data[len] == 0) once anything
 * was added, so it can be handed to printf-style code, but it may contain
 * NULs of its own: len is the truth.
 *
 * Ownership: the qg_buf owns data. A qg_buf is used by one thread at a time;
 * handing one to another thread hands over the whole struct.
 */
#ifndef QG_BUF_H
#define QG_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

typedef struct qg_buf {
    char *data;
    size_t len;
    size_t cap;
} qg_buf;

#define QG_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void qg_buf_init(qg_buf *b);
/* Frees the data; the buf is empty and reusable afterwards. */
void qg_buf_free(qg_buf *b);
/* Makes room for at least n more bytes (plus the terminating NUL). */
void qg_buf_reserve(qg_buf *b, size_t n);
/* qg_buf_add's growing path. */
void qg_buf_add_slow(qg_buf *b, const void *p, size_t n);
void qg_buf_printf(qg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void qg_buf_vprintf(qg_buf *b, const char *fmt, va_list ap);
/* Takes the data out; the caller frees it. The buf is empty afterwards. */
char *qg_buf_detach(qg_buf *b, size_t *len);

static inline void
qg_buf_reset(qg_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static inline void
qg_buf_add(qg_buf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        qg_buf_add_slow(b, p, n);
        return;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static inline void
qg_buf_addc(qg_buf *b, char c)
{
    if (b->len + 2 > b->cap)
        qg_buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

static inline void
qg_buf_adds(qg_buf *b, const char *s)
{
    qg_buf_add(b, s, strlen(s));
}

/* Adds a string literal without strlen. */
#define qg_buf_addlit(b, lit) qg_buf_add((b), (lit), sizeof(lit) - 1)

#endif
