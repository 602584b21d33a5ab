/*
 * micro: CPU costs of qgate's hot inner functions, each beside a reference
 * that does comparable work the plain way (bench/micro.py runs it).
 *
 *   micro doubles      ns per double: qg_fmt_double (shortest digits) and
 *                      snprintf("%.17g"), over 1M values x / 3.0 and
 *                      x * 0.1 (x = 1 .. 1M)
 *   micro pgrows       ns per row: 1M rows of PostgreSQL text values (int,
 *                      numeric, float8, timestamptz, text) rendered by
 *                      exec/pgsql_value + exec/rows into 64 KiB chunks
 *   micro split        ms to split a 4 MiB SQLite text: CREATE TRIGGER ...
 *                      BEGIN, 100,000 statements, END (exec/sqlite_split),
 *                      and the same text through sqlite3_complete once
 *
 * Each prints one line of JSON: the measure's median over `runs` runs
 * (argument 2, default 5) of CPU time (CLOCK_PROCESS_CPUTIME_ID), which a
 * busy machine disturbs much less than wall time.
 */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/query.h"
#include "exec/pgsql_value.h"
#include "exec/rows.h"
#include "exec/sqlite_split.h"

#define N 1000000

static double
cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double
median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Keeps results alive so the compiler cannot drop the work. */
static volatile size_t sink_total;

/* --- doubles ------------------------------------------------------------------ */

static double
time_doubles(const double *v, int use_printf)
{
    char out[40];
    size_t total = 0;
    double t0 = cpu_now();
    for (int i = 0; i < N; i++)
        total += use_printf ? (size_t)snprintf(out, sizeof(out), "%.17g", v[i])
                            : qg_fmt_double(v[i], out);
    double t = cpu_now() - t0;
    sink_total += total;
    return t * 1e9 / N;
}

static void
bench_doubles(int runs)
{
    double *v = malloc(sizeof(double) * 2 * N);
    for (int i = 0; i < N; i++) {
        v[2 * i] = (i + 1) / 3.0;
        v[2 * i + 1] = (i + 1) * 0.1;
    }
    double *ours = malloc(sizeof(double) * (size_t)runs);
    double *ref = malloc(sizeof(double) * (size_t)runs);
    qg_fmt_double(1.5, (char[40]){0}); /* the table is built on first use */
    for (int r = 0; r < runs; r++) {
        /* both halves: N values of each kind, 2N in all */
        ours[r] = (time_doubles(v, 0) + time_doubles(v + N, 0)) / 2;
        ref[r] = (time_doubles(v, 1) + time_doubles(v + N, 1)) / 2;
    }
    printf("{\"ns_per_double\":%.1f,\"printf_17g_ns\":%.1f}\n", median(ours, runs),
           median(ref, runs));
    free(v);
    free(ours);
    free(ref);
}

/* --- PostgreSQL rows ---------------------------------------------------------------- */

static int
discard_flush(rows_sink *s, rows_writer *w, qg_error *err)
{
    (void)s;
    (void)err;
    sink_total += w->out.len;
    qg_buf_reset(&w->out);
    return 0;
}

/* The texts the server sends for the mixed benchmark's columns, for ROWS
 * distinct rows (made once; the timed loop cycles through them). */
#define ROWS 65536

typedef struct pg_text {
    char id[12], amount[16], ratio[32], at[32], name[16];
    unsigned char len[5];
} pg_text;

static pg_text *
pg_texts(void)
{
    pg_text *t = malloc(sizeof(pg_text) * ROWS);
    for (int k = 0; k < ROWS; k++) {
        int i = 1 + k * 15; /* spread over 1 .. 1M */
        pg_text *r = &t[k];
        r->len[0] = (unsigned char)snprintf(r->id, sizeof(r->id), "%d", i);
        r->len[1] =
            (unsigned char)snprintf(r->amount, sizeof(r->amount), "%d.%02d", i / 100, i % 100);
        r->len[2] = (unsigned char)snprintf(r->ratio, sizeof(r->ratio), "%.17g", i / 3.0);
        r->len[3] = (unsigned char)snprintf(r->at, sizeof(r->at), "2024-01-%02d %02d:%02d:%02d+00",
                                            1 + i / 86400 % 28, i / 3600 % 24, i / 60 % 60, i % 60);
        r->len[4] = i % 10 == 0 ? 0 : (unsigned char)snprintf(r->name, sizeof(r->name), "row%d", i);
    }
    return t;
}

static void
bench_pgrows(int runs)
{
    pg_text *texts = pg_texts();
    static const char *const names[] = {"id", "amount", "ratio", "at", "name"};
    static const size_t lens[] = {2, 6, 5, 2, 4};
    pgsql_vtype types[5] = {pgsql_vtype_of(23), pgsql_vtype_of(1700), pgsql_vtype_of(701),
                            pgsql_vtype_of(1184), pgsql_vtype_of(25)};
    double *ns = malloc(sizeof(double) * (size_t)runs);
    for (int r = 0; r < runs; r++) {
        rows_sink sink = {.flush = discard_flush};
        qg_query q;
        qg_query_init(&q);
        rows_writer w;
        rows_init(&w, &sink, &q, 64 * 1024, true);
        qg_buf scratch = QG_BUF_INIT;
        qg_error err = {0};
        rows_set_begin(&w, 5, names, lens, &err);
        double t0 = cpu_now();
        for (int i = 0; i < N; i++) {
            const pg_text *t = &texts[i % ROWS];
            const char *v[5] = {t->id, t->amount, t->ratio, t->at, t->name};
            rows_row_begin(&w);
            for (int c = 0; c < 5; c++) {
                if (t->len[c] == 0)
                    rows_null(&w);
                else
                    pgsql_value_write(&w, types[c], v[c], t->len[c], &scratch);
            }
            rows_row_end(&w, &err);
        }
        rows_set_end(&w, &err);
        rows_flush(&w, &err);
        ns[r] = (cpu_now() - t0) * 1e9 / N;
        rows_free(&w);
        qg_buf_free(&scratch);
        qg_query_free(&q);
    }
    printf("{\"ns_per_row\":%.1f}\n", median(ns, runs));
    free(texts);
    free(ns);
}

/* --- SQLite split ------------------------------------------------------------------ */

static void
bench_split(int runs)
{
    /* 4 MiB: a trigger whose body holds 100,000 statements (each with a
     * quoted ';' too), a comment that fills it up, then one more statement */
    const size_t size = 4 * 1024 * 1024;
    qg_buf sql = QG_BUF_INIT;
    qg_buf_addlit(&sql, "CREATE TRIGGER t AFTER INSERT ON x BEGIN\n");
    for (int i = 0; i < 100000; i++)
        qg_buf_printf(&sql, "UPDATE c SET n=n+1 WHERE k='k;%05d';\n", i);
    const char *tail = "\nEND;\nSELECT 1;";
    qg_buf_addlit(&sql, "/*");
    while (sql.len < size - 2 - strlen(tail))
        qg_buf_addc(&sql, '*');
    qg_buf_addlit(&sql, "*/");
    qg_buf_adds(&sql, tail);
    double *ours = malloc(sizeof(double) * (size_t)runs);
    double *ref = malloc(sizeof(double) * (size_t)runs);
    size_t first = 0;
    for (int r = 0; r < runs; r++) {
        sqlite_span sp;
        double t0 = cpu_now();
        sqlite_split(sql.data, sql.len, &sp);
        ours[r] = (cpu_now() - t0) * 1e3;
        first = sp.used;
        t0 = cpu_now();
        sink_total += (size_t)sqlite3_complete(sql.data);
        ref[r] = (cpu_now() - t0) * 1e3;
    }
    if (first == 0 || first >= sql.len) {
        fprintf(stderr, "micro split: the trigger was not split off (%zu of %zu)\n", first,
                sql.len);
        exit(1);
    }
    printf("{\"split_ms\":%.2f,\"complete_ms\":%.2f,\"bytes\":%zu}\n", median(ours, runs),
           median(ref, runs), sql.len);
    qg_buf_free(&sql);
    free(ours);
    free(ref);
}

int
main(int argc, char **argv)
{
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    if (runs < 1)
        runs = 1;
    if (argc > 1 && strcmp(argv[1], "doubles") == 0)
        bench_doubles(runs);
    else if (argc > 1 && strcmp(argv[1], "pgrows") == 0)
        bench_pgrows(runs);
    else if (argc > 1 && strcmp(argv[1], "split") == 0)
        bench_split(runs);
    else {
        fprintf(stderr, "usage: micro doubles|pgrows|split [runs]\n");
        return 2;
    }
    return 0;
}
