/* Streams of protocol.md §10: a run of records that only counts once its FINAL arrives. */
#ifndef MS_SECURE_STREAM_H
#define MS_SECURE_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/record.h"

/* Sender side: chunk numbering for one stream. */
typedef struct ms_stream_tx {
    uint32_t msg_id;
    uint32_t next_chunk;
    int done;
} ms_stream_tx;

/* msg_id must be non-zero (§8.5): MS_ERR_ARG otherwise. */
MS_MUST_CHECK ms_err ms_stream_tx_init(ms_stream_tx *s, uint32_t msg_id);
/*
 * Seal the next chunk (STREAM_FINAL when `final`), appending the record to `out`.
 * MS_ERR_STREAM_DONE after the FINAL was sealed; channel errors pass through and leave the
 * stream where it was.
 */
MS_MUST_CHECK ms_err ms_stream_tx_seal(ms_stream_tx *s, struct ms_channel *ch, const uint8_t *pt,
                                       size_t pt_len, int final, ms_buf *out);

/*
 * Receiver side: collects the plaintext of stream `msg_id` up to `max_bytes`. The collected
 * bytes are released by ms_stream_rx_finish only after the FINAL record was accepted.
 * A stream that failed stays failed: every later call returns its first error.
 */
typedef struct ms_stream_rx {
    uint32_t msg_id;
    uint32_t next_chunk;
    int done;
    ms_err failed;
    ms_buf data;
} ms_stream_rx;

void ms_stream_rx_init(ms_stream_rx *s, uint32_t msg_id, size_t max_bytes);
void ms_stream_rx_free(ms_stream_rx *s);

/*
 * Check an opened record against the stream (§10 table) and add its plaintext. On success
 * *is_final says whether it was the FINAL. Errors: MS_ERR_STREAM_ORDER, _MSG_ID, _DONE,
 * MS_ERR_CAP_EXCEEDED.
 */
MS_MUST_CHECK ms_err ms_stream_rx_add(ms_stream_rx *s, const ms_record_info *info,
                                      const uint8_t *pt, int *is_final);

/*
 * Open every record in `in` with the channel and add it to the stream. Stops after the
 * FINAL: records after it in the same input give MS_ERR_STREAM_DONE. *used says how many
 * bytes were consumed.
 */
MS_MUST_CHECK ms_err ms_stream_rx_open(ms_stream_rx *s, struct ms_channel *ch, const uint8_t *in,
                                       size_t in_len, size_t *used);

/*
 * The input has ended: MS_OK with the whole plaintext (borrowed from the stream) when the
 * FINAL arrived; MS_ERR_STREAM_TRUNCATED otherwise, with *data NULL and *len 0.
 */
MS_MUST_CHECK ms_err ms_stream_rx_finish(ms_stream_rx *s, const uint8_t **data, size_t *len);

#endif
