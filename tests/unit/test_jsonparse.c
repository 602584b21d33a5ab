/* Unit tests for core/jsonparse: the strict JSON reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/arena.h"
#include "core/jsonparse.h"

static const qg_json_limits lim64 = {64, 100000};

/* Parses a copy of s[0..n) that is not NUL-terminated, so the reader can
 * never lean on a terminator. */
static int
parse_n(qg_arena *a, const char *s, size_t n, const qg_json_limits *lim, qg_jval *v,
        const char **why)
{
    char *copy = qg_arena_alloc(a, n ? n : 1);
    memcpy(copy, s, n);
    return qg_json_parse(copy, n, a, lim, v, why);
}

static int
parse(qg_arena *a, const char *s, qg_jval *v)
{
    const char *why;
    return parse_n(a, s, strlen(s), &lim64, v, &why);
}

static void
assert_raw(const qg_jval *v, const char *raw)
{
    assert_int_equal(v->raw_len, strlen(raw));
    assert_memory_equal(v->raw, raw, v->raw_len);
}

static void
test_scalars(void **state)
{
    qg_arena a = QG_ARENA_INIT;
    qg_jval v;

    assert_int_equal(parse(&a, "null", &v), 0);
    assert_int_equal(v.type, QG_J_NULL);
    assert_raw(&v, "null");
    assert_int_equal(parse(&a, " true ", &v), 0);
    assert_int_equal(v.type, QG_J_TRUE);
    assert_raw(&v, "true");
    assert_int_equal(parse(&a, "\t\r\nfalse\n", &v), 0);
    assert_int_equal(v.type, QG_J_FALSE);
    assert_raw(&v, "false");

    const char *numbers[] = {"0",      "-0",      "1",     "-1",   "9007199254740993",
                             "1.5",    "-0.0e0",  "1e10",  "1E+2", "1e-2",
                             "123.456e-789", "100000000000000000000000000000000", "1e400"};
    for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
        assert_int_equal(parse(&a, numbers[i], &v), 0);
        assert_int_equal(v.type, QG_J_NUMBER);
        assert_raw(&v, numbers[i]);
    }

    assert_int_equal(parse(&a, "\"hello\"", &v), 0);
    assert_int_equal(v.type, QG_J_STRING);
    assert_raw(&v, "\"hello\"");
    assert_string_equal(v.str, "hello");
    assert_int_equal(v.str_len, 5);

    assert_int_equal(parse(&a, "\"\"", &v), 0);
    assert_int_equal(v.type, QG_J_STRING);
    assert_int_equal(v.str_len, 0);
    assert_string_equal(v.str, "");
    qg_arena_free(&a);
}

static void
test_containers(void **state)
{
    qg_arena a = QG_ARENA_INIT;
    qg_jval v;

    assert_int_equal(parse(&a, "[]", &v), 0);
    assert_int_equal(v.type, QG_J_ARRAY);
    assert_int_equal(v.count, 0);
    assert_int_equal(parse(&a, "{ }", &v), 0);
    assert_int_equal(v.type, QG_J_OBJECT);
    assert_int_equal(v.count, 0);
    assert_raw(&v, "{ }");

    const char *doc = " [ 1 , \"two\" , [ 3 , [ ] ] , { \"k\" : null } , true ] ";
    assert_int_equal(parse(&a, doc, &v), 0);
    assert_int_equal(v.type, QG_J_ARRAY);
    assert_raw(&v, "[ 1 , \"two\" , [ 3 , [ ] ] , { \"k\" : null } , true ]");
    assert_int_equal(v.count, 5);
    assert_int_equal(v.items[0].type, QG_J_NUMBER);
    assert_raw(&v.items[0], "1");
    assert_string_equal(v.items[1].str, "two");
    assert_int_equal(v.items[2].type, QG_J_ARRAY);
    assert_raw(&v.items[2], "[ 3 , [ ] ]");
    assert_int_equal(v.items[2].count, 2);
    assert_int_equal(v.items[2].items[1].type, QG_J_ARRAY);
    assert_int_equal(v.items[3].type, QG_J_OBJECT);
    assert_raw(&v.items[3], "{ \"k\" : null }");
    assert_int_equal(v.items[3].count, 1);
    assert_string_equal(v.items[3].members[0].key, "k");
    assert_int_equal(v.items[3].members[0].val.type, QG_J_NULL);
    assert_int_equal(v.items[4].type, QG_J_TRUE);

    assert_int_equal(parse(&a, "{\"a\":{\"b\":[{\"c\":\"d\"}]},\"\":0}", &v), 0);
    assert_int_equal(v.count, 2);
    assert_string_equal(v.members[0].key, "a");
    assert_string_equal(v.members[0].val.members[0].key, "b");
    assert_string_equal(v.members[0].val.members[0].val.items[0].members[0].val.str, "d");
    assert_int_equal(v.members[1].key_len, 0);
    qg_arena_free(&a);
}

static void
test_duplicates_in_order(void **state)
{
    qg_arena a = QG_ARENA_INIT;
    qg_jval v;
    assert_int_equal(parse(&a, "{\"x\":1,\"y\":2,\"x\":3,\"x\":\"4\"}", &v), 0);
    assert_int_equal(v.count, 4);
    const char *keys[] = {"x", "y", "x", "x"};
    const char *raws[] = {"1", "2", "3", "\"4\""};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(v.members[i].key, keys[i]);
        assert_raw(&v.members[i].val, raws[i]);
    }
    qg_arena_free(&a);
}

static void
test_escapes(void **state)
{
    qg_arena a = QG_ARENA_INIT;
    qg_jval v;

    assert_int_equal(parse(&a, "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", &v), 0);
    assert_string_equal(v.str, "\"\\/\b\f\n\r\t");

    /* \u0000 is a NUL inside the text: str_len is the truth. */
    assert_int_equal(parse(&a, "\"a\\u0000b\"", &v), 0);
    assert_int_equal(v.str_len, 3);
    assert_memory_equal(v.str, "a\0b", 4);

    assert_int_equal(parse(&a, "\"\\u00e9\\u00C9\\u20AC\\u0041\"", &v), 0);
    assert_string_equal(v.str, "\xC3\xA9\xC3\x89\xE2\x82\xAC" "A");

    /* Surrogate pairs join into one code point. */
    assert_int_equal(parse(&a, "\"\\uD83D\\uDE00\"", &v), 0);
    assert_string_equal(v.str, "\xF0\x9F\x98\x80");
    assert_int_equal(parse(&a, "\"\\udbff\\udfff\"", &v), 0);
    assert_string_equal(v.str, "\xF4\x8F\xBF\xBF");

    /* Raw UTF-8 passes through unchanged. */
    assert_int_equal(parse(&a, "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"", &v), 0);
    assert_string_equal(v.str, "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");

    /* Escaped keys are decoded too. */
    assert_int_equal(parse(&a, "{\"\\u0024x\":1}", &v), 0);
    assert_string_equal(v.members[0].key, "$x");
    qg_arena_free(&a);
}

static void
expect_fail(const char *s, size_t n)
{
    qg_arena a = QG_ARENA_INIT;
    qg_jval v;
    const char *why = NULL;
    if (parse_n(&a, s, n, &lim64, &v, &why) != -1)
        fail_msg("accepted: %.*s", (int)n, s);
    assert_non_null(why);
    qg_arena_free(&a);
}

#define FAIL(lit) expect_fail((lit), sizeof(lit) - 1)

static void
test_grammar_errors(void **state)
{
    /* Nothing, or only whitespace. */
    FAIL("");
    FAIL("   ");
    /* Literals. */
    FAIL("tru");
    FAIL("nul");
    FAIL("True");
    FAIL("NULL");
    FAIL("falsey");
    FAIL("NaN");
    FAIL("Infinity");
    FAIL("-Infinity");
    FAIL("undefined");
    /* Numbers. */
    FAIL("01");
    FAIL("-01");
    FAIL("00");
    FAIL("+1");
    FAIL("-");
    FAIL("1.");
    FAIL(".5");
    FAIL("1.e5");
    FAIL("1e");
    FAIL("1e+");
    FAIL("1E-");
    FAIL("0x10");
    FAIL("1_000");
    FAIL("- 1");
    /* Arrays. */
    FAIL("[");
    FAIL("[1");
    FAIL("[1,");
    FAIL("[1,]");
    FAIL("[,1]");
    FAIL("[,]");
    FAIL("[1 2]");
    FAIL("[1;2]");
    FAIL("]");
    /* Objects. */
    FAIL("{");
    FAIL("{\"a\"");
    FAIL("{\"a\"}");
    FAIL("{\"a\":}");
    FAIL("{\"a\" 1}");
    FAIL("{a:1}");
    FAIL("{'a':1}");
    FAIL("{1:1}");
    FAIL("{\"a\":1,}");
    FAIL("{,}");
    FAIL("{\"a\":1 \"b\":2}");
    FAIL("{\"a\":1]");
    FAIL("[1}");
    /* Strings. */
    FAIL("\"abc");
    FAIL("\"abc\\\"");
    FAIL("'abc'");
    FAIL("\"\\x41\"");
    FAIL("\"\\a\"");
    FAIL("\"\\u12\"");
    FAIL("\"\\u12G4\"");
    FAIL("\"\\U0041\"");
    FAIL("\"\\");
    /* Trailing garbage and second values. */
    FAIL("1 2");
    FAIL("{} x");
    FAIL("[]]");
    FAIL("null,");
    FAIL("\"a\"\"b\"");
    FAIL("1\0");
    FAIL("\0");
    /* Whitespace that JSON does not know. */
    FAIL("\f1");
    FAIL("\v1");
    FAIL("\xEF\xBB\xBF{}"); /* a byte order mark */
    FAIL("\xC2\xA0 1");     /* NBSP */
}

static void
test_string_content_errors(void **state)
{
    /* Raw control characters. */
    FAIL("\"a\nb\"");
    FAIL("\"a\tb\"");
    FAIL("\"\x01\"");
    FAIL("\"\x1F\"");
    FAIL("\"a\0b\"");
    /* Lone surrogates, in every position. */
    FAIL("\"\\uD800\"");
    FAIL("\"\\uDBFF\"");
    FAIL("\"\\uDC00\"");
    FAIL("\"\\uDFFF\"");
    FAIL("\"\\uD800x\"");
    FAIL("\"\\uD800\\u0041\"");
    FAIL("\"\\uD800\\uD800\"");
    FAIL("\"\\uDC00\\uD800\"");
    FAIL("\"\\uD800\\n\"");
    FAIL("\"\\uD800\\u12\"");
    /* Invalid UTF-8. */
    FAIL("\"\xFF\"");
    FAIL("\"\x80\"");
    FAIL("\"\xC0\x80\"");         /* overlong NUL */
    FAIL("\"\xC1\xBF\"");         /* overlong */
    FAIL("\"\xE0\x80\xAF\"");     /* overlong */
    FAIL("\"\xF0\x80\x80\xAF\""); /* overlong */
    FAIL("\"\xED\xA0\x80\"");     /* encoded surrogate */
    FAIL("\"\xF4\x90\x80\x80\""); /* above U+10FFFF */
    FAIL("\"\xF5\x80\x80\x80\"");
    FAIL("\"\xE2\x82\"");         /* truncated */
    FAIL("\"\xE2\x82");
    FAIL("\"\xC3\"");
    FAIL("\"\xC3" "A\"");
    /* Invalid UTF-8 in a key. */
    FAIL("{\"\xFF\":1}");
    /* 0x7F is not a control character in JSON's sense. */
    qg_arena a = QG_ARENA_INIT;
    qg_jval v;
    assert_int_equal(parse(&a, "\"\x7F\"", &v), 0);
    qg_arena_free(&a);
}

static void
test_depth_limit(void **state)
{
    qg_arena a = QG_ARENA_INIT;
    qg_jval v;
    const char *why;
    qg_json_limits lim = {3, 1000};

    assert_int_equal(parse_n(&a, "[[[]]]", 6, &lim, &v, &why), 0);
    assert_int_equal(parse_n(&a, "[{\"a\":[1]}]", 11, &lim, &v, &why), 0);
    assert_int_equal(parse_n(&a, "[[[[]]]]", 8, &lim, &v, &why), -1);
    assert_string_equal(why, "nesting too deep");
    assert_int_equal(parse_n(&a, "{\"a\":{\"b\":{\"c\":{}}}}", 20, &lim, &v, &why), -1);
    assert_string_equal(why, "nesting too deep");
    /* Scalars do not nest. */
    qg_json_limits flat = {0, 10};
    assert_int_equal(parse_n(&a, "1", 1, &flat, &v, &why), 0);
    assert_int_equal(parse_n(&a, "[]", 2, &flat, &v, &why), -1);

    /* A depth bomb is refused at the limit, long before the stack matters. */
    size_t n = 1000000;
    char *bomb = malloc(2 * n);
    memset(bomb, '[', n);
    memset(bomb + n, ']', n);
    assert_int_equal(qg_json_parse(bomb, 2 * n, &a, &lim64, &v, &why), -1);
    assert_string_equal(why, "nesting too deep");
    memset(bomb, '{', n);
    assert_int_equal(qg_json_parse(bomb, n, &a, &lim64, &v, &why), -1);
    /* Unclosed, and objects: still refused on depth or grammar. */
    for (size_t i = 0; i + 5 <= n; i += 5)
        memcpy(bomb + i, "{\"a\":", 5);
    assert_int_equal(qg_json_parse(bomb, n, &a, &lim64, &v, &why), -1);
    assert_string_equal(why, "nesting too deep");
    free(bomb);

    /* Exactly max_depth deep is allowed. */
    char deep[128 + 1];
    memset(deep, '[', 64);
    memset(deep + 64, ']', 64);
    assert_int_equal(qg_json_parse(deep, 128, &a, &lim64, &v, &why), 0);
    memset(deep, '[', 65);
    memset(deep + 65, ']', 64);
    assert_int_equal(qg_json_parse(deep, 129, &a, &lim64, &v, &why), -1);
    qg_arena_free(&a);
}

static void
test_value_limit(void **state)
{
    qg_arena a = QG_ARENA_INIT;
    qg_jval v;
    const char *why;
    /* [1,2,3] is four values; object keys are not values. */
    qg_json_limits four = {8, 4}, three = {8, 3};
    assert_int_equal(parse_n(&a, "[1,2,3]", 7, &four, &v, &why), 0);
    assert_int_equal(parse_n(&a, "[1,2,3]", 7, &three, &v, &why), -1);
    assert_string_equal(why, "too many values");
    assert_int_equal(parse_n(&a, "{\"a\":1,\"b\":2,\"c\":3}", 19, &four, &v, &why), 0);
    assert_int_equal(parse_n(&a, "{\"a\":1,\"b\":2,\"c\":3}", 19, &three, &v, &why), -1);

    /* A big flat array within the limit. */
    size_t n = 200000;
    char *big = malloc(2 * n + 2);
    big[0] = '[';
    for (size_t i = 0; i < n; i++) {
        big[1 + 2 * i] = '7';
        big[2 + 2 * i] = ',';
    }
    big[2 * n] = ']';
    qg_json_limits lots = {4, n + 1};
    assert_int_equal(qg_json_parse(big, 2 * n + 1, &a, &lots, &v, &why), 0);
    assert_int_equal(v.count, n);
    assert_raw(&v.items[n - 1], "7");
    assert_int_equal(qg_json_parse(big, 2 * n + 1, &a, &lim64, &v, &why), -1);
    assert_string_equal(why, "too many values");
    free(big);
    qg_arena_free(&a);
}

static void
test_why_and_out_on_error(void **state)
{
    qg_arena a = QG_ARENA_INIT;
    qg_jval v;
    const char *why = NULL;
    assert_int_equal(parse_n(&a, "[1] x", 5, &lim64, &v, &why), -1);
    assert_string_equal(why, "trailing characters after the value");
    assert_int_equal(parse_n(&a, "\"\\uDC00\"", 8, &lim64, &v, &why), -1);
    assert_string_equal(why, "lone surrogate in \\u escape");
    assert_int_equal(parse_n(&a, "\"\xFF\"", 3, &lim64, &v, &why), -1);
    assert_string_equal(why, "invalid UTF-8 in string");
    assert_int_equal(parse_n(&a, "\"\x01\"", 3, &lim64, &v, &why), -1);
    assert_string_equal(why, "control character in string");
    assert_int_equal(qg_json_parse(NULL, 0, &a, &lim64, &v, &why), -1);
    /* why may be NULL. */
    assert_int_equal(qg_json_parse("[", 1, &a, &lim64, &v, NULL), -1);
    assert_int_equal(qg_json_parse("[1]", 3, &a, &lim64, &v, NULL), 0);
    /* Only len bytes count, whatever follows in memory. */
    assert_int_equal(qg_json_parse("[1]garbage", 3, &a, &lim64, &v, &why), 0);
    assert_int_equal(v.count, 1);
    qg_arena_free(&a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_containers),
        cmocka_unit_test(test_duplicates_in_order),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_grammar_errors),
        cmocka_unit_test(test_string_content_errors),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_value_limit),
        cmocka_unit_test(test_why_and_out_on_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
