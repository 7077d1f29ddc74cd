/* libFuzzer harness for minions-secure run --stdin-json: the container request parser. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "apps/minions-secure/cmds.h"
#include "apps/minions-secure/run.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[256];
    ms_run_opts o;
    int fd = memfd_create("stdin-json", MFD_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    if (size > 0 && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    lseek(fd, 0, SEEK_SET);
    ms_run_opts_init(&o);
    memset(why, 'x', sizeof why);
    int code = ms_run_stdin_read(&o, fd, why, sizeof why);
    /* A refusal is a usage error with a reason; an acceptance says nothing. */
    if ((code != MS_CLI_OK && code != MS_CLI_USAGE) || memchr(why, '\0', sizeof why) == NULL ||
        (code == MS_CLI_USAGE && why[0] == '\0')) {
        abort();
    }
    ms_run_opts_free(&o);
    close(fd);
    return 0;
}
