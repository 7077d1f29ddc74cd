/*
 * A fake libnvidia-ml for tests: the confidential-computing calls the producer makes, served
 * from the directory $MS_FAKE_NVML_DIR:
 *   count          number of GPUs (default 1)
 *   gpu<i>.pem     GPU i's attestation certificate chain (PEM, leaf first)
 *   gpu<i>.hex     a fixed report to serve whatever the nonce (the real vector's mode), or
 *   gpu<i>.key     the leaf key: the fake builds and signs a report over the nonce it is given
 *   fill           measurement fill byte of made reports (decimal, default 16)
 *   gpu<i>.stale   (any content) GPU i signs over a fixed nonce (0xAA...), not the one it is
 *                  given: a report of another session, as a replaying host would serve
 *   cc, devtools   "0" or "1": the system CC state (default cc 1, devtools 0)
 * Test-only; not thread-safe beyond what the producer's lock gives.
 */
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/secure/attest/nvgpu_fx_report.h"

#define FAKE_OK 0
#define FAKE_ERR 999
#define FAKE_MAX_GPUS 8

typedef struct fake_state {
    unsigned int environment, cc_feature, devtools_mode;
} fake_state;

typedef struct fake_cert {
    unsigned int cert_chain_size, attestation_cert_chain_size;
    unsigned char cert_chain[0x1000];
    unsigned char attestation_cert_chain[0x1400];
} fake_cert;

typedef struct fake_report {
    unsigned int is_cec_present, report_size, cec_size;
    unsigned char nonce[0x20];
    unsigned char report[0x2000];
    unsigned char cec_report[0x1000];
} fake_report;

int nvmlInit_v2(void);
int nvmlShutdown(void);
int nvmlDeviceGetCount_v2(unsigned int *n);
int nvmlDeviceGetHandleByIndex_v2(unsigned int i, void **dev);
int nvmlSystemGetConfComputeState(fake_state *s);
int nvmlDeviceGetConfComputeGpuAttestationReport(void *dev, fake_report *r);
int nvmlDeviceGetConfComputeGpuCertificate(void *dev, fake_cert *c);

static unsigned handles[FAKE_MAX_GPUS];

static int path_of(char *out, size_t cap, const char *name)
{
    const char *dir = getenv("MS_FAKE_NVML_DIR");
    return dir != NULL && snprintf(out, cap, "%s/%s", dir, name) < (int)cap;
}

/* The whole file (at most cap bytes) into out; its length, or -1. */
static long slurp(const char *name, unsigned char *out, size_t cap)
{
    char path[1024];
    if (!path_of(path, sizeof path, name)) {
        return -1;
    }
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return -1;
    }
    size_t n = fread(out, 1, cap, f);
    int more = fgetc(f) != EOF;
    fclose(f);
    return more ? -1 : (long)n;
}

static long number(const char *name, long dflt)
{
    unsigned char b[16];
    long n = slurp(name, b, sizeof b - 1);
    if (n <= 0) {
        return dflt;
    }
    b[n] = 0;
    return strtol((const char *)b, NULL, 10);
}

int nvmlInit_v2(void)
{
    return getenv("MS_FAKE_NVML_DIR") != NULL ? FAKE_OK : FAKE_ERR;
}

int nvmlShutdown(void)
{
    return FAKE_OK;
}

int nvmlDeviceGetCount_v2(unsigned int *n)
{
    long c = number("count", 1);
    if (c < 0 || c > FAKE_MAX_GPUS) {
        return FAKE_ERR;
    }
    *n = (unsigned)c;
    return FAKE_OK;
}

int nvmlDeviceGetHandleByIndex_v2(unsigned int i, void **dev)
{
    if (i >= FAKE_MAX_GPUS) {
        return FAKE_ERR;
    }
    handles[i] = i;
    *dev = &handles[i];
    return FAKE_OK;
}

int nvmlSystemGetConfComputeState(fake_state *s)
{
    s->environment = 2;
    s->cc_feature = (unsigned)number("cc", 1);
    s->devtools_mode = (unsigned)number("devtools", 0);
    return FAKE_OK;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                        : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int made_report(unsigned i, fake_report *r)
{
    char name[32], path[1024];
    snprintf(name, sizeof name, "gpu%u.key", i);
    if (!path_of(path, sizeof path, name)) {
        return FAKE_ERR;
    }
    FILE *f = fopen(path, "r");
    EVP_PKEY *key = f != NULL ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f != NULL) {
        fclose(f);
    }
    if (key == NULL) {
        return FAKE_ERR;
    }
    snprintf(name, sizeof name, "gpu%u.stale", i);
    if (path_of(path, sizeof path, name) && (f = fopen(path, "r")) != NULL) {
        fclose(f);
        memset(r->nonce, 0xAA, sizeof r->nonce);
    }
    size_t n = nv_fx_report_build(r->report, sizeof r->report, r->nonce, 8,
                                  (unsigned char)number("fill", 16), 0, key);
    EVP_PKEY_free(key);
    r->report_size = (unsigned)n;
    return n > 0 ? FAKE_OK : FAKE_ERR;
}

int nvmlDeviceGetConfComputeGpuAttestationReport(void *dev, fake_report *r)
{
    static unsigned char hex[2 * 0x2000 + 64];
    unsigned i = *(unsigned *)dev;
    char name[32];
    snprintf(name, sizeof name, "gpu%u.hex", i);
    long n = slurp(name, hex, sizeof hex);
    if (n < 0) {
        return made_report(i, r);
    }
    size_t k = 0;
    for (long j = 0; j + 1 < n; j += 2) {
        int hi = hexval(hex[j]), lo = hexval(hex[j + 1]);
        if (hi < 0 || lo < 0 || k >= sizeof r->report) {
            break;
        }
        r->report[k++] = (unsigned char)(hi << 4 | lo);
    }
    r->report_size = (unsigned)k;
    return FAKE_OK;
}

int nvmlDeviceGetConfComputeGpuCertificate(void *dev, fake_cert *c)
{
    char name[32];
    snprintf(name, sizeof name, "gpu%u.pem", *(unsigned *)dev);
    long n = slurp(name, c->attestation_cert_chain, sizeof c->attestation_cert_chain);
    if (n <= 0) {
        return FAKE_ERR;
    }
    c->attestation_cert_chain_size = (unsigned)n;
    c->cert_chain_size = 0;
    return FAKE_OK;
}
