/*
 * job_sink: where a stored job's rows go: the row writer renders them
 * (JSON rows with their separators, pretty when asked, or raw CSV lines)
 * into ~64 KiB pages that end on row boundaries, and each page goes to the
 * store writer as it fills (STORE_OP_PAGE on the job's flow), headed by the
 * number of its first row and its row count; the worker waits while its
 * job has more than STORE_FLOW_MAX_BYTES queued there. At the end of a set
 * its row count, bytes, pages and columns (with what the writer saw of
 * them: minimum, maximum, longest, NULLs) are kept for the end state.
 * Worker thread.
 */
#include <stdlib.h>

#include "core/mem.h"
#include "modes/internal.h"

static mode_job *
of_sink(rows_sink *s)
{
    return (mode_job *)((char *)s - offsetof(mode_job, sink));
}

static int
sink_flush(rows_sink *s, rows_writer *w, qg_error *err)
{
    mode_job *j = of_sink(s);
    if (!w->in_set) {
        /* nothing is stored outside a result set */
        qg_buf_reset(&w->out);
        return 0;
    }
    /* the principal's quota: what is committed, plus this page (pages in
     * flight, at most STORE_FLOW_MAX_BYTES, may take it a little over) */
    if (mode_policy_quota(j->env, &j->pol, w->out.len, err) != 0)
        return -1;
    store_op *op = store_op_new(STORE_OP_PAGE);
    op->job_id = j->rec.id;
    op->set = w->set_index;
    op->page = j->page++;
    /* pages end on row boundaries: this one holds the rows since the last */
    op->first_row = j->page_first_row;
    op->nrows = (uint32_t)(w->set_rows - j->page_first_row);
    j->page_first_row = w->set_rows;
    atomic_store(&j->rows_now, w->total_rows);
    op->data = qg_buf_detach(&w->out, &op->len);
    qg_buf_reserve(&w->out, MODE__PAGE_SIZE + 4096);
    op->flow = j->flow;
    store_writer_submit(j->env->writer, op);
    if (store_flow_wait(j->flow, STORE_FLOW_MAX_BYTES, err) != 0)
        return -1;
    qg_code why = exec_task_check(&j->t);
    if (why)
        return qg_error_set(err, why, "-");
    return 0;
}

static int
sink_set_begin(rows_sink *s, rows_writer *w, qg_error *err)
{
    mode_job *j = of_sink(s);
    j->page = 0;
    j->page_first_row = 0;
    return 0;
}

static store_vkind
vkind_of(int k)
{
    switch (k) {
    case ROWS_K_BOOL:
        return STORE_V_BOOL;
    case ROWS_K_NUMBER:
        return STORE_V_NUMBER;
    case ROWS_K_TEXT:
        return STORE_V_TEXT;
    case ROWS_K_BLOB:
        return STORE_V_BLOB;
    }
    return STORE_V_NONE;
}

/* The columns of the set w just ended, with what the writer saw of them. */
static store_col *
cols_snapshot(const rows_writer *w)
{
    store_col *cols = qg_calloc(w->ncols ? w->ncols : 1, sizeof(store_col));
    qg_buf t = QG_BUF_INIT;
    for (size_t i = 0; i < w->ncols; i++) {
        const rows_col *c = &w->cols[i];
        cols[i].name = qg_memdup0(c->name, c->name_len);
        cols[i].type = c->type ? qg_strdup(c->type) : NULL;
        cols[i].max_len = c->stat.max_len;
        cols[i].nulls = c->stat.nulls;
        const rows_bound *b[2] = {&c->stat.min, &c->stat.max};
        store_bound *out[2] = {&cols[i].min, &cols[i].max};
        for (int k = 0; k < 2; k++) {
            qg_buf_reset(&t);
            rows_bound_text(b[k], &t);
            store_bound_set(out[k], vkind_of(b[k]->kind), t.data ? t.data : "", t.len);
        }
    }
    qg_buf_free(&t);
    return cols;
}

static int
sink_set_end(rows_sink *s, rows_writer *w, qg_error *err)
{
    mode_job *j = of_sink(s);
    /* the set's last page: flush while in_set still says which set */
    w->in_set = true;
    int rc = w->out.len ? sink_flush(s, w, err) : 0;
    w->in_set = false;
    if (rc != 0)
        return -1;
    if (j->nsets == j->cap) {
        j->cap = j->cap ? j->cap * 2 : 4;
        j->sets = qg_realloc(j->sets, sizeof(store_set) * j->cap);
    }
    j->sets[j->nsets] = (store_set){w->set_rows, w->set_bytes, j->page, j->q.max_result_reads};
    store_col *cols = cols_snapshot(w);
    pthread_mutex_lock(&j->t.mu);
    if (j->cur_stmt < j->nstmts) {
        store_stmt *st = &j->stmts[j->cur_stmt];
        store_stmt_free(st);
        st->set = j->nsets;
        st->rows = w->set_rows;
        st->cols = cols;
        st->ncols = (uint32_t)w->ncols;
        cols = NULL;
    }
    pthread_mutex_unlock(&j->t.mu);
    if (cols) {
        store_stmt tmp;
        store_stmt_init(&tmp);
        tmp.cols = cols;
        tmp.ncols = (uint32_t)w->ncols;
        store_stmt_free(&tmp);
    }
    j->nsets++;
    return 0;
}

void
mode__sink_init(mode_job *j)
{
    j->sink.flush = sink_flush;
    j->sink.set_begin = sink_set_begin;
    j->sink.set_end = sink_set_end;
    rows_init(&j->w, &j->sink, &j->q, MODE__PAGE_SIZE, false);
    j->w.max_bytes = j->env->set.max_result_bytes;
    j->w.stats = true;
    j->w.live_rows = &j->rows_now;
}
