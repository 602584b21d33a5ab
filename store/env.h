/*
 * env: the job store's LMDB environment.
 *
 * One environment in a directory (DATA/store), opened once at start-up with
 * every database (DBI) it has, its map size from --store-size, stale reader
 * slots of dead processes cleared, and its on-disk format version checked.
 * The layout (docs/design.md, "Job store"):
 *
 *   meta    "format" -> be32 STORE_FORMAT_VERSION; "next_job" -> be64 next job number;
 *           "legacy_below" -> be64 (jobs below: format-2 values); "nudge" (writer)
 *   jobs    be64(job) -> job record (store/record.h)
 *   pages   be64(job) be32(set) be32(page) -> rendered result text (~64 KiB)
 *   expiry  be64(expires_at) be64(job) -> "" (finished jobs, swept in order)
 *   active  be64(job) -> "" (queued and running jobs, read at recovery)
 *   stmts   be64(job) be32(index) -> statement record (store/record.h)
 *   callbacks be64(job) -> "" (ended jobs whose callback delivery is pending)
 *   idem    sha256(principal, key) -> be64 job, be64 expires_at, sha256 fingerprint
 *   idem_exp be64(expires_at) sha256(principal, key) -> "" (keys, swept in order)
 *   owners  sha256(principal) be64(job) -> "" (each principal's jobs: store/owners.h)
 *
 * Keys are big-endian so LMDB's memcmp order is numeric order. No DBI uses
 * DUPSORT (old cursor-delete bugs in 0.9.24). Job, statement, idempotency
 * and page values are sealed with a CRC32C (store/internal.h). Job numbers
 * start, at each open, at no less than the wall clock in microseconds plus
 * a second, so a store that replaces another never reuses its numbers.
 *
 * Threads: open and close on the main thread, before and after the others.
 * Writes happen on the store writer thread (store/writer.h) and, before it
 * starts, in recovery; the loop thread reads through one read transaction it
 * resets between uses (store/jobs.h, store/results.h).
 */
#ifndef QG_STORE_ENV_H
#define QG_STORE_ENV_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

/* Bump when the layout or the record encoding changes incompatibly; a store
 * of another version is refused at open, but for versions 2 and 3, which
 * are upgraded in place (version 2's values are read without seals until
 * its jobs expire; version 3's jobs get their owners entries). */
#define STORE_FORMAT_VERSION 4

/* Smallest --store-size accepted. */
#define STORE_MIN_MAP_SIZE (256u * 1024)

typedef struct store_env store_env;

/* Opens (creating when absent) the store in directory dir with a map of
 * map_size bytes (more when what the store holds needs it, logged), and
 * holds an exclusive lock on dir/qgate.lock until closed. The file is
 * checked first (store/check.c). Errors (err, QG_E_STORE, one line for the
 * operator): the directory or LMDB cannot be opened, another process holds
 * the store, a map below STORE_MIN_MAP_SIZE, a store written in a format
 * this binary does not read, a damaged or cut-short file. Main thread,
 * before any other thread runs. */
int store_env_open(const char *dir, uint64_t map_size, store_env **out, qg_error *err);
/* Closes the environment. No transaction may be open (stop the writer
 * first). Main thread. */
void store_env_close(store_env *e);
/* How many reader slots of dead processes mdb_reader_check cleared at open.
 * Usually 0 after a crash: the first process to open an environment alone
 * resets its reader table; stale slots survive while another process (a
 * backup, mdb_stat) keeps the environment open. */
int store_env_stale_readers(const store_env *e);
/* Runs mdb_reader_check now; returns how many stale slots it cleared (-1 on
 * an error). Any thread. */
int store_env_reader_check(store_env *e);
/* The map size in effect (at least --store-size; more when the file was
 * already larger). */
uint64_t store_env_map_size(const store_env *e);

/* Makes the loop's reads until the matching store_env_snapshot_end one
 * read transaction: they see one state of the store, and pay for one
 * transaction. Keep the span short (no waiting inside it): it holds the
 * pages it sees from reuse. Pairs nest. Returns 0, or -1 with err. Loop
 * thread. */
int store_env_snapshot_begin(store_env *e, qg_error *err);
void store_env_snapshot_end(store_env *e);
/* The map's size and how much of it the file uses (its high-water mark:
 * freed pages inside it are reused, so this only grows). Any thread. */
void store_env_usage(store_env *e, uint64_t *map_bytes, uint64_t *used_bytes);
/* Whether LMDB has reported the store's file damaged (a page that does
 * not read back as one, a read error) since it was opened: it cannot serve
 * reliably; /health says so. Any thread. */
bool store_env_damaged(store_env *e);
/* The next job number the store will hand out. Any thread before the writer
 * runs; the writer's own afterwards. */
uint64_t store_env_next_id(const store_env *e);

#endif
