/*
 * fuzz_sqlite_split: exec/sqlite_split against sqlite3_complete.
 *
 * The input is any SQLite text (NUL bytes included). Checked:
 *   - sqlite_split_complete gives sqlite3_complete's answer, for the whole
 *     input and for the input cut at a point the input picks;
 *   - splitting the input to the end makes progress and stays inside it;
 *     each statement is non-empty, starts with no blank and ends with no
 *     blank; what lies between statements is blanks, comments and ';';
 *   - each statement is where sqlite3_complete puts it: when the text has
 *     no NUL, the statement plus its ';' is complete, and no shorter
 *     prefix of it ending on a ';' is (asked of sqlite3_complete only on
 *     texts of up to 4 KiB, which keeps the quadratic check cheap).
 */
#include <sqlite3.h>

#include "exec/sqlite_split.h"

#include "fuzz.h"

static int
complete_of(const char *p, size_t n)
{
    char *z = malloc(n + 1);
    if (!z)
        abort();
    memcpy(z, p, n);
    z[n] = '\0';
    int r = sqlite3_complete(z) != 0;
    free(z);
    return r;
}

static bool
blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Whether s[0..n) is blanks, -- and block comments and ';' only. */
static bool
only_empty(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (blank(s[i]) || s[i] == ';') {
            i++;
        } else if (s[i] == '-' && i + 1 < n && s[i + 1] == '-') {
            while (i < n && s[i] != '\n')
                i++;
        } else if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
            i += 2;
            while (i + 1 < n && !(s[i] == '*' && s[i + 1] == '/'))
                i++;
            i = i + 1 < n ? i + 2 : n;
        } else {
            return false;
        }
    }
    return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        sqlite_span sp;
        FUZZ_CHECK(sqlite_split_complete("", 0) == complete_of("", 0));
        FUZZ_CHECK(!sqlite_split("", 0, &sp) && sp.used == 0);
        return 0;
    }
    char *text = fuzz_dup(data, size);
    FUZZ_CHECK(sqlite_split_complete(text, size) == complete_of(text, size));
    size_t cut = (size_t)(fuzz_hash(data, size) % (size + 1));
    if (cut > 0 && cut < size) {
        char *head = fuzz_dup(data, cut);
        FUZZ_CHECK(sqlite_split_complete(head, cut) == complete_of(head, cut));
        free(head);
    }

    bool has_nul = memchr(text, '\0', size) != NULL;
    size_t off = 0;
    for (;;) {
        sqlite_span sp;
        bool found = sqlite_split(text + off, size - off, &sp);
        FUZZ_CHECK(sp.used <= size - off);
        if (!found) {
            FUZZ_CHECK(sp.used == size - off);
            FUZZ_CHECK(only_empty(text + off, size - off));
            break;
        }
        const char *st = text + off + sp.start;
        FUZZ_CHECK(sp.len > 0 && sp.start + sp.len <= sp.used && sp.used > 0);
        FUZZ_CHECK(only_empty(text + off, sp.start));
        FUZZ_CHECK(!blank(st[0]) && !blank(st[sp.len - 1]));
        size_t after = sp.start + sp.len;
        if (off + sp.used < size) {
            /* a ';' ended it; only blanks and comments came before that */
            size_t k = after;
            while (k < sp.used && blank(text[off + k]))
                k++;
            FUZZ_CHECK(k < sp.used && text[off + k] == ';');
            FUZZ_CHECK(only_empty(text + off + k, sp.used - k));
            if (!has_nul && size <= 4096) {
                FUZZ_CHECK(complete_of(st, k + 1 - sp.start));
                for (size_t j = sp.start; j < k; j++)
                    if (text[off + j] == ';')
                        FUZZ_CHECK(!complete_of(st, j + 1 - sp.start));
            }
        }
        off += sp.used;
    }
    free(text);
    return 0;
}
