/* bench-e2e's TDX part where the fake configfs-tsm is not built (no fuse3, or no tests): not measured. */
#include "bench/bench_e2e.h"

int bench_tdx_start(const char *dir)
{
    (void)dir;
    return 1;
}

int bench_tdx_handshakes(const bench_opts *o, const bench_tpm_env *env, bench_results *res)
{
    (void)o;
    (void)env;
    (void)res;
    return 0;
}

void bench_tdx_stop(void)
{
}

const char *bench_tdx_skipped(void)
{
    return "tests/tools/fake-tsm not built (fuse3 not found, or MS_TESTS off)";
}
