/* GET / and the web UI's other files, from the copies embedded in the program. */
#include <string.h>

#include "gateway/assets.h"
#include "gateway/internal.h"

/* The Content-Type of a file by its extension (an unknown one is served as bytes). */
static const char *type_of(const char *path)
{
    static const struct {
        const char *ext, *type;
    } TYPES[] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},   {".json", "application/json"},
        {".svg", "image/svg+xml"},             {".png", "image/png"},
        {".ico", "image/x-icon"},              {".txt", "text/plain; charset=utf-8"},
        {".woff2", "font/woff2"},              {".mjs", "text/javascript; charset=utf-8"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof TYPES / sizeof TYPES[0]; i++) {
        if (strcmp(dot, TYPES[i].ext) == 0) {
            return TYPES[i].type;
        }
    }
    return "application/octet-stream";
}

void ms_gw_h_static(const ms_gw_req *req, ms_gw_resp *resp)
{
    const char *path = strcmp(req->path, "/") == 0 ? "/index.html" : req->path;
    for (size_t i = 0; i < MS_GW_N_ASSETS; i++) {
        if (strcmp(MS_GW_ASSETS[i].path, path) == 0) {
            resp->status = 200;
            resp->content_type = type_of(path);
            resp->static_body = MS_GW_ASSETS[i].data;
            resp->static_len = MS_GW_ASSETS[i].len;
            resp->cacheable = true;
            return;
        }
    }
    ms_gw_error(resp, 404, "not_found_error", NULL, "unknown_url", "no such path");
}
