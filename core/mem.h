/*
 * mem: allocation that never returns NULL.
 *
 * qgate treats running out of memory as fatal, as redis and h2o do: a daemon
 * that limps on after a failed malloc corrupts state in ways no error path
 * can test. Every allocation in qgate goes through these (or through
 * qg_arena), so the policy lives in one place.
 */
#ifndef QG_MEM_H
#define QG_MEM_H

#include <stddef.h>

/* Like malloc/calloc/realloc/strdup/strndup, but abort with a message on
 * failure. Any thread. The caller owns the result and frees it with free(). */
void *qg_malloc(size_t n);
void *qg_calloc(size_t n, size_t size);
void *qg_realloc(void *p, size_t n);
char *qg_strdup(const char *s);
char *qg_strndup(const char *s, size_t n);
/* Copies n bytes into a new NUL-terminated string (s may contain NULs). */
char *qg_memdup0(const void *s, size_t n);

#endif
