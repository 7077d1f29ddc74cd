/* llm-sim clocks and interruptible sleeps. */
#include "tools/llm-sim/pace.h"

#include <time.h>

#define SLICE_NS 20000000ull /* 20 ms: how late a stop request may be noticed */
#define NS_PER_S 1000000000ull

uint64_t llmsim_now_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return 0;
    }
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

int64_t llmsim_unix_now(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
        return 0;
    }
    return (int64_t)ts.tv_sec;
}

bool llmsim_sleep_ns(uint64_t ns, const atomic_bool *stop)
{
    uint64_t end = llmsim_now_ns() + ns;
    for (;;) {
        if (atomic_load(stop)) {
            return false;
        }
        uint64_t now = llmsim_now_ns();
        if (now >= end) {
            return true;
        }
        uint64_t step = end - now < SLICE_NS ? end - now : SLICE_NS;
        struct timespec ts = {.tv_sec = (time_t)(step / NS_PER_S),
                              .tv_nsec = (long)(step % NS_PER_S)};
        (void)nanosleep(&ts, NULL); /* EINTR: the loop recomputes what is left */
    }
}

uint64_t llmsim_tokens_ns(uint64_t n, double tps)
{
    if (tps <= 0.0 || n == 0) {
        return 0;
    }
    double ns = (double)n * 1e9 / tps;
    return ns >= 1.8e19 ? UINT64_MAX / 2 : (uint64_t)ns;
}
