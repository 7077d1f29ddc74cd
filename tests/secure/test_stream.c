/* Stream tests (§10): complete streams, and every way a stream can be cut or mixed up. */
#include "secure/stream.h"
#include "tests/secure/fixture.h"

#define NREC 6

/* Seal a stream of NREC records ("c0".."c4" then FINAL "end") as separate records. */
typedef struct sealed {
    ms_buf rec[NREC];
} sealed;

static void seal_stream(struct ms_channel *cc, uint32_t msg_id, sealed *out)
{
    ms_stream_tx tx;
    const char *parts[NREC] = {"c0", "c1", "c2", "c3", "c4", "end"};
    if (ms_stream_tx_init(&tx, msg_id) != MS_OK) {
        abort();
    }
    for (int i = 0; i < NREC; i++) {
        ms_buf_init(&out->rec[i], 1024);
        if (ms_stream_tx_seal(&tx, cc, (const uint8_t *)parts[i], strlen(parts[i]), i == NREC - 1,
                              &out->rec[i]) != MS_OK) {
            abort();
        }
    }
}

static void sealed_free(sealed *s)
{
    for (int i = 0; i < NREC; i++) {
        ms_buf_free(&s->rec[i]);
    }
}

/* Deliver records in the given order (indices; -1 ends) to a fresh reader. */
static ms_err deliver(struct ms_channel *sc, const sealed *s, const int *order, uint32_t want_id,
                      size_t cap, ms_buf *result)
{
    ms_stream_rx rx;
    ms_err err = MS_OK;
    size_t used;
    ms_stream_rx_init(&rx, want_id, cap);
    for (int i = 0; order[i] >= 0 && err == MS_OK; i++) {
        err = ms_stream_rx_open(&rx, sc, s->rec[order[i]].p, s->rec[order[i]].len, &used);
    }
    if (err == MS_OK) {
        const uint8_t *d;
        size_t n;
        err = ms_stream_rx_finish(&rx, &d, &n);
        if (err == MS_OK && result && ms_buf_append(result, d, n) != MS_OK) {
            err = MS_ERR_INTERNAL;
        }
        if (err != MS_OK && (d != NULL || n != 0)) {
            err = MS_ERR_INTERNAL; /* a failed finish must release nothing */
        }
    }
    ms_stream_rx_free(&rx);
    return err;
}

static void test_complete_stream(void)
{
    struct ms_channel *cc, *sc;
    sealed s;
    ms_buf out;
    fx_keyed_pair(&cc, &sc, 1);
    seal_stream(cc, 42, &s);
    ms_buf_init(&out, 1024);
    const int order[] = {0, 1, 2, 3, 4, 5, -1};
    CHECK_OK(deliver(sc, &s, order, 42, 1024, &out));
    CHECK(out.len == 13 && memcmp(out.p, "c0c1c2c3c4end", 13) == 0);
    ms_buf_free(&out);
    sealed_free(&s);
    ms_channel_free(cc);
    ms_channel_free(sc);
}

/* One call over a body holding the whole stream. */
static void test_stream_in_one_body(void)
{
    struct ms_channel *cc, *sc;
    sealed s;
    ms_buf body;
    ms_stream_rx rx;
    size_t used;
    const uint8_t *d;
    size_t n;
    fx_keyed_pair(&cc, &sc, 2);
    seal_stream(cc, 5, &s);
    ms_buf_init(&body, 1 << 16);
    for (int i = 0; i < NREC; i++) {
        CHECK_OK(ms_buf_append(&body, s.rec[i].p, s.rec[i].len));
    }
    ms_stream_rx_init(&rx, 5, 1024);
    CHECK_OK(ms_stream_rx_open(&rx, sc, body.p, body.len, &used));
    CHECK(used == body.len);
    CHECK_OK(ms_stream_rx_finish(&rx, &d, &n));
    CHECK(n == 13);
    ms_stream_rx_free(&rx);
    ms_buf_free(&body);
    sealed_free(&s);
    ms_channel_free(cc);
    ms_channel_free(sc);
}

static void test_cut_and_mixed_streams(void)
{
    struct {
        const char *what;
        int order[NREC + 2];
        ms_err want;
    } cases[] = {
        {"no FINAL", {0, 1, 2, 3, 4, -1}, MS_ERR_STREAM_TRUNCATED},
        {"nothing at all", {-1}, MS_ERR_STREAM_TRUNCATED},
        {"one record removed", {0, 1, 3, 4, 5, -1}, MS_ERR_STREAM_ORDER},
        {"first record removed", {1, 2, 3, 4, 5, -1}, MS_ERR_STREAM_ORDER},
        {"two records swapped", {0, 2, 1, 3, 4, 5, -1}, MS_ERR_STREAM_ORDER},
        {"FINAL only", {5, -1}, MS_ERR_STREAM_ORDER},
        {"a record replayed", {0, 1, 1, 2, 3, 4, 5, -1}, MS_ERR_REC_REPLAY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ms_channel *cc, *sc;
        sealed s;
        fx_keyed_pair(&cc, &sc, (uint8_t)(10 + i));
        seal_stream(cc, 7, &s);
        ms_err e = deliver(sc, &s, cases[i].order, 7, 1024, NULL);
        if (e != cases[i].want) {
            fprintf(stderr, "  %s: got %s\n", cases[i].what, ms_err_name(e));
        }
        CHECK(e == cases[i].want);
        sealed_free(&s);
        ms_channel_free(cc);
        ms_channel_free(sc);
    }
}

static void test_wrong_stream_and_after_final(void)
{
    struct ms_channel *cc, *sc, *cc2;
    sealed s;
    fx_keyed_pair(&cc, &sc, 30);
    seal_stream(cc, 7, &s);
    const int order[] = {0, -1};
    CHECK_ERR(deliver(sc, &s, order, 8, 1024, NULL), MS_ERR_STREAM_MSG_ID);
    sealed_free(&s);

    /* A MSG where a stream chunk is expected. */
    ms_buf b;
    ms_buf_init(&b, 1024);
    ms_stream_rx rx;
    size_t used;
    ms_stream_rx_init(&rx, 7, 1024);
    CHECK_OK(ms_channel_seal_buf(cc, MS_REC_MSG, 7, 0, (const uint8_t *)"m", 1, &b));
    CHECK_ERR(ms_stream_rx_open(&rx, sc, b.p, b.len, &used), MS_ERR_STREAM_ORDER);
    /* A failed stream stays failed. */
    const uint8_t *d;
    size_t n;
    CHECK_ERR(ms_stream_rx_finish(&rx, &d, &n), MS_ERR_STREAM_ORDER);
    ms_stream_rx_free(&rx);

    /* Records after the FINAL in the same body. */
    ms_stream_tx tx;
    ms_buf_clear(&b);
    CHECK_OK(ms_stream_tx_init(&tx, 9));
    CHECK_OK(ms_stream_tx_seal(&tx, cc, (const uint8_t *)"x", 1, 1, &b));
    CHECK_ERR(ms_stream_tx_seal(&tx, cc, (const uint8_t *)"y", 1, 0, &b), MS_ERR_STREAM_DONE);
    CHECK_OK(ms_channel_seal_buf(cc, MS_REC_STREAM_DATA, 9, 1, (const uint8_t *)"z", 1, &b));
    ms_stream_rx_init(&rx, 9, 1024);
    CHECK_ERR(ms_stream_rx_open(&rx, sc, b.p, b.len, &used), MS_ERR_STREAM_DONE);
    ms_stream_rx_free(&rx);
    /* ... the reader stops at the FINAL's end: the record after it is left to the channel
       unopened (it still opens), and `used` ends at the FINAL */
    size_t final_len = ms_record_size(1);
    ms_channel_free(sc);
    fx_keyed_pair(&cc2, &sc, 30);
    ms_channel_free(cc2);
    ms_stream_rx_init(&rx, 9, 1024);
    CHECK_ERR(ms_stream_rx_open(&rx, sc, b.p, b.len, &used), MS_ERR_STREAM_DONE);
    CHECK(used == final_len);
    ms_record_info info;
    uint8_t pt[8];
    CHECK_OK(ms_channel_open(sc, b.p + final_len, b.len - final_len, &info, pt, sizeof pt));
    CHECK(info.type == MS_REC_STREAM_DATA && info.chunk == 1);
    ms_stream_rx_free(&rx);
    /* ... and a record handed to a finished reader record by record is refused too */
    ms_stream_rx_init(&rx, 9, 1024);
    int fin;
    ms_record_info first = {.type = MS_REC_STREAM_FINAL, .msg_id = 9, .chunk = 0};
    CHECK_OK(ms_stream_rx_add(&rx, &first, (const uint8_t *)"", &fin));
    CHECK(fin == 1);
    ms_record_info more = {.type = MS_REC_STREAM_DATA, .msg_id = 9, .chunk = 1};
    CHECK_ERR(ms_stream_rx_add(&rx, &more, (const uint8_t *)"", &fin), MS_ERR_STREAM_DONE);
    CHECK(fin == 0);
    ms_stream_rx_free(&rx);
    CHECK_ERR(ms_stream_tx_init(&tx, 0), MS_ERR_ARG);
    ms_buf_free(&b);
    ms_channel_free(cc);
    ms_channel_free(sc);
}

static void test_cap_and_empty(void)
{
    struct ms_channel *cc, *sc;
    sealed s;
    fx_keyed_pair(&cc, &sc, 31);
    seal_stream(cc, 3, &s);
    const int order[] = {0, 1, 2, 3, 4, 5, -1};
    CHECK_ERR(deliver(sc, &s, order, 3, 12, NULL), MS_ERR_CAP_EXCEEDED); /* 13 bytes > 12 */
    sealed_free(&s);

    ms_stream_tx tx;
    ms_buf b, out;
    ms_buf_init(&b, 1024);
    ms_buf_init(&out, 16);
    CHECK_OK(ms_stream_tx_init(&tx, 4));
    CHECK_OK(ms_stream_tx_seal(&tx, cc, NULL, 0, 1, &b));
    ms_stream_rx rx;
    size_t used;
    const uint8_t *d;
    size_t n = 99;
    ms_stream_rx_init(&rx, 4, 16);
    CHECK_OK(ms_stream_rx_open(&rx, sc, b.p, b.len, &used));
    CHECK_OK(ms_stream_rx_finish(&rx, &d, &n));
    CHECK(n == 0 && d != NULL); /* an empty answer is an answer, not an error */
    ms_stream_rx_free(&rx);
    ms_buf_free(&b);
    ms_buf_free(&out);
    ms_channel_free(cc);
    ms_channel_free(sc);
}

/* Two streams interleaved on one channel, each read by its own reader via rx_add. */
static void test_interleaved(void)
{
    struct ms_channel *cc, *sc;
    fx_keyed_pair(&cc, &sc, 32);
    ms_stream_tx a, b;
    ms_stream_rx ra, rb;
    ms_buf body, pt;
    CHECK_OK(ms_stream_tx_init(&a, 1));
    CHECK_OK(ms_stream_tx_init(&b, 2));
    ms_buf_init(&body, 4096);
    ms_buf_init(&pt, 4096);
    CHECK_OK(ms_stream_tx_seal(&a, cc, (const uint8_t *)"A0", 2, 0, &body));
    CHECK_OK(ms_stream_tx_seal(&b, cc, (const uint8_t *)"B0", 2, 0, &body));
    CHECK_OK(ms_stream_tx_seal(&b, cc, (const uint8_t *)"B1", 2, 1, &body));
    CHECK_OK(ms_stream_tx_seal(&a, cc, (const uint8_t *)"A1", 2, 1, &body));
    ms_stream_rx_init(&ra, 1, 64);
    ms_stream_rx_init(&rb, 2, 64);
    size_t off = 0;
    while (off < body.len) {
        ms_record_info info;
        int fin;
        ms_buf_clear(&pt);
        CHECK_OK(ms_channel_open_buf(sc, body.p + off, body.len - off, &info, &pt));
        off += info.rec_len;
        CHECK_OK(ms_stream_rx_add(info.msg_id == 1 ? &ra : &rb, &info, pt.p, &fin));
    }
    const uint8_t *d;
    size_t n;
    CHECK_OK(ms_stream_rx_finish(&ra, &d, &n));
    CHECK(n == 4 && memcmp(d, "A0A1", 4) == 0);
    CHECK_OK(ms_stream_rx_finish(&rb, &d, &n));
    CHECK(n == 4 && memcmp(d, "B0B1", 4) == 0);
    ms_stream_rx_free(&ra);
    ms_stream_rx_free(&rb);
    ms_buf_free(&body);
    ms_buf_free(&pt);
    ms_channel_free(cc);
    ms_channel_free(sc);
}

/* A peer numbering chunks past 2^32-1 must not wrap the reader back to chunk 0. */
static void test_chunk_counter_wrap(void)
{
    ms_stream_rx rx;
    int fin;
    ms_stream_rx_init(&rx, 5, 64);
    rx.next_chunk = UINT32_MAX; /* as after 2^32-1 chunks */
    ms_record_info data = {.type = MS_REC_STREAM_DATA, .msg_id = 5, .chunk = UINT32_MAX};
    CHECK_ERR(ms_stream_rx_add(&rx, &data, (const uint8_t *)"", &fin), MS_ERR_STREAM_ORDER);
    ms_stream_rx_free(&rx);
    ms_stream_rx_init(&rx, 5, 64);
    rx.next_chunk = UINT32_MAX;
    ms_record_info last = {.type = MS_REC_STREAM_FINAL, .msg_id = 5, .chunk = UINT32_MAX};
    CHECK_OK(ms_stream_rx_add(&rx, &last, (const uint8_t *)"", &fin));
    CHECK(fin == 1);
    ms_stream_rx_free(&rx);

    /* The sender: after 2^32-1 chunks only the FINAL may follow (it takes chunk 2^32-1). */
    struct ms_channel *cc, *sc;
    fx_keyed_pair(&cc, &sc, 31);
    ms_stream_tx tx;
    ms_buf b;
    ms_buf_init(&b, 1024);
    CHECK_OK(ms_stream_tx_init(&tx, 5));
    tx.next_chunk = UINT32_MAX;
    CHECK_ERR(ms_stream_tx_seal(&tx, cc, (const uint8_t *)"d", 1, 0, &b), MS_ERR_CAP_EXCEEDED);
    CHECK(b.len == 0 && tx.next_chunk == UINT32_MAX);
    CHECK_OK(ms_stream_tx_seal(&tx, cc, (const uint8_t *)"f", 1, 1, &b));
    ms_record_info info;
    uint8_t pt[8];
    CHECK_OK(ms_channel_open(sc, b.p, b.len, &info, pt, sizeof pt));
    CHECK(info.type == MS_REC_STREAM_FINAL && info.chunk == UINT32_MAX && info.seq == 0);
    ms_buf_free(&b);
    ms_channel_free(cc);
    ms_channel_free(sc);
}

int main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    RUN(test_complete_stream);
    RUN(test_stream_in_one_body);
    RUN(test_cut_and_mixed_streams);
    RUN(test_wrong_stream_and_after_final);
    RUN(test_cap_and_empty);
    RUN(test_interleaved);
    RUN(test_chunk_counter_wrap);
    return TEST_SUMMARY();
}
