/* llm-sim clocks and pacing: monotonic time, and sleeps that end early when the server stops. */
#ifndef MS_TOOLS_LLMSIM_PACE_H
#define MS_TOOLS_LLMSIM_PACE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* Nanoseconds on CLOCK_MONOTONIC. */
uint64_t llmsim_now_ns(void);
/* Seconds since the epoch (CLOCK_REALTIME). */
int64_t llmsim_unix_now(void);
/*
 * Sleep ns nanoseconds in short slices, checking *stop between them. Returns false if
 * *stop became true (the sleep was cut short), true otherwise. Thread-safe.
 */
bool llmsim_sleep_ns(uint64_t ns, const atomic_bool *stop);
/* Nanoseconds that n tokens take at tps tokens per second; 0 when tps is 0 (unlimited). */
uint64_t llmsim_tokens_ns(uint64_t n, double tps);

#endif
