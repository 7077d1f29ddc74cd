/* The web UI's files, embedded into the program at build time (embed.cmake from gateway/web/). */
#ifndef MS_GATEWAY_ASSETS_H
#define MS_GATEWAY_ASSETS_H

#include <stddef.h>
#include <stdint.h>

typedef struct ms_gw_asset {
    const char *path; /* "/index.html": the file's path under gateway/web/, with a '/' */
    const uint8_t *data;
    size_t len;
} ms_gw_asset;

extern const ms_gw_asset MS_GW_ASSETS[];
extern const size_t MS_GW_N_ASSETS;

#endif
