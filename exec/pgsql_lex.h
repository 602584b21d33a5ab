/*
 * pgsql_lex: the tokens of PostgreSQL statement text that qgate must see.
 *
 * qgate never parses SQL; it needs to know where statements end, which `$`
 * and `?` are parameters, and a statement's first words. All three depend
 * on one thing only: what is inside a quoted string, a quoted identifier, a
 * dollar-quoted string or a comment, and what is not. This lexer answers
 * that the way PostgreSQL's own scanner does (standard_conforming_strings
 * on, which the backend sets on every connection):
 *
 *   'it''s'           a string; '' is a quote inside it, backslash is plain
 *   E'it\'s'          an escape string (E or e, not part of a longer word):
 *                     backslash escapes the next byte, '' works too
 *   "a ""b"""         a quoted identifier
 *   $$..$$, $t$..$t$  dollar quoting; the tag is an identifier without '$'
 *   -- ...            a comment to the end of the line
 *   slash-star ...    a block comment, to star-slash; these nest
 *   $1                a positional parameter
 *   $name             a named parameter (qgate's; PostgreSQL has none)
 *   ?  ??             a placeholder, and a literal '?' (qgate's; see
 *                     pgsql_params.h)
 *
 * Words (identifiers and keywords) may contain '$' after their first byte,
 * as in PostgreSQL, so `a$1` and `f$x$` are words, not a parameter or a
 * dollar quote. Bytes >= 0x80 are letters. Anything unterminated runs to
 * the end of the text (the server then reports it).
 *
 * Pure: no allocation, never reads past n, any thread. Written to be fuzzed.
 */
#ifndef QG_EXEC_PGSQL_LEX_H
#define QG_EXEC_PGSQL_LEX_H

#include <stdbool.h>
#include <stddef.h>

typedef enum pgsql_tok_type {
    PGSQL_END,     /* off == n: nothing left */
    PGSQL_SPACE,   /* whitespace */
    PGSQL_COMMENT, /* a line or block comment */
    PGSQL_WORD,    /* identifier or keyword, unquoted */
    PGSQL_QIDENT,  /* "quoted identifier" */
    PGSQL_STRING,  /* '...' or E'...' (a prefix such as B, X, N, U& is a word before it) */
    PGSQL_DOLLAR,  /* $tag$ ... $tag$ */
    PGSQL_PARAM,   /* $ followed by digits */
    PGSQL_NAMED,   /* $ followed by an identifier (not a dollar quote) */
    PGSQL_QMARK,   /* a single ? */
    PGSQL_QMARK2,  /* ?? : a literal ? */
    PGSQL_SEMI,    /* ; */
    PGSQL_LPAREN,  /* ( */
    PGSQL_RPAREN,  /* ) */
    PGSQL_NUMBER,  /* digits, possibly with '.', exponent, letters, '_' */
    PGSQL_OTHER,   /* one byte of anything else: operators, punctuation */
} pgsql_tok_type;

typedef struct pgsql_tok {
    pgsql_tok_type type;
    size_t off; /* first byte */
    size_t len; /* bytes, >= 1 except for PGSQL_END */
    bool open;  /* a string, identifier, dollar quote or comment that the
                 * text ends inside of */
} pgsql_tok;

/* The token starting at s[off] (off <= n). */
pgsql_tok pgsql_lex(const char *s, size_t n, size_t off);

/* Whether c may start an identifier (letters, '_', bytes >= 0x80). */
bool pgsql_ident_start(unsigned char c);

/* Case-insensitive comparison of the word s[0..n) with an upper-case
 * ASCII keyword. */
bool pgsql_word_is(const char *s, size_t n, const char *keyword);

#endif
