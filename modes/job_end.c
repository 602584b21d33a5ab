/*
 * job_end: how a run of a stored job ends — the recovery contract's other
 * half, as a pure function (see internal.h; job_run.c applies it).
 *
 * The rules, in order:
 *   - the error is the run's; a run that succeeded but had a result page
 *     refused by the store fails with the page's error;
 *   - a cancel that claimed the end before the worker did decides it, also
 *     over a success (a 200 to the DELETE means cancelled): the job fails
 *     with the cancel's reason (ASX0041, with the request id, for a plain
 *     cancel); a retry has no end of its own to claim;
 *   - success: its sets (a job without a query statement gets one empty
 *     set 0, so N-0 always answers);
 *   - cut by a drain (QG_E_DRAINING), an async job goes back to queued
 *     when it never reached its running state (nothing is written: it
 *     still is queued in the store) or when it is rerunnable (it runs
 *     again after the restart, its statements as stored); any other is
 *     failed with ASX0921, outcome unknown (it may have written), without
 *     sets;
 *   - otherwise timeout or failed, keeping the sets its statements
 *     completed before the error;
 *   - stored: what ran or was accepted, never a retry (the first job is
 *     the one stored);
 *   - answered: a retry with the first job; an async job put back to
 *     queued with its status handle; a deferred job, or an async one whose
 *     request may wait (wait=), with its outcome.
 */
#include <string.h>

#include "modes/internal.h"

void
mode__job_end(const mode__end_in *in, mode__end_out *out)
{
    memset(out, 0, sizeof(*out));
    qg_code code = in->run;
    out->from = MODE__ERR_RUN;
    if (code == QG_OK && in->pages != QG_OK) {
        code = in->pages;
        out->from = MODE__ERR_PAGES;
    }
    if (!in->retry && in->cancel != QG_OK) {
        code = in->cancel;
        out->from = MODE__ERR_NEW;
    }
    if (code == QG_E_CANCELLED)
        out->from = MODE__ERR_NEW; /* it names the request that was cancelled */

    out->store = (in->ran || in->async) && !in->retry;
    out->stmts = !in->retry;
    if (code == QG_OK) {
        out->state = STORE_SUCCESS;
        out->from = MODE__ERR_NONE;
        out->sets = true;
        out->empty_set = in->nsets == 0;
    } else if (code == QG_E_DRAINING && in->async) {
        if (!in->ran) {
            out->state = STORE_QUEUED;
            out->store = false;
        } else if (in->rerunnable) {
            out->state = STORE_QUEUED;
            out->stmts = false; /* they stay queued, as stored */
        } else {
            out->state = STORE_FAILED;
            code = QG_E_OUTCOME_UNKNOWN;
            out->from = MODE__ERR_NEW;
        }
    } else {
        out->state = code == QG_E_TIMEOUT ? STORE_TIMEOUT : STORE_FAILED;
        out->sets = true;
    }
    out->code = code;

    if (in->retry)
        out->answer = MODE__ANSWER_REPLAY;
    else if (in->async && out->state == STORE_QUEUED)
        out->answer = MODE__ANSWER_ACCEPTED;
    else if (!in->async || in->wait)
        out->answer = MODE__ANSWER_OUTCOME;
    else
        out->answer = MODE__ANSWER_NONE;
}

bool
mode__job_requeue_due(const mode__end_in *in)
{
    return in->run == QG_E_BACKEND && in->async && !in->ran && !in->retry;
}
