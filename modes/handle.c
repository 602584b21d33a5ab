/*
 * handle: parsing and printing the N-M of result and status URLs (see
 * handle.h).
 *
 * Strict on purpose: a handle has exactly one spelling, so "01-0" or "1-+0"
 * never reach the job store as another name for job 1.
 */
#include "modes/handle.h"

#include <stdbool.h>

#include "core/json.h"

/* Decimal digits without leading zeros ("0" itself is allowed; the caller
 * rejects it where it is out of range), at most max. */
static bool
read_num(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    if (n > 1 && s[0] == '0')
        return false;
    return qg_parse_uint64(s, n, max, out);
}

int
mode_handle_parse(const char *s, size_t n, uint64_t *job, uint32_t *set)
{
    if (!s)
        return -1;
    size_t dash = 0;
    while (dash < n && s[dash] != '-')
        dash++;
    if (dash == n)
        return -1;
    uint64_t j, m;
    if (!read_num(s, dash, INT64_MAX, &j) || j == 0)
        return -1;
    if (!read_num(s + dash + 1, n - dash - 1, INT32_MAX, &m))
        return -1;
    *job = j;
    *set = (uint32_t)m;
    return 0;
}

size_t
mode_handle_format(uint64_t job, uint32_t set, char *out)
{
    size_t n = qg_fmt_uint64(job, out);
    out[n++] = '-';
    n += qg_fmt_uint64(set, out + n);
    out[n] = '\0';
    return n;
}
