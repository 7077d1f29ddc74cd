/* Known-answer tests: the C channel against vectors from the independent Python implementation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/check.h"
#include "common/codec.h"
#include "common/cursor.h"
#include "secure/stream.h"
#include "tests/secure/fixture.h"

#define MAX_FIELDS 64
#define MAX_FILE (8u * 1024u * 1024u)

/* One `---`-separated block of `key: value` lines, pointing into the file's text. */
typedef struct vblock {
    int n;
    const char *key[MAX_FIELDS];
    size_t key_len[MAX_FIELDS];
    const char *val[MAX_FIELDS];
    size_t val_len[MAX_FIELDS];
} vblock;

static int read_file(const char *name, ms_buf *out)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/secure/vectors/%s", MS_SOURCE_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s: %s\n", path, strerror(errno));
        return 0;
    }
    uint8_t chunk[65536];
    size_t got;
    int ok = 1;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        ok &= ms_buf_append(out, chunk, got) == MS_OK;
    }
    fclose(f);
    return ok && ms_buf_terminate(out) == MS_OK;
}

static const char *field(const vblock *b, const char *key, size_t *len)
{
    for (int i = 0; i < b->n; i++) {
        if (b->key_len[i] == strlen(key) && memcmp(b->key[i], key, b->key_len[i]) == 0) {
            *len = b->val_len[i];
            return b->val[i];
        }
    }
    fprintf(stderr, "vector field missing: %s\n", key);
    abort();
}

static void hex(const vblock *b, const char *key, ms_buf *out)
{
    size_t n;
    const char *v = field(b, key, &n);
    ms_buf_clear(out);
    if (ms_hex_decode_buf(v, n, out) != MS_OK) {
        fprintf(stderr, "bad hex in %s\n", key);
        abort();
    }
}

/* Fixed-size hex field. */
static void hexn(const vblock *b, const char *key, uint8_t *out, size_t want)
{
    ms_buf t;
    ms_buf_init(&t, 1 << 20);
    hex(b, key, &t);
    if (t.len != want) {
        fprintf(stderr, "%s: %zu bytes, want %zu\n", key, t.len, want);
        abort();
    }
    memcpy(out, t.p, want);
    ms_buf_free(&t);
}

static uint64_t num(const vblock *b, const char *key)
{
    size_t n;
    char tmp[32];
    const char *v = field(b, key, &n);
    char *end;
    if (n == 0 || n >= sizeof tmp) {
        abort();
    }
    memcpy(tmp, v, n);
    tmp[n] = 0;
    errno = 0;
    unsigned long long x = strtoull(tmp, &end, 10);
    if (errno || *end) {
        abort();
    }
    return x;
}

/* Split the file into blocks and call fn on each; returns the number of blocks. */
static int for_each_block(const char *name, void (*fn)(const vblock *))
{
    ms_buf text;
    ms_buf_init(&text, MAX_FILE);
    if (!read_file(name, &text)) {
        ms_buf_free(&text);
        return 0;
    }
    vblock b = {0};
    int blocks = 0;
    char *line = (char *)text.p;
    while (line && *line) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (len == 3 && memcmp(line, "---", 3) == 0) {
            fn(&b);
            blocks++;
            memset(&b, 0, sizeof b);
        } else if (len > 0 && line[0] != '#') {
            char *colon = memchr(line, ':', len);
            if (!colon || b.n == MAX_FIELDS) {
                abort();
            }
            b.key[b.n] = line;
            b.key_len[b.n] = (size_t)(colon - line);
            const char *v = colon + 1;
            size_t vl = len - b.key_len[b.n] - 1;
            if (vl > 0 && *v == ' ') {
                v++;
                vl--;
            }
            b.val[b.n] = v;
            b.val_len[b.n] = vl;
            b.n++;
        }
        line = nl ? nl + 1 : NULL;
    }
    if (b.n > 0) {
        fn(&b);
        blocks++;
    }
    ms_buf_free(&text);
    return blocks;
}

static int check_bytes(const char *what, const vblock *b, const uint8_t *got, size_t got_len)
{
    ms_buf want;
    ms_buf_init(&want, 1 << 21);
    hex(b, what, &want);
    int ok = want.len == got_len && memcmp(want.p, got, got_len) == 0;
    if (!ok) {
        size_t n;
        const char *name = field(b, "name", &n);
        fprintf(stderr, "  [%.*s] %s differs (%zu vs %zu bytes)\n", (int)n, name, what, got_len,
                want.len);
    }
    ms_buf_free(&want);
    return ok;
}

/* ---- handshake vectors ------------------------------------------------------------------ */

typedef struct hs_vec {
    uint16_t type;
    uint8_t mode;
    uint64_t not_after;
    ms_buf evidence;
    uint8_t binding[MS_BINDING_LEN];
    uint8_t static_pk[MS_X25519_LEN];
    int provider_binding_ok;
    int held;                              /* FAST_HELD: the client holds `evidence` */
    uint8_t sha[MS_HELD_DIGEST_LEN];       /* its SHA-256 */
} hs_vec;

static ms_err vec_provide(void *ctx, const ms_evidence_request *req, ms_evidence_reply *rep)
{
    hs_vec *v = ctx;
    uint8_t b[MS_BINDING_LEN];
    ms_binding_in in = {.evidence_type = v->type, .mode = v->mode, .not_after = v->not_after};
    memcpy(in.static_pk, req->static_pk, MS_X25519_LEN);
    memcpy(in.challenge, req->challenge, MS_CHALLENGE_LEN);
    memcpy(in.client_eph_pk, req->client_eph_pk, MS_X25519_LEN);
    memcpy(in.server_eph_pk, req->server_eph_pk, MS_X25519_LEN);
    TRY(ms_kdf_binding(b, &in));
    v->provider_binding_ok = memcmp(b, v->binding, sizeof b) == 0;
    rep->type = v->type;
    rep->mode = v->mode;
    rep->not_after = v->not_after;
    if (v->held) { /* as the supervisor's identity answers: shared bytes and their digest */
        rep->shared = v->evidence.p;
        rep->shared_len = v->evidence.len;
        rep->shared_sha256 = v->sha;
        return MS_OK;
    }
    return ms_buf_append(&rep->evidence, v->evidence.p, v->evidence.len);
}

static ms_err vec_verify(void *ctx, const ms_evidence_view *ev)
{
    hs_vec *v = ctx;
    if (memcmp(ev->binding, v->binding, MS_BINDING_LEN) != 0 || ev->held != v->held ||
        memcmp(ev->static_pk, v->static_pk, MS_X25519_LEN) != 0 || ev->len != v->evidence.len ||
        (ev->len && memcmp(ev->data, v->evidence.p, ev->len) != 0)) {
        return MS_ERR_ATTEST_REJECTED;
    }
    return MS_OK;
}

static void u16_list(const vblock *b, const char *key, uint16_t *out, uint8_t *n)
{
    ms_buf t;
    ms_buf_init(&t, 64);
    hex(b, key, &t);
    *n = (uint8_t)(t.len / 2);
    for (uint8_t i = 0; i < *n; i++) {
        out[i] = ms_load_u16be(t.p + 2 * i);
    }
    ms_buf_free(&t);
}

/* The key schedule alone, from the vector's DH inputs (§7.2). */
static void hs_check_kdf(const vblock *b, const uint8_t *c_eph, const uint8_t *s_eph,
                         const uint8_t *static_sk)
{
    uint8_t s_eph_pk[MS_X25519_LEN], c_eph_pk[MS_X25519_LEN], static_pk[MS_X25519_LEN];
    uint8_t ee[MS_X25519_LEN], es[MS_X25519_LEN], ee2[MS_X25519_LEN], es2[MS_X25519_LEN];
    uint8_t th[MS_KEY_LEN], prk[MS_KEY_LEN];
    ms_hs_keys k;
    crypto_scalarmult_base(s_eph_pk, s_eph);
    crypto_scalarmult_base(c_eph_pk, c_eph);
    crypto_scalarmult_base(static_pk, static_sk);
    CHECK_OK(ms_kdf_dh(ee, c_eph, s_eph_pk));
    CHECK_OK(ms_kdf_dh(es, c_eph, static_pk));
    CHECK_OK(ms_kdf_dh(ee2, s_eph, c_eph_pk));
    CHECK_OK(ms_kdf_dh(es2, static_sk, c_eph_pk));
    CHECK(memcmp(ee, ee2, sizeof ee) == 0 && memcmp(es, es2, sizeof es) == 0);
    CHECK(check_bytes("ee", b, ee, sizeof ee));
    CHECK(check_bytes("es", b, es, sizeof es));
    hexn(b, "transcript_hash", th, sizeof th);
    ms_kdf_schedule(&k, th, ee, es, prk);
    CHECK(check_bytes("prk", b, prk, sizeof prk));
    CHECK(check_bytes("k_c2s", b, k.c2s, MS_KEY_LEN));
    CHECK(check_bytes("k_s2c", b, k.s2c, MS_KEY_LEN));
    CHECK(check_bytes("k_sfin", b, k.sfin, MS_KEY_LEN));
    CHECK(check_bytes("k_cfin", b, k.cfin, MS_KEY_LEN));
    uint8_t sc[MS_KEY_LEN], cc[MS_KEY_LEN];
    ms_kdf_mac2(sc, k.sfin, th, MS_KEY_LEN, NULL, 0);
    ms_kdf_mac2(cc, k.cfin, th, MS_KEY_LEN, sc, MS_KEY_LEN);
    CHECK(check_bytes("server_confirm", b, sc, sizeof sc));
    CHECK(check_bytes("client_confirm", b, cc, sizeof cc));
}

static void hs_vector(const vblock *b)
{
    uint8_t c_eph[32], chal[32], s_eph[32], sid[16], spki[32], static_sk[32], id_sk[64], id_pk[32];
    uint8_t versions[MS_MAX_HS_LIST];
    uint16_t suites[MS_MAX_HS_LIST], types[MS_MAX_HS_LIST];
    uint8_t n_versions, n_suites, n_types;
    ms_buf t;
    hs_vec v = {0};
    ms_buf_init(&t, 64);
    hex(b, "ch_versions", &t);
    n_versions = (uint8_t)t.len;
    memcpy(versions, t.p, t.len);
    ms_buf_free(&t);
    u16_list(b, "ch_suites", suites, &n_suites);
    u16_list(b, "ch_evidence_types", types, &n_types);
    hexn(b, "client_eph_sk", c_eph, 32);
    hexn(b, "challenge", chal, 32);
    hexn(b, "server_eph_sk", s_eph, 32);
    hexn(b, "session_id", sid, 16);
    hexn(b, "tls_spki_sha256", spki, 32);
    hexn(b, "server_static_sk", static_sk, 32);
    hexn(b, "binding", v.binding, MS_BINDING_LEN);
    crypto_scalarmult_base(v.static_pk, static_sk);
    v.type = (uint16_t)num(b, "evidence_type");
    v.mode = (uint8_t)num(b, "evidence_mode");
    v.not_after = num(b, "evidence_not_after");
    ms_buf_init(&v.evidence, MS_MAX_EVIDENCE);
    hex(b, "evidence", &v.evidence);
    /* FAST_HELD (§6): FAST evidence the client holds and names by its SHA-256. */
    v.held = v.mode == MS_MODE_FAST_HELD;
    if (v.held) {
        v.mode = MS_MODE_FAST;
        crypto_hash_sha256(v.sha, v.evidence.p, v.evidence.len);
    }

    ms_buf seed;
    ms_buf_init(&seed, 64);
    hex(b, "client_id_seed", &seed);
    int has_id = seed.len == 32;
    if (has_id) {
        crypto_sign_seed_keypair(id_pk, id_sk, seed.p);
    }
    ms_buf_free(&seed);

    ms_hs_client_cfg ccfg = {.evidence_types = types, .n_evidence_types = n_types,
                             .strict = (int)(num(b, "ch_flags") & MS_CH_FLAG_STRICT),
                             .client_id_sk = has_id ? id_sk : NULL, .verify = vec_verify,
                             .verify_ctx = &v, .held = v.held ? v.evidence.p : NULL,
                             .held_len = v.held ? v.evidence.len : 0,
                             .held_sha256 = v.held ? v.sha : NULL};
    ms_hs_server_cfg scfg = {.static_sk = static_sk, .static_pk = v.static_pk,
                             .tls_spki_hash = spki, .provide = vec_provide, .provide_ctx = &v,
                             .held_sha256 = v.held ? v.sha : NULL};
    ms_hs_det cd = {.eph_sk = c_eph, .challenge = chal, .versions = versions,
                    .n_versions = n_versions, .suites = suites, .n_suites = n_suites};
    ms_hs_det sd = {.eph_sk = s_eph, .session_id = sid};
    ms_buf ch, sh, cf;
    ms_buf_init(&ch, 4096);
    ms_buf_init(&sh, MS_SERVER_HELLO_FIXED_LEN + MS_MAX_EVIDENCE);
    ms_buf_init(&cf, 4096);
    struct ms_hs_client *hc = NULL;
    struct ms_hs_pending *p = NULL;
    struct ms_channel *cc = NULL, *sc = NULL;
    ms_hs_client_result cres;
    ms_hs_server_result sres;

    CHECK_OK(ms_hs_client_new_det(&hc, &ccfg, &cd, &ch));
    CHECK(check_bytes("client_hello", b, ch.p, ch.len));
    CHECK_OK(ms_hs_server_respond_det(&scfg, &sd, ch.p, ch.len, &sh, &p));
    CHECK(v.provider_binding_ok);
    CHECK(check_bytes("server_hello", b, sh.p, sh.len));
    CHECK_OK(ms_hs_client_finish(hc, sh.p, sh.len, 0, &cf, &cc, &cres));
    CHECK(check_bytes("transcript_hash", b, cres.transcript_hash, MS_KEY_LEN));
    CHECK(check_bytes("client_finish", b, cf.p, cf.len));
    if (p) {
        CHECK_OK(ms_hs_server_finish(p, cf.p, cf.len, &sc, &sres));
        CHECK(sres.has_client_id == has_id && (!has_id || memcmp(sres.client_id_pk, id_pk, 32) == 0));
    }
    hs_check_kdf(b, c_eph, s_eph, static_sk);

    ms_hs_client_free(hc);
    ms_hs_pending_free(p);
    ms_channel_free(cc);
    ms_channel_free(sc);
    ms_buf_free(&ch);
    ms_buf_free(&sh);
    ms_buf_free(&cf);
    ms_buf_free(&v.evidence);
}

/* ---- record vectors --------------------------------------------------------------------- */

/* Bring a fresh sender to sequence number `seq` the way a real sender gets there. */
static void advance_to(struct ms_channel *ch, uint64_t seq)
{
    uint8_t r[MS_REC_OVERHEAD + 1];
    size_t n;
    uint64_t cur = 0;
    while ((seq >> MS_EPOCH_SHIFT) > (cur >> MS_EPOCH_SHIFT)) {
        if (ms_channel_seal(ch, MS_REC_MSG, 0, 0, r, 1, r, sizeof r, &n) != MS_OK ||
            ms_channel_rekey(ch) != MS_OK) {
            abort();
        }
        cur = ((cur >> MS_EPOCH_SHIFT) + 1) << MS_EPOCH_SHIFT;
    }
    for (; cur < seq; cur++) {
        if (ms_channel_seal(ch, MS_REC_MSG, 0, 0, r, 1, r, sizeof r, &n) != MS_OK) {
            abort();
        }
    }
}

static void record_vector(const vblock *b)
{
    uint8_t k1[32], k2[32], sid[16];
    hexn(b, "k_c2s", k1, 32);
    hexn(b, "k_s2c", k2, 32);
    hexn(b, "session_id", sid, 16);
    uint8_t dir = (uint8_t)num(b, "direction");
    uint64_t seq = num(b, "seq");
    ms_buf pt_in, out, pt_out;
    ms_buf_init(&pt_in, MS_MAX_RECORD_PLAINTEXT);
    ms_buf_init(&out, MS_MAX_RECORD_PLAINTEXT + MS_REC_OVERHEAD);
    ms_buf_init(&pt_out, MS_MAX_RECORD_PLAINTEXT);
    hex(b, "plaintext", &pt_in);
    struct ms_channel *tx, *rx;
    ms_role txr = dir == MS_DIR_C2S ? MS_ROLE_CLIENT : MS_ROLE_SERVER;
    ms_role rxr = dir == MS_DIR_C2S ? MS_ROLE_SERVER : MS_ROLE_CLIENT;
    CHECK_OK(ms_channel_new(&tx, txr, sid, k1, k2));
    CHECK_OK(ms_channel_new(&rx, rxr, sid, k1, k2));
    advance_to(tx, seq);
    CHECK_OK(ms_channel_seal_buf(tx, (uint8_t)num(b, "type"), (uint32_t)num(b, "msg_id"),
                                 (uint32_t)num(b, "chunk"), pt_in.p, pt_in.len, &out));
    CHECK(check_bytes("record", b, out.p, out.len));
    /* A fresh receiver opens the Python-made record directly. */
    ms_buf_clear(&out);
    hex(b, "record", &out);
    ms_record_info info;
    CHECK_OK(ms_channel_open_buf(rx, out.p, out.len, &info, &pt_out));
    CHECK(info.seq == seq && pt_out.len == pt_in.len &&
          (pt_in.len == 0 || memcmp(pt_out.p, pt_in.p, pt_in.len) == 0));
    ms_channel_free(tx);
    ms_channel_free(rx);
    ms_buf_free(&pt_in);
    ms_buf_free(&out);
    ms_buf_free(&pt_out);
}

static void ratchet_vector(const vblock *b)
{
    uint8_t k[MS_KEY_LEN];
    hexn(b, "k0", k, sizeof k);
    const char *names[] = {"k1", "k2", "k3", NULL, NULL, NULL, NULL, "k8"};
    for (int e = 1; e <= 8; e++) {
        ms_kdf_ratchet(k);
        if (names[e - 1]) {
            CHECK(check_bytes(names[e - 1], b, k, sizeof k));
        }
    }
}

static void test_handshake_vectors(void)
{
    CHECK(for_each_block("handshake.txt", hs_vector) >= 6);
}

static void test_record_vectors(void)
{
    CHECK(for_each_block("records.txt", record_vector) >= 10);
}

static void test_ratchet_vectors(void)
{
    CHECK(for_each_block("ratchet.txt", ratchet_vector) >= 3);
}

int main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    RUN(test_handshake_vectors);
    RUN(test_record_vectors);
    RUN(test_ratchet_vectors);
    return TEST_SUMMARY();
}
