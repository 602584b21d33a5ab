/*
 * client: one outgoing HTTP/1.1 POST, without blocking the loop.
 *
 * qgate calls out for one thing: callback deliveries (modes/callback.c).
 * A gw_client connects (names through evdns, so no getaddrinfo ever blocks
 * the loop; addresses directly), sends the request with
 * "Connection: close", and reads the response until its head is complete;
 * the status code is the outcome. One timer bounds the whole attempt
 * (resolve, connect, send, head). Plain http only; redirects are never
 * followed (a 3xx is an outcome like any other non-2xx). The body of the
 * response is not read.
 *
 * Threads: the loop thread only.
 */
#ifndef QG_GW_CLIENT_H
#define QG_GW_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/reply.h"
#include "gateway/url.h"

struct event_base;
struct evdns_base;

typedef struct gw_client gw_client;

/* The outcome: status is the response's HTTP status, or 0 when there was
 * none (error then says why: refused, timed out, closed early, ...). Called
 * once, on the loop thread, never from inside gw_client_post. */
typedef void (*gw_client_done)(int status, const char *error, void *arg);

/* POSTs body[0..len) (copied) with the n extra headers to u (http only;
 * its host and target are copied). timeout_ms bounds the whole attempt.
 * dns resolves host names (NULL: only addresses work). done(arg) reports
 * the outcome unless gw_client_cancel comes first. */
gw_client *gw_client_post(struct event_base *base, struct evdns_base *dns, const gw_url *u,
                          const gw_header *extra, size_t n, const char *body, size_t len,
                          uint64_t timeout_ms, gw_client_done done, void *arg);
/* Stops the attempt and frees it; done is not called. */
void gw_client_cancel(gw_client *c);

/* The status code of a response head's status line "HTTP/1.x NNN ...",
 * or -1 when p[0..n) does not start with one. Pure; for tests. */
int gw_client_status_line(const char *p, size_t n);

#endif
