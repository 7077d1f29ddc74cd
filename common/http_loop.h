/* One libcurl easy handle at a time driven on libcurl's socket interface (ms_http and the link). */
#ifndef MS_COMMON_HTTP_LOOP_H
#define MS_COMMON_HTTP_LOOP_H

#include <curl/curl.h>
#include <stdbool.h>

#include "common/err.h"

/*
 * curl_easy_perform's loop, written out: a multi handle (whose connection cache keeps the
 * connection between transfers) that runs one transfer at a time on libcurl's socket
 * interface. libcurl names the sockets it wants watched; a step polls exactly those, cut
 * short by libcurl's next timer (its time-outs hold), and tells libcurl which socket is ready
 * for what. So, against curl_easy_perform or curl_multi_poll + curl_multi_perform, a request
 * makes two polls fewer: libcurl's wake-up pair is never polled (a due timer runs at once,
 * which sends a new request without a wait), and a socket the wait found ready is not
 * checked again before it is read. Not thread-safe: one thread at a time per loop.
 */
typedef struct ms_http_loop ms_http_loop;

/* max_connects: the connection cache's size (CURLMOPT_MAXCONNECTS), 0 for libcurl's. */
MS_MUST_CHECK ms_err ms_http_loop_new(long max_connects, ms_http_loop **out);
/* Closes the cached connections. The easy handle must be out of the loop. NULL is allowed. */
void ms_http_loop_free(ms_http_loop *l);

/* Start the transfer set up on k (MS_ERR_INTERNAL if libcurl refuses it). */
MS_MUST_CHECK ms_err ms_http_loop_add(ms_http_loop *l, CURL *k);
/* Wait up to timeout_ms (>= 0) for the transfer to have something to do, move it on; *done
   with its result in *rc once it ended. */
MS_MUST_CHECK ms_err ms_http_loop_step(ms_http_loop *l, int timeout_ms, bool *done,
                                       CURLcode *rc);
/* Take k out of the loop: ended, its connection stays cached; not ended, libcurl closes it.
   Before that, the socket of k's connection (CURL_SOCKET_BAD if none) into *sock if not NULL. */
void ms_http_loop_remove(ms_http_loop *l, CURL *k, curl_socket_t *sock);
/* add, step to the end, remove (with *sock as ms_http_loop_remove gives it, if not NULL; left
   as it was when k could not be added): curl_easy_perform's result. */
MS_MUST_CHECK ms_err ms_http_loop_perform(ms_http_loop *l, CURL *k, CURLcode *rc,
                                          curl_socket_t *sock);

#endif
