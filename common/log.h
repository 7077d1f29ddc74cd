/* Logging that cannot print key material or binary plaintext by accident. */
#ifndef MS_COMMON_LOG_H
#define MS_COMMON_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* Most severe first: a message is emitted when its level is <= the current level. */
typedef enum ms_log_level {
    MS_LOG_ERROR,
    MS_LOG_WARN,
    MS_LOG_INFO,
    MS_LOG_DEBUG,
} ms_log_level;

/*
 * A sink receives one fully formatted line per event: `line` is NUL-terminated, `len`
 * bytes long (at most MS_MAX_LOG_LINE), printable ASCII only, without a newline. The line
 * is only valid during the call. Sinks are called one at a time, under this module's lock:
 * a sink must not call ms_log or ms_log_set_* (that would deadlock).
 */
typedef void (*ms_log_sink_fn)(void *ctx, ms_log_level lvl, const char *line, size_t len);

/*
 * Thread-safety: every function here may be called from any thread. The level is an
 * atomic; the sink and its ctx are swapped under a mutex that is also held while the sink
 * runs, so once ms_log_set_sink returns the old sink is never called again and its ctx
 * may be released.
 */

/* Default MS_LOG_INFO. Values outside the enum are ignored. */
void ms_log_set_level(ms_log_level lvl);
ms_log_level ms_log_get_level(void);
/* Whether a message at lvl would be emitted (to skip building costly arguments). */
bool ms_log_enabled(ms_log_level lvl);
/* fn NULL restores the default sink: stderr, one line per event plus '\n'. */
void ms_log_set_sink(ms_log_sink_fn fn, void *ctx);

/*
 * Emit "LEVEL component: message", LEVEL being ERROR, WARN, INFO or DEBUG (an unknown lvl
 * is logged as ERROR). The formatter is ours, not printf, and supports only
 *   %s %d %i %u %x %c %%   with the length modifiers l, ll and z on d, i, u and x.
 * No flags, width or precision, no %p, %n, %f. The first unsupported conversion prints
 * "<bad-format>" and ends the line there (no further argument is read).
 * Each %s argument, and the component, is checked as a whole:
 *   NULL                                   -> "(null)"
 *   any byte outside printable ASCII        -> "<redacted: N bytes non-text>"
 *   longer than MS_MAX_LOG_STRING_ARG bytes -> its first MS_MAX_LOG_STRING_ARG bytes,
 *                                              then "...(N bytes)"
 * A non-printable %c, or a control character in fmt itself, prints '?'. A line longer than
 * MS_MAX_LOG_LINE bytes is cut and ends with "...(cut)".
 * So secrets can reach a log only as printable text passed on purpose; to name a key,
 * log ms_log_fingerprint of it.
 */
void ms_log(ms_log_level lvl, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ms_log_va(ms_log_level lvl, const char *component, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/*
 * For text this project did not format (a library's own message, e.g. libmicrohttpd's
 * warnings, which name the request's URL): cut every run of MS_LOG_HEX_RUN or more hex
 * digits to its first 8 followed by "...", in place (the string only shrinks). Session ids
 * (32 hex digits in a URL), keys and digests so appear as the 8-digit prefix the access log
 * shows. s may be NULL.
 */
#define MS_LOG_HEX_RUN 16u
void ms_log_mask_hex_runs(char *s);

/*
 * The external logger both HTTP servers give libmicrohttpd (MHD_OPTION_EXTERNAL_LOGGER's
 * callback type; cls unused): its message, cut at the first newline and to 511 bytes, with
 * hex runs masked as above (its messages name the URL, and so a full session id, which the
 * log never holds), as one WARN line of component "http".
 */
void ms_log_http_server(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* "fp:" + 16 hex digits + NUL */
#define MS_LOG_FP_LEN 20

/*
 * Write "fp:" and 16 lowercase hex digits identifying p[0..n), NUL-terminated: the first
 * 8 bytes of BLAKE2b-128 (libsodium crypto_generichash, outlen 16, no key). libsodium's
 * smallest output is 16 bytes, so this is BLAKE2b-128 truncated, not BLAKE2b with outlen
 * 8: the two give different digests. Deterministic across runs and machines. Meant for
 * high-entropy keys: for a guessable secret (a password) the fingerprint lets anyone who
 * reads the log test guesses offline. p may be NULL when n is 0.
 */
void ms_log_fingerprint(const void *p, size_t n, char out[static MS_LOG_FP_LEN]);

#endif
