/* pgsql_value: the server's text output of a value -> JSON (see pgsql_value.h). */
#include "exec/pgsql_value.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/dtoa.h"
#include "core/json.h"
#include "exec/pgsql_array.h"
#include "exec/trino_type.h"
#include "core/hex.h"

/* Built-in type OIDs: fixed by PostgreSQL (pg_type.dat) for all versions. */
enum {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_OID = 26,
    OID_JSON = 114,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_DATE = 1082,
    OID_TIME = 1083,
    OID_TIMESTAMP = 1114,
    OID_TIMESTAMPTZ = 1184,
    OID_TIMETZ = 1266,
    OID_NUMERIC = 1700,
    OID_JSONB = 3802,
};

static const struct {
    unsigned oid;
    pgsql_vkind elem;
} arrays[] = {
    {1000, PGSQL_V_BOOL},     {1001, PGSQL_V_BYTEA},    {1002, PGSQL_V_TEXT},
    {1003, PGSQL_V_TEXT},     {1005, PGSQL_V_INT},      {1007, PGSQL_V_INT},
    {1009, PGSQL_V_TEXT},     {1014, PGSQL_V_TEXT},     {1015, PGSQL_V_TEXT},
    {1016, PGSQL_V_INT},      {1021, PGSQL_V_FLOAT},    {1022, PGSQL_V_FLOAT},
    {1028, PGSQL_V_INT},      {1115, PGSQL_V_DATETIME}, {1182, PGSQL_V_DATETIME},
    {1183, PGSQL_V_DATETIME}, {1185, PGSQL_V_DATETIME}, {1270, PGSQL_V_DATETIME},
    {1231, PGSQL_V_NUMERIC},  {199, PGSQL_V_JSON},      {3807, PGSQL_V_JSON},
    {2951, PGSQL_V_TEXT}, /* uuid[] */
    {1187, PGSQL_V_TEXT}, /* interval[] */
    {1041, PGSQL_V_TEXT}, /* inet[] */
    {651, PGSQL_V_TEXT},  /* cidr[] */
    {1040, PGSQL_V_TEXT}, /* macaddr[] */
    {791, PGSQL_V_TEXT},  /* money[] */
    {143, PGSQL_V_TEXT},  /* xml[] */
    {1561, PGSQL_V_TEXT}, /* bit[] */
    {1563, PGSQL_V_TEXT}, /* varbit[] */
};

pgsql_vtype
pgsql_vtype_of(unsigned oid)
{
    switch (oid) {
    case OID_BOOL:
        return (pgsql_vtype){PGSQL_V_BOOL, PGSQL_V_TEXT};
    case OID_BYTEA:
        return (pgsql_vtype){PGSQL_V_BYTEA, PGSQL_V_TEXT};
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
    case OID_OID:
        return (pgsql_vtype){PGSQL_V_INT, PGSQL_V_TEXT};
    case OID_NUMERIC:
        return (pgsql_vtype){PGSQL_V_NUMERIC, PGSQL_V_TEXT};
    case OID_FLOAT4:
    case OID_FLOAT8:
        return (pgsql_vtype){PGSQL_V_FLOAT, PGSQL_V_TEXT};
    case OID_JSON:
    case OID_JSONB:
        return (pgsql_vtype){PGSQL_V_JSON, PGSQL_V_TEXT};
    case OID_DATE:
    case OID_TIME:
    case OID_TIMETZ:
    case OID_TIMESTAMP:
    case OID_TIMESTAMPTZ:
        return (pgsql_vtype){PGSQL_V_DATETIME, PGSQL_V_TEXT};
    default:
        break;
    }
    for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++)
        if (arrays[i].oid == oid)
            return (pgsql_vtype){PGSQL_V_ARRAY, arrays[i].elem};
    return (pgsql_vtype){PGSQL_V_TEXT, PGSQL_V_TEXT};
}

/* Built-in types by OID (pg_type.dat; OIDs below 10000 never change). */
static const struct {
    unsigned oid;
    const char *name;
} type_names[] = {
    {16, "bool"},          {17, "bytea"},        {18, "char"},        {19, "name"},
    {20, "int8"},          {21, "int2"},         {23, "int4"},        {24, "regproc"},
    {25, "text"},          {26, "oid"},          {27, "tid"},         {28, "xid"},
    {29, "cid"},           {114, "json"},        {142, "xml"},        {600, "point"},
    {601, "lseg"},         {602, "path"},        {603, "box"},        {604, "polygon"},
    {628, "line"},         {650, "cidr"},        {700, "float4"},     {701, "float8"},
    {705, "unknown"},      {718, "circle"},      {774, "macaddr8"},   {790, "money"},
    {829, "macaddr"},      {869, "inet"},        {1042, "bpchar"},    {1043, "varchar"},
    {1082, "date"},        {1083, "time"},       {1114, "timestamp"}, {1184, "timestamptz"},
    {1186, "interval"},    {1266, "timetz"},     {1560, "bit"},       {1562, "varbit"},
    {1700, "numeric"},     {1790, "refcursor"},  {2205, "regclass"},  {2206, "regtype"},
    {2249, "record"},      {2275, "cstring"},    {2278, "void"},      {2950, "uuid"},
    {3220, "pg_lsn"},      {3614, "tsvector"},   {3615, "tsquery"},   {3802, "jsonb"},
    {3904, "int4range"},   {3906, "numrange"},   {3908, "tsrange"},   {3910, "tstzrange"},
    {3912, "daterange"},   {3926, "int8range"},  {4072, "jsonpath"},  {5069, "xid8"},
    {1000, "bool[]"},      {1001, "bytea[]"},    {1002, "char[]"},    {1003, "name[]"},
    {1005, "int2[]"},      {1007, "int4[]"},     {1009, "text[]"},    {1014, "bpchar[]"},
    {1015, "varchar[]"},   {1016, "int8[]"},     {1017, "point[]"},   {1021, "float4[]"},
    {1022, "float8[]"},    {1028, "oid[]"},      {1040, "macaddr[]"}, {1041, "inet[]"},
    {1115, "timestamp[]"}, {1182, "date[]"},     {1183, "time[]"},    {1185, "timestamptz[]"},
    {1187, "interval[]"},  {1231, "numeric[]"},  {1270, "timetz[]"},  {1561, "bit[]"},
    {1563, "varbit[]"},    {143, "xml[]"},       {199, "json[]"},     {651, "cidr[]"},
    {791, "money[]"},      {2211, "regtype[]"},  {2287, "record[]"},  {2951, "uuid[]"},
    {3807, "jsonb[]"},     {4073, "jsonpath[]"},
};

const char *
pgsql_type_name(unsigned oid)
{
    for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
        if (type_names[i].oid == oid)
            return type_names[i].name;
    return NULL;
}

/* --- date and time --------------------------------------------------------- */

static size_t
digits(const char *p, size_t n, size_t i)
{
    size_t k = i;
    while (k < n && p[k] >= '0' && p[k] <= '9')
        k++;
    return k - i;
}

/* Length of "dd:dd:dd[.d+]" at p[i], or 0. */
static size_t
time_part(const char *p, size_t n, size_t i)
{
    size_t k = i;
    for (int f = 0; f < 3; f++) {
        if (f > 0) {
            if (k >= n || p[k] != ':')
                return 0;
            k++;
        }
        if (digits(p, n, k) != 2)
            return 0;
        k += 2;
    }
    if (k < n && p[k] == '.' && digits(p, n, k + 1) > 0)
        k += 1 + digits(p, n, k + 1);
    return k - i;
}

/* Length of "d+-dd-dd" at p[0], or 0. */
static size_t
date_part(const char *p, size_t n)
{
    size_t y = digits(p, n, 0);
    if (y < 4 || y >= n || p[y] != '-' || digits(p, n, y + 1) != 2 || y + 3 >= n ||
        p[y + 3] != '-' || digits(p, n, y + 4) != 2)
        return 0;
    return y + 6;
}

void
pgsql_datetime_iso(qg_buf *out, const char *p, size_t n)
{
    size_t d = date_part(p, n), start;
    if (d > 0 && d + 1 < n && p[d] == ' ' && time_part(p, n, d + 1) > 0) {
        start = d + 1; /* timestamp[tz] */
        qg_buf_add(out, p, d);
        qg_buf_addc(out, 'T');
    } else if (d == 0 && time_part(p, n, 0) > 0) {
        start = 0; /* time[tz] */
    } else {
        qg_buf_add(out, p, n); /* a date alone, infinity, anything else */
        return;
    }
    size_t k = start + time_part(p, n, start);
    /* an offset of whole hours (+hh) gets its minutes: RFC 3339 wants them */
    if (k < n && (p[k] == '+' || p[k] == '-') && digits(p, n, k + 1) == 2 &&
        (k + 3 == n || p[k + 3] == ' ')) {
        qg_buf_add(out, p + start, k + 3 - start);
        qg_buf_addlit(out, ":00");
        qg_buf_add(out, p + k + 3, n - (k + 3));
        return;
    }
    qg_buf_add(out, p + start, n - start);
}

/* --- bytea ------------------------------------------------------------------- */

int
pgsql_bytea_decode(qg_buf *out, const char *p, size_t n)
{
    if (n >= 2 && p[0] == '\\' && p[1] == 'x') {
        if ((n - 2) % 2 != 0)
            return -1;
        qg_buf_reserve(out, (n - 2) / 2);
        for (size_t i = 2; i < n; i += 2) {
            int hi = qg_hex_value((unsigned char)p[i]), lo = qg_hex_value((unsigned char)p[i + 1]);
            if (hi < 0 || lo < 0)
                return -1;
            qg_buf_addc(out, (char)(hi << 4 | lo));
        }
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\\') {
            qg_buf_addc(out, p[i]);
        } else if (i + 1 < n && p[i + 1] == '\\') {
            qg_buf_addc(out, '\\');
            i++;
        } else if (i + 3 < n && p[i + 1] >= '0' && p[i + 1] <= '3' && p[i + 2] >= '0' &&
                   p[i + 2] <= '7' && p[i + 3] >= '0' && p[i + 3] <= '7') {
            qg_buf_addc(out,
                        (char)((p[i + 1] - '0') << 6 | (p[i + 2] - '0') << 3 | (p[i + 3] - '0')));
            i += 3;
        } else {
            return -1;
        }
    }
    return 0;
}

/* --- values ------------------------------------------------------------------ */

/* Reads a float's text as a double; false when it is not one. The
 * server's plain decimal text is read by qg_atod; strtod takes the rest
 * (NaN, Infinity, the rare values qg_atod leaves to it). */
static bool
read_double(const char *p, size_t n, double *out)
{
    if (qg_atod(p, n, out))
        return true;
    char tmp[64];
    if (n == 0 || n >= sizeof(tmp))
        return false;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    char *end = NULL;
    *out = strtod(tmp, &end);
    return end == tmp + n;
}

void
pgsql_value_json(qg_buf *out, pgsql_vkind kind, const char *p, size_t n)
{
    switch (kind) {
    case PGSQL_V_INT:
    case PGSQL_V_NUMERIC:
        if (qg_json_number_valid(p, n)) {
            qg_buf_add(out, p, n);
            return;
        }
        break;
    case PGSQL_V_FLOAT: {
        double d;
        if (read_double(p, n, &d)) {
            qg_json_double(out, d);
            return;
        }
        break;
    }
    case PGSQL_V_BOOL:
        if (n == 1 && (p[0] == 't' || p[0] == 'f')) {
            if (p[0] == 't')
                qg_buf_addlit(out, "true");
            else
                qg_buf_addlit(out, "false");
            return;
        }
        break;
    case PGSQL_V_JSON:
        /* the server checked it on input; the encoding we check here */
        if (qg_utf8_valid(p, n)) {
            qg_buf_add(out, p, n);
            return;
        }
        break;
    case PGSQL_V_DATETIME: {
        qg_buf tmp = QG_BUF_INIT;
        pgsql_datetime_iso(&tmp, p, n);
        qg_json_string(out, tmp.data ? tmp.data : "", tmp.len);
        qg_buf_free(&tmp);
        return;
    }
    case PGSQL_V_BYTEA: {
        qg_buf tmp = QG_BUF_INIT;
        if (pgsql_bytea_decode(&tmp, p, n) == 0) {
            qg_buf_addc(out, '"');
            qg_base64_encode(out, tmp.data ? tmp.data : "", tmp.len);
            qg_buf_addc(out, '"');
            qg_buf_free(&tmp);
            return;
        }
        qg_buf_free(&tmp);
        break;
    }
    case PGSQL_V_TEXT:
    case PGSQL_V_ARRAY:
        break;
    }
    qg_json_string(out, p, n);
}

static void
element(qg_buf *out, const char *p, size_t n, void *arg)
{
    pgsql_value_json(out, *(const pgsql_vkind *)arg, p, n);
}

void
pgsql_value_write(rows_writer *w, pgsql_vtype t, const char *p, size_t n, qg_buf *scratch)
{
    qg_buf_reset(scratch);
    switch (t.kind) {
    case PGSQL_V_INT:
    case PGSQL_V_NUMERIC:
        rows_number_text(w, p, n);
        return;
    case PGSQL_V_FLOAT: {
        double d;
        if (read_double(p, n, &d)) {
            rows_real(w, d);
            return;
        }
        break;
    }
    case PGSQL_V_BOOL:
        if (n == 1 && (p[0] == 't' || p[0] == 'f')) {
            rows_bool(w, p[0] == 't');
            return;
        }
        break;
    case PGSQL_V_JSON:
        if (qg_utf8_valid(p, n)) {
            rows_json(w, p, n);
            return;
        }
        break;
    case PGSQL_V_DATETIME:
        if (w->format == QG_FORMAT_TRINO)
            trino_datetime(scratch, p, n); /* Trino's text forms, not ISO 8601's */
        else
            pgsql_datetime_iso(scratch, p, n);
        rows_text(w, scratch->data ? scratch->data : "", scratch->len);
        return;
    case PGSQL_V_BYTEA:
        if (pgsql_bytea_decode(scratch, p, n) == 0) {
            rows_blob(w, scratch->data ? scratch->data : "", scratch->len);
            return;
        }
        break;
    case PGSQL_V_ARRAY:
        if (pgsql_array_json(scratch, p, n, ',', element, &t.elem) == 0) {
            rows_json(w, scratch->data, scratch->len);
            return;
        }
        break;
    case PGSQL_V_TEXT:
        break;
    }
    rows_text(w, p, n);
}
