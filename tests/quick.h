/* The memcheck twins' quick mode, for tests (tests/test.h) and their helper files alike. */
#ifndef MS_TESTS_QUICK_H
#define MS_TESTS_QUICK_H

#include <stdlib.h>

/*
 * Quick mode: the memcheck twin of a test (ctest sets MS_TEST_MEMCHECK=1) runs every code
 * path, cap, edge and negative case, but the parts that repeat one path many times (a
 * signature or chain check per flipped byte, a program run per usage error, N identical
 * chains) only on a sample, which each such loop names in a comment; and test-made RSA keys
 * come from the openssl program (a child, which valgrind does not trace) rather than from
 * key generation under valgrind. The plain and sanitizer runs are the full mode.
 */
static inline int ms_test_quick(void)
{
    const char *s = getenv("MS_TEST_MEMCHECK");
    return s != NULL && s[0] == '1';
}

#endif
