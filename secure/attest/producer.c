/* One evidence producer behind one handle: opens the dev key, the TPM, SEV-SNP or TDX from a config. */
#include "secure/attest/producer.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/stat.h>

#include "common/check.h"
#include "common/limits.h"
#include "common/text.h"
#include "secure/attest/composite.h"
#include "secure/attest/az_produce.h"
#include "secure/attest/snp_produce.h"
#include "secure/attest/tdx_produce.h"
#include "secure/attest/tpm2_producer.h"
#include "secure/attest/nvgpu_produce.h"

struct ms_producer {
    ms_producer_kind kind;
    ms_devkey dev;
    struct ms_tpm2_producer *tpm;
    ms_snp_producer_cfg snp;  /* points into snp_vcek / snp_ask */
    ms_buf snp_vcek, snp_ask; /* cfg->snp_certs, DER */
    ms_tdx_producer_cfg tdx;  /* points into tdx_files */
    ms_tdx_files tdx_files;   /* cfg->tdx_collateral */
    struct ms_az_producer *az;
    struct ms_nvgpu_producer *nv;
    int with_gpus;            /* composite: kind's evidence and nv's GPU items */
};

ms_err ms_producer_kind_parse(const char *name, ms_producer_kind *out)
{
    static const char *const names[] = {"dev-key", "tpm2", "sev-snp", "tdx", "az-snp-vtpm",
                                        "nvidia-gpu", "az-tdx-vtpm"};
    *out = MS_PRODUCER_DEV_KEY;
    for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (ms_producer_kind)i;
            return MS_OK;
        }
    }
    return MS_ERR_CONFIG;
}

ms_err ms_producer_evidence_parse(const char *name, ms_producer_kind *kind, int *with_gpus)
{
    static const char suffix[] = "+nvidia-gpu";
    char base[32];
    *with_gpus = 0;
    *kind = MS_PRODUCER_DEV_KEY;
    ENSURE(name != NULL, MS_ERR_CONFIG);
    size_t n = strlen(name), s = sizeof suffix - 1;
    if (n > s && strcmp(name + n - s, suffix) == 0) {
        ENSURE(n - s < sizeof base, MS_ERR_CONFIG);
        memcpy(base, name, n - s);
        base[n - s] = '\0';
        TRY(ms_producer_kind_parse(base, kind));
        ENSURE(*kind != MS_PRODUCER_NVIDIA_GPU, MS_ERR_CONFIG);
        *with_gpus = 1;
        return MS_OK;
    }
    return ms_producer_kind_parse(name, kind);
}

/* One PCR number 0..23, digits only (ms_text_read_u64). */
static int pcr_number(const char *s, unsigned long *out)
{
    uint64_t v;
    if (!ms_text_read_u64(s, 23, &v)) {
        return 0;
    }
    *out = (unsigned long)v;
    return 1;
}

ms_err ms_pcr_list_parse(const char *text, uint32_t *mask)
{
    unsigned long v;
    char item[8];
    uint32_t m = 0;
    *mask = 0;
    ENSURE(text != NULL, MS_ERR_CONFIG);
    while (*text) {
        size_t n = strcspn(text, ",");
        ENSURE(n > 0 && n < sizeof item, MS_ERR_CONFIG);
        memcpy(item, text, n);
        item[n] = 0;
        ENSURE(pcr_number(item, &v), MS_ERR_CONFIG);
        m |= 1u << v;
        text += n + (text[n] == ',');
    }
    ENSURE(m != 0, MS_ERR_CONFIG);
    *mask = m;
    return MS_OK;
}

/* The dev key and its public file. */
static ms_err open_devkey(struct ms_producer *p, const ms_producer_cfg *cfg,
                          ms_producer_pins *pins, ms_producer_step *step)
{
    char pub[PATH_MAX];
    *step = MS_PRODUCER_STEP_DEV_KEY;
    TRY(ms_devkey_load_or_create(cfg->dev_key, &p->dev, &pins->dev_created));
    *step = MS_PRODUCER_STEP_DEV_KEY_PUB;
    ENSURE(snprintf(pub, sizeof pub, "%s.pub", cfg->dev_key) < (int)sizeof pub, MS_ERR_ARG);
    TRY(ms_devkey_write_public(pub, p->dev.pk));
    ms_devkey_fingerprint(p->dev.pk, pins->dev_fingerprint);
    *step = MS_PRODUCER_STEP_NONE;
    return MS_OK;
}

/* The TPM and its attestation key (endorsement hierarchy: it survives TPM2_Clear). */
static ms_err open_tpm(struct ms_producer *p, const ms_producer_cfg *cfg,
                       ms_producer_pins *pins, ms_producer_step *step)
{
    ms_tpm2_producer_cfg tc = {.tcti = cfg->tpm_tcti, .pcr_mask = cfg->tpm_pcrs,
                               .hierarchy = MS_TPM2_HIERARCHY_ENDORSEMENT};
    ms_buf cert;
    ms_buf_init(&cert, MS_SNP_MAX_CERT);
    *step = MS_PRODUCER_STEP_TPM_AK_CERT;
    ms_err e = cfg->tpm_ak_cert ? ms_snp_cert_file_der(cfg->tpm_ak_cert, &cert) : MS_OK;
    if (e == MS_OK) {
        tc.ak_cert = cfg->tpm_ak_cert ? cert.p : NULL;
        tc.ak_cert_len = cert.len;
        *step = MS_PRODUCER_STEP_TPM;
        e = ms_tpm2_producer_new(&p->tpm, &tc); /* it copies the certificate */
    }
    ms_buf_free(&cert);
    TRY(e);
    ms_tpm2_producer_ak_name(p->tpm, pins->tpm_ak_name);
    *step = MS_PRODUCER_STEP_NONE;
    return MS_OK;
}

/* What the probe report shows that clients pin: measurement and TCB. */
static void snp_pins(const ms_buf *ev, ms_producer_pins *pins)
{
    ms_snp_bundle b;
    ms_snp_report r;
    if (ms_snp_bundle_decode(ev->p, ev->len, &b) != MS_OK ||
        ms_snp_report_decode(b.report, MS_SNP_REPORT_LEN, &r) != MS_OK) {
        return;
    }
    memcpy(pins->snp_measurement, r.measurement, sizeof pins->snp_measurement);
    pins->snp_reported_tcb = r.reported_tcb;
    pins->snp_has_ask = b.ask != NULL;
    pins->snp_known = 1;
}

/* Certificates, the guest interface, and one report now. */
static ms_err open_snp(struct ms_producer *p, const ms_producer_cfg *cfg,
                       ms_producer_pins *pins, ms_producer_step *step)
{
    static const uint8_t probe[MS_BINDING_LEN]; /* all zero: binds nothing */
    const char *root = cfg->snp_tsm ? cfg->snp_tsm : MS_SNP_TSM_ROOT;
    const char *dev = cfg->snp_device ? cfg->snp_device : MS_SNP_GUEST_DEVICE;
    struct stat st;
    ms_buf ev;
    int have_ask = 0;
    p->snp = (ms_snp_producer_cfg){.tsm_root = cfg->snp_tsm, .guest_device = cfg->snp_device};
    *step = MS_PRODUCER_STEP_SNP_CERTS;
    if (cfg->snp_certs) {
        TRY(ms_snp_certs_dir_load(cfg->snp_certs, &p->snp_vcek, &p->snp_ask, &have_ask));
    }
    p->snp.vcek_der = p->snp_vcek.len ? p->snp_vcek.p : NULL;
    p->snp.vcek_len = p->snp_vcek.len;
    p->snp.ask_der = have_ask ? p->snp_ask.p : NULL;
    p->snp.ask_len = have_ask ? p->snp_ask.len : 0;
    *step = MS_PRODUCER_STEP_SNP_INTERFACE;
    ENSURE((stat(root, &st) == 0 && S_ISDIR(st.st_mode)) || stat(dev, &st) == 0,
           MS_ERR_SNP_DEVICE);
    *step = MS_PRODUCER_STEP_SNP_REPORT;
    ms_buf_init(&ev, MS_MAX_EVIDENCE);
    ms_err err = ms_snp_evidence(&p->snp, probe, &ev);
    if (err == MS_OK) {
        snp_pins(&ev, pins);
        *step = MS_PRODUCER_STEP_NONE;
    }
    ms_buf_free(&ev);
    return err;
}

/* What the probe quote shows that clients pin: MRTD and RTMRs. */
static void tdx_pins_of(const uint8_t *ev, size_t len, ms_producer_pins *pins)
{
    ms_tdx_bundle b;
    ms_tdx_quote q;
    if (ms_tdx_bundle_decode(ev, len, &b) != MS_OK ||
        ms_tdx_quote_decode(b.quote, b.quote_len, &q) != MS_OK) {
        return;
    }
    memcpy(pins->tdx_mrtd, q.td.mrtd, sizeof pins->tdx_mrtd);
    memcpy(pins->tdx_rtmr, q.td.rtmr, sizeof pins->tdx_rtmr);
    pins->tdx_debug = (q.td.td_attributes & MS_TDX_TD_ATTR_DEBUG) != 0;
    pins->tdx_has_collateral = b.collateral.tcb_info != NULL && b.collateral.qe_identity != NULL;
    pins->tdx_known = 1;
}

static void tdx_pins(const ms_buf *ev, ms_producer_pins *pins)
{
    tdx_pins_of(ev->p, ev->len, pins);
}

/* The collateral folder, the configfs-tsm root, and one quote now. */
static ms_err open_tdx(struct ms_producer *p, const ms_producer_cfg *cfg,
                       ms_producer_pins *pins, ms_producer_step *step)
{
    static const uint8_t probe[MS_BINDING_LEN]; /* all zero: binds nothing */
    const char *root = cfg->tdx_tsm ? cfg->tdx_tsm : MS_TDX_TSM_ROOT;
    struct stat st;
    *step = MS_PRODUCER_STEP_TDX_COLLATERAL;
    if (cfg->tdx_collateral) {
        TRY(ms_tdx_files_load(&p->tdx_files, cfg->tdx_collateral));
        TRY(ms_tdx_files_fresh(&p->tdx_files, (uint64_t)time(NULL), cfg->tdx_collateral_grace_s));
    }
    p->tdx = (ms_tdx_producer_cfg){.tsm_root = cfg->tdx_tsm, .collateral = &p->tdx_files,
                                   .grace_s = cfg->tdx_collateral_grace_s};
    *step = MS_PRODUCER_STEP_TDX_QUOTE;
    ENSURE(stat(root, &st) == 0 && S_ISDIR(st.st_mode), MS_ERR_TDX_DEVICE);
    ms_buf ev;
    ms_buf_init(&ev, MS_MAX_EVIDENCE);
    ms_err err = ms_tdx_evidence(&p->tdx, probe, &ev);
    if (err == MS_OK) {
        tdx_pins(&ev, pins);
        *step = MS_PRODUCER_STEP_NONE;
    }
    ms_buf_free(&ev);
    return err;
}

/* What the probe's HCL report shows that clients pin: the SEV-SNP measurement and TCB. */
static void az_pins(const ms_buf *ev, ms_producer_pins *pins)
{
    ms_az_bundle b;
    ms_az_hcl h;
    ms_snp_report r;
    if (ms_az_bundle_decode(ev->p, ev->len, &b) != MS_OK ||
        ms_az_hcl_decode(b.hcl, b.hcl_len, &h) != MS_OK || h.report_type != MS_AZ_REPORT_SNP ||
        ms_snp_report_decode(h.hw, MS_SNP_REPORT_LEN, &r) != MS_OK) {
        return;
    }
    memcpy(pins->snp_measurement, r.measurement, sizeof pins->snp_measurement);
    pins->snp_reported_tcb = r.reported_tcb;
    pins->snp_has_ask = b.ask != NULL;
    pins->snp_known = 1;
}

/* Azure SEV-SNP CVM: the certificates, the vTPM and its AK, and one evidence now. */
static ms_err open_az(struct ms_producer *p, const ms_producer_cfg *cfg,
                      ms_producer_pins *pins, ms_producer_step *step)
{
    static const uint8_t probe[MS_BINDING_LEN]; /* all zero: binds nothing */
    int have_ask = 0;
    ms_buf ev;
    *step = MS_PRODUCER_STEP_SNP_CERTS;
    ENSURE(cfg->snp_certs != NULL, MS_ERR_CONFIG);
    TRY(ms_snp_certs_dir_load(cfg->snp_certs, &p->snp_vcek, &p->snp_ask, &have_ask));
    ms_az_producer_cfg ac = {.tcti = cfg->tpm_tcti, .pcr_mask = cfg->tpm_pcrs,
                             .vcek = p->snp_vcek.p, .vcek_len = p->snp_vcek.len,
                             .ask = have_ask ? p->snp_ask.p : NULL,
                             .ask_len = have_ask ? p->snp_ask.len : 0};
    *step = MS_PRODUCER_STEP_TPM;
    TRY(ms_az_producer_new(&p->az, &ac));
    *step = MS_PRODUCER_STEP_AZ_REPORT;
    ms_buf_init(&ev, MS_MAX_EVIDENCE);
    ms_err err = ms_az_producer_evidence(p->az, probe, &ev);
    if (err == MS_OK) {
        az_pins(&ev, pins);
        *step = MS_PRODUCER_STEP_NONE;
    }
    ms_buf_free(&ev);
    return err;
}

/* What the probe's TDX quote shows that clients pin: MRTD and RTMRs (the tdx part). */
static void az_tdx_pins(const ms_buf *ev, ms_producer_pins *pins)
{
    ms_az_tdx_bundle b;
    if (ms_az_tdx_bundle_decode(ev->p, ev->len, &b) == MS_OK) {
        tdx_pins_of(b.tdx, b.tdx_len, pins);
    }
}

/* Azure TDX CVM: the collateral, the vTPM and its AK, the quote service, one evidence now. */
static ms_err open_az_tdx(struct ms_producer *p, const ms_producer_cfg *cfg,
                          ms_producer_pins *pins, ms_producer_step *step)
{
    static const uint8_t probe[MS_BINDING_LEN]; /* all zero: binds nothing */
    *step = MS_PRODUCER_STEP_TDX_COLLATERAL;
    if (cfg->tdx_collateral) {
        TRY(ms_tdx_files_load(&p->tdx_files, cfg->tdx_collateral));
        TRY(ms_tdx_files_fresh(&p->tdx_files, (uint64_t)time(NULL), cfg->tdx_collateral_grace_s));
    }
    ms_az_producer_cfg ac = {.tcti = cfg->tpm_tcti, .pcr_mask = cfg->tpm_pcrs, .tdx = 1,
                             .tdquote_url = cfg->az_tdquote_url,
                             .collateral = cfg->tdx_collateral ? &p->tdx_files : NULL,
                             .grace_s = cfg->tdx_collateral_grace_s};
    *step = MS_PRODUCER_STEP_TPM;
    TRY(ms_az_producer_new(&p->az, &ac));
    *step = MS_PRODUCER_STEP_AZ_REPORT;
    ms_buf ev;
    ms_buf_init(&ev, MS_MAX_EVIDENCE);
    ms_err err = ms_az_producer_evidence(p->az, probe, &ev);
    if (err == MS_OK) {
        az_tdx_pins(&ev, pins);
        *step = MS_PRODUCER_STEP_NONE;
    }
    ms_buf_free(&ev);
    return err;
}

/* NVML, the GPUs, and one probe evidence (over an all-zero binding: it binds nothing). */
static ms_err open_nvgpu(struct ms_producer *p, const ms_producer_cfg *cfg,
                         ms_producer_pins *pins, ms_producer_step *step)
{
    ms_nvgpu_gpus gpus;
    uint8_t probe[MS_BINDING_LEN] = {0};
    ms_buf ev;
    *step = MS_PRODUCER_STEP_NVML;
    TRY(ms_nvgpu_gpus_parse(cfg->nv_gpus ? cfg->nv_gpus : "all", &gpus));
    TRY(ms_nvgpu_producer_open(&p->nv, cfg->nv_lib, &gpus, pins->nv_why, sizeof pins->nv_why));
    pins->nv_count = ms_nvgpu_producer_count(p->nv);
    *step = MS_PRODUCER_STEP_NV_REPORT;
    ms_buf_init(&ev, MS_MAX_EVIDENCE);
    ms_err err = ms_nvgpu_producer_make(p->nv, probe, &ev);
    ms_buf_free(&ev);
    return err;
}

ms_err ms_producer_open(struct ms_producer **out, const ms_producer_cfg *cfg,
                        ms_producer_pins *pins, ms_producer_step *step)
{
    *out = NULL;
    memset(pins, 0, sizeof *pins);
    *step = MS_PRODUCER_STEP_NONE;
    ENSURE(cfg != NULL && cfg->kind <= MS_PRODUCER_AZ_TDX_VTPM, MS_ERR_ARG);
    ENSURE(cfg->kind != MS_PRODUCER_DEV_KEY || cfg->dev_key != NULL, MS_ERR_ARG);
    struct ms_producer *p = calloc(1, sizeof *p);
    ENSURE(p != NULL, MS_ERR_NOMEM);
    p->kind = cfg->kind;
    ms_buf_init(&p->snp_vcek, MS_SNP_MAX_CERT);
    ms_buf_init(&p->snp_ask, MS_SNP_MAX_CERT);
    ms_tdx_files_init(&p->tdx_files);
    ms_err err = cfg->kind == MS_PRODUCER_TPM2      ? open_tpm(p, cfg, pins, step)
                 : cfg->kind == MS_PRODUCER_SEV_SNP ? open_snp(p, cfg, pins, step)
                 : cfg->kind == MS_PRODUCER_TDX     ? open_tdx(p, cfg, pins, step)
                 : cfg->kind == MS_PRODUCER_AZ_SNP_VTPM ? open_az(p, cfg, pins, step)
                 : cfg->kind == MS_PRODUCER_NVIDIA_GPU ? open_nvgpu(p, cfg, pins, step)
                 : cfg->kind == MS_PRODUCER_AZ_TDX_VTPM ? open_az_tdx(p, cfg, pins, step)
                                                    : open_devkey(p, cfg, pins, step);
    if (err == MS_OK && cfg->with_gpus) {
        err = open_nvgpu(p, cfg, pins, step); /* the GPUs of composite evidence */
        p->with_gpus = 1;
    }
    if (err != MS_OK) {
        ms_producer_free(p);
        return err;
    }
    *out = p;
    return MS_OK;
}

void ms_producer_free(struct ms_producer *p)
{
    if (p == NULL) {
        return;
    }
    ms_tpm2_producer_free(p->tpm);
    ms_az_producer_free(p->az);
    ms_nvgpu_producer_free(p->nv);
    ms_buf_free(&p->snp_vcek);
    ms_buf_free(&p->snp_ask);
    ms_tdx_files_free(&p->tdx_files);
    ms_devkey_wipe(&p->dev);
    ms_wipe(p, sizeof *p);
    free(p);
}

static uint16_t type_of_kind(ms_producer_kind k)
{
    static const uint16_t types[] = {MS_EVIDENCE_DEV_KEY, MS_EVIDENCE_TPM2_QUOTE,
                                     MS_EVIDENCE_SEV_SNP, MS_EVIDENCE_TDX,
                                     MS_EVIDENCE_AZ_SNP_VTPM, MS_EVIDENCE_NVIDIA_GPU,
                                     MS_EVIDENCE_AZ_TDX_VTPM};
    return types[k];
}

uint16_t ms_producer_type(const struct ms_producer *p)
{
    return p->with_gpus ? MS_EVIDENCE_COMPOSITE : type_of_kind(p->kind);
}

static ms_err make_one(struct ms_producer *p, const uint8_t binding[static MS_BINDING_LEN],
                       ms_buf *out)
{
    switch (p->kind) {
    case MS_PRODUCER_TPM2:
        return ms_tpm2_producer_quote(p->tpm, binding, out);
    case MS_PRODUCER_SEV_SNP:
        return ms_snp_evidence(&p->snp, binding, out);
    case MS_PRODUCER_TDX:
        return ms_tdx_evidence(&p->tdx, binding, out);
    case MS_PRODUCER_AZ_SNP_VTPM:
    case MS_PRODUCER_AZ_TDX_VTPM:
        return ms_az_producer_evidence(p->az, binding, out);
    case MS_PRODUCER_NVIDIA_GPU:
        return ms_nvgpu_producer_make(p->nv, binding, out);
    default:
        return ms_devkey_evidence(&p->dev, binding, out);
    }
}

/* Composite: the CPU TEE's evidence and each GPU's item, all over `binding`. */
static ms_err make_composite(struct ms_producer *p, const uint8_t binding[static MS_BINDING_LEN],
                             ms_buf *out)
{
    ms_buf cpu, gpus;
    ms_nvgpu_evidence e;
    ms_composite_item items[MS_COMPOSITE_MAX_ITEMS];
    ms_buf_init(&cpu, MS_MAX_EVIDENCE);
    ms_buf_init(&gpus, MS_MAX_EVIDENCE);
    ms_err err = make_one(p, binding, &cpu);
    if (err == MS_OK) {
        err = ms_nvgpu_producer_make(p->nv, binding, &gpus);
    }
    if (err == MS_OK) {
        err = ms_nvgpu_evidence_decode(gpus.p, gpus.len, &e);
    }
    if (err == MS_OK && e.n + 1 > MS_COMPOSITE_MAX_ITEMS) {
        err = MS_ERR_CAP_EXCEEDED;
    }
    if (err == MS_OK) {
        items[0] = (ms_composite_item){type_of_kind(p->kind), cpu.p, cpu.len};
        for (size_t i = 0; i < e.n; i++) {
            items[1 + i] = (ms_composite_item){MS_EVIDENCE_NVIDIA_GPU, e.item[i], e.item_len[i]};
        }
        err = ms_composite_encode(items, e.n + 1, out);
    }
    ms_buf_free(&cpu);
    ms_buf_free(&gpus);
    return err;
}

ms_err ms_producer_make(void *ctx, const uint8_t binding[static MS_BINDING_LEN], ms_buf *out)
{
    struct ms_producer *p = ctx;
    return p->with_gpus ? make_composite(p, binding, out) : make_one(p, binding, out);
}
