#include "common/random.h"

#include <errno.h>
#include <sys/random.h>
#include <sys/types.h>

#include "common/check.h"

ms_err ms_random_bytes(void *p, size_t n)
{
    uint8_t *at = p;
    ENSURE(p != NULL || n == 0, MS_ERR_ARG);
    while (n > 0) {
        ssize_t r = getrandom(at, n, 0);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        ENSURE(r > 0, MS_ERR_RANDOM);
        at += r;
        n -= (size_t)r;
    }
    return MS_OK;
}
