/* pgsql_lex: tokens of PostgreSQL text, as far as qgate needs them (see pgsql_lex.h). */
#include "exec/pgsql_lex.h"

#include <string.h>

static bool
is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool
is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

bool
pgsql_ident_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

/* Inside a dollar-quote tag: like an identifier, but never '$'. */
static bool
tag_cont(unsigned char c)
{
    return pgsql_ident_start(c) || is_digit(c);
}

/* Inside a word: identifier bytes and '$'. */
static bool
word_cont(unsigned char c)
{
    return tag_cont(c) || c == '$';
}

bool
pgsql_word_is(const char *s, size_t n, const char *keyword)
{
    size_t i = 0;
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'a' && c <= 'z')
            c = (unsigned char)(c - 'a' + 'A');
        if (keyword[i] == '\0' || (unsigned char)keyword[i] != c)
            return false;
    }
    return keyword[i] == '\0';
}

/* A quoted run starting at s[off] (the opening quote q). Doubled quotes
 * stay inside; with backslash, a backslash takes the next byte along. */
static pgsql_tok
quoted(const char *s, size_t n, size_t off, size_t start, char q, bool backslash,
       pgsql_tok_type type)
{
    size_t i = off + 1;
    while (i < n) {
        char c = s[i];
        if (backslash && c == '\\') {
            if (i + 1 >= n)
                break;
            i += 2;
        } else if (c == q) {
            if (i + 1 < n && s[i + 1] == q) {
                i += 2;
            } else {
                return (pgsql_tok){type, start, i + 1 - start, false};
            }
        } else {
            i++;
        }
    }
    return (pgsql_tok){type, start, n - start, true};
}

/* Length of a dollar-quote opening tag at s[off] ('$'), delimiters
 * included, or 0 when none starts there. */
static size_t
dollar_tag(const char *s, size_t n, size_t off)
{
    size_t i = off + 1;
    if (i < n && s[i] == '$')
        return 2;
    if (i >= n || !pgsql_ident_start((unsigned char)s[i]))
        return 0;
    while (i < n && tag_cont((unsigned char)s[i]))
        i++;
    if (i < n && s[i] == '$')
        return i + 1 - off;
    return 0;
}

static pgsql_tok
dollar_quoted(const char *s, size_t n, size_t off, size_t tag)
{
    size_t i = off + tag;
    while (i + tag <= n) {
        if (s[i] == '$' && memcmp(s + i, s + off, tag) == 0)
            return (pgsql_tok){PGSQL_DOLLAR, off, i + tag - off, false};
        i++;
    }
    return (pgsql_tok){PGSQL_DOLLAR, off, n - off, true};
}

static pgsql_tok
block_comment(const char *s, size_t n, size_t off)
{
    size_t depth = 0, i = off;
    while (i + 1 < n) {
        if (s[i] == '/' && s[i + 1] == '*') {
            depth++;
            i += 2;
        } else if (s[i] == '*' && s[i + 1] == '/') {
            i += 2;
            if (--depth == 0)
                return (pgsql_tok){PGSQL_COMMENT, off, i - off, false};
        } else {
            i++;
        }
    }
    return (pgsql_tok){PGSQL_COMMENT, off, n - off, true};
}

pgsql_tok
pgsql_lex(const char *s, size_t n, size_t off)
{
    if (off >= n)
        return (pgsql_tok){PGSQL_END, n, 0, false};
    unsigned char c = (unsigned char)s[off];
    size_t i = off + 1;
    if (is_space(c)) {
        while (i < n && is_space((unsigned char)s[i]))
            i++;
        return (pgsql_tok){PGSQL_SPACE, off, i - off, false};
    }
    switch (c) {
    case '-':
        if (i < n && s[i] == '-') {
            while (i < n && s[i] != '\n' && s[i] != '\r')
                i++;
            return (pgsql_tok){PGSQL_COMMENT, off, i - off, false};
        }
        break;
    case '/':
        if (i < n && s[i] == '*')
            return block_comment(s, n, off);
        break;
    case '\'':
        return quoted(s, n, off, off, '\'', false, PGSQL_STRING);
    case '"':
        return quoted(s, n, off, off, '"', false, PGSQL_QIDENT);
    case '$': {
        if (i < n && is_digit((unsigned char)s[i])) {
            while (i < n && is_digit((unsigned char)s[i]))
                i++;
            return (pgsql_tok){PGSQL_PARAM, off, i - off, false};
        }
        size_t tag = dollar_tag(s, n, off);
        if (tag)
            return dollar_quoted(s, n, off, tag);
        if (i < n && pgsql_ident_start((unsigned char)s[i])) {
            while (i < n && tag_cont((unsigned char)s[i]))
                i++;
            return (pgsql_tok){PGSQL_NAMED, off, i - off, false};
        }
        break;
    }
    case '?':
        if (i < n && s[i] == '?')
            return (pgsql_tok){PGSQL_QMARK2, off, 2, false};
        return (pgsql_tok){PGSQL_QMARK, off, 1, false};
    case ';':
        return (pgsql_tok){PGSQL_SEMI, off, 1, false};
    case '(':
        return (pgsql_tok){PGSQL_LPAREN, off, 1, false};
    case ')':
        return (pgsql_tok){PGSQL_RPAREN, off, 1, false};
    default:
        break;
    }
    if ((c == 'E' || c == 'e') && i < n && s[i] == '\'')
        return quoted(s, n, i, off, '\'', true, PGSQL_STRING);
    if (pgsql_ident_start(c)) {
        while (i < n && word_cont((unsigned char)s[i]))
            i++;
        return (pgsql_tok){PGSQL_WORD, off, i - off, false};
    }
    if (is_digit(c)) {
        while (i < n && (word_cont((unsigned char)s[i]) || s[i] == '.') && s[i] != '$')
            i++;
        return (pgsql_tok){PGSQL_NUMBER, off, i - off, false};
    }
    return (pgsql_tok){PGSQL_OTHER, off, 1, false};
}
