/*
 * libFuzzer harness for Intel's TDX collateral documents: the TCB info and QE identity parsers
 * on whole responses and on bare bodies (no signature in the way: ms_tdx_collateral_verify
 * runs these same functions once the signature holds), the raw-member span of common/json,
 * and the date parser. Seeds in tests/fuzz/corpus/fuzz_tdx_collateral/: Intel's real
 * responses from ../shared/testdata/tdx and their bodies.
 */
#include <stdint.h>
#include <stdlib.h>

#include "common/json.h"
#include "secure/attest/tdx_coll_priv.h"
#include "secure/attest/tdx_collateral.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ms_tdx_collateral coll; /* large: kept off the stack */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t start, n;
    uint64_t t;
    (void)ms_tdx_tcb_info_parse(data, size, &coll);
    (void)ms_tdx_qe_identity_parse(data, size, &coll);
    (void)ms_tdx_coll_tcb_body(data, size, &coll);
    (void)ms_tdx_coll_qe_body(data, size, &coll);
    if (ms_json_raw_member((const char *)data, size, "tcbInfo", &start, &n) == MS_OK &&
        (start + n > size || n == 0)) {
        abort(); /* a span outside the text */
    }
    (void)ms_tdx_time_parse((const char *)data, size < 20 ? size : 20, &t);
    return 0;
}
