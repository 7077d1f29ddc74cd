/* Reading the supervisor's sealed answers: one record, or a stream fed in arbitrary pieces. */
#include "secure/client/reply.h"

#include <string.h>

#include "common/check.h"
#include "common/limits.h"

ms_err ms_reply_open_single(struct ms_channel *ch, const uint8_t *in, size_t len, uint8_t want_type,
                            uint32_t msg_id, ms_buf *pt)
{
    ms_record_info info;
    size_t before = pt->len;
    /* Authenticate first (§8.3), then judge what the authentic header says (§12.1). */
    TRY(ms_channel_open_buf(ch, in, len, &info, pt));
    if (info.rec_len != len || info.type != want_type || info.msg_id != msg_id) {
        ms_err e = ms_buf_shrink(pt, pt->len - before);
        (void)e; /* cannot fail: the buffer grew by at least this much */
        return MS_ERR_REPLY_MISMATCH;
    }
    return MS_OK;
}

void ms_reply_stream_init(ms_reply_stream *s, struct ms_channel *ch, uint32_t msg_id,
                          ms_reply_piece_fn on_piece, void *ctx)
{
    memset(s, 0, sizeof *s);
    s->ch = ch;
    s->on_piece = on_piece;
    s->ctx = ctx;
    ms_stream_rx_init(&s->rx, msg_id, MS_MAX_STREAM_BYTES);
    ms_buf_init(&s->rec, MS_REC_OVERHEAD + MS_MAX_RECORD_PLAINTEXT);
    ms_buf_init(&s->pt, MS_MAX_RECORD_PLAINTEXT);
    ms_buf_init(&s->final, MS_MAX_RECORD_PLAINTEXT);
}

void ms_reply_stream_free(ms_reply_stream *s)
{
    ms_stream_rx_free(&s->rx);
    ms_buf_free(&s->rec);
    ms_buf_free(&s->pt);
    ms_buf_free(&s->final);
    s->ch = NULL;
}

/* A whole record is in s->rec: open it (§8.3), place it in the stream (§10), hand it on. */
static ms_err one_record(ms_reply_stream *s)
{
    ms_record_info info;
    int fin = 0;
    ms_buf_clear(&s->pt);
    TRY(ms_channel_open_buf(s->ch, s->rec.p, s->rec.len, &info, &s->pt));
    TRY(ms_stream_rx_add(&s->rx, &info, s->pt.p, &fin));
    if (fin) {
        s->got_final = 1;
        return ms_buf_append(&s->final, s->pt.p, s->pt.len);
    }
    if (s->pt.len == 0 || !s->on_piece) {
        return MS_OK;
    }
    s->text_len += s->pt.len;
    return s->on_piece(s->ctx, (const char *)s->pt.p, s->pt.len);
}

/* Take bytes for the current record; open it once complete. *used says how many were taken. */
static ms_err step(ms_reply_stream *s, const uint8_t *p, size_t n, size_t *used)
{
    ms_record_header h;
    size_t want = s->need ? s->need : MS_REC_HEADER_LEN;
    size_t take = want - s->rec.len < n ? want - s->rec.len : n;
    *used = 0;
    ENSURE(!s->got_final, MS_ERR_STREAM_DONE); /* §10: nothing may follow the FINAL */
    TRY(ms_buf_append(&s->rec, p, take));
    *used = take;
    if (s->rec.len < want) {
        return MS_OK;
    }
    if (s->need == 0) {
        /* §8.3 checks 1-7 on the header alone: a lying ct_len costs no buffering. */
        TRY(ms_record_header_decode(s->rec.p, s->rec.len, MS_DIR_S2C, &h));
        s->need = MS_REC_HEADER_LEN + (size_t)h.ct_len;
        return MS_OK;
    }
    ms_err err = one_record(s);
    ms_buf_clear(&s->rec);
    s->need = 0;
    return err;
}

ms_err ms_reply_stream_feed(ms_reply_stream *s, const uint8_t *p, size_t n)
{
    size_t used;
    TRY(s->failed);
    while (n > 0) {
        ms_err err = step(s, p, n, &used);
        if (err != MS_OK) {
            s->failed = err;
            ms_buf_clear(&s->rec);
            return err;
        }
        p += used;
        n -= used;
    }
    return MS_OK;
}

ms_err ms_reply_stream_end(ms_reply_stream *s, const uint8_t **final, size_t *len)
{
    *final = NULL;
    *len = 0;
    TRY(s->failed);
    ENSURE(s->got_final && s->rec.len == 0, MS_ERR_STREAM_TRUNCATED);
    *final = s->final.p ? s->final.p : (const uint8_t *)"";
    *len = s->final.len;
    return MS_OK;
}
