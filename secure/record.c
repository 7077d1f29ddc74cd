/* Record sealing and opening with replay window and forward key epochs (protocol.md §8-§9). */
#include "secure/record.h"

#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/cursor.h"
#include "secure/aead.h"
#include "secure/kdf.h"

#define EPOCH_OF(seq) ((seq) >> MS_EPOCH_SHIFT)
#define WINDOW_WORDS (MS_WINDOW / 64u)

struct tx_state {
    uint8_t key[MS_KEY_LEN];
    uint64_t epoch;
    uint64_t seq;         /* next sequence number to use */
    uint64_t epoch_bytes; /* plaintext sealed in the current epoch */
    uint8_t epoch_used;   /* a record was sealed in the current epoch */
    uint8_t closed;
};

struct rx_state {
    uint8_t key[MS_KEY_LEN];
    uint64_t epoch;
    uint64_t top;                   /* one more than the highest accepted seq */
    uint64_t bits[WINDOW_WORDS];    /* bit i set: seq top-1-i was accepted */
    uint8_t closed;
};

struct ms_channel {
    uint8_t session_id[MS_SESSION_ID_LEN];
    uint8_t tx_dir;
    uint8_t rx_dir;
    struct tx_state tx;
    struct rx_state rx;
};

ms_err ms_channel_new(struct ms_channel **out, ms_role role,
                      const uint8_t session_id[static MS_SESSION_ID_LEN],
                      const uint8_t k_c2s[static MS_KEY_LEN], const uint8_t k_s2c[static MS_KEY_LEN])
{
    *out = NULL;
    ENSURE(role == MS_ROLE_CLIENT || role == MS_ROLE_SERVER, MS_ERR_ARG);
    struct ms_channel *ch = calloc(1, sizeof *ch);
    ENSURE(ch != NULL, MS_ERR_NOMEM);
    memcpy(ch->session_id, session_id, MS_SESSION_ID_LEN);
    int client = role == MS_ROLE_CLIENT;
    ch->tx_dir = client ? MS_DIR_C2S : MS_DIR_S2C;
    ch->rx_dir = client ? MS_DIR_S2C : MS_DIR_C2S;
    memcpy(ch->tx.key, client ? k_c2s : k_s2c, MS_KEY_LEN);
    memcpy(ch->rx.key, client ? k_s2c : k_c2s, MS_KEY_LEN);
    *out = ch;
    return MS_OK;
}

void ms_channel_free(struct ms_channel *ch)
{
    if (ch) {
        ms_wipe(ch, sizeof *ch);
        free(ch);
    }
}

const uint8_t *ms_channel_session_id(const struct ms_channel *ch)
{
    return ch->session_id;
}

size_t ms_channel_struct_size(void)
{
    return sizeof(struct ms_channel);
}

uint64_t ms_channel_tx_epoch(const struct ms_channel *ch)
{
    return ch->tx.epoch;
}

uint64_t ms_channel_rx_epoch(const struct ms_channel *ch)
{
    return ch->rx.epoch;
}

size_t ms_record_size(size_t pt_len)
{
    return MS_REC_OVERHEAD + pt_len;
}

/* §8.5: which msg_id / chunk values each type allows. */
static int fields_fit(uint8_t type, uint32_t msg_id, uint32_t chunk)
{
    switch (type) {
    case MS_REC_MSG:
        return chunk == 0;
    case MS_REC_STREAM_DATA:
    case MS_REC_STREAM_FINAL:
        return msg_id != 0;
    case MS_REC_CLOSE:
        return msg_id == 0 && chunk == 0;
    default:
        return 0;
    }
}

static void make_nonce(uint8_t nonce[static MS_NONCE_LEN], uint64_t seq)
{
    memset(nonce, 0, 4);
    ms_store_u64be(nonce + 4, seq);
}

static void encode_header(uint8_t h[static MS_REC_HEADER_LEN], const struct ms_channel *ch,
                          uint8_t type, uint64_t seq, uint32_t msg_id, uint32_t chunk,
                          uint32_t ct_len)
{
    h[0] = MS_VERSION_1;
    h[1] = type;
    h[2] = ch->tx_dir;
    h[3] = 0;
    memcpy(h + 4, ch->session_id, MS_SESSION_ID_LEN);
    ms_store_u64be(h + 20, seq);
    ms_store_u32be(h + 28, msg_id);
    ms_store_u32be(h + 32, chunk);
    ms_store_u32be(h + 36, ct_len);
}

/* Advance the sending key to the epoch of tx.seq (at most one step by construction). */
static void tx_sync_epoch(struct tx_state *tx)
{
    uint64_t want = EPOCH_OF(tx->seq);
    while (tx->epoch < want) {
        ms_kdf_ratchet(tx->key);
        tx->epoch++;
        tx->epoch_bytes = 0;
        tx->epoch_used = 0;
    }
}

/* Move to the first seq of the next epoch; MS_ERR_SEQ_EXHAUSTED (and no change) past the last. */
static ms_err tx_skip_to_next_epoch(struct tx_state *tx)
{
    uint64_t next_epoch = EPOCH_OF(tx->seq) + 1;
    ENSURE(next_epoch <= (UINT64_MAX >> MS_EPOCH_SHIFT), MS_ERR_SEQ_EXHAUSTED);
    tx->seq = next_epoch << MS_EPOCH_SHIFT;
    tx_sync_epoch(tx);
    return MS_OK;
}

ms_err ms_channel_rekey(struct ms_channel *ch)
{
    ENSURE(!ch->tx.closed, MS_ERR_CHANNEL_CLOSED);
    if (ch->tx.epoch_used) {
        TRY(tx_skip_to_next_epoch(&ch->tx));
    }
    return MS_OK;
}

ms_err ms_channel_seal(struct ms_channel *ch, uint8_t type, uint32_t msg_id, uint32_t chunk,
                       const uint8_t *pt, size_t pt_len, uint8_t *out, size_t out_cap,
                       size_t *out_len)
{
    struct tx_state *tx = &ch->tx;
    uint8_t nonce[MS_NONCE_LEN];
    *out_len = 0;
    ENSURE(!tx->closed, MS_ERR_CHANNEL_CLOSED);
    ENSURE(fields_fit(type, msg_id, chunk), MS_ERR_ARG);
    ENSURE(pt_len <= MS_MAX_RECORD_PLAINTEXT, MS_ERR_CAP_EXCEEDED);
    ENSURE(pt != NULL || pt_len == 0, MS_ERR_ARG);
    ENSURE(out_cap >= ms_record_size(pt_len), MS_ERR_OUT_SPACE);
    /* §8.2: seq 2^64-1 is never used, so the receiver's `top` always fits in 64 bits. */
    ENSURE(tx->seq != UINT64_MAX, MS_ERR_SEQ_EXHAUSTED);
    if (tx->epoch_bytes + pt_len > MS_EPOCH_BYTES && tx->epoch_used) {
        TRY(tx_skip_to_next_epoch(tx));
    }

    uint64_t seq = tx->seq;
    encode_header(out, ch, type, seq, msg_id, chunk, (uint32_t)(pt_len + MS_TAG_LEN));
    make_nonce(nonce, seq);
    ms_aead_seal(MS_AEAD_AUTO, out + MS_REC_HEADER_LEN, out + MS_REC_HEADER_LEN + pt_len, pt,
                 pt_len, out, MS_REC_HEADER_LEN, nonce, tx->key);
    tx->epoch_bytes += pt_len;
    tx->epoch_used = 1;
    tx->seq = seq + 1;
    tx_sync_epoch(tx);
    if (type == MS_REC_CLOSE) {
        tx->closed = 1;
    }
    *out_len = ms_record_size(pt_len);
    return MS_OK;
}

ms_err ms_channel_seal_buf(struct ms_channel *ch, uint8_t type, uint32_t msg_id, uint32_t chunk,
                           const uint8_t *pt, size_t pt_len, ms_buf *out)
{
    uint8_t *dst;
    size_t n;
    ENSURE(pt_len <= MS_MAX_RECORD_PLAINTEXT, MS_ERR_CAP_EXCEEDED);
    TRY(ms_buf_extend(out, ms_record_size(pt_len), &dst));
    ms_err err = ms_channel_seal(ch, type, msg_id, chunk, pt, pt_len, dst, ms_record_size(pt_len),
                                 &n);
    if (err != MS_OK) {
        ms_err e2 = ms_buf_shrink(out, ms_record_size(pt_len));
        (void)e2; /* cannot fail: we just extended by this much */
    }
    return err;
}

static ms_err header_read(ms_cursor *c, uint8_t want_dir, ms_record_header *h)
{
    TRY(ms_cursor_read_u8(c, &h->version));
    ENSURE(h->version == MS_VERSION_1, MS_ERR_REC_VERSION);
    TRY(ms_cursor_read_u8(c, &h->type));
    ENSURE(h->type >= MS_REC_MSG && h->type <= MS_REC_CLOSE, MS_ERR_REC_TYPE);
    TRY(ms_cursor_read_u8(c, &h->direction));
    ENSURE(h->direction == MS_DIR_C2S || h->direction == MS_DIR_S2C, MS_ERR_REC_DIRECTION);
    ENSURE(want_dir == 0 || h->direction == want_dir, MS_ERR_REC_DIRECTION);
    TRY(ms_cursor_read_u8(c, &h->flags));
    ENSURE(h->flags == 0, MS_ERR_REC_FLAGS);
    TRY(ms_cursor_read_bytes(c, h->session_id, sizeof h->session_id));
    TRY(ms_cursor_read_u64be(c, &h->seq));
    TRY(ms_cursor_read_u32be(c, &h->msg_id));
    TRY(ms_cursor_read_u32be(c, &h->chunk));
    TRY(ms_cursor_read_u32be(c, &h->ct_len));
    ENSURE(h->ct_len >= MS_TAG_LEN && h->ct_len <= MS_MAX_RECORD_PLAINTEXT + MS_TAG_LEN,
           MS_ERR_REC_LENGTH);
    ENSURE(fields_fit(h->type, h->msg_id, h->chunk) && h->seq != UINT64_MAX, MS_ERR_REC_FIELDS);
    return MS_OK;
}

ms_err ms_record_header_decode(const uint8_t *p, size_t len, uint8_t want_direction,
                               ms_record_header *out)
{
    memset(out, 0, sizeof *out);
    /* Check 1 first: a short input is "truncated" whatever its first bytes say. */
    ENSURE(len >= MS_REC_HEADER_LEN, MS_ERR_TRUNCATED);
    ms_cursor c = ms_cursor_init(p, MS_REC_HEADER_LEN);
    ms_err err = header_read(&c, want_direction, out);
    if (err != MS_OK) {
        memset(out, 0, sizeof *out);
    }
    return err;
}

/* §8.4: MS_OK when seq may be accepted. */
static ms_err window_check(const struct rx_state *rx, uint64_t seq)
{
    if (seq >= rx->top) {
        return MS_OK;
    }
    uint64_t age = rx->top - 1 - seq; /* 0 = the highest accepted */
    ENSURE(age < MS_WINDOW, MS_ERR_REC_TOO_OLD);
    ENSURE(!(rx->bits[age / 64] >> (age % 64) & 1u), MS_ERR_REC_REPLAY);
    return MS_OK;
}

static void window_shift(uint64_t bits[static WINDOW_WORDS], uint64_t by)
{
    if (by >= MS_WINDOW) {
        memset(bits, 0, WINDOW_WORDS * sizeof bits[0]);
        return;
    }
    unsigned words = (unsigned)(by / 64), rem = (unsigned)(by % 64);
    for (unsigned i = WINDOW_WORDS; i-- > 0;) {
        uint64_t v = i >= words ? bits[i - words] << rem : 0;
        if (rem && i >= words + 1) {
            v |= bits[i - words - 1] >> (64 - rem);
        }
        bits[i] = v;
    }
}

static void window_mark(struct rx_state *rx, uint64_t seq)
{
    if (seq >= rx->top) {
        window_shift(rx->bits, seq + 1 - rx->top);
        rx->top = seq + 1;
    }
    uint64_t age = rx->top - 1 - seq;
    rx->bits[age / 64] |= (uint64_t)1 << (age % 64);
}

/* Checks 9-14 of §8.3, which need the channel's state. */
static ms_err state_checks(const struct ms_channel *ch, const ms_record_header *h)
{
    ENSURE(ms_ct_equal(h->session_id, ch->session_id, MS_SESSION_ID_LEN), MS_ERR_REC_SESSION);
    ENSURE(!ch->rx.closed, MS_ERR_CHANNEL_CLOSED);
    TRY(window_check(&ch->rx, h->seq));
    uint64_t e = EPOCH_OF(h->seq);
    ENSURE(e >= ch->rx.epoch, MS_ERR_REC_TOO_OLD);
    ENSURE(e - ch->rx.epoch <= MS_MAX_EPOCH_AHEAD, MS_ERR_REC_TOO_NEW);
    return MS_OK;
}

/* §8.3 checks 1-14: everything that needs no key. Reads only the header and in_len. */
static ms_err open_checks(const struct ms_channel *ch, const uint8_t *in, size_t in_len,
                          ms_record_header *h)
{
    TRY(ms_record_header_decode(in, in_len, ch->rx_dir, h));
    ENSURE(in_len - MS_REC_HEADER_LEN >= h->ct_len, MS_ERR_TRUNCATED); /* check 8 */
    return state_checks(ch, h);
}

/* §8.3 check 15, then the state changes that only an authentic record may cause. */
static ms_err open_decrypt(struct ms_channel *ch, const uint8_t *in, const ms_record_header *h,
                           ms_record_info *info, uint8_t *pt_out)
{
    ms_err err = MS_OK;
    uint8_t key[MS_KEY_LEN];
    uint8_t nonce[MS_NONCE_LEN];
    size_t pt_len = h->ct_len - MS_TAG_LEN;
    uint64_t e = EPOCH_OF(h->seq);
    memcpy(key, ch->rx.key, sizeof key);
    for (uint64_t i = ch->rx.epoch; i < e; i++) {
        ms_kdf_ratchet(key);
    }
    make_nonce(nonce, h->seq);
    const uint8_t *ct = in + MS_REC_HEADER_LEN;
    /* The tag is verified before any plaintext is written (secure/aead.h). */
    TRY_OUT(ms_aead_open(MS_AEAD_AUTO, pt_out, ct, pt_len, ct + pt_len, in, MS_REC_HEADER_LEN,
                         nonce, key));
    window_mark(&ch->rx, h->seq);
    if (e > ch->rx.epoch) {
        memcpy(ch->rx.key, key, sizeof key);
        ch->rx.epoch = e;
    }
    if (h->type == MS_REC_CLOSE) {
        ch->rx.closed = 1;
    }
    info->type = h->type;
    info->seq = h->seq;
    info->msg_id = h->msg_id;
    info->chunk = h->chunk;
    info->pt_len = pt_len;
    info->rec_len = MS_REC_HEADER_LEN + (size_t)h->ct_len;
out:
    ms_wipe(key, sizeof key);
    return err;
}

ms_err ms_channel_open(struct ms_channel *ch, const uint8_t *in, size_t in_len,
                       ms_record_info *info, uint8_t *pt_out, size_t pt_cap)
{
    ms_record_header h;
    memset(info, 0, sizeof *info);
    TRY(open_checks(ch, in, in_len, &h));
    size_t pt_len = h.ct_len - MS_TAG_LEN;
    ENSURE(pt_cap >= pt_len && (pt_out != NULL || pt_len == 0), MS_ERR_OUT_SPACE);
    return open_decrypt(ch, in, &h, info, pt_out);
}

ms_err ms_channel_open_buf(struct ms_channel *ch, const uint8_t *in, size_t in_len,
                           ms_record_info *info, ms_buf *pt_out)
{
    ms_record_header h;
    uint8_t *dst;
    memset(info, 0, sizeof *info);
    /* All cheap checks first: a forged header must not cost an allocation. */
    TRY(open_checks(ch, in, in_len, &h));
    size_t pt_len = h.ct_len - MS_TAG_LEN;
    TRY(ms_buf_extend(pt_out, pt_len, &dst));
    ms_err err = open_decrypt(ch, in, &h, info, dst);
    if (err != MS_OK) {
        ms_err e2 = ms_buf_shrink(pt_out, pt_len);
        (void)e2; /* cannot fail: we just extended by this much */
    }
    return err;
}
