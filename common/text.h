/* Untrusted text made safe to print (valid UTF-8 kept, controls and hidden characters escaped),
   and whole decimal numbers read from it. */
#ifndef MS_COMMON_TEXT_H
#define MS_COMMON_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Bytes of the longest escaped character: "\u{202E}" (every escaped code point is < U+10000). */
#define MS_TEXT_ESCAPE_CHAR_MAX 8u
/* Storage for max_chars escaped characters, "..." and the NUL: never stops the escape early. */
#define MS_TEXT_ESCAPE_SIZE(max_chars) ((max_chars) * MS_TEXT_ESCAPE_CHAR_MAX + 4u)

/*
 * Copy untrusted text s[0..len) into out[cap] as a NUL-terminated string that, printed on
 * a terminal or written to a log line, shows what the bytes are and cannot drive the
 * terminal, hide text or reorder it. s need not be NUL-terminated and may hold NUL bytes
 * and invalid UTF-8; s may be NULL when len is 0. Character by character:
 *   - printable ASCII is kept, except '\', which becomes "\\";
 *   - LF, CR and TAB become "\n", "\r" and "\t";
 *   - every other control byte (NUL, ESC, DEL, ...) and every byte that does not start a
 *     valid UTF-8 sequence (RFC 3629: no overlong forms, no surrogates, nothing above
 *     U+10FFFF, no cut sequence) becomes "\xNN", and the next byte starts a new character;
 *   - C1 controls and invisible or bidirectional formatting characters (U+0080..U+009F,
 *     U+061C, U+200B..U+200F, U+202A..U+202E, U+2060..U+206F, U+FEFF) become "\u{XXXX}";
 *   - any other valid UTF-8 sequence is kept as it is (accented letters, CJK, emoji).
 * So the output is valid UTF-8 without a control byte, and '\' in it always starts an
 * escape.
 *
 * At most max_chars characters are written (an escape counts as one), and no more than fit
 * in cap with room left for "..." and the NUL; a character is written whole or not at
 * all. "..." is appended when part of s was left out. cap >= MS_TEXT_ESCAPE_SIZE(max_chars)
 * makes max_chars the only limit. cap < 4 writes "" (cap 0: nothing). Returns how many
 * bytes of s were written (consumed), so consumed < len means the text was cut.
 * Pure: no allocation, no state, thread-safe.
 */
size_t ms_text_escape(const char *s, size_t len, size_t max_chars, char *out, size_t cap);

/* Whether s[0..len) is valid UTF-8 (RFC 3629, as above: no overlong form, surrogate, cut
   sequence or code point above U+10FFFF). NUL bytes are valid UTF-8: check them apart. */
bool ms_text_utf8_valid(const char *s, size_t len);

/* --- a stream of untrusted text to a terminal --------------------------------------------- */

/* Where a terminal filter's output goes: p[0..n) is never empty and never holds a control byte
   other than '\n' and '\t'. */
typedef void (*ms_text_sink_fn)(void *ctx, const char *p, size_t n);

/* A sink that writes to the stdio stream `file` (a FILE *); errors stay in ferror(file). */
void ms_text_sink_file(void *file, const char *p, size_t n);

/*
 * A streaming filter for text shown on a terminal (a model's reply, as it arrives): the same
 * classification as ms_text_escape, with the layout a reader needs kept. Character by
 * character:
 *   - LF, TAB, '\' and the rest of printable ASCII are kept as they are (so "\x1B" in the
 *     output is either an escape or those four characters in the text: the terminal is safe
 *     either way, and code samples keep their backslashes);
 *   - CR becomes "\r" (it would let text overwrite what was shown); ESC, every other C0
 *     control, DEL and each byte that does not start a valid UTF-8 sequence become "\xNN";
 *   - C1 controls and invisible or bidirectional formatting characters become "\u{XXXX}"
 *     (the list above: U+0080..U+009F, U+202A..U+202E, U+2066..U+2069, ...);
 *   - any other valid UTF-8 is kept (accented letters, CJK, emoji).
 * Pieces may be cut anywhere, even inside a UTF-8 sequence: the start of a sequence that a
 * piece cuts (at most 3 bytes) is held until the next piece or ms_text_tty_flush. The output
 * of any split of a text, then the flush, is the same as for the text in one piece.
 *
 * No allocation, no limit on piece size; the sink is called during write and flush only
 * (at least once per call that has output, so a reply shows as it arrives). One filter per
 * stream, not thread-safe.
 */
typedef struct ms_text_tty {
    ms_text_sink_fn sink;
    void *ctx;
    uint8_t held[3]; /* the start of a UTF-8 sequence that the last piece cut */
    size_t nheld;
} ms_text_tty;

/* Start a filter (nothing held) that writes to sink(ctx, ...). */
void ms_text_tty_init(ms_text_tty *t, ms_text_sink_fn sink, void *ctx);
/* Filter one piece, s[0..len): s may be NULL when len is 0. */
void ms_text_tty_write(ms_text_tty *t, const char *s, size_t len);
/* The end of the stream: a held, incomplete sequence is written as "\xNN" escapes, one per
   byte. The filter is then empty and can take a new stream. */
void ms_text_tty_flush(ms_text_tty *t);

/*
 * The project's one reader of a whole decimal number (option values, ports, Content-Length):
 * true with *out the number when s is one or more ASCII digits (leading zeros allowed) and
 * the number is at most max; false otherwise, *out untouched. Nothing else is taken: no
 * sign, no space before or after, no base prefix, not empty (strtoul would take " 5", "+5"
 * and wrap "-1"). Each digit is checked against max before it is added, so nothing wraps and
 * a long string stops at max. s NULL is false.
 */
MS_MUST_CHECK bool ms_text_read_u64(const char *s, uint64_t max, uint64_t *out);

#endif
