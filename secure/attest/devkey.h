/* Development-key evidence (protocol.md §12.5): proves who holds a key, never what host runs. */
#ifndef MS_SECURE_ATTEST_DEVKEY_H
#define MS_SECURE_ATTEST_DEVKEY_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/suite.h"

#define MS_DEVKEY_EVIDENCE_LEN 97u
#define MS_DEVKEY_FORMAT 0x01u
#define MS_FINGERPRINT_LEN 72u /* "sha256:" + 64 hex + NUL, rounded up */
/* MS_MAX_KEY_FILE (bytes of a PEM key file) is in common/limits.h. */

/* An Ed25519 development key. Wipe with ms_devkey_wipe. */
typedef struct ms_devkey {
    uint8_t sk[MS_SIGN_SK_LEN];
    uint8_t pk[MS_SIGN_PK_LEN];
} ms_devkey;

/*
 * Load the PEM (PKCS#8) private key at `path`, or create it (mode 0600, O_EXCL, never
 * following a symlink) when it does not exist; *created says which. A key file that group
 * or others may read, or that another user owns, is refused (MS_ERR_FILE_PERMS): it would
 * no longer identify this supervisor. Not thread-safe with respect to the same path.
 */
MS_MUST_CHECK ms_err ms_devkey_load_or_create(const char *path, ms_devkey *out, int *created);
void ms_devkey_wipe(ms_devkey *k);
/* Load only (a client's --identity): the checks of _load_or_create; a missing file is
   MS_ERR_FILE_OPEN. */
MS_MUST_CHECK ms_err ms_devkey_load(const char *path, ms_devkey *out);
/* Create only (keygen): a new key at path, mode 0600, O_EXCL: MS_ERR_FILE_OPEN when it
   exists or cannot be made. */
MS_MUST_CHECK ms_err ms_devkey_create(const char *path, ms_devkey *out);

/* Write / read the public half as a PEM "PUBLIC KEY" (SubjectPublicKeyInfo) file. */
MS_MUST_CHECK ms_err ms_devkey_write_public(const char *path, const uint8_t pk[static MS_SIGN_PK_LEN]);
MS_MUST_CHECK ms_err ms_devkey_read_public(const char *path, uint8_t pk[static MS_SIGN_PK_LEN]);
/* The same from PEM text in memory (untrusted input: bounded, fuzzed). */
MS_MUST_CHECK ms_err ms_devkey_parse_public(const uint8_t *pem, size_t len,
                                            uint8_t pk[static MS_SIGN_PK_LEN]);

/* "sha256:<hex of SHA-256 of the DER SubjectPublicKeyInfo>", the form people compare. */
void ms_devkey_fingerprint(const uint8_t pk[static MS_SIGN_PK_LEN], char out[static MS_FINGERPRINT_LEN]);

/* Append the 97-byte evidence over binding B (format, dev_pk, Ed25519 signature of B). */
MS_MUST_CHECK ms_err ms_devkey_evidence(const ms_devkey *k, const uint8_t binding[static MS_BINDING_LEN],
                                        ms_buf *out);

/*
 * §12.5 checks, in order: MS_ERR_ATTEST_FORMAT, MS_ERR_ATTEST_KEY (dev_pk is not the pinned
 * key, compared in constant time), MS_ERR_ATTEST_SIGNATURE.
 */
MS_MUST_CHECK ms_err ms_devkey_verify(const uint8_t pinned_pk[static MS_SIGN_PK_LEN],
                                      const uint8_t *ev, size_t len,
                                      const uint8_t binding[static MS_BINDING_LEN]);

/* SHA-256 of the SubjectPublicKeyInfo of the first certificate in a PEM file (TLS pinning). */
MS_MUST_CHECK ms_err ms_tls_spki_sha256_file(const char *cert_pem_path,
                                             uint8_t out[static MS_SPKI_HASH_LEN]);
/* The same from PEM text in memory. */
MS_MUST_CHECK ms_err ms_tls_spki_sha256_pem(const uint8_t *pem, size_t len,
                                            uint8_t out[static MS_SPKI_HASH_LEN]);

/*
 * MS_OK when the PEM private key `key` is the one of the first certificate in `cert`
 * (the supervisor's --tls-key and --tls-cert); MS_ERR_TLS_KEY_MISMATCH when it is another
 * key; MS_ERR_FILE_FORMAT when either does not parse.
 */
MS_MUST_CHECK ms_err ms_tls_key_matches_pem(const uint8_t *cert, size_t cert_len,
                                            const uint8_t *key, size_t key_len);

/* Read a whole small file into `out` (cap `max`), refusing symlinks. */
MS_MUST_CHECK ms_err ms_file_read(const char *path, size_t max, ms_buf *out);

#endif
