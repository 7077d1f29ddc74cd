/*
 * GnuTLS's random numbers, from the kernel: this program's definition of gnutls_rnd()
 * takes the place of the library's (the executable's symbol comes first in the dynamic
 * linker's search; libgnutls calls gnutls_rnd through its PLT, and CMakeLists.txt exports
 * the symbol). Why: GnuTLS 3.7 keeps one random-generator state per thread that ever asks
 * it for random bytes (192 bytes with its list node) and frees them only at exit, and
 * libmicrohttpd gives every connection a new thread, so the supervisor's memory grew with
 * every TLS connection it ever served (docs/supervisor.md, "Memory over a long run"). Here
 * every request is answered by getrandom(2), the kernel's CSPRNG, with no per-thread state
 * (the same source libsodium uses for the channel's keys). A failure is reported to GnuTLS
 * as GNUTLS_E_RANDOM_FAILED, which fails that handshake.
 */
#include <stddef.h>

#include "common/random.h"

#define SUP_GNUTLS_E_RANDOM_FAILED (-206) /* gnutls.h's GNUTLS_E_RANDOM_FAILED */

/* gnutls.h: int gnutls_rnd(gnutls_rnd_level_t level, void *data, size_t len). */
int gnutls_rnd(int level, void *data, size_t len);

int gnutls_rnd(int level, void *data, size_t len)
{
    (void)level; /* nonce, random or key: all from the kernel */
    return ms_random_bytes(data, len) == MS_OK ? 0 : SUP_GNUTLS_E_RANDOM_FAILED;
}
