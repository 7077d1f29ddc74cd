/* NVIDIA GPU evidence bytes at their edges: each cap and field bound of nvgpu_spdm.c, the value at it and one past. */
#include <string.h>

#include "secure/attest/nvgpu.h"
#include "tests/secure/attest/nvgpu_fx_report.h"
#include "tests/test.h"

static const uint8_t NONCE[32] = {0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                  16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

static uint8_t rep[MS_NVGPU_MAX_REPORT + 64];
static size_t rep_len;
static ms_nvgpu_report r; /* large: static */

/* Two blocks of 48 bytes, the default opaque data, slot 0: a report that decodes. */
static nv_fx_spdm shape(void)
{
    nv_fx_spdm s = {.nonce = NONCE, .n_blocks = 2, .value_len = 48, .fill = 0x10};
    return s;
}

/* Make the report (unsigned: the decoder reads the signature's place only) and decode it. */
static ms_err decode_made(const nv_fx_spdm *s)
{
    rep_len = nv_fx_report_make(rep, sizeof rep, s, NULL);
    CHECK(rep_len > 0);
    return ms_nvgpu_report_decode(rep, rep_len, &r);
}

/* The opaque data: one field of `type` holding `len` bytes of 'a'. */
static uint8_t od[MS_NVGPU_MAX_OPAQUE + 64];

static ms_err decode_one_field(uint16_t type, uint16_t len)
{
    static uint8_t v[MS_NVGPU_MAX_OPAQUE + 64];
    nv_fx_spdm s = shape();
    memset(v, 'a', sizeof v);
    s.opaque = od;
    s.opaque_len = nv_fx_opaque_field(od, sizeof od, type, v, len);
    CHECK(s.opaque_len == 4u + len);
    return decode_made(&s);
}

/*
 * The fixed fields, each edited on a made report (two blocks of 48 bytes: block 1 at 45,
 * block 2 at 100): request and response version and code, request parameters, the block
 * count, a block's index (0, or block 1's again) and measurement specification.
 */
static void test_fixed_fields(void)
{
    static const struct {
        size_t off;
        uint8_t val;
    } edits[] = {{0, 0x12}, {1, 0xE1}, {2, 0x00}, {3, 0x01}, {37, 0x10}, {38, 0x61},
                 {41, 3},   {45, 0},    {100, 1},  {46, 0x02}};
    nv_fx_spdm s = shape();
    CHECK_OK(decode_made(&s));
    CHECK(r.blocks[1].index == 2 && rep[100] == 2);
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        CHECK_OK(decode_made(&s));
        rep[edits[i].off] = edits[i].val;
        CHECK_ERR(ms_nvgpu_report_decode(rep, rep_len, &r), MS_ERR_NVGPU_FORMAT);
    }
}

/*
 * Shapes at their bounds: slot ids 0..7; 1..MS_NVGPU_MAX_MEAS_VALUE bytes of value; at least
 * one block (an empty record is not a measurement report), index 0xFF reserved.
 */
static void test_shapes(void)
{
    static const struct {
        uint8_t slot;
        size_t n_blocks;
        uint16_t value_len;
        ms_err want;
    } rows[] = {
        {7, 2, 48, MS_OK},
        {8, 2, 48, MS_ERR_NVGPU_FORMAT},
        {0, 2, 1, MS_OK},
        {0, 2, MS_NVGPU_MAX_MEAS_VALUE, MS_OK},
        {0, 2, MS_NVGPU_MAX_MEAS_VALUE + 1, MS_ERR_NVGPU_FORMAT},
        {0, 2, 0, MS_ERR_NVGPU_FORMAT},
        {0, 1, 48, MS_OK},
        {0, 0, 48, MS_ERR_NVGPU_FORMAT},
        {0, 254, 1, MS_OK},
        {0, 255, 1, MS_ERR_NVGPU_FORMAT}, /* the last block's index is 0xFF */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        nv_fx_spdm s = shape();
        s.slot = rows[i].slot;
        s.n_blocks = rows[i].n_blocks;
        s.value_len = rows[i].value_len;
        CHECK_ERR(decode_made(&s), rows[i].want);
        if (rows[i].want == MS_OK) {
            size_t last = s.n_blocks - 1;
            CHECK(r.req_slot == s.slot && r.n_blocks == s.n_blocks);
            CHECK(r.blocks[last].index == last + 1 && r.blocks[last].value_len == s.value_len);
            CHECK(r.blocks[last].value[0] == (uint8_t)(s.fill + last + 1));
        }
    }
}

/* Opaque data of at most MS_NVGPU_MAX_OPAQUE bytes. */
static void test_opaque_len(void)
{
    CHECK_OK(decode_one_field(0x7000, MS_NVGPU_MAX_OPAQUE - 4));
    CHECK(r.n_fields == 1 && r.n_unknown == 1 && r.fields[0].len == MS_NVGPU_MAX_OPAQUE - 4);
    CHECK_ERR(decode_one_field(0x7000, MS_NVGPU_MAX_OPAQUE - 3), MS_ERR_NVGPU_FORMAT);
}

/* At most MS_NVGPU_MAX_OPAQUE_FIELDS fields (empty ones, distinct unknown types). */
static void test_opaque_fields(void)
{
    nv_fx_spdm s = shape();
    size_t n = 0;
    for (uint16_t i = 0; i < MS_NVGPU_MAX_OPAQUE_FIELDS; i++) {
        n += nv_fx_opaque_field(od + n, sizeof od - n, (uint16_t)(0x7000 + i), "", 0);
    }
    CHECK(n == 4u * MS_NVGPU_MAX_OPAQUE_FIELDS);
    s.opaque = od;
    s.opaque_len = n;
    CHECK_OK(decode_made(&s));
    CHECK(r.n_fields == MS_NVGPU_MAX_OPAQUE_FIELDS && r.n_unknown == MS_NVGPU_MAX_OPAQUE_FIELDS);
    s.opaque_len += nv_fx_opaque_field(od + n, sizeof od - n, 0x7FFF, "", 0);
    CHECK_ERR(decode_made(&s), MS_ERR_NVGPU_FORMAT);
    /* No type twice, even one this project does not read (the last field's type again). */
    CHECK(nv_fx_opaque_field(od + n, sizeof od - n, 0x7000 + MS_NVGPU_MAX_OPAQUE_FIELDS - 1, "",
                             0) == 4);
    s.opaque = od + 4; /* the first field left out: 64 fields, the last two of one type */
    s.opaque_len = n;
    CHECK_ERR(decode_made(&s), MS_ERR_NVGPU_FORMAT);
    od[n + 1] ^= 0x01; /* the control: the last field's type another one */
    CHECK_OK(decode_made(&s));
    CHECK(r.n_fields == MS_NVGPU_MAX_OPAQUE_FIELDS);
}

/* The fixed-size fields shown to a person: VBIOS 8 bytes, the feature flag 1 or 4. */
static void test_opaque_sizes(void)
{
    static const uint8_t v[9] = {0x00, 0x5E, 0x00, 0x96, 0x01, 0x00, 0x00, 0x00, 0x00};
    nv_fx_spdm s = shape();
    s.opaque = od;
    s.opaque_len = nv_fx_opaque_field(od, sizeof od, MS_NVGPU_OPAQUE_VBIOS_VERSION, v, 8);
    CHECK_OK(decode_made(&s));
    CHECK(strcmp(r.vbios_version, "96.00.5E.00.01") == 0);
    s.opaque_len = nv_fx_opaque_field(od, sizeof od, MS_NVGPU_OPAQUE_VBIOS_VERSION, v, 9);
    CHECK_ERR(decode_made(&s), MS_ERR_NVGPU_FORMAT);
    s.opaque_len = nv_fx_opaque_field(od, sizeof od, MS_NVGPU_OPAQUE_VBIOS_VERSION, v, 7);
    CHECK_ERR(decode_made(&s), MS_ERR_NVGPU_FORMAT);
    static const uint8_t flag[4] = {0x01, 0x02, 0x00, 0x00};
    s.opaque_len = nv_fx_opaque_field(od, sizeof od, MS_NVGPU_OPAQUE_FEATURE_FLAG, flag, 4);
    CHECK_OK(decode_made(&s));
    CHECK(r.have_feature_flag && r.feature_flag == 0x0201);
    s.opaque_len = nv_fx_opaque_field(od, sizeof od, MS_NVGPU_OPAQUE_FEATURE_FLAG, flag, 2);
    CHECK_ERR(decode_made(&s), MS_ERR_NVGPU_FORMAT);
}

/*
 * A whole report of exactly MS_NVGPU_MAX_REPORT bytes decodes, one byte more does not:
 * 175 fixed bytes, 112 blocks of 64-byte values (7952), opaque data of one 61-byte field.
 */
static void test_report_cap(void)
{
    nv_fx_spdm s = shape();
    s.n_blocks = 112;
    s.value_len = 64;
    s.opaque = od;
    s.opaque_len = nv_fx_opaque_field(od, sizeof od, 0x7000, "................................"
                                                         "................................", 61);
    CHECK_OK(decode_made(&s));
    CHECK(rep_len == MS_NVGPU_MAX_REPORT && r.len == MS_NVGPU_MAX_REPORT);
    s.opaque_len = nv_fx_opaque_field(od, sizeof od, 0x7000, "................................"
                                                         "................................", 62);
    CHECK_ERR(decode_made(&s), MS_ERR_NVGPU_FORMAT);
    CHECK(rep_len == MS_NVGPU_MAX_REPORT + 1);
    CHECK_ERR(ms_nvgpu_report_decode(NULL, 64, &r), MS_ERR_NVGPU_FORMAT);
}

/* Hex text of at most 2 * MS_NVGPU_MAX_REPORT digits; no text is no report. */
static void test_hex_cap(void)
{
    static char text[2 * MS_NVGPU_MAX_REPORT + 2];
    ms_buf raw;
    memset(text, 'a', sizeof text);
    ms_buf_init(&raw, MS_NVGPU_MAX_REPORT + 1);
    CHECK_OK(ms_nvgpu_report_from_hex(text, 2 * MS_NVGPU_MAX_REPORT, &raw));
    CHECK(raw.len == MS_NVGPU_MAX_REPORT && raw.p[0] == 0xAA);
    ms_buf_clear(&raw);
    CHECK_ERR(ms_nvgpu_report_from_hex(text, sizeof text, &raw), MS_ERR_NVGPU_FORMAT);
    CHECK_ERR(ms_nvgpu_report_from_hex(NULL, 2, &raw), MS_ERR_NVGPU_FORMAT);
    CHECK_ERR(ms_nvgpu_report_from_hex("1g", 2, &raw), MS_ERR_NVGPU_FORMAT);
    CHECK(raw.len == 0);
    ms_buf_free(&raw);
}

/* A big-endian length of `width` bytes (2 or 4), then that many bytes of `fill`. */
static void put_part(ms_buf *b, size_t width, size_t len, uint8_t fill)
{
    uint8_t *dst;
    CHECK_OK(width == 2 ? ms_buf_append_u16be(b, (uint16_t)len)
                        : ms_buf_append_u32be(b, (uint32_t)len));
    CHECK_OK(ms_buf_extend(b, len, &dst));
    memset(dst, fill, len);
}

/* An item's bytes: a report of `report_len` and `n` certificates of `cert_len`, junk
   content (the item decoder reads the layout only). */
static void item_bytes(ms_buf *b, size_t report_len, size_t n, size_t cert_len)
{
    ms_buf_clear(b);
    CHECK_OK(ms_buf_append_u8(b, MS_NVGPU_ITEM_FORMAT));
    CHECK_OK(ms_buf_append_u8(b, MS_NVGPU_HOST_CC_ON));
    put_part(b, 2, report_len, 0x11);
    CHECK_OK(ms_buf_append_u8(b, (uint8_t)n));
    for (size_t i = 0; i < n; i++) {
        put_part(b, 2, cert_len, 0x30);
    }
}

static void test_item_caps(void)
{
    static const struct {
        size_t report_len, n, cert_len;
        ms_err want;
    } rows[] = {
        {1, 1, 1, MS_OK}, /* the smallest item */
        /* the largest: MS_NVGPU_MAX_ITEM bytes, every part at its cap */
        {MS_NVGPU_MAX_REPORT, MS_NVGPU_MAX_CHAIN, MS_NVGPU_MAX_CERT, MS_OK},
        {MS_NVGPU_MAX_REPORT + 1, 1, 1, MS_ERR_NVGPU_FORMAT},
        {0, 1, 1, MS_ERR_NVGPU_FORMAT},
        {1, MS_NVGPU_MAX_CHAIN + 1, 1, MS_ERR_NVGPU_FORMAT},
        {1, 0, 1, MS_ERR_NVGPU_FORMAT},
        {1, 1, MS_NVGPU_MAX_CERT + 1, MS_ERR_NVGPU_FORMAT},
        {1, 2, 0, MS_ERR_NVGPU_FORMAT},
    };
    ms_buf b;
    ms_nvgpu_item it;
    ms_buf_init(&b, MS_NVGPU_MAX_ITEM + 16);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        item_bytes(&b, rows[i].report_len, rows[i].n, rows[i].cert_len);
        CHECK_ERR(ms_nvgpu_item_decode(b.p, b.len, &it), rows[i].want);
        if (rows[i].want == MS_OK) {
            CHECK(it.report_len == rows[i].report_len && it.n_certs == rows[i].n &&
                  it.cert_len[it.n_certs - 1] == rows[i].cert_len &&
                  it.host_flags == MS_NVGPU_HOST_CC_ON);
        }
    }
    item_bytes(&b, 1, 1, 1);
    b.p[0] = MS_NVGPU_ITEM_FORMAT + 1;
    CHECK_ERR(ms_nvgpu_item_decode(b.p, b.len, &it), MS_ERR_NVGPU_FORMAT);
    b.p[0] = MS_NVGPU_ITEM_FORMAT;
    b.p[1] = 0x04; /* a host flag not defined */
    CHECK_ERR(ms_nvgpu_item_decode(b.p, b.len, &it), MS_ERR_NVGPU_FORMAT);
    CHECK_ERR(ms_nvgpu_item_decode(NULL, 16, &it), MS_ERR_NVGPU_FORMAT);
    ms_buf_free(&b);
}

/* An evidence: 1..MS_NVGPU_MAX_GPUS items of 1..MS_NVGPU_MAX_ITEM bytes each. */
static void evidence_bytes(ms_buf *b, size_t n, size_t item_len)
{
    ms_buf_clear(b);
    CHECK_OK(ms_buf_append_u8(b, (uint8_t)n));
    for (size_t i = 0; i < n; i++) {
        put_part(b, 4, item_len, 0x01);
    }
}

static void test_evidence_caps(void)
{
    static const struct {
        size_t n, item_len;
        ms_err want;
    } rows[] = {
        {MS_NVGPU_MAX_GPUS, 1, MS_OK},
        {1, MS_NVGPU_MAX_ITEM, MS_OK},
        {MS_NVGPU_MAX_GPUS + 1, 1, MS_ERR_NVGPU_FORMAT},
        {0, 1, MS_ERR_NVGPU_FORMAT},
        {1, MS_NVGPU_MAX_ITEM + 1, MS_ERR_NVGPU_FORMAT},
        {1, 0, MS_ERR_NVGPU_FORMAT},
    };
    ms_buf b;
    ms_nvgpu_evidence e;
    ms_buf_init(&b, MS_MAX_EVIDENCE);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        evidence_bytes(&b, rows[i].n, rows[i].item_len);
        CHECK_ERR(ms_nvgpu_evidence_decode(b.p, b.len, &e), rows[i].want);
        if (rows[i].want == MS_OK) {
            CHECK(e.n == rows[i].n && e.item_len[e.n - 1] == rows[i].item_len);
        }
    }
    CHECK_ERR(ms_nvgpu_evidence_decode(NULL, 16, &e), MS_ERR_NVGPU_FORMAT);
    ms_buf_free(&b);
}

int main(void)
{
    RUN(test_fixed_fields);
    RUN(test_shapes);
    RUN(test_opaque_len);
    RUN(test_opaque_fields);
    RUN(test_opaque_sizes);
    RUN(test_report_cap);
    RUN(test_hex_cap);
    RUN(test_item_caps);
    RUN(test_evidence_caps);
    return TEST_SUMMARY();
}
