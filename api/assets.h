/*
 * assets: the console's files (console/ in the source tree), embedded in
 * the binary when it is built (cmake/embed.cmake writes the table), so
 * the daemon serves its page with no files beside it and no build step
 * but the compiler's. Read-only data; any thread.
 */
#ifndef QG_API_ASSETS_H
#define QG_API_ASSETS_H

#include <stddef.h>

typedef struct api_asset {
    const char *name;          /* the file's name ("console.js") */
    const unsigned char *data; /* its bytes */
    size_t len;
    const char *etag; /* "\"<16 hex digits of its SHA-256>\"", quotes included */
} api_asset;

extern const api_asset api_console_assets[];
extern const size_t api_console_nassets;

#endif
