/* SEV-SNP report and bundle decoding: the ABI's layout read with the bounded cursor. */
#include "secure/attest/snp.h"

#include <string.h>

#include "common/check.h"
#include "common/codec.h"
#include "common/cursor.h"

/* Report versions whose layout we know (ABI rev 1.58): 2; 3 and 4 add CPUID; 5 adds MIT vectors. */
#define SNP_VERSION_MIN 2u
#define SNP_VERSION_MAX 5u
#define SNP_KEY_INFO_DEFINED 0x1Fu /* bits 4:0; 31:5 are reserved */
#define SNP_SIG_COMPONENT_USED 48u /* a P-384 scalar; the rest of the 72 bytes is zero */
#define SNP_SIG_RESERVED (0x200u - 2u * MS_SNP_SIG_COMPONENT_LEN)

/* n bytes that the ABI reserves: they must be zero. */
static ms_err expect_zero(ms_cursor *c, size_t n)
{
    const uint8_t *p;
    uint8_t acc = 0;
    TRY(ms_cursor_borrow(c, &p, n));
    for (size_t i = 0; i < n; i++) {
        acc |= p[i];
    }
    ENSURE(acc == 0, MS_ERR_SNP_FORMAT);
    return MS_OK;
}

ms_err ms_snp_tcb_split(uint64_t raw, ms_snp_tcb_layout layout, ms_snp_tcb *out)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++) {
        b[i] = (uint8_t)(raw >> (8 * i));
    }
    memset(out, 0, sizeof *out);
    out->raw = raw;
    out->microcode = b[7];
    if (layout == MS_SNP_TCB_TURIN) {
        out->fmc = b[0];
        out->bootloader = b[1];
        out->tee = b[2];
        out->snp = b[3];
        ENSURE((b[4] | b[5] | b[6]) == 0, MS_ERR_SNP_FORMAT);
        return MS_OK;
    }
    out->bootloader = b[0];
    out->tee = b[1];
    out->snp = b[6];
    ENSURE((b[2] | b[3] | b[4] | b[5]) == 0, MS_ERR_SNP_FORMAT);
    return MS_OK;
}

/* TCB_VERSION: the raw value now, its components once the layout is known (split_tcbs). */
static ms_err read_tcb(ms_cursor *c, ms_snp_tcb *t)
{
    return ms_cursor_read_u64le(c, &t->raw);
}

/* The layout follows the chip: version 2 reports carry no CPUID and predate Turin. */
static ms_err split_tcbs(ms_snp_report *r)
{
    if (r->version >= 3) {
        ENSURE(r->cpuid_fam_id == MS_SNP_FAMILY_MILAN_GENOA ||
                   r->cpuid_fam_id == MS_SNP_FAMILY_TURIN,
               MS_ERR_SNP_FORMAT);
    }
    r->tcb_layout = r->cpuid_fam_id == MS_SNP_FAMILY_TURIN ? MS_SNP_TCB_TURIN : MS_SNP_TCB_MILAN;
    ms_snp_tcb *all[] = {&r->current_tcb, &r->reported_tcb, &r->committed_tcb, &r->launch_tcb};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        TRY(ms_snp_tcb_split(all[i]->raw, r->tcb_layout, all[i]));
    }
    return MS_OK;
}

/* r or s: 72 bytes, little-endian, of which only the low 48 may be non-zero. */
static ms_err read_sig_component(ms_cursor *c, uint8_t out[static MS_SNP_SIG_COMPONENT_LEN])
{
    TRY(ms_cursor_read_bytes(c, out, MS_SNP_SIG_COMPONENT_LEN));
    ms_cursor pad = ms_cursor_init(out + SNP_SIG_COMPONENT_USED,
                                   MS_SNP_SIG_COMPONENT_LEN - SNP_SIG_COMPONENT_USED);
    return expect_zero(&pad, MS_SNP_SIG_COMPONENT_LEN - SNP_SIG_COMPONENT_USED);
}

/* 0x000 .. 0x050: header fields. */
static ms_err read_head(ms_cursor *c, ms_snp_report *r)
{
    TRY(ms_cursor_read_u32le(c, &r->version));
    ENSURE(r->version >= SNP_VERSION_MIN && r->version <= SNP_VERSION_MAX, MS_ERR_SNP_FORMAT);
    TRY(ms_cursor_read_u32le(c, &r->guest_svn));
    TRY(ms_cursor_read_u64le(c, &r->policy));
    ENSURE((r->policy & MS_SNP_POLICY_RSVD_MBO) != 0, MS_ERR_SNP_FORMAT);
    TRY(ms_cursor_read_bytes(c, r->family_id, sizeof r->family_id));
    TRY(ms_cursor_read_bytes(c, r->image_id, sizeof r->image_id));
    TRY(ms_cursor_read_u32le(c, &r->vmpl));
    TRY(ms_cursor_read_u32le(c, &r->signature_algo));
    ENSURE(r->signature_algo == MS_SNP_SIG_ALGO_ECDSA_P384_SHA384, MS_ERR_SNP_FORMAT);
    TRY(read_tcb(c, &r->current_tcb));
    TRY(ms_cursor_read_u64le(c, &r->platform_info));
    TRY(ms_cursor_read_u32le(c, &r->key_info));
    ENSURE((r->key_info & ~(uint32_t)SNP_KEY_INFO_DEFINED) == 0, MS_ERR_SNP_FORMAT);
    return expect_zero(c, 4); /* 0x04C */
}

/* 0x050 .. 0x1A0: guest data, digests, ids, reported TCB, CPUID (v3+). */
static ms_err read_ids(ms_cursor *c, ms_snp_report *r)
{
    TRY(ms_cursor_read_bytes(c, r->report_data, sizeof r->report_data));
    TRY(ms_cursor_read_bytes(c, r->measurement, sizeof r->measurement));
    TRY(ms_cursor_read_bytes(c, r->host_data, sizeof r->host_data));
    TRY(ms_cursor_read_bytes(c, r->id_key_digest, sizeof r->id_key_digest));
    TRY(ms_cursor_read_bytes(c, r->author_key_digest, sizeof r->author_key_digest));
    TRY(ms_cursor_read_bytes(c, r->report_id, sizeof r->report_id));
    TRY(ms_cursor_read_bytes(c, r->report_id_ma, sizeof r->report_id_ma));
    TRY(read_tcb(c, &r->reported_tcb));
    if (r->version >= 3) {
        TRY(ms_cursor_read_u8(c, &r->cpuid_fam_id));
        TRY(ms_cursor_read_u8(c, &r->cpuid_mod_id));
        TRY(ms_cursor_read_u8(c, &r->cpuid_step));
        return expect_zero(c, 21); /* 0x18B */
    }
    return expect_zero(c, 24); /* 0x188 */
}

/* 0x1A0 .. 0x2A0: chip id, committed / launch TCB, firmware versions, MIT vectors (v5). */
static ms_err read_platform(ms_cursor *c, ms_snp_report *r)
{
    TRY(ms_cursor_read_bytes(c, r->chip_id, sizeof r->chip_id));
    TRY(read_tcb(c, &r->committed_tcb));
    TRY(ms_cursor_read_u8(c, &r->current_build));
    TRY(ms_cursor_read_u8(c, &r->current_minor));
    TRY(ms_cursor_read_u8(c, &r->current_major));
    TRY(expect_zero(c, 1)); /* 0x1EB */
    TRY(ms_cursor_read_u8(c, &r->committed_build));
    TRY(ms_cursor_read_u8(c, &r->committed_minor));
    TRY(ms_cursor_read_u8(c, &r->committed_major));
    TRY(expect_zero(c, 1)); /* 0x1EF */
    TRY(read_tcb(c, &r->launch_tcb));
    if (r->version >= 5) {
        TRY(ms_cursor_read_u64le(c, &r->launch_mit_vector));
        TRY(ms_cursor_read_u64le(c, &r->current_mit_vector));
        return expect_zero(c, 152); /* 0x208 */
    }
    return expect_zero(c, 168); /* 0x1F8 */
}

static ms_err read_report(ms_cursor *c, ms_snp_report *r)
{
    TRY(read_head(c, r));
    TRY(read_ids(c, r));
    TRY(read_platform(c, r));
    ENSURE(c->off == MS_SNP_SIGNED_LEN, MS_ERR_INTERNAL); /* the layout above adds up */
    TRY(split_tcbs(r));
    TRY(read_sig_component(c, r->sig_r));
    TRY(read_sig_component(c, r->sig_s));
    TRY(expect_zero(c, SNP_SIG_RESERVED));
    return ms_cursor_expect_end(c);
}

ms_err ms_snp_report_decode(const uint8_t *p, size_t len, ms_snp_report *out)
{
    memset(out, 0, sizeof *out);
    ENSURE(p != NULL && len == MS_SNP_REPORT_LEN, MS_ERR_SNP_FORMAT);
    ms_cursor c = ms_cursor_init(p, len);
    ms_err err = read_report(&c, out);
    if (err != MS_OK) {
        memset(out, 0, sizeof *out);
        return err == MS_ERR_INTERNAL ? err : MS_ERR_SNP_FORMAT;
    }
    return MS_OK;
}

static int is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

ms_err ms_snp_report_from_hex(const char *text, size_t len, uint8_t raw[static MS_SNP_REPORT_LEN])
{
    size_t n = 0;
    memset(raw, 0, MS_SNP_REPORT_LEN);
    ENSURE(text != NULL, MS_ERR_SNP_FORMAT);
    while (len > 0 && is_space(text[len - 1])) {
        len--;
    }
    ENSURE(len == MS_SNP_REPORT_HEX_LEN, MS_ERR_SNP_FORMAT);
    ENSURE(ms_hex_decode(text, len, raw, MS_SNP_REPORT_LEN, &n) == MS_OK && n == MS_SNP_REPORT_LEN,
           MS_ERR_SNP_FORMAT);
    return MS_OK;
}

/* docs/attest-sev-snp.md §3: format, report, u16 vcek_len, vcek, u16 ask_len, ask. */
static ms_err read_bundle(ms_cursor *c, ms_snp_bundle *b)
{
    uint8_t format;
    uint16_t n;
    TRY(ms_cursor_read_u8(c, &format));
    ENSURE(format == MS_SNP_BUNDLE_FORMAT, MS_ERR_SNP_FORMAT);
    TRY(ms_cursor_borrow(c, &b->report, MS_SNP_REPORT_LEN));
    TRY(ms_cursor_read_u16be(c, &n));
    ENSURE(n >= 1 && n <= MS_SNP_MAX_CERT, MS_ERR_SNP_FORMAT);
    TRY(ms_cursor_borrow(c, &b->vcek, n));
    b->vcek_len = n;
    TRY(ms_cursor_read_u16be(c, &n));
    ENSURE(n <= MS_SNP_MAX_CERT, MS_ERR_SNP_FORMAT);
    if (n > 0) {
        TRY(ms_cursor_borrow(c, &b->ask, n));
        b->ask_len = n;
    }
    return ms_cursor_expect_end(c);
}

ms_err ms_snp_bundle_decode(const uint8_t *ev, size_t len, ms_snp_bundle *out)
{
    memset(out, 0, sizeof *out);
    ENSURE(ev != NULL && len <= MS_SNP_MAX_BUNDLE, MS_ERR_SNP_FORMAT);
    ms_cursor c = ms_cursor_init(ev, len);
    if (read_bundle(&c, out) != MS_OK) {
        memset(out, 0, sizeof *out);
        return MS_ERR_SNP_FORMAT;
    }
    return MS_OK;
}

ms_err ms_snp_bundle_encode(const uint8_t report[static MS_SNP_REPORT_LEN], const uint8_t *vcek,
                            size_t vcek_len, const uint8_t *ask, size_t ask_len, ms_buf *out)
{
    ENSURE(vcek != NULL && vcek_len >= 1 && vcek_len <= MS_SNP_MAX_CERT, MS_ERR_ARG);
    ENSURE((ask == NULL) == (ask_len == 0) && ask_len <= MS_SNP_MAX_CERT, MS_ERR_ARG);
    /* Reserve the whole bundle first: the appends below then cannot fail half way. */
    TRY(ms_buf_reserve(out, 1u + MS_SNP_REPORT_LEN + 2u + vcek_len + 2u + ask_len));
    TRY(ms_buf_append_u8(out, MS_SNP_BUNDLE_FORMAT));
    TRY(ms_buf_append(out, report, MS_SNP_REPORT_LEN));
    TRY(ms_buf_append_u16be(out, (uint16_t)vcek_len));
    TRY(ms_buf_append(out, vcek, vcek_len));
    TRY(ms_buf_append_u16be(out, (uint16_t)ask_len));
    if (ask_len > 0) {
        TRY(ms_buf_append(out, ask, ask_len));
    }
    return MS_OK;
}
