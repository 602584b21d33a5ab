/*
 * status: GET and DELETE /query/service/status/N-M.
 *
 * GET reads the job (its record, query part and statements, from one state
 * of the store, and, when it is queued or running here, what its worker is
 * doing: the job engine's mode_job_view_read) and answers with AsterixDB's
 * status document (modes/doc.h):
 *   queued or running   200 {"status":"running", ...}
 *   success             200 {"status":"success","handle":"<base>/query/service/result/N-M", ...}
 *                       (404 when the job has no set M)
 *   failed / timeout    200 {"status":"failed"|"timeout","errors":[...], ...}
 * Unknown or expired: 404; malformed handle: 400; both with empty bodies.
 * DELETE cancels the job if it is queued or running here (200: it then
 * ends failed with ASX0041, whatever else was under way), 409 ASX0917 when
 * it was already committing its own end (its status has the outcome),
 * else 404. With authentication on, only the principal that submitted a
 * job sees it; to anyone else it is 404.
 */
#include "api/api.h"
#include "api/internal.h"
#include "core/clock.h"
#include "gateway/base.h"
#include "gateway/reply.h"
#include "modes/doc.h"
#include "modes/job.h"

static void
cancel(gw_req *req, api_env *env, uint64_t job)
{
    int done = mode_job_cancel(env->modes, job, req->principal);
    if (done < 0) {
        /* it was committing its own end: the cancel did not stop it */
        qg_error err;
        qg_error_set(&err, QG_E_CONFLICT,
                     "the job had already finished when the cancel arrived; GET its status "
                     "for its outcome");
        gw_reply_error(req, &err, NULL);
        return;
    }
    if (done)
        gw_reply_empty(req, 200);
    else
        api__not_found(req, JOB_GONE);
}

void
api_status(gw_req *req, void *arg)
{
    api_env *env = arg;
    uint64_t job;
    uint32_t set;
    if (api__handle_of(req, &job, &set) != 0)
        return;
    if (req->method == GW_M_DELETE) {
        cancel(req, env, job);
        return;
    }
    qg_error err;
    mode_job_view v;
    qg_buf base = QG_BUF_INIT, b = QG_BUF_INIT;
    uint64_t now = qg_wall_ns();
    int found = mode_job_view_read(env->modes, job, req->principal, now, &v, &err);
    if (found < 0) {
        gw_reply_error(req, &err, NULL);
        goto out;
    }
    if (found == 0 || (v.job.state == STORE_SUCCESS && set >= v.job.nsets)) {
        api__not_found(req, JOB_GONE);
        goto out;
    }
    if (gw_base_url(req, env->modes->handles, &base, &err) != 0) {
        gw_reply_error(req, &err, NULL);
        goto out;
    }
    mode_doc_status d = {
        .job = &v.job,
        .q = &v.q,
        .stmts = v.stmts,
        .nstmts = v.nstmts,
        .live = v.live ? &v.progress : NULL,
        .base = base.data,
        .base_len = base.len,
        .set = set,
        .now_wall = now,
    };
    /* most documents fit without regrowing, in a block small enough for
     * malloc's per-thread cache (1,024 bytes in all) */
    qg_buf_reserve(&b, 1000);
    mode_doc_status_write(&b, &d);
    gw_reply_json(req, 200, &b);
out:
    mode_job_view_free(&v);
    qg_buf_free(&base);
    qg_buf_free(&b);
}
