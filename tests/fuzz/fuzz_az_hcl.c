/*
 * libFuzzer harness for the Azure HCL report: the frame decoder, the report_data check, the
 * TD report decoder and the variable-data JSON reader, on the input as a whole report and
 * as bare variable data. Seeds in tests/fuzz/corpus/fuzz_az_hcl/: the real SNP and TDX HCL
 * reports and var-data.bin of ../shared/testdata/azure-cvm.
 */
#include <stdint.h>
#include <stdlib.h>

#include "secure/attest/az_hcl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ms_az_hcl h;
    ms_az_var_data v;
    ms_az_td_report td;
    if (ms_az_hcl_decode(data, size, &h) == MS_OK) {
        /* What was accepted lies inside the input and agrees with its sizes. */
        if (h.hw != data + MS_AZ_HCL_HEADER_LEN || h.var_data != data + MS_AZ_HCL_FIXED_LEN ||
            h.var_data_len == 0 || h.var_data_len > MS_AZ_MAX_VAR_DATA ||
            h.report_size != MS_AZ_HCL_FIXED_LEN + h.var_data_len || h.report_size > size) {
            abort();
        }
        (void)ms_az_hcl_check_var_data_hash(&h);
        (void)ms_az_td_report_decode(h.hw, &td);
        if (ms_az_var_data_parse(h.var_data, h.var_data_len, &v) == MS_OK &&
            (v.n_keys == 0 || v.ak_e != MS_AZ_RSA_E || v.ak_n[0] == 0)) {
            abort();
        }
    } else if (h.hw != NULL || h.var_data_len != 0) {
        abort(); /* zeroed on failure */
    }
    (void)ms_az_var_data_parse(data, size, &v);
    return 0;
}
