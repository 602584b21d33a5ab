/*
 * internal: what api/'s endpoints share and nothing else uses (the
 * layering check keeps api__ names inside the folder).
 */
#ifndef QG_API_INTERNAL_H
#define QG_API_INTERNAL_H

#include <stdint.h>

#include "gateway/server.h"

/* The N-M of a handle route (/query/service/status/N-M, .../result/N-M:
 * req->route_rest) into *job and *set: 0, or -1 after answering 400 with
 * an empty body (a malformed handle). Written once for both routes. */
int api__handle_of(gw_req *req, uint64_t *job, uint32_t *set);

#endif
