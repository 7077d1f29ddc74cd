/* Minimal test harness: checks count, failures print where, main ends with a summary line. */
#ifndef MS_TESTS_TEST_H
#define MS_TESTS_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "tests/quick.h"

/*
 * Each test program defines test functions and calls them with RUN(fn) from main, then
 * returns TEST_SUMMARY(). A check that fails prints its file:line and what it compared;
 * the program keeps going so one run shows every failure. The summary line is
 * "N passed, N failed" (checks, not functions), and the exit status is non-zero on failure.
 * Each RUN prints "ok   fn S" (or "FAIL fn S"), S its seconds: where a slow test spends them.
 */
static int test_pass_count_;
static int test_fail_count_;
static const char *test_current_;

#define TEST_FAIL_(...)                                                                            \
    do {                                                                                           \
        test_fail_count_++;                                                                        \
        fprintf(stderr, "FAIL %s:%d [%s] ", __FILE__, __LINE__, test_current_);                    \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
    } while (0)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            test_pass_count_++;                                                                    \
        } else {                                                                                   \
            TEST_FAIL_("%s", #cond);                                                               \
        }                                                                                          \
    } while (0)

/* Expect an ms_err value; prints both names when they differ. */
#define CHECK_ERR(expr, want)                                                                      \
    do {                                                                                           \
        ms_err got_ = (expr);                                                                      \
        ms_err want_ = (want);                                                                     \
        if (got_ == want_) {                                                                       \
            test_pass_count_++;                                                                    \
        } else {                                                                                   \
            TEST_FAIL_("%s: got %s, want %s", #expr, ms_err_name(got_), ms_err_name(want_));       \
        }                                                                                          \
    } while (0)

#define CHECK_OK(expr) CHECK_ERR(expr, MS_OK)

#define CHECK_MEM(a, b, n)                                                                         \
    do {                                                                                           \
        if (memcmp((a), (b), (n)) == 0) {                                                          \
            test_pass_count_++;                                                                    \
        } else {                                                                                   \
            TEST_FAIL_("bytes differ: %s vs %s (%zu bytes)", #a, #b, (size_t)(n));                 \
        }                                                                                          \
    } while (0)

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        test_current_ = #fn;                                                                       \
        int before_ = test_fail_count_;                                                            \
        struct timespec t0_, t1_;                                                                  \
        clock_gettime(CLOCK_MONOTONIC, &t0_);                                                      \
        fn();                                                                                      \
        clock_gettime(CLOCK_MONOTONIC, &t1_);                                                      \
        fprintf(stderr, "%s %s %.2f\n", test_fail_count_ == before_ ? "ok  " : "FAIL", #fn,       \
                (double)(t1_.tv_sec - t0_.tv_sec) + (double)(t1_.tv_nsec - t0_.tv_nsec) / 1e9);  \
    } while (0)

#define TEST_SUMMARY()                                                                             \
    (printf("%d passed, %d failed\n", test_pass_count_, test_fail_count_),                         \
     test_fail_count_ == 0 && test_pass_count_ > 0 ? 0 : 1)

#endif
