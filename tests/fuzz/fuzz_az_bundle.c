/*
 * libFuzzer harness for az-snp-vtpm and az-tdx-vtpm evidence: both bundle decoders, both
 * client verifiers and the offline per-check form (as a bundle, or as a bare HCL report when
 * it starts "HCLA"). Seeds in tests/fuzz/corpus/fuzz_az_bundle/: a bundle of test_az's world
 * (`MS_AZ_SEED_OUT=FILE build/bin/test_az`), one of test_az_tdx's
 * (`MS_AZ_TDX_SEED_OUT=FILE build/bin/test_az_tdx`) and the real SNP HCL report.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "secure/attest/az.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t not_a_root[] = {0x30, 0x03, 0x02, 0x01, 0x00};
    ms_az_policy policy;
    memset(&policy, 0, sizeof policy);
    policy.snp.ark_der = not_a_root;
    policy.snp.ark_len = sizeof not_a_root;
    policy.pcrs.pcr_mask = 0x81u;
    uint8_t binding[MS_BINDING_LEN] = {0};
    /* No root verifies anything here: OK would be a bug. */
    if (ms_az_snp_verify(&policy, data, size, binding) == MS_OK) {
        __builtin_trap();
    }
    ms_az_bundle b;
    if (ms_az_bundle_decode(data, size, &b) == MS_OK) {
        if (b.hcl < data || b.hcl_len == 0 || b.hcl_len > MS_AZ_MAX_HCL ||
            (size_t)(b.hcl - data) > size - b.hcl_len || b.values_len % 32 != 0 ||
            (b.ask == NULL) != (b.ask_len == 0)) {
            abort();
        }
    }
    policy.tdx.root_der = not_a_root;
    policy.tdx.root_len = sizeof not_a_root;
    policy.tdx.have_mrtd = 1;
    if (ms_az_tdx_verify(&policy, data, size, binding) == MS_OK) {
        __builtin_trap();
    }
    ms_az_tdx_bundle t;
    if (ms_az_tdx_bundle_decode(data, size, &t) == MS_OK) {
        if (t.tdx < data || t.tdx_len == 0 || t.tdx_len > MS_AZ_MAX_TDX_PART ||
            (size_t)(t.tdx - data) != size - t.tdx_len || t.vtpm.vcek != NULL) {
            abort();
        }
    }
    static ms_az_checks ch; /* ~10 KiB with the TDX quote's checks */
    memset(&policy, 0, sizeof policy);
    (void)ms_az_verify_checks(&policy, data, size, NULL, 0, NULL, 0, binding, 0, &ch);
    if (ch.have_hcl != (ch.ran[MS_AZ_CHECK_HCL_FORMAT] && ch.result[MS_AZ_CHECK_HCL_FORMAT] == MS_OK)) {
        abort();
    }
    return 0;
}
