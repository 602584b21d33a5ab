/*
 * arena: a bump allocator whose memory dies all at once.
 *
 * A request's parameters, bound values and strings live in one arena that is
 * freed with the request (h2o's per-request pool). Allocations are 8-byte
 * aligned. One thread at a time; the arena moves with the object owning it.
 */
#ifndef QG_ARENA_H
#define QG_ARENA_H

#include <stddef.h>

typedef struct qg_arena_block qg_arena_block;

typedef struct qg_arena {
    qg_arena_block *head;
    size_t used;  /* bytes used in head */
    size_t avail; /* bytes free in head */
} qg_arena;

#define QG_ARENA_INIT {NULL, 0, 0}

void *qg_arena_alloc(qg_arena *a, size_t n);
/* A NUL-terminated copy of n bytes (which may contain NULs). */
char *qg_arena_memdup0(qg_arena *a, const void *p, size_t n);
char *qg_arena_strdup(qg_arena *a, const char *s);
/* Frees every allocation at once; the arena is empty and reusable. */
void qg_arena_free(qg_arena *a);

#endif
