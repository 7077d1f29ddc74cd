/* Records of protocol.md §8-§9: sealing, opening, replay window, key epochs, close. */
#ifndef MS_SECURE_RECORD_H
#define MS_SECURE_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/suite.h"

typedef enum ms_role { MS_ROLE_CLIENT = 1, MS_ROLE_SERVER = 2 } ms_role;

/* A decoded record header (§8.1). */
typedef struct ms_record_header {
    uint8_t version;
    uint8_t type;
    uint8_t direction;
    uint8_t flags;
    uint8_t session_id[MS_SESSION_ID_LEN];
    uint64_t seq;
    uint32_t msg_id;
    uint32_t chunk;
    uint32_t ct_len;
} ms_record_header;

/*
 * Decode and check a record header: §8.3 checks 1-7 (all but the direction, which needs a
 * channel: pass the expected direction, or 0 to skip that check). A supervisor uses it to
 * find the session before opening. Never reads past `len`; *out is zeroed on failure.
 */
MS_MUST_CHECK ms_err ms_record_header_decode(const uint8_t *p, size_t len, uint8_t want_direction,
                                             ms_record_header *out);

/* What ms_channel_open reports about an opened record. */
typedef struct ms_record_info {
    uint8_t type;
    uint64_t seq;
    uint32_t msg_id;
    uint32_t chunk;
    size_t pt_len;  /* plaintext bytes written */
    size_t rec_len; /* bytes of input this record occupied (40 + ct_len) */
} ms_record_info;

/*
 * One established session's record state: both directions' keys, sequence numbers, the
 * replay window and close flags (~200 bytes). Not thread-safe: serialise calls on one
 * channel. _free wipes every key.
 */
struct ms_channel;

/*
 * Build a channel from the epoch-0 keys of §7.2. Normal code gets channels from the
 * handshake; this entry point serves the handshake itself, tests and benchmarks.
 */
MS_MUST_CHECK ms_err ms_channel_new(struct ms_channel **out, ms_role role,
                                    const uint8_t session_id[static MS_SESSION_ID_LEN],
                                    const uint8_t k_c2s[static MS_KEY_LEN],
                                    const uint8_t k_s2c[static MS_KEY_LEN]);
void ms_channel_free(struct ms_channel *ch);
const uint8_t *ms_channel_session_id(const struct ms_channel *ch);

/* Bytes a record with `pt_len` bytes of plaintext takes. */
size_t ms_record_size(size_t pt_len);

/*
 * Seal one record (§8.2) into out[0..out_cap). Errors: MS_ERR_CHANNEL_CLOSED after this
 * side sealed a CLOSE; MS_ERR_ARG for a bad type or fields that do not fit it (§8.5);
 * MS_ERR_CAP_EXCEEDED for plaintext over MS_MAX_RECORD_PLAINTEXT; MS_ERR_OUT_SPACE;
 * MS_ERR_SEQ_EXHAUSTED. On error nothing changes.
 */
MS_MUST_CHECK ms_err ms_channel_seal(struct ms_channel *ch, uint8_t type, uint32_t msg_id,
                                     uint32_t chunk, const uint8_t *pt, size_t pt_len,
                                     uint8_t *out, size_t out_cap, size_t *out_len);
/* The same, appending to a buffer. */
MS_MUST_CHECK ms_err ms_channel_seal_buf(struct ms_channel *ch, uint8_t type, uint32_t msg_id,
                                         uint32_t chunk, const uint8_t *pt, size_t pt_len,
                                         ms_buf *out);

/*
 * Open the record at the start of `in` (§8.3, every check, in order). Bytes after it are
 * left for the next call (info->rec_len says how many were used). The plaintext is released
 * only after the tag verifies; on any error no state changes, *info is zeroed and no
 * plaintext is written to pt_out (a record whose tag fails leaves its length of pt_out
 * zeroed, as both AEAD implementations do: secure/aead.h). MS_ERR_OUT_SPACE if pt_cap is too
 * small for this record.
 */
MS_MUST_CHECK ms_err ms_channel_open(struct ms_channel *ch, const uint8_t *in, size_t in_len,
                                     ms_record_info *info, uint8_t *pt_out, size_t pt_cap);
/* The same, appending the plaintext to a buffer (its cap applies). */
MS_MUST_CHECK ms_err ms_channel_open_buf(struct ms_channel *ch, const uint8_t *in, size_t in_len,
                                         ms_record_info *info, ms_buf *pt_out);

/*
 * Move this side's sending direction to the next key epoch now (§8.2): the next record
 * uses the first sequence number of the next epoch and the old key is wiped. A no-op when
 * nothing was sealed in the current epoch yet.
 */
MS_MUST_CHECK ms_err ms_channel_rekey(struct ms_channel *ch);

/* sizeof(struct ms_channel): per-session memory accounting. */
size_t ms_channel_struct_size(void);

/* Current epochs, for tests and logs. */
uint64_t ms_channel_tx_epoch(const struct ms_channel *ch);
uint64_t ms_channel_rx_epoch(const struct ms_channel *ch);

#endif
