/* Encoding and strict decoding of the three handshake messages (protocol.md §4, §5, §7.4). */
#include "secure/hs_msg.h"

#include <string.h>

#include "common/check.h"
#include "common/cursor.h"

static ms_err read_count(ms_cursor *c, uint8_t *n)
{
    TRY(ms_cursor_read_u8(c, n));
    ENSURE(*n >= 1 && *n <= MS_MAX_HS_LIST, MS_ERR_HS_COUNT);
    return MS_OK;
}

static ms_err read_u16_list(ms_cursor *c, uint8_t *n, uint16_t *list)
{
    TRY(read_count(c, n));
    for (uint8_t i = 0; i < *n; i++) {
        TRY(ms_cursor_read_u16be(c, &list[i]));
    }
    return MS_OK;
}

static ms_err ch_read(ms_cursor *c, ms_client_hello *ch)
{
    uint8_t type, id_len;
    TRY(ms_cursor_read_u8(c, &type));
    ENSURE(type == MS_HS_CLIENT_HELLO, MS_ERR_HS_MSG_TYPE);
    TRY(read_count(c, &ch->n_versions));
    TRY(ms_cursor_read_bytes(c, ch->versions, ch->n_versions));
    TRY(read_u16_list(c, &ch->n_suites, ch->suites));
    TRY(ms_cursor_read_bytes(c, ch->eph_pk, sizeof ch->eph_pk));
    TRY(ms_cursor_read_bytes(c, ch->challenge, sizeof ch->challenge));
    TRY(read_u16_list(c, &ch->n_evidence, ch->evidence_types));
    TRY(ms_cursor_read_u8(c, &ch->flags));
    ENSURE((ch->flags & ~MS_CH_FLAG_STRICT) == 0, MS_ERR_HS_FLAGS);
    TRY(ms_cursor_read_u8(c, &id_len));
    ENSURE(id_len == 0 || id_len == MS_SIGN_PK_LEN, MS_ERR_HS_CLIENT_ID);
    ch->has_client_id = id_len != 0;
    TRY(ms_cursor_read_bytes(c, ch->client_id_pk, id_len));
    return ms_cursor_expect_end(c);
}

ms_err ms_client_hello_decode(const uint8_t *p, size_t len, ms_client_hello *out)
{
    memset(out, 0, sizeof *out);
    ms_cursor c = ms_cursor_init(p, len);
    ms_err err = ch_read(&c, out);
    if (err != MS_OK) {
        memset(out, 0, sizeof *out);
    }
    return err;
}

static ms_err sh_read(ms_cursor *c, ms_server_hello *sh)
{
    uint8_t type;
    TRY(ms_cursor_read_u8(c, &type));
    ENSURE(type == MS_HS_SERVER_HELLO, MS_ERR_HS_MSG_TYPE);
    TRY(ms_cursor_read_u8(c, &sh->version));
    TRY(ms_cursor_read_u16be(c, &sh->suite));
    TRY(ms_cursor_read_bytes(c, sh->session_id, sizeof sh->session_id));
    TRY(ms_cursor_read_bytes(c, sh->eph_pk, sizeof sh->eph_pk));
    TRY(ms_cursor_read_bytes(c, sh->tls_spki_hash, sizeof sh->tls_spki_hash));
    TRY(ms_cursor_read_bytes(c, sh->static_pk, sizeof sh->static_pk));
    TRY(ms_cursor_read_u16be(c, &sh->evidence_type));
    TRY(ms_cursor_read_u8(c, &sh->evidence_mode));
    ENSURE(sh->evidence_mode <= MS_MODE_FAST_HELD, MS_ERR_HS_MODE);
    TRY(ms_cursor_read_u64be(c, &sh->not_after));
    TRY(ms_cursor_read_u32be(c, &sh->evidence_len));
    ENSURE(sh->evidence_len <= MS_MAX_EVIDENCE, MS_ERR_CAP_EXCEEDED);
    ENSURE(sh->evidence_mode != MS_MODE_FAST_HELD || sh->evidence_len == MS_HELD_DIGEST_LEN,
           MS_ERR_HS_HELD_LEN);
    TRY(ms_cursor_borrow(c, &sh->evidence, sh->evidence_len));
    sh->core_len = c->off;
    TRY(ms_cursor_read_bytes(c, sh->confirm, sizeof sh->confirm));
    return ms_cursor_expect_end(c);
}

ms_err ms_server_hello_decode(const uint8_t *p, size_t len, ms_server_hello *out)
{
    memset(out, 0, sizeof *out);
    ms_cursor c = ms_cursor_init(p, len);
    ms_err err = sh_read(&c, out);
    if (err != MS_OK) {
        memset(out, 0, sizeof *out);
    }
    return err;
}

static ms_err cf_read(ms_cursor *c, ms_client_finish *cf)
{
    uint8_t type, sig_len;
    TRY(ms_cursor_read_u8(c, &type));
    ENSURE(type == MS_HS_CLIENT_FINISH, MS_ERR_HS_MSG_TYPE);
    TRY(ms_cursor_read_bytes(c, cf->session_id, sizeof cf->session_id));
    TRY(ms_cursor_read_bytes(c, cf->confirm, sizeof cf->confirm));
    TRY(ms_cursor_read_u8(c, &sig_len));
    ENSURE(sig_len == 0 || sig_len == MS_SIG_LEN, MS_ERR_HS_CLIENT_ID);
    cf->has_sig = sig_len != 0;
    TRY(ms_cursor_read_bytes(c, cf->sig, sig_len));
    return ms_cursor_expect_end(c);
}

ms_err ms_client_finish_decode(const uint8_t *p, size_t len, ms_client_finish *out)
{
    memset(out, 0, sizeof *out);
    ms_cursor c = ms_cursor_init(p, len);
    ms_err err = cf_read(&c, out);
    if (err != MS_OK) {
        memset(out, 0, sizeof *out);
    }
    return err;
}

static ms_err put_u16_list(ms_buf *out, uint8_t n, const uint16_t *list)
{
    ENSURE(n >= 1 && n <= MS_MAX_HS_LIST, MS_ERR_ARG);
    TRY(ms_buf_append_u8(out, n));
    for (uint8_t i = 0; i < n; i++) {
        TRY(ms_buf_append_u16be(out, list[i]));
    }
    return MS_OK;
}

ms_err ms_client_hello_encode(const ms_client_hello *ch, ms_buf *out)
{
    ENSURE(ch->n_versions >= 1 && ch->n_versions <= MS_MAX_HS_LIST, MS_ERR_ARG);
    ENSURE((ch->flags & ~MS_CH_FLAG_STRICT) == 0, MS_ERR_ARG);
    TRY(ms_buf_append_u8(out, MS_HS_CLIENT_HELLO));
    TRY(ms_buf_append_u8(out, ch->n_versions));
    TRY(ms_buf_append(out, ch->versions, ch->n_versions));
    TRY(put_u16_list(out, ch->n_suites, ch->suites));
    TRY(ms_buf_append(out, ch->eph_pk, sizeof ch->eph_pk));
    TRY(ms_buf_append(out, ch->challenge, sizeof ch->challenge));
    TRY(put_u16_list(out, ch->n_evidence, ch->evidence_types));
    TRY(ms_buf_append_u8(out, ch->flags));
    TRY(ms_buf_append_u8(out, ch->has_client_id ? MS_SIGN_PK_LEN : 0));
    if (ch->has_client_id) {
        TRY(ms_buf_append(out, ch->client_id_pk, sizeof ch->client_id_pk));
    }
    return MS_OK;
}

ms_err ms_server_hello_encode_core(const ms_server_hello *sh, ms_buf *out)
{
    ENSURE(sh->evidence_len <= MS_MAX_EVIDENCE, MS_ERR_ARG);
    ENSURE(sh->evidence_len == 0 || sh->evidence != NULL, MS_ERR_ARG);
    ENSURE(sh->evidence_mode <= MS_MODE_FAST_HELD, MS_ERR_ARG);
    ENSURE(sh->evidence_mode != MS_MODE_FAST_HELD || sh->evidence_len == MS_HELD_DIGEST_LEN,
           MS_ERR_ARG);
    TRY(ms_buf_append_u8(out, MS_HS_SERVER_HELLO));
    TRY(ms_buf_append_u8(out, sh->version));
    TRY(ms_buf_append_u16be(out, sh->suite));
    TRY(ms_buf_append(out, sh->session_id, sizeof sh->session_id));
    TRY(ms_buf_append(out, sh->eph_pk, sizeof sh->eph_pk));
    TRY(ms_buf_append(out, sh->tls_spki_hash, sizeof sh->tls_spki_hash));
    TRY(ms_buf_append(out, sh->static_pk, sizeof sh->static_pk));
    TRY(ms_buf_append_u16be(out, sh->evidence_type));
    TRY(ms_buf_append_u8(out, sh->evidence_mode));
    TRY(ms_buf_append_u64be(out, sh->not_after));
    TRY(ms_buf_append_u32be(out, sh->evidence_len));
    TRY(ms_buf_append(out, sh->evidence, sh->evidence_len));
    return MS_OK;
}

ms_err ms_client_finish_encode(const ms_client_finish *cf, ms_buf *out)
{
    TRY(ms_buf_append_u8(out, MS_HS_CLIENT_FINISH));
    TRY(ms_buf_append(out, cf->session_id, sizeof cf->session_id));
    TRY(ms_buf_append(out, cf->confirm, sizeof cf->confirm));
    TRY(ms_buf_append_u8(out, cf->has_sig ? MS_SIG_LEN : 0));
    if (cf->has_sig) {
        TRY(ms_buf_append(out, cf->sig, sizeof cf->sig));
    }
    return MS_OK;
}
