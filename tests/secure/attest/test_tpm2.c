/* TPM quote evidence against a real TPM (swtpm): producer, verifier, and each check failing alone. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "common/buf.h"
#include "common/log.h"
#include "secure/attest/tpm2.h"
#include "secure/attest/tpm2_bundle.h"
#include "secure/attest/tpm2_esys.h"
#include "secure/attest/tpm2_producer.h"
#include "tests/secure/attest/tpm2_fixture.h"
#include "tests/test.h"

/* PCRs 0-7, 16 and 23: ten values, so reading them takes two TPM2_PCR_Read calls. */
#define MASK (0xFFu | 1u << 16 | 1u << 23)
#define PCR_EXTEND 23u /* 16 and 23 can be reset from locality 0 */
#define PCR_RACE 16u

static tpm2_fixture F;

static int fresh(ms_buf *ev, const uint8_t *b)
{
    return tpm2_fixture_quote(&F, b, ev);
}

static ms_err verify(const ms_buf *ev)
{
    return ms_tpm2_verify(&F.pol, ev->p, ev->len, F.b1);
}

/* --- the good path --------------------------------------------------------------------- */

static void test_produce_verify(void)
{
    ms_buf ev;
    uint8_t name[MS_TPM2_NAME_LEN], b[MS_BINDING_LEN];
    CHECK(fresh(&ev, F.b1) == 0);
    CHECK_OK(verify(&ev));
    ms_tpm2_producer_ak_name(F.prod, name);
    CHECK_MEM(name, F.pol.ak_name, MS_TPM2_NAME_LEN);
    CHECK(F.pol.pcr_mask == MASK);
    CHECK(ev.len > 600 && ev.len < 700); /* 636 for P-256 and ten PCRs, 320 bytes of them values */
    /* Only B's first 32 bytes are in a quote (protocol.md §6): the rest does not matter. */
    memcpy(b, F.b1, sizeof b);
    b[MS_TPM2_NONCE_LEN] ^= 1;
    b[MS_BINDING_LEN - 1] ^= 0xFF;
    CHECK_OK(ms_tpm2_verify(&F.pol, ev.p, ev.len, b));
    ms_buf_free(&ev);
}

/* A primary key is a function of the hierarchy seed and the template: same TPM, same AK. */
static void test_same_tpm_same_ak(void)
{
    struct ms_tpm2_producer *p2 = NULL, *owner = NULL;
    ms_tpm2_producer_cfg cfg = {.tcti = F.sw.tcti, .pcr_mask = 1};
    uint8_t a[MS_TPM2_NAME_LEN], b[MS_TPM2_NAME_LEN], c[MS_TPM2_NAME_LEN];
    CHECK_OK(ms_tpm2_producer_new(&p2, &cfg));
    cfg.hierarchy = MS_TPM2_HIERARCHY_OWNER;
    CHECK_OK(ms_tpm2_producer_new(&owner, &cfg));
    if (p2 != NULL && owner != NULL) {
        ms_tpm2_producer_ak_name(F.prod, a);
        ms_tpm2_producer_ak_name(p2, b);
        ms_tpm2_producer_ak_name(owner, c);
        CHECK_MEM(a, b, sizeof a);
        CHECK(memcmp(a, c, sizeof a) != 0);
        CHECK(a[0] == 0x00 && a[1] == 0x0B);
    }
    ms_tpm2_producer_free(p2);
    ms_tpm2_producer_free(owner);
}

/* ms_tpm2_ak_name agrees with the TPM's own name of the key, and parses strictly. */
static void test_ak_name_function(void)
{
    TPM2B_PUBLIC tmpl;
    TPMT_PUBLIC pub;
    uint8_t bytes[sizeof(TPMT_PUBLIC) + 1], name[MS_TPM2_NAME_LEN], tpm[MS_TPM2_NAME_LEN];
    size_t n;
    ms_tpm2_ak_template(&tmpl);
    ESYS_TR h = tpm2_primary(&F.c, ESYS_TR_RH_ENDORSEMENT, &tmpl, &pub);
    CHECK(h != ESYS_TR_NONE);
    CHECK_OK(ms_tpm2_public_marshal(&pub, bytes, &n));
    CHECK_OK(ms_tpm2_ak_name(bytes, n, name));
    CHECK(tpm2_name(&F.c, h, tpm) == 0);
    CHECK_MEM(name, tpm, sizeof name);
    CHECK_MEM(name, F.pol.ak_name, sizeof name);
    bytes[n] = 0;
    CHECK_ERR(ms_tpm2_ak_name(bytes, n + 1, name), MS_ERR_TPM_FORMAT);
    CHECK(name[0] == 0 && name[1] == 0);
    CHECK_ERR(ms_tpm2_ak_name(bytes, n - 1, name), MS_ERR_TPM_FORMAT);
    pub.nameAlg = TPM2_ALG_SHA1;
    CHECK_OK(ms_tpm2_public_marshal(&pub, bytes, &n));
    CHECK_ERR(ms_tpm2_ak_name(bytes, n, name), MS_ERR_TPM_AK_ATTRS);
    tpm2_flush(&F.c, h);
}

static void test_bundle_policy(void)
{
    ms_buf ev;
    ms_tpm2_policy p;
    CHECK(fresh(&ev, F.b2) == 0);
    CHECK_OK(ms_tpm2_bundle_policy(ev.p, ev.len, &p));
    CHECK(memcmp(&p, &F.pol, sizeof p) == 0);
    ev.p[ev.len - 1] ^= 1; /* a PCR value */
    CHECK_ERR(ms_tpm2_bundle_policy(ev.p, ev.len, &p), MS_ERR_TPM_PCR_DIGEST);
    CHECK(p.pcr_mask == 0);
    ms_buf_free(&ev);
}

/* --- one failure per check ------------------------------------------------------------- */

/* Evidence from another session (another binding) replayed into this one. */
static void test_wrong_nonce(void)
{
    ms_buf ev;
    CHECK(fresh(&ev, F.b2) == 0);
    CHECK_OK(ms_tpm2_verify(&F.pol, ev.p, ev.len, F.b2));
    CHECK_ERR(verify(&ev), MS_ERR_TPM_NONCE);
    ms_buf_free(&ev);
}

static void test_policy_value_changed(void)
{
    ms_buf ev;
    ms_tpm2_policy p = F.pol;
    CHECK(fresh(&ev, F.b1) == 0);
    p.pcr_values[3][31] ^= 1;
    CHECK_ERR(ms_tpm2_verify(&p, ev.p, ev.len, F.b1), MS_ERR_TPM_PCR_VALUE);
    p = F.pol;
    p.pcr_values[23][0] ^= 0x80;
    CHECK_ERR(ms_tpm2_verify(&p, ev.p, ev.len, F.b1), MS_ERR_TPM_PCR_VALUE);
    p = F.pol;
    p.pcr_values[8][0] ^= 0x80; /* not selected: never read */
    CHECK_OK(ms_tpm2_verify(&p, ev.p, ev.len, F.b1));
    ms_buf_free(&ev);
}

/* Software measured after enrolment: a fresh, genuine quote no longer meets the policy. */
static void test_pcr_extended(void)
{
    ms_buf ev;
    ms_tpm2_policy now;
    CHECK(tpm2_pcr_extend(&F.c, PCR_EXTEND, 0xAB) == 0);
    CHECK(fresh(&ev, F.b1) == 0);
    CHECK_ERR(verify(&ev), MS_ERR_TPM_PCR_VALUE);
    CHECK_OK(ms_tpm2_producer_policy(F.prod, &now));
    CHECK(memcmp(now.pcr_values[PCR_EXTEND], F.pol.pcr_values[PCR_EXTEND], MS_TPM2_DIGEST_LEN) != 0);
    CHECK_OK(ms_tpm2_verify(&now, ev.p, ev.len, F.b1));
    CHECK(tpm2_pcr_reset(&F.c, PCR_EXTEND) == 0);
    ms_buf_free(&ev);
    CHECK(fresh(&ev, F.b1) == 0);
    CHECK_OK(verify(&ev));
    ms_buf_free(&ev);
}

/* A quote from another AK (a second key, even a genuine AK) that the policy does not pin. */
static void test_other_ak_not_pinned(void)
{
    struct ms_tpm2_producer *other = NULL;
    ms_tpm2_producer_cfg cfg = {.tcti = F.sw.tcti, .pcr_mask = MASK,
                                .hierarchy = MS_TPM2_HIERARCHY_OWNER};
    ms_buf ev;
    ms_tpm2_policy p = F.pol;
    ms_buf_init(&ev, MS_TPM2_MAX_BUNDLE);
    CHECK_OK(ms_tpm2_producer_new(&other, &cfg));
    if (other != NULL) {
        CHECK_OK(ms_tpm2_producer_quote(other, F.b1, &ev));
        CHECK_ERR(verify(&ev), MS_ERR_TPM_AK_NAME);
        ms_tpm2_producer_ak_name(other, p.ak_name);
        CHECK_OK(ms_tpm2_verify(&p, ev.p, ev.len, F.b1)); /* the name is all that differs */
    }
    ms_tpm2_producer_free(other);
    ms_buf_free(&ev);
}

/*
 * The attack tpm2_checkquote misses: an unrestricted signing key of the same TPM signs a
 * TPMS_ATTEST the attacker wrote (any PCR digest, any nonce). Signature and contents are
 * fine; only the AK's attributes give it away, even when a careless enrolment pinned it.
 */
static void test_unrestricted_key(void)
{
    TPM2B_PUBLIC tmpl;
    TPMT_PUBLIC pub;
    ms_buf ev;
    ms_tpm2_bundle b;
    ms_tpm2_policy p = F.pol;
    TSS2_RC rc;
    ms_buf_init(&ev, MS_TPM2_MAX_BUNDLE);
    tpm2_template_unrestricted(&tmpl);
    ESYS_TR key = tpm2_primary(&F.c, ESYS_TR_RH_OWNER, &tmpl, &pub);
    CHECK(key != ESYS_TR_NONE);
    CHECK(tpm2_forged_bundle(&F.c, key, &pub, MASK, F.b1, &ev, &rc) == 0);
    CHECK_ERR(verify(&ev), MS_ERR_TPM_AK_ATTRS);
    CHECK(tpm2_name(&F.c, key, p.ak_name) == 0);
    CHECK_ERR(ms_tpm2_verify(&p, ev.p, ev.len, F.b1), MS_ERR_TPM_AK_ATTRS);
    /* Everything else holds: the signature is genuine TPM work over those bytes. */
    CHECK_OK(ms_tpm2_bundle_parse(ev.p, ev.len, &b));
    b.ak.objectAttributes |= TPMA_OBJECT_RESTRICTED;
    CHECK_OK(ms_tpm2_sig_verify(&b.ak, &b.sig, b.attest_bytes, b.attest_len));
    tpm2_flush(&F.c, key);
    ms_buf_free(&ev);
}

/* Why `restricted` is the check: the AK itself refuses to sign such a forgery. */
static void test_restricted_key_refuses_forgery(void)
{
    TPM2B_PUBLIC tmpl;
    TPMT_PUBLIC pub;
    ms_buf ev;
    TSS2_RC rc = TSS2_RC_SUCCESS;
    ms_buf_init(&ev, MS_TPM2_MAX_BUNDLE);
    ms_tpm2_ak_template(&tmpl);
    ESYS_TR ak = tpm2_primary(&F.c, ESYS_TR_RH_ENDORSEMENT, &tmpl, &pub);
    CHECK(ak != ESYS_TR_NONE);
    CHECK(tpm2_forged_bundle(&F.c, ak, &pub, MASK, F.b1, &ev, &rc) != 0);
    CHECK(rc != TSS2_RC_SUCCESS);
    CHECK(ev.len == 0);
    tpm2_flush(&F.c, ak);
    ms_buf_free(&ev);
}

/* The AK public in the bundle altered: attributes are checked before the (then wrong) name. */
static void test_ak_attributes_tampered(void)
{
    static const TPMA_OBJECT drop[] = {TPMA_OBJECT_RESTRICTED, TPMA_OBJECT_FIXEDTPM,
                                       TPMA_OBJECT_FIXEDPARENT, TPMA_OBJECT_SENSITIVEDATAORIGIN,
                                       TPMA_OBJECT_SIGN_ENCRYPT};
    ms_buf ev, bad;
    ms_tpm2_bundle b;
    tpm2_parts s;
    uint8_t pub[sizeof(TPMT_PUBLIC)];
    size_t n;
    CHECK(fresh(&ev, F.b1) == 0);
    CHECK(tpm2_split(ev.p, ev.len, &s) == 0);
    CHECK_OK(ms_tpm2_bundle_parse(ev.p, ev.len, &b));
    for (size_t i = 0; i <= sizeof drop / sizeof drop[0]; i++) {
        TPMT_PUBLIC ak = b.ak;
        if (i < sizeof drop / sizeof drop[0]) {
            ak.objectAttributes &= ~drop[i];
        } else {
            ak.objectAttributes |= TPMA_OBJECT_DECRYPT;
        }
        CHECK_OK(ms_tpm2_public_marshal(&ak, pub, &n));
        const uint8_t *part[4] = {ev.p + s.off[0], ev.p + s.off[1], pub, ev.p + s.off[3]};
        size_t len[4] = {s.len[0], s.len[1], n, s.len[3]};
        CHECK(tpm2_rebuild(part, len, &bad) == 0);
        CHECK_ERR(verify(&bad), MS_ERR_TPM_AK_ATTRS);
        ms_buf_free(&bad);
    }
    ms_buf_free(&ev);
}

/* A Certify is genuine TPM work over our nonce, signed by the pinned AK: but not a quote. */
static void test_certify_as_quote(void)
{
    TPM2B_PUBLIC tmpl;
    TPMT_PUBLIC pub;
    ms_buf ev;
    ms_buf_init(&ev, MS_TPM2_MAX_BUNDLE);
    ms_tpm2_ak_template(&tmpl);
    ESYS_TR ak = tpm2_primary(&F.c, ESYS_TR_RH_ENDORSEMENT, &tmpl, &pub);
    CHECK(ak != ESYS_TR_NONE);
    CHECK(tpm2_certify_bundle(&F.c, ak, &pub, MASK, F.b1, &ev) == 0);
    CHECK_ERR(verify(&ev), MS_ERR_TPM_TYPE);
    tpm2_flush(&F.c, ak);
    ms_buf_free(&ev);
}

/* Quotes over fewer or more PCRs than the policy names. */
static void test_selection_differs(void)
{
    static const uint32_t masks[] = {MASK & ~(1u << 7), MASK | 1u << 8, 0xFFu, MASK & ~1u};
    for (size_t i = 0; i < sizeof masks / sizeof masks[0]; i++) {
        struct ms_tpm2_producer *p = NULL;
        ms_tpm2_producer_cfg cfg = {.tcti = F.sw.tcti, .pcr_mask = masks[i]};
        ms_buf ev;
        ms_buf_init(&ev, MS_TPM2_MAX_BUNDLE);
        CHECK_OK(ms_tpm2_producer_new(&p, &cfg));
        if (p != NULL) {
            CHECK_OK(ms_tpm2_producer_quote(p, F.b1, &ev));
            CHECK_ERR(verify(&ev), MS_ERR_TPM_PCR_SELECT);
        }
        ms_tpm2_producer_free(p);
        ms_buf_free(&ev);
    }
}

static void test_rsa_ak(void)
{
    TPM2B_PUBLIC tmpl;
    TPMT_PUBLIC pub;
    ms_buf ev;
    ms_tpm2_policy p = F.pol;
    ms_buf_init(&ev, MS_TPM2_MAX_BUNDLE);
    tpm2_template_rsa_ak(&tmpl);
    ESYS_TR ak = tpm2_primary(&F.c, ESYS_TR_RH_ENDORSEMENT, &tmpl, &pub);
    CHECK(ak != ESYS_TR_NONE);
    CHECK(tpm2_quote_bundle(&F.c, ak, &pub, MASK, F.b1, &ev) == 0);
    CHECK_ERR(verify(&ev), MS_ERR_TPM_AK_NAME);
    CHECK(tpm2_name(&F.c, ak, p.ak_name) == 0);
    CHECK_OK(ms_tpm2_verify(&p, ev.p, ev.len, F.b1));
    tpm2_parts s;
    CHECK(tpm2_split(ev.p, ev.len, &s) == 0);
    ev.p[s.off[2] + s.len[2] - 100] ^= 1; /* in the modulus, the end of the AK public */
    CHECK_ERR(ms_tpm2_verify(&p, ev.p, ev.len, F.b1), MS_ERR_TPM_AK_NAME);
    ev.p[s.off[2] + s.len[2] - 100] ^= 1;
    ev.p[s.off[1] + s.len[1] - 1] ^= 1; /* last byte of the RSA signature */
    CHECK_ERR(ms_tpm2_verify(&p, ev.p, ev.len, F.b1), MS_ERR_TPM_SIGNATURE);
    tpm2_flush(&F.c, ak);
    ms_buf_free(&ev);
}

static void test_policy_invalid(void)
{
    ms_buf ev;
    ms_tpm2_policy p = F.pol;
    CHECK(fresh(&ev, F.b1) == 0);
    p.pcr_mask = 0;
    CHECK_ERR(ms_tpm2_verify(&p, ev.p, ev.len, F.b1), MS_ERR_ARG);
    p.pcr_mask = MASK | 1u << 24;
    CHECK_ERR(ms_tpm2_verify(&p, ev.p, ev.len, F.b1), MS_ERR_ARG);
    CHECK_ERR(ms_tpm2_verify(NULL, ev.p, ev.len, F.b1), MS_ERR_ARG);
    CHECK_ERR(verify(&(ms_buf){0}), MS_ERR_TPM_FORMAT);
    ms_buf_free(&ev);
}

/* --- the producer's contract ----------------------------------------------------------- */

/* Log lines captured while a test expects some. */
typedef struct logcap {
    int lines;
    int retries; /* "quoting again" lines */
} logcap;

static void cap_sink(void *ctx, ms_log_level lvl, const char *line, size_t len)
{
    logcap *c = ctx;
    (void)lvl;
    (void)len;
    c->lines++;
    c->retries += strstr(line, "quoting again") != NULL;
}

typedef struct changer {
    tpm2_conn *c;
    int left; /* extends still to make; < 0: always */
    int calls;
} changer;

static void change_pcr(void *arg)
{
    changer *ch = arg;
    ch->calls++;
    if (ch->left != 0) {
        ch->left -= ch->left > 0;
        CHECK(tpm2_pcr_extend(ch->c, PCR_RACE, 0x5A) == 0);
    }
}

/* A PCR changes right after TPM2_Quote: the producer notices and quotes again. */
static void test_retry_when_pcr_changes(void)
{
    changer ch = {.c = &F.c, .left = 3};
    logcap cap = {0};
    ms_buf ev;
    ms_tpm2_policy p;
    uint8_t now[MS_TPM2_NUM_PCRS * MS_TPM2_DIGEST_LEN];
    size_t n;
    ms_buf_init(&ev, MS_TPM2_MAX_BUNDLE);
    ms_log_set_level(MS_LOG_DEBUG);
    ms_log_set_sink(cap_sink, &cap);
    ms_tpm2_producer_set_between(F.prod, change_pcr, &ch);
    CHECK_OK(ms_tpm2_producer_quote(F.prod, F.b1, &ev));
    CHECK(ch.calls == 4 && cap.retries == 3);
    CHECK_OK(ms_tpm2_bundle_policy(ev.p, ev.len, &p));
    CHECK_OK(ms_tpm2_esys_read_pcrs(F.c.esys, 1u << PCR_RACE, now, &n));
    CHECK_MEM(p.pcr_values[PCR_RACE], now, MS_TPM2_DIGEST_LEN); /* the last state, quoted */
    ms_buf_free(&ev);
    /* Changing every time: give up after MS_TPM2_QUOTE_TRIES quotes, append nothing. */
    ch = (changer){.c = &F.c, .left = -1};
    CHECK_ERR(ms_tpm2_producer_quote(F.prod, F.b1, &ev), MS_ERR_ATTEST_UNAVAILABLE);
    CHECK(ch.calls == (int)MS_TPM2_QUOTE_TRIES && ev.len == 0);
    ms_tpm2_producer_set_between(F.prod, NULL, NULL);
    ms_log_set_sink(NULL, NULL);
    ms_log_set_level(MS_LOG_INFO);
    CHECK(tpm2_pcr_reset(&F.c, PCR_RACE) == 0);
    ms_buf_free(&ev);
}

typedef struct race {
    const char *tcti;
    atomic_int stop;
    atomic_int extends;
} race;

static void *extender(void *arg)
{
    race *r = arg;
    tpm2_conn c;
    if (tpm2_conn_open(&c, r->tcti) != 0) {
        return NULL;
    }
    /* An extend every ~2 ms: a busy measuring agent, yet most quotes (~0.5 ms) fit between. */
    struct timespec pause = {0, 2000000L};
    while (!atomic_load(&r->stop) && tpm2_pcr_extend(&c, PCR_RACE, (uint8_t)r->extends) == 0) {
        atomic_fetch_add(&r->extends, 1);
        nanosleep(&pause, NULL);
    }
    tpm2_conn_close(&c);
    return NULL;
}

/*
 * A PCR extended while quotes are made: every bundle that comes out carries exactly the
 * quoted values (else the producer retried or gave up), never a digest mismatch.
 */
static void test_pcr_race(void)
{
    race r = {.tcti = F.sw.tcti};
    logcap cap = {0};
    pthread_t t;
    ms_log_set_level(MS_LOG_DEBUG);
    ms_log_set_sink(cap_sink, &cap);
    int ok = 0, unavailable = 0, mismatched = 0;
    uint8_t first[MS_TPM2_DIGEST_LEN] = {0}, last[MS_TPM2_DIGEST_LEN] = {0};
    CHECK(pthread_create(&t, NULL, extender, &r) == 0);
    /* At least 40 quotes and 10 extends (a loaded machine may start the thread late). */
    double until = tpm2_now_ms() + 20000;
    for (int i = 0; (i < 40 || r.extends < 10) && tpm2_now_ms() < until; i++) {
        ms_buf ev;
        ms_tpm2_policy p;
        ms_buf_init(&ev, MS_TPM2_MAX_BUNDLE);
        ms_err e = ms_tpm2_producer_quote(F.prod, F.b1, &ev);
        if (e == MS_OK) {
            ms_err v = ms_tpm2_bundle_policy(ev.p, ev.len, &p);
            mismatched += v != MS_OK;
            memcpy(ok++ == 0 ? first : last, p.pcr_values[PCR_RACE], MS_TPM2_DIGEST_LEN);
        } else {
            unavailable += e == MS_ERR_ATTEST_UNAVAILABLE;
            CHECK_ERR(e, MS_ERR_ATTEST_UNAVAILABLE);
        }
        ms_buf_free(&ev);
    }
    atomic_store(&r.stop, 1);
    pthread_join(t, NULL);
    ms_log_set_sink(NULL, NULL);
    ms_log_set_level(MS_LOG_INFO);
    int extends = atomic_load(&r.extends);
    fprintf(stderr, "  pcr race: %d extends, %d quotes ok (%d retries), %d gave up\n", extends, ok,
            cap.retries, unavailable);
    CHECK(mismatched == 0);
    CHECK(ok > 0);
    CHECK(extends > 0 && memcmp(first, last, sizeof first) != 0);
    CHECK(tpm2_pcr_reset(&F.c, PCR_RACE) == 0);
}

/* Several threads share one producer (the supervisor's use). */
static void *quoter(void *arg)
{
    int *fails = arg;
    for (int i = 0; i < 20; i++) {
        ms_buf ev;
        if (fresh(&ev, F.b1) != 0 || verify(&ev) != MS_OK) {
            ++*fails;
        }
        ms_buf_free(&ev);
    }
    return NULL;
}

static void test_threads(void)
{
    pthread_t t[4];
    int fails[4] = {0};
    for (int i = 0; i < 4; i++) {
        CHECK(pthread_create(&t[i], NULL, quoter, &fails[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(fails[i] == 0);
    }
}

static void test_timing(void)
{
    enum { N = 100 };
    ms_buf ev;
    double t0 = tpm2_now_ms();
    for (int i = 0; i < N; i++) {
        CHECK(fresh(&ev, F.b1) == 0);
        if (i < N - 1) {
            ms_buf_free(&ev);
        }
    }
    double t1 = tpm2_now_ms();
    for (int i = 0; i < N; i++) {
        CHECK_OK(verify(&ev));
    }
    double t2 = tpm2_now_ms();
    fprintf(stderr, "  swtpm: %.3f ms per bundle (TPM2_Quote + 2 TPM2_PCR_Read), %.3f ms per verify\n",
            (t1 - t0) / N, (t2 - t1) / N);
    ms_buf_free(&ev);
}

static void test_config_and_device_errors(void)
{
    struct ms_tpm2_producer *p = (struct ms_tpm2_producer *)&F.c; /* must be reset to NULL */
    logcap cap = {0};
    ms_tpm2_producer_cfg cfg = {.tcti = F.sw.tcti, .pcr_mask = 0};
    CHECK_ERR(ms_tpm2_producer_new(&p, &cfg), MS_ERR_ARG);
    CHECK(p == NULL);
    cfg.pcr_mask = 1u << 24;
    CHECK_ERR(ms_tpm2_producer_new(&p, &cfg), MS_ERR_ARG);
    cfg.pcr_mask = 1;
    cfg.hierarchy = 2;
    CHECK_ERR(ms_tpm2_producer_new(&p, &cfg), MS_ERR_ARG);
    CHECK_ERR(ms_tpm2_producer_new(&p, NULL), MS_ERR_ARG);
    cfg.hierarchy = 0;
    ms_log_set_sink(cap_sink, &cap); /* the cause goes to the log, once per failure */
    cfg.tcti = "swtpm:host=127.0.0.1,port=1"; /* nothing listens there */
    CHECK_ERR(ms_tpm2_producer_new(&p, &cfg), MS_ERR_TPM_DEVICE);
    cfg.tcti = "no-such-tcti";
    CHECK_ERR(ms_tpm2_producer_new(&p, &cfg), MS_ERR_TPM_DEVICE);
    ms_log_set_sink(NULL, NULL);
    CHECK(p == NULL && cap.lines == 2);
    ms_tpm2_producer_free(NULL);
}

/* Every test flushed what it loaded: only F.prod's AK remains, then nothing. */
static void test_no_transient_left(void)
{
    CHECK(tpm2_transient_count(&F.c) == 1);
    ms_tpm2_producer_free(F.prod);
    F.prod = NULL;
    CHECK(tpm2_transient_count(&F.c) == 0);
}

int main(void)
{
    if (tpm2_fixture_setup(&F, MASK) != 0) {
        return 1;
    }
    RUN(test_produce_verify);
    RUN(test_same_tpm_same_ak);
    RUN(test_ak_name_function);
    RUN(test_bundle_policy);
    RUN(test_wrong_nonce);
    RUN(test_policy_value_changed);
    RUN(test_pcr_extended);
    RUN(test_other_ak_not_pinned);
    RUN(test_unrestricted_key);
    RUN(test_restricted_key_refuses_forgery);
    RUN(test_ak_attributes_tampered);
    RUN(test_certify_as_quote);
    RUN(test_selection_differs);
    RUN(test_rsa_ak);
    RUN(test_policy_invalid);
    RUN(test_retry_when_pcr_changes);
    RUN(test_pcr_race);
    RUN(test_threads);
    RUN(test_timing);
    RUN(test_config_and_device_errors);
    RUN(test_no_transient_left);
    tpm2_fixture_teardown(&F);
    return TEST_SUMMARY();
}
