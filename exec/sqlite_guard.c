/* sqlite_guard: what a client may do on a SQLite connection (see
 * sqlite_guard.h). */
#include "exec/sqlite_guard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* SQL functions a statement may call: every built-in function of Debian's
 * SQLite 3.40 (PRAGMA function_list) but fts3_tokenizer, load_extension and
 * sqlite_log (see refused_functions), plus the internal ones ALTER TABLE's
 * own statements call (SQLite refuses them to users itself). Sorted for
 * bsearch (strcmp order). */
static const char *const functions[] = {
    "->",
    "->>",
    "abs",
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "avg",
    "bm25",
    "ceil",
    "ceiling",
    "changes",
    "char",
    "coalesce",
    "cos",
    "cosh",
    "count",
    "cume_dist",
    "current_date",
    "current_time",
    "current_timestamp",
    "date",
    "datetime",
    "degrees",
    "dense_rank",
    "exp",
    "first_value",
    "floor",
    "format",
    "fts5",
    "fts5_source_id",
    "glob",
    "group_concat",
    "hex",
    "highlight",
    "ifnull",
    "iif",
    "instr",
    "json",
    "json_array",
    "json_array_length",
    "json_extract",
    "json_group_array",
    "json_group_object",
    "json_insert",
    "json_object",
    "json_patch",
    "json_quote",
    "json_remove",
    "json_replace",
    "json_set",
    "json_type",
    "json_valid",
    "julianday",
    "lag",
    "last_insert_rowid",
    "last_value",
    "lead",
    "length",
    "like",
    "likelihood",
    "likely",
    "ln",
    "log",
    "log10",
    "log2",
    "lower",
    "ltrim",
    "match",
    "matchinfo",
    "max",
    "min",
    "mod",
    "nth_value",
    "ntile",
    "nullif",
    "offsets",
    "optimize",
    "percent_rank",
    "pi",
    "pow",
    "power",
    "printf",
    "quote",
    "radians",
    "random",
    "randomblob",
    "rank",
    "replace",
    "round",
    "row_number",
    "rtreecheck",
    "rtreedepth",
    "rtreenode",
    "rtrim",
    "sign",
    "sin",
    "sinh",
    "snippet",
    "soundex",
    "sqlite_compileoption_get",
    "sqlite_compileoption_used",
    "sqlite_drop_column",
    "sqlite_rename_column",
    "sqlite_rename_quotefix",
    "sqlite_rename_table",
    "sqlite_rename_test",
    "sqlite_source_id",
    "sqlite_version",
    "sqrt",
    "strftime",
    "substr",
    "substring",
    "subtype",
    "sum",
    "tan",
    "tanh",
    "time",
    "total",
    "total_changes",
    "trim",
    "trunc",
    "typeof",
    "unicode",
    "unixepoch",
    "unlikely",
    "upper",
    "zeroblob",
};

/* Built-in functions refused, and why. */
static const struct {
    const char *name, *why;
} refused_functions[] = {
    {"fts3_tokenizer", "it reads and writes the server's memory"},
    {"load_extension", "it loads code from the server's files"},
    {"sqlite_log", "it writes to the server's log"},
};

/* What a pragma may do in a request. */
enum pragma_kind {
    P_ANY,     /* reports on the schema or the library: any argument, any request */
    P_LOCAL,   /* a setting of this connection: set by requests that may write,
                * and the connection is reset after them */
    P_READ,    /* a setting that may be read; setting it would outlive the
                * request or reach beyond it (other connections, the file's
                * safety, the process) */
    P_STORED,  /* a value kept in the database file: set by requests that may write */
    P_ACTION,  /* works on the database file: requests that may write */
    P_REFUSED, /* refused in every form */
};

/* Every pragma of Debian's SQLite 3.40 (PRAGMA pragma_list), judged. Sorted
 * for bsearch (strcmp order); SQLite hands the name as written, so the
 * search ignores case. */
static const struct pragma {
    const char *name;
    enum pragma_kind kind;
    const char *why; /* P_REFUSED only */
} pragmas[] = {
    {"analysis_limit", P_LOCAL, NULL},
    {"application_id", P_STORED, NULL},
    {"auto_vacuum", P_READ, NULL},
    {"automatic_index", P_LOCAL, NULL},
    {"busy_timeout", P_READ, NULL},
    {"cache_size", P_READ, NULL},
    {"cache_spill", P_READ, NULL},
    {"case_sensitive_like", P_LOCAL, NULL},
    {"cell_size_check", P_LOCAL, NULL},
    {"checkpoint_fullfsync", P_READ, NULL},
    {"collation_list", P_ANY, NULL},
    {"compile_options", P_ANY, NULL},
    {"count_changes", P_LOCAL, NULL},
    {"data_version", P_ANY, NULL},
    {"database_list", P_REFUSED, "it shows the server's file paths"},
    {"default_cache_size", P_READ, NULL},
    {"defer_foreign_keys", P_LOCAL, NULL},
    {"empty_result_callbacks", P_LOCAL, NULL},
    {"encoding", P_READ, NULL},
    {"foreign_key_check", P_ANY, NULL},
    {"foreign_key_list", P_ANY, NULL},
    {"foreign_keys", P_LOCAL, NULL},
    {"freelist_count", P_ANY, NULL},
    {"full_column_names", P_LOCAL, NULL},
    {"fullfsync", P_READ, NULL},
    {"function_list", P_ANY, NULL},
    {"hard_heap_limit", P_READ, NULL},
    {"ignore_check_constraints", P_READ, NULL},
    {"incremental_vacuum", P_ACTION, NULL},
    {"index_info", P_ANY, NULL},
    {"index_list", P_ANY, NULL},
    {"index_xinfo", P_ANY, NULL},
    {"integrity_check", P_ANY, NULL},
    {"journal_mode", P_READ, NULL},
    {"journal_size_limit", P_READ, NULL},
    {"legacy_alter_table", P_LOCAL, NULL},
    {"locking_mode", P_READ, NULL},
    {"max_page_count", P_READ, NULL},
    {"mmap_size", P_READ, NULL},
    {"module_list", P_ANY, NULL},
    {"optimize", P_ACTION, NULL},
    {"page_count", P_ANY, NULL},
    {"page_size", P_READ, NULL},
    {"pragma_list", P_ANY, NULL},
    {"query_only", P_LOCAL, NULL},
    {"quick_check", P_ANY, NULL},
    {"read_uncommitted", P_LOCAL, NULL},
    {"recursive_triggers", P_LOCAL, NULL},
    {"reverse_unordered_selects", P_LOCAL, NULL},
    {"schema_version", P_READ, NULL},
    {"secure_delete", P_READ, NULL},
    {"short_column_names", P_LOCAL, NULL},
    {"shrink_memory", P_ANY, NULL},
    {"soft_heap_limit", P_READ, NULL},
    {"synchronous", P_READ, NULL},
    {"table_info", P_ANY, NULL},
    {"table_list", P_ANY, NULL},
    {"table_xinfo", P_ANY, NULL},
    {"temp_store", P_READ, NULL},
    {"temp_store_directory", P_REFUSED, "it is a path of the server, shared by the whole process"},
    {"threads", P_READ, NULL},
    {"trusted_schema", P_READ, NULL},
    {"user_version", P_STORED, NULL},
    {"wal_autocheckpoint", P_READ, NULL},
    {"wal_checkpoint", P_ACTION, NULL},
    {"writable_schema", P_READ, NULL},
};

/* Virtual table modules a connection keeps; sqlite_guard_harden drops the
 * rest. Refused: sqlite_stmt (it lists the statements every earlier request
 * compiled on the connection). Pragma tables (pragma_table_info, ...) are
 * not modules until used: their pragma is judged when they run. */
static const char *const modules[] = {
    "dbstat",    "fts3",      "fts3tokenize", "fts4",  "fts4aux",   "fts5",
    "fts5vocab", "json_each", "json_tree",    "rtree", "rtree_i32", NULL,
};

static int
cmp_name(const void *key, const void *elem)
{
    return strcmp(key, *(const char *const *)elem);
}

static int
cmp_pragma(const void *key, const void *elem)
{
    return strcasecmp(key, ((const struct pragma *)elem)->name);
}

static bool
known_module(const char *name)
{
    for (size_t i = 0; name && modules[i]; i++)
        if (strcasecmp(name, modules[i]) == 0)
            return true;
    return false;
}

static void
refuse(sqlite_guard_verdict *v, bool readonly, const char *fmt, const char *name, const char *why)
{
    v->allow = false;
    v->readonly = readonly;
    snprintf(v->why, sizeof(v->why), fmt, name ? name : "", why ? why : "");
}

static void
decide_function(const char *name, sqlite_guard_verdict *v)
{
    if (name && bsearch(name, functions, sizeof(functions) / sizeof(functions[0]),
                        sizeof(functions[0]), cmp_name))
        return;
    const char *why = "it is not on qgate's list of functions";
    for (size_t i = 0; name && i < sizeof(refused_functions) / sizeof(refused_functions[0]); i++)
        if (strcmp(name, refused_functions[i].name) == 0)
            why = refused_functions[i].why;
    refuse(v, false, "function %s() is not allowed: %s", name, why);
}

static void
decide_pragma(const char *name, const char *arg, bool readonly, sqlite_guard_verdict *v)
{
    const struct pragma *p = name ? bsearch(name, pragmas, sizeof(pragmas) / sizeof(pragmas[0]),
                                            sizeof(pragmas[0]), cmp_pragma)
                                  : NULL;
    if (!p) {
        refuse(v, false, "PRAGMA %s is not allowed: %s", name,
               "it is not on qgate's list of pragmas");
        return;
    }
    switch (p->kind) {
    case P_ANY:
        return;
    case P_LOCAL:
    case P_STORED:
        if (!arg)
            return;
        if (readonly) {
            refuse(v, true, "PRAGMA %s", p->name, NULL);
            return;
        }
        v->resets = p->kind == P_LOCAL;
        return;
    case P_READ:
        if (arg)
            refuse(v, false, "setting PRAGMA %s is not allowed: %s", p->name,
                   "it would outlive the request or reach beyond it");
        return;
    case P_ACTION:
        if (readonly)
            refuse(v, true, "PRAGMA %s", p->name, NULL);
        return;
    case P_REFUSED:
        refuse(v, false, "PRAGMA %s is not allowed: %s", p->name, p->why);
        return;
    }
}

static bool
is_temp(const char *db)
{
    return db && strcasecmp(db, "temp") == 0;
}

/* The schema tables, which SQLite itself keeps users from writing:
 * compiling a read of a pragma or json_each table asks about UPDATEs of
 * them while it declares the table. */
static bool
is_schema_table(const char *name)
{
    return name &&
           (strcasecmp(name, "sqlite_master") == 0 || strcasecmp(name, "sqlite_temp_master") == 0 ||
            strcasecmp(name, "sqlite_schema") == 0 || strcasecmp(name, "sqlite_temp_schema") == 0);
}

void
sqlite_guard_decide(int action, const char *a, const char *b, const char *db, bool readonly,
                    sqlite_guard_verdict *out)
{
    memset(out, 0, sizeof(*out));
    out->allow = true;
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
        return;
    case SQLITE_FUNCTION:
        decide_function(b, out);
        return;
    case SQLITE_PRAGMA:
        decide_pragma(a, b, readonly, out);
        return;
    case SQLITE_ATTACH:
    case SQLITE_DETACH:
        refuse(out, readonly, "%s is not allowed: %s",
               action == SQLITE_ATTACH ? "ATTACH" : "DETACH",
               "it would open or create a file of the server");
        return;
    case SQLITE_UPDATE:
        if (readonly && !is_schema_table(a))
            refuse(out, true, "UPDATE", NULL, NULL);
        return;
    case SQLITE_INSERT:
    case SQLITE_DELETE:
    case SQLITE_DROP_INDEX:
    case SQLITE_DROP_TABLE:
    case SQLITE_DROP_TEMP_INDEX:
    case SQLITE_DROP_TEMP_TABLE:
    case SQLITE_DROP_TEMP_TRIGGER:
    case SQLITE_DROP_TEMP_VIEW:
    case SQLITE_DROP_TRIGGER:
    case SQLITE_DROP_VIEW:
    case SQLITE_DROP_VTABLE:
    case SQLITE_ALTER_TABLE:
    case SQLITE_REINDEX:
    case SQLITE_ANALYZE:
        if (readonly)
            refuse(out, true, "write", NULL, NULL);
        return;
    case SQLITE_CREATE_INDEX:
    case SQLITE_CREATE_TABLE:
    case SQLITE_CREATE_TRIGGER:
    case SQLITE_CREATE_VIEW:
        /* CREATE TABLE temp.x is CREATE_TABLE in database "temp" */
        if (readonly)
            refuse(out, true, "CREATE", NULL, NULL);
        else
            out->resets = is_temp(db);
        return;
    case SQLITE_CREATE_TEMP_INDEX:
    case SQLITE_CREATE_TEMP_TABLE:
    case SQLITE_CREATE_TEMP_TRIGGER:
    case SQLITE_CREATE_TEMP_VIEW:
        if (readonly)
            refuse(out, true, "CREATE", NULL, NULL);
        else
            out->resets = true;
        return;
    case SQLITE_CREATE_VTABLE:
        if (!known_module(b))
            refuse(out, false, "virtual table module %s is not allowed: %s", b,
                   "it is not on qgate's list of modules");
        else if (readonly)
            refuse(out, true, "CREATE", NULL, NULL);
        else
            out->resets = is_temp(db);
        return;
    default:
        refuse(out, readonly, "this statement is not allowed: %s",
               "qgate does not know the action it asks for", NULL);
        return;
    }
}

/* changes() and total_changes() as SQLite has them count what earlier
 * requests did on the connection; these count the running request only.
 * total_changes() is the difference since the request began. changes() is
 * the rows of the last INSERT, UPDATE or DELETE, which must be this
 * request's when the total moved, and is 0 while it has not. */
static void
fn_total_changes(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    const sqlite_guard_conn *g = sqlite3_user_data(cx);
    sqlite3 *db = sqlite3_context_db_handle(cx);
    sqlite3_result_int64(cx, sqlite3_total_changes64(db) - g->total_at_start);
}

static void
fn_changes(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    const sqlite_guard_conn *g = sqlite3_user_data(cx);
    sqlite3 *db = sqlite3_context_db_handle(cx);
    bool moved = sqlite3_total_changes64(db) != g->total_at_start;
    sqlite3_result_int64(cx, moved ? sqlite3_changes64(db) : 0);
}

int
sqlite_guard_harden(sqlite3 *db, const sqlite_guard_limits *lim, sqlite_guard_conn *g, char *why,
                    size_t n)
{
    static const struct {
        int op, value;
        const char *name;
    } config[] = {
        {SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, 0, "ENABLE_FTS3_TOKENIZER"},
        {SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, "ENABLE_LOAD_EXTENSION"},
        {SQLITE_DBCONFIG_DEFENSIVE, 1, "DEFENSIVE"},
        {SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, "TRUSTED_SCHEMA"},
    };
    for (size_t i = 0; i < sizeof(config) / sizeof(config[0]); i++) {
        int now = -1;
        if (sqlite3_db_config(db, config[i].op, config[i].value, &now) != SQLITE_OK ||
            now != config[i].value) {
            snprintf(why, n, "sqlite: cannot set SQLITE_DBCONFIG_%s", config[i].name);
            return -1;
        }
    }
    if (sqlite3_drop_modules(db, (const char **)modules) != SQLITE_OK) {
        snprintf(why, n, "sqlite: cannot drop virtual table modules: %s", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_limit(db, SQLITE_LIMIT_LENGTH, lim->max_value);
    sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, lim->max_sql);
    sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
    /* Debian allows 250000 variables */
    sqlite3_limit(db, SQLITE_LIMIT_VARIABLE_NUMBER, 32766);
    g->total_at_start = sqlite3_total_changes64(db);
    /* innocuous: the schema's triggers and views may call them, as they
     * may call the built-in ones */
    int flags = SQLITE_UTF8 | SQLITE_INNOCUOUS;
    if (sqlite3_create_function(db, "changes", 0, flags, g, fn_changes, NULL, NULL) != SQLITE_OK ||
        sqlite3_create_function(db, "total_changes", 0, flags, g, fn_total_changes, NULL, NULL) !=
            SQLITE_OK) {
        snprintf(why, n, "sqlite: cannot define changes(): %s", sqlite3_errmsg(db));
        return -1;
    }
    return 0;
}

void
sqlite_guard_request_end(sqlite3 *db, sqlite_guard_conn *g)
{
    sqlite3_set_last_insert_rowid(db, 0);
    g->total_at_start = sqlite3_total_changes64(db);
}
