/* sqltext: blanks, comments and statement kinds (see sqltext.h). */
#include "exec/sqltext.h"

#include <ctype.h>
#include <string.h>

size_t
sqltext_skip_blank(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (isspace(c)) {
            i++;
        } else if (c == '-' && i + 1 < n && s[i + 1] == '-') {
            while (i < n && s[i] != '\n')
                i++;
        } else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            i += 2;
            while (i + 1 < n && !(s[i] == '*' && s[i + 1] == '/'))
                i++;
            i = i + 1 < n ? i + 2 : n;
        } else {
            break;
        }
    }
    return i;
}

bool
sqltext_blank(const char *s, size_t n)
{
    size_t i = 0;
    for (;;) {
        i += sqltext_skip_blank(s + i, n - i);
        if (i < n && s[i] == ';') {
            i++;
            continue;
        }
        return i >= n;
    }
}

void
sqltext_kind(const char *s, size_t n, char out[32])
{
    size_t i = sqltext_skip_blank(s, n);
    size_t k = 0;
    while (i < n && k < 31 && (isalpha((unsigned char)s[i]) || s[i] == '_'))
        out[k++] = (char)toupper((unsigned char)s[i++]);
    if (k == 0)
        strcpy(out, "UNKNOWN");
    else
        out[k] = '\0';
}
