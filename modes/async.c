/*
 * async: accept the statement, store it as a queued job, answer at once
 * with a status handle; a worker runs it later (the job engine,
 * modes/job.h: mode_job_accept; modes/job_accept.c has the sequence).
 *
 * AsterixDB compiles an async statement before it accepts it, so a syntax
 * error is a 400 with no handle: the engine checks every statement on the
 * checker pool, commits the job record (state queued) through the store
 * writer, which groups the submissions that arrive together into one
 * fsync, and only after that commit does the client get
 *   {"requestID", ["clientContextID"], "handle": "<base>/query/service/status/N-0",
 *    "plans": {}, "status": "running", "metrics": {...}}
 * and the job go to the pool. A submission that cannot be stored gets an
 * error and no handle. --max-queued bounds the jobs accepted and not yet
 * started (including those being checked or committed): beyond it, 503 with
 * Retry-After, before anything is done. The timeout of an async job counts
 * from when a worker starts it.
 *
 * wait=D holds the request after the commit until the job ends (then it is
 * answered as deferred mode would answer: the result handle, or the
 * failure, with the statusHandle) or D passes (then the answer above, or
 * with on_wait_timeout=cancel the job is stopped as timed out and the
 * request gets that). A submission with an Idempotency-Key that names a
 * stored job with the same fingerprint is answered from that job and runs
 * nothing; the key is written with the job's record (store/idem.h).
 */
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "gateway/allow.h"
#include "gateway/base.h"
#include "gateway/reply.h"
#include "gateway/url.h"
#include "modes/doc.h"
#include "modes/job.h"
#include "modes/mode.h"

/* Whether a callback to url may not be made (err says why): callbacks
 * off, https, or a host --callback-allow does not list. */
static bool
callback_refused(mode_env *env, const char *url, qg_error *err)
{
    gw_url u;
    char why[400];
    if (!env->callback_allow || env->callback_allow->n == 0) {
        qg_error_set(err, QG_E_CALLBACK_REFUSED, "callbacks are off (--callback-allow is empty)");
        return true;
    }
    if (gw_url_parse(url, strlen(url), &u) != 0) {
        qg_error_set(err, QG_E_PARAM, "callback_url", "?");
        return true;
    }
    if (u.https) {
        qg_error_set(err, QG_E_CALLBACK_REFUSED, "only http:// callback URLs are supported");
        return true;
    }
    if (!gw_allow_match(env->callback_allow, u.host, u.port)) {
        snprintf(why, sizeof(why), "%s%s%s port %d is not allowed by --callback-allow",
                 u.ipv6 ? "[" : "", u.host, u.ipv6 ? "]" : "", u.port);
        qg_error_set(err, QG_E_CALLBACK_REFUSED, why);
        return true;
    }
    return false;
}

void
mode_async_start(mode_env *env, gw_req *req, qg_query *q, const char *request_id)
{
    qg_buf base = QG_BUF_INIT;
    qg_error err;
    if (gw_base_url(req, env->handles, &base, &err) != 0) {
        qg_buf_free(&base);
        qg_query_free(q);
        gw_reply_error(req, &err, request_id);
        return;
    }
    if (q->callback_url && callback_refused(env, q->callback_url, &err)) {
        qg_buf_free(&base);
        qg_query_free(q);
        gw_reply_error(req, &err, request_id);
        return;
    }
    /* a retry of a submission that was stored: its job answers */
    if (mode_job_replayed(env, req, q, base.data, mode_doc_answer) != 0) {
        qg_buf_free(&base);
        qg_query_free(q);
        return;
    }
    mode_job_init in = {
        .request_id = request_id,
        .base = base.data,
        .recv_ns = req->start_ns,
        .principal = req->principal,
        .req = req,
        .answer = mode_doc_answer,
    };
    mode_job *j = mode_job_new(env, q, &in);
    qg_buf_free(&base);
    mode_job_accept(j);
}
