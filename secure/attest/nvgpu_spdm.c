/* NVIDIA GPU evidence bytes: the SPDM 1.1 measurement report, the per-GPU item and the list. */
#include "secure/attest/nvgpu.h"

#include <string.h>

#include "common/check.h"
#include "common/codec.h"
#include "common/cursor.h"

#define SPDM_SLOT_MAX 7u
#define DMTF_VALUE_HEAD 3u /* DMTFSpecMeasurementValueType u8, DMTFSpecMeasurementValueSize u16 */

static ms_err read_u24le(ms_cursor *c, uint32_t *out)
{
    uint8_t b[3];
    TRY(ms_cursor_read_bytes(c, b, sizeof b));
    *out = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16;
    return MS_OK;
}

/* GET_MEASUREMENTS: version, code, param1 (signature wanted), param2 (all), nonce, slot. */
static ms_err read_request(ms_cursor *c, ms_nvgpu_report *r)
{
    uint8_t version, code;
    TRY(ms_cursor_read_u8(c, &version));
    TRY(ms_cursor_read_u8(c, &code));
    ENSURE(version == MS_NVGPU_SPDM_VERSION && code == MS_NVGPU_SPDM_GET_MEASUREMENTS,
           MS_ERR_NVGPU_FORMAT);
    TRY(ms_cursor_read_u8(c, &r->req_param1));
    TRY(ms_cursor_read_u8(c, &r->req_param2));
    ENSURE(r->req_param1 == MS_NVGPU_REQ_SIG_REQUESTED, MS_ERR_NVGPU_FORMAT);
    ENSURE(r->req_param2 == MS_NVGPU_REQ_ALL_MEASUREMENTS, MS_ERR_NVGPU_FORMAT);
    TRY(ms_cursor_borrow(c, &r->req_nonce, MS_NVGPU_NONCE_LEN));
    TRY(ms_cursor_read_u8(c, &r->req_slot));
    ENSURE(r->req_slot <= SPDM_SLOT_MAX, MS_ERR_NVGPU_FORMAT);
    return MS_OK;
}

/* One block: index, spec (DMTF), size, then the DMTF value head and the value. */
static ms_err read_block(ms_cursor *c, ms_nvgpu_block *b, uint8_t seen[static 32])
{
    uint8_t spec;
    uint16_t size;
    ms_cursor m;
    TRY(ms_cursor_read_u8(c, &b->index));
    ENSURE(b->index != 0 && b->index != 0xFF, MS_ERR_NVGPU_FORMAT);
    ENSURE((seen[b->index / 8] & (1u << (b->index % 8))) == 0, MS_ERR_NVGPU_FORMAT);
    seen[b->index / 8] |= (uint8_t)(1u << (b->index % 8));
    TRY(ms_cursor_read_u8(c, &spec));
    ENSURE(spec == MS_NVGPU_MEAS_SPEC_DMTF, MS_ERR_NVGPU_FORMAT);
    TRY(ms_cursor_read_u16le(c, &size));
    TRY(ms_cursor_sub(c, &m, size));
    TRY(ms_cursor_read_u8(&m, &b->value_type));
    TRY(ms_cursor_read_u16le(&m, &b->value_len));
    ENSURE(b->value_len >= 1 && b->value_len <= MS_NVGPU_MAX_MEAS_VALUE, MS_ERR_NVGPU_FORMAT);
    ENSURE((size_t)size == DMTF_VALUE_HEAD + b->value_len, MS_ERR_NVGPU_FORMAT);
    TRY(ms_cursor_borrow(&m, &b->value, b->value_len));
    return ms_cursor_expect_end(&m);
}

static ms_err read_record(ms_cursor *c, ms_nvgpu_report *r, uint8_t n_blocks)
{
    uint32_t rec_len;
    ms_cursor rec;
    uint8_t seen[32] = {0};
    ENSURE(n_blocks >= 1, MS_ERR_NVGPU_FORMAT);
    TRY(read_u24le(c, &rec_len));
    TRY(ms_cursor_sub(c, &rec, rec_len));
    for (size_t i = 0; i < n_blocks; i++) {
        TRY(read_block(&rec, &r->blocks[i], seen));
    }
    r->n_blocks = n_blocks;
    return ms_cursor_expect_end(&rec);
}

/* Printable ASCII up to the first NUL, '.' for anything else; at most MS_NVGPU_TEXT_MAX - 1. */
static void text_of(const ms_nvgpu_field *f, char out[static MS_NVGPU_TEXT_MAX])
{
    size_t n = 0;
    for (size_t i = 0; i < f->len && n + 1 < MS_NVGPU_TEXT_MAX && f->value[i] != 0; i++) {
        uint8_t ch = f->value[i];
        out[n++] = (ch >= 0x20 && ch < 0x7F) ? (char)ch : '.';
    }
    out[n] = '\0';
}

/* VBIOS version: 8 bytes shown as NVIDIA prints it (bytes 3, 2, 1, 0, 4 in hex). */
static ms_err vbios_of(const ms_nvgpu_field *f, char out[static MS_NVGPU_TEXT_MAX])
{
    static const char hx[] = "0123456789ABCDEF";
    static const uint8_t order[5] = {3, 2, 1, 0, 4};
    size_t n = 0;
    ENSURE(f->len == 8, MS_ERR_NVGPU_FORMAT);
    for (size_t i = 0; i < 5; i++) {
        uint8_t b = f->value[order[i]];
        if (i > 0) {
            out[n++] = '.';
        }
        out[n++] = hx[b >> 4];
        out[n++] = hx[b & 15];
    }
    out[n] = '\0';
    return MS_OK;
}

static ms_err feature_of(const ms_nvgpu_field *f, ms_nvgpu_report *r)
{
    ENSURE(f->len == 1 || f->len == 4, MS_ERR_NVGPU_FORMAT);
    uint32_t v = 0;
    for (size_t i = f->len; i > 0; i--) {
        v = (v << 8) | f->value[i - 1];
    }
    r->feature_flag = v;
    r->have_feature_flag = 1;
    return MS_OK;
}

/* The fields shown to a person; fixed-size ones are checked, unknown types only counted. */
static ms_err interpret(const ms_nvgpu_field *f, ms_nvgpu_report *r)
{
    switch (f->type) {
    case MS_NVGPU_OPAQUE_DRIVER_VERSION: text_of(f, r->driver_version); return MS_OK;
    case MS_NVGPU_OPAQUE_VBIOS_VERSION: return vbios_of(f, r->vbios_version);
    case MS_NVGPU_OPAQUE_PROJECT: text_of(f, r->project); return MS_OK;
    case MS_NVGPU_OPAQUE_PROJECT_SKU: text_of(f, r->project_sku); return MS_OK;
    case MS_NVGPU_OPAQUE_CHIP_SKU: text_of(f, r->chip_sku); return MS_OK;
    case MS_NVGPU_OPAQUE_FEATURE_FLAG: return feature_of(f, r);
    case MS_NVGPU_OPAQUE_GPU_INFO:
    case MS_NVGPU_OPAQUE_NVDEC0_STATUS:
    case MS_NVGPU_OPAQUE_MSRSCNT:
    case MS_NVGPU_OPAQUE_CPRINFO:
    case MS_NVGPU_OPAQUE_BOARD_ID:
    case MS_NVGPU_OPAQUE_CHIP_SKU_MOD:
    case MS_NVGPU_OPAQUE_PROJECT_SKU_MOD: return MS_OK;
    default: r->n_unknown++; return MS_OK;
    }
}

/* OpaqueLength (u16) then NVIDIA's fields: type u16, size u16, value; no type twice. */
static ms_err read_opaque(ms_cursor *c, ms_nvgpu_report *r)
{
    uint16_t olen;
    ms_cursor od;
    TRY(ms_cursor_read_u16le(c, &olen));
    ENSURE(olen <= MS_NVGPU_MAX_OPAQUE, MS_ERR_NVGPU_FORMAT);
    TRY(ms_cursor_sub(c, &od, olen));
    while (ms_cursor_remaining(&od) > 0) {
        ENSURE(r->n_fields < MS_NVGPU_MAX_OPAQUE_FIELDS, MS_ERR_NVGPU_FORMAT);
        ms_nvgpu_field *f = &r->fields[r->n_fields];
        TRY(ms_cursor_read_u16le(&od, &f->type));
        TRY(ms_cursor_read_u16le(&od, &f->len));
        TRY(ms_cursor_borrow(&od, &f->value, f->len));
        for (size_t i = 0; i < r->n_fields; i++) {
            ENSURE(r->fields[i].type != f->type, MS_ERR_NVGPU_FORMAT);
        }
        r->n_fields++;
        TRY(interpret(f, r));
    }
    return MS_OK;
}

/* MEASUREMENTS: version, code, param1, param2, count, record, nonce, opaque, signature. */
static ms_err read_response(ms_cursor *c, ms_nvgpu_report *r)
{
    uint8_t version, code, n_blocks;
    TRY(ms_cursor_read_u8(c, &version));
    TRY(ms_cursor_read_u8(c, &code));
    ENSURE(version == MS_NVGPU_SPDM_VERSION && code == MS_NVGPU_SPDM_MEASUREMENTS,
           MS_ERR_NVGPU_FORMAT);
    TRY(ms_cursor_read_u8(c, &r->rsp_param1));
    TRY(ms_cursor_read_u8(c, &r->rsp_param2));
    TRY(ms_cursor_read_u8(c, &n_blocks));
    TRY(read_record(c, r, n_blocks));
    TRY(ms_cursor_borrow(c, &r->rsp_nonce, MS_NVGPU_NONCE_LEN));
    TRY(read_opaque(c, r));
    r->signed_len = c->off;
    TRY(ms_cursor_borrow(c, &r->sig, MS_NVGPU_SIG_LEN));
    return ms_cursor_expect_end(c);
}

ms_err ms_nvgpu_report_decode(const uint8_t *p, size_t len, ms_nvgpu_report *out)
{
    memset(out, 0, sizeof *out);
    ENSURE(p != NULL && len <= MS_NVGPU_MAX_REPORT, MS_ERR_NVGPU_FORMAT);
    ms_cursor c = ms_cursor_init(p, len);
    ms_err err = read_request(&c, out);
    if (err == MS_OK) {
        err = read_response(&c, out);
    }
    if (err != MS_OK) {
        memset(out, 0, sizeof *out);
        return MS_ERR_NVGPU_FORMAT;
    }
    out->len = len;
    return MS_OK;
}

const ms_nvgpu_block *ms_nvgpu_report_block(const ms_nvgpu_report *r, uint8_t index)
{
    for (size_t i = 0; i < r->n_blocks; i++) {
        if (r->blocks[i].index == index) {
            return &r->blocks[i];
        }
    }
    return NULL;
}

static int is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

ms_err ms_nvgpu_report_from_hex(const char *text, size_t len, ms_buf *raw)
{
    ENSURE(text != NULL, MS_ERR_NVGPU_FORMAT);
    while (len > 0 && is_space(text[len - 1])) {
        len--;
    }
    ENSURE(len > 0 && len % 2 == 0 && len <= 2u * MS_NVGPU_MAX_REPORT, MS_ERR_NVGPU_FORMAT);
    ENSURE(ms_hex_decode_buf(text, len, raw) == MS_OK, MS_ERR_NVGPU_FORMAT);
    return MS_OK;
}

/* ---- item: format, host flags, u16 report length, report, u8 count, u16-prefixed DERs ---- */

static ms_err read_item(ms_cursor *c, ms_nvgpu_item *it)
{
    uint8_t format, n;
    uint16_t len;
    TRY(ms_cursor_read_u8(c, &format));
    ENSURE(format == MS_NVGPU_ITEM_FORMAT, MS_ERR_NVGPU_FORMAT);
    TRY(ms_cursor_read_u8(c, &it->host_flags));
    ENSURE((it->host_flags & ~(MS_NVGPU_HOST_CC_ON | MS_NVGPU_HOST_DEVTOOLS)) == 0,
           MS_ERR_NVGPU_FORMAT);
    TRY(ms_cursor_read_u16be(c, &len));
    ENSURE(len >= 1 && len <= MS_NVGPU_MAX_REPORT, MS_ERR_NVGPU_FORMAT);
    TRY(ms_cursor_borrow(c, &it->report, len));
    it->report_len = len;
    TRY(ms_cursor_read_u8(c, &n));
    ENSURE(n >= 1 && n <= MS_NVGPU_MAX_CHAIN, MS_ERR_NVGPU_FORMAT);
    for (size_t i = 0; i < n; i++) {
        TRY(ms_cursor_read_u16be(c, &len));
        ENSURE(len >= 1 && len <= MS_NVGPU_MAX_CERT, MS_ERR_NVGPU_FORMAT);
        TRY(ms_cursor_borrow(c, &it->cert[i], len));
        it->cert_len[i] = len;
    }
    it->n_certs = n;
    return ms_cursor_expect_end(c);
}

ms_err ms_nvgpu_item_decode(const uint8_t *p, size_t len, ms_nvgpu_item *out)
{
    memset(out, 0, sizeof *out);
    ENSURE(p != NULL && len <= MS_NVGPU_MAX_ITEM, MS_ERR_NVGPU_FORMAT);
    ms_cursor c = ms_cursor_init(p, len);
    if (read_item(&c, out) != MS_OK) {
        memset(out, 0, sizeof *out);
        return MS_ERR_NVGPU_FORMAT;
    }
    return MS_OK;
}

ms_err ms_nvgpu_item_encode(const ms_nvgpu_item *it, ms_buf *out)
{
    ENSURE(it != NULL && it->report != NULL, MS_ERR_ARG);
    ENSURE(it->report_len >= 1 && it->report_len <= MS_NVGPU_MAX_REPORT, MS_ERR_ARG);
    ENSURE(it->n_certs >= 1 && it->n_certs <= MS_NVGPU_MAX_CHAIN, MS_ERR_ARG);
    ENSURE((it->host_flags & ~(MS_NVGPU_HOST_CC_ON | MS_NVGPU_HOST_DEVTOOLS)) == 0, MS_ERR_ARG);
    for (size_t i = 0; i < it->n_certs; i++) {
        ENSURE(it->cert[i] != NULL && it->cert_len[i] >= 1 && it->cert_len[i] <= MS_NVGPU_MAX_CERT,
               MS_ERR_ARG);
    }
    TRY(ms_buf_append_u8(out, MS_NVGPU_ITEM_FORMAT));
    TRY(ms_buf_append_u8(out, it->host_flags));
    TRY(ms_buf_append_u16be(out, (uint16_t)it->report_len));
    TRY(ms_buf_append(out, it->report, it->report_len));
    TRY(ms_buf_append_u8(out, (uint8_t)it->n_certs));
    for (size_t i = 0; i < it->n_certs; i++) {
        TRY(ms_buf_append_u16be(out, (uint16_t)it->cert_len[i]));
        TRY(ms_buf_append(out, it->cert[i], it->cert_len[i]));
    }
    return MS_OK;
}

/* ---- evidence: u8 count, then per GPU u32 length and the item ---------------------------- */

static ms_err read_evidence(ms_cursor *c, ms_nvgpu_evidence *e)
{
    uint8_t n;
    uint32_t len;
    TRY(ms_cursor_read_u8(c, &n));
    ENSURE(n >= 1 && n <= MS_NVGPU_MAX_GPUS, MS_ERR_NVGPU_FORMAT);
    for (size_t i = 0; i < n; i++) {
        TRY(ms_cursor_read_u32be(c, &len));
        ENSURE(len >= 1 && len <= MS_NVGPU_MAX_ITEM, MS_ERR_NVGPU_FORMAT);
        TRY(ms_cursor_borrow(c, &e->item[i], len));
        e->item_len[i] = len;
    }
    e->n = n;
    return ms_cursor_expect_end(c);
}

ms_err ms_nvgpu_evidence_decode(const uint8_t *p, size_t len, ms_nvgpu_evidence *out)
{
    memset(out, 0, sizeof *out);
    ENSURE(p != NULL && len <= MS_MAX_EVIDENCE, MS_ERR_NVGPU_FORMAT);
    ms_cursor c = ms_cursor_init(p, len);
    if (read_evidence(&c, out) != MS_OK) {
        memset(out, 0, sizeof *out);
        return MS_ERR_NVGPU_FORMAT;
    }
    return MS_OK;
}

ms_err ms_nvgpu_evidence_begin(size_t count, ms_buf *out)
{
    ENSURE(count >= 1 && count <= MS_NVGPU_MAX_GPUS, MS_ERR_ARG);
    return ms_buf_append_u8(out, (uint8_t)count);
}

ms_err ms_nvgpu_evidence_add(const uint8_t *item, size_t len, ms_buf *out)
{
    ENSURE(item != NULL && len >= 1 && len <= MS_NVGPU_MAX_ITEM, MS_ERR_ARG);
    TRY(ms_buf_append_u32be(out, (uint32_t)len));
    return ms_buf_append(out, item, len);
}
