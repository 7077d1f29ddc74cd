/* minions-secure attest's output: the evidence's facts, each check, the verdict and a policy. */
#include "apps/minions-secure/cmd_attest.h"

#include <string.h>
#include <time.h>

#include "common/check.h"
#include "common/codec.h"
#include "common/digest.h"
#include "common/json.h"
#include "common/limits.h"
#include "secure/attest/devkey.h"
#include "secure/attest/policy.h"

#define DEV_PUB_PLACEHOLDER "minions-dev-attestation.pem.pub"
#define NV_ROOT_PLACEHOLDER "nvidia-device-identity-ca.pem"

static void utc_time(uint64_t t, char out[static 32])
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (!gmtime_r(&tt, &tm) || strftime(out, 32, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
        snprintf(out, 32, "%llu", (unsigned long long)t);
    }
}

/* Hex of at most 64 bytes into out (129 bytes); "" if it cannot be encoded. */
static const char *hex64(const uint8_t *p, size_t n, char out[static 129])
{
    size_t m;
    if (n > 64 || ms_hex_encode(p, n, out, 129, &m) != MS_OK) {
        out[0] = 0;
    }
    return out;
}

static const char *mode_name(uint8_t mode)
{
    return mode == MS_MODE_STRICT ? "STRICT" : "FAST";
}

static const char *first_failure(const ms_inspect *in)
{
    for (size_t i = 0; i < in->n; i++) {
        if (in->checks[i].status == MS_CHECK_FAIL) {
            return in->checks[i].name;
        }
    }
    return "?";
}

/* --- text ---------------------------------------------------------------------------------- */

static void text_tpm2(const ms_tpm2_policy *q, FILE *out)
{
    char hex[129];
    fprintf(out, "TPM 2.0 quote (as the bundle states it; authentic only if \"signature\" passed)\n");
    fprintf(out, "  AK name        %s\n", hex64(q->ak_name, MS_TPM2_NAME_LEN, hex));
    fprintf(out, "  PCRs           SHA-256 bank:");
    for (unsigned i = 0; i < MS_TPM2_NUM_PCRS; i++) {
        if (q->pcr_mask & (1u << i)) {
            fprintf(out, " %u", i);
        }
    }
    fputc('\n', out);
    for (unsigned i = 0; i < MS_TPM2_NUM_PCRS; i++) {
        if (q->pcr_mask & (1u << i)) {
            fprintf(out, "  PCR %-10u %s\n", i, hex64(q->pcr_values[i], MS_TPM2_DIGEST_LEN, hex));
        }
    }
}

static void text_tcb(const char *label, const ms_snp_tcb *t, int turin, FILE *out)
{
    char fmc[16] = "";
    if (turin) {
        snprintf(fmc, sizeof fmc, "fmc %u, ", t->fmc);
    }
    fprintf(out, "  %-14s %sbootloader %u, tee %u, snp %u, microcode %u (raw 0x%016llx)\n", label,
            fmc, t->bootloader, t->tee, t->snp, t->microcode, (unsigned long long)t->raw);
}

static int no_agent(const ms_snp_report *r)
{
    uint8_t all = 0xFF;
    for (size_t i = 0; i < sizeof r->report_id_ma; i++) {
        all &= r->report_id_ma[i];
    }
    return all == 0xFF;
}

static void text_snp(const ms_snp_report *r, FILE *out)
{
    char hex[129];
    unsigned key = MS_SNP_KEY_INFO_SIGNING_KEY(r->key_info);
    fprintf(out, "SEV-SNP report (as the report states it; authentic only if \"signature\" passed)\n");
    fprintf(out, "  version        %u, VMPL %u, guest SVN %u\n", (unsigned)r->version,
            (unsigned)r->vmpl, (unsigned)r->guest_svn);
    fprintf(out, "  guest policy   0x%016llx (debug %s, migration agent %s, SMT %s, single socket %s, "
                 "ABI >= %u.%u)\n",
            (unsigned long long)r->policy, r->policy & MS_SNP_POLICY_DEBUG ? "ALLOWED" : "off",
            r->policy & MS_SNP_POLICY_MIGRATE_MA ? "ALLOWED" : "off",
            r->policy & MS_SNP_POLICY_SMT ? "allowed" : "off",
            r->policy & MS_SNP_POLICY_SINGLE_SOCKET ? "required" : "not required",
            MS_SNP_POLICY_ABI_MAJOR(r->policy), MS_SNP_POLICY_ABI_MINOR(r->policy));
    fprintf(out, "  platform info  0x%016llx (SMT %s, TSME %s); migration agent %s\n",
            (unsigned long long)r->platform_info,
            r->platform_info & MS_SNP_PLATFORM_SMT_EN ? "on" : "off",
            r->platform_info & MS_SNP_PLATFORM_TSME_EN ? "on" : "off",
            no_agent(r) ? "none bound" : "BOUND");
    fprintf(out, "  measurement    %s\n", hex64(r->measurement, MS_SNP_MEASUREMENT_LEN, hex));
    fprintf(out, "  host data      %s\n", hex64(r->host_data, sizeof r->host_data, hex));
    fprintf(out, "  report data    %s\n", hex64(r->report_data, MS_SNP_REPORT_DATA_LEN, hex));
    text_tcb("reported TCB", &r->reported_tcb, r->tcb_layout == MS_SNP_TCB_TURIN, out);
    text_tcb("committed TCB", &r->committed_tcb, r->tcb_layout == MS_SNP_TCB_TURIN, out);
    fprintf(out, "  chip id        %s\n", hex64(r->chip_id, MS_SNP_CHIP_ID_LEN, hex));
    fprintf(out, "  signed by      %s\n", key == 0 ? "VCEK" : key == 1 ? "VLEK" : "no key");
}

static void text_tdx(const ms_inspect *in, FILE *out)
{
    char hex[129];
    const ms_tdx_td_report *t = &in->tdx;
    fprintf(out, "TDX quote v%u, TD %s (as the quote states it; authentic only if "
                 "\"quote-signature\" passed)\n",
            in->tdx_version, in->tdx_body_type == MS_TDX_BODY_TD15 ? "1.5" : "1.0");
    fprintf(out, "  TD attributes  0x%016llx (debug %s)\n", (unsigned long long)t->td_attributes,
            t->td_attributes & MS_TDX_TD_ATTR_DEBUG ? "ALLOWED" : "off");
    fprintf(out, "  MRTD           %s\n", hex64(t->mrtd, MS_TDX_MEAS_LEN, hex));
    for (unsigned i = 0; i < MS_TDX_RTMRS; i++) {
        fprintf(out, "  RTMR%u          %s\n", i, hex64(t->rtmr[i], MS_TDX_MEAS_LEN, hex));
    }
    fprintf(out, "  MRCONFIGID     %s\n", hex64(t->mrconfigid, MS_TDX_MEAS_LEN, hex));
    fprintf(out, "  MROWNER        %s\n", hex64(t->mrowner, MS_TDX_MEAS_LEN, hex));
    fprintf(out, "  TEE_TCB_SVN    %s\n", hex64(t->tee_tcb_svn, 16, hex));
    fprintf(out, "  report data    %s\n", hex64(t->report_data, MS_TDX_REPORT_DATA_LEN, hex));
    if (in->have_tdx_tcb) {
        fprintf(out, "  TCB status     %s (QE %s)\n", ms_tdx_status_name(in->tdx_tcb_status),
                ms_tdx_status_name(in->tdx_qe_status));
        for (unsigned i = 0; i < in->tdx_n_advisories; i++) {
            fprintf(out, "  advisory       %s\n", in->tdx_advisories[i]);
        }
    }
}

/* az-snp-vtpm / az-tdx-vtpm: what the HCL report's variable data says (bound by report_data). */
static void text_az(const ms_inspect *in, FILE *out)
{
    char hex[129];
    uint8_t h[32];
    if (in->have_az_var) {
        const ms_az_var_data *v = &in->az_var;
        ms_sha256(v->ak_n, v->ak_n_len, h);
        fprintf(out, "Azure HCL variable data (authentic only if \"var-data-hash\" and the %s "
                     "passed)\n", in->have_az_td ? "TDX quote and td-match" : "SEV-SNP signature");
        fprintf(out, "  HCLAkPub       RSA-%zu, e %u, sha256(n) %s\n", v->ak_n_len * 8,
                (unsigned)v->ak_e, hex64(h, 32, hex));
        fprintf(out, "  keys           %u%s\n", v->n_keys, v->has_ek ? " (HCLEkPub: not used)" : "");
        fprintf(out, "  user-data      %s\n", v->has_user_data ? hex64(v->user_data, 64, hex)
                                                              : "(none: nothing bound)");
    }
    if (in->have_az_td) {
        const ms_az_td_report *t = &in->az_td;
        fprintf(out, "TDX TD report in the HCL report (authentic only if the tdx-* checks and "
                     "td-match passed)\n");
        fprintf(out, "  attributes     0x%016llx (debug %s)\n", (unsigned long long)t->td_attributes,
                t->td_attributes & MS_AZ_TD_ATTR_DEBUG ? "ON" : "off");
        fprintf(out, "  MRTD           %s\n", hex64(t->mrtd, 48, hex));
        for (int i = 0; i < 4; i++) {
            fprintf(out, "  RTMR%d          %s\n", i, hex64(t->rtmr[i], 48, hex));
        }
        fprintf(out, "  report data    %s\n", hex64(t->report_data, 64, hex));
    }
}

static void text_devkey(const uint8_t pk[static MS_SIGN_PK_LEN], FILE *out)
{
    char fp[MS_FINGERPRINT_LEN];
    ms_devkey_fingerprint(pk, fp);
    fprintf(out, "dev-key evidence\n  key            %s\n", fp);
    fprintf(out, "  DEVELOPMENT MODE: dev-key evidence proves that the supervisor holds this key,\n"
                 "  NOT what host or software runs it\n");
}

static const char *feature_name(uint32_t f)
{
    static const char *const names[] = {"SPT (CC, single GPU)", "MPT (CC, multi-GPU)",
                                        "PPCIE (CC, protected PCIe)"};
    return f <= MS_NVGPU_FEATURE_MAX_CC ? names[f] : "not a CC mode";
}

static void text_nvgpu(const ms_inspect *in, FILE *out)
{
    for (size_t i = 0; i < in->nv_n; i++) {
        const ms_inspect_gpu *g = &in->nv[i];
        fprintf(out, "gpu%zu           device %s, %zu measurements\n", i,
                g->device_id[0] ? g->device_id : "(identity not established)", g->n_blocks);
        fprintf(out, "  driver %s, VBIOS %s, chip SKU %s, project %s SKU %s\n",
                g->driver_version[0] ? g->driver_version : "-",
                g->vbios_version[0] ? g->vbios_version : "-", g->chip_sku[0] ? g->chip_sku : "-",
                g->project[0] ? g->project : "-", g->project_sku[0] ? g->project_sku : "-");
        if (g->have_feature_flag) {
            fprintf(out, "  CC mode (signed): %s\n", feature_name(g->feature_flag));
        } else {
            fprintf(out, "  CC mode: no signed field; host (NVML, unsigned) says CC %s\n",
                    (g->host_flags & MS_NVGPU_HOST_CC_ON) ? "on" : "off");
        }
        fprintf(out, "  dev-tools (host-reported, unsigned): %s%s\n",
                (g->host_flags & MS_NVGPU_HOST_DEVTOOLS) ? "on" : "off",
                g->n_unknown ? "; opaque fields of unknown types present" : "");
    }
}

static void text_facts(const attest_shown *s, FILE *out)
{
    char when[32], recv[32], hex[129];
    fprintf(out, "minions-secure attest: %s\n", s->source);
    if (s->any) {
        fprintf(out, "NOTHING WAS TRUSTED (--any-evidence): no policy pins anything. What follows "
                     "is what the\nevidence claims, checked only where no pin is needed.%s\n",
                s->live ? " Nothing was sent inside the channel." : "");
    }
    fprintf(out, "evidence       %s%s%s\n", ms_evidence_type_name(s->ins->type),
            s->have_session ? ", " : "", s->have_session ? mode_name(s->mode) : "");
    if (s->have_session) {
        utc_time(s->not_after, when);
        utc_time(s->at, recv);
        fprintf(out, "valid until    %s (%s %s)%s\n", when,
                s->live ? "received" : "captured, as the file says (not authenticated):", recv,
                !s->live && s->now > s->not_after ? "; expired now" : "");
        fprintf(out, "static key     %s\n", hex64(s->static_pk, MS_X25519_LEN, hex));
    }
    if (s->session_id) {
        fprintf(out, "session        %.8s%s\n", hex64(s->session_id, MS_SESSION_ID_LEN, hex),
                s->live ? (s->any ? " (never used: nothing was sent inside it)"
                                  : " (closed after the check)")
                        : "");
    }
    if (s->ins->have_composite) {
        fprintf(out, "items          %s (checks \"cpu ...\") + %zu GPU%s (checks \"gpu<i> ...\"), "
                     "all over one binding\n",
                ms_evidence_type_name(s->ins->comp_cpu_type), s->ins->comp_gpus,
                s->ins->comp_gpus == 1 ? "" : "s");
    }
    if (s->ins->have_tpm2) {
        text_tpm2(&s->ins->tpm2, out);
    }
    if (s->ins->have_snp) {
        text_snp(&s->ins->snp, out);
    }
    if (s->ins->have_tdx) {
        text_tdx(s->ins, out);
    }
    text_az(s->ins, out);
    if (s->ark_sha256) {
        fprintf(out, "ARK given      sha256 %s\n  NOT pinned: compare it with AMD's "
                     "(docs/attest-sev-snp.md §5) before you trust it\n",
                hex64(s->ark_sha256, 32, hex));
    }
    if (s->ins->have_dev_pk) {
        text_devkey(s->ins->dev_pk, out);
    }
    text_nvgpu(s->ins, out);
}

static void text_checks(const attest_shown *s, FILE *out)
{
    fprintf(out, "checks\n");
    for (size_t i = 0; i < s->ins->n; i++) {
        const ms_inspect_check *c = &s->ins->checks[i];
        if (c->status == MS_CHECK_FAIL) {
            fprintf(out, "  %-8s %-14s %s (%s)\n", ms_check_status_name(c->status), c->name,
                    ms_err_str(c->err), ms_err_name(c->err));
        } else {
            fprintf(out, "  %-8s %-14s %s\n", ms_check_status_name(c->status), c->name,
                    c->detail ? c->detail : "");
        }
    }
    if (s->verdict != MS_OK) {
        fprintf(out, "result: FAIL at \"%s\": %s (%s)\n", first_failure(s->ins),
                ms_err_str(s->verdict), ms_err_name(s->verdict));
    } else if (s->any) {
        fprintf(out, "result: NOT TRUSTED: the checks that need no pin passed; pin what you "
                     "expect in a policy\n");
    } else {
        size_t skipped = 0;
        for (size_t i = 0; i < s->ins->n; i++) {
            skipped += s->ins->checks[i].status == MS_CHECK_SKIPPED;
        }
        if (skipped > 0) {
            fprintf(out, "result: PASS, but %zu check%s SKIPPED (see above): what they cover "
                         "was NOT checked\n",
                    skipped, skipped == 1 ? " was" : "s were");
        } else {
            fprintf(out, "result: PASS: every check passed under the policy\n");
        }
    }
}

/* Compact JSON from the builder, one member per line, two spaces per level. */
static void pretty(const uint8_t *p, size_t n, FILE *out)
{
    int depth = 0, in_str = 0, esc = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = (char)p[i];
        if (in_str) {
            fputc(ch, out);
            in_str = !(ch == '"' && !esc);
            esc = !esc && ch == '\\';
            continue;
        }
        if ((ch == '{' || ch == '[') && i + 1 < n && (p[i + 1] == '}' || p[i + 1] == ']')) {
            fputc(ch, out); /* an empty container stays on its line */
            fputc((char)p[++i], out);
            continue;
        }
        switch (ch) {
        case '"': in_str = 1; fputc(ch, out); break;
        case '{':
        case '[': fprintf(out, "%c\n%*s", ch, 2 * ++depth, ""); break;
        case '}':
        case ']': fprintf(out, "\n%*s%c", 2 * (depth > 0 ? --depth : 0), "", ch); break;
        case ',': fprintf(out, ",\n%*s", 2 * depth, ""); break;
        case ':': fputs(": ", out); break;
        default: fputc(ch, out); break;
        }
    }
    fputc('\n', out);
}

static void text_policy(const attest_shown *s, FILE *out)
{
    ms_buf js;
    if (s->verdict != MS_OK) {
        fprintf(out, "\nno policy: the evidence failed a check\n");
        return;
    }
    ms_buf_init(&js, MS_MAX_POLICY_FILE);
    if (attest_policy_json(s, &js) != MS_OK) {
        fprintf(out, "\nno policy: it cannot be written for this evidence\n");
        ms_buf_free(&js);
        return;
    }
    fprintf(out, "\npolicy (docs/attestation.md): check each value against what you expect "
                 "before you trust it;\n%sthen save it and pass the file to "
                 "--attestation-policy:\n",
            s->ins->type == MS_EVIDENCE_TPM2_QUOTE ? "" : "make the file names yours, ");
    pretty(js.p, js.len, out);
    ms_buf_free(&js);
}

void attest_show_text(const attest_shown *s, FILE *out)
{
    text_facts(s, out);
    text_checks(s, out);
    if (s->show_policy) {
        text_policy(s, out);
    }
    fflush(out);
}

/* --- the policy ---------------------------------------------------------------------------- */

static ms_err add_hex(ms_json_wval o, const char *key, const uint8_t *p, size_t n)
{
    char hex[129];
    hex64(p, n, hex);
    ENSURE(hex[0] != 0, MS_ERR_INTERNAL);
    return ms_json_add_cstr(o, key, hex);
}

static ms_err policy_tpm2(ms_json_wval o, const ms_tpm2_policy *q)
{
    ms_json_wval t, pcrs;
    char key[4];
    TRY(ms_json_add_obj(o, "tpm2", &t));
    TRY(add_hex(t, "ak_name", q->ak_name, MS_TPM2_NAME_LEN));
    TRY(ms_json_add_obj(t, "pcrs", &pcrs));
    for (unsigned i = 0; i < MS_TPM2_NUM_PCRS; i++) {
        if (q->pcr_mask & (1u << i)) {
            snprintf(key, sizeof key, "%u", i);
            TRY(add_hex(pcrs, key, q->pcr_values[i], MS_TPM2_DIGEST_LEN));
        }
    }
    return MS_OK;
}

static ms_err policy_snp(ms_json_wval o, const attest_shown *s)
{
    const ms_snp_report *r = &s->ins->snp;
    ms_json_wval p, tcb;
    TRY(ms_json_add_obj(o, "sev_snp", &p));
    TRY(ms_json_add_cstr(p, "ark_pem", s->ark_path ? s->ark_path : "ark.pem"));
    if (s->ask_path) {
        TRY(ms_json_add_cstr(p, "ask_pem", s->ask_path));
    }
    TRY(add_hex(p, "measurement", r->measurement, MS_SNP_MEASUREMENT_LEN));
    TRY(ms_json_add_obj(p, "min_tcb", &tcb));
    TRY(ms_json_add_u64(tcb, "bootloader", r->reported_tcb.bootloader));
    TRY(ms_json_add_u64(tcb, "tee", r->reported_tcb.tee));
    TRY(ms_json_add_u64(tcb, "snp", r->reported_tcb.snp));
    if (r->tcb_layout == MS_SNP_TCB_TURIN) {
        TRY(ms_json_add_u64(tcb, "fmc", r->reported_tcb.fmc));
    }
    TRY(ms_json_add_u64(tcb, "microcode", r->reported_tcb.microcode));
    /* The VMPL seen is pinned as seen; migration, SMT and the rest keep their strict defaults. */
    return ms_json_add_u64(p, "vmpl", r->vmpl);
}

/* The tdx section: MRTD and every RTMR as the quote states them, Intel's status default. */
static ms_err policy_tdx(ms_json_wval o, const attest_shown *s)
{
    const ms_tdx_td_report *t = &s->ins->tdx;
    ms_json_wval p, rtmrs;
    char key[4];
    TRY(ms_json_add_obj(o, "tdx", &p));
    TRY(ms_json_add_cstr(p, "root_pem", s->tdx_root_path ? s->tdx_root_path
                                                         : "intel_sgx_root_ca.pem"));
    TRY(add_hex(p, "mrtd", t->mrtd, MS_TDX_MEAS_LEN));
    TRY(ms_json_add_obj(p, "rtmrs", &rtmrs));
    for (unsigned i = 0; i < MS_TDX_RTMRS; i++) {
        snprintf(key, sizeof key, "%u", i);
        TRY(add_hex(rtmrs, key, t->rtmr[i], MS_TDX_MEAS_LEN));
    }
    ms_json_wval acc;
    TRY(ms_json_add_arr(p, "accept_tcb_status", &acc));
    TRY(ms_json_add_cstr(acc, NULL, "UpToDate"));
    if (s->tdx_collateral_path) {
        TRY(ms_json_add_cstr(p, "collateral_dir", s->tdx_collateral_path));
    }
    return MS_OK;
}

/* az_snp_vtpm / az_tdx_vtpm: the quote's PCRs (the hardware pins are the sev_snp / tdx
   section's). */
static ms_err policy_az(ms_json_wval o, const char *section, const ms_tpm2_policy *q)
{
    ms_json_wval t, pcrs;
    char key[4];
    TRY(ms_json_add_obj(o, section, &t));
    TRY(ms_json_add_obj(t, "pcrs", &pcrs));
    for (unsigned i = 0; i < MS_TPM2_NUM_PCRS; i++) {
        if (q->pcr_mask & (1u << i)) {
            snprintf(key, sizeof key, "%u", i);
            TRY(add_hex(pcrs, key, q->pcr_values[i], MS_TPM2_DIGEST_LEN));
        }
    }
    return MS_OK;
}

/* The measurements every GPU agrees on, NVIDIA's root, CC required, dev-tools refused.
   For composite evidence the count is the combination's (the composite section's). */
static ms_err policy_nvgpu(ms_json_wval o, const attest_shown *s)
{
    const ms_inspect *in = s->ins;
    ms_json_wval p, m;
    char key[4];
    ENSURE(in->nv_n > 0 && in->nv_n_meas > 0, MS_ERR_STATE);
    TRY(ms_json_add_obj(o, "nvidia_gpu", &p));
    TRY(ms_json_add_cstr(p, "root_pem", s->nv_root_path ? s->nv_root_path : NV_ROOT_PLACEHOLDER));
    if (!in->have_composite) {
        TRY(ms_json_add_u64(p, "count", in->nv_n));
    }
    TRY(ms_json_add_obj(p, "measurements", &m));
    for (size_t i = 0; i < in->nv_n_meas; i++) {
        snprintf(key, sizeof key, "%u", in->nv_meas[i].index);
        TRY(add_hex(m, key, in->nv_meas[i].value, in->nv_meas[i].len));
    }
    TRY(ms_json_add_bool(p, "require_cc", true));
    return ms_json_add_bool(p, "allow_debug", false);
}

static ms_err add_sections(ms_json_wval o, const attest_shown *s, uint16_t type);

/* composite: the CPU TEE's section, the GPUs' section, and the one combination seen. */
static ms_err policy_composite(ms_json_wval o, const attest_shown *s)
{
    const ms_inspect *in = s->ins;
    ms_json_wval c, req, rule;
    ENSURE(in->have_composite && in->comp_gpus == in->nv_n, MS_ERR_STATE);
    TRY(add_sections(o, s, in->comp_cpu_type));
    if (in->comp_gpus > 0) {
        TRY(policy_nvgpu(o, s));
    }
    TRY(ms_json_add_obj(o, "composite", &c));
    TRY(ms_json_add_arr(c, "require", &req));
    TRY(ms_json_add_obj(req, NULL, &rule));
    TRY(ms_json_add_cstr(rule, "cpu", ms_evidence_type_name(in->comp_cpu_type)));
    return ms_json_add_u64(rule, "gpus", in->comp_gpus);
}

static ms_err add_policy(ms_json_wval o, const attest_shown *s)
{
    const ms_inspect *in = s->ins;
    ms_json_wval accept;
    TRY(ms_json_add_i64(o, "version", 1));
    TRY(ms_json_add_arr(o, "accept", &accept));
    TRY(ms_json_add_cstr(accept, NULL, ms_evidence_type_name(in->type)));
    TRY(ms_json_add_bool(o, "require_strict", s->have_session && s->mode == MS_MODE_STRICT));
    return add_sections(o, s, in->type);
}

/* The policy's section(s) for evidence of `type`, from what the inspection showed. */
static ms_err add_sections(ms_json_wval o, const attest_shown *s, uint16_t type)
{
    const ms_inspect *in = s->ins;
    ms_json_wval dev;
    switch (type) {
    case MS_EVIDENCE_COMPOSITE:
        return policy_composite(o, s);
    case MS_EVIDENCE_TPM2_QUOTE:
        ENSURE(in->have_tpm2, MS_ERR_STATE);
        return policy_tpm2(o, &in->tpm2);
    case MS_EVIDENCE_SEV_SNP:
        ENSURE(in->have_snp, MS_ERR_STATE);
        return policy_snp(o, s);
    case MS_EVIDENCE_TDX:
        ENSURE(in->have_tdx, MS_ERR_STATE);
        return policy_tdx(o, s);
    case MS_EVIDENCE_AZ_SNP_VTPM:
        ENSURE(in->have_snp && in->have_tpm2, MS_ERR_STATE);
        TRY(policy_snp(o, s));
        return policy_az(o, "az_snp_vtpm", &in->tpm2);
    case MS_EVIDENCE_AZ_TDX_VTPM:
        ENSURE(in->have_tdx && in->have_tpm2, MS_ERR_STATE);
        TRY(policy_tdx(o, s));
        return policy_az(o, "az_tdx_vtpm", &in->tpm2);
    case MS_EVIDENCE_NVIDIA_GPU:
        return policy_nvgpu(o, s);
    case MS_EVIDENCE_DEV_KEY:
        ENSURE(in->have_dev_pk, MS_ERR_STATE);
        TRY(ms_json_add_obj(o, "dev_key", &dev));
        return ms_json_add_cstr(dev, "public_key_pem",
                                s->dev_pub_path ? s->dev_pub_path : DEV_PUB_PLACEHOLDER);
    default: return MS_ERR_STATE;
    }
}

ms_err attest_policy_json(const attest_shown *s, ms_buf *out)
{
    ms_json_builder *b;
    ms_json_wval root;
    TRY(ms_json_builder_new(MS_JSON_OBJECT, &b, &root));
    ms_err e = add_policy(root, s);
    if (e == MS_OK) {
        e = ms_json_builder_print(b, out);
    }
    ms_json_builder_free(b);
    return e;
}

/* --- JSON ---------------------------------------------------------------------------------- */

static ms_err json_tcb(ms_json_wval o, const char *key, const ms_snp_tcb *t)
{
    ms_json_wval x;
    TRY(ms_json_add_obj(o, key, &x));
    TRY(ms_json_add_u64(x, "bootloader", t->bootloader));
    TRY(ms_json_add_u64(x, "tee", t->tee));
    TRY(ms_json_add_u64(x, "snp", t->snp));
    TRY(ms_json_add_u64(x, "fmc", t->fmc));
    return ms_json_add_u64(x, "microcode", t->microcode);
}

static ms_err json_snp(ms_json_wval ev, const ms_snp_report *r)
{
    ms_json_wval o;
    TRY(ms_json_add_obj(ev, "sev_snp", &o));
    TRY(ms_json_add_u64(o, "version", r->version));
    TRY(ms_json_add_u64(o, "vmpl", r->vmpl));
    TRY(ms_json_add_u64(o, "guest_svn", r->guest_svn));
    TRY(ms_json_add_u64(o, "policy", r->policy));
    TRY(ms_json_add_bool(o, "debug", (r->policy & MS_SNP_POLICY_DEBUG) != 0));
    TRY(ms_json_add_u64(o, "platform_info", r->platform_info));
    TRY(ms_json_add_bool(o, "migration_agent", !no_agent(r)));
    TRY(add_hex(o, "measurement", r->measurement, MS_SNP_MEASUREMENT_LEN));
    TRY(add_hex(o, "host_data", r->host_data, sizeof r->host_data));
    TRY(add_hex(o, "report_data", r->report_data, MS_SNP_REPORT_DATA_LEN));
    TRY(json_tcb(o, "reported_tcb", &r->reported_tcb));
    TRY(json_tcb(o, "committed_tcb", &r->committed_tcb));
    return add_hex(o, "chip_id", r->chip_id, MS_SNP_CHIP_ID_LEN);
}

static ms_err json_nvgpu(ms_json_wval ev, const ms_inspect *in)
{
    ms_json_wval arr, g;
    TRY(ms_json_add_arr(ev, "nvidia_gpu", &arr));
    for (size_t i = 0; i < in->nv_n; i++) {
        const ms_inspect_gpu *x = &in->nv[i];
        TRY(ms_json_add_obj(arr, NULL, &g));
        TRY(ms_json_add_cstr(g, "device_id", x->device_id));
        TRY(ms_json_add_cstr(g, "driver_version", x->driver_version));
        TRY(ms_json_add_cstr(g, "vbios_version", x->vbios_version));
        TRY(ms_json_add_cstr(g, "chip_sku", x->chip_sku));
        TRY(ms_json_add_cstr(g, "project", x->project));
        TRY(ms_json_add_cstr(g, "project_sku", x->project_sku));
        TRY(ms_json_add_u64(g, "measurements", x->n_blocks));
        if (x->have_feature_flag) {
            TRY(ms_json_add_u64(g, "feature_flag", x->feature_flag));
        }
        TRY(ms_json_add_bool(g, "host_cc", (x->host_flags & MS_NVGPU_HOST_CC_ON) != 0));
        TRY(ms_json_add_bool(g, "host_devtools", (x->host_flags & MS_NVGPU_HOST_DEVTOOLS) != 0));
    }
    return MS_OK;
}

static ms_err json_evidence(ms_json_wval root, const attest_shown *s)
{
    const ms_inspect *in = s->ins;
    ms_json_wval ev, x, pcrs;
    char key[4], fp[MS_FINGERPRINT_LEN];
    TRY(ms_json_add_obj(root, "evidence", &ev));
    TRY(ms_json_add_cstr(ev, "type", ms_evidence_type_name(in->type)));
    if (s->have_session) {
        TRY(ms_json_add_cstr(ev, "mode", mode_name(s->mode)));
        TRY(ms_json_add_u64(ev, "not_after", s->not_after));
        TRY(ms_json_add_u64(ev, "received_at", s->at));
        TRY(add_hex(ev, "static_pk", s->static_pk, MS_X25519_LEN));
    }
    if (in->have_tpm2) {
        TRY(ms_json_add_obj(ev, "tpm2", &x));
        TRY(add_hex(x, "ak_name", in->tpm2.ak_name, MS_TPM2_NAME_LEN));
        TRY(ms_json_add_obj(x, "pcrs", &pcrs));
        for (unsigned i = 0; i < MS_TPM2_NUM_PCRS; i++) {
            if (in->tpm2.pcr_mask & (1u << i)) {
                snprintf(key, sizeof key, "%u", i);
                TRY(add_hex(pcrs, key, in->tpm2.pcr_values[i], MS_TPM2_DIGEST_LEN));
            }
        }
    }
    if (in->have_snp) {
        TRY(json_snp(ev, &in->snp));
    }
    if (in->have_tdx) {
        TRY(ms_json_add_obj(ev, "tdx", &x));
        TRY(ms_json_add_u64(x, "version", in->tdx_version));
        TRY(ms_json_add_bool(x, "debug", (in->tdx.td_attributes & MS_TDX_TD_ATTR_DEBUG) != 0));
        TRY(add_hex(x, "mrtd", in->tdx.mrtd, MS_TDX_MEAS_LEN));
        TRY(ms_json_add_obj(x, "rtmrs", &pcrs));
        for (unsigned i = 0; i < MS_TDX_RTMRS; i++) {
            snprintf(key, sizeof key, "%u", i);
            TRY(add_hex(pcrs, key, in->tdx.rtmr[i], MS_TDX_MEAS_LEN));
        }
        TRY(add_hex(x, "mrconfigid", in->tdx.mrconfigid, MS_TDX_MEAS_LEN));
        TRY(add_hex(x, "mrowner", in->tdx.mrowner, MS_TDX_MEAS_LEN));
        TRY(add_hex(x, "report_data", in->tdx.report_data, MS_TDX_REPORT_DATA_LEN));
        if (in->have_tdx_tcb) {
            TRY(ms_json_add_cstr(x, "tcb_status", ms_tdx_status_name(in->tdx_tcb_status)));
        }
    }
    if (in->have_az_var) {
        TRY(ms_json_add_obj(ev, "azure", &x));
        TRY(ms_json_add_u64(x, "ak_bits", in->az_var.ak_n_len * 8));
        TRY(ms_json_add_bool(x, "has_user_data", in->az_var.has_user_data != 0));
        if (in->az_var.has_user_data) {
            TRY(add_hex(x, "user_data", in->az_var.user_data, MS_AZ_USER_DATA_LEN));
        }
    }
    if (in->have_composite) {
        TRY(ms_json_add_obj(ev, "composite", &x));
        TRY(ms_json_add_cstr(x, "cpu", ms_evidence_type_name(in->comp_cpu_type)));
        TRY(ms_json_add_u64(x, "gpus", in->comp_gpus));
    }
    if (in->nv_n > 0) {
        TRY(json_nvgpu(ev, in));
    }
    if (in->have_dev_pk) {
        ms_devkey_fingerprint(in->dev_pk, fp);
        TRY(ms_json_add_obj(ev, "dev_key", &x));
        TRY(ms_json_add_cstr(x, "fingerprint", fp));
        TRY(ms_json_add_bool(x, "development", true));
    }
    return MS_OK;
}

static ms_err json_checks(ms_json_wval root, const ms_inspect *in)
{
    ms_json_wval arr, c;
    TRY(ms_json_add_arr(root, "checks", &arr));
    for (size_t i = 0; i < in->n; i++) {
        const ms_inspect_check *k = &in->checks[i];
        TRY(ms_json_add_obj(arr, NULL, &c));
        TRY(ms_json_add_cstr(c, "name", k->name));
        TRY(ms_json_add_cstr(c, "result", ms_check_status_name(k->status)));
        if (k->status == MS_CHECK_FAIL) {
            TRY(ms_json_add_cstr(c, "error", ms_err_name(k->err)));
            TRY(ms_json_add_cstr(c, "message", ms_err_str(k->err)));
        } else if (k->detail) {
            TRY(ms_json_add_cstr(c, "detail", k->detail));
        }
    }
    return MS_OK;
}

static ms_err json_all(ms_json_wval root, const attest_shown *s)
{
    ms_json_wval pol, err;
    TRY(ms_json_add_bool(root, "ok", s->verdict == MS_OK));
    TRY(ms_json_add_bool(root, "trusted", s->verdict == MS_OK && !s->any));
    TRY(ms_json_add_cstr(root, "source", s->source));
    TRY(ms_json_add_bool(root, "live", s->live != 0));
    TRY(json_evidence(root, s));
    TRY(json_checks(root, s->ins));
    if (s->verdict != MS_OK) {
        TRY(ms_json_add_obj(root, "error", &err));
        TRY(ms_json_add_cstr(err, "check", first_failure(s->ins)));
        TRY(ms_json_add_cstr(err, "code", ms_err_name(s->verdict)));
        TRY(ms_json_add_cstr(err, "message", ms_err_str(s->verdict)));
    } else if (s->show_policy) {
        TRY(ms_json_add_obj(root, "policy", &pol));
        TRY(add_policy(pol, s));
    }
    return MS_OK;
}

ms_err attest_show_json(const attest_shown *s, FILE *out)
{
    ms_json_builder *b;
    ms_json_wval root;
    ms_buf js;
    TRY(ms_json_builder_new(MS_JSON_OBJECT, &b, &root));
    ms_buf_init(&js, MS_MAX_JSON_TEXT);
    ms_err e = json_all(root, s);
    if (e == MS_OK) {
        e = ms_json_builder_print(b, &js);
    }
    if (e == MS_OK) {
        fwrite(js.p, 1, js.len, out);
        fputc('\n', out);
        fflush(out);
    }
    ms_buf_free(&js);
    ms_json_builder_free(b);
    return e;
}
