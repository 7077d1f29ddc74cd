/* Demo: a client and a supervisor handshake and talk over the channel, in one process. */
#include <stdio.h>

#include "tools/channel-demo/demo.h"

int main(void)
{
    demo d = {0};
    if (sodium_init() < 0) {
        fprintf(stderr, "demo: libsodium failed to initialise\n");
        return 1;
    }
    printf("minions-secure channel demo: client and supervisor in one process, no network.\n");
    crypto_sign_keypair(d.dev.pk, d.dev.sk);
    randombytes_buf(d.static_sk, sizeof d.static_sk);
    crypto_scalarmult_base(d.static_pk, d.static_sk);

    int ok = demo_handshake(&d);
    ok = ok && demo_exchange(&d);
    ok = ok && demo_attacks(&d);
    ms_channel_free(d.cc);
    ms_channel_free(d.sc);
    sodium_memzero(&d, sizeof d);
    printf(ok ? "demo: all checks passed\n" : "demo: FAILED\n");
    return ok ? 0 : 1;
}
