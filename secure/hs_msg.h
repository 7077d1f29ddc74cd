/* Handshake message codecs: ClientHello (§4), ServerHello (§5), ClientFinish (§7.4). */
#ifndef MS_SECURE_HS_MSG_H
#define MS_SECURE_HS_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/suite.h"

#define MS_HS_CLIENT_HELLO 0x01u
#define MS_HS_SERVER_HELLO 0x02u
#define MS_HS_CLIENT_FINISH 0x03u

#define MS_CLIENT_HELLO_MAX_LEN 142u
#define MS_SERVER_HELLO_FIXED_LEN 163u /* ServerHello length without evidence */
#define MS_CLIENT_FINISH_MAX_LEN 114u

typedef struct ms_client_hello {
    uint8_t n_versions;
    uint8_t versions[MS_MAX_HS_LIST];
    uint8_t n_suites;
    uint16_t suites[MS_MAX_HS_LIST];
    uint8_t eph_pk[MS_X25519_LEN];
    uint8_t challenge[MS_CHALLENGE_LEN];
    uint8_t n_evidence;
    uint16_t evidence_types[MS_MAX_HS_LIST];
    uint8_t flags;
    uint8_t has_client_id;
    uint8_t client_id_pk[MS_SIGN_PK_LEN];
} ms_client_hello;

typedef struct ms_server_hello {
    uint8_t version;
    uint16_t suite;
    uint8_t session_id[MS_SESSION_ID_LEN];
    uint8_t eph_pk[MS_X25519_LEN];
    uint8_t tls_spki_hash[MS_SPKI_HASH_LEN];
    uint8_t static_pk[MS_X25519_LEN];
    uint16_t evidence_type;
    uint8_t evidence_mode;
    uint64_t not_after;
    /* On decode: borrowed from the input, valid while it is. On encode: read from here. */
    const uint8_t *evidence;
    uint32_t evidence_len;
    /* On decode: the length of SH_core (the bytes before server_confirm). */
    size_t core_len;
    uint8_t confirm[MS_KEY_LEN];
} ms_server_hello;

typedef struct ms_client_finish {
    uint8_t session_id[MS_SESSION_ID_LEN];
    uint8_t confirm[MS_KEY_LEN];
    uint8_t has_sig;
    uint8_t sig[MS_SIG_LEN];
} ms_client_finish;

/*
 * Decoders check exactly the table of their section, in order, and return its error. They
 * read only through a bounded cursor, never past `len`, and on failure leave *out zeroed.
 * Safe to call on any bytes (fuzzed by tests/fuzz/fuzz_hs_msg.c).
 */
MS_MUST_CHECK ms_err ms_client_hello_decode(const uint8_t *p, size_t len, ms_client_hello *out);
MS_MUST_CHECK ms_err ms_server_hello_decode(const uint8_t *p, size_t len, ms_server_hello *out);
MS_MUST_CHECK ms_err ms_client_finish_decode(const uint8_t *p, size_t len, ms_client_finish *out);

/* Encoders append to `out`; MS_ERR_ARG for a struct that breaks the decoder's rules. */
MS_MUST_CHECK ms_err ms_client_hello_encode(const ms_client_hello *ch, ms_buf *out);
/* Appends SH_core only; the handshake appends server_confirm after hashing it. */
MS_MUST_CHECK ms_err ms_server_hello_encode_core(const ms_server_hello *sh, ms_buf *out);
MS_MUST_CHECK ms_err ms_client_finish_encode(const ms_client_finish *cf, ms_buf *out);

#endif
