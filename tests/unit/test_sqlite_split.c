/* Unit tests for exec/sqlite_split: where SQLite statements end, checked
 * against sqlite3_complete itself on generated texts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/buf.h"
#include "exec/sqlite_split.h"
#include "exec/sqltext.h"

/* A fixed-seed generator (splitmix64) so failures reproduce. */
static uint64_t
next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* An exact-size heap copy (ASan sees over-reads). */
static char *
dup_exact(const char *s, size_t n)
{
    char *c = malloc(n ? n : 1);
    memcpy(c, s, n);
    return c;
}

/* Splits s completely; the statements are joined with " | " into out. */
static void
split_all(const char *s, char *out, size_t size)
{
    size_t n = strlen(s);
    char *copy = dup_exact(s, n);
    size_t off = 0, k = 0;
    out[0] = '\0';
    for (int guard = 0; guard < 100; guard++) {
        sqlite_span sp;
        bool found = sqlite_split(copy + off, n - off, &sp);
        assert_true(sp.used <= n - off);
        if (!found) {
            assert_int_equal(sp.used, n - off);
            break;
        }
        assert_true(sp.len > 0);
        assert_true(sp.start + sp.len <= sp.used);
        k += (size_t)snprintf(out + k, size - k, "%s%.*s", k ? " | " : "", (int)sp.len,
                              copy + off + sp.start);
        off += sp.used;
    }
    free(copy);
}

#define assert_split(s, want)                                                                      \
    do {                                                                                           \
        char got_[1024];                                                                           \
        split_all((s), got_, sizeof(got_));                                                        \
        assert_string_equal(got_, (want));                                                         \
    } while (0)

static void
test_simple(void **state)
{
    assert_split("SELECT 1", "SELECT 1");
    assert_split("SELECT 1; SELECT 2;", "SELECT 1 | SELECT 2");
    assert_split("  ;; SELECT 1 ;;; ", "SELECT 1");
    assert_split("", "");
    assert_split(" ; -- nothing\n /* at all */ ;", "");
    assert_split("-- lead\nSELECT 1 -- trail\n; x", "SELECT 1 -- trail | x");
    assert_split("\v SELECT 1\v;\v", "SELECT 1");
}

static void
test_quotes_hide_semicolons(void **state)
{
    assert_split("SELECT 'a;b'; SELECT \"c;d\"", "SELECT 'a;b' | SELECT \"c;d\"");
    assert_split("SELECT [x;y], `z;w`; SELECT 2", "SELECT [x;y], `z;w` | SELECT 2");
    assert_split("SELECT 'it''s;'; SELECT 2", "SELECT 'it''s;' | SELECT 2");
    assert_split("SELECT /* ; */ 1; SELECT -- ;\n 2", "SELECT /* ; */ 1 | SELECT -- ;\n 2");
    /* unclosed: the rest of the text is the statement */
    assert_split("SELECT 'a; SELECT 2", "SELECT 'a; SELECT 2");
    assert_split("SELECT [a; SELECT 2", "SELECT [a; SELECT 2");
    assert_split("SELECT 1 /* ; SELECT 2", "SELECT 1 /* ; SELECT 2");
}

static void
test_triggers(void **state)
{
    assert_split("CREATE TRIGGER t AFTER INSERT ON x BEGIN UPDATE y SET n = n + 1; "
                 "DELETE FROM z; END; SELECT 1",
                 "CREATE TRIGGER t AFTER INSERT ON x BEGIN UPDATE y SET n = n + 1; "
                 "DELETE FROM z; END | SELECT 1");
    assert_split("create temp trigger t after insert on x begin select 1; end ; select 2",
                 "create temp trigger t after insert on x begin select 1; end | select 2");
    assert_split("CREATE TEMPORARY TRIGGER t BEFORE DELETE ON x BEGIN SELECT 1; END;",
                 "CREATE TEMPORARY TRIGGER t BEFORE DELETE ON x BEGIN SELECT 1; END");
    assert_split("EXPLAIN QUERY PLAN CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; END; "
                 "SELECT 2",
                 "EXPLAIN QUERY PLAN CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; END | "
                 "SELECT 2");
    /* CASE ... END inside the body is not the body's END */
    assert_split("CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT CASE WHEN 1 THEN 2 END; "
                 "SELECT 3; END; SELECT 4",
                 "CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT CASE WHEN 1 THEN 2 END; "
                 "SELECT 3; END | SELECT 4");
    /* comments between ';' and END, and between END and ';' */
    assert_split("CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; -- c\n END /* d */; x",
                 "CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; -- c\n END /* d */ | x");
    /* not a trigger: CREATE TABLE, a word between CREATE and TRIGGER */
    assert_split("CREATE TABLE trigger(a); SELECT 1", "CREATE TABLE trigger(a) | SELECT 1");
    assert_split("SELECT create, trigger; SELECT 2", "SELECT create, trigger | SELECT 2");
    /* an unfinished trigger runs to the end */
    assert_split("CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; SELECT 2;",
                 "CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; SELECT 2;");
}

/* A long trigger body: one statement, and the one after it found. */
static void
test_long_trigger(void **state)
{
    qg_buf b = QG_BUF_INIT;
    qg_buf_addlit(&b, "CREATE TRIGGER t AFTER INSERT ON x BEGIN\n");
    for (int i = 0; i < 20000; i++)
        qg_buf_printf(&b, "UPDATE c SET n = n + %d WHERE k = 'a;%d';\n", i, i);
    size_t body = b.len;
    qg_buf_addlit(&b, "END;\nSELECT 1;");
    char *copy = dup_exact(b.data, b.len);
    sqlite_span sp;
    assert_true(sqlite_split(copy, b.len, &sp));
    assert_int_equal(sp.start, 0);
    assert_int_equal(sp.len, body + 3);
    assert_int_equal(sp.used, body + 5);
    assert_true(sqlite_split(copy + sp.used, b.len - sp.used, &sp));
    assert_int_equal(sp.len, 8);
    free(copy);
    qg_buf_free(&b);
}

/* --- against sqlite3_complete --------------------------------------------------- */

/* The split as qgate did it before: at every ';' outside quotes and
 * comments, ask sqlite3_complete about the text so far. */
static size_t
ref_skip_quoted(const char *s, size_t n, size_t i, char close)
{
    for (i++; i < n; i++) {
        if (s[i] != close)
            continue;
        if (close != ']' && i + 1 < n && s[i + 1] == close) {
            i++;
            continue;
        }
        return i + 1;
    }
    return n;
}

static size_t
ref_skip_empty(const char *s, size_t n, size_t i)
{
    for (;;) {
        i += sqltext_skip_blank(s + i, n - i);
        if (i < n && s[i] == ';') {
            i++;
            continue;
        }
        return i;
    }
}

static bool
ref_split(const char *sql, size_t len, sqlite_span *sp)
{
    size_t i = ref_skip_empty(sql, len, 0);
    if (i >= len) {
        *sp = (sqlite_span){len, 0, len};
        return false;
    }
    size_t start = i, end = len;
    while (i < len) {
        char c = sql[i];
        if (c == '\'' || c == '"' || c == '`') {
            i = ref_skip_quoted(sql, len, i, c);
        } else if (c == '[') {
            i = ref_skip_quoted(sql, len, i, ']');
        } else if ((c == '-' && i + 1 < len && sql[i + 1] == '-') ||
                   (c == '/' && i + 1 < len && sql[i + 1] == '*')) {
            i += sqltext_skip_blank(sql + i, len - i);
        } else if (c == ';') {
            char *text = malloc(i + 2 - start);
            memcpy(text, sql + start, i + 1 - start);
            text[i + 1 - start] = '\0';
            bool done = sqlite3_complete(text) != 0;
            free(text);
            i++;
            if (done) {
                end = i - 1;
                break;
            }
        } else {
            i++;
        }
    }
    size_t used = end == len ? len : end + 1;
    while (end > start && (sql[end - 1] == ' ' || sql[end - 1] == '\t' || sql[end - 1] == '\n' ||
                           sql[end - 1] == '\r' || sql[end - 1] == '\f' || sql[end - 1] == '\v'))
        end--;
    used = ref_skip_empty(sql, len, used);
    *sp = (sqlite_span){start, end - start, used};
    return true;
}

/* Pieces that matter to the rules, and some that only look like they do. */
static const char *const pieces[] = {
    ";",      " ",       "\n",    "\t",      "\r",        "\f",        "\v",      "CREATE",
    "create", "CrEaTe",  "TEMP",  "temp",    "TEMPORARY", "temporary", "TRIGGER", "trigger",
    "END",    "end",     "EnD",   "EXPLAIN", "explain",   "BEGIN",     "SELECT",  "x",
    "1",      "t1",      "'a;b'", "'",       "\"",        "`",         "[",       "]",
    "[a;b]",  "\"c;d\"", "`e;f`", "''",      "--c\n",     "--",        "-- ;",    "/*",
    "*/",     "/* ; */", "-",     "/",       "*",         "$",         "_",       "\xC3\xA9",
    "endx",   "tempx",   "xend",  "end_",    "END$",      "create1",   "(",       ")",
    ",",      "+",       "\0",    "QUERY",   "PLAN",      "CASE",      "ON",
};

/* A random text of up to max pieces, biased towards triggers. */
static size_t
gen(uint64_t *seed, char *out, size_t cap, int max)
{
    size_t n = 0;
    int count = 1 + (int)(next_rand(seed) % (uint64_t)max);
    if (next_rand(seed) % 3 == 0) {
        static const char *const heads[] = {"CREATE TRIGGER t ", "create temp trigger ",
                                            "EXPLAIN CREATE TRIGGER ", "CREATE TEMPORARY TRIGGER "};
        const char *h = heads[next_rand(seed) % 4];
        memcpy(out, h, strlen(h));
        n = strlen(h);
    }
    for (int i = 0; i < count; i++) {
        const char *p = pieces[next_rand(seed) % (sizeof(pieces) / sizeof(pieces[0]))];
        size_t len = p[0] ? strlen(p) : 1; /* "\0" is one NUL byte */
        if (n + len + 1 > cap)
            break;
        memcpy(out + n, p, len);
        n += len;
        /* words need blanks between them to stay words */
        if (next_rand(seed) % 2)
            out[n++] = ' ';
    }
    return n;
}

static void
test_complete_vs_sqlite(void **state)
{
    uint64_t seed = 42;
    char text[1024];
    int complete = 0;
    for (int i = 0; i < 200000; i++) {
        size_t n = gen(&seed, text, sizeof(text) - 2, 1 + i % 24);
        /* end most texts as a finished statement would, or nearly */
        if (i % 4 != 0)
            text[n++] = i % 4 == 3 ? ';' : ' ';
        char *copy = dup_exact(text, n);
        text[n] = '\0';
        int want = sqlite3_complete(text) != 0;
        int got = sqlite_split_complete(copy, n);
        free(copy);
        if (got != want)
            fail_msg("sqlite3_complete says %d, sqlite_split_complete %d: [%s]", want, got, text);
        complete += want;
    }
    /* both answers were common */
    if (complete < 10000 || complete > 190000)
        fail_msg("%d of 200000 texts complete", complete);
}

static void
test_split_vs_reference(void **state)
{
    uint64_t seed = 4242;
    char text[1024];
    for (int i = 0; i < 100000; i++) {
        size_t n = gen(&seed, text, sizeof(text), 1 + i % 32);
        char *copy = dup_exact(text, n);
        size_t off = 0;
        while (off < n) {
            sqlite_span got, want;
            bool g = sqlite_split(copy + off, n - off, &got);
            bool w = ref_split(copy + off, n - off, &want);
            if (g != w || got.start != want.start || got.len != want.len || got.used != want.used)
                fail_msg("at %zu of [%.*s]: got %d {%zu,%zu,%zu}, want %d {%zu,%zu,%zu}", off,
                         (int)n, text, g, got.start, got.len, got.used, w, want.start, want.len,
                         want.used);
            if (!g || got.used == 0)
                break;
            off += got.used;
        }
        free(copy);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple),
        cmocka_unit_test(test_quotes_hide_semicolons),
        cmocka_unit_test(test_triggers),
        cmocka_unit_test(test_long_trigger),
        cmocka_unit_test(test_complete_vs_sqlite),
        cmocka_unit_test(test_split_vs_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
