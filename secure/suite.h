/* Channel constants of docs/protocol.md §2, checked against libsodium's sizes. */
#ifndef MS_SECURE_SUITE_H
#define MS_SECURE_SUITE_H

#include <sodium.h>
#include <stdint.h>

#include "common/limits.h"

#define MS_VERSION_1 0x01u
#define MS_SUITE_1 0x0001u

#define MS_KEY_LEN 32u        /* symmetric keys, MACs, transcript hash */
#define MS_X25519_LEN 32u     /* X25519 public and secret keys */
#define MS_SIGN_PK_LEN 32u    /* Ed25519 public key */
#define MS_SIGN_SK_LEN 64u    /* Ed25519 secret key (libsodium layout: seed || pk) */
#define MS_SIGN_SEED_LEN 32u
#define MS_SIG_LEN 64u
#define MS_CHALLENGE_LEN 32u
#define MS_SESSION_ID_LEN 16u
#define MS_SPKI_HASH_LEN 32u
#define MS_BINDING_LEN 64u
#define MS_TAG_LEN 16u
#define MS_NONCE_LEN 12u

#define MS_REC_HEADER_LEN 40u
#define MS_REC_OVERHEAD (MS_REC_HEADER_LEN + MS_TAG_LEN)

#define MS_EPOCH_SHIFT 16u
#define MS_EPOCH_BYTES (1ull << 28)
#define MS_MAX_EPOCH_AHEAD 8u
#define MS_WINDOW 256u

/* Evidence types (§2.3). */
#define MS_EVIDENCE_DEV_KEY 0x0001u
#define MS_EVIDENCE_TPM2_QUOTE 0x0002u
#define MS_EVIDENCE_SEV_SNP 0x0003u
#define MS_EVIDENCE_TDX 0x0004u         /* Intel TDX quote (docs/attest-tdx.md) */
#define MS_EVIDENCE_AZ_SNP_VTPM 0x0005u /* Azure SEV-SNP CVM: HCL report + vTPM quote (docs/attest-azure.md) */
#define MS_EVIDENCE_AZ_TDX_VTPM 0x0006u /* Azure TDX CVM: HCL report + TDX quote + vTPM quote */
#define MS_EVIDENCE_NVIDIA_GPU 0x0007u  /* NVIDIA GPU SPDM measurements (docs/attest-nvidia.md) */
#define MS_EVIDENCE_COMPOSITE 0x0008u   /* one CPU TEE item and GPU items, all over B */

/* Evidence modes (§6). */
#define MS_MODE_FAST 0x00u
#define MS_MODE_STRICT 0x01u
/* FAST evidence the client said it holds, sent as its SHA-256 (§5, §6). */
#define MS_MODE_FAST_HELD 0x02u
#define MS_HELD_DIGEST_LEN 32u
/* The handshake POST's request header that names held FAST evidence (§12.1). */
#define MS_HELD_HEADER "Minions-Evidence-Held"

/* ClientHello flags (§4). */
#define MS_CH_FLAG_STRICT 0x01u

/* Record types and directions (§8). */
#define MS_REC_MSG 0x01u
#define MS_REC_STREAM_DATA 0x02u
#define MS_REC_STREAM_FINAL 0x03u
#define MS_REC_CLOSE 0x04u
#define MS_DIR_C2S 0x01u
#define MS_DIR_S2C 0x02u

_Static_assert(MS_KEY_LEN == crypto_aead_chacha20poly1305_ietf_KEYBYTES, "AEAD key size");
_Static_assert(MS_NONCE_LEN == crypto_aead_chacha20poly1305_ietf_NPUBBYTES, "AEAD nonce size");
_Static_assert(MS_TAG_LEN == crypto_aead_chacha20poly1305_ietf_ABYTES, "AEAD tag size");
_Static_assert(MS_X25519_LEN == crypto_scalarmult_BYTES, "X25519 size");
_Static_assert(MS_X25519_LEN == crypto_scalarmult_SCALARBYTES, "X25519 scalar size");
_Static_assert(MS_SIGN_PK_LEN == crypto_sign_PUBLICKEYBYTES, "Ed25519 pk size");
_Static_assert(MS_SIGN_SK_LEN == crypto_sign_SECRETKEYBYTES, "Ed25519 sk size");
_Static_assert(MS_SIGN_SEED_LEN == crypto_sign_SEEDBYTES, "Ed25519 seed size");
_Static_assert(MS_SIG_LEN == crypto_sign_BYTES, "Ed25519 signature size");
_Static_assert(MS_KEY_LEN >= crypto_generichash_KEYBYTES_MIN &&
                   MS_KEY_LEN <= crypto_generichash_KEYBYTES_MAX,
               "BLAKE2b key size");
_Static_assert(MS_BINDING_LEN <= crypto_generichash_BYTES_MAX, "BLAKE2b output size");
_Static_assert(MS_MAX_RECORD_PLAINTEXT < (1ull << 32) - MS_TAG_LEN, "ct_len fits u32");

#endif
