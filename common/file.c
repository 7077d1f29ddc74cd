/* Whole writes and exclusive creation (common/file.h). */
#include "common/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "common/check.h"

ms_err ms_file_write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        ENSURE(w > 0, MS_ERR_IO);
        b += w;
        n -= (size_t)w;
    }
    return MS_OK;
}

ms_err ms_file_write_new(const char *path, const void *data, size_t len, mode_t mode)
{
    ENSURE(path != NULL && (data != NULL || len == 0), MS_ERR_ARG);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    ENSURE(fd >= 0, MS_ERR_FILE_OPEN);
    ms_err err = ms_file_write_all(fd, data, len);
    if (err == MS_OK && fsync(fd) != 0) {
        err = MS_ERR_IO;
    }
    if (close(fd) != 0 && err == MS_OK) {
        err = MS_ERR_IO;
    }
    if (err != MS_OK && unlink(path) != 0) {
        /* the error returned says the write failed; nothing more can be done here */
    }
    return err;
}
