/* result: GET/DELETE /query/service/result/N-M. */
#include <string.h>

#include "gateway/handle.h"
#include "gateway/reply.h"
#include "gateway/routes.h"

void
gw_result(gw_req *req, qg_app *app)
{
    const char *h = req->path + sizeof("/query/service/result/") - 1;
    uint64_t job;
    uint32_t set;
    if (gw_handle_parse(h, strlen(h), &job, &set) != 0) {
        gw_reply_empty(req, 400);
        return;
    }
    gw_reply_empty(req, 404);
}
