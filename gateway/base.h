/*
 * base: the public base URL of the handles qgate hands out.
 *
 * The one place that decides it (docs/api.md, Modes): --public-url when it
 * is an absolute URL; else, when the peer is a trusted proxy
 * (--trusted-proxies), the scheme and host it forwards: X-Forwarded-Proto
 * and X-Forwarded-Host when it sent either (their last items), else the
 * Forwarded element the trusted proxies wrote (gw_forwarded_parse), each
 * value checked by gateway/proxy and ignored when not valid; else "http://"
 * + the Host header; else (no Host: an HTTP/1.0
 * client) the address qgate listens on. A --public-url that is only a path
 * ("/n2") is a prefix after whichever scheme and host were chosen: a node
 * behind a shared front door keeps the front door's name in its handles and
 * its own path, which the front door routes back to it. Loop thread.
 */
#ifndef QG_GW_BASE_H
#define QG_GW_BASE_H

#include "core/buf.h"
#include "core/err.h"
#include "gateway/server.h"

/* What the base is made of, set up at start; read on the loop thread. */
typedef struct gw_base_conf {
    const char *public_url;    /* --public-url: "", an absolute URL, or a path prefix */
    const char *host;          /* the address listened on: for requests without Host */
    const gw_server *server;   /* and its port */
    const gw_proxies *trusted; /* --trusted-proxies: whose Forwarded header counts */
} gw_base_conf;

/* Appends req's base (no trailing '/') to out. Returns 0, or -1 with err
 * (QG_E_BAD_REQUEST) when the Host header holds anything but a host name,
 * an IPv4 address or a bracketed IPv6 address, with an optional port. */
int gw_base_url(gw_req *req, const gw_base_conf *c, qg_buf *out, qg_error *err);

#endif
