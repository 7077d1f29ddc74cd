/* Azure HCL report decoder: the real SNP and TDX vectors, and every way the frame and JSON can be wrong. */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "secure/attest/az_hcl.h"
#include "secure/attest/devkey.h"
#include "secure/attest/snp.h"
#include "tests/secure/attest/az_fixture.h"
#include "tests/test.h"

#define DIR MS_TESTDATA_DIR "/azure-cvm/"
#define REQ_OFF (MS_AZ_HCL_HEADER_LEN + MS_AZ_HCL_HW_LEN) /* 0x4C0 */
#define VAR_OFF MS_AZ_HCL_FIXED_LEN                       /* 0x4D4 */

static ms_buf load(const char *name)
{
    ms_buf b;
    char path[512];
    snprintf(path, sizeof path, "%s%s", DIR, name);
    ms_buf_init(&b, 65536);
    CHECK_OK(ms_file_read(path, 65536, &b));
    return b;
}

static void test_snp_vector(void)
{
    ms_buf b = load("hcl-report-snp.bin");
    ms_az_hcl h;
    CHECK(b.len == 2048);
    CHECK_OK(ms_az_hcl_decode(b.p, b.len, &h));
    CHECK(h.version == 1 && h.report_type == MS_AZ_REPORT_SNP && h.hash_type == MS_AZ_HASH_SHA256);
    CHECK(h.hash_len == 32 && h.var_data_len == 0x247 && h.report_size == 0x71b);
    CHECK(h.hw == b.p + MS_AZ_HCL_HEADER_LEN && h.var_data == b.p + VAR_OFF);
    CHECK(ms_az_hcl_is(b.p, b.len));
    /* The hardware report is an SNP report the existing decoder accepts, from VMPL 0. */
    ms_snp_report r;
    CHECK_OK(ms_snp_report_decode(h.hw, MS_AZ_HCL_HW_LEN, &r));
    CHECK(r.vmpl == 0);
    /* The NOTICE's check: report_data[0..32) == SHA-256(variable data). */
    CHECK_OK(ms_az_hcl_check_var_data_hash(&h));
    ms_az_var_data v;
    CHECK_OK(ms_az_var_data_parse(h.var_data, h.var_data_len, &v));
    CHECK(v.ak_n_len == 256 && v.ak_e == 65537 && v.n_keys == 1 && !v.has_ek);
    CHECK(!v.has_user_data); /* this VM never wrote 0x01400002 */
    CHECK(v.ak_n[0] == 0xb5 && v.ak_n[1] == 0x85);
    ms_buf_free(&b);
}

static void test_tdx_vector(void)
{
    ms_buf b = load("hcl-report-tdx.bin");
    ms_az_hcl h;
    CHECK(b.len == 2600);
    CHECK_OK(ms_az_hcl_decode(b.p, b.len, &h));
    CHECK(h.version == 2 && h.report_type == MS_AZ_REPORT_TDX && h.var_data_len == 0x4b2);
    CHECK_OK(ms_az_hcl_check_var_data_hash(&h));
    ms_az_td_report td;
    CHECK_OK(ms_az_td_report_decode(h.hw, &td));
    CHECK(td.type == 0x81 && td.subtype == 0 && td.cpusvn[0] == 0x06);
    CHECK((td.td_attributes & MS_AZ_TD_ATTR_DEBUG) == 0);
    ms_az_var_data v;
    CHECK_OK(ms_az_var_data_parse(h.var_data, h.var_data_len, &v));
    CHECK(v.n_keys == 2 && v.has_ek && v.has_user_data && v.ak_n_len == 256);
    static const uint8_t zero[MS_AZ_USER_DATA_LEN];
    CHECK_MEM(v.user_data, zero, sizeof zero);
    /* An SNP report decoder refuses the TD report area; the TD decoder an SNP report. */
    ms_snp_report r;
    CHECK(ms_snp_report_decode(h.hw, MS_AZ_HCL_HW_LEN, &r) != MS_OK);
    ms_buf s = load("hcl-report-snp.bin");
    CHECK_ERR(ms_az_td_report_decode(s.p + MS_AZ_HCL_HEADER_LEN, &td), MS_ERR_AZ_FORMAT);
    ms_buf_free(&s);
    /* One byte of the REPORTMACSTRUCT's fixed fields: type 0x81, subtype 0, version <= 1,
     * then reserved bytes 3..15 and 192..223, each alone. */
    static const size_t fixed[] = {0, 1, 2, 3, 4, 15, 192, 223};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        uint8_t hw[MS_AZ_HCL_HW_LEN];
        memcpy(hw, h.hw, sizeof hw);
        hw[fixed[i]] ^= fixed[i] == 2 ? 0x02 : 0x01; /* version 0 or 1 -> 2 or 3 */
        CHECK_ERR(ms_az_td_report_decode(hw, &td), MS_ERR_AZ_FORMAT);
    }
    /* REPORTMACSTRUCT versions 0 and 1 are both read. */
    for (uint8_t version = 0; version <= 1; version++) {
        uint8_t hw[MS_AZ_HCL_HW_LEN];
        memcpy(hw, h.hw, sizeof hw);
        hw[2] = version;
        CHECK_OK(ms_az_td_report_decode(hw, &td));
        CHECK(td.version == version);
    }
    /* A byte of the area after the 1024-byte TD report. */
    b.p[MS_AZ_HCL_HEADER_LEN + 1100] = 1;
    CHECK_OK(ms_az_hcl_decode(b.p, b.len, &h));
    CHECK_ERR(ms_az_td_report_decode(h.hw, &td), MS_ERR_AZ_FORMAT);
    ms_buf_free(&b);
}

static void test_var_data_file(void)
{
    ms_buf b = load("var-data.bin");
    ms_az_var_data v;
    CHECK_OK(ms_az_var_data_parse(b.p, b.len, &v));
    CHECK(v.ak_n_len == 256);
    ms_buf_free(&b);
}

/* Every prefix shorter than report_size is refused; the NV zero fill may be cut anywhere. */
static void test_truncation(void)
{
    const char *names[] = {"hcl-report-snp.bin", "hcl-report-tdx.bin"};
    for (int f = 0; f < 2; f++) {
        ms_buf b = load(names[f]);
        ms_az_hcl h;
        CHECK_OK(ms_az_hcl_decode(b.p, b.len, &h));
        size_t size = h.report_size;
        int bad = 0;
        for (size_t n = 0; n < b.len; n++) {
            ms_err e = ms_az_hcl_decode(b.p, n, &h);
            bad += n < size ? e != MS_ERR_AZ_FORMAT : e != MS_OK;
        }
        CHECK(bad == 0);
        ms_buf_free(&b);
    }
    CHECK_ERR(ms_az_hcl_decode(NULL, 0, &(ms_az_hcl){0}), MS_ERR_AZ_FORMAT);
}

/* Each byte of both headers is checked, and so is every byte of the zero fill. */
static void test_flip_frame(void)
{
    ms_buf b = load("hcl-report-snp.bin");
    ms_az_hcl h;
    int bad = 0;
    for (size_t i = 0; i < b.len; i++) {
        int framed = i < MS_AZ_HCL_HEADER_LEN || (i >= REQ_OFF && i < VAR_OFF) || i >= 0x71b;
        if (!framed) {
            continue;
        }
        b.p[i] ^= 0x01;
        bad += ms_az_hcl_decode(b.p, b.len, &h) != MS_ERR_AZ_FORMAT;
        b.p[i] ^= 0x01;
        b.p[i] ^= 0x80;
        bad += ms_az_hcl_decode(b.p, b.len, &h) != MS_ERR_AZ_FORMAT;
        b.p[i] ^= 0x80;
    }
    CHECK(bad == 0);
    /* Over the cap, even if zero-filled. */
    ms_buf big;
    ms_buf_init(&big, MS_AZ_MAX_HCL + 1);
    CHECK_OK(ms_buf_append(&big, b.p, b.len));
    while (big.len < MS_AZ_MAX_HCL) {
        CHECK_OK(ms_buf_append_u8(&big, 0));
    }
    CHECK_OK(ms_az_hcl_decode(big.p, big.len, &h));
    CHECK_OK(ms_buf_append_u8(&big, 0));
    CHECK_ERR(ms_az_hcl_decode(big.p, big.len, &h), MS_ERR_AZ_FORMAT);
    ms_buf_free(&big);
    /* The other hash types change hash_len; a SHA-384 claim no longer matches. */
    b.p[REQ_OFF + 12] = MS_AZ_HASH_SHA384;
    CHECK_OK(ms_az_hcl_decode(b.p, b.len, &h));
    CHECK(h.hash_len == 48);
    CHECK_ERR(ms_az_hcl_check_var_data_hash(&h), MS_ERR_AZ_VAR_DATA_HASH);
    ms_buf_free(&b);
}

/* report_data binds every byte of the variable data, and report_data's zero tail counts. */
static void test_flip_bound(void)
{
    ms_buf b = load("hcl-report-snp.bin");
    ms_az_hcl h;
    int bad = 0;
    for (size_t i = VAR_OFF; i < 0x71b; i++) {
        b.p[i] ^= 0x20;
        bad += ms_az_hcl_decode(b.p, b.len, &h) != MS_OK ||
               ms_az_hcl_check_var_data_hash(&h) != MS_ERR_AZ_VAR_DATA_HASH;
        b.p[i] ^= 0x20;
    }
    for (size_t i = 0; i < MS_SNP_REPORT_DATA_LEN; i++) {
        b.p[MS_AZ_HCL_HEADER_LEN + 0x50 + i] ^= 0x01;
        bad += ms_az_hcl_decode(b.p, b.len, &h) != MS_OK ||
               ms_az_hcl_check_var_data_hash(&h) != MS_ERR_AZ_VAR_DATA_HASH;
        b.p[MS_AZ_HCL_HEADER_LEN + 0x50 + i] ^= 0x01;
    }
    CHECK(bad == 0);
    ms_buf_free(&b);
}

/* The variable data's size alone: 1 and MS_AZ_MAX_VAR_DATA bytes are framed, 0 and one more not. */
static void test_var_size_bounds(void)
{
    ms_buf b = load("hcl-report-snp.bin");
    uint8_t *var = malloc(MS_AZ_MAX_VAR_DATA + 1u);
    CHECK(var != NULL && b.len > MS_AZ_HCL_HEADER_LEN + MS_AZ_HCL_HW_LEN);
    if (var == NULL) {
        ms_buf_free(&b);
        return;
    }
    memset(var, 'x', MS_AZ_MAX_VAR_DATA + 1u);
    const size_t sizes[] = {0, 1, MS_AZ_MAX_VAR_DATA, MS_AZ_MAX_VAR_DATA + 1u};
    const ms_err want[] = {MS_ERR_AZ_FORMAT, MS_OK, MS_OK, MS_ERR_AZ_FORMAT};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        ms_buf f;
        ms_az_hcl h;
        ms_buf_init(&f, 2 * MS_AZ_MAX_HCL);
        CHECK(az_fx_hcl_frame(&f, b.p + MS_AZ_HCL_HEADER_LEN, MS_AZ_REPORT_SNP, var, sizes[i], 0));
        CHECK_ERR(ms_az_hcl_decode(f.p, f.len, &h), want[i]);
        CHECK(want[i] != MS_OK || h.var_data_len == sizes[i]);
        ms_buf_free(&f);
    }
    free(var);
    ms_buf_free(&b);
}

static ms_err parse_text(const char *json)
{
    ms_az_var_data v;
    return ms_az_var_data_parse((const uint8_t *)json, strlen(json), &v);
}

#define N256 "tYVBpgABBOedWd2SNiT8o1I7FVCit2pDm2mr6B7b66_NNOlW3u42TrJwaB5nk4VRqXjdpobSVSpXItf-Aisx2DwXPEQ3Ms6cvXEOPllGJ1O6kFEYNFJB0ZfLJtf01C_GcxT0EN3C-7m56PJV9AKIA7F2xCtzjWkyx9QX679tpcmP5FQk5_PxWDd3tVXVwjgk2f9V2wGKuJni2FSyDdtKG1C54UgwnNP_HLIdreuVLXiYne95tHvA_ifkUg-fTeQqD3S6NmyMf9FAyuNMJExhNgCNSwiv3IwR-rLBfOHgzpOwlfnVP0TfatYZjeWlOkj7QKfJdxRfNuAshe94E6VW0Q"
#define AK(n, e) "{\"kid\":\"HCLAkPub\",\"kty\":\"RSA\",\"e\":\"" e "\",\"n\":\"" n "\"}"
#define UD "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" \
           "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static void test_var_data_rules(void)
{
    ms_az_var_data v;
    const char *ok = "{\"keys\":[" AK(N256, "AQAB") "],\"user-data\":\"" UD "\",\"new\":[1]}";
    CHECK_OK(ms_az_var_data_parse((const uint8_t *)ok, strlen(ok), &v));
    CHECK(v.has_user_data && v.user_data[1] == 0x11 && v.user_data[63] == 0xff);
    /* Two HCLAkPub keys: which one would the quote be checked with? */
    CHECK_ERR(parse_text("{\"keys\":[" AK(N256, "AQAB") "," AK(N256, "AQAB") "]}"), MS_ERR_AZ_AKPUB);
    CHECK_ERR(parse_text("{\"keys\":[{\"kid\":\"HCLEkPub\",\"kty\":\"RSA\"}]}"), MS_ERR_AZ_AKPUB);
    CHECK_ERR(parse_text("{\"keys\":[{\"kid\":\"HCLAkPub\",\"kty\":\"EC\",\"e\":\"AQAB\",\"n\":\"" N256 "\"}]}"),
              MS_ERR_AZ_AKPUB);
    CHECK_ERR(parse_text("{\"keys\":[" AK(N256, "Aw") "]}"), MS_ERR_AZ_AKPUB);      /* e = 3 */
    CHECK_ERR(parse_text("{\"keys\":[" AK(N256, "AQAB=") "]}"), MS_ERR_AZ_AKPUB);   /* padding */
    CHECK_ERR(parse_text("{\"keys\":[" AK("AQAB", "AQAB") "]}"), MS_ERR_AZ_AKPUB);  /* tiny n */
    CHECK_ERR(parse_text("{\"keys\":[" AK(N256 "+", "AQAB") "]}"), MS_ERR_AZ_AKPUB);
    /* 256 bytes whose first is zero: a 2040-bit modulus, not 2048 */
    char lead0[sizeof N256];
    memcpy(lead0, N256, sizeof N256);
    lead0[0] = 'A';
    lead0[1] = 'A';
    char lead0_json[1024];
    int lw = snprintf(lead0_json, sizeof lead0_json, "{\"keys\":[" AK("%s", "AQAB") "]}", lead0);
    CHECK(lw > 0 && (size_t)lw < sizeof lead0_json);
    CHECK_ERR(parse_text(lead0_json), MS_ERR_AZ_AKPUB);
    lead0[0] = 'B'; /* the control: first byte 0x04 */
    lw = snprintf(lead0_json, sizeof lead0_json, "{\"keys\":[" AK("%s", "AQAB") "]}", lead0);
    CHECK(lw > 0 && (size_t)lw < sizeof lead0_json);
    CHECK_OK(parse_text(lead0_json));
    /* base64 (not base64url) letters at a length that base64url allows */
    static const char std_chars[] = "+/=";
    for (size_t i = 0; i < 3; i++) {
        char text[1024];
        int w = snprintf(text, sizeof text, "{\"keys\":[%s]}", AK(N256, "AQAB"));
        CHECK(w > 0 && (size_t)w < sizeof text);
        char *n = strstr(text, N256);
        CHECK(n != NULL);
        n[17] = std_chars[i];
        CHECK_ERR(parse_text(text), MS_ERR_AZ_AKPUB);
    }
    CHECK_ERR(parse_text("{\"keys\":[{\"kty\":\"RSA\"}," AK(N256, "AQAB") "]}"), MS_ERR_AZ_VAR_DATA);
    CHECK_ERR(parse_text("{\"keys\":[]}"), MS_ERR_AZ_VAR_DATA);
    CHECK_ERR(parse_text("{\"keys\":{}}"), MS_ERR_AZ_VAR_DATA);
    CHECK_ERR(parse_text("[]"), MS_ERR_AZ_VAR_DATA);
    CHECK_ERR(parse_text("{\"keys\":[" AK(N256, "AQAB") "],\"user-data\":\"00\"}"), MS_ERR_AZ_VAR_DATA);
    CHECK_ERR(parse_text("{\"keys\":[" AK(N256, "AQAB") "],\"user-data\":7}"), MS_ERR_AZ_VAR_DATA);
    CHECK_ERR(parse_text("{\"keys\":[" AK(N256, "AQAB") "],\"keys\":[]}"), MS_ERR_AZ_VAR_DATA);
    /* Nine keys: over MS_AZ_MAX_JWK_KEYS. */
    CHECK_ERR(parse_text("{\"keys\":[" AK(N256, "AQAB") ",{\"kid\":\"a\"},{\"kid\":\"a\"},{\"kid\":\"a\"},"
                         "{\"kid\":\"a\"},{\"kid\":\"a\"},{\"kid\":\"a\"},{\"kid\":\"a\"},{\"kid\":\"a\"}]}"),
              MS_ERR_AZ_VAR_DATA);
    /* The cap alone: the valid text padded with spaces to MS_AZ_MAX_VAR_DATA bytes, and one more. */
    char *padded = malloc(MS_AZ_MAX_VAR_DATA + 1u);
    CHECK(padded != NULL && strlen(ok) < MS_AZ_MAX_VAR_DATA);
    if (padded != NULL) {
        memset(padded, ' ', MS_AZ_MAX_VAR_DATA + 1u);
        memcpy(padded, ok, strlen(ok));
        CHECK_OK(ms_az_var_data_parse((const uint8_t *)padded, MS_AZ_MAX_VAR_DATA, &v));
        CHECK_ERR(ms_az_var_data_parse((const uint8_t *)padded, MS_AZ_MAX_VAR_DATA + 1u, &v),
                  MS_ERR_AZ_VAR_DATA);
        free(padded);
    }
    /* Every prefix of a valid text is refused. */
    int bad = 0;
    for (size_t n = 0; n < strlen(ok); n++) {
        bad += ms_az_var_data_parse((const uint8_t *)ok, n, &v) == MS_OK;
    }
    CHECK(bad == 0);
    CHECK(v.ak_n_len == 0 && !v.has_user_data); /* zeroed after a failure */
}

int main(void)
{
    RUN(test_snp_vector);
    RUN(test_tdx_vector);
    RUN(test_var_data_file);
    RUN(test_truncation);
    RUN(test_flip_frame);
    RUN(test_flip_bound);
    RUN(test_var_size_bounds);
    RUN(test_var_data_rules);
    return TEST_SUMMARY();
}
