/* Unit tests for core/suggest: edit distance and "did you mean". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/suggest.h"

static size_t
dist(const char *a, const char *b)
{
    return qg_edit_distance(a, strlen(a), b, strlen(b));
}

static void
test_distance(void **state)
{
    assert_int_equal(dist("", ""), 0);
    assert_int_equal(dist("abc", ""), 3);
    assert_int_equal(dist("statement", "statment"), 1); /* a deletion */
    assert_int_equal(dist("async", "asnyc"), 1);        /* a swap */
    assert_int_equal(dist("mode", "Mode"), 0);          /* case is nothing */
    assert_int_equal(dist("kitten", "sitting"), 3);
    char longer[QG_SUGGEST_MAX_LEN + 2];
    memset(longer, 'a', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_int_equal(dist(longer, "a"), QG_SUGGEST_MAX_LEN + 1);
}

static void
test_suggest(void **state)
{
    static const char *const names[] = {"statement", "mode", "timeout", "pretty", "wait"};
    const size_t n = sizeof(names) / sizeof(names[0]);
    assert_string_equal(qg_suggest("statment", 8, names, n), "statement");
    assert_string_equal(qg_suggest("mdoe", 4, names, n), "mode");
    assert_string_equal(qg_suggest("timout", 6, names, n), "timeout");
    assert_string_equal(qg_suggest("Pretty", 6, names, n), "pretty");
    /* far ones are no suggestion: "x" is not "wait" */
    assert_null(qg_suggest("x", 1, names, n));
    assert_null(qg_suggest("zzz", 3, names, n));
    assert_null(qg_suggest("completely-else", 15, names, n));
    assert_null(qg_suggest("", 0, names, n));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distance),
        cmocka_unit_test(test_suggest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
