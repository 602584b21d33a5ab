/*
 * admin: /admin/requests/running. GET lists the requests in flight; DELETE
 * cancels those matching client_context_id or request_id (query string or
 * form body): 200 when something was cancelled, 404 when nothing matched,
 * 400 when neither parameter was given.
 */
#include <string.h>

#include "api/api.h"
#include "api/internal.h"
#include "api/params.h"
#include "core/arena.h"
#include "gateway/reply.h"
#include "modes/registry.h"

/* The first value of name in a url-encoded string, decoded, or NULL. */
static const char *
form_value(qg_arena *a, const char *s, size_t n, const char *name)
{
    size_t klen = strlen(name);
    size_t i = 0;
    while (s && i < n) {
        const char *amp = memchr(s + i, '&', n - i);
        size_t end = amp ? (size_t)(amp - s) : n;
        const char *eq = memchr(s + i, '=', end - i);
        size_t kend = eq ? (size_t)(eq - s) : end;
        char *key, *val;
        size_t kl, vl;
        if (api_form_decode(a, s + i, kend - i, &key, &kl) == 0 && kl == klen &&
            memcmp(key, name, klen) == 0) {
            if (!eq)
                return "";
            if (api_form_decode(a, eq + 1, end - kend - 1, &val, &vl) == 0 && strlen(val) == vl)
                return val;
            return NULL;
        }
        i = end + 1;
    }
    return NULL;
}

void
api_admin_running(gw_req *req, void *arg)
{
    api_env *env = arg;
    if (req->method == GW_M_GET) {
        qg_buf b = QG_BUF_INIT;
        mode_registry_list(env->modes->running, req->principal, &b);
        gw_reply_json(req, 200, &b);
        qg_buf_free(&b);
        return;
    }
    qg_arena a = QG_ARENA_INIT;
    const char *ctx = form_value(&a, req->query, req->query_len, "client_context_id");
    const char *rid = form_value(&a, req->query, req->query_len, "request_id");
    const char *ctype = gw_req_header(req, "Content-Type");
    if (ctype && strncasecmp(ctype, "application/x-www-form-urlencoded", 33) == 0) {
        if (!ctx)
            ctx = form_value(&a, req->body.data, req->body.len, "client_context_id");
        if (!rid)
            rid = form_value(&a, req->body.data, req->body.len, "request_id");
    }
    if (ctx && !*ctx)
        ctx = NULL;
    if (rid && !*rid)
        rid = NULL;
    bool named = ctx || rid;
    bool found = named && mode_registry_cancel(env->modes->running, req->principal, ctx, rid);
    qg_arena_free(&a);
    if (found) {
        gw_reply_empty(req, 200);
    } else if (named) {
        api__not_found(req, "no running request of yours has that client_context_id or "
                            "request_id (it may have finished already)");
    } else {
        qg_error err;
        qg_error_set(&err, QG_E_BAD_REQUEST, "say which request to cancel");
        qg_error_append(&err, ": client_context_id=<id> or request_id=<requestID>, in the "
                              "query string or a form body");
        gw_reply_error(req, &err, NULL);
    }
}
