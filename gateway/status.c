/*
 * status: GET and DELETE /query/service/status/N-M.
 *
 * GET reads the job's record in one short read transaction on the loop:
 *   queued or running   200 {"status":"running"}
 *   success             200 {"status":"success","handle":"<base>/query/service/result/N-M"}
 *                       (404 when the job has no set M)
 *   failed / timeout    200 {"status":"failed"|"timeout","errors":[...]}
 * Unknown or expired: 404; malformed handle: 400; both with empty bodies.
 * DELETE cancels the job if it is queued or running here (200; it then
 * reports failed with ASX0041), else 404. With authentication on, only the
 * principal that submitted a job sees it; to anyone else it is 404.
 */
#include <string.h>

#include "core/clock.h"
#include "core/envelope.h"
#include "core/json.h"
#include "gateway/base.h"
#include "gateway/handle.h"
#include "gateway/reply.h"
#include "gateway/routes.h"
#include "modes/registry.h"
#include "store/jobs.h"

void
gw_status(gw_req *req, qg_app *app)
{
    const char *h = req->path + sizeof("/query/service/status/") - 1;
    uint64_t job;
    uint32_t set;
    if (gw_handle_parse(h, strlen(h), &job, &set) != 0) {
        gw_reply_empty(req, 400);
        return;
    }
    if (req->method == GW_M_DELETE) {
        bool done = mode_registry_cancel_job(app->running, req->principal, job);
        gw_reply_empty(req, done ? 200 : 404);
        return;
    }
    qg_error err;
    store_job j;
    store_job_init(&j);
    int found = store_jobs_read(app->store, job, &j, &err);
    if (found < 0) {
        store_job_free(&j);
        gw_reply_error(req, &err, NULL);
        return;
    }
    /* with authentication, another principal's job is as good as absent */
    bool theirs = app->auth && (!req->principal || strcmp(req->principal, j.principal) != 0);
    if (found == 0 || theirs || (j.expires_ns && j.expires_ns <= qg_wall_ns()) ||
        (j.state == STORE_SUCCESS && set >= j.nsets)) {
        store_job_free(&j);
        gw_reply_empty(req, 404);
        return;
    }
    qg_buf b = QG_BUF_INIT;
    switch (j.state) {
    case STORE_QUEUED:
    case STORE_RUNNING:
        qg_buf_addlit(&b, "{\"status\":\"running\"}\n");
        break;
    case STORE_SUCCESS: {
        qg_buf base = QG_BUF_INIT;
        if (gw_base_url(req, app, &base, &err) != 0) {
            qg_buf_free(&base);
            qg_buf_free(&b);
            store_job_free(&j);
            gw_reply_error(req, &err, NULL);
            return;
        }
        char hs[GW_HANDLE_MAX_TEXT];
        gw_handle_format(job, set, hs);
        qg_buf_addlit(&b, "{\"status\":\"success\",\"handle\":\"");
        qg_json_escape(&b, base.data, base.len);
        qg_buf_printf(&b, "/query/service/result/%s\"}\n", hs);
        qg_buf_free(&base);
        break;
    }
    case STORE_FAILED:
    case STORE_TIMEOUT:
        qg_buf_printf(&b, "{\"status\":\"%s\",", store_state_name(j.state));
        qg_env_errors(&b, &j.error);
        qg_buf_addlit(&b, "}\n");
        break;
    }
    store_job_free(&j);
    gw_reply_json(req, 200, &b);
    qg_buf_free(&b);
}
