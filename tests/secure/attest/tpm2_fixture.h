/* Test helper: a swtpm, a producer on it, its enrolled policy, and bundle surgery. */
#ifndef MS_TESTS_ATTEST_TPM2_FIXTURE_H
#define MS_TESTS_ATTEST_TPM2_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "secure/attest/tpm2.h"
#include "secure/attest/tpm2_producer.h"
#include "tests/fixture/swtpm.h"
#include "tests/secure/attest/tpm2_tpm.h"

typedef struct tpm2_fixture {
    e2e_swtpm sw;
    tpm2_conn c;                   /* the test's own connection */
    struct ms_tpm2_producer *prod; /* endorsement-hierarchy AK over `mask` */
    uint32_t mask;
    ms_tpm2_policy pol;            /* enrolled from prod at set-up */
    uint8_t b1[MS_BINDING_LEN], b2[MS_BINDING_LEN]; /* two sessions' bindings */
} tpm2_fixture;

/*
 * Start swtpm, connect, make the producer, enrol. Sets TSS2_LOG=all+none unless set: the
 * negative tests make tss2 log errors on purpose. 0 on success (else cleaned up).
 */
int tpm2_fixture_setup(tpm2_fixture *f, uint32_t mask);
void tpm2_fixture_teardown(tpm2_fixture *f);
/* A fresh bundle over `binding` into `ev` (initialised here, free it). 0 on success. */
int tpm2_fixture_quote(tpm2_fixture *f, const uint8_t binding[static MS_BINDING_LEN], ms_buf *ev);

/* The four parts of a bundle (quoted, signature, AK public, values), found without the
 * library's parser. 0 on success. */
typedef struct tpm2_parts {
    size_t off[4], len[4];
} tpm2_parts;
int tpm2_split(const uint8_t *p, size_t n, tpm2_parts *o);
/* A bundle from four parts as given (no checks), into `out` (initialised here). */
int tpm2_rebuild(const uint8_t *const part[4], const size_t len[4], ms_buf *out);

double tpm2_now_ms(void);

#endif
