/*
 * handle: parsing and printing the N-M of result and status URLs (see
 * handle.h).
 *
 * Strict on purpose: a handle has exactly one spelling, so "01-0" or "1-+0"
 * never reach the job store as another name for job 1.
 */
#include "gateway/handle.h"

#include <stdbool.h>

/* Reads s[0..n) as decimal digits without leading zeros ("0" itself is
 * allowed; the caller rejects it where it is out of range) and at most max. */
static bool
read_num(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    if (n == 0 || (n > 1 && s[0] == '0'))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

int
gw_handle_parse(const char *s, size_t n, uint64_t *job, uint32_t *set)
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

static size_t
put_u64(uint64_t v, char *out)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

size_t
gw_handle_format(uint64_t job, uint32_t set, char *out)
{
    /* 20 + 1 + 10 digits and the NUL fit GW_HANDLE_MAX_TEXT. */
    size_t n = put_u64(job, out);
    out[n++] = '-';
    n += put_u64(set, out + n);
    out[n] = '\0';
    return n;
}
