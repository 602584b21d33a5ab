/* Unit tests for modes/handle: the N-M of status and result URLs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "modes/handle.h"

static int
parse(const char *s, uint64_t *job, uint32_t *set)
{
    /* An exact-size heap copy: the parser must not look past n. */
    size_t n = strlen(s);
    char *copy = malloc(n ? n : 1);
    memcpy(copy, s, n);
    int rc = mode_handle_parse(copy, n, job, set);
    free(copy);
    return rc;
}

static void
test_parse_valid(void **state)
{
    uint64_t job;
    uint32_t set;
    assert_int_equal(parse("1-0", &job, &set), 0);
    assert_int_equal(job, 1);
    assert_int_equal(set, 0);
    assert_int_equal(parse("123-45", &job, &set), 0);
    assert_int_equal(job, 123);
    assert_int_equal(set, 45);
    assert_int_equal(parse("9223372036854775807-2147483647", &job, &set), 0);
    assert_true(job == 9223372036854775807ull);
    assert_int_equal(set, 2147483647u);
    assert_int_equal(parse("10-10", &job, &set), 0);
    assert_int_equal(job, 10);
    assert_int_equal(set, 10);
    /* Only n bytes count. */
    assert_int_equal(mode_handle_parse("7-3/extra", 3, &job, &set), 0);
    assert_int_equal(job, 7);
    assert_int_equal(set, 3);
}

static void
test_parse_invalid(void **state)
{
    const char *bad[] = {
        "",
        "-",
        "1",
        "1-",
        "-0",
        "0-0",
        "00-0",
        "01-0",
        "1-00",
        "1-01",
        "+1-0",
        "1-+0",
        "-1-0",
        "1--0",
        "1-0-0",
        "1-0-",
        " 1-0",
        "1-0 ",
        "1 -0",
        "1- 0",
        "a-0",
        "1-a",
        "1-0x",
        "0x1-0",
        "1.0-0",
        "1-0.0",
        "1_0",
        "1/0",
        "1-0\n",
        "9223372036854775808-0",  /* N above 2^63-1 */
        "18446744073709551616-0", /* N above 2^64-1 */
        "99999999999999999999999-0",
        "1-2147483648", /* M above 2^31-1 */
        "1-4294967296",
        "1-99999999999999999999",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t job = 77;
        uint32_t set = 77;
        if (parse(bad[i], &job, &set) != -1)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(job, 77); /* untouched on failure */
        assert_int_equal(set, 77);
    }
    uint64_t job;
    uint32_t set;
    assert_int_equal(mode_handle_parse("1-\0", 3, &job, &set), -1);
    assert_int_equal(mode_handle_parse("1\0-0", 4, &job, &set), -1);
    assert_int_equal(mode_handle_parse(NULL, 0, &job, &set), -1);
}

static void
test_format(void **state)
{
    char out[MODE_HANDLE_MAX_TEXT];
    assert_int_equal(mode_handle_format(1, 0, out), 3);
    assert_string_equal(out, "1-0");
    assert_int_equal(mode_handle_format(1234567, 89, out), 10);
    assert_string_equal(out, "1234567-89");
    /* The longest text the types allow still fits. */
    memset(out, 'x', sizeof(out));
    assert_int_equal(mode_handle_format(UINT64_MAX, UINT32_MAX, out), 31);
    assert_string_equal(out, "18446744073709551615-4294967295");

    /* Round trips at the edges of the valid range. */
    const uint64_t jobs[] = {1, 9, 10, 99, 100, 4294967296ull, INT64_MAX};
    const uint32_t sets[] = {0, 1, 9, 10, 65535, INT32_MAX};
    for (size_t i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++) {
        for (size_t k = 0; k < sizeof(sets) / sizeof(sets[0]); k++) {
            size_t n = mode_handle_format(jobs[i], sets[k], out);
            assert_int_equal(strlen(out), n);
            uint64_t job;
            uint32_t set;
            assert_int_equal(mode_handle_parse(out, n, &job, &set), 0);
            assert_true(job == jobs[i]);
            assert_int_equal(set, sets[k]);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid),
        cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
