/* Minimal test harness: checks count, failures print where, main ends with a summary line. */
#ifndef MS_TESTS_TEST_H
#define MS_TESTS_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

/*
 * Each test program defines test functions and calls them with RUN(fn) from main, then
 * returns TEST_SUMMARY(). A check that fails prints its file:line and what it compared;
 * the program keeps going so one run shows every failure. The summary line is
 * "N passed, N failed" (checks, not functions), and the exit status is non-zero on failure.
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

/*
 * Loops that flip every byte of a signed region run one signature check per byte: under
 * the memcheck twin of a test (ctest sets MS_TEST_MEMCHECK=1) they take every 7th byte, so
 * that valgrind sees every code path without repeating it thousands of times. Elsewhere 1.
 */
static inline size_t test_flip_stride(void)
{
    const char *s = getenv("MS_TEST_MEMCHECK");
    return s != NULL && s[0] == '1' ? 7u : 1u;
}

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        test_current_ = #fn;                                                                       \
        int before_ = test_fail_count_;                                                            \
        fn();                                                                                      \
        fprintf(stderr, "%s %s\n", test_fail_count_ == before_ ? "ok  " : "FAIL", #fn);            \
    } while (0)

#define TEST_SUMMARY()                                                                             \
    (printf("%d passed, %d failed\n", test_pass_count_, test_fail_count_),                         \
     test_fail_count_ == 0 && test_pass_count_ > 0 ? 0 : 1)

#endif
