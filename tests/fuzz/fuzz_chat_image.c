/* Fuzz the §12.3 image check (data URL, strict base64 in slices, size cap, magic bytes). */
#include <string.h>

#include "common/llm/chat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ms_chat_image im;
    if (ms_chat_image_from_url((const char *)data, size, &im) == MS_OK) {
        /* What it accepts borrows from the input and names one of the four types. */
        if (im.b64 < (const char *)data || im.b64 + im.b64_len != (const char *)data + size ||
            strncmp(im.mime, "image/", 6) != 0) {
            __builtin_trap();
        }
    }
    (void)ms_chat_image_sniff(data, size);
    return 0;
}
