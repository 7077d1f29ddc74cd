/* The memcheck twins' quick mode, for tests (tests/test.h) and their helper files alike. */
#ifndef MS_TESTS_QUICK_H
#define MS_TESTS_QUICK_H

#include <stddef.h>
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

/*
 * The one vocabulary of a loop that runs one slow check per value (a flipped byte, a cut
 * length): every value in full mode, a sample with its edges in quick mode. Each such loop
 * says in a comment what it samples.
 *
 * test_sample_next steps over [from, to): n + 1 in full mode; in quick mode an odd step that
 * takes about `samples` values spread over the range, the first (from) and the last (to - 1)
 * always included:
 *     for (size_t n = from; n < to; n = test_sample_next(n, from, to, samples))
 * A loop whose full mode takes every k-th value steps over those values' indices
 * (0 .. count) the same way, so that quick mode is a sample of what full mode runs.
 */
static inline size_t test_sample_next(size_t n, size_t from, size_t to, size_t samples)
{
    size_t len = to - from;
    if (!ms_test_quick() || samples == 0 || len <= samples || n + 1 >= to) {
        return n + 1;
    }
    size_t step = (len / samples) | 1u;
    return n + step < to - 1 ? n + step : to - 1;
}

/*
 * The same for a region made of fields, as a test of value i: always in full mode; in quick
 * mode the values next to a field's edge (edges[k] - 1, edges[k], edges[k] + 1) and every
 * `every`-th, so that each field is still changed at least at its edges.
 */
static inline int test_sampled(size_t i, const size_t *edges, size_t n_edges, size_t every)
{
    if (!ms_test_quick() || (every != 0 && i % every == 0)) {
        return 1;
    }
    for (size_t k = 0; k < n_edges; k++) {
        if (i + 1 >= edges[k] && i <= edges[k] + 1) {
            return 1;
        }
    }
    return 0;
}

#endif
