/* backend: choosing the backend for a --backend value (see backend.h). */
#include "exec/backend.h"

#include <ctype.h>
#include <sqlite3.h>
#include <string.h>

#include "exec/internal.h"

/* A libpq keyword/value string starts with a keyword and '='. */
static bool
keyword_string(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    const char *k = s;
    while (isalnum((unsigned char)*s) || *s == '_')
        s++;
    if (s == k)
        return false;
    while (isspace((unsigned char)*s))
        s++;
    return *s == '=';
}

static exec_limits limits = {16u << 20, 4u << 20};

const exec_limits *
exec__limits(void)
{
    return &limits;
}

void
exec_backends_init(const exec_limits *lim)
{
    if (lim)
        limits = *lim;
    /* SQLite counts every allocation under a global mutex for
     * sqlite3_status(), which qgate never reads: a few percent of a large
     * result's time. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

const exec_backend *
exec_backend_for(const char *uri)
{
    if (strncmp(uri, "sqlite:", 7) == 0)
        return &exec__sqlite;
    if (strncmp(uri, "postgresql://", 13) == 0 || strncmp(uri, "postgres://", 11) == 0 ||
        keyword_string(uri))
        return &exec__postgres;
    return NULL;
}

/* Appends s[0..n) to out (size bytes) at *k, cutting at the end. */
static void
put(char *out, size_t size, size_t *k, const char *s, size_t n)
{
    for (size_t i = 0; i < n && *k + 1 < size; i++)
        out[(*k)++] = s[i];
    out[*k] = '\0';
}

void
exec_backend_redact(const char *uri, char *out, size_t size)
{
    size_t k = 0, n = strlen(uri);
    if (size == 0)
        return;
    out[0] = '\0';
    const char *scheme = strstr(uri, "://");
    size_t i = 0;
    if (scheme && (strncmp(uri, "postgres", 8) == 0)) {
        /* scheme://user:password@host... */
        size_t start = (size_t)(scheme - uri) + 3;
        size_t end = start + strcspn(uri + start, "/?");
        const char *at = NULL;
        for (size_t j = start; j < end; j++)
            if (uri[j] == '@')
                at = uri + j;
        const char *colon = at ? memchr(uri + start, ':', (size_t)(at - (uri + start))) : NULL;
        if (colon) {
            put(out, size, &k, uri, (size_t)(colon - uri) + 1);
            put(out, size, &k, "***", 3);
            i = (size_t)(at - uri);
        }
    }
    /* password=... as a keyword (value up to a blank, or quoted) or as a
     * query parameter (up to '&') */
    while (i < n) {
        const char *p = strstr(uri + i, "password");
        if (!p) {
            put(out, size, &k, uri + i, n - i);
            break;
        }
        size_t at = (size_t)(p - uri) + 8, j = at;
        while (j < n && uri[j] == ' ')
            j++;
        bool boundary = p == uri || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');
        if (!boundary || j >= n || uri[j] != '=') {
            put(out, size, &k, uri + i, at - i);
            i = at;
            continue;
        }
        j++;
        while (j < n && uri[j] == ' ')
            j++;
        put(out, size, &k, uri + i, j - i);
        put(out, size, &k, "***", 3);
        if (j < n && uri[j] == '\'') {
            for (j++; j < n && uri[j] != '\''; j++)
                if (uri[j] == '\\' && j + 1 < n)
                    j++;
            if (j < n)
                j++;
        } else {
            while (j < n && uri[j] != ' ' && uri[j] != '&')
                j++;
        }
        i = j;
    }
}
