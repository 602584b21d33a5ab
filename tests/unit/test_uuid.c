/* Unit tests for core/uuid: form, version and variant bits, uniqueness
 * within and across threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/uuid.h"

static void
check_form(const char *u)
{
    assert_int_equal(strlen(u), QG_UUID_LEN);
    for (int i = 0; i < QG_UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(u[i], '-');
        else
            assert_non_null(strchr("0123456789abcdef", u[i]));
    }
    assert_int_equal(u[14], '4');
    assert_non_null(strchr("89ab", u[19]));
}

static void
test_form_and_bits(void **state)
{
    char a[QG_UUID_LEN + 1], b[QG_UUID_LEN + 1];
    qg_uuid_v4(a);
    qg_uuid_v4(b);
    check_form(a);
    check_form(b);
    assert_string_not_equal(a, b);

    /* Over many ids, every variant nibble shows up and the bits that are
     * random do vary (catches a pool that is never filled). */
    int seen_variant[16] = {0};
    int seen_first[16] = {0};
    for (int i = 0; i < 2000; i++) {
        qg_uuid_v4(a);
        check_form(a);
        seen_variant[strchr("0123456789abcdef", a[19]) - "0123456789abcdef"] = 1;
        seen_first[strchr("0123456789abcdef", a[0]) - "0123456789abcdef"] = 1;
    }
    for (int v = 8; v < 12; v++)
        assert_true(seen_variant[v]);
    for (int v = 0; v < 16; v++)
        assert_true(seen_first[v]);
}

#define THREADS    4
#define PER_THREAD 1000

static char ids[THREADS * PER_THREAD][QG_UUID_LEN + 1];

static void *
worker(void *arg)
{
    char(*mine)[QG_UUID_LEN + 1] = arg;
    for (int i = 0; i < PER_THREAD; i++)
        qg_uuid_v4(mine[i]);
    return NULL;
}

static int
cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, QG_UUID_LEN + 1);
}

static void
test_threads_distinct(void **state)
{
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, ids[i * PER_THREAD]), 0);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    qsort(ids, THREADS * PER_THREAD, sizeof(ids[0]), cmp_id);
    for (int i = 0; i < THREADS * PER_THREAD; i++) {
        check_form(ids[i]);
        if (i > 0)
            assert_string_not_equal(ids[i - 1], ids[i]);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form_and_bits),
        cmocka_unit_test(test_threads_distinct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
