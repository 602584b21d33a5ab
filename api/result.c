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
 * Reads (the job engine's, modes/result.h): a read that reaches the set's
 * last row (any read without a limit, or one whose window ends at or past
 * the end) takes one of the set's max-result-reads before the first byte
 * goes out; every read holds the set until it ends, so every read that
 * started completes; a window that stops short of the end takes none.
 *
 * DELETE discards the result: 202, or 404 when there was nothing to
 * discard; reads streaming it are cut. With authentication on, only the
 * principal that submitted a job may read or discard its results; to
 * anyone else they are 404.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/internal.h"
#include "api/params.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "core/mem.h"
#include "exec/rows.h"
#include "gateway/reply.h"
#include "modes/doc.h"
#include "modes/result.h"
#include "store/jobs.h"

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
    bool first;      /* no row sent yet */
    mode_read *read; /* the read of the set (modes/result.h) */
    bool broken;     /* a page did not read back as rows */
    uint64_t sent_rows, sent_bytes;
    qg_metrics metrics;
    uint64_t set_bytes;
    qg_buf out;     /* cut mode: the rows of one page, as sent */
    qg_buf columns; /* the set's column names: a JSON array, or a CSV header line */
} stream;

static void
stream_free(stream *s)
{
    if (s->read)
        mode_read_end(s->read); /* the last read of a used-up set drops its pages */
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
        mode_doc_result_end e = {
            .pretty = s->pretty,
            .err = err,
            .metrics = s->metrics,
            .columns = s->p.arrays && s->columns.len ? s->columns.data : NULL,
            .columns_len = s->columns.len,
            .window = s->p.has_offset || s->p.has_limit,
            .offset = s->p.offset,
            .has_limit = s->p.has_limit,
            .limit = s->p.limit,
            .total = s->total,
            .more = s->end_row < s->total,
        };
        e.metrics.result_count = s->cut || err ? s->sent_rows : s->total;
        e.metrics.result_size = s->cut || err ? s->sent_bytes : s->set_bytes;
        mode_doc_result_close(&t, &e);
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
    return mode_read_page(s->read, s->page, fn, arg, err);
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
        api__not_found(req, RESULT_GONE);
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
            int rc = mode_read_find(s->read, s->npages, s->next_row, &first, &err);
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
        qg_buf open = QG_BUF_INIT;
        mode_doc_result_open(&open, s->pretty);
        gw_reply_chunk(req, open.data, open.len);
        qg_buf_free(&open);
    }
    if (s->out.len) {
        gw_reply_chunk(req, s->out.data, s->out.len);
        qg_buf_reset(&s->out);
    }
    gw_req_on_drain(req, on_drain);
    pump(s);
}

/* The read is taken (rc 1, j the header as committed), or the result
 * went (0), or the store failed (-1, err). */
static void
ready(mode_read *r, int rc, const store_job *j, const qg_error *err, void *arg)
{
    stream *s = arg;
    if (rc != 1) {
        answer_now(s, rc, err);
        return;
    }
    start(s, j);
}

static void
discarded(bool found, void *arg)
{
    gw_req *req = arg;
    gw_req_on_gone(req, NULL, NULL);
    if (found)
        gw_reply_empty(req, 202);
    else
        api__not_found(req, RESULT_GONE);
}

static void
discard_gone(gw_req *req)
{
    mode_discard_forget(gw_req_data(req));
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
    uint64_t job;
    uint32_t set;
    if (api__handle_of(req, &job, &set) != 0)
        return;
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
    int readable = mode_result_check(env->modes, job, set, req->principal, now, &j, &err);
    if (readable <= 0) {
        store_job_free(&j);
        if (readable < 0)
            gw_reply_error(req, &err, NULL);
        else
            api__not_found(req, RESULT_GONE);
        return;
    }
    if (req->method == GW_M_DELETE) {
        store_job_free(&j);
        gw_req_on_gone(req, discard_gone,
                       mode_result_discard(env->modes, job, set, now, discarded, req));
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
    /* only a read that reaches the end of the set takes one of its reads */
    uint64_t rows = j.sets[set].rows;
    bool to_end = !p.has_limit || p.offset >= rows || p.limit >= rows - p.offset;
    if (gw_req_is_head(req))
        to_end = false; /* a HEAD reads nothing: it takes none of the reads */
    s->read = mode_read_begin(env->modes, job, set, now, to_end, ready, s);
    if (!to_end)
        start(s, &j);
    store_job_free(&j);
}
