/* Inside protocols/context: the text of a PDF through poppler-glib. */
#ifndef MS_PROTOCOLS_CONTEXT_PDF_H
#define MS_PROTOCOLS_CONTEXT_PDF_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

/*
 * The text of a PDF held in (pdf, len): each page's text in order, pages separated by one
 * '\f'. Appended to `text` (its cap is the room left in the context: over it is
 * MS_ERR_CAP_EXCEEDED). *pages is set. `name` is only used in `why`. Errors:
 * MS_ERR_FILE_FORMAT (does not parse, encrypted, page text not UTF-8),
 * MS_ERR_CAP_EXCEEDED (over MS_MAX_PDF_PAGES pages, or the text over the cap, context_cap
 * being the cap to name), MS_ERR_NOMEM. Poppler's own diagnostics are silenced, so no
 * fragment of the document reaches standard error. Not thread-safe.
 */
MS_MUST_CHECK ms_err ms_context_pdf_text(const uint8_t *pdf, size_t len, ms_buf *text,
                                         uint32_t *pages, char *why, size_t why_cap,
                                         const char *name, size_t context_cap);

#endif
