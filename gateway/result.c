/*
 * result: GET and DELETE /query/service/result/N-M.
 *
 * GET answers 404 (empty body) unless job N succeeded, has a set M with
 * reads left and has not expired. Then one read is taken in the store
 * (STORE_OP_CONSUME, committed before the first byte goes out) and the set's
 * pages are streamed, each read in its own short read transaction, one at a
 * time as the connection drains (never holding a transaction across a slow
 * client): JSON as {"results":[...],"metrics":{...}} (pretty jobs keep their
 * pretty rows), CSV as text/csv with the raw lines. The GET that took the
 * last read asks the writer to delete the pages once it has streamed them.
 * A page that vanished mid-stream (swept, discarded) ends the connection
 * without the closing bytes, so the client sees a broken body, never a
 * short valid one.
 *
 * DELETE discards the result (STORE_OP_DISCARD): 202, or 404 when there was
 * nothing to discard. With authentication on, only the principal that
 * submitted a job may read or discard its results; to anyone else they are
 * 404.
 */
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/envelope.h"
#include "core/log.h"
#include "core/mem.h"
#include "gateway/handle.h"
#include "gateway/reply.h"
#include "gateway/routes.h"
#include "store/jobs.h"
#include "store/results.h"
#include "store/writer.h"

typedef struct stream {
    qg_app *app;
    gw_req *req; /* NULL once the client is gone */
    uint64_t job;
    uint32_t set;
    uint32_t page, npages;
    bool csv, pretty;
    bool inflight; /* the consume op is in the writer */
    bool release;  /* this GET took the last read */
    qg_buf tail;
} stream;

static void
stream_free(stream *s)
{
    if (s->release) {
        store_op *op = store_op_new(STORE_OP_RELEASE);
        op->job_id = s->job;
        op->set = s->set;
        op->done = store_op_free;
        store_writer_submit(s->app->writer, op);
    }
    qg_buf_free(&s->tail);
    free(s);
}

static void
page_out(const void *data, size_t len, void *arg)
{
    gw_reply_chunk(arg, data, len);
}

/* Sends pages until the output is full or the set is done. */
static void
pump(stream *s)
{
    gw_req *req = s->req;
    while (s->page < s->npages) {
        if (gw_req_output_pending(req) >= GW_OUTPUT_HIGH) {
            gw_req_want_drain(req);
            return;
        }
        qg_error err;
        int rc = store_results_read(s->app->store, s->job, s->set, s->page, page_out, req, &err);
        if (rc != 1) {
            qg_warn("result %llu-%u: page %u is gone (%s); closing the connection",
                    (unsigned long long)s->job, s->set, s->page, rc < 0 ? err.msg : "removed");
            req->keep_alive = false;
            req->chunked = false; /* no last chunk: the body reads as cut */
            s->req = NULL;
            req->on_gone = NULL;
            gw_reply_end(req);
            stream_free(s);
            return;
        }
        s->page++;
    }
    s->req = NULL;
    req->on_gone = NULL;
    gw_reply_chunk(req, s->tail.data, s->tail.len);
    gw_reply_end(req);
    stream_free(s);
}

static void
on_drain(gw_req *req)
{
    pump(req->handler_data);
}

static void
on_gone(gw_req *req)
{
    stream *s = req->handler_data;
    s->req = NULL;
    if (!s->inflight)
        stream_free(s);
}

/* Loop: the read is taken (or there was none to take). */
static void
consumed(store_op *op)
{
    stream *s = op->arg;
    s->inflight = false;
    bool found = op->status == 0 && op->found;
    if (found) {
        const store_job *j = &op->job;
        const store_set *set = &j->sets[s->set];
        s->npages = set->pages;
        s->release = set->reads_left == 0;
        s->csv = j->format == QG_FORMAT_CSV;
        s->pretty = j->pretty;
        if (!s->csv) {
            qg_metrics m = j->metrics;
            m.result_count = set->rows;
            m.result_size = set->bytes;
            if (s->pretty)
                qg_buf_addc(&s->tail, '\n');
            qg_buf_addlit(&s->tail, "],");
            qg_env_metrics(&s->tail, &m);
            qg_buf_addlit(&s->tail, "}\n");
        }
    } else if (op->status != 0) {
        qg_warn("result %llu-%u: %s", (unsigned long long)s->job, s->set, op->err.msg);
    }
    bool csv_header = op->job.csv_header;
    store_op_free(op);
    gw_req *req = s->req;
    if (!req) {
        stream_free(s);
        return;
    }
    if (!found) {
        s->req = NULL;
        req->on_gone = NULL;
        gw_reply_empty(req, 404);
        stream_free(s);
        return;
    }
    const gw_header h = {"X-Accel-Buffering", "no"};
    if (s->csv) {
        gw_reply_start(req, 200,
                       csv_header ? "text/csv; header=present" : "text/csv; header=absent", &h, 1);
    } else {
        gw_reply_start(req, 200, GW_JSON, &h, 1);
        if (s->pretty)
            gw_reply_chunk(req, "{\"results\":[\n", 13);
        else
            gw_reply_chunk(req, "{\"results\":[", 12);
    }
    req->on_drain = on_drain;
    pump(s);
}

static void
discarded(store_op *op)
{
    gw_req *req = op->arg;
    int status = op->status == 0 && op->found ? 202 : 404;
    if (op->status != 0)
        qg_warn("discard %llu-%u: %s", (unsigned long long)op->job_id, op->set, op->err.msg);
    store_op_free(op);
    if (req) {
        req->on_gone = NULL;
        gw_reply_empty(req, status);
    }
}

static void
discard_gone(gw_req *req)
{
    store_op *op = req->handler_data;
    op->arg = NULL;
}

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
    uint64_t now = qg_wall_ns();
    /* A quick look first: unknown, unfinished, used-up and other
     * principals' results are answered without the writer. */
    qg_error err;
    store_job j;
    store_job_init(&j);
    int found = store_jobs_read(app->store, job, &j, &err);
    bool readable = found == 1 && j.state == STORE_SUCCESS && set < j.nsets &&
                    j.sets[set].reads_left > 0 && (j.expires_ns == 0 || j.expires_ns > now) &&
                    (!app->auth || (req->principal && strcmp(req->principal, j.principal) == 0));
    store_job_free(&j);
    if (found < 0) {
        gw_reply_error(req, &err, NULL);
        return;
    }
    if (!readable) {
        gw_reply_empty(req, 404);
        return;
    }
    if (req->method == GW_M_DELETE) {
        store_op *op = store_op_new(STORE_OP_DISCARD);
        op->job_id = job;
        op->set = set;
        op->now_ns = now;
        op->done = discarded;
        op->arg = req;
        req->handler_data = op;
        req->on_gone = discard_gone;
        store_writer_submit(app->writer, op);
        return;
    }
    stream *s = qg_calloc(1, sizeof(*s));
    s->app = app;
    s->req = req;
    s->job = job;
    s->set = set;
    s->inflight = true;
    req->handler_data = s;
    req->on_gone = on_gone;
    store_op *op = store_op_new(STORE_OP_CONSUME);
    op->job_id = job;
    op->set = set;
    op->now_ns = now;
    op->done = consumed;
    op->arg = s;
    store_writer_submit(app->writer, op);
}
