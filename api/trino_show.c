/*
 * trino_show: the catalog statements Trino clients send on connect and in
 * their schema browsers, answered from the backend's own catalog (see
 * trino.h). Pure.
 *
 * Names are taken only as plain identifiers ([A-Za-z_][A-Za-z0-9_$]*) or
 * double-quoted ones without quotes or backslashes inside, and reach the
 * backend's statement as single-quoted literals (quotes doubled), so no
 * name can change what the statement does.
 */
#include <ctype.h>
#include <string.h>

#include "api/trino.h"

typedef struct lex {
    const char *p;
    size_t n, i;
} lex;

static void
blanks(lex *l)
{
    while (l->i < l->n && isspace((unsigned char)l->p[l->i]))
        l->i++;
}

/* Consumes keyword kw (any case) followed by a non-identifier byte. */
static bool
keyword(lex *l, const char *kw)
{
    blanks(l);
    size_t k = strlen(kw);
    if (l->n - l->i < k || strncasecmp(l->p + l->i, kw, k) != 0)
        return false;
    if (l->i + k < l->n && (isalnum((unsigned char)l->p[l->i + k]) || l->p[l->i + k] == '_'))
        return false;
    l->i += k;
    return true;
}

/* Whether only blanks and one optional ';' remain. */
static bool
at_end(lex *l)
{
    blanks(l);
    if (l->i < l->n && l->p[l->i] == ';')
        l->i++;
    blanks(l);
    return l->i == l->n;
}

#define NAME_MAX_LEN 128

/* One identifier into out (NUL-terminated; quoted ones keep their case,
 * plain ones are lower-cased as Trino does). 1, 0 none there, -1 bad. */
static int
ident(lex *l, char out[NAME_MAX_LEN + 1])
{
    blanks(l);
    size_t k = 0;
    if (l->i < l->n && l->p[l->i] == '"') {
        l->i++;
        while (l->i < l->n && l->p[l->i] != '"') {
            char c = l->p[l->i++];
            if (c == '\\' || c == '\'' || c == '\0' || k == NAME_MAX_LEN)
                return -1;
            out[k++] = c;
        }
        if (l->i == l->n || k == 0)
            return -1;
        l->i++;
        out[k] = '\0';
        return 1;
    }
    if (l->i >= l->n || !(isalpha((unsigned char)l->p[l->i]) || l->p[l->i] == '_'))
        return 0;
    while (l->i < l->n &&
           (isalnum((unsigned char)l->p[l->i]) || l->p[l->i] == '_' || l->p[l->i] == '$')) {
        if (k == NAME_MAX_LEN)
            return -1;
        out[k++] = (char)tolower((unsigned char)l->p[l->i++]);
    }
    out[k] = '\0';
    return 1;
}

/* A dotted name of at most `max` parts into parts (right-aligned: the
 * last part in parts[max-1]); *count the parts. 1, 0, -1 as ident. */
static int
dotted(lex *l, char parts[3][NAME_MAX_LEN + 1], int max, int *count)
{
    char tmp[3][NAME_MAX_LEN + 1];
    int n = 0;
    for (;;) {
        int r = ident(l, tmp[n]);
        if (r <= 0)
            return n == 0 ? r : -1;
        n++;
        blanks(l);
        if (l->i < l->n && l->p[l->i] == '.' && n < max) {
            l->i++;
            continue;
        }
        break;
    }
    for (int i = 0; i < max; i++)
        parts[i][0] = '\0';
    for (int i = 0; i < n; i++)
        memcpy(parts[max - n + i], tmp[i], NAME_MAX_LEN + 1);
    *count = n;
    return 1;
}

/* s as a single-quoted SQL literal. */
static void
literal(qg_buf *out, const char *s)
{
    qg_buf_addc(out, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            qg_buf_addc(out, '\'');
        qg_buf_addc(out, *s);
    }
    qg_buf_addc(out, '\'');
}

/* SQLite's declared type as trino_type_of names it (exec/trino_type.c). */
static const char sqlite_type_sql[] =
    "CASE WHEN upper(type) LIKE '%INT%' THEN 'bigint' "
    "WHEN upper(type) LIKE '%BOOL%' THEN 'boolean' "
    "WHEN (upper(type) LIKE '%DECIMAL(%' OR upper(type) LIKE '%NUMERIC(%') AND instr(type, ',') "
    "THEN 'decimal' || replace(lower(substr(type, instr(type, '('))), ' ', '') "
    "WHEN (upper(type) LIKE '%DECIMAL(%' OR upper(type) LIKE '%NUMERIC(%') "
    "THEN 'decimal' || replace(replace(lower(substr(type, instr(type, '('))), ' ', ''), ')', "
    "',0)') "
    "WHEN upper(type) LIKE '%JSON%' THEN 'json' "
    "WHEN upper(type) LIKE '%DATETIME%' OR upper(type) LIKE '%TIMESTAMP%' THEN 'timestamp(3)' "
    "WHEN upper(type) LIKE '%DATE%' THEN 'date' "
    "WHEN upper(type) LIKE '%CHAR%' OR upper(type) LIKE '%CLOB%' OR upper(type) LIKE '%TEXT%' "
    "THEN 'varchar' "
    "WHEN upper(type) LIKE '%BLOB%' OR type = '' THEN 'varbinary' "
    "ELSE 'double' END";

/* PostgreSQL's udt_name as trino_type_of names it. */
static const char pg_type_sql[] =
    "CASE WHEN data_type = 'numeric' AND numeric_precision IS NOT NULL "
    "THEN 'decimal(' || numeric_precision || ',' || numeric_scale || ')' "
    "ELSE (SELECT CASE WHEN a THEN 'array(' || t || ')' ELSE t END FROM (SELECT "
    "left(udt_name, 1) = '_' AS a, CASE ltrim(udt_name, '_') "
    "WHEN 'bool' THEN 'boolean' WHEN 'int2' THEN 'smallint' WHEN 'int4' THEN 'integer' "
    "WHEN 'int8' THEN 'bigint' WHEN 'oid' THEN 'bigint' WHEN 'float4' THEN 'real' "
    "WHEN 'float8' THEN 'double' WHEN 'numeric' THEN 'decimal(38,10)' "
    "WHEN 'bytea' THEN 'varbinary' WHEN 'date' THEN 'date' WHEN 'time' THEN 'time(6)' "
    "WHEN 'timetz' THEN 'time(6) with time zone' WHEN 'timestamp' THEN 'timestamp(6)' "
    "WHEN 'timestamptz' THEN 'timestamp(6) with time zone' WHEN 'json' THEN 'json' "
    "WHEN 'jsonb' THEN 'json' WHEN 'uuid' THEN 'uuid' ELSE 'varchar' END AS t) x) END";

static void
show_tables(qg_buf *out, api_trino_dialect d, const char *schema)
{
    if (d == API_TRINO_SQLITE) {
        qg_buf_addlit(out, "SELECT name AS \"Table\" FROM ");
        if (schema[0]) {
            qg_buf_addc(out, '"');
            qg_buf_adds(out, schema); /* an identifier without quotes (ident) */
            qg_buf_addlit(out, "\".");
        }
        qg_buf_addlit(out, "sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE "
                           "'sqlite\\_%' ESCAPE '\\' ORDER BY 1");
        return;
    }
    qg_buf_addlit(out, "SELECT table_name::text AS \"Table\" FROM information_schema.tables "
                       "WHERE table_schema = ");
    if (schema[0])
        literal(out, schema);
    else
        qg_buf_addlit(out, "current_schema()");
    qg_buf_addlit(out, " ORDER BY 1");
}

static void
show_columns(qg_buf *out, api_trino_dialect d, const char *schema, const char *table)
{
    if (d == API_TRINO_SQLITE) {
        qg_buf_addlit(out, "SELECT name AS \"Column\", ");
        qg_buf_adds(out, sqlite_type_sql);
        qg_buf_addlit(out, " AS \"Type\", '' AS \"Extra\", '' AS \"Comment\" FROM "
                           "pragma_table_info(");
        literal(out, table);
        if (schema[0]) {
            qg_buf_addlit(out, ", ");
            literal(out, schema);
        }
        qg_buf_addlit(out, ") ORDER BY cid");
        return;
    }
    qg_buf_addlit(out, "SELECT column_name::text AS \"Column\", ");
    qg_buf_adds(out, pg_type_sql);
    qg_buf_addlit(out, " AS \"Type\", '' AS \"Extra\", '' AS \"Comment\" FROM "
                       "information_schema.columns WHERE table_schema = ");
    if (schema[0])
        literal(out, schema);
    else
        qg_buf_addlit(out, "current_schema()");
    qg_buf_addlit(out, " AND table_name = ");
    literal(out, table);
    qg_buf_addlit(out, " ORDER BY ordinal_position");
}

static int
bad_name(qg_error *err)
{
    return qg_error_set(err, QG_E_SYNTAX,
                        "a name in SHOW or DESCRIBE must be an identifier or a double-quoted "
                        "name without quotes or backslashes");
}

int
api_trino_show(const char *sql, size_t n, api_trino_dialect d, qg_buf *out, qg_error *err)
{
    lex l = {sql, n, 0};
    char parts[3][NAME_MAX_LEN + 1];
    int count = 0;
    if (keyword(&l, "DESCRIBE") || keyword(&l, "DESC") ||
        (keyword(&l, "SHOW") && keyword(&l, "COLUMNS") &&
         (keyword(&l, "FROM") || keyword(&l, "IN")))) {
        if (dotted(&l, parts, 3, &count) <= 0 || !at_end(&l))
            return bad_name(err);
        show_columns(out, d, parts[1], parts[2]);
        return 1;
    }
    l.i = 0;
    if (!keyword(&l, "SHOW"))
        return 0;
    size_t mark = l.i;
    if (keyword(&l, "CATALOGS") && at_end(&l)) {
        qg_buf_adds(out, d == API_TRINO_SQLITE ? "SELECT 'sqlite' AS \"Catalog\""
                                               : "SELECT current_database()::text AS \"Catalog\"");
        return 1;
    }
    l.i = mark;
    if (keyword(&l, "SCHEMAS")) {
        if (keyword(&l, "FROM") || keyword(&l, "IN"))
            if (dotted(&l, parts, 1, &count) <= 0)
                return bad_name(err);
        if (!at_end(&l))
            return 0;
        qg_buf_adds(out,
                    d == API_TRINO_SQLITE
                        ? "SELECT 'main' AS \"Schema\"" /* the one schema a connection shares */
                        : "SELECT schema_name::text AS \"Schema\" FROM "
                          "information_schema.schemata ORDER BY 1");
        return 1;
    }
    l.i = mark;
    if (keyword(&l, "TABLES")) {
        parts[1][0] = '\0';
        if (keyword(&l, "FROM") || keyword(&l, "IN")) {
            if (dotted(&l, parts, 2, &count) <= 0)
                return bad_name(err);
        }
        if (!at_end(&l))
            return 0;
        show_tables(out, d, parts[1]);
        return 1;
    }
    return 0;
}
