/* Hex and base64 text codecs: strict decoders, constant-time over the data they carry. */
#ifndef MS_COMMON_CODEC_H
#define MS_COMMON_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

/*
 * Contract shared by every function here:
 * - Text over MS_MAX_CODEC_TEXT bytes (decoder input, or encoder output) is
 *   MS_ERR_CAP_EXCEEDED; nothing is written.
 * - Fixed forms write into caller storage `out` of `out_cap` bytes and set *out_len.
 *   Encoders write lowercase/standard text plus a NUL (not counted in *out_len), so
 *   out_cap must be at least MS_HEX_BUF_LEN(n) / MS_BASE64_BUF_LEN(n).
 *   Too small is MS_ERR_OUT_SPACE and nothing is written.
 * - _buf forms append to an ms_buf (no NUL; call ms_buf_terminate if you need one).
 *   The buffer's own cap gives MS_ERR_CAP_EXCEEDED; on any error its contents are as before.
 * - On entry *out_len is 0. On a decode error the bytes written so far are wiped, so a
 *   half-decoded key never stays in `out`.
 * - The mapping between characters and values has no data-dependent branches or table
 *   lookups, so decoding keys does not leak them through timing. Which error is returned,
 *   and the output length, depend only on the text's length and padding, never on where
 *   a bad character sits.
 * - Error order: MS_ERR_CAP_EXCEEDED, then length/padding shape (MS_ERR_HEX /
 *   MS_ERR_BASE64), then MS_ERR_OUT_SPACE, then bad characters (MS_ERR_HEX / MS_ERR_BASE64).
 * - `in` may be NULL only when its length is 0. All functions are thread-safe (no state).
 */

/* Storage for the encoding of n bytes, including the NUL. */
#define MS_HEX_BUF_LEN(n) (2u * (n) + 1u)
#define MS_BASE64_BUF_LEN(n) ((((n) + 2u) / 3u) * 4u + 1u)

/* Hex: encoders write lowercase; decoders accept both cases; odd length is MS_ERR_HEX. */
MS_MUST_CHECK ms_err ms_hex_encode(const uint8_t *in, size_t in_len, char *out, size_t out_cap,
                                   size_t *out_len);
MS_MUST_CHECK ms_err ms_hex_decode(const char *in, size_t in_len, uint8_t *out, size_t out_cap,
                                   size_t *out_len);
MS_MUST_CHECK ms_err ms_hex_encode_buf(const uint8_t *in, size_t in_len, ms_buf *out);
MS_MUST_CHECK ms_err ms_hex_decode_buf(const char *in, size_t in_len, ms_buf *out);

/*
 * Base64: RFC 4648 section 4 (standard alphabet, '=' padding). Decoding is strict, so
 * every byte string has exactly one accepted text: length must be a multiple of 4,
 * padding only as the last one or two characters, no whitespace, and the unused bits
 * before the padding must be zero. Anything else is MS_ERR_BASE64.
 */
MS_MUST_CHECK ms_err ms_base64_encode(const uint8_t *in, size_t in_len, char *out,
                                      size_t out_cap, size_t *out_len);
MS_MUST_CHECK ms_err ms_base64_decode(const char *in, size_t in_len, uint8_t *out,
                                      size_t out_cap, size_t *out_len);
MS_MUST_CHECK ms_err ms_base64_encode_buf(const uint8_t *in, size_t in_len, ms_buf *out);
MS_MUST_CHECK ms_err ms_base64_decode_buf(const char *in, size_t in_len, ms_buf *out);

/*
 * Base64url without padding (RFC 4648 section 5, as JOSE spells it, RFC 7515 section 2):
 * '-' and '_' for '+' and '/', no '='. Decoding is as strict as base64's: '+', '/', '=',
 * whitespace or any other character, a length of 1 mod 4, or non-zero unused bits are
 * MS_ERR_BASE64. Both append to `out` (nothing on error).
 */
MS_MUST_CHECK ms_err ms_base64url_encode_buf(const uint8_t *in, size_t in_len, ms_buf *out);
MS_MUST_CHECK ms_err ms_base64url_decode_buf(const char *in, size_t in_len, ms_buf *out);

#endif
