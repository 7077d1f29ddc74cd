/* Demo: a client and a supervisor handshake and talk over the channel, in one process. */
#include <stdio.h>
#include <string.h>

#include "tools/channel-demo/demo.h"

static const char USAGE[] =
    "Usage: minions-channel-demo [--help]\n"
    "\n"
    "Shows the minions-secure channel (docs/protocol.md) in one process, with no\n"
    "network: a client and a supervisor handshake with dev-key evidence, exchange a\n"
    "sealed request and a streamed reply, and the channel refuses tampered, replayed\n"
    "and reordered records. Nothing is written to disk.\n"
    "\n"
    "Exit status: 0 every step passed; 1 a step failed; 2 usage.\n";

int main(int argc, char **argv)
{
    demo d = {0};
    if (argc > 1) {
        int help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
        fputs(USAGE, help ? stdout : stderr);
        return help && argc == 2 ? 0 : 2;
    }
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
