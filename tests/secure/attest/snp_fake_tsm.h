/* A fake configfs-tsm report entry: files and two FIFOs, served by a thread playing the kernel. */
#ifndef MS_TESTS_ATTEST_SNP_FAKE_TSM_H
#define MS_TESTS_ATTEST_SNP_FAKE_TSM_H

#include <openssl/evp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "tests/secure/attest/snp_fixture.h"

/*
 * Layout of the entry directory, as the sev_guest provider shows it:
 *   provider    regular file ("sev_guest\n" unless told otherwise, e.g. "tdx_guest")
 *   generation  regular file, decimal; the thread replaces it after reading inblob
 *   auxblob     regular file with the certificate table (absent when aux is NULL)
 *   inblob      FIFO: the thread reads what the producer writes, until it closes
 *   outblob     FIFO: the thread then writes the report, so generation is already updated
 *               by the time the producer can read outblob (and anything after it)
 */
typedef struct snp_fake_tsm {
    char dir[512];
    uint64_t generation;  /* initial value */
    uint64_t gen_step;    /* added on the inblob write: 1 like the kernel, 2 = someone else too */
    EVP_PKEY *sign_key;   /* set: outblob is a report over the received inblob, from `ro` */
    snp_fx_report_opts ro;
    /* set: outblob is what `make` returns for the received inblob (e.g. a TDX quote) */
    int (*make)(void *ctx, const uint8_t *inblob, size_t len, ms_buf *out);
    void *make_ctx;
    const uint8_t *canned; /* else: these bytes are served as outblob */
    size_t canned_len;
    int timeout_ms;       /* how long the thread waits for the producer (default 5000) */
    /* results */
    uint8_t inblob[128];
    size_t inblob_len;
    int served;           /* the thread wrote outblob */
    pthread_t thread;
    int started;
} snp_fake_tsm;

/* Make the entry under `parent` (created if needed). Returns 1 on success. */
int snp_fake_tsm_setup(snp_fake_tsm *f, const char *parent, const char *provider,
                       const uint8_t *aux, size_t aux_len);
/* Start serving one request. */
int snp_fake_tsm_start(snp_fake_tsm *f);
/* Wait for the thread (it gives up after timeout_ms); returns `served`. */
int snp_fake_tsm_join(snp_fake_tsm *f);
/* Overwrite one plain attribute file. */
int snp_fake_tsm_write(snp_fake_tsm *f, const char *name, const void *p, size_t len);
/* Remove every file and the entry directory. */
void snp_fake_tsm_teardown(snp_fake_tsm *f);

#endif
