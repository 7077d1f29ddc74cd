/* PDF text for protocols/context through poppler-glib: the only file that sees glib or poppler. */
#include "protocols/context_pdf.h"

#include <poppler.h>
#include <stdio.h>
#include <string.h>

#include "common/check.h"
#include "protocols/context.h"

/* Poppler reports syntax problems through g_log; a message may quote bytes of the file. */
static void quiet(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer data)
{
    (void)domain;
    (void)level;
    (void)msg;
    (void)data;
}

static void silence_poppler(void)
{
    static int done;
    if (!done) {
        g_log_set_handler("Poppler", (GLogLevelFlags)(G_LOG_LEVEL_MASK | G_LOG_FLAG_RECURSION),
                          quiet, NULL);
        done = 1;
    }
}

static void say(char *why, size_t cap, const char *name, const char *what)
{
    if (why && cap) {
        snprintf(why, cap, "%s: %s", name, what);
    }
}

static ms_err open_doc(const uint8_t *pdf, size_t len, PopplerDocument **out, char *why,
                       size_t why_cap, const char *name)
{
    GError *ge = NULL;
    char what[200];
    /* Static bytes: poppler reads the caller's buffer, which outlives the document. */
    GBytes *bytes = g_bytes_new_static(pdf, len);
    *out = poppler_document_new_from_bytes(bytes, NULL, &ge);
    g_bytes_unref(bytes);
    if (*out) {
        return MS_OK;
    }
    if (ge && ge->domain == POPPLER_ERROR && ge->code == POPPLER_ERROR_ENCRYPTED) {
        say(why, why_cap, name, "the PDF is encrypted (a password is needed): decrypt it first");
    } else {
        /* Poppler's messages are fixed texts ("PDF document is damaged"), not document bytes. */
        snprintf(what, sizeof what, "not a readable PDF (%s)",
                 ge && ge->message ? ge->message : "poppler could not open it");
        say(why, why_cap, name, what);
    }
    if (ge) {
        g_error_free(ge);
    }
    return MS_ERR_FILE_FORMAT;
}

/* Append one page's text; a page without text adds nothing. */
static ms_err page_text(PopplerDocument *doc, int i, ms_buf *text, char *why, size_t why_cap,
                        const char *name, size_t context_cap)
{
    char what[160];
    PopplerPage *page = poppler_document_get_page(doc, i);
    if (!page) {
        snprintf(what, sizeof what, "page %d cannot be read", i + 1);
        say(why, why_cap, name, what);
        return MS_ERR_FILE_FORMAT;
    }
    char *t = poppler_page_get_text(page);
    g_object_unref(page);
    if (!t) {
        return MS_OK;
    }
    size_t n = strlen(t);
    ms_err err = MS_OK;
    if (!ms_context_text_ok((const uint8_t *)t, n)) {
        snprintf(what, sizeof what, "page %d's text is not valid UTF-8", i + 1);
        say(why, why_cap, name, what);
        err = MS_ERR_FILE_FORMAT;
    } else {
        err = ms_buf_append(text, t, n);
        if (err == MS_ERR_CAP_EXCEEDED) {
            snprintf(what, sizeof what,
                     "the documents together exceed %zu bytes of text (the context cap) at "
                     "page %d",
                     context_cap, i + 1);
            say(why, why_cap, name, what);
        }
    }
    ms_wipe(t, n);
    g_free(t);
    return err;
}

ms_err ms_context_pdf_text(const uint8_t *pdf, size_t len, ms_buf *text, uint32_t *pages,
                           char *why, size_t why_cap, const char *name, size_t context_cap)
{
    PopplerDocument *doc = NULL;
    ms_err err = MS_OK;
    char what[120];
    *pages = 0;
    ENSURE(len <= MS_MAX_CONTEXT_FILE, MS_ERR_CAP_EXCEEDED);
    silence_poppler();
    TRY(open_doc(pdf, len, &doc, why, why_cap, name));
    int n = poppler_document_get_n_pages(doc);
    if (n < 0 || (unsigned)n > MS_MAX_PDF_PAGES) {
        snprintf(what, sizeof what, "more than %u pages (the cap on one PDF)", MS_MAX_PDF_PAGES);
        say(why, why_cap, name, what);
        ENSURE_OUT(0, MS_ERR_CAP_EXCEEDED);
    }
    for (int i = 0; i < n; i++) {
        if (i > 0) {
            err = ms_buf_append_u8(text, '\f');
            if (err == MS_ERR_CAP_EXCEEDED) {
                snprintf(what, sizeof what,
                         "the documents together exceed %zu bytes of text (the context cap)",
                         context_cap);
                say(why, why_cap, name, what);
            }
            TRY_OUT(err);
        }
        TRY_OUT(page_text(doc, i, text, why, why_cap, name, context_cap));
    }
    *pages = (uint32_t)n;
out:
    g_object_unref(doc);
    return err;
}
