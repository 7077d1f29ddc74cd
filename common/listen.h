/* What both our servers (supervisor, serve) share: listen addresses, unix sockets, body sizes. */
#ifndef MS_COMMON_LISTEN_H
#define MS_COMMON_LISTEN_H

#include <stddef.h>
#include <sys/socket.h>

#include "common/err.h"

/*
 * "HOST:PORT" with HOST an IPv4 literal, "[IPv6]:PORT", or "unix:/path". No name lookups.
 * PORT is a whole decimal number up to 65535 (ms_text_read_u64: no sign, no space).
 * *is_loopback is set for 127/8, ::1 and unix sockets. MS_ERR_CONFIG for anything else.
 */
MS_MUST_CHECK ms_err ms_listen_parse(const char *listen, struct sockaddr_storage *ss,
                                     unsigned *ss_len, int *is_unix, int *is_loopback);

/*
 * A listening unix socket at the parsed address, owner-only (umask 0077 while binding); a
 * stale socket left by a previous run is replaced, never any other kind of file. The
 * descriptor, or -1.
 */
int ms_listen_unix_socket(const struct sockaddr_storage *ss, unsigned len);

/*
 * The port a server bound, as "PORT\n" in `path` (--port-file: how tests and scripts learn a
 * port 0 choice): written to a temporary name beside it, then renamed, so a reader sees the
 * whole line or no file. MS_ERR_FILE_OPEN, MS_ERR_IO (the temporary file is removed).
 */
MS_MUST_CHECK ms_err ms_listen_write_port_file(const char *path, unsigned port);

/*
 * A request's Content-Length (the header's value; NULL when it has none) against a route's
 * body cap, which both servers check before a byte of the body is read: MS_OK with *len the
 * declared length (0 when absent); MS_ERR_CAP_EXCEEDED, *len 0, for a value over the cap or
 * not a whole decimal number: one or more ASCII digits, leading zeros allowed, nothing else (no
 * sign, no space; RFC 9110's 1*DIGIT). The servers answer 413.
 */
MS_MUST_CHECK ms_err ms_listen_content_length(const char *value, size_t cap, size_t *len);

#endif
