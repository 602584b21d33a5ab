/* pgsql_params: ?, $n and $name placeholders renumbered as $k (see pgsql_params.h). */
#include "exec/pgsql_params.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "exec/pgsql_lex.h"

/* The number of a $n token, or 0 when it is $0 or beyond the limit. */
static size_t
param_number(const char *s, size_t len)
{
    size_t v = 0;
    for (size_t i = 1; i < len; i++) {
        v = v * 10 + (size_t)(s[i] - '0');
        if (v > PGSQL_MAX_PARAMS)
            return 0;
    }
    return v;
}

/* Index of the name s[0..len) among the first count names seen, or count. */
static size_t
find_name(const pgsql_param *names, size_t count, const char *s, size_t len)
{
    for (size_t i = 0; i < count; i++)
        if (names[i].name_len == len && memcmp(names[i].name, s, len) == 0)
            return i;
    return count;
}

int
pgsql_params_rewrite(const char *s, size_t n, pgsql_params *out)
{
    memset(out, 0, sizeof(*out));
    /* Pass 1: how many positional parameters, which names. */
    size_t max_dollar = 0, nq = 0, nnames = 0, cap = 0;
    pgsql_param *names = NULL;
    for (size_t off = 0;;) {
        pgsql_tok t = pgsql_lex(s, n, off);
        if (t.type == PGSQL_END)
            break;
        off = t.off + t.len;
        if (t.type == PGSQL_PARAM) {
            size_t k = param_number(s + t.off, t.len);
            if (k > max_dollar)
                max_dollar = k;
        } else if (t.type == PGSQL_QMARK) {
            nq++;
        } else if (t.type == PGSQL_NAMED &&
                   find_name(names, nnames, s + t.off + 1, t.len - 1) == nnames) {
            if (nnames == cap)
                names = qg_realloc(names, (cap = cap ? cap * 2 : 4) * sizeof(*names));
            names[nnames++] = (pgsql_param){PGSQL_P_NAMED, 0, false, s + t.off + 1, t.len - 1};
        }
    }
    size_t npos = max_dollar > nq ? max_dollar : nq;
    if (npos + nnames > PGSQL_MAX_PARAMS) {
        free(names);
        return -1;
    }
    out->n = npos + nnames;
    out->p = qg_calloc(out->n ? out->n : 1, sizeof(pgsql_param));
    for (size_t i = 0; i < nnames; i++)
        out->p[npos + i] = names[i];

    /* Pass 2: the text, and which args the positional ones take. */
    qg_buf b = QG_BUF_INIT;
    qg_buf_reserve(&b, n + 16);
    size_t copied = 0, qi = 0;
    for (size_t off = 0;;) {
        pgsql_tok t = pgsql_lex(s, n, off);
        if (t.type == PGSQL_END)
            break;
        off = t.off + t.len;
        char num[24];
        switch (t.type) {
        case PGSQL_PARAM: {
            size_t k = param_number(s + t.off, t.len);
            if (k > 0 && out->p[k - 1].src == PGSQL_P_UNUSED)
                out->p[k - 1] = (pgsql_param){PGSQL_P_ARG, k - 1, false, NULL, 0};
            continue; /* the text stays */
        }
        case PGSQL_QMARK:
            qi++;
            if (out->p[qi - 1].src == PGSQL_P_UNUSED)
                out->p[qi - 1] = (pgsql_param){PGSQL_P_ARG, qi - 1, true, NULL, 0};
            snprintf(num, sizeof(num), "$%zu", qi);
            break;
        case PGSQL_QMARK2:
            strcpy(num, "?");
            break;
        case PGSQL_NAMED:
            snprintf(num, sizeof(num), "$%zu",
                     npos + find_name(names, nnames, s + t.off + 1, t.len - 1) + 1);
            break;
        default:
            continue;
        }
        qg_buf_add(&b, s + copied, t.off - copied);
        /* a word right before would swallow the '$' ("a?" -> "a$1" is one
         * identifier): keep them apart */
        if (num[0] == '$' && t.off > 0 && b.len > 0) {
            unsigned char prev = (unsigned char)b.data[b.len - 1];
            if (pgsql_ident_start(prev) || (prev >= '0' && prev <= '9') || prev == '$')
                qg_buf_addc(&b, ' ');
        }
        qg_buf_adds(&b, num);
        copied = off;
    }
    qg_buf_add(&b, s + copied, n - copied);
    free(names);
    out->sql = qg_buf_detach(&b, &out->len);
    if (!out->sql)
        out->sql = qg_strdup("");
    return 0;
}

void
pgsql_params_free(pgsql_params *p)
{
    free(p->sql);
    free(p->p);
    memset(p, 0, sizeof(*p));
}
