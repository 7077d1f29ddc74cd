/* Hashes of the channel: transcript, key schedule, ratchet and evidence binding (§6, §7, §9). */
#ifndef MS_SECURE_KDF_H
#define MS_SECURE_KDF_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "secure/suite.h"

/* Labels of protocol.md §2.1. */
#define MS_L_TRANSCRIPT "minions-secure/1 transcript"
#define MS_L_CLIENT_SIG "minions-secure/1 client signature"
#define MS_L_EXTRACT "minions-secure/1 extract"
#define MS_L_C2S_KEY "minions-secure/1 c2s key"
#define MS_L_S2C_KEY "minions-secure/1 s2c key"
#define MS_L_SERVER_FIN "minions-secure/1 server finished"
#define MS_L_CLIENT_FIN "minions-secure/1 client finished"
#define MS_L_RATCHET "minions-secure/1 ratchet"
#define MS_L_BINDING "minions-secure/1 evidence binding"

/* The four secrets that §7.2 derives from one handshake. Wipe with ms_kdf_keys_wipe. */
typedef struct ms_hs_keys {
    uint8_t c2s[MS_KEY_LEN];
    uint8_t s2c[MS_KEY_LEN];
    uint8_t sfin[MS_KEY_LEN];
    uint8_t cfin[MS_KEY_LEN];
} ms_hs_keys;

/* TH = H32(L_TRANSCRIPT || u32 len(CH) || CH || u32 len(SH_core) || SH_core)  (§7.1) */
void ms_kdf_transcript(uint8_t th[static MS_KEY_LEN], const uint8_t *ch, size_t ch_len,
                       const uint8_t *sh_core, size_t sh_core_len);

/* MAC(key, a || b): keyed BLAKE2b-256. Either part may be empty. */
void ms_kdf_mac2(uint8_t out[static MS_KEY_LEN], const uint8_t key[static MS_KEY_LEN],
                 const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len);

/* X25519(sk, pk); MS_ERR_HS_WEAK_KEY (and *out zeroed) when the result is all zero. */
MS_MUST_CHECK ms_err ms_kdf_dh(uint8_t out[static MS_X25519_LEN], const uint8_t sk[static MS_X25519_LEN],
                               const uint8_t pk[static MS_X25519_LEN]);

/*
 * §7.2: PRK = MAC(TH, L_EXTRACT || ee || es), then the four keys. PRK is wiped here unless
 * `prk_out` (known-answer tests only; may be NULL) asks for a copy.
 */
void ms_kdf_schedule(ms_hs_keys *keys, const uint8_t th[static MS_KEY_LEN],
                     const uint8_t ee[static MS_X25519_LEN], const uint8_t es[static MS_X25519_LEN],
                     uint8_t *prk_out);
void ms_kdf_keys_wipe(ms_hs_keys *keys);

/* K_{e+1} = MAC(K_e, L_RATCHET), in place (§8.2). */
void ms_kdf_ratchet(uint8_t key[static MS_KEY_LEN]);

/* Inputs of the evidence binding (§6). The strict fields are read only when mode is STRICT. */
typedef struct ms_binding_in {
    uint16_t evidence_type;
    uint8_t mode;
    uint8_t static_pk[MS_X25519_LEN];
    uint64_t not_after;
    uint8_t challenge[MS_CHALLENGE_LEN];
    uint8_t client_eph_pk[MS_X25519_LEN];
    uint8_t server_eph_pk[MS_X25519_LEN];
} ms_binding_in;

/* B = H64(...) of §6. MS_ERR_HS_MODE for an unknown mode (then *out is zeroed). */
MS_MUST_CHECK ms_err ms_kdf_binding(uint8_t out[static MS_BINDING_LEN], const ms_binding_in *in);

#endif
