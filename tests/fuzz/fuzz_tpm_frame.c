/*
 * libFuzzer harness for the TPM frames the hcl-paravisor stand-in reads
 * (tests/fixture/tpm_frame.h): the header and the TPM2_NV_Write decoder; what an accepted
 * command yields re-encodes to the same bytes when it has the encoder's own layout. Seeds in
 * tests/fuzz/corpus/fuzz_tpm_frame/: NV_Write commands as the TSS and the stand-in send them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fixture/tpm_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    e2e_tpm_header h;
    e2e_nv_write w;
    uint8_t again[E2E_TPM_FRAME_MAX];
    size_t n = 0;
    if (e2e_tpm_header_decode(data, size, &h) == MS_OK &&
        (h.size < E2E_TPM_HEADER_LEN || h.size > E2E_TPM_FRAME_MAX)) {
        abort();
    }
    if (e2e_tpm_nv_write_decode(data, size, &w) == MS_OK) {
        if (w.data + w.data_len > data + size || w.data < data) {
            abort();
        }
        /* An owner-authorised command with an empty password re-encodes to itself. */
        if (w.auth_handle == 0x40000001u && size == 35 + w.data_len && w.data_len >= 1 &&
            w.data_len <= 1024 && memcmp(data + 18, "\x00\x00\x00\x09\x40\x00\x00\x09\x00\x00\x00\x00\x00", 13) == 0 &&
            (e2e_tpm_nv_write_encode(w.index, w.data, w.data_len, w.offset, again, sizeof again,
                                     &n) != MS_OK ||
             n != size || memcmp(again, data, size) != 0)) {
            abort();
        }
    }
    return 0;
}
