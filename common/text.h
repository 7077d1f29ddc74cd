/* Untrusted text made safe to print: valid UTF-8 kept, controls and hidden characters escaped. */
#ifndef MS_COMMON_TEXT_H
#define MS_COMMON_TEXT_H

#include <stddef.h>

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

#endif
