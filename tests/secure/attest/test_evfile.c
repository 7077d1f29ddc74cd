/* Evidence files of minions-secure attest: the saved JSON both ways, raw forms, caps, 0600 writes. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "secure/attest/devkey.h"
#include "secure/attest/snp.h"
#include "secure/attest/evfile.h"
#include "tests/test.h"

static uint8_t DATA[300], STATIC_PK[32], B[64], SID[16], TH[32], TLS[32];

static ms_evidence_view view(void)
{
    return (ms_evidence_view){.type = MS_EVIDENCE_TPM2_QUOTE, .mode = MS_MODE_STRICT,
                              .data = DATA, .len = sizeof DATA, .not_after = 1900000000,
                              .now = 1800000000, .static_pk = STATIC_PK, .binding = B,
                              .tls_spki_hash = TLS, .session_id = SID, .transcript_hash = TH};
}

static void saved(ms_buf *js)
{
    ms_evidence_view v = view();
    ms_buf_init(js, MS_MAX_EVIDENCE_FILE);
    CHECK_OK(ms_evfile_json(&v, "https://127.0.0.1:8443", 1, js));
}

static void test_round_trip(void)
{
    ms_buf js;
    ms_evfile f;
    saved(&js);
    ms_evfile_init(&f);
    CHECK_OK(ms_evfile_parse(js.p, js.len, &f));
    CHECK(f.form == MS_EVFILE_SAVED && f.type == MS_EVIDENCE_TPM2_QUOTE);
    CHECK(f.have_session && f.mode == MS_MODE_STRICT && f.any_evidence);
    CHECK(f.not_after == 1900000000 && f.captured_at == 1800000000);
    CHECK(f.evidence.len == sizeof DATA);
    CHECK_MEM(f.evidence.p, DATA, sizeof DATA);
    CHECK_MEM(f.binding, B, sizeof B);
    CHECK_MEM(f.static_pk, STATIC_PK, sizeof STATIC_PK);
    CHECK_MEM(f.session_id, SID, sizeof SID);
    CHECK_MEM(f.transcript_hash, TH, sizeof TH);
    CHECK_MEM(f.tls_spki_hash, TLS, sizeof TLS);
    CHECK(strcmp(f.url, "https://127.0.0.1:8443") == 0);
    /* Every truncation of the JSON is refused, and leaves nothing behind. */
    for (size_t n = 1; n < js.len; n++) {
        if (ms_evfile_parse(js.p, n, &f) == MS_OK) {
            CHECK(0);
        }
        CHECK(f.evidence.len == 0 && !f.have_session);
    }
    ms_evfile_free(&f);
    ms_buf_free(&js);
}

/* Replace the first `from` in the saved JSON by `to`, parse, expect `want`. */
static void edited(const char *from, const char *to, ms_err want)
{
    ms_buf js;
    char text[4096];
    ms_evfile f;
    saved(&js);
    CHECK(ms_buf_terminate(&js) == MS_OK);
    const char *at = strstr((const char *)js.p, from);
    CHECK(at != NULL);
    if (!at) {
        ms_buf_free(&js);
        return;
    }
    int n = snprintf(text, sizeof text, "%.*s%s%s", (int)(at - (const char *)js.p),
                     (const char *)js.p, to, at + strlen(from));
    CHECK(n > 0 && (size_t)n < sizeof text);
    ms_evfile_init(&f);
    ms_err e = ms_evfile_parse((const uint8_t *)text, (size_t)n, &f);
    if (e != want) {
        fprintf(stderr, "  %s -> %s: got %s (%s)\n", from, to, ms_err_name(e), f.why);
    }
    CHECK_ERR(e, want);
    CHECK(want == MS_OK || f.why[0] != 0);
    ms_evfile_free(&f);
    ms_buf_free(&js);
}

static void test_saved_negatives(void)
{
    edited("\"version\":1", "\"version\":2", MS_ERR_FILE_FORMAT);
    edited("\"format\":\"minions-secure-evidence\"", "\"format\":\"other\"", MS_ERR_FILE_FORMAT);
    edited("\"type\":\"tpm2-quote\"", "\"type\":\"tpm3\"", MS_ERR_JSON_ENUM);
    edited("\"mode\":\"STRICT\"", "\"mode\":\"strict\"", MS_ERR_JSON_ENUM);
    edited("\"checked_with\":\"any-evidence\"", "\"checked_with\":1", MS_ERR_JSON_TYPE);
    edited("\"version\":1", "\"version\":1,\"extra\":true", MS_ERR_FILE_FORMAT);
    edited("\"binding\":\"", "\"binding\":\"00", MS_ERR_JSON_TOO_LONG);
    edited("\"static_pk\":\"0", "\"static_pk\":\"", MS_ERR_FILE_FORMAT);
    edited("\"session_id\":\"0", "\"session_id\":\"x", MS_ERR_FILE_FORMAT);
    edited("\"evidence\":\"", "\"evidence\":\"0", MS_ERR_HEX);
    edited("\"not_after\":1900000000", "\"not_after\":-1", MS_ERR_FILE_FORMAT);
    edited("\"captured_at\":1800000000", "\"captured_at\":\"x\"", MS_ERR_FILE_FORMAT);
    edited("\"supervisor_url\":\"https://127.0.0.1:8443\",", "", MS_ERR_JSON_MISSING);
    edited("\"type\":\"tpm2-quote\"", "\"type\":\"sev-snp\"", MS_OK);
    edited("{", "[{", MS_ERR_FILE_FORMAT); /* starts with '[': no form at all */
    edited("{", "  {", MS_OK);
}

static void test_raw_forms(void)
{
    ms_evfile f;
    ms_buf hex, vcek, bundle;
    uint8_t raw[MS_SNP_REPORT_LEN], junk[64];
    ms_evfile_init(&f);
    ms_buf_init(&hex, 8192);
    ms_buf_init(&vcek, MS_SNP_MAX_CERT);
    ms_buf_init(&bundle, MS_SNP_MAX_BUNDLE);
    CHECK_OK(ms_file_read(MS_TESTDATA_DIR "/sev-snp/milan/report_milan.hex", 8192, &hex));
    CHECK_OK(ms_file_read(MS_TESTDATA_DIR "/sev-snp/milan/vcek_milan.der", MS_SNP_MAX_CERT, &vcek));
    CHECK_OK(ms_snp_report_from_hex((const char *)hex.p, hex.len, raw));
    CHECK_OK(ms_evfile_parse(hex.p, hex.len, &f));
    CHECK(f.form == MS_EVFILE_SNP_REPORT_HEX && f.type == MS_EVIDENCE_SEV_SNP && !f.have_session);
    CHECK(f.evidence.len == sizeof raw && memcmp(f.evidence.p, raw, sizeof raw) == 0);
    CHECK_OK(ms_evfile_parse(raw, sizeof raw, &f));
    CHECK(f.form == MS_EVFILE_SNP_REPORT && f.evidence.len == sizeof raw);
    CHECK_OK(ms_snp_bundle_encode(raw, vcek.p, vcek.len, NULL, 0, &bundle));
    CHECK_OK(ms_evfile_parse(bundle.p, bundle.len, &f));
    CHECK(f.form == MS_EVFILE_SNP_BUNDLE && f.evidence.len == bundle.len);
    /* A report one byte short or long is none of the forms (it does not start with 0x01). */
    CHECK_ERR(ms_evfile_parse(raw, sizeof raw - 1, &f), MS_ERR_FILE_FORMAT);
    CHECK(f.why[0] != 0);
    /* 0x01 and anything up to the TPM cap is left to the quote verifier's format check. */
    memset(junk, 0xAB, sizeof junk);
    junk[0] = 0x01;
    CHECK_OK(ms_evfile_parse(junk, sizeof junk, &f));
    CHECK(f.form == MS_EVFILE_TPM2_BUNDLE && f.type == MS_EVIDENCE_TPM2_QUOTE);
    junk[0] = 0x02;
    CHECK_ERR(ms_evfile_parse(junk, sizeof junk, &f), MS_ERR_FILE_FORMAT);
    CHECK_ERR(ms_evfile_parse(junk, 0, &f), MS_ERR_FILE_FORMAT);
    CHECK_ERR(ms_evfile_parse(NULL, 0, &f), MS_ERR_FILE_FORMAT);
    CHECK_ERR(ms_evfile_parse(hex.p, MS_MAX_EVIDENCE_FILE + 1, &f), MS_ERR_CAP_EXCEEDED);
    ms_evfile_free(&f);
    ms_buf_free(&hex);
    ms_buf_free(&vcek);
    ms_buf_free(&bundle);
}

static void test_caps(void)
{
    ms_evfile f;
    ms_buf js;
    ms_evidence_view v = view();
    uint8_t *big = calloc(1, MS_MAX_EVIDENCE + 1);
    char url[MS_MAX_HTTP_URL + 2];
    CHECK(big != NULL);
    if (!big) {
        return;
    }
    ms_buf_init(&js, MS_MAX_EVIDENCE_FILE);
    ms_evfile_init(&f);
    /* The largest evidence round-trips; one byte more cannot be written. */
    v.data = big;
    v.len = MS_MAX_EVIDENCE;
    CHECK_OK(ms_evfile_json(&v, "u", 0, &js));
    CHECK(js.len <= MS_MAX_EVIDENCE_FILE);
    CHECK_OK(ms_evfile_parse(js.p, js.len, &f));
    CHECK(f.evidence.len == MS_MAX_EVIDENCE && !f.any_evidence);
    v.len = MS_MAX_EVIDENCE + 1;
    CHECK_ERR(ms_evfile_json(&v, "u", 0, &js), MS_ERR_ARG);
    v.len = 0;
    CHECK_ERR(ms_evfile_json(&v, "u", 0, &js), MS_ERR_ARG);
    v = view();
    memset(url, 'a', sizeof url - 1);
    url[sizeof url - 1] = 0;
    CHECK_ERR(ms_evfile_json(&v, url, 0, &js), MS_ERR_ARG);
    ms_evfile_free(&f);
    ms_buf_free(&js);
    free(big);
}

static void test_write(void)
{
    char dir[] = "/tmp/ms-evfile.XXXXXX", path[256], link[256];
    struct stat st;
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/ev.json", dir);
    snprintf(link, sizeof link, "%s/link.json", dir);
    CHECK_OK(ms_evfile_write(path, (const uint8_t *)"{}", 2));
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_size == 2);
    /* Never replaced, never through a symbolic link. */
    CHECK_ERR(ms_evfile_write(path, (const uint8_t *)"{x}", 3), MS_ERR_FILE_OPEN);
    CHECK(stat(path, &st) == 0 && st.st_size == 2);
    CHECK(symlink(path, link) == 0);
    CHECK_ERR(ms_evfile_write(link, (const uint8_t *)"{}", 2), MS_ERR_FILE_OPEN);
    unlink(link);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    randombytes_buf(DATA, sizeof DATA);
    randombytes_buf(STATIC_PK, sizeof STATIC_PK);
    randombytes_buf(B, sizeof B);
    randombytes_buf(SID, sizeof SID);
    randombytes_buf(TH, sizeof TH);
    randombytes_buf(TLS, sizeof TLS);
    STATIC_PK[0] = SID[0] = 0x01; /* their hex starts with '0': the edits below rely on it */
    RUN(test_round_trip);
    RUN(test_saved_negatives);
    RUN(test_raw_forms);
    RUN(test_caps);
    RUN(test_write);
    return TEST_SUMMARY();
}
