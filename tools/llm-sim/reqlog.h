/* llm-sim's request log: one JSON line per request received, so tests can see what an engine saw. */
#ifndef MS_TOOLS_LLMSIM_REQLOG_H
#define MS_TOOLS_LLMSIM_REQLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * Line format (compact JSON, then '\n'; members in this order):
 *   {"ts": unix seconds (a number with a fraction),
 *    "method": "POST", "path": "/api/chat",
 *    "body": the body as JSON if it parses, else as a string (a GET's empty body is ""),
 *            or null when it was over the cap or is not UTF-8,
 *    "body_base64": "..."      only when the body is not UTF-8 text,
 *    "body_too_large": true, "body_bytes": N   only when the body was over the cap: N is
 *            the bytes read, or the declared Content-Length when it was refused unread}
 * A body nested deeper than the JSON reader allows under "body" is logged as a string.
 * Numbers are copied as doubles, so integers beyond 2^53 may be rounded in the log.
 * Each line is written with one write(2) on an O_APPEND descriptor and the file is not
 * buffered, so a reader sees whole lines as soon as the request is answered.
 * Thread-safe: lines from concurrent requests never interleave.
 */
typedef struct llmsim_reqlog llmsim_reqlog;

/* Opens (creating with mode 0600) for appending. MS_ERR_FILE_OPEN, MS_ERR_NOMEM. */
MS_MUST_CHECK ms_err llmsim_reqlog_open(const char *path, llmsim_reqlog **out);
/*
 * Append one line. body[0..len) is what was kept (len 0 when too_large); received counts
 * every body byte read (or, for a body refused unread, its declared length). Best effort: a failure is reported once on stderr, never to the
 * HTTP client. l may be NULL (no log).
 */
void llmsim_reqlog_write(llmsim_reqlog *l, const char *method, const char *path,
                         const uint8_t *body, size_t len, uint64_t received, bool too_large);
void llmsim_reqlog_close(llmsim_reqlog *l);

#endif
