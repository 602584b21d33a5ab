/*
 * client: an outgoing HTTP POST on a bufferevent (see client.h).
 *
 * The attempt starts from a zero-delay timer, so that whatever fails at
 * once (an address that refuses, a name evdns answers from its cache)
 * still reports through done on a later turn of the loop, never inside
 * gw_client_post. The request is written into the bufferevent before it
 * connects; libevent flushes it once the connection is up.
 */
#include "gateway/client.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "core/buf.h"
#include "core/mem.h"

/* A response head longer than this is not worth reading. */
#define HEAD_MAX (16 * 1024)
/* The longest reason reported to done. */
#define WHY_MAX 600

struct gw_client {
    struct event_base *base;
    struct evdns_base *dns;
    struct bufferevent *bev;
    struct event *timer; /* first the start, then the attempt's deadline */
    bool started;
    char host[256];
    int port;
    uint64_t timeout_ms;
    qg_buf req;
    gw_client_done done;
    void *arg;
};

int
gw_client_status_line(const char *p, size_t n)
{
    /* "HTTP/1.1 200 OK": the version's digits, a space, three digits */
    if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[7] < '0' || p[7] > '9' || p[8] != ' ')
        return -1;
    int status = 0;
    for (int i = 9; i < 12; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        status = status * 10 + (p[i] - '0');
    }
    if (n > 12 && p[12] != ' ' && p[12] != '\r')
        return -1;
    return status < 100 ? -1 : status;
}

static void
client_free(gw_client *c)
{
    if (c->bev)
        bufferevent_free(c->bev);
    if (c->timer)
        event_free(c->timer);
    qg_buf_free(&c->req);
    free(c);
}

/* Ends the attempt: frees everything, then reports. */
static void
finish(gw_client *c, int status, const char *error)
{
    gw_client_done done = c->done;
    void *arg = c->arg;
    char why[WHY_MAX];
    snprintf(why, sizeof(why), "%s", error ? error : "");
    client_free(c);
    done(status, why, arg);
}

static void
on_read(struct bufferevent *bev, void *arg)
{
    gw_client *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
    size_t have = evbuffer_get_length(in);
    if (end.pos < 0) {
        if (have > HEAD_MAX)
            finish(c, 0, "response head too large");
        return;
    }
    size_t n = have < 64 ? have : 64;
    const char *p = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
    int status = gw_client_status_line(p, n);
    if (status < 0)
        finish(c, 0, "not an HTTP response");
    else
        finish(c, status, NULL);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
    gw_client *c = arg;
    if (what & BEV_EVENT_CONNECTED)
        return;
    char why[600];
    if (what & BEV_EVENT_EOF) {
        snprintf(why, sizeof(why), "the connection closed before a response");
    } else {
        int dns_err = bufferevent_socket_get_dns_error(bev);
        if (dns_err)
            snprintf(why, sizeof(why), "cannot resolve %.255s: %s", c->host,
                     evutil_gai_strerror(dns_err));
        else
            snprintf(why, sizeof(why), "%.255s:%d: %s", c->host, c->port,
                     evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    }
    finish(c, 0, why);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
    gw_client *c = arg;
    if (c->started) {
        finish(c, 0, "timed out");
        return;
    }
    c->started = true;
    struct timeval tv = {(time_t)(c->timeout_ms / 1000),
                         (suseconds_t)(c->timeout_ms % 1000) * 1000};
    evtimer_add(c->timer, &tv);
    c->bev = bufferevent_socket_new(c->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!c->bev) {
        finish(c, 0, "cannot create a socket");
        return;
    }
    bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    bufferevent_write(c->bev, c->req.data, c->req.len);
    /* without a resolver, libevent would fall back to a getaddrinfo that
     * blocks: only addresses then */
    unsigned char addr[16];
    if (!c->dns && inet_pton(AF_INET, c->host, addr) != 1 &&
        inet_pton(AF_INET6, c->host, addr) != 1) {
        finish(c, 0, "no resolver for host names");
        return;
    }
    /* the failure, when immediate, arrives through on_event: c may be
     * gone when this returns, so nothing touches it after */
    bufferevent_socket_connect_hostname(c->bev, c->dns, AF_UNSPEC, c->host, c->port);
}

gw_client *
gw_client_post(struct event_base *base, struct evdns_base *dns, const gw_url *u,
               const gw_header *extra, size_t n, const char *body, size_t len, uint64_t timeout_ms,
               gw_client_done done, void *arg)
{
    gw_client *c = qg_calloc(1, sizeof(*c));
    c->base = base;
    c->dns = dns;
    snprintf(c->host, sizeof(c->host), "%s", u->host);
    c->port = u->port;
    c->timeout_ms = timeout_ms;
    c->done = done;
    c->arg = arg;
    char host[300];
    gw_url_host_header(u, host, sizeof(host));
    qg_buf_addlit(&c->req, "POST ");
    qg_buf_add(&c->req, u->target, u->target_len);
    qg_buf_printf(&c->req,
                  " HTTP/1.1\r\nHost: %s\r\nUser-Agent: qgate/%s\r\n"
                  "Content-Type: application/json; charset=UTF-8\r\nContent-Length: %zu\r\n"
                  "Connection: close\r\n",
                  host, QGATE_VERSION, len);
    for (size_t i = 0; i < n; i++)
        qg_buf_printf(&c->req, "%s: %s\r\n", extra[i].name, extra[i].value);
    qg_buf_addlit(&c->req, "\r\n");
    qg_buf_add(&c->req, body, len);
    c->timer = evtimer_new(base, on_timer, c);
    struct timeval now = {0, 0};
    evtimer_add(c->timer, &now);
    return c;
}

void
gw_client_cancel(gw_client *c)
{
    if (c)
        client_free(c);
}
