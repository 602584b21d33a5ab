/* base: the public base URL of handles (see base.h). */
#include "gateway/base.h"

#include <ctype.h>
#include <string.h>

#include "gateway/proxy.h"

/* The last element of a comma-separated header value, without the spaces
 * around it: what the nearest proxy wrote (one that appends rather than
 * replaces leaves the client's own values on the left). */
static const char *
last_item(const char *v, size_t *n)
{
    const char *comma = strrchr(v, ',');
    if (comma)
        v = comma + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t k = strlen(v);
    while (k > 0 && (v[k - 1] == ' ' || v[k - 1] == '\t'))
        k--;
    *n = k;
    return v;
}

int
gw_base_url(gw_req *req, const gw_base_conf *c, qg_buf *out, qg_error *err)
{
    const char *pub = c->public_url;
    size_t pubn = pub ? strlen(pub) : 0;
    while (pubn > 0 && pub[pubn - 1] == '/')
        pubn--;
    if (pubn && pub[0] != '/') {
        qg_buf_add(out, pub, pubn);
        return 0;
    }
    const char *proto = "http", *host = gw_req_header(req, "Host");
    size_t pn = 4, hn = host ? strlen(host) : 0;
    char fproto[8], fhost[256];
    if (req->from_trusted_proxy) {
        /* One family of headers: X-Forwarded-* when the proxy sent any of
         * them (nginx sets those and passes a client's Forwarded through),
         * else Forwarded. */
        const char *xp = gw_req_header(req, "X-Forwarded-Proto");
        const char *xh = gw_req_header(req, "X-Forwarded-Host");
        const char *po = NULL, *ho = NULL, *v;
        size_t n;
        if (xp || xh) {
            if (xp && (v = last_item(xp, &n)) && gw_valid_proto(v, n)) {
                proto = v;
                pn = n;
            }
            if (xh && (v = last_item(xh, &n)) && gw_valid_host(v, n)) {
                host = v;
                hn = n;
            }
        } else {
            gw_forwarded_parse(gw_req_header(req, "Forwarded"), c->trusted, fproto, fhost, &po,
                               &ho);
            if (po) {
                proto = po;
                pn = strlen(po);
            }
            if (ho) {
                host = ho;
                hn = strlen(ho);
            }
        }
    }
    if (!host) {
        const char *h = c->host;
        bool v6 = strchr(h, ':') != NULL;
        qg_buf_printf(out, "http://%s%s%s:%d", v6 ? "[" : "", h, v6 ? "]" : "",
                      gw_server_port(c->server));
        qg_buf_add(out, pub, pubn); /* the path prefix, if any */
        return 0;
    }
    if (!gw_valid_host(host, hn))
        return qg_error_set(err, QG_E_BAD_REQUEST, "invalid Host header");
    for (size_t i = 0; i < pn; i++)
        qg_buf_addc(out, (char)tolower((unsigned char)proto[i]));
    qg_buf_addlit(out, "://");
    qg_buf_add(out, host, hn);
    qg_buf_add(out, pub, pubn); /* the path prefix, if any */
    return 0;
}
