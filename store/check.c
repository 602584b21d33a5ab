/*
 * check: the store's file looked over at open, before anything trusts it.
 *
 * LMDB maps data.mdb and believes what it finds. A file cut short (a copy
 * that stopped, a full disk during a restore) raises SIGBUS at the first
 * touch of a page past its end; zeroed or changed pages read back as
 * valid data or fail later, one request at a time. So at open:
 *   - before LMDB sees the file, its two meta pages are read with pread:
 *     a file that holds neither valid one is refused;
 *   - then every tree is walked (the free list and the ten databases):
 *     every branch and leaf page is touched, every value must lie inside
 *     the file, keys have their database's shape, and the sealed values
 *     of jobs, statements and idempotency keys are checked. Result pages
 *     are checked for bounds only (their text is checked when read). The
 *     walk runs with a SIGBUS handler: a page past the end of the file
 *     ends it with an error instead of killing the process (open runs on
 *     the main thread, before any other thread exists).
 * Either finding refuses the store with one line that says what is wrong
 * and what to do.
 */
#include "store/internal.h"

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "store/owners.h"
#include "store/record.h"
#include "store/results.h"

/* LMDB 0.9's meta page (mdb.c): a 16-byte page header, then magic,
 * version, address, map size, two 48-byte database records (the first
 * one's md_pad is the page size), the last page, the transaction id (at
 * 144). */
#define META_MAGIC   0xBEEFC0DEu
#define META_VERSION 1u
#define OFF_MAGIC    16
#define OFF_VERSION  20
#define OFF_PSIZE    40
#define OFF_TXNID    144
#define META_LEN     152

typedef struct meta_page {
    bool ok;
    uint32_t psize;
    uint64_t txnid;
} meta_page;

static meta_page
read_meta(int fd, off_t off)
{
    unsigned char b[META_LEN];
    meta_page m = {0};
    if (pread(fd, b, sizeof(b), off) != (ssize_t)sizeof(b))
        return m;
    uint32_t magic, ver, psize;
    memcpy(&magic, b + OFF_MAGIC, 4);
    memcpy(&ver, b + OFF_VERSION, 4);
    memcpy(&psize, b + OFF_PSIZE, 4);
    memcpy(&m.txnid, b + OFF_TXNID, 8);
    m.psize = psize;
    m.ok = magic == META_MAGIC && ver == META_VERSION && psize >= 512 && psize <= 65536 &&
           (psize & (psize - 1)) == 0;
    return m;
}

int
store__check_file(const char *dir, qg_error *err)
{
    char path[4200], msg[900];
    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0; /* LMDB creates it, or says why it cannot */
    struct stat st;
    int rc = fstat(fd, &st);
    if (rc != 0 || st.st_size == 0) {
        close(fd);
        if (rc == 0)
            qg_warn("job store %s: data.mdb is empty: a new store begins (handles of the old "
                    "one answer 404)",
                    dir);
        return 0;
    }
    meta_page m0 = read_meta(fd, 0);
    meta_page m1 = m0.ok ? read_meta(fd, m0.psize) : (meta_page){0};
    /* the second meta page alone, at the usual page sizes */
    for (uint32_t ps = 4096; !m0.ok && !m1.ok && ps <= 65536; ps *= 2)
        m1 = read_meta(fd, ps);
    close(fd);
    if (!m0.ok && !m1.ok) {
        snprintf(msg, sizeof(msg),
                 "job store %.400s/data.mdb is damaged: neither of its two meta pages is valid "
                 "(%lld bytes); restore it from a backup, or move the directory away to start "
                 "empty",
                 dir, (long long)st.st_size);
        return qg_error_set(err, QG_E_STORE, msg);
    }
    meta_page m = !m1.ok || (m0.ok && m0.txnid > m1.txnid) ? m0 : m1;
    if ((uint64_t)st.st_size < 2ull * m.psize) {
        snprintf(msg, sizeof(msg),
                 "job store %.400s/data.mdb is cut short: %lld bytes, less than its two meta "
                 "pages; restore it from a backup, or move the directory away to start empty",
                 dir, (long long)st.st_size);
        return qg_error_set(err, QG_E_STORE, msg);
    }
    return 0;
}

/* --- the walk --------------------------------------------------------------- */

static sigjmp_buf bus_jmp;
static volatile sig_atomic_t bus_armed;
/* LMDB's own text when one of its assertions stopped the walk */
static char assert_msg[200];

static void
on_bus(int sig)
{
    if (bus_armed)
        siglongjmp(bus_jmp, 1);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* LMDB checks some of a page's structure with assertions that abort the
 * process (a zeroed branch page: "IS_LEAF(mp)" in mdb_cursor_next). During
 * the walk, such a store is refused like any other damage: the walk is
 * left through the same jump as a SIGBUS (its read transaction is only
 * aborted, and the daemon does not start). Later, with the daemon
 * serving, LMDB aborts after this returns: the log then says why. */
static void
on_assert(MDB_env *env, const char *msg)
{
    if (bus_armed) {
        snprintf(assert_msg, sizeof(assert_msg), "%s", msg);
        siglongjmp(bus_jmp, 2);
    }
    qg_log_flush();
    qg_err("job store: LMDB found a damaged page (%s); qgate stops: restore the store from a "
           "backup, or move it away to start empty",
           msg);
    qg_log_flush();
}

typedef struct walk {
    store_env *e;
    MDB_txn *txn;
    const char *base, *end; /* the map, and the end of the file in it */
    uint64_t next_pgno;
    uint64_t entries, jobs, pages;
    MDB_cursor *cursor; /* open now (closed after a SIGBUS too) */
    char what[200];     /* the first problem found */
} walk;

static int
problem(walk *w, const char *fmt, const char *db)
{
    if (!w->what[0])
        snprintf(w->what, sizeof(w->what), fmt, db);
    return -1;
}

/* Whether the value lies inside the file. */
static bool
inside(const walk *w, const MDB_val *v)
{
    if (!w->base || v->mv_size == 0)
        return true;
    const char *p = v->mv_data;
    return p >= w->base && p <= w->end && v->mv_size <= (size_t)(w->end - p);
}

enum kind {
    K_FREE,
    K_META,
    K_JOBS,
    K_PAGES,
    K_EXPIRY,
    K_ACTIVE,
    K_STMTS,
    K_CALLBACKS,
    K_IDEM,
    K_IDEM_EXP,
    K_OWNERS
};

static const struct {
    const char *name;
    size_t key_len; /* 0: any */
} dbs[] = {
    [K_FREE] = {"the free list", sizeof(size_t)},
    [K_META] = {"meta", 0},
    [K_JOBS] = {"jobs", STORE_JOB_KEY_LEN},
    [K_PAGES] = {"pages", STORE_PAGE_KEY_LEN},
    [K_EXPIRY] = {"expiry", STORE_EXPIRY_KEY_LEN},
    [K_ACTIVE] = {"active", STORE_JOB_KEY_LEN},
    [K_STMTS] = {"stmts", STORE_STMT_KEY_LEN},
    [K_CALLBACKS] = {"callbacks", STORE_JOB_KEY_LEN},
    [K_IDEM] = {"idem", STORE_IDEM_KEY_LEN},
    [K_IDEM_EXP] = {"idem_exp", STORE_IDEM_EXP_KEY_LEN},
    [K_OWNERS] = {"owners", STORE_OWNERS_KEY_LEN},
};

/* The free list's record: a transaction id, then a list of page numbers
 * inside the file. */
static int
check_free(walk *w, const MDB_val *v)
{
    size_t n = 0, max = v->mv_size / sizeof(size_t);
    if (max == 0)
        return problem(w, "%s has a malformed record", dbs[K_FREE].name);
    memcpy(&n, v->mv_data, sizeof(n));
    if (n > max - 1)
        return problem(w, "%s has a malformed record", dbs[K_FREE].name);
    for (size_t i = 1; i <= n; i++) {
        size_t pg;
        memcpy(&pg, (const char *)v->mv_data + i * sizeof(size_t), sizeof(pg));
        if (pg < 2 || pg >= w->next_pgno)
            return problem(w, "%s names a page outside the file", dbs[K_FREE].name);
    }
    return 0;
}

/* One entry of the database of kind k. */
static int
check_entry(walk *w, enum kind kd, MDB_val *k, MDB_val *v)
{
    store_env *e = w->e;
    const char *db = dbs[kd].name;
    if (!inside(w, k) || !inside(w, v))
        return problem(w, "a value of %s lies past the end of the file (cut short?)", db);
    if (dbs[kd].key_len && k->mv_size != dbs[kd].key_len)
        return problem(w, "%s has a key of the wrong size", db);
    if (kd == K_FREE)
        return check_free(w, v);
    if (kd == K_JOBS || kd == K_STMTS) {
        uint64_t job = store__get_be64(k->mv_data);
        if (store__unseal(e, k, v, job, kd == K_JOBS ? "the record" : "a statement record"))
            return problem(w, "%s has a value that does not match its checksum", db);
        if (kd == K_JOBS) {
            store_job j;
            store_job_init(&j);
            size_t qoff;
            int rc = store_record_decode(v->mv_data, v->mv_size, &j, &qoff);
            store_job_free(&j);
            if (rc != 0)
                return problem(w, "%s has a record that does not decode", db);
            w->jobs++;
        }
    } else if (kd == K_IDEM) {
        bool legacy = e->legacy_below && v->mv_size == STORE_IDEM_VAL_LEN &&
                      store__get_be64(v->mv_data) < e->legacy_below;
        if (!legacy && store__unseal(e, k, v, UINT64_MAX, "an idempotency key") != 0)
            return problem(w, "%s has a value that does not match its checksum", db);
    } else if (kd == K_PAGES) {
        uint64_t job = store__get_be64(k->mv_data);
        bool legacy = e->legacy_below && job < e->legacy_below;
        if (v->mv_size < STORE_PAGE_HEADER_LEN + (legacy ? 0 : STORE_SEAL_LEN))
            return problem(w, "%s has a page shorter than its header", db);
        w->pages++;
    }
    return 0;
}

/* Which jobs have format-2 values: all of a format-2 store's, those below
 * legacy_below of an upgraded one. */
static void
legacy_of(walk *w, MDB_dbi meta)
{
    MDB_val k = {6, "format"}, v;
    if (mdb_get(w->txn, meta, &k, &v) != 0 || v.mv_size != 4)
        return;
    uint32_t ver = store__get_be32(v.mv_data);
    k = ver == 2 ? (MDB_val){8, "next_job"} : (MDB_val){12, "legacy_below"};
    if (mdb_get(w->txn, meta, &k, &v) == 0 && v.mv_size == 8)
        w->e->legacy_below = store__get_be64(v.mv_data);
}

static int
walk_db(walk *w, enum kind kd)
{
    MDB_dbi dbi = 0;
    if (kd != K_FREE) {
        int rc = mdb_dbi_open(w->txn, dbs[kd].name, 0, &dbi);
        if (rc == MDB_NOTFOUND)
            return 0; /* a new store */
        if (rc != 0)
            return rc;
    }
    MDB_cursor *c;
    int rc = mdb_cursor_open(w->txn, dbi, &c);
    if (rc != 0)
        return rc;
    w->cursor = c;
    MDB_val k, v;
    rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
    while (rc == 0) {
        w->entries++;
        if (check_entry(w, kd, &k, &v) != 0)
            break;
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    w->cursor = NULL;
    mdb_cursor_close(c);
    if (w->what[0])
        return -1;
    if (kd == K_META && (rc == 0 || rc == MDB_NOTFOUND))
        legacy_of(w, dbi);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Walks every tree; returns 0, -1 with w->what, or an LMDB code. */
static int
walk_all(walk *w)
{
    for (size_t i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
        int rc = walk_db(w, (enum kind)i);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int
store__check_trees(store_env *e, qg_error *err)
{
    uint64_t t0 = qg_now_ns();
    walk w = {.e = e};
    MDB_envinfo info;
    mdb_env_info(e->env, &info);
    w.next_pgno = (uint64_t)info.me_last_pgno + 1;
    struct stat st;
    if (e->map_addr && fstat(e->fd, &st) == 0) {
        w.base = e->map_addr;
        w.end = e->map_addr + st.st_size;
    }
    int rc = mdb_txn_begin(e->env, NULL, MDB_RDONLY, &w.txn);
    if (rc != 0)
        return store__error(e, err, rc, "check the store");

    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_bus;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &old);
    mdb_env_set_assert(e->env, on_assert);
    int jumped = sigsetjmp(bus_jmp, 1);
    if (jumped == 0) {
        bus_armed = 1;
        rc = walk_all(&w);
    } else {
        /* a page past the end, or one LMDB's assertions refused: LMDB's
         * state is lost, the store is refused (a read-only cursor is only
         * memory to give back) */
        if (w.cursor)
            mdb_cursor_close(w.cursor);
        rc = -1;
        if (jumped == 1)
            snprintf(w.what, sizeof(w.what), "a page it uses lies past the end of the file");
        else
            snprintf(w.what, sizeof(w.what), "a page's structure is broken (LMDB: %.150s)",
                     assert_msg);
    }
    bus_armed = 0;
    sigaction(SIGBUS, &old, NULL);
    mdb_txn_abort(w.txn);

    char msg[900];
    if (rc != 0) {
        if (rc == -1)
            snprintf(msg, sizeof(msg),
                     "job store %.400s/data.mdb is damaged: %s; restore it from a backup, or "
                     "move the directory away to start empty",
                     e->dir, w.what);
        else
            snprintf(msg, sizeof(msg),
                     "job store %.400s/data.mdb is damaged: %s; restore it from a backup, or "
                     "move the directory away to start empty",
                     e->dir, mdb_strerror(rc));
        return qg_error_set(err, QG_E_STORE, msg);
    }
    qg_info("job store: checked %llu entries (%llu jobs, %llu result pages) in %.1f ms",
            (unsigned long long)w.entries, (unsigned long long)w.jobs, (unsigned long long)w.pages,
            (double)(qg_now_ns() - t0) / 1e6);
    return 0;
}
