/* Unit tests for exec/pgsql_array: array text -> JSON arrays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/json.h"
#include "exec/pgsql_array.h"

/* Elements as JSON strings, so the test sees exactly what was unquoted. */
static void
as_string(qg_buf *out, const char *p, size_t n, void *arg)
{
    (*(int *)arg)++;
    qg_json_string(out, p, n);
}

/* Elements as they are (numbers). */
static void
as_is(qg_buf *out, const char *p, size_t n, void *arg)
{
    qg_buf_add(out, p, n);
}

static int
conv(const char *s, char delim, pgsql_elem_fn fn, qg_buf *out)
{
    size_t n = strlen(s);
    char *copy = malloc(n ? n : 1);
    memcpy(copy, s, n);
    int calls = 0;
    int rc = pgsql_array_json(out, copy, n, delim, fn, &calls);
    free(copy);
    return rc;
}

#define assert_array(s, fn, want)                                                                  \
    do {                                                                                           \
        qg_buf b_ = QG_BUF_INIT;                                                                   \
        assert_int_equal(conv((s), ',', (fn), &b_), 0);                                            \
        assert_string_equal(b_.data, (want));                                                      \
        qg_buf_free(&b_);                                                                          \
    } while (0)

#define assert_not_array(s)                                                                        \
    do {                                                                                           \
        qg_buf b_ = QG_BUF_INIT;                                                                   \
        qg_buf_addlit(&b_, "keep");                                                                \
        assert_int_equal(conv((s), ',', as_string, &b_), -1);                                      \
        assert_string_equal(b_.data, "keep");                                                      \
        qg_buf_free(&b_);                                                                          \
    } while (0)

static void
test_flat(void **state)
{
    assert_array("{1,2,3}", as_is, "[1,2,3]");
    assert_array("{}", as_is, "[]");
    assert_array("{ 1 , 2 }", as_is, "[1,2]");
    assert_array("{a,b c,d}", as_string, "[\"a\",\"b c\",\"d\"]");
}

static void
test_null(void **state)
{
    assert_array("{1,NULL,null,3}", as_is, "[1,null,null,3]");
    /* quoted, it is the text NULL */
    assert_array("{\"NULL\",NULL}", as_string, "[\"NULL\",null]");
    assert_array("{NULLS}", as_string, "[\"NULLS\"]");
}

static void
test_quoting(void **state)
{
    assert_array("{\"a,b\",\"c\\\"d\",\"e\\\\f\",\"\",\"{x}\"}", as_string,
                 "[\"a,b\",\"c\\\"d\",\"e\\\\f\",\"\",\"{x}\"]");
    assert_array("{\"  spaced  \"}", as_string, "[\"  spaced  \"]");
    /* unquoted with a backslash escape */
    assert_array("{a\\,b}", as_string, "[\"a,b\"]");
    assert_array("{\"\xc3\xa9t\xc3\xa9\"}", as_string, "[\"\xc3\xa9t\xc3\xa9\"]");
}

static void
test_nested_and_bounds(void **state)
{
    assert_array("{{1,2},{3,4}}", as_is, "[[1,2],[3,4]]");
    assert_array("{{{1}},{{2}}}", as_is, "[[[1]],[[2]]]");
    assert_array("[0:2]={1,2,3}", as_is, "[1,2,3]");
    assert_array("[1:1][-1:0]={{5,6}}", as_is, "[[5,6]]");
    assert_array("{{\"a\",NULL},{\"b\",\"c\"}}", as_string, "[[\"a\",null],[\"b\",\"c\"]]");
}

static void
test_other_delimiter(void **state)
{
    qg_buf b = QG_BUF_INIT;
    assert_int_equal(conv("{(1,2),(3,4);(5,6),(7,8)}", ';', as_string, &b), 0);
    assert_string_equal(b.data, "[\"(1,2),(3,4)\",\"(5,6),(7,8)\"]");
    qg_buf_free(&b);
}

static void
test_malformed(void **state)
{
    assert_not_array("");
    assert_not_array("1,2");
    assert_not_array("{1,2");
    assert_not_array("{1,2}x");
    assert_not_array("{\"open}");
    assert_not_array("{1,,2}");
    assert_not_array("{a\"b}");
    assert_not_array("[0:2]{1}");
    assert_not_array("{\\");
    assert_not_array("{{{{{{{{{{{{{{{{{{1}}}}}}}}}}}}}}}}}}");
}

static void
test_every_prefix(void **state)
{
    const char *s = "[0:1]={{\"a\\\"b\",NULL},{c\\,d, \"\" }}";
    size_t n = strlen(s);
    for (size_t len = 0; len <= n; len++) {
        char *copy = malloc(len ? len : 1);
        memcpy(copy, s, len);
        qg_buf b = QG_BUF_INIT;
        int calls = 0;
        int rc = pgsql_array_json(&b, copy, len, ',', as_string, &calls);
        assert_int_equal(rc, len == n ? 0 : -1);
        if (rc == 0)
            assert_string_equal(b.data, "[[\"a\\\"b\",null],[\"c,d\",\"\"]]");
        qg_buf_free(&b);
        free(copy);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flat),
        cmocka_unit_test(test_null),
        cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_nested_and_bounds),
        cmocka_unit_test(test_other_delimiter),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_every_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
