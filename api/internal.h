/*
 * internal: what api/'s endpoints share and nothing else uses (the
 * layering check keeps api__ names inside the folder).
 */
#ifndef QG_API_INTERNAL_H
#define QG_API_INTERNAL_H

#include <stdint.h>

#include "gateway/server.h"

/* The N-M of a handle route (/query/service/status/N-M, .../result/N-M:
 * req->route_rest) into *job and *set: 0, or -1 after answering 400
 * ASX0909 saying what a handle looks like (a malformed handle). Written
 * once for both routes. */
int api__handle_of(gw_req *req, uint64_t *job, uint32_t *set);
/* Why a handle finds nothing, for its 404. */
#define RESULT_GONE                                                                                \
    "no such result: it was read as often as its max-result-reads allows, discarded, "             \
    "expired (result-ttl), or never existed here for this principal"
#define JOB_GONE "no such job or result set: unknown, expired (result-ttl), or not this principal's"

/* 404 ASX0919 "Not found: <why>" as a JSON error document. */
void api__not_found(gw_req *req, const char *why);

#endif
