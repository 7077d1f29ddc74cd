/*
 * minions-secure attest, the real programs: a supervisor with --evidence tpm2 on swtpm (and one
 * with dev-key), its evidence shown, turned into a policy that a later session accepts, saved
 * and checked offline (flipped, other AK, STRICT, raw bundle); AMD's Milan report offline;
 * usage errors; minions-supervisor --evidence sev-snp's start-up errors on a machine without SNP.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/codec.h"
#include "common/json.h"
#include "secure/attest/devkey.h"
#include "secure/attest/policy.h"
#include "secure/attest/snp.h"
#include "secure/attest/tpm2_bundle.h"
#include "secure/attest/tpm2_producer.h"
#include "secure/attest/evfile.h"
#include "tests/fixture/swtpm.h"
#include "tests/fixture/world.h"
#include "tests/test.h"

#define PCRS 0xffu
#define RUN_MS 120000
#define MILAN MS_TESTDATA_DIR "/sev-snp/milan"

static e2e_world W; /* programs, certs/dev, the dev key, the script, the temp dir */
static struct {
    char log[PATH_MAX], url[128], dev_url[128];
    e2e_swtpm tpm;
    e2e_server sim, sup, dev;
    ms_tpm2_policy enrolled;
    ms_buf out, err;
} E;

/* --- helpers ------------------------------------------------------------------------------- */

/* Run `bin` (NULL: minions-secure) with the arguments after argv[0] (NULL-terminated); its stdout/stderr in E. */
static int run_in_e(const char *bin, const char *const *args)
{
    e2e_out r;
    int code = e2e_world_run(&W, &(e2e_cmd){.bin = bin, .timeout_ms = RUN_MS}, args, &r);
    ms_buf_free(&E.out);
    ms_buf_free(&E.err);
    E.out = r.out; /* E owns them now */
    E.err = r.err;
    return code;
}

static int cli(const char *const *args)
{
    return run_in_e(NULL, args);
}

static int has(const ms_buf *b, const char *needle)
{
    return e2e_buf_shows(b, needle);
}

static void hex(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t m;
    if (ms_hex_encode(p, n, out, cap, &m) != MS_OK) {
        out[0] = 0;
    }
}

static int write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(p, 1, n, f) == n;
    return (f && fclose(f) == 0 && ok) ? 0 : -1;
}

/* Lines of the supervisor's access log that used a session (anything but a handshake). */
static int session_posts(const e2e_server *s)
{
    ms_buf b;
    int n = 0;
    ms_buf_init(&b, 1 << 24);
    if (e2e_file_read(s->out, &b) == 0 && ms_buf_terminate(&b) == MS_OK) {
        static const char *const kinds[] = {" POST finish ", " POST request ", " POST stream ",
                                            " POST close "};
        for (size_t k = 0; k < 4; k++) {
            for (const char *p = (const char *)b.p; (p = strstr(p, kinds[k])) != NULL; p++) {
                n++;
            }
        }
    }
    ms_buf_free(&b);
    return n;
}

/* A policy from the enrolled values, with the AK name spoiled on request. */
static int tpm_policy(const char *path, int spoil_ak, int strict)
{
    char h[2 * MS_TPM2_NAME_LEN + 1], v[2 * MS_TPM2_DIGEST_LEN + 1];
    uint8_t name[MS_TPM2_NAME_LEN];
    FILE *f = fopen(path, "w");
    if (!f) {
        return -1;
    }
    memcpy(name, E.enrolled.ak_name, sizeof name);
    name[sizeof name - 1] ^= (uint8_t)spoil_ak;
    hex(name, sizeof name, h, sizeof h);
    fprintf(f, "{\"version\":1,\"accept\":[\"tpm2-quote\"],\"require_strict\":%s,"
               "\"tpm2\":{\"ak_name\":\"%s\",\"pcrs\":{", strict ? "true" : "false", h);
    for (unsigned i = 0; i < 8; i++) {
        hex(E.enrolled.pcr_values[i], MS_TPM2_DIGEST_LEN, v, sizeof v);
        fprintf(f, "%s\"%u\":\"%s\"", i ? "," : "", i, v);
    }
    fprintf(f, "}}}\n");
    return fclose(f) == 0 ? 0 : -1;
}

/* --- live: discovery, round trip to a session ---------------------------------------------- */

static void test_discover_tpm_round_trip(void)
{
    char name[2 * MS_TPM2_NAME_LEN + 1], pcr7[2 * MS_TPM2_DIGEST_LEN + 1], pol[PATH_MAX];
    ms_attest_policy p;
    int before = session_posts(&E.sup);
    hex(E.enrolled.ak_name, MS_TPM2_NAME_LEN, name, sizeof name);
    hex(E.enrolled.pcr_values[7], MS_TPM2_DIGEST_LEN, pcr7, sizeof pcr7);
    const char *a[] = {"attest", "--supervisor_url", E.url, "--cacert", W.ca, "--any-evidence",
                       NULL};
    CHECK(cli(a) == 0);
    CHECK(has(&E.err, "WARNING: --any-evidence: NOTHING IS TRUSTED"));
    CHECK(has(&E.out, "NOTHING WAS TRUSTED (--any-evidence)"));
    CHECK(has(&E.out, "evidence       tpm2-quote, FAST"));
    CHECK(has(&E.out, name));
    CHECK(has(&E.out, "PCRs           SHA-256 bank: 0 1 2 3 4 5 6 7"));
    CHECK(has(&E.out, pcr7));
    CHECK(has(&E.out, "PASS     signature"));
    CHECK(has(&E.out, "PASS     nonce"));
    CHECK(has(&E.out, "SKIPPED  ak-name        nothing pinned"));
    CHECK(has(&E.out, "result: NOT TRUSTED"));
    /* Nothing was sent inside the channel: no ClientFinish, record or CLOSE reached it. */
    CHECK(session_posts(&E.sup) == before);
    /* The printed policy, saved as is, is what a later session is checked against. */
    const char *start = strstr((const char *)E.out.p, "\n{\n");
    CHECK(start != NULL);
    if (!start) {
        return;
    }
    e2e_path(pol, "%s/discovered.json", W.dir);
    CHECK(e2e_file_write(pol, start + 1) == 0);
    ms_attest_policy_init(&p);
    CHECK_OK(ms_attest_policy_load(&p, pol));
    CHECK(p.have_tpm2 && p.tpm2.pcr_mask == PCRS && p.n_accept == 1 && !p.require_strict);
    CHECK_MEM(p.tpm2.ak_name, E.enrolled.ak_name, MS_TPM2_NAME_LEN);
    CHECK_MEM(p.tpm2.pcr_values, E.enrolled.pcr_values, sizeof p.tpm2.pcr_values[0] * 8);
    ms_attest_policy_free(&p);
    const char *ask[] = {"ask", "--supervisor_url", E.url, "--cacert", W.ca,
                         "--attestation-policy", pol, "--prompt", "hello TPM-attested", NULL};
    CHECK(cli(ask) == 0);
    CHECK(has(&E.out, "quoted reply"));
    CHECK(has(&E.err, "verified: tpm2-quote evidence"));
}

/* --- live with a policy, --save, then offline ---------------------------------------------- */

static char SAVED[PATH_MAX], GOOD[PATH_MAX];

static void test_policy_save_verify(void)
{
    struct stat st;
    ms_json_doc *doc = NULL;
    ms_json_val root, checks, c;
    bool ok = false, trusted = false;
    e2e_path(GOOD, "%s/good.json", W.dir);
    e2e_path(SAVED, "%s/evidence.json", W.dir);
    CHECK(tpm_policy(GOOD, 0, 0) == 0);
    const char *a[] = {"attest", "--supervisor_url", E.url, "--cacert", W.ca,
                       "--attestation-policy", GOOD, "--save", SAVED, NULL};
    CHECK(cli(a) == 0);
    CHECK(has(&E.out, "PASS     accepted"));
    CHECK(has(&E.out, "PASS     ak-name        the policy's pinned attestation key"));
    CHECK(has(&E.out, "result: PASS"));
    CHECK(has(&E.err, "evidence saved to"));
    CHECK(stat(SAVED, &st) == 0 && (st.st_mode & 0777) == 0600);
    /* Never overwritten. */
    CHECK(cli(a) == 2);
    CHECK(has(&E.err, "never overwritten"));
    /* Offline: every check again, the FAST binding recomputed from the saved facts. */
    const char *v[] = {"attest", "--verify", SAVED, "--attestation-policy", GOOD, NULL};
    CHECK(cli(v) == 0);
    CHECK(has(&E.out, "PASS     binding        recomputed"));
    CHECK(has(&E.out, "PASS     nonce"));
    CHECK(has(&E.out, "PASS     pcr-values"));
    CHECK(has(&E.out, "PASS     signature"));
    CHECK(has(&E.out, "result: PASS"));
    CHECK(has(&E.out, "not authenticated"));
    /* Validity is judged now or at --at, never at the file's own (unsigned) captured_at. */
    const char *late[] = {"attest", "--verify", SAVED, "--attestation-policy", GOOD,
                          "--at", "253402300000", NULL};
    CHECK(cli(late) == 4);
    CHECK(has(&E.out, "FAIL     validity"));
    const char *bad_at[] = {"attest", "--verify", SAVED, "--attestation-policy", GOOD,
                            "--at", "yesterday", NULL};
    CHECK(cli(bad_at) == 2);
    /* The same as JSON. */
    const char *j[] = {"attest", "--verify", SAVED, "--attestation-policy", GOOD, "--json", NULL};
    CHECK(cli(j) == 0);
    CHECK_OK(ms_json_parse((const char *)E.out.p, E.out.len, &doc));
    root = ms_json_root(doc);
    CHECK_OK(ms_json_get_bool(root, "ok", &ok));
    CHECK_OK(ms_json_get_bool(root, "trusted", &trusted));
    CHECK(ok && trusted);
    size_t n = 0;
    CHECK_OK(ms_json_get_arr(root, "checks", 32, &checks, &n));
    CHECK(n == 15); /* 4 session checks, 11 of the TPM (ak-name or ak-certificate SKIPPED) */
    int sig_pass = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = NULL, *res = NULL;
        size_t l;
        CHECK_OK(ms_json_arr_at(checks, i, &c));
        CHECK_OK(ms_json_get_str(c, "name", 64, &name, &l));
        CHECK_OK(ms_json_get_str(c, "result", 16, &res, &l));
        sig_pass |= name && res && strcmp(name, "signature") == 0 && strcmp(res, "PASS") == 0;
    }
    CHECK(sig_pass);
    ms_json_free(doc);
}

/* The saved file with one byte of the quote (its firmwareVersion) flipped. */
static void test_verify_flipped(void)
{
    ms_buf text;
    ms_evfile f;
    ms_tpm2_bundle b;
    char flipped[PATH_MAX];
    ms_buf_init(&text, MS_MAX_EVIDENCE_FILE);
    ms_evfile_init(&f);
    CHECK(e2e_file_read(SAVED, &text) == 0 && ms_buf_terminate(&text) == MS_OK);
    CHECK_OK(ms_evfile_parse(text.p, text.len, &f));
    CHECK_OK(ms_tpm2_bundle_parse(f.evidence.p, f.evidence.len, &b));
    /* TPMS_ATTEST: magic, type, qualifiedSigner, extraData, clockInfo (17), firmwareVersion. */
    size_t off = (size_t)(b.attest_bytes - f.evidence.p) + 4 + 2 + 2 +
                 b.attest.qualifiedSigner.size + 2 + b.attest.extraData.size + 17;
    char *ev = strstr((char *)text.p, "\"evidence\":\"");
    CHECK(ev != NULL);
    if (ev) {
        char *digit = ev + strlen("\"evidence\":\"") + 2 * off;
        *digit = *digit == '0' ? '1' : '0';
    }
    e2e_path(flipped, "%s/flipped.json", W.dir);
    CHECK(e2e_file_write(flipped, (const char *)text.p) == 0);
    const char *v[] = {"attest", "--verify", flipped, "--attestation-policy", GOOD, NULL};
    CHECK(cli(v) == 4);
    CHECK(has(&E.out, "FAIL     signature      TPM quote signature does not verify"));
    CHECK(has(&E.out, "(MS_ERR_TPM_SIGNATURE)"));
    CHECK(has(&E.out, "PASS     pcr-digest"));
    CHECK(has(&E.out, "result: FAIL at \"signature\""));
    ms_evfile_free(&f);
    ms_buf_free(&text);
}

static void test_verify_other_ak(void)
{
    char pol[PATH_MAX];
    e2e_path(pol, "%s/other-ak.json", W.dir);
    CHECK(tpm_policy(pol, 1, 0) == 0);
    const char *v[] = {"attest", "--verify", SAVED, "--attestation-policy", pol, NULL};
    CHECK(cli(v) == 4);
    CHECK(has(&E.out, "FAIL     ak-name"));
    CHECK(has(&E.out, "(MS_ERR_TPM_AK_NAME)"));
    CHECK(has(&E.out, "PASS     signature"));
    /* Live under that policy: refused before anything is sent. */
    const char *a[] = {"attest", "--supervisor_url", E.url, "--cacert", W.ca,
                       "--attestation-policy", pol, NULL};
    CHECK(cli(a) == 4);
    CHECK(has(&E.err, "failed verification, nothing was sent"));
}

static void test_strict_saved(void)
{
    char pol[PATH_MAX], ev[PATH_MAX];
    e2e_path(pol, "%s/strict.json", W.dir);
    e2e_path(ev, "%s/strict-evidence.json", W.dir);
    CHECK(tpm_policy(pol, 0, 1) == 0);
    const char *a[] = {"attest", "--supervisor_url", E.url, "--cacert", W.ca,
                       "--attestation-policy", pol, "--save", ev, NULL};
    CHECK(cli(a) == 0);
    CHECK(has(&E.out, "evidence       tpm2-quote, STRICT"));
    CHECK(has(&E.out, "\"require_strict\": true"));
    const char *v[] = {"attest", "--verify", ev, "--attestation-policy", pol, NULL};
    CHECK(cli(v) == 0);
    CHECK(has(&E.out, "PASS     strict"));
    CHECK(has(&E.out, "SKIPPED  binding        STRICT"));
    CHECK(has(&E.out, "PASS     nonce"));
    /* A FAST capture fails a policy that requires STRICT. */
    const char *f[] = {"attest", "--verify", SAVED, "--attestation-policy", pol, NULL};
    CHECK(cli(f) == 4);
    CHECK(has(&E.out, "FAIL     strict"));
}

/* A quote bundle as the supervisor sends it: no session, so no nonce unless --report-data. */
static void test_raw_bundle(void)
{
    ms_buf text;
    ms_evfile f;
    char raw[PATH_MAX], b[2 * MS_BINDING_LEN + 1];
    ms_buf_init(&text, MS_MAX_EVIDENCE_FILE);
    ms_evfile_init(&f);
    CHECK(e2e_file_read(SAVED, &text) == 0);
    CHECK_OK(ms_evfile_parse(text.p, text.len, &f));
    e2e_path(raw, "%s/quote.bin", W.dir);
    CHECK(write_bytes(raw, f.evidence.p, f.evidence.len) == 0);
    hex(f.binding, sizeof f.binding, b, sizeof b);
    const char *v[] = {"attest", "--verify", raw, "--attestation-policy", GOOD, NULL};
    CHECK(cli(v) == 0);
    CHECK(has(&E.out, "SKIPPED  nonce          a raw file has no session"));
    CHECK(has(&E.out, "SKIPPED  validity"));
    CHECK(has(&E.out, "PASS     signature"));
    CHECK(has(&E.out, "SKIPPED (see above): what they cover was NOT checked"));
    const char *r[] = {"attest", "--verify", raw, "--attestation-policy", GOOD,
                       "--report-data", b, NULL};
    CHECK(cli(r) == 0);
    CHECK(has(&E.out, "PASS     nonce"));
    b[0] = b[0] == '0' ? '1' : '0';
    CHECK(cli(r) == 4);
    CHECK(has(&E.out, "(MS_ERR_TPM_NONCE)"));
    ms_evfile_free(&f);
    ms_buf_free(&text);
}

static void test_devkey_any_evidence(void)
{
    uint8_t pk[MS_SIGN_PK_LEN];
    char pub[PATH_MAX], fp[MS_FINGERPRINT_LEN];
    e2e_path(pub, "%s.pub", W.devkey);
    CHECK_OK(ms_devkey_read_public(pub, pk));
    ms_devkey_fingerprint(pk, fp);
    const char *a[] = {"attest", "--supervisor_url", E.dev_url, "--cacert", W.ca,
                       "--any-evidence", NULL};
    CHECK(cli(a) == 0);
    CHECK(has(&E.out, "evidence       dev-key, FAST"));
    CHECK(has(&E.out, fp));
    CHECK(has(&E.out, "DEVELOPMENT MODE"));
    CHECK(has(&E.out, "PASS     signature      Ed25519 over the binding"));
    CHECK(has(&E.out, "\"public_key_pem\": \"minions-dev-attestation.pem.pub\""));
    const char *p[] = {"attest", "--supervisor_url", E.dev_url, "--cacert", W.ca,
                       "--trusted_attestation_pem", pub, NULL};
    CHECK(cli(p) == 0);
    CHECK(has(&E.out, "PASS     key            the pinned development key"));
    CHECK(has(&E.err, "DEVELOPMENT MODE"));
    /* A TPM-only policy does not accept the dev-key supervisor. */
    const char *t[] = {"attest", "--supervisor_url", E.dev_url, "--cacert", W.ca,
                       "--attestation-policy", GOOD, NULL};
    CHECK(cli(t) == 4);
}

/* --- AMD's Milan report offline (../shared/testdata/sev-snp/milan, see its NOTICE) --------- */

static int milan_policy(const char *path, int spoil)
{
    ms_buf h;
    uint8_t raw[MS_SNP_REPORT_LEN];
    ms_snp_report r;
    char m[2 * MS_SNP_MEASUREMENT_LEN + 1];
    ms_buf_init(&h, 8192);
    int ok = ms_file_read(MILAN "/report_milan.hex", 8192, &h) == MS_OK &&
             ms_snp_report_from_hex((const char *)h.p, h.len, raw) == MS_OK &&
             ms_snp_report_decode(raw, sizeof raw, &r) == MS_OK;
    ms_buf_free(&h);
    if (!ok) {
        return -1;
    }
    r.measurement[0] ^= (uint8_t)(spoil == 1);
    hex(r.measurement, sizeof r.measurement, m, sizeof m);
    FILE *f = fopen(path, "w");
    if (!f) {
        return -1;
    }
    fprintf(f, "{\"version\":1,\"accept\":[\"sev-snp\"],\"sev_snp\":{\"ark_pem\":\"%s/ark.pem\","
               "\"ask_pem\":\"%s/ask.pem\",\"measurement\":\"%s\",\"min_tcb\":{\"bootloader\":0,"
               "\"tee\":0,\"snp\":0,\"microcode\":0}%s}}\n", MILAN, MILAN, m,
               spoil == 2 ? ",\"vmpl\":1" : "");
    return fclose(f) == 0 ? 0 : -1;
}

static void milan_pass(void)
{
    static const char *const pass[] = {"PASS     format", "PASS     ark", "PASS     chain",
                                       "PASS     signature", "PASS     tcb-match",
                                       "PASS     chip-id", "PASS     measurement",
                                       "PASS     tcb-min", "PASS     cert-time",
                                       "PASS     signing-key", "PASS     vmpl",
                                       "PASS     migrate-ma", "PASS     report-id-ma",
                                       "SKIPPED  smt", "SKIPPED  host-data", "result: PASS"};
    for (size_t i = 0; i < sizeof pass / sizeof pass[0]; i++) {
        CHECK(has(&E.out, pass[i]));
    }
    CHECK(has(&E.out, "SKIPPED  report-data    a raw file has no session"));
}

static void test_snp_milan_offline(void)
{
    char pol[PATH_MAX], bad[PATH_MAX], bin[PATH_MAX];
    ms_buf h;
    uint8_t raw[MS_SNP_REPORT_LEN];
    e2e_path(pol, "%s/milan.json", W.dir);
    e2e_path(bad, "%s/milan-other.json", W.dir);
    e2e_path(bin, "%s/report_milan.bin", W.dir);
    CHECK(milan_policy(pol, 0) == 0 && milan_policy(bad, 1) == 0);
    /* The hex form, then AMD's raw binary form. */
    const char *a[] = {"attest", "--verify", MILAN "/report_milan.hex", "--vcek",
                       MILAN "/vcek_milan.der", "--attestation-policy", pol, NULL};
    CHECK(cli(a) == 0);
    milan_pass();
    CHECK(has(&E.out, "SEV-SNP report"));
    ms_buf_init(&h, 8192);
    CHECK_OK(ms_file_read(MILAN "/report_milan.hex", 8192, &h));
    CHECK_OK(ms_snp_report_from_hex((const char *)h.p, h.len, raw));
    ms_buf_free(&h);
    CHECK(write_bytes(bin, raw, sizeof raw) == 0);
    const char *b[] = {"attest", "--verify", bin, "--vcek", MILAN "/vcek_milan.der",
                       "--attestation-policy", pol, NULL};
    CHECK(cli(b) == 0);
    milan_pass();
    /* Another measurement: that check fails with its own message; chain and signature pass. */
    const char *c[] = {"attest", "--verify", bin, "--vcek", MILAN "/vcek_milan.der",
                       "--attestation-policy", bad, NULL};
    CHECK(cli(c) == 4);
    CHECK(has(&E.out, "FAIL     measurement    SEV-SNP launch measurement differs"));
    CHECK(has(&E.out, "(MS_ERR_SNP_MEASUREMENT)"));
    CHECK(has(&E.out, "PASS     chain"));
    CHECK(has(&E.out, "PASS     signature"));
    /* A policy requiring VMPL 1: the Milan report (VMPL 0) fails that check alone. */
    char vmpl[PATH_MAX];
    e2e_path(vmpl, "%s/milan-vmpl1.json", W.dir);
    CHECK(milan_policy(vmpl, 2) == 0);
    const char *v[] = {"attest", "--verify", bin, "--vcek", MILAN "/vcek_milan.der",
                       "--attestation-policy", vmpl, NULL};
    CHECK(cli(v) == 4);
    CHECK(has(&E.out, "FAIL     vmpl"));
    CHECK(has(&E.out, "(MS_ERR_SNP_VMPL)"));
    CHECK(has(&E.out, "PASS     measurement"));
    /* Judged after the VCEK's notAfter (2030-04-03): the certificate validity check fails. */
    const char *t[] = {"attest", "--verify", bin, "--vcek", MILAN "/vcek_milan.der",
                       "--attestation-policy", pol, "--at", "1950000000", NULL};
    CHECK(cli(t) == 4);
    CHECK(has(&E.out, "FAIL     cert-time"));
    CHECK(has(&E.out, "(MS_ERR_SNP_CERT_TIME)"));
    CHECK(has(&E.out, "PASS     signature"));
    /* Discovery: nothing pinned, the ARK given is checked but said to be NOT pinned. */
    const char *d[] = {"attest", "--verify", bin, "--vcek", MILAN "/vcek_milan.der", "--ask",
                       MILAN "/ask.pem", "--ark", MILAN "/ark.pem", "--any-evidence", NULL};
    CHECK(cli(d) == 0);
    CHECK(has(&E.out, "NOT pinned"));
    CHECK(has(&E.out, "SKIPPED  measurement"));
    CHECK(has(&E.out, "\"measurement\": \""));
    CHECK(has(&E.out, "ark.pem\""));
    /* A raw report without its VCEK cannot be checked. */
    const char *e[] = {"attest", "--verify", bin, "--attestation-policy", pol, NULL};
    CHECK(cli(e) == 2);
    CHECK(has(&E.err, "needs its VCEK"));
}

/* --- Intel TDX quotes offline (../shared/testdata/tdx, see its NOTICE) ---------------------- */

#define TDXV MS_TESTDATA_DIR "/tdx"

/* A collateral folder with the PCK and root CRLs of the vectors (dated 2023). */
static int tdx_crl_dir(const char *dir)
{
    char a[PATH_MAX], b[PATH_MAX];
    ms_buf x, y;
    ms_buf_init(&x, 65536);
    ms_buf_init(&y, 65536);
    e2e_path(a, "%s/pck_crl.der", dir);
    e2e_path(b, "%s/root_crl.der", dir);
    int ok = mkdir(dir, 0700) == 0 && ms_file_read(TDXV "/pckcrl", 65536, &x) == MS_OK &&
             ms_file_read(TDXV "/rootcrl.der", 65536, &y) == MS_OK &&
             write_bytes(a, x.p, x.len) == 0 && write_bytes(b, y.p, y.len) == 0;
    ms_buf_free(&x);
    ms_buf_free(&y);
    return ok ? 0 : -1;
}

static void test_tdx_offline(void)
{
    char col[PATH_MAX], spr[PATH_MAX], pol[PATH_MAX];
    ms_buf q;
    e2e_path(col, "%s/tdx-collateral", W.dir);
    e2e_path(spr, "%s/spr_quote.dat", W.dir);
    e2e_path(pol, "%s/tdx.json", W.dir);
    CHECK(tdx_crl_dir(col) == 0);
    /* The SPR vector trimmed to its quote (the file adds 39 bytes of text). */
    ms_buf_init(&q, 65536);
    CHECK_OK(ms_file_read(TDXV "/tdx_prod_quote_SPR_E4.dat", 65536, &q));
    CHECK(q.len > 4935 && write_bytes(spr, q.p, 4935) == 0);
    /* Discovery at a 2023 time: chain, CRLs and signatures pass; a tdx policy is printed. */
    const char *a[] = {"attest", "--verify", spr, "--any-evidence", "--tdx-root",
                       TDXV "/trusted_root.pem", "--tdx-collateral", col, "--at", "1687219200",
                       NULL};
    CHECK(cli(a) == 0);
    static const char *const pass[] = {"PASS     format", "PASS     pck-chain", "PASS     crl",
                                       "PASS     qe-signature", "PASS     qe-report-data",
                                       "PASS     quote-signature", "PASS     debug"};
    for (size_t i = 0; i < sizeof pass / sizeof pass[0]; i++) {
        CHECK(has(&E.out, pass[i]));
    }
    CHECK(has(&E.out, "SKIPPED  report-data    a raw file has no session"));
    CHECK(has(&E.out, "\"tdx\": {"));
    CHECK(has(&E.out, "NOT pinned"));
    /* The wrong time: the 2023 PCK CRL is out of date in 2026. */
    const char *b[] = {"attest", "--verify", spr, "--any-evidence", "--tdx-root",
                       TDXV "/trusted_root.pem", "--tdx-collateral", col, "--at", "1780000000",
                       NULL};
    CHECK(cli(b) == 4);
    CHECK(has(&E.out, "FAIL     crl"));
    /* One byte of the signed TD report changed: FAIL at the quote signature. */
    q.p[48 + 136] ^= 1;
    CHECK(write_bytes(spr, q.p, 4935) == 0);
    CHECK(cli(a) == 4);
    CHECK(has(&E.out, "FAIL     quote-signature"));
    CHECK(has(&E.out, "(MS_ERR_TDX_SIGNATURE)"));
    /* The file as it is: its trailing text is refused by the strict decoder. */
    const char *c[] = {"attest", "--verify", TDXV "/tdx_prod_quote_SPR_E4.dat", "--any-evidence",
                       NULL};
    CHECK(cli(c) == 4);
    CHECK(has(&E.out, "FAIL     format"));
    /* cos-113: the zero padding is dropped with a notice; under a policy pinning its MRTD
       and report data (its nonce), at 2026 when its PCK is valid, without CRLs. */
    FILE *f = fopen(pol, "w");
    CHECK(f != NULL);
    if (f != NULL) {
        fprintf(f, "{\"version\":1,\"accept\":[\"tdx\"],\"tdx\":{\"root_pem\":\"%s\","
                   "\"mrtd\":\"dae67181d3d65e073ad8f95b7907d5e927bfe9761c9ff3e9b89734a45d8954dba4"
                   "1394c7717cb2735396c1d04231f94a\"}}\n", TDXV "/trusted_root.pem");
        CHECK(fclose(f) == 0);
    }
    char zeros[129];
    memset(zeros, '0', 128);
    zeros[128] = 0;
    const char *d[] = {"attest", "--verify", TDXV "/cos-113-tdx-quote.dat", "--attestation-policy",
                       pol, "--report-data", zeros, "--at", "1780000000", NULL};
    CHECK(cli(d) == 4); /* no CRLs, no collateral: what the client requires FAILs... */
    CHECK(has(&E.err, "3065 zero bytes after the 4935-byte quote ignored"));
    CHECK(has(&E.out, "PASS     pck-chain"));
    CHECK(has(&E.out, "PASS     mrtd"));
    CHECK(has(&E.out, "PASS     report-data"));
    CHECK(has(&E.out, "FAIL     crl"));
    CHECK(has(&E.out, "FAIL     collateral"));
    CHECK(has(&E.out, "PASS     quote-signature"));
    ms_buf_free(&q);
}

/* --- Azure HCL reports offline (../shared/testdata/azure-cvm, see its NOTICE) ----------------- */

#define AZURE MS_TESTDATA_DIR "/azure-cvm"

/* certs.pem (VCEK, ASK, ARK of another chip) into three PEM files in W.dir. */
static int azure_certs(char vcek[PATH_MAX], char ask[PATH_MAX], char ark[PATH_MAX])
{
    ms_buf pem;
    char *paths[3] = {vcek, ask, ark};
    int ok = 1;
    e2e_path(vcek, "%s/az-vcek.pem", W.dir);
    e2e_path(ask, "%s/az-ask.pem", W.dir);
    e2e_path(ark, "%s/az-ark.pem", W.dir);
    ms_buf_init(&pem, 65536);
    ok = ms_file_read(AZURE "/certs.pem", 65536, &pem) == MS_OK && ms_buf_append_u8(&pem, 0) == MS_OK;
    const char *at = ok ? (const char *)pem.p : "";
    for (int i = 0; ok && i < 3; i++) {
        const char *begin = strstr(at, "-----BEGIN CERTIFICATE-----");
        const char *end = begin ? strstr(begin, "-----END CERTIFICATE-----") : NULL;
        ok = end != NULL && write_bytes(paths[i], begin, (size_t)(end - begin) + 26) == 0;
        at = ok ? end + 25 : at;
    }
    ms_buf_free(&pem);
    return ok ? 0 : -1;
}

static void test_azure_hcl_offline(void)
{
    char vcek[PATH_MAX], ask[PATH_MAX], ark[PATH_MAX], flipped[PATH_MAX];
    CHECK(azure_certs(vcek, ask, ark) == 0);
    /* The NOTICE: the chain verifies, the report's signature does not (another chip). */
    const char *a[] = {"attest", "--verify", AZURE "/hcl-report-snp.bin", "--vcek", vcek, "--ask",
                       ask, "--ark", ark, "--any-evidence", "--at", "1700000000", NULL};
    CHECK(cli(a) == 4);
    CHECK(has(&E.out, "evidence       az-snp-vtpm"));
    CHECK(has(&E.out, "PASS     snp-chain"));
    CHECK(has(&E.out, "FAIL     snp-signature  SEV-SNP report signature does not verify"));
    CHECK(has(&E.out, "PASS     var-data-hash"));
    CHECK(has(&E.out, "PASS     var-data"));
    CHECK(has(&E.out, "SKIPPED  user-data      a raw file has no session"));
    CHECK(has(&E.out, "HCLAkPub       RSA-2048"));
    /* One byte of the variable data: report_data no longer matches it. */
    ms_buf b;
    ms_buf_init(&b, 8192);
    CHECK_OK(ms_file_read(AZURE "/hcl-report-snp.bin", 8192, &b));
    b.p[0x4e0] ^= 0x01;
    e2e_path(flipped, "%s/hcl-flipped.bin", W.dir);
    CHECK(write_bytes(flipped, b.p, b.len) == 0);
    ms_buf_free(&b);
    const char *c[] = {"attest", "--verify", flipped, "--any-evidence", NULL};
    CHECK(cli(c) == 4);
    CHECK(has(&E.out, "FAIL     var-data-hash"));
    CHECK(has(&E.out, "SKIPPED  sev-snp        no VCEK"));
    /* The TDX HCL report: az-tdx-vtpm, decoded and shown; no TDX quote of that TD exists in
       the vectors, so the quote's checks and td-match are SKIPPED, never PASS. */
    const char *d[] = {"attest", "--verify", AZURE "/hcl-report-tdx.bin", "--any-evidence", NULL};
    CHECK(cli(d) == 0);
    CHECK(has(&E.out, "result: NOT TRUSTED"));
    CHECK(has(&E.out, "evidence       az-tdx-vtpm"));
    CHECK(has(&E.out, "TDX TD report in the HCL report (authentic only if"));
    CHECK(has(&E.out, "PASS     report-type"));
    CHECK(has(&E.out, "SKIPPED  tdx            no TDX quote of the TD report"));
    CHECK(has(&E.out, "SKIPPED  td-match"));
    CHECK(has(&E.out, "PASS     var-data-hash"));
}

/* --- usage --------------------------------------------------------------------------------- */

static void test_usage(void)
{
    const char *a[] = {"attest", "--supervisor_url", E.url, "--any-evidence",
                       "--attestation-policy", GOOD, NULL};
    CHECK(cli(a) == 2);
    CHECK(has(&E.err, "--any-evidence pins nothing"));
    const char *b[] = {"attest", "--verify", SAVED, NULL};
    CHECK(cli(b) == 2);
    const char *c[] = {"attest", "--verify", SAVED, "--attestation-policy", GOOD, "--ark",
                       MILAN "/ark.pem", NULL};
    CHECK(cli(c) == 2);
    CHECK(has(&E.err, "a policy pins its own ARK"));
    const char *d[] = {"attest", "--any-evidence", NULL};
    CHECK(cli(d) == 2);
    const char *e[] = {"attest", "--verify", "/nonexistent/evidence", "--any-evidence", NULL};
    CHECK(cli(e) == 2);
    const char *f[] = {"attest", "--verify", SAVED, "--attestation-policy", GOOD, "--vcek",
                       MILAN "/vcek_milan.der", NULL};
    CHECK(cli(f) == 2);
    CHECK(has(&E.err, "are for a raw SEV-SNP report"));
    const char *g[] = {"attest", "--help", NULL};
    CHECK(cli(g) == 0);
    CHECK(has(&E.out, "--any-evidence"));
    const char *h[] = {"--help", NULL};
    CHECK(cli(h) == 0);
    CHECK(has(&E.out, "attest "));
}

/* --- minions-supervisor --evidence sev-snp on a machine without SEV-SNP --------------------- */

static int sup_run(const char *const *extra)
{
    const char *args[32] = {"--listen", "127.0.0.1:0", "--backend-url", "http://127.0.0.1:9/v1",
                            "--backend-model", "m"};
    int n = 6;
    for (int i = 0; extra[i] && n < 31; i++) {
        args[n++] = extra[i];
    }
    args[n] = NULL;
    return run_in_e(W.sup_bin, args);
}

static void test_supervisor_snp(void)
{
    char none[PATH_MAX], empty[PATH_MAX], certs[PATH_MAX], vcek[PATH_MAX], tsm[PATH_MAX];
    ms_buf der;
    e2e_path(none, "%s/no-such-interface", W.dir);
    e2e_path(empty, "%s/empty-certs", W.dir);
    e2e_path(certs, "%s/snp-certs", W.dir);
    e2e_path(vcek, "%s/snp-certs/vcek.der", W.dir);
    e2e_path(tsm, "%s/fake-tsm", W.dir);
    CHECK(mkdir(empty, 0700) == 0 && mkdir(certs, 0700) == 0 && mkdir(tsm, 0700) == 0);
    ms_buf_init(&der, MS_SNP_MAX_CERT);
    CHECK_OK(ms_file_read(MILAN "/vcek_milan.der", MS_SNP_MAX_CERT, &der));
    CHECK(write_bytes(vcek, der.p, der.len) == 0);
    ms_buf_free(&der);
    /* No configfs-tsm and no /dev/sev-guest: a clear error at start-up. */
    const char *a[] = {"--evidence", "sev-snp", "--snp-tsm", none, "--snp-device", none, NULL};
    CHECK(sup_run(a) == 3);
    CHECK(has(&E.err, "this machine has no SEV-SNP guest interface"));
    CHECK(has(&E.err, none));
    /* Options: SNP flags need --evidence sev-snp; an unknown type; certificates missing. */
    const char *b[] = {"--snp-certs", certs, NULL};
    CHECK(sup_run(b) == 2);
    CHECK(has(&E.err, "need --evidence sev-snp"));
    const char *c[] = {"--evidence", "sev-snpx", NULL};
    CHECK(sup_run(c) == 2);
    CHECK(has(&E.err, "want dev-key, tpm2, sev-snp, tdx, az-snp-vtpm, az-tdx-vtpm or nvidia-gpu"));
    const char *az1[] = {"--az-tdquote-url", "http://127.0.0.1:9/acc/tdquote", NULL};
    CHECK(sup_run(az1) == 2);
    CHECK(has(&E.err, "--az-tdquote-url needs --evidence az-tdx-vtpm"));
    const char *az2[] = {"--evidence", "az-tdx-vtpm", "--tdx-tsm", "/nonexistent", NULL};
    CHECK(sup_run(az2) == 2);
    CHECK(has(&E.err, "no --tdx-tsm"));
    const char *d[] = {"--evidence", "sev-snp", "--snp-certs", empty, NULL};
    CHECK(sup_run(d) == 2);
    CHECK(has(&E.err, "--snp-certs"));
    /* A device that is not one (the VCEK from DIR loads first), then a directory that is not
       configfs-tsm: each refused with the producer's error. */
    const char *e[] = {"--evidence", "sev-snp", "--snp-certs", certs, "--snp-tsm", none,
                       "--snp-device", "/dev/null", NULL};
    CHECK(sup_run(e) == 3);
    CHECK(has(&E.err, "--evidence sev-snp: no report: the SEV-SNP report could not be obtained"));
    const char *f[] = {"--evidence", "sev-snp", "--snp-tsm", tsm, NULL};
    CHECK(sup_run(f) == 3);
    CHECK(has(&E.err, "no report"));
}

/* --- set-up -------------------------------------------------------------------------------- */

static int setup(void)
{
    char devkey2[PATH_MAX];
    if (e2e_swtpm_start(&E.tpm) != 0 || e2e_swtpm_enrol(&E.tpm, PCRS, &E.enrolled) != 0) {
        return -1;
    }
    e2e_world_path(&W, W.devkey, "dev.pem");
    e2e_world_path(&W, devkey2, "unused-dev.pem");
    e2e_world_path(&W, E.log, "engine.log");
    if (e2e_world_script(&W, "{\"rules\":[{\"contains\":\"TPM-attested\",\"reply\":"
                             "\"quoted reply\"}],\"default\":\"no rule\"}\n") != 0 ||
        e2e_world_sim(&W, &E.sim, &(e2e_sim_cfg){.log = E.log}) != 0) {
        return -1;
    }
    e2e_sup_cfg cfg = {.devkey = devkey2, .backend_port = E.sim.port,
                       .extra = {"--evidence", "tpm2", "--tpm-tcti", E.tpm.tcti, "--tpm-pcrs",
                                 "0,1,2,3,4,5,6,7", NULL}};
    if (e2e_world_sup(&W, &E.sup, &cfg) != 0 ||
        e2e_world_sup(&W, &E.dev, &(e2e_sup_cfg){.backend_port = E.sim.port}) != 0) {
        return -1;
    }
    e2e_url(E.url, "https", E.sup.port);
    e2e_url(E.dev_url, "https", E.dev.port);
    return 0;
}

int main(int argc, char **argv)
{
    int rc = e2e_world_open(&W, "test_attest_cli", E2E_SUP | E2E_SIM | E2E_CLI | E2E_SRC, argc,
                            argv);
    if (rc != 0) {
        return e2e_world_close(&W, rc);
    }
    setenv("TSS2_LOG", "all+none", 1);
    ms_buf_init(&E.out, 1 << 22);
    ms_buf_init(&E.err, 1 << 22);
    if (setup() != 0) {
        fprintf(stderr, "test_attest_cli: set-up failed (see %s)\n", W.dir);
        CHECK(0);
    } else {
        RUN(test_discover_tpm_round_trip);
        RUN(test_policy_save_verify);
        RUN(test_verify_flipped);
        RUN(test_verify_other_ak);
        RUN(test_strict_saved);
        RUN(test_raw_bundle);
        RUN(test_devkey_any_evidence);
        RUN(test_snp_milan_offline);
        RUN(test_tdx_offline);
        RUN(test_azure_hcl_offline);
        RUN(test_usage);
        RUN(test_supervisor_snp);
    }
    CHECK(e2e_stop_all(&E.sup, &E.dev, &E.sim, NULL) == 0); /* clean exits: no sanitizer report */
    e2e_swtpm_stop(&E.tpm);
    ms_buf_free(&E.out);
    ms_buf_free(&E.err);
    return e2e_world_close(&W, TEST_SUMMARY());
}
