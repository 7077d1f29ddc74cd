/* Fuzz the TPM quote bundle verifier (fixed policy), AK naming and enrolment from a bundle. */
#include <stdlib.h>
#include <string.h>

#include "secure/attest/tpm2.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The policy the seeds in corpus/fuzz_tpm2 satisfy (written by
 * `test_tpm2_bytes --write-corpus DIR`, which prints this AK name): the AK of the swtpm
 * that made them, PCRs 0-7, 16 and 23 all zero (a fresh swtpm), binding 0x42 x 64. With
 * it pinned, mutated seeds reach every check, the signature included.
 */
static const uint8_t AK_NAME[MS_TPM2_NAME_LEN] = {
    0x00, 0x0b, 0xa4, 0xdc, 0x74, 0xd2, 0x2e, 0xb0, 0xe5, 0x55, 0xc2, 0x18,
    0xa2, 0x41, 0x4c, 0xc3, 0xc5, 0x81, 0xa5, 0xa4, 0xaa, 0x99, 0x80, 0xe0,
    0xe9, 0xf8, 0xc4, 0x41, 0x0f, 0xf9, 0x2d, 0x50, 0x9f, 0x9e};
#define MASK (0xFFu | 1u << 16 | 1u << 23)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("TSS2_LOG", "all+none", 1); /* tss2-mu logs each malformed union selector */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ms_tpm2_policy policy, enrolled;
    uint8_t binding[MS_BINDING_LEN], name[MS_TPM2_NAME_LEN];
    memset(&policy, 0, sizeof policy);
    memcpy(policy.ak_name, AK_NAME, sizeof AK_NAME);
    policy.pcr_mask = MASK;
    memset(binding, 0x42, sizeof binding);
    ms_err e = ms_tpm2_verify(&policy, data, size, binding);
    /* Only the verifier's own codes (FORMAT .. AK_NAME are contiguous in the table). */
    if (e != MS_OK && (e < MS_ERR_TPM_FORMAT || e > MS_ERR_TPM_AK_NAME)) {
        __builtin_trap();
    }
    (void)ms_tpm2_ak_name(data, size, name);
    if (ms_tpm2_bundle_policy(data, size, &enrolled) == MS_OK && e == MS_OK &&
        memcmp(enrolled.ak_name, AK_NAME, sizeof AK_NAME) != 0) {
        __builtin_trap(); /* a bundle that verifies is enrolled under the same AK */
    }
    return 0;
}
