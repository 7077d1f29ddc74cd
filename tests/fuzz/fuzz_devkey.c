/* Fuzz the PEM and certificate readers and the dev-key evidence verifier. */
#include <string.h>

#include "secure/attest/devkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t pk[MS_SIGN_PK_LEN], h[MS_SPKI_HASH_LEN], b[MS_BINDING_LEN] = {0}, pin[MS_SIGN_PK_LEN] = {1};
    (void)ms_devkey_parse_public(data, size, pk);
    (void)ms_tls_spki_sha256_pem(data, size, h);
    if (ms_devkey_verify(pin, data, size, b) == MS_OK) {
        __builtin_trap(); /* nobody holds the secret of the pinned key {1,0,...} */
    }
    return 0;
}
