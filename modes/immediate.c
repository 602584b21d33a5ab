/*
 * immediate: run the statement now and stream the envelope back.
 *
 * DESIGN. The worker renders the whole response document (envelope head,
 * each result set, errors, status, metrics) into 64 KiB chunks and queues
 * them on the task; the loop takes them and writes them to the client. Two
 * bounds keep memory flat whatever the result size: the worker waits while
 * more than QUEUE_MAX bytes are queued, and the loop takes no chunk while
 * the connection's output holds more than GW_OUTPUT_HIGH. A slow client
 * therefore slows the worker, and a 10M-row result costs the same memory
 * as a 10-row one.
 *
 * The HTTP status must go out before the body, but a statement's failure
 * is only known when it runs. So the worker decides with its first chunk:
 * if the request finished within it, the response is sent whole with the
 * status its outcome calls for (400 syntax, 500 runtime, ...); if not, it
 * is 200 and streamed, and a later failure shows in the envelope's errors
 * and status, as in AsterixDB.
 *
 * Ownership: the task has one reference for the loop side (dropped when the
 * response is finished or the client is gone) and the pool's for the worker.
 */
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/envelope.h"
#include "core/json.h"
#include "core/mem.h"
#include "exec/pool.h"
#include "exec/run.h"
#include "gateway/reply.h"
#include "modes/doc.h"
#include "modes/live.h"
#include "modes/mode.h"

#define CHUNK_SIZE (64 * 1024)
#define QUEUE_MAX  (256 * 1024)

typedef struct chunk {
    struct chunk *next;
    char *data;
    size_t len;
} chunk;

typedef struct imm {
    mode_live l;    /* first: the task, the request, the query */
    bool streaming; /* loop only: head sent, chunks follow */

    /* under t.mu */
    chunk *head, *tail;
    size_t queued;
    bool pushed; /* a chunk was queued before the last one */
    bool done;
    int status;

    /* worker only */
    rows_writer w;
    rows_sink sink;
} imm;

/* --- worker side --------------------------------------------------------- */

/* Queues the writer's chunk for the loop; last marks the end of the
 * response. Waits while too much is queued. */
static int
push(imm *m, bool last, int status, qg_error *err)
{
    chunk *c = qg_malloc(sizeof(*c));
    c->next = NULL;
    c->data = qg_buf_detach(&m->w.out, &c->len);
    if (!last)
        qg_buf_reserve(&m->w.out, CHUNK_SIZE + 4096);

    pthread_mutex_lock(&m->l.t.mu);
    if (m->tail)
        m->tail->next = c;
    else
        m->head = c;
    m->tail = c;
    m->queued += c->len;
    if (last) {
        m->done = true;
        m->status = m->pushed ? 200 : status;
    }
    m->pushed = true;
    pthread_mutex_unlock(&m->l.t.mu);
    exec_task_notify(&m->l.t);
    if (last)
        return 0;

    return mode_live_wait_room(&m->l, &m->queued, QUEUE_MAX, err);
}

static int
sink_flush(rows_sink *s, rows_writer *w, qg_error *err)
{
    imm *m = (imm *)((char *)s - offsetof(imm, sink));
    return push(m, false, 200, err);
}

static int
sink_set_begin(rows_sink *s, rows_writer *w, qg_error *err)
{
    imm *m = (imm *)((char *)s - offsetof(imm, sink));
    mode_doc_set_open(&w->out, w->set_index, m->l.q.signature, w->pretty);
    return 0;
}

static int
sink_set_end(rows_sink *s, rows_writer *w, qg_error *err)
{
    mode_doc_set_close(&w->out, w->pretty);
    return 0;
}

static void
imm_run(exec_task *t, exec_worker *wk)
{
    imm *m = (imm *)t;
    m->sink.flush = sink_flush;
    m->sink.set_begin = sink_set_begin;
    m->sink.set_end = sink_set_end;
    rows_init(&m->w, &m->sink, &m->l.q, CHUNK_SIZE, true);
    m->w.max_bytes = m->l.env->set.max_result_bytes;
    mode_doc_head_of(&m->w.out, m->l.rid, &m->l.q);

    exec_ctx ctx = {.task = t, .readonly = m->l.q.readonly};
    qg_error err;
    qg_error_clear(&err);
    int rc = exec_run(wk, &m->l.q, &ctx, &m->w, &err);
    if (rc != 0 && err.code == QG_E_CANCELLED)
        qg_error_set(&err, QG_E_CANCELLED, m->l.rid);
    if (m->w.in_set) {
        /* a failure inside a result set: close its array */
        m->w.total_bytes += m->w.set_bytes;
        sink_set_end(&m->sink, &m->w, NULL);
        m->w.in_set = false;
    }

    qg_metrics mt;
    mode_live_metrics(&m->l, &ctx, &m->w, rc, &mt);
    mode_doc_tail(&m->w.out, &m->l.q, rc != 0 ? &err : NULL, &mt);
    push(m, true, rc != 0 ? qg_err_http(err.code) : 200, NULL);
    rows_free(&m->w);
}

/* --- loop side ------------------------------------------------------------ */

static void
chunk_free(const void *data, size_t len, void *arg)
{
    free((void *)data);
    free(arg);
}

static void
free_chunks(chunk *c)
{
    while (c) {
        chunk *next = c->next;
        free(c->data);
        free(c);
        c = next;
    }
}

static void imm_notify(exec_task *t);

static void
on_drain(gw_req *req)
{
    imm *m = gw_req_data(req);
    imm_notify(&m->l.t);
}

static void
imm_notify(exec_task *t)
{
    imm *m = (imm *)t;
    gw_req *req = m->l.req;
    if (req && m->streaming && gw_req_output_pending(req) >= GW_OUTPUT_HIGH) {
        gw_req_want_drain(req);
        return;
    }
    pthread_mutex_lock(&t->mu);
    chunk *list = m->head;
    m->head = m->tail = NULL;
    m->queued = 0;
    bool done = m->done;
    int status = m->status;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);

    if (!req) {
        free_chunks(list);
        return;
    }
    if (!m->streaming && done) {
        /* The whole response is here: send it with its real status. */
        qg_buf body = QG_BUF_INIT;
        for (chunk *c = list; c; c = c->next)
            qg_buf_add(&body, c->data, c->len);
        free_chunks(list);
        gw_req *r = req;
        mode_live_detach(&m->l);
        gw_reply(r, status, GW_JSON, body.data, body.len, NULL, 0);
        qg_buf_free(&body);
        return;
    }
    if (!m->streaming && list) {
        const gw_header h = {"X-Accel-Buffering", "no"};
        gw_reply_start(req, 200, GW_JSON, &h, 1);
        m->streaming = true;
    }
    while (list) {
        chunk *next = list->next;
        gw_reply_chunk_ref(req, list->data, list->len, chunk_free, list);
        list = next;
    }
    if (done) {
        mode_live_detach(&m->l);
        gw_reply_end(req);
    } else if (gw_req_output_pending(req) >= GW_OUTPUT_HIGH) {
        gw_req_want_drain(req);
    }
}

static void
imm_destroy(exec_task *t)
{
    imm *m = (imm *)t;
    free_chunks(m->head);
    mode_live_free(&m->l);
    free(m);
}

/* Answers a request whose task never reached a worker (taken back out of
 * the queue): the whole envelope is written here, on the loop. */
static void
answer_unstarted(mode_live *l, const qg_error *err)
{
    qg_buf b = QG_BUF_INIT;
    mode_doc_head_of(&b, l->rid, &l->q);
    qg_metrics mt;
    mode_live_unstarted_metrics(l, &mt);
    mode_doc_tail(&b, &l->q, err, &mt);
    gw_req *r = l->req;
    mode_live_detach(l); /* may free it */
    gw_reply(r, qg_err_http(err->code), GW_JSON, b.data, b.len, NULL, 0);
    qg_buf_free(&b);
}

static const mode_live_ops imm_ops = {
    .task = {.run = imm_run, .notify = imm_notify, .destroy = imm_destroy},
    .unstarted = answer_unstarted,
};

void
mode_immediate_start(mode_env *env, gw_req *req, qg_query *q, const char *request_id)
{
    imm *m = qg_calloc(1, sizeof(*m));
    mode_live_init(&m->l, &imm_ops, env, req, q, request_id);
    gw_req_on_drain(req, on_drain);
    mode_live_submit(&m->l);
}
