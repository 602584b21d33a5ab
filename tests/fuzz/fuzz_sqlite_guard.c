/*
 * fuzz_sqlite_guard: exec/sqlite_guard, the authorizer of qgate's SQLite
 * connections, fed with statements SQLite really compiles and runs.
 *
 * The input is a statement text in one of two forms:
 *
 *   '!' text       the rest is the SQL text as it is (readable seeds: the
 *                  attacks the guard must stop)
 *   anything else  each byte is a token of SQLite's own grammar: its
 *                  keywords (sqlite3_keyword_name), punctuation, literals,
 *                  a few table and column names; bytes 0xF0..0xF2 take the
 *                  next byte as the index of a function, pragma or module
 *                  name of the library (so random statements call them)
 *
 * and the lowest bit of the input's hash says whether the request is
 * read-only. Each input gets a fresh in-memory connection,
 * hardened as qgate's are, with a small schema; every statement of the text
 * is compiled with an authorizer that asks sqlite_guard_decide, and run for
 * a bounded number of steps.
 *
 * Checked, with rules written here independently of the guard:
 *   - every decision is the same when asked twice;
 *   - ATTACH, DETACH and fts3_tokenizer(), load_extension(), sqlite_log()
 *     are never allowed;
 *   - in a read-only request only reading actions are allowed, and running
 *     the statements changes nothing: no row (total_changes), no schema
 *     (schema_version of main and temp), no stored value (user_version);
 *   - the settings the guard never lets a request set keep their values;
 *   - unless the guard said an allowed action needs a reset, the connection
 *     is as it was: no TEMP object, every connection setting unchanged.
 */
#include <sqlite3.h>
#include <strings.h>

#include "exec/sqlite_guard.h"

#include "fuzz.h"

/* Settings whose values must survive a request that needs no reset; those
 * marked fixed must survive every request. */
static const struct {
    const char *name;
    bool fixed;
} settings[] = {
    {"foreign_keys", false},
    {"recursive_triggers", false},
    {"query_only", false},
    {"defer_foreign_keys", false},
    {"automatic_index", false},
    {"cell_size_check", false},
    {"reverse_unordered_selects", false},
    {"short_column_names", false},
    {"full_column_names", false},
    {"legacy_alter_table", false},
    {"read_uncommitted", false},
    {"count_changes", false},
    {"analysis_limit", false},
    {"busy_timeout", true},
    {"cache_size", true},
    {"cache_spill", true},
    {"journal_mode", true},
    {"locking_mode", true},
    {"synchronous", true},
    {"temp_store", true},
    {"mmap_size", true},
    {"secure_delete", true},
    {"hard_heap_limit", true},
    {"soft_heap_limit", true},
    {"threads", true},
    {"trusted_schema", true},
    {"writable_schema", true},
    {"ignore_check_constraints", true},
    {"max_page_count", true},
    {"wal_autocheckpoint", true},
    {"auto_vacuum", true},
};
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

static const char *const punct[] = {
    "(",     ")",    ",",        ";",
    "=",     ".",    "*",        "+",
    "-",     "||",   "<",        ">",
    "'a'",   "1",    "0",        "-1",
    "x'41'", "NULL", "'[1,2]'",  "?",
    "t",     "u",    "a",        "b",
    "temp",  "main", "orders",   "sqlite_master",
    "x",     "'x'",  "'simple'", "x'4141414141414141'",
};
#define NPUNCT (sizeof(punct) / sizeof(punct[0]))

/* Lists read from the library once. */
static char **functions, **pragmas, **modules;
static size_t nfunctions, npragmas, nmodules;

static void
collect(sqlite3 *db, const char *sql, char ***out, size_t *n)
{
    sqlite3_stmt *st;
    FUZZ_CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        *out = realloc(*out, (*n + 1) * sizeof(char *));
        FUZZ_CHECK(*out != NULL);
        (*out)[(*n)++] = strdup((const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
}

static void
init_lists(void)
{
    if (functions)
        return;
    sqlite3 *db;
    FUZZ_CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
    collect(db, "SELECT DISTINCT name FROM pragma_function_list", &functions, &nfunctions);
    collect(db, "SELECT name FROM pragma_pragma_list", &pragmas, &npragmas);
    collect(db, "SELECT name FROM pragma_module_list", &modules, &nmodules);
    sqlite3_close(db);
}

/* The statement text an input describes (malloc'd, NUL-terminated). */
static char *
statement_text(const uint8_t *data, size_t size)
{
    if (size > 0 && data[0] == '!') {
        char *s = malloc(size);
        FUZZ_CHECK(s != NULL);
        memcpy(s, data + 1, size - 1);
        s[size - 1] = '\0';
        return s;
    }
    size_t cap = 64, len = 0;
    char *s = malloc(cap);
    FUZZ_CHECK(s != NULL);
    int nkw = sqlite3_keyword_count();
    for (size_t i = 0; i < size; i++) {
        const char *tok;
        int toklen;
        uint8_t b = data[i];
        if (b >= 0xF0 && b <= 0xF2 && i + 1 < size) {
            uint8_t k = data[++i];
            char **list = b == 0xF0 ? functions : b == 0xF1 ? pragmas : modules;
            size_t n = b == 0xF0 ? nfunctions : b == 0xF1 ? npragmas : nmodules;
            tok = list[k % n];
            toklen = (int)strlen(tok);
        } else if (b < NPUNCT) {
            tok = punct[b];
            toklen = (int)strlen(tok);
        } else {
            FUZZ_CHECK(sqlite3_keyword_name((b - (int)NPUNCT) % nkw, &tok, &toklen) == SQLITE_OK);
        }
        if (len + (size_t)toklen + 2 > cap) {
            cap = 2 * cap + (size_t)toklen;
            s = realloc(s, cap);
            FUZZ_CHECK(s != NULL);
        }
        memcpy(s + len, tok, (size_t)toklen);
        len += (size_t)toklen;
        s[len++] = ' ';
    }
    s[len] = '\0';
    return s;
}

struct run {
    bool readonly;
    bool resets;
    bool judging; /* false while the checker runs its own statements */
    int steps;
};

static bool
reads_only(int action, const char *a)
{
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_FUNCTION:
    case SQLITE_RECURSIVE:
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
    case SQLITE_PRAGMA:
        return true;
    case SQLITE_UPDATE:
        return a &&
               (strcasecmp(a, "sqlite_master") == 0 || strcasecmp(a, "sqlite_temp_master") == 0);
    default:
        return false;
    }
}

static int
authorize(void *arg, int action, const char *a, const char *b, const char *db, const char *trig)
{
    struct run *r = arg;
    (void)trig;
    if (!r->judging)
        return SQLITE_OK;
    sqlite_guard_verdict v, again;
    sqlite_guard_decide(action, a, b, db, r->readonly, &v);
    sqlite_guard_decide(action, a, b, db, r->readonly, &again);
    FUZZ_CHECK(v.allow == again.allow && v.resets == again.resets && v.readonly == again.readonly &&
               strcmp(v.why, again.why) == 0);
    FUZZ_CHECK(v.allow || v.why[0] != '\0' || v.readonly);
    if (action == SQLITE_ATTACH || action == SQLITE_DETACH)
        FUZZ_CHECK(!v.allow);
    if (action == SQLITE_FUNCTION && b &&
        (strcasecmp(b, "fts3_tokenizer") == 0 || strcasecmp(b, "load_extension") == 0 ||
         strcasecmp(b, "sqlite_log") == 0))
        FUZZ_CHECK(!v.allow);
    if (r->readonly && v.allow) {
        FUZZ_CHECK(reads_only(action, a));
        FUZZ_CHECK(!v.resets);
    }
    if (!v.allow)
        return SQLITE_DENY;
    r->resets = r->resets || v.resets;
    return SQLITE_OK;
}

static int
progress(void *arg)
{
    struct run *r = arg;
    return ++r->steps > 2000; /* every 16 VM steps: bounds a run */
}

/* One integer-or-text value of a pragma or query, as text ("" when none). */
static void
value_of(sqlite3 *db, const char *sql, char *out, size_t n)
{
    sqlite3_stmt *st;
    out[0] = '\0';
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

struct snapshot {
    char setting[NSETTINGS][32];
    char schema_main[32], schema_temp[32], user_version[32], temp_objects[32];
    sqlite3_int64 total_changes;
};

static void
take(sqlite3 *db, struct snapshot *s)
{
    char sql[96];
    for (size_t i = 0; i < NSETTINGS; i++) {
        snprintf(sql, sizeof(sql), "PRAGMA main.%s", settings[i].name);
        value_of(db, sql, s->setting[i], sizeof(s->setting[i]));
    }
    value_of(db, "PRAGMA main.schema_version", s->schema_main, sizeof(s->schema_main));
    value_of(db, "PRAGMA temp.schema_version", s->schema_temp, sizeof(s->schema_temp));
    value_of(db, "PRAGMA main.user_version", s->user_version, sizeof(s->user_version));
    value_of(db, "SELECT count(*) FROM temp.sqlite_master", s->temp_objects,
             sizeof(s->temp_objects));
    s->total_changes = sqlite3_total_changes64(db);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_lists();
    char *sql = statement_text(data, size);
    struct run r = {.readonly = fuzz_hash(data, size) & 1};

    sqlite3 *db;
    FUZZ_CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
    sqlite_guard_conn g;
    sqlite_guard_limits lim = {.max_value = 1 << 16, .max_sql = 1 << 16};
    char why[256];
    FUZZ_CHECK(sqlite_guard_harden(db, &lim, &g, why, sizeof(why)) == 0);
    FUZZ_CHECK(sqlite3_exec(db,
                            "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT); "
                            "CREATE TABLE u(x, y); INSERT INTO t VALUES (1, 'one'), (2, 'two'); "
                            "CREATE TABLE orders(id INTEGER PRIMARY KEY, status TEXT); "
                            "INSERT INTO orders VALUES (1, 'new')",
                            NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_set_authorizer(db, authorize, &r);
    sqlite3_progress_handler(db, 16, progress, &r);
    struct snapshot before, after;
    take(db, &before);

    r.judging = true;
    r.steps = 0;
    const char *p = sql;
    while (*p) {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        int rc = sqlite3_prepare_v2(db, p, -1, &st, &tail);
        if (rc != SQLITE_OK) {
            /* skip to after the next ';' and go on */
            const char *semi = strchr(p, ';');
            if (!semi)
                break;
            p = semi + 1;
            continue;
        }
        for (int rows = 0; st && rows < 100 && sqlite3_step(st) == SQLITE_ROW; rows++)
            ;
        sqlite3_finalize(st);
        if (!tail || tail == p)
            break;
        p = tail;
    }
    r.judging = false;
    r.steps = -1000000; /* the checks below must not be cut short */
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    take(db, &after);

    for (size_t i = 0; i < NSETTINGS; i++)
        if (settings[i].fixed || !r.resets) {
            if (strcmp(before.setting[i], after.setting[i]) != 0)
                fprintf(stderr, "PRAGMA %s: %s -> %s\n", settings[i].name, before.setting[i],
                        after.setting[i]);
            FUZZ_CHECK(strcmp(before.setting[i], after.setting[i]) == 0);
        }
    if (!r.resets)
        FUZZ_CHECK(strcmp(after.temp_objects, "0") == 0);
    if (r.readonly) {
        FUZZ_CHECK(after.total_changes == before.total_changes);
        FUZZ_CHECK(strcmp(before.schema_main, after.schema_main) == 0);
        FUZZ_CHECK(strcmp(before.schema_temp, after.schema_temp) == 0);
        FUZZ_CHECK(strcmp(before.user_version, after.user_version) == 0);
    }
    sqlite3_close(db);
    free(sql);
    return 0;
}
