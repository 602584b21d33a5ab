/* proxy: trusted proxies and forwarded headers (see proxy.h). */
#include "gateway/proxy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

static void
trim(const char **s, size_t *n)
{
    while (*n && isspace((unsigned char)**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

/* Parses an IP address (no brackets) into family/addr; v4-mapped v6 becomes
 * v4. */
static bool
parse_ip(const char *s, size_t n, int *family, unsigned char addr[16])
{
    char buf[64];
    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    memset(addr, 0, 16);
    if (inet_pton(AF_INET, buf, addr) == 1) {
        *family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, buf, addr) == 1) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(addr, mapped, 12) == 0) {
            memmove(addr, addr + 12, 4);
            memset(addr + 4, 0, 12);
            *family = AF_INET;
        } else {
            *family = AF_INET6;
        }
        return true;
    }
    return false;
}

int
gw_proxies_parse(const char *list, gw_proxies *out, char *err, size_t errlen)
{
    out->v = NULL;
    out->n = 0;
    const char *p = list ? list : "";
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        const char *item = p;
        size_t len = n;
        p += n + (comma ? 1 : 0);
        trim(&item, &len);
        if (len == 0)
            continue;
        gw_cidr c = {0};
        const char *slash = memchr(item, '/', len);
        size_t iplen = slash ? (size_t)(slash - item) : len;
        bool ok = parse_ip(item, iplen, &c.family, c.addr);
        int max = c.family == AF_INET ? 32 : 128;
        c.bits = max;
        if (ok && slash) {
            char *end;
            char bits[8] = {0};
            size_t bl = len - iplen - 1;
            if (bl == 0 || bl >= sizeof(bits)) {
                ok = false;
            } else {
                memcpy(bits, slash + 1, bl);
                long b = strtol(bits, &end, 10);
                ok = *end == '\0' && isdigit((unsigned char)bits[0]) && b >= 0 && b <= max;
                c.bits = (int)b;
            }
        }
        if (!ok) {
            snprintf(err, errlen, "--trusted-proxies: '%.*s' is not an address or CIDR",
                     (int)(len > 60 ? 60 : len), item);
            gw_proxies_free(out);
            return -1;
        }
        out->v = qg_realloc(out->v, (out->n + 1) * sizeof(gw_cidr));
        out->v[out->n++] = c;
    }
    return 0;
}

void
gw_proxies_free(gw_proxies *p)
{
    free(p->v);
    p->v = NULL;
    p->n = 0;
}

static bool
in_cidr(const gw_cidr *c, int family, const unsigned char *addr)
{
    if (c->family != family)
        return false;
    int full = c->bits / 8, rest = c->bits % 8;
    if (memcmp(c->addr, addr, (size_t)full) != 0)
        return false;
    if (rest) {
        unsigned char mask = (unsigned char)(0xFF << (8 - rest));
        if ((c->addr[full] & mask) != (addr[full] & mask))
            return false;
    }
    return true;
}

static bool
trusted(const gw_proxies *p, int family, const unsigned char *addr)
{
    for (size_t i = 0; i < p->n; i++)
        if (in_cidr(&p->v[i], family, addr))
            return true;
    return false;
}

bool
gw_proxies_trust(const gw_proxies *p, const struct sockaddr *sa)
{
    if (!p || p->n == 0 || !sa)
        return false;
    unsigned char addr[16] = {0};
    if (sa->sa_family == AF_INET) {
        memcpy(addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return trusted(p, AF_INET, addr);
    }
    if (sa->sa_family == AF_INET6) {
        char text[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, text, sizeof(text));
        return gw_proxies_trust_text(p, text, strlen(text));
    }
    return false;
}

bool
gw_proxies_trust_text(const gw_proxies *p, const char *ip, size_t n)
{
    int family;
    unsigned char addr[16];
    if (!p || p->n == 0 || !parse_ip(ip, n, &family, addr))
        return false;
    return trusted(p, family, addr);
}

/* One X-Forwarded-For element: an address, maybe [v6], maybe with :port. */
static bool
xff_address(const char *s, size_t n, const char **ip, size_t *iplen)
{
    trim(&s, &n);
    int family;
    unsigned char addr[16];
    if (n >= 2 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close)
            return false;
        s++;
        n = (size_t)(close - s);
    } else if (memchr(s, '.', n)) {
        const char *colon = memchr(s, ':', n);
        if (colon)
            n = (size_t)(colon - s);
    }
    if (!parse_ip(s, n, &family, addr))
        return false;
    *ip = s;
    *iplen = n;
    return true;
}

bool
gw_forwarded_client(const gw_proxies *p, const char *xff, char *out, size_t n)
{
    if (!xff)
        return false;
    size_t len = strlen(xff);
    const char *last_ip = NULL;
    size_t last_len = 0;
    while (len > 0) {
        const char *comma = NULL;
        for (size_t i = len; i > 0; i--)
            if (xff[i - 1] == ',') {
                comma = xff + i - 1;
                break;
            }
        const char *item = comma ? comma + 1 : xff;
        size_t ilen = len - (size_t)(item - xff);
        const char *ip;
        size_t iplen;
        if (!xff_address(item, ilen, &ip, &iplen))
            break; /* garbage: believe nothing further left */
        last_ip = ip;
        last_len = iplen;
        if (!gw_proxies_trust_text(p, ip, iplen))
            break;
        len = comma ? (size_t)(comma - xff) : 0;
    }
    if (!last_ip || last_len + 1 > n)
        return false;
    memcpy(out, last_ip, last_len);
    out[last_len] = '\0';
    return true;
}

bool
gw_valid_proto(const char *p, size_t n)
{
    return (n == 4 && strncasecmp(p, "http", 4) == 0) ||
           (n == 5 && strncasecmp(p, "https", 5) == 0);
}

bool
gw_valid_host(const char *h, size_t n)
{
    if (n == 0 || n > 255)
        return false;
    size_t i = 0;
    if (h[0] == '[') {
        const char *close = memchr(h, ']', n);
        int family;
        unsigned char addr[16];
        if (!close || !parse_ip(h + 1, (size_t)(close - h - 1), &family, addr) ||
            family != AF_INET6)
            return false;
        i = (size_t)(close - h) + 1;
    } else {
        size_t start = i;
        while (i < n && (isalnum((unsigned char)h[i]) || h[i] == '-' || h[i] == '.'))
            i++;
        if (i == start || h[start] == '-' || h[start] == '.')
            return false;
    }
    if (i == n)
        return true;
    if (h[i] != ':' || n - i - 1 < 1 || n - i - 1 > 5)
        return false;
    for (i++; i < n; i++)
        if (!isdigit((unsigned char)h[i]))
            return false;
    return true;
}

/* Copies a Forwarded pair's value (quoted-string or token) into out. */
static bool
fwd_value(const char *v, size_t n, char *out, size_t cap)
{
    trim(&v, &n);
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        v++;
        n -= 2;
    }
    if (n == 0 || n >= cap)
        return false;
    memcpy(out, v, n);
    out[n] = '\0';
    return true;
}

/* The for= of one Forwarded element elem[0..n): whether it names a trusted
 * proxy. */
static bool
element_from_proxy(const gw_proxies *p, const char *elem, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        bool quoted = false;
        while (j < n && (elem[j] != ';' || quoted)) {
            if (elem[j] == '"')
                quoted = !quoted;
            j++;
        }
        const char *pair = elem + i;
        size_t plen = j - i;
        trim(&pair, &plen);
        if (plen > 4 && strncasecmp(pair, "for=", 4) == 0) {
            const char *v = pair + 4;
            size_t vn = plen - 4;
            if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"')
                v++, vn -= 2;
            const char *ip;
            size_t iplen;
            return xff_address(v, vn, &ip, &iplen) && gw_proxies_trust_text(p, ip, iplen);
        }
        i = j + 1;
    }
    return false;
}

void
gw_forwarded_parse(const char *fwd, const gw_proxies *p, char proto[8], char host[256],
                   const char **proto_out, const char **host_out)
{
    *proto_out = NULL;
    *host_out = NULL;
    if (!fwd)
        return;
    /* The elements, split at commas outside quotes; the one to believe is
     * found from the right: the last one was written by the proxy that
     * sent the request, and so on leftwards while an element's for= is
     * itself a trusted proxy. Whatever lies further left, a client wrote. */
    size_t len = strlen(fwd), ncommas = 0, *commas = NULL;
    bool quoted = false;
    for (size_t k = 0; k < len; k++) {
        if (fwd[k] == '"') {
            quoted = !quoted;
        } else if (fwd[k] == ',' && !quoted) {
            commas = qg_realloc(commas, (ncommas + 1) * sizeof(*commas));
            commas[ncommas++] = k;
        }
    }
    size_t start = ncommas ? commas[ncommas - 1] + 1 : 0, end = len;
    while (ncommas > 0 && element_from_proxy(p, fwd + start, end - start)) {
        end = commas[--ncommas];
        start = ncommas ? commas[ncommas - 1] + 1 : 0;
    }
    free(commas);
    size_t i = start;
    while (i < end) {
        size_t j = i;
        quoted = false;
        while (j < end && (fwd[j] != ';' || quoted)) {
            if (fwd[j] == '"')
                quoted = !quoted;
            j++;
        }
        const char *pair = fwd + i;
        size_t plen = j - i;
        trim(&pair, &plen);
        const char *eq = memchr(pair, '=', plen);
        if (eq) {
            size_t klen = (size_t)(eq - pair);
            const char *val = eq + 1;
            size_t vlen = plen - klen - 1;
            if (klen == 5 && strncasecmp(pair, "proto", 5) == 0 &&
                fwd_value(val, vlen, proto, 8) && gw_valid_proto(proto, strlen(proto)))
                *proto_out = proto;
            else if (klen == 4 && strncasecmp(pair, "host", 4) == 0 &&
                     fwd_value(val, vlen, host, 256) && gw_valid_host(host, strlen(host)))
                *host_out = host;
        }
        i = j + 1;
    }
}

bool
gw_host_is_loopback(const char *host)
{
    if (!host)
        return false;
    if (strcasecmp(host, "localhost") == 0)
        return true;
    int family;
    unsigned char addr[16];
    if (!parse_ip(host, strlen(host), &family, addr))
        return false;
    static const unsigned char v6_loopback[16] = {[15] = 1};
    return family == AF_INET ? addr[0] == 127 : memcmp(addr, v6_loopback, 16) == 0;
}
