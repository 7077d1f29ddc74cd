/* The user's private documents: files and directories read into one context, PDF included. */
#ifndef MS_PROTOCOLS_CONTEXT_H
#define MS_PROTOCOLS_CONTEXT_H

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
    char *text;      /* UTF-8; PDF pages separated by '\f' (the chunker's page marker) */
    size_t len;
    uint32_t pages;  /* PDF: pages; else 0 */
} ms_doc;

typedef struct ms_context {
    ms_doc *docs;
    size_t n;
    size_t total; /* bytes of text */
} ms_context;

/*
 * Add a file or (recursively, in byte order of names, hidden entries and symlinks skipped)
 * a directory. Kinds by extension: .txt .log .csv .json .yaml .yml .xml (text), .md
 * .markdown (markdown), .c .h .py .js .ts .go .rs .java .sh ... (code), .pdf (PDF through
 * poppler-glib); a file of another extension is read as text if it is valid UTF-8 with no
 * NUL, else skipped with a note in `why`. Text that is not UTF-8 is refused for explicitly
 * named files. Errors: MS_ERR_FILE_OPEN, MS_ERR_IO, MS_ERR_CAP_EXCEEDED, MS_ERR_DECODE (bad
 * PDF, not UTF-8), with `why` naming the file (never its content).
 */
MS_MUST_CHECK ms_err ms_context_add(ms_context *c, const char *path, char *why, size_t why_cap);

/*
 * Everything as one text for the worker: each document under a header line
 * "=== FILE name (kind[, N pages]) ===", in order. Appended to out.
 */
MS_MUST_CHECK ms_err ms_context_join(const ms_context *c, ms_buf *out);

/*
 * What the supervisor may learn without --doc-metadata: counts and sizes only, no names
 * ("3 documents: 2 text, 1 PDF (12 pages); 48213 characters"). NUL-terminated.
 */
void ms_context_summary(const ms_context *c, char *out, size_t cap);

void ms_context_init(ms_context *c);
void ms_context_free(ms_context *c); /* wipes the text */

const char *ms_doc_kind_name(ms_doc_kind k);

#endif
