/* libFuzzer harness: record header decoding, opening arbitrary records, tampering with valid ones,
   and the two AEAD implementations (secure/aead.c) against each other. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/aead.h"
#include "secure/record.h"
#include "secure/suite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Fixed epoch-0 keys and session id; tests/fuzz/corpus/fuzz_record/ seeds are sealed with them. */
static const uint8_t k_c2s[MS_KEY_LEN] = {
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
    0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20};
static const uint8_t k_s2c[MS_KEY_LEN] = {
    0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30,
    0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40};
static const uint8_t session_id[MS_SESSION_ID_LEN] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5,
                                                      0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab,
                                                      0xac, 0xad, 0xae, 0xaf};

static void require(int cond)
{
    if (!cond) {
        abort();
    }
}

static void require_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        require(b[i] == 0);
    }
}

static struct ms_channel *channel(ms_role role)
{
    struct ms_channel *ch = NULL;
    require(ms_channel_new(&ch, role, session_id, k_c2s, k_s2c) == MS_OK);
    return ch;
}

/* A decoded header must say what its bytes say; the direction filter only narrows. */
static void check_headers(const uint8_t *data, size_t size)
{
    static const uint8_t dirs[] = {0, MS_DIR_C2S, MS_DIR_S2C, 3};
    ms_record_header h;
    ms_err any = ms_record_header_decode(data, size, 0, &h);
    for (size_t i = 0; i < sizeof dirs; i++) {
        ms_err e = ms_record_header_decode(data, size, dirs[i], &h);
        if (e != MS_OK) {
            require_zero(&h, sizeof h);
            continue;
        }
        require(any == MS_OK && size >= MS_REC_HEADER_LEN);
        require(dirs[i] == 0 || h.direction == dirs[i]);
        require(h.version == data[0] && h.type == data[1] && h.direction == data[2] &&
                h.flags == data[3] && memcmp(h.session_id, data + 4, MS_SESSION_ID_LEN) == 0);
        require(h.ct_len >= MS_TAG_LEN && h.ct_len <= MS_MAX_RECORD_PLAINTEXT + MS_TAG_LEN);
    }
}

/* Open the input as a run of client -> supervisor records, as a supervisor would. */
static void open_all(const uint8_t *data, size_t size, uint8_t *pt, size_t pt_cap)
{
    struct ms_channel *srv = channel(MS_ROLE_SERVER);
    size_t off = 0;
    while (off < size) {
        ms_record_info info;
        if (ms_channel_open(srv, data + off, size - off, &info, pt, pt_cap) != MS_OK) {
            require_zero(&info, sizeof info);
            break;
        }
        require(info.rec_len == ms_record_size(info.pt_len) && info.rec_len <= size - off);
        off += info.rec_len;
    }
    ms_channel_free(srv);
}

/*
 * data = [even byte: type in bits 1-2][offset byte][rest]. The first half of rest is the
 * plaintext of a record sealed by a client channel; the second half is XORed into that
 * record from `offset` on (wrapping; it is never longer than the record). The supervisor
 * must refuse the record exactly when some byte changed, and otherwise open it unchanged
 * (once: the second time is a replay).
 */
static void tamper(const uint8_t *data, size_t size, uint8_t *rec, uint8_t *pt)
{
    static const uint32_t msg_ids[] = {7, 7, 7, 0};
    static const uint32_t chunks[] = {0, 3, 4, 0};
    unsigned t = (data[0] >> 1) & 3u;
    uint8_t type = (uint8_t)(MS_REC_MSG + t);
    size_t n = size - 2, pt_len = n / 2, mask_len = n - pt_len;
    const uint8_t *plain = data + 2, *mask = data + 2 + pt_len;
    struct ms_channel *cli = channel(MS_ROLE_CLIENT), *srv = channel(MS_ROLE_SERVER);
    size_t len = 0;
    ms_record_info info;

    require(ms_channel_seal(cli, type, msg_ids[t], chunks[t], plain, pt_len, rec,
                            ms_record_size(pt_len), &len) == MS_OK);
    require(len == ms_record_size(pt_len) && mask_len <= len);
    int changed = 0;
    for (size_t i = 0; i < mask_len; i++) {
        rec[(data[1] + i) % len] ^= mask[i];
        changed |= mask[i] != 0;
    }
    ms_err e = ms_channel_open(srv, rec, len, &info, pt, pt_len);
    if (changed) {
        require(e != MS_OK);
    } else {
        require(e == MS_OK && info.type == type && info.seq == 0 && info.msg_id == msg_ids[t] &&
                info.chunk == chunks[t] && info.pt_len == pt_len && info.rec_len == len);
        require(pt_len == 0 || memcmp(pt, plain, pt_len) == 0);
        require(ms_channel_open(srv, rec, len, &info, pt, pt_len) ==
                (type == MS_REC_CLOSE ? MS_ERR_CHANNEL_CLOSED : MS_ERR_REC_REPLAY));
    }
    ms_channel_free(cli);
    ms_channel_free(srv);
}

/*
 * The two AEAD implementations (secure/aead.c) on the input: data[0] picks the additional
 * data's length (0..40), data[1] a byte to change; the rest is the message, sealed under the
 * fixed key. Both must seal the same bytes, open them, and refuse the changed message with
 * the output zeroed.
 */
static void aead_agree(const uint8_t *data, size_t size, uint8_t *a, uint8_t *b, uint8_t *out)
{
    static const uint8_t nonce[MS_NONCE_LEN] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2};
    size_t ad_len = size > 0 ? data[0] % (MS_REC_HEADER_LEN + 1) : 0;
    ad_len = ad_len < size ? ad_len : size;
    const uint8_t *ad = data, *msg = data + ad_len;
    size_t n = size - ad_len;
    uint8_t ta[MS_TAG_LEN], tb[MS_TAG_LEN];
    ms_aead_seal(MS_AEAD_SODIUM, a, ta, msg, n, ad, ad_len, nonce, k_c2s);
    ms_aead_seal(MS_AEAD_OPENSSL, b, tb, msg, n, ad, ad_len, nonce, k_c2s);
    require(memcmp(a, b, n) == 0 && memcmp(ta, tb, MS_TAG_LEN) == 0);
    require(ms_aead_open(MS_AEAD_OPENSSL, out, a, n, ta, ad, ad_len, nonce, k_c2s) == MS_OK);
    require(n == 0 || memcmp(out, msg, n) == 0);
    if (n > 0) {
        a[(size_t)(size > 1 ? data[1] : 0) % n] ^= 0x20;
        memset(out, 0x5a, n);
        require(ms_aead_open(MS_AEAD_SODIUM, out, a, n, ta, ad, ad_len, nonce, k_c2s) ==
                MS_ERR_REC_AUTH);
        require_zero(out, n);
        memset(out, 0x5a, n);
        require(ms_aead_open(MS_AEAD_OPENSSL, out, a, n, ta, ad, ad_len, nonce, k_c2s) ==
                MS_ERR_REC_AUTH);
        require_zero(out, n);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* size bytes of plaintext always fit: a record is longer than its plaintext. */
    uint8_t *pt = malloc(size + 1);
    uint8_t *rec = malloc(ms_record_size(size));
    require(pt != NULL && rec != NULL);
    check_headers(data, size);
    open_all(data, size, pt, size);
    if (size >= 2 && data[0] % 2 == 0) {
        tamper(data, size, rec, pt);
    }
    uint8_t *a = malloc(size + 1), *b = malloc(size + 1);
    require(a != NULL && b != NULL);
    aead_agree(data, size, a, b, pt);
    free(a);
    free(b);
    free(pt);
    free(rec);
    return 0;
}
