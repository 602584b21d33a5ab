/*
 * stream: mode=stream, the result as a live stream of typed messages
 * (METADATA, RECORD, STATS, HEARTBEAT, ERROR, END; modes/message.h), as
 * NDJSON or as Server-Sent Events.
 *
 * DESIGN. As in immediate mode a worker runs the statements and renders,
 * and the loop writes through gateway/reply. What differs is what a live
 * stream needs:
 *
 * Messages, not chunks. The worker appends each message whole to the
 * task's pending buffer (under t.mu) the moment it exists: METADATA when a
 * result set starts, a RECORD when a row ends (the row writer's row hook
 * hands over each row object as immediate mode renders it). The loop takes
 * the whole buffer: at once when FLUSH_BYTES are pending (or the worker is
 * done), else LINGER_NS after the first message arrived. So a row reaches
 * the client within a couple of milliseconds, without waiting for a 64 KiB
 * chunk to fill (a slow query's rows trickle out one by one), while a fast
 * query's rows leave in 64 KiB writes: taking every message as it came made
 * ~10 times as many writes and wake-ups, and a 1M-row stream twice as slow.
 * The worker wakes the loop only when the buffer goes from empty to not
 * empty and when it passes FLUSH_BYTES.
 *
 * Backpressure and memory are immediate mode's: the worker waits while
 * more than QUEUE_MAX bytes are pending, and the loop takes nothing while
 * the connection's output holds GW_OUTPUT_HIGH or more. A slow client slows
 * the worker; a stream of any length costs a few hundred KiB.
 *
 * Timers on the loop. HEARTBEAT and STATS are written by the loop thread
 * from libevent timers, between the worker's messages: pending only ever
 * holds whole messages and the loop only ever takes all of it, so the
 * loop's messages never land inside one. Neither a worker waiting for a
 * slow client nor a request waiting for a free worker can hold them up. A
 * HEARTBEAT goes out only when nothing was written for its interval and
 * nothing is still waiting in the output (bytes on their way are their own
 * keep-alive). STATS counts the RECORDs written before it.
 *
 * Status. Until the first message exists, the answer can still be a whole
 * AsterixDB error document with the HTTP status of its error (400 for a
 * syntax error or a readonly violation, ...), as immediate mode answers
 * when everything fits its first chunk. The first message, the worker's or
 * a HEARTBEAT/STATS of the loop, begins the stream: `begun` is set under
 * t.mu by whoever comes first, so worker and loop agree. From then on the
 * response is 200 and a failure is an ERROR message followed by END.
 *
 * Ownership: as in immediate mode, the task has one reference for the loop
 * side (dropped by detach, when the response is finished or the client is
 * gone) and the pool's for the worker.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/clock.h"
#include "core/envelope.h"
#include "core/json.h"
#include "core/mem.h"
#include "exec/pool.h"
#include "exec/run.h"
#include "gateway/reply.h"
#include "modes/doc.h"
#include "modes/live.h"
#include "modes/message.h"
#include "modes/mode.h"

/* Pending bytes above which the worker waits for the loop. */
#define QUEUE_MAX (256 * 1024)
/* Pending bytes the loop takes at once; less waits up to LINGER_NS. */
#define FLUSH_BYTES (64 * 1024)
#define LINGER_NS   (2 * 1000000u)
/* The row writer's own buffer holds one row at a time here. */
#define ROW_BUF 4096

typedef struct strm {
    mode_live l;              /* first: the task, the request, the query */
    mode_msg_framing framing; /* set before submit, read by both */

    /* loop only */
    bool started;           /* the response head is out */
    struct event *beat_ev;  /* one-shot, re-armed */
    struct event *stats_ev; /* persistent */
    struct event *linger_ev;
    uint64_t beat_ns;     /* 0: no heartbeats */
    uint64_t last_out_ns; /* when bytes last went to the connection */
    uint64_t sent_rows;   /* RECORDs written so far, and their row bytes */
    uint64_t sent_bytes;
    qg_buf spare; /* swapped with pending at each take */

    /* under t.mu */
    qg_buf pending;      /* whole messages the loop has not taken */
    uint64_t pend_rows;  /* RECORDs appended so far (taken or not), and */
    uint64_t pend_bytes; /* their row bytes */
    bool begun;          /* the stream began: failures are ERROR + END */
    bool done;           /* the last bytes are in pending */
    int whole_status;    /* not 0: pending is a whole error document */

    /* worker only */
    rows_writer w;
    rows_sink sink;
} strm;

static strm *
of_sink(rows_sink *s)
{
    return (strm *)((char *)s - offsetof(strm, sink));
}

/* --- worker side --------------------------------------------------------- */

/* Called with t.mu held after appending to pending: marks the stream
 * begun and says whether the loop must be woken (pending was empty, so the
 * loop starts its linger; or it just passed FLUSH_BYTES, so the loop takes
 * it now) and whether the worker must wait for it (too much pending). */
static void
appended(strm *m, size_t before, bool *wake, bool *full)
{
    m->begun = true;
    *wake = before == 0 || (before < FLUSH_BYTES && m->pending.len >= FLUSH_BYTES);
    *full = m->pending.len > QUEUE_MAX;
}

/* After appending, outside t.mu: wakes the loop, then waits while too
 * much is pending. Returns 0, or -1 with err when the task was stopped
 * (cancelled, timed out, the client left) while waiting. */
static int
after_append(strm *m, bool wake, bool full, qg_error *err)
{
    if (wake)
        exec_task_notify(&m->l.t);
    if (!full)
        return 0;
    return mode_live_wait_room(&m->l, &m->pending.len, QUEUE_MAX, err);
}

/* A result set starts: its METADATA. */
static int
sink_set_begin(rows_sink *s, rows_writer *w, qg_error *err)
{
    strm *m = of_sink(s);
    bool wake, full;
    pthread_mutex_lock(&m->l.t.mu);
    size_t before = m->pending.len;
    mode_msg_metadata(&m->pending, m->framing, w->set_index, m->l.rid, m->l.q.client_context_id,
                      w->cols, w->ncols);
    appended(m, before, &wake, &full);
    pthread_mutex_unlock(&m->l.t.mu);
    return after_append(m, wake, full, err);
}

/* A row ended: its RECORD, the row object copied once, into pending. */
static int
sink_row(rows_sink *s, rows_writer *w, const char *text, size_t len, qg_error *err)
{
    strm *m = of_sink(s);
    bool wake, full;
    pthread_mutex_lock(&m->l.t.mu);
    size_t before = m->pending.len;
    mode_msg_record_open(&m->pending, m->framing, w->set_index);
    qg_buf_add(&m->pending, text, len);
    mode_msg_record_close(&m->pending, m->framing);
    m->pend_rows++;
    m->pend_bytes += len;
    appended(m, before, &wake, &full);
    pthread_mutex_unlock(&m->l.t.mu);
    return after_append(m, wake, full, err);
}

/* Rows go through sink_row, so the writer's buffer never fills; nothing
 * else writes there. */
static int
sink_flush(rows_sink *s, rows_writer *w, qg_error *err)
{
    qg_buf_reset(&w->out);
    return 0;
}

/* The AsterixDB error document of a request that failed before its stream
 * began: as immediate mode writes it, without result sets. */
static void
error_doc(strm *m, qg_buf *b, const qg_error *err, const qg_metrics *mt)
{
    mode_doc_head_of(b, m->l.rid, &m->l.q);
    mode_doc_tail(b, &m->l.q, err, mt);
}

/* The worker's last words: ERROR (on failure) and END, or, when nothing
 * began the stream, the whole error document. err NULL: success. */
static void
finish(strm *m, const qg_error *err, const qg_metrics *mt)
{
    pthread_mutex_lock(&m->l.t.mu);
    bool wake = m->pending.len == 0;
    if (err && !m->begun) {
        error_doc(m, &m->pending, err, mt);
        m->whole_status = qg_err_http(err->code);
    } else {
        if (err)
            mode_msg_error(&m->pending, m->framing, err);
        mode_msg_end(&m->pending, m->framing, m->l.rid, m->l.q.client_context_id,
                     err ? err->code : QG_OK, mt);
        m->begun = true;
    }
    m->done = true;
    pthread_mutex_unlock(&m->l.t.mu);
    if (wake)
        exec_task_notify(&m->l.t);
}

static void
strm_run(exec_task *t, exec_worker *wk)
{
    strm *m = (strm *)t;
    m->sink.flush = sink_flush;
    m->sink.set_begin = sink_set_begin;
    m->sink.row = sink_row;
    rows_init(&m->w, &m->sink, &m->l.q, ROW_BUF, true);
    m->w.format = QG_FORMAT_JSON; /* params refuse CSV for streams; stay sure */
    m->w.max_bytes = m->l.env->set.max_result_bytes;

    exec_ctx ctx = {.task = t, .readonly = m->l.q.readonly};
    qg_error err;
    qg_error_clear(&err);
    int rc = exec_run(wk, &m->l.q, &ctx, &m->w, &err);
    if (rc != 0 && err.code == QG_E_CANCELLED)
        qg_error_set(&err, QG_E_CANCELLED, m->l.rid);
    if (m->w.in_set) {
        /* a failure inside a result set: its rows so far count */
        m->w.total_bytes += m->w.set_bytes;
        m->w.in_set = false;
    }

    qg_metrics mt;
    mode_live_metrics(&m->l, &ctx, &m->w, rc, &mt);
    finish(m, rc != 0 ? &err : NULL, &mt);
    rows_free(&m->w);
}

/* --- loop side ------------------------------------------------------------ */

static void
arm(struct event *ev, uint64_t ns)
{
    struct timeval tv = {(time_t)(ns / 1000000000u), (suseconds_t)(ns % 1000000000u / 1000)};
    evtimer_add(ev, &tv);
}

static void
free_event(struct event **ev)
{
    if (*ev) {
        event_free(*ev);
        *ev = NULL;
    }
}

/* mode_live_detach's hook: the stream's own timers go with the request. */
static void
detached(mode_live *l)
{
    strm *m = (strm *)l;
    free_event(&m->beat_ev);
    free_event(&m->stats_ev);
    free_event(&m->linger_ev);
}

/* Sends the head of the stream. */
static void
start(strm *m)
{
    const gw_header h[] = {{"X-Accel-Buffering", "no"}, {"Cache-Control", "no-cache"}};
    gw_reply_start(m->l.req, 200, mode_msg_content_type(m->framing), h, 2);
    m->started = true;
}

/* For a message of the loop's own: begins the stream unless the worker has
 * already left a whole error document, which must go out as it is (its
 * notify is on the way). */
static bool
begin_from_loop(strm *m)
{
    pthread_mutex_lock(&m->l.t.mu);
    bool ok = m->whole_status == 0;
    if (ok)
        m->begun = true;
    pthread_mutex_unlock(&m->l.t.mu);
    if (ok && !m->started)
        start(m);
    return ok;
}

static void
write_own(strm *m, qg_buf *b)
{
    gw_reply_chunk(m->l.req, b->data, b->len);
    m->last_out_ns = qg_now_ns();
}

/* Takes what the worker left and writes it. now: whatever is pending
 * (the linger passed, the output drained); else only FLUSH_BYTES or the
 * end, and the linger timer is armed for the rest. */
static void
pump(strm *m, bool now)
{
    exec_task *t = &m->l.t;
    gw_req *req = m->l.req;
    if (req && m->started && gw_req_output_pending(req) >= GW_OUTPUT_HIGH) {
        gw_req_want_drain(req);
        return;
    }
    qg_buf_reset(&m->spare);
    pthread_mutex_lock(&t->mu);
    if (req && !now && !m->done && m->pending.len < FLUSH_BYTES) {
        bool any = m->pending.len > 0;
        pthread_mutex_unlock(&t->mu);
        if (any && !evtimer_pending(m->linger_ev, NULL))
            arm(m->linger_ev, LINGER_NS);
        return;
    }
    if (m->linger_ev)
        evtimer_del(m->linger_ev);
    qg_buf taken = m->pending;
    m->pending = m->spare;
    m->spare = taken;
    uint64_t rows = m->pend_rows, bytes = m->pend_bytes;
    bool done = m->done;
    int whole = m->whole_status;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);

    if (!req)
        return; /* the client is gone: what the worker still says is dropped */
    if (whole) {
        /* Nothing began the stream: the error document with its status. */
        qg_buf doc = m->spare;
        qg_buf_init(&m->spare);
        mode_live_detach(&m->l); /* may free m */
        gw_reply(req, whole, GW_JSON, doc.data, doc.len, NULL, 0);
        qg_buf_free(&doc);
        return;
    }
    if (m->spare.len == 0 && !done)
        return;
    if (!m->started)
        start(m);
    if (m->spare.len)
        write_own(m, &m->spare);
    m->sent_rows = rows;
    m->sent_bytes = bytes;
    if (done) {
        mode_live_detach(&m->l); /* may free m */
        gw_reply_end(req);
    } else if (gw_req_output_pending(req) >= GW_OUTPUT_HIGH) {
        gw_req_want_drain(req);
    }
}

/* The pool's notify: the worker has news. */
static void
strm_notify(exec_task *t)
{
    pump((strm *)t, false);
}

static void
linger_cb(evutil_socket_t fd, short what, void *arg)
{
    pump(arg, true);
}

static void
on_drain(gw_req *req)
{
    strm *m = gw_req_data(req);
    pump(m, true);
}

static void
beat_cb(evutil_socket_t fd, short what, void *arg)
{
    strm *m = arg;
    uint64_t now = qg_now_ns();
    if (gw_req_output_pending(m->l.req) > 0) {
        /* still writing: the bytes on their way keep the connection alive */
        m->last_out_ns = now;
    }
    uint64_t idle = now - m->last_out_ns;
    if (idle < m->beat_ns) {
        arm(m->beat_ev, m->beat_ns - idle);
        return;
    }
    if (!begin_from_loop(m))
        return;
    qg_buf b = QG_BUF_INIT;
    mode_msg_heartbeat(&b, m->framing, now - m->l.recv_ns);
    write_own(m, &b);
    qg_buf_free(&b);
    arm(m->beat_ev, m->beat_ns);
}

static void
stats_cb(evutil_socket_t fd, short what, void *arg)
{
    strm *m = arg;
    if (!begin_from_loop(m))
        return;
    qg_buf b = QG_BUF_INIT;
    mode_msg_stats(&b, m->framing, m->sent_rows, m->sent_bytes, qg_now_ns() - m->l.recv_ns);
    write_own(m, &b);
    qg_buf_free(&b);
}

static void
strm_destroy(exec_task *t)
{
    strm *m = (strm *)t;
    qg_buf_free(&m->pending);
    qg_buf_free(&m->spare);
    mode_live_free(&m->l);
    free(m);
}

/* Ends a request whose task never reached a worker (taken back out of the
 * queue), on the loop: the error document when nothing went out yet, else
 * ERROR and END after the heartbeats or stats already sent. */
static void
answer_unstarted(mode_live *l, const qg_error *err)
{
    strm *m = (strm *)l;
    qg_metrics mt;
    mode_live_unstarted_metrics(l, &mt);
    qg_buf b = QG_BUF_INIT;
    gw_req *r = l->req;
    if (!m->started) {
        error_doc(m, &b, err, &mt);
        mode_live_detach(l); /* may free m */
        gw_reply(r, qg_err_http(err->code), GW_JSON, b.data, b.len, NULL, 0);
    } else {
        mode_msg_error(&b, m->framing, err);
        mode_msg_end(&b, m->framing, l->rid, l->q.client_context_id, err->code, &mt);
        gw_reply_chunk(r, b.data, b.len);
        mode_live_detach(l); /* may free m */
        gw_reply_end(r);
    }
    qg_buf_free(&b);
}

static const mode_live_ops strm_ops = {
    .task = {.run = strm_run, .notify = strm_notify, .destroy = strm_destroy},
    .unstarted = answer_unstarted,
    .detached = detached,
};

void
mode_stream_start(mode_env *env, gw_req *req, qg_query *q, const char *request_id)
{
    strm *m = qg_calloc(1, sizeof(*m));
    mode_live_init(&m->l, &strm_ops, env, req, q, request_id);
    m->framing = m->l.q.stream_sse ? MODE_MSG_SSE : MODE_MSG_NDJSON;
    m->last_out_ns = req->start_ns;
    m->beat_ns = m->l.q.heartbeat_given ? m->l.q.heartbeat_ns : env->set.stream_heartbeat_ns;

    m->linger_ev = evtimer_new(env->base, linger_cb, m);
    uint64_t now = qg_now_ns();
    if (m->beat_ns) {
        m->beat_ev = evtimer_new(env->base, beat_cb, m);
        uint64_t idle = now - m->last_out_ns;
        arm(m->beat_ev, idle < m->beat_ns ? m->beat_ns - idle : 0);
    }
    if (m->l.q.stats_ns) {
        /* persistent: libevent keeps the period from the first schedule,
         * so STATS do not drift */
        m->stats_ev = event_new(env->base, -1, EV_PERSIST, stats_cb, m);
        arm(m->stats_ev, m->l.q.stats_ns);
    }
    gw_req_on_drain(req, on_drain);
    mode_live_submit(&m->l);
}
