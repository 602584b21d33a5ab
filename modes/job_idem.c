/*
 * job_idem: retried submissions. A submission with an idempotency key
 * whose key names a stored job with the same request is answered from that
 * job and runs nothing. The loop looks the key up first (a read
 * transaction: mode_job_replayed); a key it does not find goes into the
 * job's CREATE op (mode__idem_op), whose look-up in the writer's
 * transaction is the one that counts: the writer orders racing
 * submissions, the second finds the first's entry and creates nothing
 * (store/idem.h).
 */
#include <string.h>

#include "core/clock.h"
#include "gateway/reply.h"
#include "modes/internal.h"
#include "store/idem.h"
#include "store/jobs.h"

void
mode__idem_op(mode_env *env, const qg_query *q, const char *principal, store_op *op)
{
    op->idem = true;
    store_idem_key(principal, q->idempotency_key, op->idem_key);
    store_idem_fingerprint(q, op->idem_fp);
    op->now_ns = qg_wall_ns();
    op->idem_expires_ns = op->now_ns + env->set.idempotency_ttl_ns;
}

/* Answers req with the first job r (REPLAY), for the retry q. */
static void
replay(gw_req *req, const store_job *r, const qg_query *q, const char *base, mode_answer_fn answer)
{
    mode_answer a = {
        .kind = MODE_ANSWER_REPLAY,
        .request_id = r->request_id,
        .q = q,
        .base = base,
        .job = r->id,
        .record = r,
    };
    qg_buf b = QG_BUF_INIT;
    int http;
    answer(&a, &b, &http);
    mode__send(req, MODE_ANSWER_REPLAY, http, &b);
    qg_buf_free(&b);
}

int
mode_job_replayed(mode_env *env, gw_req *req, const qg_query *q, const char *base,
                  mode_answer_fn answer)
{
    if (!q->idempotency_key)
        return 0;
    unsigned char key[32], fp[32], mine[32];
    uint64_t job;
    qg_error err;
    store_idem_key(req->principal, q->idempotency_key, key);
    int found = store_idem_lookup(env->store, key, qg_wall_ns(), &job, fp, &err);
    if (found <= 0) {
        if (found < 0)
            gw_reply_error(req, &err, NULL);
        return found;
    }
    store_idem_fingerprint(q, mine);
    if (memcmp(fp, mine, sizeof(fp)) != 0) {
        qg_error_set(&err, QG_E_CONFLICT,
                     "Idempotency key already used for a different request (another statement, "
                     "parameters or options)");
        gw_reply_error(req, &err, NULL);
        return -1;
    }
    store_job r;
    store_job_init(&r);
    if (store_jobs_read(env->store, job, &r, &err) < 0) {
        store_job_free(&r);
        gw_reply_error(req, &err, NULL);
        return -1;
    }
    r.id = job; /* also when the job itself is gone (swept): its handle says so */
    replay(req, &r, q, base, answer);
    store_job_free(&r);
    return 1;
}
