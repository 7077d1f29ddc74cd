/* NVIDIA GPU evidence producer: NVML by dlopen (no link-time dependency), items per GPU. */
#include "secure/attest/nvgpu_produce.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"

/* NVML's confidential-computing ABI (nvml.h, driver 535 and later): sizes and structs. */
#define NVML_SUCCESS 0
#define NVML_CERT_CHAIN_SIZE 0x1000
#define NVML_ATTESTATION_CERT_CHAIN_SIZE 0x1400
#define NVML_NONCE_SIZE 0x20
#define NVML_REPORT_SIZE 0x2000
#define NVML_CEC_REPORT_SIZE 0x1000
#define NVML_CC_FEATURE_ENABLED 1u
#define NVML_CC_DEVTOOLS_ON 1u

typedef struct nvml_cc_state {
    unsigned int environment;
    unsigned int cc_feature;
    unsigned int devtools_mode;
} nvml_cc_state;

typedef struct nvml_cert {
    unsigned int cert_chain_size;
    unsigned int attestation_cert_chain_size;
    unsigned char cert_chain[NVML_CERT_CHAIN_SIZE];
    unsigned char attestation_cert_chain[NVML_ATTESTATION_CERT_CHAIN_SIZE];
} nvml_cert;

typedef struct nvml_report {
    unsigned int is_cec_report_present;
    unsigned int report_size;
    unsigned int cec_report_size;
    unsigned char nonce[NVML_NONCE_SIZE];
    unsigned char report[NVML_REPORT_SIZE];
    unsigned char cec_report[NVML_CEC_REPORT_SIZE];
} nvml_report;

_Static_assert(NVML_NONCE_SIZE == MS_NVGPU_NONCE_LEN, "NVML's nonce is SPDM's");
_Static_assert(NVML_REPORT_SIZE == MS_NVGPU_MAX_REPORT, "the report cap is NVML's buffer");

typedef void *nvml_device;
typedef int (*fn_init)(void);
typedef int (*fn_shutdown)(void);
typedef int (*fn_count)(unsigned int *);
typedef int (*fn_handle)(unsigned int, nvml_device *);
typedef int (*fn_state)(nvml_cc_state *);
typedef int (*fn_report)(nvml_device, nvml_report *);
typedef int (*fn_cert)(nvml_device, nvml_cert *);

struct ms_nvgpu_producer {
    void *lib;
    fn_shutdown shutdown;
    fn_state state;
    fn_report report;
    fn_cert cert;
    size_t n;
    nvml_device dev[MS_NVGPU_MAX_GPUS];
    pthread_mutex_t lock; /* one NVML request at a time: the buffers below are shared */
    nvml_report rep;
    nvml_cert crt;
};

ms_err ms_nvgpu_gpus_parse(const char *text, ms_nvgpu_gpus *out)
{
    memset(out, 0, sizeof *out);
    ENSURE(text != NULL && text[0] != '\0', MS_ERR_CONFIG);
    if (strcmp(text, "all") == 0) {
        out->all = 1;
        return MS_OK;
    }
    const char *p = text;
    for (;;) {
        unsigned v = 0;
        size_t digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 3) {
            v = v * 10 + (unsigned)(*p++ - '0');
            digits++;
        }
        ENSURE(digits > 0 && v < 64 && out->n < MS_NVGPU_MAX_GPUS, MS_ERR_CONFIG);
        for (size_t i = 0; i < out->n; i++) {
            ENSURE(out->idx[i] != v, MS_ERR_CONFIG);
        }
        out->idx[out->n++] = v;
        if (*p == '\0') {
            return MS_OK;
        }
        ENSURE(*p == ',', MS_ERR_CONFIG);
        p++;
    }
}

static void *sym(void *lib, const char *name, int *missing)
{
    void *f = dlsym(lib, name);
    if (f == NULL) {
        *missing = 1;
    }
    return f;
}

static ms_err pick(struct ms_nvgpu_producer *p, const ms_nvgpu_gpus *gpus, fn_count count,
                   fn_handle handle)
{
    unsigned int n = 0;
    ENSURE(count(&n) == NVML_SUCCESS, MS_ERR_NVGPU_NVML);
    if (gpus->all) {
        ENSURE(n >= 1, MS_ERR_NVGPU_NVML);
        p->n = n < MS_NVGPU_MAX_GPUS ? n : MS_NVGPU_MAX_GPUS;
        for (size_t i = 0; i < p->n; i++) {
            ENSURE(handle((unsigned)i, &p->dev[i]) == NVML_SUCCESS, MS_ERR_NVGPU_NVML);
        }
        return MS_OK;
    }
    for (size_t i = 0; i < gpus->n; i++) {
        ENSURE(gpus->idx[i] < n, MS_ERR_CONFIG);
        ENSURE(handle(gpus->idx[i], &p->dev[i]) == NVML_SUCCESS, MS_ERR_NVGPU_NVML);
    }
    p->n = gpus->n;
    return MS_OK;
}

ms_err ms_nvgpu_producer_open(struct ms_nvgpu_producer **out, const char *lib,
                              const ms_nvgpu_gpus *gpus, char *why, size_t why_len)
{
    const char *path = lib != NULL ? lib : MS_NVGPU_NVML_DEFAULT;
    int missing = 0;
    *out = NULL;
    if (why_len > 0) {
        why[0] = '\0';
    }
    ENSURE(gpus != NULL && (gpus->all || gpus->n >= 1), MS_ERR_ARG);
    struct ms_nvgpu_producer *p = calloc(1, sizeof *p);
    ENSURE(p != NULL, MS_ERR_NOMEM);
    pthread_mutex_init(&p->lock, NULL);
    p->lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (p->lib == NULL) {
        snprintf(why, why_len, "cannot load %s (no NVIDIA driver here?)", path);
        ms_nvgpu_producer_free(p);
        return MS_ERR_NVGPU_NVML;
    }
    fn_init init = (fn_init)sym(p->lib, "nvmlInit_v2", &missing);
    fn_count count = (fn_count)sym(p->lib, "nvmlDeviceGetCount_v2", &missing);
    fn_handle handle = (fn_handle)sym(p->lib, "nvmlDeviceGetHandleByIndex_v2", &missing);
    p->shutdown = (fn_shutdown)sym(p->lib, "nvmlShutdown", &missing);
    p->state = (fn_state)sym(p->lib, "nvmlSystemGetConfComputeState", &missing);
    p->report = (fn_report)sym(p->lib, "nvmlDeviceGetConfComputeGpuAttestationReport", &missing);
    p->cert = (fn_cert)sym(p->lib, "nvmlDeviceGetConfComputeGpuCertificate", &missing);
    if (missing) {
        snprintf(why, why_len, "%s lacks the confidential-computing functions (driver < 535?)",
                 path);
        ms_nvgpu_producer_free(p);
        return MS_ERR_NVGPU_NVML;
    }
    if (init() != NVML_SUCCESS) {
        p->shutdown = NULL;
        snprintf(why, why_len, "nvmlInit_v2 failed in %s", path);
        ms_nvgpu_producer_free(p);
        return MS_ERR_NVGPU_NVML;
    }
    ms_err err = pick(p, gpus, count, handle);
    if (err != MS_OK) {
        snprintf(why, why_len, "%s: the GPUs asked for are not there", path);
        ms_nvgpu_producer_free(p);
        return err;
    }
    *out = p;
    return MS_OK;
}

void ms_nvgpu_producer_free(struct ms_nvgpu_producer *p)
{
    if (p == NULL) {
        return;
    }
    if (p->shutdown != NULL) {
        (void)p->shutdown();
    }
    if (p->lib != NULL) {
        dlclose(p->lib);
    }
    pthread_mutex_destroy(&p->lock);
    free(p);
}

size_t ms_nvgpu_producer_count(const struct ms_nvgpu_producer *p)
{
    return p != NULL ? p->n : 0;
}

/* One GPU's item, from NVML's answers in p->rep and p->crt. Called with p->lock held. */
static ms_err one_item(struct ms_nvgpu_producer *p, size_t i, uint8_t flags,
                       const uint8_t nonce[static MS_NVGPU_NONCE_LEN], ms_buf *item)
{
    ms_buf ders;
    ms_nvgpu_item it;
    size_t off[MS_NVGPU_MAX_CHAIN], lens[MS_NVGPU_MAX_CHAIN];
    memset(&p->rep, 0, sizeof p->rep);
    memset(&p->crt, 0, sizeof p->crt);
    memcpy(p->rep.nonce, nonce, NVML_NONCE_SIZE);
    ENSURE(p->report(p->dev[i], &p->rep) == NVML_SUCCESS, MS_ERR_NVGPU_NVML);
    ENSURE(p->cert(p->dev[i], &p->crt) == NVML_SUCCESS, MS_ERR_NVGPU_NVML);
    ENSURE(p->rep.report_size >= 1 && p->rep.report_size <= NVML_REPORT_SIZE,
           MS_ERR_NVGPU_FORMAT);
    ENSURE(p->crt.attestation_cert_chain_size >= 1 &&
               p->crt.attestation_cert_chain_size <= NVML_ATTESTATION_CERT_CHAIN_SIZE,
           MS_ERR_NVGPU_FORMAT);
    ms_buf_init(&ders, MS_NVGPU_MAX_CHAIN * MS_NVGPU_MAX_CERT);
    memset(&it, 0, sizeof it);
    ms_err err = ms_nvgpu_pem_chain(p->crt.attestation_cert_chain,
                                    p->crt.attestation_cert_chain_size, &ders, off, lens,
                                    &it.n_certs);
    if (err == MS_OK) {
        it.host_flags = flags;
        it.report = p->rep.report;
        it.report_len = p->rep.report_size;
        for (size_t k = 0; k < it.n_certs; k++) {
            it.cert[k] = ders.p + off[k];
            it.cert_len[k] = lens[k];
        }
        err = ms_nvgpu_item_encode(&it, item);
    }
    ms_buf_free(&ders);
    return err;
}

static ms_err make_locked(struct ms_nvgpu_producer *p, const uint8_t *binding, ms_buf *out)
{
    nvml_cc_state st;
    ms_buf item;
    memset(&st, 0, sizeof st);
    ENSURE(p->state(&st) == NVML_SUCCESS, MS_ERR_NVGPU_NVML);
    uint8_t flags = (uint8_t)((st.cc_feature == NVML_CC_FEATURE_ENABLED ? MS_NVGPU_HOST_CC_ON : 0) |
                              (st.devtools_mode == NVML_CC_DEVTOOLS_ON ? MS_NVGPU_HOST_DEVTOOLS
                                                                       : 0));
    TRY(ms_nvgpu_evidence_begin(p->n, out));
    ms_buf_init(&item, MS_NVGPU_MAX_ITEM);
    ms_err err = MS_OK;
    for (size_t i = 0; i < p->n && err == MS_OK; i++) {
        ms_buf_clear(&item);
        err = one_item(p, i, flags, binding, &item);
        if (err == MS_OK) {
            err = ms_nvgpu_evidence_add(item.p, item.len, out);
        }
    }
    ms_buf_free(&item);
    return err;
}

ms_err ms_nvgpu_producer_make(struct ms_nvgpu_producer *p,
                              const uint8_t binding[static MS_BINDING_LEN], ms_buf *out)
{
    ENSURE(p != NULL && binding != NULL && out != NULL, MS_ERR_ARG);
    pthread_mutex_lock(&p->lock);
    ms_err err = make_locked(p, binding, out);
    pthread_mutex_unlock(&p->lock);
    return err;
}
