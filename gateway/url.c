/* url: parsing callback URLs (see url.h). */
#include "gateway/url.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "gateway/proxy.h"

static bool
prefix_ci(const char *s, size_t n, const char *lit)
{
    size_t m = strlen(lit);
    if (n < m)
        return false;
    for (size_t i = 0; i < m; i++)
        if (tolower((unsigned char)s[i]) != lit[i])
            return false;
    return true;
}

int
gw_url_parse(const char *s, size_t n, gw_url *u)
{
    memset(u, 0, sizeof(*u));
    if (n == 0 || n > GW_URL_MAX)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f || c == '#')
            return -1;
    }
    size_t i;
    if (prefix_ci(s, n, "http://")) {
        i = 7;
    } else if (prefix_ci(s, n, "https://")) {
        u->https = true;
        i = 8;
    } else {
        return -1;
    }
    size_t a = i;
    while (i < n && s[i] != '/' && s[i] != '?')
        i++;
    const char *auth = s + a;
    size_t an = i - a;
    if (an == 0 || memchr(auth, '@', an) || !gw_valid_host(auth, an))
        return -1;
    /* host and port: gw_valid_host has checked the shape */
    size_t hn = an;
    const char *colon = NULL;
    if (auth[0] == '[') {
        const char *close = memchr(auth, ']', an);
        hn = (size_t)(close - auth) + 1;
        if (hn < an)
            colon = auth + hn;
        u->ipv6 = true;
        memcpy(u->host, auth + 1, hn - 2);
        u->host[hn - 2] = '\0';
    } else {
        colon = memchr(auth, ':', an);
        if (colon)
            hn = (size_t)(colon - auth);
        for (size_t k = 0; k < hn; k++)
            u->host[k] = (char)tolower((unsigned char)auth[k]);
        u->host[hn] = '\0';
    }
    u->port = u->https ? 443 : 80;
    if (colon) {
        int port = 0;
        for (const char *p = colon + 1; p < auth + an; p++)
            port = port * 10 + (*p - '0');
        if (port < 1 || port > 65535)
            return -1;
        u->port = port;
        u->port_given = true;
    }
    if (i < n) {
        u->target = s + i;
        u->target_len = n - i;
    } else {
        u->target = "/";
        u->target_len = 1;
    }
    return 0;
}

void
gw_url_host_header(const gw_url *u, char *out, size_t size)
{
    if (u->port_given)
        snprintf(out, size, "%s%s%s:%d", u->ipv6 ? "[" : "", u->host, u->ipv6 ? "]" : "", u->port);
    else
        snprintf(out, size, "%s%s%s", u->ipv6 ? "[" : "", u->host, u->ipv6 ? "]" : "");
}
