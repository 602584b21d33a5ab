/* cors: the --cors-origins allow-list (see cors.h). */
#include "gateway/cors.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"
#include "gateway/proxy.h"

/* scheme://host[:port], scheme http or https, host as gw_valid_host
 * allows, nothing after it. */
static bool
valid_origin(const char *s, size_t n)
{
    size_t k;
    if (n > 7 && strncmp(s, "http://", 7) == 0)
        k = 7;
    else if (n > 8 && strncmp(s, "https://", 8) == 0)
        k = 8;
    else
        return false;
    return gw_valid_host(s + k, n - k);
}

int
gw_cors_parse(const char *list, gw_cors *out, char *err, size_t errlen)
{
    out->v = NULL;
    out->n = 0;
    const char *p = list ? list : "";
    while (*p) {
        size_t n = strcspn(p, ",");
        const char *item = p;
        p += n + (p[n] == ',');
        while (n && isspace((unsigned char)*item))
            item++, n--;
        while (n && isspace((unsigned char)item[n - 1]))
            n--;
        if (n == 0)
            continue;
        char *o = qg_strndup(item, n);
        for (char *c = o; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        const char *why = NULL;
        if (strcmp(o, "null") == 0)
            why = "any page can send Origin: null (file:// pages, sandboxed frames)";
        else if (strcmp(o, "*") == 0)
            why = "that is every web page; list the origins of your pages";
        else if (!valid_origin(o, n))
            why = "an origin is scheme://host[:port], e.g. https://app.example.com";
        if (why) {
            snprintf(err, errlen, "--cors-origins: '%.*s': %s", (int)(n > 80 ? 80 : n), item, why);
            free(o);
            gw_cors_free(out);
            return -1;
        }
        out->v = qg_realloc(out->v, (out->n + 1) * sizeof(char *));
        out->v[out->n++] = o;
    }
    return 0;
}

void
gw_cors_free(gw_cors *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i]);
    free(c->v);
    c->v = NULL;
    c->n = 0;
}

gw_cors_verdict
gw_cors_check(const gw_cors *c, const char *origin, const char *host)
{
    if (!origin)
        return GW_CORS_NONE;
    for (size_t i = 0; c && i < c->n; i++)
        if (strcmp(origin, c->v[i]) == 0)
            return GW_CORS_LISTED;
    const char *sep = strstr(origin, "://");
    if (host && *host && sep && strcasecmp(sep + 3, host) == 0 &&
        (strncmp(origin, "http://", 7) == 0 || strncmp(origin, "https://", 8) == 0))
        return GW_CORS_SAME;
    return GW_CORS_REFUSED;
}
