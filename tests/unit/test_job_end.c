/* Unit tests for modes/job_end: how a run of a stored job ends (the end
 * state, the error, what is stored, what a waiting request gets), as a
 * table of cases and as every combination checked against the rules
 * written out again here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "modes/internal.h"

/* Inputs, short: A async, W wait=, R ran (running state committed),
 * T retry, X rerunnable. */
enum { A = 1, W = 2, R = 4, T = 8, X = 16 };

static mode__end_in
in_of(unsigned flags, qg_code run, qg_code pages, qg_code cancel, uint32_t nsets)
{
    mode__end_in in = {
        .async = flags & A,
        .wait = flags & W,
        .ran = flags & R,
        .retry = flags & T,
        .rerunnable = flags & X,
        .run = run,
        .pages = pages,
        .cancel = cancel,
        .nsets = nsets,
    };
    return in;
}

static const struct row {
    const char *what;
    unsigned flags;
    qg_code run, pages, cancel;
    uint32_t nsets;
    /* expected */
    store_state state;
    qg_code code;
    mode__err_from from;
    bool store, stmts, sets, empty_set;
    mode__answer answer;
} rows[] = {
    /* what                                      flags      run                    pages cancel sets
       state          code                    from             store  stmts  sets   empty  answer */
    {"deferred success", R, QG_OK, QG_OK, QG_OK, 2, STORE_SUCCESS, QG_OK, MODE__ERR_NONE, true,
     true, true, false, MODE__ANSWER_OUTCOME},
    {"deferred success, no query statement", R, QG_OK, QG_OK, QG_OK, 0, STORE_SUCCESS, QG_OK,
     MODE__ERR_NONE, true, true, true, true, MODE__ANSWER_OUTCOME},
    {"async success, nobody waits", A | R, QG_OK, QG_OK, QG_OK, 1, STORE_SUCCESS, QG_OK,
     MODE__ERR_NONE, true, true, true, false, MODE__ANSWER_NONE},
    {"async success, wait=", A | W | R, QG_OK, QG_OK, QG_OK, 1, STORE_SUCCESS, QG_OK,
     MODE__ERR_NONE, true, true, true, false, MODE__ANSWER_OUTCOME},
    {"a statement failed", A | R, QG_E_RUNTIME, QG_OK, QG_OK, 1, STORE_FAILED, QG_E_RUNTIME,
     MODE__ERR_RUN, true, true, true, false, MODE__ANSWER_NONE},
    {"deferred compile error: nothing stored", 0, QG_E_SYNTAX, QG_OK, QG_OK, 0, STORE_FAILED,
     QG_E_SYNTAX, MODE__ERR_RUN, false, true, true, false, MODE__ANSWER_OUTCOME},
    {"async compile error on the worker", A, QG_E_UNKNOWN_OBJECT, QG_OK, QG_OK, 0, STORE_FAILED,
     QG_E_UNKNOWN_OBJECT, MODE__ERR_RUN, true, true, true, false, MODE__ANSWER_NONE},
    {"its timeout", A | R, QG_E_TIMEOUT, QG_OK, QG_OK, 1, STORE_TIMEOUT, QG_E_TIMEOUT,
     MODE__ERR_RUN, true, true, true, false, MODE__ANSWER_NONE},
    {"a page refused, the run fine", R, QG_OK, QG_E_STORE_FULL, QG_OK, 1, STORE_FAILED,
     QG_E_STORE_FULL, MODE__ERR_PAGES, true, true, true, false, MODE__ANSWER_OUTCOME},
    {"a page refused, the run failed too", R, QG_E_RUNTIME, QG_E_STORE_FULL, QG_OK, 1, STORE_FAILED,
     QG_E_RUNTIME, MODE__ERR_RUN, true, true, true, false, MODE__ANSWER_OUTCOME},
    {"cancelled while it ran", A | R, QG_E_CANCELLED, QG_OK, QG_E_CANCELLED, 1, STORE_FAILED,
     QG_E_CANCELLED, MODE__ERR_NEW, true, true, true, false, MODE__ANSWER_NONE},
    {"a cancel claimed the end of a success", A | R, QG_OK, QG_OK, QG_E_CANCELLED, 1, STORE_FAILED,
     QG_E_CANCELLED, MODE__ERR_NEW, true, true, true, false, MODE__ANSWER_NONE},
    {"wait= cancel claimed the end: timeout", A | W | R, QG_OK, QG_OK, QG_E_TIMEOUT, 1,
     STORE_TIMEOUT, QG_E_TIMEOUT, MODE__ERR_NEW, true, true, true, false, MODE__ANSWER_OUTCOME},
    {"drain: rerunnable goes back to queued", A | R | X, QG_E_DRAINING, QG_OK, QG_E_DRAINING, 1,
     STORE_QUEUED, QG_E_DRAINING, MODE__ERR_NEW, true, false, false, false, MODE__ANSWER_ACCEPTED},
    {"drain: one that may have written", A | R, QG_E_DRAINING, QG_OK, QG_E_DRAINING, 1,
     STORE_FAILED, QG_E_OUTCOME_UNKNOWN, MODE__ERR_NEW, true, true, false, false,
     MODE__ANSWER_NONE},
    {"drain before running: still queued", A, QG_E_DRAINING, QG_OK, QG_OK, 0, STORE_QUEUED,
     QG_E_DRAINING, MODE__ERR_RUN, false, true, false, false, MODE__ANSWER_ACCEPTED},
    {"drain cuts a deferred job: failed", R, QG_E_DRAINING, QG_OK, QG_E_DRAINING, 1, STORE_FAILED,
     QG_E_DRAINING, MODE__ERR_NEW, true, true, true, false, MODE__ANSWER_OUTCOME},
    {"drain, wait= request, may have written", A | W | R, QG_E_DRAINING, QG_OK, QG_E_DRAINING, 1,
     STORE_FAILED, QG_E_OUTCOME_UNKNOWN, MODE__ERR_NEW, true, true, false, false,
     MODE__ANSWER_OUTCOME},
    {"database away, out of time", A, QG_E_BACKEND, QG_OK, QG_OK, 0, STORE_FAILED, QG_E_BACKEND,
     MODE__ERR_RUN, true, true, true, false, MODE__ANSWER_NONE},
    {"deferred retry: the first job answers", T, QG_OK, QG_OK, QG_OK, 0, STORE_SUCCESS, QG_OK,
     MODE__ERR_NONE, false, false, true, true, MODE__ANSWER_REPLAY},
    {"a retry has no end to be cancelled", T, QG_OK, QG_OK, QG_E_CANCELLED, 0, STORE_SUCCESS, QG_OK,
     MODE__ERR_NONE, false, false, true, true, MODE__ANSWER_REPLAY},
};

static void
test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct row *r = &rows[i];
        mode__end_in in = in_of(r->flags, r->run, r->pages, r->cancel, r->nsets);
        mode__end_out out;
        mode__job_end(&in, &out);
        char what[200];
        snprintf(what, sizeof(what),
                 "%s: state %d code %s from %d store %d stmts %d sets %d "
                 "empty %d answer %d",
                 r->what, out.state, qg_err_name(out.code), out.from, out.store, out.stmts,
                 out.sets, out.empty_set, out.answer);
        bool same = out.state == r->state && out.code == r->code && out.from == r->from &&
                    out.store == r->store && out.stmts == r->stmts && out.sets == r->sets &&
                    out.empty_set == r->empty_set && out.answer == r->answer;
        if (!same)
            fail_msg("%s", what);
    }
}

/* Every combination, against the rules said once more in other words. */
static void
test_every_combination(void **state)
{
    (void)state;
    static const qg_code runs[] = {QG_OK,         QG_E_RUNTIME, QG_E_SYNTAX,    QG_E_TIMEOUT,
                                   QG_E_DRAINING, QG_E_BACKEND, QG_E_CANCELLED, QG_E_STORE_FULL};
    static const qg_code pagess[] = {QG_OK, QG_E_STORE_FULL, QG_E_STORE};
    static const qg_code cancels[] = {QG_OK, QG_E_CANCELLED, QG_E_TIMEOUT, QG_E_DRAINING};
    size_t n = 0;
    for (unsigned flags = 0; flags < 32; flags++)
        for (size_t a = 0; a < sizeof(runs) / sizeof(runs[0]); a++)
            for (size_t b = 0; b < sizeof(pagess) / sizeof(pagess[0]); b++)
                for (size_t c = 0; c < sizeof(cancels) / sizeof(cancels[0]); c++)
                    for (uint32_t nsets = 0; nsets < 3; nsets++) {
                        mode__end_in in = in_of(flags, runs[a], pagess[b], cancels[c], nsets);
                        mode__end_out o;
                        mode__job_end(&in, &o);
                        n++;
                        /* the error: a cancel's reason when it claimed the end, else
                         * the run's, else a refused page's */
                        qg_code want = in.run != QG_OK ? in.run : in.pages;
                        if (in.cancel && !in.retry)
                            want = in.cancel;
                        bool drained = want == QG_E_DRAINING && in.async;
                        bool unknown = drained && in.ran && !in.rerunnable;
                        assert_int_equal(o.code, unknown ? QG_E_OUTCOME_UNKNOWN : want);
                        /* success only when nothing failed and nobody cancelled */
                        assert_int_equal(o.state == STORE_SUCCESS, o.code == QG_OK);
                        assert_int_equal(o.from == MODE__ERR_NONE, o.code == QG_OK);
                        /* back to queued only by a drain, and only what cannot have
                         * written or never started */
                        assert_int_equal(o.state == STORE_QUEUED, drained && !unknown);
                        assert_int_equal(o.state == STORE_TIMEOUT, o.code == QG_E_TIMEOUT);
                        /* a cancelled job names its request: a new message */
                        if (o.code == QG_E_CANCELLED || (in.cancel && !in.retry))
                            assert_int_equal(o.from, MODE__ERR_NEW);
                        if (o.from == MODE__ERR_PAGES)
                            assert_true(in.run == QG_OK && in.pages != QG_OK);
                        /* stored: what ran or was accepted; never a retry, never one a
                         * drain left queued before it ran */
                        assert_int_equal(o.store, (in.ran || in.async) && !in.retry &&
                                                      !(drained && !in.ran));
                        /* the statements' outcome goes with it, but for a retry and a
                         * rerunnable job queued again (they stay as stored) */
                        assert_int_equal(o.stmts,
                                         !in.retry && !(o.state == STORE_QUEUED && in.ran));
                        /* sets: a success's and a failure's; none when queued again or
                         * the outcome is unknown */
                        assert_int_equal(o.sets, o.state != STORE_QUEUED && !unknown);
                        assert_int_equal(o.empty_set, o.state == STORE_SUCCESS && nsets == 0);
                        /* who hears what */
                        mode__answer ans = MODE__ANSWER_NONE;
                        if (in.retry)
                            ans = MODE__ANSWER_REPLAY;
                        else if (in.async && o.state == STORE_QUEUED)
                            ans = MODE__ANSWER_ACCEPTED;
                        else if (!in.async || in.wait)
                            ans = MODE__ANSWER_OUTCOME;
                        assert_int_equal(o.answer, ans);
                    }
    assert_int_equal(n, 32 * 8 * 3 * 4 * 3);
}

/* A failed run goes back to the queue only when it is async, the database
 * was away, and nothing of it reached the server. */
static void
test_requeue(void **state)
{
    (void)state;
    for (unsigned flags = 0; flags < 32; flags++) {
        mode__end_in in = in_of(flags, QG_E_BACKEND, QG_OK, QG_OK, 0);
        bool want = (flags & A) && !(flags & R) && !(flags & T);
        assert_int_equal(mode__job_requeue_due(&in), want);
        in.run = QG_E_RUNTIME;
        assert_false(mode__job_requeue_due(&in));
        in.run = QG_OK;
        assert_false(mode__job_requeue_due(&in));
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_every_combination),
        cmocka_unit_test(test_requeue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
