/*
 * url: the absolute http(s) URLs qgate is given to call (callback_url).
 *
 * Accepted: scheme "http" or "https" (any case), "://", a host (a DNS
 * name, an IPv4 address, or an IPv6 address in brackets), an optional
 * ":port" (1-65535), then an optional target starting with '/' or '?'.
 * Refused: user information ('@' before the host), fragments, spaces,
 * control characters and non-ASCII bytes, more than GW_URL_MAX bytes.
 * Pure; any thread.
 */
#ifndef QG_GW_URL_H
#define QG_GW_URL_H

#include <stdbool.h>
#include <stddef.h>

#define GW_URL_MAX 2048

typedef struct gw_url {
    bool https;
    char host[256]; /* lower-cased; an IPv6 address without its brackets */
    bool ipv6;      /* host is an IPv6 literal */
    int port;       /* given, or the scheme's (80, 443) */
    bool port_given;
    const char *target; /* into the parsed text: path and query ("/" when none) */
    size_t target_len;
} gw_url;

/* Parses s[0..n) into u. Returns 0, or -1 when it is not such a URL. */
int gw_url_parse(const char *s, size_t n, gw_url *u);
/* Appends the Host header value of u (host, brackets for IPv6, ":port"
 * when it was given) to out (size bytes, NUL-terminated). */
void gw_url_host_header(const gw_url *u, char *out, size_t size);

#endif
