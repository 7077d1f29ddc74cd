/* Tests of the TDX collateral: PCK extensions, TCB info / QE identity verification, TCB levels. */
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "secure/attest/tdx_coll_priv.h"
#include "secure/attest/tdx_collateral.h"
#include "tests/secure/attest/tdx_coll_fixture.h"
#include "tests/secure/attest/tdx_fixture.h"
#include "tests/test.h"

#define T_JUNE_20 1687219200u /* 2023-06-20T00:00:00Z: inside both real documents' validity */
#define T_TCB_NEXT 1687077778u + 30u * 86400u /* the real TCB info's nextUpdate */
#define T_QE_NEXT 1688801099u  /* 2023-07-08T07:24:59Z: the real QE identity's nextUpdate */
#define DAY 86400u

static ms_tdx_collateral *coll_new(void)
{
    ms_tdx_collateral *c = calloc(1, sizeof *c);
    if (c == NULL) {
        abort();
    }
    return c;
}

static void hex_to(const char *hex, uint8_t *out, size_t n)
{
    size_t got = 0;
    CHECK_OK(ms_hex_decode(hex, strlen(hex), out, n, &got));
    CHECK(got == n);
}

/* ---- dates and statuses ------------------------------------------------------------------- */

static void time_is(const char *s, uint64_t want)
{
    uint64_t t = 1;
    CHECK_OK(ms_tdx_time_parse(s, strlen(s), &t));
    CHECK(t == want);
}

static void time_bad(const char *s)
{
    uint64_t t = 1;
    CHECK_ERR(ms_tdx_time_parse(s, strlen(s), &t), MS_ERR_TDX_COLLATERAL_FORMAT);
    CHECK(t == 0);
}

static void test_time_parse(void)
{
    time_is("2023-06-18T08:42:58Z", 1687077778u);
    time_is("2024-02-29T23:59:59Z", 1709251199u);
    time_is("2000-03-01T00:00:00Z", 951868800u);
    time_is("1970-01-01T00:00:00Z", 0);
    time_is("9999-12-31T23:59:59Z", 253402300799u);
    time_bad("2023-02-29T00:00:00Z"); /* not a leap year */
    time_bad("1900-02-29T00:00:00Z");
    time_bad("2023-06-18t08:42:58Z");
    time_bad("2023-06-18T08:42:58z");
    time_bad("2023-06-18T08:42:58+00:00");
    time_bad("2023-06-18T08:42:58.1Z");
    time_bad("2023-06-18 08:42:58Z");
    time_bad("2023-13-01T00:00:00Z");
    time_bad("2023-04-31T00:00:00Z");
    time_bad("2023-00-10T00:00:00Z");
    time_bad("2023-01-00T00:00:00Z");
    time_bad("2023-01-01T24:00:00Z");
    time_bad("2023-01-01T00:60:00Z");
    time_bad("2023-01-01T00:00:60Z"); /* leap seconds are not Intel's */
    time_bad("1969-12-31T23:59:59Z");
    time_bad("+023-01-01T00:00:00Z");
    time_bad("2023-1-01T00:00:00Z");
    time_bad("");
    uint64_t t;
    CHECK_ERR(ms_tdx_time_parse(NULL, 20, &t), MS_ERR_TDX_COLLATERAL_FORMAT);
    /* Each digit replaced, each right after a good parse (no field may keep a value). */
    static const char good[] = "2023-06-18T08:42:58Z";
    for (size_t i = 0; i < sizeof good - 1; i++) {
        char bad[sizeof good];
        memcpy(bad, good, sizeof good);
        bad[i] = 'x';
        CHECK_OK(ms_tdx_time_parse(good, sizeof good - 1, &t));
        if (good[i] >= '0' && good[i] <= '9') {
            CHECK_ERR(ms_tdx_time_parse(bad, sizeof bad - 1, &t), MS_ERR_TDX_COLLATERAL_FORMAT);
        }
    }
}

static void test_status_names(void)
{
    for (int s = MS_TDX_TCB_UP_TO_DATE; s <= MS_TDX_TCB_REVOKED; s++) {
        ms_tdx_tcb_status back = MS_TDX_TCB_NONE;
        CHECK_OK(ms_tdx_tcb_status_parse(ms_tdx_tcb_status_name((ms_tdx_tcb_status)s), &back));
        CHECK(back == (ms_tdx_tcb_status)s);
    }
    CHECK(strcmp(ms_tdx_tcb_status_name(MS_TDX_TCB_SW_HARDENING_NEEDED), "SWHardeningNeeded") == 0);
    CHECK(strcmp(ms_tdx_tcb_status_name(MS_TDX_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED),
                 "OutOfDateConfigurationNeeded") == 0);
    CHECK(strcmp(ms_tdx_tcb_status_name(MS_TDX_TCB_NONE), "None") == 0);
    CHECK(strcmp(ms_tdx_tcb_status_name((ms_tdx_tcb_status)99), "None") == 0);
    ms_tdx_tcb_status s = MS_TDX_TCB_REVOKED;
    CHECK_ERR(ms_tdx_tcb_status_parse("None", &s), MS_ERR_JSON_ENUM);
    CHECK(s == MS_TDX_TCB_NONE);
    CHECK_ERR(ms_tdx_tcb_status_parse("uptodate", &s), MS_ERR_JSON_ENUM);
    CHECK_ERR(ms_tdx_tcb_status_parse(NULL, &s), MS_ERR_ARG);
}

/* ---- PCK extensions ----------------------------------------------------------------------- */

/* The real PCK leaf: the first certificate of the chain inside the production quote. */
static int real_pck(ms_buf *der)
{
    ms_buf quote;
    int ok = tdx_fx_file("tdx_prod_quote_SPR_E4.dat", &quote) &&
             tdx_fx_first_cert_der(quote.p, quote.len, der);
    ms_buf_free(&quote);
    return ok;
}

/* The SGX extension's value inside a certificate: the OCTET STRING after its OID. */
static const uint8_t SGX_OID_DER[] = {0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF8,
                                      0x4D, 0x01, 0x0D, 0x01};

static int ext_value(const ms_buf *der, const uint8_t **v, size_t *n)
{
    for (size_t i = 0; i + sizeof SGX_OID_DER + 4 < der->len; i++) {
        const uint8_t *p = der->p + i;
        if (memcmp(p, SGX_OID_DER, sizeof SGX_OID_DER) == 0 && p[sizeof SGX_OID_DER] == 0x04 &&
            p[sizeof SGX_OID_DER + 1] == 0x82) {
            *n = (size_t)p[sizeof SGX_OID_DER + 2] << 8 | p[sizeof SGX_OID_DER + 3];
            *v = p + sizeof SGX_OID_DER + 4;
            return 1;
        }
    }
    return 0;
}

/* The value's items (outer SEQUENCE with a two-byte length, items with one-byte ones or 0x82). */
typedef struct items {
    const uint8_t *p[16];
    size_t n[16];
    size_t count;
} items;

static int split_items(const uint8_t *v, size_t len, items *it)
{
    memset(it, 0, sizeof *it);
    if (len < 4 || v[0] != 0x30 || v[1] != 0x82) {
        return 0;
    }
    for (size_t off = 4; off < len && it->count < 16; it->count++) {
        size_t n = v[off + 1] < 0x80 ? 2u + v[off + 1]
                                     : 4u + ((size_t)v[off + 2] << 8 | v[off + 3]);
        it->p[it->count] = v + off;
        it->n[it->count] = n;
        off += n;
    }
    return 1;
}

static void join_items(const items *it, ms_buf *out)
{
    size_t total = 0;
    for (size_t i = 0; i < it->count; i++) {
        total += it->n[i];
    }
    ms_buf_init(out, 4096);
    CHECK_OK(ms_buf_append_u8(out, 0x30));
    CHECK_OK(ms_buf_append_u8(out, 0x82));
    CHECK_OK(ms_buf_append_u16be(out, (uint16_t)total));
    for (size_t i = 0; i < it->count; i++) {
        CHECK_OK(ms_buf_append(out, it->p[i], it->n[i]));
    }
}

static void test_pck_real(void)
{
    ms_buf der, tcb;
    ms_tdx_pck_ext e;
    CHECK(real_pck(&der));
    CHECK_OK(ms_tdx_pck_ext_decode(der.p, der.len, &e));
    uint8_t want[16];
    hex_to("089ddfdb9c0359c82a3bc7719239574e", want, 16);
    CHECK_MEM(e.ppid, want, 16);
    hex_to("03030202020100020000000000000000", want, 16);
    CHECK_MEM(e.cpusvn, want, 16);
    CHECK_MEM(e.sgx_comp, want, 16); /* on this part the components equal CPUSVN's bytes */
    CHECK(e.pcesvn == 11);
    CHECK(e.pceid[0] == 0 && e.pceid[1] == 0);
    CHECK(e.sgx_type == 1); /* Scalable */
    hex_to("50806f000000", want, 6);
    CHECK_MEM(e.fmspc, want, 6);
    /* Same platform as the real TCB info: its FMSPC and PCE ID are the certificate's. */
    ms_tdx_collateral *c = coll_new();
    CHECK(tdx_fx_file("sample_tcbInfo_response", &tcb));
    CHECK_OK(ms_tdx_tcb_info_parse(tcb.p, tcb.len, c));
    CHECK_MEM(c->fmspc, e.fmspc, 6);
    CHECK_MEM(c->pceid, e.pceid, 2);
    /* Trailing bytes after the certificate, a truncated one, and the cap. */
    ms_buf more;
    ms_buf_init(&more, 16384);
    CHECK_OK(ms_buf_append(&more, der.p, der.len));
    CHECK_OK(ms_buf_append_u8(&more, 0));
    CHECK_ERR(ms_tdx_pck_ext_decode(more.p, more.len, &e), MS_ERR_TDX_PCK_EXT);
    CHECK(e.pcesvn == 0 && e.fmspc[0] == 0);
    for (size_t i = 0; i < der.len; i += 7) {
        CHECK_ERR(ms_tdx_pck_ext_decode(der.p, i, &e), MS_ERR_TDX_PCK_EXT);
    }
    CHECK_ERR(ms_tdx_pck_ext_decode(der.p, MS_TDX_MAX_PCK_CERT + 1, &e), MS_ERR_TDX_PCK_EXT);
    CHECK_ERR(ms_tdx_pck_ext_decode(NULL, 10, &e), MS_ERR_TDX_PCK_EXT);
    ms_buf_free(&more);
    ms_buf_free(&tcb);
    ms_buf_free(&der);
    free(c);
}

/* The extension in a certificate: missing or twice fails, once decodes. */
static void test_pck_ext_in_cert(void)
{
    ms_buf der, made;
    const uint8_t *v;
    size_t n;
    ms_tdx_pck_ext e;
    CHECK(real_pck(&der));
    CHECK(ext_value(&der, &v, &n));
    CHECK(tdx_fx_cert_with_ext("1.2.840.113741.1.13.1", v, n, 1, &made));
    CHECK_OK(ms_tdx_pck_ext_decode(made.p, made.len, &e));
    CHECK(e.pcesvn == 11);
    ms_buf_free(&made);
    CHECK(tdx_fx_cert_with_ext("1.2.840.113741.1.13.1", v, n, 2, &made));
    CHECK_ERR(ms_tdx_pck_ext_decode(made.p, made.len, &e), MS_ERR_TDX_PCK_EXT);
    ms_buf_free(&made);
    CHECK(tdx_fx_cert_with_ext("1.2.840.113741.1.13.2", v, n, 1, &made));
    CHECK_ERR(ms_tdx_pck_ext_decode(made.p, made.len, &e), MS_ERR_TDX_PCK_EXT);
    ms_buf_free(&made);
    /* A certificate of exactly the cap is read; one byte more is not. */
    CHECK(tdx_fx_cert_of_size("1.2.840.113741.1.13.1", v, n, MS_TDX_MAX_PCK_CERT, &made));
    CHECK(made.len == MS_TDX_MAX_PCK_CERT);
    CHECK_OK(ms_tdx_pck_ext_decode(made.p, made.len, &e));
    ms_buf_free(&made);
    CHECK(tdx_fx_cert_of_size("1.2.840.113741.1.13.1", v, n, MS_TDX_MAX_PCK_CERT + 1u, &made));
    CHECK(made.len == MS_TDX_MAX_PCK_CERT + 1u);
    CHECK_ERR(ms_tdx_pck_ext_decode(made.p, made.len, &e), MS_ERR_TDX_PCK_EXT);
    ms_buf_free(&made);
    ms_buf_free(&der);
}

/* The DER reader on the value: every prefix, every item missing or twice, bad encodings. */
static void test_pck_ext_value(void)
{
    ms_buf der, b;
    const uint8_t *v;
    size_t n;
    ms_tdx_pck_ext e;
    items it, edit;
    CHECK(real_pck(&der));
    CHECK(ext_value(&der, &v, &n));
    CHECK_OK(ms_tdx_pck_ext_value_decode(v, n, &e));
    for (size_t i = 0; i < n; i++) {
        CHECK_ERR(ms_tdx_pck_ext_value_decode(v, i, &e), MS_ERR_TDX_PCK_EXT);
    }
    CHECK(split_items(v, n, &it));
    CHECK(it.count == 7); /* PPID, TCB, PCE-ID, FMSPC, SGX Type, PlatformInstanceID, Config */
    join_items(&it, &b);
    CHECK(b.len == n && memcmp(b.p, v, n) == 0);
    ms_buf_free(&b);
    for (size_t drop = 0; drop < it.count; drop++) {
        edit = it;
        for (size_t k = drop; k + 1 < it.count; k++) {
            edit.p[k] = it.p[k + 1];
            edit.n[k] = it.n[k + 1];
        }
        edit.count = it.count - 1;
        join_items(&edit, &b);
        /* .1 to .5 are required; .6 and .7 are optional. */
        CHECK_ERR(ms_tdx_pck_ext_value_decode(b.p, b.len, &e),
                  drop < 5 ? MS_ERR_TDX_PCK_EXT : MS_OK);
        ms_buf_free(&b);
        edit = it;
        edit.p[it.count] = it.p[drop];
        edit.n[it.count] = it.n[drop];
        edit.count = it.count + 1;
        join_items(&edit, &b);
        CHECK_ERR(ms_tdx_pck_ext_value_decode(b.p, b.len, &e), MS_ERR_TDX_PCK_EXT);
        ms_buf_free(&b);
    }
    /* Byte edits: an item's OID arc .4 -> .8 (unknown), the SGX Type as INTEGER, trailing. */
    uint8_t copy[1024];
    CHECK(n <= sizeof copy);
    size_t fm = (size_t)(it.p[3] - v); /* FMSPC item: 30 14 06 0A <9 prefix bytes> 04 ... */
    memcpy(copy, v, n);
    CHECK(copy[fm + 13] == 0x04);
    copy[fm + 13] = 0x08;
    CHECK_ERR(ms_tdx_pck_ext_value_decode(copy, n, &e), MS_ERR_TDX_PCK_EXT);
    size_t ty = (size_t)(it.p[4] - v); /* SGX Type: 30 0F 06 0A <10> 0A 01 01 */
    memcpy(copy, v, n);
    CHECK(copy[ty + 14] == 0x0A);
    copy[ty + 14] = 0x02;
    CHECK_ERR(ms_tdx_pck_ext_value_decode(copy, n, &e), MS_ERR_TDX_PCK_EXT);
    memcpy(copy, v, n);
    copy[n] = 0;
    CHECK_ERR(ms_tdx_pck_ext_value_decode(copy, n + 1, &e), MS_ERR_TDX_PCK_EXT);
    /* Every byte flipped: never a crash; most are refused. */
    size_t accepted = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(copy, v, n);
        copy[i] ^= 0x80;
        accepted += ms_tdx_pck_ext_value_decode(copy, n, &e) == MS_OK;
    }
    CHECK(accepted < n / 4);
    ms_buf_free(&der);
}

/* The configuration item (.7): entries .7.1 to .7.3 (dynamic platform, cached keys, SMT), each once. */
static void test_pck_ext_config(void)
{
    static const struct {
        uint8_t arcs[4];
        size_t n;
        ms_err want;
    } cases[] = {
        {{1, 2, 3}, 3, MS_OK},
        {{3}, 1, MS_OK},
        {{1, 1}, 2, MS_ERR_TDX_PCK_EXT},    /* an entry twice */
        {{2, 3, 2}, 3, MS_ERR_TDX_PCK_EXT},
        {{4}, 1, MS_ERR_TDX_PCK_EXT},       /* no such entry */
        {{1, 127}, 2, MS_ERR_TDX_PCK_EXT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tdx_fx_pck_opts o;
        tdx_fx_pck_opts_default(&o);
        memcpy(o.config, cases[i].arcs, sizeof o.config);
        o.config_n = cases[i].n;
        ms_buf der;
        ms_buf_init(&der, 4096);
        CHECK(tdx_fx_sgx_ext_der(&der, &o));
        ms_tdx_pck_ext e;
        CHECK_ERR(ms_tdx_pck_ext_value_decode(der.p, der.len, &e), cases[i].want);
        ms_buf_free(&der);
    }
}

/*
 * The reader's DER rules, one at a time: a made-up extension value (every item .1 to .7 and
 * every TCB and configuration entry) with one piece replaced by hand-written bytes.
 */
#define SGX_ITEM_OID "060a2a864886f84d010d01"  /* + one arc: a top-level item's OID */
#define SGX_ENTRY_OID "060b2a864886f84d010d01" /* + two arcs: a TCB or configuration entry */

static void hex_put(ms_buf *b, const char *hex)
{
    uint8_t tmp[256];
    size_t n = strlen(hex) / 2;
    CHECK(n <= sizeof tmp);
    hex_to(hex, tmp, n);
    CHECK_OK(ms_buf_append(b, tmp, n));
}

/* tag, the length in minimal form, the content. */
static void tlv_put(ms_buf *b, uint8_t tag, const ms_buf *content)
{
    size_t n = content->len;
    CHECK(n <= 0xffff);
    CHECK_OK(ms_buf_append_u8(b, tag));
    if (n >= 0x100) {
        CHECK_OK(ms_buf_append_u8(b, 0x82));
        CHECK_OK(ms_buf_append_u16be(b, (uint16_t)n));
    } else if (n >= 0x80) {
        CHECK_OK(ms_buf_append_u8(b, 0x81));
        CHECK_OK(ms_buf_append_u8(b, (uint8_t)n));
    } else {
        CHECK_OK(ms_buf_append_u8(b, (uint8_t)n));
    }
    CHECK_OK(ms_buf_append(b, content->p, content->len));
}

/* SEQUENCE { OID (prefix hex + arcs), value } */
static void sgx_put(ms_buf *b, const char *oid_hex, const uint8_t *arcs, size_t n_arcs,
                    const uint8_t *value, size_t value_len)
{
    ms_buf seq;
    ms_buf_init(&seq, 4096);
    hex_put(&seq, oid_hex);
    CHECK_OK(ms_buf_append(&seq, arcs, n_arcs));
    CHECK_OK(ms_buf_append(&seq, value, value_len));
    tlv_put(b, 0x30, &seq);
    ms_buf_free(&seq);
}

typedef struct der_case {
    unsigned item;  /* the top-level item .1 to .7 replaced by hex (its whole TLV) ... */
    unsigned entry; /* ... or with item 2 or 7, that TCB or configuration entry */
    const char *hex;
    ms_err want;
} der_case;

static void der_value(ms_buf *out, const der_case *k)
{
    static const char *const VALUES[8] = {
        NULL,
        "0410" "99990000000000000000000000000000", /* .1 PPID */
        NULL,                                       /* .2 TCB: entries below */
        "04020000",                                 /* .3 PCE-ID */
        "040650806f000000",                         /* .4 FMSPC */
        "0a0101",                                   /* .5 SGX Type: Scalable */
        "0410" "00112233445566778899aabbccddeeff", /* .6 PlatformInstanceID */
        NULL,                                       /* .7 configuration: entries below */
    };
    ms_buf top, seq, v;
    ms_buf_init(&top, 4096);
    ms_buf_init(&seq, 4096);
    ms_buf_init(&v, 4096);
    for (uint8_t n = 1; n <= 7; n++) {
        ms_buf_clear(&v);
        if (k->item == n && k->entry == 0) {
            hex_put(&top, k->hex);
            continue;
        }
        if (n == 2 || n == 7) {
            ms_buf_clear(&seq);
            for (uint8_t e = 1; e <= (n == 2 ? 18 : 3); e++) {
                uint8_t arcs[2] = {n, e};
                ms_buf ev;
                ms_buf_init(&ev, 64);
                if (k->item == n && k->entry == e) {
                    hex_put(&seq, k->hex);
                    ms_buf_free(&ev);
                    continue;
                }
                hex_put(&ev, n == 7 ? "010100" : e <= 16 ? "020103" : e == 17 ? "02010b"
                                                          : "0410" "03030202020100020000000000000000");
                sgx_put(&seq, SGX_ENTRY_OID, arcs, 2, ev.p, ev.len);
                ms_buf_free(&ev);
            }
            tlv_put(&v, 0x30, &seq);
        } else {
            hex_put(&v, VALUES[n]);
        }
        sgx_put(&top, SGX_ITEM_OID, &n, 1, v.p, v.len);
    }
    ms_buf_clear(out);
    tlv_put(out, 0x30, &top);
    ms_buf_free(&top);
    ms_buf_free(&seq);
    ms_buf_free(&v);
}

static void test_pck_ext_der_rules(void)
{
    static const der_case cases[] = {
        {0, 0, NULL, MS_OK}, /* the control: every item and entry as the builder writes it */
        /* Lengths: a tag with no length, non-minimal 0x81 and 0x82 forms, longer than left. */
        {7, 0, "300d" SGX_ITEM_OID "07" "30", MS_ERR_TDX_PCK_EXT},
        {1, 0, "301f" SGX_ITEM_OID "01" "048110" "99990000000000000000000000000000",
         MS_ERR_TDX_PCK_EXT},
        {1, 0, "3020" SGX_ITEM_OID "01" "04820010" "99990000000000000000000000000000",
         MS_ERR_TDX_PCK_EXT},
        {7, 0, "300e" SGX_ITEM_OID "07" "3005", MS_ERR_TDX_PCK_EXT},
        /* INTEGER / ENUMERATED: empty, negative, not minimal, over the item's maximum. */
        {5, 0, "300e" SGX_ITEM_OID "05" "0a00", MS_ERR_TDX_PCK_EXT},
        {2, 1, "3010" SGX_ENTRY_OID "0201" "020180", MS_ERR_TDX_PCK_EXT},
        {2, 1, "3011" SGX_ENTRY_OID "0201" "02020005", MS_ERR_TDX_PCK_EXT},
        {2, 1, "3011" SGX_ENTRY_OID "0201" "02020080", MS_OK},     /* 128: minimal */
        {2, 1, "3011" SGX_ENTRY_OID "0201" "020200ff", MS_OK},     /* 255: the maximum */
        {2, 1, "3011" SGX_ENTRY_OID "0201" "02020100", MS_ERR_TDX_PCK_EXT}, /* 256 */
        {2, 17, "3012" SGX_ENTRY_OID "0211" "0203008000", MS_OK},  /* three bytes */
        {2, 17, "3012" SGX_ENTRY_OID "0211" "020300ffff", MS_OK},  /* 65535 */
        {2, 17, "3012" SGX_ENTRY_OID "0211" "0203010000", MS_ERR_TDX_PCK_EXT},
        {2, 17, "3013" SGX_ENTRY_OID "0211" "02040000000b", MS_ERR_TDX_PCK_EXT}, /* four */
        {2, 1, "3081a0" SGX_ENTRY_OID "0201" "028190"
               "0000000000000000000000000000000000000000000000000000000000000000"
               "0000000000000000000000000000000000000000000000000000000000000000"
               "0000000000000000000000000000000000000000000000000000000000000000"
               "0000000000000000000000000000000000000000000000000000000000000000"
               "00000000000000000000000000000000",
         MS_ERR_TDX_PCK_EXT}, /* 144 bytes: more than any value is read into */
        {5, 0, "300f" SGX_ITEM_OID "05" "0a0102", MS_OK},          /* SGX Type 2 */
        {5, 0, "300f" SGX_ITEM_OID "05" "0a0103", MS_ERR_TDX_PCK_EXT},
        /* OCTET STRING of another size; BOOLEAN other than 00 or FF, or longer. */
        {1, 0, "301d" SGX_ITEM_OID "01" "040f" "999900000000000000000000000000", MS_ERR_TDX_PCK_EXT},
        {7, 1, "3010" SGX_ENTRY_OID "0701" "0101ff", MS_OK},
        {7, 1, "3010" SGX_ENTRY_OID "0701" "010101", MS_ERR_TDX_PCK_EXT},
        {7, 1, "3011" SGX_ENTRY_OID "0701" "01020000", MS_ERR_TDX_PCK_EXT},
        /* OIDs: one arc too many, another prefix, an arc 0 (after entry .2.1, so only it is wrong). */
        {1, 0, "301f" "060b2a864886f84d010d01" "0101" "0410" "99990000000000000000000000000000",
         MS_ERR_TDX_PCK_EXT},
        {1, 0, "301e" "060a2a864886f84d010d02" "01" "0410" "99990000000000000000000000000000",
         MS_ERR_TDX_PCK_EXT},
        {2, 1, "3010" SGX_ENTRY_OID "0201" "020103" "3010" SGX_ENTRY_OID "0200" "020103",
         MS_ERR_TDX_PCK_EXT},
        /* TCB entries: under another item's arc, twice, with trailing bytes, one missing. */
        {2, 1, "3010" SGX_ENTRY_OID "0301" "020103", MS_ERR_TDX_PCK_EXT},
        {2, 1, "3010" SGX_ENTRY_OID "0201" "020103" "3010" SGX_ENTRY_OID "0201" "020103",
         MS_ERR_TDX_PCK_EXT},
        {2, 1, "3011" SGX_ENTRY_OID "0201" "020103" "00", MS_ERR_TDX_PCK_EXT},
        {2, 5, "", MS_ERR_TDX_PCK_EXT},
        {2, 18, "", MS_ERR_TDX_PCK_EXT},
        /* Configuration entries: under another item's arc, with trailing bytes. */
        {7, 1, "3010" SGX_ENTRY_OID "0601" "010100", MS_ERR_TDX_PCK_EXT},
        {7, 1, "3011" SGX_ENTRY_OID "0701" "010100" "00", MS_ERR_TDX_PCK_EXT},
        /* A top-level item with trailing bytes. */
        {3, 0, "3011" SGX_ITEM_OID "03" "04020000" "00", MS_ERR_TDX_PCK_EXT},
    };
    ms_buf v;
    ms_buf_init(&v, 4096);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ms_tdx_pck_ext e;
        der_value(&v, &cases[i]);
        ms_err got = ms_tdx_pck_ext_value_decode(v.p, v.len, &e);
        if (got != cases[i].want) {
            fprintf(stderr, "der case %zu: got %d, want %d\n", i, (int)got, (int)cases[i].want);
        }
        CHECK_ERR(got, cases[i].want);
        if (i == 0) {
            CHECK(e.sgx_comp[0] == 3 && e.pcesvn == 11 && e.sgx_type == 1 && e.cpusvn[0] == 3 &&
                  e.fmspc[0] == 0x50 && e.ppid[0] == 0x99);
        }
    }
    ms_buf_free(&v);
}

/* ---- the real collateral ------------------------------------------------------------------ */

typedef struct real_coll {
    ms_buf tcb, qe, chain, root, crl, tcb5;
} real_coll;

static int real_load(real_coll *r)
{
    return tdx_fx_file("sample_tcbInfo_response", &r->tcb) &&
           tdx_fx_file("sample_qeIdentity_response", &r->qe) &&
           tdx_fx_file("tcb_signing_chain.pem", &r->chain) &&
           tdx_fx_pem_file_der("trusted_root.pem", &r->root) &&
           tdx_fx_file("rootcrl.der", &r->crl) &&
           tdx_fx_file("sample_tcbinfo_response_v5", &r->tcb5);
}

static void real_free(real_coll *r)
{
    ms_buf_free(&r->tcb);
    ms_buf_free(&r->qe);
    ms_buf_free(&r->chain);
    ms_buf_free(&r->root);
    ms_buf_free(&r->crl);
    ms_buf_free(&r->tcb5);
}

static ms_tdx_collateral_in real_in(const real_coll *r)
{
    ms_tdx_collateral_in in = {
        .tcb_info = r->tcb.p, .tcb_info_len = r->tcb.len,
        .qe_identity = r->qe.p, .qe_identity_len = r->qe.len,
        .signing_chain_pem = r->chain.p, .signing_chain_len = r->chain.len,
        .root_crl = r->crl.p, .root_crl_len = r->crl.len,
    };
    return in;
}

static void test_real_verifies(void)
{
    real_coll r;
    ms_tdx_collateral *c = coll_new();
    CHECK(real_load(&r));
    ms_tdx_collateral_in in = real_in(&r);
    CHECK_OK(ms_tdx_collateral_verify(&in, r.root.p, r.root.len, T_JUNE_20, 0, c));
    CHECK(c->tcb_issue_date == 1687077778u && c->tcb_next_update == T_TCB_NEXT);
    CHECK(c->tcb_eval_number == 15 && c->n_levels == 2 && c->n_module_ids == 0);
    CHECK(c->levels[0].status == MS_TDX_TCB_UP_TO_DATE && c->levels[0].pcesvn == 11);
    CHECK(c->levels[0].sgx[0] == 5 && c->levels[0].sgx[7] == 3 && c->levels[0].tdx[2] == 5);
    CHECK(c->levels[1].status == MS_TDX_TCB_OUT_OF_DATE && c->levels[1].n_advisories == 13);
    CHECK(strcmp(c->levels[1].advisories[0], "INTEL-SA-00106") == 0);
    CHECK(strcmp(c->levels[1].advisories[12], "INTEL-SA-00477") == 0);
    CHECK(c->module_attributes_mask[0] == 0xFF && c->module_mrsigner[47] == 0);
    CHECK(c->qe_next_update == T_QE_NEXT && c->qe_isvprodid == 2 && c->qe_eval_number == 15);
    CHECK(c->qe_miscselect == 0 && c->qe_miscselect_mask == 0xFFFFFFFFu);
    CHECK(c->qe_attributes[0] == 0x11 && c->qe_attributes_mask[0] == 0xFB);
    CHECK(c->qe_mrsigner[0] == 0xDC && c->qe_mrsigner[31] == 0xC5);
    CHECK(c->n_qe_levels == 1 && c->qe_levels[0].isvsvn == 4 &&
          c->qe_levels[0].status == MS_TDX_TCB_UP_TO_DATE);
    /* Without the CRL (optional), and with it as PEM is covered by the made-up chain. */
    in.root_crl = NULL;
    CHECK_OK(ms_tdx_collateral_verify(&in, r.root.p, r.root.len, T_JUNE_20, 0, c));
    real_free(&r);
    free(c);
}

static void test_real_dates(void)
{
    real_coll r;
    ms_tdx_collateral *c = coll_new();
    CHECK(real_load(&r));
    ms_tdx_collateral_in in = real_in(&r);
    /* QE identity ends first (07-08), then TCB info (07-18). */
    CHECK_OK(ms_tdx_collateral_verify(&in, r.root.p, r.root.len, T_QE_NEXT, 0, c));
    CHECK_ERR(ms_tdx_collateral_verify(&in, r.root.p, r.root.len, T_QE_NEXT + 1, 0, c),
              MS_ERR_TDX_COLLATERAL_EXPIRED);
    CHECK(c->n_levels == 0 && c->tcb_issue_date == 0);
    CHECK_OK(ms_tdx_collateral_verify(&in, r.root.p, r.root.len, T_QE_NEXT + 1, 1, c));
    CHECK_ERR(ms_tdx_collateral_verify(&in, r.root.p, r.root.len, T_TCB_NEXT + 1, 0, c),
              MS_ERR_TDX_COLLATERAL_EXPIRED);
    CHECK_OK(ms_tdx_collateral_verify(&in, r.root.p, r.root.len, T_TCB_NEXT + 1, 11 * DAY, c));
    CHECK_ERR(ms_tdx_collateral_verify(&in, r.root.p, r.root.len, T_TCB_NEXT + DAY, DAY - 1, c),
              MS_ERR_TDX_COLLATERAL_EXPIRED);
    /* Before the TCB info was issued (06-18), and no grace makes the future valid. */
    CHECK_ERR(ms_tdx_collateral_verify(&in, r.root.p, r.root.len, 1687077777u, 30 * DAY, c),
              MS_ERR_TDX_COLLATERAL_EXPIRED);
    /* After the signing certificate's notAfter (2025-05-21): expired, whatever the grace. */
    CHECK_ERR(ms_tdx_collateral_verify(&in, r.root.p, r.root.len, 1750000000u, 10000 * DAY, c),
              MS_ERR_TDX_COLLATERAL_EXPIRED);
    /* The root CRL's nextUpdate (2024-04-02) takes the same grace: a grace that admits the
       documents admits the (later) CRL too. Its own expiry is tested on a made-up CRL. */
    CHECK_OK(ms_tdx_collateral_verify(&in, r.root.p, r.root.len, 1714000000u, 300 * DAY, c));
    real_free(&r);
    free(c);
}

/* One changed byte in a signed body: never accepted; a change that keeps the JSON valid is
   SIGNATURE (the body is read only after its signature). */
static void flip_all(ms_tdx_collateral_in *in, const uint8_t *root, size_t root_len, ms_buf *doc,
                     ms_tdx_collateral *c)
{
    size_t sig_fail = 0, changed = 0;
    /* Quick mode: about 64 bytes spread over the document, its last included (each change
       verifies the signing chain and the signature again); full mode: every byte. */
    for (size_t i = 0; i < doc->len; i = test_sample_next(i, 0, doc->len, 64)) {
        changed++;
        uint8_t keep = doc->p[i];
        /* hex digit or decimal digit -> another one, else a bit flip */
        doc->p[i] = keep >= '0' && keep <= '8' ? (uint8_t)(keep + 1)
                    : keep == '9'              ? '0'
                    : keep >= 'a' && keep <= 'e' ? (uint8_t)(keep + 1)
                                                 : (uint8_t)(keep ^ 0x01);
        ms_err e = ms_tdx_collateral_verify(in, root, root_len, T_JUNE_20, 0, c);
        if (e == MS_OK && doc->p[i] != '\n') {
            TEST_FAIL_("byte %zu changed and still verifies", i);
        }
        sig_fail += e == MS_ERR_TDX_COLLATERAL_SIGNATURE;
        doc->p[i] = keep;
    }
    CHECK(sig_fail > changed / 4);
}

static void test_real_tamper(void)
{
    real_coll r;
    ms_tdx_collateral *c = coll_new();
    CHECK(real_load(&r));
    ms_tdx_collateral_in in = real_in(&r);
    /* tcbEvaluationDataNumber 15 -> 16 in each: valid JSON, wrong signature. */
    uint8_t *p = (uint8_t *)strstr((char *)r.tcb.p, "\"tcbEvaluationDataNumber\":15");
    CHECK(p != NULL);
    p[27] = '6';
    CHECK_ERR(ms_tdx_collateral_verify(&in, r.root.p, r.root.len, T_JUNE_20, 0, c),
              MS_ERR_TDX_COLLATERAL_SIGNATURE);
    p[27] = '5';
    p = (uint8_t *)strstr((char *)r.qe.p, "\"tcbEvaluationDataNumber\":15");
    CHECK(p != NULL);
    p[27] = '6';
    CHECK_ERR(ms_tdx_collateral_verify(&in, r.root.p, r.root.len, T_JUNE_20, 0, c),
              MS_ERR_TDX_COLLATERAL_SIGNATURE);
    p[27] = '5';
    CHECK_OK(ms_tdx_collateral_verify(&in, r.root.p, r.root.len, T_JUNE_20, 0, c));
    /* Swapped documents and signatures are format errors (wrong member names). */
    ms_tdx_collateral_in sw = in;
    sw.tcb_info = in.qe_identity;
    sw.tcb_info_len = in.qe_identity_len;
    CHECK_ERR(ms_tdx_collateral_verify(&sw, r.root.p, r.root.len, T_JUNE_20, 0, c),
              MS_ERR_TDX_COLLATERAL_FORMAT);
    flip_all(&in, r.root.p, r.root.len, &r.tcb, c);
    flip_all(&in, r.root.p, r.root.len, &r.qe, c);
    real_free(&r);
    free(c);
}

static void test_real_truncated(void)
{
    real_coll r;
    ms_tdx_collateral *c = coll_new();
    CHECK(real_load(&r));
    ms_tdx_collateral_in in = real_in(&r);
    size_t full = in.tcb_info_len;
    size_t ok_count = 0;
    /* Quick mode: about 64 cuts of each, the last one (the final byte off) included; full
       mode: every cut. */
    for (size_t i = 0; i < full; i = test_sample_next(i, 0, full, 64)) {
        in.tcb_info_len = i;
        ms_err e = ms_tdx_collateral_verify(&in, r.root.p, r.root.len, T_JUNE_20, 0, c);
        ok_count += e == MS_OK;
        CHECK(e == MS_OK || (e == MS_ERR_TDX_COLLATERAL_FORMAT && c->n_levels == 0));
    }
    CHECK(ok_count == 1); /* only the text without its final newline */
    in.tcb_info_len = full;
    for (size_t i = 0; i < in.qe_identity_len; i = test_sample_next(i, 0, in.qe_identity_len, 64)) {
        ms_tdx_collateral_in t = in;
        t.qe_identity_len = i;
        CHECK_ERR(ms_tdx_collateral_verify(&t, r.root.p, r.root.len, T_JUNE_20, 0, c),
                  MS_ERR_TDX_COLLATERAL_FORMAT);
    }
    /* The signing chain and the CRL cut short. */
    /* Full mode: every 13th cut; quick mode: about 24 of those, the first and last included. */
    size_t chain_cuts = (in.signing_chain_len + 12) / 13;
    for (size_t k = 0; k < chain_cuts; k = test_sample_next(k, 0, chain_cuts, 24)) {
        ms_tdx_collateral_in t = in;
        t.signing_chain_len = k * 13;
        CHECK(ms_tdx_collateral_verify(&t, r.root.p, r.root.len, T_JUNE_20, 0, c) != MS_OK);
    }
    for (size_t i = 0; i < in.root_crl_len; i = test_sample_next(i, 0, in.root_crl_len, 64)) {
        ms_tdx_collateral_in t = in;
        t.root_crl_len = i;
        CHECK_ERR(ms_tdx_collateral_verify(&t, r.root.p, r.root.len, T_JUNE_20, 0, c),
                  MS_ERR_TDX_COLLATERAL_REVOKED);
    }
    real_free(&r);
    free(c);
}

static void test_real_other_root(void)
{
    real_coll r;
    tdx_fx_pki pki;
    ms_buf crl;
    ms_tdx_collateral *c = coll_new();
    CHECK(real_load(&r));
    CHECK(tdx_fx_pki_make(&pki));
    ms_tdx_collateral_in in = real_in(&r);
    /* A self-made "Intel" root: the real signing certificate does not chain to it. */
    in.root_crl = NULL;
    CHECK_ERR(ms_tdx_collateral_verify(&in, pki.root_der.p, pki.root_der.len, T_JUNE_20, 0, c),
              MS_ERR_TDX_COLLATERAL_CHAIN);
    CHECK_ERR(ms_tdx_collateral_verify(&in, r.root.p, r.root.len - 1, T_JUNE_20, 0, c),
              MS_ERR_TDX_COLLATERAL_CHAIN);
    /* The real signing certificate and the self-made root's certificate as its "chain". */
    ms_tdx_collateral_in t = in;
    t.signing_chain_pem = pki.signer_pem.p;
    t.signing_chain_len = pki.signer_pem.len;
    CHECK_ERR(ms_tdx_collateral_verify(&t, r.root.p, r.root.len, T_JUNE_20, 0, c),
              MS_ERR_TDX_COLLATERAL_CHAIN);
    /* A CRL under the real root's name but signed by another key is no CRL of the root. */
    ms_buf fake_root = pki.root_der;
    pki.root_der = r.root;
    CHECK(tdx_fx_pki_crl(&pki, pki.root_key, 0, 0, &crl));
    pki.root_der = fake_root;
    in.root_crl = crl.p;
    in.root_crl_len = crl.len;
    CHECK_ERR(ms_tdx_collateral_verify(&in, r.root.p, r.root.len, T_JUNE_20, 0, c),
              MS_ERR_TDX_COLLATERAL_REVOKED);
    ms_buf_free(&crl);
    tdx_fx_pki_free(&pki);
    real_free(&r);
    free(c);
}

/* The v5 schema (TDX 1.5): tdxModuleIdentities. Its 2026 dates are after the testdata's TCB
   signing certificate expired (2025-05-21), so it is parsed here, not verified. */
static void test_real_v5(void)
{
    real_coll r;
    ms_tdx_collateral *c = coll_new();
    CHECK(real_load(&r));
    CHECK_OK(ms_tdx_tcb_info_parse(r.tcb5.p, r.tcb5.len, c));
    CHECK(c->tcb_eval_number == 18 && c->n_levels == 3 && c->n_module_ids == 2);
    CHECK(c->fmspc[0] == 0x90 && c->fmspc[1] == 0xC0 && c->fmspc[2] == 0x6F);
    CHECK(c->module_ids[0].version == 3 && c->module_ids[0].n_levels == 1);
    CHECK(c->module_ids[1].version == 1 && c->module_ids[1].n_levels == 3);
    CHECK(c->module_ids[1].levels[1].isvsvn == 4 &&
          c->module_ids[1].levels[1].status == MS_TDX_TCB_OUT_OF_DATE);
    CHECK(c->module_ids[1].levels[1].n_advisories == 2);
    CHECK(strcmp(c->module_ids[1].levels[1].advisories[1], "INTEL-SA-01099") == 0);
    CHECK(c->levels[2].n_advisories == 19);
    ms_tdx_collateral_in in = real_in(&r);
    in.tcb_info = r.tcb5.p;
    in.tcb_info_len = r.tcb5.len;
    CHECK_ERR(ms_tdx_collateral_verify(&in, r.root.p, r.root.len, 1770000000u, 0, c),
              MS_ERR_TDX_COLLATERAL_EXPIRED);
    /* The parse entry points take only their own document. */
    CHECK_ERR(ms_tdx_tcb_info_parse(r.qe.p, r.qe.len, c), MS_ERR_TDX_COLLATERAL_FORMAT);
    CHECK_OK(ms_tdx_qe_identity_parse(r.qe.p, r.qe.len, c));
    CHECK(c->qe_isvprodid == 2 && c->n_levels == 0);
    real_free(&r);
    free(c);
}

/* ---- made-up collateral: levels, modules, CRLs ---------------------------------------------- */

#define FMSPC_HEX "00906ED50000"
#define MRSIGNER_SEAM_HEX                                                                          \
    "AB0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"

static void comps(char *out, size_t cap, const int *svn)
{
    size_t off = (size_t)snprintf(out, cap, "[");
    for (int i = 0; i < 16; i++) {
        off += (size_t)snprintf(out + off, cap - off, "%s{\"svn\":%d%s}", i ? "," : "", svn[i],
                                i == 0 ? ",\"category\":\"BIOS\",\"type\":\"X\"" : "");
    }
    snprintf(out + off, cap - off, "]");
}

static void level(char *out, size_t cap, int sgx, int pcesvn, int tdx0, int tdx2,
                  const char *status, const char *adv)
{
    int s[16] = {0}, t[16] = {0};
    char sj[1024], tj[1024];
    for (int i = 0; i < 8; i++) {
        s[i] = sgx;
    }
    t[0] = tdx0;
    t[2] = tdx2;
    comps(sj, sizeof sj, s);
    comps(tj, sizeof tj, t);
    snprintf(out, cap,
             "{\"tcb\":{\"sgxtcbcomponents\":%s,\"pcesvn\":%d,\"tdxtcbcomponents\":%s},"
             "\"tcbDate\":\"2023-01-01T00:00:00Z\",\"tcbStatus\":\"%s\"%s}",
             sj, pcesvn, tj, status, adv);
}

#define MODULE_IDS ",\"tdxModuleIdentities\":[" MODULE_ID "]"
#define MODULE_ID                                                                                  \
    "{\"id\":\"TDX_01\",\"mrsigner\":\"" MRSIGNER_SEAM_HEX "\","        \
    "\"attributes\":\"0000000000000000\",\"attributesMask\":\"FFFFFFFFFFFFFFFF\",\"tcbLevels\":["  \
    "{\"tcb\":{\"isvsvn\":2},\"tcbDate\":\"2023-01-01T00:00:00Z\",\"tcbStatus\":\"UpToDate\"},"     \
    "{\"tcb\":{\"isvsvn\":0},\"tcbDate\":\"2022-01-01T00:00:00Z\",\"tcbStatus\":\"OutOfDate\","     \
    "\"advisoryIDs\":[\"INTEL-SA-00999\"]}]}"

/* A TCB info body: three levels (UpToDate, SWHardeningNeeded, OutOfDate), TDX 1.5 optional. */
static char *tcb_body(int with_modules, const char *extra)
{
    char l0[4096], l1[4096], l2[4096];
    level(l0, sizeof l0, 5, 11, 3, 5, "UpToDate", "");
    level(l1, sizeof l1, 4, 10, 2, 4, "SWHardeningNeeded", ",\"advisoryIDs\":[\"INTEL-SA-00615\"]");
    level(l2, sizeof l2, 1, 5, 1, 1, "OutOfDate",
          ",\"advisoryIDs\":[\"INTEL-SA-00106\",\"INTEL-SA-00115\"]");
    size_t cap = 16384;
    char *b = malloc(cap);
    if (b == NULL) {
        abort();
    }
    snprintf(b, cap,
             "{\"id\":\"TDX\",\"version\":3,\"issueDate\":\"2023-03-01T00:00:00Z\","
             "\"nextUpdate\":\"2023-04-01T00:00:00Z\",\"fmspc\":\"" FMSPC_HEX "\",\"pceId\":\"0000\","
             "\"tcbType\":0,\"tcbEvaluationDataNumber\":16,\"tdxModule\":{\"mrsigner\":\""
             MRSIGNER_SEAM_HEX "\",\"attributes\":\"0000000000000000\","
             "\"attributesMask\":\"FFFFFFFFFFFFFFFF\"}%s,\"tcbLevels\":[%s,%s,%s]%s}",
             with_modules ? MODULE_IDS : "", l0, l1, l2, extra);
    return b;
}

static const char QE_BODY[] =
    "{\"id\":\"TD_QE\",\"version\":2,\"issueDate\":\"2023-03-01T00:00:00Z\","
    "\"nextUpdate\":\"2023-04-01T00:00:00Z\",\"tcbEvaluationDataNumber\":16,"
    "\"miscselect\":\"00000000\",\"miscselectMask\":\"FFFFFFFF\","
    "\"attributes\":\"11000000000000000000000000000000\","
    "\"attributesMask\":\"FBFFFFFFFFFFFFFF0000000000000000\","
    "\"mrsigner\":\"DC9E2A7C6F948F17474E34A7FC43ED030F7C1563F1BABDDF6340C82E0E54A8C5\","
    "\"isvprodid\":2,\"tcbLevels\":[{\"tcb\":{\"isvsvn\":4},\"tcbDate\":\"2023-02-15T00:00:00Z\","
    "\"tcbStatus\":\"UpToDate\"},{\"tcb\":{\"isvsvn\":2},\"tcbDate\":\"2022-01-01T00:00:00Z\","
    "\"tcbStatus\":\"OutOfDate\",\"advisoryIDs\":[\"INTEL-SA-00615\"]}]}";

#define T_MARCH_10 1678406400u /* 2023-03-10T00:00:00Z */

typedef struct made {
    tdx_fx_pki pki;
    ms_buf tcb, qe;
} made;

static int made_new(made *m, int with_modules, const char *extra)
{
    char *body = tcb_body(with_modules, extra);
    int ok = tdx_fx_pki_make(&m->pki) && tdx_fx_sign_doc(m->pki.signer_key, "tcbInfo", body, &m->tcb) &&
             tdx_fx_sign_doc(m->pki.signer_key, "enclaveIdentity", QE_BODY, &m->qe);
    free(body);
    return ok;
}

static void made_free(made *m)
{
    tdx_fx_pki_free(&m->pki);
    ms_buf_free(&m->tcb);
    ms_buf_free(&m->qe);
}

static ms_err made_verify(const made *m, const ms_buf *crl, ms_tdx_collateral *c)
{
    ms_tdx_collateral_in in = {
        .tcb_info = m->tcb.p, .tcb_info_len = m->tcb.len,
        .qe_identity = m->qe.p, .qe_identity_len = m->qe.len,
        .signing_chain_pem = m->pki.signer_pem.p, .signing_chain_len = m->pki.signer_pem.len,
        .root_crl = crl != NULL ? crl->p : NULL, .root_crl_len = crl != NULL ? crl->len : 0,
    };
    return ms_tdx_collateral_verify(&in, m->pki.root_der.p, m->pki.root_der.len, T_MARCH_10, 0, c);
}

static void test_made_crl(void)
{
    made m;
    ms_buf crl;
    ms_tdx_collateral *c = coll_new();
    CHECK(made_new(&m, 0, ""));
    CHECK_OK(made_verify(&m, NULL, c));
    for (int pem = 0; pem <= 1; pem++) {
        CHECK(tdx_fx_pki_crl(&m.pki, m.pki.root_key, 0x77, pem, &crl)); /* another serial */
        CHECK_OK(made_verify(&m, &crl, c));
        ms_buf_free(&crl);
        CHECK(tdx_fx_pki_crl(&m.pki, m.pki.root_key, m.pki.signer_serial, pem, &crl));
        CHECK_ERR(made_verify(&m, &crl, c), MS_ERR_TDX_COLLATERAL_REVOKED);
        CHECK(c->n_levels == 0);
        ms_buf_free(&crl);
        /* The same list signed by the signing key, not the root: refused. */
        CHECK(tdx_fx_pki_crl(&m.pki, m.pki.signer_key, 0x77, pem, &crl));
        CHECK_ERR(made_verify(&m, &crl, c), MS_ERR_TDX_COLLATERAL_REVOKED);
        ms_buf_free(&crl);
    }
    /* The CRL's own dates: lastUpdate <= at <= nextUpdate + grace. */
    CHECK(tdx_fx_crl_at(&m.pki, m.pki.root_key, 0, 0, 1677628800L, T_MARCH_10 - 5 * DAY, &crl));
    CHECK_ERR(made_verify(&m, &crl, c), MS_ERR_TDX_COLLATERAL_EXPIRED);
    ms_tdx_collateral_in gin = {
        .tcb_info = m.tcb.p, .tcb_info_len = m.tcb.len,
        .qe_identity = m.qe.p, .qe_identity_len = m.qe.len,
        .signing_chain_pem = m.pki.signer_pem.p, .signing_chain_len = m.pki.signer_pem.len,
        .root_crl = crl.p, .root_crl_len = crl.len,
    };
    CHECK_OK(ms_tdx_collateral_verify(&gin, m.pki.root_der.p, m.pki.root_der.len, T_MARCH_10,
                                      5 * DAY, c));
    CHECK_ERR(ms_tdx_collateral_verify(&gin, m.pki.root_der.p, m.pki.root_der.len, T_MARCH_10,
                                       5 * DAY - 1, c),
              MS_ERR_TDX_COLLATERAL_EXPIRED);
    ms_buf_free(&crl);
    CHECK(tdx_fx_crl_at(&m.pki, m.pki.root_key, 0, 0, T_MARCH_10 + 1, T_MARCH_10 + DAY, &crl));
    CHECK_ERR(made_verify(&m, &crl, c), MS_ERR_TDX_COLLATERAL_EXPIRED);
    ms_buf_free(&crl);
    /* The signing chain with the root after it is fine; with a stranger after it, not. */
    made other;
    CHECK(made_new(&other, 0, ""));
    ms_buf chain2;
    ms_buf_init(&chain2, 65536);
    CHECK_OK(ms_buf_append(&chain2, m.pki.signer_pem.p, m.pki.signer_pem.len));
    CHECK_OK(ms_buf_append(&chain2, other.pki.signer_pem.p, other.pki.signer_pem.len));
    ms_buf keep = m.pki.signer_pem;
    m.pki.signer_pem = chain2;
    CHECK_ERR(made_verify(&m, NULL, c), MS_ERR_TDX_COLLATERAL_CHAIN);
    m.pki.signer_pem = keep;
    ms_buf_free(&chain2);
    /* Documents signed by another signer than the chain's. */
    ms_buf t = m.tcb;
    m.tcb = other.tcb;
    CHECK_ERR(made_verify(&m, NULL, c), MS_ERR_TDX_COLLATERAL_SIGNATURE);
    m.tcb = t;
    made_free(&other);
    made_free(&m);
    free(c);
}

/* m's documents verified with this signing chain, root CRL and root at `at` (grace 0). */
static ms_err made_verify_with(const made *m, const uint8_t *chain, size_t chain_len,
                               const uint8_t *crl, size_t crl_len, const ms_buf *root, uint64_t at,
                               uint64_t grace)
{
    ms_tdx_collateral *c = coll_new();
    ms_tdx_collateral_in in = {
        .tcb_info = m->tcb.p, .tcb_info_len = m->tcb.len,
        .qe_identity = m->qe.p, .qe_identity_len = m->qe.len,
        .signing_chain_pem = chain, .signing_chain_len = chain_len,
        .root_crl = crl, .root_crl_len = crl_len,
    };
    ms_err e = ms_tdx_collateral_verify(&in, root->p, root->len, at, grace, c);
    free(c);
    return e;
}

/* `text` followed by newlines up to exactly `total` bytes, in `out` (sized for it). */
static void padded(ms_buf *out, const ms_buf *text, size_t total)
{
    uint8_t *at;
    ms_buf_init(out, total);
    CHECK(text->len <= total);
    CHECK_OK(ms_buf_append(out, text->p, text->len));
    CHECK_OK(ms_buf_extend(out, total - out->len, &at));
    memset(at, '\n', (size_t)(out->p + out->len - at));
}

/* The root as PEM. */
static void root_pem(const tdx_fx_pki *pki, ms_buf *out)
{
    const unsigned char *p = pki->root_der.p;
    X509 *x = d2i_X509(NULL, &p, (long)pki->root_der.len);
    BIO *bio = BIO_new(BIO_s_mem());
    char *mem = NULL;
    long n = x != NULL && bio != NULL && PEM_write_bio_X509(bio, x) ? BIO_get_mem_data(bio, &mem)
                                                                    : 0;
    ms_buf_init(out, 65536);
    CHECK(n > 0);
    CHECK_OK(ms_buf_append(out, mem, n > 0 ? (size_t)n : 0));
    BIO_free(bio);
    X509_free(x);
}

/*
 * The signing chain, root and root CRL at their caps and one byte over; the chain's PEM
 * shape (one or two certificates, nothing but white space around them); the CRL as a broken
 * PEM block or DER with a byte after it.
 */
static void test_made_caps(void)
{
    made m;
    ms_buf b, text, crl;
    CHECK(made_new(&m, 0, ""));
    const ms_buf *chain = &m.pki.signer_pem, *root = &m.pki.root_der;
    /* The signing chain: MS_TDX_MAX_SIGNING_CHAIN bytes with white space after it. */
    padded(&b, chain, MS_TDX_MAX_SIGNING_CHAIN + 1);
    CHECK_OK(made_verify_with(&m, b.p, b.len - 1, NULL, 0, root, T_MARCH_10, 0));
    CHECK_ERR(made_verify_with(&m, b.p, b.len, NULL, 0, root, T_MARCH_10, 0),
              MS_ERR_TDX_COLLATERAL_CHAIN);
    ms_buf_free(&b);
    /* Signer and root, then the root once more: three certificates. */
    root_pem(&m.pki, &text);
    ms_buf_init(&b, 65536);
    CHECK_OK(ms_buf_append(&b, chain->p, chain->len));
    CHECK_OK(ms_buf_append(&b, text.p, text.len));
    CHECK_OK(made_verify_with(&m, b.p, b.len, NULL, 0, root, T_MARCH_10, 0));
    CHECK_OK(ms_buf_append(&b, text.p, text.len));
    CHECK_ERR(made_verify_with(&m, b.p, b.len, NULL, 0, root, T_MARCH_10, 0),
              MS_ERR_TDX_COLLATERAL_CHAIN);
    ms_buf_free(&b);
    ms_buf_free(&text);
    /* Text before, after or between the blocks; a block cut short after the signer. */
    static const char *const around[][2] = {
        {"junk\n", ""}, {"", "junk\n"}, {"", "-----BEGIN CERTIFICATE-----\nAAAA\n"},
    };
    for (size_t i = 0; i < sizeof around / sizeof around[0]; i++) {
        ms_buf_init(&b, 65536);
        CHECK_OK(ms_buf_append_str(&b, around[i][0]));
        CHECK_OK(ms_buf_append(&b, chain->p, chain->len));
        CHECK_OK(ms_buf_append_str(&b, around[i][1]));
        CHECK_ERR(made_verify_with(&m, b.p, b.len, NULL, 0, root, T_MARCH_10, 0),
                  MS_ERR_TDX_COLLATERAL_CHAIN);
        ms_buf_free(&b);
    }
    /* The root CRL: PEM padded to MS_TDX_MAX_CRL, one byte more; broken PEM; DER + 1. */
    CHECK(tdx_fx_pki_crl(&m.pki, m.pki.root_key, 0x77, 1, &text));
    padded(&b, &text, MS_TDX_MAX_CRL + 1);
    CHECK_OK(made_verify_with(&m, chain->p, chain->len, b.p, b.len - 1, root, T_MARCH_10, 0));
    CHECK_ERR(made_verify_with(&m, chain->p, chain->len, b.p, b.len, root, T_MARCH_10, 0),
              MS_ERR_TDX_COLLATERAL_REVOKED);
    ms_buf_free(&b);
    ms_buf_free(&text);
    static const char broken[] = "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n";
    CHECK_ERR(made_verify_with(&m, chain->p, chain->len, (const uint8_t *)broken,
                               sizeof broken - 1, root, T_MARCH_10, 0),
              MS_ERR_TDX_COLLATERAL_REVOKED);
    CHECK(tdx_fx_pki_crl(&m.pki, m.pki.root_key, 0x77, 0, &crl));
    CHECK_OK(ms_buf_append_u8(&crl, 0));
    CHECK_OK(made_verify_with(&m, chain->p, chain->len, crl.p, crl.len - 1, root, T_MARCH_10, 0));
    CHECK_ERR(made_verify_with(&m, chain->p, chain->len, crl.p, crl.len, root, T_MARCH_10, 0),
              MS_ERR_TDX_COLLATERAL_REVOKED);
    ms_buf_free(&crl);
    /* A CRL whose nextUpdate is before 1970 is out of date, whatever the grace. */
    CHECK(tdx_fx_crl_at(&m.pki, m.pki.root_key, 0, 0, -631152000L, -315619200L, &crl));
    CHECK_ERR(made_verify_with(&m, chain->p, chain->len, crl.p, crl.len, root, T_MARCH_10,
                               T_MARCH_10),
              MS_ERR_TDX_COLLATERAL_EXPIRED);
    ms_buf_free(&crl);
    /* The documents are valid from their issueDate on (2023-03-01T00:00:00Z). */
    CHECK_OK(made_verify_with(&m, chain->p, chain->len, NULL, 0, root, 1677628800u, 0));
    CHECK_ERR(made_verify_with(&m, chain->p, chain->len, NULL, 0, root, 1677628799u, 0),
              MS_ERR_TDX_COLLATERAL_EXPIRED);
    made_free(&m);
    /* A signer whose key is not P-256, though its signatures fit (secp256k1). */
    char *k1 = tcb_body(0, "");
    CHECK(tdx_fx_pki_make_signer_curve(&m.pki, "secp256k1"));
    CHECK(tdx_fx_sign_doc(m.pki.signer_key, "tcbInfo", k1, &m.tcb) &&
          tdx_fx_sign_doc(m.pki.signer_key, "enclaveIdentity", QE_BODY, &m.qe));
    CHECK_ERR(made_verify_with(&m, chain->p, chain->len, NULL, 0, root, T_MARCH_10, 0),
              MS_ERR_TDX_COLLATERAL_CHAIN);
    free(k1);
    made_free(&m);
    /* A root of MS_TDX_MAX_PCK_CERT bytes signs the chain; one byte more is refused. */
    for (size_t extra = 0; extra <= 1; extra++) {
        char *body = tcb_body(0, "");
        CHECK(tdx_fx_pki_make_root_of_size(&m.pki, MS_TDX_MAX_PCK_CERT + extra));
        CHECK(tdx_fx_sign_doc(m.pki.signer_key, "tcbInfo", body, &m.tcb) &&
              tdx_fx_sign_doc(m.pki.signer_key, "enclaveIdentity", QE_BODY, &m.qe));
        CHECK_ERR(made_verify_with(&m, chain->p, chain->len, NULL, 0, root, T_MARCH_10, 0),
                  extra == 0 ? MS_OK : MS_ERR_TDX_COLLATERAL_CHAIN);
        free(body);
        made_free(&m);
    }
}

/* Unknown members: refused at the top, ignored (and signed) inside a body. */
static void test_made_unknown_fields(void)
{
    made m;
    ms_tdx_collateral *c = coll_new();
    CHECK(made_new(&m, 0, ",\"futureField\":{\"x\":[1,2]}"));
    CHECK_OK(made_verify(&m, NULL, c));
    CHECK(c->n_levels == 3);
    ms_buf more;
    ms_buf_init(&more, 65536);
    CHECK_OK(ms_buf_append(&more, m.tcb.p, m.tcb.len - 1));
    CHECK_OK(ms_buf_append_str(&more, ",\"extra\":1}"));
    ms_buf keep = m.tcb;
    m.tcb = more;
    CHECK_ERR(made_verify(&m, NULL, c), MS_ERR_TDX_COLLATERAL_FORMAT);
    m.tcb = keep;
    ms_buf_free(&more);
    made_free(&m);
    free(c);
}

static ms_tdx_pck_ext pck_with(int sgx, int pcesvn)
{
    ms_tdx_pck_ext p;
    memset(&p, 0, sizeof p);
    for (int i = 0; i < 8; i++) {
        p.sgx_comp[i] = (uint8_t)sgx;
    }
    p.pcesvn = (uint16_t)pcesvn;
    hex_to(FMSPC_HEX, p.fmspc, 6);
    return p;
}

static ms_tdx_tcb_in tcb_in(const ms_tdx_pck_ext *p, int t0, int t1, int t2)
{
    ms_tdx_tcb_in in;
    memset(&in, 0, sizeof in);
    in.pck = p;
    in.tee_tcb_svn[0] = (uint8_t)t0;
    in.tee_tcb_svn[1] = (uint8_t)t1;
    in.tee_tcb_svn[2] = (uint8_t)t2;
    hex_to(MRSIGNER_SEAM_HEX, in.mrsignerseam, 48);
    return in;
}

static void level_is(const ms_tdx_collateral *c, const ms_tdx_tcb_in *in, size_t idx,
                     ms_tdx_tcb_status want)
{
    ms_tdx_tcb_result r;
    CHECK_OK(ms_tdx_tcb_evaluate(c, in, &r));
    CHECK(r.level == &c->levels[idx]);
    CHECK(r.status == want);
}

static void test_levels_tdx10(void)
{
    made m;
    ms_tdx_collateral *c = coll_new();
    ms_tdx_tcb_result r;
    CHECK(made_new(&m, 0, ""));
    CHECK_OK(made_verify(&m, NULL, c));
    ms_tdx_pck_ext p = pck_with(5, 11);
    ms_tdx_tcb_in in = tcb_in(&p, 3, 0, 5);
    level_is(c, &in, 0, MS_TDX_TCB_UP_TO_DATE);
    CHECK_OK(ms_tdx_tcb_evaluate(c, &in, &r));
    CHECK(r.module_level == NULL && r.platform_status == MS_TDX_TCB_UP_TO_DATE);
    in = tcb_in(&p, 9, 0, 9); /* higher than every level: still the first one */
    level_is(c, &in, 0, MS_TDX_TCB_UP_TO_DATE);
    in = tcb_in(&p, 2, 0, 5); /* TDX component 0 below level 0's: level 1 */
    level_is(c, &in, 1, MS_TDX_TCB_SW_HARDENING_NEEDED);
    CHECK(c->levels[1].n_advisories == 1 && strcmp(c->levels[1].advisories[0], "INTEL-SA-00615") == 0);
    p = pck_with(4, 11); /* an SGX component below level 0's */
    in = tcb_in(&p, 3, 0, 5);
    level_is(c, &in, 1, MS_TDX_TCB_SW_HARDENING_NEEDED);
    p = pck_with(5, 9); /* PCESVN below levels 0 and 1 */
    in = tcb_in(&p, 3, 0, 5);
    level_is(c, &in, 2, MS_TDX_TCB_OUT_OF_DATE);
    p = pck_with(0, 11); /* below every level */
    in = tcb_in(&p, 3, 0, 5);
    CHECK_ERR(ms_tdx_tcb_evaluate(c, &in, &r), MS_ERR_TDX_TCB_LEVEL);
    CHECK(r.level == NULL && r.status == MS_TDX_TCB_NONE);
    p = pck_with(5, 11);
    in = tcb_in(&p, 0, 0, 5);
    CHECK_ERR(ms_tdx_tcb_evaluate(c, &in, &r), MS_ERR_TDX_TCB_LEVEL);
    /* Another platform: FMSPC, then PCE ID. */
    p.fmspc[5] ^= 1;
    in = tcb_in(&p, 3, 0, 5);
    CHECK_ERR(ms_tdx_tcb_evaluate(c, &in, &r), MS_ERR_TDX_FMSPC);
    p.fmspc[5] ^= 1;
    p.pceid[1] = 1;
    CHECK_ERR(ms_tdx_tcb_evaluate(c, &in, &r), MS_ERR_TDX_FMSPC);
    p.pceid[1] = 0;
    /* Another TDX module signer, or SEAM attributes outside the identity. */
    in.mrsignerseam[0] ^= 1;
    CHECK_ERR(ms_tdx_tcb_evaluate(c, &in, &r), MS_ERR_TDX_MODULE);
    in.mrsignerseam[0] ^= 1;
    in.seam_attributes[7] = 0x80;
    CHECK_ERR(ms_tdx_tcb_evaluate(c, &in, &r), MS_ERR_TDX_MODULE);
    in.seam_attributes[7] = 0;
    CHECK_OK(ms_tdx_tcb_evaluate(c, &in, &r));
    CHECK_ERR(ms_tdx_tcb_evaluate(NULL, &in, &r), MS_ERR_ARG);
    /* The real PCK against the real TCB info: same platform, but its SGX components (3, 3, ...)
       are below both levels' (5, 5, ...): no level. */
    real_coll rc;
    ms_buf der;
    ms_tdx_pck_ext real;
    CHECK(real_load(&rc) && real_pck(&der));
    CHECK_OK(ms_tdx_pck_ext_decode(der.p, der.len, &real));
    ms_tdx_collateral_in rin = real_in(&rc);
    CHECK_OK(ms_tdx_collateral_verify(&rin, rc.root.p, rc.root.len, T_JUNE_20, 0, c));
    in = tcb_in(&real, 3, 0, 5);
    memset(in.mrsignerseam, 0, sizeof in.mrsignerseam);
    CHECK_ERR(ms_tdx_tcb_evaluate(c, &in, &r), MS_ERR_TDX_TCB_LEVEL);
    ms_buf_free(&der);
    real_free(&rc);
    made_free(&m);
    free(c);
}

static void test_levels_tdx15(void)
{
    made m;
    ms_tdx_collateral *c = coll_new();
    ms_tdx_tcb_result r;
    CHECK(made_new(&m, 1, ""));
    CHECK_OK(made_verify(&m, NULL, c));
    CHECK(c->n_module_ids == 1 && c->module_ids[0].version == 1);
    ms_tdx_pck_ext p = pck_with(5, 11);
    /* TEE_TCB_SVN = (2, 1, 5): module 1.x minor 2; components 0 and 1 are not compared. */
    ms_tdx_tcb_in in = tcb_in(&p, 2, 1, 5);
    CHECK_OK(ms_tdx_tcb_evaluate(c, &in, &r));
    CHECK(r.level == &c->levels[0] && r.status == MS_TDX_TCB_UP_TO_DATE);
    CHECK(r.module_level == &c->module_ids[0].levels[0]);
    /* Module minor SVN 1: the module's OutOfDate level makes the whole OutOfDate. */
    in = tcb_in(&p, 1, 1, 5);
    CHECK_OK(ms_tdx_tcb_evaluate(c, &in, &r));
    CHECK(r.platform_status == MS_TDX_TCB_UP_TO_DATE && r.status == MS_TDX_TCB_OUT_OF_DATE);
    CHECK(r.module_level == &c->module_ids[0].levels[1]);
    CHECK(strcmp(r.module_level->advisories[0], "INTEL-SA-00999") == 0);
    /* Platform SWHardeningNeeded with an OutOfDate module: OutOfDate. */
    p = pck_with(4, 11);
    in = tcb_in(&p, 1, 1, 5);
    CHECK_OK(ms_tdx_tcb_evaluate(c, &in, &r));
    CHECK(r.level == &c->levels[1] && r.status == MS_TDX_TCB_OUT_OF_DATE);
    /* Module major version 2: no identity "TDX_02". */
    p = pck_with(5, 11);
    in = tcb_in(&p, 2, 2, 5);
    CHECK_ERR(ms_tdx_tcb_evaluate(c, &in, &r), MS_ERR_TDX_MODULE);
    in = tcb_in(&p, 2, 1, 5);
    in.mrsignerseam[47] = 1;
    CHECK_ERR(ms_tdx_tcb_evaluate(c, &in, &r), MS_ERR_TDX_MODULE);
    /* SEAM attributes outside the module identity's (0 under an all-ones mask). */
    in = tcb_in(&p, 2, 1, 5);
    in.seam_attributes[7] = 0x80;
    CHECK_ERR(ms_tdx_tcb_evaluate(c, &in, &r), MS_ERR_TDX_MODULE);
    /* TDX 1.0 (major 0) on the same document: tdxModule, components from 0. */
    in = tcb_in(&p, 2, 0, 5);
    CHECK_OK(ms_tdx_tcb_evaluate(c, &in, &r));
    CHECK(r.level == &c->levels[1] && r.module_level == NULL);
    made_free(&m);
    free(c);
}

static void test_qe_identity(void)
{
    real_coll r;
    ms_tdx_collateral *c = coll_new();
    ms_tdx_tcb_status s;
    CHECK(real_load(&r));
    CHECK_OK(ms_tdx_qe_identity_parse(r.qe.p, r.qe.len, c));
    ms_tdx_qe_fields qe;
    memset(&qe, 0, sizeof qe);
    hex_to("DC9E2A7C6F948F17474E34A7FC43ED030F7C1563F1BABDDF6340C82E0E54A8C5", qe.mrsigner, 32);
    qe.attributes[0] = 0x11;
    qe.isvprodid = 2;
    qe.isvsvn = 4;
    CHECK_OK(ms_tdx_qe_identity_match(c, &qe, &s));
    CHECK(s == MS_TDX_TCB_UP_TO_DATE);
    qe.attributes[0] = 0x15; /* bit 2 is outside attributesMask (FB) */
    qe.attributes[15] = 0xFF; /* bytes 8..15 too */
    CHECK_OK(ms_tdx_qe_identity_match(c, &qe, &s));
    qe.attributes[0] = 0x13;
    CHECK_ERR(ms_tdx_qe_identity_match(c, &qe, &s), MS_ERR_TDX_QE_IDENTITY);
    CHECK(s == MS_TDX_TCB_NONE);
    qe.attributes[0] = 0x11;
    qe.attributes[1] = 0x01;
    CHECK_ERR(ms_tdx_qe_identity_match(c, &qe, &s), MS_ERR_TDX_QE_IDENTITY);
    qe.attributes[1] = 0;
    qe.mrsigner[31] ^= 1;
    CHECK_ERR(ms_tdx_qe_identity_match(c, &qe, &s), MS_ERR_TDX_QE_IDENTITY);
    qe.mrsigner[31] ^= 1;
    qe.isvprodid = 1;
    CHECK_ERR(ms_tdx_qe_identity_match(c, &qe, &s), MS_ERR_TDX_QE_IDENTITY);
    qe.isvprodid = 2;
    qe.miscselect = 0x100;
    CHECK_ERR(ms_tdx_qe_identity_match(c, &qe, &s), MS_ERR_TDX_QE_IDENTITY);
    qe.miscselect = 0;
    qe.isvsvn = 3; /* below the only level */
    CHECK_ERR(ms_tdx_qe_identity_match(c, &qe, &s), MS_ERR_TDX_TCB_LEVEL);
    qe.isvsvn = 4;
    CHECK_OK(ms_tdx_qe_identity_match(c, &qe, &s));
    /* The made-up QE identity has an OutOfDate level for ISVSVN 2 and 3. */
    made m;
    CHECK(made_new(&m, 0, ""));
    CHECK_OK(made_verify(&m, NULL, c));
    CHECK(c->n_qe_levels == 2);
    qe.isvsvn = 3;
    CHECK_OK(ms_tdx_qe_identity_match(c, &qe, &s));
    CHECK(s == MS_TDX_TCB_OUT_OF_DATE);
    qe.isvsvn = 1;
    CHECK_ERR(ms_tdx_qe_identity_match(c, &qe, &s), MS_ERR_TDX_TCB_LEVEL);
    made_free(&m);
    real_free(&r);
    free(c);
}

/* Bodies that are valid JSON but not Intel's: each refused as FORMAT (after the signature). */
/* `body` with the first `from` replaced by `to` (malloc'd; NULL when `from` is not there). */
static char *edited(const char *body, const char *from, const char *to)
{
    const char *at = strstr(body, from);
    CHECK(at != NULL);
    if (at == NULL) {
        return NULL;
    }
    size_t cap = strlen(body) + strlen(to) + 1;
    char *out = malloc(cap);
    if (out == NULL) {
        abort();
    }
    snprintf(out, cap, "%.*s%s%s", (int)(at - body), body, to, at + strlen(from));
    return out;
}

static void test_made_bad_bodies(void)
{
    static const struct {
        const char *from, *to;
        int doc; /* 0: TCB info, 1: TCB info with a module identity, 2: QE identity */
    } edits[] = {
        {"\"version\":3", "\"version\":2", 0},
        {"\"id\":\"TDX\"", "\"id\":\"SGX\"", 0},
        {"\"tcbType\":0", "\"tcbType\":1", 0},
        {"\"fmspc\":\"" FMSPC_HEX "\"", "\"fmspc\":\"00906ED500\"", 0},
        {"\"pceId\":\"0000\"", "\"pceId\":\"00G0\"", 0},
        {"\"issueDate\":\"2023-03-01T00:00:00Z\"", "\"issueDate\":\"2023-05-01T00:00:00Z\"", 0},
        {"\"nextUpdate\":\"2023-04-01T00:00:00Z\"", "\"nextUpdate\":\"2023-04-01\"", 0},
        {"\"tcbStatus\":\"UpToDate\"", "\"tcbStatus\":\"Fine\"", 0},
        {"\"pcesvn\":11", "\"pcesvn\":65536", 0},
        {"{\"svn\":5,", "{\"svn\":256,", 0},
        {"\"INTEL-SA-00615\"", "\"INTEL-SA-00615-AND-A-VERY-LONG-NAME\"", 0},
        {"\"tcbLevels\":[", "\"tcbLevels\":[],\"x\":[", 0},
        {"\"INTEL-SA-00615\"", "\"INTEL SA\"", 0},
        {"\"INTEL-SA-00615\"", "\"INTEL-\\u001b[31m\"", 0},
        {"\"INTEL-SA-00615\"", "\"\"", 0},
        {"\"tdxtcbcomponents\":[{\"svn\":3", "\"tdxtcbcomponents\":[{\"svn\":3},{\"svn\":3", 0},
        /* 15 TDX components; an advisory with DEL */
        {"\"tdxtcbcomponents\":[{\"svn\":3,\"category\":\"BIOS\",\"type\":\"X\"},",
         "\"tdxtcbcomponents\":[", 0},
        {"\"INTEL-SA-00615\"", "\"INTEL-SA-\\u007f\"", 0},
        /* module identities: another id, a digit that is no uppercase hex, the same twice */
        {"\"id\":\"TDX_01\"", "\"id\":\"SGX_01\"", 1},
        {"\"id\":\"TDX_01\"", "\"id\":\"TDX_0G\"", 1},
        {"\"id\":\"TDX_01\"", "\"id\":\"TDX_g1\"", 1},
        {"\"tdxModuleIdentities\":[", "\"tdxModuleIdentities\":[" MODULE_ID ",", 1},
        /* QE identity: version 1, issued after its nextUpdate */
        {"\"version\":2", "\"version\":1", 2},
        {"\"nextUpdate\":\"2023-04-01T00:00:00Z\"", "\"nextUpdate\":\"2023-02-01T00:00:00Z\"", 2},
    };
    ms_tdx_collateral *c = coll_new();
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        int qe = edits[i].doc == 2;
        char *body = tcb_body(edits[i].doc == 1, "");
        char *edit = edited(qe ? QE_BODY : body, edits[i].from, edits[i].to);
        if (edit == NULL) {
            free(body);
            continue;
        }
        made m;
        CHECK(tdx_fx_pki_make(&m.pki));
        CHECK(tdx_fx_sign_doc(m.pki.signer_key, "tcbInfo", qe ? body : edit, &m.tcb));
        CHECK(tdx_fx_sign_doc(m.pki.signer_key, "enclaveIdentity", qe ? edit : QE_BODY, &m.qe));
        ms_err e = made_verify(&m, NULL, c);
        if (e != MS_ERR_TDX_COLLATERAL_FORMAT) {
            fprintf(stderr, "edit %zu (%s):\n", i, edits[i].to);
        }
        CHECK_ERR(e, MS_ERR_TDX_COLLATERAL_FORMAT);
        CHECK(c->n_levels == 0);
        made_free(&m);
        free(edit);
        free(body);
    }
    free(c);
}

/*
 * The documents' caps: a response of MS_TDX_MAX_COLLATERAL_JSON bytes (white space after
 * it) is read, one byte more is not; the same for a body read on its own (the fuzzer's
 * entry). A document valid for an instant (issueDate == nextUpdate) is well formed.
 */
static void test_json_caps(void)
{
    made m;
    ms_buf doc, body_text, b;
    ms_tdx_collateral *c = coll_new();
    CHECK(made_new(&m, 0, ""));
    padded(&doc, &m.tcb, MS_TDX_MAX_COLLATERAL_JSON + 1);
    CHECK_OK(ms_tdx_tcb_info_parse(doc.p, doc.len - 1, c));
    CHECK(c->n_levels == 3);
    CHECK_ERR(ms_tdx_tcb_info_parse(doc.p, doc.len, c), MS_ERR_TDX_COLLATERAL_FORMAT);
    ms_buf_free(&doc);
    char *body = tcb_body(0, "");
    ms_buf_init(&body_text, 65536);
    CHECK_OK(ms_buf_append_str(&body_text, body));
    padded(&b, &body_text, MS_TDX_MAX_COLLATERAL_JSON + 1);
    memset(c, 0, sizeof *c);
    CHECK_OK(ms_tdx_coll_tcb_body(b.p, b.len - 1, c));
    CHECK(c->n_levels == 3);
    CHECK_ERR(ms_tdx_coll_tcb_body(b.p, b.len, c), MS_ERR_TDX_COLLATERAL_FORMAT);
    ms_buf_free(&b);
    ms_buf_free(&body_text);
    size_t start, n;
    uint8_t sig[MS_TDX_COLL_SIG_LEN];
    CHECK_ERR(ms_tdx_coll_split(NULL, 100, "tcbInfo", &start, &n, sig),
              MS_ERR_TDX_COLLATERAL_FORMAT);
    /* issueDate == nextUpdate, in each document */
    char *tcb1 = edited(body, "\"nextUpdate\":\"2023-04-01T00:00:00Z\"",
                        "\"nextUpdate\":\"2023-03-01T00:00:00Z\"");
    char *qe1 = edited(QE_BODY, "\"nextUpdate\":\"2023-04-01T00:00:00Z\"",
                       "\"nextUpdate\":\"2023-03-01T00:00:00Z\"");
    if (tcb1 != NULL && qe1 != NULL) {
        CHECK_OK(ms_tdx_coll_tcb_body((const uint8_t *)tcb1, strlen(tcb1), c));
        CHECK(c->tcb_issue_date == c->tcb_next_update);
        CHECK_OK(ms_tdx_coll_qe_body((const uint8_t *)qe1, strlen(qe1), c));
        CHECK(c->qe_issue_date == c->qe_next_update);
    }
    free(tcb1);
    free(qe1);
    free(body);
    made_free(&m);
    free(c);
}

int main(void)
{
    RUN(test_time_parse);
    RUN(test_status_names);
    RUN(test_pck_real);
    RUN(test_pck_ext_config);
    RUN(test_pck_ext_der_rules);
    RUN(test_pck_ext_in_cert);
    RUN(test_pck_ext_value);
    RUN(test_real_verifies);
    RUN(test_real_dates);
    RUN(test_real_tamper);
    RUN(test_real_truncated);
    RUN(test_real_other_root);
    RUN(test_real_v5);
    RUN(test_made_crl);
    RUN(test_made_caps);
    RUN(test_made_unknown_fields);
    RUN(test_levels_tdx10);
    RUN(test_levels_tdx15);
    RUN(test_qe_identity);
    RUN(test_made_bad_bodies);
    RUN(test_json_caps);
    return TEST_SUMMARY();
}
