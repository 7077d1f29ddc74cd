/* The monotonic clock, for durations and deadlines (never for dates). */
#ifndef MS_COMMON_CLOCK_H
#define MS_COMMON_CLOCK_H

#include <stdint.h>

/* Seconds / milliseconds of CLOCK_MONOTONIC: only differences mean anything. */
double ms_clock_s(void);
uint64_t ms_clock_ms(void);

#endif
