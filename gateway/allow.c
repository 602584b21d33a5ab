/* allow: the callback host allow-list (see allow.h). */
#include "gateway/allow.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

/* A DNS name: labels of letters, digits and '-' (not at either end of a
 * label), separated by dots. */
static bool
dns_name(const char *s, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return false;
            label = 0;
        } else if (isalnum((unsigned char)c) || (c == '-' && label > 0)) {
            if (++label > 63)
                return false;
        } else {
            return false;
        }
    }
    return label > 0 && s[n - 1] != '-';
}

static bool
parse_addr(const char *s, size_t n, int *family, unsigned char addr[16])
{
    char tmp[64];
    if (n == 0 || n >= sizeof(tmp))
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (inet_pton(AF_INET, tmp, addr) == 1) {
        *family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, tmp, addr) == 1) {
        *family = AF_INET6;
        return true;
    }
    return false;
}

static int
parse_one(const char *s, size_t n, gw_hostpat *p)
{
    memset(p, 0, sizeof(*p));
    p->port = 80;
    /* the port: after the last ':' outside brackets */
    const char *close = n && s[0] == '[' ? memchr(s, ']', n) : NULL;
    const char *after = close ? close + 1 : s;
    const char *colon = memchr(after, ':', n - (size_t)(after - s));
    if (s[0] == '[' && !close)
        return -1;
    if (!close && colon && memchr(colon + 1, ':', n - (size_t)(colon + 1 - s)))
        return -1; /* a bare IPv6 address: it needs brackets */
    size_t hn = colon ? (size_t)(colon - s) : n;
    if (colon) {
        const char *ps = colon + 1;
        size_t pn = n - (size_t)(ps - s);
        if (pn == 1 && ps[0] == '*') {
            p->port = -1;
        } else {
            if (pn == 0 || pn > 5)
                return -1;
            int port = 0;
            for (size_t i = 0; i < pn; i++) {
                if (!isdigit((unsigned char)ps[i]))
                    return -1;
                port = port * 10 + (ps[i] - '0');
            }
            if (port < 1 || port > 65535)
                return -1;
            p->port = port;
        }
    }
    if (close) {
        if (close != s + hn - 1 || !parse_addr(s + 1, hn - 2, &p->family, p->addr) ||
            p->family != AF_INET6)
            return -1;
        return 0;
    }
    if (hn == 1 && s[0] == '*') {
        p->any_host = true;
        return 0;
    }
    if (hn > 2 && s[0] == '*' && s[1] == '.') {
        if (!dns_name(s + 2, hn - 2))
            return -1;
        p->suffix = true;
        for (size_t i = 1; i < hn; i++)
            p->host[i - 1] = (char)tolower((unsigned char)s[i]);
        p->host[hn - 1] = '\0';
        return 0;
    }
    if (parse_addr(s, hn, &p->family, p->addr)) {
        if (p->family == AF_INET6)
            return -1; /* IPv6 needs brackets (the port would be ambiguous) */
        return 0;
    }
    if (!dns_name(s, hn))
        return -1;
    for (size_t i = 0; i < hn; i++)
        p->host[i] = (char)tolower((unsigned char)s[i]);
    p->host[hn] = '\0';
    return 0;
}

int
gw_allow_parse(const char *list, gw_allow *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (!list)
        return 0;
    const char *s = list;
    for (;;) {
        while (*s == ' ' || *s == '\t')
            s++;
        size_t n = strcspn(s, ",");
        size_t m = n;
        while (m > 0 && (s[m - 1] == ' ' || s[m - 1] == '\t'))
            m--;
        if (m > 0) {
            out->v = qg_realloc(out->v, sizeof(gw_hostpat) * (out->n + 1));
            if (parse_one(s, m, &out->v[out->n]) != 0) {
                snprintf(err, errlen,
                         "--callback-allow: '%.*s' is not a host pattern (host, *.domain, "
                         "IPv4, [IPv6] or *, with :port or :* after it)",
                         (int)(m > 200 ? 200 : m), s);
                gw_allow_free(out);
                return -1;
            }
            out->n++;
        }
        if (s[n] != ',')
            break;
        s += n + 1;
    }
    return 0;
}

void
gw_allow_free(gw_allow *a)
{
    free(a->v);
    a->v = NULL;
    a->n = 0;
}

bool
gw_allow_match(const gw_allow *a, const char *host, int port)
{
    int family = 0;
    unsigned char addr[16];
    bool is_addr = parse_addr(host, strlen(host), &family, addr);
    size_t hn = strlen(host);
    for (size_t i = 0; i < a->n; i++) {
        const gw_hostpat *p = &a->v[i];
        if (p->port != -1 && p->port != port)
            continue;
        if (p->any_host)
            return true;
        if (p->family) {
            if (is_addr && family == p->family &&
                memcmp(addr, p->addr, family == AF_INET ? 4 : 16) == 0)
                return true;
            continue;
        }
        if (is_addr)
            continue;
        size_t pn = strlen(p->host);
        if (p->suffix) {
            if (hn > pn && strcasecmp(host + hn - pn, p->host) == 0)
                return true;
        } else if (strcasecmp(host, p->host) == 0) {
            return true;
        }
    }
    return false;
}
