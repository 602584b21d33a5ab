/* sqlite_split: statement boundaries in SQLite text (see sqlite_split.h).
 *
 * The tokens that matter are ';', blanks (comments count as blanks), the
 * keywords EXPLAIN, CREATE, TEMP/TEMPORARY, TRIGGER and END, and anything
 * else. The states say where in a statement the text is:
 *
 *   BLANK     nothing but blanks yet
 *   START     just after a statement's ';'
 *   NORMAL    inside a statement that the next ';' ends
 *   EXPLAIN   EXPLAIN (and any words after it) began the statement
 *   CREATE    CREATE, or CREATE TEMP, began it (possibly after EXPLAIN)
 *   TRIGGER   inside a trigger: only ";END;" ends it
 *   SEMI      inside a trigger, after a ';'
 *   END       inside a trigger, after ";END"
 *
 * sqlite3_complete's documentation and source (complete.c) describe the
 * same machine; the table below is written from those rules and checked
 * against sqlite3_complete on generated texts (tests/unit/test_sqlite_split.c,
 * tests/fuzz/fuzz_sqlite_split.c).
 */
#include "exec/sqlite_split.h"

#include <stdint.h>

#include "exec/sqltext.h"

enum { T_SEMI, T_BLANK, T_OTHER, T_EXPLAIN, T_CREATE, T_TEMP, T_TRIGGER, T_END, T_COUNT };
enum { S_BLANK, S_START, S_NORMAL, S_EXPLAIN, S_CREATE, S_TRIGGER, S_SEMI, S_END, S_COUNT };

/* clang-format off */
static const unsigned char next_state[S_COUNT][T_COUNT] = {
    /*              SEMI     BLANK      OTHER      EXPLAIN    CREATE     TEMP       TRIGGER    END */
    [S_BLANK]   = {S_START, S_BLANK,   S_NORMAL,  S_EXPLAIN, S_CREATE,  S_NORMAL,  S_NORMAL,  S_NORMAL},
    [S_START]   = {S_START, S_START,   S_NORMAL,  S_EXPLAIN, S_CREATE,  S_NORMAL,  S_NORMAL,  S_NORMAL},
    [S_NORMAL]  = {S_START, S_NORMAL,  S_NORMAL,  S_NORMAL,  S_NORMAL,  S_NORMAL,  S_NORMAL,  S_NORMAL},
    [S_EXPLAIN] = {S_START, S_EXPLAIN, S_EXPLAIN, S_NORMAL,  S_CREATE,  S_NORMAL,  S_NORMAL,  S_NORMAL},
    [S_CREATE]  = {S_START, S_CREATE,  S_NORMAL,  S_NORMAL,  S_NORMAL,  S_CREATE,  S_TRIGGER, S_NORMAL},
    [S_TRIGGER] = {S_SEMI,  S_TRIGGER, S_TRIGGER, S_TRIGGER, S_TRIGGER, S_TRIGGER, S_TRIGGER, S_TRIGGER},
    [S_SEMI]    = {S_SEMI,  S_SEMI,    S_TRIGGER, S_TRIGGER, S_TRIGGER, S_TRIGGER, S_TRIGGER, S_END},
    [S_END]     = {S_START, S_END,     S_TRIGGER, S_TRIGGER, S_TRIGGER, S_TRIGGER, S_TRIGGER, S_TRIGGER},
};
/* clang-format on */

/* Where a token could not be read to its end: an unclosed quote, bracket
 * or block comment, or a NUL (the end of the text for these rules). */
#define UNCLOSED SIZE_MAX

/* SQLite's identifier characters: ASCII letters and digits, '_', '$', and
 * every byte of a multi-byte UTF-8 character. */
static inline bool
id_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '$' || c >= 0x80;
}

/* Whether the word w[0..len) is kw (upper-case ASCII), ignoring case. */
static bool
word_is(const char *w, size_t len, const char *kw)
{
    size_t i = 0;
    for (; i < len && kw[i]; i++) {
        char c = w[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c != kw[i])
            return false;
    }
    return i == len && kw[i] == '\0';
}

static int
keyword(const char *w, size_t len)
{
    switch (len) {
    case 3:
        return word_is(w, len, "END") ? T_END : T_OTHER;
    case 4:
        return word_is(w, len, "TEMP") ? T_TEMP : T_OTHER;
    case 6:
        return word_is(w, len, "CREATE") ? T_CREATE : T_OTHER;
    case 7:
        return word_is(w, len, "TRIGGER")   ? T_TRIGGER
               : word_is(w, len, "EXPLAIN") ? T_EXPLAIN
                                            : T_OTHER;
    case 9:
        return word_is(w, len, "TEMPORARY") ? T_TEMP : T_OTHER;
    default:
        return T_OTHER;
    }
}

/* The index after the first c at or after s[i], or UNCLOSED when a NUL or
 * the end comes first. */
static size_t
past(const char *s, size_t n, size_t i, char c)
{
    for (; i < n; i++) {
        if (s[i] == c)
            return i + 1;
        if (s[i] == '\0')
            return UNCLOSED;
    }
    return UNCLOSED;
}

/* Reads the token at s[i] (i < n, s[i] not NUL): its type in *tok; returns
 * the index after it, or UNCLOSED. */
static size_t
token(const char *s, size_t n, size_t i, int *tok)
{
    unsigned char c = (unsigned char)s[i];
    switch (c) {
    case ';':
        *tok = T_SEMI;
        return i + 1;
    case ' ':
    case '\t':
    case '\n':
    case '\r':
    case '\f':
        *tok = T_BLANK;
        return i + 1;
    case '-':
        if (i + 1 < n && s[i + 1] == '-') {
            /* to the end of the line, or of the text */
            *tok = T_BLANK;
            for (i += 2; i < n && s[i] != '\n' && s[i] != '\0'; i++)
                ;
            return i < n && s[i] == '\n' ? i + 1 : i;
        }
        break;
    case '/':
        if (i + 1 < n && s[i + 1] == '*') {
            *tok = T_BLANK;
            for (i += 2; i < n && s[i] != '\0'; i++)
                if (s[i] == '*' && i + 1 < n && s[i + 1] == '/')
                    return i + 2;
            return UNCLOSED;
        }
        break;
    case '[':
        *tok = T_OTHER;
        return past(s, n, i + 1, ']');
    case '\'':
    case '"':
    case '`':
        /* a doubled quote inside is two quoted tokens in a row here, which
         * changes nothing */
        *tok = T_OTHER;
        return past(s, n, i + 1, (char)c);
    default:
        if (id_char(c)) {
            size_t start = i;
            while (i < n && id_char((unsigned char)s[i]))
                i++;
            *tok = c == 'c' || c == 'C' || c == 't' || c == 'T' || c == 'e' || c == 'E'
                       ? keyword(s + start, i - start)
                       : T_OTHER;
            return i;
        }
        break;
    }
    *tok = T_OTHER;
    return i + 1;
}

int
sqlite_split_complete(const char *s, size_t n)
{
    int state = S_BLANK;
    for (size_t i = 0; i < n && s[i] != '\0';) {
        int tok;
        i = token(s, n, i, &tok);
        if (i == UNCLOSED)
            return 0;
        state = next_state[state][tok];
    }
    return state == S_START;
}

/* The index of the ';' that ends the statement starting at s[i], or n. */
static size_t
statement_end(const char *s, size_t n, size_t i)
{
    int state = S_BLANK;
    while (i < n && s[i] != '\0') {
        int tok;
        size_t next = token(s, n, i, &tok);
        if (next == UNCLOSED)
            return n;
        state = next_state[state][tok];
        if (tok == T_SEMI && state == S_START)
            return i;
        i = next;
    }
    return n;
}

/* Skips blanks, comments and ';' from off (blanks as SQLite's parser sees
 * them, \v included). */
static size_t
skip_empty(const char *s, size_t n, size_t off)
{
    for (;;) {
        off += sqltext_skip_blank(s + off, n - off);
        if (off < n && s[off] == ';') {
            off++;
            continue;
        }
        return off;
    }
}

static bool
trailing_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool
sqlite_split(const char *s, size_t n, sqlite_span *span)
{
    size_t start = skip_empty(s, n, 0);
    if (start >= n) {
        *span = (sqlite_span){n, 0, n};
        return false;
    }
    size_t end = statement_end(s, n, start);
    size_t used = end == n ? n : skip_empty(s, n, end + 1);
    while (end > start && trailing_blank(s[end - 1]))
        end--;
    *span = (sqlite_span){start, end - start, used};
    return true;
}
