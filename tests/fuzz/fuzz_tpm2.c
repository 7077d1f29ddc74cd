/* Fuzz the TPM quote bundle verifier (two fixed policies: an AK name, an AK CA), AK naming and
 * enrolment from a bundle. */
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

/*
 * The AK CA of the second policy (a P-256 key made once with `openssl req -x509`, valid to
 * 2126, key discarded after signing): corpus/fuzz_tpm2/quote_akcert.bin is quote.bin in
 * format 0x02 with an AK certificate it issued, so mutations reach the certificate check.
 */
static const char AK_CA[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBgDCCASegAwIBAgIUFbLf+XKzbu3XexGNKvv5KeSGqCUwCgYIKoZIzj0EAwIw\n"
    "FTETMBEGA1UEAwwKZnV6eiBBSyBDQTAgFw0yNjEyMDYwMzE3MjNaGA8yMTI2MTEx\n"
    "MjAzMTcyM1owFTETMBEGA1UEAwwKZnV6eiBBSyBDQTBZMBMGByqGSM49AgEGCCqG\n"
    "SM49AwEHA0IABPcRPMYKMO1vdCMXr+8iIOWjHSW09c6yPPLX5mz5kQopixC/Thfd\n"
    "GY8MJ/d4Ti292t8zzmQeqlLiMTZmVH+jJCyjUzBRMB0GA1UdDgQWBBSnEbO2zxCD\n"
    "UN9h5s4UIUSx7vFCwDAfBgNVHSMEGDAWgBSnEbO2zxCDUN9h5s4UIUSx7vFCwDAP\n"
    "BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0cAMEQCIBEzCNrCRmC5c8EOPmox\n"
    "5J3S40klQ13b7sQKMa2G1ffhAiAsnJ1cMBHhE6LrPNCuseyTsMeLWHipCpkXJA5P\n"
    "S/gHvQ==\n"
    "-----END CERTIFICATE-----\n";

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
    ms_tpm2_policy by_ca = policy;
    by_ca.ak_ca_pem = (const uint8_t *)AK_CA;
    by_ca.ak_ca_pem_len = sizeof AK_CA - 1;
    ms_err e2 = ms_tpm2_verify_at(&by_ca, data, size, binding, 1800000000);
    if (e2 != MS_OK && e2 != MS_ERR_TPM_AK_CERT &&
        (e2 < MS_ERR_TPM_FORMAT || e2 > MS_ERR_TPM_AK_NAME || e2 == MS_ERR_TPM_AK_NAME)) {
        __builtin_trap();
    }
    if (e2 == MS_OK && (size == 0 || data[0] != MS_TPM2_FORMAT_AK_CERT)) {
        __builtin_trap(); /* pinning a CA needs a certificate */
    }
    (void)ms_tpm2_ak_name(data, size, name);
    if (ms_tpm2_bundle_policy(data, size, &enrolled) == MS_OK && e == MS_OK &&
        memcmp(enrolled.ak_name, AK_NAME, sizeof AK_NAME) != 0) {
        __builtin_trap(); /* a bundle that verifies is enrolled under the same AK */
    }
    return 0;
}
