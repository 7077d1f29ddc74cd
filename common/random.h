/* Random bytes from the kernel's CSPRNG (getrandom(2)), for ids, tokens and names. */
#ifndef MS_COMMON_RANDOM_H
#define MS_COMMON_RANDOM_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Fill p with n random bytes (retrying short reads and EINTR): MS_OK or MS_ERR_RANDOM. */
MS_MUST_CHECK ms_err ms_random_bytes(void *p, size_t n);

#endif
