/* The channel demo's steps: handshake, exchange, refused attacks (tools/channel-demo/demo.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/codec.h"
#include "secure/stream.h"

#include "tools/channel-demo/demo.h"

ms_err demo_dev_provide(void *ctx, const ms_evidence_request *req, ms_evidence_reply *rep)
{
    const dev_key *k = ctx;
    uint8_t b[MS_BINDING_LEN], sig[MS_SIG_LEN];
    int offered = 0;
    for (uint8_t i = 0; i < req->n_client_types; i++) {
        offered |= req->client_types[i] == MS_EVIDENCE_DEV_KEY;
    }
    if (!offered) {
        return MS_ERR_HS_EVIDENCE_TYPE;
    }
    ms_binding_in in = {.evidence_type = MS_EVIDENCE_DEV_KEY,
                        .mode = req->strict ? MS_MODE_STRICT : MS_MODE_FAST,
                        .not_after = (uint64_t)time(NULL) + 300};
    memcpy(in.static_pk, req->static_pk, MS_X25519_LEN);
    memcpy(in.challenge, req->challenge, MS_CHALLENGE_LEN);
    memcpy(in.client_eph_pk, req->client_eph_pk, MS_X25519_LEN);
    memcpy(in.server_eph_pk, req->server_eph_pk, MS_X25519_LEN);
    ms_err e = ms_kdf_binding(b, &in);
    if (e != MS_OK) {
        return e;
    }
    crypto_sign_detached(sig, NULL, b, sizeof b, k->sk);
    rep->type = in.evidence_type;
    rep->mode = in.mode;
    rep->not_after = in.not_after;
    return ms_buf_append(&rep->evidence, sig, sizeof sig);
}

ms_err demo_dev_verify(void *ctx, const ms_evidence_view *ev)
{
    const uint8_t *pinned_pk = ctx;
    if (ev->type != MS_EVIDENCE_DEV_KEY || ev->len != MS_SIG_LEN ||
        crypto_sign_verify_detached(ev->data, ev->binding, MS_BINDING_LEN, pinned_pk) != 0) {
        return MS_ERR_ATTEST_REJECTED;
    }
    return MS_OK;
}

static const char *hex8(const uint8_t *p, char out[static 17])
{
    size_t n;
    if (ms_hex_encode(p, 8, out, 17, &n) != MS_OK) {
        out[0] = 0;
    }
    return out;
}

static int step(int ok, const char *what)
{
    printf("  %s %s\n", ok ? "[ok]  " : "[FAIL]", what);
    return ok;
}

int demo_handshake(demo *d)
{
    int ok = 1;
    char h1[17], h2[17];
    uint16_t types[] = {MS_EVIDENCE_DEV_KEY};
    ms_hs_client_cfg ccfg = {.evidence_types = types, .n_evidence_types = 1, .verify = demo_dev_verify,
                             .verify_ctx = d->dev.pk};
    ms_hs_server_cfg scfg = {.static_sk = d->static_sk, .static_pk = d->static_pk,
                             .provide = demo_dev_provide, .provide_ctx = &d->dev};
    ms_buf ch, sh, cf;
    ms_buf_init(&ch, 4096);
    ms_buf_init(&sh, 1 << 20);
    ms_buf_init(&cf, 4096);
    struct ms_hs_client *hc = NULL;
    struct ms_hs_pending *p = NULL;
    ms_hs_client_result cres;
    ms_hs_server_result sres;

    printf("1. Handshake (protocol.md sections 4-7)\n");
    ok &= step(ms_hs_client_new(&hc, &ccfg, &ch) == MS_OK,
               "client: ClientHello, a fresh X25519 ephemeral key and 32-byte challenge");
    ok &= ok && step(ms_hs_server_respond(&scfg, ch.p, ch.len, &sh, &p) == MS_OK,
                     "supervisor: ServerHello, its ephemeral and static keys and dev-key\n"
                     "         evidence (a signature over the binding)");
    ok &= ok && step(ms_hs_client_finish(hc, sh.p, sh.len, (uint64_t)time(NULL), &cf, &d->cc,
                                         &cres) == MS_OK,
                     "client: key confirmation verified, evidence verified against the\n"
                     "         pinned dev key");
    ok &= ok && step(ms_hs_server_finish(p, cf.p, cf.len, &d->sc, &sres) == MS_OK,
                     "supervisor: client key confirmation verified: session established");
    if (ok) {
        printf("     session %s..., transcript %s...,\n     messages %zu/%zu/%zu bytes\n",
               hex8(cres.session_id, h1), hex8(cres.transcript_hash, h2), ch.len, sh.len, cf.len);
        uint64_t now = (uint64_t)time(NULL);
        uint64_t left = cres.evidence_not_after > now ? cres.evidence_not_after - now : 0;
        printf("     evidence: dev-key, FAST mode, valid for %" PRIu64 " more seconds\n"
               "     (development mode: proves who holds the key, not what host runs it)\n",
               left);
    }
    ms_hs_client_free(hc);
    ms_hs_pending_free(p);
    ms_buf_free(&ch);
    ms_buf_free(&sh);
    ms_buf_free(&cf);
    return ok;
}

int demo_exchange(demo *d)
{
    int ok = 1;
    const char *task = "Which host did the attacker pivot from, according to the firewall log?";
    const char *chunks[] = {"The pivot ", "came from ", "10.0.4.17 ", "(build-02)."};
    ms_buf wire, pt;
    ms_record_info info;
    ms_buf_init(&wire, 1 << 16);
    ms_buf_init(&pt, 1 << 16);

    printf("2. Sealed request (section 8)\n");
    ok &= step(ms_channel_seal_buf(d->cc, MS_REC_MSG, 1, 0, (const uint8_t *)task, strlen(task),
                                   &wire) == MS_OK,
               "client seals the task as one record (ChaCha20-Poly1305, header as AD)");
    ok &= ok && step(ms_channel_open_buf(d->sc, wire.p, wire.len, &info, &pt) == MS_OK &&
                         pt.len == strlen(task) && memcmp(pt.p, task, pt.len) == 0,
                     "supervisor opens it: same bytes");
    printf("     %zu bytes of task -> %zu bytes on the wire\n", strlen(task), wire.len);

    printf("3. Streamed reply ending in an authenticated FINAL (section 10)\n");
    ms_stream_tx tx;
    ms_buf_clear(&wire);
    ok &= ms_stream_tx_init(&tx, 1) == MS_OK;
    for (int i = 0; i < 4 && ok; i++) {
        ok &= ms_stream_tx_seal(&tx, d->sc, (const uint8_t *)chunks[i], strlen(chunks[i]), i == 3,
                                &wire) == MS_OK;
    }
    ms_stream_rx rx;
    size_t used;
    const uint8_t *ans;
    size_t ans_len = 0;
    ms_stream_rx_init(&rx, 1, 1 << 16);
    ok &= step(ok && ms_stream_rx_open(&rx, d->cc, wire.p, wire.len, &used) == MS_OK &&
                   ms_stream_rx_finish(&rx, &ans, &ans_len) == MS_OK,
               "client reads 4 stream records, the last one FINAL");
    if (ok) {
        printf("     reply: \"%.*s\"\n", (int)ans_len, (const char *)ans);
    }
    ms_stream_rx_free(&rx);
    ms_buf_free(&wire);
    ms_buf_free(&pt);
    return ok;
}

static int expect_err(ms_err got, ms_err want, const char *what)
{
    char line[256];
    snprintf(line, sizeof line, "%s\n         -> refused with %s", what, ms_err_name(got));
    return step(got == want, line);
}

int demo_attacks(demo *d)
{
    int ok = 1;
    ms_buf wire, pt;
    ms_record_info info;
    ms_buf_init(&wire, 1 << 16);
    ms_buf_init(&pt, 1 << 16);
    printf("4. What the channel refuses\n");
    ok &= ms_channel_seal_buf(d->cc, MS_REC_MSG, 2, 0, (const uint8_t *)"secret", 6, &wire) == MS_OK;
    wire.p[wire.len - 1] ^= 1;
    ok &= expect_err(ms_channel_open_buf(d->sc, wire.p, wire.len, &info, &pt), MS_ERR_REC_AUTH,
                     "one bit of a record flipped in transit");
    wire.p[wire.len - 1] ^= 1;
    ok &= ms_channel_open_buf(d->sc, wire.p, wire.len, &info, &pt) == MS_OK;
    ok &= expect_err(ms_channel_open_buf(d->sc, wire.p, wire.len, &info, &pt), MS_ERR_REC_REPLAY,
                     "the same record sent again");

    ms_stream_tx tx;
    ms_buf_clear(&wire);
    ok &= ms_stream_tx_init(&tx, 3) == MS_OK;
    ok &= ms_stream_tx_seal(&tx, d->sc, (const uint8_t *)"partial ", 8, 0, &wire) == MS_OK;
    size_t cut = wire.len;
    ok &= ms_stream_tx_seal(&tx, d->sc, (const uint8_t *)"answer", 6, 1, &wire) == MS_OK;
    ms_stream_rx rx;
    size_t used;
    const uint8_t *ans;
    size_t n;
    ms_stream_rx_init(&rx, 3, 1 << 16);
    ok &= ms_stream_rx_open(&rx, d->cc, wire.p, cut, &used) == MS_OK;
    ok &= expect_err(ms_stream_rx_finish(&rx, &ans, &n), MS_ERR_STREAM_TRUNCATED,
                     "a streamed reply cut before its FINAL record");
    ms_stream_rx_free(&rx);
    ms_buf_free(&wire);
    ms_buf_free(&pt);
    return ok;
}
