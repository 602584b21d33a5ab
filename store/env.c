/*
 * env: opening the job store's LMDB environment (see env.h), and the
 * helpers every store file shares (internal.h).
 *
 * Durability: the environment is opened without MDB_NOSYNC and without
 * MDB_NOMETASYNC, so every commit is on disk (fsync) before mdb_txn_commit
 * returns, and a submission is acknowledged only after its commit.
 * MDB_NOTLS: read transactions are not tied to a thread, so the loop can
 * keep one and reset/renew it.
 */
#include "store/internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"

static const char K_FORMAT[] = "format";
static const char K_NEXT[] = "next_job";
static const char K_LEGACY[] = "legacy_below";

int
store__error(store_env *e, qg_error *err, int rc, const char *what)
{
    /* every part bounded, so that the longest case fits whole */
    char msg[QG_ERRMSG_MAX];
    const char *dir = e ? e->dir : "the store directory";
    if (rc == MDB_MAP_FULL) {
        snprintf(msg, sizeof(msg),
                 "%.200s: the map (--store-size) is full; raise --store-size, or lower result-ttl "
                 "so that results leave sooner",
                 what);
        return qg_error_set(err, QG_E_STORE_FULL, msg);
    }
    /* a write past the file's end on a full disk comes back from LMDB as
     * a short write, EIO */
    if (rc == ENOSPC || rc == EDQUOT || (rc == EIO && e && store__disk_full(e))) {
        snprintf(msg, sizeof(msg), "%.200s: the disk holding %.400s is full; free space on it", what,
                 dir);
        return qg_error_set(err, QG_E_STORE_FULL, msg);
    }
    if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_PANIC || rc == MDB_INVALID ||
        rc == MDB_VERSION_MISMATCH || rc == EIO || rc == STORE__BAD_SEAL) {
        if (e)
            atomic_store(&e->damaged, true);
        snprintf(msg, sizeof(msg),
                 "%.200s: the job store in %.400s is damaged (%.100s); stop qgate and restore it from a "
                 "backup, or move it away to start empty",
                 what, dir,
                 rc == STORE__BAD_SEAL ? "stored bytes do not match their checksum"
                                       : mdb_strerror(rc));
        return qg_error_set(err, QG_E_STORE, msg);
    }
    snprintf(msg, sizeof(msg), "%.200s: %.100s", what, mdb_strerror(rc));
    return qg_error_set(err, QG_E_STORE, msg);
}

int
store__unseal(store_env *e, const MDB_val *k, MDB_val *v, uint64_t job, const char *what)
{
    if (e->legacy_below && job < e->legacy_below)
        return 0;
    if (v->mv_size >= STORE_SEAL_LEN) {
        size_t n = v->mv_size - STORE_SEAL_LEN;
        const unsigned char *p = v->mv_data;
        if (store__get_be32(p + n) == store__seal_crc(k->mv_data, k->mv_size, p, n)) {
            v->mv_size = n;
            return 0;
        }
    }
    atomic_fetch_add(&e->bad_seals, 1);
    qg_err("store: %s of job %llu does not match its checksum: the file %s/data.mdb was "
           "damaged on disk",
           what, (unsigned long long)job, e->dir);
    return STORE__BAD_SEAL;
}

MDB_txn *
store__read_begin(store_env *e, qg_error *err)
{
    if (e->rdepth > 0) {
        e->rdepth++;
        return e->rtxn;
    }
    int rc = mdb_txn_renew(e->rtxn);
    if (rc != 0) {
        store__error(e, err, rc, "read");
        return NULL;
    }
    e->rdepth = 1;
    return e->rtxn;
}

void
store__read_end(store_env *e)
{
    if (--e->rdepth == 0)
        mdb_txn_reset(e->rtxn);
}

int
store_env_snapshot_begin(store_env *e, qg_error *err)
{
    return store__read_begin(e, err) ? 0 : -1;
}

void
store_env_snapshot_end(store_env *e)
{
    store__read_end(e);
}

static int
mkdir_one(const char *dir, qg_error *err)
{
    if (mkdir(dir, 0750) == 0 || errno == EEXIST)
        return 0;
    char msg[600];
    snprintf(msg, sizeof(msg), "cannot create %s: %s", dir, strerror(errno));
    return qg_error_set(err, QG_E_STORE, msg);
}

static int
put_u64(store_env *e, MDB_txn *txn, const char *key, uint64_t val)
{
    unsigned char b[8];
    store__put_be64(b, val);
    MDB_val k = {strlen(key), (void *)key}, v = {8, b};
    return mdb_put(txn, e->meta, &k, &v, 0);
}

static uint64_t
get_u64(store_env *e, MDB_txn *txn, const char *key, uint64_t dflt)
{
    MDB_val k = {strlen(key), (void *)key}, v;
    if (mdb_get(txn, e->meta, &k, &v) == 0 && v.mv_size == 8)
        return store__get_be64(v.mv_data);
    return dflt;
}

/* Checks the format version, or writes it into a new store; a format-2
 * store is upgraded in place: its values stay as they are, and the jobs
 * numbered from now on are written in format 3 (legacy_below). A store of
 * format 3 (a format-2 one too, after that) becomes 4 once its jobs are
 * indexed by principal (store__owners_upgrade, after this). */
static int
check_format(store_env *e, MDB_txn *txn, qg_error *err)
{
    char msg[800];
    MDB_val k = {sizeof(K_FORMAT) - 1, (void *)K_FORMAT}, v;
    int rc = mdb_get(txn, e->meta, &k, &v);
    uint32_t ver = 0;
    if (rc == MDB_NOTFOUND) {
        MDB_stat st;
        mdb_stat(txn, e->jobs, &st);
        if (st.ms_entries > 0) {
            snprintf(msg, sizeof(msg),
                     "job store %s has jobs but no format version: it was not written by "
                     "qgate; move it away to start with an empty store",
                     e->dir);
            return qg_error_set(err, QG_E_STORE, msg);
        }
    } else if (rc != 0) {
        return store__error(e, err, rc, "read format version");
    } else {
        ver = v.mv_size == 4 ? store__get_be32(v.mv_data) : 0;
        if (ver < 2 || ver > STORE_FORMAT_VERSION) {
            snprintf(msg, sizeof(msg),
                     "job store %s has on-disk format version %u, this qgate reads versions 2 "
                     "to %u; run a qgate that matches it, or move the directory away to start "
                     "empty",
                     e->dir, (unsigned)ver, (unsigned)STORE_FORMAT_VERSION);
            return qg_error_set(err, QG_E_STORE, msg);
        }
    }
    e->legacy_below = get_u64(e, txn, K_LEGACY, 0);
    if (ver >= 3)
        return 0;
    if (ver == 2) {
        e->legacy_below = get_u64(e, txn, K_NEXT, 1);
        rc = put_u64(e, txn, K_LEGACY, e->legacy_below);
        if (rc != 0)
            return store__error(e, err, rc, "upgrade the format");
        qg_info("job store %s: upgraded from format 2 to 3; jobs below %llu keep their "
                "format-2 records (without checksums) until they expire",
                e->dir, (unsigned long long)e->legacy_below);
    }
    /* a new store has no jobs to index: it is format 4 at once */
    unsigned char vb[4];
    store__put_be32(vb, ver == 2 ? 3 : STORE_FORMAT_VERSION);
    v.mv_size = 4;
    v.mv_data = vb;
    rc = mdb_put(txn, e->meta, &k, &v, 0);
    return rc != 0 ? store__error(e, err, rc, "write format version") : 0;
}

/* Job numbers never name two jobs, also across stores: each start moves
 * the counter to at least the wall clock in microseconds, plus a second.
 * A store that replaces another one here (an emptied or restored
 * data.mdb, a new directory) starts above every number the other one
 * handed out, as long as the clock did not go back and no store hands
 * out more than a million numbers a second (docs/design.md, "Job
 * numbers"). */
static int
number_floor(store_env *e, MDB_txn *txn, qg_error *err)
{
    uint64_t floor = qg_wall_ns() / 1000 + 1000000;
    e->next_id = get_u64(e, txn, K_NEXT, 1);
    if (e->next_id < floor)
        e->next_id = floor;
    int rc = put_u64(e, txn, K_NEXT, e->next_id);
    return rc != 0 ? store__error(e, err, rc, "write the job counter") : 0;
}

/* Opens the DBIs, checks or writes the format version, sets the counter. */
static int
open_dbis(store_env *e, qg_error *err)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(e->env, NULL, 0, &txn);
    if (rc != 0)
        return store__error(e, err, rc, "open");
    struct {
        const char *name;
        MDB_dbi *dbi;
    } dbis[] = {
        {"meta", &e->meta},           {"jobs", &e->jobs},     {"pages", &e->pages},
        {"expiry", &e->expiry},       {"active", &e->active}, {"stmts", &e->stmts},
        {"callbacks", &e->callbacks}, {"idem", &e->idem},     {"idem_exp", &e->idem_exp},
        {"owners", &e->owners},
    };
    for (size_t i = 0; i < sizeof(dbis) / sizeof(dbis[0]); i++) {
        rc = mdb_dbi_open(txn, dbis[i].name, MDB_CREATE, dbis[i].dbi);
        if (rc != 0) {
            mdb_txn_abort(txn);
            return store__error(e, err, rc, "open database");
        }
    }

    rc = check_format(e, txn, err);
    if (rc == 0)
        rc = number_floor(e, txn, err);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return -1;
    }
    rc = mdb_txn_commit(txn);
    if (rc != 0)
        return store__error(e, err, rc, "open");
    return 0;
}

/* open_dbis, on a map grown by the reserve when it is too full even for
 * that: qgate always starts on its own store (one filled by an older
 * qgate, or opened with a smaller --store-size than it holds). */
static int
open_dbis_grow(store_env *e, qg_error *err)
{
    if (open_dbis(e, err) != 0) {
        if (err->code != QG_E_STORE_FULL)
            return -1;
        uint64_t more = e->map_size + store__reserve(e);
        qg_warn("job store: the map is full at start; it grows to %llu bytes for this start "
                "(raise --store-size to keep it)",
                (unsigned long long)more);
        if (store__resize(e, more) != 0 || open_dbis(e, err) != 0)
            return -1;
    }
    /* what it holds, the reserve, and the end states it owes its jobs */
    uint64_t need = store__map_needed(e);
    if (need > e->map_size) {
        need = (need + (1u << 20) - 1) & ~((uint64_t)(1u << 20) - 1);
        qg_warn("job store: it holds more than --store-size leaves room for (its pages, the "
                "reserve and the end states of its queued and running jobs); the map is %llu "
                "MiB for this start: raise --store-size to at least that",
                (unsigned long long)(need >> 20));
        int rc = store__resize(e, need);
        if (rc != 0)
            return store__error(e, err, rc, "grow the map");
    }
    return 0;
}

/* Finds the address range of the map of dir/data.mdb in /proc/self/maps. */
static void
find_map(store_env *e, const char *dir)
{
    char path[PATH_MAX], real[PATH_MAX], line[PATH_MAX + 128];
    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    if (!realpath(path, real))
        return;
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return;
    size_t rl = strlen(real);
    while (fgets(line, sizeof(line), f)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == ' '))
            line[--n] = '\0';
        unsigned long lo, hi;
        if (n > rl && strcmp(line + n - rl, real) == 0 && line[n - rl - 1] == ' ' &&
            sscanf(line, "%lx-%lx", &lo, &hi) == 2) {
            e->map_addr = (const char *)lo;
            e->map_end = (const char *)hi;
            break;
        }
    }
    fclose(f);
}

int
store__resize(store_env *e, uint64_t map_size)
{
    int rc = mdb_env_set_mapsize(e->env, (size_t)map_size);
    if (rc != 0)
        return rc;
    MDB_envinfo info;
    mdb_env_info(e->env, &info);
    e->map_size = info.me_mapsize;
    /* the map moved */
    e->map_addr = e->map_end = NULL;
    find_map(e, e->dir);
    return 0;
}

int
store_env_open(const char *dir, uint64_t map_size, store_env **out, qg_error *err)
{
    char msg[600];
    if (map_size < STORE_MIN_MAP_SIZE) {
        snprintf(msg, sizeof(msg), "--store-size must be at least %u bytes",
                 (unsigned)STORE_MIN_MAP_SIZE);
        return qg_error_set(err, QG_E_STORE, msg);
    }
    if (mkdir_one(dir, err) != 0)
        return -1;
    /* LMDB would let a second daemon share the store, and both would
     * recover and run the same queued jobs: one daemon per store. */
    size_t ln = strlen(dir) + sizeof("/qgate.lock");
    char *lock = qg_malloc(ln);
    snprintf(lock, ln, "%s/qgate.lock", dir);
    int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (lfd < 0 || flock(lfd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        if (lfd >= 0)
            close(lfd);
        if (e == EWOULDBLOCK)
            snprintf(msg, sizeof(msg), "job store %.400s is in use by another qgate process", dir);
        else
            snprintf(msg, sizeof(msg), "cannot lock %.400s: %s", lock, strerror(e));
        free(lock);
        return qg_error_set(err, QG_E_STORE, msg);
    }
    free(lock);
    if (store__check_file(dir, err) != 0) {
        close(lfd);
        return -1;
    }
    store_env *e = qg_calloc(1, sizeof(*e));
    e->dir = qg_strdup(dir);
    e->lock_fd = lfd;
    pthread_mutex_init(&e->pin_mu, NULL);
    int rc = mdb_env_create(&e->env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs(e->env, 16);
    if (rc == 0)
        rc = mdb_env_set_mapsize(e->env, (size_t)map_size);
    if (rc == 0)
        rc = mdb_env_open(e->env, dir, MDB_NOTLS, 0640);
    if (rc != 0) {
        snprintf(msg, sizeof(msg), "cannot open job store %s", dir);
        store__error(e, err, rc, msg);
        if (e->env)
            mdb_env_close(e->env);
        close(e->lock_fd);
        pthread_mutex_destroy(&e->pin_mu);
        free(e->dir);
        free(e);
        return -1;
    }
    /* Slots of readers that died (a crash with a read open) would pin old
     * pages and make the file grow; LMDB only clears them when asked. */
    int dead = 0;
    mdb_reader_check(e->env, &dead);
    e->stale_readers = dead;

    MDB_envinfo info;
    MDB_stat st;
    mdb_env_info(e->env, &info);
    mdb_env_stat(e->env, &st);
    e->map_size = info.me_mapsize;
    find_map(e, dir);
    e->psize = st.ms_psize;
    mdb_filehandle_t fd;
    e->fd = mdb_env_get_fd(e->env, &fd) == 0 ? fd : -1;
    store__space_probe(e);
    atomic_init(&e->damaged, false);

    if (store__check_trees(e, err) != 0 || open_dbis_grow(e, err) != 0 ||
        store__owners_upgrade(e, err) != 0 ||
        (rc = mdb_txn_begin(e->env, NULL, MDB_RDONLY, &e->rtxn)) != 0 ||
        (rc = mdb_txn_begin(e->env, NULL, MDB_RDONLY, &e->room_rtxn)) != 0) {
        if (rc != 0)
            store__error(e, err, rc, "read");
        if (e->rtxn)
            mdb_txn_abort(e->rtxn);
        mdb_env_close(e->env);
        close(e->lock_fd);
        pthread_mutex_destroy(&e->pin_mu);
        free(e->dir);
        free(e);
        return -1;
    }
    mdb_txn_reset(e->rtxn);
    mdb_txn_reset(e->room_rtxn);
    store__space_prealloc(e);
    *out = e;
    return 0;
}

void
store_env_close(store_env *e)
{
    if (!e)
        return;
    mdb_txn_abort(e->rtxn);
    mdb_txn_abort(e->room_rtxn);
    mdb_env_close(e->env);
    close(e->lock_fd);
    pthread_mutex_destroy(&e->pin_mu);
    free(e->pins);
    free(e->dir);
    free(e);
}

int
store_env_reader_check(store_env *e)
{
    int dead = 0;
    if (mdb_reader_check(e->env, &dead) != 0)
        return -1;
    return dead;
}

int
store_env_stale_readers(const store_env *e)
{
    return e->stale_readers;
}

uint64_t
store_env_map_size(const store_env *e)
{
    return e->map_size;
}

void
store_env_usage(store_env *e, uint64_t *map_bytes, uint64_t *used_bytes)
{
    MDB_envinfo info;
    mdb_env_info(e->env, &info);
    *map_bytes = info.me_mapsize;
    *used_bytes = ((uint64_t)info.me_last_pgno + 1) * e->psize;
}

bool
store_env_damaged(store_env *e)
{
    return atomic_load(&e->damaged);
}

uint64_t
store_env_next_id(const store_env *e)
{
    return e->next_id;
}
