/*
 * fuzz_handle: modes/handle, the N-M of status and result URLs.
 *
 * The input is the handle text as it would follow /query/service/result/.
 * A handle has exactly one spelling, so whatever parses must print back
 * to the very same bytes, and the numbers must be in their ranges. The
 * input's first 12 bytes, read as numbers, also go the other way: every
 * valid (N, M) printed must parse back to itself.
 */
#include "modes/handle.h"

#include "fuzz.h"

/* Digits only, no leading zero (unless the number is "0"): the one
 * spelling, judged here without the parser's help. */
static bool
canonical_number(const uint8_t *p, size_t n)
{
    if (n == 0 || (n > 1 && p[0] == '0'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

static void
check_parse(const uint8_t *data, size_t size)
{
    char *s = fuzz_dup(data, size);
    uint64_t job = 0;
    uint32_t set = 0;
    int r = mode_handle_parse(s, size, &job, &set);
    FUZZ_CHECK(r == 0 || r == -1);
    if (r == 0) {
        FUZZ_CHECK(job >= 1 && job <= (uint64_t)INT64_MAX);
        FUZZ_CHECK(set <= (uint32_t)INT32_MAX);
        char out[MODE_HANDLE_MAX_TEXT];
        size_t n = mode_handle_format(job, set, out);
        FUZZ_CHECK(n < MODE_HANDLE_MAX_TEXT && out[n] == '\0');
        FUZZ_CHECK(n == size && memcmp(out, data, size) == 0);
    } else {
        /* Whatever was refused is either not N-M in digits, or out of range,
         * or not the one spelling: never a well-formed small handle. */
        const uint8_t *dash = memchr(data, '-', size);
        if (dash && size <= 12) {
            size_t a = (size_t)(dash - data);
            bool ok = canonical_number(data, a) && !(a == 1 && data[0] == '0') &&
                      canonical_number(dash + 1, size - a - 1) && size - a - 1 <= 9;
            FUZZ_CHECK(!ok);
        }
    }
    free(s);
}

static void
check_format(const uint8_t *data, size_t size)
{
    if (size < 12)
        return;
    uint64_t job;
    uint32_t set;
    memcpy(&job, data, sizeof(job));
    memcpy(&set, data + 8, sizeof(set));
    job = job % (uint64_t)INT64_MAX + 1; /* 1 .. 2^63-1 */
    set &= (uint32_t)INT32_MAX;
    char out[MODE_HANDLE_MAX_TEXT];
    size_t n = mode_handle_format(job, set, out);
    FUZZ_CHECK(n < MODE_HANDLE_MAX_TEXT && strlen(out) == n);
    uint64_t j2 = 0;
    uint32_t s2 = 0;
    char *copy = fuzz_dup(out, n);
    FUZZ_CHECK(mode_handle_parse(copy, n, &j2, &s2) == 0);
    FUZZ_CHECK(j2 == job && s2 == set);
    free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_parse(data, size);
    check_format(data, size);
    return 0;
}
