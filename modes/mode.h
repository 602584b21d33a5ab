/*
 * mode: how a validated /query/service request is delivered.
 *
 * immediate runs it now and streams the result in the response; stream
 * runs it now and answers with a stream of typed messages; deferred runs it
 * now and answers with a result handle; async stores it and answers with a
 * status handle at once. Each mode takes over the request and the query.
 * Loop thread.
 */
#ifndef QG_MODES_MODE_H
#define QG_MODES_MODE_H

#include "core/query.h"
#include "core/uuid.h"
#include "gateway/server.h"
#include "modes/env.h"

/* Starts q on req in q->mode. Takes ownership of q's contents (q is left
 * empty) and answers req now or later. request_id is the envelope's
 * requestID. */
void mode_start(mode_env *env, gw_req *req, qg_query *q, const char *request_id);

/* The modes behind mode_start, same contract: immediate.c (stream the
 * result in the response), stream.c (METADATA, RECORD, ... messages as
 * NDJSON or Server-Sent Events; q->stream), deferred.c (run and store it,
 * answer with a result handle), async.c (check and store the job, answer
 * with a status handle at once). */
void mode_immediate_start(mode_env *env, gw_req *req, qg_query *q, const char *request_id);
void mode_stream_start(mode_env *env, gw_req *req, qg_query *q, const char *request_id);
void mode_deferred_start(mode_env *env, gw_req *req, qg_query *q, const char *request_id);
void mode_async_start(mode_env *env, gw_req *req, qg_query *q, const char *request_id);

#endif
