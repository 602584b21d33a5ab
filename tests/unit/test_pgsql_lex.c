/* Unit tests for exec/pgsql_lex: what is quoted, commented or a parameter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "exec/pgsql_lex.h"

/* The token types of s, one letter each, lexed from an exact-size heap
 * copy so that ASan sees any read past the end:
 *   _ space  c comment  w word  q "ident"  s string  d dollar  p $1
 *   n $name  ? ?  ! ??  ; ;  ( )  9 number  o other  + open (unterminated) */
static void
types(const char *s, char *out)
{
    size_t n = strlen(s);
    char *copy = malloc(n ? n : 1);
    memcpy(copy, s, n);
    static const char letters[] = "E_cwqsdpn?!;()9o";
    size_t k = 0, off = 0;
    for (;;) {
        pgsql_tok t = pgsql_lex(copy, n, off);
        if (t.type == PGSQL_END) {
            assert_int_equal(t.off, n);
            break;
        }
        assert_int_equal(t.off, off);
        assert_true(t.len >= 1);
        assert_true(t.off + t.len <= n);
        out[k++] = letters[t.type];
        if (t.open)
            out[k++] = '+';
        off = t.off + t.len;
    }
    out[k] = '\0';
    free(copy);
}

#define assert_types(s, want)                                                                      \
    do {                                                                                           \
        char got_[256];                                                                            \
        types((s), got_);                                                                          \
        assert_string_equal(got_, (want));                                                         \
    } while (0)

/* The length of the first token of s. */
static size_t
first_len(const char *s)
{
    return pgsql_lex(s, strlen(s), 0).len;
}

static void
test_strings(void **state)
{
    assert_types("'a;b'", "s");
    assert_types("'it''s; fine'", "s");
    assert_int_equal(first_len("'a\\'; x"), 4); /* standard strings: backslash is plain */
    assert_types("'a\\'; x", "s;_w");
    assert_types("E'it\\'s; fine' x", "s_w");
    assert_types("e'\\\\' x", "s_w");
    assert_types("E'a''b'", "s");
    assert_types("'open", "s+");
    assert_types("E'ends in backslash\\", "s+");
    /* E only at the start of a word */
    assert_types("type'x\\' y", "ws_w"); /* not an E string: the backslash is plain */
    assert_types("B'101' X'ff' N'n' U&'x'", "ws_ws_ws_wos");
}

static void
test_identifiers_and_words(void **state)
{
    assert_types("\"a;\"\"b\"", "q");
    assert_types("\"open", "q+");
    assert_types("a$1 f$x$ _x \xc3\xa9t\xc3\xa9", "w_w_w_w");
    assert_types("x::int", "woow");
    assert_types("1.5e3 12abc", "9_9");
}

static void
test_dollar_quotes_and_parameters(void **state)
{
    assert_types("$$a;'b$$", "d");
    assert_types("$fn$ $$ ; $x $fn$", "d");
    assert_types("$a$ $b$ $a$;", "d;");
    assert_types("$a$ never closed", "d+");
    assert_types("$1 $23", "p_p");
    assert_types("$name, $_x1", "no_n");
    assert_types("$ alone", "o_w");
    assert_types("$1$", "po");
    assert_types("$q$x$q$", "d");
    assert_types("$Q$ $q$ $Q$", "d");
}

static void
test_comments(void **state)
{
    assert_types("-- a;b\nx", "c_w");
    assert_types("--\r\n", "c_");
    assert_types("/* a; /* nested; */ still; */x", "cw");
    assert_types("/* /* */", "c+");
    assert_types("a-b/c", "wowow");
    assert_types("*/*x*/", "oc");
}

static void
test_placeholders(void **state)
{
    assert_types("?", "?");
    assert_types("??", "!");
    assert_types("???", "!?");
    assert_types("a ?| b", "w_?o_w");
    assert_types("'?' \"?\" -- ?\n", "s_q_c_");
}

static void
test_word_is(void **state)
{
    assert_true(pgsql_word_is("select", 6, "SELECT"));
    assert_true(pgsql_word_is("SeLeCt", 6, "SELECT"));
    assert_false(pgsql_word_is("selec", 5, "SELECT"));
    assert_false(pgsql_word_is("selects", 7, "SELECT"));
    assert_false(pgsql_word_is("", 0, "SELECT"));
    assert_true(pgsql_ident_start(0xc3));
    assert_false(pgsql_ident_start('1'));
}

/* Every prefix of a nasty text lexes to the end without reading past it. */
static void
test_every_prefix(void **state)
{
    const char *s = "E'\\'' $a$x$a$ /* /* */ */ \"q\"\"\" -- c\n$1 $n ?? ? ; ( ) 1.5 'x''";
    size_t n = strlen(s);
    for (size_t len = 0; len <= n; len++) {
        char *copy = malloc(len ? len : 1);
        memcpy(copy, s, len);
        size_t off = 0;
        for (int guard = 0; guard < 1000; guard++) {
            pgsql_tok t = pgsql_lex(copy, len, off);
            if (t.type == PGSQL_END)
                break;
            assert_true(t.len >= 1 && t.off + t.len <= len);
            off = t.off + t.len;
        }
        assert_int_equal(off, len);
        free(copy);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_identifiers_and_words),
        cmocka_unit_test(test_dollar_quotes_and_parameters),
        cmocka_unit_test(test_comments),
        cmocka_unit_test(test_placeholders),
        cmocka_unit_test(test_word_is),
        cmocka_unit_test(test_every_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
