/* minions-secure chat: the conversation kept on the client, its caps, and the transcript. */
#ifndef MS_APPS_MINIONS_SECURE_CHAT_CONV_H
#define MS_APPS_MINIONS_SECURE_CHAT_CONV_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/limits.h"

/*
 * The whole conversation lives here, on the user's machine: every turn sends it again as
 * one §12.3 request, so the supervisor keeps nothing between turns. A turn is added only
 * after its reply was complete (the authenticated FINAL said ok): a failed or cut turn
 * leaves the conversation as it was. Caps: MS_MAX_CHAT_MESSAGES messages per request
 * (system included) and one record (MS_MAX_RECORD_PLAINTEXT) per request; a turn over
 * either is refused, nothing is ever dropped to make room.
 *
 * Every buffer holds the user's text: all of it is wiped when freed or cleared. Not
 * thread-safe.
 */

/* An image sent with a user message (kept as base64, since each turn sends it again). */
typedef struct ms_conv_img {
    const char *mime; /* static: "image/png", ... */
    char *b64;        /* owned, NUL-terminated */
    size_t b64_len;
    size_t bytes;   /* of the image file */
    char name[256]; /* the file name as given (for notices, the transcript and the log) */
} ms_conv_img;

typedef struct ms_conv_msg {
    const char *role; /* static: "user" or "assistant" */
    char *text;       /* owned, NUL-terminated, UTF-8 */
    size_t len;
    ms_conv_img *imgs; /* owned (user messages only) */
    size_t nimg;
} ms_conv_msg;

typedef struct ms_conv {
    char *system; /* owned, or NULL: no system message */
    size_t system_len;
    ms_conv_msg *msgs;
    size_t n, cap;
    size_t turns; /* complete turns so far (for the log and /help) */
    /* What goes with the next user message (/attach, /image), until it is sent. */
    ms_buf attached; /* the documents' text (protocols/context.h's join) */
    size_t n_docs;   /* documents in `attached` */
    ms_conv_img pending[MS_MAX_CHAT_PENDING_IMAGES];
    size_t npending;
} ms_conv;

void ms_conv_init(ms_conv *c);
/* Wipes everything. */
void ms_conv_free(ms_conv *c);

/* Drop every message and what was pending; the system message stays. */
void ms_conv_clear(ms_conv *c);

/* Set (len > 0) or remove (len 0) the system message. MS_ERR_ARG: not UTF-8 or holds NUL. */
MS_MUST_CHECK ms_err ms_conv_set_system(ms_conv *c, const char *text, size_t len);

/*
 * Add documents' text (already joined) for the next message. MS_ERR_CAP_EXCEEDED when the
 * attachments together would not fit one request; then nothing is added.
 */
MS_MUST_CHECK ms_err ms_conv_attach_text(ms_conv *c, const char *text, size_t len, size_t docs);

/*
 * Add an image (its bytes, whose type ms_chat_image_sniff found) for the next message. The
 * bytes are copied as base64. MS_ERR_CAP_EXCEEDED: over MS_MAX_CHAT_IMAGE_BYTES or already
 * MS_MAX_CHAT_PENDING_IMAGES waiting; MS_ERR_ARG: not a known image type.
 */
MS_MUST_CHECK ms_err ms_conv_attach_image(ms_conv *c, const char *name, const uint8_t *bytes,
                                          size_t len);

/* Which cap a turn would break (for the message that refuses it). */
typedef enum ms_conv_limit {
    MS_CONV_FITS = 0,
    MS_CONV_TOO_MANY_MESSAGES, /* over MS_MAX_CHAT_MESSAGES */
    MS_CONV_TOO_LARGE,         /* the request would not fit one record */
    MS_CONV_BAD_TEXT,          /* the text is not UTF-8 or holds a NUL */
} ms_conv_limit;

/*
 * The next user message (what is attached, then the typed text) into `user` (cleared
 * first), and the §12.3 request with the whole conversation into `req` (cleared first).
 * The conversation is not changed. On failure *why says which cap or check refused it:
 * MS_ERR_CAP_EXCEEDED (too many messages or bytes) or MS_ERR_ARG (bad text).
 */
MS_MUST_CHECK ms_err ms_conv_request(const ms_conv *c, const char *text, size_t len,
                                     long max_tokens, double temperature, ms_buf *user,
                                     ms_buf *req, ms_conv_limit *why);

/*
 * Add a complete turn: the user message (as built by ms_conv_request, with the pending
 * images) and the reply. What was pending is consumed. On error nothing changes.
 */
MS_MUST_CHECK ms_err ms_conv_commit(ms_conv *c, const ms_buf *user, const char *reply,
                                    size_t reply_len);

/* Drop what is pending (after a turn the user chose not to resend with it). */
void ms_conv_drop_pending(ms_conv *c);

/* The transcript's form: markdown, or JSON when the file name ends in ".json". */
typedef struct ms_conv_meta {
    const char *supervisor_url;
    const char *verified; /* the one-line summary of what was verified (report.h) */
    const char *session;  /* session id, hex */
} ms_conv_meta;

/*
 * Write the transcript to `path`: a new file, 0600, refused if it exists (O_EXCL) unless
 * `force` (then a new 0600 file replaces it by rename). Images appear as name, type and
 * size, never their bytes. JSON when path ends in ".json", else markdown. Errors:
 * MS_ERR_FILE_OPEN (errno kept for the caller), MS_ERR_IO, MS_ERR_NOMEM.
 */
MS_MUST_CHECK ms_err ms_conv_save(const ms_conv *c, const ms_conv_meta *meta, const char *path,
                                  bool force);

#endif
