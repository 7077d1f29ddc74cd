/* Our servers' listen addresses, owner-only unix sockets, port files and Content-Length check. */
#include "common/listen.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/check.h"
#include "common/text.h"

static int is_loopback_addr(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        return IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
    }
    return 0;
}

/* "HOST:PORT" with HOST an IPv4 literal, "[IPv6]:PORT", or "unix:/path". No name lookups. */
ms_err ms_listen_parse(const char *listen, struct sockaddr_storage *ss, unsigned *ss_len,
                       int *is_unix, int *is_loopback)
{
    char host[64];
    memset(ss, 0, sizeof *ss);
    *ss_len = 0;
    *is_unix = *is_loopback = 0;
    ENSURE(listen != NULL && *listen, MS_ERR_CONFIG);
    if (strncmp(listen, "unix:", 5) == 0) {
        struct sockaddr_un *un = (struct sockaddr_un *)ss;
        size_t n = strlen(listen + 5);
        ENSURE(n > 0 && n < sizeof un->sun_path, MS_ERR_CONFIG);
        un->sun_family = AF_UNIX;
        memcpy(un->sun_path, listen + 5, n + 1);
        *ss_len = sizeof *un;
        *is_unix = *is_loopback = 1;
        return MS_OK;
    }
    const char *colon = strrchr(listen, ':');
    ENSURE(colon != NULL && colon > listen, MS_ERR_CONFIG);
    uint64_t port;
    ENSURE(ms_text_read_u64(colon + 1, 65535, &port), MS_ERR_CONFIG); /* digits only */
    const char *h = listen;
    size_t hl = (size_t)(colon - listen);
    if (h[0] == '[') {
        ENSURE(hl >= 2 && h[hl - 1] == ']', MS_ERR_CONFIG);
        h++;
        hl -= 2;
    }
    ENSURE(hl < sizeof host, MS_ERR_CONFIG);
    memcpy(host, h, hl);
    host[hl] = 0;
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *ss_len = sizeof *a4;
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *ss_len = sizeof *a6;
    } else {
        return MS_ERR_CONFIG;
    }
    *is_loopback = is_loopback_addr(ss);
    return MS_OK;
}

int ms_listen_unix_socket(const struct sockaddr_storage *ss, unsigned len)
{
    const struct sockaddr_un *un = (const struct sockaddr_un *)ss;
    struct stat st;
    /* Replace a stale socket left by a previous run, never any other kind of file. */
    if (lstat(un->sun_path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        unlink(un->sun_path);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    mode_t old = umask(0077); /* owner only: the socket is the server's front door */
    int ok = bind(fd, (const struct sockaddr *)ss, len) == 0 && listen(fd, 128) == 0;
    umask(old);
    if (!ok) {
        close(fd);
        return -1;
    }
    return fd;
}

ms_err ms_listen_write_port_file(const char *path, unsigned port)
{
    char tmp[4096], text[16];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    ENSURE(n > 0 && (size_t)n < sizeof tmp, MS_ERR_FILE_OPEN);
    int len = snprintf(text, sizeof text, "%u\n", port);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ENSURE(fd >= 0, MS_ERR_FILE_OPEN);
    int ok = write(fd, text, (size_t)len) == len;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return MS_ERR_IO;
    }
    return MS_OK;
}

ms_err ms_listen_content_length(const char *value, size_t cap, size_t *len)
{
    *len = 0;
    if (value == NULL) {
        return MS_OK;
    }
    /* 1*DIGIT (RFC 9110 §8.6), not strtoull: that takes leading spaces and signs, and
       wraps a negative ("-18446744073709551615" is 1). */
    uint64_t n;
    ENSURE(ms_text_read_u64(value, cap, &n), MS_ERR_CAP_EXCEEDED);
    *len = (size_t)n;
    return MS_OK;
}
