/*
 * trino_type: engine types -> Trino's type names, signatures and value
 * encodings (see trino_type.h).
 */
#include "exec/trino_type.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/json.h"

static void
set(trino_type *out, const char *name, trino_enc enc)
{
    snprintf(out->name, sizeof(out->name), "%s", name);
    out->enc = enc;
}

/* Whether upper-cased u contains word w. */
static bool
has(const char *u, const char *w)
{
    return strstr(u, w) != NULL;
}

/* PostgreSQL's built-in type names (exec/pgsql_value.c's table) that Trino
 * names otherwise; an array "x[]" is array(<x's name>). */
static const struct {
    const char *pg, *trino;
    trino_enc enc;
} pg_types[] = {
    {"bool", "boolean", TRINO_ENC_PLAIN},
    {"int2", "smallint", TRINO_ENC_PLAIN},
    {"int4", "integer", TRINO_ENC_PLAIN},
    {"int8", "bigint", TRINO_ENC_PLAIN},
    {"oid", "bigint", TRINO_ENC_PLAIN},
    {"float4", "real", TRINO_ENC_PLAIN},
    {"float8", "double", TRINO_ENC_PLAIN},
    {"numeric", "decimal(38,10)", TRINO_ENC_STRING},
    {"text", "varchar", TRINO_ENC_PLAIN},
    {"varchar", "varchar", TRINO_ENC_PLAIN},
    {"bpchar", "varchar", TRINO_ENC_PLAIN},
    {"name", "varchar", TRINO_ENC_PLAIN},
    {"bytea", "varbinary", TRINO_ENC_PLAIN},
    {"date", "date", TRINO_ENC_PLAIN},
    {"time", "time(6)", TRINO_ENC_PLAIN},
    {"timetz", "time(6) with time zone", TRINO_ENC_PLAIN},
    {"timestamp", "timestamp(6)", TRINO_ENC_PLAIN},
    {"timestamptz", "timestamp(6) with time zone", TRINO_ENC_PLAIN},
    {"json", "json", TRINO_ENC_STRING},
    {"jsonb", "json", TRINO_ENC_STRING},
    {"uuid", "uuid", TRINO_ENC_PLAIN},
};

static bool
pg_type(const char *engine, trino_type *out)
{
    size_t n = strlen(engine);
    if (n > 2 && strcmp(engine + n - 2, "[]") == 0) {
        char elem[64];
        if (n - 2 >= sizeof(elem))
            return false;
        memcpy(elem, engine, n - 2);
        elem[n - 2] = '\0';
        trino_type e;
        if (!pg_type(elem, &e))
            set(&e, "varchar", TRINO_ENC_PLAIN);
        /* PostgreSQL arrays are rendered as JSON arrays of their elements */
        size_t en = strlen(e.name);
        if (en + 8 > sizeof(out->name))
            return false;
        memcpy(out->name, "array(", 6);
        memcpy(out->name + 6, e.name, en);
        memcpy(out->name + 6 + en, ")", 2);
        out->enc = TRINO_ENC_PLAIN;
        return true;
    }
    for (size_t i = 0; i < sizeof(pg_types) / sizeof(pg_types[0]); i++) {
        if (strcmp(engine, pg_types[i].pg) == 0) {
            set(out, pg_types[i].trino, pg_types[i].enc);
            return true;
        }
    }
    return false;
}

/* SQLite's declared type: "DECIMAL(10, 2)" -> decimal(10,2). */
static bool
sqlite_decimal(const char *u, trino_type *out)
{
    const char *p = strchr(u, '(');
    unsigned prec = 0, scale = 0;
    if (!p || sscanf(p, "(%u , %u )", &prec, &scale) < 1 || prec == 0 || prec > 38 || scale > prec)
        return false;
    char name[40];
    snprintf(name, sizeof(name), "decimal(%u,%u)", prec, scale);
    set(out, name, TRINO_ENC_STRING);
    return true;
}

static void
sqlite_type(const char *engine, trino_type *out)
{
    char u[TRINO_TYPE_MAX];
    size_t i = 0;
    for (; engine[i] && i + 1 < sizeof(u); i++)
        u[i] = (char)toupper((unsigned char)engine[i]);
    u[i] = '\0';
    if (has(u, "INT"))
        set(out, "bigint", TRINO_ENC_PLAIN);
    else if (has(u, "BOOL"))
        set(out, "boolean", TRINO_ENC_BOOL);
    else if ((has(u, "DECIMAL") || has(u, "NUMERIC")) && sqlite_decimal(u, out))
        return;
    else if (has(u, "JSON"))
        set(out, "json", TRINO_ENC_STRING);
    else if (has(u, "DATETIME") || has(u, "TIMESTAMP"))
        set(out, "timestamp(3)", TRINO_ENC_PLAIN);
    else if (has(u, "DATE"))
        set(out, "date", TRINO_ENC_PLAIN);
    else if (has(u, "CHAR") || has(u, "CLOB") || has(u, "TEXT"))
        set(out, "varchar", TRINO_ENC_PLAIN);
    else if (has(u, "BLOB") || u[0] == '\0')
        set(out, "varbinary", TRINO_ENC_PLAIN);
    else /* REAL, FLOA, DOUB, and NUMERIC affinity */
        set(out, "double", TRINO_ENC_PLAIN);
}

bool
trino_type_of(const char *engine, trino_type *out)
{
    if (!engine || !engine[0]) {
        set(out, "varchar", TRINO_ENC_PLAIN);
        return false;
    }
    /* PostgreSQL's names are lower case; SQLite's declared types are
     * whatever the table says, matched without case */
    if (!pg_type(engine, out))
        sqlite_type(engine, out);
    return true;
}

static bool
integral(const char *s)
{
    return s && !strpbrk(s, ".eE");
}

void
trino_type_of_values(int kind, const char *min, const char *max, trino_type *out)
{
    switch (kind) {
    case 1:
        set(out, "boolean", TRINO_ENC_PLAIN);
        return;
    case 2:
        set(out, integral(min) && integral(max) ? "bigint" : "double", TRINO_ENC_PLAIN);
        return;
    case 4:
        set(out, "varbinary", TRINO_ENC_PLAIN);
        return;
    default:
        set(out, "varchar", TRINO_ENC_PLAIN);
        return;
    }
}

/* --- typeSignature -------------------------------------------------------------- */

/* The index of the ',' or ')' that ends the argument starting at p[i]
 * (depth 0), or n. */
static size_t
arg_end(const char *p, size_t n, size_t i)
{
    int depth = 0;
    for (; i < n; i++) {
        if (p[i] == '(')
            depth++;
        else if (p[i] == ')' && depth-- == 0)
            return i;
        else if (p[i] == ',' && depth == 0)
            return i;
    }
    return n;
}

/* The index of the ')' that closes the '(' at p[open], or n. */
static size_t
match(const char *p, size_t n, size_t open)
{
    int depth = 0;
    for (size_t i = open; i < n; i++) {
        if (p[i] == '(')
            depth++;
        else if (p[i] == ')' && --depth == 0)
            return i;
    }
    return n;
}

static void
signature(qg_buf *b, const char *p, size_t n)
{
    size_t open = 0;
    while (open < n && p[open] != '(')
        open++;
    bool o = open < n;
    size_t close = o ? match(p, n, open) : n;
    /* "timestamp(6) with time zone": the raw type is the name less its
     * argument list */
    char raw[2 * TRINO_TYPE_MAX];
    size_t rn = 0;
    for (size_t i = 0; i < n && rn + 1 < sizeof(raw); i++)
        if (i < open || i > close)
            raw[rn++] = p[i];
    raw[rn] = '\0';
    qg_buf_addlit(b, "{\"rawType\":");
    qg_json_string(b, raw, rn);
    qg_buf_addlit(b, ",\"arguments\":[");
    if (!o && strcmp(raw, "varchar") == 0)
        qg_buf_addlit(b, "{\"kind\":\"LONG\",\"value\":2147483647}");
    for (size_t i = open + 1; o && i < close;) {
        size_t e = arg_end(p, n, i);
        if (i > open + 1)
            qg_buf_addc(b, ',');
        while (i < e && p[i] == ' ')
            i++;
        if (i < e && isdigit((unsigned char)p[i])) {
            qg_buf_addlit(b, "{\"kind\":\"LONG\",\"value\":");
            qg_buf_add(b, p + i, e - i);
        } else {
            qg_buf_addlit(b, "{\"kind\":\"TYPE\",\"value\":");
            signature(b, p + i, e - i);
        }
        qg_buf_addc(b, '}');
        i = e + 1;
    }
    qg_buf_addlit(b, "]}");
}

void
trino_type_signature(qg_buf *b, const char *name)
{
    signature(b, name, strlen(name));
}

/* --- date and time ------------------------------------------------------------- */

void
trino_datetime(qg_buf *b, const char *p, size_t n)
{
    /* a timestamp with an offset: "YYYY-MM-DD HH:MM:SS[.f]+HH[:MM]" */
    if (n >= 22 && p[10] == ' ') {
        for (size_t i = 19; i < n; i++) {
            if (p[i] != '+' && p[i] != '-')
                continue;
            size_t rest = n - i - 1;
            qg_buf_add(b, p, i);
            qg_buf_addc(b, ' ');
            qg_buf_add(b, p + i, 3);
            if (rest == 2)
                qg_buf_addlit(b, ":00");
            else
                qg_buf_add(b, p + i + 3, rest - 2);
            return;
        }
    }
    qg_buf_add(b, p, n);
}
