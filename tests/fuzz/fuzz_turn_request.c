/* Fuzz the §12.3 request decoder the supervisor applies to decrypted turns. */
#include "secure/supervisor/bridge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)ms_bridge_check_request(data, size);
    return 0;
}
