/*
 * fuzz_trino: the parts of Trino's protocol that read a client's bytes:
 * api/trino_show (the catalog statements: SHOW ..., DESCRIBE ...), the
 * update type of a statement, and the refused submission's URI
 * (/v1/statement/failed/NAME/HEX).
 *
 * Contracts: a catalog statement is recognised or not the same way for
 * both backends; whatever it becomes has its single quotes balanced (a
 * name stays inside its literal) and no NUL; an update type is upper-case
 * letters and at most one space; a refused document, when the URI parses,
 * is valid UTF-8 holding the decoded message.
 */
#include "api/trino.h"

#include "fuzz.h"

static void
check_show(const uint8_t *data, size_t size)
{
    char *s = fuzz_dup(data, size);
    qg_buf a = QG_BUF_INIT, b = QG_BUF_INIT;
    qg_error err;
    int ra = api_trino_show(s, size, API_TRINO_SQLITE, &a, &err);
    int rb = api_trino_show(s, size, API_TRINO_POSTGRES, &b, &err);
    FUZZ_CHECK(ra == rb);
    FUZZ_CHECK(ra >= -1 && ra <= 1);
    const qg_buf *outs[] = {&a, &b};
    for (int k = 0; k < 2 && ra == 1; k++) {
        const qg_buf *o = outs[k];
        FUZZ_CHECK(o->len > 0 && strlen(o->data) == o->len);
        size_t quotes = 0;
        for (size_t i = 0; i < o->len; i++)
            quotes += o->data[i] == '\'';
        FUZZ_CHECK(quotes % 2 == 0);
    }
    if (ra != 1)
        FUZZ_CHECK(a.len == 0 && b.len == 0);
    qg_buf_free(&a);
    qg_buf_free(&b);
    char t[32];
    if (api_trino_update_type(s, size, t)) {
        size_t spaces = 0;
        for (const char *p = t; *p; p++) {
            FUZZ_CHECK((*p >= 'A' && *p <= 'Z') || *p == ' ');
            spaces += *p == ' ';
        }
        FUZZ_CHECK(spaces <= 1 && strlen(t) < 32);
    }
    free(s);
}

static void
check_refused(const uint8_t *data, size_t size)
{
    const uint8_t *slash = memchr(data, '/', size);
    if (!slash)
        return;
    size_t nl = (size_t)(slash - data);
    qg_buf b = QG_BUF_INIT;
    int r =
        api_trino_refused_doc(&b, (const char *)data, nl, (const char *)slash + 1, size - nl - 1);
    FUZZ_CHECK(r == 0 || r == -1);
    if (r == 0)
        FUZZ_CHECK(fuzz_utf8_valid((const uint8_t *)b.data, b.len));
    else
        FUZZ_CHECK(b.len == 0);
    qg_buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_show(data, size);
    check_refused(data, size);
    return 0;
}
