/* What common/json*.c share: the document and builder types, tree helpers. Not for others. */
#ifndef MS_COMMON_JSON_PRIV_H
#define MS_COMMON_JSON_PRIV_H

#include "common/json.h"

struct cJSON; /* only common/json*.c include cJSON's header */

#define MAX_SAFE_INT 9007199254740991.0 /* 2^53 - 1: every integer up to here is exact */

struct ms_json_doc {
    struct cJSON *root;
};

struct ms_json_builder {
    struct cJSON *root;
};

/* Length of the UTF-8 sequence at p (RFC 3629: no overlong, surrogate, > U+10FFFF), or 0;
   avail >= 1. */
size_t ms_json_utf8_len_(const uint8_t *p, size_t avail);

/* UTF-8 without NUL bytes: what a cJSON string can hold faithfully. */
bool ms_json_text_ok_(const char *s, size_t len);

/*
 * How many bytes from p a JSON string holds as they are: no control byte, '"' or '\\'
 * (with `ascii`, no byte >= 0x80 either). Eight bytes a step where it can: the hot loops of
 * the lexer and the string writer (long replies are mostly such runs).
 */
size_t ms_json_plain_run_(const uint8_t *p, size_t len, bool ascii);

/* The whole of `text` is one RFC 8259 number token (what the parser accepts). */
bool ms_json_number_ok_(const char *text);

/* Wipe every string and number of the tree, then free it. NULL is fine. */
void ms_json_tree_free_(struct cJSON *root);

#endif
