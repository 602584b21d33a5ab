/*
 * sqltext: the little lexical knowledge of SQL text that qgate needs
 * outside the engines: skipping blanks and comments, and naming a
 * statement's kind for messages. Pure; any thread.
 */
#ifndef QG_EXEC_SQLTEXT_H
#define QG_EXEC_SQLTEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes of whitespace, "--" line comments and block comments at the start
 * of s[0..n) (an unterminated block comment runs to the end). */
size_t sqltext_skip_blank(const char *s, size_t n);
/* True when s[0..n) holds nothing but whitespace, comments and ';'. */
bool sqltext_blank(const char *s, size_t n);
/* The statement's first keyword, upper-cased ("INSERT"), or "UNKNOWN";
 * out holds 32 bytes. */
void sqltext_kind(const char *s, size_t n, char out[32]);

#endif
