/*
 * The end of the sequence space (protocol.md §8.2), which no session can reach by sealing:
 * 2^48 epochs of 2^16 records. The test compiles record.c into itself to start a channel in
 * the last epoch (its keys stay those of epoch 0 on both sides, which is all the test needs).
 */
#include "secure/record.c"

#include "tests/test.h"

#define LAST_EPOCH (UINT64_MAX >> MS_EPOCH_SHIFT)

static const uint8_t SID[MS_SESSION_ID_LEN] = {1, 2, 3};
static const uint8_t K1[MS_KEY_LEN] = {7}, K2[MS_KEY_LEN] = {9};

/* A client (sender) and server (receiver) pair whose next record is `seq`, in its epoch. */
static void pair_at(struct ms_channel **c, struct ms_channel **s, uint64_t seq)
{
    CHECK_OK(ms_channel_new(c, MS_ROLE_CLIENT, SID, K1, K2));
    CHECK_OK(ms_channel_new(s, MS_ROLE_SERVER, SID, K1, K2));
    (*c)->tx.seq = seq;
    (*c)->tx.epoch = EPOCH_OF(seq);
    (*c)->tx.epoch_used = 1;
    (*s)->rx.epoch = EPOCH_OF(seq);
    (*s)->rx.top = seq;
}

/* Rekeying in the last epoch is refused and changes nothing (the epoch would wrap to 0). */
static void test_rekey_in_last_epoch(void)
{
    struct ms_channel *c, *s;
    pair_at(&c, &s, LAST_EPOCH << MS_EPOCH_SHIFT);
    CHECK_ERR(ms_channel_rekey(c), MS_ERR_SEQ_EXHAUSTED);
    CHECK(c->tx.seq == LAST_EPOCH << MS_EPOCH_SHIFT && c->tx.epoch == LAST_EPOCH);
    /* The epoch before the last still moves on, to the last. */
    ms_channel_free(c);
    ms_channel_free(s);
    pair_at(&c, &s, (LAST_EPOCH - 1) << MS_EPOCH_SHIFT);
    CHECK_OK(ms_channel_rekey(c));
    CHECK(c->tx.seq == LAST_EPOCH << MS_EPOCH_SHIFT && c->tx.epoch == LAST_EPOCH);
    ms_channel_free(c);
    ms_channel_free(s);
}

/* A seal that would need a new epoch (its byte budget spent) in the last one is refused too. */
static void test_byte_budget_in_last_epoch(void)
{
    struct ms_channel *c, *s;
    pair_at(&c, &s, LAST_EPOCH << MS_EPOCH_SHIFT);
    c->tx.epoch_bytes = MS_EPOCH_BYTES;
    uint8_t out[64];
    size_t n;
    CHECK_ERR(ms_channel_seal(c, MS_REC_MSG, 1, 0, (const uint8_t *)"x", 1, out, sizeof out, &n),
              MS_ERR_SEQ_EXHAUSTED);
    CHECK(c->tx.seq == LAST_EPOCH << MS_EPOCH_SHIFT && n == 0);
    ms_channel_free(c);
    ms_channel_free(s);
}

/* Seq 2^64-2 is the last one sealed and opened; 2^64-1 is never used. */
static void test_last_sequence_number(void)
{
    struct ms_channel *c, *s;
    pair_at(&c, &s, UINT64_MAX - 1);
    uint8_t out[64], pt[8];
    size_t n;
    ms_record_info info;
    CHECK_OK(ms_channel_seal(c, MS_REC_MSG, 1, 0, (const uint8_t *)"last", 4, out, sizeof out, &n));
    CHECK_OK(ms_channel_open(s, out, n, &info, pt, sizeof pt));
    CHECK(info.seq == UINT64_MAX - 1 && info.pt_len == 4 && memcmp(pt, "last", 4) == 0);
    CHECK(c->tx.seq == UINT64_MAX);
    CHECK_ERR(ms_channel_seal(c, MS_REC_MSG, 2, 0, (const uint8_t *)"more", 4, out, sizeof out, &n),
              MS_ERR_SEQ_EXHAUSTED);
    CHECK(c->tx.seq == UINT64_MAX && n == 0);
    ms_channel_free(c);
    ms_channel_free(s);
}

int main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    RUN(test_rekey_in_last_epoch);
    RUN(test_byte_budget_in_last_epoch);
    RUN(test_last_sequence_number);
    return TEST_SUMMARY();
}
