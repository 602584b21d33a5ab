/* arena: bump allocation in blocks (see arena.h). */
#include "core/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

struct qg_arena_block {
    qg_arena_block *next;
    size_t size;
    _Alignas(max_align_t) unsigned char data[];
};

#define BLOCK_SIZE 4000
/* The first block is small enough for malloc's per-thread cache (blocks
 * up to 1,032 bytes): most requests need no more, and a bigger block costs
 * them a trip through malloc's bins on every request. */
#define FIRST_SIZE (1000 - sizeof(qg_arena_block))

void *
qg_arena_alloc(qg_arena *a, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    if (n > a->avail) {
        size_t block = a->head ? BLOCK_SIZE : FIRST_SIZE;
        size_t size = n > block / 4 ? n : block;
        qg_arena_block *b = qg_malloc(sizeof(*b) + size);
        b->size = size;
        if (a->head && size == n && a->avail > 0) {
            /* A big allocation goes behind the head so the head's free
             * space stays usable for small ones. */
            b->next = a->head->next;
            a->head->next = b;
            return b->data;
        }
        b->next = a->head;
        a->head = b;
        a->used = 0;
        a->avail = size;
    }
    void *p = a->head->data + a->used;
    a->used += n;
    a->avail -= n;
    return p;
}

char *
qg_arena_memdup0(qg_arena *a, const void *p, size_t n)
{
    char *s = qg_arena_alloc(a, n + 1);
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

char *
qg_arena_strdup(qg_arena *a, const char *s)
{
    return qg_arena_memdup0(a, s, strlen(s));
}

void
qg_arena_free(qg_arena *a)
{
    qg_arena_block *b = a->head;
    while (b) {
        qg_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used = 0;
    a->avail = 0;
}
