/* Unit tests for core/config: defaults, file, environment, flags, errors. */
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

#include "core/config.h"

static int
load(qg_config *c, char **argv, char **envp, qg_error *err)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    return qg_config_load(c, argc, argv, envp, err);
}

static void
test_defaults(void **state)
{
    qg_config c;
    qg_error err;
    char *argv[] = {"qgate", NULL};
    char *envp[] = {NULL};
    assert_int_equal(load(&c, argv, envp, &err), 0);
    assert_string_equal(c.listen, "127.0.0.1:19002");
    assert_string_equal(c.host, "127.0.0.1");
    assert_int_equal(c.port, 19002);
    assert_string_equal(c.data_dir, "./qgate-data");
    assert_string_equal(c.backend, "");
    assert_int_equal(c.workers, 4);
    assert_int_equal(c.max_body, 16u << 20);
    assert_true(c.result_ttl_ns == 24ull * 3600 * 1000000000ull);
    qg_config_free(&c);
}

static void
test_precedence_file_env_flags(void **state)
{
    char path[] = "/tmp/qgate-config-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char text[] = "# comment\nworkers = 7\nmax-body = 2MiB\n"
                        "data = \"/srv/from-file\"\n\nlisten = [::1]:0\n";
    assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
    close(fd);

    char cfgflag[64];
    snprintf(cfgflag, sizeof(cfgflag), "--config=%s", path);
    char *argv[] = {"qgate", cfgflag, "--workers", "3", NULL};
    char *envp[] = {"QGATE_WORKERS=5", "QGATE_MAX_BODY=1MiB", "HOME=/x", NULL};
    qg_config c;
    qg_error err;
    assert_int_equal(load(&c, argv, envp, &err), 0);
    assert_int_equal(c.workers, 3);         /* flag over env over file */
    assert_int_equal(c.max_body, 1u << 20); /* env over file */
    assert_string_equal(c.data_dir, "/srv/from-file");
    assert_string_equal(c.host, "::1");
    assert_int_equal(c.port, 0);
    qg_config_free(&c);

    /* the environment may name the file */
    char envcfg[80];
    snprintf(envcfg, sizeof(envcfg), "QGATE_CONFIG=%s", path);
    char *argv2[] = {"qgate", NULL};
    char *envp2[] = {envcfg, NULL};
    assert_int_equal(load(&c, argv2, envp2, &err), 0);
    assert_int_equal(c.workers, 7);
    qg_config_free(&c);
    unlink(path);
}

static void
test_errors_name_the_culprit(void **state)
{
    qg_config c;
    qg_error err;
    char *envp[] = {NULL};
    char *a1[] = {"qgate", "--nope", NULL};
    assert_int_equal(load(&c, a1, envp, &err), -1);
    assert_non_null(strstr(err.msg, "--nope"));
    qg_config_free(&c);
    char *a2[] = {"qgate", "--workers", "lots", NULL};
    assert_int_equal(load(&c, a2, envp, &err), -1);
    assert_non_null(strstr(err.msg, "workers"));
    qg_config_free(&c);
    char *a3[] = {"qgate", "--listen", "nocolon", NULL};
    assert_int_equal(load(&c, a3, envp, &err), -1);
    qg_config_free(&c);
    char *a4[] = {"qgate", "--timeout-ish=1", NULL};
    assert_int_equal(load(&c, a4, envp, &err), -1);
    qg_config_free(&c);
    char *a5[] = {"qgate", "--result-ttl", "1 day", NULL};
    assert_int_equal(load(&c, a5, envp, &err), -1);
    qg_config_free(&c);
    char *a6[] = {"qgate", "--workers", NULL};
    assert_int_equal(load(&c, a6, envp, &err), -1);
    assert_non_null(strstr(err.msg, "needs a value"));
    qg_config_free(&c);
    char *e7[] = {"QGATE_WORKERS=0", NULL};
    char *a7[] = {"qgate", NULL};
    assert_int_equal(load(&c, a7, e7, &err), -1);
    qg_config_free(&c);
}

static void
test_sizes(void **state)
{
    uint64_t v;
    assert_int_equal(qg_parse_size("4096", &v), 0);
    assert_int_equal(v, 4096);
    assert_int_equal(qg_parse_size("64MiB", &v), 0);
    assert_int_equal(v, 64u << 20);
    assert_int_equal(qg_parse_size("2g", &v), 0);
    assert_true(v == 2ull << 30);
    assert_int_equal(qg_parse_size("10KB", &v), 0);
    assert_int_equal(v, 10240);
    assert_int_equal(qg_parse_size("7B", &v), 0);
    assert_int_equal(v, 7);
    assert_int_equal(qg_parse_size("", &v), -1);
    assert_int_equal(qg_parse_size("MiB", &v), -1);
    assert_int_equal(qg_parse_size("-1", &v), -1);
    assert_int_equal(qg_parse_size("1X", &v), -1);
    assert_int_equal(qg_parse_size("99999999999T", &v), -1);
}

static void
test_callback_and_job_settings(void **state)
{
    qg_config c;
    qg_error err;
    char *argv[] = {"qgate", NULL};
    char *envp[] = {NULL};
    assert_int_equal(load(&c, argv, envp, &err), 0);
    assert_string_equal(c.callback_allow, "");
    assert_string_equal(c.callback_secret, "");
    assert_int_equal(c.callback_retries, 8);
    assert_true(c.callback_backoff_ns == 1000000000ull);
    assert_true(c.callback_backoff_max_ns == 600ull * 1000000000ull);
    assert_true(c.callback_timeout_ns == 10ull * 1000000000ull);
    assert_true(c.max_wait_ns == 60ull * 1000000000ull);
    assert_true(c.idempotency_ttl_ns == 24ull * 3600 * 1000000000ull);
    qg_config_free(&c);

    /* the secret from the environment, the rest from flags */
    char *argv2[] = {
        "qgate", "--callback-allow", "127.0.0.1:*", "--callback-retries=3", "--callback-backoff",
        "250ms", "--max-wait",       "5s",          "--idempotency-ttl",    "1h",
        NULL};
    char *envp2[] = {"QGATE_CALLBACK_SECRET=from-env", NULL};
    assert_int_equal(load(&c, argv2, envp2, &err), 0);
    assert_string_equal(c.callback_allow, "127.0.0.1:*");
    assert_string_equal(c.callback_secret, "from-env");
    assert_int_equal(c.callback_retries, 3);
    assert_true(c.callback_backoff_ns == 250000000ull);
    assert_true(c.max_wait_ns == 5000000000ull);
    assert_true(c.idempotency_ttl_ns == 3600ull * 1000000000ull);
    qg_config_free(&c);

    char *bad1[] = {"qgate", "--callback-retries", "0", NULL};
    assert_int_equal(load(&c, bad1, envp, &err), -1);
    assert_non_null(strstr(err.msg, "--callback-retries"));
    qg_config_free(&c);
    char *bad2[] = {"qgate", "--idempotency-ttl", "0", NULL};
    assert_int_equal(load(&c, bad2, envp, &err), -1);
    assert_non_null(strstr(err.msg, "--idempotency-ttl"));
    qg_config_free(&c);
    char *bad3[] = {"qgate", "--callback-timeout", "0", NULL};
    assert_int_equal(load(&c, bad3, envp, &err), -1);
    qg_config_free(&c);

    /* --help names them */
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    qg_config_usage(f);
    fclose(f);
    for (const char *k = "--callback-allow\0--callback-secret\0--callback-retries\0"
                         "--callback-backoff\0--callback-backoff-max\0--callback-timeout\0"
                         "--max-wait\0--idempotency-ttl\0";
         *k; k += strlen(k) + 1)
        assert_non_null(strstr(buf, k));
    free(buf);
}

/* Writes text to a fresh file with mode; returns its path (static). */
static const char *
secret_file(const char *text, mode_t mode)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/qgate-test-secret-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    chmod(path, mode);
    return path;
}

static void
test_secrets_and_limits(void **state)
{
    qg_config c;
    qg_error err;
    char *envp[] = {NULL};
    char path[64];
    snprintf(path, sizeof(path), "%s", secret_file("file-secret\n", 0600));
    char *argv[] = {"qgate", "--callback-secret-file", path, NULL};
    assert_int_equal(load(&c, argv, envp, &err), 0);
    assert_string_equal(c.callback_secret, "file-secret");
    assert_false(c.callback_secret_in_argv);
    assert_true(c.max_value == 16u << 20);
    assert_string_equal(c.cors_origins, "");
    qg_config_free(&c);
    /* both, or a file others may read: refused */
    char *both[] = {"qgate", "--callback-secret-file", path, "--callback-secret", "x", NULL};
    assert_int_equal(load(&c, both, envp, &err), -1);
    assert_non_null(strstr(err.msg, "both given"));
    qg_config_free(&c);
    chmod(path, 0644);
    assert_int_equal(load(&c, argv, envp, &err), -1);
    assert_non_null(strstr(err.msg, "group or others"));
    qg_config_free(&c);
    unlink(path);
    /* a secret in argv is marked, and scrubbed from argv */
    char flag[] = "--callback-secret", value[] = "argv-secret", eq[] = "--callback-secret=two";
    char *argv2[] = {"qgate", flag, value, eq, NULL};
    assert_int_equal(load(&c, argv2, envp, &err), 0);
    assert_true(c.callback_secret_in_argv);
    assert_string_equal(c.callback_secret, "two");
    qg_config_scrub_argv(4, argv2);
    assert_string_equal(value, "xxxxxxxxxxx");
    assert_string_equal(eq, "--callback-secret=xxx");
    assert_string_equal(c.callback_secret, "two");
    qg_config_free(&c);
    char *small[] = {"qgate", "--max-value", "10", NULL};
    assert_int_equal(load(&c, small, envp, &err), -1);
    assert_non_null(strstr(err.msg, "--max-value"));
    qg_config_free(&c);
}

/* Every mistake says what to do: the closest name, the form expected. */
static void
test_mistakes_point_to_the_fix(void **state)
{
    qg_config c;
    qg_error err;
    char *envp[] = {NULL};
    char *h[] = {"qgate", "-h", NULL};
    assert_int_equal(load(&c, h, envp, &err), 0);
    assert_true(c.help);
    qg_config_free(&c);
    char *v[] = {"qgate", "-v", NULL};
    assert_int_equal(load(&c, v, envp, &err), 0);
    assert_true(c.version);
    qg_config_free(&c);

    char *f1[] = {"qgate", "--worker", "3", NULL};
    assert_int_equal(load(&c, f1, envp, &err), -1);
    assert_string_equal(err.msg, "unknown flag '--worker'; did you mean --workers? (see --help)");
    qg_config_free(&c);
    char *f2[] = {"qgate", "--workers", "eight", NULL};
    assert_int_equal(load(&c, f2, envp, &err), -1);
    assert_string_equal(err.msg,
                        "--workers: invalid value for workers: 'eight'; expected a whole number, "
                        "e.g. 8");
    qg_config_free(&c);
    char *f3[] = {"qgate", NULL};
    char *e3[] = {"QGATE_RESULT_TTL=10", NULL};
    assert_int_equal(load(&c, f3, e3, &err), -1);
    assert_non_null(strstr(err.msg, "QGATE_RESULT_TTL: invalid value for result-ttl: '10'; "
                                    "expected a duration with a unit, e.g. 30s"));
    assert_non_null(strstr(err.msg, "did you mean 10s?"));
    qg_config_free(&c);
    char *f4[] = {"qgate", "--max-body", "lots", NULL};
    assert_int_equal(load(&c, f4, envp, &err), -1);
    assert_non_null(
        strstr(err.msg, "expected a size in bytes, or with a binary unit: 4096, 64KiB"));
    qg_config_free(&c);
    char *f5[] = {"qgate", "serve", NULL};
    assert_int_equal(load(&c, f5, envp, &err), -1);
    assert_non_null(strstr(err.msg, "unexpected argument 'serve': settings are flags"));
    qg_config_free(&c);

    /* a config file's unknown key and bad value */
    char path[] = "/tmp/qgate-test-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("worker = 8\n", f);
    fclose(f);
    char *f6[] = {"qgate", "--config", path, NULL};
    assert_int_equal(load(&c, f6, envp, &err), -1);
    assert_non_null(strstr(err.msg, ":1: unknown setting 'worker'; did you mean workers?"));
    qg_config_free(&c);
    f = fopen(path, "w");
    fputs("workers = eight\n", f);
    fclose(f);
    assert_int_equal(load(&c, f6, envp, &err), -1);
    assert_non_null(strstr(err.msg, ":1: invalid value for workers: 'eight'; expected a whole "
                                    "number, e.g. 8"));
    qg_config_free(&c);
    unlink(path);

    /* an unknown QGATE_ variable is a warning, with the closest one */
    char *e7[] = {"QGATE_WORKRS=3",     "QGATE_WORKERS=2", "QGATE_CONFIG=",
                  "QGATE_ZZZZZZZZZZ=1", "OTHER=1",         NULL};
    assert_int_equal(load(&c, f3, e7, &err), 0);
    assert_int_equal(c.workers, 2);
    assert_string_equal(c.warnings,
                        "environment variable QGATE_WORKRS is not a qgate setting; ignored; did "
                        "you mean QGATE_WORKERS?\n"
                        "environment variable QGATE_ZZZZZZZZZZ is not a qgate setting; ignored\n");
    qg_config_free(&c);
    assert_int_equal(load(&c, f3, envp, &err), 0);
    assert_null(c.warnings);
    qg_config_free(&c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mistakes_point_to_the_fix),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_precedence_file_env_flags),
        cmocka_unit_test(test_errors_name_the_culprit),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_callback_and_job_settings),
        cmocka_unit_test(test_secrets_and_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
