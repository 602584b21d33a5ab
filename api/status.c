/*
 * status: GET and DELETE /query/service/status/N-M.
 *
 * GET reads the job's record, its query part and its statements in short
 * read transactions on the loop, and, when the job is queued or running
 * here, what its worker is doing (modes/job: shared state, not the store),
 * then answers with the status document of modes/jobdoc:
 *   queued or running   200 {"status":"running", ...}
 *   success             200 {"status":"success","handle":"<base>/query/service/result/N-M", ...}
 *                       (404 when the job has no set M)
 *   failed / timeout    200 {"status":"failed"|"timeout","errors":[...], ...}
 * Unknown or expired: 404; malformed handle: 400; both with empty bodies.
 * DELETE cancels the job if it is queued or running here (200: it then
 * ends failed with ASX0041, whatever else was under way), 409 ASX0917 when
 * it was already committing its own end (its status has the outcome),
 * else 404. With authentication on, only the
 * principal that submitted a job sees it; to anyone else it is 404.
 */
#include <string.h>

#include "core/clock.h"
#include "gateway/base.h"
#include "gateway/handle.h"
#include "gateway/reply.h"
#include "api/api.h"
#include "modes/jobdoc.h"
#include "modes/registry.h"
#include "store/jobs.h"

void
api_status(gw_req *req, void *arg)
{
    api_env *env = arg;
    const char *h = req->path + sizeof("/query/service/status/") - 1;
    uint64_t job;
    uint32_t set;
    if (gw_handle_parse(h, strlen(h), &job, &set) != 0) {
        gw_reply_empty(req, 400);
        return;
    }
    if (req->method == GW_M_DELETE) {
        int done = mode_registry_cancel_job(env->modes->running, req->principal, job);
        if (done < 0) {
            /* it was committing its own end: the cancel did not stop it */
            qg_error err;
            qg_error_set(&err, QG_E_CONFLICT,
                         "the job had already finished when the cancel arrived; GET its status "
                         "for its outcome");
            gw_reply_error(req, &err, NULL);
            return;
        }
        gw_reply_empty(req, done ? 200 : 404);
        return;
    }
    qg_error err;
    store_job j;
    qg_query q;
    store_job_init(&j);
    qg_query_init(&q);
    store_stmt *stmts = NULL;
    size_t nstmts = 0;
    qg_buf base = QG_BUF_INIT, b = QG_BUF_INIT;
    mode_progress live;
    bool have_live = false;
    /* the job and its statements from one state of the store */
    if (store_env_snapshot_begin(env->modes->store, &err) != 0) {
        gw_reply_error(req, &err, NULL);
        goto out;
    }
    int found = store_jobs_read_query(env->modes->store, job, &j, &q, &err);
    /* with authentication, another principal's job is as good as absent */
    bool theirs = env->auth && (!req->principal || strcmp(req->principal, j.principal) != 0);
    uint64_t now = qg_wall_ns();
    bool absent = found == 0 || theirs || (j.expires_ns && j.expires_ns <= now) ||
                  (j.state == STORE_SUCCESS && set >= j.nsets);
    int srd = found > 0 && !absent
                  ? store_jobs_read_stmts(env->modes->store, job, &stmts, &nstmts, &err)
                  : 0;
    store_env_snapshot_end(env->modes->store);
    if (found < 0 || srd < 0) {
        gw_reply_error(req, &err, NULL);
        goto out;
    }
    if (absent) {
        gw_reply_empty(req, 404);
        goto out;
    }
    if (gw_base_url(req, env->modes->handles, &base, &err) != 0) {
        gw_reply_error(req, &err, NULL);
        goto out;
    }
    if (store_state_active(j.state))
        have_live = mode_jobs_progress(env->modes->jobs, job, &live);
    mode_jobdoc d = {
        .job = &j,
        .q = &q,
        .stmts = stmts,
        .nstmts = nstmts,
        .live = have_live ? &live : NULL,
        .base = base.data,
        .base_len = base.len,
        .set = set,
        .now_wall = now,
    };
    /* most documents fit without regrowing, in a block small enough for
     * malloc's per-thread cache (1,024 bytes in all) */
    qg_buf_reserve(&b, 1000);
    mode_jobdoc_status(&b, &d);
    gw_reply_json(req, 200, &b);
out:
    if (have_live)
        mode_progress_free(&live);
    store_stmts_free(stmts, nstmts);
    qg_buf_free(&base);
    qg_buf_free(&b);
    qg_query_free(&q);
    store_job_free(&j);
}
