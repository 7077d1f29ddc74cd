/* The SGX extensions of an Intel PCK certificate, read with a small strict DER reader. */
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "common/buf.h"
#include "common/check.h"
#include "common/cursor.h"
#include "secure/attest/tdx_collateral.h"

/*
 * ---- DER reader ------------------------------------------------------------------------
 * Only what the SGX extensions use: one-byte tags, definite lengths in minimal form up to
 * two length bytes, INTEGER / ENUMERATED as small non-negative values in minimal form,
 * BOOLEAN as 00 or FF, OCTET STRING of an exact size. Every error is MS_ERR_TDX_PCK_EXT.
 */
#define DER_BOOLEAN 0x01u
#define DER_INTEGER 0x02u
#define DER_OCTET_STRING 0x04u
#define DER_OID 0x06u
#define DER_ENUMERATED 0x0Au
#define DER_SEQUENCE 0x30u

#define BAD MS_ERR_TDX_PCK_EXT
#define SGX_ITEMS 7u /* .1 .. .7 */
#define SGX_TCB_ITEMS 18u

/* 1.2.840.113741.1.13.1: the SGX extensions; their items add one arc (.n), TCB items two. */
static const uint8_t OID_SGX[] = {0x2A, 0x86, 0x48, 0x86, 0xF8, 0x4D, 0x01, 0x0D, 0x01};
#define OID_SGX_TEXT "1.2.840.113741.1.13.1"

/* The value of the next TLV, which must carry `tag`. */
static ms_err der_tlv(ms_cursor *c, uint8_t tag, ms_cursor *val)
{
    uint8_t t;
    uint8_t l;
    size_t len;
    ENSURE(ms_cursor_read_u8(c, &t) == MS_OK && t == tag, BAD);
    ENSURE(ms_cursor_read_u8(c, &l) == MS_OK, BAD);
    if (l < 0x80) {
        len = l;
    } else if (l == 0x81) {
        uint8_t b;
        ENSURE(ms_cursor_read_u8(c, &b) == MS_OK && b >= 0x80, BAD);
        len = b;
    } else if (l == 0x82) {
        uint16_t w;
        ENSURE(ms_cursor_read_u16be(c, &w) == MS_OK && w >= 0x100, BAD);
        len = w;
    } else {
        return BAD; /* indefinite (0x80), or longer than this format ever needs */
    }
    ENSURE(ms_cursor_sub(c, val, len) == MS_OK, BAD);
    return MS_OK;
}

/* A non-negative INTEGER or ENUMERATED up to `max`, minimally encoded. */
static ms_err der_uint(ms_cursor *c, uint8_t tag, uint32_t max, uint32_t *out)
{
    ms_cursor v;
    *out = 0;
    TRY(der_tlv(c, tag, &v));
    size_t n = ms_cursor_remaining(&v);
    ENSURE(n >= 1 && n <= 3, BAD);
    uint8_t b[3] = {0};
    ENSURE(ms_cursor_read_bytes(&v, b, n) == MS_OK, BAD);
    ENSURE((b[0] & 0x80) == 0, BAD);                       /* negative */
    ENSURE(n == 1 || b[0] != 0 || (b[1] & 0x80) != 0, BAD); /* not minimal */
    uint32_t x = 0;
    for (size_t i = 0; i < n; i++) {
        x = x << 8 | b[i];
    }
    ENSURE(x <= max, BAD);
    *out = x;
    return MS_OK;
}

static ms_err der_octets(ms_cursor *c, uint8_t *out, size_t n)
{
    ms_cursor v;
    TRY(der_tlv(c, DER_OCTET_STRING, &v));
    ENSURE(ms_cursor_remaining(&v) == n && ms_cursor_read_bytes(&v, out, n) == MS_OK, BAD);
    return MS_OK;
}

static ms_err der_bool(ms_cursor *c)
{
    ms_cursor v;
    uint8_t b;
    TRY(der_tlv(c, DER_BOOLEAN, &v));
    ENSURE(ms_cursor_read_u8(&v, &b) == MS_OK && (b == 0x00 || b == 0xFF), BAD);
    ENSURE(ms_cursor_expect_end(&v) == MS_OK, BAD);
    return MS_OK;
}

/*
 * An item's OID: OID_SGX, then `depth` more arcs in 1..127 (one byte each). arcs[] gets
 * them. Any other OID is refused: the extension holds nothing else.
 */
static ms_err der_sgx_oid(ms_cursor *c, size_t depth, uint8_t arcs[static 2])
{
    ms_cursor v;
    uint8_t prefix[sizeof OID_SGX];
    TRY(der_tlv(c, DER_OID, &v));
    ENSURE(ms_cursor_remaining(&v) == sizeof OID_SGX + depth, BAD);
    ENSURE(ms_cursor_read_bytes(&v, prefix, sizeof prefix) == MS_OK, BAD);
    ENSURE(ms_ct_equal(prefix, OID_SGX, sizeof OID_SGX), BAD);
    for (size_t i = 0; i < depth; i++) {
        ENSURE(ms_cursor_read_u8(&v, &arcs[i]) == MS_OK && arcs[i] >= 1 && arcs[i] <= 127, BAD);
    }
    return MS_OK;
}

/* ---- the extension's items ---------------------------------------------------------------- */

/* TCB (.2): SEQUENCE of 18 (OID .2.n, value): components 1..16, PCESVN (17), CPUSVN (18). */
static ms_err read_tcb(ms_cursor *c, ms_tdx_pck_ext *out)
{
    ms_cursor seq;
    uint8_t seen[SGX_TCB_ITEMS] = {0};
    TRY(der_tlv(c, DER_SEQUENCE, &seq));
    while (ms_cursor_remaining(&seq) > 0) {
        ms_cursor item;
        uint8_t arcs[2];
        uint32_t v;
        TRY(der_tlv(&seq, DER_SEQUENCE, &item));
        TRY(der_sgx_oid(&item, 2, arcs));
        ENSURE(arcs[0] == 2 && arcs[1] <= SGX_TCB_ITEMS, BAD);
        ENSURE(!seen[arcs[1] - 1], BAD);
        seen[arcs[1] - 1] = 1;
        if (arcs[1] <= 16) {
            TRY(der_uint(&item, DER_INTEGER, 255, &v));
            out->sgx_comp[arcs[1] - 1] = (uint8_t)v;
        } else if (arcs[1] == 17) {
            TRY(der_uint(&item, DER_INTEGER, 65535, &v));
            out->pcesvn = (uint16_t)v;
        } else {
            TRY(der_octets(&item, out->cpusvn, sizeof out->cpusvn));
        }
        ENSURE(ms_cursor_expect_end(&item) == MS_OK, BAD);
    }
    for (size_t i = 0; i < SGX_TCB_ITEMS; i++) {
        ENSURE(seen[i], BAD);
    }
    return MS_OK;
}

/* Configuration (.7): SEQUENCE of (OID .7.n, BOOLEAN), n in 1..3, each at most once. */
static ms_err read_config(ms_cursor *c)
{
    ms_cursor seq;
    uint8_t seen[3] = {0};
    TRY(der_tlv(c, DER_SEQUENCE, &seq));
    while (ms_cursor_remaining(&seq) > 0) {
        ms_cursor item;
        uint8_t arcs[2];
        TRY(der_tlv(&seq, DER_SEQUENCE, &item));
        TRY(der_sgx_oid(&item, 2, arcs));
        ENSURE(arcs[0] == 7 && arcs[1] <= 3 && !seen[arcs[1] - 1], BAD);
        seen[arcs[1] - 1] = 1;
        TRY(der_bool(&item));
        ENSURE(ms_cursor_expect_end(&item) == MS_OK, BAD);
    }
    return MS_OK;
}

/* One item of the top-level SEQUENCE: (OID .n, value). */
static ms_err read_item(ms_cursor *item, uint8_t n, ms_tdx_pck_ext *out)
{
    uint32_t v;
    uint8_t instance[16];
    switch (n) {
    case 1:
        return der_octets(item, out->ppid, sizeof out->ppid);
    case 2:
        return read_tcb(item, out);
    case 3:
        return der_octets(item, out->pceid, sizeof out->pceid);
    case 4:
        return der_octets(item, out->fmspc, sizeof out->fmspc);
    case 5:
        TRY(der_uint(item, DER_ENUMERATED, 2, &v));
        out->sgx_type = (uint8_t)v;
        return MS_OK;
    case 6: /* PlatformInstanceID (multi-package platforms): checked, not kept */
        return der_octets(item, instance, sizeof instance);
    case 7:
        return read_config(item);
    default:
        return BAD;
    }
}

/* The extension's value: SEQUENCE of items; .1 to .5 required, .6 and .7 optional. */
static ms_err read_sgx_ext(const uint8_t *p, size_t len, ms_tdx_pck_ext *out)
{
    ms_cursor c = ms_cursor_init(p, len);
    ms_cursor seq;
    uint8_t seen[SGX_ITEMS] = {0};
    TRY(der_tlv(&c, DER_SEQUENCE, &seq));
    ENSURE(ms_cursor_expect_end(&c) == MS_OK, BAD);
    while (ms_cursor_remaining(&seq) > 0) {
        ms_cursor item;
        uint8_t arcs[2];
        TRY(der_tlv(&seq, DER_SEQUENCE, &item));
        TRY(der_sgx_oid(&item, 1, arcs));
        ENSURE(arcs[0] <= SGX_ITEMS && !seen[arcs[0] - 1], BAD);
        seen[arcs[0] - 1] = 1;
        TRY(read_item(&item, arcs[0], out));
        ENSURE(ms_cursor_expect_end(&item) == MS_OK, BAD);
    }
    for (size_t i = 0; i < 5; i++) {
        ENSURE(seen[i], BAD);
    }
    return MS_OK;
}

/* The extension value alone: the fuzz harness reaches the reader without a certificate. */
ms_err ms_tdx_pck_ext_value_decode(const uint8_t *p, size_t len, ms_tdx_pck_ext *out)
{
    memset(out, 0, sizeof *out);
    ms_err err = read_sgx_ext(p, len, out);
    if (err != MS_OK) {
        memset(out, 0, sizeof *out);
    }
    return err;
}

ms_err ms_tdx_pck_ext_decode(const uint8_t *der, size_t len, ms_tdx_pck_ext *out)
{
    ms_err err = BAD;
    X509 *x = NULL;
    ASN1_OBJECT *obj = NULL;
    memset(out, 0, sizeof *out);
    ENSURE(der != NULL && len > 0 && len <= MS_TDX_MAX_PCK_CERT, BAD);
    const unsigned char *p = der;
    x = d2i_X509(NULL, &p, (long)len);
    ENSURE_OUT(x != NULL && p == der + len, BAD);
    obj = OBJ_txt2obj(OID_SGX_TEXT, 1);
    ENSURE_OUT(obj != NULL, MS_ERR_NOMEM);
    int i = X509_get_ext_by_OBJ(x, obj, -1);
    ENSURE_OUT(i >= 0 && X509_get_ext_by_OBJ(x, obj, i) < 0, BAD); /* exactly once */
    const ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(X509_get_ext(x, i));
    ENSURE_OUT(os != NULL, BAD);
    err = ms_tdx_pck_ext_value_decode(ASN1_STRING_get0_data(os), (size_t)ASN1_STRING_length(os),
                                      out);
out:
    ASN1_OBJECT_free(obj);
    X509_free(x);
    ERR_clear_error();
    if (err != MS_OK) {
        memset(out, 0, sizeof *out);
    }
    return err;
}
