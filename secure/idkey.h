/* Client identity keys as text: the keygen .pub line and the supervisor's allow-list file. */
#ifndef MS_SECURE_IDKEY_H
#define MS_SECURE_IDKEY_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "secure/suite.h"

/*
 * One key per line, like OpenSSH's authorized_keys (docs/supervisor.md, "Allowed clients"):
 *   ms-ed25519 <44 characters of base64: the 32-byte Ed25519 public key> [comment]
 * The type, key and comment are separated by spaces or tabs; the comment runs to the end of
 * the line and may hold spaces. In a list, empty lines and lines whose first non-blank
 * character is '#' are skipped; a line may end in "\r\n". No control character other than
 * tab anywhere (MS_ERR_IDKEY_CONTROL).
 */
#define MS_IDKEY_TYPE "ms-ed25519"
#define MS_IDKEY_B64_LEN 44u

/*
 * Decode one line (without its newline): MS_ERR_IDKEY_CONTROL, MS_ERR_IDKEY_TYPE,
 * MS_ERR_IDKEY_SPACE, MS_ERR_IDKEY_KEY. pk is zeroed on error.
 */
MS_MUST_CHECK ms_err ms_idkey_line_decode(const uint8_t *line, size_t len,
                                          uint8_t pk[static MS_SIGN_PK_LEN]);

/* Append "ms-ed25519 <base64> <comment>\n"; comment may be NULL or empty (then no comment).
   MS_ERR_IDKEY_CONTROL for a control character in it, MS_ERR_CAP_EXCEEDED past
   MS_MAX_IDKEY_COMMENT. */
MS_MUST_CHECK ms_err ms_idkey_line_encode(const uint8_t pk[static MS_SIGN_PK_LEN],
                                          const char *comment, ms_buf *out);

/* A parsed allow-list: keys sorted, no duplicates. Owns its memory. */
typedef struct ms_idkey_list {
    uint8_t (*keys)[MS_SIGN_PK_LEN];
    size_t n;
} ms_idkey_list;

/*
 * Parse a whole allow-list file's text (at most MS_MAX_ALLOW_FILE bytes, else
 * MS_ERR_CAP_EXCEEDED). On error *line_no is the 1-based line at fault (0 when it is the
 * whole file) and *out is empty. Besides the line errors: MS_ERR_IDKEY_LINE_LONG,
 * MS_ERR_IDKEY_TOO_MANY, MS_ERR_IDKEY_DUPLICATE (at the key's second line). An empty
 * list (no key line) is valid: it admits nobody.
 */
MS_MUST_CHECK ms_err ms_idkey_list_parse(const uint8_t *text, size_t len, ms_idkey_list *out,
                                         size_t *line_no);
void ms_idkey_list_free(ms_idkey_list *l);
/* 1 when pk is on the list (binary search; keys are public). */
int ms_idkey_list_has(const ms_idkey_list *l, const uint8_t pk[static MS_SIGN_PK_LEN]);

#endif
