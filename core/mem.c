/* mem: the out-of-memory policy (see mem.h). */
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
oom(size_t n)
{
    char msg[96];
    int len = snprintf(msg, sizeof(msg), "qgate: out of memory allocating %zu bytes\n", n);
    if (len > 0 && write(2, msg, (size_t)len) < 0) {
        /* nothing left to report with */
    }
    abort();
}

void *
qg_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *
qg_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *
qg_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *
qg_strdup(const char *s)
{
    return qg_memdup0(s, strlen(s));
}

char *
qg_strndup(const char *s, size_t n)
{
    return qg_memdup0(s, strnlen(s, n));
}

char *
qg_memdup0(const void *s, size_t n)
{
    char *p = qg_malloc(n + 1);
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}
