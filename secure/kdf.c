/* Key schedule of the channel: BLAKE2b transcript, extract/expand, ratchet, binding. */
#include "secure/kdf.h"

#include <string.h>

#include "common/buf.h"
#include "common/check.h"
#include "common/cursor.h"

#define LABEL_(l) (const uint8_t *)(l), sizeof(l) - 1

static void h_update_u32(crypto_generichash_state *st, size_t v)
{
    uint8_t b[4];
    ms_store_u32be(b, (uint32_t)v);
    crypto_generichash_update(st, b, sizeof b);
}

void ms_kdf_transcript(uint8_t th[static MS_KEY_LEN], const uint8_t *ch, size_t ch_len,
                       const uint8_t *sh_core, size_t sh_core_len)
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, MS_KEY_LEN);
    crypto_generichash_update(&st, LABEL_(MS_L_TRANSCRIPT));
    h_update_u32(&st, ch_len);
    crypto_generichash_update(&st, ch, ch_len);
    h_update_u32(&st, sh_core_len);
    crypto_generichash_update(&st, sh_core, sh_core_len);
    crypto_generichash_final(&st, th, MS_KEY_LEN);
}

void ms_kdf_mac2(uint8_t out[static MS_KEY_LEN], const uint8_t key[static MS_KEY_LEN],
                 const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, key, MS_KEY_LEN, MS_KEY_LEN);
    crypto_generichash_update(&st, a, a_len);
    crypto_generichash_update(&st, b, b_len);
    crypto_generichash_final(&st, out, MS_KEY_LEN);
    ms_wipe(&st, sizeof st);
}

static void expand(uint8_t out[static MS_KEY_LEN], const uint8_t prk[static MS_KEY_LEN],
                   const uint8_t *label, size_t label_len)
{
    ms_kdf_mac2(out, prk, label, label_len, NULL, 0);
}

ms_err ms_kdf_dh(uint8_t out[static MS_X25519_LEN], const uint8_t sk[static MS_X25519_LEN],
                 const uint8_t pk[static MS_X25519_LEN])
{
    /* crypto_scalarmult fails exactly when the result is all zero (a low-order peer key). */
    if (crypto_scalarmult(out, sk, pk) != 0) {
        ms_wipe(out, MS_X25519_LEN);
        return MS_ERR_HS_WEAK_KEY;
    }
    return MS_OK;
}

void ms_kdf_schedule(ms_hs_keys *keys, const uint8_t th[static MS_KEY_LEN],
                     const uint8_t ee[static MS_X25519_LEN], const uint8_t es[static MS_X25519_LEN],
                     uint8_t *prk_out)
{
    uint8_t prk[MS_KEY_LEN];
    crypto_generichash_state st;
    crypto_generichash_init(&st, th, MS_KEY_LEN, MS_KEY_LEN);
    crypto_generichash_update(&st, LABEL_(MS_L_EXTRACT));
    crypto_generichash_update(&st, ee, MS_X25519_LEN);
    crypto_generichash_update(&st, es, MS_X25519_LEN);
    crypto_generichash_final(&st, prk, MS_KEY_LEN);
    ms_wipe(&st, sizeof st);
    expand(keys->c2s, prk, LABEL_(MS_L_C2S_KEY));
    expand(keys->s2c, prk, LABEL_(MS_L_S2C_KEY));
    expand(keys->sfin, prk, LABEL_(MS_L_SERVER_FIN));
    expand(keys->cfin, prk, LABEL_(MS_L_CLIENT_FIN));
    if (prk_out) {
        memcpy(prk_out, prk, sizeof prk);
    }
    ms_wipe(prk, sizeof prk);
}

void ms_kdf_keys_wipe(ms_hs_keys *keys)
{
    ms_wipe(keys, sizeof *keys);
}

void ms_kdf_ratchet(uint8_t key[static MS_KEY_LEN])
{
    uint8_t next[MS_KEY_LEN];
    expand(next, key, LABEL_(MS_L_RATCHET));
    memcpy(key, next, sizeof next);
    ms_wipe(next, sizeof next);
}

ms_err ms_kdf_binding(uint8_t out[static MS_BINDING_LEN], const ms_binding_in *in)
{
    uint8_t fixed[2 + 1 + MS_X25519_LEN + 8];
    crypto_generichash_state st;
    memset(out, 0, MS_BINDING_LEN);
    ENSURE(in->mode == MS_MODE_FAST || in->mode == MS_MODE_STRICT, MS_ERR_HS_MODE);

    ms_store_u16be(fixed, in->evidence_type);
    fixed[2] = in->mode;
    memcpy(fixed + 3, in->static_pk, MS_X25519_LEN);
    ms_store_u64be(fixed + 3 + MS_X25519_LEN, in->not_after);

    crypto_generichash_init(&st, NULL, 0, MS_BINDING_LEN);
    crypto_generichash_update(&st, LABEL_(MS_L_BINDING));
    crypto_generichash_update(&st, fixed, sizeof fixed);
    if (in->mode == MS_MODE_STRICT) {
        crypto_generichash_update(&st, in->challenge, sizeof in->challenge);
        crypto_generichash_update(&st, in->client_eph_pk, sizeof in->client_eph_pk);
        crypto_generichash_update(&st, in->server_eph_pk, sizeof in->server_eph_pk);
    }
    crypto_generichash_final(&st, out, MS_BINDING_LEN);
    return MS_OK;
}
