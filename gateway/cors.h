/*
 * cors: which web pages may use qgate from a browser (--cors-origins).
 *
 * A browser lets a page read an answer from another origin only when the
 * answer names that origin in Access-Control-Allow-Origin; it sends a
 * page's form POSTs to any server, though, with the page's Origin. So qgate
 * answers by the Origin header:
 *
 *   none                 a client that is no browser page: served as usual
 *   qgate's own          the Origin's host[:port] is the request's Host (a
 *                        page qgate serves itself): served, no CORS headers
 *   listed               in --cors-origins: served, and every answer allows
 *                        that origin and exposes qgate's headers
 *   anything else        refused with 403 before anything runs, `null`
 *                        (file:// pages, sandboxed frames) included: a
 *                        foreign page can neither read nor run statements
 *
 * The list is exact origins, scheme://host[:port] (compared as browsers
 * send them: lower case, no default port, no path). Empty, the default: no
 * page but qgate's own. `null` and `*` are refused at start: any page can
 * claim the first, the second is every page.
 *
 * Parsed once at start (main thread); read-only afterwards, any thread.
 */
#ifndef QG_GW_CORS_H
#define QG_GW_CORS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct gw_cors {
    char **v; /* lower-cased origins */
    size_t n;
} gw_cors;

/* Parses "ORIGIN[,ORIGIN...]" (spaces around commas allowed, "" is an empty
 * list). Returns 0, or -1 with a message naming the bad entry in err. */
int gw_cors_parse(const char *list, gw_cors *out, char *err, size_t errlen);
void gw_cors_free(gw_cors *c);

typedef enum gw_cors_verdict {
    GW_CORS_NONE,    /* no Origin header */
    GW_CORS_SAME,    /* the Origin is the request's own Host */
    GW_CORS_LISTED,  /* in --cors-origins */
    GW_CORS_REFUSED, /* any other origin */
} gw_cors_verdict;

/* Judges a request's Origin and Host headers (either may be NULL). c may
 * be NULL (an empty list). Pure. */
gw_cors_verdict gw_cors_check(const gw_cors *c, const char *origin, const char *host);

/* Request headers a listed origin's page may send, and response headers it
 * may read (beyond the ones browsers always show). */
#define GW_CORS_ALLOW_HEADERS  "Accept, Authorization, Content-Type, Idempotency-Key"
#define GW_CORS_EXPOSE_HEADERS "Date, Server, Retry-After, WWW-Authenticate, Idempotent-Replayed"
/* How long a browser may keep a preflight's answer, in seconds. */
#define GW_CORS_MAX_AGE "600"

#endif
