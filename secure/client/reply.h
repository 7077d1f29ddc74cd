/* Reading the supervisor's sealed answers (protocol.md §8, §10, §12.1), sans I/O. */
#ifndef MS_SECURE_CLIENT_REPLY_H
#define MS_SECURE_CLIENT_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/record.h"
#include "secure/stream.h"

/*
 * Internal to secure/client (and its tests). Every function takes bytes as (ptr, len) and
 * never reads past len.
 */

/*
 * A /request or /close answer (§12.1): exactly one record of type `want_type` carrying
 * `msg_id`, opened with the channel (every §8.3 check). The plaintext is appended to `pt`.
 * Record errors as ms_channel_open gives them (the channel is unchanged); then
 * MS_ERR_REPLY_MISMATCH for another type or msg_id, or bytes before or after the record
 * (`pt` is left as it was).
 */
MS_MUST_CHECK ms_err ms_reply_open_single(struct ms_channel *ch, const uint8_t *in, size_t len,
                                          uint8_t want_type, uint32_t msg_id, ms_buf *pt);

/* Text of a STREAM_DATA record as it arrives; any error other than MS_OK aborts the stream. */
typedef ms_err (*ms_reply_piece_fn)(void *ctx, const char *text, size_t len);

/*
 * An incremental reader of a /stream body: bytes arrive in pieces of any size; a record is
 * opened as soon as its 40-byte header and ct_len bytes are there. It keeps at most one
 * record (MS_MAX_RECORD_PLAINTEXT + 56 bytes), so a body of any length costs bounded
 * memory, plus the stream's text up to MS_MAX_STREAM_BYTES (§10 cap). The header is checked
 * (§8.3 checks 1-7) before a byte of its ciphertext is buffered, so a lying ct_len is
 * refused at once. STREAM_DATA text goes to `on_piece` after its tag verified (each piece
 * is authentic, but the answer is complete only once the FINAL arrives).
 */
typedef struct ms_reply_stream {
    struct ms_channel *ch; /* borrowed */
    ms_stream_rx rx;
    ms_buf rec;   /* the record being assembled */
    size_t need;  /* its full length once its header is in, else 0 */
    ms_buf pt;    /* one record's plaintext */
    ms_buf final; /* the FINAL's plaintext */
    int got_final;
    ms_err failed;   /* first error: later calls return it */
    size_t text_len; /* STREAM_DATA bytes handed to on_piece */
    ms_reply_piece_fn on_piece;
    void *ctx;
} ms_reply_stream;

void ms_reply_stream_init(ms_reply_stream *s, struct ms_channel *ch, uint32_t msg_id,
                          ms_reply_piece_fn on_piece, void *ctx);
/* Wipes and frees everything held. */
void ms_reply_stream_free(ms_reply_stream *s);

/*
 * Feed body bytes. Errors: the record's (§8.3), §10's (MS_ERR_STREAM_ORDER, _MSG_ID,
 * MS_ERR_STREAM_DONE for any byte after the FINAL, MS_ERR_CAP_EXCEEDED), or on_piece's.
 * A failed reader stays failed.
 */
MS_MUST_CHECK ms_err ms_reply_stream_feed(ms_reply_stream *s, const uint8_t *p, size_t n);

/*
 * The body has ended. MS_OK with the FINAL's plaintext (borrowed from the reader) when the
 * FINAL arrived and nothing followed; MS_ERR_STREAM_TRUNCATED otherwise (*final NULL).
 */
MS_MUST_CHECK ms_err ms_reply_stream_end(ms_reply_stream *s, const uint8_t **final, size_t *len);

#endif
