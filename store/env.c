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

#include "core/mem.h"

static const char K_FORMAT[] = "format";
static const char K_NEXT[] = "next_job";

int
store__error(qg_error *err, int rc, const char *what)
{
    char msg[400];
    if (rc == MDB_MAP_FULL) {
        snprintf(msg, sizeof(msg), "%.300s: the map (--store-size) is full", what);
        return qg_error_set(err, QG_E_STORE_FULL, msg);
    }
    snprintf(msg, sizeof(msg), "%.300s: %s", what, mdb_strerror(rc));
    return qg_error_set(err, QG_E_STORE, msg);
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
        store__error(err, rc, "read");
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

uint64_t
store__reserve(const store_env *e)
{
    uint64_t r = e->map_size / 8;
    if (r < 128 * 1024)
        r = 128 * 1024;
    if (r > 64ull * 1024 * 1024)
        r = 64ull * 1024 * 1024;
    return r;
}

uint64_t
store__cost(const store_env *e, size_t len)
{
    return ((uint64_t)len + 64 + e->psize - 1) / e->psize * e->psize + e->psize;
}

uint64_t
store__room(store_env *e)
{
    MDB_envinfo info;
    mdb_env_info(e->env, &info);
    uint64_t total = e->map_size / e->psize;
    uint64_t used = (uint64_t)info.me_last_pgno + 1;
    uint64_t unused = used < total ? total - used : 0;
    /* Plenty of never-used pages: no need to look at the free list. */
    if (unused * e->psize > 2 * store__reserve(e) + 64ull * 1024 * 1024)
        return unused * e->psize;
    uint64_t free_pages = 0;
    MDB_cursor *c;
    if (mdb_txn_renew(e->room_rtxn) != 0)
        return unused * e->psize;
    if (mdb_cursor_open(e->room_rtxn, 0, &c) == 0) {
        MDB_val k, v;
        int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
        while (rc == 0) {
            /* a free-list record is an ID list: its first word counts the rest */
            if (v.mv_size >= sizeof(size_t)) {
                size_t n;
                memcpy(&n, v.mv_data, sizeof(n));
                free_pages += n;
            }
            rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
        }
        mdb_cursor_close(c);
    }
    mdb_txn_reset(e->room_rtxn);
    return (unused + free_pages) * e->psize;
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

/* Opens the DBIs, checks or writes the format version, reads the counter. */
static int
open_dbis(store_env *e, qg_error *err)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(e->env, NULL, 0, &txn);
    if (rc != 0)
        return store__error(err, rc, "open");
    struct {
        const char *name;
        MDB_dbi *dbi;
    } dbis[] = {
        {"meta", &e->meta},           {"jobs", &e->jobs},     {"pages", &e->pages},
        {"expiry", &e->expiry},       {"active", &e->active}, {"stmts", &e->stmts},
        {"callbacks", &e->callbacks}, {"idem", &e->idem},     {"idem_exp", &e->idem_exp},
    };
    for (size_t i = 0; i < sizeof(dbis) / sizeof(dbis[0]); i++) {
        rc = mdb_dbi_open(txn, dbis[i].name, MDB_CREATE, dbis[i].dbi);
        if (rc != 0) {
            mdb_txn_abort(txn);
            return store__error(err, rc, "open database");
        }
    }

    MDB_val k = {sizeof(K_FORMAT) - 1, (void *)K_FORMAT}, v;
    rc = mdb_get(txn, e->meta, &k, &v);
    char msg[700];
    if (rc == MDB_NOTFOUND) {
        MDB_stat st;
        mdb_stat(txn, e->jobs, &st);
        if (st.ms_entries > 0) {
            mdb_txn_abort(txn);
            snprintf(msg, sizeof(msg),
                     "job store %s has jobs but no format version: it was not written by "
                     "qgate; move it away to start with an empty store",
                     e->dir);
            return qg_error_set(err, QG_E_STORE, msg);
        }
        unsigned char ver[4];
        store__put_be32(ver, STORE_FORMAT_VERSION);
        v.mv_size = 4;
        v.mv_data = ver;
        rc = mdb_put(txn, e->meta, &k, &v, 0);
        if (rc != 0) {
            mdb_txn_abort(txn);
            return store__error(err, rc, "write format version");
        }
    } else if (rc != 0) {
        mdb_txn_abort(txn);
        return store__error(err, rc, "read format version");
    } else {
        uint32_t ver = v.mv_size == 4 ? store__get_be32(v.mv_data) : 0;
        if (ver != STORE_FORMAT_VERSION) {
            mdb_txn_abort(txn);
            snprintf(msg, sizeof(msg),
                     "job store %s has on-disk format version %u, this qgate reads version %u; "
                     "run a qgate that matches it, or move the directory away to start empty",
                     e->dir, (unsigned)ver, (unsigned)STORE_FORMAT_VERSION);
            return qg_error_set(err, QG_E_STORE, msg);
        }
    }

    MDB_val nk = {sizeof(K_NEXT) - 1, (void *)K_NEXT};
    rc = mdb_get(txn, e->meta, &nk, &v);
    e->next_id = 1;
    if (rc == 0 && v.mv_size == 8)
        e->next_id = store__get_be64(v.mv_data);
    rc = mdb_txn_commit(txn);
    if (rc != 0)
        return store__error(err, rc, "open");
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
    store_env *e = qg_calloc(1, sizeof(*e));
    e->dir = qg_strdup(dir);
    e->lock_fd = lfd;
    int rc = mdb_env_create(&e->env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs(e->env, 16);
    if (rc == 0)
        rc = mdb_env_set_mapsize(e->env, (size_t)map_size);
    if (rc == 0)
        rc = mdb_env_open(e->env, dir, MDB_NOTLS, 0640);
    if (rc != 0) {
        snprintf(msg, sizeof(msg), "cannot open job store %s", dir);
        store__error(err, rc, msg);
        if (e->env)
            mdb_env_close(e->env);
        close(e->lock_fd);
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

    if (open_dbis(e, err) != 0 || (rc = mdb_txn_begin(e->env, NULL, MDB_RDONLY, &e->rtxn)) != 0 ||
        (rc = mdb_txn_begin(e->env, NULL, MDB_RDONLY, &e->room_rtxn)) != 0) {
        if (rc != 0)
            store__error(err, rc, "read");
        if (e->rtxn)
            mdb_txn_abort(e->rtxn);
        mdb_env_close(e->env);
        close(e->lock_fd);
        free(e->dir);
        free(e);
        return -1;
    }
    mdb_txn_reset(e->rtxn);
    mdb_txn_reset(e->room_rtxn);
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

uint64_t
store_env_next_id(const store_env *e)
{
    return e->next_id;
}
