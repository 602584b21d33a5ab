/* pgsql_kind: a statement's kind and read-only-ness from its words (see pgsql_kind.h). */
#include "exec/pgsql_kind.h"

#include <stdio.h>
#include <string.h>

#include "exec/pgsql_lex.h"

/* The words of a statement, one at a time; parentheses are reported too
 * (EXPLAIN's option list needs them), everything else is skipped. */
typedef struct words {
    const char *s;
    size_t n, off;
} words;

static pgsql_tok
next(words *w)
{
    for (;;) {
        pgsql_tok t = pgsql_lex(w->s, w->n, w->off);
        w->off = t.off + t.len;
        if (t.type == PGSQL_END || t.type == PGSQL_WORD || t.type == PGSQL_LPAREN ||
            t.type == PGSQL_RPAREN)
            return t;
    }
}

static bool
is(const words *w, pgsql_tok t, const char *kw)
{
    return t.type == PGSQL_WORD && pgsql_word_is(w->s + t.off, t.len, kw);
}

static void
set_kind(pgsql_kind *out, const char *s, size_t n)
{
    size_t k = 0;
    for (; k < n && k < sizeof(out->kind) - 1; k++) {
        char c = s[k];
        out->kind[k] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
    }
    out->kind[k] = '\0';
}

/* Scans a query (SELECT/VALUES/TABLE/WITH) for what makes it write. */
static void
query_writes(words *w, pgsql_kind *out)
{
    pgsql_tok prev = {PGSQL_END, 0, 0, false};
    for (pgsql_tok t = next(w); t.type != PGSQL_END; prev = t, t = next(w)) {
        if (is(w, t, "INSERT") || is(w, t, "DELETE") || is(w, t, "MERGE")) {
            set_kind(out, w->s + t.off, t.len);
            out->readonly = false;
            return;
        }
        if (is(w, t, "UPDATE") || is(w, t, "SHARE")) {
            /* FOR [NO KEY] UPDATE, FOR [KEY] SHARE, or an UPDATE in a WITH */
            bool lock = is(w, prev, "FOR") || is(w, prev, "KEY");
            if (lock) {
                snprintf(out->kind, sizeof(out->kind), "SELECT FOR %s%s",
                         is(w, prev, "KEY") ? (is(w, t, "UPDATE") ? "NO KEY " : "KEY ") : "",
                         is(w, t, "UPDATE") ? "UPDATE" : "SHARE");
                out->readonly = false;
                return;
            }
            if (is(w, t, "UPDATE")) {
                set_kind(out, "UPDATE", 6);
                out->readonly = false;
                return;
            }
        }
        if (is(w, t, "INTO")) {
            set_kind(out, "SELECT INTO", 11);
            out->readonly = false;
            return;
        }
        if (is(w, t, "RETURNING"))
            out->rows = true;
    }
}

static void
classify(words *w, pgsql_tok first, pgsql_kind *out)
{
    /* a query may open with parentheses: (SELECT 1) UNION (SELECT 2) */
    while (first.type == PGSQL_LPAREN || first.type == PGSQL_RPAREN)
        first = next(w);
    if (first.type == PGSQL_END) {
        strcpy(out->kind, "UNKNOWN");
        return;
    }
    set_kind(out, w->s + first.off, first.len);
    if (is(w, first, "SELECT") || is(w, first, "VALUES") || is(w, first, "TABLE") ||
        is(w, first, "WITH")) {
        out->readonly = true;
        out->rows = true;
        query_writes(w, out);
        return;
    }
    if (is(w, first, "SHOW")) {
        out->readonly = true;
        out->rows = true;
        return;
    }
    if (is(w, first, "EXPLAIN")) {
        bool analyze = false;
        pgsql_tok t = next(w);
        if (t.type == PGSQL_LPAREN) {
            int depth = 1;
            while (depth > 0 && (t = next(w)).type != PGSQL_END) {
                depth += t.type == PGSQL_LPAREN ? 1 : t.type == PGSQL_RPAREN ? -1 : 0;
                analyze |= is(w, t, "ANALYZE") || is(w, t, "ANALYSE");
            }
            t = next(w);
        } else {
            while (is(w, t, "ANALYZE") || is(w, t, "ANALYSE") || is(w, t, "VERBOSE")) {
                analyze |= !is(w, t, "VERBOSE");
                t = next(w);
            }
        }
        pgsql_kind inner = {{0}, false, false};
        classify(w, t, &inner);
        *out = inner;
        out->rows = true;
        if (out->readonly || !analyze) {
            strcpy(out->kind, "EXPLAIN");
            out->readonly = true;
        }
        return;
    }
    out->readonly = false;
    for (pgsql_tok t = next(w); t.type != PGSQL_END; t = next(w))
        if (is(w, t, "RETURNING"))
            out->rows = true;
    out->rows |= is(w, first, "FETCH");
}

void
pgsql_kind_of(const char *s, size_t n, pgsql_kind *out)
{
    memset(out, 0, sizeof(*out));
    words w = {s, n, 0};
    classify(&w, next(&w), out);
}
