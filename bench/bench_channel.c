/* Channel benchmark: record seal+open and full handshakes against raw libsodium baselines. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The baselines are raw libsodium calls by design: they are what the channel is measured against. */
#include <sodium.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/handshake.h"
#include "secure/hs_msg.h"
#include "secure/record.h"
#include "secure/suite.h"

#define MAX_ROUNDS 64
#define N_SIZES 4

static const size_t sizes[N_SIZES] = {64, 1024, 16384, 1048576};

typedef struct opts {
    int json;
    int quick;
    unsigned rounds;
    double round_s; /* target duration of one measured round */
} opts;

/* One comparison: `iters` operations per round, per-round seconds for each side. */
typedef struct cmp {
    uint64_t iters;
    unsigned rounds;
    double base_s[MAX_ROUNDS];
    double ours_s[MAX_ROUNDS];
} cmp;

/* A measured body: run `n` operations; MS_OK unless one failed. */
typedef ms_err (*body_fn)(void *ctx, uint64_t n);

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, unsigned n)
{
    double t[MAX_ROUNDS];
    memcpy(t, v, n * sizeof *t);
    qsort(t, n, sizeof *t, dbl_cmp);
    return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static double best(const double *v, unsigned n)
{
    double m = v[0];
    for (unsigned i = 1; i < n; i++) {
        m = v[i] < m ? v[i] : m;
    }
    return m;
}

static ms_err timed(body_fn f, void *ctx, uint64_t n, double *secs)
{
    double t0 = now_s();
    ms_err e = f(ctx, n);
    *secs = now_s() - t0;
    return e;
}

/* Pick an iteration count so that one baseline round lasts about o->round_s. */
static ms_err calibrate(body_fn base, void *ctx, const opts *o, uint64_t *iters)
{
    uint64_t n = 1;
    double t = 0;
    for (;;) {
        ms_err e = timed(base, ctx, n, &t);
        if (e != MS_OK) {
            return e;
        }
        if (t >= o->round_s / 8 || n >= (1ull << 40)) {
            break;
        }
        n *= 2;
    }
    double want = (double)n * o->round_s / (t > 1e-9 ? t : 1e-9);
    *iters = want < 1 ? 1 : (uint64_t)want;
    return MS_OK;
}

/*
 * Interleave baseline and ours round by round (ABBA order, so neither side always runs
 * first), after calibration (which warms the baseline up) and an untimed warm-up of ours:
 * both see the same machine conditions.
 */
static ms_err compare(body_fn base, void *base_ctx, body_fn ours, void *ours_ctx, const opts *o,
                      cmp *c)
{
    ms_err e;
    double dummy;
    memset(c, 0, sizeof *c);
    c->rounds = o->rounds;
    if ((e = calibrate(base, base_ctx, o, &c->iters)) != MS_OK ||
        (e = timed(ours, ours_ctx, c->iters / 4 + 1, &dummy)) != MS_OK) {
        return e;
    }
    for (unsigned r = 0; r < c->rounds; r++) {
        int base_first = r % 2 == 0;
        if (base_first && (e = timed(base, base_ctx, c->iters, &c->base_s[r])) != MS_OK) {
            return e;
        }
        if ((e = timed(ours, ours_ctx, c->iters, &c->ours_s[r])) != MS_OK) {
            return e;
        }
        if (!base_first && (e = timed(base, base_ctx, c->iters, &c->base_s[r])) != MS_OK) {
            return e;
        }
    }
    return MS_OK;
}

/*
 * Ratio of our throughput to the baseline's: the median over rounds of baseline time / our
 * time, each round's two runs back to back. Pairing cancels the slow drift of a shared
 * machine (another process on the sibling core, frequency changes) better than a ratio of
 * separate medians; both figures are printed.
 */
static double ratio_paired(const cmp *c)
{
    double r[MAX_ROUNDS];
    for (unsigned i = 0; i < c->rounds; i++) {
        r[i] = c->base_s[i] / c->ours_s[i];
    }
    return median(r, c->rounds);
}

static double ratio_median(const cmp *c)
{
    return median(c->base_s, c->rounds) / median(c->ours_s, c->rounds);
}

static double ratio_best(const cmp *c)
{
    return best(c->base_s, c->rounds) / best(c->ours_s, c->rounds);
}

/* ---- records ---------------------------------------------------------------------------- */

static const uint8_t k_c2s[MS_KEY_LEN] = {
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
    0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20};
static const uint8_t k_s2c[MS_KEY_LEN] = {
    0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30,
    0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40};
static const uint8_t session_id[MS_SESSION_ID_LEN] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5,
                                                      0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab,
                                                      0xac, 0xad, 0xae, 0xaf};

/* Buffers shared by both sides of a record comparison, allocated once per size. */
typedef struct rec_ctx {
    size_t size;
    uint8_t *pt;
    uint8_t *rec; /* header || ciphertext || tag */
    uint8_t *out; /* opened plaintext */
    struct ms_channel *client;
    struct ms_channel *server;
    uint64_t nonce_ctr; /* baseline nonces */
} rec_ctx;

static ms_err rec_ours(void *vctx, uint64_t n)
{
    rec_ctx *x = vctx;
    ms_record_info info;
    size_t len;
    for (uint64_t i = 0; i < n; i++) {
        ms_err e = ms_channel_seal(x->client, MS_REC_MSG, 1, 0, x->pt, x->size, x->rec,
                                   ms_record_size(x->size), &len);
        if (e == MS_OK) {
            e = ms_channel_open(x->server, x->rec, len, &info, x->out, x->size);
        }
        if (e != MS_OK) {
            return e;
        }
    }
    return MS_OK;
}

/* What the record layer does minus framing and window: AEAD over the same bytes, 40-byte AD. */
static ms_err rec_base(void *vctx, uint64_t n)
{
    rec_ctx *x = vctx;
    uint8_t nonce[MS_NONCE_LEN] = {0};
    uint8_t *ad = x->rec, *ct = x->rec + MS_REC_HEADER_LEN, *tag = ct + x->size;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t ctr = x->nonce_ctr++;
        memcpy(nonce + 4, &ctr, sizeof ctr);
        crypto_aead_chacha20poly1305_ietf_encrypt_detached(ct, tag, NULL, x->pt, x->size, ad,
                                                           MS_REC_HEADER_LEN, NULL, nonce,
                                                           k_c2s);
        if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(x->out, NULL, ct, x->size, tag, ad,
                                                               MS_REC_HEADER_LEN, nonce,
                                                               k_c2s) != 0) {
            return MS_ERR_REC_AUTH;
        }
    }
    return MS_OK;
}

/* One sealed record must open to the same plaintext with the header fields it was sealed with. */
static ms_err rec_roundtrip(rec_ctx *x)
{
    ms_record_info info;
    size_t len;
    memset(x->out, 0, x->size);
    ms_err e = ms_channel_seal(x->client, MS_REC_MSG, 7, 0, x->pt, x->size, x->rec,
                               ms_record_size(x->size), &len);
    if (e == MS_OK) {
        e = ms_channel_open(x->server, x->rec, len, &info, x->out, x->size);
    }
    if (e != MS_OK) {
        return e;
    }
    if (len != ms_record_size(x->size) || info.rec_len != len || info.pt_len != x->size ||
        info.msg_id != 7 || info.type != MS_REC_MSG || !ms_ct_equal(x->out, x->pt, x->size)) {
        return MS_ERR_INTERNAL;
    }
    return MS_OK;
}

static void rec_ctx_free(rec_ctx *x)
{
    ms_channel_free(x->client);
    ms_channel_free(x->server);
    free(x->pt);
    free(x->rec);
    free(x->out);
}

static ms_err rec_ctx_init(rec_ctx *x, size_t size)
{
    memset(x, 0, sizeof *x);
    x->size = size;
    x->pt = malloc(size);
    x->rec = calloc(1, ms_record_size(size));
    x->out = malloc(size);
    if (!x->pt || !x->rec || !x->out) {
        return MS_ERR_NOMEM;
    }
    for (size_t i = 0; i < size; i++) {
        x->pt[i] = (uint8_t)(i * 131u + 7u);
    }
    ms_err e = ms_channel_new(&x->client, MS_ROLE_CLIENT, session_id, k_c2s, k_s2c);
    if (e == MS_OK) {
        e = ms_channel_new(&x->server, MS_ROLE_SERVER, session_id, k_c2s, k_s2c);
    }
    return e;
}

static ms_err bench_records(size_t size, const opts *o, cmp *c)
{
    rec_ctx x;
    ms_err e = rec_ctx_init(&x, size);
    if (e == MS_OK) {
        e = rec_roundtrip(&x);
    }
    if (e == MS_OK) {
        e = compare(rec_base, &x, rec_ours, &x, o, c);
    }
    if (e == MS_OK) {
        e = rec_roundtrip(&x); /* still correct after many epochs */
    }
    rec_ctx_free(&x);
    return e;
}

/* ---- handshakes ------------------------------------------------------------------------- */

#define NOT_AFTER_FAR 4102444800ull /* 2100-01-01 */
#define BENCH_NOW 1700000000ull

static const uint16_t dev_key_only[1] = {MS_EVIDENCE_DEV_KEY};

/* dev-key, FAST, empty evidence: the handshake's own cost without any attestation work. */
static ms_err provide_trivial(void *ctx, const ms_evidence_request *req, ms_evidence_reply *rep)
{
    (void)ctx;
    (void)req;
    rep->type = MS_EVIDENCE_DEV_KEY;
    rep->mode = MS_MODE_FAST;
    rep->not_after = NOT_AFTER_FAR;
    return MS_OK;
}

static ms_err verify_accept(void *ctx, const ms_evidence_view *ev)
{
    (void)ctx;
    (void)ev;
    return MS_OK;
}

typedef struct hs_ctx {
    uint8_t static_sk[MS_X25519_LEN];
    uint8_t static_pk[MS_X25519_LEN];
    ms_hs_server_cfg scfg;
    ms_hs_client_cfg ccfg;
    /* baseline state: inputs change every iteration so no result can be reused */
    uint8_t c_sk[MS_X25519_LEN], s_sk[MS_X25519_LEN];
    uint8_t sink[MS_X25519_LEN];
} hs_ctx;

/* One complete handshake, both sides, everything freed. */
static ms_err hs_once(hs_ctx *x)
{
    struct ms_hs_client *cl = NULL;
    struct ms_hs_pending *pend = NULL;
    struct ms_channel *cch = NULL, *sch = NULL;
    ms_hs_client_result cres;
    ms_hs_server_result sres;
    ms_buf chb, shb, cfb;
    ms_buf_init(&chb, MS_CLIENT_HELLO_MAX_LEN);
    ms_buf_init(&shb, MS_SERVER_HELLO_FIXED_LEN + MS_MAX_EVIDENCE);
    ms_buf_init(&cfb, MS_CLIENT_FINISH_MAX_LEN);
    ms_err e = ms_hs_client_new(&cl, &x->ccfg, &chb);
    if (e == MS_OK) {
        e = ms_hs_server_respond(&x->scfg, chb.p, chb.len, &shb, &pend);
    }
    if (e == MS_OK) {
        e = ms_hs_client_finish(cl, shb.p, shb.len, BENCH_NOW, &cfb, &cch, &cres);
    }
    if (e == MS_OK) {
        e = ms_hs_server_finish(pend, cfb.p, cfb.len, &sch, &sres);
    }
    if (e == MS_OK && !ms_ct_equal(cres.session_id, sres.session_id, MS_SESSION_ID_LEN)) {
        e = MS_ERR_INTERNAL;
    }
    ms_channel_free(cch);
    ms_channel_free(sch);
    ms_hs_pending_free(pend);
    ms_hs_client_free(cl);
    ms_buf_free(&chb);
    ms_buf_free(&shb);
    ms_buf_free(&cfb);
    return e;
}

static ms_err hs_ours(void *vctx, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        ms_err e = hs_once(vctx);
        if (e != MS_OK) {
            return e;
        }
    }
    return MS_OK;
}

/* The 6 X25519 operations of one handshake (§6.1, §7.2): per side one base point, two DH. */
static ms_err hs_base(void *vctx, uint64_t n)
{
    hs_ctx *x = vctx;
    uint8_t c_pk[MS_X25519_LEN], s_pk[MS_X25519_LEN], ee[MS_X25519_LEN], es[MS_X25519_LEN];
    for (uint64_t i = 0; i < n; i++) {
        x->c_sk[0] ^= x->sink[0];
        x->s_sk[0] ^= x->sink[1];
        crypto_scalarmult_base(c_pk, x->c_sk);                           /* client eph */
        crypto_scalarmult_base(s_pk, x->s_sk);                           /* server eph */
        if (crypto_scalarmult(ee, x->s_sk, c_pk) != 0 ||                 /* server ee */
            crypto_scalarmult(es, x->static_sk, c_pk) != 0) {            /* server es */
            return MS_ERR_HS_WEAK_KEY;
        }
        x->sink[0] ^= ee[0] ^ es[0];
        if (crypto_scalarmult(ee, x->c_sk, s_pk) != 0 ||                 /* client ee */
            crypto_scalarmult(es, x->c_sk, x->static_pk) != 0) {         /* client es */
            return MS_ERR_HS_WEAK_KEY;
        }
        x->sink[1] ^= ee[1] ^ es[1];
    }
    return MS_OK;
}

static void hs_ctx_init(hs_ctx *x)
{
    memset(x, 0, sizeof *x);
    for (unsigned i = 0; i < MS_X25519_LEN; i++) {
        x->static_sk[i] = (uint8_t)(0x41 + i);
        x->c_sk[i] = (uint8_t)(0x61 + i);
        x->s_sk[i] = (uint8_t)(0x81 + i);
    }
    crypto_scalarmult_base(x->static_pk, x->static_sk); /* once, at "start-up" */
    x->scfg = (ms_hs_server_cfg){.static_sk = x->static_sk, .static_pk = x->static_pk,
                                 .provide = provide_trivial};
    x->ccfg = (ms_hs_client_cfg){.evidence_types = dev_key_only, .n_evidence_types = 1,
                                 .verify = verify_accept};
}

static ms_err bench_handshake(const opts *o, cmp *c)
{
    hs_ctx x;
    hs_ctx_init(&x);
    ms_err e = hs_once(&x);
    if (e == MS_OK) {
        e = compare(hs_base, &x, hs_ours, &x, o, c);
    }
    ms_wipe(&x, sizeof x);
    return e;
}

/* ---- output ----------------------------------------------------------------------------- */

static double mbps(size_t size, uint64_t iters, double s)
{
    return (double)size * (double)iters / s / 1e6;
}

/* Seconds per operation in the median round. */
static double per_op(const double *rounds_s, const cmp *c)
{
    return median(rounds_s, c->rounds) / (double)c->iters;
}

static void print_table(const cmp rec[N_SIZES], const cmp *hs, const opts *o)
{
    printf("bench-channel (%s: %u interleaved rounds of ~%.0f ms per side)\n",
           o->quick ? "quick" : "default", o->rounds, o->round_s * 1e3);
    printf("ratio = ours / baseline throughput: median of per-round ratios (headline),\n"
           "ratio of the median rounds, ratio of the best rounds\n\n");
    printf("%-9s %9s %10s %10s %8s %8s %8s\n", "record B", "iters", "raw MB/s", "ours MB/s",
           "ratio", "med/med", "best");
    for (unsigned i = 0; i < N_SIZES; i++) {
        const cmp *c = &rec[i];
        printf("%-9zu %9llu %10.1f %10.1f %8.3f %8.3f %8.3f\n", sizes[i],
               (unsigned long long)c->iters, mbps(sizes[i], 1, per_op(c->base_s, c)),
               mbps(sizes[i], 1, per_op(c->ours_s, c)), ratio_paired(c), ratio_median(c),
               ratio_best(c));
    }
    double t6 = per_op(hs->base_s, hs), ths = per_op(hs->ours_s, hs);
    printf("\n%-9s %9s %10s %10s %8s %8s %8s\n", "handshake", "iters", "bound/s", "ours/s",
           "ratio", "med/med", "best");
    printf("%-9s %9llu %10.1f %10.1f %8.3f %8.3f %8.3f\n", "full", (unsigned long long)hs->iters,
           1.0 / t6, 1.0 / ths, ratio_paired(hs), ratio_median(hs), ratio_best(hs));
    printf("\nX25519 op %.1f us (x6 = %.1f us); full handshake %.1f us\n", t6 / 6 * 1e6,
           t6 * 1e6, ths * 1e6);
    printf("MB/s counts plaintext bytes once per seal+open pair.\n");
}

static void print_json_cmp_extra(const cmp *c)
{
    printf("\"iters_per_round\": %llu, \"ratio_median_rounds\": %.4f, \"ratio_best_rounds\": %.4f",
           (unsigned long long)c->iters, ratio_median(c), ratio_best(c));
}

static void print_json(const cmp rec[N_SIZES], const cmp *hs, const opts *o)
{
    printf("{\"seal_open_vs_raw\": {");
    for (unsigned i = 0; i < N_SIZES; i++) {
        printf("%s\"%zu\": %.4f", i ? ", " : "", sizes[i], ratio_paired(&rec[i]));
    }
    printf("}, \"handshake_vs_x25519_bound\": %.4f, ", ratio_paired(hs));
    printf("\"mode\": \"%s\", \"rounds\": %u, \"round_ms\": %.1f, "
           "\"statistic\": \"median of per-round ratios\", \"seal_open\": {",
           o->quick ? "quick" : "default", o->rounds, o->round_s * 1e3);
    for (unsigned i = 0; i < N_SIZES; i++) {
        const cmp *c = &rec[i];
        printf("%s\"%zu\": {\"raw_mb_s\": %.2f, \"ours_mb_s\": %.2f, ", i ? ", " : "", sizes[i],
               mbps(sizes[i], 1, per_op(c->base_s, c)), mbps(sizes[i], 1, per_op(c->ours_s, c)));
        print_json_cmp_extra(c);
        printf("}");
    }
    double t6 = per_op(hs->base_s, hs), ths = per_op(hs->ours_s, hs);
    printf("}, \"handshake\": {\"handshakes_per_s\": %.1f, \"x25519_bound_per_s\": %.1f, "
           "\"x25519_op_us\": %.2f, \"handshake_us\": %.2f, ",
           1.0 / ths, 1.0 / t6, t6 / 6 * 1e6, ths * 1e6);
    print_json_cmp_extra(hs);
    printf("}}\n");
}

static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi) {
        return 0;
    }
    *out = (unsigned)v;
    return 1;
}

static int parse_opts(int argc, char **argv, opts *o)
{
    unsigned ms = 40;
    *o = (opts){.rounds = 15};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            o->json = 1;
        } else if (strcmp(argv[i], "--quick") == 0) {
            o->quick = 1;
            o->rounds = 3;
            ms = 4;
        } else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc &&
                   parse_uint(argv[i + 1], 1, MAX_ROUNDS, &o->rounds)) {
            i++;
        } else if (strcmp(argv[i], "--round-ms") == 0 && i + 1 < argc &&
                   parse_uint(argv[i + 1], 1, 10000, &ms)) {
            i++;
        } else {
            fprintf(stderr, "usage: %s [--json] [--quick] [--rounds N] [--round-ms MS]\n",
                    argv[0]);
            return 0;
        }
    }
    o->round_s = ms / 1e3;
    return 1;
}

int main(int argc, char **argv)
{
    opts o;
    cmp rec[N_SIZES], hs;
    if (!parse_opts(argc, argv, &o)) {
        return 2;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "bench-channel: %s\n", ms_err_str(MS_ERR_CRYPTO_INIT));
        return 1;
    }
    for (unsigned i = 0; i < N_SIZES; i++) {
        ms_err e = bench_records(sizes[i], &o, &rec[i]);
        if (e != MS_OK) {
            fprintf(stderr, "bench-channel: seal/open of %zu bytes failed: %s\n", sizes[i],
                    ms_err_name(e));
            return 1;
        }
    }
    ms_err e = bench_handshake(&o, &hs);
    if (e != MS_OK) {
        fprintf(stderr, "bench-channel: handshake failed: %s\n", ms_err_name(e));
        return 1;
    }
    if (o.json) {
        print_json(rec, &hs, &o);
    } else {
        print_table(rec, &hs, &o);
    }
    return 0;
}
