/*
 * deferred: run the statement now, store its result, answer with a handle.
 *
 * The request waits while a worker runs the job (the job engine,
 * modes/job.h: mode_job_run_now): the job is created in the store directly
 * as running, its result sets are stored as pages, and the answer is
 * "handle": "<base>/query/service/result/N-0" with no results and
 * resultCount 0, or the error document immediate mode would have sent when
 * it failed (modes/doc.c). The deadline of timeout counts from the
 * request's arrival. A client that goes away does not stop the job. With
 * an Idempotency-Key, a retry of a stored submission is answered from the
 * first job and runs nothing.
 */
#include "core/buf.h"
#include "gateway/base.h"
#include "gateway/reply.h"
#include "modes/doc.h"
#include "modes/job.h"
#include "modes/mode.h"

void
mode_deferred_start(mode_env *env, gw_req *req, qg_query *q, const char *request_id)
{
    qg_buf base = QG_BUF_INIT;
    qg_error err;
    if (gw_base_url(req, env->handles, &base, &err) != 0) {
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
    mode_job_run_now(j);
}
