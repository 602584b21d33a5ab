/*
 * deferred: run the statement now, store its result, answer with a handle.
 *
 * The request waits while a worker runs the job (modes/job.c): the job is
 * created in the store directly as running, its result sets are stored as
 * pages, and the answer is "handle": "<base>/query/service/result/N-0" with
 * no results and resultCount 0, or the error document immediate mode would
 * have sent when it failed. The deadline of timeout counts from the
 * request's arrival. A client that goes away does not stop the job.
 * With an Idempotency-Key, a retry of a stored submission is answered from
 * the first job (modes/job.c) and runs nothing.
 */
#include <stdio.h>

#include "core/mem.h"
#include "gateway/base.h"
#include "gateway/reply.h"
#include "modes/job.h"
#include "modes/mode.h"

static void
on_gone(gw_req *req)
{
    mode_job *j = gw_req_data(req);
    j->req = NULL;
}

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
    if (mode__job_idem_check(env, req, q, base.data) != 0) {
        qg_buf_free(&base);
        qg_query_free(q);
        return;
    }
    q->handle_base = qg_arena_memdup0(&q->arena, base.data, base.len);
    mode_job *j = mode__job_new(env, q, request_id, base.data, req->start_ns);
    qg_buf_free(&base);
    j->answers = true;
    snprintf(j->rec.principal, sizeof(j->rec.principal), "%s",
             req->principal ? req->principal : "");
    if (j->q.timeout_ns)
        j->t.deadline_ns = req->start_ns + j->q.timeout_ns;
    j->req = req;
    gw_req_on_gone(req, on_gone, j);
    mode__job_submit(j);
}
