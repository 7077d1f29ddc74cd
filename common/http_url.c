/* The URL policy of every HTTP link: libcurl's URL parser, and one loopback check. */
#include "common/http.h"
#include "common/http_internal.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "common/check.h"
#include "common/limits.h"

/* --- URL policy ---------------------------------------------------------------------------- */

/* host as libcurl's URL API returns it: a dotted-quad IPv4 address (AF_INET, *a4), an IPv6
   address in brackets (AF_INET6, *a6), or anything else, names included (0). */
static int parse_host(const char *host, struct in_addr *a4, struct in6_addr *a6)
{
    char inner[INET6_ADDRSTRLEN + 1];
    if (host == NULL) {
        return 0;
    }
    size_t n = strlen(host);
    if (inet_pton(AF_INET, host, a4) == 1) {
        return AF_INET;
    }
    if (n < 3 || n - 2 >= sizeof inner || host[0] != '[' || host[n - 1] != ']') {
        return 0;
    }
    memcpy(inner, host + 1, n - 2);
    inner[n - 2] = '\0';
    return inet_pton(AF_INET6, inner, a6) == 1 ? AF_INET6 : 0;
}

bool ms_http_host_is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (host != NULL && strcasecmp(host, "localhost") == 0) {
        return true; /* libcurl >= 7.78 resolves it to loopback itself, never via DNS */
    }
    switch (parse_host(host, &a4, &a6)) {
    case AF_INET:
        return (ntohl(a4.s_addr) >> 24) == 127;
    case AF_INET6:
        return IN6_IS_ADDR_LOOPBACK(&a6) ||
               (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
    default:
        return false;
    }
}

bool ms_http_host_is_link_local(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    switch (parse_host(host, &a4, &a6)) {
    case AF_INET:
        return (ntohl(a4.s_addr) >> 16) == 0xa9feu; /* 169.254.0.0/16 */
    case AF_INET6:
        return IN6_IS_ADDR_LINKLOCAL(&a6);
    default:
        return false;
    }
}

static bool url_chars_ok(const char *url, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (url[i] <= 0x20 || url[i] >= 0x7f) {
            return false;
        }
    }
    return true;
}

static bool has_part(CURLU *u, CURLUPart part)
{
    char *v = NULL;
    CURLUcode rc = curl_url_get(u, part, &v, 0);
    curl_free(v);
    return rc == CURLUE_OK;
}

/* Parse url once; libcurl later uses this very handle, so what we check is what it connects to. */
ms_err ms_http_url_check(const char *url, bool allow_plain_http, CURLU **out)
{
    return ms_http_url_check_plain(url, allow_plain_http, false, out);
}

ms_err ms_http_url_check_plain(const char *url, bool allow_plain_http, bool link_local,
                               CURLU **out)
{
    ms_err err = MS_OK;
    char *scheme = NULL, *host = NULL;
    *out = NULL;
    ENSURE(url != NULL, MS_ERR_HTTP_URL);
    size_t n = strnlen(url, MS_MAX_HTTP_URL + 1);
    ENSURE(n > 0 && n <= MS_MAX_HTTP_URL && url_chars_ok(url, n), MS_ERR_HTTP_URL);
    CURLU *u = curl_url();
    ENSURE(u != NULL, MS_ERR_NOMEM);
    ENSURE_OUT(curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK, MS_ERR_HTTP_URL);
    ENSURE_OUT(curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK, MS_ERR_HTTP_URL);
    ENSURE_OUT(curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK, MS_ERR_HTTP_URL);
    ENSURE_OUT(!has_part(u, CURLUPART_USER) && !has_part(u, CURLUPART_PASSWORD),
               MS_ERR_HTTP_URL);
    bool https = strcmp(scheme, "https") == 0;
    ENSURE_OUT(https || strcmp(scheme, "http") == 0, MS_ERR_HTTP_URL);
    ENSURE_OUT(https || allow_plain_http || ms_http_host_is_loopback(host) ||
                   (link_local && ms_http_host_is_link_local(host)),
               MS_ERR_HTTP_INSECURE);
out:
    curl_free(scheme);
    curl_free(host);
    if (err != MS_OK) {
        curl_url_cleanup(u);
        return err;
    }
    *out = u;
    return MS_OK;
}

bool ms_http_url_is_loopback(const char *url)
{
    char *scheme = NULL, *host = NULL;
    bool yes = false;
    CURLU *u = url ? curl_url() : NULL;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        yes = (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) &&
              ms_http_host_is_loopback(host);
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return yes;
}
