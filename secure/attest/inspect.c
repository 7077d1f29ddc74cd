/* Evidence inspection: the policy's and each type's checks, every one recorded for a person. */
#include "secure/attest/inspect.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/check.h"
#include "secure/attest/devkey.h"
#include "secure/kdf.h"

#define NOPIN_ANY "nothing pinned: no policy (--any-evidence)"

/* add() keeps at most MS_INSPECT_MAX_CHECKS: a dropped FAIL would turn the verdict into MS_OK. */
#define POLICY_CHECKS 4 /* accepted, strict, validity, binding */
_Static_assert(POLICY_CHECKS + MS_TPM2_CHECK_COUNT <= MS_INSPECT_MAX_CHECKS, "TPM checks fit");
_Static_assert(POLICY_CHECKS + MS_SNP_CHECK_COUNT <= MS_INSPECT_MAX_CHECKS, "SNP checks fit");
_Static_assert(POLICY_CHECKS + 3 <= MS_INSPECT_MAX_CHECKS, "dev-key checks fit");
_Static_assert(POLICY_CHECKS + MS_TDX_CHECK_COUNT <= MS_INSPECT_MAX_CHECKS, "TDX checks fit");

static void add(ms_inspect *out, const char *name, ms_check_status st, ms_err e,
                const char *detail)
{
    if (out->n < MS_INSPECT_CHECKS_CAP) {
        out->checks[out->n++] = (ms_inspect_check){
            .name = name, .status = st, .err = st == MS_CHECK_FAIL ? e : MS_OK, .detail = detail};
    }
}

/* PASS with `detail`, or FAIL with e's code. */
static void add_result(ms_inspect *out, const char *name, ms_err e, const char *detail)
{
    add(out, name, e == MS_OK ? MS_CHECK_PASS : MS_CHECK_FAIL, e, e == MS_OK ? detail : NULL);
}

static void add_skip(ms_inspect *out, const char *name, const char *why)
{
    add(out, name, MS_CHECK_SKIPPED, MS_OK, why);
}

static const char *binding_why(const ms_inspect_in *in)
{
    return in->binding_why ? in->binding_why : "no binding to check against";
}

/* --- policy level -------------------------------------------------------------------------- */

static void check_accepted(const ms_inspect_in *in, ms_inspect *out)
{
    const ms_attest_policy *p = in->policy;
    int ok = 0;
    if (p == NULL) {
        add_skip(out, "accepted", NOPIN_ANY);
        return;
    }
    for (uint8_t i = 0; i < p->n_accept; i++) {
        ok |= p->accept[i] == in->type;
    }
    add_result(out, "accepted", ok ? MS_OK : MS_ERR_ATTEST_POLICY,
               "the policy accepts this evidence type");
}

static void check_strict(const ms_inspect_in *in, ms_inspect *out)
{
    if (!in->have_session) {
        add_skip(out, "strict", "no session: the file carries no mode");
    } else if (in->policy != NULL && in->policy->require_strict) {
        add_result(out, "strict", in->mode == MS_MODE_STRICT ? MS_OK : MS_ERR_ATTEST_POLICY,
                   "STRICT evidence, made for its session's challenge");
    } else {
        add_skip(out, "strict", in->policy ? "not required by the policy" : NOPIN_ANY);
    }
}

static void check_validity(const ms_inspect_in *in, ms_inspect *out)
{
    uint64_t max = in->policy ? in->policy->max_validity_s : 0;
    if (!in->have_session) {
        add_skip(out, "validity", "no session: a raw file carries no expiry");
    } else if (in->at > in->not_after) {
        add_result(out, "validity", MS_ERR_ATTEST_EXPIRED, NULL);
    } else if (max != 0 && in->not_after > in->at + max) {
        add_result(out, "validity", MS_ERR_ATTEST_POLICY, NULL);
    } else {
        add_result(out, "validity", MS_OK,
                   max ? "unexpired at the time judged, within max_validity_seconds"
                       : "unexpired at the time judged");
    }
}

/* protocol.md §6: in FAST mode B follows from public facts, so saved evidence can be re-bound. */
static void check_binding(const ms_inspect_in *in, ms_inspect *out)
{
    uint8_t b[MS_BINDING_LEN];
    if (in->binding == NULL) {
        add_skip(out, "binding", binding_why(in));
    } else if (in->binding_live) {
        add_result(out, "binding", MS_OK, "computed by this client's own handshake");
    } else if (!in->have_session || in->static_pk == NULL) {
        add_skip(out, "binding", "given, not recomputed: no session facts to derive it from");
    } else if (in->mode != MS_MODE_FAST) {
        add_skip(out, "binding",
                 "STRICT: B also covers the session's challenge and ephemeral keys, which "
                 "are not saved; the evidence is checked against the saved B");
    } else {
        ms_binding_in bi = {.evidence_type = in->type, .mode = MS_MODE_FAST,
                            .not_after = in->not_after};
        memcpy(bi.static_pk, in->static_pk, MS_X25519_LEN);
        ms_err e = ms_kdf_binding(b, &bi);
        if (e == MS_OK && !ms_ct_equal(b, in->binding, MS_BINDING_LEN)) {
            e = MS_ERR_ATTEST_BINDING;
        }
        add_result(out, "binding", e, "recomputed from the type, mode, static key and expiry");
    }
}

/* --- TPM 2.0 quotes ------------------------------------------------------------------------ */

static const char *const TPM_PASS[MS_TPM2_CHECK_COUNT] = {
    [MS_TPM2_CHECK_FORMAT] = "the bundle and its TPM structures unmarshal exactly",
    [MS_TPM2_CHECK_MAGIC] = "TPM_GENERATED_VALUE: made by a TPM",
    [MS_TPM2_CHECK_TYPE] = "a quote",
    [MS_TPM2_CHECK_NONCE] = "extraData is the binding's first 32 bytes",
    [MS_TPM2_CHECK_PCR_SELECT] = "one SHA-256 PCR selection",
    [MS_TPM2_CHECK_PCR_DIGEST] = "the PCR values hash to the quoted digest",
    [MS_TPM2_CHECK_PCR_VALUE] = "each quoted PCR has the policy's value",
    [MS_TPM2_CHECK_AK_ATTRS] = "restricted, fixedTPM signing key made by the TPM",
    [MS_TPM2_CHECK_AK_NAME] = "the policy's pinned attestation key",
    [MS_TPM2_CHECK_AK_CERT] = "an AK certificate of the pinned AK CA, for this AK",
    [MS_TPM2_CHECK_SIGNATURE] = "the quote verifies under the AK",
};

static const char *tpm_skip_why(const ms_inspect_in *in, const ms_tpm2_checks *c, int pinned,
                                ms_tpm2_check i)
{
    if (!c->have_quote) {
        return "the bundle does not parse";
    }
    if (i == MS_TPM2_CHECK_NONCE) {
        return binding_why(in);
    }
    if (i == MS_TPM2_CHECK_PCR_VALUE && pinned) {
        return "the quote does not select the policy's PCRs";
    }
    if (pinned && (i == MS_TPM2_CHECK_AK_NAME || i == MS_TPM2_CHECK_AK_CERT)) {
        return i == MS_TPM2_CHECK_AK_NAME ? "the policy pins an AK CA, not a name"
                                          : "the policy pins an AK name, not a CA";
    }
    return in->policy ? "the policy has no tpm2 section" : NOPIN_ANY;
}

static void inspect_tpm2(const ms_inspect_in *in, ms_inspect *out)
{
    const ms_tpm2_policy *pin = in->policy && in->policy->have_tpm2 ? &in->policy->tpm2 : NULL;
    ms_tpm2_checks c;
    ms_err e = ms_tpm2_verify_checks(pin, in->data, in->len, in->binding, &c);
    if (!c.ran[MS_TPM2_CHECK_FORMAT]) {
        add_result(out, "format", e == MS_OK ? MS_ERR_INTERNAL : e, NULL);
        return;
    }
    out->have_tpm2 = c.have_quote;
    out->tpm2 = c.quoted;
    for (int i = 0; i < MS_TPM2_CHECK_COUNT; i++) {
        const char *name = ms_tpm2_check_name((ms_tpm2_check)i);
        const char *pass = i == MS_TPM2_CHECK_PCR_SELECT && pin ? "exactly the policy's PCRs"
                                                                : TPM_PASS[i];
        if (c.ran[i]) {
            add_result(out, name, c.result[i], pass);
        } else {
            add_skip(out, name, tpm_skip_why(in, &c, pin != NULL, (ms_tpm2_check)i));
        }
    }
}

/* --- AMD SEV-SNP reports ------------------------------------------------------------------- */

static const char *const SNP_PASS[MS_SNP_CHECK_COUNT] = {
    [MS_SNP_CHECK_FORMAT] = "the bundle, the report and the certificates decode",
    [MS_SNP_CHECK_ARK] = "the pinned ARK is an AMD-style root and issued the ASK (ASVK)",
    [MS_SNP_CHECK_CHAIN] = "the ASK (ASVK) issued the VCEK (VLEK)",
    [MS_SNP_CHECK_CERT_TIME] = "every certificate is valid at the time judged",
    [MS_SNP_CHECK_CRL] = "the policy's CRL is issued and signed by the ARK",
    [MS_SNP_CHECK_REVOKED] = "the CRL does not revoke the ASK (ASVK)",
    [MS_SNP_CHECK_SIGNING_KEY] = "the report's signing key is the certificate's kind (VCEK/VLEK)",
    [MS_SNP_CHECK_SIGNATURE] = "ECDSA P-384 by the VCEK (VLEK) over the report",
    [MS_SNP_CHECK_TCB_MATCH] = "the VCEK (VLEK) was issued for the report's TCB",
    [MS_SNP_CHECK_CHIP_ID] = "the VCEK was issued for the report's chip",
    [MS_SNP_CHECK_REPORT_DATA] = "report_data is the binding",
    [MS_SNP_CHECK_MEASUREMENT] = "the policy's launch measurement",
    [MS_SNP_CHECK_DEBUG] = "the guest policy forbids debugging",
    [MS_SNP_CHECK_TCB_MIN] = "the TCB is at least the policy's minimum",
    [MS_SNP_CHECK_VMPL] = "the report's VMPL is the one required (0 unless the policy says)",
    [MS_SNP_CHECK_MIGRATE_MA] = "the guest policy allows no migration agent (unless the policy does)",
    [MS_SNP_CHECK_MIGRATION_AGENT] = "REPORT_ID_MA: no migration agent is bound (unless the policy allows one)",
    [MS_SNP_CHECK_SMT] = "the guest policy forbids SMT, as the policy requires",
    [MS_SNP_CHECK_SINGLE_SOCKET] = "the guest policy requires a single socket",
    [MS_SNP_CHECK_ABI_MIN] = "the guest policy's ABI is at least the policy's minimum",
    [MS_SNP_CHECK_POLICY_BITS] = "the guest policy bits the policy pins",
    [MS_SNP_CHECK_PLATFORM_INFO] = "the platform info bits the policy pins",
    [MS_SNP_CHECK_HOST_DATA] = "the policy's HOST_DATA",
    [MS_SNP_CHECK_FAMILY_ID] = "the policy's FAMILY_ID",
    [MS_SNP_CHECK_IMAGE_ID] = "the policy's IMAGE_ID",
    [MS_SNP_CHECK_ID_KEY] = "the policy's ID key digest",
    [MS_SNP_CHECK_AUTHOR_KEY] = "the policy's author key digest",
};

static const char *snp_skip_why(const ms_inspect_in *in, const ms_snp_checks *c, ms_snp_check i)
{
    if (!c->have_report) {
        return "the evidence does not decode";
    }
    switch ((ms_snp_skip)c->skip[i]) {
    case MS_SNP_SKIP_NO_ARK: return "no ARK to check against (--ark FILE, or a policy)";
    case MS_SNP_SKIP_NO_CRL: return "the policy has no CRL (sev_snp.crl_pem / crl_der)";
    case MS_SNP_SKIP_NOT_PINNED: return in->policy ? "the policy does not pin it" : NOPIN_ANY;
    case MS_SNP_SKIP_VLEK: return "VLEK-signed: a VLEK names no chip";
    default: break;
    }
    if (i == MS_SNP_CHECK_REPORT_DATA) {
        return binding_why(in);
    }
    return in->policy ? "the policy has no sev_snp section" : NOPIN_ANY;
}

static void inspect_snp(const ms_inspect_in *in, ms_inspect *out)
{
    ms_snp_policy none;
    ms_snp_checks c;
    const ms_snp_policy *p = &none;
    int pinned = in->policy != NULL && in->policy->have_snp;
    memset(&none, 0, sizeof none);
    if (pinned) {
        p = &in->policy->snp;
    } else if (in->policy == NULL && in->snp_roots != NULL) {
        p = in->snp_roots;
    }
    ms_err e = ms_snp_verify_checks_at(p, in->data, in->len, in->binding, pinned, in->at, &c);
    if (!c.ran[MS_SNP_CHECK_FORMAT]) {
        add_result(out, "format", e == MS_OK ? MS_ERR_INTERNAL : e, NULL);
        return;
    }
    out->have_snp = c.have_report;
    out->snp = c.report;
    for (int i = 0; i < MS_SNP_CHECK_COUNT; i++) {
        const char *pass = SNP_PASS[i];
        if (i == MS_SNP_CHECK_ARK && !pinned) {
            pass = "the ARK given (NOT pinned: compare its SHA-256 with AMD's) issued the ASK";
        }
        if (c.ran[i]) {
            add_result(out, ms_snp_check_name((ms_snp_check)i), c.result[i], pass);
        } else {
            add_skip(out, ms_snp_check_name((ms_snp_check)i), snp_skip_why(in, &c, (ms_snp_check)i));
        }
    }
}

/* --- Intel TDX quotes (docs/attest-tdx.md §4) ----------------------------------------------- */

static const char *const TDX_PASS[MS_TDX_CHECK_COUNT] = {
    [MS_TDX_CHECK_FORMAT] = "the bundle, the quote and its PCK chain decode",
    [MS_TDX_CHECK_PCK_CHAIN] = "PCK leaf -> PCK CA -> the pinned Intel SGX Root CA, at the time",
    [MS_TDX_CHECK_CRL] = "neither the PCK nor its CA is revoked (PCK CRL, root CRL)",
    [MS_TDX_CHECK_QE_SIGNATURE] = "ECDSA P-256 by the PCK key over the QE report",
    [MS_TDX_CHECK_QE_BINDING] = "QE report data = SHA-256(attestation key || QE auth data)",
    [MS_TDX_CHECK_SIGNATURE] = "ECDSA P-256 by the attestation key over header and TD report",
    [MS_TDX_CHECK_COLLATERAL] = "TCB info and QE identity signed by Intel, current at the time",
    [MS_TDX_CHECK_TCB] = "the platform's TCB level has a status the policy accepts",
    [MS_TDX_CHECK_QE_IDENTITY] = "the quoting enclave is the one Intel's QE identity names",
    [MS_TDX_CHECK_DEBUG] = "the TD's attributes forbid debugging",
    [MS_TDX_CHECK_MRTD] = "the policy's MRTD",
    [MS_TDX_CHECK_RTMR] = "the policy's RTMRs",
    [MS_TDX_CHECK_MRCONFIGID] = "the policy's MRCONFIGID",
    [MS_TDX_CHECK_MROWNER] = "the policy's MROWNER",
    [MS_TDX_CHECK_REPORT_DATA] = "REPORTDATA is the binding",
};

static const char *tdx_skip_why(const ms_inspect_in *in, const ms_tdx_checks *c,
                                const ms_tdx_policy *p, ms_tdx_check i)
{
    if (!c->have_quote) {
        return "the evidence is malformed";
    }
    switch (i) {
    case MS_TDX_CHECK_REPORT_DATA: return binding_why(in);
    case MS_TDX_CHECK_PCK_CHAIN: return "no Intel root to check against (--tdx-root FILE, or a policy)";
    case MS_TDX_CHECK_CRL:
        return p->root_der == NULL ? "no Intel root to check against"
                                   : "no PCK or root CRL given (--tdx-collateral DIR)";
    case MS_TDX_CHECK_COLLATERAL:
        return p->root_der == NULL ? "no Intel root to check against"
                                   : "no TCB info / QE identity given (--tdx-collateral DIR)";
    case MS_TDX_CHECK_TCB:
    case MS_TDX_CHECK_QE_IDENTITY: return "the collateral was not verified";
    default: return in->policy ? "the policy does not pin it" : NOPIN_ANY;
    }
}

static void inspect_tdx(const ms_inspect_in *in, ms_inspect *out)
{
    ms_tdx_policy p;
    ms_tdx_checks *c = calloc(1, sizeof *c);
    int pinned = in->policy != NULL && in->policy->have_tdx;
    if (c == NULL) {
        add_result(out, "format", MS_ERR_NOMEM, NULL);
        return;
    }
    memset(&p, 0, sizeof p);
    if (pinned) {
        p = in->policy->tdx;
        p.at = in->at != 0 ? in->at : p.at;
    } else if (in->policy == NULL && in->tdx_roots != NULL) {
        p = *in->tdx_roots;
    }
    if (in->tdx_pck_chain != NULL) {
        p.pck_chain_pem = in->tdx_pck_chain;
        p.pck_chain_len = in->tdx_pck_chain_len;
    }
    ms_err e = ms_tdx_verify_checks(&p, in->data, in->len, 1, in->binding,
                                    pinned ? MS_TDX_EXPECT_PINS | MS_TDX_EXPECT_REQUIRED : 0, c);
    if (!c->ran[MS_TDX_CHECK_FORMAT]) {
        add_result(out, "format", e == MS_OK ? MS_ERR_INTERNAL : e, NULL);
        free(c);
        return;
    }
    out->have_tdx = c->have_quote;
    out->tdx_version = c->quote.version;
    out->tdx_body_type = c->quote.body_type;
    out->tdx = c->quote.td;
    out->have_tdx_tcb = c->have_tcb;
    out->tdx_tcb_status = c->tcb_status;
    out->tdx_qe_status = c->qe_status;
    out->tdx_n_advisories = c->n_advisories;
    memcpy(out->tdx_advisories, c->advisories, sizeof out->tdx_advisories);
    for (int i = 0; i < MS_TDX_CHECK_COUNT; i++) {
        const char *pass = TDX_PASS[i];
        if (i == MS_TDX_CHECK_PCK_CHAIN && !pinned) {
            pass = "chains to the root given (NOT pinned: compare its SHA-256 with Intel's)";
        }
        if (c->ran[i]) {
            add_result(out, ms_tdx_check_name((ms_tdx_check)i), c->result[i], pass);
        } else {
            add_skip(out, ms_tdx_check_name((ms_tdx_check)i), tdx_skip_why(in, c, &p, (ms_tdx_check)i));
        }
    }
    free(c);
}

/* --- Azure confidential VMs: az-snp-vtpm (docs/attest-azure.md §4) ------------------------ */

_Static_assert(POLICY_CHECKS + MS_AZ_CHECK_COUNT - 1 + MS_SNP_CHECK_COUNT <= MS_INSPECT_MAX_CHECKS,
               "Azure checks fit");
_Static_assert(POLICY_CHECKS + MS_AZ_CHECK_COUNT - 1 + MS_TDX_CHECK_COUNT <= MS_INSPECT_MAX_CHECKS,
               "Azure TDX checks fit");

static const char *const AZ_PASS[MS_AZ_CHECK_COUNT] = {
    [MS_AZ_CHECK_BUNDLE] = "the bundle's parts and lengths",
    [MS_AZ_CHECK_HCL_FORMAT] = "HCL header, sizes and zero fill",
    [MS_AZ_CHECK_REPORT_TYPE] = "the hardware report the evidence type needs",
    [MS_AZ_CHECK_TD_MATCH] = "the TDX quote's TD body is the HCL report's TD report",
    [MS_AZ_CHECK_VAR_DATA_HASH] = "report_data is the hash of the variable data",
    [MS_AZ_CHECK_VAR_DATA] = "a JSON key set with exactly one RSA HCLAkPub",
    [MS_AZ_CHECK_USER_DATA] = "the variable data's user-data is the binding",
    [MS_AZ_CHECK_QUOTE_FORMAT] = "the quote's TPM structures unmarshal exactly",
    [MS_AZ_CHECK_QUOTE_SIGNATURE] = "the quote verifies under HCLAkPub",
    [MS_AZ_CHECK_QUOTE_MAGIC] = "TPM_GENERATED_VALUE: made by a TPM",
    [MS_AZ_CHECK_QUOTE_TYPE] = "a quote",
    [MS_AZ_CHECK_NONCE] = "extraData is the binding's first 32 bytes",
    [MS_AZ_CHECK_PCR_SELECT] = "one SHA-256 PCR selection",
    [MS_AZ_CHECK_PCR_DIGEST] = "the PCR values hash to the quoted digest",
    [MS_AZ_CHECK_PCR_VALUE] = "each quoted PCR has the policy's value",
};

/* The SEV-SNP verifier's checks under an "snp-" prefix, made once from ms_snp_check_name:
   the names of a check record are static strings. */
static char az_snp_names[MS_SNP_CHECK_COUNT][40];
static pthread_once_t az_snp_names_once = PTHREAD_ONCE_INIT;

static void az_snp_names_make(void)
{
    for (int i = 0; i < MS_SNP_CHECK_COUNT; i++) {
        snprintf(az_snp_names[i], sizeof az_snp_names[i], "snp-%s",
                 ms_snp_check_name((ms_snp_check)i));
    }
}

static const char *az_skip_why(const ms_inspect_in *in, const ms_az_checks *c, int pinned,
                               ms_az_check i)
{
    switch (i) {
    case MS_AZ_CHECK_BUNDLE: return "a bare HCL report, not a bundle";
    case MS_AZ_CHECK_REPORT_TYPE: return "the HCL report does not decode";
    case MS_AZ_CHECK_SNP:
        return c->have_hcl && c->hcl.report_type != MS_AZ_REPORT_SNP
                   ? "not an SEV-SNP report"
                   : "no VCEK: give --vcek FILE (and --ask FILE) or --cert-table FILE";
    case MS_AZ_CHECK_TDX:
        return c->have_hcl && c->hcl.report_type != MS_AZ_REPORT_TDX
                   ? "not a TDX report"
                   : "no TDX quote of the TD report (a bare HCL report)";
    case MS_AZ_CHECK_TD_MATCH:
        return c->have_hcl && c->hcl.report_type != MS_AZ_REPORT_TDX
                   ? "not a TDX report"
                   : "no decoded TDX quote to compare the TD report with";
    case MS_AZ_CHECK_USER_DATA:
        return c->have_var ? binding_why(in) : "the variable data does not parse";
    case MS_AZ_CHECK_NONCE:
        return c->have_quote ? binding_why(in) : "no quote (a bare HCL report)";
    case MS_AZ_CHECK_QUOTE_SIGNATURE:
        return c->have_quote ? "no HCLAkPub: the variable data does not parse"
                             : "no quote (a bare HCL report)";
    case MS_AZ_CHECK_PCR_VALUE:
        return c->have_quote && pinned ? "the quote does not select the policy's PCRs"
               : c->have_quote         ? (in->policy ? "the policy has no az_snp_vtpm section"
                                                     : NOPIN_ANY)
                                       : "no quote (a bare HCL report)";
    default: return c->have_hcl ? "no quote (a bare HCL report)" : "the HCL report does not decode";
    }
}

static void add_az_snp(const ms_inspect_in *in, const ms_az_checks *c, int pinned, ms_inspect *out)
{
    pthread_once(&az_snp_names_once, az_snp_names_make);
    for (int i = 0; i < MS_SNP_CHECK_COUNT; i++) {
        const char *pass = SNP_PASS[i];
        if (i == MS_SNP_CHECK_ARK && !pinned) {
            pass = "the ARK given (NOT pinned: compare its SHA-256 with AMD's) issued the ASK";
        }
        if (c->snp.ran[i]) {
            add_result(out, az_snp_names[i], c->snp.result[i], pass);
        } else if (i == MS_SNP_CHECK_REPORT_DATA) {
            add_skip(out, az_snp_names[i], "on Azure report_data is the variable data's hash "
                                           "(var-data-hash); B is in its user-data");
        } else {
            add_skip(out, az_snp_names[i], snp_skip_why(in, &c->snp, (ms_snp_check)i));
        }
    }
}

/* az-tdx-vtpm: the DCAP verifier's checks of the TDX quote under a "tdx-" prefix. */
static char az_tdx_names[MS_TDX_CHECK_COUNT][40];
static pthread_once_t az_tdx_names_once = PTHREAD_ONCE_INIT;

static void az_tdx_names_make(void)
{
    for (int i = 0; i < MS_TDX_CHECK_COUNT; i++) {
        snprintf(az_tdx_names[i], sizeof az_tdx_names[i], "tdx-%s",
                 ms_tdx_check_name((ms_tdx_check)i));
    }
}

static void add_az_tdx(const ms_inspect_in *in, const ms_az_checks *c, const ms_tdx_policy *p,
                       ms_inspect *out)
{
    pthread_once(&az_tdx_names_once, az_tdx_names_make);
    for (int i = 0; i < MS_TDX_CHECK_COUNT; i++) {
        if (c->tdx.ran[i]) {
            add_result(out, az_tdx_names[i], c->tdx.result[i], TDX_PASS[i]);
        } else if (i == MS_TDX_CHECK_REPORT_DATA) {
            add_skip(out, az_tdx_names[i], "on Azure REPORTDATA is the variable data's hash "
                                           "(td-match, var-data-hash); B is in its user-data");
        } else {
            add_skip(out, az_tdx_names[i], tdx_skip_why(in, &c->tdx, p, (ms_tdx_check)i));
        }
    }
    out->have_tdx = c->tdx.have_quote;
    out->tdx_version = c->tdx.quote.version;
    out->tdx_body_type = c->tdx.quote.body_type;
    out->tdx = c->tdx.quote.td;
    out->have_tdx_tcb = c->tdx.have_tcb;
    out->tdx_tcb_status = c->tdx.tcb_status;
    out->tdx_qe_status = c->tdx.qe_status;
    out->tdx_n_advisories = c->tdx.n_advisories;
    memcpy(out->tdx_advisories, c->tdx.advisories, sizeof out->tdx_advisories);
}

static void inspect_az(const ms_inspect_in *in, ms_inspect *out)
{
    ms_az_policy none;
    ms_az_checks *c = calloc(1, sizeof *c);
    int tdx = in->type == MS_EVIDENCE_AZ_TDX_VTPM;
    int pinned = in->policy != NULL &&
                 (tdx ? in->policy->have_az_tdx && in->policy->have_tdx
                      : in->policy->have_az_snp && in->policy->have_snp);
    const ms_az_policy *p = &none;
    memset(&none, 0, sizeof none);
    if (c == NULL) {
        add_result(out, "format", MS_ERR_NOMEM, NULL);
        return;
    }
    if (pinned) {
        none = tdx ? in->policy->az_tdx : in->policy->az_snp;
        none.tdx.at = in->at != 0 ? in->at : none.tdx.at;
    } else if (in->policy == NULL) {
        none.snp = in->snp_roots != NULL ? *in->snp_roots : none.snp;
        none.tdx = in->tdx_roots != NULL ? *in->tdx_roots : none.tdx;
    }
    if (in->tdx_pck_chain != NULL) {
        none.tdx.pck_chain_pem = in->tdx_pck_chain;
        none.tdx.pck_chain_len = in->tdx_pck_chain_len;
    }
    ms_err e = ms_az_verify_checks(p, in->data, in->len, in->az_vcek, in->az_vcek_len, in->az_ask,
                                   in->az_ask_len, in->binding, pinned, c);
    if (!c->ran[MS_AZ_CHECK_BUNDLE] && !c->ran[MS_AZ_CHECK_HCL_FORMAT]) {
        add_result(out, "format", e == MS_OK ? MS_ERR_INTERNAL : e, NULL);
        free(c);
        return;
    }
    out->have_snp = c->snp.have_report;
    out->snp = c->snp.report;
    out->have_tpm2 = c->have_quote;
    out->tpm2 = c->quoted;
    out->have_az_var = c->have_var;
    out->az_var = c->var;
    out->have_az_td = c->have_td;
    out->az_td = c->td;
    for (int i = 0; i < MS_AZ_CHECK_COUNT; i++) {
        const char *name = ms_az_check_name((ms_az_check)i);
        if (i == MS_AZ_CHECK_SNP && c->ran[i]) {
            add_az_snp(in, c, pinned, out);
        } else if (i == MS_AZ_CHECK_TDX && c->ran[i]) {
            add_az_tdx(in, c, &p->tdx, out);
        } else if (c->ran[i]) {
            add_result(out, name, c->result[i], AZ_PASS[i]);
        } else {
            add_skip(out, name, az_skip_why(in, c, pinned, (ms_az_check)i));
        }
    }
    ms_wipe(c, sizeof *c);
    free(c);
}

/* --- development keys (protocol.md §12.5) -------------------------------------------------- */

static void inspect_devkey(const ms_inspect_in *in, ms_inspect *out)
{
    const ms_attest_policy *p = in->policy;
    if (in->len != MS_DEVKEY_EVIDENCE_LEN || in->data[0] != MS_DEVKEY_FORMAT) {
        add_result(out, "format", MS_ERR_ATTEST_FORMAT, NULL);
        add_skip(out, "key", "the evidence is malformed");
        add_skip(out, "signature", "the evidence is malformed");
        return;
    }
    add_result(out, "format", MS_OK, "97 bytes: format, Ed25519 key, signature");
    out->have_dev_pk = 1;
    memcpy(out->dev_pk, in->data + 1, MS_SIGN_PK_LEN);
    if (p != NULL && p->have_dev_pk) {
        add_result(out, "key",
                   ms_ct_equal(out->dev_pk, p->dev_pk, MS_SIGN_PK_LEN) ? MS_OK : MS_ERR_ATTEST_KEY,
                   "the pinned development key");
    } else {
        add_skip(out, "key", p ? "the policy pins no dev key" : NOPIN_ANY);
    }
    if (in->binding == NULL) {
        add_skip(out, "signature", binding_why(in));
        return;
    }
    /* Under the evidence's own key: whether that key is trusted is the "key" check. */
    add_result(out, "signature", ms_devkey_verify(out->dev_pk, in->data, in->len, in->binding),
               "Ed25519 over the binding by the evidence's key");
}

/* --- NVIDIA GPUs (docs/attest-nvidia.md §4) ---------------------------------------------- */

#define NV_ROW(g)                                                                                  \
    {"gpu" #g " format", "gpu" #g " nonce", "gpu" #g " chain", "gpu" #g " identity",             \
     "gpu" #g " signature", "gpu" #g " measurements", "gpu" #g " cc-mode", "gpu" #g " debug"}
static const char *const NV_NAMES[MS_INSPECT_MAX_GPUS][MS_NVGPU_CHECK_COUNT] = {
    NV_ROW(0), NV_ROW(1), NV_ROW(2),  NV_ROW(3),  NV_ROW(4),  NV_ROW(5),  NV_ROW(6),  NV_ROW(7),
    NV_ROW(8), NV_ROW(9), NV_ROW(10), NV_ROW(11), NV_ROW(12), NV_ROW(13), NV_ROW(14), NV_ROW(15)};
_Static_assert(MS_INSPECT_MAX_GPUS == 16 && MS_NVGPU_CHECK_COUNT == 8, "NV_NAMES has every name");

static const char *const NV_PASS[MS_NVGPU_CHECK_COUNT] = {
    [MS_NVGPU_CHECK_FORMAT] = "the item, the SPDM request and response and the certificates decode",
    [MS_NVGPU_CHECK_NONCE] = "the SPDM request's nonce is the binding's first 32 bytes",
    [MS_NVGPU_CHECK_CHAIN] = "leaf -> device -> ... -> the pinned NVIDIA root, valid then",
    [MS_NVGPU_CHECK_IDENTITY] = "the leaf was issued by the device certificate named by its serial",
    [MS_NVGPU_CHECK_SIGNATURE] = "ECDSA P-384 by the leaf over request || response",
    [MS_NVGPU_CHECK_MEASUREMENT] = "every measurement the policy pins, exactly",
    [MS_NVGPU_CHECK_CC] = "confidential-computing mode is on",
    [MS_NVGPU_CHECK_DEBUG] = "dev-tools (debug) mode is off (host-reported)",
};

static void nv_show(const ms_nvgpu_checks *c, const uint8_t *item, size_t len, ms_inspect_gpu *g)
{
    const ms_nvgpu_report *r = &c->report;
    ms_nvgpu_item it;
    memset(g, 0, sizeof *g);
    memcpy(g->device_id, c->device_id, sizeof g->device_id);
    memcpy(g->driver_version, r->driver_version, sizeof g->driver_version);
    memcpy(g->vbios_version, r->vbios_version, sizeof g->vbios_version);
    memcpy(g->project, r->project, sizeof g->project);
    memcpy(g->project_sku, r->project_sku, sizeof g->project_sku);
    memcpy(g->chip_sku, r->chip_sku, sizeof g->chip_sku);
    memcpy(g->cc_source, c->cc_source, sizeof g->cc_source);
    g->have_feature_flag = r->have_feature_flag;
    g->feature_flag = r->feature_flag;
    g->n_blocks = r->n_blocks;
    g->n_unknown = r->n_unknown;
    if (ms_nvgpu_item_decode(item, len, &it) == MS_OK) {
        g->host_flags = it.host_flags;
    }
}

/* The measurements of the first GPU that every later GPU shares (a policy pins one set). */
static void nv_common(const ms_nvgpu_report *r, int first, ms_inspect *out)
{
    if (first) {
        for (size_t i = 0; i < r->n_blocks; i++) {
            ms_nvgpu_meas *m = &out->nv_meas[i];
            m->index = r->blocks[i].index;
            m->len = (uint8_t)r->blocks[i].value_len;
            memcpy(m->value, r->blocks[i].value, m->len);
        }
        out->nv_n_meas = r->n_blocks;
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < out->nv_n_meas; i++) {
        const ms_nvgpu_block *b = ms_nvgpu_report_block(r, out->nv_meas[i].index);
        if (b != NULL && b->value_len == out->nv_meas[i].len &&
            ms_ct_equal(b->value, out->nv_meas[i].value, b->value_len)) {
            out->nv_meas[k++] = out->nv_meas[i];
        }
    }
    out->nv_n_meas = k;
}

static const char *nv_skip_why(const ms_inspect_in *in, int pinned, ms_nvgpu_check i,
                               const ms_nvgpu_checks *c)
{
    switch (i) {
    case MS_NVGPU_CHECK_NONCE: return binding_why(in);
    case MS_NVGPU_CHECK_CHAIN: return "no NVIDIA root to check against (a policy, or a chain ending in its root)";
    default:
        if (!pinned) {
            return in->policy ? "the policy has no nvidia_gpu section" : NOPIN_ANY;
        }
        return c->skip_reason[i] ? c->skip_reason[i] : "not asked for";
    }
}

/* The policy's nvidia_gpu section, or (without a policy) the root given; *pinned says which. */
static const ms_nvgpu_policy *nv_policy(const ms_inspect_in *in, ms_nvgpu_policy *none,
                                        int *pinned)
{
    *pinned = in->policy != NULL && in->policy->have_nvgpu;
    memset(none, 0, sizeof *none);
    if (*pinned) {
        return &in->policy->nvgpu;
    }
    if (in->policy == NULL && in->nv_root_der != NULL) {
        none->root_der = in->nv_root_der;
        none->root_len = in->nv_root_len;
    }
    return none;
}

/* One GPU's item, its checks named "gpu<g> <check>"; what it shows goes to out->nv. */
static void nv_item(const ms_inspect_in *in, const ms_nvgpu_policy *p, int pinned, size_t g,
                    const uint8_t *item, size_t len, ms_inspect *out)
{
    static _Thread_local ms_nvgpu_checks c; /* large */
    /* Each check's outcome is recorded in c; the first failure is read from there. */
    if (ms_nvgpu_verify_checks(p, item, len, in->binding, in->at, pinned, &c) == MS_ERR_ARG) {
        add_result(out, NV_NAMES[g][MS_NVGPU_CHECK_FORMAT], MS_ERR_ARG, NULL);
        return;
    }
    for (int i = 0; i < MS_NVGPU_CHECK_COUNT; i++) {
        const char *pass = NV_PASS[i];
        if (i == MS_NVGPU_CHECK_CHAIN && !pinned) {
            pass = "to the root given (NOT pinned: compare it with NVIDIA's)";
        }
        if (c.ran[i]) {
            add_result(out, NV_NAMES[g][i], c.result[i], pass);
        } else if (!c.have_report) {
            add_skip(out, NV_NAMES[g][i], "the GPU's item does not decode");
        } else {
            add_skip(out, NV_NAMES[g][i], nv_skip_why(in, pinned, (ms_nvgpu_check)i, &c));
        }
    }
    if (c.have_report) {
        nv_show(&c, item, len, &out->nv[out->nv_n]);
        nv_common(&c.report, out->nv_n == 0, out);
        out->nv_n++;
    }
}

/* No device id twice among the GPUs shown. */
static void nv_distinct(ms_inspect *out, ms_err code)
{
    int dup = 0;
    for (size_t i = 0; i < out->nv_n; i++) {
        for (size_t j = 0; j < i; j++) {
            dup |= out->nv[i].device_id[0] != 0 &&
                   strcmp(out->nv[i].device_id, out->nv[j].device_id) == 0;
        }
    }
    add_result(out, "distinct", dup ? code : MS_OK, "no device appears twice");
}

static void inspect_nvgpu(const ms_inspect_in *in, ms_inspect *out)
{
    ms_nvgpu_evidence ev;
    ms_nvgpu_policy none;
    int pinned;
    const ms_nvgpu_policy *p = nv_policy(in, &none, &pinned);
    if (ms_nvgpu_evidence_decode(in->data, in->len, &ev) != MS_OK) {
        add_result(out, "format", MS_ERR_NVGPU_FORMAT, NULL);
        return;
    }
    for (size_t g = 0; g < ev.n; g++) {
        nv_item(in, p, pinned, g, ev.item[g], ev.item_len[g], out);
    }
    if (pinned && p->count != 0) {
        add_result(out, "gpus", ev.n == p->count ? MS_OK : MS_ERR_NVGPU_COUNT,
                   "as many GPUs as the policy requires");
    } else {
        add_skip(out, "gpus", pinned ? "the policy accepts any number" : NOPIN_ANY);
    }
    nv_distinct(out, MS_ERR_NVGPU_DUPLICATE);
}

/* --- composite (docs/protocol.md §2.4) ------------------------------------------------------ */

/*
 * "cpu <name>" for the checks of a composite's CPU TEE item. Names of a check record are
 * static strings: each is made once and kept (the distinct names of every CPU type's
 * checks fit the table; past it the bare name is used).
 */
#define CPU_NAMES_MAX 160u
static const char *cpu_name(const char *name)
{
    static char names[CPU_NAMES_MAX][48];
    static size_t n;
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    const char *r = name;
    pthread_mutex_lock(&mu);
    size_t i = 0;
    while (i < n && strcmp(names[i] + 4, name) != 0) {
        i++;
    }
    if (i < n) {
        r = names[i];
    } else if (n < CPU_NAMES_MAX && strlen(name) < sizeof names[0] - 4) {
        snprintf(names[n], sizeof names[n], "cpu %s", name);
        r = names[n++];
    }
    pthread_mutex_unlock(&mu);
    return r;
}

static void inspect_one(const ms_inspect_in *in, ms_inspect *out);

/* The CPU TEE item under its own type's checks, with the composite's binding and policy. */
static void comp_cpu(const ms_inspect_in *in, const ms_composite_item *it, ms_inspect *out)
{
    ms_inspect_in sub = *in;
    size_t first = out->n;
    sub.type = it->type;
    sub.data = it->data;
    sub.len = it->len;
    inspect_one(&sub, out);
    for (size_t i = first; i < out->n; i++) {
        out->checks[i].name = cpu_name(out->checks[i].name);
    }
}

static void inspect_composite(const ms_inspect_in *in, ms_inspect *out)
{
    const ms_attest_policy *pol = in->policy;
    ms_composite c;
    ms_nvgpu_policy none;
    int pinned;
    if (ms_composite_decode(in->data, in->len, &c) != MS_OK) {
        add_result(out, "format", MS_ERR_COMPOSITE_FORMAT, NULL);
        return;
    }
    add_result(out, "format", MS_OK, "format, count, each item's type and length, nothing after");
    /* Known types, the CPU TEE's first and alone: the shape against its own combination. */
    ms_composite_rule self = {c.items[0].type, (uint8_t)(c.n - 1u)};
    ms_err e = ms_composite_check_shape(&c, &self, 1);
    add_result(out, "items", e, "one CPU TEE item first, then GPU items only");
    if (e != MS_OK) {
        return;
    }
    if (pol == NULL) {
        add_skip(out, "combination", NOPIN_ANY);
    } else if (!pol->have_composite) {
        add_result(out, "combination", MS_ERR_ATTEST_POLICY, NULL);
    } else {
        add_result(out, "combination", ms_composite_check_shape(&c, pol->composite, pol->n_composite),
                   "a combination of the policy's composite.require");
    }
    out->have_composite = 1;
    out->comp_cpu_type = c.items[0].type;
    out->comp_gpus = (size_t)c.n - 1u;
    comp_cpu(in, &c.items[0], out);
    const ms_nvgpu_policy *p = nv_policy(in, &none, &pinned);
    for (uint8_t i = 1; i < c.n; i++) {
        nv_item(in, p, pinned, (size_t)i - 1u, c.items[i].data, c.items[i].len, out);
    }
    nv_distinct(out, MS_ERR_COMPOSITE_DUPLICATE);
}

/* --- the whole --------------------------------------------------------------------------- */

/* The type's own checks (a composite's items through the same, each with its type). */
static void inspect_one(const ms_inspect_in *in, ms_inspect *out)
{
    switch (in->type) {
    case MS_EVIDENCE_TPM2_QUOTE: inspect_tpm2(in, out); break;
    case MS_EVIDENCE_SEV_SNP: inspect_snp(in, out); break;
    case MS_EVIDENCE_TDX: inspect_tdx(in, out); break;
    case MS_EVIDENCE_DEV_KEY: inspect_devkey(in, out); break;
    case MS_EVIDENCE_AZ_SNP_VTPM: inspect_az(in, out); break;
    case MS_EVIDENCE_AZ_TDX_VTPM: inspect_az(in, out); break;
    case MS_EVIDENCE_NVIDIA_GPU: inspect_nvgpu(in, out); break;
    case MS_EVIDENCE_COMPOSITE: inspect_composite(in, out); break;
    default: add_result(out, "format", MS_ERR_ATTEST_FORMAT, NULL); break;
    }
}

ms_err ms_attest_inspect(const ms_inspect_in *in, ms_inspect *out)
{
    ENSURE(out != NULL, MS_ERR_ARG);
    memset(out, 0, sizeof *out);
    ENSURE(in != NULL && in->data != NULL && in->len > 0, MS_ERR_ARG);
    out->type = in->type;
    check_accepted(in, out);
    check_strict(in, out);
    check_validity(in, out);
    check_binding(in, out);
    inspect_one(in, out);
    for (size_t i = 0; i < out->n; i++) {
        if (out->checks[i].status == MS_CHECK_FAIL) {
            return out->checks[i].err;
        }
    }
    return MS_OK;
}

const char *ms_check_status_name(ms_check_status s)
{
    switch (s) {
    case MS_CHECK_PASS: return "PASS";
    case MS_CHECK_FAIL: return "FAIL";
    default: return "SKIPPED";
    }
}
