/* Unit tests for exec/pgsql_params: ?, $n and $name renumbered as $k. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "exec/pgsql_params.h"

/* Rewrites s; describes the parameters as "a0 a1 ? u :name" (arg index,
 * ? when written as ?, u unused, :name named). The text stays alive in
 * *keep (names point into it); the caller frees both. */
static int
rewrite(const char *s, pgsql_params *p, char *desc, size_t size, char **keep)
{
    size_t n = strlen(s);
    *keep = malloc(n ? n : 1);
    memcpy(*keep, s, n);
    int rc = pgsql_params_rewrite(*keep, n, p);
    size_t k = 0;
    desc[0] = '\0';
    for (size_t i = 0; rc == 0 && i < p->n; i++) {
        const pgsql_param *x = &p->p[i];
        const char *sep = i ? " " : "";
        if (x->src == PGSQL_P_ARG)
            k += (size_t)snprintf(desc + k, size - k, "%sa%zu%s", sep, x->arg, x->qmark ? "?" : "");
        else if (x->src == PGSQL_P_NAMED)
            k += (size_t)snprintf(desc + k, size - k, "%s:%.*s", sep, (int)x->name_len, x->name);
        else
            k += (size_t)snprintf(desc + k, size - k, "%su", sep);
    }
    return rc;
}

#define assert_rewrite(s, want_sql, want_desc)                                                     \
    do {                                                                                           \
        pgsql_params p_;                                                                           \
        char d_[512], *keep_;                                                                      \
        assert_int_equal(rewrite((s), &p_, d_, sizeof(d_), &keep_), 0);                            \
        assert_string_equal(p_.sql, (want_sql));                                                   \
        assert_int_equal(p_.len, strlen(want_sql));                                                \
        assert_string_equal(d_, (want_desc));                                                      \
        pgsql_params_free(&p_);                                                                    \
        free(keep_);                                                                               \
    } while (0)

static void
test_nothing_to_do(void **state)
{
    assert_rewrite("SELECT 1", "SELECT 1", "");
    assert_rewrite("", "", "");
    assert_rewrite("SELECT '?', \"$x\", $$ ? $a $$ -- ? $b\n",
                   "SELECT '?', \"$x\", $$ ? $a $$ -- ? $b\n", "");
}

static void
test_question_marks(void **state)
{
    assert_rewrite("SELECT ? AS a, ? AS b", "SELECT $1 AS a, $2 AS b", "a0? a1?");
    assert_rewrite("SELECT doc ?? 'k', doc ??| array['a'] FROM t WHERE id = ?",
                   "SELECT doc ? 'k', doc ?| array['a'] FROM t WHERE id = $1", "a0?");
    /* a ? glued to a word or number must not join it ("a$1" is one word) */
    assert_rewrite("SELECT a?", "SELECT a $1", "a0?");
    assert_rewrite("SELECT 1+?", "SELECT 1+$1", "a0?");
}

static void
test_numbered(void **state)
{
    assert_rewrite("SELECT $1, $2, $1", "SELECT $1, $2, $1", "a0 a1");
    assert_rewrite("SELECT $2", "SELECT $2", "u a1");
    /* $n and the n-th ? are the same argument */
    assert_rewrite("SELECT $2, ?", "SELECT $2, $1", "a0? a1");
    assert_rewrite("SELECT ?, ?, $1", "SELECT $1, $2, $1", "a0? a1?");
    /* $0 and numbers past the protocol's limit are the server's to refuse */
    assert_rewrite("SELECT $0, $99999", "SELECT $0, $99999", "");
}

static void
test_named(void **state)
{
    assert_rewrite("SELECT * FROM p WHERE price < $max AND cat = $cat OR price > $max",
                   "SELECT * FROM p WHERE price < $1 AND cat = $2 OR price > $1", ":max :cat");
    /* named ones come after every positional one */
    assert_rewrite("SELECT $a, ?, $3, $b, ?", "SELECT $4, $1, $3, $5, $2", "a0? a1? a2 :a :b");
    assert_rewrite("SELECT $x::int", "SELECT $1::int", ":x");
    /* words with '$' inside and dollar quotes are not parameters */
    assert_rewrite("SELECT a$b, $t$ $x $t$", "SELECT a$b, $t$ $x $t$", "");
}

static void
test_too_many(void **state)
{
    size_t count = PGSQL_MAX_PARAMS + 1;
    char *s = malloc(count * 2 + 16);
    size_t k = 0;
    k += (size_t)sprintf(s, "SELECT ");
    for (size_t i = 0; i < count; i++) {
        s[k++] = '?';
        s[k++] = ',';
    }
    s[k - 1] = '\0';
    pgsql_params p;
    assert_int_equal(pgsql_params_rewrite(s, strlen(s), &p), -1);
    s[k - 3] = '\0'; /* one fewer: exactly the limit */
    assert_int_equal(pgsql_params_rewrite(s, strlen(s), &p), 0);
    assert_int_equal(p.n, PGSQL_MAX_PARAMS);
    pgsql_params_free(&p);
    free(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_to_do), cmocka_unit_test(test_question_marks),
        cmocka_unit_test(test_numbered),      cmocka_unit_test(test_named),
        cmocka_unit_test(test_too_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
