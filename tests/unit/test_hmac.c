/* Unit tests for core/hmac: HMAC-SHA256 (RFC 4231 vectors) and the parts
 * of a callback signature. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/hmac.h"

static void
test_rfc4231(void **state)
{
    char out[65];
    unsigned char key1[20];
    memset(key1, 0x0b, sizeof(key1));
    qg_hmac_sha256_hex(key1, sizeof(key1), "Hi There", 8, NULL, 0, NULL, 0, out);
    assert_string_equal(out, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    qg_hmac_sha256_hex("Jefe", 4, "what do ya want ", 16, "for nothing?", 12, NULL, 0, out);
    assert_string_equal(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* a key longer than the block is hashed first (test case 6) */
    unsigned char key6[131];
    memset(key6, 0xaa, sizeof(key6));
    const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    qg_hmac_sha256_hex(key6, sizeof(key6), m6, strlen(m6), NULL, 0, NULL, 0, out);
    assert_string_equal(out, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void
test_parts_are_one_message(void **state)
{
    /* timestamp "." body, signed as one text */
    char a[65], b[65];
    qg_hmac_sha256_hex("s3cret", 6, "1700000000", 10, ".", 1, "{\"status\":\"success\"}", 20, a);
    const char *whole = "1700000000.{\"status\":\"success\"}";
    qg_hmac_sha256_hex("s3cret", 6, whole, strlen(whole), NULL, 0, NULL, 0, b);
    assert_string_equal(a, b);
    /* one changed byte of the body changes it */
    qg_hmac_sha256_hex("s3cret", 6, "1700000000", 10, ".", 1, "{\"status\":\"successs\"}", 21, b);
    assert_string_not_equal(a, b);
    /* an empty key works (and differs) */
    qg_hmac_sha256_hex("", 0, whole, strlen(whole), NULL, 0, NULL, 0, b);
    assert_string_not_equal(a, b);
    assert_int_equal(strlen(b), 64);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4231),
        cmocka_unit_test(test_parts_are_one_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
