/*
 * result: GET and DELETE /query/service/result/N-M.
 *
 * GET answers 404 (empty body) unless job N has ended with a set M (a
 * successful job has one per query statement; a failed batch keeps those
 * its statements completed), with reads left, not expired. The set's pages
 * are then streamed, each read in its own short read transaction, one at a
 * time as the connection drains (never holding a transaction across a slow
 * client): JSON as {"results":[...],"metrics":{...}} (pretty jobs keep
 * their pretty rows), CSV as text/csv with the raw lines. A page that
 * vanished mid-stream (discarded) ends the connection without the closing
 * bytes, so the client sees a broken body, never a short valid one.
 *
 * Damage: every page read checks its seal (store/results.h). The first
 * page is read before the head goes out, so a damaged one is an error
 * answer (500 ASX0905); a later one ends a JSON document after the whole
 * rows sent so far with "errors" and "status":"fatal" (a CSV body is cut).
 * The changed bytes never go out.
 *
 * Windows and arrays (api_result_params): offset/limit send rows
 * [offset, offset+limit) only. The first page is found by a binary search
 * over page headers (store_results_find: log2(pages) header reads), so a
 * window costs the pages it covers plus a few headers, whatever its
 * offset; the rows of those pages are cut out with a scanner of the stored
 * text (rows_json_next, rows_csv_next). rows=arrays turns each stored
 * object into an array of its values and names the columns once. Extras
 * after metrics: "columns" (arrays), "offset", "limit", "total" and "more"
 * (windows).
 *
 * Reads: a read that reaches the set's last row (any read without a
 * limit, or one whose window ends at or past the end) takes one of the
 * set's max-result-reads, committed (STORE_OP_CONSUME) before the first
 * byte goes out. Every GET that streams pins the set
 * (store_results_pin): the pages are deleted (STORE_OP_RELEASE) when the
 * last pinned read ends and one of them took the last read, so every read
 * that started completes. A window that stops short of the end takes
 * none, so a client can page through a result and the read is counted
 * once, when it reaches the end.
 *
 * DELETE discards the result (STORE_OP_DISCARD): 202, or 404 when there was
 * nothing to discard; reads streaming it are cut. With authentication on, only the principal that
 * submitted a job may read or discard its results; to anyone else they are
 * 404.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/envelope.h"
#include "core/json.h"
#include "core/log.h"
#include "core/mem.h"
#include "exec/rows.h"
#include "gateway/handle.h"
#include "api/params.h"
#include "gateway/reply.h"
#include "api/api.h"
#include "store/jobs.h"
#include "store/results.h"
#include "store/writer.h"

typedef struct stream {
    api_env *env;
    gw_req *req; /* NULL once the client is gone */
    uint64_t job;
    uint32_t set;
    api_result_params p;
    uint32_t page, npages;
    uint64_t total;             /* rows in the set */
    uint64_t next_row, end_row; /* cut mode: rows [next_row, end_row) still to send */
    bool cut;                   /* rows are cut out one by one (a window, or arrays) */
    bool csv, pretty, csv_header;
    bool first;    /* no row sent yet */
    bool inflight; /* the consume op is in the writer */
    bool release;  /* this GET took the last read */
    bool pinned;   /* counted among the set's reads in progress */
    bool broken;   /* a page did not read back as rows */
    uint64_t sent_rows, sent_bytes;
    qg_metrics metrics;
    uint64_t set_bytes;
    qg_buf out;     /* cut mode: the rows of one page, as sent */
    qg_buf columns; /* the set's column names: a JSON array, or a CSV header line */
} stream;

static void
stream_free(stream *s)
{
    /* the last read streaming: the pages go if the reads are used up */
    if (s->pinned && store_results_unpin(s->env->modes->store, s->job, s->set, s->release)) {
        store_op *op = store_op_new(STORE_OP_RELEASE);
        op->job_id = s->job;
        op->set = s->set;
        op->done = store_op_free;
        store_writer_submit(s->env->modes->writer, op);
    }
    qg_buf_free(&s->out);
    qg_buf_free(&s->columns);
    free(s);
}

/* A whole page's text, as stored. */
static void
page_out(const store_page *pg, void *arg)
{
    gw_reply_chunk(arg, pg->text, pg->len);
}

/* The same, kept until the head has gone out. */
static void
page_keep(const store_page *pg, void *arg)
{
    stream *s = arg;
    qg_buf_add(&s->out, pg->text, pg->len);
}

/* Sends the row at text[*pos..n) (past its separators), and moves *pos
 * past it. */
static bool
emit(stream *s, const char *text, size_t n, size_t *pos)
{
    size_t a, b;
    if (!s->first && !s->csv)
        qg_buf_adds(&s->out, s->pretty ? ",\n" : ",");
    size_t mark = s->out.len;
    if (s->p.arrays) {
        /* one pass: the object is found and rewritten together */
        while (*pos < n && (text[*pos] == ',' || text[*pos] == '\n' || text[*pos] == ' '))
            (*pos)++;
        size_t used;
        if (rows_object_to_array(text + *pos, n - *pos, s->pretty, &s->out, &used) != 0)
            return false;
        *pos += used;
    } else {
        bool ok =
            s->csv ? rows_csv_next(text, n, pos, &a, &b) : rows_json_next(text, n, pos, &a, &b);
        if (!ok)
            return false;
        qg_buf_add(&s->out, text + a, b - a);
    }
    s->first = false;
    s->sent_rows++;
    s->sent_bytes += s->out.len - mark;
    return true;
}

/* The rows of a page that fall in the window. */
static void
page_rows(const store_page *pg, void *arg)
{
    stream *s = arg;
    size_t pos = 0, a, b;
    if (s->csv && s->csv_header && s->page == 0 &&
        !rows_csv_next(pg->text, pg->len, &pos, &a, &b)) {
        s->broken = true; /* the header line is not there */
        return;
    }
    uint64_t row = pg->first_row;
    if (row > s->next_row) {
        s->broken = true; /* rows before it are missing: not the page asked for */
        return;
    }
    for (; row < pg->first_row + pg->nrows && row < s->end_row; row++) {
        bool ok;
        if (row >= s->next_row) {
            size_t mark = s->out.len;
            ok = emit(s, pg->text, pg->len, &pos);
            if (!ok && s->out.data) {
                s->out.len = mark;
                s->out.data[mark] = '\0';
            }
        } else {
            ok = s->csv ? rows_csv_next(pg->text, pg->len, &pos, &a, &b)
                        : rows_json_next(pg->text, pg->len, &pos, &a, &b);
        }
        if (!ok) {
            s->broken = true;
            return;
        }
    }
    if (row > s->next_row)
        s->next_row = row;
}

/* Ends the response; err: the rows stop short because a page could not
 * be read (JSON: the document ends with that error, status fatal). */
static void
finish(stream *s, const qg_error *err)
{
    gw_req *req = s->req;
    s->req = NULL;
    gw_req_on_gone(req, NULL, NULL);
    if (!s->csv) {
        qg_buf t = QG_BUF_INIT;
        qg_metrics m = s->metrics;
        m.result_count = s->cut || err ? s->sent_rows : s->total;
        m.result_size = s->cut || err ? s->sent_bytes : s->set_bytes;
        if (s->pretty)
            qg_buf_addc(&t, '\n');
        qg_buf_addlit(&t, "],");
        if (err) {
            m.error_count = 1;
            qg_env_errors(&t, err);
            qg_buf_addlit(&t, ",\"status\":\"fatal\",");
        }
        qg_env_metrics(&t, &m);
        if (s->p.arrays && s->columns.len) {
            qg_buf_addlit(&t, ",\"columns\":");
            qg_buf_add(&t, s->columns.data, s->columns.len);
        }
        if (s->p.has_offset || s->p.has_limit) {
            qg_buf_printf(&t, ",\"offset\":%llu", (unsigned long long)s->p.offset);
            if (s->p.has_limit)
                qg_buf_printf(&t, ",\"limit\":%llu", (unsigned long long)s->p.limit);
            qg_buf_printf(&t, ",\"total\":%llu,\"more\":%s", (unsigned long long)s->total,
                          s->end_row < s->total ? "true" : "false");
        }
        qg_buf_addlit(&t, "}\n");
        gw_reply_chunk(req, t.data, t.len);
        qg_buf_free(&t);
    }
    gw_reply_end(req);
    stream_free(s);
}

/* Why page s->page could not be sent (read's answer rc): logged, and
 * into err. */
static void
page_failed(stream *s, int rc, qg_error *err)
{
    char msg[300];
    if (rc >= 0) {
        snprintf(msg, sizeof(msg), "result %llu-%u: page %u %s", (unsigned long long)s->job, s->set,
                 s->page, rc == 1 ? "does not read back as rows" : "is gone");
        qg_error_set(err, QG_E_STORE, msg);
    }
    qg_warn("result %llu-%u: page %u: %s", (unsigned long long)s->job, s->set, s->page, err->msg);
}

/* Reads the next page: 1 when it went out (or into s->out before the
 * head), else what store_results_read said (with err), or 1 with
 * s->broken. */
static int
read_page(stream *s, bool keep, qg_error *err)
{
    store_page_fn fn = s->cut ? page_rows : keep ? page_keep : page_out;
    void *arg = s->cut || keep ? (void *)s : (void *)s->req;
    return store_results_read(s->env->modes->store, s->job, s->set, s->page, fn, arg, err);
}

/* Whether pages remain to be sent. */
static bool
more_pages(const stream *s)
{
    return s->page < s->npages && !(s->cut && s->next_row >= s->end_row);
}

/* Sends pages until the output is full or the rows are out. */
static void
pump(stream *s)
{
    gw_req *req = s->req;
    while (more_pages(s)) {
        if (gw_req_output_pending(req) >= GW_OUTPUT_HIGH) {
            gw_req_want_drain(req);
            return;
        }
        qg_error err;
        int rc = read_page(s, false, &err);
        if (rc != 1 || s->broken) {
            page_failed(s, rc, &err);
            if (rc != 0 && !s->csv) {
                /* damaged: what was sent is whole rows, the end says why
                 * the rest is missing */
                s->out.len = 0;
                finish(s, &err);
                return;
            }
            /* gone (swept, discarded), or CSV: no last chunk, so the body
             * reads as cut */
            s->req = NULL;
            gw_req_on_gone(req, NULL, NULL);
            gw_reply_abort(req);
            stream_free(s);
            return;
        }
        if (s->cut && s->out.len) {
            gw_reply_chunk(req, s->out.data, s->out.len);
            qg_buf_reset(&s->out);
        }
        s->page++;
    }
    finish(s, NULL);
}

static void
on_drain(gw_req *req)
{
    pump(gw_req_data(req));
}

static void
on_gone(gw_req *req)
{
    stream *s = gw_req_data(req);
    s->req = NULL;
    if (!s->inflight)
        stream_free(s);
}

/* Answers before anything was sent: 404 when the result went (rc 0),
 * else the error err. */
static void
answer_now(stream *s, int rc, const qg_error *err)
{
    gw_req *req = s->req;
    s->req = NULL;
    gw_req_on_gone(req, NULL, NULL);
    if (rc == 0)
        gw_reply_empty(req, 404);
    else
        gw_reply_error(req, err, NULL);
    stream_free(s);
}

/* Starts the response for job j (its header as committed). */
static void
start(stream *s, const store_job *j)
{
    gw_req *req = s->req;
    const store_set *set = &j->sets[s->set];
    s->npages = set->pages;
    s->total = set->rows;
    s->set_bytes = set->bytes;
    s->metrics = j->metrics;
    s->csv = j->format == QG_FORMAT_CSV;
    s->pretty = j->pretty;
    s->csv_header = j->csv_header;
    s->first = true;
    s->cut = s->p.arrays || s->p.has_offset || s->p.has_limit;
    if (s->cut) {
        s->next_row = s->p.offset;
        uint64_t end = s->total;
        if (s->p.has_limit && s->p.limit < end - (s->next_row < end ? s->next_row : end))
            end = s->next_row + s->p.limit;
        s->end_row = end;
        s->page = s->npages;
        if (s->next_row < s->end_row) {
            qg_error err;
            uint32_t first;
            int rc = store_results_find(s->env->modes->store, s->job, s->set, s->npages,
                                        s->next_row, &first, &err);
            if (rc != 1) {
                /* gone meanwhile (swept, discarded), or unreadable */
                answer_now(s, rc, &err);
                return;
            }
            s->page = first;
        }
    }
    /* The first page is read before the head goes out: one that does not
     * read back is an error answer, not a broken body. */
    if (more_pages(s)) {
        qg_error err;
        int rc = read_page(s, true, &err);
        if (rc != 1 || s->broken) {
            page_failed(s, rc, &err);
            answer_now(s, rc == 1 ? -1 : rc, &err);
            return;
        }
        s->page++;
    }
    const gw_header h = {"X-Accel-Buffering", "no"};
    if (s->csv) {
        gw_reply_start(req, 200,
                       s->csv_header ? "text/csv; header=present" : "text/csv; header=absent", &h,
                       1);
        /* a window starts with the header line the first page holds */
        if (s->cut && s->csv_header && s->columns.len)
            gw_reply_chunk(req, s->columns.data, s->columns.len);
    } else {
        gw_reply_start(req, 200, GW_JSON, &h, 1);
        if (s->pretty)
            gw_reply_chunk(req, "{\"results\":[\n", 13);
        else
            gw_reply_chunk(req, "{\"results\":[", 12);
    }
    if (s->out.len) {
        gw_reply_chunk(req, s->out.data, s->out.len);
        qg_buf_reset(&s->out);
    }
    gw_req_on_drain(req, on_drain);
    pump(s);
}

/* Loop: the read is taken (or there was none to take). */
static void
consumed(store_op *op)
{
    stream *s = op->arg;
    s->inflight = false;
    bool found = op->status == 0 && op->found;
    if (found)
        s->release = op->job.sets[s->set].reads_left == 0;
    else if (op->status != 0)
        qg_warn("result %llu-%u: %s", (unsigned long long)s->job, s->set, op->err.msg);
    gw_req *req = s->req;
    if (!req) {
        store_op_free(op);
        stream_free(s);
        return;
    }
    if (!found) {
        qg_error err = op->err;
        int rc = op->status != 0 ? -1 : 0;
        store_op_free(op);
        answer_now(s, rc, &err);
        return;
    }
    start(s, &op->job);
    store_op_free(op);
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
        gw_req_on_gone(req, NULL, NULL);
        gw_reply_empty(req, status);
    }
}

static void
discard_gone(gw_req *req)
{
    store_op *op = gw_req_data(req);
    op->arg = NULL;
}

/* The names of set's columns (from the statement that produced it): a
 * JSON array, or for CSV the header line the writer would write. */
static void
column_names(api_env *env, uint64_t job, uint32_t set, bool csv, qg_buf *out)
{
    qg_error err;
    store_stmt *v;
    size_t n;
    if (store_jobs_read_stmts(env->modes->store, job, &v, &n, &err) != 0)
        return;
    for (size_t i = 0; i < n; i++) {
        if (v[i].set != (int64_t)set)
            continue;
        const store_stmt *st = &v[i];
        if (csv) {
            const char **names = qg_malloc(sizeof(char *) * (st->ncols ? st->ncols : 1));
            size_t *lens = qg_malloc(sizeof(size_t) * (st->ncols ? st->ncols : 1));
            for (uint32_t k = 0; k < st->ncols; k++) {
                names[k] = st->cols[k].name;
                lens[k] = strlen(names[k]);
            }
            if (st->ncols)
                rows_csv_line(out, names, lens, st->ncols);
            free(names);
            free(lens);
        } else {
            qg_buf_addc(out, '[');
            for (uint32_t k = 0; k < st->ncols; k++) {
                if (k)
                    qg_buf_addc(out, ',');
                qg_json_string(out, st->cols[k].name, strlen(st->cols[k].name));
            }
            qg_buf_addc(out, ']');
        }
        break;
    }
    store_stmts_free(v, n);
}

void
api_result(gw_req *req, void *arg)
{
    api_env *env = arg;
    const char *h = req->path + sizeof("/query/service/result/") - 1;
    uint64_t job;
    uint32_t set;
    if (gw_handle_parse(h, strlen(h), &job, &set) != 0) {
        gw_reply_empty(req, 400);
        return;
    }
    qg_error err;
    api_result_params p;
    if (req->method == GW_M_GET && api_result_params_parse(req->query, req->query_len, &p, &err)) {
        gw_reply_error(req, &err, NULL);
        return;
    }
    uint64_t now = qg_wall_ns();
    /* A quick look first: unknown, unfinished, used-up and other
     * principals' results are answered without the writer. */
    store_job j;
    store_job_init(&j);
    int found = store_jobs_read(env->modes->store, job, &j, &err);
    bool readable = found == 1 && !store_state_active(j.state) && set < j.nsets &&
                    j.sets[set].reads_left > 0 && (j.expires_ns == 0 || j.expires_ns > now) &&
                    (!env->auth || (req->principal && strcmp(req->principal, j.principal) == 0));
    if (found < 0) {
        store_job_free(&j);
        gw_reply_error(req, &err, NULL);
        return;
    }
    if (!readable) {
        store_job_free(&j);
        gw_reply_empty(req, 404);
        return;
    }
    if (req->method == GW_M_DELETE) {
        store_job_free(&j);
        store_op *op = store_op_new(STORE_OP_DISCARD);
        op->job_id = job;
        op->set = set;
        op->now_ns = now;
        op->done = discarded;
        op->arg = req;
        gw_req_on_gone(req, discard_gone, op);
        store_writer_submit(env->modes->writer, op);
        return;
    }
    bool csv = j.format == QG_FORMAT_CSV;
    if (csv && p.arrays) {
        store_job_free(&j);
        qg_error_set(&err, QG_E_PARAM, "rows", "arrays (the result is CSV)");
        gw_reply_error(req, &err, NULL);
        return;
    }
    stream *s = qg_calloc(1, sizeof(*s));
    s->env = env;
    s->req = req;
    s->job = job;
    s->set = set;
    s->p = p;
    if (p.arrays || (csv && (p.has_offset || p.has_limit)))
        column_names(env, job, set, csv, &s->columns);
    gw_req_on_gone(req, on_gone, s);
    /* from here until it ends, the set's pages stay (store_results_pin) */
    store_results_pin(env->modes->store, job, set);
    s->pinned = true;
    /* only a read that reaches the end of the set takes one of its reads */
    uint64_t rows = j.sets[set].rows;
    bool to_end = !p.has_limit || p.offset >= rows || p.limit >= rows - p.offset;
    if (!to_end) {
        start(s, &j);
        store_job_free(&j);
        return;
    }
    store_job_free(&j);
    s->inflight = true;
    store_op *op = store_op_new(STORE_OP_CONSUME);
    op->job_id = job;
    op->set = set;
    op->now_ns = now;
    op->done = consumed;
    op->arg = s;
    store_writer_submit(env->modes->writer, op);
}
