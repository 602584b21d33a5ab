/*
 * uuid: random request ids (see uuid.h).
 *
 * One getrandom(2) per 32 ids: each thread keeps its own pool of kernel
 * randomness, so ids cost no lock and almost no syscalls. getrandom() with
 * no flags blocks only until the kernel pool is first seeded and never
 * fails on a working kernel, so a failure is treated like out-of-memory:
 * fatal, rather than handing out ids that may repeat.
 *
 * A child of fork() inherits the pool and would repeat its parent's next
 * ids; qgate does not fork after it starts serving, which is why the pool
 * carries no pid check (getpid() is a syscall on every call since glibc
 * 2.25).
 */
#include "core/uuid.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/log.h"

#define POOL_BYTES 512

static _Thread_local struct {
    unsigned char bytes[POOL_BYTES];
    size_t left; /* unused bytes, at the end of bytes */
} pool;

static void
refill(void)
{
    size_t got = 0;
    while (got < POOL_BYTES) {
        ssize_t r = getrandom(pool.bytes + got, POOL_BYTES - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            qg_err("getrandom: %s", strerror(errno));
            abort();
        }
        got += (size_t)r;
    }
    pool.left = POOL_BYTES;
}

void
qg_uuid_v4(char out[QG_UUID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char r[16];

    if (pool.left < sizeof(r))
        refill();
    memcpy(r, pool.bytes + POOL_BYTES - pool.left, sizeof(r));
    pool.left -= sizeof(r);

    r[6] = (unsigned char)((r[6] & 0x0F) | 0x40); /* version 4 */
    r[8] = (unsigned char)((r[8] & 0x3F) | 0x80); /* variant 10xx */

    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = hex[r[i] >> 4];
        *o++ = hex[r[i] & 15];
    }
    *o = '\0';
}
