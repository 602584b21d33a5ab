/* base: the public base URL of handles (see base.h). */
#include "gateway/base.h"

#include <ctype.h>
#include <string.h>

#include "gateway/proxy.h"

/* The first element of a comma-separated header value, without the spaces
 * around it. */
static const char *
first_item(const char *v, size_t *n)
{
    while (*v == ' ' || *v == '\t')
        v++;
    size_t k = strcspn(v, ",");
    while (k > 0 && (v[k - 1] == ' ' || v[k - 1] == '\t'))
        k--;
    *n = k;
    return v;
}

int
gw_base_url(gw_req *req, const qg_app *app, qg_buf *out, qg_error *err)
{
    const char *pub = app->cfg->public_url;
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
        const char *po = NULL, *ho = NULL, *v;
        size_t n;
        gw_forwarded_parse(gw_req_header(req, "Forwarded"), fproto, fhost, &po, &ho);
        if (po) {
            proto = po;
            pn = strlen(po);
        } else if ((v = gw_req_header(req, "X-Forwarded-Proto")) && (v = first_item(v, &n)) &&
                   gw_valid_proto(v, n)) {
            proto = v;
            pn = n;
        }
        if (ho) {
            host = ho;
            hn = strlen(ho);
        } else if ((v = gw_req_header(req, "X-Forwarded-Host")) && (v = first_item(v, &n)) &&
                   gw_valid_host(v, n)) {
            host = v;
            hn = n;
        }
    }
    if (!host) {
        const char *h = app->cfg->host;
        bool v6 = strchr(h, ':') != NULL;
        qg_buf_printf(out, "http://%s%s%s:%d", v6 ? "[" : "", h, v6 ? "]" : "",
                      gw_server_port(app->server));
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
