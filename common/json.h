/* Typed JSON reader and compact builder; the only door to cJSON in the project. */
#ifndef MS_COMMON_JSON_H
#define MS_COMMON_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

/*
 * READER
 *
 * ms_json_parse reads one JSON text (RFC 8259) from (text, len); the text need not be
 * NUL-terminated and is not kept. The result is an immutable document owned by the caller
 * and released with ms_json_free, which wipes every string and number in it (documents
 * are parsed after decryption and may hold secrets).
 *
 * Parse errors:
 *   MS_ERR_CAP_EXCEEDED  len > MS_MAX_JSON_TEXT
 *   MS_ERR_JSON_DEPTH    arrays/objects nested deeper than MS_MAX_JSON_DEPTH
 *                        (a top-level object or array is depth 1)
 *   MS_ERR_JSON_PARSE    not exactly one JSON value plus optional whitespace; also, on
 *                        purpose, anything cJSON would accept but RFC 8259 does not:
 *                        invalid UTF-8, raw control characters, a BOM, lax numbers
 *                        ("01", "1.", "+1"), numbers over 63 characters, bad escapes,
 *                        duplicate keys in one object (a classic confusion attack: two
 *                        parsers would disagree on the value), and the escape \u0000 in
 *                        any string or key (cJSON keeps C strings and would silently cut
 *                        the string there; rejecting it is how getters guarantee that a
 *                        returned string never contains NUL)
 *   MS_ERR_NOMEM
 *
 * Values are views (ms_json_val) into a document: borrowed, valid until ms_json_free, never
 * freed on their own. A view with no node is "absent": getters treat it as an empty object
 * (required keys are MS_ERR_JSON_MISSING, _opt keys give their default), so an absent
 * optional sub-object needs no special case. ms_json_as_* on an absent view is
 * MS_ERR_JSON_MISSING.
 *
 * Getter errors (each distinct, so callers and logs can tell them apart):
 *   MS_ERR_JSON_MISSING   the key is not in the object (keys are case-sensitive)
 *   MS_ERR_JSON_TYPE      the parent is not an object, or the value has another type
 *                         (JSON null is a type: it is never taken as "absent")
 *   MS_ERR_JSON_TOO_LONG  string longer than max_len bytes, array longer than max_len
 *   MS_ERR_JSON_RANGE     number outside [min, max], or not an integer when one is asked
 *   MS_ERR_JSON_ENUM      string not in the allowed list
 *   MS_ERR_ARG            a NULL key or list, min > max
 * _opt getters return MS_OK and store the default when the key is absent, and fail like
 * the plain getter in every other case (a present key of the wrong type is an error).
 * Outputs are set on entry: zero/NULL/absent, or the default for _opt forms. After an
 * error they hold one of those, never a partial or unchecked value.
 *
 * Numbers: cJSON keeps every number as a double. Integer getters accept a value only if it
 * is finite, integral and within +-(2^53 - 1), where every integer is exact: text such as
 * 9007199254740993 (2^53 + 1) rounds on parsing and is refused with MS_ERR_JSON_RANGE
 * instead of being read as a neighbour. Text with more precision than a double keeps
 * (1.0000000000000000001) is judged by the double it rounds to.
 *
 * Thread-safety: parsing may run on several threads at once (the library's global error
 * slot is written under a lock here). A document is never modified after parsing, so any
 * number of threads may read one document concurrently; ms_json_free must not race with
 * readers. This module never calls cJSON_InitHooks.
 */
typedef struct ms_json_doc ms_json_doc;

typedef struct ms_json_val {
    const void *node_; /* private */
} ms_json_val;

typedef enum ms_json_type {
    MS_JSON_ABSENT,
    MS_JSON_NULL,
    MS_JSON_BOOL,
    MS_JSON_NUMBER,
    MS_JSON_STRING,
    MS_JSON_ARRAY,
    MS_JSON_OBJECT,
} ms_json_type;

MS_MUST_CHECK ms_err ms_json_parse(const char *text, size_t len, ms_json_doc **out);
/*
 * ms_json_parse, except that string values of 256 bytes or more (quotes included) are kept
 * as the text writes them, escapes and all, instead of being decoded: for a caller that
 * passes a long string on into JSON of its own (the supervisor's reply) and never needs its
 * text. The same checks and errors as ms_json_parse (every escape well formed, surrogates
 * paired, no \u0000, UTF-8, no control byte), so a kept string is a valid JSON string body
 * that decodes to UTF-8 without NUL. The document then points into `text`, which must stay
 * unchanged until ms_json_free (it wipes nothing of a kept string: the text is the
 * caller's). A kept string is MS_JSON_STRING to ms_json_type_of, but only ms_json_as_text
 * reads it: the other string getters refuse it (MS_ERR_JSON_TYPE), and so does
 * ms_json_add_value, never a silent "" or a copy of the escapes as text.
 */
MS_MUST_CHECK ms_err ms_json_parse_keep(const char *text, size_t len, ms_json_doc **out);
/* Wipes and frees; NULL is allowed. */
void ms_json_free(ms_json_doc *doc);
ms_json_val ms_json_root(const ms_json_doc *doc);
ms_json_type ms_json_type_of(ms_json_val v);

/* Value of `key` in object `obj`, whatever its type. */
MS_MUST_CHECK ms_err ms_json_get(ms_json_val obj, const char *key, ms_json_val *out);

/* String: borrowed pointer into the document, NUL-terminated, UTF-8, no NUL inside. */
MS_MUST_CHECK ms_err ms_json_get_str(ms_json_val obj, const char *key, size_t max_len,
                                     const char **out, size_t *out_len);
MS_MUST_CHECK ms_err ms_json_get_bool(ms_json_val obj, const char *key, bool *out);
MS_MUST_CHECK ms_err ms_json_get_i64(ms_json_val obj, const char *key, int64_t min, int64_t max,
                                     int64_t *out);
MS_MUST_CHECK ms_err ms_json_get_u64(ms_json_val obj, const char *key, uint64_t max,
                                     uint64_t *out);
/* Finite numbers only (the reader never produces NaN; 1e999 is refused as out of range). */
MS_MUST_CHECK ms_err ms_json_get_double(ms_json_val obj, const char *key, double min, double max,
                                        double *out);
MS_MUST_CHECK ms_err ms_json_get_obj(ms_json_val obj, const char *key, ms_json_val *out);
MS_MUST_CHECK ms_err ms_json_get_arr(ms_json_val obj, const char *key, size_t max_len,
                                     ms_json_val *out, size_t *out_len);
/* A string that must equal one of allowed[0..n_allowed); *out_index is its position. */
MS_MUST_CHECK ms_err ms_json_get_enum(ms_json_val obj, const char *key,
                                      const char *const *allowed, size_t n_allowed,
                                      size_t *out_index);

/* _opt forms: like the above, but an absent key gives MS_OK and the default. */
MS_MUST_CHECK ms_err ms_json_get_str_opt(ms_json_val obj, const char *key, size_t max_len,
                                         const char *def, const char **out, size_t *out_len);
MS_MUST_CHECK ms_err ms_json_get_bool_opt(ms_json_val obj, const char *key, bool def,
                                          bool *out);
MS_MUST_CHECK ms_err ms_json_get_i64_opt(ms_json_val obj, const char *key, int64_t min,
                                         int64_t max, int64_t def, int64_t *out);
MS_MUST_CHECK ms_err ms_json_get_u64_opt(ms_json_val obj, const char *key, uint64_t max,
                                         uint64_t def, uint64_t *out);
MS_MUST_CHECK ms_err ms_json_get_double_opt(ms_json_val obj, const char *key, double min,
                                            double max, double def, double *out);
/* Absent key: *out is an absent view (reads as an empty object). */
MS_MUST_CHECK ms_err ms_json_get_obj_opt(ms_json_val obj, const char *key, ms_json_val *out);
/* Absent key: *out is an absent view and *out_len is 0. */
MS_MUST_CHECK ms_err ms_json_get_arr_opt(ms_json_val obj, const char *key, size_t max_len,
                                         ms_json_val *out, size_t *out_len);
MS_MUST_CHECK ms_err ms_json_get_enum_opt(ms_json_val obj, const char *key,
                                          const char *const *allowed, size_t n_allowed,
                                          size_t def, size_t *out_index);

/* The same checks on a value already in hand (array elements, iteration). */
MS_MUST_CHECK ms_err ms_json_as_str(ms_json_val v, size_t max_len, const char **out,
                                    size_t *out_len);
/*
 * A string value, decoded or kept (ms_json_parse_keep): escaped false, p is the text
 * (NUL-terminated, as ms_json_as_str gives it); escaped true, p is the len bytes between the
 * string's quotes in the parsed text (not NUL-terminated, escapes as written): put it
 * between quotes as it is, or decode it with ms_json_unescape. No length cap here: the
 * caller caps (a kept length is the escaped one, at least the decoded one). Errors:
 * MS_ERR_JSON_MISSING (absent view), MS_ERR_JSON_TYPE (not a string).
 */
typedef struct ms_json_text {
    const char *p;
    size_t len;
    bool escaped;
} ms_json_text;
MS_MUST_CHECK ms_err ms_json_as_text(ms_json_val v, ms_json_text *out);
/*
 * Decode the body of a JSON string (the bytes between its quotes, e.g. a kept string) and
 * append the text to out. Untrusted input is fine: checked as the parser checks a string
 * (MS_ERR_JSON_PARSE for a bare '"', a bad or lone-surrogate escape, \u0000, a control
 * byte, invalid UTF-8); out's cap applies to the decoded text (MS_ERR_CAP_EXCEEDED, out as
 * it was); MS_ERR_NOMEM.
 */
MS_MUST_CHECK ms_err ms_json_unescape(const char *esc, size_t len, ms_buf *out);
MS_MUST_CHECK ms_err ms_json_as_bool(ms_json_val v, bool *out);
MS_MUST_CHECK ms_err ms_json_as_i64(ms_json_val v, int64_t min, int64_t max, int64_t *out);
MS_MUST_CHECK ms_err ms_json_as_u64(ms_json_val v, uint64_t max, uint64_t *out);
MS_MUST_CHECK ms_err ms_json_as_double(ms_json_val v, double min, double max, double *out);
MS_MUST_CHECK ms_err ms_json_as_obj(ms_json_val v, ms_json_val *out);
MS_MUST_CHECK ms_err ms_json_as_arr(ms_json_val v, size_t max_len, ms_json_val *out,
                                    size_t *out_len);
MS_MUST_CHECK ms_err ms_json_as_enum(ms_json_val v, const char *const *allowed,
                                     size_t n_allowed, size_t *out_index);

/*
 * Element `i` of an array: MS_ERR_JSON_TYPE if not an array, MS_ERR_JSON_MISSING if
 * i >= length. Walks from the start (O(i)): to visit every element use the iterator.
 */
MS_MUST_CHECK ms_err ms_json_arr_at(ms_json_val arr, size_t i, ms_json_val *out);

/*
 * Iteration over an array's elements or an object's members, in document order.
 * ms_json_iter_next returns false at the end (at once for other types); for objects
 * *key (if key is not NULL) is the member's key, for arrays it is NULL.
 */
typedef struct ms_json_iter {
    const void *next_; /* private */
} ms_json_iter;

ms_json_iter ms_json_iter_init(ms_json_val container);
bool ms_json_iter_next(ms_json_iter *it, ms_json_val *out, const char **key);

/*
 * The exact bytes of a top-level member's value, for signatures over a value "as it
 * appears in the text" (Intel's TCB info and QE identity). (text, len) must be one JSON
 * text that ms_json_parse accepts (it is checked again here: same errors); its root must be
 * an object (MS_ERR_JSON_TYPE) holding `key` (MS_ERR_JSON_MISSING). On success
 * text[*start .. *start + *n) is the value, without the whitespace around it. Keys are
 * matched on their raw bytes: a key written with escapes ("k\u0065y") is not found, so a
 * caller that also reads the value through the parsed document fails rather than reading
 * two different members (duplicates are refused by the parse). *start and *n are 0 on error.
 */
MS_MUST_CHECK ms_err ms_json_raw_member(const char *text, size_t len, const char *key,
                                        size_t *start, size_t *n);

/*
 * Where string value v of doc lies in `text`, the text doc was parsed from (ms_json_parse or
 * ms_json_parse_keep): text[*start .. *start + *n) is the string's body, the bytes between
 * its quotes as written (escapes and all). For a caller that sees the next text differ only
 * there (a stream's events: common/llm/call.c). Errors: MS_ERR_JSON_MISSING (absent view),
 * MS_ERR_JSON_TYPE (not a string), MS_ERR_ARG (v not in doc, or text not doc's: the
 * string is not found, or a lexical error), MS_ERR_JSON_PARSE; *start and *n are 0 then.
 */
MS_MUST_CHECK ms_err ms_json_str_span(const ms_json_doc *doc, ms_json_val v, const char *text,
                                      size_t len, size_t *start, size_t *n);

/*
 * BUILDER
 *
 * A builder owns a tree whose root is an object or an array. ms_json_wval is a borrowed
 * handle to a container inside it, valid until ms_json_builder_free. Members are added
 * with a key under an object (key must be non-NULL) and without one under an array (key
 * must be NULL). Whatever the builder prints, the reader accepts, so it refuses:
 *   MS_ERR_ARG          wrong key use, a key already present in that object, a key or
 *                       string that is not UTF-8 or contains NUL
 *   MS_ERR_JSON_DEPTH   a container deeper than MS_MAX_JSON_DEPTH
 *   MS_ERR_JSON_RANGE   an integer beyond +-(2^53 - 1), a NaN or infinite double
 *   MS_ERR_NOMEM
 * A failed add leaves the tree as it was. Integers print exactly; doubles print with the
 * fewest digits (15..17) that read back to the same double. One builder is not
 * thread-safe; separate builders are independent. Free wipes every string.
 */
typedef struct ms_json_builder ms_json_builder;

typedef struct ms_json_wval {
    void *node_;     /* private */
    unsigned depth_; /* private */
} ms_json_wval;

/* root_type is MS_JSON_OBJECT or MS_JSON_ARRAY. */
MS_MUST_CHECK ms_err ms_json_builder_new(ms_json_type root_type, ms_json_builder **out,
                                         ms_json_wval *root);
void ms_json_builder_free(ms_json_builder *b);
/*
 * Append the compact text (no NUL, no newline) to out. Over out's cap is
 * MS_ERR_CAP_EXCEEDED and out is left as it was.
 */
MS_MUST_CHECK ms_err ms_json_builder_print(const ms_json_builder *b, ms_buf *out);

MS_MUST_CHECK ms_err ms_json_add_obj(ms_json_wval parent, const char *key, ms_json_wval *out);
MS_MUST_CHECK ms_err ms_json_add_arr(ms_json_wval parent, const char *key, ms_json_wval *out);
/* s is len bytes (need not be NUL-terminated); copied. */
MS_MUST_CHECK ms_err ms_json_add_str(ms_json_wval parent, const char *key, const char *s,
                                     size_t len);
MS_MUST_CHECK ms_err ms_json_add_cstr(ms_json_wval parent, const char *key, const char *s);
MS_MUST_CHECK ms_err ms_json_add_i64(ms_json_wval parent, const char *key, int64_t v);
MS_MUST_CHECK ms_err ms_json_add_u64(ms_json_wval parent, const char *key, uint64_t v);
MS_MUST_CHECK ms_err ms_json_add_double(ms_json_wval parent, const char *key, double v);
MS_MUST_CHECK ms_err ms_json_add_bool(ms_json_wval parent, const char *key, bool v);
MS_MUST_CHECK ms_err ms_json_add_null(ms_json_wval parent, const char *key);
/*
 * Add a deep copy of a value read from a document (any type; integers up to 2^53 stay
 * exact). The document may be freed afterwards. Depth stays within MS_MAX_JSON_DEPTH
 * because the reader enforced it.
 */
MS_MUST_CHECK ms_err ms_json_add_value(ms_json_wval parent, const char *key, ms_json_val v);

/*
 * ---- Writing a string literal straight into a buffer (hot paths, no tree) -------------
 * ms_json_str_size: the bytes of s (len bytes, UTF-8 without NUL, else MS_ERR_ARG) as a JSON
 * string literal, quotes included, escaped as the builder prints it (\" \\ \b \f \n \r \t,
 * other controls as \u00xx). ms_json_put_str appends that literal to out; the caller reserves
 * its size first (ms_buf_reserve): with less room it is MS_ERR_OUT_SPACE and out is left as
 * it was, so one reservation covers a whole document and nothing is copied twice.
 */
MS_MUST_CHECK ms_err ms_json_str_size(const char *s, size_t len, size_t *size);
MS_MUST_CHECK ms_err ms_json_put_str(ms_buf *out, const char *s, size_t len, size_t size);

#endif
