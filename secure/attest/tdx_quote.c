/* TDX quote (v4, v5) and evidence bundle decoding: Intel's layout read with the bounded cursor. */
#include "secure/attest/tdx.h"

#include <string.h>

#include "common/check.h"
#include "common/cursor.h"

/* Signature data before the certification data: ECDSA signature, attestation key. */
#define TDX_SIG_FIXED (MS_TDX_ECDSA_SIG_LEN + MS_TDX_ECDSA_KEY_LEN)
/* QE report certification data (type 6) before the QE authentication data. */
#define TDX_QE_FIXED (MS_TDX_QE_REPORT_LEN + MS_TDX_ECDSA_SIG_LEN)

static uint64_t load_u64le(const uint8_t b[static 8])
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | b[i];
    }
    return v;
}

static ms_err read_u64le_bytes(ms_cursor *c, uint64_t *v)
{
    uint8_t b[8];
    TRY(ms_cursor_read_bytes(c, b, sizeof b));
    *v = load_u64le(b);
    return MS_OK;
}

/* Header, 48 bytes. */
static ms_err read_header(ms_cursor *c, ms_tdx_quote *q)
{
    TRY(ms_cursor_read_u16le(c, &q->version));
    ENSURE(q->version == MS_TDX_VERSION_4 || q->version == MS_TDX_VERSION_5, MS_ERR_TDX_FORMAT);
    TRY(ms_cursor_read_u16le(c, &q->ak_type));
    ENSURE(q->ak_type == MS_TDX_AK_ECDSA_P256, MS_ERR_TDX_FORMAT);
    TRY(ms_cursor_read_u32le(c, &q->tee_type));
    ENSURE(q->tee_type == MS_TDX_TEE_TYPE, MS_ERR_TDX_FORMAT);
    TRY(ms_cursor_read_u16le(c, &q->qe_svn));
    TRY(ms_cursor_read_u16le(c, &q->pce_svn));
    TRY(ms_cursor_read_bytes(c, q->qe_vendor_id, sizeof q->qe_vendor_id));
    return ms_cursor_read_bytes(c, q->user_data, sizeof q->user_data);
}

/* TD report body: 584 bytes (TD 1.0), then 64 more for TD 1.5. */
static ms_err read_td(ms_cursor *c, uint16_t body_type, ms_tdx_td_report *t)
{
    TRY(ms_cursor_read_bytes(c, t->tee_tcb_svn, sizeof t->tee_tcb_svn));
    TRY(ms_cursor_read_bytes(c, t->mrseam, sizeof t->mrseam));
    TRY(ms_cursor_read_bytes(c, t->mrsignerseam, sizeof t->mrsignerseam));
    TRY(ms_cursor_read_bytes(c, t->seam_attributes, sizeof t->seam_attributes));
    TRY(read_u64le_bytes(c, &t->td_attributes));
    TRY(read_u64le_bytes(c, &t->xfam));
    TRY(ms_cursor_read_bytes(c, t->mrtd, sizeof t->mrtd));
    TRY(ms_cursor_read_bytes(c, t->mrconfigid, sizeof t->mrconfigid));
    TRY(ms_cursor_read_bytes(c, t->mrowner, sizeof t->mrowner));
    TRY(ms_cursor_read_bytes(c, t->mrownerconfig, sizeof t->mrownerconfig));
    for (size_t i = 0; i < MS_TDX_RTMRS; i++) {
        TRY(ms_cursor_read_bytes(c, t->rtmr[i], MS_TDX_MEAS_LEN));
    }
    TRY(ms_cursor_read_bytes(c, t->report_data, sizeof t->report_data));
    if (body_type == MS_TDX_BODY_TD15) {
        TRY(ms_cursor_read_bytes(c, t->tee_tcb_svn2, sizeof t->tee_tcb_svn2));
        TRY(ms_cursor_read_bytes(c, t->mrservicetd, sizeof t->mrservicetd));
    }
    return MS_OK;
}

/* v4: the body follows the header. v5: u16 body type, u32 body size, then the body. */
static ms_err read_body(ms_cursor *c, ms_tdx_quote *q)
{
    q->body_type = MS_TDX_BODY_TD10;
    uint32_t size = MS_TDX_TD10_LEN;
    if (q->version == MS_TDX_VERSION_5) {
        TRY(ms_cursor_read_u16le(c, &q->body_type));
        TRY(ms_cursor_read_u32le(c, &size));
        ENSURE((q->body_type == MS_TDX_BODY_TD10 && size == MS_TDX_TD10_LEN) ||
                   (q->body_type == MS_TDX_BODY_TD15 && size == MS_TDX_TD15_LEN),
               MS_ERR_TDX_FORMAT);
    }
    ms_cursor body;
    TRY(ms_cursor_sub(c, &body, size));
    TRY(read_td(&body, q->body_type, &q->td));
    return ms_cursor_expect_end(&body);
}

/* The SGX report body of the quoting enclave, 384 bytes. */
static ms_err read_qe_report(ms_cursor *c, ms_tdx_qe_report *r)
{
    TRY(ms_cursor_read_bytes(c, r->cpusvn, sizeof r->cpusvn));
    TRY(ms_cursor_read_u32le(c, &r->miscselect));
    TRY(ms_cursor_skip(c, 28));
    TRY(ms_cursor_read_bytes(c, r->attributes, sizeof r->attributes));
    TRY(ms_cursor_read_bytes(c, r->mrenclave, sizeof r->mrenclave));
    TRY(ms_cursor_skip(c, 32));
    TRY(ms_cursor_read_bytes(c, r->mrsigner, sizeof r->mrsigner));
    TRY(ms_cursor_skip(c, 96));
    TRY(ms_cursor_read_u16le(c, &r->isvprodid));
    TRY(ms_cursor_read_u16le(c, &r->isvsvn));
    TRY(ms_cursor_skip(c, 60));
    return ms_cursor_read_bytes(c, r->report_data, sizeof r->report_data);
}

/* The inner certification data, exactly the declared size: type 5, the PEM chain; or a
   type 1..4 (PPID forms, the PCK leaf), whose chain comes with the collateral. */
static ms_err read_pck_chain(ms_cursor *c, ms_tdx_quote *q)
{
    uint16_t type;
    uint32_t size;
    TRY(ms_cursor_read_u16le(c, &type));
    ENSURE(type >= MS_TDX_CERT_PPID_CLEAR && type <= MS_TDX_CERT_PCK_CHAIN, MS_ERR_TDX_FORMAT);
    TRY(ms_cursor_read_u32le(c, &size));
    ENSURE(size >= 1 && size <= MS_TDX_MAX_PCK_CHAIN, MS_ERR_TDX_FORMAT);
    ENSURE(size == ms_cursor_remaining(c), MS_ERR_TDX_FORMAT);
    TRY(ms_cursor_borrow(c, &q->cert_data, size));
    q->cert_type = type;
    q->cert_data_len = size;
    if (type == MS_TDX_CERT_PCK_CHAIN) {
        q->pck_chain = q->cert_data;
        q->pck_chain_len = size;
    }
    return MS_OK;
}

/* Certification data type 6: QE report, its signature, QE auth data, then a type 5. */
static ms_err read_qe_cert_data(ms_cursor *c, ms_tdx_quote *q)
{
    uint16_t type, auth_len;
    uint32_t size;
    TRY(ms_cursor_read_u16le(c, &type));
    ENSURE(type == MS_TDX_CERT_QE_REPORT, MS_ERR_TDX_FORMAT);
    TRY(ms_cursor_read_u32le(c, &size));
    ENSURE(size == ms_cursor_remaining(c), MS_ERR_TDX_FORMAT);
    TRY(ms_cursor_borrow(c, &q->qe_report_raw, MS_TDX_QE_REPORT_LEN));
    ms_cursor qe = ms_cursor_init(q->qe_report_raw, MS_TDX_QE_REPORT_LEN);
    TRY(read_qe_report(&qe, &q->qe));
    TRY(ms_cursor_read_bytes(c, q->qe_signature, sizeof q->qe_signature));
    TRY(ms_cursor_read_u16le(c, &auth_len));
    ENSURE(auth_len <= MS_TDX_MAX_QE_AUTH, MS_ERR_TDX_FORMAT);
    TRY(ms_cursor_borrow(c, &q->qe_auth, auth_len));
    q->qe_auth_len = auth_len;
    return read_pck_chain(c, q);
}

/* u32 signature data length (exactly the rest), signature, attestation key, type 6. */
static ms_err read_sig_data(ms_cursor *c, ms_tdx_quote *q)
{
    uint32_t size;
    TRY(ms_cursor_read_u32le(c, &size));
    ENSURE(size == ms_cursor_remaining(c), MS_ERR_TDX_FORMAT);
    TRY(ms_cursor_read_bytes(c, q->signature, sizeof q->signature));
    TRY(ms_cursor_read_bytes(c, q->attest_key, sizeof q->attest_key));
    return read_qe_cert_data(c, q);
}

static ms_err read_quote(ms_cursor *c, ms_tdx_quote *q)
{
    TRY(read_header(c, q));
    TRY(read_body(c, q));
    q->signed_len = c->off;
    TRY(read_sig_data(c, q));
    return ms_cursor_expect_end(c);
}

ms_err ms_tdx_quote_decode(const uint8_t *p, size_t len, ms_tdx_quote *out)
{
    memset(out, 0, sizeof *out);
    ENSURE(p != NULL && len >= MS_TDX_MIN_QUOTE && len <= MS_TDX_MAX_QUOTE, MS_ERR_TDX_FORMAT);
    ms_cursor c = ms_cursor_init(p, len);
    if (read_quote(&c, out) != MS_OK) {
        memset(out, 0, sizeof *out);
        return MS_ERR_TDX_FORMAT;
    }
    out->len = len;
    return MS_OK;
}

/* The quote's end by its own length fields: header, body (size per version), signature data. */
static ms_err quote_end(const uint8_t *p, size_t len, size_t *end)
{
    ms_cursor c = ms_cursor_init(p, len);
    uint16_t version, body_type = 0;
    uint32_t body = MS_TDX_TD10_LEN, sig;
    TRY(ms_cursor_read_u16le(&c, &version));
    ENSURE(version == MS_TDX_VERSION_4 || version == MS_TDX_VERSION_5, MS_ERR_TDX_FORMAT);
    TRY(ms_cursor_skip(&c, MS_TDX_HEADER_LEN - 2u));
    if (version == MS_TDX_VERSION_5) {
        TRY(ms_cursor_read_u16le(&c, &body_type));
        TRY(ms_cursor_read_u32le(&c, &body));
        ENSURE(body <= MS_TDX_TD15_LEN, MS_ERR_TDX_FORMAT);
    }
    TRY(ms_cursor_skip(&c, body));
    TRY(ms_cursor_read_u32le(&c, &sig));
    ENSURE(sig <= MS_TDX_MAX_QUOTE, MS_ERR_TDX_FORMAT);
    TRY(ms_cursor_skip(&c, sig));
    *end = c.off;
    return MS_OK;
}

ms_err ms_tdx_quote_unpad(const uint8_t *p, size_t len, size_t *qlen, size_t *pad)
{
    *qlen = 0;
    *pad = 0;
    ENSURE(p != NULL && len <= MS_TDX_MAX_OUTBLOB, MS_ERR_TDX_FORMAT);
    size_t end = 0;
    ENSURE(quote_end(p, len, &end) == MS_OK, MS_ERR_TDX_FORMAT);
    uint8_t acc = 0;
    for (size_t i = end; i < len; i++) {
        acc |= p[i];
    }
    ENSURE(acc == 0, MS_ERR_TDX_FORMAT);
    *qlen = end;
    *pad = len - end;
    return MS_OK;
}

int ms_tdx_quote_sniff(const uint8_t *p, size_t len)
{
    if (p == NULL || len < MS_TDX_HEADER_LEN) {
        return 0;
    }
    uint16_t version = (uint16_t)(p[0] | p[1] << 8);
    uint16_t ak = (uint16_t)(p[2] | p[3] << 8);
    uint32_t tee = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
                   (uint32_t)p[7] << 24;
    return (version == MS_TDX_VERSION_4 || version == MS_TDX_VERSION_5) &&
           ak == MS_TDX_AK_ECDSA_P256 && tee == MS_TDX_TEE_TYPE;
}

/* ---- bundle ----------------------------------------------------------------------------- */

/* The parts in wire order with their caps. */
static const size_t PART_CAP[MS_TDX_BUNDLE_PARTS] = {
    MS_TDX_MAX_QUOTE,           MS_TDX_MAX_COLLATERAL_JSON, MS_TDX_MAX_COLLATERAL_JSON,
    MS_TDX_MAX_PCK_CHAIN,       MS_TDX_MAX_CRL,             MS_TDX_MAX_CRL,
};

static void parts_of(ms_tdx_bundle *b, const uint8_t ***p, size_t **n)
{
    p[0] = &b->quote;
    n[0] = &b->quote_len;
    p[1] = &b->collateral.tcb_info;
    n[1] = &b->collateral.tcb_info_len;
    p[2] = &b->collateral.qe_identity;
    n[2] = &b->collateral.qe_identity_len;
    p[3] = &b->collateral.signing_chain_pem;
    n[3] = &b->collateral.signing_chain_len;
    p[4] = &b->pck_crl;
    n[4] = &b->pck_crl_len;
    p[5] = &b->collateral.root_crl;
    n[5] = &b->collateral.root_crl_len;
}

static ms_err read_bundle(ms_cursor *c, ms_tdx_bundle *b)
{
    const uint8_t **p[MS_TDX_BUNDLE_PARTS];
    size_t *n[MS_TDX_BUNDLE_PARTS];
    uint8_t format;
    parts_of(b, p, n);
    TRY(ms_cursor_read_u8(c, &format));
    ENSURE(format == MS_TDX_BUNDLE_FORMAT, MS_ERR_TDX_FORMAT);
    for (size_t i = 0; i < MS_TDX_BUNDLE_PARTS; i++) {
        uint32_t len;
        TRY(ms_cursor_read_u32be(c, &len));
        ENSURE(len <= PART_CAP[i] && (i != 0 || len > 0), MS_ERR_TDX_FORMAT);
        if (len > 0) {
            TRY(ms_cursor_borrow(c, p[i], len));
            *n[i] = len;
        }
    }
    return ms_cursor_expect_end(c);
}

ms_err ms_tdx_bundle_decode(const uint8_t *ev, size_t len, ms_tdx_bundle *out)
{
    memset(out, 0, sizeof *out);
    ENSURE(ev != NULL && len <= MS_MAX_EVIDENCE, MS_ERR_TDX_FORMAT);
    ms_cursor c = ms_cursor_init(ev, len);
    if (read_bundle(&c, out) != MS_OK) {
        memset(out, 0, sizeof *out);
        return MS_ERR_TDX_FORMAT;
    }
    return MS_OK;
}

ms_err ms_tdx_bundle_encode(const ms_tdx_bundle *b, ms_buf *out)
{
    ms_tdx_bundle copy = *b;
    const uint8_t **p[MS_TDX_BUNDLE_PARTS];
    size_t *n[MS_TDX_BUNDLE_PARTS];
    size_t total = 1;
    parts_of(&copy, p, n);
    ENSURE(copy.quote != NULL && copy.quote_len > 0, MS_ERR_ARG);
    for (size_t i = 0; i < MS_TDX_BUNDLE_PARTS; i++) {
        ENSURE((*p[i] == NULL) == (*n[i] == 0) && *n[i] <= PART_CAP[i], MS_ERR_ARG);
        total += 4u + *n[i];
    }
    ENSURE(total <= MS_MAX_EVIDENCE, MS_ERR_ARG);
    /* Reserve the whole bundle first: the appends below then cannot fail half way. */
    TRY(ms_buf_reserve(out, total));
    TRY(ms_buf_append_u8(out, MS_TDX_BUNDLE_FORMAT));
    for (size_t i = 0; i < MS_TDX_BUNDLE_PARTS; i++) {
        TRY(ms_buf_append_u32be(out, (uint32_t)*n[i]));
        if (*n[i] > 0) {
            TRY(ms_buf_append(out, *p[i], *n[i]));
        }
    }
    return MS_OK;
}
