/* NVIDIA GPU test fixture: the real H100 vector; a test "NVIDIA" root -> device -> leaf P-384 chain. */
#ifndef MS_TESTS_ATTEST_NVGPU_FIXTURE_H
#define MS_TESTS_ATTEST_NVGPU_FIXTURE_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "secure/attest/nvgpu.h"
#include "tests/secure/attest/nvgpu_fx_report.h"

/* ../shared/testdata/nvidia-h100 (see its NOTICE). */
typedef struct nv_fx_real {
    ms_buf report;                  /* attestation_report.hex as bytes */
    ms_buf ders;                    /* gpu_ak_cert_chain.pem as DER, leaf first */
    size_t off[MS_NVGPU_MAX_CHAIN], len[MS_NVGPU_MAX_CHAIN], n;
} nv_fx_real;

int nv_fx_real_load(nv_fx_real *r);
void nv_fx_real_free(nv_fx_real *r);
/* A time inside every certificate's validity (2024-01-01). */
#define NV_FX_REAL_AT 1704067200u

/* An item of `report` with the certificates [first, n) of `ders` (host flags given). */
int nv_fx_item(ms_buf *out, const uint8_t *report, size_t report_len, uint8_t host_flags,
               const ms_buf *ders, const size_t *off, const size_t *len, size_t n);

/* A made-up chain: root (self-signed CA) -> device (CA, serialNumber-named) -> leaf. */
typedef struct nv_fx_chain {
    EVP_PKEY *root_key, *dev_key, *leaf_key; /* owned */
    ms_buf der;                              /* leaf, device, root DER, back to back */
    size_t off[3], len[3];
} nv_fx_chain;

/*
 * Fresh keys; `dev_serial` names the device. `leaf_issuer_serial` is the serialNumber put
 * in the leaf's issuer name (dev_serial for a well-formed chain). Valid from an hour ago
 * for a year. Returns 1 on success.
 */
int nv_fx_chain_make(nv_fx_chain *c, long dev_serial, long leaf_issuer_serial);
/* As nv_fx_chain_make under an existing root key (the chain takes a reference). */
int nv_fx_chain_make_under(nv_fx_chain *c, EVP_PKEY *root_key, long dev_serial,
                           long leaf_issuer_serial);
/* As nv_fx_chain_make_under, the leaf's subject naming serialNumber `leaf_name_serial` (0:
 * none) instead of its own serial number (dev_serial + 0x1000). */
int nv_fx_chain_make_leaf_named(nv_fx_chain *c, EVP_PKEY *root_key, long dev_serial,
                                long leaf_issuer_serial, long leaf_name_serial);
/* As nv_fx_chain_make_under, the leaf's key on another curve (OpenSSL's name). */
int nv_fx_chain_make_leaf_curve(nv_fx_chain *c, EVP_PKEY *root_key, long dev_serial,
                                const char *leaf_curve);
/* As nv_fx_chain_make_under, the device's subject naming serialNumber `dev_name_serial`
 * (its serial number stays dev_serial); the leaf's issuer is that subject. */
int nv_fx_chain_make_dev_named(nv_fx_chain *c, EVP_PKEY *root_key, long dev_serial,
                               long dev_name_serial);
/* As nv_fx_chain_make_under, the leaf's issuer naming the device's serialNumber under
 * another CN (`issuer_cn`): re-signed by the device key, it is not the device's name. */
int nv_fx_chain_make_issuer_cn(nv_fx_chain *c, EVP_PKEY *root_key, long dev_serial,
                               const char *issuer_cn);
/* As nv_fx_chain_make_issuer_cn, the leaf's issuer serialNumber given as text instead (the
 * device's, lower-cased: X509_NAME_cmp folds case, so only the naming rule tells them apart). */
int nv_fx_chain_make_issuer_serial(nv_fx_chain *c, EVP_PKEY *root_key, long dev_serial,
                                   const char *issuer_serial);
void nv_fx_chain_free(nv_fx_chain *c);

/* A made-up signed report in `out` (see nv_fx_report_build), then an item with the chain. */
int nv_fx_made_item(ms_buf *out, const nv_fx_chain *c, const uint8_t nonce[32], size_t n_blocks,
                    uint8_t fill, int feature_flag, uint8_t host_flags);

/* Files for the fake NVML: the leaf key (PEM) and the chain (PEM, leaf first). */
int nv_fx_write_key(EVP_PKEY *key, const char *path);
int nv_fx_write_chain_pem(const nv_fx_chain *c, const char *path);
/* The root alone (PEM), for a policy's root_pem. */
int nv_fx_write_root_pem(const nv_fx_chain *c, const char *path);
/*
 * The fake NVML's two GPUs (fake_nvml.c) in `dir` (made, 0700, and set as
 * $MS_FAKE_NVML_DIR): gpu[0] (device 0x1111) and gpu[1] (0x2222) under gpu[0]'s root, as
 * gpu<i>.key and gpu<i>.pem, and "count" holding 2; the root's PEM at root_pem. 1 on
 * success; free both chains with nv_fx_chain_free either way.
 */
int nv_fx_fake_gpus(nv_fx_chain gpu[static 2], const char *dir, const char *root_pem);

#endif
