/* The user's private documents: files and directories read into one context, PDF included. */
#ifndef MS_PROTOCOLS_CONTEXT_H
#define MS_PROTOCOLS_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

/* Caps (a context over them is refused with the reason, never silently cut). */
#define MS_MAX_CONTEXT_BYTES (64u * 1024u * 1024u) /* text of all documents together */
#define MS_MAX_CONTEXT_FILES 4096u                  /* documents under one directory */
#define MS_MAX_CONTEXT_FILE (256u * 1024u * 1024u)  /* bytes of one file as stored (PDF) */
#define MS_MAX_CONTEXT_DEPTH 16u                    /* directory nesting */
#define MS_MAX_PDF_PAGES 10000u

typedef enum ms_doc_kind { MS_DOC_TEXT, MS_DOC_MARKDOWN, MS_DOC_CODE, MS_DOC_PDF } ms_doc_kind;

typedef struct ms_doc {
    char *name;      /* path as given, or relative to the directory given */
    ms_doc_kind kind;
    char *text;      /* UTF-8; PDF pages separated by '\f' (the chunker's page marker); in the
                        context's buffer (not owned), NUL-terminated until
                        ms_context_join_in_place, a span of the joined text after it */
    size_t len;
    uint32_t pages;  /* PDF: pages; else 0 */
} ms_doc;

/* A file left out of a directory walk, and why (names are for the user's eyes only). */
typedef struct ms_context_skip {
    char *name;
    const char *reason; /* static text: "not UTF-8 text", "symbolic link (not followed)", ... */
} ms_context_skip;

typedef struct ms_context {
    ms_doc *docs;
    size_t n;
    size_t total; /* bytes of text */
    ms_context_skip *skipped; /* in walk order */
    size_t n_skipped;
    /* Caps, set by ms_context_init to MS_MAX_CONTEXT_BYTES / _FILES; a caller may lower them. */
    size_t max_bytes;
    size_t max_files;
    /* Every document's text in one buffer, reserved at the first document for all that the
       caps then allow (each text, its NUL, and the joined form's header lines): file text is
       read straight into it and it does not move; pages never written cost no memory. */
    char *buf;
    size_t buf_len; /* bytes in use (all wiped by ms_context_free) */
    size_t buf_cap;
    bool joined;    /* ms_context_join_in_place ran: nothing more may be added */
} ms_context;

/*
 * Add a file or (recursively, in byte order of names) a directory. In a directory, hidden
 * entries (".name") are passed over and symbolic links, FIFOs and devices are skipped (listed
 * in c->skipped); a path the user names itself is followed even if it is a symbolic link.
 * Names under a directory are "DIR/relative/path", DIR as given without trailing slashes.
 * Kinds by extension (ASCII case-insensitive): .md .markdown (markdown), .c .h .py .js .ts
 * .go .rs .java .sh ... (code), .pdf (PDF through poppler-glib: each page's text, pages
 * joined by '\f'); any other file is text. Text must be strict UTF-8 without NUL (a leading
 * BOM is dropped): in a directory a file that is not is skipped ("not UTF-8 text", "binary
 * (contains NUL bytes)"); a file named explicitly is refused.
 * Caps: c->max_files documents, c->max_bytes of text in all (PDF text included),
 * MS_MAX_CONTEXT_FILE bytes of one PDF, MS_MAX_PDF_PAGES pages, MS_MAX_CONTEXT_DEPTH levels,
 * 4 x max_files visible directory entries looked at per call.
 * Errors: MS_ERR_FILE_OPEN (missing, unreadable, not a regular file), MS_ERR_IO,
 * MS_ERR_CAP_EXCEEDED, MS_ERR_FILE_FORMAT (a PDF that does not parse or is encrypted, text
 * that is not UTF-8), MS_ERR_NOMEM; `why` (may be NULL) then names the file and the reason,
 * never its content. On an error the documents added before it stay in c; the caller
 * normally gives up and frees c. Not thread-safe.
 */
MS_MUST_CHECK ms_err ms_context_add(ms_context *c, const char *path, char *why, size_t why_cap);

/*
 * Everything as one text for the worker: each document under a header line
 * "=== FILE name (kind[, N pages]) ===", in order, a blank line between documents. Appended
 * to out; out's cap gives MS_ERR_CAP_EXCEEDED.
 */
MS_MUST_CHECK ms_err ms_context_join(const ms_context *c, ms_buf *out);

/*
 * The same joined text made in the context's own buffer, without a copy (the documents are
 * moved up to make room for the header lines): *text (NUL-terminated) and *len stay valid
 * until ms_context_free. Afterwards each document's text is its span of the joined text,
 * no longer NUL-terminated, and ms_context_add* refuse (MS_ERR_ARG). Calling it again gives
 * the same text. Errors: MS_ERR_CAP_EXCEEDED (a header over 4200 bytes), MS_ERR_NOMEM (the
 * caps were raised after the first document and the buffer must grow); c is unchanged then.
 */
MS_MUST_CHECK ms_err ms_context_join_in_place(ms_context *c, const char **text, size_t *len);

/*
 * What the supervisor may learn without --doc-metadata: counts and sizes only, no names
 * ("3 documents: 2 text, 1 PDF (12 pages); 48213 characters", characters being UTF-8 code
 * points). NUL-terminated, cut to fit cap.
 */
void ms_context_summary(const ms_context *c, char *out, size_t cap);

/*
 * Add a document held in memory (e.g. a string of --stdin-json's call_params.context) under
 * `name`, as text: the same UTF-8 check, caps and errors as a file named explicitly. The text
 * is copied.
 */
MS_MUST_CHECK ms_err ms_context_add_text(ms_context *c, const char *name, ms_doc_kind kind,
                                         const char *text, size_t len, char *why,
                                         size_t why_cap);

/*
 * Add a PDF held in memory (an upload to serve's Minions API: never written to disk) under
 * `name`, its text read as ms_context_add reads a PDF file: the same caps (MS_MAX_CONTEXT_FILE
 * bytes, MS_MAX_PDF_PAGES, the context's room) and errors. Not thread-safe (poppler).
 */
MS_MUST_CHECK ms_err ms_context_add_pdf(ms_context *c, const char *name, const uint8_t *pdf,
                                        size_t len, char *why, size_t why_cap);

/* 1 when p[0..n) is strict UTF-8 (no overlong forms, surrogates, > U+10FFFF) with no NUL. */
int ms_context_text_ok(const uint8_t *p, size_t n);

void ms_context_init(ms_context *c);
void ms_context_free(ms_context *c); /* wipes the text (the bytes of the buffer in use) */

const char *ms_doc_kind_name(ms_doc_kind k);
/* The kind a file of this name is read as (by extension, as ms_context_add decides). */
ms_doc_kind ms_doc_kind_of_name(const char *name);

#endif
