/* Unit tests for core/crc32c: published vectors, continuation, and the
 * instruction and the tables agreeing on every length and alignment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/crc32c.h"

static void
test_vectors(void **state)
{
    /* RFC 3720 B.4 and the common check value */
    unsigned char b[32];
    assert_int_equal(qg_crc32c(0, "123456789", 9), 0xE3069283u);
    memset(b, 0, sizeof(b));
    assert_int_equal(qg_crc32c(0, b, 32), 0x8A9136AAu);
    memset(b, 0xff, sizeof(b));
    assert_int_equal(qg_crc32c(0, b, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        b[i] = (unsigned char)i;
    assert_int_equal(qg_crc32c(0, b, 32), 0x46DD794Eu);
    assert_int_equal(qg_crc32c_sw(0, b, 32), 0x46DD794Eu);
    assert_int_equal(qg_crc32c(0, "", 0), 0);
}

static void
test_continuation_and_agreement(void **state)
{
    unsigned char buf[300];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof(buf); i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (unsigned char)(x >> 16);
    }
    for (size_t off = 0; off < 9; off++)
        for (size_t n = 0; n + off <= sizeof(buf); n += 7) {
            uint32_t whole = qg_crc32c(0, buf + off, n);
            assert_int_equal(whole, qg_crc32c_sw(0, buf + off, n));
            for (size_t cut = 0; cut <= n; cut += 13)
                assert_int_equal(qg_crc32c(qg_crc32c(0, buf + off, cut), buf + off + cut, n - cut),
                                 whole);
        }
    /* one bit changes it */
    uint32_t a = qg_crc32c(0, buf, sizeof(buf));
    buf[150] ^= 4;
    assert_int_not_equal(a, qg_crc32c(0, buf, sizeof(buf)));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_continuation_and_agreement),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
