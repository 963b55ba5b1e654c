/*
 * The two clocks the daemon reads: monotonic seconds for timers, lifetimes and ages, and wall
 * time for what records and files carry. Header-only: any thread, any module.
 */
#ifndef IXD_CORE_CLOCK_H
#define IXD_CORE_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline double
ixd_mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* UNIX microseconds. */
static inline int64_t
ixd_wall_usec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* UNIX seconds, from the coarse clock: export times and file names need no more. */
static inline uint32_t
ixd_wall_sec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    return (uint32_t)ts.tv_sec;
}

#endif
