/* err: the error table (see err.h). */
#include "core/err.h"

#include <stdio.h>
#include <string.h>

struct row {
    int http;
    const char *asx;
    const char *status;
    const char *fmt;
    const char *name;
};

static const struct row rows[QG_E__COUNT] = {
#define QG_ERR_ROW(name, http, asx, status, fmt) [QG_E_##name] = {http, asx, status, fmt, #name},
    QG_ERRORS(QG_ERR_ROW)
#undef QG_ERR_ROW
};

static const struct row *
row(qg_code code)
{
    if ((unsigned)code >= QG_E__COUNT)
        code = QG_E_INTERNAL;
    return &rows[code];
}

int
qg_err_http(qg_code code)
{
    return row(code)->http;
}

const char *
qg_err_asx(qg_code code)
{
    return row(code)->asx;
}

const char *
qg_err_status(qg_code code)
{
    return row(code)->status;
}

const char *
qg_err_name(qg_code code)
{
    return row(code)->name;
}

/* Cuts s at len bytes without splitting a UTF-8 sequence. The byte at
 * s[len] is already gone (vsnprintf put its NUL there), so the last
 * sequence is judged by its lead byte: dropped if it lacks bytes. */
static void
cut_utf8(char *s, size_t len)
{
    size_t i = len;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i > 0) {
        unsigned char lead = (unsigned char)s[i - 1];
        size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        if (len - (i - 1) < need)
            len = i - 1;
    }
    s[len] = '\0';
}

int
qg_error_vset(qg_error *e, qg_code code, va_list ap)
{
    if (!e)
        return -1;
    const struct row *r = row(code);
    e->code = code;
    int n = 0;
    if (r->asx[0])
        n = snprintf(e->msg, sizeof(e->msg), "%s: ", r->asx);
    int m = vsnprintf(e->msg + n, sizeof(e->msg) - (size_t)n, r->fmt, ap);
    if (m < 0)
        e->msg[n] = '\0';
    else if ((size_t)(n + m) >= sizeof(e->msg))
        cut_utf8(e->msg, sizeof(e->msg) - 1);
    return -1;
}

int
qg_error_set(qg_error *e, qg_code code, ...)
{
    va_list ap;
    va_start(ap, code);
    qg_error_vset(e, code, ap);
    va_end(ap);
    return -1;
}

int
qg_error_append(qg_error *e, const char *fmt, ...)
{
    if (!e)
        return -1;
    size_t n = strlen(e->msg);
    if (n >= sizeof(e->msg) - 1)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(e->msg + n, sizeof(e->msg) - n, fmt, ap);
    va_end(ap);
    if (m < 0)
        e->msg[n] = '\0';
    else if (n + (size_t)m >= sizeof(e->msg))
        cut_utf8(e->msg, sizeof(e->msg) - 1);
    return -1;
}

void
qg_error_clear(qg_error *e)
{
    if (!e)
        return;
    e->code = QG_OK;
    e->msg[0] = '\0';
}
