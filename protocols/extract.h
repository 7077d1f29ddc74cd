/* One JSON object out of messy model output: code fences, prose, <think> blocks, truncation. */
#ifndef MS_PROTOCOLS_EXTRACT_H
#define MS_PROTOCOLS_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/limits.h"

/*
 * Pure functions over (text, len): no I/O, no allocation kept, thread-safe (common/json's
 * parse lock aside). The text is model output: untrusted, need not be NUL-terminated, may
 * hold NUL bytes and invalid UTF-8.
 *
 * REASONING BLOCKS (<think>)
 * Tags are matched ASCII case-insensitively, exactly "<think>" and "</think>".
 *  - Orphan close: if a "</think>" comes before any "<think>" (chat templates that put the
 *    opening tag in the prompt), everything up to and including it is reasoning.
 *  - Every "<think>" ... "</think>" block is reasoning, wherever it is (first "</think>"
 *    after the opening tag closes it; blocks do not nest).
 *  - An unclosed "<think>" hides everything after it (the model was cut off while
 *    reasoning): think.unclosed is set.
 * ms_extract_json does not recognise tags inside a JSON string of a candidate object, so
 * {"a": "<think>"} survives; ms_extract_strip_think knows no JSON and strips them anywhere.
 */
typedef struct ms_think_info {
    size_t blocks;     /* closed <think> blocks skipped */
    bool unclosed;     /* a <think> never closed: the rest of the text was ignored */
    bool orphan_close; /* a leading </think> without an opening tag cut off the start */
} ms_think_info;

/*
 * The visible answer: text without reasoning blocks, leading and trailing whitespace
 * (space, tab, CR, LF) trimmed. `out` is cleared on entry and then holds the answer (it
 * may be empty: check think->unclosed to say why). info may be NULL.
 * Errors: MS_ERR_ARG (NULL text with len > 0, NULL out), MS_ERR_CAP_EXCEEDED (len over
 * MS_MAX_EXTRACT_TEXT, or the answer over out's cap: out is then empty), MS_ERR_NOMEM.
 */
MS_MUST_CHECK ms_err ms_extract_strip_think(const char *text, size_t len, ms_buf *out,
                                            ms_think_info *info);

/*
 * JSON OBJECT EXTRACTION
 *
 * One pass over the visible text (reasoning skipped as above) finds candidate spans: a
 * top-level '{' or '[' and its matching bracket, tracking JSON strings and escapes so
 * that brackets inside strings do not count. A run of three or more backticks opens or
 * closes a fenced block (an info string such as "json" may follow the opening one); it is
 * recognised outside candidates, and also inside one outside a JSON string, where it cuts
 * the candidate (backticks cannot be JSON there). A "<think>" outside a JSON string cuts a
 * candidate the same way.
 *
 * Choice: if some fenced block contains a candidate, only the first such block counts and
 * the result is its first candidate that is a valid object; otherwise the first valid
 * object among the candidates outside fences. "Valid" is ms_json_parse (RFC 8259, strict):
 * nothing is repaired (trailing commas, comments, single quotes, NaN stay invalid). A
 * top-level array is never returned, and objects nested in it are not candidates.
 *
 * Prose braces: a '{' not followed (after whitespace) by '"' or '}' cannot start an
 * object, nor a '[' not followed by the start of a JSON value. Such a "weak" opener is
 * still a candidate (so "{'a': 1}" is reported as invalid JSON), but when it is never
 * closed the scan restarts one byte after it, at most MS_MAX_EXTRACT_RESCANS times, so
 * "use {braces, then {"a":1}" still finds the object. An unclosed strong opener ('{"')
 * is a truncated object: the scan does not look inside it, so a nested object of a
 * truncated reply is never returned as if it were the answer.
 *
 * Cost: linear in len. At most MS_MAX_EXTRACT_CANDIDATES candidates are kept per scope
 * (prose; the chosen fenced block) and validated; they never overlap, so parsing them
 * all reads each byte at most once. The rescans add at most MS_MAX_EXTRACT_RESCANS
 * passes over the text.
 */
typedef enum ms_extract_status {
    MS_EXTRACT_FOUND,      /* a valid object: json_out holds its exact bytes */
    MS_EXTRACT_EMPTY,      /* nothing visible: empty, whitespace only, or only reasoning */
    MS_EXTRACT_NO_OBJECT,  /* visible text without a '{' or '[' candidate */
    MS_EXTRACT_NOT_OBJECT, /* only top-level JSON arrays: an object is required */
    MS_EXTRACT_TRUNCATED,  /* an object or array was opened and never closed */
    MS_EXTRACT_INVALID,    /* brackets balance but the candidate is not valid JSON */
    MS_EXTRACT_TOO_LARGE,  /* text over MS_MAX_EXTRACT_TEXT, or the object over json_out's cap */
} ms_extract_status;

/* Worst case of an escaped preview: 8 bytes per character ("\u{202E}"), "...", NUL. */
#define MS_EXTRACT_PREVIEW_MAX (MS_EXTRACT_PREVIEW_CHARS * 8u + 4u)
/* Room for everything ms_extract_describe writes. */
#define MS_EXTRACT_DESCRIBE_MAX (2u * MS_EXTRACT_PREVIEW_MAX + 256u)

typedef struct ms_extract_info {
    ms_extract_status status;
    ms_err json_err;   /* INVALID: what ms_json_parse said (JSON_PARSE, JSON_DEPTH) */
    size_t offset;     /* FOUND: the object; TRUNCATED, INVALID, NOT_OBJECT: the span */
    size_t length;     /*   reported (offsets into the text given, reasoning included) */
    bool fenced;       /* that span lies in a fenced block */
    size_t candidates; /* candidate spans seen (including those over the cap) */
    ms_think_info think;
    /*
     * On errors only (else ""): the start of the visible text (of the raw text if nothing
     * is visible), then of the reported span, each at most MS_EXTRACT_PREVIEW_CHARS
     * characters, "..." when cut. Printable ASCII and valid UTF-8 are kept; '\' is "\\";
     * LF, CR and TAB are "\n", "\r", "\t"; other control bytes and invalid UTF-8 are
     * "\xNN"; C1 controls and invisible or bidirectional formatting characters (U+061C,
     * U+200B..U+200F, U+202A..U+202E, U+2060..U+206F, U+FEFF) are "\u{XXXX}", so a
     * preview printed on a terminal shows what the bytes are (common/text.h's
     * ms_text_escape). Previews quote the model's output: log them where the output itself
     * may go, never where the context may not.
     */
    char preview[MS_EXTRACT_PREVIEW_MAX];
    char span_preview[MS_EXTRACT_PREVIEW_MAX];
} ms_extract_info;

/*
 * Find the object and copy its exact bytes into json_out (cleared on entry; empty after any
 * error). info (required) is reset on entry and says what was found.
 * Returns MS_OK (status FOUND) or, until the error table has extraction codes:
 *   MS_ERR_JSON_PARSE     EMPTY, NO_OBJECT, and INVALID when the parser said JSON_PARSE
 *   MS_ERR_JSON_DEPTH     INVALID because nesting is deeper than MS_MAX_JSON_DEPTH
 *   MS_ERR_JSON_TYPE      NOT_OBJECT
 *   MS_ERR_TRUNCATED      TRUNCATED
 *   MS_ERR_CAP_EXCEEDED   TOO_LARGE
 *   MS_ERR_ARG            NULL text with len > 0, NULL json_out or info
 *   MS_ERR_NOMEM
 * Callers that need the reason use info->status (ms_extract_describe for people).
 */
MS_MUST_CHECK ms_err ms_extract_json(const char *text, size_t len, ms_buf *json_out,
                                     ms_extract_info *info);

/* "truncated", "invalid", ...: a stable name for logs. Never NULL. */
const char *ms_extract_status_name(ms_extract_status s);

/*
 * One line a person can read, e.g.
 *   model output has a JSON object that is not valid JSON (text is not valid JSON) at
 *   offset 12: "{\"a\": 1,}"; the output begins: "Here you go: {\"a\": 1,}"
 * Written with snprintf into out (NUL-terminated; cut if out_size is below
 * MS_EXTRACT_DESCRIBE_MAX, which always suffices). out_size 0 writes nothing.
 */
void ms_extract_describe(const ms_extract_info *info, char *out, size_t out_size);

#endif
