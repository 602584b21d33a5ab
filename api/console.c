/*
 * console: GET /console, a page for people, and its files under
 * /console/<name> (api/assets.h: embedded in the binary).
 *
 * The page calls qgate with relative URLs only (query/service, ...), so it
 * works wherever /console is reached: directly, behind nginx, and behind a
 * path prefix (/n2/console calls /n2/query/service). It needs no token to
 * load (it holds no data); each call it makes carries the token the person
 * typed. /console/ is redirected to ../console, the one address the
 * relative URLs are written for.
 *
 * Every file goes out with a Content-Security-Policy that allows nothing
 * but this origin's files and calls (no inline script or style, no
 * framing, no form posts elsewhere), nosniff, no referrer, and an ETag
 * with Cache-Control: no-cache: browsers keep a copy and ask each time
 * whether it is still current (304). Loop thread.
 */
#include <string.h>

#include "api/api.h"
#include "api/assets.h"
#include "gateway/reply.h"

#define CSP                                                                                        \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "                    \
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "                 \
    "frame-ancestors 'none'"

static const char *
content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
    };
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        size_t k = strlen(types[i].ext);
        if (n > k && strcmp(name + n - k, types[i].ext) == 0)
            return types[i].type;
    }
    return "application/octet-stream";
}

static const api_asset *
find(const char *name)
{
    for (size_t i = 0; i < api_console_nassets; i++)
        if (strcmp(api_console_assets[i].name, name) == 0)
            return &api_console_assets[i];
    return NULL;
}

/* Whether If-None-Match (a list of entity tags, or *) names etag. */
static bool
not_modified(const char *inm, const char *etag)
{
    if (!inm)
        return false;
    while (*inm == ' ')
        inm++;
    return strcmp(inm, "*") == 0 || strstr(inm, etag) != NULL;
}

void
api_console(gw_req *req, void *arg)
{
    (void)arg;
    const char *path = req->path, *name = NULL;
    if (strcmp(path, "/console") == 0)
        name = "index.html";
    else if (strcmp(path, "/console/") == 0) {
        const gw_header to = {"Location", "../console"};
        gw_reply(req, 301, NULL, NULL, 0, &to, 1);
        return;
    } else if (strncmp(path, "/console/", 9) == 0)
        name = path + 9;
    const api_asset *a = name ? find(name) : NULL;
    if (!a) {
        qg_error err;
        qg_error_set(&err, QG_E_NOT_FOUND);
        gw_reply_error(req, &err, NULL);
        return;
    }
    const gw_header h[] = {
        {"ETag", a->etag},
        {"Cache-Control", "no-cache"},
        {"Content-Security-Policy", CSP},
        {"X-Content-Type-Options", "nosniff"},
        {"X-Frame-Options", "DENY"},
        {"Referrer-Policy", "no-referrer"},
        {"Cross-Origin-Opener-Policy", "same-origin"},
        {"Cross-Origin-Resource-Policy", "same-origin"},
    };
    size_t nh = sizeof(h) / sizeof(h[0]);
    if (not_modified(gw_req_header(req, "If-None-Match"), a->etag)) {
        gw_reply(req, 304, NULL, NULL, 0, h, nh);
        return;
    }
    gw_reply(req, 200, content_type(a->name), a->data, a->len, h, nh);
}
