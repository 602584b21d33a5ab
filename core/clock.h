/* clock: the two clocks qgate reads. Any thread. */
#ifndef QG_CLOCK_H
#define QG_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Monotonic nanoseconds: durations, deadlines, metrics. */
static inline uint64_t
qg_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Wall-clock nanoseconds since the epoch: timestamps that outlive the
 * process (job records, expiry), log lines. */
static inline uint64_t
qg_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
