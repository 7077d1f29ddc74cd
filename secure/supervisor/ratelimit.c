/* Token bucket for fresh evidence: refill by elapsed time, take one per STRICT handshake. */
#include "secure/supervisor/ratelimit.h"

#include <string.h>

#include "common/check.h"

#define MILLI 1000u

ms_err ms_rate_init(ms_rate *r, uint64_t per_s, uint64_t burst, uint64_t now_ms)
{
    memset(r, 0, sizeof *r);
    ENSURE(per_s >= 1 && per_s <= MS_RATE_MAX && burst >= 1 && burst <= MS_RATE_MAX, MS_ERR_ARG);
    ENSURE(pthread_mutex_init(&r->lock, NULL) == 0, MS_ERR_NOMEM);
    r->per_s = per_s;
    r->burst = burst;
    r->milli = burst * MILLI;
    r->last_ms = now_ms;
    return MS_OK;
}

void ms_rate_destroy(ms_rate *r)
{
    pthread_mutex_destroy(&r->lock);
    memset(r, 0, sizeof *r);
}

/* Lock held. per_s tokens a second is per_s thousandths a millisecond. */
static void refill(ms_rate *r, uint64_t now_ms)
{
    uint64_t cap = r->burst * MILLI;
    if (now_ms <= r->last_ms) {
        return; /* a clock that did not move (or a caller's older reading) adds nothing */
    }
    uint64_t dt = now_ms - r->last_ms;
    r->last_ms = now_ms;
    /* Past a full refill the exact time no longer matters; this also bounds dt * per_s. */
    uint64_t full = (cap - r->milli + r->per_s - 1) / r->per_s;
    r->milli = dt >= full ? cap : r->milli + dt * r->per_s;
}

int ms_rate_take(ms_rate *r, uint64_t now_ms, unsigned *retry_after_s)
{
    *retry_after_s = 0;
    pthread_mutex_lock(&r->lock);
    refill(r, now_ms);
    int ok = r->milli >= MILLI;
    if (ok) {
        r->milli -= MILLI;
    } else {
        uint64_t wait_ms = (MILLI - r->milli + r->per_s - 1) / r->per_s;
        *retry_after_s = (unsigned)((wait_ms + 999) / 1000);
        *retry_after_s += *retry_after_s == 0;
    }
    pthread_mutex_unlock(&r->lock);
    return ok;
}
