/* Unit tests for core/buf and core/arena. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"

static void
test_buf_grows_and_terminates(void **state)
{
    qg_buf b = QG_BUF_INIT;
    for (int i = 0; i < 1000; i++)
        qg_buf_addlit(&b, "ab");
    assert_int_equal(b.len, 2000);
    assert_int_equal(b.data[2000], '\0');
    qg_buf_printf(&b, "%d-%s", 42, "x");
    assert_string_equal(b.data + 2000, "42-x");
    qg_buf_reset(&b);
    assert_int_equal(b.len, 0);
    qg_buf_free(&b);
}

static void
test_buf_printf_long(void **state)
{
    qg_buf b = QG_BUF_INIT;
    char big[5000];
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    qg_buf_printf(&b, "<%s>", big);
    assert_int_equal(b.len, sizeof(big) + 1);
    assert_int_equal(b.data[0], '<');
    assert_int_equal(b.data[b.len - 1], '>');
    size_t n;
    char *p = qg_buf_detach(&b, &n);
    assert_int_equal(n, sizeof(big) + 1);
    assert_null(b.data);
    free(p);
}

static void
test_arena_alignment_and_big_blocks(void **state)
{
    qg_arena a = QG_ARENA_INIT;
    for (int i = 0; i < 100; i++) {
        char *p = qg_arena_alloc(&a, (size_t)i % 13 + 1);
        assert_int_equal((uintptr_t)p % 8, 0);
        memset(p, 1, (size_t)i % 13 + 1);
    }
    char *big = qg_arena_alloc(&a, 100000);
    memset(big, 2, 100000);
    char *s = qg_arena_memdup0(&a, "a\0b", 3);
    assert_memory_equal(s, "a\0b", 4);
    qg_arena_free(&a);
    assert_null(a.head);
}

static void
test_error_table(void **state)
{
    qg_error e;
    assert_int_equal(qg_error_set(&e, QG_E_PARAM, "mode", "sideways"), -1);
    assert_string_equal(e.msg, "ASX0047: Invalid value for parameter 'mode': sideways");
    assert_int_equal(qg_err_http(QG_E_PARAM), 400);
    qg_error_set(&e, QG_E_TIMEOUT);
    assert_string_equal(e.msg, "ASX0030: Request timed out and will be cancelled");
    assert_string_equal(qg_err_status(QG_E_TIMEOUT), "timeout");
    assert_int_equal(qg_err_http(QG_E_TIMEOUT), 200);
    /* A long backend message is cut on a UTF-8 boundary. */
    char longmsg[3000];
    for (size_t i = 0; i + 2 < sizeof(longmsg); i += 2) {
        longmsg[i] = (char)0xC3;
        longmsg[i + 1] = (char)0xA9;
    }
    longmsg[sizeof(longmsg) - 2] = '\0';
    qg_error_set(&e, QG_E_RUNTIME, longmsg);
    size_t n = strlen(e.msg);
    assert_true(n < QG_ERRMSG_MAX);
    assert_true(((unsigned char)e.msg[n - 1] & 0xC0) == 0x80);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_grows_and_terminates),
        cmocka_unit_test(test_buf_printf_long),
        cmocka_unit_test(test_arena_alignment_and_big_blocks),
        cmocka_unit_test(test_error_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
