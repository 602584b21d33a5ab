/*
 * hmac: HMAC-SHA256, the signature on callback deliveries.
 *
 * A delivery carries X-Qgate-Timestamp: T (Unix seconds) and
 * X-Qgate-Signature: sha256=HEX, where HEX is the lower-case hex of
 * HMAC-SHA256(secret, T "." body). A receiver recomputes it over the bytes
 * it got and compares in constant time; the timestamp inside the signed
 * text lets it refuse old deliveries replayed later. Pure; any thread.
 */
#ifndef QG_HMAC_H
#define QG_HMAC_H

#include <stddef.h>

/* out gets the 64 hex digits of HMAC-SHA256(key, a || b || c) and a NUL.
 * Any of the parts may be empty (n 0). */
void qg_hmac_sha256_hex(const void *key, size_t keylen, const void *a, size_t an, const void *b,
                        size_t bn, const void *c, size_t cn, char out[65]);

#endif
