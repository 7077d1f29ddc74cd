/* Record tests: round trips, every §8.3 check, replay window, key epochs, close. */
#include "common/cursor.h"
#include "tests/secure/fixture.h"

#define BIG (MS_MAX_RECORD_PLAINTEXT + MS_REC_OVERHEAD)

static uint8_t rec[BIG], rec2[BIG], pt[MS_MAX_RECORD_PLAINTEXT], pt2[MS_MAX_RECORD_PLAINTEXT];

static ms_err seal_msg(struct ms_channel *ch, const char *s, size_t *n)
{
    return ms_channel_seal(ch, MS_REC_MSG, 1, 0, (const uint8_t *)s, strlen(s), rec, sizeof rec, n);
}

static ms_err open_rec(struct ms_channel *ch, const uint8_t *r, size_t n)
{
    ms_record_info info;
    return ms_channel_open(ch, r, n, &info, pt, sizeof pt);
}

static void test_round_trip_sizes(void)
{
    struct ms_channel *cc, *sc;
    fx_keyed_pair(&cc, &sc, 1);
    size_t sizes[] = {0, 1, 15, 16, 17, 1500, 65536, MS_MAX_RECORD_PLAINTEXT};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n;
        ms_record_info info;
        for (size_t j = 0; j < sizes[i]; j++) {
            pt2[j] = (uint8_t)(j * 31 + i);
        }
        CHECK_OK(ms_channel_seal(cc, MS_REC_MSG, 7, 0, pt2, sizes[i], rec, sizeof rec, &n));
        CHECK(n == ms_record_size(sizes[i]));
        CHECK(memcmp(rec + MS_REC_HEADER_LEN, pt2, sizes[i] < 16 ? sizes[i] : 16) != 0 ||
              sizes[i] == 0);
        CHECK_OK(ms_channel_open(sc, rec, n, &info, pt, sizeof pt));
        CHECK(info.pt_len == sizes[i] && info.rec_len == n && info.seq == i && info.msg_id == 7);
        CHECK(memcmp(pt, pt2, sizes[i]) == 0);
        /* and the other direction, through the buffer forms */
        ms_buf b, out;
        ms_buf_init(&b, BIG);
        ms_buf_init(&out, MS_MAX_RECORD_PLAINTEXT);
        CHECK_OK(ms_channel_seal_buf(sc, MS_REC_MSG, 0, 0, pt2, sizes[i], &b));
        CHECK_OK(ms_channel_open_buf(cc, b.p, b.len, &info, &out));
        CHECK(out.len == sizes[i] && memcmp(out.p ? out.p : pt2, pt2, sizes[i]) == 0);
        ms_buf_free(&b);
        ms_buf_free(&out);
    }
    ms_channel_free(cc);
    ms_channel_free(sc);
}

/* Several records in one body are opened one at a time. */
static void test_concatenated(void)
{
    struct ms_channel *cc, *sc;
    fx_keyed_pair(&cc, &sc, 2);
    ms_buf b, out;
    ms_buf_init(&b, 1 << 16);
    ms_buf_init(&out, 1 << 16);
    CHECK_OK(ms_channel_seal_buf(cc, MS_REC_MSG, 1, 0, (const uint8_t *)"one", 3, &b));
    CHECK_OK(ms_channel_seal_buf(cc, MS_REC_MSG, 2, 0, (const uint8_t *)"two", 3, &b));
    CHECK_OK(ms_channel_seal_buf(cc, MS_REC_CLOSE, 0, 0, NULL, 0, &b));
    size_t off = 0;
    int count = 0;
    while (off < b.len) {
        ms_record_info info;
        CHECK_OK(ms_channel_open_buf(sc, b.p + off, b.len - off, &info, &out));
        off += info.rec_len;
        count++;
    }
    CHECK(count == 3 && out.len == 6 && memcmp(out.p, "onetwo", 6) == 0);
    ms_buf_free(&b);
    ms_buf_free(&out);
    ms_channel_free(cc);
    ms_channel_free(sc);
}

/* The error a flipped byte must give, by header offset (§8.1, §8.3). */
static int flip_ok(size_t off, ms_err e)
{
    switch (off) {
    case 0:
        return e == MS_ERR_REC_VERSION;
    case 1:
        return e == MS_ERR_REC_TYPE || e == MS_ERR_REC_FIELDS || e == MS_ERR_REC_AUTH;
    case 2:
        return e == MS_ERR_REC_DIRECTION;
    case 3:
        return e == MS_ERR_REC_FLAGS;
    default:
        break;
    }
    if (off < 20) {
        return e == MS_ERR_REC_SESSION;
    }
    if (off < 28) { /* seq: a far epoch, or another nonce */
        return e == MS_ERR_REC_TOO_NEW || e == MS_ERR_REC_AUTH;
    }
    if (off < 32) {
        return e == MS_ERR_REC_AUTH; /* msg_id is free for MSG: only the tag catches it */
    }
    if (off < 36) {
        return e == MS_ERR_REC_FIELDS; /* chunk must be 0 for MSG */
    }
    if (off < 40) {
        return e == MS_ERR_REC_LENGTH || e == MS_ERR_TRUNCATED;
    }
    return e == MS_ERR_REC_AUTH;
}

static void test_every_byte_flipped(void)
{
    struct ms_channel *cc, *sc;
    fx_keyed_pair(&cc, &sc, 3);
    size_t n;
    CHECK_OK(seal_msg(cc, "a record whose every byte is flipped in turn", &n));
    int bad = 0;
    for (size_t off = 0; off < n; off++) {
        for (int mask = 1; mask <= 0x80; mask <<= 7) {
            memcpy(rec2, rec, n);
            rec2[off] ^= (uint8_t)mask;
            ms_err e = open_rec(sc, rec2, n);
            if (!flip_ok(off, e)) {
                bad++;
                fprintf(stderr, "  flip at %zu mask %02x: %s\n", off, mask, ms_err_name(e));
            }
        }
    }
    CHECK(bad == 0);
    /* None of the failures changed the receiver: the genuine record still opens, once. */
    CHECK_OK(open_rec(sc, rec, n));
    CHECK_ERR(open_rec(sc, rec, n), MS_ERR_REC_REPLAY);
    ms_channel_free(cc);
    ms_channel_free(sc);
}

static void test_truncated_everywhere(void)
{
    struct ms_channel *cc, *sc;
    fx_keyed_pair(&cc, &sc, 4);
    size_t n;
    CHECK_OK(seal_msg(cc, "truncate me", &n));
    int bad = 0;
    for (size_t len = 0; len < n; len++) {
        bad += open_rec(sc, rec, len) != MS_ERR_TRUNCATED;
    }
    CHECK(bad == 0);
    CHECK_OK(open_rec(sc, rec, n));
    ms_channel_free(cc);
    ms_channel_free(sc);
}

static void test_replay_and_window(void)
{
    struct ms_channel *cc, *sc;
    fx_keyed_pair(&cc, &sc, 5);
    static uint8_t all[300][64];
    size_t lens[300];
    for (int i = 0; i < 300; i++) {
        CHECK(ms_channel_seal(cc, MS_REC_MSG, 0, 0, (const uint8_t *)"r", 1, all[i], 64, &lens[i]) ==
              MS_OK);
    }
    CHECK_OK(open_rec(sc, all[299], lens[299])); /* top = 300 */
    CHECK_ERR(open_rec(sc, all[299], lens[299]), MS_ERR_REC_REPLAY);
    /* 300 - 44 = 256: the oldest seq still inside the window; 43 is one below it. */
    CHECK_ERR(open_rec(sc, all[43], lens[43]), MS_ERR_REC_TOO_OLD);
    CHECK_ERR(open_rec(sc, all[0], lens[0]), MS_ERR_REC_TOO_OLD);
    CHECK_OK(open_rec(sc, all[44], lens[44]));
    CHECK_ERR(open_rec(sc, all[44], lens[44]), MS_ERR_REC_REPLAY);
    /* Any order inside the window, each exactly once. */
    for (int i = 298; i >= 45; i -= 2) {
        CHECK_OK(open_rec(sc, all[i], lens[i]));
    }
    for (int i = 45; i < 299; i++) {
        ms_err e = open_rec(sc, all[i], lens[i]);
        CHECK_ERR(e, (i % 2 == 0) ? MS_ERR_REC_REPLAY : MS_OK);
    }
    ms_channel_free(cc);
    ms_channel_free(sc);
}

static void test_other_session_and_direction(void)
{
    struct ms_channel *cc, *sc, *oc, *os;
    fx_keyed_pair(&cc, &sc, 6);
    fx_keyed_pair(&oc, &os, 7);
    size_t n;
    CHECK_OK(seal_msg(oc, "for another session", &n));
    CHECK_ERR(open_rec(sc, rec, n), MS_ERR_REC_SESSION);
    /* The client's own record, reflected back to it. */
    CHECK_OK(seal_msg(cc, "reflected", &n));
    CHECK_ERR(open_rec(cc, rec, n), MS_ERR_REC_DIRECTION);
    CHECK_OK(open_rec(sc, rec, n));
    /* Same session id, other keys (an id collision): only the tag can tell. */
    uint8_t sid[MS_SESSION_ID_LEN], k[MS_KEY_LEN];
    memcpy(sid, ms_channel_session_id(sc), sizeof sid);
    memset(k, 0x99, sizeof k);
    struct ms_channel *ec;
    CHECK_OK(ms_channel_new(&ec, MS_ROLE_CLIENT, sid, k, k));
    CHECK_OK(seal_msg(ec, "seq 0 was already seen (a replay)", &n));
    CHECK_ERR(open_rec(sc, rec, n), MS_ERR_REC_REPLAY);
    CHECK_OK(seal_msg(ec, "same id, other keys", &n));
    CHECK_ERR(open_rec(sc, rec, n), MS_ERR_REC_AUTH);
    ms_channel_free(ec);
    ms_channel_free(cc);
    ms_channel_free(sc);
    ms_channel_free(oc);
    ms_channel_free(os);
}

/* The natural epoch boundary at 2^16 records, and forward secrecy across it. */
static void test_epoch_boundary(void)
{
    struct ms_channel *cc, *sc;
    fx_keyed_pair(&cc, &sc, 8);
    static uint8_t last_old[64], first_new[64];
    size_t n = 0, n_old = 0, n_new = 0;
    const uint32_t epoch = 1u << MS_EPOCH_SHIFT;
    int bad = 0;
    for (uint32_t i = 0; i < epoch + 2; i++) {
        uint8_t *dst = i == epoch - 1 ? last_old : i == epoch ? first_new : rec;
        bad += ms_channel_seal(cc, MS_REC_MSG, 0, 0, (const uint8_t *)"e", 1, dst, 64, &n) != MS_OK;
        if (i == epoch - 1) {
            n_old = n;
            CHECK(ms_channel_tx_epoch(cc) == 1); /* the next record starts epoch 1 */
        } else if (i == epoch) {
            n_new = n;
        } else if (i < epoch - 1) {
            bad += open_rec(sc, rec, n) != MS_OK;
        }
    }
    CHECK(bad == 0);
    CHECK(ms_channel_rx_epoch(sc) == 0);
    /* The first record of epoch 1 arrives before the last of epoch 0. */
    CHECK_OK(open_rec(sc, first_new, n_new));
    CHECK(ms_channel_rx_epoch(sc) == 1);
    /* In the window, but its epoch's key is gone: refused, not decrypted. */
    CHECK_ERR(open_rec(sc, last_old, n_old), MS_ERR_REC_TOO_OLD);
    ms_channel_free(cc);
    ms_channel_free(sc);
}

static void test_rekey_and_epochs_ahead(void)
{
    struct ms_channel *cc, *sc;
    fx_keyed_pair(&cc, &sc, 9);
    size_t n;
    CHECK_OK(ms_channel_rekey(cc)); /* nothing sealed yet: a no-op */
    CHECK(ms_channel_tx_epoch(cc) == 0);
    static uint8_t recs[10][64];
    size_t lens[10];
    for (int e = 0; e < 10; e++) {
        CHECK(ms_channel_seal(cc, MS_REC_MSG, 0, 0, (const uint8_t *)"k", 1, recs[e], 64, &lens[e]) ==
              MS_OK);
        CHECK(ms_channel_tx_epoch(cc) == (uint64_t)e);
        CHECK_OK(ms_channel_rekey(cc));
        CHECK_OK(ms_channel_rekey(cc)); /* the second is a no-op: nothing sealed since */
    }
    (void)n;
    /* Receiver at epoch 0: epoch 9 is too far ahead, epoch 8 is the limit. */
    CHECK_ERR(open_rec(sc, recs[9], lens[9]), MS_ERR_REC_TOO_NEW);
    CHECK_OK(open_rec(sc, recs[8], lens[8]));
    CHECK(ms_channel_rx_epoch(sc) == 8);
    CHECK_OK(open_rec(sc, recs[9], lens[9]));
    CHECK_ERR(open_rec(sc, recs[7], lens[7]), MS_ERR_REC_TOO_OLD);
    ms_channel_free(cc);
    ms_channel_free(sc);
}

/* A sender moves to the next epoch before EPOCH_BYTES of plaintext in one epoch. */
static void test_rekey_by_bytes(void)
{
    struct ms_channel *cc, *sc;
    fx_keyed_pair(&cc, &sc, 10);
    size_t n;
    ms_record_info info;
    const size_t per = MS_EPOCH_BYTES / MS_MAX_RECORD_PLAINTEXT; /* 256 full records */
    int bad = 0;
    memset(pt2, 0x5a, MS_MAX_RECORD_PLAINTEXT);
    for (size_t i = 0; i < per; i++) {
        bad += ms_channel_seal(cc, MS_REC_MSG, 0, 0, pt2, MS_MAX_RECORD_PLAINTEXT, rec, sizeof rec,
                               &n) != MS_OK;
    }
    CHECK(bad == 0 && ms_channel_tx_epoch(cc) == 0);
    CHECK_OK(ms_channel_seal(cc, MS_REC_MSG, 0, 0, pt2, 1, rec, sizeof rec, &n));
    CHECK(ms_channel_tx_epoch(cc) == 1);
    CHECK_OK(ms_channel_open(sc, rec, n, &info, pt, sizeof pt));
    CHECK(info.seq == (1u << MS_EPOCH_SHIFT) && ms_channel_rx_epoch(sc) == 1);
    ms_channel_free(cc);
    ms_channel_free(sc);
}

static void test_close(void)
{
    struct ms_channel *cc, *sc;
    fx_keyed_pair(&cc, &sc, 11);
    size_t n_before, n_close, n;
    static uint8_t before[64], closing[64];
    CHECK_OK(ms_channel_seal(cc, MS_REC_MSG, 0, 0, (const uint8_t *)"b", 1, before, 64, &n_before));
    CHECK_OK(ms_channel_seal(cc, MS_REC_CLOSE, 0, 0, NULL, 0, closing, 64, &n_close));
    CHECK_ERR(seal_msg(cc, "after close", &n), MS_ERR_CHANNEL_CLOSED);
    CHECK_ERR(ms_channel_rekey(cc), MS_ERR_CHANNEL_CLOSED);
    ms_record_info info;
    CHECK_OK(ms_channel_open(sc, closing, n_close, &info, pt, sizeof pt));
    CHECK(info.type == MS_REC_CLOSE);
    /* A record sealed before the close but delivered after it is refused. */
    CHECK_ERR(open_rec(sc, before, n_before), MS_ERR_CHANNEL_CLOSED);
    /* The other direction is still open until it closes too. */
    CHECK_OK(seal_msg(sc, "reply", &n));
    CHECK_OK(open_rec(cc, rec, n));
    ms_channel_free(cc);
    ms_channel_free(sc);
}

static void test_seal_arguments(void)
{
    struct ms_channel *cc, *sc;
    fx_keyed_pair(&cc, &sc, 12);
    size_t n;
    const uint8_t x = 'x';
    CHECK_ERR(ms_channel_seal(cc, 0, 0, 0, &x, 1, rec, sizeof rec, &n), MS_ERR_ARG);
    CHECK_ERR(ms_channel_seal(cc, 5, 0, 0, &x, 1, rec, sizeof rec, &n), MS_ERR_ARG);
    CHECK_ERR(ms_channel_seal(cc, MS_REC_MSG, 0, 1, &x, 1, rec, sizeof rec, &n), MS_ERR_ARG);
    CHECK_ERR(ms_channel_seal(cc, MS_REC_STREAM_DATA, 0, 0, &x, 1, rec, sizeof rec, &n), MS_ERR_ARG);
    CHECK_ERR(ms_channel_seal(cc, MS_REC_CLOSE, 1, 0, NULL, 0, rec, sizeof rec, &n), MS_ERR_ARG);
    CHECK_ERR(ms_channel_seal(cc, MS_REC_MSG, 0, 0, pt2, MS_MAX_RECORD_PLAINTEXT + 1, rec,
                              sizeof rec, &n),
              MS_ERR_CAP_EXCEEDED);
    CHECK_ERR(ms_channel_seal(cc, MS_REC_MSG, 0, 0, &x, 1, rec, ms_record_size(1) - 1, &n),
              MS_ERR_OUT_SPACE);
    /* None of that used a sequence number. */
    ms_record_info info;
    CHECK_OK(ms_channel_seal(cc, MS_REC_MSG, 0, 0, &x, 1, rec, sizeof rec, &n));
    CHECK_OK(ms_channel_open(sc, rec, n, &info, pt, sizeof pt));
    CHECK(info.seq == 0);
    /* Too small a plaintext buffer: refused, and the record still opens afterwards. */
    CHECK_OK(ms_channel_seal(cc, MS_REC_MSG, 0, 0, pt2, 100, rec, sizeof rec, &n));
    CHECK_ERR(ms_channel_open(sc, rec, n, &info, pt, 99), MS_ERR_OUT_SPACE);
    CHECK_OK(ms_channel_open(sc, rec, n, &info, pt, 100));
    ms_channel_free(cc);
    ms_channel_free(sc);
}

static void test_header_decode(void)
{
    struct ms_channel *cc, *sc;
    fx_keyed_pair(&cc, &sc, 13);
    size_t n;
    ms_record_header h;
    CHECK_OK(seal_msg(cc, "hdr", &n));
    CHECK_OK(ms_record_header_decode(rec, n, 0, &h));
    CHECK(h.type == MS_REC_MSG && h.direction == MS_DIR_C2S && h.ct_len == 3 + MS_TAG_LEN);
    /* the header alone is enough to decode it; one byte less is truncation (check 1) */
    CHECK_OK(ms_record_header_decode(rec, MS_REC_HEADER_LEN, 0, &h));
    CHECK(h.ct_len == 3 + MS_TAG_LEN);
    CHECK_ERR(ms_record_header_decode(rec, MS_REC_HEADER_LEN - 1, 0, &h), MS_ERR_TRUNCATED);
    CHECK_ERR(ms_record_header_decode(rec, n, MS_DIR_S2C, &h), MS_ERR_REC_DIRECTION);
    memcpy(rec2, rec, n);
    ms_store_u32be(rec2 + 36, MS_TAG_LEN - 1);
    CHECK_ERR(ms_record_header_decode(rec2, n, 0, &h), MS_ERR_REC_LENGTH);
    ms_store_u32be(rec2 + 36, MS_MAX_RECORD_PLAINTEXT + MS_TAG_LEN + 1);
    CHECK_ERR(ms_record_header_decode(rec2, n, 0, &h), MS_ERR_REC_LENGTH);
    /* A valid length that runs past the input is truncation (check 8, after check 7). */
    ms_store_u32be(rec2 + 36, MS_MAX_RECORD_PLAINTEXT + MS_TAG_LEN);
    CHECK_OK(ms_record_header_decode(rec2, n, 0, &h));
    CHECK_ERR(open_rec(sc, rec2, n), MS_ERR_TRUNCATED);
    memcpy(rec2, rec, n);
    ms_store_u64be(rec2 + 20, UINT64_MAX);
    CHECK_ERR(ms_record_header_decode(rec2, n, 0, &h), MS_ERR_REC_FIELDS);
    CHECK(h.ct_len == 0); /* zeroed on failure */
    ms_channel_free(cc);
    ms_channel_free(sc);
}

/* A record type outside MSG..CLOSE is MS_ERR_REC_TYPE (check 2), before the fields check. */
static void test_header_type_range(void)
{
    struct ms_channel *cc, *sc;
    fx_keyed_pair(&cc, &sc, 14);
    size_t n;
    ms_record_header h;
    CHECK_OK(seal_msg(cc, "typ", &n));
    static const uint8_t bad[] = {0x00, MS_REC_CLOSE + 1, 0xff};
    for (size_t i = 0; i < sizeof bad; i++) {
        memcpy(rec2, rec, n);
        rec2[1] = bad[i];
        CHECK_ERR(ms_record_header_decode(rec2, n, 0, &h), MS_ERR_REC_TYPE);
    }
    ms_channel_free(cc);
    ms_channel_free(sc);
}

/* With no direction wanted (want_direction 0), a direction byte that is neither C2S nor S2C
   is still MS_ERR_REC_DIRECTION (check 3); both real directions pass. */
static void test_header_direction_any(void)
{
    struct ms_channel *cc, *sc;
    fx_keyed_pair(&cc, &sc, 16);
    size_t n;
    ms_record_header h;
    CHECK_OK(seal_msg(cc, "dir", &n));
    static const uint8_t bad[] = {0x00, 0x03, 0xff};
    for (size_t i = 0; i < sizeof bad; i++) {
        memcpy(rec2, rec, n);
        rec2[2] = bad[i];
        CHECK_ERR(ms_record_header_decode(rec2, n, 0, &h), MS_ERR_REC_DIRECTION);
    }
    memcpy(rec2, rec, n);
    rec2[2] = MS_DIR_S2C;
    CHECK_OK(ms_record_header_decode(rec2, n, 0, &h));
    CHECK(h.direction == MS_DIR_S2C);
    ms_channel_free(cc);
    ms_channel_free(sc);
}

/* A plaintext over the record cap is refused by ms_channel_seal_buf before the buffer grows:
   no allocation of the oversized record, and the buffer's bytes stay as they were. */
static void test_seal_buf_cap_before_alloc(void)
{
    struct ms_channel *cc, *sc;
    fx_keyed_pair(&cc, &sc, 17);
    ms_buf b;
    ms_buf_init(&b, SIZE_MAX);
    CHECK_ERR(ms_channel_seal_buf(cc, MS_REC_MSG, 0, 0, pt2, MS_MAX_RECORD_PLAINTEXT + 1, &b),
              MS_ERR_CAP_EXCEEDED);
    CHECK(b.len == 0 && b.p == NULL && b.cap == 0);
    CHECK_OK(ms_channel_seal_buf(cc, MS_REC_MSG, 0, 0, (const uint8_t *)"a", 1, &b));
    size_t len = b.len, cap = b.cap;
    CHECK_ERR(ms_channel_seal_buf(cc, MS_REC_MSG, 0, 0, pt2, MS_MAX_RECORD_PLAINTEXT + 1, &b),
              MS_ERR_CAP_EXCEEDED);
    CHECK(b.len == len && b.cap == cap);
    /* and the refusal used no sequence number: the record sealed before still opens as 0 */
    ms_record_info info;
    CHECK_OK(ms_channel_open(sc, b.p, b.len, &info, pt, sizeof pt));
    CHECK(info.seq == 0);
    ms_buf_free(&b);
    ms_channel_free(cc);
    ms_channel_free(sc);
}

/* A forged header costs no allocation, and the first failing §8.3 check decides the error. */
static void test_open_buf_checks_before_alloc(void)
{
    struct ms_channel *cc, *sc, *oc, *os;
    fx_keyed_pair(&cc, &sc, 14);
    fx_keyed_pair(&oc, &os, 15);
    size_t n;
    ms_record_info info;
    ms_buf small;
    ms_buf_init(&small, 16); /* far below the forged length */
    CHECK_OK(ms_channel_seal(oc, MS_REC_MSG, 0, 0, pt2, 100, rec, sizeof rec, &n));
    /* another session's record that claims 1 MiB but brings 100 bytes: truncation (check 8) */
    ms_store_u32be(rec + 36, MS_MAX_RECORD_PLAINTEXT + MS_TAG_LEN);
    CHECK_ERR(ms_channel_open_buf(sc, rec, n, &info, &small), MS_ERR_TRUNCATED);
    CHECK(small.len == 0 && small.p == NULL);
    /* the same with its real length: the session check (9), still before any allocation */
    ms_store_u32be(rec + 36, 100 + MS_TAG_LEN);
    CHECK_ERR(ms_channel_open_buf(sc, rec, n, &info, &small), MS_ERR_REC_SESSION);
    CHECK(small.len == 0 && small.p == NULL);
    /* a genuine record over the buffer's cap is refused by the cap, and stays unopened */
    CHECK_OK(ms_channel_seal(cc, MS_REC_MSG, 0, 0, pt2, 100, rec, sizeof rec, &n));
    CHECK_ERR(ms_channel_open_buf(sc, rec, n, &info, &small), MS_ERR_CAP_EXCEEDED);
    CHECK_OK(open_rec(sc, rec, n));
    ms_buf_free(&small);
    ms_channel_free(cc);
    ms_channel_free(sc);
    ms_channel_free(oc);
    ms_channel_free(os);
}

int main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    RUN(test_round_trip_sizes);
    RUN(test_concatenated);
    RUN(test_every_byte_flipped);
    RUN(test_truncated_everywhere);
    RUN(test_replay_and_window);
    RUN(test_other_session_and_direction);
    RUN(test_epoch_boundary);
    RUN(test_rekey_and_epochs_ahead);
    RUN(test_rekey_by_bytes);
    RUN(test_close);
    RUN(test_seal_arguments);
    RUN(test_header_decode);
    RUN(test_header_type_range);
    RUN(test_header_direction_any);
    RUN(test_seal_buf_cap_before_alloc);
    RUN(test_open_buf_checks_before_alloc);
    return TEST_SUMMARY();
}
