/* pgsql_split: statement boundaries in PostgreSQL text (see pgsql_split.h). */
#include "exec/pgsql_split.h"

#include "exec/pgsql_lex.h"

static bool
blank(pgsql_tok_type t)
{
    return t == PGSQL_SPACE || t == PGSQL_COMMENT;
}

/* Skips blanks, comments and ';' from off; returns the first other offset. */
static size_t
skip_empty(const char *s, size_t n, size_t off)
{
    for (;;) {
        pgsql_tok t = pgsql_lex(s, n, off);
        if (t.type == PGSQL_END || !(blank(t.type) || t.type == PGSQL_SEMI))
            return t.off;
        off = t.off + t.len;
    }
}

/* Tracks the head of a statement to know whether it creates a routine
 * whose body may hold BEGIN ... END with semicolons inside. */
typedef struct head {
    int words;    /* words seen at paren depth 0 so far (counting stops at 5) */
    bool create;  /* the first word was CREATE */
    bool routine; /* CREATE [OR REPLACE] FUNCTION|PROCEDURE */
    int body;     /* open BEGIN/CASE ... END blocks */
} head;

static void
see_word(head *h, const char *w, size_t len)
{
    if (h->words < 5) {
        int i = h->words++;
        if (i == 0)
            h->create = pgsql_word_is(w, len, "CREATE");
        else if (h->create && (i == 1 || i == 3) &&
                 (pgsql_word_is(w, len, "FUNCTION") || pgsql_word_is(w, len, "PROCEDURE")))
            h->routine = true;
        else if (h->create && i == 1 && !pgsql_word_is(w, len, "OR"))
            h->create = false;
        else if (h->create && i == 2 && !pgsql_word_is(w, len, "REPLACE"))
            h->create = false;
    }
    if (!h->routine)
        return;
    if (pgsql_word_is(w, len, "BEGIN"))
        h->body++;
    else if (h->body > 0 && pgsql_word_is(w, len, "CASE"))
        h->body++;
    else if (h->body > 0 && pgsql_word_is(w, len, "END"))
        h->body--;
}

bool
pgsql_split(const char *s, size_t n, pgsql_span *span)
{
    size_t start = skip_empty(s, n, 0);
    span->start = start;
    span->len = 0;
    span->used = n;
    if (start >= n)
        return false;
    head h = {0};
    size_t depth = 0, end = start, off = start;
    for (;;) {
        pgsql_tok t = pgsql_lex(s, n, off);
        if (t.type == PGSQL_END)
            break;
        off = t.off + t.len;
        if (t.type == PGSQL_SEMI && depth == 0 && h.body == 0) {
            span->len = end - start;
            span->used = skip_empty(s, n, off);
            return true;
        }
        if (t.type == PGSQL_LPAREN)
            depth++;
        else if (t.type == PGSQL_RPAREN && depth > 0)
            depth--;
        else if (t.type == PGSQL_WORD && depth == 0)
            see_word(&h, s + t.off, t.len);
        if (t.type != PGSQL_SPACE)
            end = off;
    }
    span->len = end - start;
    span->used = n;
    return true;
}
