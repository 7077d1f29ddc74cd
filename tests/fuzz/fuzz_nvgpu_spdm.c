/*
 * libFuzzer harness for NVIDIA GPU evidence: the SPDM report decoder, the per-GPU item and
 * the nvidia-gpu list decoders, and the offline verifier (no pinned root: every check after
 * FORMAT runs on whatever certificates the input holds). Seeds in tests/fuzz/corpus/
 * fuzz_nvgpu_spdm/: the real H100 report (raw) and an item made of it with its chain.
 */
#include <stdint.h>
#include <string.h>

#include "secure/attest/nvgpu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ms_nvgpu_report r;
    static ms_nvgpu_checks chk;
    static const uint8_t nonce[MS_NVGPU_NONCE_LEN] = {0};
    ms_nvgpu_item it;
    ms_nvgpu_evidence ev;
    ms_nvgpu_policy pol;
    memset(&pol, 0, sizeof pol);
    pol.require_cc = 1;
    (void)ms_nvgpu_report_decode(data, size, &r);
    (void)ms_nvgpu_item_decode(data, size, &it);
    (void)ms_nvgpu_evidence_decode(data, size, &ev);
    (void)ms_nvgpu_verify_checks(&pol, data, size, nonce, 1704067200u, 1, &chk);
    return 0;
}
