/*
 * internal: what the files of store/ share and nobody else sees: the
 * environment's insides, key encoding, LMDB error translation, and the room
 * estimate behind the map-full reserve.
 *
 * LMDB types and codes stop here: every function outside store/ speaks
 * qg_error (core/err.h).
 */
#ifndef QG_STORE_INTERNAL_H
#define QG_STORE_INTERNAL_H

#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/crc32c.h"
#include "core/err.h"
#include "store/env.h"

struct store_env {
    MDB_env *env;
    MDB_dbi meta, jobs, pages, expiry, active;
    MDB_dbi stmts;      /* be64 job, be32 index -> statement record */
    MDB_dbi callbacks;  /* be64 job -> "": ended jobs whose callback is pending */
    MDB_dbi idem;       /* sha256(principal, key) -> be64 job, be64 expires, fingerprint */
    MDB_dbi idem_exp;   /* be64 expires, sha256 -> "": the idempotency keys by expiry */
    MDB_dbi owners;     /* sha256(principal), be64 job -> "": each principal's jobs */
    MDB_txn *rtxn;      /* the loop's read transaction, reset between uses */
    int rdepth;         /* loop: store__read_begin calls not yet ended */
    MDB_txn *room_rtxn; /* the writer's, for the free list (store__space_get) */
    uint64_t map_size;
    uint64_t psize;
    int fd;                         /* data.mdb (LMDB's), for the disk's free space */
    uint64_t prealloc_end;          /* writer: disk blocks allocated up to here (store/space.c) */
    uint64_t disk_size;             /* the size of the file system holding the store */
    atomic_bool damaged;            /* LMDB reported the file damaged: /health says so */
    atomic_uint_fast64_t bad_seals; /* values whose seal did not match */
    uint64_t legacy_below; /* jobs below this number have format-2 values (no seals); 0: none */
    /* Result sets being read now (store_results_pin): the loop adds and
     * removes, the writer looks before it deletes pages. */
    pthread_mutex_t pin_mu;
    struct store__pin *pins;
    size_t npins, cap_pins;
    /* Where the map lies (from /proc/self/maps: LMDB tells only a fixed
     * map's address), for forget() in results.c; NULL: not found. */
    const char *map_addr, *map_end;
    uint64_t next_id; /* next job number; the writer's after start-up */
    int stale_readers;
    int lock_fd; /* flock'ed: one qgate per store */
    char *dir;
};

/* --- keys ---------------------------------------------------------------- */

#define STORE_JOB_KEY_LEN      8
#define STORE_PAGE_KEY_LEN     16
#define STORE_EXPIRY_KEY_LEN   16
#define STORE_STMT_KEY_LEN     12
#define STORE_IDEM_KEY_LEN     32
#define STORE_IDEM_EXP_KEY_LEN 40
#define STORE_IDEM_VAL_LEN     48

static inline void
store__put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static inline void
store__put_be64(unsigned char *p, uint64_t v)
{
    store__put_be32(p, (uint32_t)(v >> 32));
    store__put_be32(p + 4, (uint32_t)v);
}

static inline uint32_t
store__get_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t
store__get_be64(const unsigned char *p)
{
    return (uint64_t)store__get_be32(p) << 32 | store__get_be32(p + 4);
}

static inline void
store__page_key(unsigned char k[STORE_PAGE_KEY_LEN], uint64_t job, uint32_t set, uint32_t page)
{
    store__put_be64(k, job);
    store__put_be32(k + 8, set);
    store__put_be32(k + 12, page);
}

static inline void
store__expiry_key(unsigned char k[STORE_EXPIRY_KEY_LEN], uint64_t expires, uint64_t job)
{
    store__put_be64(k, expires);
    store__put_be64(k + 8, job);
}

static inline void
store__stmt_key(unsigned char k[STORE_STMT_KEY_LEN], uint64_t job, uint32_t index)
{
    store__put_be64(k, job);
    store__put_be32(k + 8, index);
}

/* --- seals --------------------------------------------------------------------
 * Every job record, statement record, idempotency entry and result page is
 * sealed: its value ends with be32 crc32c(key, value before the seal),
 * checked whenever it is read. LMDB has no checksums of its own: a zeroed
 * or changed page reads back as valid data. Values of jobs numbered below
 * the store's legacy_below were written by format 2, without seals. */

#define STORE_SEAL_LEN 4
/* What the store's functions return for a value whose seal does not match
 * (outside LMDB's codes and errno values); store__error names it. */
#define STORE__BAD_SEAL (-29990)

static inline uint32_t
store__seal_crc(const void *key, size_t klen, const void *v, size_t n)
{
    return qg_crc32c(qg_crc32c(0, key, klen), v, n);
}

/* Appends the seal of b's bytes under key to b. */
static inline void
store__seal(qg_buf *b, const void *key, size_t klen)
{
    unsigned char s[STORE_SEAL_LEN];
    store__put_be32(s, store__seal_crc(key, klen, b->data, b->len));
    qg_buf_add(b, (const char *)s, sizeof(s));
}

/* Checks the seal of v, the value of key k of job (for the legacy rule),
 * and takes it off v. Returns 0, or STORE__BAD_SEAL (counted, logged with
 * what it was). Any thread. */
int store__unseal(store_env *e, const MDB_val *k, MDB_val *v, uint64_t job, const char *what);

/* --- errors and space ------------------------------------------------------ */

/* Translates LMDB's rc (or an errno) into err, with what failed and a hint
 * at the fix: MDB_MAP_FULL, and a write that failed on a full disk
 * (ENOSPC, or the short write LMDB reports as EIO), are QG_E_STORE_FULL;
 * a damaged file (MDB_CORRUPTED, MDB_PAGE_NOTFOUND, MDB_PANIC, ...) is
 * QG_E_STORE and marks e damaged (e may be NULL while opening); anything
 * else QG_E_STORE with LMDB's text. Returns -1. Any thread. */
int store__error(store_env *e, qg_error *err, int rc, const char *what);

/* store/check.c. Before LMDB opens dir/data.mdb: refuses (err) a file
 * whose meta pages are missing or invalid. */
int store__check_file(const char *dir, qg_error *err);
/* After it opened, before anything else reads it: walks every tree and
 * refuses (err) a damaged store. Main thread, no other thread running. */
int store__check_trees(store_env *e, qg_error *err);

/* Grows the map to map_size bytes. No transaction may be open anywhere in
 * the process. Returns 0 or LMDB's code. Main thread, at start-up. */
int store__resize(store_env *e, uint64_t map_size);

/* The loop's read transaction, renewed (begin) and reset (end). Loop thread
 * (or a test's only thread). NULL with err when LMDB refuses. */
MDB_txn *store__read_begin(store_env *e, qg_error *err);
void store__read_end(store_env *e);

/* What the next write transaction can allocate (store/space.c has why
 * these differ): */
typedef struct store__space {
    uint64_t small;   /* bytes, in pages of any kind */
    uint64_t pending; /* freed bytes it cannot take yet: freed by the last
                       * commit, or seen by a reader still open */
    bool disk;        /* the disk's free space, not the map, is the limit */
} store__space;
/* Fills sp. Cheap (one mdb_env_info and one fstatvfs) while never-used
 * pages are at least enough bytes; else it walks the free list too. Writer
 * thread (or the thread doing recovery), between its write transactions. */
void store__space_get(store_env *e, uint64_t enough, store__space *sp);
/* Reads the size of the file system holding the store (it bounds the
 * reserve when smaller than the map). At open. */
void store__space_probe(store_env *e);
/* Keeps disk blocks allocated for the reserve past the file's last page,
 * so that promised end states can be written when something else fills
 * the disk. Writer thread, after a commit (and at open). */
void store__space_prealloc(store_env *e);
/* Whether the disk holding the store has too little room for a write of
 * the writer (less than the reserve and two transactions): a write that
 * failed with EIO then failed for lack of room. */
bool store__disk_full(store_env *e);
/* Room promised to a queued or running job of nstmts statements for its
 * end state: its record with an error, its statements' records with
 * theirs, the index entries, and the copy-on-write of the pages that hold
 * them. New jobs and result pages are refused before they would take it. */
#define STORE__PROMISE_JOB  4096u
#define STORE__PROMISE_STMT 1536u
uint64_t store__promise(size_t nstmts);
/* The room promised to the jobs the store holds as queued or running.
 * Any thread (a read transaction of its own). */
uint64_t store__promised(store_env *e);
/* The map a store needs to serve what it holds: its pages, the reserve
 * and what is promised. Main thread, at open. */
uint64_t store__map_needed(store_env *e);
/* Room kept back for updates and deletes: result pages are refused below
 * it, new jobs below half of it, so a full store can always finish, fail and
 * delete jobs (LMDB needs free pages to delete anything). An eighth of the
 * map, or of the disk when that is smaller, within [128 KiB, 64 MiB]. */
uint64_t store__reserve(const store_env *e);
/* Map bytes a value of len bytes takes, about (overflow pages + one). */
uint64_t store__cost(const store_env *e, size_t len);

/* --- transaction-level operations (store/jobs.c, results.c, gc.c) ------------
 * Each runs inside a write transaction txn the caller owns (the writer
 * thread, or recovery before it starts). They return 0, MDB_NOTFOUND when
 * the job (or page) is not there, or another LMDB code after which the
 * transaction must be aborted. */

struct store_job;
struct qg_query;

/* Decodes job id's header into j (init'ed or freed by the caller). A
 * record that does not decode counts as absent (and is logged). raw, if
 * not NULL, gets the stored bytes (valid until the next write in txn) and
 * query_off where their query part starts. */
int store__job_get(store_env *e, MDB_txn *txn, uint64_t id, struct store_job *j, MDB_val *raw,
                   size_t *query_off);
/* Stores a new job: j->id gets the next job number (the counter is
 * written in the same transaction, so a number is never handed out twice). */
int store__job_create(store_env *e, MDB_txn *txn, struct store_job *j, const struct qg_query *q);
/* Replaces job j->id's header with j's, keeping its query part, and keeps
 * the active, expiry and callbacks indexes in step. drop_pages: also
 * delete the result pages of every set the job no longer has (sets
 * j->nsets and above: all of them for a job without sets). ended (may be
 * NULL): set when this ends the job (it was queued or running). */
int store__job_update(store_env *e, MDB_txn *txn, const struct store_job *j, bool drop_pages,
                      bool *ended);
/* Deletes the job's record, its statements and index entries (not its
 * pages). */
int store__job_delete(store_env *e, MDB_txn *txn, uint64_t id);

struct store_stmt;
/* Replaces job's statement records with v[0..n). */
int store__stmts_put(store_env *e, MDB_txn *txn, uint64_t job, const struct store_stmt *v,
                     size_t n);
/* Sets every statement of job still in state from to state to (stopping
 * the clock of those that had started). */
int store__stmts_fill(store_env *e, MDB_txn *txn, uint64_t job, int from, int to, uint64_t now_ns);
/* Deletes job's statement records. */
int store__stmts_drop(store_env *e, MDB_txn *txn, uint64_t job);

/* Stores page (job, set, page): the page header (first_row, nrows; see
 * results.h) and data[0..len) after it, written in place (MDB_RESERVE). */
int store__page_put(store_env *e, MDB_txn *txn, uint64_t job, uint32_t set, uint32_t page,
                    uint64_t first_row, uint32_t nrows, const void *data, size_t len);
/* Deletes up to budget pages of job (of one set, or of all sets from
 * from_set on when set is STORE_ALL_SETS); *more tells whether some are
 * left. */
#define STORE_ALL_SETS UINT32_MAX
int store__pages_drop(store_env *e, MDB_txn *txn, uint64_t job, uint32_t set, uint32_t from_set,
                      size_t budget, bool *more, size_t *dropped);

/* Whether a read of job's set (any set: STORE_ALL_SETS) is streaming
 * now: its pages must stay. Any thread. */
bool store__pinned(store_env *e, uint64_t job, uint32_t set);

/* store/gc.c: the read-taking and deleting ops (see gc.h and writer.h). */
struct store_op;
int store__gc_consume(store_env *e, MDB_txn *txn, struct store_op *op);
int store__gc_discard(store_env *e, MDB_txn *txn, struct store_op *op);
int store__gc_release(store_env *e, MDB_txn *txn, struct store_op *op);
int store__gc_sweep(store_env *e, MDB_txn *txn, struct store_op *op);

/* store/owners.c: the owners index (owners.h). The entry of job j (by
 * its id and principal), put when it is created, deleted with it. */
int store__owner_put(store_env *e, MDB_txn *txn, const struct store_job *j);
int store__owner_del(store_env *e, MDB_txn *txn, const struct store_job *j);
/* A store of format 3 (or a format-2 store just upgraded to 3) gets an
 * owners entry for each of its jobs and format 4, in one write
 * transaction (the map grows when it does not fit); a store of format 4
 * is left alone. Returns 0, or -1 with err. Main thread, at open. */
int store__owners_upgrade(store_env *e, qg_error *err);

/* store/idem.c: the idempotency index. */
/* Looks key up: 0 with *job, *expires and fp (32 bytes) when there is an
 * entry (expired or not), MDB_NOTFOUND, or an LMDB error. */
int store__idem_get(store_env *e, MDB_txn *txn, const unsigned char key[32], uint64_t *job,
                    uint64_t *expires, unsigned char fp[32]);
/* Points key at job until expires (replacing an entry that was there, and
 * its expiry index entry). */
int store__idem_put(store_env *e, MDB_txn *txn, const unsigned char key[32], uint64_t job,
                    uint64_t expires, const unsigned char fp[32]);
/* Deletes up to budget keys that expired by now; *more when some are left;
 * *n how many went. */
int store__idem_sweep(store_env *e, MDB_txn *txn, uint64_t now, size_t budget, bool *more,
                      size_t *n);

#endif
