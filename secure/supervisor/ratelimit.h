/* A token bucket: how often the supervisor makes fresh (STRICT) evidence (--strict-rate). */
#ifndef MS_SECURE_SUPERVISOR_RATELIMIT_H
#define MS_SECURE_SUPERVISOR_RATELIMIT_H

#include <pthread.h>
#include <stdint.h>

#include "common/err.h"

#define MS_RATE_MAX 1000000u /* per second, and burst: the largest values accepted */

/*
 * `per_s` tokens are added each second, up to `burst`; it starts full. Kept in
 * thousandths of a token, in integers: no rounding drift, no floating point. Thread-safe
 * (a mutex); init and destroy must not race with anything.
 */
typedef struct ms_rate {
    pthread_mutex_t lock;
    uint64_t per_s, burst;
    uint64_t milli;   /* tokens available, x1000 */
    uint64_t last_ms; /* monotonic time of the last refill */
} ms_rate;

/* MS_ERR_ARG unless 1 <= per_s, burst <= MS_RATE_MAX. */
MS_MUST_CHECK ms_err ms_rate_init(ms_rate *r, uint64_t per_s, uint64_t burst, uint64_t now_ms);
void ms_rate_destroy(ms_rate *r);

/*
 * Take one token at monotonic time now_ms: 1 when there was one; else 0, nothing taken,
 * and *retry_after_s set to the whole seconds (at least 1) until one will be there.
 */
int ms_rate_take(ms_rate *r, uint64_t now_ms, unsigned *retry_after_s);

/*
 * The same bucket without a lock, for tables that hold one lock over many buckets (the
 * per-address limits of peers.h). The caller passes per_s and burst on every call (1 ..
 * MS_RATE_MAX); ms_bucket_init starts it full.
 */
typedef struct ms_bucket {
    uint64_t milli;   /* tokens available, x1000 */
    uint64_t last_ms; /* monotonic time of the last refill */
} ms_bucket;

void ms_bucket_init(ms_bucket *b, uint64_t burst, uint64_t now_ms);
/* As ms_rate_take. */
int ms_bucket_take(ms_bucket *b, uint64_t per_s, uint64_t burst, uint64_t now_ms,
                   unsigned *retry_after_s);
/* 1 when it would be full at now_ms (nothing to remember: a new bucket is the same). */
int ms_bucket_full(ms_bucket *b, uint64_t per_s, uint64_t burst, uint64_t now_ms);

#endif
