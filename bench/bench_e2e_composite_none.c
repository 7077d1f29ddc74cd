/* bench-e2e without the tests' fake NVML (MS_TESTS off, or a fuzz build): no composite figure. */
#include <stdio.h>

#include "bench/bench_e2e.h"

int bench_comp_start(const char *dir)
{
    (void)dir;
    return 0;
}

int bench_comp_handshakes(const bench_opts *o, const bench_tpm_env *env, bench_results *res)
{
    (void)o;
    (void)env;
    res->comp_done = 0;
    fprintf(stderr, "bench-e2e: built without the tests (MS_TESTS): no composite handshakes\n");
    return 0;
}

void bench_comp_stop(void)
{
}
