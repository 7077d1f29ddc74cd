/* Every path the gateway serves, in one table: method, path, auth, body cap, handler. */
#include <string.h>

#include "common/limits.h"
#include "gateway/internal.h"

/*
 * Add an endpoint here (and its handler elsewhere): exact paths first, the static files'
 * catch-all "/ *" last. MS_GW_AUTH_API routes take the bearer token or the web session
 * cookie (docs/serve.md, "Access control"); every route passes the Host and Origin checks.
 */
static const ms_gw_route ROUTES[] = {
    {"GET", "/v1/models", MS_GW_AUTH_API, 0, ms_gw_h_models},
    {"POST", "/v1/chat/completions", MS_GW_AUTH_API, MS_GW_MAX_CHAT_BODY, ms_gw_h_chat},
    {"GET", "/v1/attestation", MS_GW_AUTH_API, 0, ms_gw_h_attestation},
    {"POST", "/v1/minions/runs", MS_GW_AUTH_API, MS_SERVE_MAX_RUN_BODY, ms_gw_h_minions_run},
    {"POST", "/v1/minions/documents", MS_GW_AUTH_API, MS_SERVE_MAX_RUN_BODY, ms_gw_h_minions_doc},
    {"GET", "/login", MS_GW_AUTH_NONE, 0, ms_gw_h_login},
    {"GET", "/*", MS_GW_AUTH_NONE, 0, ms_gw_h_static},
};

static bool path_matches(const char *pattern, const char *path)
{
    size_t n = strlen(pattern);
    if (n >= 2 && pattern[n - 1] == '*' && pattern[n - 2] == '/') {
        /* the catch-all: anything outside the API's own prefix */
        return strncmp(path, pattern, n - 1) == 0 && strncmp(path, "/v1/", 4) != 0;
    }
    return strcmp(pattern, path) == 0;
}

const ms_gw_route *ms_gw_route_find(const char *method, const char *path, bool *path_known,
                                    const char **allow)
{
    *path_known = false;
    *allow = NULL;
    for (size_t i = 0; i < sizeof ROUTES / sizeof ROUTES[0]; i++) {
        if (!path_matches(ROUTES[i].path, path)) {
            continue;
        }
        if (strcmp(ROUTES[i].method, method) == 0) {
            return &ROUTES[i];
        }
        if (!*path_known) {
            *path_known = true;
            *allow = ROUTES[i].method;
        }
    }
    return NULL;
}
