/* Unit tests for gateway/auth: file format, permissions, token checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "gateway/auth.h"

static void
hex(const unsigned char d[32], char out[65])
{
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

static void
digest_of(const char *token, char out[65])
{
    unsigned char d[32];
    gw_sha256(token, strlen(token), d);
    hex(d, out);
}

static char *
write_file(const char *text, mode_t mode)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/qgate-auth-test-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    chmod(path, mode);
    return path;
}

static void
test_sha256_vector(void **state)
{
    char h[65];
    digest_of("abc", h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void
test_load_and_check(void **state)
{
    char a[65], b[65], text[512];
    digest_of("alice-token", a);
    digest_of("bob-token", b);
    snprintf(text, sizeof(text), "# principals\nalice %s\n\n  bob %s readonly  # reports\n", a, b);
    char *path = write_file(text, 0600);
    gw_auth auth;
    char err[256];
    assert_int_equal(gw_auth_load(path, &auth, err, sizeof(err)), 0);
    assert_int_equal(auth.n, 2);
    const gw_principal *p = gw_auth_check(&auth, "Bearer alice-token");
    assert_non_null(p);
    assert_string_equal(p->name, "alice");
    assert_false(p->readonly);
    p = gw_auth_check(&auth, "bearer  bob-token ");
    assert_non_null(p);
    assert_true(p->readonly);
    assert_null(gw_auth_check(&auth, "Bearer alice-token2"));
    assert_null(gw_auth_check(&auth, "Basic YWxpY2U6eA=="));
    assert_null(gw_auth_check(&auth, "Bearer "));
    assert_null(gw_auth_check(&auth, NULL));
    gw_auth_free(&auth);
    unlink(path);
}

static void
test_refusals(void **state)
{
    char a[65], text[512], err[256];
    gw_auth auth;
    digest_of("t", a);
    snprintf(text, sizeof(text), "alice %s\n", a);
    char *path = write_file(text, 0644);
    assert_int_equal(gw_auth_load(path, &auth, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "chmod 600"));
    unlink(path);

    const char *bad[] = {"alice nothex\n", "alice %s admin\n", "al ice %s\n",
                         "alice %s\nalice %s\n", "alice %s\nbob %s\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), bad[i], a, a);
        path = write_file(text, 0600);
        assert_int_equal(gw_auth_load(path, &auth, err, sizeof(err)), -1);
        assert_non_null(strstr(err, ":"));
        unlink(path);
    }
    assert_int_equal(gw_auth_load("/nonexistent/qgate-auth", &auth, err, sizeof(err)), -1);
}

static void
test_options(void **state)
{
    char a[65], b[65], text[512], err[256];
    gw_auth auth;
    digest_of("alice-token", a);
    digest_of("bob-token", b);
    snprintf(text, sizeof(text),
             "alice %s weight=4 max-queued=20 readonly max-running=2 result-quota=1MiB "
             "timeout=30s max-timeout=5m\nbob %s\n",
             a, b);
    char *path = write_file(text, 0600);
    assert_int_equal(gw_auth_load(path, &auth, err, sizeof(err)), 0);
    unlink(path);
    const gw_principal *p = gw_auth_find(&auth, "alice");
    assert_non_null(p);
    assert_true(p->readonly);
    assert_int_equal(p->weight, 4);
    assert_int_equal(p->max_queued, 20);
    assert_int_equal(p->max_running, 2);
    assert_int_equal(p->result_quota, 1024 * 1024);
    assert_int_equal(p->timeout_ns, 30000000000LL);
    assert_int_equal(p->max_timeout_ns, 300000000000LL);
    p = gw_auth_find(&auth, "bob");
    assert_int_equal(p->weight, 1);
    assert_int_equal(p->max_queued, -1); /* the server's */
    assert_int_equal(p->timeout_ns, -1);
    assert_null(gw_auth_find(&auth, "carol"));
    gw_auth_free(&auth);

    const char *bad[] = {"alice %s weight=0\n",          "alice %s weight=1001\n",
                         "alice %s max-queued=-1\n",     "alice %s max-queued=\n",
                         "alice %s result-quota=lots\n", "alice %s timeout=10\n",
                         "alice %s colour=blue\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), bad[i], a);
        path = write_file(text, 0600);
        assert_int_equal(gw_auth_load(path, &auth, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "weight=N"));
        unlink(path);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_vector),
        cmocka_unit_test(test_load_and_check),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
