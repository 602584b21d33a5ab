/* base: the public base URL of handles (see base.h). */
#include "gateway/base.h"

#include <string.h>

int
gw_host_valid(const char *s, size_t n)
{
    if (n == 0 || n > 255)
        return 0;
    size_t i = 0;
    if (s[0] == '[') {
        /* [IPv6] */
        i = 1;
        while (i < n && s[i] != ']') {
            char c = s[i];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                  c == ':' || c == '.'))
                return 0;
            i++;
        }
        if (i == n || i == 1)
            return 0;
        i++;
    } else {
        /* name or IPv4: letters, digits, '-', '.', '_' */
        while (i < n && s[i] != ':') {
            char c = s[i];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  c == '-' || c == '.' || c == '_'))
                return 0;
            i++;
        }
        if (i == 0)
            return 0;
    }
    if (i == n)
        return 1;
    if (s[i] != ':' || i + 1 == n || n - i - 1 > 5)
        return 0;
    for (i++; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

int
gw_base_url(gw_req *req, const qg_app *app, qg_buf *out, qg_error *err)
{
    const char *pub = app->cfg->public_url;
    if (pub && *pub) {
        size_t n = strlen(pub);
        while (n > 0 && pub[n - 1] == '/')
            n--;
        qg_buf_add(out, pub, n);
        return 0;
    }
    const char *host = gw_req_header(req, "Host");
    if (!host) {
        const char *h = app->cfg->host;
        bool v6 = strchr(h, ':') != NULL;
        qg_buf_printf(out, "http://%s%s%s:%d", v6 ? "[" : "", h, v6 ? "]" : "",
                      gw_server_port(app->server));
        return 0;
    }
    if (!gw_host_valid(host, strlen(host)))
        return qg_error_set(err, QG_E_BAD_REQUEST, "invalid Host header");
    qg_buf_addlit(out, "http://");
    qg_buf_adds(out, host);
    return 0;
}
