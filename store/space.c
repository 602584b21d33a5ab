/*
 * space: how much the job store can still take, in its map and on its
 * disk, and what a write that failed for lack of it is called.
 *
 * LMDB allocates from two places: pages of the free list, and pages past
 * the last one in use (up to the map's end). Three things make the free
 * list smaller than it looks, and each made a store say "full" with room
 * freed:
 *   - pages freed by a transaction are reusable only by a transaction that
 *     starts two commits later (the last commit's snapshot must stay
 *     readable), and only once no reader that began before the free is
 *     still open (mdb_find_oldest in mdb.c);
 *   - a result page is one value of ~64 KiB: an overflow run of about 17
 *     contiguous pages, which scattered free pages cannot hold (this one
 *     is left to LMDB: its MDB_MAP_FULL puts the page off, as below);
 *   - never-used pages need disk blocks (the file grows), free-list pages
 *     do not.
 * store__space_get counts each, so the writer can tell "full" from "full
 * until the next commit" (it then commits and tries again: store/writer.c).
 * The disk's free space caps the never-used pages; the writer keeps disk
 * blocks allocated ahead of the file's end (store__space_prealloc), so the
 * end states it has promised to jobs have somewhere to go when something
 * else fills the disk.
 */
#include "store/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "store/results.h"
#include "store/writer.h"

uint64_t
store__reserve(const store_env *e)
{
    /* an eighth of what the store can hold: the map, or the disk when
     * that is smaller */
    uint64_t cap = e->map_size;
    if (e->disk_size && e->disk_size < cap)
        cap = e->disk_size;
    uint64_t r = cap / 8;
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

/* Bytes the disk holding the store can still give to the file: its free
 * space, plus the blocks allocated ahead of the file's end. */
static uint64_t
disk_room(store_env *e, uint64_t used_end)
{
    struct statvfs vs;
    if (fstatvfs(e->fd, &vs) != 0)
        return UINT64_MAX;
    uint64_t avail = (uint64_t)vs.f_bavail * vs.f_frsize;
    if (e->prealloc_end > used_end)
        avail += e->prealloc_end - used_end;
    return avail;
}

typedef struct oldest_ctx {
    uint64_t oldest;
} oldest_ctx;

/* mdb_reader_list's lines: "pid thread txnid", txnid "-" when idle. */
static int
reader_line(const char *msg, void *arg)
{
    oldest_ctx *o = arg;
    int pid;
    size_t tid, txnid;
    if (sscanf(msg, "%d %zx %zu", &pid, &tid, &txnid) == 3 && txnid < o->oldest)
        o->oldest = txnid;
    return 0;
}

void
store__space_get(store_env *e, uint64_t enough, store__space *sp)
{
    memset(sp, 0, sizeof(*sp));
    MDB_envinfo info;
    mdb_env_info(e->env, &info);
    uint64_t maxpg = e->map_size / e->psize;
    uint64_t next = (uint64_t)info.me_last_pgno + 1;
    /* LMDB refuses a page at maxpg - 1 too (pgno + num >= maxpg) */
    uint64_t never = next + 1 < maxpg ? maxpg - next - 1 : 0;
    uint64_t disk = disk_room(e, next * e->psize) / e->psize;
    if (disk < never) {
        never = disk;
        sp->disk = true;
    }
    sp->small = never * e->psize;
    if (sp->small >= enough)
        return;

    /* What the next write transaction may take from the free list:
     * records freed by transactions older than the oldest snapshot still
     * needed, which is the last commit's, or an older reader's. */
    oldest_ctx o = {info.me_last_txnid};
    mdb_reader_list(e->env, reader_line, &o);
    if (mdb_txn_renew(e->room_rtxn) != 0)
        return;
    uint64_t free_pages = 0;
    MDB_cursor *c;
    if (mdb_cursor_open(e->room_rtxn, 0, &c) == 0) {
        MDB_val k, v;
        int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
        while (rc == 0) {
            size_t txnid = 0, cnt = 0, max = v.mv_size / sizeof(size_t);
            if (k.mv_size == sizeof(size_t))
                memcpy(&txnid, k.mv_data, sizeof(txnid));
            /* a free-list record is an ID list: its first word counts the rest */
            if (max > 0)
                memcpy(&cnt, v.mv_data, sizeof(cnt));
            if (max == 0 || cnt > max - 1)
                cnt = max ? max - 1 : 0;
            if (txnid >= o.oldest) {
                sp->pending += cnt * e->psize;
            } else {
                free_pages += cnt;
            }
            rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
        }
        mdb_cursor_close(c);
    }
    mdb_txn_reset(e->room_rtxn);
    sp->small += free_pages * e->psize;
}

void
store__space_probe(store_env *e)
{
    struct statvfs vs;
    if (fstatvfs(e->fd, &vs) == 0)
        e->disk_size = (uint64_t)vs.f_blocks * vs.f_frsize;
}

void
store__space_prealloc(store_env *e)
{
    MDB_envinfo info;
    mdb_env_info(e->env, &info);
    uint64_t used_end = ((uint64_t)info.me_last_pgno + 1) * e->psize;
    uint64_t want = used_end + store__reserve(e);
    if (want > e->map_size)
        want = e->map_size;
    if (e->prealloc_end >= want)
        return;
    uint64_t from = e->prealloc_end > used_end ? e->prealloc_end : used_end;
    /* blocks past the end, the file's size unchanged: LMDB's writes of new
     * pages land in them and need no more disk */
    if (fallocate(e->fd, FALLOC_FL_KEEP_SIZE, (off_t)from, (off_t)(want - from)) == 0)
        e->prealloc_end = want;
}

bool
store__disk_full(store_env *e)
{
    struct statvfs vs;
    if (fstatvfs(e->fd, &vs) != 0)
        return false;
    /* the writer leaves the reserve free on the disk, and a transaction
     * writes at most a few MiB: a write that failed with less than that
     * free failed for lack of room */
    return (uint64_t)vs.f_bavail * vs.f_frsize < store__reserve(e) + 2 * STORE_TXN_BYTES;
}

uint64_t
store__promise(size_t nstmts)
{
    return STORE__PROMISE_JOB + STORE__PROMISE_STMT * (uint64_t)(nstmts ? nstmts : 1);
}

uint64_t
store__promised(store_env *e)
{
    MDB_txn *txn;
    if (mdb_txn_begin(e->env, NULL, MDB_RDONLY, &txn) != 0)
        return 0;
    uint64_t sum = 0;
    MDB_cursor *c, *sc;
    if (mdb_cursor_open(txn, e->active, &c) == 0) {
        if (mdb_cursor_open(txn, e->stmts, &sc) == 0) {
            MDB_val k, v;
            int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
            while (rc == 0) {
                size_t n = 0;
                if (k.mv_size == STORE_JOB_KEY_LEN) {
                    unsigned char kb[STORE_STMT_KEY_LEN];
                    memcpy(kb, k.mv_data, STORE_JOB_KEY_LEN);
                    store__put_be32(kb + 8, 0);
                    MDB_val sk = {STORE_STMT_KEY_LEN, kb}, sv;
                    int r = mdb_cursor_get(sc, &sk, &sv, MDB_SET_RANGE);
                    while (r == 0 && sk.mv_size == STORE_STMT_KEY_LEN &&
                           memcmp(sk.mv_data, k.mv_data, STORE_JOB_KEY_LEN) == 0) {
                        n++;
                        r = mdb_cursor_get(sc, &sk, &sv, MDB_NEXT);
                    }
                }
                sum += store__promise(n);
                rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
            }
            mdb_cursor_close(sc);
        }
        mdb_cursor_close(c);
    }
    mdb_txn_abort(txn);
    return sum;
}

uint64_t
store__map_needed(store_env *e)
{
    MDB_envinfo info;
    mdb_env_info(e->env, &info);
    return ((uint64_t)info.me_last_pgno + 1) * e->psize + store__reserve(e) + store__promised(e);
}
