/* llm-sim's listening side: loopback-only addresses, the socket, and the port file. */
#ifndef MS_TOOLS_LLMSIM_LISTEN_H
#define MS_TOOLS_LLMSIM_LISTEN_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "tools/llm-sim/llmsim.h"

/*
 * Parse "HOST:PORT" where HOST is an IPv4 literal in 127.0.0.0/8, "localhost"
 * (127.0.0.1) or "[::1]", and PORT is 0..65535 in decimal (0: the kernel picks). Anything
 * else, and any non-loopback address, is MS_ERR_CONFIG with a reason in why.
 */
MS_MUST_CHECK ms_err llmsim_addr_parse(const char *s, llmsim_addr *out, char *why,
                                       size_t why_cap);

/* A bound, listening, close-on-exec TCP socket and the port it got. MS_ERR_IO. */
MS_MUST_CHECK ms_err llmsim_listen(const llmsim_addr *a, int *fd, uint16_t *port);


#endif
