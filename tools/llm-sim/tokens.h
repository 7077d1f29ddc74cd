/* llm-sim's stand-in tokenizer: words and punctuation, deterministic, splits text into pieces. */
#ifndef MS_TOOLS_LLMSIM_TOKENS_H
#define MS_TOOLS_LLMSIM_TOKENS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A token is a run of word bytes (ASCII letters, digits, '_' and every byte >= 0x80, so a
 * UTF-8 character is never split) or one ASCII punctuation byte. Whitespace separates
 * tokens and belongs to the piece that follows it; whitespace at the very end belongs to
 * the last piece. So the pieces of a text, concatenated, are exactly the text: they are
 * what a stream sends, one per event. A text of whitespace only is one piece; "" is none.
 *
 * llmsim_tokens_next: the piece starting at *off in s[0..len) is s[*off .. *off + *n);
 * *off advances past it. Returns false (and *n = 0) when *off >= len.
 * Pure functions, thread-safe. s may be NULL only when len is 0.
 */
bool llmsim_tokens_next(const char *s, size_t len, size_t *off, size_t *n);
/* The number of pieces of s[0..len). */
size_t llmsim_tokens_count(const char *s, size_t len);
/* Bytes of the first max_pieces pieces (the whole text if it has no more than that). */
size_t llmsim_tokens_prefix(const char *s, size_t len, size_t max_pieces);

#endif
