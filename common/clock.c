/* common/clock.h */
#include "common/clock.h"

#include <time.h>

static struct timespec mono(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        ts.tv_sec = 0; /* cannot fail on Linux for this clock; a zero keeps durations sane */
        ts.tv_nsec = 0;
    }
    return ts;
}

double ms_clock_s(void)
{
    struct timespec ts = mono();
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t ms_clock_ms(void)
{
    struct timespec ts = mono();
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
