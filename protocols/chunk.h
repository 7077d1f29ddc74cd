/* The Minions chunking menu: fixed size with overlap, paragraphs, page markers, code definitions.
 */
#ifndef MS_PROTOCOLS_CHUNK_H
#define MS_PROTOCOLS_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/limits.h"

/*
 * The supervisor's plan names one method and its parameters; nothing else can cut a
 * document. Splitting is a pure, deterministic function of (text, params): no I/O, no
 * locale, thread-safe. Chunks are spans (offset, length) into the caller's text, in order;
 * a chunk's index is its position in the list. Every chunk is non-empty and at most
 * `size` bytes. Empty text gives an empty list.
 *
 * UTF-8: a cut never falls inside a valid UTF-8 sequence (a cut that would is moved back to
 * the sequence's first byte; an overlap start is moved forward past continuation bytes).
 * Invalid UTF-8 is cut anywhere; nothing is decoded or rejected.
 *
 * MS_CHUNK_FIXED       windows of `size` bytes; each window after the first starts
 *                      `overlap` bytes (moved forward to a UTF-8 boundary, so possibly
 *                      fewer) before the previous one ends. The last window ends at the
 *                      end of the text. Only method with overlap.
 * MS_CHUNK_PARAGRAPHS  paragraphs are separated by blank lines (lines holding only space,
 *                      tab, CR, FF, VT). A paragraph keeps the blank lines after it, and the
 *                      first one any leading blank lines. Consecutive paragraphs are merged
 *                      while the chunk stays within `size`; a paragraph over `size` is cut
 *                      as MS_CHUNK_FIXED without overlap and never merged with others.
 * MS_CHUNK_PAGES       a page ends after a form feed (\f); before a header line
 *                      "--- Page N ---" (3 or more '-' each side, any spaces, "page" in any
 *                      case, N of 1 to 9 digits); and after a footer line "Page N of M"
 *                      (same rules). Marker lines stay in the text of their page. Pages are
 *                      never merged; a page over `size` is cut as MS_CHUNK_FIXED without
 *                      overlap, and each chunk carries its page's ordinal (1, 2, ... in text
 *                      order, counting non-empty pages; whitespace-only pages are kept so
 *                      the ordinals follow the document's page breaks).
 * MS_CHUNK_CODE        a heuristic for C-like languages (C, C++, Java, JavaScript, Go, Rust)
 *                      and Python: units start at top-level definitions, then are merged and
 *                      cut like paragraphs. A unit starts at a line that begins in column 0,
 *                      outside any bracket ( [ { of the file, string or comment, and either
 *                      (Python) is "def ", "async def ", "class " or a decorator "@..." that
 *                      does not follow a decorator, or (C-like) begins with a letter or '_',
 *                      is not else/elif/except/finally/catch, and the code before it ended
 *                      with ';', '}' or ')'. Comment lines directly above (no blank line in
 *                      between) go with the definition. Comments: //, slash-star blocks, and
 *                      '#' to the end of the line when it is the first non-blank character or
 *                      follows a blank (C preprocessor, Python comments, Rust attributes;
 *                      a trailing backslash continues it). Strings: '...' and "..." with
 *                      backslash escapes, ending at the line's end if unclosed; Python
 *                      triple-quoted strings span lines.
 *                      Known limits: definitions inside C++ namespaces, classes or extern "C"
 *                      blocks and Python methods stay inside their enclosing unit (they are
 *                      not at top level); Rust lifetimes ('a), raw strings, JavaScript
 *                      template literals, regex literals and private members (#x) at the
 *                      start of a line, shell heredocs and macros with unbalanced brackets
 *                      can shift the bracket count, which merges units (never loses text:
 *                      spans still cover the file exactly). Top-level statements without a
 *                      trailing ';', '}' or ')' (Go "var x = 1") join the previous unit.
 *
 * For PARAGRAPHS, PAGES and CODE the chunks cover the text exactly, in order, without gaps
 * or overlap. For FIXED they cover it in order, each overlapping the previous one by at
 * most `overlap` bytes.
 */
typedef enum ms_chunk_method {
    MS_CHUNK_FIXED,
    MS_CHUNK_PARAGRAPHS,
    MS_CHUNK_PAGES,
    MS_CHUNK_CODE,
    MS_CHUNK_METHOD_COUNT
} ms_chunk_method;

/* "fixed", "paragraphs", "pages", "code": the names a plan uses (for ms_json_get_enum). */
extern const char *const ms_chunk_method_names[MS_CHUNK_METHOD_COUNT];

typedef struct ms_chunk_params {
    ms_chunk_method method;
    size_t size;    /* most bytes in one chunk: MS_MIN_CHUNK_SIZE..MS_MAX_CHUNK_SIZE */
    size_t overlap; /* FIXED: 0..size/2 bytes shared with the previous chunk; others: 0 */
} ms_chunk_params;

typedef struct ms_chunk {
    size_t off;
    size_t len;
    uint32_t page; /* PAGES: the page's ordinal, from 1; other methods: 0 */
} ms_chunk;

/* Owned by the caller after a successful split; release with ms_chunk_list_free. */
typedef struct ms_chunk_list {
    ms_chunk *items;
    size_t count;
} ms_chunk_list;

/*
 * Validate params against the caps:
 *   MS_ERR_ARG           NULL, unknown method, size below MS_MIN_CHUNK_SIZE, overlap over
 *                        size/2, or overlap with another method than FIXED
 *   MS_ERR_CAP_EXCEEDED  size over MS_MAX_CHUNK_SIZE
 */
MS_MUST_CHECK ms_err ms_chunk_params_check(const ms_chunk_params *params);

/*
 * Split text[0..len) (need not be NUL-terminated; NULL only with len 0). out is set to an
 * empty list on entry and stays empty after any error.
 * Errors: those of ms_chunk_params_check; MS_ERR_ARG (NULL out, NULL text with len > 0);
 * MS_ERR_CAP_EXCEEDED when len is over MS_MAX_CHUNK_TEXT or the text needs more than
 * MS_MAX_CHUNKS chunks (never a shortened list); MS_ERR_NOMEM.
 */
MS_MUST_CHECK ms_err ms_chunk_split(const char *text, size_t len, const ms_chunk_params *params,
                                    ms_chunk_list *out);

/* Wipes and frees the list and leaves it empty; NULL and empty lists are allowed. */
void ms_chunk_list_free(ms_chunk_list *list);

#endif
