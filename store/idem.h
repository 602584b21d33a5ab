/*
 * idem: the idempotency index, which makes a retried submission return the
 * job of its first try instead of running again.
 *
 * A key is the client's Idempotency-Key scoped by its principal: the index
 * holds sha256(principal, 0, key) -> (job, expires_at, fingerprint), where
 * the fingerprint is a sha256 of everything the request asks for (mode,
 * statement, parameters, options; not how it is answered: wait, client
 * context id). The entry is written by the writer in the same transaction
 * as the job it names (STORE_OP_CREATE with idem set), so a key never names
 * a job that was not stored, and two submissions racing with one key are
 * ordered by the writer: the second finds the first's entry. Keys live for
 * --idempotency-ttl from their submission; the sweep deletes them by an
 * expiry index (be64 expires_at, sha256 -> "") in small batches.
 */
#ifndef QG_STORE_IDEM_H
#define QG_STORE_IDEM_H

#include <stdint.h>

#include "core/err.h"
#include "core/query.h"
#include "store/env.h"

/* sha256(principal or "", a 0 byte, key). Pure; any thread. */
void store_idem_key(const char *principal, const char *key, unsigned char out[32]);
/* The fingerprint of q: a sha256 of its mode, statement, args and $name
 * values (type and text as sent), readonly, pretty, signature,
 * multi-statement, format and CSV header, timeout, max-result-reads,
 * result-ttl and callback URL, each length-prefixed so that no two
 * requests share an encoding. Pure; any thread. */
void store_idem_fingerprint(const qg_query *q, unsigned char out[32]);

/* Looks the key up for a submission at now_ns. Returns 1 with *job and fp
 * when a live entry exists, 0 when none (or it expired), -1 with err.
 * Loop thread (one short read transaction). */
int store_idem_lookup(store_env *e, const unsigned char key[32], uint64_t now_ns, uint64_t *job,
                      unsigned char fp[32], qg_error *err);

#endif
