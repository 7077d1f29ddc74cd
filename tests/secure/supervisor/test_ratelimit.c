/* Tests of the token bucket behind --strict-rate: burst, refill, Retry-After, bounds, threads. */
#include <pthread.h>
#include <stdint.h>

#include "secure/supervisor/ratelimit.h"
#include "tests/test.h"

static void test_bounds(void)
{
    ms_rate r;
    CHECK_ERR(ms_rate_init(&r, 0, 1, 0), MS_ERR_ARG);
    CHECK_ERR(ms_rate_init(&r, 1, 0, 0), MS_ERR_ARG);
    CHECK_ERR(ms_rate_init(&r, MS_RATE_MAX + 1, 1, 0), MS_ERR_ARG);
    CHECK_ERR(ms_rate_init(&r, 1, MS_RATE_MAX + 1, 0), MS_ERR_ARG);
    CHECK_OK(ms_rate_init(&r, MS_RATE_MAX, MS_RATE_MAX, 0));
    ms_rate_destroy(&r);
}

/* Full at start: `burst` at once, then refused until time passes. */
static void test_burst_then_refill(void)
{
    ms_rate r;
    unsigned ra = 99;
    CHECK_OK(ms_rate_init(&r, 2, 3, 1000));
    for (int i = 0; i < 3; i++) {
        CHECK(ms_rate_take(&r, 1000, &ra) == 1 && ra == 0);
    }
    CHECK(ms_rate_take(&r, 1000, &ra) == 0 && ra == 1);
    CHECK(ms_rate_take(&r, 1499, &ra) == 0 && ra == 1); /* 0.998 of a token */
    CHECK(ms_rate_take(&r, 1500, &ra) == 1);            /* 2/s: one every 500 ms */
    CHECK(ms_rate_take(&r, 1500, &ra) == 0);
    /* A long pause fills it up to the burst, never beyond. */
    for (int i = 0; i < 3; i++) {
        CHECK(ms_rate_take(&r, 1000000, &ra) == 1);
    }
    CHECK(ms_rate_take(&r, 1000000, &ra) == 0);
    ms_rate_destroy(&r);
}

/* Retry-After is whole seconds, at least 1, enough for one token at a slow rate. */
static void test_retry_after(void)
{
    ms_rate r;
    unsigned ra = 0;
    CHECK_OK(ms_rate_init(&r, 1, 1, 0));
    CHECK(ms_rate_take(&r, 0, &ra) == 1);
    CHECK(ms_rate_take(&r, 0, &ra) == 0 && ra == 1);
    CHECK(ms_rate_take(&r, 999, &ra) == 0 && ra == 1);
    CHECK(ms_rate_take(&r, 1000, &ra) == 1);
    ms_rate_destroy(&r);
    CHECK_OK(ms_rate_init(&r, MS_RATE_MAX, 1, 0));
    CHECK(ms_rate_take(&r, 0, &ra) == 1);
    CHECK(ms_rate_take(&r, 0, &ra) == 0 && ra == 1); /* a microsecond away: still 1 */
    CHECK(ms_rate_take(&r, 1, &ra) == 1);
    ms_rate_destroy(&r);
}

/* A clock reading older than the last one adds nothing and takes nothing extra. */
static void test_clock_backwards(void)
{
    ms_rate r;
    unsigned ra;
    CHECK_OK(ms_rate_init(&r, 10, 1, 5000));
    CHECK(ms_rate_take(&r, 5000, &ra) == 1);
    CHECK(ms_rate_take(&r, 10, &ra) == 0);
    CHECK(ms_rate_take(&r, 5099, &ra) == 0);
    CHECK(ms_rate_take(&r, 5100, &ra) == 1);
    ms_rate_destroy(&r);
}

/* Largest rate and a huge pause: no overflow, still capped at the burst. */
static void test_no_overflow(void)
{
    ms_rate r;
    unsigned ra;
    CHECK_OK(ms_rate_init(&r, MS_RATE_MAX, 2, 0));
    CHECK(ms_rate_take(&r, 0, &ra) == 1 && ms_rate_take(&r, 0, &ra) == 1);
    CHECK(ms_rate_take(&r, UINT64_MAX, &ra) == 1 && ms_rate_take(&r, UINT64_MAX, &ra) == 1);
    CHECK(ms_rate_take(&r, UINT64_MAX, &ra) == 0);
    ms_rate_destroy(&r);
}

/* Threads taking at one instant get exactly `burst` tokens between them. */
#define THREADS 8
#define TRIES 1000
static ms_rate g_rate;

static void *taker(void *arg)
{
    unsigned ra, *got = arg;
    for (int i = 0; i < TRIES; i++) {
        *got += (unsigned)ms_rate_take(&g_rate, 42, &ra);
    }
    return NULL;
}

static void test_threads(void)
{
    pthread_t t[THREADS];
    unsigned got[THREADS] = {0}, total = 0;
    CHECK_OK(ms_rate_init(&g_rate, 5, 777, 42));
    for (int i = 0; i < THREADS; i++) {
        CHECK(pthread_create(&t[i], NULL, taker, &got[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        total += got[i];
    }
    CHECK(total == 777);
    ms_rate_destroy(&g_rate);
}

int main(void)
{
    RUN(test_bounds);
    RUN(test_burst_then_refill);
    RUN(test_retry_after);
    RUN(test_clock_backwards);
    RUN(test_no_overflow);
    RUN(test_threads);
    return TEST_SUMMARY();
}
