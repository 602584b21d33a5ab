/* pgsql_array: array text -> JSON array (see pgsql_array.h). */
#include "exec/pgsql_array.h"

#include <stdbool.h>

#include "exec/pgsql_lex.h"

typedef struct parser {
    const char *p;
    size_t n, i;
    char delim;
    pgsql_elem_fn fn;
    void *arg;
    qg_buf *out;
    qg_buf tmp; /* an element with escapes, unescaped */
} parser;

static bool
space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static void
skip_space(parser *ps)
{
    while (ps->i < ps->n && space(ps->p[ps->i]))
        ps->i++;
}

/* A double-quoted element at ps->i (the quote). */
static int
quoted(parser *ps)
{
    size_t start = ++ps->i;
    bool escaped = false;
    while (ps->i < ps->n && ps->p[ps->i] != '"') {
        if (ps->p[ps->i] == '\\') {
            escaped = true;
            if (++ps->i >= ps->n)
                return -1;
        }
        ps->i++;
    }
    if (ps->i >= ps->n)
        return -1;
    size_t end = ps->i++;
    if (!escaped) {
        ps->fn(ps->out, ps->p + start, end - start, ps->arg);
        return 0;
    }
    qg_buf_reset(&ps->tmp);
    for (size_t k = start; k < end; k++) {
        if (ps->p[k] == '\\')
            k++;
        qg_buf_addc(&ps->tmp, ps->p[k]);
    }
    ps->fn(ps->out, ps->tmp.data, ps->tmp.len, ps->arg);
    return 0;
}

/* An unquoted element at ps->i: up to the delimiter or '}', trailing white
 * space cut, backslashes taking the next byte. */
static int
unquoted(parser *ps)
{
    size_t start = ps->i, last = ps->i; /* last: end of the text kept */
    bool escaped = false;
    while (ps->i < ps->n) {
        char c = ps->p[ps->i];
        if (c == ps->delim || c == '}')
            break;
        if (c == '{' || c == '"')
            return -1;
        if (c == '\\') {
            escaped = true;
            if (++ps->i >= ps->n)
                return -1;
            last = ps->i + 1;
        } else if (!space(c)) {
            last = ps->i + 1;
        }
        ps->i++;
    }
    if (ps->i >= ps->n || last == start)
        return -1;
    if (!escaped && pgsql_word_is(ps->p + start, last - start, "NULL")) {
        qg_buf_addlit(ps->out, "null");
        return 0;
    }
    if (!escaped) {
        ps->fn(ps->out, ps->p + start, last - start, ps->arg);
        return 0;
    }
    qg_buf_reset(&ps->tmp);
    for (size_t k = start; k < last; k++) {
        if (ps->p[k] == '\\')
            k++;
        qg_buf_addc(&ps->tmp, ps->p[k]);
    }
    ps->fn(ps->out, ps->tmp.data, ps->tmp.len, ps->arg);
    return 0;
}

/* A brace-enclosed level at ps->i. */
static int
level(parser *ps, int depth)
{
    if (depth > PGSQL_ARRAY_MAX_DEPTH || ps->i >= ps->n || ps->p[ps->i] != '{')
        return -1;
    ps->i++;
    qg_buf_addc(ps->out, '[');
    skip_space(ps);
    if (ps->i < ps->n && ps->p[ps->i] == '}') {
        ps->i++;
        qg_buf_addc(ps->out, ']');
        return 0;
    }
    for (bool first = true;; first = false) {
        if (!first)
            qg_buf_addc(ps->out, ',');
        skip_space(ps);
        if (ps->i >= ps->n)
            return -1;
        int rc;
        if (ps->p[ps->i] == '{')
            rc = level(ps, depth + 1);
        else if (ps->p[ps->i] == '"')
            rc = quoted(ps);
        else
            rc = unquoted(ps);
        if (rc != 0)
            return -1;
        skip_space(ps);
        if (ps->i >= ps->n)
            return -1;
        char c = ps->p[ps->i++];
        if (c == '}') {
            qg_buf_addc(ps->out, ']');
            return 0;
        }
        if (c != ps->delim)
            return -1;
    }
}

int
pgsql_array_json(qg_buf *out, const char *p, size_t n, char delim, pgsql_elem_fn fn, void *arg)
{
    parser ps = {p, n, 0, delim, fn, arg, out, QG_BUF_INIT};
    size_t mark = out->len;
    skip_space(&ps);
    if (ps.i < n && p[ps.i] == '[') {
        /* dimension bounds: [lo:hi][lo:hi]= */
        while (ps.i < n && p[ps.i] != '=') {
            char c = p[ps.i];
            if (!(c == '[' || c == ']' || c == ':' || c == '-' || c == '+' ||
                  (c >= '0' && c <= '9') || space(c)))
                break;
            ps.i++;
        }
        if (ps.i >= n || p[ps.i] != '=')
            goto fail;
        ps.i++;
        skip_space(&ps);
    }
    if (level(&ps, 1) != 0)
        goto fail;
    skip_space(&ps);
    if (ps.i != n)
        goto fail;
    qg_buf_free(&ps.tmp);
    return 0;
fail:
    qg_buf_free(&ps.tmp);
    out->len = mark;
    if (out->data)
        out->data[mark] = '\0';
    return -1;
}
