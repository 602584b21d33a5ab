/*
 * allow: --callback-allow, the hosts qgate may call back.
 *
 * A comma-separated list of patterns (spaces around commas allowed); a
 * URL's host and port must match one of them:
 *
 *   hooks.example.com       that host name, port 80
 *   hooks.example.com:8080  that host name, port 8080
 *   *.internal              any host name ending in ".internal" (not
 *                           "internal" itself), port 80
 *   *.internal:*            the same, any port
 *   127.0.0.1:*             that IPv4 address, any port
 *   [::1]:9000              that IPv6 address, port 9000
 *   *:*                     anything (say so explicitly to mean it)
 *
 * Host names compare case-insensitively; addresses compare as addresses
 * (::1 and 0:0:0:0:0:0:0:1 are one). Matching is by the name in the URL,
 * not by what it resolves to: allow only names whose DNS you control. An
 * empty list allows nothing: callbacks are off. Pure; any thread.
 */
#ifndef QG_GW_ALLOW_H
#define QG_GW_ALLOW_H

#include <stdbool.h>
#include <stddef.h>

typedef struct gw_hostpat {
    char host[256]; /* lower-cased; for "*.x" the suffix ".x"; "" for "*" */
    bool suffix;    /* "*.x" */
    bool any_host;  /* "*" */
    int family;     /* 0: a name; AF_INET, AF_INET6: an address (in addr) */
    unsigned char addr[16];
    int port; /* -1: any */
} gw_hostpat;

typedef struct gw_allow {
    gw_hostpat *v;
    size_t n;
} gw_allow;

/* Parses list into out. Returns 0, or -1 with a message naming the bad
 * pattern in err. */
int gw_allow_parse(const char *list, gw_allow *out, char *err, size_t errlen);
void gw_allow_free(gw_allow *a);
/* Whether host (lower-cased, IPv6 without brackets) and port match a
 * pattern. */
bool gw_allow_match(const gw_allow *a, const char *host, int port);

#endif
