/* Writing files that hold what the user must not lose or leak: whole writes, new files only. */
#ifndef MS_COMMON_FILE_H
#define MS_COMMON_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"

/* Write all n bytes to fd (retrying short writes and EINTR). MS_ERR_IO. */
MS_MUST_CHECK ms_err ms_file_write_all(int fd, const void *p, size_t n);

/*
 * Create `path` with `mode` (O_EXCL, O_NOFOLLOW: never replaces or follows anything), write
 * all of data, fsync and close. On any failure after creating it, the partial file is
 * removed. MS_ERR_FILE_OPEN (exists, a symlink, no permission), MS_ERR_IO.
 */
MS_MUST_CHECK ms_err ms_file_write_new(const char *path, const void *data, size_t len,
                                       mode_t mode);

#endif
