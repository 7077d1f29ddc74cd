/* Azure HCL report decoder: the frame by cursor, the variable data by the typed JSON reader. */
#include "secure/attest/az_hcl.h"

#include <openssl/evp.h>
#include <string.h>

#include "common/buf.h"
#include "common/check.h"
#include "common/codec.h"
#include "common/cursor.h"
#include "common/json.h"

#define SNP_REPORT_DATA_OFF 0x50u
#define TD_REPORT_DATA_OFF 128u
#define MAX_KID 64u
#define MAX_B64URL (((MS_AZ_RSA_MAX_N + 2u) / 3u) * 4u)

int ms_az_hcl_is(const uint8_t *p, size_t len)
{
    return p != NULL && len >= 4 && ms_ct_equal(p, "HCLA", 4);
}

static size_t hash_len_of(uint32_t hash_type)
{
    switch (hash_type) {
    case MS_AZ_HASH_SHA256:
        return 32;
    case MS_AZ_HASH_SHA384:
        return 48;
    case MS_AZ_HASH_SHA512:
        return 64;
    default:
        return 0;
    }
}

static int all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        acc |= p[i];
    }
    return acc == 0;
}

/* Header: magic, version, report_size, request_type, status, reserved[12]. */
static ms_err read_header(ms_cursor *c, ms_az_hcl *h)
{
    uint32_t magic, request_type, status;
    const uint8_t *reserved;
    TRY(ms_cursor_read_u32le(c, &magic));
    TRY(ms_cursor_read_u32le(c, &h->version));
    TRY(ms_cursor_read_u32le(c, &h->report_size));
    TRY(ms_cursor_read_u32le(c, &request_type));
    TRY(ms_cursor_read_u32le(c, &status));
    TRY(ms_cursor_borrow(c, &reserved, 12));
    ENSURE(magic == MS_AZ_HCL_MAGIC && (h->version == 1 || h->version == 2), MS_ERR_AZ_FORMAT);
    ENSURE(request_type == MS_AZ_HCL_REQUEST_AK_CERT && status == 0 && all_zero(reserved, 12),
           MS_ERR_AZ_FORMAT);
    return MS_OK;
}

/* Request data: data_size, version, report_type, hash_type, var_data_size, then the data. */
static ms_err read_request(ms_cursor *c, ms_az_hcl *h)
{
    uint32_t data_size, version, var_size;
    TRY(ms_cursor_read_u32le(c, &data_size));
    TRY(ms_cursor_read_u32le(c, &version));
    TRY(ms_cursor_read_u32le(c, &h->report_type));
    TRY(ms_cursor_read_u32le(c, &h->hash_type));
    TRY(ms_cursor_read_u32le(c, &var_size));
    ENSURE(version == MS_AZ_HCL_REQ_VERSION, MS_ERR_AZ_FORMAT);
    ENSURE(h->report_type == MS_AZ_REPORT_SNP || h->report_type == MS_AZ_REPORT_TDX,
           MS_ERR_AZ_FORMAT);
    h->hash_len = hash_len_of(h->hash_type);
    ENSURE(h->hash_len != 0, MS_ERR_AZ_FORMAT);
    ENSURE(var_size >= 1 && var_size <= MS_AZ_MAX_VAR_DATA, MS_ERR_AZ_FORMAT);
    ENSURE(data_size == MS_AZ_HCL_REQ_HEADER_LEN + var_size, MS_ERR_AZ_FORMAT);
    ENSURE(h->report_size == MS_AZ_HCL_HEADER_LEN + MS_AZ_HCL_HW_LEN + data_size,
           MS_ERR_AZ_FORMAT);
    h->var_data_len = var_size;
    return ms_cursor_borrow(c, &h->var_data, var_size);
}

static ms_err decode(const uint8_t *p, size_t len, ms_az_hcl *h)
{
    ENSURE(p != NULL && len <= MS_AZ_MAX_HCL, MS_ERR_AZ_FORMAT);
    ms_cursor c = ms_cursor_init(p, len);
    const uint8_t *tail;
    TRY(read_header(&c, h));
    ENSURE(h->report_size <= len, MS_ERR_AZ_FORMAT);
    TRY(ms_cursor_borrow(&c, &h->hw, MS_AZ_HCL_HW_LEN));
    TRY(read_request(&c, h));
    /* The NV index's zero fill after the report, and nothing else. */
    size_t rest = ms_cursor_remaining(&c);
    TRY(ms_cursor_borrow(&c, &tail, rest));
    ENSURE(all_zero(tail, rest), MS_ERR_AZ_FORMAT);
    return ms_cursor_expect_end(&c);
}

ms_err ms_az_hcl_decode(const uint8_t *p, size_t len, ms_az_hcl *out)
{
    memset(out, 0, sizeof *out);
    if (decode(p, len, out) != MS_OK) {
        memset(out, 0, sizeof *out);
        return MS_ERR_AZ_FORMAT; /* a short read is a format error like any other */
    }
    return MS_OK;
}

ms_err ms_az_hcl_check_var_data_hash(const ms_az_hcl *h)
{
    const EVP_MD *md = h->hash_type == MS_AZ_HASH_SHA256   ? EVP_sha256()
                       : h->hash_type == MS_AZ_HASH_SHA384 ? EVP_sha384()
                                                           : EVP_sha512();
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    ENSURE(h->hw != NULL && h->hash_len != 0, MS_ERR_ARG);
    ENSURE(EVP_Digest(h->var_data, h->var_data_len, d, &n, md, NULL) == 1 && n == h->hash_len,
           MS_ERR_INTERNAL);
    const uint8_t *rd = h->hw + (h->report_type == MS_AZ_REPORT_SNP ? SNP_REPORT_DATA_OFF
                                                                     : TD_REPORT_DATA_OFF);
    ENSURE(ms_ct_equal(rd, d, n) && all_zero(rd + n, MS_SNP_REPORT_DATA_LEN - n),
           MS_ERR_AZ_VAR_DATA_HASH);
    return MS_OK;
}

/* --- variable data ------------------------------------------------------------------------ */

/* base64url without padding (RFC 7515 §2) into out[0..*n) (common/codec.h's decoder). */
static ms_err b64url(const char *s, size_t len, uint8_t *out, size_t cap, size_t *n)
{
    ms_buf b;
    *n = 0;
    ENSURE(len >= 2 && len <= MAX_B64URL, MS_ERR_AZ_AKPUB);
    ms_buf_init(&b, cap);
    ms_err e = ms_base64url_decode_buf(s, len, &b);
    if (e == MS_OK) {
        memcpy(out, b.p, b.len);
        *n = b.len;
    }
    ms_buf_free(&b);
    return e == MS_OK ? MS_OK : MS_ERR_AZ_AKPUB;
}

static ms_err read_akpub(ms_json_val key, ms_az_var_data *out)
{
    static const char *const kty[] = {"RSA"};
    size_t idx, nl, el, elen;
    const char *n, *e;
    uint8_t eb[8];
    ENSURE(ms_json_get_enum(key, "kty", kty, 1, &idx) == MS_OK, MS_ERR_AZ_AKPUB);
    ENSURE(ms_json_get_str(key, "n", MAX_B64URL, &n, &nl) == MS_OK, MS_ERR_AZ_AKPUB);
    ENSURE(ms_json_get_str(key, "e", 8, &e, &el) == MS_OK, MS_ERR_AZ_AKPUB);
    TRY(b64url(n, nl, out->ak_n, sizeof out->ak_n, &out->ak_n_len));
    ENSURE((out->ak_n_len == 256 || out->ak_n_len == 384 || out->ak_n_len == 512) &&
               out->ak_n[0] != 0,
           MS_ERR_AZ_AKPUB);
    TRY(b64url(e, el, eb, sizeof eb, &elen));
    ENSURE(elen == 3 && eb[0] == 0x01 && eb[1] == 0x00 && eb[2] == 0x01, MS_ERR_AZ_AKPUB);
    out->ak_e = MS_AZ_RSA_E;
    return MS_OK;
}

static ms_err read_keys(ms_json_val root, ms_az_var_data *out)
{
    ms_json_val keys, k;
    size_t n;
    int seen_ak = 0;
    ENSURE(ms_json_get_arr(root, "keys", MS_AZ_MAX_JWK_KEYS, &keys, &n) == MS_OK && n >= 1,
           MS_ERR_AZ_VAR_DATA);
    ms_json_iter it = ms_json_iter_init(keys);
    while (ms_json_iter_next(&it, &k, NULL)) {
        const char *kid;
        size_t kl;
        ENSURE(ms_json_get_str(k, "kid", MAX_KID, &kid, &kl) == MS_OK, MS_ERR_AZ_VAR_DATA);
        if (strcmp(kid, "HCLAkPub") == 0) {
            ENSURE(!seen_ak, MS_ERR_AZ_AKPUB);
            seen_ak = 1;
            TRY(read_akpub(k, out));
        } else if (strcmp(kid, "HCLEkPub") == 0) {
            out->has_ek = 1;
        }
        out->n_keys++;
    }
    ENSURE(seen_ak, MS_ERR_AZ_AKPUB);
    return MS_OK;
}

static ms_err read_user_data(ms_json_val root, ms_az_var_data *out)
{
    const char *s;
    size_t len, got;
    ENSURE(ms_json_get_str_opt(root, "user-data", 2 * MS_AZ_USER_DATA_LEN, NULL, &s, &len) ==
               MS_OK,
           MS_ERR_AZ_VAR_DATA);
    if (s == NULL) {
        return MS_OK;
    }
    ENSURE(len == 2 * MS_AZ_USER_DATA_LEN &&
               ms_hex_decode(s, len, out->user_data, MS_AZ_USER_DATA_LEN, &got) == MS_OK &&
               got == MS_AZ_USER_DATA_LEN,
           MS_ERR_AZ_VAR_DATA);
    out->has_user_data = 1;
    return MS_OK;
}

ms_err ms_az_var_data_parse(const uint8_t *p, size_t len, ms_az_var_data *out)
{
    memset(out, 0, sizeof *out);
    ms_json_doc *doc = NULL;
    ms_json_val root;
    ms_err err;
    ENSURE_OUT(p != NULL && len <= MS_AZ_MAX_VAR_DATA, MS_ERR_AZ_VAR_DATA);
    ENSURE_OUT(ms_json_parse((const char *)p, len, &doc) == MS_OK, MS_ERR_AZ_VAR_DATA);
    ENSURE_OUT(ms_json_as_obj(ms_json_root(doc), &root) == MS_OK, MS_ERR_AZ_VAR_DATA);
    TRY_OUT(read_keys(root, out));
    TRY_OUT(read_user_data(root, out));
out:
    ms_json_free(doc);
    if (err != MS_OK) {
        memset(out, 0, sizeof *out);
    }
    return err;
}

/* --- TD report ---------------------------------------------------------------------------- */

static ms_err read_mac_struct(ms_cursor *c, ms_az_td_report *r)
{
    uint8_t reserved;
    const uint8_t *rsv;
    TRY(ms_cursor_read_u8(c, &r->type));
    TRY(ms_cursor_read_u8(c, &r->subtype));
    TRY(ms_cursor_read_u8(c, &r->version));
    TRY(ms_cursor_read_u8(c, &reserved));
    TRY(ms_cursor_borrow(c, &rsv, 12));
    ENSURE(r->type == 0x81 && r->subtype == 0 && r->version <= 1, MS_ERR_AZ_FORMAT);
    ENSURE(reserved == 0 && all_zero(rsv, 12), MS_ERR_AZ_FORMAT);
    TRY(ms_cursor_read_bytes(c, r->cpusvn, sizeof r->cpusvn));
    TRY(ms_cursor_read_bytes(c, r->tee_tcb_info_hash, sizeof r->tee_tcb_info_hash));
    TRY(ms_cursor_read_bytes(c, r->tee_info_hash, sizeof r->tee_info_hash));
    TRY(ms_cursor_read_bytes(c, r->report_data, sizeof r->report_data));
    TRY(ms_cursor_borrow(c, &rsv, 32));
    ENSURE(all_zero(rsv, 32), MS_ERR_AZ_FORMAT);
    return ms_cursor_read_bytes(c, r->mac, sizeof r->mac);
}

/* TEE_TCB_INFO (239 bytes; its tail differs between TDX 1.0 and 1.5: not read) + 17 reserved. */
static ms_err read_tcb_info(ms_cursor *c, ms_az_td_report *r)
{
    TRY(ms_cursor_skip(c, 8)); /* VALID */
    TRY(ms_cursor_read_bytes(c, r->tee_tcb_svn, sizeof r->tee_tcb_svn));
    TRY(ms_cursor_read_bytes(c, r->mrseam, sizeof r->mrseam));
    TRY(ms_cursor_read_bytes(c, r->mrsignerseam, sizeof r->mrsignerseam));
    TRY(ms_cursor_read_u64le(c, &r->seam_attributes));
    return ms_cursor_skip(c, 239 - 128 + 17);
}

static ms_err read_td_info(ms_cursor *c, ms_az_td_report *r)
{
    TRY(ms_cursor_read_u64le(c, &r->td_attributes));
    TRY(ms_cursor_read_u64le(c, &r->xfam));
    TRY(ms_cursor_read_bytes(c, r->mrtd, sizeof r->mrtd));
    TRY(ms_cursor_read_bytes(c, r->mrconfigid, sizeof r->mrconfigid));
    TRY(ms_cursor_read_bytes(c, r->mrowner, sizeof r->mrowner));
    TRY(ms_cursor_read_bytes(c, r->mrownerconfig, sizeof r->mrownerconfig));
    for (int i = 0; i < 4; i++) {
        TRY(ms_cursor_read_bytes(c, r->rtmr[i], sizeof r->rtmr[i]));
    }
    TRY(ms_cursor_read_bytes(c, r->servtd_hash, sizeof r->servtd_hash));
    return ms_cursor_skip(c, 64);
}

ms_err ms_az_td_report_decode(const uint8_t hw[static MS_AZ_HCL_HW_LEN], ms_az_td_report *out)
{
    memset(out, 0, sizeof *out);
    ms_cursor c = ms_cursor_init(hw, MS_AZ_HCL_HW_LEN);
    ms_err err = read_mac_struct(&c, out);
    if (err == MS_OK) {
        err = read_tcb_info(&c, out);
    }
    if (err == MS_OK) {
        err = read_td_info(&c, out);
    }
    if (err == MS_OK && !all_zero(hw + MS_AZ_TD_REPORT_LEN, MS_AZ_HCL_HW_LEN - MS_AZ_TD_REPORT_LEN)) {
        err = MS_ERR_AZ_FORMAT;
    }
    if (err != MS_OK) {
        memset(out, 0, sizeof *out);
        return MS_ERR_AZ_FORMAT;
    }
    return MS_OK;
}
