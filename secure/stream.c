/* Stream framing over records: contiguous chunks, one message id, authenticated FINAL. */
#include "secure/stream.h"

#include <string.h>

#include "common/check.h"
#include "common/limits.h"

ms_err ms_stream_tx_init(ms_stream_tx *s, uint32_t msg_id)
{
    memset(s, 0, sizeof *s);
    ENSURE(msg_id != 0, MS_ERR_ARG);
    s->msg_id = msg_id;
    return MS_OK;
}

ms_err ms_stream_tx_seal(ms_stream_tx *s, struct ms_channel *ch, const uint8_t *pt, size_t pt_len,
                         int final, ms_buf *out)
{
    ENSURE(!s->done, MS_ERR_STREAM_DONE);
    ENSURE(s->next_chunk != UINT32_MAX || final, MS_ERR_CAP_EXCEEDED);
    uint8_t type = final ? MS_REC_STREAM_FINAL : MS_REC_STREAM_DATA;
    TRY(ms_channel_seal_buf(ch, type, s->msg_id, s->next_chunk, pt, pt_len, out));
    s->next_chunk++;
    s->done = final != 0;
    return MS_OK;
}

void ms_stream_rx_init(ms_stream_rx *s, uint32_t msg_id, size_t max_bytes)
{
    memset(s, 0, sizeof *s);
    s->msg_id = msg_id;
    ms_buf_init(&s->data, max_bytes);
}

void ms_stream_rx_free(ms_stream_rx *s)
{
    ms_buf_free(&s->data);
    memset(s, 0, sizeof *s);
}

static ms_err rx_check(const ms_stream_rx *s, const ms_record_info *info)
{
    ENSURE(!s->done, MS_ERR_STREAM_DONE);
    ENSURE(info->type == MS_REC_STREAM_DATA || info->type == MS_REC_STREAM_FINAL,
           MS_ERR_STREAM_ORDER);
    ENSURE(info->msg_id == s->msg_id, MS_ERR_STREAM_MSG_ID);
    ENSURE(info->chunk == s->next_chunk, MS_ERR_STREAM_ORDER);
    /* The sender never numbers past 2^32-1; a peer that does would wrap our counter. */
    ENSURE(info->type == MS_REC_STREAM_FINAL || s->next_chunk != UINT32_MAX, MS_ERR_STREAM_ORDER);
    return MS_OK;
}

ms_err ms_stream_rx_add(ms_stream_rx *s, const ms_record_info *info, const uint8_t *pt,
                        int *is_final)
{
    *is_final = 0;
    TRY(s->failed);
    ms_err err = rx_check(s, info);
    if (err == MS_OK) {
        err = ms_buf_append(&s->data, pt, info->pt_len);
    }
    if (err != MS_OK) {
        s->failed = err;
        return err;
    }
    s->next_chunk++;
    s->done = info->type == MS_REC_STREAM_FINAL;
    *is_final = s->done;
    return MS_OK;
}

ms_err ms_stream_rx_open(ms_stream_rx *s, struct ms_channel *ch, const uint8_t *in, size_t in_len,
                         size_t *used)
{
    ms_err err = MS_OK;
    ms_buf pt;
    ms_record_info info;
    int fin = 0;
    *used = 0;
    ms_buf_init(&pt, MS_MAX_RECORD_PLAINTEXT);
    TRY(s->failed);
    while (*used < in_len) {
        ENSURE_OUT(!s->done, MS_ERR_STREAM_DONE);
        ms_buf_clear(&pt);
        TRY_OUT(ms_channel_open_buf(ch, in + *used, in_len - *used, &info, &pt));
        *used += info.rec_len;
        TRY_OUT(ms_stream_rx_add(s, &info, pt.p, &fin));
    }
out:
    ms_buf_free(&pt);
    if (err != MS_OK) {
        s->failed = err;
    }
    return err;
}

ms_err ms_stream_rx_finish(ms_stream_rx *s, const uint8_t **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    TRY(s->failed);
    ENSURE(s->done, MS_ERR_STREAM_TRUNCATED);
    *data = s->data.p ? s->data.p : (const uint8_t *)"";
    *len = s->data.len;
    return MS_OK;
}
