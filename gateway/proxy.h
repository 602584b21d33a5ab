/*
 * proxy: what qgate believes of the proxies in front of it.
 *
 * Only from peers listed in --trusted-proxies (CIDRs) are X-Forwarded-Proto,
 * X-Forwarded-Host, Forwarded and X-Forwarded-For used: to build handle URLs
 * and to log the real client address. Anyone else could otherwise steer the
 * host name in a handle. Forwarded values are checked before use (a host is
 * a DNS name or an IP literal with an optional port, a proto is http or
 * https), and only what the trusted proxies wrote counts: lists are read
 * from the right (gateway/base has the rules). Pure; any thread.
 */
#ifndef QG_GW_PROXY_H
#define QG_GW_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

typedef struct gw_cidr {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int bits;
} gw_cidr;

typedef struct gw_proxies {
    gw_cidr *v;
    size_t n;
} gw_proxies;

/* Parses "CIDR[,CIDR...]" ("10.0.0.0/8, 127.0.0.1, ::1/128"; a bare address
 * is a /32 or /128; spaces around commas allowed; "" is an empty list).
 * Returns 0, or -1 with a message naming the bad entry in err. */
int gw_proxies_parse(const char *list, gw_proxies *out, char *err, size_t errlen);
void gw_proxies_free(gw_proxies *p);

/* Whether the address (a sockaddr, or text) falls in one of the CIDRs. An
 * IPv4-mapped IPv6 address is checked as IPv4. */
bool gw_proxies_trust(const gw_proxies *p, const struct sockaddr *sa);
bool gw_proxies_trust_text(const gw_proxies *p, const char *ip, size_t n);

/* The client address behind trusted proxies: X-Forwarded-For read from the
 * right, skipping addresses that are trusted proxies themselves; the first
 * one that is not is the client. Writes it into out (NUL-terminated) and
 * returns true; false (out untouched) when xff names no valid address. */
bool gw_forwarded_client(const gw_proxies *p, const char *xff, char *out, size_t n);

/* From a Forwarded header (RFC 7239) sent by a trusted proxy, the proto=
 * and host= (quotes removed, each checked as below) of the element that
 * proxy chain wrote for the client: read from the right, the last element
 * unless its for= is itself a trusted proxy, then the one before, and so
 * on (elements further left are the client's own). Missing ones are left
 * NULL. Pointers go into the caller's buffers proto[8] and host[256]. */
void gw_forwarded_parse(const char *fwd, const gw_proxies *p, char proto[8], char host[256],
                        const char **proto_out, const char **host_out);

/* host[:port]: a DNS name (letters, digits, '-', '.'), an IPv4 address or
 * a bracketed IPv6 literal, with an optional port of 1-5 digits. */
bool gw_valid_host(const char *h, size_t n);
/* "http" or "https" (case-insensitive). */
bool gw_valid_proto(const char *p, size_t n);

/* Whether a --listen host is a loopback address (127.0.0.0/8, ::1, an
 * IPv4-mapped 127.x, or "localhost"): only this machine can connect. */
bool gw_host_is_loopback(const char *host);

#endif
