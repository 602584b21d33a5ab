/*
 * handle: the N-M of /query/service/{status,result}/N-M.
 *
 * N is the job number (1 and up, never reused), M the 0-based result-set
 * index. Pure; any thread.
 */
#ifndef QG_MODES_HANDLE_H
#define QG_MODES_HANDLE_H

#include <stddef.h>
#include <stdint.h>

/* "N-M" is at most 20 + 1 + 10 bytes; qg_fmt_uint64 asks 21 bytes of room
 * for M's digits too. */
#define MODE_HANDLE_MAX_TEXT 48

/* Parses s[0..n) as N-M: decimal digits only, no sign, no leading zeros
 * (except M == "0"), 1 <= N <= 2^63-1, 0 <= M <= 2^31-1, nothing else.
 * Returns 0 and sets *job, *set, or -1 when malformed. */
int mode_handle_parse(const char *s, size_t n, uint64_t *job, uint32_t *set);

/* Writes "N-M" and a NUL into out (MODE_HANDLE_MAX_TEXT bytes); returns the
 * length. */
size_t mode_handle_format(uint64_t job, uint32_t set, char *out);

#endif
