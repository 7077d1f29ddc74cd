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

/* per_s tokens a second is per_s thousandths a millisecond. */
static void refill(ms_bucket *b, uint64_t per_s, uint64_t burst, uint64_t now_ms)
{
    uint64_t cap = burst * MILLI;
    if (now_ms <= b->last_ms) {
        return; /* a clock that did not move (or a caller's older reading) adds nothing */
    }
    uint64_t dt = now_ms - b->last_ms;
    b->last_ms = now_ms;
    /* Past a full refill the exact time no longer matters; this also bounds dt * per_s. */
    uint64_t full = (cap - b->milli + per_s - 1) / per_s;
    b->milli = dt >= full ? cap : b->milli + dt * per_s;
}

void ms_bucket_init(ms_bucket *b, uint64_t burst, uint64_t now_ms)
{
    b->milli = burst * MILLI;
    b->last_ms = now_ms;
}

int ms_bucket_take(ms_bucket *b, uint64_t per_s, uint64_t burst, uint64_t now_ms,
                   unsigned *retry_after_s)
{
    *retry_after_s = 0;
    refill(b, per_s, burst, now_ms);
    if (b->milli >= MILLI) {
        b->milli -= MILLI;
        return 1;
    }
    uint64_t wait_ms = (MILLI - b->milli + per_s - 1) / per_s;
    *retry_after_s = (unsigned)((wait_ms + 999) / 1000);
    *retry_after_s += *retry_after_s == 0;
    return 0;
}

int ms_bucket_full(ms_bucket *b, uint64_t per_s, uint64_t burst, uint64_t now_ms)
{
    refill(b, per_s, burst, now_ms);
    return b->milli >= burst * MILLI;
}

int ms_rate_take(ms_rate *r, uint64_t now_ms, unsigned *retry_after_s)
{
    pthread_mutex_lock(&r->lock);
    ms_bucket b = {.milli = r->milli, .last_ms = r->last_ms};
    int ok = ms_bucket_take(&b, r->per_s, r->burst, now_ms, retry_after_s);
    r->milli = b.milli;
    r->last_ms = b.last_ms;
    pthread_mutex_unlock(&r->lock);
    return ok;
}
