/*
 * auth: bearer-token principals (--auth-file), off when no file is given.
 *
 * The file has one principal a line:
 *   NAME SHA256_OF_TOKEN_HEX [readonly] [KEY=VALUE ...]
 * blank lines and '#' comments are skipped. The KEY=VALUE options set the
 * principal's share and limits, overriding the server's (docs/api.md,
 * "Limits"): weight=N (1..1000: batch turns in a row), max-queued=N,
 * max-running=N, result-quota=SIZE, timeout=DURATION (its default),
 * max-timeout=DURATION. Clients send
 * `Authorization: Bearer TOKEN`; qgate hashes the token and compares the
 * digest with every principal's in constant time (no early exit, no
 * length leak), so neither the token nor which principal nearly matched
 * can be timed. The file is refused when its group or others may read it.
 *
 * Loaded once at start (main thread); read-only afterwards, any thread.
 */
#ifndef QG_GW_AUTH_H
#define QG_GW_AUTH_H

#include <stdbool.h>
#include <stddef.h>

typedef struct gw_principal {
    char name[64];
    unsigned char digest[32]; /* SHA-256 of the token */
    bool readonly;            /* may only run queries (ASX0044 otherwise) */
    unsigned weight;          /* batch turns in a row among principals; default 1 */
    /* Overrides of the server's per-principal limits; -1: the server's. */
    long long max_queued, max_running, result_quota, timeout_ns, max_timeout_ns;
} gw_principal;

typedef struct gw_auth {
    gw_principal *v;
    size_t n;
} gw_auth;

/* Reads path. Returns 0, or -1 with a message naming the file (and line) in
 * err: unreadable, readable by group or others, a malformed line, a
 * duplicate name or digest. */
int gw_auth_load(const char *path, gw_auth *out, char *err, size_t errlen);
void gw_auth_free(gw_auth *a);

/* The principal an Authorization header value names, or NULL (missing
 * header, not "Bearer", empty or unknown token). */
const gw_principal *gw_auth_check(const gw_auth *a, const char *authorization);

/* The principal called name, or NULL. */
const gw_principal *gw_auth_find(const gw_auth *a, const char *name);

/* SHA-256 of s[0..n) into out. */
void gw_sha256(const void *s, size_t n, unsigned char out[32]);

#endif
