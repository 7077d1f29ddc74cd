/*
 * The supervisor's memory upkeep. Every connection has a thread of its own (libmicrohttpd's
 * thread-per-connection mode), and glibc gives threads their own malloc arenas, up to eight
 * per core; a session allocated in one arena and freed later keeps that arena's pages
 * resident, so without bounds RSS creeps up under a varied load (docs/supervisor.md,
 * "Memory over a long run"). Here: fewer arenas, fixed mapping and trim thresholds (large
 * buffers reused from turn to turn), and free pages handed back periodically.
 * Built with -DMS_SUP_NO_TRIM it does neither and only logs (to measure without them).
 */
#include "apps/minions-supervisor/memory.h"

#include <time.h>

#include "common/limits.h"
#include "common/log.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

void sup_memory_init(void)
{
#if defined(__GLIBC__) && !defined(MS_SUP_NO_TRIM)
    if (mallopt(M_ARENA_MAX, (int)MS_SUP_ARENA_MAX) != 1) {
        ms_log(MS_LOG_WARN, "memory", "could not bound malloc's arenas");
    }
    /* Issue 15's large replies: glibc maps a buffer of 128 KiB and more afresh (then raises
       that threshold as it frees them) and hands an arena's free top back past twice it, so
       a 1 MiB turn faulted in and zeroed about 390 pages. Fixed thresholds keep them: every
       ms_buf is wiped before it is freed, so what stays holds no plaintext. */
    if (mallopt(M_MMAP_THRESHOLD, (int)MS_SUP_MMAP_THRESHOLD) != 1 ||
        mallopt(M_TRIM_THRESHOLD, (int)MS_SUP_TRIM_THRESHOLD) != 1) {
        ms_log(MS_LOG_WARN, "memory", "could not set malloc's thresholds");
    }
#endif
}

void sup_memory_tick(void)
{
#ifdef __GLIBC__
    static time_t last;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (last != 0 && now.tv_sec - last < (time_t)MS_SUP_TRIM_EVERY_S) {
        return;
    }
    last = now.tv_sec;
    if (ms_log_enabled(MS_LOG_DEBUG)) {
        struct mallinfo2 m = mallinfo2();
        ms_log(MS_LOG_DEBUG, "memory",
               "malloc: %zu KiB in use, %zu KiB free, in %zu KiB of heap; %zu KiB mapped",
               m.uordblks / 1024, m.fordblks / 1024, m.arena / 1024, m.hblkhd / 1024);
    }
#ifndef MS_SUP_NO_TRIM
    malloc_trim(0); /* after a burst: free pages back to the system, in every arena */
#endif
#endif
}
