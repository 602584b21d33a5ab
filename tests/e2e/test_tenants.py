"""One gateway, principals who do not trust each other.

Two principals that may write (alice, bob) and a readonly one (reader)
share a daemon with one worker, so every request runs on the same database
connection: whatever one of them leaves on it, the next one would meet.
Each test is an attack one principal makes on another, and what must come
of it: nothing. The SQLite part also sweeps SQLite's own lists of
functions, pragmas and virtual table modules (read from the library itself,
through Python's sqlite3, which links the same libsqlite3): every entry is
either allowed, and on this file's list of harmless ones, or refused. A
name SQLite gains in an upgrade fails the sweep until someone judges it.
"""
# qgate-backends: sqlite pg

import os
import shutil
import sqlite3
import tempfile
import unittest

from harness import ON_PG, QgateTestCase, auth_file, main

TOKENS = {"alice": "alice-token-1", "bob": "bob-token-2", "reader": "reader-token-3"}


def who(name):
    return {"Authorization": "Bearer " + TOKENS[name]}


class TenantCase(QgateTestCase):
    """One worker, three principals."""
    ARGS = ("--auth-file", auth_file(TOKENS, readonly=("reader",)), "--workers", "1")

    def run_as(self, name, statement, **params):
        return self.q.query(statement, headers=who(name), **params)

    def ok_as(self, name, statement, **params):
        return self.assertEnvelopeOk(self.run_as(name, statement, **params))

    def refused(self, r, text):
        """A 400 naming what was refused; nothing ran."""
        self.assertEqual(r.status, 400, r)
        msg = r.json()["errors"][0]["msg"]
        self.assertIn(text, msg)
        return msg

    def insert_order(self, name, oid, status):
        return self.ok_as(name, "INSERT INTO orders (id, customer_id, product_id, quantity, total, "
                          "status, ordered_at) VALUES (%d, 1, 1, 1, 1.5, '%s', '2024-01-01')"
                          % (oid, status))



class Tenants(TenantCase):
    # --- every backend -----------------------------------------------------
    def test_temp_view_does_not_shadow_a_table_for_others(self):
        doc = self.ok_as("alice", "CREATE TEMP VIEW customers AS SELECT 'planted' AS name; "
                         "SELECT name FROM customers")
        self.assertEqual(doc["results"], [{"name": "planted"}])  # hers, while her request runs
        for name in ("bob", "reader", "alice"):
            doc = self.ok_as(name, "SELECT name FROM customers ORDER BY id LIMIT 1")
            self.assertEqual(doc["results"], [{"name": "Ada Lovelace"}], name)

    def test_a_setting_does_not_stick(self):
        if ON_PG:
            self.ok_as("alice", "SET default_transaction_read_only = on")
        else:
            self.ok_as("alice", "PRAGMA query_only = 1")
        self.insert_order("bob", 9101, "after-alice")
        doc = self.ok_as("reader", "SELECT count(*) AS n FROM orders WHERE id = 9101")
        self.assertEqual(doc["results"], [{"n": 1}])

    def test_an_open_transaction_is_rolled_back(self):
        self.ok_as("alice", "BEGIN; INSERT INTO products (id, name, category, price) "
                   "VALUES (9201, 'alice-uncommitted', 'x', 1)")
        doc = self.ok_as("bob", "SELECT count(*) AS n FROM products WHERE id = 9201")
        self.assertEqual(doc["results"], [{"n": 0}])
        # bob is not inside alice's transaction: his own commits
        self.ok_as("bob", "BEGIN; INSERT INTO products (id, name, category, price) "
                   "VALUES (9202, 'bob-committed', 'x', 1); COMMIT")
        doc = self.ok_as("reader", "SELECT id FROM products WHERE id IN (9201, 9202)")
        self.assertEqual(doc["results"], [{"id": 9202}])

    def test_temp_table_lives_for_its_request(self):
        doc = self.ok_as("alice", "CREATE TEMP TABLE scratch (v INTEGER); "
                         "INSERT INTO scratch VALUES (1), (2); SELECT sum(v) AS s FROM scratch")
        self.assertEqual(doc["results"], [{"s": 3}])
        for name in ("alice", "bob"):
            r = self.run_as(name, "SELECT count(*) AS n FROM scratch")
            self.assertEqual(r.status, 400, r)  # no such table: gone with its request

    # --- SQLite ----------------------------------------------------------------
    @unittest.skipIf(ON_PG, "SQLite's FTS3")
    def test_fts3_tokenizer_cannot_leak_or_plant(self):
        for name in ("reader", "alice"):
            self.refused(self.run_as(name, "SELECT hex(fts3_tokenizer('simple')) AS p"),
                         "function fts3_tokenizer() is not allowed")
            self.refused(self.run_as(name, "SELECT fts3_tokenizer('x', x'4141414141414141')"),
                         "function fts3_tokenizer() is not allowed")
        # the table a planted tokenizer would have crashed: a clear error
        r = self.run_as("bob", "CREATE VIRTUAL TABLE temp.f USING fts3(tokenize=x)")
        self.assertIn(r.status, (400, 500), r)
        self.assertIn("unknown tokenizer", r.body.decode())
        doc = self.ok_as("bob", "CREATE VIRTUAL TABLE temp.g USING fts3(body); "
                         "INSERT INTO g VALUES ('quick brown fox'); "
                         "SELECT count(*) AS n FROM g WHERE g MATCH 'brown'")
        self.assertEqual(doc["results"], [{"n": 1}])

    @unittest.skipIf(ON_PG, "SQLite's triggers")
    def test_temp_trigger_does_not_copy_others_writes(self):
        self.ok_as("alice", "CREATE TEMP TABLE spy (v TEXT); "
                   "CREATE TEMP TRIGGER spy_t AFTER INSERT ON main.orders "
                   "BEGIN INSERT INTO spy VALUES (new.status); END")
        self.insert_order("bob", 9301, "bob-secret")
        for name in ("alice", "reader"):
            r = self.run_as(name, "SELECT v FROM temp.spy")
            self.assertEqual(r.status, 400, r)
            self.assertNotIn("bob-secret", r.body.decode())

    @unittest.skipIf(ON_PG, "SQLite's statement table")
    def test_other_requests_statements_are_not_listed(self):
        self.ok_as("alice", "SELECT 'alice-secret-42' AS s")
        for name in ("bob", "reader"):
            r = self.run_as(name, "SELECT sql FROM sqlite_stmt")
            self.assertEqual(r.status, 400, r)
            self.assertNotIn("alice-secret-42", r.body.decode())

    @unittest.skipIf(ON_PG, "SQLite's connection counters")
    def test_counters_count_the_request_only(self):
        doc = self.ok_as("alice", "INSERT INTO products (name, category, price) VALUES "
                         "('a1', 'x', 1), ('a2', 'x', 2); SELECT changes() AS c, "
                         "total_changes() AS t, last_insert_rowid() > 0 AS r")
        self.assertEqual(doc["results"], [{"c": 2, "t": 2, "r": 1}])
        for name in ("bob", "reader"):
            doc = self.ok_as(name, "SELECT changes() AS c, total_changes() AS t, "
                             "last_insert_rowid() AS r")
            self.assertEqual(doc["results"], [{"c": 0, "t": 0, "r": 0}], name)

    @unittest.skipIf(ON_PG, "SQLite's limits")
    def test_a_huge_value_is_refused_not_allocated(self):
        r = self.run_as("reader", "SELECT length(randomblob(500000000)) AS n")
        self.assertEqual(r.json()["status"], "fatal", r)
        self.assertIn("string or blob too big (the limit is --max-value bytes)", r.body.decode())
        doc = self.ok_as("reader", "SELECT length(randomblob(1000000)) AS n")
        self.assertEqual(doc["results"], [{"n": 1000000}])

    @unittest.skipIf(ON_PG, "SQLite's files")
    def test_files_are_out_of_reach(self):
        d = tempfile.mkdtemp(prefix="qgate-tenants-")
        try:
            target = os.path.join(d, "copy.db")
            for stmt, text in [("VACUUM INTO '%s'" % target, "ATTACH is not allowed"),
                               ("ATTACH DATABASE '%s' AS x" % target, "ATTACH is not allowed"),
                               ("SELECT load_extension('%s')" % target,
                                "function load_extension() is not allowed"),
                               ("PRAGMA database_list", "PRAGMA database_list is not allowed"),
                               ("SELECT file FROM pragma_database_list",
                                "PRAGMA database_list is not allowed"),
                               ("PRAGMA temp_store_directory = '%s'" % d,
                                "PRAGMA temp_store_directory is not allowed")]:
                r = self.run_as("alice", stmt)
                self.assertIn(text, r.body.decode(), stmt)
                self.assertNotIn(self.q.data, r.body.decode(), stmt)
            self.assertEqual(os.listdir(d), [])
        finally:
            shutil.rmtree(d, ignore_errors=True)

    @unittest.skipIf(ON_PG, "SQLite's statements")
    def test_writers_keep_what_they_need(self):
        self.ok_as("alice", "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); "
                   "CREATE INDEX notes_body ON notes(body); "
                   "ALTER TABLE notes ADD COLUMN extra TEXT; "
                   "ALTER TABLE notes RENAME COLUMN extra TO more; "
                   "ALTER TABLE notes DROP COLUMN more; ALTER TABLE notes RENAME TO memos; "
                   "INSERT INTO memos (body) VALUES ('hello'); ANALYZE; PRAGMA optimize; "
                   "REINDEX memos; PRAGMA user_version = 7")
        self.ok_as("alice", "CREATE VIRTUAL TABLE docs5 USING fts5(body); "
                   "CREATE VIRTUAL TABLE docs4 USING fts4(body); "
                   "CREATE VIRTUAL TABLE boxes USING rtree(id, x0, x1); "
                   "INSERT INTO docs5 VALUES ('alpha beta'); INSERT INTO docs4 VALUES ('gamma'); "
                   "INSERT INTO boxes VALUES (1, 0, 10)")
        doc = self.ok_as("reader", "SELECT (SELECT count(*) FROM docs5 WHERE docs5 MATCH 'beta') "
                         "AS f5, (SELECT count(*) FROM docs4 WHERE docs4 MATCH 'gamma') AS f4, "
                         "(SELECT count(*) FROM boxes WHERE x0 <= 5 AND x1 >= 5) AS rt, "
                         "(SELECT body FROM memos) AS memo")
        self.assertEqual(doc["results"], [{"f5": 1, "f4": 1, "rt": 1, "memo": "hello"}])
        # a read-only principal reads the schema and JSON tables
        doc = self.ok_as("reader", "PRAGMA table_info(memos)")
        self.assertEqual([c["name"] for c in doc["results"]], ["id", "body"])
        doc = self.ok_as("reader", "SELECT count(*) AS n FROM pragma_table_info('orders'); "
                         "SELECT value FROM json_each('[5, 6]'); PRAGMA user_version")
        self.assertEqual(doc["results"], [{"n": 7}])
        self.assertEqual(doc["results-0"], [{"value": 5}, {"value": 6}])
        self.assertEqual(doc["results-1"], [{"user_version": 7}])
        # a setting for one request: the next one has the default again
        doc = self.ok_as("alice", "PRAGMA foreign_keys = ON; PRAGMA foreign_keys")
        self.assertEqual(doc["results"], [{"foreign_keys": 1}])
        doc = self.ok_as("bob", "PRAGMA foreign_keys")
        self.assertEqual(doc["results"], [{"foreign_keys": 0}])
        self.assertEqual(self.run_as("reader", "PRAGMA foreign_keys = ON").status, 400)


# --- the sweep of SQLite's own lists ----------------------------------------------

# Every function Debian's SQLite offers, judged. Allowed ones are harmless:
# they compute from their arguments, the database, or the library's own
# facts (version, options). changes(), total_changes() and
# last_insert_rowid() are qgate's (they see the running request only).
HARMLESS_FUNCTIONS = set("""
-> ->> abs acos acosh asin asinh atan atan2 atanh avg bm25 ceil ceiling changes char coalesce
cos cosh count cume_dist current_date current_time current_timestamp date datetime degrees
dense_rank exp first_value floor format fts5 fts5_source_id glob group_concat hex highlight
ifnull iif instr json json_array json_array_length json_extract json_group_array
json_group_object json_insert json_object json_patch json_quote json_remove json_replace
json_set json_type json_valid julianday lag last_insert_rowid last_value lead length like
likelihood likely ln log log10 log2 lower ltrim match matchinfo max min mod nth_value ntile
nullif offsets optimize percent_rank pi pow power printf quote radians random randomblob rank
replace round row_number rtreecheck rtreedepth rtreenode rtrim sign sin sinh snippet soundex
sqlite_compileoption_get sqlite_compileoption_used sqlite_source_id sqlite_version sqrt
strftime substr substring subtype sum tan tanh time total total_changes trim trunc typeof
unicode unixepoch unlikely upper zeroblob
""".split())
REFUSED_FUNCTIONS = {"fts3_tokenizer", "load_extension", "sqlite_log"}

# Every pragma, by what a request may do with it (exec/sqlite_guard has the
# same judgment, written separately).
PRAGMAS = {
    # harmless in any request, with any argument
    "any": """collation_list compile_options data_version foreign_key_check foreign_key_list
              freelist_count function_list index_info index_list index_xinfo integrity_check
              module_list page_count pragma_list quick_check shrink_memory table_info table_list
              table_xinfo""",
    # a setting of the connection: a writer may set it for its request
    "local": """analysis_limit automatic_index case_sensitive_like cell_size_check count_changes
                defer_foreign_keys empty_result_callbacks foreign_keys full_column_names
                legacy_alter_table query_only read_uncommitted recursive_triggers
                reverse_unordered_selects short_column_names""",
    # may be read; setting it would outlive the request or reach beyond it
    "read": """auto_vacuum busy_timeout cache_size cache_spill checkpoint_fullfsync
               default_cache_size encoding fullfsync hard_heap_limit ignore_check_constraints
               journal_mode journal_size_limit locking_mode max_page_count mmap_size page_size
               schema_version secure_delete soft_heap_limit synchronous temp_store threads
               trusted_schema wal_autocheckpoint writable_schema""",
    # a value in the database file: writers set it
    "stored": "application_id user_version",
    # works on the database file: writers only
    "action": "incremental_vacuum optimize wal_checkpoint",
    # never: file paths of the server
    "refused": "database_list temp_store_directory",
}
PRAGMA_KIND = {name: kind for kind, names in PRAGMAS.items() for name in names.split()}

# What each local setting is set to in the sweep (its value must not reach
# the next request).
LOCAL_VALUES = {"analysis_limit": "77", "automatic_index": "0", "case_sensitive_like": "1",
                "cell_size_check": "1", "count_changes": "1", "defer_foreign_keys": "1",
                "empty_result_callbacks": "1", "foreign_keys": "1", "full_column_names": "1",
                "legacy_alter_table": "1", "query_only": "1", "read_uncommitted": "1",
                "recursive_triggers": "0", "reverse_unordered_selects": "1",
                "short_column_names": "0"}
READ_VALUES = {"journal_mode": "DELETE", "locking_mode": "EXCLUSIVE", "synchronous": "OFF",
               "cache_size": "1000000000", "mmap_size": "1000000000", "temp_store": "MEMORY",
               "hard_heap_limit": "1", "soft_heap_limit": "1", "writable_schema": "1",
               "trusted_schema": "1", "ignore_check_constraints": "1", "busy_timeout": "3600000"}

# Virtual table modules: allowed ones, with a statement that uses them.
MODULES = {
    "fts3": "CREATE VIRTUAL TABLE temp.m USING fts3(a)",
    "fts4": "CREATE VIRTUAL TABLE temp.m USING fts4(a)",
    "fts5": "CREATE VIRTUAL TABLE temp.m USING fts5(a)",
    "fts3tokenize": "CREATE VIRTUAL TABLE temp.m USING fts3tokenize(simple)",
    "fts4aux": "CREATE VIRTUAL TABLE temp.s USING fts4(a); "
               "CREATE VIRTUAL TABLE temp.m USING fts4aux(temp, s)",
    "fts5vocab": "CREATE VIRTUAL TABLE temp.s USING fts5(a); "
                 "CREATE VIRTUAL TABLE temp.m USING fts5vocab(temp, s, 'row')",
    "rtree": "CREATE VIRTUAL TABLE temp.m USING rtree(id, a, b)",
    "rtree_i32": "CREATE VIRTUAL TABLE temp.m USING rtree_i32(id, a, b)",
    "dbstat": "SELECT count(*) AS n FROM dbstat",
    "json_each": "SELECT count(*) AS n FROM json_each('[1]')",
    "json_tree": "SELECT count(*) AS n FROM json_tree('[1]')",
    "pragma_function_list": "SELECT count(*) AS n FROM pragma_function_list",
}
# Refused: it lists the statements every earlier request compiled.
REFUSED_MODULES = {"sqlite_stmt": ["SELECT sql FROM sqlite_stmt",
                                   "CREATE VIRTUAL TABLE temp.m USING sqlite_stmt"]}


def library_lists():
    """SQLite's own lists, from a connection nothing has hardened."""
    db = sqlite3.connect(":memory:")
    try:
        modules = [r[0] for r in db.execute("PRAGMA module_list")]
        functions = sorted({(r[0], r[1], r[2]) for r in db.execute(
            "SELECT name, narg, type FROM pragma_function_list")})
        pragmas = [r[0] for r in db.execute("PRAGMA pragma_list")]
        modules += [r[0] for r in db.execute("PRAGMA module_list") if r[0] not in modules]
        return sqlite3.sqlite_version, functions, pragmas, modules
    finally:
        db.close()


def call_of(name, narg, kind):
    """A statement that calls the function with NULL arguments."""
    if name in ("->", "->>"):
        return "SELECT '{\"a\": 1}' %s '$.a' AS v" % name
    args = ", ".join(["NULL"] * (1 if narg < 0 else narg))
    call = "%s(%s)" % (name, args)
    if kind == "w":
        call += " OVER ()"
    return "SELECT %s AS v" % call


@unittest.skipIf(ON_PG, "SQLite's lists")
class Sweep(TenantCase):
    """Every entry of SQLite's function, pragma and module lists through
    qgate, as a writer and as a readonly principal."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.version, cls.functions, cls.pragmas, cls.modules = library_lists()

    def test_the_lists_are_of_the_library_qgate_runs(self):
        doc = self.ok_as("reader", "SELECT sqlite_version() AS v")
        self.assertEqual(doc["results"], [{"v": self.version}])

    def test_functions(self):
        names = {f[0] for f in self.functions}
        self.assertEqual(names - HARMLESS_FUNCTIONS - REFUSED_FUNCTIONS, set(),
                         "functions nobody judged yet")
        for name, narg, kind in self.functions:
            stmt = call_of(name, narg, kind)
            for principal in ("alice", "reader"):
                r = self.run_as(principal, stmt)
                body = r.body.decode()
                if name in REFUSED_FUNCTIONS:
                    self.refused(r, "function %s() is not allowed" % name)
                else:
                    # allowed: it may still fail on NULLs or outside its
                    # context (snippet() without a MATCH), but not refused
                    self.assertNotIn("is not allowed", body, stmt)
                    self.assertNotIn("not authorized", body, stmt)

    def test_pragmas(self):
        self.assertEqual(set(self.pragmas) - set(PRAGMA_KIND), set(), "pragmas nobody judged yet")
        for name in self.pragmas:
            kind = PRAGMA_KIND[name]
            with self.subTest(pragma=name, kind=kind):
                self.sweep_pragma(name, kind)

    def sweep_pragma(self, name, kind):
        read = "PRAGMA %s" % name
        if kind == "refused":
            for principal in ("alice", "reader"):
                self.refused(self.run_as(principal, read), "PRAGMA %s is not allowed" % name)
            return
        if kind == "action":
            self.refused(self.run_as("reader", read), "ASX0044")
            self.ok_as("alice", read)
            return
        before = self.ok_as("bob", read).get("results")
        if kind == "any":
            self.ok_as("alice", read)
            return
        value = LOCAL_VALUES.get(name) or READ_VALUES.get(name) or "5"
        setting = "PRAGMA %s = %s" % (name, value)
        self.assertEqual(self.run_as("reader", setting).status, 400, setting)
        if kind == "read":
            self.refused(self.run_as("alice", setting), "setting PRAGMA %s is not allowed" % name)
        elif kind == "local":
            self.ok_as("alice", setting)
        elif kind == "stored":
            self.ok_as("alice", setting)
            self.ok_as("alice", "PRAGMA %s = 0" % name)
        self.assertEqual(self.ok_as("bob", read).get("results"), before, setting)

    def test_modules(self):
        known = set(MODULES) | set(REFUSED_MODULES)
        self.assertEqual(set(self.modules) - known, set(), "modules nobody judged yet")
        for name, stmt in MODULES.items():
            self.ok_as("alice", stmt)
            if stmt.startswith("SELECT"):
                self.ok_as("reader", stmt)
        for name, stmts in REFUSED_MODULES.items():
            for stmt in stmts:
                for principal in ("alice", "reader"):
                    r = self.run_as(principal, stmt)
                    self.assertEqual(r.status, 400, (stmt, r))


if __name__ == "__main__":
    main()
