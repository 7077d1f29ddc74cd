/* Unit tests of the client's sans-I/O parts: reply records, the incremental stream reader,
 * payloads. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "secure/client/payload.h"
#include "secure/client/reply.h"
#include "secure/client/report.h"
#include "tests/test.h"

/* A supervisor-side and a client-side channel of one session. */
typedef struct pair {
    struct ms_channel *srv, *cli;
} pair;

static void pair_new(pair *p)
{
    uint8_t sid[MS_SESSION_ID_LEN], a[MS_KEY_LEN], b[MS_KEY_LEN];
    randombytes_buf(sid, sizeof sid);
    randombytes_buf(a, sizeof a);
    randombytes_buf(b, sizeof b);
    CHECK_OK(ms_channel_new(&p->srv, MS_ROLE_SERVER, sid, a, b));
    CHECK_OK(ms_channel_new(&p->cli, MS_ROLE_CLIENT, sid, a, b));
}

static void pair_free(pair *p)
{
    ms_channel_free(p->srv);
    ms_channel_free(p->cli);
}

static void seal(pair *p, uint8_t type, uint32_t msg_id, uint32_t chunk, const char *text,
                 ms_buf *out)
{
    CHECK_OK(
        ms_channel_seal_buf(p->srv, type, msg_id, chunk, (const uint8_t *)text, strlen(text), out));
}

static void test_single_ok_and_mismatch(void)
{
    pair p;
    ms_buf rec, pt;
    pair_new(&p);
    ms_buf_init(&rec, MS_MAX_HTTP_BODY);
    ms_buf_init(&pt, MS_MAX_RECORD_PLAINTEXT);
    seal(&p, MS_REC_MSG, 7, 0, "{\"ok\":true}", &rec);
    CHECK_ERR(ms_reply_open_single(p.cli, rec.p, rec.len, MS_REC_MSG, 7, &pt), MS_OK);
    CHECK(pt.len == 11 && memcmp(pt.p, "{\"ok\":true}", 11) == 0);

    /* Another msg_id: authentic, but not the answer to this request. */
    ms_buf_clear(&rec);
    ms_buf_clear(&pt);
    seal(&p, MS_REC_MSG, 8, 0, "x", &rec);
    CHECK_ERR(ms_reply_open_single(p.cli, rec.p, rec.len, MS_REC_MSG, 9, &pt),
              MS_ERR_REPLY_MISMATCH);
    CHECK(pt.len == 0);
    /* Another type. */
    ms_buf_clear(&rec);
    seal(&p, MS_REC_STREAM_FINAL, 10, 0, "x", &rec);
    CHECK_ERR(ms_reply_open_single(p.cli, rec.p, rec.len, MS_REC_MSG, 10, &pt),
              MS_ERR_REPLY_MISMATCH);
    /* Bytes after the record. */
    ms_buf_clear(&rec);
    seal(&p, MS_REC_MSG, 11, 0, "x", &rec);
    CHECK_OK(ms_buf_append_u8(&rec, 0));
    CHECK_ERR(ms_reply_open_single(p.cli, rec.p, rec.len, MS_REC_MSG, 11, &pt),
              MS_ERR_REPLY_MISMATCH);
    CHECK(pt.len == 0);
    /* A replay of an accepted record. */
    ms_buf_clear(&rec);
    seal(&p, MS_REC_MSG, 12, 0, "y", &rec);
    CHECK_OK(ms_reply_open_single(p.cli, rec.p, rec.len, MS_REC_MSG, 12, &pt));
    CHECK_ERR(ms_reply_open_single(p.cli, rec.p, rec.len, MS_REC_MSG, 12, &pt), MS_ERR_REC_REPLAY);
    ms_buf_free(&rec);
    ms_buf_free(&pt);
    pair_free(&p);
}

/* Cut at every offset and flip every byte: always an error, and the channel is unchanged. */
static void test_single_truncate_and_flip(void)
{
    pair p;
    ms_buf rec, pt;
    pair_new(&p);
    ms_buf_init(&rec, MS_MAX_HTTP_BODY);
    ms_buf_init(&pt, MS_MAX_RECORD_PLAINTEXT);
    seal(&p, MS_REC_MSG, 1, 0, "{\"ok\":true,\"content\":\"abc\"}", &rec);
    int all_failed = 1;
    for (size_t cut = 0; cut < rec.len; cut++) {
        all_failed &= ms_reply_open_single(p.cli, rec.p, cut, MS_REC_MSG, 1, &pt) != MS_OK;
    }
    CHECK(all_failed);
    for (size_t i = 0; i < rec.len; i++) {
        rec.p[i] ^= 0x01;
        all_failed &= ms_reply_open_single(p.cli, rec.p, rec.len, MS_REC_MSG, 1, &pt) != MS_OK;
        rec.p[i] ^= 0x01;
    }
    CHECK(all_failed);
    CHECK(pt.len == 0);
    CHECK_OK(ms_reply_open_single(p.cli, rec.p, rec.len, MS_REC_MSG, 1, &pt));
    ms_buf_free(&rec);
    ms_buf_free(&pt);
    pair_free(&p);
}

typedef struct collected {
    ms_buf text;
    int calls;
    ms_err fail_with; /* returned from the 2nd call on */
} collected;

static ms_err on_piece(void *ctx, const char *t, size_t n)
{
    collected *c = ctx;
    c->calls++;
    if (c->fail_with != MS_OK && c->calls >= 2) {
        return c->fail_with;
    }
    return ms_buf_append(&c->text, t, n);
}

static const char *const PIECES[] = {"The capital", " of France", " is Paris."};
static const char FINAL[] =
    "{\"ok\":true,\"finish_reason\":\"stop\",\"usage\":{\"prompt_tokens\":3,"
    "\"completion_tokens\":4}}";

/* The body a supervisor sends for stream `msg_id`: three STREAM_DATA, one FINAL. */
static void stream_body(pair *p, uint32_t msg_id, ms_buf *out)
{
    for (uint32_t i = 0; i < 3; i++) {
        seal(p, MS_REC_STREAM_DATA, msg_id, i, PIECES[i], out);
    }
    seal(p, MS_REC_STREAM_FINAL, msg_id, 3, FINAL, out);
}

/* Feed body[0..len) in pieces of `step` bytes; returns the end's result. */
static ms_err feed_all(struct ms_channel *cli, uint32_t msg_id, const uint8_t *body, size_t len,
                       size_t step, collected *col, ms_buf *final)
{
    ms_reply_stream rs;
    const uint8_t *f;
    size_t flen;
    ms_err err = MS_OK;
    ms_reply_stream_init(&rs, cli, msg_id, on_piece, col);
    for (size_t off = 0; off < len && err == MS_OK; off += step) {
        size_t n = len - off < step ? len - off : step;
        err = ms_reply_stream_feed(&rs, body + off, n);
    }
    if (err == MS_OK) {
        err = ms_reply_stream_end(&rs, &f, &flen);
    }
    if (err == MS_OK && final) {
        err = ms_buf_append(final, f, flen);
    }
    ms_reply_stream_free(&rs);
    return err;
}

static void test_stream_any_split(void)
{
    static const size_t steps[] = {1, 2, 3, 7, 40, 41, 57, 1000, 1u << 20};
    for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
        pair p;
        ms_buf body, final;
        collected col = {.fail_with = MS_OK};
        pair_new(&p);
        ms_buf_init(&body, MS_MAX_HTTP_BODY);
        ms_buf_init(&final, MS_MAX_RECORD_PLAINTEXT);
        ms_buf_init(&col.text, 1024);
        stream_body(&p, 5, &body);
        CHECK_OK(feed_all(p.cli, 5, body.p, body.len, steps[s], &col, &final));
        CHECK(col.text.len == strlen("The capital of France is Paris.") &&
              memcmp(col.text.p, "The capital of France is Paris.", col.text.len) == 0);
        CHECK(col.calls == 3);
        CHECK(final.len == strlen(FINAL) && memcmp(final.p, FINAL, final.len) == 0);
        ms_buf_free(&body);
        ms_buf_free(&final);
        ms_buf_free(&col.text);
        pair_free(&p);
    }
}

/* A body cut anywhere before its end is never a complete answer. */
static void test_stream_truncated_everywhere(void)
{
    pair p;
    ms_buf body;
    pair_new(&p);
    ms_buf_init(&body, MS_MAX_HTTP_BODY);
    stream_body(&p, 5, &body);
    int none_ok = 1, truncated = 0;
    for (size_t cut = 0; cut < body.len; cut++) {
        pair q;
        ms_buf b2;
        collected col = {.fail_with = MS_OK};
        pair_new(&q);
        ms_buf_init(&b2, MS_MAX_HTTP_BODY);
        ms_buf_init(&col.text, 1024);
        stream_body(&q, 5, &b2);
        ms_err e = feed_all(q.cli, 5, b2.p, cut, 13, &col, NULL);
        none_ok &= e != MS_OK;
        truncated += e == MS_ERR_STREAM_TRUNCATED;
        ms_buf_free(&b2);
        ms_buf_free(&col.text);
        pair_free(&q);
    }
    CHECK(none_ok);
    CHECK(truncated == (int)body.len);
    ms_buf_free(&body);
    pair_free(&p);
}

static void test_stream_violations(void)
{
    pair p;
    ms_buf body, extra;
    collected col = {.fail_with = MS_OK};
    ms_buf_init(&col.text, 1024);
    ms_buf_init(&body, MS_MAX_HTTP_BODY);
    ms_buf_init(&extra, MS_MAX_HTTP_BODY);

    /* Anything after the FINAL. */
    pair_new(&p);
    stream_body(&p, 5, &body);
    seal(&p, MS_REC_STREAM_DATA, 5, 4, "late", &body);
    CHECK_ERR(feed_all(p.cli, 5, body.p, body.len, 64, &col, NULL), MS_ERR_STREAM_DONE);
    pair_free(&p);

    /* Another message's stream. */
    ms_buf_clear(&body);
    pair_new(&p);
    stream_body(&p, 6, &body);
    CHECK_ERR(feed_all(p.cli, 5, body.p, body.len, 64, &col, NULL), MS_ERR_STREAM_MSG_ID);
    pair_free(&p);

    /* Chunks out of order (the window would let the records in: the stream may not). */
    ms_buf_clear(&body);
    pair_new(&p);
    seal(&p, MS_REC_STREAM_DATA, 5, 1, "b", &body);
    seal(&p, MS_REC_STREAM_DATA, 5, 0, "a", &body);
    seal(&p, MS_REC_STREAM_FINAL, 5, 2, FINAL, &body);
    CHECK_ERR(feed_all(p.cli, 5, body.p, body.len, 64, &col, NULL), MS_ERR_STREAM_ORDER);
    pair_free(&p);

    /* A MSG where a stream is expected. */
    ms_buf_clear(&body);
    pair_new(&p);
    seal(&p, MS_REC_MSG, 5, 0, FINAL, &body);
    CHECK_ERR(feed_all(p.cli, 5, body.p, body.len, 64, &col, NULL), MS_ERR_STREAM_ORDER);
    pair_free(&p);

    /* A record sent twice: the replay window refuses it. */
    ms_buf_clear(&body);
    pair_new(&p);
    seal(&p, MS_REC_STREAM_DATA, 5, 0, "a", &body);
    CHECK_OK(ms_buf_append(&body, body.p, body.len));
    CHECK_ERR(feed_all(p.cli, 5, body.p, body.len, 64, &col, NULL), MS_ERR_REC_REPLAY);
    pair_free(&p);

    /* A header whose ct_len is over the cap: refused after 40 bytes, nothing buffered. */
    {
        ms_reply_stream rs;
        uint8_t h[MS_REC_HEADER_LEN];
        pair_new(&p);
        ms_buf_clear(&body);
        seal(&p, MS_REC_STREAM_DATA, 5, 0, "a", &body);
        memcpy(h, body.p, sizeof h);
        h[36] = 0x7f; /* ct_len = 0x7f...: far above MAX_RECORD_PLAINTEXT + 16 */
        ms_reply_stream_init(&rs, p.cli, 5, on_piece, &col);
        CHECK_ERR(ms_reply_stream_feed(&rs, h, sizeof h), MS_ERR_REC_LENGTH);
        CHECK(rs.rec.len == 0);
        CHECK_ERR(ms_reply_stream_feed(&rs, body.p, body.len),
                  MS_ERR_REC_LENGTH); /* stays failed */
        ms_reply_stream_free(&rs);
        pair_free(&p);
    }

    /* A flipped byte anywhere in the body. */
    ms_buf_clear(&body);
    pair_new(&p);
    stream_body(&p, 5, &body);
    pair_free(&p);
    int all_failed = 1;
    for (size_t i = 0; i < body.len; i += 3) {
        pair q;
        pair_new(&q);
        ms_buf_clear(&extra);
        stream_body(&q, 5, &extra);
        extra.p[i] ^= 0x80;
        all_failed &= feed_all(q.cli, 5, extra.p, extra.len, 17, &col, NULL) != MS_OK;
        pair_free(&q);
    }
    CHECK(all_failed);

    /* The piece callback's error stops the stream. */
    ms_buf_clear(&body);
    pair_new(&p);
    stream_body(&p, 5, &body);
    collected stop = {.fail_with = MS_ERR_IO};
    ms_buf_init(&stop.text, 1024);
    CHECK_ERR(feed_all(p.cli, 5, body.p, body.len, 1000, &stop, NULL), MS_ERR_IO);
    CHECK(stop.calls == 2);
    ms_buf_free(&stop.text);
    pair_free(&p);

    ms_buf_free(&body);
    ms_buf_free(&extra);
    ms_buf_free(&col.text);
}

static int has(const ms_buf *b, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; b->p && n <= b->len && i <= b->len - n; i++) {
        if (memcmp(b->p + i, s, n) == 0) {
            return 1;
        }
    }
    return 0;
}

static void test_payloads(void)
{
    ms_buf b;
    ms_client_reply r;
    ms_buf_init(&b, 4096);
    CHECK_OK(ms_client_request_build("be brief", "hello", 16, 0.5, &b));
    CHECK(b.len > 0 && has(&b, "\"role\":\"system\""));
    CHECK(has(&b, "\"max_tokens\":16"));
    ms_buf_clear(&b);
    CHECK_OK(ms_client_request_build(NULL, "hello", 0, -1.0, &b));
    CHECK(!has(&b, "max_tokens") && !has(&b, "temperature"));
    CHECK_ERR(ms_client_request_build(NULL, NULL, 0, -1.0, &b), MS_ERR_ARG);
    CHECK_ERR(ms_client_request_build(NULL, "x", 0, 2.5, &b), MS_ERR_ARG);
    CHECK_ERR(ms_client_request_build(NULL, "\xff\xfe", 0, -1.0, &b), MS_ERR_ARG);

    static const char ok[] = "{\"ok\":true,\"content\":\"hi\",\"finish_reason\":\"stop\","
                             "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}";
    CHECK_OK(ms_client_reply_parse((const uint8_t *)ok, strlen(ok), 0, &r));
    CHECK(r.ok && r.content_len == 2 && strcmp(r.content, "hi") == 0 && r.completion_tokens == 2);
    ms_client_reply_free(&r);
    /* A FINAL must not carry content; a reply must. */
    CHECK_ERR(ms_client_reply_parse((const uint8_t *)ok, strlen(ok), 1, &r), MS_ERR_PAYLOAD);
    CHECK_ERR(ms_client_reply_parse((const uint8_t *)FINAL, strlen(FINAL), 0, &r), MS_ERR_PAYLOAD);
    CHECK_OK(ms_client_reply_parse((const uint8_t *)FINAL, strlen(FINAL), 1, &r));
    CHECK(r.ok && r.content == NULL);
    ms_client_reply_free(&r);

    static const char bad[] =
        "{\"ok\":false,\"error\":{\"code\":\"backend_timeout\",\"message\":\"slow\\u001b[31m\"}}";
    CHECK_OK(ms_client_reply_parse((const uint8_t *)bad, strlen(bad), 1, &r));
    CHECK(!r.ok && strcmp(r.error_code, "backend_timeout") == 0);
    char clean[64];
    ms_client_sanitize(r.error_message, strlen(r.error_message), clean, sizeof clean);
    CHECK(strcmp(clean, "slow?[31m") == 0);
    ms_client_reply_free(&r);

    static const char *const invalid[] = {
        "",
        "[]",
        "{\"ok\":1}",
        "{\"ok\":false}",
        "{\"ok\":false,\"error\":{\"code\":\"other\",\"message\":\"m\"}}",
        "{\"ok\":true,\"content\":\"x\",\"finish_reason\":\"stop\"}",
        "{\"ok\":true,\"content\":\"x\",\"finish_reason\":\"stop\",\"usage\":{\"prompt_tokens\":-1,"
        "\"completion_tokens\":0}}",
        "{\"ok\":true,\"ok\":true}",
        "{\"ok\":true,\"content\":\"x\""};
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        CHECK_ERR(ms_client_reply_parse((const uint8_t *)invalid[i], strlen(invalid[i]), 0, &r),
                  MS_ERR_PAYLOAD);
        CHECK(r.doc == NULL);
    }
    ms_buf_free(&b);
}

/* {"ok":true,"content":"<body>",...} into b, body written as is (escapes and all). */
static void long_reply(ms_buf *b, const char *body)
{
    ms_buf_clear(b);
    CHECK_OK(ms_buf_append_str(b, "{\"ok\":true,\"content\":\""));
    CHECK_OK(ms_buf_append_str(b, body));
    CHECK_OK(ms_buf_append_str(b, "\",\"finish_reason\":\"stop\",\"usage\":{\"prompt_tokens\":1,"
                                  "\"completion_tokens\":2}}"));
}

/* The kept parse: a long content checked as the decoding parse checks it, left escaped, and
   it decodes to the decoding parse's text; every other result is the decoding parse's. */
static void test_payload_kept(void)
{
    ms_buf b, esc, text;
    ms_client_reply r, d;
    ms_buf_init(&b, 65536);
    ms_buf_init(&esc, 65536);
    ms_buf_init(&text, 65536);
    for (int i = 0; i < 40; i++) {
        CHECK_OK(ms_buf_append_str(&esc, "a\\n\\\"\\u00e9\\ud83d\\ude00\xc3\xa9 "));
    }
    CHECK_OK(ms_buf_terminate(&esc));
    long_reply(&b, (const char *)esc.p);
    CHECK_OK(ms_client_reply_parse_kept(b.p, b.len, 0, &r));
    CHECK(r.ok && r.content_escaped && r.content_len == esc.len &&
          memcmp(r.content, esc.p, esc.len) == 0 && r.completion_tokens == 2 &&
          strcmp(r.finish_reason, "stop") == 0);
    CHECK_OK(ms_client_reply_parse(b.p, b.len, 0, &d));
    CHECK(!d.content_escaped);
    CHECK_OK(ms_json_unescape(r.content, r.content_len, &text));
    CHECK(text.len == d.content_len && memcmp(text.p, d.content, d.content_len) == 0);
    ms_client_reply_free(&d);
    ms_client_reply_free(&r);

    /* A short content is decoded as before. */
    static const char ok[] = "{\"ok\":true,\"content\":\"h\\u00e9\",\"finish_reason\":\"stop\","
                             "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}";
    CHECK_OK(ms_client_reply_parse_kept((const uint8_t *)ok, strlen(ok), 0, &r));
    CHECK(r.ok && !r.content_escaped && strcmp(r.content, "h\xc3\xa9") == 0);
    ms_client_reply_free(&r);

    /* A long error message (the getters refuse a kept one): the decoding parse's result. */
    ms_buf_clear(&b);
    CHECK_OK(ms_buf_append_str(&b, "{\"ok\":false,\"error\":{\"code\":\"backend_error\","
                                   "\"message\":\""));
    for (int i = 0; i < 300; i++) {
        CHECK_OK(ms_buf_append_str(&b, "m"));
    }
    CHECK_OK(ms_buf_append_str(&b, "\"}}"));
    CHECK_OK(ms_client_reply_parse_kept(b.p, b.len, 0, &r));
    CHECK(!r.ok && strcmp(r.error_code, "backend_error") == 0 && strlen(r.error_message) == 300);
    ms_client_reply_free(&r);

    /* A long content a reader would refuse is refused: bad escape, lone surrogate, \u0000,
       a raw control byte, invalid UTF-8; a FINAL must not carry it. */
    static const char *const bad[] = {"\\x", "\\ud83d", "\\u0000", "\x01", "\xc3("};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ms_buf_clear(&esc);
        for (int k = 0; k < 300; k++) {
            CHECK_OK(ms_buf_append_str(&esc, "z"));
        }
        CHECK_OK(ms_buf_append_str(&esc, bad[i]));
        CHECK_OK(ms_buf_terminate(&esc));
        long_reply(&b, (const char *)esc.p);
        CHECK_ERR(ms_client_reply_parse_kept(b.p, b.len, 0, &r), MS_ERR_PAYLOAD);
        CHECK(r.doc == NULL && r.content == NULL);
    }
    ms_buf_clear(&esc);
    for (int k = 0; k < 300; k++) {
        CHECK_OK(ms_buf_append_str(&esc, "z"));
    }
    CHECK_OK(ms_buf_terminate(&esc));
    long_reply(&b, (const char *)esc.p);
    CHECK_ERR(ms_client_reply_parse_kept(b.p, b.len, 1, &r), MS_ERR_PAYLOAD);
    CHECK_OK(ms_client_reply_parse_kept(b.p, b.len, 0, &r));
    CHECK(r.content_escaped && r.content_len == 300);
    ms_client_reply_free(&r);
    ms_buf_free(&text);
    ms_buf_free(&esc);
    ms_buf_free(&b);
}

static void test_report(void)
{
    ms_client_peer p;
    char line[MS_CLIENT_DESCRIBE_LEN];
    ms_buf js;
    memset(&p, 0, sizeof p);
    ms_client_describe(&p, line, sizeof line);
    CHECK(strcmp(line, "not connected") == 0);
    p.connected = 1;
    p.evidence_type = MS_EVIDENCE_DEV_KEY;
    p.evidence_mode = MS_MODE_STRICT;
    p.evidence_not_after = 1800000000;
    p.tls = MS_CLIENT_TLS_PINNED;
    memcpy(p.session_hex, "1a2b3c4d5e6f70811a2b3c4d5e6f7081", 33);
    memcpy(p.dev_key_fp, "sha256:00", 10);
    ms_client_describe(&p, line, sizeof line);
    CHECK(
        strstr(line, "verified: dev-key evidence (STRICT, valid until 2027-01-15 08:00:00 UTC)") ==
        line);
    CHECK(strstr(line, "TLS key pinned (sha256:0000") != NULL);
    CHECK(strstr(line, "session 1a2b3c4d") != NULL && strstr(line, "1a2b3c4d5") == NULL);
    ms_buf_init(&js, 4096);
    ms_client_outcome o = {.ok = 1, .content = "a\"b", .content_len = 3, .finish_reason = "stop"};
    CHECK_OK(ms_client_outcome_json(&p, &o, &js));
    CHECK(has(&js, "\"content\":\"a\\\"b\""));
    CHECK(has(&js, "\"mode\":\"STRICT\""));
    ms_buf_clear(&js);
    ms_client_outcome bad = {.ok = 1, .content = "\xff", .content_len = 1};
    CHECK_ERR(ms_client_outcome_json(&p, &bad, &js), MS_ERR_ARG);
    ms_buf_free(&js);
}

static void test_exit_codes(void)
{
    CHECK(ms_client_exit_code(MS_OK, 0) == MS_CLI_OK);
    CHECK(ms_client_exit_code(MS_ERR_HTTP_INSECURE, 1) == MS_CLI_USAGE);
    CHECK(ms_client_exit_code(MS_ERR_HTTP_URL, 1) == MS_CLI_USAGE);
    CHECK(ms_client_exit_code(MS_ERR_HTTP_CONNECT, 1) == MS_CLI_NET);
    CHECK(ms_client_exit_code(MS_ERR_HTTP_TLS, 1) == MS_CLI_NET);
    CHECK(ms_client_exit_code(MS_ERR_HTTP_PIN, 0) == MS_CLI_NET);
    CHECK(ms_client_exit_code(MS_ERR_SERVER_BUSY, 1) == MS_CLI_NET);
    CHECK(ms_client_exit_code(MS_ERR_ATTEST_KEY, 1) == MS_CLI_VERIFY);
    CHECK(ms_client_exit_code(MS_ERR_ATTEST_KEY, 0) == MS_CLI_VERIFY); /* a re-handshake */
    CHECK(ms_client_exit_code(MS_ERR_HS_SERVER_CONFIRM, 0) == MS_CLI_VERIFY);
    CHECK(ms_client_exit_code(MS_ERR_PEER_REJECTED, 1) == MS_CLI_VERIFY);
    CHECK(ms_client_exit_code(MS_ERR_PEER_REJECTED, 0) == MS_CLI_TURN);
    CHECK(ms_client_exit_code(MS_ERR_BACKEND_REMOTE, 0) == MS_CLI_TURN);
    CHECK(ms_client_exit_code(MS_ERR_REPLY_MISMATCH, 0) == MS_CLI_TURN);
    CHECK(ms_client_exit_code(MS_ERR_SESSION_UNKNOWN, 0) == MS_CLI_TURN);
    CHECK(ms_client_exit_code(MS_ERR_STREAM_TRUNCATED, 0) == MS_CLI_CUT);
    CHECK(strstr(ms_client_hint(MS_ERR_HTTP_PIN), "--allow-tls-proxy") != NULL);
    CHECK(strstr(ms_client_hint(MS_ERR_HTTP_PIN_NONE), "--allow-tls-proxy") != NULL);
    CHECK(ms_client_exit_code(MS_ERR_HTTP_PIN_NONE, 0) == MS_CLI_NET);
    CHECK(ms_client_hint(MS_ERR_NOMEM)[0] == '\0');
}

int main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    RUN(test_single_ok_and_mismatch);
    RUN(test_single_truncate_and_flip);
    RUN(test_stream_any_split);
    RUN(test_stream_truncated_everywhere);
    RUN(test_stream_violations);
    RUN(test_payloads);
    RUN(test_payload_kept);
    RUN(test_report);
    RUN(test_exit_codes);
    return TEST_SUMMARY();
}
