/* llm-sim's listening side: loopback-only address parsing, the socket, and the port file. */
#include "tools/llm-sim/listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/check.h"

#define HOST_MAX 64u

static ms_err bad(char *why, size_t cap, const char *reason)
{
    if (cap > 0) {
        snprintf(why, cap, "%s", reason);
    }
    return MS_ERR_CONFIG;
}

static ms_err parse_port(const char *s, uint16_t *port)
{
    char *end;
    *port = 0;
    ENSURE(s[0] >= '0' && s[0] <= '9', MS_ERR_CONFIG);
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    ENSURE(errno == 0 && *end == '\0' && v <= 65535ul, MS_ERR_CONFIG);
    *port = (uint16_t)v;
    return MS_OK;
}

static ms_err parse_host(const char *host, llmsim_addr *out)
{
    struct in_addr v4;
    struct in6_addr v6;
    if (strcmp(host, "localhost") == 0) {
        host = "127.0.0.1";
    }
    if (inet_pton(AF_INET, host, &v4) == 1) {
        out->family = AF_INET;
        memcpy(out->ip, &v4, 4);
        return out->ip[0] == 127 ? MS_OK : MS_ERR_ARG;
    }
    size_t n = strlen(host);
    ENSURE(n > 2 && host[0] == '[' && host[n - 1] == ']', MS_ERR_CONFIG);
    char inner[HOST_MAX];
    snprintf(inner, sizeof inner, "%.*s", (int)(n - 2), host + 1);
    ENSURE(inet_pton(AF_INET6, inner, &v6) == 1, MS_ERR_CONFIG);
    out->family = AF_INET6;
    memcpy(out->ip, &v6, 16);
    return memcmp(&v6, &in6addr_loopback, sizeof v6) == 0 ? MS_OK : MS_ERR_ARG;
}

ms_err llmsim_addr_parse(const char *s, llmsim_addr *out, char *why, size_t why_cap)
{
    char host[HOST_MAX];
    memset(out, 0, sizeof *out);
    const char *colon = strrchr(s, ':');
    if (colon == NULL || colon == s || (size_t)(colon - s) >= sizeof host) {
        return bad(why, why_cap, "expected HOST:PORT, e.g. 127.0.0.1:0");
    }
    snprintf(host, sizeof host, "%.*s", (int)(colon - s), s);
    if (parse_port(colon + 1, &out->port) != MS_OK) {
        return bad(why, why_cap, "the port must be a number from 0 to 65535");
    }
    ms_err e = parse_host(host, out);
    if (e == MS_ERR_ARG) {
        return bad(why, why_cap,
                   "only loopback addresses (127.0.0.0/8, localhost, [::1]) are allowed: "
                   "llm-sim is a test tool and must not be reachable from the network");
    }
    if (e != MS_OK) {
        return bad(why, why_cap, "the host must be an IPv4 literal, localhost or [::1]");
    }
    return MS_OK;
}

static ms_err bind_listen(int fd, const llmsim_addr *a, uint16_t *port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int one = 1;
    memset(&ss, 0, sizeof ss);
    ENSURE(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0, MS_ERR_IO);
    if (a->family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        in->sin_port = htons(a->port);
        memcpy(&in->sin_addr, a->ip, 4);
        len = sizeof *in;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        ENSURE(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) == 0, MS_ERR_IO);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(a->port);
        memcpy(&in6->sin6_addr, a->ip, 16);
        len = sizeof *in6;
    }
    ENSURE(bind(fd, (struct sockaddr *)&ss, len) == 0, MS_ERR_IO);
    ENSURE(listen(fd, 128) == 0, MS_ERR_IO);
    len = sizeof ss;
    ENSURE(getsockname(fd, (struct sockaddr *)&ss, &len) == 0, MS_ERR_IO);
    *port = ntohs(a->family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                       : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return MS_OK;
}

ms_err llmsim_listen(const llmsim_addr *a, int *fd, uint16_t *port)
{
    *fd = -1;
    *port = 0;
    int s = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ENSURE(s >= 0, MS_ERR_IO);
    ms_err e = bind_listen(s, a, port);
    if (e != MS_OK) {
        close(s);
        return e;
    }
    *fd = s;
    return MS_OK;
}

