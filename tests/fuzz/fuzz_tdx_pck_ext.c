/*
 * libFuzzer harness for the PCK certificate's SGX extensions: the strict DER reader on the
 * extension's value, and the whole certificate path (OpenSSL's d2i_X509, then the reader).
 * Seeds in tests/fuzz/corpus/fuzz_tdx_pck_ext/: the real PCK leaf of
 * ../shared/testdata/tdx/tdx_prod_quote_SPR_E4.dat and its extension value.
 */
#include <stdint.h>
#include <stdlib.h>

#include "secure/attest/tdx_collateral.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ms_tdx_pck_ext e;
    if (ms_tdx_pck_ext_value_decode(data, size, &e) != MS_OK && e.pcesvn != 0) {
        abort(); /* *out is zeroed on failure */
    }
    (void)ms_tdx_pck_ext_decode(data, size, &e);
    return 0;
}
