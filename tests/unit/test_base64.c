/* Unit tests for core/base64: RFC 4648 vectors, binary data, strict decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/base64.h"
#include "core/buf.h"

static void
test_rfc4648_vectors(void **state)
{
    static const char *const vec[][2] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
        qg_buf b = QG_BUF_INIT;
        qg_base64_encode(&b, vec[i][0], strlen(vec[i][0]));
        assert_non_null(b.data);
        assert_string_equal(b.data, vec[i][1]);
        assert_int_equal(b.len, strlen(vec[i][1]));
        qg_buf_reset(&b);
        assert_int_equal(qg_base64_decode(&b, vec[i][1], strlen(vec[i][1])), 0);
        assert_int_equal(b.len, strlen(vec[i][0]));
        assert_memory_equal(b.data, vec[i][0], b.len);
        assert_int_equal(b.data[b.len], '\0');
        qg_buf_free(&b);
    }
}

static void
test_binary_and_appending(void **state)
{
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)(255 - i);
    qg_buf b = QG_BUF_INIT;
    qg_buf_addlit(&b, "blob:");
    qg_base64_encode(&b, all, sizeof(all));
    assert_int_equal(b.len, 5 + 344);
    assert_memory_equal(b.data, "blob://79/Pv6+fj", 16);
    assert_string_equal(b.data + b.len - 4, "AA==");

    qg_buf d = QG_BUF_INIT;
    qg_buf_addlit(&d, "x");
    assert_int_equal(qg_base64_decode(&d, b.data + 5, b.len - 5), 0);
    assert_int_equal(d.len, 1 + sizeof(all));
    assert_memory_equal(d.data + 1, all, sizeof(all));
    qg_buf_free(&d);

    qg_buf_reset(&b);
    qg_base64_encode(&b, "\0\0\0\0", 4);
    assert_string_equal(b.data, "AAAAAA==");
    qg_buf_reset(&b);
    assert_int_equal(qg_base64_decode(&b, "AAAAAA==", 8), 0);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.data, "\0\0\0\0", 4);
    qg_buf_free(&b);
}

static void
test_round_trip_lengths(void **state)
{
    uint64_t x = 0x2545F4914F6CDD1Du;
    unsigned char in[200];
    for (size_t n = 0; n <= sizeof(in); n++) {
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            in[i] = (unsigned char)x;
        }
        qg_buf e = QG_BUF_INIT, d = QG_BUF_INIT;
        qg_base64_encode(&e, in, n);
        assert_int_equal(e.len, (n + 2) / 3 * 4);
        assert_int_equal(qg_base64_decode(&d, e.data, e.len), 0);
        assert_int_equal(d.len, n);
        if (n)
            assert_memory_equal(d.data, in, n);
        qg_buf_free(&e);
        qg_buf_free(&d);
    }
}

static void
test_decode_rejects(void **state)
{
    static const char *const bad[] = {
        "Zg",     "Zg=",  "Zm9vY",        "Zg===",    "====", "Z===",    "=Zg=", "Zg=a", "Z!==",
        "Zm9v\n", "Zm 9", "Zm9vYg==Zm9v", "Zm9v====", "Zm-_", "Zm9\x80", "Zh==", "Zm9=", "A=A=",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        qg_buf b = QG_BUF_INIT;
        if (qg_base64_decode(&b, bad[i], strlen(bad[i])) != -1)
            fail_msg("accepted \"%s\"", bad[i]);
        /* Partial output is allowed, but the buffer stays well-formed. */
        if (b.data)
            assert_int_equal(b.data[b.len], '\0');
        qg_buf_free(&b);
    }
    qg_buf b = QG_BUF_INIT;
    assert_int_equal(qg_base64_decode(&b, "Zm\0v", 4), -1);
    qg_buf_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_binary_and_appending),
        cmocka_unit_test(test_round_trip_lengths),
        cmocka_unit_test(test_decode_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
